"""Tests of helpers.lab.provenance: the envelope every stored run of the book shares."""

from __future__ import annotations

import json
import platform

import pytest

from helpers.lab import provenance as pv
from helpers.lab.bench_results import gil_enabled


def test_build_label_names_the_interpreter_and_its_gil():
    label = pv.build_label()
    assert label.startswith(f"{platform.python_implementation()} {platform.python_version()} (")
    expected = "GIL" if not pv.free_threaded_build() else ("free-threaded, GIL off" if not gil_enabled() else "GIL re-enabled")
    assert expected in label


def test_provenance_names_the_command_the_machine_and_the_build():
    prov = pv.provenance("python -m x", 0.25, imports=["numpy"])
    assert prov["command"] == "python -m x" and prov["load_before"] == 0.25 and prov["imports"] == ["numpy"]
    assert {"date", "cpu_model", "logical_cpus", "physical_cores", "python", "build", "py_gil_disabled",
            "config_args", "gil_enabled", "os"} <= set(prov)
    assert prov["gil_enabled"] is gil_enabled()


def test_saved_data_loads_back_with_its_provenance(tmp_path):
    prov = pv.provenance("python -m x --y", None)
    path = pv.save_json(tmp_path / "deep" / "run.json", 3, prov, runs=[1, 2])
    data = pv.load_json(path, 3, "a test run")
    assert data["runs"] == [1, 2] and data["provenance"] == prov and data["format"] == 3
    text = pv.describe_provenance(data["provenance"])
    assert "command: python -m x --y" in text and prov["build"] in text


def test_data_that_does_not_say_how_it_was_made_is_refused(tmp_path):
    with pytest.raises(ValueError, match="must name the command"):
        pv.save_json(tmp_path / "x.json", 1, pv.provenance("  ", None))


@pytest.mark.parametrize("content", ["not json", "[1]", '{"format": 99}', '{"format": 1}',
                                     '{"format": 1, "provenance": {"command": ""}}'])
def test_a_broken_file_is_refused_by_name(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=r"bad\.json is not a test run of this book"):
        pv.load_json(path, 1, "a test run")


def test_cpu_model_is_a_name():
    assert isinstance(pv.cpu_model(), str) and pv.cpu_model()


def test_describe_provenance_says_the_gil_after_the_imports():
    text = pv.describe_provenance({**pv.provenance("c", None), "imports": ["numpy", "psutil"], "gil_enabled": False})
    assert "GIL off after importing numpy, psutil" in text and "load average unknown" in text
    assert "1-minute load average 0.36 before" in pv.describe_provenance(pv.provenance("c", 0.357421875))
    assert json.dumps(pv.provenance("c", None))  # all of it is JSON

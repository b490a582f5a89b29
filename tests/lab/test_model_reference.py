"""Tests of helpers.lab.model_reference, and of the reference data stored in chapters/data/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.lab import model_reference
from helpers.lab.bench_results import make_row
from helpers.lab.models import ModelRun

DATA = Path(__file__).resolve().parent.parent.parent / "chapters" / "data"


def fake_data() -> dict:
    from dataclasses import asdict

    run = ModelRun("cpu", 2, (make_row("serial", 1, [2.0], []), make_row("threads", 2, [1.0], [0.01])), (1, 2), False)
    prov = model_reference.measured_provenance("", 0.5)
    return {"format": model_reference.FORMAT, "provenance": prov, "models": ["serial", "threads"],
            "runs": [asdict(run)], "race": {"expected": 4, "counted": 3, "lost": 1}, "costs": {}, "summary": []}


def test_save_and_load_round_trip(tmp_path):
    path = model_reference.save_reference(fake_data(), tmp_path / "parallel-models-x.json", "python -m helpers.lab.model_reference --save-reference X")
    data = model_reference.load_reference(path)
    assert data["runs"]["cpu"].speedup("threads") == 2.0
    assert data["provenance"]["command"].endswith("X")
    assert "python -m helpers.lab.model_reference" in model_reference.describe_provenance(data["provenance"])


def test_save_refuses_data_without_a_command(tmp_path):
    with pytest.raises(ValueError, match="command"):
        model_reference.save_reference(fake_data(), tmp_path / "x.json", " ")


def test_load_names_a_broken_file(tmp_path):
    path = tmp_path / "parallel-models-bad.json"
    path.write_text(json.dumps({"format": 99}))
    with pytest.raises(ValueError, match="not parallel-models reference data"):
        model_reference.load_reference(path)


def test_provenance_records_the_build_and_the_gil_after_imports():
    prov = model_reference.measured_provenance("cmd", None)
    assert {"py_gil_disabled", "gil_enabled", "config_args", "logical_cpus", "date"} <= set(prov)
    assert prov["imports"] == ["numpy", "psutil"]


def test_stored_free_threaded_data_names_its_build_and_command():
    stored = model_reference.find_references(DATA)
    free = [d for d in stored.values() if d["provenance"]["py_gil_disabled"]]
    with_gil = [d for d in stored.values() if not d["provenance"]["py_gil_disabled"]]
    assert len(free) == 1 and len(with_gil) == 1
    prov = free[0]["provenance"]
    assert prov["gil_enabled"] is False and "--disable-gil" in prov["config_args"]
    assert "free-threaded, GIL off" in prov["build"] and prov["python"].startswith("3.13")
    assert prov["command"].startswith("python -m helpers.lab.model_reference --save-reference chapters/data/")
    assert set(free[0]["runs"]) == set(with_gil[0]["runs"]) == {"cpu", "waiting", "data"}
    for data in (free[0], with_gil[0]):
        run = data["runs"]["cpu"]
        assert all(result == run.results[0] for result in run.results)


def test_main_prints_a_summary_without_saving(monkeypatch, capsys):
    fake = {**fake_data(), "summary": ["line one", "line two"]}
    monkeypatch.setattr(model_reference, "measure_reference", lambda workers, repeats: fake)
    assert model_reference.main(["--repeats", "1"]) == 0
    assert capsys.readouterr().out == "line one\nline two\n"


def test_main_saves_with_its_command(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(model_reference, "measure_reference", lambda workers, repeats: fake_data())
    target = tmp_path / "parallel-models-y.json"
    assert model_reference.main(["--save-reference", str(target)]) == 0
    assert model_reference.load_reference(target)["provenance"]["command"] == f"python -m helpers.lab.model_reference --save-reference {target}"

"""Tests of helpers.lab.bench_reference: a result stored with its provenance, read back the same."""

from __future__ import annotations

import json

import pytest

from helpers.lab.bench_reference import describe_provenance, find_reference, load_reference, save_reference
from helpers.lab.bench_results import BenchResult, make_row
from tests.lab.test_bench_results import fake


def test_a_saved_result_loads_back_equal_with_its_provenance(tmp_path):
    rows = (make_row("serial", 1, [2.0, 2.1], []), make_row("processes", 2, [1.0, 1.1], [0.1, 0.1]))
    result = BenchResult("cpu", 60_000, 96, 1, rows, 2, True, "spawn", "Python 3.x, 2 CPUs, Linux, spawn",
                         cores=2, load=0.1)
    path = save_reference(result, tmp_path / "deep" / "speedup-reference-a.json", command="python -m x --y")
    loaded, prov = load_reference(path)
    assert loaded == result and loaded.round_speedups("processes", 2) == result.round_speedups("processes", 2)
    assert prov["command"] == "python -m x --y" and prov["start_method"] == "spawn" and prov["load_before"] == 0.1
    assert {"cpu_model", "logical_cpus", "physical_cores", "python", "implementation", "date", "os"} <= set(prov)
    text = describe_provenance(prov)
    assert "command: python -m x --y" in text and f"Python {prov['python']}" in text


def test_find_reference_takes_the_newest_file_or_says_there_is_none(tmp_path):
    assert find_reference(tmp_path) is None
    old = save_reference(fake(1.0, processes=[1.0, 0.6]), tmp_path / "speedup-reference-old.json", command="old")
    new = save_reference(fake(1.0, processes=[1.0, 0.5]), tmp_path / "speedup-reference-new.json", command="new")
    data = json.loads(old.read_text())
    data["provenance"]["date"] = "2000-01-01T00:00:00+00:00"
    old.write_text(json.dumps(data))
    result, prov = find_reference(tmp_path)
    assert prov["command"] == "new" and result.speedup("processes", 2) == 2.0
    assert new.exists()


@pytest.mark.parametrize("content", ["not json", '{"format": 99}', '{"format": 1, "result": {}, "provenance": {}}'])
def test_a_file_that_is_not_a_reference_curve_is_refused_by_name(tmp_path, content):
    path = tmp_path / "speedup-reference.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="is not a reference curve of this book"):
        load_reference(path)


def test_save_reference_refuses_what_is_not_a_result(tmp_path):
    with pytest.raises(TypeError, match="result must be a BenchResult, got dict"):
        save_reference({}, tmp_path / "x.json")

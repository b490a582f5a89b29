"""Tests of helpers/lab/by_value.py: a notebook-style function pickled by value, and what it costs."""

from __future__ import annotations

import types

import numpy as np
import pytest

from helpers.lab import by_value
from helpers.processes import square


def _main_function(source: str, name: str, **globals_):
    """Define a function as a notebook cell does: in a namespace whose __name__ is __main__."""
    namespace = {"__name__": "__main__", **globals_}
    exec(source, namespace)
    return namespace[name]


def test_a_module_function_pickles_by_name_and_a_main_function_only_by_value():
    assert by_value.pickled_sizes(square)["pickle"] < 100
    shout = _main_function("def shout_not_importable(w):\n    return w.upper()\n", "shout_not_importable")
    sizes = by_value.pickled_sizes(shout)
    assert sizes["pickle"] is None  # not found as __main__.shout_not_importable
    assert sizes["cloudpickle"] > 100


def test_a_function_that_reads_a_large_global_carries_it():
    weigh = _main_function("def weigh(x):\n    return x * weights[0]\n", "weigh", weights=np.ones(100_000))
    assert by_value.pickled_sizes(weigh)["cloudpickle"] > 800_000


def test_run_with_joblib_runs_a_main_function_and_stops_its_workers():
    import multiprocessing

    shout = _main_function("def shout2(w):\n    return w.upper() + '!'\n", "shout2")
    assert by_value.run_with_joblib(shout, ["a", "b"]) == ["A!", "B!"]
    assert multiprocessing.active_children() == []


def test_per_task_seconds_divides_the_fastest_run():
    calls = []
    seconds = by_value.per_task_seconds(lambda: calls.append(1), 10, repeats=2)
    assert len(calls) == 2 and 0 <= seconds < 0.01
    with pytest.raises(ValueError, match="tasks"):
        by_value.per_task_seconds(lambda: None, 0)


def test_costs_table_and_sentences_come_from_the_data():
    costs = {"value": (500, 300e-6), "name": (30, 250e-6), "heavy": (8_000_600, 900e-6), "pool": (30, 5e-6)}
    table = by_value.format_costs(costs)
    assert "8,000,600 bytes" in table and "900 µs" in table
    text = by_value.describe_costs(costs, "value", "name", "heavy", "pool").split("\n")
    assert text[0].endswith("(more for the function sent by value, in this run).")
    assert "8.0 MB" in text[1] and "3.0x" in text[1]
    assert text[2].endswith("joblib's own cost per task was 50x that here.")
    assert isinstance(by_value.run_with_joblib, types.FunctionType)

"""Tests of helpers.lab.models: each model runs, agrees with the serial loop, and its costs are measured."""

from __future__ import annotations

import sys

import pytest

from helpers.lab import models
from helpers.models import add_through_call, compute_on_loop, primes_below


def test_available_models_follow_the_version():
    assert models.available_models()[0] == "serial" and "processes" in models.available_models()
    assert ("interpreters" in models.available_models()) == (sys.version_info >= (3, 14))


def test_model_label_names_threads_with_and_without_the_gil():
    assert models.model_label("threads", gil=True) == "threads (GIL-bound)"
    assert models.model_label("threads", gil=False) == "threads (free-threaded, no GIL)"
    assert models.model_label("processes") == "processes"
    with pytest.raises(ValueError, match="model must be one of"):
        models.model_label("fibres")


@pytest.mark.parametrize("name", models.WORKLOADS)
def test_workload_gives_equal_tasks(name):
    func, args = models.workload(name, tasks=3, scale=0.01)
    assert len(args) == 3 and len(set(map(len, args)) if name == "data" else set(args)) == 1
    assert callable(func)


def test_workload_rejects_bad_arguments():
    with pytest.raises(ValueError, match="workload must be one of"):
        models.workload("gpu")
    with pytest.raises(ValueError, match="scale"):
        models.workload("cpu", scale=0)


@pytest.mark.parametrize("model", models.available_models())
def test_time_model_returns_the_serial_results(model):
    seconds, startup, results = models.time_model(model, primes_below, [100, 1000], workers=2)
    assert results == [25, 168] and seconds > 0 and startup >= 0


def test_measure_checks_every_model_against_serial():
    run = models.measure("data", workers=2, repeats=1, tasks=2, scale=0.01)
    assert [row.kind for row in run.rows] == list(models.available_models())
    assert len(run.results) == 2
    assert all(run.speedup(row.kind) > 0 for row in run.rows)
    lines = models.describe_run(run)
    assert len(lines) == len(run.rows)
    assert len({line.index(" s ") for line in lines}) == 1, f"columns not aligned:\n" + "\n".join(lines)
    with pytest.raises(KeyError, match="not measured"):
        run.row("fibres")


def test_measure_func_raises_when_a_model_disagrees():
    calls = iter([1, 2] * 10)
    with pytest.raises(RuntimeError, match="returned"):
        models.measure_func(lambda _: next(calls), [0], models=["serial", "threads"], repeats=1)


def test_measure_func_rejects_no_tasks():
    with pytest.raises(ValueError, match="at least one task"):
        models.measure_func(primes_below, [])


def test_costs_measure_startup_and_memory():
    found = models.costs(models=["threads", "processes"], workers=2, repeats=1)
    assert set(found) == {"threads", "processes"}
    assert found["processes"]["memory_mb"] > 0 and found["threads"]["startup_ms"] >= 0


def test_count_race_counts_every_addition_or_loss():
    race = models.count_race(threads=2, times=1000)
    assert race["expected"] == 2000 and race["counted"] + race["lost"] == 2000
    race = models.count_race(threads=3, times=1000, adder=add_through_call)
    assert race["expected"] == 3000 and race["counted"] + race["lost"] == 3000
    with pytest.raises(TypeError, match="adder must be a function"):
        models.count_race(adder=3)


def test_timer_lateness_shows_a_blocked_loop():
    assert models.timer_lateness(compute_on_loop, seconds=0.2, delay=0.01) > 0.1
    with pytest.raises(TypeError, match="async def"):
        models.timer_lateness(primes_below)


def test_run_loop_works_inside_a_running_loop_and_passes_errors():
    import asyncio

    async def outer():
        return models.run_loop(lambda: asyncio.sleep(0, result=7), timeout=10)

    assert asyncio.run(outer()) == 7

    async def fails():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        models.run_loop(fails, timeout=10)


def test_run_mixed_agrees_with_serial():
    mixed = models.run_mixed([100, 1000], delay=0.01, workers=2)
    assert mixed["serial"] == mixed["asyncio"] == [25, 168]


@pytest.mark.skipif(sys.version_info < (3, 14), reason="concurrent.interpreters is new in 3.14")
def test_import_in_interpreter_reports_the_error():
    assert models.import_in_interpreter("helpers.models") == "imported"
    assert models.import_in_interpreter("no_such_module_here").startswith("ModuleNotFoundError")

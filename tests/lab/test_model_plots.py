"""Tests of helpers.lab.model_plots: figures draw, and printed sentences follow the data."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest

from helpers.lab import model_plots
from helpers.lab.bench_results import make_row
from helpers.lab.models import ModelRun


def run(workload, serial, threads, gil=True):
    return ModelRun(workload, 2, (make_row("serial", 1, [serial], []), make_row("threads", 2, [threads], [0.01])), (), gil)


def test_speedups_label_threads_by_the_gil():
    found = model_plots.speedups([run("cpu", 2.0, 1.0, gil=False)], " 3.13t")
    assert found == {"threads (free-threaded, no GIL) 3.13t": {"cpu": 2.0}}


def test_plot_speedups_draws_one_bar_per_model_and_workload():
    series = model_plots.speedups([run("cpu", 2.0, 1.0), run("data", 1.0, 2.0)])
    fig = model_plots.plot_speedups(series, workers=2, title="t")
    assert len(fig.axes[0].patches) == 2
    with pytest.raises(ValueError, match="at least one model"):
        model_plots.plot_speedups({}, workers=2)


def test_describe_speedups_follows_the_data():
    lines = model_plots.describe_speedups({"a": {"cpu": 1.0}, "b": {"cpu": 3.0}})
    assert lines == ["CPU-bound (count primes): fastest b (3.00x), slowest a (1.00x)."]


def test_plot_and_describe_costs():
    costs = {"threads": {"startup_ms": 1.0, "memory_mb": 0.1}, "processes": {"startup_ms": 100.0, "memory_mb": 10.0}}
    assert len(model_plots.plot_costs(costs).axes) == 2
    lines = model_plots.describe_costs(costs)
    assert "dearest: processes, 100 times as long" in lines[-2] and "most: processes" in lines[-1]


def test_single_thread_cost_says_slower_or_faster():
    assert "50% slower" in model_plots.single_thread_cost(run("cpu", 1.0, 1.0), run("cpu", 1.5, 1.0, gil=False))
    assert "faster" in model_plots.single_thread_cost(run("cpu", 1.0, 1.0), run("cpu", 0.5, 1.0, gil=False))

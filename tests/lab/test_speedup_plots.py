"""Tests of helpers.lab.speedup_plots: every figure draws from made-up results and names its machine."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers.lab.bench_results import SizeSweep, fake_result  # noqa: E402
from helpers.lab.speedup_plots import (  # noqa: E402
    plot_amdahl,
    plot_efficiency,
    plot_karp_flatt,
    plot_size_sweep,
    plot_speedup,
    plot_summary,
    plot_wall_time,
    save_report,
    summary_workers,
)
from tests.lab.test_bench_results import fake  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.mark.parametrize("plot", [plot_wall_time, plot_speedup, plot_efficiency, plot_amdahl])
def test_each_figure_is_titled_with_the_machine_and_labels_its_axes(plot):
    ax = plot(fake(2.0, threads=[2.0, 2.1, 2.1, 2.2], processes=[2.0, 1.05, 1.1, 1.1]))
    title = ax.get_title()
    assert title.endswith("measured on Python 3.x, 2 CPUs, Linux, spawn")
    assert ax.get_xlabel() == "workers" and ax.get_ylabel()
    assert "effective CPUs (2)" in legend_texts(ax)
    w, h = ax.figure.get_size_inches()
    assert (w, h) == (6, 3.5) and ax.figure.dpi <= 100


def test_thread_curve_is_labelled_by_the_gil():
    gil = plot_speedup(fake(2.0, threads=[2.0, 2.0], processes=[2.0, 1.0]))
    assert "threads (GIL-bound)" in legend_texts(gil)
    free = plot_speedup(fake(2.0, threads=[2.0, 1.0], processes=[2.0, 1.0], gil=False))
    assert "threads (free-threaded, no GIL)" in legend_texts(free)
    assert "free-threaded" in free.get_title()


def test_speedup_draws_the_ideal_and_machine_lines():
    ax = plot_speedup(fake(2.0, threads=[2.0, 2.0, 2.0, 2.0], processes=[2.0, 1.0, 1.0, 1.0]))
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["ideal: speedup = workers"].get_ydata()) == [1, 2, 3, 4]
    assert list(lines["best for computing here"].get_ydata()) == [1, 2, 2, 2]
    assert list(lines["processes"].get_ydata()) == [1.0, 2.0, 2.0, 2.0]


def test_amdahl_plot_shows_the_fit_or_says_there_is_none():
    four = fake(2.0, processes=[2.0, 1.1, 0.8, 0.65], cpus=4)
    ax = plot_amdahl(four)
    assert any(t.startswith("Amdahl fit: serial fraction") for t in legend_texts(ax))
    curve = next(line for line in ax.get_lines() if line.get_label().startswith("Amdahl fit"))
    assert max(curve.get_xdata()) == 4  # drawn over the counts it was fitted to, never past the cores
    two = plot_amdahl(fake(2.0, processes=[2.0, 1.1, 1.1, 1.2], cpus=2))  # one count in 2..cpus: no fit
    assert not any(t.startswith("Amdahl fit") for t in legend_texts(two))
    assert any(t.get_text().replace("\n", " ").startswith("no Amdahl fit: it needs 3 worker counts") for t in two.texts)
    one_cpu = plot_amdahl(fake(2.0, processes=[2.0, 2.0], cpus=1))
    assert "1 CPU, Linux" in one_cpu.get_title()
    assert any("no Amdahl fit" in t.get_text() for t in one_cpu.texts)
    with pytest.raises(ValueError, match="no 'processes' rows"):
        plot_amdahl(fake(2.0, threads=[2.0]))


def test_karp_flatt_plot_draws_one_point_per_count_of_two_or_more():
    ax = plot_karp_flatt(fake(1.0, processes=[1.0, 0.5, 0.4, 0.4], cpus=4))
    line = next(line for line in ax.get_lines() if line.get_label().startswith("processes"))
    assert list(line.get_xdata()) == [2, 3, 4]
    assert [round(y, 3) for y in line.get_ydata()] == [0.0, 0.1, 0.2]
    assert ax.get_ylabel() == "serial fraction e" and "effective CPUs (4)" in legend_texts(ax)
    with pytest.raises(ValueError, match="no 'processes' rows with 2 or more workers"):
        plot_karp_flatt(fake(1.0, processes=[1.0]))


def test_hyperthreads_get_a_physical_core_marker():
    ax = plot_speedup(fake(1.0, processes=[1.0, 0.5, 0.35, 0.3, 0.28, 0.27, 0.27, 0.27], cpus=8, cores=4))
    assert {"effective CPUs (8)", "physical cores (4)"} <= set(legend_texts(ax))
    assert "physical cores (4)" not in legend_texts(plot_speedup(fake(1.0, processes=[1.0, 0.5], cpus=2, cores=2)))


def test_summary_compares_each_workload_at_the_cpu_count():
    results = {
        "CPU": fake(2.0, threads=[2.0, 2.0, 2.0], processes=[2.0, 1.0, 1.0]),
        "waiting": fake(2.0, threads=[2.0, 1.0, 0.7], processes=[2.0, 1.0, 0.7]),
    }
    assert summary_workers(results) == 2
    ax = plot_summary(results)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["CPU", "waiting"]
    assert [round(p.get_height(), 3) for p in ax.patches] == [1.0, 2.0, 2.0, 2.0]
    assert "2 CPUs" in ax.get_title() and ax.get_ylabel() == "speedup with 2 workers (x)"
    assert plot_summary(results, workers=3).get_ylabel() == "speedup with 3 workers (x)"
    with pytest.raises(ValueError, match="workers=4 was not measured"):
        plot_summary(results, workers=4)
    with pytest.raises(ValueError, match="non-empty"):
        plot_summary({})
    with pytest.raises(TypeError, match="BenchResult"):
        plot_summary({"x": 1})


def test_size_sweep_plot():
    sweep = SizeSweep(2, tuple(fake_result(1.0, processes={2: p}, size=s, startup=0.0) for s, p in [(10, 3.0), (1000, 0.6)]))
    ax = plot_size_sweep(sweep)
    assert ax.get_xscale() == "log" and "measured on Python 3.x, 2 CPUs" in ax.get_title()
    with pytest.raises(TypeError):
        plot_size_sweep([])


def test_bad_result_is_a_type_error():
    with pytest.raises(TypeError, match="result must be a helpers.lab.bench_results.BenchResult"):
        plot_speedup({"serial": 1.0})


def test_save_report_writes_a_png(tmp_path):
    path = save_report(fake(2.0, threads=[2.0, 2.0], processes=[2.0, 1.0]), tmp_path / "a" / "r.png")
    assert path.read_bytes()[:4] == b"\x89PNG"

"""Tests of helpers.bench: the shape of its results and its argument errors, never timings."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

import helpers.bench as bench
from helpers.bench import (
    BenchResult,
    Row,
    SizeSweep,
    amdahl_speedup,
    check_amdahl_prediction,
    check_crossover,
    check_curve_explanation,
    check_pool_choice,
    POOL_CHOICES,
    expectation,
    fit_amdahl,
    fit_serial_fraction,
    gustafson_speedup,
    machine_line,
    run_bench,
    sweep_task_sizes,
    thread_label,
)
from helpers.book import book_start_method
from helpers.machine import effective_cpus

ROOT = Path(__file__).resolve().parent.parent
TINY = {"size": 200, "tasks": 4, "repeats": 2, "progress": False}


def fake(serial, threads=(), processes=(), cpus=2, startup=0.1, gil=True):
    """A BenchResult from made-up seconds: threads/processes are lists of seconds for 1, 2, ... workers."""
    rows = [Row("serial", 1, serial, serial, serial, 1, 0.0)]
    for kind, seconds in (("threads", threads), ("processes", processes)):
        rows += [Row(kind, n, s, s * 0.9, s * 1.1, 3, startup) for n, s in enumerate(seconds, start=1)]
    return BenchResult("cpu", 1000, 8, 1, tuple(rows), cpus, "3.12.0", gil, "spawn")


# --------------------------------------------------------------------------- measuring


def test_run_bench_returns_one_row_per_kind_and_worker_count():
    result = run_bench("cpu", max_workers=2, **TINY)
    assert [(r.kind, r.workers) for r in result.rows] == [
        ("serial", 1), ("threads", 1), ("threads", 2), ("processes", 1), ("processes", 2)
    ]
    assert result.kinds() == ["serial", "threads", "processes"]
    for r in result.rows:
        assert r.repeats == 2
        assert 0 < r.seconds_min <= r.seconds <= r.seconds_max
        assert (r.startup == 0) == (r.kind == "serial")
    assert (result.workload, result.size, result.tasks, result.chunksize) == ("cpu", 200, 4, 1)
    assert result.cpus == effective_cpus()
    assert result.start_method == multiprocessing.get_start_method()
    assert multiprocessing.active_children() == []


def test_run_bench_defaults_to_one_up_to_twice_the_cpus():
    assert bench.default_max_workers() == max(4, 2 * effective_cpus())
    result = run_bench("io", size=1, tasks=2, repeats=1, kinds=("threads",), progress=False)
    assert result.workers("threads") == list(range(1, bench.default_max_workers() + 1))
    assert result.workers("processes") == []


def test_run_bench_takes_a_worker_list_and_one_kind():
    result = run_bench("cpu", workers=[2], kinds=("processes",), **TINY)
    assert [(r.kind, r.workers) for r in result.rows] == [("serial", 1), ("processes", 2)]


@pytest.mark.parametrize(("workload", "size"), [("numpy", 1), ("io", 1)])
def test_other_workloads_run_in_spawned_children(workload, size):
    result = run_bench(workload, size=size, tasks=2, max_workers=2, repeats=1, progress=False)
    assert result.workers("processes") == [1, 2] and result.label == bench.WORKLOADS[workload].label


def test_run_bench_reports_progress(capsys):
    steps = []
    run_bench("cpu", workers=[1], kinds=("threads",), size=10, tasks=2, repeats=3, progress=True,
              on_step=lambda done, total, what: steps.append((done, total, what)))
    assert steps == [(i, 6, what) for i, what in zip(range(1, 7), ["serial x1", "threads x1"] * 3)]
    assert "cpu benchmark" in capsys.readouterr().err  # the tqdm text bar outside Jupyter


def test_run_bench_detects_results_that_differ(monkeypatch):
    real = bench.time_once

    def wrong_threads(kind, *args, **kwargs):
        seconds, startup, results = real(kind, *args, **kwargs)
        return seconds, startup, (results[:-1] + [-1] if kind == "threads" else results)

    monkeypatch.setattr(bench, "time_once", wrong_threads)
    with pytest.raises(RuntimeError, match="threads with 1 workers returned different results"):
        run_bench("cpu", workers=[1], **TINY)


def test_time_once_times_start_up_apart_and_cleans_up():
    tasks = [0.2, 0.2]
    work, startup, results = bench.time_once("processes", 2, bench.wait, tasks, warm_job=(bench.wait, 0.0))
    assert results == tasks
    assert 0.19 < work < 1.5  # two 0.2 s sleeps on two running workers overlap (generous bounds)
    assert startup > 0
    assert multiprocessing.active_children() == []
    work, startup, results = bench.time_once("serial", 1, bench.wait, [0.05, 0.05])
    assert work >= 0.09 and startup == 0 and results == [0.05, 0.05]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"workload": "gpu"}, ValueError, "workload must be one of"),
        ({"size": 0}, ValueError, "size must be between 1 and"),
        ({"size": 2.5}, TypeError, "size must be an int"),
        ({"tasks": 0}, ValueError, "tasks must be between 1 and 100000"),
        ({"max_workers": 0}, ValueError, "max_workers must be between 1 and 256"),
        ({"max_workers": 257}, ValueError, "max_workers must be between 1 and 256"),
        ({"max_workers": True}, TypeError, "max_workers must be an int"),
        ({"workers": []}, ValueError, "workers must not be empty"),
        ({"workers": [1, 1]}, ValueError, "must not repeat"),
        ({"workers": "12"}, TypeError, "workers must be a list of ints"),
        ({"workers": [0]}, ValueError, r"workers\[i\] must be between 1 and 256"),
        ({"workers": [1], "max_workers": 2}, ValueError, "not both"),
        ({"repeats": 0}, ValueError, "repeats must be between 1 and 100"),
        ({"kinds": ("fibers",)}, ValueError, "kinds must be distinct names"),
        ({"kinds": ("threads", "threads")}, ValueError, "kinds must be distinct names"),
        ({"kinds": 5}, TypeError, "kinds must be a tuple of names"),
        ({"chunksize": 0}, ValueError, "chunksize must be between 1"),
        ({"start_method": "teleport"}, ValueError, "start_method must be one of"),
        ({"timeout": 0}, ValueError, "timeout must be a number of seconds > 0"),
        ({"on_step": 5}, TypeError, "on_step must be callable"),
    ],
)
def test_run_bench_rejects_bad_arguments(kwargs, error, match):
    kwargs = {"workload": "cpu", "progress": False, **kwargs}
    with pytest.raises(error, match=match):
        run_bench(**kwargs)
    assert multiprocessing.active_children() == []


def test_errors_survive_pickling():
    import pickle

    with pytest.raises(ValueError) as info:
        run_bench("cpu", size=0, progress=False)
    assert str(pickle.loads(pickle.dumps(info.value))) == str(info.value)


# --------------------------------------------------------------------------- the result object


def test_result_speedups_efficiency_and_table():
    r = fake(2.0, threads=[2.0, 2.1], processes=[2.0, 1.0, 1.0, 1.0])
    assert r.serial.seconds == 2.0
    assert r.speedup("processes", 2) == 2.0
    assert r.speedup("processes", 2, include_startup=True) == pytest.approx(2.0 / 1.1)
    assert r.speedups("threads") == pytest.approx([1.0, 2.0 / 2.1])
    assert r.efficiency("processes", 4) == 0.5
    assert r.workers("processes") == [1, 2, 3, 4]
    records = r.to_records()
    assert len(records) == 7 and records[-1]["speedup"] == 2.0 and set(records[0]) >= {"kind", "workers", "seconds"}
    table = r.table().splitlines()
    assert len(table) == 3 + 7 and table[3].split()[:2] == ["serial", "1"] and table[-1].endswith("2.00x")
    assert r.headline(2).splitlines() == [
        "threads(2) / serial speedup: 0.95x", "processes(2) / serial speedup: 2.00x"
    ]
    assert "2 effective CPUs" in r.title and "Python 3.12.0" in r.title
    with pytest.raises(KeyError, match="no row for kind='processes', workers=9"):
        r.row("processes", 9)


def test_result_needs_a_serial_row():
    with pytest.raises(ValueError, match="serial baseline"):
        BenchResult("cpu", 1, 1, 1, (Row("threads", 1, 1.0, 1.0, 1.0, 1, 0.0),), 2, "3.12", True, "spawn")


def test_machine_labels():
    assert thread_label(True) == "threads (GIL-bound)"
    assert "free-threaded" in thread_label(False)
    assert machine_line(4, "3.13.1", True) == "measured on 4 effective CPUs, Python 3.13.1"
    assert "free-threaded" in machine_line(4, "3.13.1", False)
    assert isinstance(bench.gil_enabled(), bool)
    assert "1 effective CPU:" in expectation(1) and "speedup of 8" in expectation(8)


# --------------------------------------------------------------------------- Amdahl, Gustafson


def test_amdahl_and_gustafson():
    assert amdahl_speedup(0.05, 8) == pytest.approx(5.9259, rel=1e-4)
    assert amdahl_speedup(0.5, 10**6) == pytest.approx(2.0, rel=1e-5)
    assert gustafson_speedup(0.05, 8) == pytest.approx(7.65)
    for func in (amdahl_speedup, gustafson_speedup):
        with pytest.raises(ValueError, match="serial_fraction must be between 0 and 1"):
            func(1.5, 2)
        with pytest.raises(ValueError, match="workers must be between 1"):
            func(0.1, 0)


@pytest.mark.parametrize("f", [0.0, 0.03, 0.25, 1.0])
def test_fit_serial_fraction_recovers_f(f):
    ns = [1, 2, 3, 4, 8]
    assert fit_serial_fraction(ns, [amdahl_speedup(f, n) for n in ns]) == pytest.approx(f, abs=1e-9)


def test_fit_serial_fraction_errors_and_clipping():
    assert fit_serial_fraction([2], [2.2]) == 0.0  # super-linear noise clips to 0
    with pytest.raises(ValueError, match="same length"):
        fit_serial_fraction([2, 3], [1.5])
    with pytest.raises(ValueError, match="2 or more workers"):
        fit_serial_fraction([1], [1.0])
    with pytest.raises(ValueError, match="finite and > 0"):
        fit_serial_fraction([2], [0.0])


def test_fit_amdahl_uses_only_counts_up_to_the_cpus():
    f = 0.1
    seconds = [10 / amdahl_speedup(f, n) for n in (1, 2, 3, 4)] + [8.0, 9.0]  # 5 and 6 workers: oversubscribed
    fit = fit_amdahl(fake(10.0, processes=seconds, cpus=4))
    assert fit.workers == (2, 3, 4)
    assert fit.serial_fraction == pytest.approx(f)
    assert fit.limit == pytest.approx(10) and fit.predict(4) == pytest.approx(amdahl_speedup(f, 4))
    assert fit_amdahl(fake(1.0, processes=[1.0, 1.0, 1.0, 1.0], cpus=1)) is None  # one CPU: nothing to fit


# --------------------------------------------------------------------------- task sizes


def sweep_of(speedups):
    results = tuple(bench._fake_result(10**i, 1.0, 1.0 / s) for i, s in enumerate(speedups, start=1))
    return SizeSweep(2, results)


@pytest.mark.parametrize(
    ("speedups", "crossover"),
    [([0.2, 0.8, 1.3, 1.8], 1000), ([0.2, 1.1, 0.9, 1.5], 10_000), ([0.5, 0.7], None), ([1.2, 1.5], 10)],
)
def test_crossover_is_where_processes_start_winning_for_good(speedups, crossover):
    assert sweep_of(speedups).crossover() == crossover


def test_sweep_task_sizes_shape():
    sweep = sweep_task_sizes([300, 100], tasks=2, repeats=1, progress=False)
    assert sweep.sizes == [100, 300] and sweep.workers == 2
    assert all(r.workers("processes") == [2] and r.workers("threads") == [] for r in sweep.results)
    assert len(sweep.speedups()) == 2 and len(sweep.table().splitlines()) == 5
    with pytest.raises(ValueError, match="sizes must be a non-empty list"):
        sweep_task_sizes([], progress=False)
    with pytest.raises(ValueError, match=r"sizes\[i\] must be between"):
        sweep_task_sizes([0], progress=False)


# --------------------------------------------------------------------------- exercise checks


def test_check_amdahl_prediction(capsys):
    assert check_amdahl_prediction(1 / (0.05 + 0.95 / 8), 20)
    assert check_amdahl_prediction(5.93, 20.0)
    assert not check_amdahl_prediction(8, 20)
    assert not check_amdahl_prediction(5.93, float("inf"))
    assert not check_amdahl_prediction("6", 20)
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and out.count("❌") == 3 and "Check limit" in out


def test_check_curve_explanation(capsys):
    assert check_curve_explanation("a", "b")
    assert check_curve_explanation(" A", "B")
    assert not check_curve_explanation("b", "b")
    assert not check_curve_explanation("a", "e")
    out = capsys.readouterr().out
    assert "threads:" in out and "one letter" in out


def test_check_pool_choice(capsys):
    assert check_pool_choice(dict(POOL_CHOICES))
    flipped = {job: ("threads" if c == "processes" else "processes") for job, c in POOL_CHOICES.items()}
    assert not check_pool_choice(flipped)
    assert not check_pool_choice({"x": "threads"})
    assert "Look again" in capsys.readouterr().out


def test_check_crossover(capsys):
    sweep = sweep_of([0.2, 0.8, 1.3, 1.8])
    assert check_crossover(1000, sweep)
    assert not check_crossover(100, sweep)
    assert not check_crossover(5, sweep)
    never = sweep_of([0.2, 0.5])
    assert check_crossover(None, never)
    assert not check_crossover(100, never)
    assert "never won" in capsys.readouterr().out


# --------------------------------------------------------------------------- command line


def test_main_prints_table_and_headline_and_saves_figure(tmp_path, capsys):
    figure = tmp_path / "out" / "speedup.png"
    args = ["--size", "200", "--tasks", "4", "--max-workers", "2", "--repeats", "1", "--no-progress", "--output", str(figure)]
    assert bench.main(args) == 0
    out = capsys.readouterr().out
    assert "processes(2) / serial speedup:" in out and "threads(2) / serial speedup:" in out
    assert f"start method {book_start_method()}" in out
    assert figure.stat().st_size > 10_000 and figure.read_bytes()[:4] == b"\x89PNG"
    assert multiprocessing.active_children() == []


def test_main_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit) as info:
        bench.main(["--repeats", "0", "--no-plot"])
    assert info.value.code == 2
    assert "repeats must be between 1 and 100" in capsys.readouterr().err


def test_module_runs_from_the_command_line(tmp_path):
    """`python -m helpers.bench` works with spawn, which re-imports the main module in each child."""
    done = subprocess.run(
        [sys.executable, "-m", "helpers.bench", "--workload", "io", "--size", "1", "--tasks", "2",
         "--max-workers", "2", "--repeats", "1", "--start-method", "spawn", "--output", str(tmp_path / "f.png")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "processes(2) / serial speedup" in done.stdout and "benchmark finished" in done.stdout
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


def test_load_note_warns_only_on_a_busy_machine(monkeypatch):
    monkeypatch.setattr(bench.os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    assert bench.load_note(2) is None
    monkeypatch.setattr(bench.os, "getloadavg", lambda: (3.0, 1.0, 1.0))
    note = bench.load_note(2)
    assert "load average is 3.00 on 2 effective CPU(s)" in note and "lower" in note

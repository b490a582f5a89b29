"""Tests of helpers.lab.bench: the shape of its results and its argument errors, never timings."""

from __future__ import annotations

import multiprocessing
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import helpers.lab.bench as bench
from helpers.lab.bench import expectation, run_bench, sweep_task_sizes, time_once
from helpers.lab.book import book_start_method
from helpers.lab.machine import effective_cpus, machine_label
from helpers.workloads import count_primes, wait

ROOT = Path(__file__).resolve().parents[2]
TINY = {"size": 200, "tasks": 4, "repeats": 2, "progress": False}


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
    assert result.machine == machine_label(result.start_method)  # the one machine label
    assert multiprocessing.active_children() == []


def test_run_bench_defaults_to_counts_that_split_its_tasks_evenly():
    assert bench.default_max_workers() == max(4, 2 * effective_cpus())
    result = run_bench("io", size=1, repeats=1, kinds=("threads",), progress=False)
    counts = bench.default_worker_counts()
    assert result.workers("threads") == counts and counts[-1] == bench.default_max_workers()
    assert effective_cpus() in counts and result.workers("processes") == []
    assert result.tasks >= bench.WORKLOADS["io"].default_tasks
    assert all(result.tasks % n == 0 for n in counts)  # every count gets whole rounds
    assert "a multiple of every worker count" in result.method()


def test_run_bench_shuffles_each_round_and_a_seed_repeats_the_order():
    def order(seed):
        seen = []
        run_bench("io", size=1, tasks=2, workers=[1, 2], repeats=3, kinds=("threads",), progress=False, seed=seed,
                  on_step=lambda done, total, what: seen.append(what))
        return seen

    first = order(1)
    assert first == order(1) and len(first) == 9
    rounds = [first[i:i + 3] for i in (0, 3, 6)]
    assert all(sorted(r) == ["serial x1", "threads x1", "threads x2"] for r in rounds)  # every point once a round
    assert len({tuple(r) for r in rounds} | {tuple(r) for s in (2, 3) for r in [order(s)[:3]]}) > 1  # not fixed


def test_run_bench_times_any_importable_function_over_its_task_list():
    result = run_bench(count_primes, tasks=[300, 300, 300, 300], workers=[1, 2], repeats=1, progress=False)
    assert result.workload == "helpers.workloads.count_primes" and result.size is None and result.tasks == 4
    assert result.label == "helpers.workloads.count_primes" and result.what == "helpers.workloads.count_primes, 4 tasks"
    assert result.workers("processes") == [1, 2]
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize(
    ("func", "kwargs", "match"),
    [
        (count_primes, {}, "with a function, tasks must be a non-empty list of its arguments"),
        (count_primes, {"tasks": 4}, "with a function, tasks must be a non-empty list"),
        (count_primes, {"tasks": "abc"}, "with a function, tasks must be a non-empty list"),
        (count_primes, {"tasks": [10], "size": 10}, "size is for the built-in workloads"),
        (lambda n: n, {"tasks": [1]}, "a pool's workers must import the function, and tests.lab.test_bench.<lambda>"),
        (5, {}, "workload must be one of 'cpu', 'numpy', 'io' or a function, got 5"),
    ],
)
def test_run_bench_says_what_is_wrong_with_a_function_and_its_tasks(func, kwargs, match):
    with pytest.raises(TypeError, match=match):
        run_bench(func, progress=False, **kwargs)


def test_run_bench_takes_a_worker_list_and_one_kind():
    result = run_bench("cpu", workers=[2], kinds="processes", **TINY)
    assert [(r.kind, r.workers) for r in result.rows] == [("serial", 1), ("processes", 2)]


@pytest.mark.parametrize(("workload", "size"), [("numpy", 1), ("io", 1)])
def test_other_workloads_run_in_spawned_children(workload, size):
    result = run_bench(workload, size=size, tasks=2, max_workers=2, repeats=1, progress=False)
    assert result.workers("processes") == [1, 2] and result.label == bench.WORKLOADS[workload].label


def test_run_bench_reports_progress(capsys):
    steps = []
    run_bench("cpu", workers=[1], kinds=("threads",), size=10, tasks=2, repeats=3, progress=True,
              on_step=lambda done, total, what: steps.append((done, total, what)))
    assert [done for done, _, _ in steps] == list(range(1, 7)) and {total for _, total, _ in steps} == {6}
    assert sorted(what for _, _, what in steps) == ["serial x1"] * 3 + ["threads x1"] * 3
    assert "cpu benchmark" in capsys.readouterr().err  # the tqdm text bar outside Jupyter


def test_run_bench_detects_results_that_differ(monkeypatch):
    real = bench.time_once

    def wrong_threads(kind, *args, **kwargs):
        seconds, startup, results = real(kind, *args, **kwargs)
        return seconds, startup, (results[:-1] + [-1] if kind == "threads" else results)

    monkeypatch.setattr(bench, "time_once", wrong_threads)
    for seed in range(4):  # whichever runs first, the mismatch names threads x1
        with pytest.raises(RuntimeError, match=r"(threads x1 returned different results from (serial|processes) x1"
                                               r"|returned different results from threads x1), which ran first"):
            run_bench("cpu", workers=[1], seed=seed, **TINY)


def test_time_once_times_start_up_apart_and_cleans_up():
    tasks = [0.2, 0.2]
    work, startup, results = time_once("processes", 2, wait, tasks, warm_job=(wait, 0.0))
    assert results == tasks
    assert 0.19 < work < 1.5  # two 0.2 s sleeps on two running workers overlap (generous bounds)
    assert startup > 0
    assert multiprocessing.active_children() == []
    work, startup, results = time_once("serial", 1, wait, [0.05, 0.05])
    assert work >= 0.09 and startup == 0 and results == [0.05, 0.05]


def test_time_once_warms_up_with_the_first_task_by_default():
    work, startup, results = time_once("threads", 2, count_primes, (100, 1000))
    assert results == [25, 168] and startup > 0


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("fibers", 2, wait, [0.0]), ValueError, "kind must be one of"),
        (("threads", 0, wait, [0.0]), ValueError, "workers must be from 1 to 256"),
        (("threads", 2, "wait", [0.0]), TypeError, "func must be a function"),
        (("threads", 2, wait, []), ValueError, "tasks must not be empty"),
    ],
)
def test_time_once_rejects_bad_arguments(args, error, match):
    with pytest.raises(error, match=match):
        time_once(*args)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"workload": "gpu"}, ValueError, "workload must be one of"),
        ({"size": 0}, ValueError, "size must be from 1 to"),
        ({"size": 2.5}, TypeError, "size must be an int"),
        ({"tasks": 0}, ValueError, "tasks must be from 1 to 100000"),
        ({"max_workers": 0}, ValueError, "max_workers must be from 1 to 256"),
        ({"max_workers": 257}, ValueError, "max_workers must be from 1 to 256"),
        ({"max_workers": True}, TypeError, "max_workers must be an int"),
        ({"workers": []}, ValueError, "workers must not be empty"),
        ({"workers": [1, 1]}, ValueError, "must not repeat"),
        ({"workers": "12"}, TypeError, "workers must be a list of ints"),
        ({"workers": [0]}, ValueError, r"workers\[0\] must be from 1 to 256"),
        ({"workers": [1], "max_workers": 2}, ValueError, "not both"),
        ({"repeats": 0}, ValueError, "repeats must be from 1 to 100"),
        ({"kinds": ("fibers",)}, ValueError, "kinds must be one of 'threads', 'processes'"),
        ({"kinds": ("threads", "threads")}, ValueError, "kinds must not repeat"),
        ({"kinds": 5}, TypeError, "kinds must be a tuple of names"),
        ({"chunksize": 0}, ValueError, "chunksize must be from 1"),
        ({"start_method": "teleport"}, ValueError, "start_method must be one of"),
        ({"timeout": 0}, ValueError, "timeout must be from 0.001 to 86400 seconds"),
        ({"on_step": 5}, TypeError, "on_step must be a function"),
    ],
)
def test_run_bench_rejects_bad_arguments(kwargs, error, match):
    kwargs = {"workload": "cpu", "progress": False, **kwargs}
    with pytest.raises(error, match=match):
        run_bench(**kwargs)
    assert multiprocessing.active_children() == []


def test_errors_survive_pickling():
    with pytest.raises(ValueError) as info:
        run_bench("cpu", size=0, progress=False)
    assert str(pickle.loads(pickle.dumps(info.value))) == str(info.value)


# --------------------------------------------------------------------------- task sizes


def test_sweep_task_sizes_shape():
    sweep = sweep_task_sizes([300, 100], tasks=2, repeats=1, progress=False)
    assert sweep.sizes == [100, 300] and sweep.workers == 2
    assert all(r.workers("processes") == [2] and r.workers("threads") == [] for r in sweep.results)
    assert len(sweep.speedups()) == 2 and len(sweep.table().splitlines()) == 5
    with pytest.raises(ValueError, match="sizes must not be empty"):
        sweep_task_sizes([], progress=False)
    with pytest.raises(ValueError, match=r"sizes\[0\] must be from 1 to"):
        sweep_task_sizes([0], progress=False)
    with pytest.raises(ValueError, match="workers must be from 1 to 256"):
        sweep_task_sizes([100], workers=0, progress=False)


# --------------------------------------------------------------------------- the machine


def test_expectation_names_cpus_cores_and_the_gil():
    assert "1 effective CPU:" in expectation(1, 1) and "speedup of 8 at 8 workers" in expectation(8, 8)
    assert str(effective_cpus()) in expectation()
    hyper = expectation(8, 4, gil=True)
    assert "8 effective CPUs on 4 physical cores" in hyper and "speedup of 4 at 4 workers" in hyper
    assert "GIL-bound threads should stay near 1" in hyper
    free = expectation(2, 2, gil=False)
    assert "GIL-bound" not in free and "Free-threaded threads (no GIL) should rise much like processes" in free


def test_the_benchmark_warns_with_the_machine_modules_load_note():
    from helpers.lab import machine

    assert bench.load_note is machine.load_note  # one load check for every measuring chapter


# --------------------------------------------------------------------------- command line


def test_main_prints_table_and_headline_and_saves_figure(tmp_path, capsys):
    figure = tmp_path / "out" / "speedup.png"
    reference = tmp_path / "ref" / "speedup-reference.json"
    args = ["--size", "200", "--tasks", "4", "--max-workers", "2", "--repeats", "1", "--no-progress", "--output",
            str(figure), "--save-reference", str(reference)]
    assert bench.main(args) == 0
    out = capsys.readouterr().out
    assert "processes x2 / serial:" in out and f"{bench.thread_label()} x2 / serial:" in out
    assert "\nmethod: 4 equal tasks (a multiple of every worker count), chunksize 1;" in "\n" + out
    assert "Karp-Flatt serial fraction of processes: 2 workers " in out
    assert "no Amdahl fit: it needs 3 worker counts" in out  # 1 and 2 workers only
    assert reference.exists() and f"reference curve saved to {reference}" in out
    assert f"measured on {machine_label(book_start_method())}" in out
    assert figure.stat().st_size > 10_000 and figure.read_bytes()[:4] == b"\x89PNG"
    assert multiprocessing.active_children() == []


def test_main_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit) as info:
        bench.main(["--repeats", "0", "--no-plot"])
    assert info.value.code == 2
    assert "repeats must be from 1 to 100" in capsys.readouterr().err


def test_module_runs_from_the_command_line(tmp_path):
    """`python -m helpers.lab.bench` works with spawn, which re-imports the main module in each child."""
    done = subprocess.run(
        [sys.executable, "-m", "helpers.lab.bench", "--workload", "io", "--size", "1", "--tasks", "2",
         "--max-workers", "2", "--repeats", "1", "--start-method", "spawn", "--output", str(tmp_path / "f.png")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "processes x2 / serial:" in done.stdout and "benchmark finished" in done.stdout
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"

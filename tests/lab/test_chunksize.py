"""Tests of helpers/lab/chunksize.py: the shape of the results and argument errors, never timings."""

from __future__ import annotations

import math
import multiprocessing

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers.lab.chunksize import (  # noqa: E402
    ChunksizeResult,
    check_default_chunksize,
    default_chunksize,
    main,
    measure_chunksizes,
    plot_chunksizes,
    standard_chunksizes,
)
from helpers.lab.machine import machine_label  # noqa: E402
from helpers.pools import worker_name  # noqa: E402


pytestmark = pytest.mark.usefixtures("no_worker_left_behind")


@pytest.mark.parametrize(
    ("n_tasks", "processes", "expected"),
    [(0, 2, 0), (1, 2, 1), (8, 2, 1), (9, 2, 2), (100_000, 2, 12_500), (1_000, 3, 84), (40, 2, 5)],
)
def test_default_chunksize_is_about_four_chunks_per_worker(n_tasks, processes, expected):
    assert default_chunksize(n_tasks, processes) == expected


def test_default_chunksize_matches_what_pool_map_really_does():
    # With maxtasksperchild=1 every chunk runs in a fresh worker, so the number of
    # different worker names is the number of chunks Pool.map cut the tasks into.
    n_tasks, processes = 20, 2
    with multiprocessing.Pool(processes, maxtasksperchild=1) as pool:
        names = pool.map_async(worker_name, range(n_tasks)).get(120)
    assert len(set(names)) == math.ceil(n_tasks / default_chunksize(n_tasks, processes))


@pytest.mark.parametrize(
    ("n_tasks", "processes", "error", "message"),
    [(-1, 2, ValueError, "n_tasks must be at least 0"), (10, 0, ValueError, "processes must be at least 1"),
     (10.0, 2, TypeError, "n_tasks must be an int"), (10, True, TypeError, "processes must be an int")],
)
def test_default_chunksize_refuses_bad_arguments(n_tasks, processes, error, message):
    with pytest.raises(error, match=message):
        default_chunksize(n_tasks, processes)


def test_standard_chunksizes_go_from_1_up_to_the_task_count():
    assert standard_chunksizes(1) == [1]
    assert standard_chunksizes(100_000)[-1] == 65_536
    with pytest.raises(ValueError, match="n_tasks must be at least 1"):
        standard_chunksizes(0)


@pytest.fixture(scope="module")
def small_result() -> ChunksizeResult:
    return measure_chunksizes(200, [10, 50], processes=2, repeats=1, timeout=120)


def test_measure_chunksizes_returns_every_chunksize_the_default_and_the_loop(small_result):
    r = small_result
    assert (r.n_tasks, r.processes, r.default) == (200, 2, 25)
    assert sorted(r.seconds) == [1, 10, 50]  # 1 is always measured
    assert all(s > 0 for s in [*r.seconds.values(), r.default_seconds, r.loop_seconds])
    assert r.best_chunksize in {1, 10, 50, 25}
    assert r.best_seconds == min([*r.seconds.values(), r.default_seconds])
    assert r.best_vs_chunksize_1 == r.best_seconds / r.seconds[1] <= 1
    assert r.best_vs_loop == r.best_seconds / r.loop_seconds > 0
    assert r.per_task_us(1.0) == 5000.0


def test_best_chunksize_is_the_default_when_the_default_wins():
    r = ChunksizeResult(100, 2, 0.001, {1: 0.5, 4: 0.2}, default=13, default_seconds=0.1)
    assert (r.best_chunksize, r.best_seconds) == (13, 0.1)
    assert ChunksizeResult(100, 2, 0.001, {1: 0.5, 4: 0.05}, 13, 0.1).best_chunksize == 4


def test_table_and_summary_report_the_ratios(small_result):
    table = small_result.table()
    assert "plain loop" in table and "chunksize=1 " in table and "default=25" in table
    assert len(table.splitlines()) == 1 + 1 + 3 + 1
    summary = small_result.summary()
    assert summary.startswith(f"best chunksize {small_result.best_chunksize}:")
    assert "x the time of chunksize=1" in summary and "x the time of the plain loop" in summary


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_tasks": 0}, ValueError, "n_tasks must be at least 1"),
        ({"n_tasks": 10, "chunksizes": [0]}, ValueError, r"chunksizes\[0\] must be at least 1"),
        ({"n_tasks": 10, "chunksizes": [2.5]}, TypeError, r"chunksizes\[0\] must be an int"),
        ({"n_tasks": 10, "chunksizes": []}, ValueError, "chunksizes must not be empty"),
        ({"n_tasks": 10, "processes": 0}, ValueError, "processes must be from 1 to 256"),
        ({"n_tasks": 10, "repeats": 0}, ValueError, "repeats must be from 1 to 100"),
        ({"n_tasks": 10, "timeout": 0}, ValueError, "timeout must be"),
        ({"n_tasks": 10, "task": 3}, TypeError, "task must be a function"),
    ],
)
def test_measure_chunksizes_refuses_bad_arguments_before_starting_a_pool(kwargs, error, message):
    with pytest.raises(error, match=message):
        measure_chunksizes(**kwargs)


def test_plot_chunksizes_draws_the_sweep_the_default_and_the_loop(small_result):
    ax = plot_chunksizes(small_result)
    try:
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        assert "chunksize" in ax.get_xlabel() and "(µs)" in ax.get_ylabel()
        assert machine_label() in ax.get_title()
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == ["Pool.map_async", "default chunksize (25)", "plain loop"]
        assert list(ax.lines[0].get_xdata()) == [1, 10, 50]
    finally:
        plt.close(ax.figure)
    with pytest.raises(TypeError, match="ChunksizeResult"):
        plot_chunksizes({"1": 0.1})


def test_main_prints_both_ratios_in_one_run(capsys):
    assert main(["--tasks", "100", "--processes", "1", "--repeats", "1", "--chunksizes", "1", "10"]) == 0
    out = capsys.readouterr().out
    best, ratios = out.strip().splitlines()[-2:]
    assert best.startswith("best chunksize") and best.endswith("for 100 tasks on 1 process")
    assert "x the time of chunksize=1" in ratios and "x the time of the plain loop" in ratios


def test_main_reports_bad_arguments_as_usage_errors(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--tasks", "0"])
    assert exit_info.value.code == 2
    assert "n_tasks must be at least 1" in capsys.readouterr().err


def test_check_default_chunksize(capsys):
    assert check_default_chunksize(84) is True
    assert check_default_chunksize(83) is False
    assert check_default_chunksize("84") is False
    assert capsys.readouterr().out.count("❌") == 2


def test_python_m_helpers_lab_chunksize_runs_from_the_repository_root():
    """The command the README gives: python -m helpers.lab.chunksize."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "-m", "helpers.lab.chunksize", "--tasks", "100", "--processes", "1", "--repeats", "1",
         "--chunksizes", "1", "10"],
        cwd=root, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "x the time of the plain loop" in run.stdout

"""Tests of helpers.lab.bench_results: workloads, rows and results, from made-up seconds."""

from __future__ import annotations

import pytest

from helpers.lab.bench_results import (
    WORKLOADS,
    BenchResult,
    Row,
    SizeSweep,
    fake_result,
    get_workload,
    gil_enabled,
    make_row,
    thread_label,
    uneven_counts,
)
from helpers.workloads import count_primes, wait


def fake(serial, threads=(), processes=(), cpus=2, startup=0.1, gil=True, cores=None):
    """A BenchResult from made-up seconds: threads/processes are lists of seconds for 1, 2, ... workers."""
    return fake_result(serial, threads, processes, cpus=cpus, cores=cores, startup=startup, gil=gil)


def sweep_of(speedups):
    """A SizeSweep of sizes 10, 100, ... with the given process speedups."""
    return SizeSweep(2, tuple(fake_result(1.0, processes={2: 1.0 / s}, size=10**i, startup=0.0) for i, s in enumerate(speedups, start=1)))


def test_workloads_name_their_worker_and_task_argument():
    assert get_workload("cpu").func is count_primes
    assert get_workload("io").func is wait
    assert get_workload("io").task_arg(250) == 0.25  # milliseconds become seconds
    assert get_workload("cpu").task_arg(250) == 250
    for spec in WORKLOADS.values():
        low, high = spec.size_range
        assert low <= spec.default_size <= high
    with pytest.raises(ValueError, match="workload must be one of 'cpu', 'numpy', 'io', got 'gpu'"):
        get_workload("gpu")


def test_make_row_keeps_median_range_and_startup():
    row = make_row("processes", 2, [3.0, 1.0, 2.0], [0.2, 0.4, 0.3])
    assert (row.seconds, row.seconds_min, row.seconds_max, row.repeats, row.startup) == (2.0, 1.0, 3.0, 3, 0.3)
    assert row.total == pytest.approx(2.3)
    assert make_row("serial", 1, [1.0], []).startup == 0.0


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
    assert len(table) == 3 + 7 and table[3].split()[:2] == ["serial", "1"] and table[-1].split()[-2:] == ["2.00x", "0.50"]
    assert table[1] == "chunksize 1; measured on Python 3.x, 2 CPUs, Linux, spawn"
    assert r.headline(2).splitlines() == [
        "threads (GIL-bound) x2 / serial: 0.95x", "processes x2 / serial: 2.00x"
    ]
    assert fake(2.0, threads=[2.0, 1.0], gil=False).headline(2) == "threads (free-threaded, no GIL) x2 / serial: 2.00x"
    assert r.title.splitlines() == ["count primes (pure Python), 8 tasks of size 1,000",
                                    "measured on Python 3.x, 2 CPUs, Linux, spawn"]
    with pytest.raises(KeyError, match="no row for kind='processes', workers=9"):
        r.row("processes", 9)


def test_result_needs_a_serial_row():
    with pytest.raises(ValueError, match="serial baseline"):
        BenchResult("cpu", 1, 1, 1, (Row("threads", 1, 1.0, 1.0, 1.0, 1, 0.0),), 2, True, "spawn", "x")


def test_labels_say_whether_the_gil_was_on():
    assert thread_label(True) == "threads (GIL-bound)"
    assert thread_label(False) == "threads (free-threaded, no GIL)"
    assert thread_label() == thread_label(gil_enabled())
    assert isinstance(gil_enabled(), bool)
    assert fake(1.0, gil=True).measured_on == "measured on Python 3.x, 2 CPUs, Linux, spawn"
    assert fake(1.0, gil=False).measured_on.endswith(", free-threaded (GIL off)")


@pytest.mark.parametrize(
    ("speedups", "crossover"),
    [([0.2, 0.8, 1.3, 1.8], 1000), ([0.2, 1.1, 0.9, 1.5], 10_000), ([0.5, 0.7], None), ([1.2, 1.5], 10)],
)
def test_crossover_is_where_processes_start_winning_for_good(speedups, crossover):
    assert sweep_of(speedups).crossover() == crossover


def test_size_sweep_table():
    sweep = sweep_of([0.5, 2.0])
    lines = sweep.table().splitlines()
    assert len(lines) == 5 and lines[1].startswith("measured on Python 3.x")
    assert lines[-1].split()[0] == "100" and lines[-1].endswith("2.00x")
    assert SizeSweep(2, ()).table() == "(no sizes measured)"


def test_speedups_pair_each_round_with_its_own_serial_time():
    """A slow round slows serial and the pool alike: the median of the rounds' ratios sees through it."""
    serial = make_row("serial", 1, [1.0, 2.0, 1.0], [])
    pool = make_row("processes", 2, [0.5, 1.0, 0.5], [0.1, 0.1, 0.1])
    r = BenchResult("cpu", 1000, 12, 1, (serial, pool), 2, True, "spawn", "x")
    assert r.round_speedups("processes", 2) == [2.0, 2.0, 2.0]
    assert r.speedup("processes", 2) == 2.0
    assert r.headline(2) == "processes x2 / serial: 2.00x (rounds: 2.00x to 2.00x)"
    assert r.speedup("processes", 2, include_startup=True) == pytest.approx(1.0 / 0.6)  # medians, start-up added


def test_method_line_says_how_the_numbers_were_made_and_names_uneven_counts():
    even = fake(2.0, processes=[2.0, 1.0])  # 8 tasks: 1 and 2 workers divide them
    assert even.method().startswith("method: 8 equal tasks (a multiple of every worker count), chunksize 1;")
    assert "shuffled order, 1 round;" in even.method() and "median over rounds" in even.method()
    uneven = fake(2.0, processes=[2.0, 1.0, 0.7])  # 3 workers leave a partial last round
    assert "not a multiple of [3] workers, whose last round is partial" in uneven.method()
    assert uneven_counts(12, range(1, 9)) == [5, 7, 8]


def test_cores_and_load_appear_where_known():
    r = fake(1.0, processes=[1.0], cpus=8, cores=4)
    assert r.compute_cores == 4 and fake(1.0, cpus=2, cores=32).compute_cores == 2 and fake(1.0).compute_cores == 2
    loaded = BenchResult("cpu", 10, 8, 1, r.rows, 2, True, "spawn", "x", load=1.5)
    assert loaded.measured_on == "measured on x, load 1.50 before"
    assert "load" not in r.measured_on
    mine = BenchResult("my_task.collatz", None, 8, 1, r.rows, 2, True, "spawn", "x")
    assert mine.label == "my_task.collatz" and mine.what == "my_task.collatz, 8 tasks"

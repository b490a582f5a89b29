"""Tests of helpers/pools.py. Pools start with the book's start method (spawn by default),
so every test that uses one proves the workers are importable by a fresh child."""

from __future__ import annotations

import multiprocessing
import signal
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers import pools  # noqa: E402
from helpers.pools import (  # noqa: E402
    INPUTS_TO_INVERT,
    check_cubes,
    check_failing_inputs,
    check_fresh_workers,
    check_io_pool,
    check_no_workers_left,
    check_squares_of,
    current_worker,
    exit_abruptly,
    interrupt_after,
    invert,
    load_table,
    look_up,
    number_lanes,
    plot_arrivals,
    record_arrivals,
    sleep_and_report,
    sleep_for,
    square,
    worker_name,
)
from helpers.timeline import Span  # noqa: E402

TIMEOUT = 60  # generous: the machine may be loaded; a hang still fails in a minute


@pytest.fixture(autouse=True)
def no_worker_left_behind():
    yield
    assert multiprocessing.active_children() == []


def test_the_seed_example_squares_in_order():
    with multiprocessing.Pool(processes=3) as pool:
        assert pool.map_async(square, range(1, 6)).get(TIMEOUT) == [1, 4, 9, 16, 25]


def test_invert_raises_in_the_worker_and_the_error_reaches_the_parent():
    errors = []
    with multiprocessing.Pool(processes=1) as pool:
        ok = pool.apply_async(invert, (4,))
        bad = pool.apply_async(invert, (0,), error_callback=errors.append)
        assert ok.get(TIMEOUT) == 0.25
        with pytest.raises(ZeroDivisionError):
            bad.get(TIMEOUT)
    assert len(errors) == 1 and isinstance(errors[0], ZeroDivisionError)


def test_a_worker_that_exits_breaks_a_process_pool_executor_quickly():
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=1) as executor:
        with pytest.raises(BrokenProcessPool):
            executor.submit(exit_abruptly, 3).result(timeout=TIMEOUT)
    assert time.perf_counter() - start < TIMEOUT


@pytest.mark.parametrize("code", [-1, 256, 1.0, True, "1"])
def test_exit_abruptly_refuses_bad_codes_without_exiting(code):
    with pytest.raises(ValueError, match="code must be an int from 0 to 255"):
        exit_abruptly(code)


def test_sleep_and_report_returns_a_span_named_after_the_thread_or_process():
    span = sleep_and_report(("A", 0.01))
    assert span.label == "A" and span.lane == "MainProcess" and span.duration >= 0.01
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="io") as executor:
        threaded = executor.submit(sleep_and_report, ("B", 0)).result(timeout=TIMEOUT)
    assert threaded.lane.startswith("io")
    with multiprocessing.Pool(processes=1) as pool:
        remote = pool.apply_async(sleep_and_report, (("C", 0),)).get(TIMEOUT)
    assert "PoolWorker" in remote.lane  # SpawnPoolWorker-1, ForkServerPoolWorker-1, ...


@pytest.mark.parametrize(
    ("task", "error", "message"),
    [
        ("A", TypeError, "task must be a \\(label, seconds\\) pair"),
        (("A", -1), ValueError, "from 0 to 60"),
        (("A", 61), ValueError, "from 0 to 60"),
        (("A", "1"), TypeError, "number of seconds"),
        (("A", True), TypeError, "number of seconds"),
    ],
)
def test_sleep_and_report_refuses_bad_tasks(task, error, message):
    with pytest.raises(error, match=message):
        sleep_and_report(task)


@pytest.mark.parametrize(("seconds", "error"), [(-0.1, ValueError), (float("nan"), ValueError), (None, TypeError)])
def test_sleep_for_refuses_bad_seconds(seconds, error):
    with pytest.raises(error, match="seconds"):
        sleep_for(seconds)


def test_current_worker_names_threads_and_processes():
    assert current_worker() == "MainProcess"
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="waiter") as executor:
        assert executor.submit(current_worker).result(timeout=TIMEOUT).startswith("waiter")


def test_initializer_runs_once_per_worker_and_maxtasksperchild_replaces_workers():
    with multiprocessing.Pool(processes=2, initializer=load_table, initargs=(10,)) as pool:
        rows = pool.map_async(look_up, range(10), chunksize=1).get(TIMEOUT)
    assert [value for value, _, _ in rows] == [n * n for n in range(10)]
    assert {setups for _, _, setups in rows} == {1}
    assert len({name for _, name, _ in rows}) <= 2

    with multiprocessing.Pool(processes=2, maxtasksperchild=1) as pool:
        names = pool.map_async(worker_name, range(4), chunksize=1).get(TIMEOUT)
    assert len(set(names)) == 4


def test_look_up_without_the_initializer_says_what_is_missing():
    pools._WORKER_STATE.clear()
    with pytest.raises(RuntimeError, match="initializer"):
        look_up(1)
    load_table(3)
    try:
        assert look_up(2)[0] == 4
        with pytest.raises(IndexError, match="n must be from 0 to 2"):
            look_up(3)
    finally:
        pools._WORKER_STATE.clear()


@pytest.mark.parametrize("size", [0, -1, 2.0, True])
def test_load_table_refuses_bad_sizes(size):
    with pytest.raises(ValueError, match="size must be an int >= 1"):
        load_table(size)


def test_record_arrivals_keeps_imap_order_and_times_each_result():
    tasks = [("A", 0.2), ("B", 0.0), ("C", 0.0)]
    with multiprocessing.Pool(processes=2) as pool:
        ordered = record_arrivals(pool.imap(sleep_and_report, tasks), len(tasks), timeout=TIMEOUT)
        unordered = record_arrivals(pool.imap_unordered(sleep_and_report, tasks), len(tasks), timeout=TIMEOUT)
    assert [span.label for span, _ in ordered] == ["A", "B", "C"]
    assert sorted(span.label for span, _ in unordered) == ["A", "B", "C"]
    a_end = ordered[0][0].end
    assert all(arrived >= a_end for _, arrived in ordered)  # imap held B and C back until A was done
    times = [arrived for _, arrived in ordered]
    assert times == sorted(times)


def test_record_arrivals_explains_that_a_chunked_imap_has_no_timeout():
    with multiprocessing.Pool(processes=1) as pool:
        with pytest.raises(TypeError, match="chunksize=1"):
            record_arrivals(pool.imap(square, range(4), chunksize=2), 4, timeout=TIMEOUT)


def test_record_arrivals_times_out_instead_of_hanging():
    with multiprocessing.Pool(processes=1) as pool:
        with pytest.raises(multiprocessing.TimeoutError):
            record_arrivals(pool.imap(sleep_for, [5]), 1, timeout=0.2)


@pytest.mark.parametrize(
    ("results", "count", "timeout", "error", "message"),
    [
        ([1, 2], 2, 1, TypeError, "Pool.imap"),
        (iter([1]), -1, 1, ValueError, "count must be"),
        (iter([1]), 1, 0, ValueError, "timeout must be"),
        (iter([1]), 1, "1", TypeError, "timeout must be"),
    ],
)
def test_record_arrivals_refuses_bad_arguments(results, count, timeout, error, message):
    with pytest.raises(error, match=message):
        record_arrivals(results, count, timeout=timeout)


def test_number_lanes_numbers_workers_by_first_start():
    nine, three = "SpawnPoolWorker-9", "SpawnPoolWorker-3"
    spans = [Span(nine, "b", 1, 2), Span(three, "a", 0, 1), Span(nine, "c", 2, 3)]
    renamed = number_lanes(spans)
    assert [s.lane for s in renamed] == ["worker 2", "worker 1", "worker 2"]
    assert [(s.label, s.start, s.end) for s in renamed] == [(s.label, s.start, s.end) for s in spans]


def test_plot_arrivals_draws_a_panel_per_run_with_a_parent_row():
    arrivals = [(Span("p1", "A", 0.0, 1.0), 1.1), (Span("p2", "B", 0.0, 0.5), 1.2)]
    fig = plot_arrivals({"imap": arrivals, "imap_unordered": arrivals}, title="demo")
    try:
        assert len(fig.axes) == 2
        for ax in fig.axes:
            labels = [t.get_text() for t in ax.get_yticklabels()]
            assert labels == ["worker 1", "worker 2", "parent gets"]
            assert len(ax.patches) == 2 and len(ax.lines) == 2  # two bars, two arrival markers
        assert [ax.get_title() for ax in fig.axes] == ["imap", "imap_unordered"]
        assert "(s)" in fig.axes[-1].get_xlabel()
    finally:
        plt.close(fig)


def test_plot_arrivals_merges_results_that_arrive_together():
    arrivals = [
        (Span("p1", "A", 0.0, 1.0), 1.0),
        (Span("p2", "B", 0.0, 0.2), 1.001),
        (Span("p2", "C", 0.2, 0.4), 1.002),
    ]
    fig = plot_arrivals({"imap": arrivals})
    try:
        (ax,) = fig.axes
        assert len(ax.lines) == 1
        assert [t.get_text() for t in ax.texts if "," in t.get_text()] == ["A,B,C"]
    finally:
        plt.close(fig)


@pytest.mark.parametrize(("runs", "error"), [({}, ValueError), ([], ValueError), ({"x": [(1, 2)]}, TypeError)])
def test_plot_arrivals_refuses_bad_runs(runs, error):
    with pytest.raises(error, match="runs"):
        plot_arrivals(runs)


def test_interrupt_after_interrupts_a_waiting_get_and_the_pool_is_cleaned_up():
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        with multiprocessing.Pool(processes=1) as pool:
            with interrupt_after(0.3):
                pool.apply_async(sleep_for, (30,)).get(TIMEOUT)
    assert time.perf_counter() - start < 20
    assert multiprocessing.active_children() == []


def test_interrupt_after_is_cancelled_when_the_block_ends_first():
    with interrupt_after(0.2):
        pass
    time.sleep(0.4)  # a KeyboardInterrupt here would fail the test


def test_interrupt_after_refuses_a_replaced_sigint_handler():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with pytest.raises(RuntimeError, match="SIGINT"):
            with interrupt_after(0.1):
                pass
    finally:
        signal.signal(signal.SIGINT, previous)


def test_exercise_checks_accept_right_answers_and_refuse_wrong_ones(capsys):
    assert check_cubes([n**3 for n in range(1, 11)])
    assert not check_cubes([n**3 for n in range(10, 0, -1)])
    assert not check_cubes((1, 8))
    assert check_squares_of([4, 1, 9], 3)
    assert not check_squares_of([1, 4], 3)
    assert check_fresh_workers(["a", "b", "c", "d"])
    assert not check_fresh_workers(["a", "a", "b", "c"])
    assert not check_fresh_workers(["a", "b"])
    assert check_failing_inputs([x for x in INPUTS_TO_INVERT if x == 0])
    assert not check_failing_inputs([0])
    assert not check_failing_inputs(None)
    assert check_no_workers_left()
    spans = [Span(f"t{i}", "w", 0.0, 0.1) for i in range(10)]
    assert check_io_pool(spans, 0.15)
    assert not check_io_pool(spans, 1.0)
    assert not check_io_pool([], 0.1)
    out = capsys.readouterr().out
    assert out.count("✅") == 6 and out.count("❌") == 9
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        check_squares_of([], 0)


def test_check_no_workers_left_sees_a_running_pool(capsys):
    pool = multiprocessing.Pool(processes=1)
    try:
        assert check_no_workers_left() is False
    finally:
        pool.terminate()
        pool.join()
    assert "still running" in capsys.readouterr().out

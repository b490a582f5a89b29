"""Tests of helpers/sync.py. Processes start with the book's start method (spawn by default,
set in tests/conftest.py), which proves every worker is importable by a fresh child."""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers import sync  # noqa: E402
from helpers.timeline import Span  # noqa: E402


def start_all(target, arg_tuples):
    processes = [
        multiprocessing.Process(target=target, args=args, name=f"worker-{i}") for i, args in enumerate(arg_tuples, 1)
    ]
    for process in processes:
        process.start()
    return processes


# --- arguments and plumbing ------------------------------------------------


@pytest.mark.parametrize(
    ("value", "error"), [(0, ValueError), (-3, ValueError), (2.0, TypeError), (True, TypeError), ("4", TypeError)]
)
def test_int_arguments_are_checked_with_a_clear_message(value, error):
    with pytest.raises(error, match="increments must be an int >= 1"):
        sync._check_int("increments", value)


@pytest.mark.parametrize(("value", "error"), [(0, ValueError), (-1.0, ValueError), (601, ValueError), ("1", TypeError)])
def test_seconds_arguments_are_checked(value, error):
    with pytest.raises(error, match="timeout must be"):
        sync._check_seconds("timeout", value)


def test_collect_returns_items_and_times_out_quickly():
    q = multiprocessing.Queue()
    for item in ("a", "b"):
        q.put(item)
    assert sync.collect(q, 2, timeout=5) == ["a", "b"]
    began = time.monotonic()
    with pytest.raises(TimeoutError, match="only 0 of 1 results arrived"):
        sync.collect(q, 1, timeout=0.3)
    assert time.monotonic() - began < 3


def test_join_all_returns_exit_codes():
    processes = start_all(time.sleep, [(0.01,), (0.02,)])
    assert sync.join_all(processes, timeout=30) == [0, 0]


def test_join_all_terminates_a_stuck_process_instead_of_hanging():
    processes = start_all(time.sleep, [(60,)])
    began = time.monotonic()
    with pytest.raises(TimeoutError, match="still running after 0.5 s, so terminated: worker-1"):
        sync.join_all(processes, timeout=0.5)
    assert time.monotonic() - began < 10
    assert not processes[0].is_alive()


def test_timeout_error_reaches_the_parent_intact():
    error = TimeoutError("worker-1 waited 1 s for the semaphore")
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


# --- 1. the race and its fixes --------------------------------------------


def test_unlocked_increments_lose_updates():
    workers, increments = 4, 50_000
    counter = multiprocessing.Value("i", 0)
    start = multiprocessing.Barrier(workers)
    processes = start_all(sync.add_unlocked, [(counter, increments, start)] * workers)
    assert sync.join_all(processes, timeout=60) == [0] * workers
    assert 0 < counter.value < workers * increments


# Enough increments that the unlocked version would lose some, so these tests can fail.


def test_value_lock_makes_the_total_exact():
    counter = multiprocessing.Value("i", 0)
    start = multiprocessing.Barrier(4)
    processes = start_all(sync.add_with_value_lock, [(counter, 20_000, start)] * 4)
    assert sync.join_all(processes, timeout=60) == [0] * 4
    assert counter.value == 80_000


def test_a_shared_lock_makes_the_total_exact_on_a_raw_value():
    counter = multiprocessing.Value("i", 0, lock=False)
    lock = multiprocessing.Lock()
    start = multiprocessing.Barrier(4)
    processes = start_all(sync.add_with_lock, [(lock, counter, 20_000, start)] * 4)
    assert sync.join_all(processes, timeout=60) == [0] * 4
    assert counter.value == 80_000


def test_value_lock_needs_a_synchronized_value():
    with pytest.raises(TypeError, match="no lock of its own"):
        sync.add_with_value_lock(multiprocessing.Value("i", 0, lock=False), 1)


def test_increments_must_be_a_count():
    with pytest.raises(ValueError, match="increments must be an int >= 0"):
        sync.add_unlocked(multiprocessing.Value("i", 0), -1)


def test_check_counter(capsys):
    assert sync.check_counter(20_000, workers=4, increments=5_000) is True
    assert sync.check_counter(19_000, workers=4, increments=5_000) is False
    assert sync.check_counter(21_000, workers=4, increments=5_000) is False
    assert sync.check_counter("20000", workers=4, increments=5_000) is False
    out = capsys.readouterr().out
    assert out.count("✅") == 1 and out.count("❌") == 3
    assert "1,000 of 20,000 updates were lost" in out


# --- 2. what locking costs -------------------------------------------------


def test_measure_locking_cost_returns_one_time_per_size_and_strategy():
    result = sync.measure_locking_cost(sizes=(100, 300), workers=2, repeats=1)
    assert result["sizes"] == [100, 300] and result["workers"] == 2
    for strategy in sync.STRATEGIES:
        assert len(result[strategy]) == 2 and all(t > 0 for t in result[strategy])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"sizes": ()}, ValueError, "sizes must not be empty"),
        ({"sizes": (0,)}, ValueError, "sizes"),
        ({"workers": 0}, ValueError, "workers must be an int between 1 and 64"),
        ({"repeats": 1.5}, TypeError, "repeats must be an int"),
    ],
)
def test_measure_locking_cost_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        sync.measure_locking_cost(**kwargs)


def test_timed_strategy_needs_the_initializer_and_a_known_strategy():
    with pytest.raises(ValueError, match="strategy must be one of"):
        sync.timed_strategy("no lock", 10)
    sync._shared.clear()
    with pytest.raises(RuntimeError, match="initializer=install_shared"):
        sync.timed_strategy(sync.STRATEGIES[0], 10)


def test_plot_locking_cost_draws_both_strategies_and_names_the_machine():
    result = {"sizes": [10, 100], "workers": 2, sync.STRATEGIES[0]: [0.01, 0.1], sync.STRATEGIES[1]: [0.001, 0.002]}
    ax = sync.plot_locking_cost(result)
    try:
        assert len(ax.lines) == 2
        assert [t.get_text() for t in ax.get_legend().get_texts()] == list(sync.STRATEGIES)
        assert "Python" in ax.get_title() and "CPU" in ax.get_title()
        assert "(s)" in ax.get_ylabel()
    finally:
        plt.close(ax.figure)
    with pytest.raises(ValueError, match="measure_locking_cost"):
        sync.plot_locking_cost({"sizes": [1]})


def test_check_lock_acquisitions(capsys):
    right = {sync.STRATEGIES[0]: 40_000, sync.STRATEGIES[1]: 4}
    assert sync.check_lock_acquisitions(right) is True
    assert sync.check_lock_acquisitions({sync.STRATEGIES[0]: 10_000, sync.STRATEGIES[1]: 4}) is False
    assert sync.check_lock_acquisitions({sync.STRATEGIES[0]: 40_000, sync.STRATEGIES[1]: 1}) is False
    assert sync.check_lock_acquisitions([40_000, 4]) is False
    assert capsys.readouterr().out.count("❌") == 3


# --- 3. RLock, Semaphore, Event, Condition, Barrier -----------------------


def test_add_twice_reenters_an_rlock_and_gives_up_on_a_lock():
    counter = multiprocessing.Value("i", 0, lock=False)
    assert sync.add_twice(counter, multiprocessing.RLock(), timeout=0.1) is True
    assert counter.value == 2
    began = time.monotonic()
    assert sync.add_twice(counter, multiprocessing.Lock(), timeout=0.2) is False
    assert time.monotonic() - began < 5
    assert counter.value == 2


def test_add_twice_in_child_processes():
    counters = [multiprocessing.Value("i", 0, lock=False) for _ in range(2)]
    # keep the locks referenced until the children have joined: a lock the parent
    # garbage-collects before a spawned child unpickles it is gone (FileNotFoundError)
    rlock, lock = multiprocessing.RLock(), multiprocessing.Lock()
    processes = start_all(sync.add_twice, [(counters[0], rlock, 0.2), (counters[1], lock, 0.2)])
    assert sync.join_all(processes, timeout=30) == [0, 0]
    assert [c.value for c in counters] == [2, 0]


@pytest.mark.parametrize("k", [1, 2])
def test_semaphore_limits_holders(k):
    workers = 4
    semaphore = multiprocessing.Semaphore(k)
    results = multiprocessing.Queue()
    processes = start_all(sync.use_resource, [(semaphore, f"w{i}", 0.15, results) for i in range(workers)])
    spans = sync.collect(results, 2 * workers, timeout=30)
    assert sync.join_all(processes, timeout=30) == [0] * workers
    assert {s.label for s in spans} == {"waiting", "using"}
    assert 1 <= sync.holders_at_once(spans) <= k
    assert sync.check_semaphore_spans(spans, k=k, workers=workers)


def test_use_resource_times_out_on_a_taken_semaphore():
    semaphore = multiprocessing.Semaphore(0)
    with pytest.raises(TimeoutError, match="w1 waited 0.2 s for the semaphore"):
        sync.use_resource(semaphore, "w1", 0.1, queue.Queue(), timeout=0.2)


def test_holders_at_once_needs_using_spans():
    with pytest.raises(ValueError, match='no "using" span'):
        sync.holders_at_once([Span("a", "waiting", 0, 1)])


def test_check_semaphore_spans(capsys):
    two = [Span("a", "using", 0, 2), Span("b", "using", 1, 3), Span("c", "using", 3, 4)]
    assert sync.check_semaphore_spans(two, k=2, workers=3) is True
    assert sync.check_semaphore_spans(two, k=1, workers=3) is False
    assert sync.check_semaphore_spans(two, k=2, workers=4) is False
    assert sync.check_semaphore_spans("spans", k=2, workers=3) is False
    assert capsys.readouterr().out.count("❌") == 3


def test_events_start_and_stop_workers():
    start, stop = multiprocessing.Event(), multiprocessing.Event()
    results = multiprocessing.Queue()
    processes = start_all(sync.work_until_stopped, [(start, stop, f"w{i}", results, 30.0) for i in range(2)])
    time.sleep(0.2)
    started_at = sync.now()
    start.set()
    time.sleep(0.2)
    stopped_at = sync.now()
    stop.set()
    items = sync.collect(results, 6, timeout=30)
    assert sync.join_all(processes, timeout=30) == [0, 0]
    working = [s for s in items if isinstance(s, Span) and s.label == "working"]
    steps = [s for s in items if isinstance(s, tuple)]
    assert len(working) == 2 and all(started_at <= s.start and s.end >= stopped_at for s in working)
    assert all(s.end - stopped_at < 10 for s in working)  # stopped by the flag, not by the 30 s timeout
    assert len(steps) == 2 and all(n > 0 for _, n in steps)


def test_work_until_stopped_gives_up_without_a_start_signal():
    with pytest.raises(TimeoutError, match="start signal"):
        sync.work_until_stopped(threading.Event(), threading.Event(), "w1", queue.Queue(), timeout=0.1)


def test_condition_wakes_each_waiter_when_its_level_is_reached():
    condition = multiprocessing.Condition()
    level = multiprocessing.Value("i", 0, lock=False)
    results = multiprocessing.Queue()
    processes = start_all(sync.wait_for_level, [(condition, level, n, f"r{n}", results) for n in (1, 2, 3)])
    time.sleep(1.0)  # let the waiters start and wait, so that the test can fail
    for value in (1, 2, 3):
        time.sleep(0.05)
        with condition:
            level.value = value
            condition.notify_all()
    reports = sorted(sync.collect(results, 3, timeout=30), key=lambda r: r[1])
    assert sync.join_all(processes, timeout=30) == [0, 0, 0]
    assert [(name, needed) for name, needed, _ in reports] == [("r1", 1), ("r2", 2), ("r3", 3)]
    assert all(seen is not None and seen >= needed for _, needed, seen in reports)


def test_wait_for_level_reports_none_after_its_timeout():
    results = queue.Queue()
    sync.wait_for_level(threading.Condition(), multiprocessing.Value("i", 0, lock=False), 5, "r", results, timeout=0.1)
    assert results.get_nowait() == ("r", 5, None)


def test_barrier_keeps_phases_in_order():
    workers = 3
    barrier = multiprocessing.Barrier(workers)
    results = multiprocessing.Queue()
    durations = [[0.02 * (i + 1), 0.02] for i in range(workers)]
    processes = start_all(sync.phased_work, [(barrier, f"w{i}", durations[i], results) for i in range(workers)])
    spans = sync.collect(results, 4 * workers, timeout=30)
    assert sync.join_all(processes, timeout=30) == [0] * workers
    assert sorted({s.label for s in spans}) == ["phase 1", "phase 2", "wait"]
    assert sync.phases_in_order(spans)


def test_phased_work_needs_durations():
    with pytest.raises(ValueError, match="durations must not be empty"):
        sync.phased_work(None, "w", [], queue.Queue())


# --- 4. deadlock -------------------------------------------------------------


def test_opposite_lock_orders_are_detected_within_the_timeout():
    a, b = multiprocessing.Lock(), multiprocessing.Lock()
    hold = multiprocessing.Barrier(2)
    results = multiprocessing.Queue()
    began = time.monotonic()
    processes = start_all(sync.take_two_locks, [(a, b, "w1", results, hold, 0.5), (b, a, "w2", results, hold, 0.5)])
    reports = sync.collect(results, 2, timeout=30)
    assert sync.join_all(processes, timeout=30) == [0, 0]
    assert time.monotonic() - began < 20
    assert [r.got_both for r in reports] == [False, False]
    assert all(r.seconds >= 0.45 for r in reports)


def test_one_lock_order_never_deadlocks():
    a, b = multiprocessing.Lock(), multiprocessing.Lock()
    results = multiprocessing.Queue()
    processes = start_all(sync.take_two_locks, [(a, b, f"w{i}", results) for i in range(3)])
    reports = sync.collect(results, 3, timeout=30)
    assert sync.join_all(processes, timeout=30) == [0, 0, 0]
    assert all(r.got_both for r in reports)


def test_take_two_locks_gives_up_on_a_taken_first_lock():
    a = multiprocessing.Lock()
    a.acquire()
    results = queue.Queue()
    sync.take_two_locks(a, multiprocessing.Lock(), "w", results, timeout=0.1)
    assert results.get_nowait().got_both is False


def test_check_lock_order(capsys):
    ok = [sync.LockReport(f"w{i}", True, 0.0) for i in (1, 2, 3)]
    assert sync.check_lock_order([(0, 1), (1, 2), (0, 2)], ok) is True
    assert sync.check_lock_order([(0, 1), (1, 2), (2, 0)], ok) is False  # the cycle
    assert sync.check_lock_order([(0, 1), (0, 1), (0, 1)], ok) is False  # not the locks they need
    stuck = [*ok[:2], sync.LockReport("w3", False, 1.0)]
    assert sync.check_lock_order([(0, 1), (1, 2), (0, 2)], stuck) is False
    assert sync.check_lock_order([(0, 1), (1, 2)], ok) is False
    assert sync.check_lock_order("pairs", ok) is False
    assert sync.check_lock_order([(0, 1)], ok[:1], needs=[(1, 0)]) is True
    out = capsys.readouterr().out
    assert out.count("❌") == 5 and "(2, 0) takes the higher-numbered" in out and "w3 gave up" in out
    assert "needs[i]" in out


# --- 5. pool workers ---------------------------------------------------------


def test_a_lock_in_a_pool_task_fails_with_the_documented_error():
    lock = multiprocessing.Lock()
    counter = multiprocessing.Value("i", 0, lock=False)
    with multiprocessing.Pool(1) as pool:
        message = "Lock objects should only be shared between processes through inheritance"
        with pytest.raises(RuntimeError, match=message):
            pool.map_async(partial(sync.add_with_lock_task, lock, counter), [1]).get(30)


def test_pool_initializer_shares_the_lock():
    lock = multiprocessing.Lock()
    counter = multiprocessing.Value("i", 0, lock=False)
    with multiprocessing.Pool(2, initializer=sync.install_shared, initargs=(lock, counter)) as pool:
        done = pool.map_async(sync.add_with_installed_lock, [500] * 4).get(60)
    assert done == [500] * 4 and counter.value == 2_000


def test_executor_initializer_shares_the_lock():
    lock = multiprocessing.Lock()
    counter = multiprocessing.Value("i", 0, lock=False)
    with ProcessPoolExecutor(2, initializer=sync.install_shared, initargs=(lock, counter)) as executor:
        assert list(executor.map(sync.add_with_installed_lock, [300] * 3, timeout=60)) == [300] * 3
    assert counter.value == 900


def test_pool_task_without_initializer_says_what_is_missing():
    with multiprocessing.Pool(1) as pool:
        with pytest.raises(RuntimeError, match="initializer=install_shared"):
            pool.apply_async(sync.add_with_installed_lock, (1,)).get(30)


def test_manager_lock_and_value_travel_in_pool_tasks():
    with multiprocessing.Manager() as manager:
        lock, counter = manager.Lock(), manager.Value("i", 0)
        with multiprocessing.Pool(2) as pool:
            done = pool.map_async(partial(sync.add_with_lock_task, lock, counter), [50] * 4).get(60)
        assert done == [50] * 4 and counter.value == 200

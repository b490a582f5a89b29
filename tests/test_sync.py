"""Tests of helpers/sync.py, the workers of chapters 07 and 08. Processes start with the
book's start method (spawn by default, set in tests/conftest.py), which proves every
worker is importable by a fresh child."""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import pytest

from helpers import sync
from helpers.lab.results import collect
from helpers.lab.sync import holders_at_once, join_all, phases_in_order
from helpers.lab.timeline import Span, now
from tests.support import start_all


def test_reports_reach_the_parent_intact():
    for report in (sync.LockReport("w1", False, 1.0), TimeoutError("w1 waited 1 s for the semaphore")):
        assert str(pickle.loads(pickle.dumps(report))) == str(report)


# --- chapter 07: the race and its fixes --------------------------------------------------


def test_unlocked_increments_may_lose_updates_but_never_add_any():
    workers, increments = 4, 50_000
    counter = multiprocessing.Value("i", 0)
    start = multiprocessing.Barrier(workers)
    processes = start_all(sync.add_unlocked, [(counter, increments, start)] * workers)
    assert join_all(processes, timeout=60) == [0] * workers
    # Lost updates are likely here, never certain: a scheduler may happen to run the workers
    # one after the other. What always holds: each write is 1 more than a value read earlier,
    # so the count is at least 1 and never more than the increments made.
    assert 1 <= counter.value <= workers * increments


def test_count_locally_returns_its_count():
    assert sync.count_locally(1_000) == 1_000 and sync.count_locally(0) == 0


def test_add_to_raw_value_bypasses_the_values_lock():
    counter = multiprocessing.Value("q", 0)
    assert counter.get_lock().acquire(timeout=1)  # held: a locked increment would have to wait
    try:
        worker = threading.Thread(target=sync.add_to_raw_value, args=(counter, 1_000))
        worker.start()
        worker.join(timeout=10)
        assert not worker.is_alive() and counter.get_obj().value == 1_000
    finally:
        counter.get_lock().release()


# Enough increments that the unlocked version would lose some, so these tests can fail.


def test_value_lock_makes_the_total_exact():
    counter = multiprocessing.Value("i", 0)
    start = multiprocessing.Barrier(4)
    processes = start_all(sync.add_with_value_lock, [(counter, 20_000, start)] * 4)
    assert join_all(processes, timeout=60) == [0] * 4
    assert counter.value == 80_000


@pytest.mark.parametrize("worker", [sync.add_with_lock, sync.add_locally_then_lock])
def test_a_shared_lock_makes_the_total_exact_on_a_raw_value(worker):
    counter = multiprocessing.Value("i", 0, lock=False)
    lock = multiprocessing.Lock()
    start = multiprocessing.Barrier(4)
    processes = start_all(worker, [(lock, counter, 20_000, start)] * 4)
    assert join_all(processes, timeout=60) == [0] * 4
    assert counter.value == 80_000


def test_add_locally_then_lock_takes_the_lock_once():
    lock = multiprocessing.Lock()
    counter = multiprocessing.Value("i", 0, lock=False)
    lock.acquire()  # held by "another process": the worker can count, but not publish
    worker = threading.Thread(target=sync.add_locally_then_lock, args=(lock, counter, 1_000))
    worker.start()
    time.sleep(0.2)
    assert counter.value == 0
    lock.release()
    worker.join(timeout=10)
    assert counter.value == 1_000


# --- chapter 07: RLock, deadlock ---------------------------------------------------------


def test_add_twice_reenters_an_rlock_and_gives_up_on_a_lock():
    counter = multiprocessing.Value("i", 0, lock=False)
    assert sync.add_twice(counter, multiprocessing.RLock(), timeout=0.1) is True
    assert counter.value == 2
    began = time.monotonic()
    assert sync.add_twice(counter, multiprocessing.Lock(), timeout=0.2) is False
    assert time.monotonic() - began < 5
    assert counter.value == 2


def test_add_one_gives_up_on_a_taken_lock():
    lock = multiprocessing.Lock()
    counter = multiprocessing.Value("i", 0, lock=False)
    assert sync.add_one(counter, lock, 0.1) is True
    lock.acquire()
    assert sync.add_one(counter, lock, 0.1) is False
    assert counter.value == 1


def test_add_twice_in_child_processes():
    counters = [multiprocessing.Value("i", 0, lock=False) for _ in range(2)]
    # keep the locks referenced until the children have joined: a lock the parent
    # garbage-collects before a spawned child unpickles it is gone (FileNotFoundError)
    rlock, lock = multiprocessing.RLock(), multiprocessing.Lock()
    processes = start_all(sync.add_twice, [(counters[0], rlock, 0.2), (counters[1], lock, 0.2)])
    assert join_all(processes, timeout=30) == [0, 0]
    assert [c.value for c in counters] == [2, 0]


def test_opposite_lock_orders_are_detected_within_the_timeout():
    a, b = multiprocessing.Lock(), multiprocessing.Lock()
    hold = multiprocessing.Barrier(2)
    results = multiprocessing.Queue()
    began = time.monotonic()
    processes = start_all(sync.take_two_locks, [(a, b, "w1", results, hold, 0.5), (b, a, "w2", results, hold, 0.5)])
    reports = collect(results, 2, timeout=30)
    assert join_all(processes, timeout=30) == [0, 0]
    assert time.monotonic() - began < 20
    assert [r.got_both for r in reports] == [False, False]
    assert all(r.seconds >= 0.45 for r in reports)


def test_one_lock_order_never_deadlocks():
    a, b = multiprocessing.Lock(), multiprocessing.Lock()
    results = multiprocessing.Queue()
    processes = start_all(sync.take_two_locks, [(a, b, f"w{i}", results) for i in range(3)])
    reports = collect(results, 3, timeout=30)
    assert join_all(processes, timeout=30) == [0, 0, 0]
    assert all(r.got_both for r in reports)


def test_take_two_locks_gives_up_on_a_taken_first_lock():
    a = multiprocessing.Lock()
    a.acquire()
    results = queue.Queue()
    sync.take_two_locks(a, multiprocessing.Lock(), "w", results, timeout=0.1)
    assert results.get_nowait().got_both is False


# --- chapter 07: locks for pool workers --------------------------------------------------


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


def test_pool_task_without_initializer_fails_instead_of_counting():
    with multiprocessing.Pool(1) as pool:
        # `with None:` raises TypeError ('NoneType' object does not support the context manager
        # protocol) from 3.11, AttributeError (__enter__) on 3.10
        with pytest.raises((TypeError, AttributeError), match="NoneType|__enter__"):
            pool.apply_async(sync.add_with_installed_lock, (1,)).get(30)


def test_manager_lock_and_value_travel_in_pool_tasks():
    with multiprocessing.Manager() as manager:
        lock, counter = manager.Lock(), manager.Value("i", 0)
        with multiprocessing.Pool(2) as pool:
            done = pool.map_async(partial(sync.add_with_lock_task, lock, counter), [50] * 4).get(60)
        assert done == [50] * 4 and counter.value == 200


# --- chapter 08: Semaphore, Event, Condition, Barrier ------------------------------------


@pytest.mark.parametrize("k", [1, 2])
def test_semaphore_limits_holders(k):
    workers = 4
    semaphore = multiprocessing.Semaphore(k)
    results = multiprocessing.Queue()
    processes = start_all(sync.use_resource, [(semaphore, f"w{i}", 0.15, results) for i in range(workers)])
    spans = collect(results, 2 * workers, timeout=30)
    assert join_all(processes, timeout=30) == [0] * workers
    assert {s.label for s in spans} == {"waiting", "using"}
    assert {s.lane for s in spans} == {f"w{i}" for i in range(workers)}
    assert 1 <= holders_at_once(spans) <= k


def test_use_resource_asks_only_when_every_worker_is_ready():
    workers = 3
    semaphore, ready = multiprocessing.Semaphore(1), multiprocessing.Barrier(workers)
    results = multiprocessing.Queue()
    args = [(semaphore, f"w{i}", 0.05, results, 30.0, ready) for i in range(workers)]
    processes = start_all(sync.use_resource, args[:-1])
    time.sleep(0.5)  # the last worker starts late
    late = now()
    processes += start_all(sync.use_resource, args[-1:])
    spans = collect(results, 2 * workers, timeout=30)
    assert join_all(processes, timeout=30) == [0] * workers
    waiting = [s for s in spans if s.label == "waiting"]
    assert len(waiting) == workers and all(s.start >= late for s in waiting)  # nobody asked before the last came


def test_use_resource_gives_up_when_the_others_never_get_ready():
    with pytest.raises(threading.BrokenBarrierError):
        sync.use_resource(threading.Semaphore(1), "w1", 0.01, queue.Queue(), timeout=0.2, ready=threading.Barrier(2))


def test_use_resource_times_out_on_a_taken_semaphore():
    semaphore = multiprocessing.Semaphore(0)
    with pytest.raises(TimeoutError, match="w1 waited 0.2 s for the semaphore"):
        sync.use_resource(semaphore, "w1", 0.1, queue.Queue(), timeout=0.2)


def test_events_start_and_stop_workers():
    start, stop = multiprocessing.Event(), multiprocessing.Event()
    results = multiprocessing.Queue()
    processes = start_all(sync.work_until_stopped, [(start, stop, f"w{i}", results, 30.0) for i in range(2)])
    time.sleep(0.2)
    started_at = now()
    start.set()
    time.sleep(0.2)
    stopped_at = now()
    stop.set()
    items = collect(results, 6, timeout=30)
    assert join_all(processes, timeout=30) == [0, 0]
    working = [s for s in items if isinstance(s, Span) and s.label == "working"]
    steps = [s for s in items if isinstance(s, tuple)]
    assert len(working) == 2 and all(started_at <= s.start and s.end >= stopped_at for s in working)
    assert all(s.end - stopped_at < 10 for s in working)  # stopped by the flag, not by the 30 s timeout
    assert len(steps) == 2 and all(n > 0 for _, n in steps)


def test_work_until_stopped_waits_from_when_the_parent_knows_it_is_ready():
    start, stop = multiprocessing.Event(), multiprocessing.Event()
    ready = multiprocessing.Barrier(3)  # two workers and this process
    results = multiprocessing.Queue()
    processes = start_all(sync.work_until_stopped, [(start, stop, f"w{i}", results, 30.0, ready) for i in range(2)])
    ready.wait(timeout=30)
    passed = now()
    time.sleep(0.3)
    start.set()
    time.sleep(0.1)
    stop.set()
    items = collect(results, 6, timeout=30)
    assert join_all(processes, timeout=30) == [0, 0]
    waiting = [s for s in items if isinstance(s, Span) and s.label == "waiting"]
    # Each worker's wait begins once the barrier lets everyone go, which is when this process passes it too.
    assert len(waiting) == 2 and all(s.start > passed - 0.25 and s.end > passed + 0.25 for s in waiting)


def test_work_until_stopped_does_one_step_even_if_stopped_already():
    start, stop, results = threading.Event(), threading.Event(), queue.Queue()
    start.set()
    stop.set()
    sync.work_until_stopped(start, stop, "w", results, timeout=5)
    assert [results.get_nowait() for _ in range(3)][2] == ("w", 1)


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
    reports = sorted(collect(results, 3, timeout=30), key=lambda r: r[1])
    assert join_all(processes, timeout=30) == [0, 0, 0]
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
    spans = collect(results, 4 * workers, timeout=30)
    assert join_all(processes, timeout=30) == [0] * workers
    assert sorted({s.label for s in spans}) == ["phase 1", "phase 2", "wait"]
    assert phases_in_order(spans)


def test_phased_work_begins_phase_one_together():
    barrier = multiprocessing.Barrier(2)
    results = multiprocessing.Queue()
    processes = start_all(sync.phased_work, [(barrier, "w0", [0.05], results)])
    time.sleep(0.5)  # the second worker starts late
    late = now()
    processes += start_all(sync.phased_work, [(barrier, "w1", [0.05], results)])
    spans = collect(results, 4, timeout=30)
    assert join_all(processes, timeout=30) == [0, 0]
    assert all(s.start >= late for s in spans if s.label == "phase 1")


def test_phased_work_breaks_the_barrier_when_a_party_never_comes():
    barrier = multiprocessing.Barrier(2)
    with pytest.raises(threading.BrokenBarrierError):
        sync.phased_work(barrier, "w", [0.01], queue.Queue(), timeout=0.2)
    assert barrier.broken

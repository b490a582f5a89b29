"""Tests of helpers/pools.py, the workers of the pool chapters. Pools start with the book's
start method (spawn by default), so every test that uses one proves the workers are
importable by a fresh child."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pytest

from helpers import pools
from helpers.lab.timeline import Span
from helpers.pools import (
    current_worker,
    exit_abruptly,
    ignore_interrupts,
    invert,
    load_table,
    look_up,
    sleep_and_report,
    sleep_for,
    worker_name,
)

TIMEOUT = 60  # generous: the machine may be loaded; a hang still fails in a minute


pytestmark = pytest.mark.usefixtures("no_worker_left_behind")


def test_invert_raises_in_the_worker_and_the_error_reaches_the_parent():
    assert invert(4) == 0.25
    errors = []
    with multiprocessing.Pool(processes=1) as pool:
        ok = pool.apply_async(invert, (4,))
        bad = pool.apply_async(invert, (0,), error_callback=errors.append)
        assert ok.get(TIMEOUT) == 0.25
        with pytest.raises(ZeroDivisionError):
            bad.get(TIMEOUT)
    assert len(errors) == 1 and isinstance(errors[0], ZeroDivisionError)


def test_the_worker_traceback_travels_with_the_exception():
    with ProcessPoolExecutor(max_workers=1) as executor:
        error = executor.submit(invert, 0).exception(timeout=TIMEOUT)
    assert isinstance(error, ZeroDivisionError)
    assert "in invert" in str(error.__cause__)  # the _RemoteTraceback the chapter shows


def test_sleep_for_waits_and_returns_its_argument():
    start = time.perf_counter()
    assert sleep_for(0.05) == 0.05
    assert time.perf_counter() - start >= 0.05


def test_sleep_and_report_returns_a_span_named_after_the_thread_or_process():
    span = sleep_and_report(("A", 0.01))
    assert isinstance(span, Span)
    assert span.label == "A" and span.lane == "MainProcess" and span.duration >= 0.01
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="io") as executor:
        threaded = executor.submit(sleep_and_report, ("B", 0)).result(timeout=TIMEOUT)
    assert threaded.lane.startswith("io")
    with multiprocessing.Pool(processes=1) as pool:
        remote = pool.apply_async(sleep_and_report, (("C", 0),)).get(TIMEOUT)
    assert "PoolWorker" in remote.lane  # SpawnPoolWorker-1, ForkServerPoolWorker-1, ...


def test_current_worker_names_threads_and_processes():
    assert current_worker() == "MainProcess"
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="waiter") as executor:
        assert executor.submit(current_worker).result(timeout=TIMEOUT).startswith("waiter")


def test_worker_name_counts_the_processes_of_a_pool():
    assert worker_name() == worker_name(42) == "MainProcess"
    with multiprocessing.Pool(processes=2, maxtasksperchild=1) as pool:
        names = pool.map_async(worker_name, range(4), chunksize=1).get(TIMEOUT)
    assert len(set(names)) == 4  # a fresh worker for every task


def test_initializer_runs_once_per_worker():
    with multiprocessing.Pool(processes=2, initializer=load_table, initargs=(10,)) as pool:
        rows = pool.map_async(look_up, range(10), chunksize=1).get(TIMEOUT)
    assert [value for value, _, _ in rows] == [n * n for n in range(10)]
    assert {setups for _, _, setups in rows} == {1}
    assert len({name for _, name, _ in rows}) <= 2


def test_maxtasksperchild_runs_the_initializer_again_in_each_fresh_worker():
    with multiprocessing.Pool(processes=2, initializer=load_table, initargs=(10,), maxtasksperchild=2) as pool:
        rows = pool.map_async(look_up, range(6), chunksize=1).get(TIMEOUT)
    assert len({name for _, name, _ in rows}) >= 3
    assert {setups for _, _, setups in rows} == {1}


def test_look_up_fails_where_the_initializer_never_ran(monkeypatch):
    monkeypatch.setattr(pools, "TABLE", None)
    monkeypatch.setattr(pools, "SETUPS", 0)
    with pytest.raises(TypeError, match="not subscriptable"):  # what the chapter shows in the parent
        look_up(3)
    load_table(4)
    assert look_up(3) == (9, "MainProcess", 1)
    with pytest.raises(IndexError):
        look_up(4)


def test_a_worker_that_exits_breaks_a_process_pool_executor_quickly():
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=1) as executor:
        with pytest.raises(BrokenProcessPool):
            executor.submit(exit_abruptly, 3).result(timeout=TIMEOUT)
    assert time.perf_counter() - start < TIMEOUT


def test_exit_abruptly_ends_a_process_with_its_code():
    ctx = multiprocessing.get_context()
    child = ctx.Process(target=exit_abruptly, args=(7,))
    child.start()
    child.join(timeout=TIMEOUT)
    assert child.exitcode == 7


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT cannot be sent to one process on Windows")
def test_ignore_interrupts_keeps_a_worker_alive_through_sigint():
    with multiprocessing.Pool(processes=1, initializer=ignore_interrupts) as pool:
        pid = pool.apply_async(os.getpid).get(TIMEOUT)
        os.kill(pid, signal.SIGINT)
        time.sleep(0.5)  # a worker that did not ignore it would die now and be replaced
        assert pool.apply_async(os.getpid).get(TIMEOUT) == pid


# --- what stops running work, and what does not (chapters 05 and 06) -------------------------


def wait_for_no_children(timeout: float = TIMEOUT) -> None:
    """Wait until this process has no child left (an executor shut down without wait ends its workers later)."""
    deadline = time.monotonic() + timeout
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_shutdown_with_cancel_futures_does_not_stop_a_running_task():
    """shutdown(wait=False, cancel_futures=True) returns at once and cancels what no worker has taken;
    the task already running goes on to its end."""
    executor = ProcessPoolExecutor(max_workers=1)
    try:
        assert executor.submit(sleep_for, 0).result(timeout=TIMEOUT) == 0  # the worker is up
        running = executor.submit(sleep_for, 1.0)
        queued = [executor.submit(sleep_for, 1.0) for _ in range(6)]
        time.sleep(0.3)  # the worker is inside the first sleep now
        began = time.perf_counter()
        executor.shutdown(wait=False, cancel_futures=True)
        assert time.perf_counter() - began < 0.5, "shutdown(wait=False) should return at once"
        assert running.result(timeout=TIMEOUT) == 1.0  # not stopped: it ran to its end
        assert time.perf_counter() - began > 0.5
        assert queued[-1].cancelled()
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
        wait_for_no_children()


@pytest.mark.skipif(not hasattr(ProcessPoolExecutor, "terminate_workers"), reason="new in Python 3.14")
def test_terminate_workers_stops_a_running_task():
    executor = ProcessPoolExecutor(max_workers=1)
    try:
        assert executor.submit(sleep_for, 0).result(timeout=TIMEOUT) == 0
        running = executor.submit(sleep_for, 30)
        time.sleep(0.3)
        began = time.perf_counter()
        executor.terminate_workers()
        with pytest.raises(BrokenProcessPool):
            running.result(timeout=TIMEOUT)
        assert time.perf_counter() - began < 10, "the 30 s task should have been stopped"
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
        wait_for_no_children()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="max_tasks_per_child is new in Python 3.11")
def test_max_tasks_per_child_means_spawn_and_refuses_fork():
    executor = ProcessPoolExecutor(max_workers=1, max_tasks_per_child=1)
    try:
        assert executor._mp_context.get_start_method() == "spawn"  # whatever the program's default
    finally:
        executor.shutdown()
    if "fork" in multiprocessing.get_all_start_methods():
        with pytest.raises(ValueError, match="incompatible with the 'fork'"):
            ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"), max_tasks_per_child=1)


@pytest.mark.skipif(sys.version_info < (3, 14, 7), reason="gh-115634: before the fix this can hang")
def test_max_tasks_per_child_replaces_its_workers_on_a_fixed_python():
    executor = ProcessPoolExecutor(max_workers=1, max_tasks_per_child=2)
    try:
        futures = [executor.submit(worker_name, n) for n in range(7)]
        names = [future.result(timeout=TIMEOUT) for future in futures]
        assert len(set(names)) == 4  # 7 tasks, at most 2 per worker
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
        wait_for_no_children()


def test_call_and_send_sends_the_result_through_the_pipe_and_closes_it():
    receiver, sender = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.Process(target=pools.call_and_send, args=(sender, pow, 2, 10))
    child.start()
    sender.close()
    assert receiver.poll(TIMEOUT) and receiver.recv() == 1024
    child.join(timeout=TIMEOUT)
    assert child.exitcode == 0
    assert receiver.poll(0)  # the child closed its end: EOF, nothing more comes
    with pytest.raises(EOFError):
        receiver.recv()


def test_put_counted_is_held_to_the_consumer_pace_by_a_bounded_queue():
    import queue as queue_module

    box = multiprocessing.Queue(maxsize=2)
    sent = multiprocessing.Value("i", 0)
    child = multiprocessing.Process(target=pools.put_counted, args=(box, sent, 6))
    child.start()
    try:
        deadline = time.monotonic() + TIMEOUT
        while sent.value < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # the producer fills the queue (its start may take a while) ...
        time.sleep(0.3)
        assert sent.value == 2  # ... and then waits for a free place
        taken = [box.get(timeout=TIMEOUT) for _ in range(7)]
        assert taken == [0, 1, 2, 3, 4, 5, None]
        child.join(timeout=TIMEOUT)
        assert child.exitcode == 0 and sent.value == 7
    finally:
        if child.is_alive():
            child.kill()
            child.join(timeout=TIMEOUT)
    # and with nobody reading, put(timeout) gives up with queue.Full: the child fails
    box = multiprocessing.Queue(maxsize=1)
    child = multiprocessing.Process(target=pools.put_counted, args=(box, sent, 3, 0.2))
    child.start()
    child.join(timeout=TIMEOUT)
    assert child.exitcode == 1  # queue.Full, uncaught
    assert box.get(timeout=TIMEOUT) == 0
    with pytest.raises(queue_module.Empty):
        box.get(timeout=0.2)

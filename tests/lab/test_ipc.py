"""Tests of helpers/lab/ipc.py: the instruments of the chapters on messages and shared memory."""

from __future__ import annotations

import multiprocessing
import pickle
import sys
import textwrap
import threading
import time
from multiprocessing import shared_memory

import numpy as np
import pytest

from helpers.lab import ipc
from helpers.lab.scripts import run_script

TIMEOUT = 30


def test_items_by_producer_and_order():
    items = [("A", 0), ("B", 0), ("B", 1), ("A", 1)]
    assert ipc.items_by_producer(items) == {"A": [0, 1], "B": [0, 1]}
    assert ipc.in_order_per_producer(items)
    assert not ipc.in_order_per_producer([("B", 1), ("A", 0), ("B", 0)])
    assert ipc.expected_items(["A"], 0) == []


def test_join_with_timeout_returns_once_every_task_is_done():
    tasks = multiprocessing.JoinableQueue()
    tasks.put(1)
    tasks.get(timeout=TIMEOUT)
    tasks.task_done()
    ipc.join_with_timeout(tasks, TIMEOUT)  # returns: nothing is unfinished


def test_join_with_timeout_raises_when_a_task_is_never_done():
    tasks = multiprocessing.JoinableQueue()
    tasks.put(1)  # nobody takes it
    with pytest.raises(TimeoutError, match="task_done"):
        ipc.join_with_timeout(tasks, 0.2)
    tasks.get(timeout=TIMEOUT)
    tasks.task_done()
    with pytest.raises(ValueError, match="timeout"):
        ipc.join_with_timeout(tasks, -1)
    with pytest.raises(TypeError, match="JoinableQueue"):
        ipc.join_with_timeout(multiprocessing.Queue(), 1)


def test_join_with_timeout_leaves_no_thread_waiting_after_a_timeout():
    tasks = multiprocessing.JoinableQueue()
    tasks.put(1)  # nobody takes it (the put starts the queue's own feeder thread)
    before = set(threading.enumerate())
    with pytest.raises(TimeoutError):
        ipc.join_with_timeout(tasks, 0.2)
    left = [thread.name for thread in set(threading.enumerate()) - before]
    assert left == [], f"threads left waiting after the timeout: {left}"


def test_join_with_timeout_returns_when_the_last_task_is_done_while_it_waits():
    tasks = multiprocessing.JoinableQueue()
    tasks.put(1)
    worker = threading.Timer(0.3, lambda: (tasks.get(timeout=TIMEOUT), tasks.task_done()))
    worker.start()
    start = time.monotonic()
    ipc.join_with_timeout(tasks, TIMEOUT)
    assert 0.2 < time.monotonic() - start < TIMEOUT / 2
    worker.join(timeout=TIMEOUT)


# --- pickling ----------------------------------------------------------------------------------


def test_local_function_does_not_pickle_and_a_worker_does():
    from helpers.messages import produce

    with pytest.raises((AttributeError, pickle.PicklingError), match="local"):
        pickle.dumps(ipc.make_local_function())
    assert pickle.loads(pickle.dumps(produce)) is produce


def test_lock_cannot_be_sent_through_a_pipe():
    here, there = multiprocessing.Pipe()
    with pytest.raises(RuntimeError, match="only be shared between processes through inheritance"):
        here.send(multiprocessing.Lock())
    here.close()
    there.close()


def test_pickle_cost():
    cost = ipc.pickle_cost(np.arange(1000), repeat=1)
    assert cost["bytes"] > 8000 and cost["dumps_s"] > 0 and cost["loads_s"] > 0
    with pytest.raises(ValueError, match="repeat"):
        ipc.pickle_cost([], repeat=0)


def test_access_cost_of_a_proxy_and_its_checks():
    with multiprocessing.Manager() as manager:
        cost = ipc.access_cost(manager.list([0]), accesses=5)
        assert set(cost) == {"read", "write"} and min(cost.values()) > 0
    with pytest.raises(ValueError, match="accesses"):
        ipc.access_cost({}, accesses=0)


# --- the resource tracker ------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="no resource tracker on Windows")
def test_resource_tracker_warns_about_a_leaked_segment_and_removes_it():
    before = ipc.ipc_names(prefixes=ipc.SEGMENT_PREFIXES)
    done = run_script(ipc.LEAKY_SCRIPT)
    assert done.returncode == 0, done.stderr
    assert ipc.leak_warnings(done.stderr) == [
        "resource_tracker: There appear to be 1 leaked shared_memory objects to clean up at shutdown"
    ]
    assert ipc.orphaned_ipc_names(before, prefixes=ipc.SEGMENT_PREFIXES) == []


@pytest.mark.skipif(sys.platform == "win32", reason="no resource tracker on Windows")
def test_a_program_that_leaks_a_semaphore_and_a_segment_gets_two_warnings():
    done = run_script(textwrap.dedent(
        """
        import multiprocessing, os
        from multiprocessing import shared_memory
        multiprocessing.set_start_method("spawn")
        lock = multiprocessing.Lock()
        segment = shared_memory.SharedMemory(create=True, size=100)
        os._exit(0)  # no clean-up at all: the tracker finds both
        """
    ))
    warnings = ipc.leak_warnings(done.stderr)
    assert len(warnings) == 2, done.stderr
    assert any("semaphore" in w for w in warnings) and any("shared_memory" in w for w in warnings)


@pytest.mark.skipif(sys.platform == "win32", reason="no resource tracker on Windows")
def test_attaching_registers_the_segment_with_the_attaching_programs_tracker():
    """What chapter 04's pitfall says: a separate program that only attaches warns, and unlinks the segment."""
    segment = shared_memory.SharedMemory(create=True, size=64)
    try:
        done = run_script(textwrap.dedent(
            f"""
            from multiprocessing import shared_memory
            shared_memory.SharedMemory(name={segment.name!r}).close()  # attach, detach; no unlink
            """
        ))
        assert done.returncode == 0, done.stderr
        assert ipc.leak_warnings(done.stderr) == [
            "resource_tracker: There appear to be 1 leaked shared_memory objects to clean up at shutdown"
        ]
        with pytest.raises(FileNotFoundError):
            shared_memory.SharedMemory(name=segment.name)  # its tracker removed our segment
    finally:
        segment.close()
        try:
            segment.unlink()
        except FileNotFoundError:
            from multiprocessing import resource_tracker

            resource_tracker.unregister(segment._name, "shared_memory")  # already gone: tell our tracker


def test_leak_warnings_cuts_the_names_off():
    text = ("/x.py:1: UserWarning: resource_tracker: There appear to be 1 leaked shared_memory objects "
            "to clean up at shutdown: {'/psm_1'}\nsomething else\n")
    assert ipc.leak_warnings(text) == [
        "resource_tracker: There appear to be 1 leaked shared_memory objects to clean up at shutdown"
    ]
    assert ipc.leak_warnings("no warning here") == []


# --- nothing left behind ------------------------------------------------------------------------


def test_orphan_check_finds_an_unlinked_segment_nobody_maps(tmp_path):
    fake = tmp_path / "shm"
    fake.mkdir()
    (fake / "sem.mp-old").write_bytes(b"")
    before = ipc.ipc_names(fake)
    assert list(before) == ["sem.mp-old"]
    (fake / "psm_new").write_bytes(b"")
    (fake / "unrelated").write_bytes(b"")
    assert ipc.orphaned_ipc_names(before, settle=0, directory=fake) == ["psm_new"]
    assert ipc.ipc_names(tmp_path / "missing") is None
    assert ipc.orphaned_ipc_names(None) == []


@pytest.mark.skipif(not ipc.SHM_DIR.is_dir(), reason="needs /dev/shm (Linux)")
def test_a_live_segment_is_in_use_and_an_unlinked_one_is_gone():
    before = ipc.ipc_names()
    segment = shared_memory.SharedMemory(create=True, size=4096)
    try:
        assert segment.name.lstrip("/") in ipc.ipc_names()
        assert ipc.orphaned_ipc_names(before, settle=0) == []  # mapped by this process: in use
    finally:
        segment.close()
        segment.unlink()
    assert segment.name.lstrip("/") not in ipc.ipc_names()


CHAPTER_IPC = textwrap.dedent(
    """
    import multiprocessing
    import helpers
    from helpers import messages, sharing
    from helpers.lab import ipc, throughput
    from helpers.lab.scripts import run_script
    from multiprocessing import shared_memory
    from multiprocessing.managers import SharedMemoryManager

    if __name__ == "__main__":
        helpers.use_book_start_method()
        items, results = multiprocessing.Queue(), multiprocessing.Queue()
        producer = multiprocessing.Process(target=messages.produce, args=(items, "A", 2, 0.0))
        consumer = multiprocessing.Process(target=messages.consume_until_sentinel, args=(items, results, "c"))
        producer.start(); consumer.start(); producer.join(30); items.put(None)
        assert results.get(timeout=30) == ("c", [("A", 0), ("A", 1)]); consumer.join(30)
        segment = shared_memory.SharedMemory(create=True, size=64)
        child = multiprocessing.Process(target=sharing.scale_shared_array, args=(segment.name, (8,), "<f8", 2.0))
        child.start(); child.join(30); segment.close(); segment.unlink()
        with SharedMemoryManager() as smm:
            smm.SharedMemory(size=64).close()
        with multiprocessing.Manager() as manager:
            totals, lock = manager.dict(n=0), manager.Lock()
            adder = multiprocessing.Process(target=sharing.add_in_manager, args=(totals, "n", 3, lock))
            adder.start(); adder.join(30); assert totals["n"] == 3
        throughput.run_benchmark([64, 1024], bytes_per_size=1024, repeat=1)
        assert run_script(ipc.LEAKY_SCRIPT).returncode == 0
        tasks = multiprocessing.JoinableQueue()
        workers = [multiprocessing.Process(target=messages.square_tasks, args=(tasks, results)) for _ in range(2)]
        for w in workers: w.start()
        tasks.put(3); ipc.join_with_timeout(tasks, 30)
        assert results.get(timeout=30) == (3, 9)
        for w in workers: tasks.put(None)
        for w in workers: w.join(30)
        here, there = multiprocessing.Pipe()
        server = multiprocessing.Process(target=messages.serve_requests, args=(there,))
        server.start(); there.close(); here.send(("square", 2)); assert here.poll(30) and here.recv() == ("ok", 4)
        here.send(None); server.join(30); here.close()
        counter = multiprocessing.Value("i", 0)
        adder = multiprocessing.Process(target=sharing.add_to_counter, args=(counter, 10, True))
        adder.start(); adder.join(30)
        finished = multiprocessing.Event()
        assert not multiprocessing.active_children()
        print("done")
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="no resource tracker on Windows")
def test_the_chapters_ipc_leaves_nothing_behind():
    """Run what chapters 03 and 04 do (queues, pipes, locks, segments, managers, the benchmark, the
    leaky script) in a fresh interpreter. Its resource tracker, which sees every semaphore and
    segment that interpreter and its children made, must find nothing to clean up at the end;
    and no new segment may be left in /dev/shm."""
    before = ipc.ipc_names(prefixes=ipc.SEGMENT_PREFIXES)
    done = run_script(CHAPTER_IPC, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr
    assert ipc.leak_warnings(done.stderr) == [], done.stderr
    assert ipc.orphaned_ipc_names(before, prefixes=ipc.SEGMENT_PREFIXES) == []

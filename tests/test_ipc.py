"""Tests of helpers/ipc.py. Processes start with the book's start method (spawn by default,
see tests/conftest.py), so every worker is proved importable by a fresh child."""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import sys
import textwrap
from multiprocessing import shared_memory

import numpy as np
import pytest

from helpers import ipc

TIMEOUT = 30


def run(target, *args):
    """Start ``target(*args)`` in a child and return the started process."""
    process = multiprocessing.Process(target=target, args=args)
    process.start()
    return process


def finish(*processes):
    for process in processes:
        process.join(timeout=TIMEOUT)
        assert not process.is_alive(), f"{process.name} did not finish"
        assert process.exitcode == 0, f"{process.name} exit code {process.exitcode}"


# --- Queue -----------------------------------------------------------------------------


def test_racy_consumer_misses_items_of_a_slow_producer():
    items, results = multiprocessing.Queue(), multiprocessing.Queue()
    producer = run(ipc.produce, items, "A", 4, 0.2)
    consumer = run(ipc.consume_while_not_empty, items, results)
    received = results.get(timeout=TIMEOUT)
    finish(producer, consumer)
    assert len(received) < 4


def test_racy_consumer_takes_everything_already_there():
    items, results = multiprocessing.Queue(), multiprocessing.Queue()
    for i in range(3):
        items.put(("A", i))
    consumer = run(ipc.consume_while_not_empty, items, results)
    assert results.get(timeout=TIMEOUT) == [("A", 0), ("A", 1), ("A", 2)]
    finish(consumer)


def test_sentinels_deliver_every_item_in_order_per_producer():
    items, results = multiprocessing.Queue(), multiprocessing.Queue()
    producers = [run(ipc.produce, items, name, 3, 0.01) for name in "AB"]
    consumers = [run(ipc.consume_until_sentinel, items, results, f"c{i}") for i in range(2)]
    finish(*producers)
    for _ in consumers:
        items.put(ipc.SENTINEL)
    received = dict(results.get(timeout=TIMEOUT) for _ in consumers)
    finish(*consumers)
    assert set(received) == {"c0", "c1"}
    everything = [item for got in received.values() for item in got]
    assert sorted(everything) == ipc.expected_items("AB", 3)
    assert all(ipc.in_order_per_producer(got) for got in received.values())


def test_consumer_without_sentinel_fails_instead_of_hanging():
    items, results = multiprocessing.Queue(), multiprocessing.Queue()
    consumer = run(ipc.consume_until_sentinel, items, results, "c", 0.2)
    consumer.join(timeout=TIMEOUT)
    assert consumer.exitcode == 1  # queue.Empty in the child
    with pytest.raises(queue.Empty):
        results.get(timeout=0.5)


def test_quiet_consumer_gets_all_while_the_producer_is_quicker_than_the_timeout():
    items, results = multiprocessing.Queue(), multiprocessing.Queue()
    producer = run(ipc.produce, items, "A", 3, 0.05)
    consumer = run(ipc.consume_until_quiet, items, results, "c", 3.0)
    assert results.get(timeout=TIMEOUT) == ("c", ipc.expected_items("A", 3))
    finish(producer, consumer)


def test_quiet_consumer_stops_when_nothing_comes():
    items, results = multiprocessing.Queue(), multiprocessing.Queue()
    ipc.consume_until_quiet(items, results, "c", 0.05)  # in this process: nothing to wait for
    assert results.get(timeout=TIMEOUT) == ("c", [])


def test_items_by_producer_and_order():
    items = [("A", 0), ("B", 0), ("B", 1), ("A", 1)]
    assert ipc.items_by_producer(items) == {"A": [0, 1], "B": [0, 1]}
    assert ipc.in_order_per_producer(items)
    assert not ipc.in_order_per_producer([("B", 1), ("A", 0), ("B", 0)])
    assert ipc.expected_items(["A"], 0) == []


@pytest.mark.parametrize(
    "kwargs, error",
    [({"count": -1}, ValueError), ({"count": 2.5}, TypeError), ({"delay": -0.1}, ValueError),
     ({"delay": float("nan")}, ValueError), ({"count": True}, TypeError)],
)
def test_produce_rejects_bad_arguments(kwargs, error):
    arguments = {"queue": queue.Queue(), "producer": "A", "count": 1, "delay": 0.0} | kwargs
    with pytest.raises(error, match=next(iter(kwargs))):
        ipc.produce(**arguments)


def test_joinable_queue_workers_and_join_with_timeout():
    tasks, results = multiprocessing.JoinableQueue(), multiprocessing.Queue()
    workers = [run(ipc.square_tasks, tasks, results) for _ in range(2)]
    for n in range(6):
        tasks.put(n)
    ipc.join_with_timeout(tasks, TIMEOUT)
    assert dict(results.get(timeout=TIMEOUT) for _ in range(6)) == {n: n * n for n in range(6)}
    for _ in workers:
        tasks.put(ipc.SENTINEL)
    finish(*workers)


def test_join_with_timeout_raises_when_a_task_is_never_done():
    tasks = multiprocessing.JoinableQueue()
    tasks.put(1)  # nobody takes it
    with pytest.raises(TimeoutError, match="task_done"):
        ipc.join_with_timeout(tasks, 0.2)
    tasks.get(timeout=TIMEOUT)
    tasks.task_done()  # lets the helper thread finish
    with pytest.raises(ValueError, match="timeout"):
        ipc.join_with_timeout(tasks, -1)


# --- join before drain -----------------------------------------------------------------------


def test_big_result_blocks_exit_until_read():
    results, finished = multiprocessing.Queue(), multiprocessing.Event()
    child = run(ipc.put_big_result, results, 1_000_000, finished)
    assert finished.wait(timeout=TIMEOUT)
    child.join(timeout=1)
    assert child.is_alive(), "a 1 MB result should keep the child alive until it is read"
    assert len(results.get(timeout=TIMEOUT)) == 1_000_000
    finish(child)


def test_small_result_does_not_block_exit():
    results, finished = multiprocessing.Queue(), multiprocessing.Event()
    child = run(ipc.put_big_result, results, 100, finished)
    assert finished.wait(timeout=TIMEOUT)
    finish(child)  # joined before reading: fine, 100 bytes fit in the pipe
    assert results.get(timeout=TIMEOUT) == b"\x01" * 100


# --- Pipe --------------------------------------------------------------------------------------


def test_send_squares_then_eof():
    receiver, sender = multiprocessing.Pipe(duplex=False)
    child = run(ipc.send_squares, sender, 4)
    sender.close()
    received = []
    while True:
        assert receiver.poll(TIMEOUT)
        try:
            received.append(receiver.recv())
        except EOFError:
            break
    finish(child)
    assert received == [0, 1, 4, 9]


def test_serve_requests_answers_in_order_and_stops():
    here, there = multiprocessing.Pipe()
    server = run(ipc.serve_requests, there)
    there.close()
    requests = [("square", 3), ("upper", "ab"), ("sum", [1, 2]), ("cube", 1), ("square", "x"), "junk"]
    for request in requests:
        here.send(request)
    responses = []
    for _ in requests:
        assert here.poll(TIMEOUT)
        responses.append(here.recv())
    here.send(None)
    finish(server)
    assert responses[:3] == [("ok", 9), ("ok", "AB"), ("ok", 3)]
    assert [status for status, _ in responses[3:]] == ["error"] * 3
    assert "unknown operation 'cube'" in responses[3][1]
    assert responses[4][1].startswith("TypeError")
    assert here.poll(TIMEOUT)
    with pytest.raises(EOFError):
        here.recv()


def test_serve_requests_stops_when_idle():
    here, there = multiprocessing.Pipe()
    server = run(ipc.serve_requests, there, 0.2)
    there.close()
    finish(server)
    here.close()


# --- pickling ----------------------------------------------------------------------------------


def test_local_function_does_not_pickle_and_worker_does():
    with pytest.raises((AttributeError, pickle.PicklingError), match="local"):
        pickle.dumps(ipc.make_local_function())
    assert pickle.loads(pickle.dumps(ipc.produce)) is ipc.produce


def test_lock_cannot_be_sent_through_a_pipe():
    here, there = multiprocessing.Pipe()
    with pytest.raises(RuntimeError, match="only be shared between processes through inheritance"):
        here.send(multiprocessing.Lock())


def test_pickle_cost():
    cost = ipc.pickle_cost(np.arange(1000), repeat=1)
    assert cost["bytes"] > 8000 and cost["dumps_s"] > 0 and cost["loads_s"] > 0
    with pytest.raises(ValueError, match="repeat"):
        ipc.pickle_cost([], repeat=0)


# --- shared state -------------------------------------------------------------------------------


def test_locked_counter_loses_nothing():
    counter, start = multiprocessing.Value("i", 0), multiprocessing.Barrier(2)
    adders = [run(ipc.add_to_counter, counter, 2000, True, start) for _ in range(2)]
    finish(*adders)
    assert counter.value == 4000


def test_unlocked_counter_never_gains():
    counter = multiprocessing.Value("i", 0)
    ipc.add_to_counter(counter, 100, False)
    assert counter.value == 100
    with pytest.raises(ValueError, match="times"):
        ipc.add_to_counter(counter, -1, True)


def test_fill_squares_in_a_shared_array():
    array = multiprocessing.Array("q", 6)
    finish(run(ipc.fill_squares, array, 0, 3), run(ipc.fill_squares, array, 3, 6))
    assert array[:] == [0, 1, 4, 9, 16, 25]
    with pytest.raises(ValueError, match="stop"):
        ipc.fill_squares(array, 3, 2)


def test_scale_shared_array_in_a_child_changes_the_parents_view():
    segment = shared_memory.SharedMemory(create=True, size=4 * 8)
    try:
        view = np.ndarray((4,), dtype=np.float64, buffer=segment.buf)
        view[:] = [1, 2, 3, 4]
        finish(run(ipc.scale_shared_array, segment.name, (4,), view.dtype.str, 2.5))
        assert view.tolist() == [2.5, 5.0, 7.5, 10.0]
        del view
    finally:
        segment.close()
        segment.unlink()


def test_manager_proxies_and_access_cost():
    with multiprocessing.Manager() as manager:
        squares, seen = manager.dict(), manager.list()
        finish(run(ipc.record_squares, squares, seen, [1, 2]), run(ipc.record_squares, squares, seen, [3]))
        assert squares.copy() == {1: 1, 2: 4, 3: 9}
        assert sorted(seen) == [1, 2, 3]
        cost = ipc.access_cost(manager.list([0]), accesses=5)
        assert set(cost) == {"read", "write"} and min(cost.values()) > 0
    with pytest.raises(ValueError, match="accesses"):
        ipc.access_cost({}, accesses=0)


@pytest.mark.skipif(sys.platform == "win32", reason="no resource tracker on Windows")
def test_resource_tracker_warns_about_a_leaked_segment_and_removes_it():
    before = ipc.ipc_names(prefixes=ipc.SEGMENT_PREFIXES)
    stderr = ipc.run_python_script(ipc.LEAKY_SCRIPT)
    assert ipc.leak_warnings(stderr) == [
        "resource_tracker: There appear to be 1 leaked shared_memory objects to clean up at shutdown"
    ]
    assert ipc.orphaned_ipc_names(before, prefixes=ipc.SEGMENT_PREFIXES) == []


@pytest.mark.skipif(sys.platform == "win32", reason="no resource tracker on Windows")
def test_a_program_that_leaks_a_semaphore_and_a_segment_gets_two_warnings():
    stderr = ipc.run_python_script(textwrap.dedent(
        """
        import multiprocessing, os
        from multiprocessing import shared_memory
        multiprocessing.set_start_method("spawn")
        lock = multiprocessing.Lock()
        segment = shared_memory.SharedMemory(create=True, size=100)
        os._exit(0)  # no clean-up at all: the tracker finds both
        """
    ))
    warnings = ipc.leak_warnings(stderr)
    assert len(warnings) == 2
    assert any("semaphore" in w for w in warnings) and any("shared_memory" in w for w in warnings)


def test_run_python_script_errors():
    with pytest.raises(RuntimeError, match="exit code 3"):
        ipc.run_python_script("raise SystemExit(3)")
    with pytest.raises(TypeError, match="source"):
        ipc.run_python_script(b"print()")


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
    import multiprocessing, sys
    sys.path.insert(0, {root!r})
    import helpers
    from helpers import ipc, throughput
    from multiprocessing import shared_memory
    from multiprocessing.managers import SharedMemoryManager

    if __name__ == "__main__":
        helpers.use_book_start_method()
        items, results = multiprocessing.Queue(), multiprocessing.Queue()
        producer = multiprocessing.Process(target=ipc.produce, args=(items, "A", 2, 0.0))
        consumer = multiprocessing.Process(target=ipc.consume_until_sentinel, args=(items, results, "c"))
        producer.start(); consumer.start(); producer.join(30); items.put(None)
        assert results.get(timeout=30) == ("c", [("A", 0), ("A", 1)]); consumer.join(30)
        segment = shared_memory.SharedMemory(create=True, size=64)
        child = multiprocessing.Process(target=ipc.scale_shared_array, args=(segment.name, (8,), "<f8", 2.0))
        child.start(); child.join(30); segment.close(); segment.unlink()
        with SharedMemoryManager() as smm:
            smm.SharedMemory(size=64).close()
        with multiprocessing.Manager() as manager:
            manager.dict()[1] = 1
        throughput.run_benchmark([64, 1024], bytes_per_size=1024, repeat=1)
        ipc.run_python_script(ipc.LEAKY_SCRIPT)
        tasks = multiprocessing.JoinableQueue()
        workers = [multiprocessing.Process(target=ipc.square_tasks, args=(tasks, results)) for _ in range(2)]
        for w in workers: w.start()
        tasks.put(3); ipc.join_with_timeout(tasks, 30)
        assert results.get(timeout=30) == (3, 9)
        for w in workers: tasks.put(None)
        for w in workers: w.join(30)
        here, there = multiprocessing.Pipe()
        server = multiprocessing.Process(target=ipc.serve_requests, args=(there,))
        server.start(); there.close(); here.send(("square", 2)); assert here.poll(30) and here.recv() == ("ok", 4)
        here.send(None); server.join(30); here.close()
        counter = multiprocessing.Value("i", 0)
        adder = multiprocessing.Process(target=ipc.add_to_counter, args=(counter, 10, True))
        adder.start(); adder.join(30)
        finished = multiprocessing.Event()
        assert not multiprocessing.active_children()
        print("done")
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="no resource tracker on Windows")
def test_the_chapters_ipc_leaves_nothing_behind(tmp_path):
    """Run what the chapter does (queues, pipes, locks, segments, managers, the benchmark, the
    leaky script) in a fresh interpreter. Its resource tracker, which sees every semaphore and
    segment that interpreter and its children made, must find nothing to clean up at the end;
    and no new segment may be left in /dev/shm."""
    import subprocess
    from pathlib import Path

    script = tmp_path / "chapter_ipc.py"
    script.write_text(CHAPTER_IPC.format(root=str(Path(ipc.__file__).resolve().parent.parent)))
    before = ipc.ipc_names(prefixes=ipc.SEGMENT_PREFIXES)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr
    assert ipc.leak_warnings(done.stderr) == [], done.stderr
    assert ipc.orphaned_ipc_names(before, prefixes=ipc.SEGMENT_PREFIXES) == []


# --- exercise checks ---------------------------------------------------------------------------


def test_check_all_received(capsys):
    good = {"c1": [("A", 0), ("B", 0), ("A", 1)], "c2": [("B", 1)]}
    assert ipc.check_all_received(good, ("A", "B"), 2)
    assert not ipc.check_all_received({"c1": [("A", 0)]}, ("A", "B"), 2)
    assert not ipc.check_all_received({"c1": [("A", 1), ("A", 0), ("B", 0), ("B", 1)]}, ("A", "B"), 2)
    assert not ipc.check_all_received([("A", 0)], ("A",), 1)
    assert "missing" in capsys.readouterr().out


def test_check_deadlock_prediction():
    assert ipc.check_deadlock_prediction({100: False, 10_000_000: True})
    assert not ipc.check_deadlock_prediction({100: True, 10_000_000: True})
    assert not ipc.check_deadlock_prediction({100: False})


def test_check_square_responses():
    assert ipc.check_square_responses([("ok", n * n) for n in range(1, 6)])
    assert not ipc.check_square_responses([("ok", n * n) for n in range(5, 0, -1)])
    assert not ipc.check_square_responses(("ok", 1))


def test_check_crosses_matches_what_pickle_does():
    candidates = {
        "a dict of lists": {"a": [1]},
        "a lambda": lambda: None,
        "helpers.ipc.produce": ipc.produce,
        "a generator": (n for n in range(2)),
        "a NumPy array": np.zeros(2),
        "a multiprocessing.Lock": multiprocessing.Lock(),
    }
    assert list(candidates) == list(ipc.CROSSING_OBJECTS)
    truth = {}
    for name, obj in candidates.items():
        try:
            pickle.dumps(obj)
            truth[name] = True
        except Exception:
            truth[name] = False
    assert ipc.check_crosses(truth)
    assert not ipc.check_crosses({**truth, "a lambda": True})
    assert not ipc.check_crosses({"a lambda": False})


def test_check_scaled():
    assert ipc.check_scaled(np.arange(1, 9) * 10)
    assert not ipc.check_scaled(list(range(1, 9)))
    assert not ipc.check_scaled(None)


def test_check_crossover():
    from helpers.throughput import Measurement

    rows = [Measurement("queue", 64, 1, 1.0), Measurement("shared_memory", 64, 1, 2.0),
            Measurement("queue", 1024, 1, 1.0), Measurement("shared_memory", 1024, 1, 0.5)]
    assert ipc.check_crossover(1024, rows)
    assert not ipc.check_crossover(64, rows)
    assert ipc.check_crossover(None, rows[:2])

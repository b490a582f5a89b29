"""Passing data between processes: queues, pipes, pickling and shared state.

The workers here run in child processes, so they live in a module (a spawned child
imports them). Each one sends its results back (through a queue, a pipe or shared
memory) instead of printing them: the parent prints a summary. Every blocking call
has a timeout, so a mistake fails in seconds instead of hanging.

Sections, in the order of the chapter "Pass data between processes":

- producers and consumers on a ``Queue`` (one racy on purpose), ``JoinableQueue`` workers;
- the child whose large result deadlocks a parent that joins before it reads;
- ``Pipe`` workers, one-way and request/response;
- what pickling can and cannot carry, and what it costs;
- shared state: ``Value``/``Array``, ``SharedMemory`` with NumPy, ``Manager`` proxies,
  the resource tracker, and a check that nothing is left behind in ``/dev/shm``;
- ``check_*`` functions for the exercises.
"""

from __future__ import annotations

import os
import pickle
import queue as queue_module
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from multiprocessing import shared_memory
from pathlib import Path

SENTINEL = None
"""What a producer side puts on a queue to say "no more items": one per consumer."""

GET_TIMEOUT_S = 10.0
"""How long a worker waits for its next item before it gives up (``queue.Empty``)."""


def _check_number(name: str, value: object, low: float, *, integer: bool = False) -> None:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise TypeError(f"{name} must be {'an int' if integer else 'a number'}, got {type(value).__name__}")
    if not value >= low:  # also rejects NaN
        raise ValueError(f"{name} must be >= {low}, got {value!r}")


# --- Queue: producers and consumers -------------------------------------------------


def produce(queue, producer: str, count: int, delay: float = 0.0) -> None:
    """Put ``(producer, 0)``, ``(producer, 1)`` ... ``(producer, count - 1)`` on ``queue``.

    Sleeps ``delay`` seconds before each item, like a producer that has to work
    for every item it makes. Puts no sentinel: whoever knows that *all* producers
    are done (the parent) puts one per consumer. Returns nothing.
    """
    _check_number("count", count, 0, integer=True)
    _check_number("delay", delay, 0)
    for i in range(count):
        time.sleep(delay)
        queue.put((producer, i))


def consume_while_not_empty(queue, results) -> None:
    """The racy consumer, on purpose: take items while ``queue.empty()`` is False.

    This is the loop the chapter corrects. ``empty()`` only says what the queue
    held an instant ago: if the producer has not put its next item *yet*, the loop
    ends and the items that come later are never read. Puts the list of items it
    did receive on ``results``. (Where the original would block forever in
    ``get()``, because another consumer took the last item, this one waits
    ``GET_TIMEOUT_S`` and stops.)
    """
    received = []
    while not queue.empty():
        try:
            received.append(queue.get(timeout=GET_TIMEOUT_S))
        except queue_module.Empty:
            break
    results.put(received)


def consume_until_sentinel(queue, results, consumer: str, timeout: float = GET_TIMEOUT_S) -> None:
    """Take items until the sentinel (``None``) arrives; put ``(consumer, items)`` on ``results``.

    Each ``get`` waits at most ``timeout`` seconds: if no item and no sentinel
    comes (a producer crashed, or nobody put the sentinel), the worker fails with
    ``queue.Empty`` instead of hanging for ever.
    """
    received = []
    while True:
        item = queue.get(timeout=timeout)
        if item is SENTINEL:
            break
        received.append(item)
    results.put((consumer, received))


def consume_until_quiet(queue, results, consumer: str, quiet: float = 1.0) -> None:
    """Take items until none arrives for ``quiet`` seconds; put ``(consumer, items)`` on ``results``.

    Right only when you know that the producers never pause longer than
    ``quiet``: an item that comes later is never read. Sentinels have no such guess.
    """
    _check_number("quiet", quiet, 0)
    received = []
    while True:
        try:
            received.append(queue.get(timeout=quiet))
        except queue_module.Empty:
            break
    results.put((consumer, received))


def expected_items(producers: Sequence[str], count: int) -> list[tuple[str, int]]:
    """Return every item the producers make, producer by producer.

    >>> expected_items(["A", "B"], 2)
    [('A', 0), ('A', 1), ('B', 0), ('B', 1)]
    """
    return [(p, i) for p in producers for i in range(count)]


def items_by_producer(items: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    """Return the item numbers each producer's items carry, in the order they were received.

    >>> items_by_producer([("A", 0), ("B", 0), ("A", 1)])
    {'A': [0, 1], 'B': [0]}
    """
    by_producer: dict[str, list[int]] = {}
    for producer, number in items:
        by_producer.setdefault(producer, []).append(number)
    return by_producer


def in_order_per_producer(items: Iterable[tuple[str, int]]) -> bool:
    """Return True if each producer's items were received in the order it put them.

    >>> in_order_per_producer([("A", 0), ("B", 0), ("A", 1), ("B", 1)])
    True
    >>> in_order_per_producer([("A", 1), ("A", 0)])
    False
    """
    return all(numbers == sorted(numbers) for numbers in items_by_producer(items).values())


def square_tasks(tasks, results, timeout: float = GET_TIMEOUT_S) -> None:
    """A ``JoinableQueue`` worker: for each number ``n`` on ``tasks`` put ``(n, n * n)`` on ``results``.

    Calls ``tasks.task_done()`` once for every item it takes, the sentinel
    included, so that ``tasks.join()`` in the parent returns when all are done.
    Stops at the sentinel; fails with ``queue.Empty`` after ``timeout`` seconds
    without any item.
    """
    while True:
        n = tasks.get(timeout=timeout)
        try:
            if n is SENTINEL:
                return
            results.put((n, n * n))
        finally:
            tasks.task_done()


def join_with_timeout(joinable_queue, timeout: float) -> None:
    """Call ``joinable_queue.join()``, but raise ``TimeoutError`` after ``timeout`` seconds.

    ``JoinableQueue.join()`` has no timeout of its own: it waits until every item
    put has been matched by a ``task_done()``. Here a helper thread waits in
    ``join()`` and this function waits for that thread. After a timeout the
    thread keeps waiting in the background (it is a daemon: it does not keep
    Python from exiting). Returns ``None``.
    """
    _check_number("timeout", timeout, 0)
    done = threading.Event()

    def wait_for_all_tasks() -> None:
        joinable_queue.join()
        done.set()

    threading.Thread(target=wait_for_all_tasks, daemon=True, name="join_with_timeout").start()
    if not done.wait(timeout):
        raise TimeoutError(
            f"tasks.join() did not return within {timeout:g} s: "
            "some item got no task_done() (is a worker dead or stuck?)"
        )


# --- the join-before-drain deadlock ---------------------------------------------------


def put_big_result(queue, nbytes: int, finished=None) -> None:
    """Put one result of ``nbytes`` bytes on ``queue``, then set ``finished`` (an ``Event``), if given.

    ``put`` returns at once: a feeder thread writes the data into the queue's
    pipe. Before the process can exit, that thread must finish writing, and it
    can only finish when someone reads: a parent that joins this process
    before reading the result waits for ever, once the result is larger than
    the pipe's buffer (64 KiB on Linux). Returns nothing.
    """
    _check_number("nbytes", nbytes, 0, integer=True)
    queue.put(b"\x01" * nbytes)
    if finished is not None:
        finished.set()


# --- Pipe -------------------------------------------------------------------------------


def send_squares(conn, count: int) -> None:
    """Send ``0, 1, 4, ... (count - 1) ** 2`` through ``conn``, then close it. Returns nothing.

    Closing this end is what lets the receiver see ``EOFError`` once every
    *other* copy of the sending end is closed too.
    """
    _check_number("count", count, 0, integer=True)
    for i in range(count):
        conn.send(i * i)
    conn.close()


def _square(x):
    return x * x


OPERATIONS = {"square": _square, "upper": str.upper, "sum": sum}
"""What :func:`serve_requests` can do: a request is ``(operation, argument)``."""


def answer(request: object) -> tuple[str, object]:
    """Return the server's response to one request: ``("ok", result)`` or ``("error", message)``.

    >>> answer(("square", 7))
    ('ok', 49)
    >>> answer(("upper", "pipe"))
    ('ok', 'PIPE')
    >>> answer(("cube", 2))
    ('error', "unknown operation 'cube': choose from square, upper, sum")
    """
    if not (isinstance(request, tuple) and len(request) == 2):
        return ("error", f"a request is a tuple (operation, argument), got {request!r}")
    operation, argument = request
    if operation not in OPERATIONS:
        return ("error", f"unknown operation {operation!r}: choose from {', '.join(OPERATIONS)}")
    try:
        return ("ok", OPERATIONS[operation](argument))
    except Exception as error:  # the client gets the error as a response; the server lives on
        return ("error", f"{type(error).__name__}: {error}")


def serve_requests(conn, idle_timeout: float = 30.0) -> None:
    """Answer requests arriving on ``conn`` (one end of a duplex ``Pipe``) until ``None``.

    Each request ``(operation, argument)`` gets one response, in order (see
    :func:`answer`). Stops at ``None``, at ``EOFError`` (the other end was
    closed) or after ``idle_timeout`` seconds without a request, then closes
    ``conn``. Returns nothing.
    """
    try:
        while conn.poll(idle_timeout):
            try:
                request = conn.recv()
            except EOFError:
                break
            if request is None:
                break
            conn.send(answer(request))
    finally:
        conn.close()


# --- what crosses the boundary -----------------------------------------------------------


def make_local_function():
    """Return a function defined inside another function (pickle cannot find it by name).

    >>> make_local_function()(2)
    3
    """

    def add_one(x):
        return x + 1

    return add_one


def pickle_cost(obj: object, repeat: int = 3) -> dict[str, float]:
    """Return what it costs to send ``obj``: pickled ``bytes``, ``dumps_s`` and ``loads_s`` seconds.

    Times ``pickle.dumps`` with the protocol ``multiprocessing`` uses and
    ``pickle.loads``, each the best of ``repeat`` runs.

    >>> cost = pickle_cost(list(range(10)))
    >>> sorted(cost), cost["bytes"] > 10
    (['bytes', 'dumps_s', 'loads_s'], True)
    """
    from multiprocessing.reduction import ForkingPickler

    _check_number("repeat", repeat, 1, integer=True)
    dumps_s = loads_s = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        data = bytes(ForkingPickler.dumps(obj))
        dumps_s = min(dumps_s, time.perf_counter() - start)
        start = time.perf_counter()
        pickle.loads(data)
        loads_s = min(loads_s, time.perf_counter() - start)
    return {"bytes": len(data), "dumps_s": dumps_s, "loads_s": loads_s}


# --- shared state ------------------------------------------------------------------------


def add_to_counter(counter, times: int, use_lock: bool, start=None) -> None:
    """Add 1 to ``counter.value`` ``times`` times; with ``use_lock``, hold ``counter.get_lock()`` for each.

    ``counter.value += 1`` is a read followed by a write. Without the lock another
    process can write between the two, and its addition is lost. If ``start`` (a
    ``multiprocessing.Barrier``) is given, waits there first (at most
    ``GET_TIMEOUT_S`` seconds), so that all adders begin at the same moment.
    Returns nothing.
    """
    _check_number("times", times, 0, integer=True)
    if start is not None:
        start.wait(timeout=GET_TIMEOUT_S)
    for _ in range(times):
        if use_lock:
            with counter.get_lock():
                counter.value += 1
        else:
            counter.value += 1


def fill_squares(array, start: int, stop: int) -> None:
    """Write ``i * i`` into ``array[i]`` for ``start <= i < stop`` (a shared ``Array``). Returns nothing."""
    _check_number("start", start, 0, integer=True)
    _check_number("stop", stop, start, integer=True)
    for i in range(start, stop):
        array[i] = i * i


def scale_shared_array(name: str, shape: tuple[int, ...], dtype: str, factor: float) -> None:
    """Multiply, in place, the NumPy array that lives in the shared-memory segment ``name``.

    Attaches to the segment by name, wraps it in an array of ``shape`` and
    ``dtype`` (no copy: the array *is* the shared memory), multiplies it by
    ``factor``, and detaches with ``close()``. It does not ``unlink()``: the
    segment belongs to whoever created it. Returns nothing.
    """
    import numpy as np

    segment = shared_memory.SharedMemory(name=name)
    try:
        array = np.ndarray(shape, dtype=dtype, buffer=segment.buf)
        array *= factor
        del array  # release the view, or close() fails: "cannot close exported pointers exist"
    finally:
        segment.close()


def record_squares(shared_dict, shared_list, numbers: Sequence[int]) -> None:
    """For each ``n`` in ``numbers``: ``shared_dict[n] = n * n`` and ``shared_list.append(n)``.

    Both arguments are ``Manager`` proxies: every item set and every append is
    one message to the manager's process and one reply. Returns nothing.
    """
    for n in numbers:
        shared_dict[n] = n * n
        shared_list.append(n)


def access_cost(container, accesses: int = 200) -> dict[str, float]:
    """Return the seconds one ``container[0] = i`` (``"write"``) and one ``container[0]`` (``"read"``) take.

    ``container`` is a dict or a non-empty list, a plain one or a ``Manager``
    proxy; each figure is the mean over ``accesses`` accesses.

    >>> cost = access_cost({}, accesses=10)
    >>> sorted(cost), all(v > 0 for v in cost.values())
    (['read', 'write'], True)
    """
    _check_number("accesses", accesses, 1, integer=True)
    start = time.perf_counter()
    for i in range(accesses):
        container[0] = i
    write = (time.perf_counter() - start) / accesses
    start = time.perf_counter()
    for _ in range(accesses):
        container[0]
    read = (time.perf_counter() - start) / accesses
    return {"write": max(write, 1e-12), "read": max(read, 1e-12)}


LEAKY_SCRIPT = """\
from multiprocessing import shared_memory

segment = shared_memory.SharedMemory(create=True, size=1024)
segment.buf[:5] = b"hello"
segment.close()  # detached from this process, but never unlink()ed
"""
"""A program that forgets ``unlink()``: its resource tracker warns at exit and removes the segment."""


def run_python_script(source: str, timeout: float = 60.0) -> str:
    """Run ``source`` in a fresh Python interpreter (this one's executable) and return its stderr.

    Raises ``subprocess.TimeoutExpired`` after ``timeout`` seconds, and
    ``RuntimeError`` if the program fails.
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a str of Python code, got {type(source).__name__}")
    _check_number("timeout", timeout, 0)
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"the script failed with exit code {done.returncode}:\n{done.stderr}")
    return done.stderr


def leak_warnings(stderr: str) -> list[str]:
    """Return the resource tracker's leak warnings found in ``stderr``, each from "resource_tracker:" on.

    The tracker prints one such line per kind of object (``semaphore``,
    ``shared_memory``) that a program left for it to clean up when it ended.
    Python 3.13 and newer append the objects' (random) names; they are cut off.

    >>> leak_warnings("x.py:1: UserWarning: resource_tracker: There appear to be 2 leaked "
    ...               "semaphore objects to clean up at shutdown: {'/mp-x', '/mp-y'}\\n  warnings.warn(...)")
    ['resource_tracker: There appear to be 2 leaked semaphore objects to clean up at shutdown']
    """
    warnings = []
    for line in stderr.splitlines():
        if "resource_tracker:" in line and "leaked" in line:
            warning = line[line.index("resource_tracker:"):]
            warnings.append(warning.split(" at shutdown")[0] + " at shutdown" if " at shutdown" in warning else warning)
    return warnings


SHM_DIR = Path("/dev/shm")
SEGMENT_PREFIXES = ("psm_", "wnsm_")
"""How the names of ``SharedMemory`` segments begin (``psm_`` on POSIX, ``wnsm_`` on Windows)."""
SEMAPHORE_PREFIXES = ("sem.mp-",)
"""How the ``/dev/shm`` files of ``multiprocessing``'s named semaphores begin (Linux)."""
IPC_PREFIXES = SEGMENT_PREFIXES + SEMAPHORE_PREFIXES


def ipc_names(
    directory: str | os.PathLike[str] = SHM_DIR, prefixes: tuple[str, ...] = IPC_PREFIXES
) -> dict[str, int] | None:
    """Return ``{name: inode}`` for the files in ``/dev/shm`` whose names begin with one of ``prefixes``.

    By default: every shared-memory segment and semaphore that ``multiprocessing``
    made, on the whole machine. Returns ``None`` where there is no such directory
    to list (macOS, Windows): there the check cannot be made this way.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return None
    found = {}
    for entry in os.scandir(directory):
        if entry.name.startswith(prefixes):
            try:
                found[entry.name] = entry.inode()
            except OSError:  # removed meanwhile
                pass
    return found


def mapped_shm_inodes() -> set[int]:
    """Return the inodes of ``/dev/shm`` files that some running process has mapped (Linux ``/proc``).

    A segment or semaphore that a live process uses is mapped into it; one that
    nobody maps any more and that still has a name is left behind.
    """
    inodes = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/maps") as maps:
                for line in maps:
                    fields = line.split(maxsplit=5)
                    if len(fields) == 6 and fields[5].startswith("/dev/shm/"):
                        inodes.add(int(fields[4]))
        except (OSError, ValueError):  # the process ended, or is not ours to read
            continue
    return inodes


def orphaned_ipc_names(
    before: Mapping[str, int] | None,
    settle: float = 2.0,
    directory: str | os.PathLike[str] = SHM_DIR,
    prefixes: tuple[str, ...] = IPC_PREFIXES,
) -> list[str]:
    """Return the names (of ``prefixes``) created since ``before`` that no process uses any more.

    ``before`` is what :func:`ipc_names` returned earlier. A name counts as left
    behind if it is new, still exists, and no running process maps it; such names
    are looked at again for up to ``settle`` seconds (a segment is unmapped for an
    instant while it is being created). Names that live objects of this or another
    process still use are not counted: they go when their owner frees them or
    exits. Returns ``[]`` where ``/dev/shm`` cannot be listed (see :func:`ipc_names`).

    ``/dev/shm`` is shared by the whole machine: when other programs run at the
    same time, their own leftovers count too. Names do not say who made them.
    """
    if before is None:
        return []
    deadline = time.monotonic() + settle
    while True:
        now = ipc_names(directory, prefixes) or {}
        new = {name: inode for name, inode in now.items() if before.get(name) != inode}
        in_use = mapped_shm_inodes() if new else set()
        orphans = sorted(name for name, inode in new.items() if inode not in in_use)
        if not orphans or time.monotonic() >= deadline:
            return orphans
        time.sleep(0.2)


# --- exercise checks -------------------------------------------------------------------------


def check_all_received(received: object, producers: Sequence[str] = ("A", "B"), count: int = 4) -> bool:
    """Exercise check: did the consumers, together, receive every item, each in order per producer?

    ``received`` maps each consumer's name to the list of items it received.
    """
    from helpers.exercises import feedback

    if not isinstance(received, Mapping) or not all(isinstance(v, list) for v in received.values()):
        return feedback(False, "", "Give a dict: consumer name -> list of the items that consumer received.")
    everything = [item for items in received.values() for item in items]
    expected = expected_items(producers, count)
    if sorted(everything) != expected:
        missing = sorted(set(expected) - set(everything))
        return feedback(
            False, "",
            f"The consumers received {len(everything)} items, {len(expected)} were put"
            + (f"; missing for example {missing[:3]}" if missing else "")
            + ". Did every consumer get its own sentinel, after all producers finished?",
        )
    if not all(in_order_per_producer(items) for items in received.values()):
        return feedback(False, "", "Some consumer received a producer's items out of order: are you sorting or reordering them?")
    return feedback(
        True,
        f"Right: {len(expected)} items, none lost, each consumer saw every producer's items in the order they were put.",
        "",
    )


def check_deadlock_prediction(answer: object) -> bool:
    """Exercise check: ``answer`` maps a result size in bytes to True if joining before reading hangs."""
    from helpers.exercises import feedback

    right = {100: False, 10_000_000: True}
    if not isinstance(answer, Mapping) or set(answer) != set(right):
        return feedback(False, "", "Give a dict with the keys 100 and 10_000_000, each True (hangs) or False.")
    wrong = [size for size in right if answer[size] is not right[size]]
    return feedback(
        not wrong,
        "Right: 100 bytes fit in the pipe's buffer, so the feeder thread finishes and the child exits; "
        "10 MB do not, so the child waits for a reader.",
        f"Not quite for {wrong}: how much can the pipe hold before somebody reads?",
    )


def check_square_responses(responses: object) -> bool:
    """Exercise check: are ``responses`` the server's answers to squaring 1 to 5, in order?"""
    from helpers.exercises import feedback

    right = [("ok", n * n) for n in range(1, 6)]
    if not isinstance(responses, list):
        return feedback(False, "", f"Give a list of the five responses, got a {type(responses).__name__}.")
    return feedback(
        responses == right,
        "Right: a Pipe keeps order, so five requests sent at once get their five responses in the same order.",
        f"Expected five responses like ('ok', 1), ('ok', 4) ...; got {responses!r}.",
    )


CROSSING_OBJECTS = (
    "a dict of lists",
    "a lambda",
    "helpers.ipc.produce",
    "a generator",
    "a NumPy array",
    "a multiprocessing.Lock",
)
"""The objects of the pickling exercise, in the order the exercise lists them."""


def check_crosses(answer: object) -> bool:
    """Exercise check: ``answer`` maps each of :data:`CROSSING_OBJECTS` to True if it can be pickled and sent."""
    from helpers.exercises import feedback

    right = {
        "a dict of lists": True,
        "a lambda": False,
        "helpers.ipc.produce": True,
        "a generator": False,
        "a NumPy array": True,
        "a multiprocessing.Lock": False,
    }
    if not isinstance(answer, Mapping) or set(answer) != set(right):
        return feedback(False, "", f"Give a dict with exactly these keys: {', '.join(CROSSING_OBJECTS)}.")
    wrong = [name for name in CROSSING_OBJECTS if answer[name] is not right[name]]
    return feedback(
        not wrong,
        "Right: data and importable functions pickle; lambdas, generators and locks sent through a queue or pipe do not.",
        f"Not quite: look again at {', '.join(wrong)}. Try pickle.dumps on each.",
    )


def check_scaled(result: object) -> bool:
    """Exercise check: is ``result`` the numbers 1 to 8 times 10, read out of the shared segment in time?"""
    from helpers.exercises import feedback

    try:
        values = [int(v) for v in result]
    except Exception:
        return feedback(False, "", f"Give the scaled numbers as a list (or an array), got {result!r}.")
    return feedback(
        values == [10 * n for n in range(1, 9)],
        "Right: the child scaled the numbers in place, and you copied them out before the manager freed the segment.",
        f"Expected 10, 20 ... 80, got {values}. Did the child run to the end, and did you copy before the with block ended?",
    )


def check_crossover(answer: object, rows) -> bool:
    """Exercise check: the smallest size in ``rows`` at which shared memory moved more MB/s than Queue (or None)."""
    from helpers.exercises import feedback

    queue_rate = {r.size: r.mb_per_s for r in rows if r.transport == "queue"}
    shm_rate = {r.size: r.mb_per_s for r in rows if r.transport == "shared_memory"}
    faster = sorted(size for size in shm_rate if size in queue_rate and shm_rate[size] > queue_rate[size])
    right = faster[0] if faster else None
    return feedback(
        answer == right,
        "Right: you read the crossover off this run's measurements (it moves from run to run and machine to machine).",
        f"Not {answer!r}: compare r.mb_per_s of the 'shared_memory' and 'queue' rows size by size.",
    )

"""Instruments for the chapters on messages (03) and shared memory (04).

What the parent uses to look at data passing between processes: which items
arrived and in what order, a ``JoinableQueue.join()`` with a timeout, what pickling
costs, what a manager proxy costs, the resource tracker's leak warnings, and which
shared-memory segments a program left behind in ``/dev/shm``. The workers the
chapters run are in ``helpers/messages.py`` and ``helpers/sharing.py``; the
exercise checks are in :mod:`helpers.lab.ipc_checks`.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Iterable, Mapping, Sequence
from multiprocessing.queues import JoinableQueue
from pathlib import Path

from helpers.lab.args import check_int, check_seconds

# --- which items arrived ---------------------------------------------------------------


def expected_items(producers: Sequence[str], count: int) -> list[tuple[str, int]]:
    """Return every item that ``produce`` makes for these producers, producer by producer.

    >>> expected_items(["A", "B"], 2)
    [('A', 0), ('A', 1), ('B', 0), ('B', 1)]
    """
    return [(p, i) for p in producers for i in range(count)]


def items_by_producer(items: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    """Return the item numbers of each producer, in the order they were received.

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


def join_with_timeout(joinable_queue, timeout: float) -> None:
    """Call ``joinable_queue.join()``, but raise ``TimeoutError`` after ``timeout`` seconds.

    ``JoinableQueue.join()`` has no timeout of its own: it waits on the queue's
    condition until every item put has been matched by a ``task_done()``. This
    waits on that condition with a timeout, so after a timeout nothing is left
    waiting (a helper thread blocked in ``join()`` would wait for ever).
    """
    if not isinstance(joinable_queue, JoinableQueue):
        raise TypeError(f"joinable_queue must be a multiprocessing.JoinableQueue, got {type(joinable_queue).__name__}")
    timeout = check_seconds("timeout", timeout)
    # No public API waits with a timeout, so this is join()'s own code (the same in
    # CPython 3.10 to 3.14) with wait_for(..., timeout) in place of wait(): task_done()
    # notifies this condition when the count of unfinished tasks reaches zero.
    deadline = time.monotonic() + timeout
    condition, unfinished = joinable_queue._cond, joinable_queue._unfinished_tasks
    all_done = False
    if condition.acquire(True, timeout):
        try:
            all_done = condition.wait_for(unfinished._semlock._is_zero, max(0.0, deadline - time.monotonic()))
        finally:
            condition.release()
    if not all_done:
        raise TimeoutError(
            f"tasks.join() did not return within {timeout:g} s: "
            "some item got no task_done() (is a worker dead or stuck?)"
        )


# --- what crosses the boundary, and what it costs ----------------------------------------


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

    Times ``dumps`` with the pickler ``multiprocessing`` uses and ``pickle.loads``,
    each the best of ``repeat`` runs.

    >>> cost = pickle_cost(list(range(10)))
    >>> sorted(cost), cost["bytes"] > 10
    (['bytes', 'dumps_s', 'loads_s'], True)
    """
    from multiprocessing.reduction import ForkingPickler

    check_int("repeat", repeat, 1, 100)
    dumps_s = loads_s = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        data = bytes(ForkingPickler.dumps(obj))
        dumps_s = min(dumps_s, time.perf_counter() - start)
        start = time.perf_counter()
        pickle.loads(data)
        loads_s = min(loads_s, time.perf_counter() - start)
    return {"bytes": len(data), "dumps_s": dumps_s, "loads_s": loads_s}


def access_cost(container, accesses: int = 200) -> dict[str, float]:
    """Return the seconds one ``container[0] = i`` (``"write"``) and one ``container[0]`` (``"read"``) take.

    ``container`` is a dict or a non-empty list, plain or a manager proxy; each
    figure is the mean over ``accesses`` accesses.

    >>> cost = access_cost({}, accesses=10)
    >>> sorted(cost), all(v > 0 for v in cost.values())
    (['read', 'write'], True)
    """
    check_int("accesses", accesses, 1)
    start = time.perf_counter()
    for i in range(accesses):
        container[0] = i
    write = (time.perf_counter() - start) / accesses
    start = time.perf_counter()
    for _ in range(accesses):
        container[0]
    read = (time.perf_counter() - start) / accesses
    return {"write": max(write, 1e-12), "read": max(read, 1e-12)}


# --- the resource tracker, and what is left in /dev/shm -------------------------------------

LEAKY_SCRIPT = """\
from multiprocessing import shared_memory

segment = shared_memory.SharedMemory(create=True, size=1024)
segment.buf[:5] = b"hello"
segment.close()  # detached from this process, but never unlink()ed
"""
"""A program that forgets ``unlink()``: its resource tracker warns at exit and removes the segment."""


def leak_warnings(stderr: str) -> list[str]:
    """Return the resource tracker's leak warnings in ``stderr``, each from "resource_tracker:" on.

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
            if " at shutdown" in warning:
                warning = warning.split(" at shutdown")[0] + " at shutdown"
            warnings.append(warning)
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
    instant while it is being created). Names that live objects still use are not
    counted: they go when their owner frees them or exits. Returns ``[]`` where
    ``/dev/shm`` cannot be listed (see :func:`ipc_names`).

    ``/dev/shm`` is shared by the whole machine: when other programs run at the
    same time, their own leftovers count too. Names do not say who made them.
    """
    if before is None:
        return []
    check_seconds("settle", settle, 0, 60)
    deadline = time.monotonic() + settle
    while True:
        now = ipc_names(directory, prefixes) or {}
        new = {name: inode for name, inode in now.items() if before.get(name) != inode}
        in_use = mapped_shm_inodes() if new else set()
        orphans = sorted(name for name, inode in new.items() if inode not in in_use)
        if not orphans or time.monotonic() >= deadline:
            return orphans
        time.sleep(0.2)

"""Instruments for two recipes of chapter 04: what a shared dataset costs each worker, and
what returning a large result costs.

:func:`worker_growth` runs one task in each worker of a fresh pool and has every worker
report how much *private* memory it gained while it ran: its USS (unique set size, the
pages that this process alone holds, read by ``psutil`` from ``/proc/PID/smaps``) after
the task, less its USS before. A copy of the dataset made in a worker is private to it
and counts; pages that the worker shares with the parent or with the other workers
(copy-on-write pages nobody wrote, shared memory, a file's pages in the page cache) do
not. Every worker waits at a barrier after its task and only then measures, so that
each worker takes exactly one task and all of them have read everything when they
measure. A page a write has copied stays copied for the rest of the worker's life, so
the growth measured then is the peak.

:func:`time_result_return` times two ways of getting one large NumPy result from a pool
worker: returned (pickled in the worker, sent through the result pipe, unpickled in the
parent) and written into a ``SharedMemory`` segment that the parent created.
The workers themselves are in ``helpers/sharing.py``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from multiprocessing import shared_memory

from helpers.lab.args import check_int, check_seconds

MB = 1_000_000

_together = None  # the barrier of the pool this worker belongs to (set by _start_measured)


def own_uss() -> int:
    """Return this process's unique set size in bytes: the memory that only it holds."""
    import psutil

    return psutil.Process().memory_full_info().uss


def records(count: int) -> list[list]:
    """Return ``count`` records ``[id, value]``: a list of small lists, like rows read from a CSV."""
    check_int("count", count, 1)
    return [[i, i * 0.5] for i in range(count)]


def _start_measured(initializer: Callable, initargs: tuple, together) -> None:
    """Pool initializer of :func:`worker_growth`: keep the barrier, then run the real initializer."""
    global _together
    _together = together
    initializer(*initargs)


def _measured(task: Callable, arg: object, timeout: float) -> tuple[object, int, int]:
    """Run task(arg); after every worker's task has run, return (result, USS growth, pid)."""
    before = own_uss()
    result = task(arg)
    _together.wait(timeout=timeout)  # every worker has read everything: now measure
    return result, own_uss() - before, os.getpid()


def worker_growth(ctx, initializer: Callable, initargs: tuple, task: Callable, *,
                  workers: int = 2, timeout: float = 60.0) -> list[int]:
    """Run ``task`` once in each of ``workers`` pool workers started by ``ctx``; return each one's USS growth.

    The pool is made with ``initializer(*initargs)`` as its initializer, so ``initargs``
    reach each worker as a ``Process`` argument does: inherited under fork, pickled under
    spawn and forkserver. The results of the tasks are checked to be all equal.
    """
    check_int("workers", workers, 1, 16)
    check_seconds("timeout", timeout)
    together = ctx.Barrier(workers)
    with ctx.Pool(workers, initializer=_start_measured, initargs=(initializer, initargs, together)) as pool:
        pending = [pool.apply_async(_measured, (task, n, timeout)) for n in range(workers)]
        answers = [p.get(timeout) for p in pending]
    results = {repr(result) for result, _, _ in answers}
    if len(results) != 1:
        raise RuntimeError(f"the workers' results differ: {sorted(results)}")
    if len({pid for _, _, pid in answers}) != workers:
        raise RuntimeError("one worker ran two tasks: the barrier did not hold")
    return [growth for _, growth, _ in answers]


def growth_table(growth: Mapping[str, Sequence[int]], dataset_mb: Mapping[str, float]) -> str:
    """Format a table: each way, the dataset's size and each worker's private growth, in MB."""
    width = max(len(way) for way in growth) + 2
    lines = [f"{'way':<{width}}{'dataset':>9}  private memory added per worker"]
    for way, per_worker in growth.items():
        added = ", ".join(f"{max(g, 0) / MB:6.1f} MB" for g in per_worker)  # USS may shrink a little
        lines.append(f"{way:<{width}}{dataset_mb[way]:6.1f} MB  {added}")
    return "\n".join(lines)


def copies_per_worker(growth: Mapping[str, Sequence[int]], dataset_mb: Mapping[str, float],
                      share: float = 0.25) -> dict[str, bool]:
    """Say for each way whether its workers made a copy: True when each worker's growth is
    at least ``share`` of the dataset's size."""
    return {way: min(per_worker) >= share * dataset_mb[way] * MB for way, per_worker in growth.items()}


def describe_copies(growth: Mapping[str, Sequence[int]], dataset_mb: Mapping[str, float]) -> str:
    """One sentence per way, from the data: how much of the dataset each worker copied."""
    lines = []
    for way, per_worker in growth.items():
        share = max(0.0, min(per_worker) / (dataset_mb[way] * MB))
        lines.append(f"{way}: each worker added at least {share:.0%} of the dataset's size in private memory.")
    return "\n".join(lines)


# --- large results: returned through the pipe, or written into shared memory ---------------


def time_result_return(pool, make_result: Callable, make_result_into: Callable, count: int, *,
                       repeats: int = 3, timeout: float = 60.0) -> dict[str, float]:
    """Time the fastest of ``repeats`` runs of each way of getting ``count`` float64s from a worker.

    ``"returned"``: ``pool.apply_async(make_result, (0, count)).get(timeout)``.
    ``"shared memory"``: create a segment, ``make_result_into(name, 0, count)`` in the
    worker, view the result in the parent, close and unlink. Each way's result is
    checked against the other's once.
    """
    check_int("count", count, 1)
    check_int("repeats", repeats, 1, 100)
    check_seconds("timeout", timeout)
    import numpy as np

    best = {"returned": float("inf"), "shared memory": float("inf")}
    for _ in range(repeats):
        began = time.perf_counter()
        returned = pool.apply_async(make_result, (0, count)).get(timeout)
        best["returned"] = min(best["returned"], time.perf_counter() - began)

        began = time.perf_counter()
        segment = shared_memory.SharedMemory(create=True, size=count * 8)
        try:
            pool.apply_async(make_result_into, (segment.name, 0, count)).get(timeout)
            result = np.ndarray((count,), dtype=np.float64, buffer=segment.buf)
            best["shared memory"] = min(best["shared memory"], time.perf_counter() - began)
            same = bool(np.array_equal(result, returned))
            del result
        finally:
            segment.close()
            segment.unlink()
        if not same:
            raise RuntimeError("the two ways gave different results")
    return best


def describe_result_times(times: Mapping[str, float], nbytes: int) -> str:
    """One sentence from the data: each way's time and which was faster, by how much."""
    returned, shared = times["returned"], times["shared memory"]
    faster = "shared memory" if shared < returned else "returning it"
    ratio = max(returned, shared) / min(returned, shared)
    return (f"A {nbytes / MB:.0f} MB result: returned through the pool in {returned * 1000:.1f} ms, "
            f"written into shared memory in {shared * 1000:.1f} ms (fastest of the runs); "
            f"{faster} was {ratio:.1f}x faster here.")

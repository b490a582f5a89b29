"""Start a pool and wait until every worker is ready: the start-up half of a fair benchmark.

``multiprocessing.Pool(n)`` returns as soon as it has launched ``n`` processes,
before they have started their interpreters and imported anything, so timing
the first ``map`` on a fresh pool mixes start-up into the work. :func:`start_pool`
gives each worker one warm-up job that waits at a barrier until *every* worker
holds one, then runs the task once on a trivial argument. A worker blocked at
the barrier cannot take a second warm-up job, so when all jobs have returned,
all ``n`` workers are running and have imported what the task needs.

This module is small on purpose: every spawned worker imports it (for the pool
initializer and the warm-up job), and whatever it imports lengthens the
start-up being measured. :mod:`helpers.lab.bench` does the timing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from multiprocessing.pool import ThreadPool

from helpers.lab.args import check_choice, check_int

WARM_UP_TIMEOUT_S = 30.0
KINDS = ("threads", "processes")

_barrier = None  # in a worker process: the barrier its pool's initializer handed over


def set_barrier(barrier) -> None:
    """Pool initializer: keep the start-up barrier (a barrier reaches a child process only this way)."""
    global _barrier
    _barrier = barrier


def warm_up(job: tuple[Callable, object], barrier=None) -> tuple[int, int]:
    """Wait at the barrier until every worker holds a warm-up job, run ``func(arg)`` once; return (pid, thread id).

    ``job`` is ``(func, arg)``. ``barrier`` is given for threads; worker
    processes use the one :func:`set_barrier` stored. A barrier that does not
    fill within ``WARM_UP_TIMEOUT_S`` raises ``threading.BrokenBarrierError``.
    """
    func, arg = job
    (barrier or _barrier).wait(timeout=WARM_UP_TIMEOUT_S)
    func(arg)
    return os.getpid(), threading.get_ident()


class ThreadWarmUp:
    """The warm-up job of a thread pool: the threads share one ``threading.Barrier``."""

    def __init__(self, barrier: threading.Barrier) -> None:
        self.barrier = barrier

    def __call__(self, job: tuple[Callable, object]) -> tuple[int, int]:
        return warm_up(job, self.barrier)


def start_pool(kind: str, workers: int, warm_job: tuple[Callable, object], ctx=None):
    """Return a ``Pool`` (``kind="processes"``) or ``ThreadPool`` (``"threads"``) whose ``workers`` are all running.

    ``warm_job`` is ``(func, arg)``: each worker runs ``func(arg)`` once before
    the pool is returned. ``ctx`` is the multiprocessing context for process
    pools (default: the current default start method). If a worker fails to
    start, the pool is terminated and the error (or a ``TimeoutError``) raised; a
    worker that dies raises ``ChildProcessError`` at once (:func:`helpers.lab.results.pool_result`).
    """
    import multiprocessing

    from helpers.lab.results import pool_result  # here, not at the top: workers import this module

    check_choice("kind", kind, KINDS)
    check_int("workers", workers, 1)
    if kind == "processes":
        ctx = ctx or multiprocessing.get_context()
        pool = ctx.Pool(workers, initializer=set_barrier, initargs=(ctx.Barrier(workers),))
        job = warm_up
    else:
        pool = ThreadPool(workers)
        job = ThreadWarmUp(threading.Barrier(workers))
    try:
        answers = pool_result(pool, pool.map_async(job, [warm_job] * workers, chunksize=1), WARM_UP_TIMEOUT_S + 5)
        if len(set(answers)) != workers:  # the barrier rules this out; check the guarantee anyway
            raise RuntimeError(f"expected {workers} different workers to answer, got {len(set(answers))}")
    except BaseException:
        pool.terminate()
        raise
    return pool

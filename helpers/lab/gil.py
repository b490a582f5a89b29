"""The introduction's first measurement: one workload run serially, on threads, on processes."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

from helpers.workloads import count_primes


def _timed_map(executor: Executor | None, func: Callable, tasks: Sequence) -> tuple[float, list]:
    start = time.perf_counter()
    if executor is None:
        results = [func(task) for task in tasks]
    else:
        with executor:
            results = list(executor.map(func, tasks, timeout=300))
    return time.perf_counter() - start, results


def three_ways(tasks: Sequence[int], workers: int = 2, func: Callable = count_primes) -> dict:
    """Run ``func`` over ``tasks`` serially, on a thread pool and on a process pool.

    Returns ``{"serial": s, "threads": s, "processes": s, "results": [...]}`` with
    wall times in seconds (pool start-up included: it is part of the price) and
    the serial results, after checking that all three ways agree.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an int >= 1, got {workers!r}")
    if not tasks:
        raise ValueError("tasks must not be empty")
    serial, expected = _timed_map(None, func, tasks)
    threads, by_threads = _timed_map(ThreadPoolExecutor(workers), func, tasks)
    processes, by_processes = _timed_map(ProcessPoolExecutor(workers), func, tasks)
    if not expected == by_threads == by_processes:
        raise RuntimeError("the three ways gave different results")
    return {"serial": serial, "threads": threads, "processes": processes, "results": expected}


def check_fastest_for_waiting(answer: object) -> bool:
    """Exercise check: which way finishes first when every task only waits?"""
    from helpers.lab.exercises import feedback

    ways = ("serial", "threads", "processes")
    if answer not in ways:
        return feedback(False, "", f"Answer with one of {ways}, as a string; you gave {answer!r}.")
    return feedback(
        answer == "threads",
        "Right: a waiting thread releases the GIL, and threads cost far less to start than processes.",
        f"Not {answer!r}: look at how long each way took, and at what a waiting thread does with the GIL.",
    )

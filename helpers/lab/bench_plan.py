"""How a speedup benchmark is planned: which worker counts, how many tasks, what to expect.

Strong scaling compares worker counts on the *same* total work. The work is
split into equal tasks, and their number is a multiple of every worker count
tried, so that with ``chunksize=1`` each worker gets the same number of tasks
and nobody waits idle through a last, partial round. (Twelve tasks on eight
workers take two rounds, like twelve tasks on six: the speedup then stops at 6
on an 8-CPU machine for a reason that has nothing to do with the CPUs.)

:func:`default_worker_counts` picks counts whose least common multiple stays
small (1, 2, 3, 4, 6, 8, 12, 16, 24, ...) and adds the machine's CPU and core
counts; :func:`even_task_count` returns the task count they all divide;
:func:`uneven_counts` names the counts a given task count does not divide.
:func:`expectation` says in one sentence what the reader should expect here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from helpers.lab.args import check_int, check_int_list
from helpers.lab.bench_results import gil_enabled, uneven_counts
from helpers.lab.machine import compute_cores, effective_cpus

__all__ = ["EVEN_COUNTS", "MAX_WORKERS_LIMIT", "default_max_workers", "default_worker_counts", "even_task_count",
           "expectation", "uneven_counts"]

MAX_WORKERS_LIMIT = 256
EVEN_COUNTS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)


def default_max_workers(cpus: int | None = None) -> int:
    """Return the largest worker count a sweep tries by default: ``max(4, 2 x cpus)``.

    Twice the CPUs shows what happens past the CPU count; at least 4 so that a
    one-CPU machine still draws a curve.

    >>> default_max_workers(1), default_max_workers(2), default_max_workers(8)
    (4, 4, 16)
    """
    cpus = effective_cpus() if cpus is None else cpus
    return max(4, 2 * cpus)


def default_worker_counts(max_workers: int | None = None, *, cpus: int | None = None,
                          cores: int | None = None) -> list[int]:
    """Return the worker counts a sweep tries: 1, 2, 3, 4, 6, 8, 12, 16, 24, ... up to ``max_workers``.

    The CPU count and the core count are added where they are not in that series
    (the curve bends there), and so is ``max_workers`` itself. ``max_workers``
    defaults to :func:`default_max_workers`.

    >>> default_worker_counts(cpus=2, cores=2)
    [1, 2, 3, 4]
    >>> default_worker_counts(cpus=8, cores=4)
    [1, 2, 3, 4, 6, 8, 12, 16]
    >>> default_worker_counts(cpus=10, cores=10)
    [1, 2, 3, 4, 6, 8, 10, 12, 16, 20]
    """
    cpus = effective_cpus() if cpus is None else check_int("cpus", cpus, 1)
    cores = compute_cores(cpus, cores)
    top = default_max_workers(cpus) if max_workers is None else check_int("max_workers", max_workers, 1, MAX_WORKERS_LIMIT)
    counts = {n for n in EVEN_COUNTS if n <= top} | {n for n in (cpus, cores, top) if n <= top}
    return sorted(counts)


def even_task_count(workers: Iterable[int], at_least: int = 1) -> int:
    """Return the smallest multiple of every count in ``workers`` that is at least ``at_least``.

    >>> even_task_count([1, 2, 3, 4], 40), even_task_count([1, 2, 3, 4, 6, 8, 12, 16])
    (48, 48)
    """
    counts = check_int_list("workers", workers, 1, MAX_WORKERS_LIMIT)
    at_least = check_int("at_least", at_least, 1)
    step = math.lcm(*counts)
    return step * math.ceil(at_least / step)


def expectation(cpus: int | None = None, cores: int | None = None, gil: bool | None = None) -> str:
    """Return what a reader should expect of CPU-bound speedups here, in one or two sentences.

    It names the effective CPUs, the whole cores among them where those are fewer
    (hyperthreads), and what threads should do on this interpreter (GIL-bound or
    free-threaded).

    >>> expectation(1, 1).startswith("This machine has 1 effective CPU:")
    True
    >>> print(expectation(8, 4, gil=True))
    This machine has 8 effective CPUs on 4 physical cores: CPU-bound processes should approach a speedup of 4 at 4 workers, then rise more slowly up to 8 workers (two hyperthreads share one core), and stop rising there. GIL-bound threads should stay near 1.
    """
    cpus = effective_cpus() if cpus is None else cpus
    cores = compute_cores(cpus, cores)
    gil = gil_enabled() if gil is None else gil
    if cpus == 1:
        return (
            "This machine has 1 effective CPU: processes have no second core to run on, so their "
            "speedup stays near 1 (or below, after paying for start-up); only waiting tasks speed up."
        )
    threads = ("GIL-bound threads should stay near 1." if gil else
               "Free-threaded threads (no GIL) should rise much like processes, without the start-up.")
    if cores < cpus:
        return (
            f"This machine has {cpus} effective CPUs on {cores} physical cores: CPU-bound processes should "
            f"approach a speedup of {cores} at {cores} workers, then rise more slowly up to {cpus} workers "
            f"(two hyperthreads share one core), and stop rising there. {threads}"
        )
    return (
        f"This machine has {cpus} effective CPUs: CPU-bound processes should approach a speedup of "
        f"{cpus} at {cpus} workers and stop rising there. {threads}"
    )

"""Instruments for the chapters on locks (07) and signals (08).

- :func:`join_all` joins a list of processes with one deadline and never hangs;
- :func:`measure_locking_cost` and :func:`plot_locking_cost` time a lock per
  increment against counting locally and locking once (:data:`STRATEGIES`);
- :func:`holders_at_once` and :func:`phases_in_order` read the timelines that
  the semaphore and barrier workers of :mod:`helpers.sync` report.

The exercise checks are in :mod:`helpers.lab.sync_checks`.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterable, Sequence

from helpers.lab.args import check_int, check_int_list, check_seconds
from helpers.lab.machine import machine_label
from helpers.lab.results import end_process, pool_result
from helpers.lab.timeline import Span, max_concurrency
from helpers.sync import add_locally_then_lock, add_with_lock


def join_all(processes: Iterable[multiprocessing.process.BaseProcess], timeout: float = 10.0) -> list[int]:
    """Join every process, waiting at most ``timeout`` seconds in all; return their exit codes.

    A process still running at the deadline is terminated (so nothing is left
    behind) and ``TimeoutError`` names it: a mistake fails in seconds, never hangs.
    """
    processes = list(processes)
    deadline = time.monotonic() + check_seconds("timeout", timeout)
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = [p for p in processes if end_process(p, timeout=0)]
    if stuck:
        names = ", ".join(p.name for p in stuck)
        raise TimeoutError(f"still running after {timeout:g} s, so terminated: {names}")
    return [p.exitcode for p in processes]


# --- what locking costs ------------------------------------------------------------------

# The two ways to add to a shared counter that measure_locking_cost compares: a name for
# the figure's legend, and the worker of helpers/sync.py that does it.
_STRATEGY_WORKERS = {
    "lock each increment": add_with_lock,
    "count locally, lock once": add_locally_then_lock,
}
STRATEGIES = tuple(_STRATEGY_WORKERS)

_pool_state: dict = {}  # what _install_timed gives each pool worker of measure_locking_cost


def _install_timed(lock, counter, start) -> None:
    """Pool initializer of :func:`measure_locking_cost`: keep the lock, counter and start Barrier."""
    _pool_state.update(lock=lock, counter=counter, start=start)


def _timed_strategy(strategy: str, increments: int) -> float:
    """Pool task: wait for the other workers, then add ``increments`` with ``strategy``; return the seconds."""
    worker = _STRATEGY_WORKERS[strategy]
    _pool_state["start"].wait(30)  # all workers begin together, so that they contend for the lock
    begin = time.perf_counter()
    worker(_pool_state["lock"], _pool_state["counter"], increments)
    return time.perf_counter() - begin


def measure_locking_cost(
    sizes: Sequence[int] = (1_000, 3_000, 10_000, 30_000), workers: int = 2, repeats: int = 3
) -> dict:
    """Time the two :data:`STRATEGIES` on ``workers`` processes for each number of increments in ``sizes``.

    Returns ``{"sizes": [...], "workers": w, strategy: [seconds per size] ...}``:
    for each size, the best of ``repeats`` runs of the slowest worker (the time
    until the last worker is done). Raises ``RuntimeError`` if a total is ever
    wrong. The book runs small sizes so that a chapter executes quickly; pass
    e.g. ``sizes=(1_000, 10_000, 100_000, 1_000_000)`` for a fuller curve.
    """
    sizes = check_int_list("sizes", sizes, 1, 10_000_000)
    check_int("workers", workers, 1, 64)
    check_int("repeats", repeats, 1, 100)
    lock = multiprocessing.Lock()
    counter = multiprocessing.Value("q", 0, lock=False)  # the Lock above protects it
    start = multiprocessing.Barrier(workers)
    result: dict = {"sizes": sizes, "workers": workers, **{s: [] for s in STRATEGIES}}
    with multiprocessing.Pool(workers, initializer=_install_timed, initargs=(lock, counter, start)) as pool:
        for n in sizes:
            for strategy in STRATEGIES:
                runs = []
                for _ in range(repeats):
                    counter.value = 0
                    tasks = [(strategy, n)] * workers
                    seconds = pool_result(pool, pool.starmap_async(_timed_strategy, tasks, chunksize=1), 120)
                    if counter.value != workers * n:
                        raise RuntimeError(f"{strategy!r} counted {counter.value}, expected {workers * n}")
                    runs.append(max(seconds))
                result[strategy].append(min(runs))
    return result


def plot_locking_cost(result: dict, ax=None):
    """Draw :func:`measure_locking_cost`'s result (seconds against increments, log-log); return the Axes."""
    import matplotlib.pyplot as plt

    missing = [key for key in ("sizes", "workers", *STRATEGIES) if key not in result]
    if missing:
        raise ValueError(f"result lacks {missing}: pass what measure_locking_cost returned")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    for strategy, marker in zip(STRATEGIES, "os"):
        ax.plot(result["sizes"], result[strategy], marker=marker, label=strategy)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"increments per worker ({result['workers']} workers)")
    ax.set_ylabel("time until all done (s)")
    ax.set_title(f"What a lock per increment costs\n{machine_label()}", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    ax.figure.tight_layout()
    return ax


# --- reading the timelines of chapter 08 ---------------------------------------------------


def holders_at_once(spans: Iterable[Span]) -> int:
    """Return the largest number of ``"using"`` spans that overlap: how many held the semaphore at once.

    >>> holders_at_once([Span("a", "using", 0, 2), Span("b", "using", 1, 3), Span("c", "waiting", 0, 3)])
    2
    """
    using = [s for s in spans if s.label == "using"]
    if not using:
        raise ValueError('spans has no "using" span: pass what the use_resource workers reported')
    return max_concurrency(using)


def phases_in_order(spans: Iterable[Span]) -> bool:
    """Return True if no ``"phase N+1"`` span starts before every ``"phase N"`` span has ended.

    >>> phases_in_order([Span("a", "phase 1", 0, 1), Span("b", "phase 1", 0, 2), Span("a", "phase 2", 2, 3)])
    True
    >>> phases_in_order([Span("a", "phase 1", 0, 1), Span("b", "phase 1", 0, 2), Span("a", "phase 2", 1, 3)])
    False
    """
    by_phase: dict[int, list[Span]] = {}
    for span in spans:
        if span.label.startswith("phase "):
            by_phase.setdefault(int(span.label.split()[1]), []).append(span)
    if not by_phase:
        raise ValueError('spans has no "phase N" span: pass what the phased_work workers reported')
    phases = sorted(by_phase)
    return all(
        max(s.end for s in by_phase[a]) <= min(s.start for s in by_phase[b]) for a, b in zip(phases, phases[1:])
    )

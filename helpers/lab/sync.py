"""Instruments for the chapters on locks (07) and signals (08).

- :func:`join_all` joins a list of processes with one deadline and never hangs;
- :func:`measure_locking_cost` times one increment of a counter, taken apart:
  a local variable, the shared ``Value`` without and with its lock, in one
  process and in several, and counting locally instead (:func:`cost_plan`);
  :func:`locking_cost_table`, :func:`locking_cost_summary` and
  :func:`plot_locking_cost` show the result;
- :func:`holders_at_once`, :func:`phases_in_order` and :func:`describe_phases`
  read the timelines that the semaphore and barrier workers of :mod:`helpers.sync` report.

The exercise checks are in :mod:`helpers.lab.sync_checks`.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterable
from typing import NamedTuple

from helpers.lab.args import check_int, check_seconds
from helpers.lab.machine import effective_cpus, machine_label
from helpers.lab.results import collect, end_process
from helpers.lab.timeline import Span, max_concurrency
from helpers.sync import add_locally_then_lock, add_to_raw_value, add_with_value_lock, count_locally


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

# The ways to count that measure_locking_cost compares: a name for the figure, and how a
# child process runs it on the shared Value (synchronized, so it has its own RLock) and a
# number of increments. Each calls a worker of helpers/sync.py, which the chapter shows.
_VARIANT_CALLS = {
    "local variable": lambda counter, n: count_locally(n),
    "Value, no lock (get_obj())": lambda counter, n: add_to_raw_value(counter, n),
    "Value with its lock": lambda counter, n: add_with_value_lock(counter, n),
    "count locally, lock once": lambda counter, n: add_locally_then_lock(counter.get_lock(), counter, n),
    "count locally, return it": lambda counter, n: count_locally(n),
}
VARIANTS = tuple(_VARIANT_CALLS)
RETURNS_COUNT = ("local variable", "count locally, return it")  # the parent sums what these return
UNLOCKED = "Value, no lock (get_obj())"  # right in one process, racy in several


class IncrementCost(NamedTuple):
    """One bar of :func:`plot_locking_cost`: ``variant`` run by ``processes`` processes at once."""

    variant: str
    processes: int
    ns: float  # nanoseconds per increment in the slowest process, best of the repeats
    total: int  # the count it came to (the smallest, over the repeats)
    expected: int  # processes * increments

    @property
    def label(self) -> str:
        return f"{self.variant}, {self.processes} process{'es' if self.processes > 1 else ''}"

    @property
    def lost(self) -> int:
        return self.expected - self.total


def cost_plan(processes: int) -> list[tuple[str, int]]:
    """Return the (variant, processes) pairs :func:`measure_locking_cost` times, in the figure's order.

    >>> cost_plan(2)[:3]
    [('local variable', 1), ('Value, no lock (get_obj())', 1), ('Value with its lock', 1)]
    >>> cost_plan(2)[3:]  # doctest: +NORMALIZE_WHITESPACE
    [('Value with its lock', 2), ('Value, no lock (get_obj())', 2), ('count locally, lock once', 2),
     ('count locally, return it', 2)]
    """
    alone = [(v, 1) for v in ("local variable", UNLOCKED, "Value with its lock")]
    together = [(v, processes) for v in ("Value with its lock", UNLOCKED, "count locally, lock once",
                                         "count locally, return it")]
    return alone + together


def _timed_variant(results, variant: str, increments: int, counter, start) -> None:
    """Child of :func:`measure_locking_cost`: (after the others, if ``start``) run ``variant``; put (seconds, returned)."""
    if start is not None:
        start.wait(30)  # all begin at once, so that they contend for the Value
    begin = time.perf_counter()
    returned = _VARIANT_CALLS[variant](counter, increments)
    results.put((time.perf_counter() - begin, returned))


def _run_variant(variant: str, workers: int, increments: int, counter) -> list[tuple[float, object]]:
    """Run ``variant`` in ``workers`` fresh child processes at once; return each one's (seconds, returned).

    Fresh processes, not a ``Pool``: a pool worker killed while it waits for a task
    (the out-of-memory killer, say) dies holding the lock of the pool's task queue,
    and ``Pool.terminate()`` then waits for that lock for ever. A child that dies here
    makes :func:`helpers.lab.results.collect` raise ``ChildProcessError`` at once, and
    every child is stopped before this returns.
    """
    results = multiprocessing.Queue()
    start = multiprocessing.Barrier(workers) if workers > 1 else None
    children = [
        multiprocessing.Process(target=_timed_variant, args=(results, variant, increments, counter, start),
                                name=f"LockCostWorker-{i}", daemon=True)
        for i in range(1, workers + 1)
    ]
    try:
        for child in children:
            child.start()
        return collect(results, workers, timeout=600, watch=children)
    finally:
        for child in children:
            end_process(child, timeout=5)


def measure_locking_cost(increments: int = 100_000, processes: int | None = None, repeats: int = 3) -> list:
    """Time each way to count of :func:`cost_plan`; return one :class:`IncrementCost` per bar.

    Every variant runs in child processes: alone, or in ``processes`` children at
    once that meet at a ``Barrier`` first (default: the CPUs this process may use,
    :func:`helpers.effective_cpus`, from 2 to 4). Each adds 1 ``increments`` times;
    a run's time is that of its slowest child, from the barrier to the end of its
    loop (starting the children and the count's trip back are left out: they do
    not grow with ``increments``). The best of ``repeats`` runs, divided by
    ``increments``, is the cost per increment.

    Every total is checked: a locked variant, or one in a single process, that does
    not count exactly ``processes * increments`` raises ``RuntimeError``; the
    unlocked variant in several processes may lose updates (``IncrementCost.lost``),
    but may never count more than it was asked to. A child that dies raises
    ``ChildProcessError`` at once.
    """
    check_int("increments", increments, 1, 10_000_000)
    if processes is None:
        processes = max(2, min(effective_cpus(), 4))
    check_int("processes", processes, 2, 64)
    check_int("repeats", repeats, 1, 100)
    counter = multiprocessing.Value("q", 0)  # synchronized: lock=True gives it an RLock of its own
    costs = []
    for variant, workers in cost_plan(processes):
        expected, seconds, totals = workers * increments, [], []
        for _ in range(repeats):
            counter.value = 0
            runs = _run_variant(variant, workers, increments, counter)
            total = sum(count for _, count in runs) if variant in RETURNS_COUNT else counter.value
            exact = variant != UNLOCKED or workers == 1
            if (exact and total != expected) or not 1 <= total <= expected:
                raise RuntimeError(f"{variant!r} in {workers} process(es) counted {total:,}, expected {expected:,}")
            seconds.append(max(s for s, _ in runs))
            totals.append(total)
        costs.append(IncrementCost(variant, workers, min(seconds) / increments * 1e9, min(totals), expected))
    return costs


def _check_costs(costs) -> list:
    costs = list(costs)
    if not costs or not all(isinstance(c, IncrementCost) for c in costs):
        raise ValueError("costs must be the non-empty list of IncrementCost that measure_locking_cost returned")
    return costs


def locking_cost_table(costs) -> str:
    """Return :func:`measure_locking_cost`'s result as a table: ns per increment, and the count each made."""
    rows = [f"{'way to count':<46} {'ns/increment':>12}  count"]
    for c in _check_costs(costs):
        count = f"{c.total:,} of {c.expected:,}" + (f" (lost {c.lost:,})" if c.lost else "")
        rows.append(f"{c.label:<46} {c.ns:>12,.0f}  {count}")
    return "\n".join(rows)


def locking_cost_summary(costs) -> str:
    """Return sentences computed from :func:`measure_locking_cost`'s result: what each part costs."""
    costs = _check_costs(costs)
    by = {(c.variant, c.processes): c for c in costs}
    many = max(c.processes for c in costs)
    right = [c for c in costs if not c.lost]
    cheap, dear = min(right, key=lambda c: c.ns), max(right, key=lambda c: c.ns)
    lines = [f"Of the ways that counted right, the cheapest was {cheap.label} ({cheap.ns:,.0f} ns per increment) "
             f"and the dearest {dear.label} ({dear.ns:,.0f} ns), {dear.ns / cheap.ns:,.0f} times as much."]
    local, raw, locked = (by.get((v, 1)) for v in ("local variable", UNLOCKED, "Value with its lock"))
    if local and raw and locked:
        lines.append(f"In one process, the shared Value cost {raw.ns / local.ns:.1f} times a local variable, "
                     f"and taking its lock {locked.ns / raw.ns:.1f} times the Value alone.")
    fought = by.get(("Value with its lock", many))
    if locked and fought:
        lines.append(f"With {many} processes taking the lock, each increment cost {fought.ns / locked.ns:.1f} "
                     "times what it did in one process.")
    racy = by.get((UNLOCKED, many))
    if racy:
        lines.append(f"Without a lock, {many} processes lost {racy.lost:,} of {racy.expected:,} updates"
                     if racy.lost else
                     f"Without a lock, {many} processes happened to lose no update this time; "
                     "nothing prevents it, so run it again")
        lines[-1] += " (the worst of the repeats)." if racy.lost else "."
    return "\n".join(lines)


def plot_locking_cost(costs, ax=None):
    """Draw :func:`measure_locking_cost`'s result as labelled horizontal bars on a log scale; return the Axes."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    costs = _check_costs(costs)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    many = max(c.processes for c in costs)
    colors = {"one": "tab:blue", "many": "tab:orange", "wrong": "lightgray"}

    def kind(c):
        return "wrong" if c.lost else ("one" if c.processes == 1 else "many")

    rows = range(len(costs))
    ax.barh(rows, [c.ns for c in costs], color=[colors[kind(c)] for c in costs],
            hatch=[("//" if c.lost else "") for c in costs], edgecolor="black", linewidth=0.5)
    for row, c in zip(rows, costs):
        note = f"{c.ns:,.0f} ns" + (f", lost {c.lost:,} updates" if c.lost else "")
        ax.text(c.ns * 1.08, row, note, va="center", fontsize=8)
    ax.set_yticks(list(rows), [c.label for c in costs], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    low, high = min(c.ns for c in costs), max(c.ns for c in costs)
    ax.set_xlim(low / 2, high * 12)  # room for the labels right of the longest bar
    ax.set_xlabel("nanoseconds per increment (log scale)")
    ax.set_title(f"What one increment costs\n{machine_label()}", fontsize=10)
    ax.grid(axis="x", alpha=0.3, which="both")
    handles = [Patch(color=colors["one"], label="1 process: right count"),
               Patch(color=colors["many"], label=f"{many} processes: right count")]
    if any(c.lost for c in costs):
        handles.append(Patch(facecolor=colors["wrong"], hatch="//", edgecolor="black", label="lost updates: wrong count"))
    ax.legend(handles=handles, fontsize=8, loc="best")
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


def describe_phases(spans: Iterable[Span]) -> str:
    """Return one sentence per phase, computed from :func:`helpers.sync.phased_work`'s spans:
    who reached the barrier last, how long the others waited, and how close together the next phase began.

    >>> spans = [Span("a", "phase 1", 0, 1), Span("a", "wait", 1, 3), Span("a", "phase 2", 3, 4),
    ...          Span("b", "phase 1", 0, 3), Span("b", "wait", 3, 3), Span("b", "phase 2", 3, 4)]
    >>> print(describe_phases(spans))
    Phase 1: b reached the barrier last; the others waited up to 2.00 s. Phase 2 began on every row within 0 ms.
    Phase 2: the last to arrive were a, b; the others waited up to 0.00 s.
    """
    spans = list(spans)
    if not phases_in_order(spans):  # also refuses spans without phases
        return "The phases overlap: a worker began a phase before all had finished the one before."
    waits = {(s.lane, s.start): s for s in spans if s.label == "wait"}
    phases: dict[int, list[Span]] = {}
    for span in spans:
        if span.label.startswith("phase "):
            phases.setdefault(int(span.label.split()[1]), []).append(span)
    lines = []
    for number in sorted(phases):
        work = phases[number]
        last_end = max(s.end for s in work)
        last = sorted(s.lane for s in work if s.end == last_end)
        waited = max((w.duration for s in work if (w := waits.get((s.lane, s.end)))), default=0.0)
        who = f"{last[0]} reached the barrier last" if len(last) == 1 else f"the last to arrive were {', '.join(last)}"
        line = f"Phase {number}: {who}; the others waited up to {waited:.2f} s."
        following = phases.get(number + 1)
        if following:
            spread = max(s.start for s in following) - min(s.start for s in following)
            line += f" Phase {number + 1} began on every row within {spread * 1e3:.0f} ms."
        lines.append(line)
    return "\n".join(lines)

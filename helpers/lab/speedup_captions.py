"""Captions computed from speedup measurements, so that what a figure's text says is what its data shows.

A figure in the speedup chapter is redrawn on every run, on every machine; a
caption written in advance ("processes win") is true on some runs only. Each
function here takes the tidy results of :mod:`helpers.lab.bench_results` and
returns sentences that describe *these* numbers. Nothing here measures or draws.
"""

from __future__ import annotations

from collections.abc import Mapping

from helpers.lab.bench_results import BenchResult, fake_result, thread_label  # noqa: F401 (doctests)


def _times(x: float) -> str:
    return f"{x:.2f}x"


def speedup_caption(result: BenchResult) -> str:
    """Say what the speedup curves of ``result`` did: the best process point, the share of ideal, the threads' range.

    >>> print(speedup_caption(fake_result(2.0, threads=[2.0, 2.1, 2.0, 2.0], processes=[2.0, 1.02, 1.0, 1.01])))
    Processes: 1.96x with 2 workers, 98% of the ideal at the 2 whole cores here; at most 2.00x (3 workers). threads (GIL-bound): from 0.95x to 1.00x.
    """
    parts = []
    if result.workers("processes"):
        cores = result.compute_cores
        counts = result.workers("processes")
        best_n = max(counts, key=lambda n: result.speedup("processes", n))
        at = max((n for n in counts if n <= cores), default=counts[0])
        s_at = result.speedup("processes", at)
        parts.append(
            f"Processes: {_times(s_at)} with {at} worker{'s' if at != 1 else ''}, {s_at / at:.0%} of the ideal at "
            f"the {cores} whole core{'s' if cores != 1 else ''} here; at most "
            f"{_times(result.speedup('processes', best_n))} ({best_n} worker{'s' if best_n != 1 else ''})."
        )
    if result.workers("threads"):
        speedups = result.speedups("threads")
        parts.append(f"{thread_label(result.gil_enabled)}: from {_times(min(speedups))} to {_times(max(speedups))}.")
    return " ".join(parts)


def efficiency_caption(result: BenchResult, kind: str = "processes") -> str:
    """Say how ``kind``'s efficiency (speedup / workers) went, from 1 worker to the most measured.

    >>> print(efficiency_caption(fake_result(2.0, processes=[2.0, 1.02, 1.0, 1.01])))
    processes: efficiency 1.00 with 1 worker, 0.98 with 2 (the whole cores here), 0.50 with 4; highest 1.00.
    """
    counts = result.workers(kind)
    if not counts:
        return f"no {kind} measured"
    cores = result.compute_cores
    shown = sorted({counts[0], max((n for n in counts if n <= cores), default=counts[0]), counts[-1]})
    name = thread_label(result.gil_enabled) if kind == "threads" else kind
    each = []
    for i, n in enumerate(shown):
        unit = f" worker{'s' if n != 1 else ''}" if i == 0 else ""
        note = " (the whole cores here)" if n == cores and n != counts[0] else ""
        each.append(f"{result.efficiency(kind, n):.2f} with {n}{unit}{note}")
    highest = max(result.efficiency(kind, n) for n in counts)
    return f"{name}: efficiency {', '.join(each)}; highest {highest:.2f}."


def summary_caption(results: Mapping[str, BenchResult], workers: int) -> str:
    """Say, for each workload, which kind was faster with ``workers`` workers, without and with start-up.

    >>> print(summary_caption({"pure Python": fake_result(2.0, threads=[2, 2], processes=[2, 1.1])}, 2))
    pure Python: processes 1.82x, threads 1.00x; counting start-up, processes 1.67x, threads 0.95x.
    """
    lines = []
    for name, result in results.items():
        name = " ".join(name.split())  # the figure's labels may hold line breaks
        work = {k: result.speedup(k, workers) for k in ("processes", "threads")}
        total = {k: result.speedup(k, workers, include_startup=True) for k in ("processes", "threads")}
        order = sorted(work, key=work.get, reverse=True)
        lines.append(
            f"{name}: " + ", ".join(f"{k} {_times(work[k])}" for k in order)
            + "; counting start-up, " + ", ".join(f"{k} {_times(total[k])}" for k in order) + "."
        )
    return "\n".join(lines)

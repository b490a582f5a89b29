"""How the start-cost figures and summaries say what was measured.

:mod:`helpers.lab.start_methods` measures (:func:`~helpers.lab.start_methods.measure_start_costs`:
``{method: [seconds, ...]}``); this module shows it: :func:`summarize_start_costs` one
line per method, :func:`rank_start_costs` one sentence ordering the methods by their
medians (computed, so true of whatever was measured), :func:`plot_start_costs` the
figure, and :func:`format_seconds` durations for people. matplotlib is imported
inside the function that draws.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

from helpers.lab.machine import machine_label


def format_seconds(seconds: float) -> str:
    """Return a duration for people: ``"850 µs"``, ``"12.3 ms"``, ``"1.25 s"``.

    >>> format_seconds(0.0123), format_seconds(1.25), format_seconds(0.00085)
    ('12.3 ms', '1.25 s', '850 µs')
    """
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def summarize_start_costs(costs: Mapping[str, Sequence[float]]) -> list[str]:
    """Return one line per method: median, then the spread (fastest to slowest) of its runs.

    >>> summarize_start_costs({"spawn": [0.1, 0.3, 0.2]})
    ['spawn:      median 200 ms (fastest 100 ms, slowest 300 ms, 3 runs)']
    """
    lines = []
    for method, runs in costs.items():
        if not runs:
            raise ValueError(f"costs[{method!r}] is empty")
        lines.append(
            f"{method + ':':<12}median {format_seconds(statistics.median(runs))}"
            f" (fastest {format_seconds(min(runs))}, slowest {format_seconds(max(runs))}, {len(runs)} runs)"
        )
    return lines


def rank_start_costs(costs: Mapping[str, Sequence[float]]) -> str:
    """Return one sentence that orders the methods by their median start cost, fastest first.

    Computed from ``costs``, so it is true of whatever was measured (``=`` for a tie):

    >>> rank_start_costs({"spawn": [0.05], "fork": [0.002, 0.004], "forkserver": [0.02]})
    'By median, here: fork 3 ms < forkserver 20 ms < spawn 50 ms; the fastest was fork, the slowest spawn.'
    """
    if not costs or any(not runs for runs in costs.values()):
        raise ValueError("costs must map at least one method to a non-empty list of seconds")
    ranked = sorted(((statistics.median(runs), method) for method, runs in costs.items()), key=lambda m: m[0])
    if len(ranked) == 1:
        return f"Only {ranked[0][1]} was measured here: median {format_seconds(ranked[0][0])}."
    chain = f"{ranked[0][1]} {format_seconds(ranked[0][0])}"
    for (before, _), (median, method) in zip(ranked, ranked[1:]):
        chain += f" {'<' if before < median else '='} {method} {format_seconds(median)}"
    verdict = []  # only what the medians show: a tie has no single fastest or slowest
    if ranked[0][0] < ranked[1][0]:
        verdict.append(f"the fastest was {ranked[0][1]}")
    if ranked[-1][0] > ranked[-2][0]:
        verdict.append(f"the slowest {ranked[-1][1]}" if verdict else f"the slowest was {ranked[-1][1]}")
    return f"By median, here: {chain}" + (f"; {', '.join(verdict)}." if verdict else ".")


def plot_start_costs(costs: Mapping[str, Sequence[float]], *, ax=None, title: str | None = None):
    """Draw each run's start cost as a dot and each method's median as a bar; return the ``Axes``.

    The x axis is logarithmic: the methods differ by orders of magnitude.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if not costs or any(not runs for runs in costs.values()):
        raise ValueError("costs must map at least one method to a non-empty list of seconds")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.9 + 0.6 * len(costs)), dpi=100)
    methods = list(costs)
    for row, method in enumerate(methods):
        runs = list(costs[method])
        ax.scatter(runs, [row] * len(runs), s=18, alpha=0.6, color="tab:blue", zorder=3)
        ax.plot([statistics.median(runs)] * 2, [row - 0.3, row + 0.3], color="black", linewidth=2, zorder=4)
    every = [c for runs in costs.values() for c in runs]
    ax.set_xscale("log")
    ax.set_xlim(min(every) / 2, max(every) * 2)
    narrow = max(every) / min(every) < 50  # label 1, 2 and 5 of each decade there, else too few labels
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if narrow else (1.0,)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: format_seconds(x)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(range(len(methods)), methods)
    ax.set_ylim(len(methods) - 0.5, -0.5)
    ax.set_xlabel("time to start and join one process (log scale)")
    ax.set_ylabel("start method")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.set_title(title or f"Start cost, dots: runs, bar: median ({machine_label()})", fontsize=10)
    return ax

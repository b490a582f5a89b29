"""Figures and printed summaries of the parallel-models chapter: speedup per model, and what each model costs.

Every sentence printed here is computed from the data it describes, so it stays
true on any machine. Nothing here measures or starts a worker.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from helpers.lab.models import WORKLOAD_LABELS, ModelRun, model_label

Series = Mapping[str, Mapping[str, float]]  # {legend label: {workload: speedup}}


def speedups(runs: Sequence[ModelRun], suffix: str = "") -> dict[str, dict[str, float]]:
    """Return ``{label: {workload: speedup}}`` for every parallel model of ``runs``; ``suffix`` goes after each label.

    >>> from helpers.lab.bench_results import make_row
    >>> run = ModelRun("cpu", 2, (make_row("serial", 1, [2.0], []), make_row("processes", 2, [1.0], [0.1])), (), True)
    >>> speedups([run], " (here)")
    {'processes (here)': {'cpu': 2.0}}
    """
    found: dict[str, dict[str, float]] = {}
    for run in runs:
        for row in run.rows:
            if row.kind != "serial":
                label = model_label(row.kind, run.gil) + suffix
                found.setdefault(label, {})[run.workload] = run.speedup(row.kind)
    return found


def plot_speedups(series: Series, *, workers: int, title: str = "", ax=None):
    """Draw grouped bars: one group per workload, one bar per model; dashed lines at 1x and ``workers``x."""
    import matplotlib.pyplot as plt

    if not series:
        raise ValueError("series must hold at least one model")
    workloads = [w for w in WORKLOAD_LABELS if any(w in values for values in series.values())]
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 3.8), dpi=90)
    else:
        fig = ax.figure
    width = 0.8 / len(series)
    for i, (label, values) in enumerate(series.items()):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(workloads))]
        heights = [values.get(w, math.nan) for w in workloads]
        ax.bar(xs, heights, width * 0.95, label=label)
    ax.axhline(1, color="black", linewidth=0.8, linestyle="--")
    ax.axhline(workers, color="grey", linewidth=0.8, linestyle=":", label=f"ideal for {workers} workers")
    ax.set_xticks(range(len(workloads)), [WORKLOAD_LABELS[w] for w in workloads], fontsize=8)
    ax.set_ylabel("speedup over the serial loop (x)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left", ncol=2)
    ax.set_ylim(0, max(workers * 1.35, max(v for values in series.values() for v in values.values()) * 1.15))
    fig.tight_layout()
    return fig


def describe_speedups(series: Series) -> list[str]:
    """Return one sentence per workload: the fastest and the slowest model, with their speedups.

    >>> describe_speedups({"threads (GIL)": {"cpu": 0.98}, "processes": {"cpu": 1.9}})
    ['CPU-bound (count primes): fastest processes (1.90x), slowest threads (GIL) (0.98x).']
    """
    lines = []
    for workload, label in WORKLOAD_LABELS.items():
        found = {model: values[workload] for model, values in series.items() if workload in values}
        if found:
            best = max(found, key=found.get)
            worst = min(found, key=found.get)
            lines.append(f"{label}: fastest {best} ({found[best]:.2f}x), slowest {worst} ({found[worst]:.2f}x).")
    return lines


def plot_costs(costs: Mapping[str, Mapping[str, float]], *, title: str = ""):
    """Draw two bar panels: start-up of the workers (ms, log scale) and memory per worker (MB)."""
    import matplotlib.pyplot as plt

    if not costs:
        raise ValueError("costs must hold at least one model")
    models = list(costs)
    fig, (left, right) = plt.subplots(1, 2, figsize=(7, 3.2), dpi=90)
    colours = [f"C{i}" for i in range(len(models))]
    bars = left.bar(models, [max(costs[m]["startup_ms"], 0.01) for m in models], color=colours)
    left.bar_label(bars, labels=[f"{costs[m]['startup_ms']:.1f}" for m in models], fontsize=7)
    left.set_yscale("log")
    left.set_ylabel("start-up of all workers (ms, log)")
    bars = right.bar(models, [costs[m]["memory_mb"] for m in models], color=colours)
    right.bar_label(bars, labels=[f"{costs[m]['memory_mb']:.2f}" for m in models], fontsize=7)
    right.set_ylabel("memory per worker (MB)")
    for ax in (left, right):
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def describe_costs(costs: Mapping[str, Mapping[str, float]]) -> list[str]:
    """Return what the measured costs say: each model's numbers, and the cheapest and dearest of each.

    >>> describe_costs({"threads": {"startup_ms": 0.5, "memory_mb": 0.1}, "processes": {"startup_ms": 80, "memory_mb": 12}})[-2:]
    ['cheapest to start: threads; dearest: processes, 160 times as long', 'least memory per worker: threads; most: processes (12.0 MB)']
    """
    lines = [f"{m}: start-up {c['startup_ms']:.1f} ms, {c['memory_mb']:.2f} MB per worker" for m, c in costs.items()]
    if len(costs) > 1:
        fast = min(costs, key=lambda m: costs[m]["startup_ms"])
        slow = max(costs, key=lambda m: costs[m]["startup_ms"])
        ratio = costs[slow]["startup_ms"] / max(costs[fast]["startup_ms"], 1e-3)
        lines.append(f"cheapest to start: {fast}; dearest: {slow}, {ratio:.0f} times as long")
        small = min(costs, key=lambda m: costs[m]["memory_mb"])
        big = max(costs, key=lambda m: costs[m]["memory_mb"])
        lines.append(f"least memory per worker: {small}; most: {big} ({costs[big]['memory_mb']:.1f} MB)")
    return lines


def single_thread_cost(gil_run: ModelRun, free_run: ModelRun) -> str:
    """Return how the free-threaded build's serial loop compares with the GIL build's, from two stored runs."""
    with_gil = gil_run.row("serial").seconds
    without = free_run.row("serial").seconds
    change = (without / with_gil - 1) * 100
    word = "slower" if change > 0 else "faster"
    return (f"the serial loop ({WORKLOAD_LABELS[gil_run.workload]}): {with_gil:.3f} s with the GIL, "
            f"{without:.3f} s free-threaded: {abs(change):.0f}% {word} on one thread")

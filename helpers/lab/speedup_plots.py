"""Figures of speedup measurements.

Every function takes the tidy results of a benchmark
(:mod:`helpers.lab.bench_results`) and draws on a matplotlib ``Axes`` (a new
6 x 3.5 inch figure when ``ax`` is None) and returns it. Every figure's title
names what was measured and the machine it was measured on
(:func:`helpers.lab.machine.machine_label`); on a free-threaded build the thread
curve says so. matplotlib is imported inside the functions: worker processes
import :mod:`helpers` and must not pay for it. This module never imports
:mod:`helpers.lab.bench`: the benchmark's command line draws with it, and the
widget panel that reruns a benchmark lives in :mod:`helpers.lab.bench_panel`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from helpers.lab.amdahl import fit_amdahl, fit_note, karp_flatt_series
from helpers.lab.bench_results import BenchResult, SizeSweep, get_workload, thread_label

FIGSIZE = (6, 3.5)
DPI = 100
COLORS = {"serial": "black", "threads": "tab:orange", "processes": "tab:blue"}
MARKERS = {"threads": "s", "processes": "o"}


def _axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    return ax


def _label(result: BenchResult, kind: str) -> str:
    return thread_label(result.gil_enabled) if kind == "threads" else kind


def _cpu_marker(ax, result: BenchResult) -> None:
    """Mark the effective CPUs, and the whole cores where those are fewer (hyperthreads)."""
    ax.axvline(result.cpus, color="grey", linestyle=":", linewidth=1.2, label=f"effective CPUs ({result.cpus})")
    if result.compute_cores < result.cpus:
        ax.axvline(result.compute_cores, color="grey", linestyle=(0, (1, 4)), linewidth=1.2,
                   label=f"physical cores ({result.compute_cores})")


def _check_result(result: object) -> BenchResult:
    if not isinstance(result, BenchResult):
        raise TypeError(f"result must be a helpers.lab.bench_results.BenchResult, got {type(result).__name__}")
    return result


def _integer_xaxis(ax, top: int) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0.5, top + 0.5)
    ax.set_xlabel("workers")


def _finish_axes(ax, result: BenchResult, top: int, *, what: str, ylabel: str,
                 ylim: tuple, legend_loc: str) -> None:
    """Finish a plot against workers: CPU marker, integer x axis, limits, labels, title, legend, grid."""
    _cpu_marker(ax, result)
    _integer_xaxis(ax, top)
    ax.set_ylim(*ylim)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{what}: {result.label}\n{result.measured_on}", fontsize=10)
    ax.legend(fontsize=7, loc=legend_loc)
    ax.grid(alpha=0.3)


def plot_wall_time(result: BenchResult, ax=None):
    """Draw median work time against workers (bars: min to max) and return the ``Axes``.

    Serial is a horizontal line (its band: min to max); the dotted line adds the
    process pool's start-up time, which a one-off run pays on top.
    """
    result = _check_result(result)
    ax = _axes(ax)
    serial = result.serial
    top = max(max(result.workers(k), default=1) for k in result.kinds())
    ax.axhline(serial.seconds, color=COLORS["serial"], linestyle="--", linewidth=1, label="serial")
    ax.axhspan(serial.seconds_min, serial.seconds_max, color=COLORS["serial"], alpha=0.08)
    for kind in result.kinds()[1:]:
        ns = result.workers(kind)
        rows = [result.row(kind, n) for n in ns]
        med = [r.seconds for r in rows]
        err = [[r.seconds - r.seconds_min for r in rows], [r.seconds_max - r.seconds for r in rows]]
        ax.errorbar(ns, med, yerr=err, color=COLORS[kind], marker=MARKERS[kind], capsize=3, label=_label(result, kind))
        if kind == "processes":  # a thread pool starts in well under a millisecond: nothing to see
            ax.plot(ns, [r.total for r in rows], color=COLORS[kind], linestyle=":", linewidth=1,
                    label="processes + pool start-up")
    _finish_axes(ax, result, top, what="Wall time", ylabel="wall time (s)",
                 ylim=(0, None), legend_loc="best")
    return ax


def plot_speedup(result: BenchResult, ax=None):
    """Draw speedup (serial seconds / pool seconds) against workers and return the ``Axes``.

    The dashed line is the ideal (speedup = workers), the dotted one the best
    this machine allows (it cannot exceed its CPU count for computing work),
    the vertical line marks the effective CPU count, and the shaded band runs
    from the slowest to the fastest round (each round's serial / pool ratio).
    """
    result = _check_result(result)
    ax = _axes(ax)
    top = max(max(result.workers(k), default=1) for k in result.kinds())
    ns = list(range(1, top + 1))
    ax.plot(ns, ns, color="grey", linestyle="--", linewidth=1, label="ideal: speedup = workers")
    ax.plot(ns, [min(n, result.cpus) for n in ns], color="grey", linestyle="-.", linewidth=0.8,
            label="best for computing here")
    ax.axhline(1, color=COLORS["serial"], linewidth=0.8, label="serial (1x)")
    for kind in result.kinds()[1:]:
        counts = result.workers(kind)
        rounds = [result.round_speedups(kind, n) for n in counts]
        ax.fill_between(counts, [min(r) for r in rounds], [max(r) for r in rounds],
                        color=COLORS[kind], alpha=0.15, linewidth=0)
        ax.plot(counts, result.speedups(kind), color=COLORS[kind], marker=MARKERS[kind], label=_label(result, kind))
    _finish_axes(ax, result, top, what="Speedup", ylabel="speedup over serial (x)",
                 ylim=(0, top + 0.5), legend_loc="upper left")
    return ax


def plot_efficiency(result: BenchResult, ax=None):
    """Draw parallel efficiency (speedup / workers) against workers and return the ``Axes``."""
    result = _check_result(result)
    ax = _axes(ax)
    top = max(max(result.workers(k), default=1) for k in result.kinds())
    ax.axhline(1, color="grey", linestyle="--", linewidth=1, label="ideal (every worker busy)")
    for kind in result.kinds()[1:]:
        counts = result.workers(kind)
        ax.plot(counts, [result.efficiency(kind, n) for n in counts], color=COLORS[kind],
                marker=MARKERS[kind], label=_label(result, kind))
    highest = max((result.efficiency(k, n) for k in result.kinds()[1:] for n in result.workers(k)), default=1)
    _finish_axes(ax, result, top, what="Parallel efficiency", ylabel="efficiency (speedup / workers)",
                 ylim=(0, max(1.25, highest + 0.1)), legend_loc="upper right")
    return ax


def plot_amdahl(result: BenchResult, ax=None, kind: str = "processes"):
    """Draw ``kind``'s measured speedups with the Amdahl curve fitted to them; return the ``Axes``.

    Filled markers are the points the fit used (2 up to the whole cores), hollow
    ones the rest; the curve is drawn only over the counts it was fitted to.
    Where there are too few counts to fit (:func:`helpers.lab.amdahl.fit_amdahl`),
    the figure says so instead of drawing a curve.
    """
    import numpy as np

    result = _check_result(result)
    ax = _axes(ax)
    counts = result.workers(kind)
    if not counts:
        raise ValueError(f"result has no {kind!r} rows to fit")
    top = max(counts)
    fit = fit_amdahl(result, kind)
    ax.plot([1, top], [1, top], color="grey", linestyle="--", linewidth=1, label="ideal: speedup = workers")
    used = set(fit.workers) if fit else set()
    speedups = result.speedups(kind)
    for filled in (True, False):
        pts = [(n, s) for n, s in zip(counts, speedups) if (n in used) == filled]
        if pts:
            ax.plot(*zip(*pts), linestyle="none", marker=MARKERS.get(kind, "o"), color=COLORS.get(kind, "C0"),
                    markerfacecolor=COLORS.get(kind, "C0") if filled else "none",
                    label="measured, used in fit" if filled else "measured, not used in fit")
    if fit is not None:  # drawn only where it was fitted: up to the whole cores, never past them
        f = fit.serial_fraction
        ns = np.linspace(1, max(fit.workers), 200)
        ax.plot(ns, 1 / (f + (1 - f) / ns), color="tab:green",
                label=f"Amdahl fit: serial fraction {f:.1%}")
    else:
        import textwrap

        ax.text(0.97, 0.05, textwrap.fill(fit_note(result, kind), 48), transform=ax.transAxes, ha="right",
                va="bottom", fontsize=7, zorder=1.5,  # under the points, which stay visible
                bbox={"facecolor": "white", "edgecolor": "grey", "alpha": 0.7})
    _finish_axes(ax, result, top, what=f"Amdahl's law fitted to {kind}", ylabel="speedup over serial (x)",
                 ylim=(0, top + 0.5), legend_loc="upper left")
    return ax


def plot_karp_flatt(result: BenchResult, ax=None, kind: str = "processes"):
    """Draw the Karp-Flatt serial fraction of ``kind`` against workers (2 and more); return the ``Axes``.

    A flat line is a fixed serial part (what Amdahl's law assumes); a rising one
    an overhead that grows with the workers, or workers sharing cores past the
    markers. Points below 0 are super-linear: noise, or a baseline that ran slow.
    """
    result = _check_result(result)
    series = karp_flatt_series(result, kind)
    if not series:
        raise ValueError(f"result has no {kind!r} rows with 2 or more workers")
    ax = _axes(ax)
    top = max(n for n, _ in series)
    ax.axhline(0, color="grey", linestyle="--", linewidth=1, label="no serial part")
    ax.plot(*zip(*series), color=COLORS.get(kind, "C0"), marker=MARKERS.get(kind, "o"),
            label=f"{_label(result, kind)}: e = (1/speedup - 1/n) / (1 - 1/n)")
    highest = max(e for _, e in series)
    _finish_axes(ax, result, top, what="Karp-Flatt serial fraction", ylabel="serial fraction e",
                 ylim=(min(-0.05, min(e for _, e in series) - 0.02), max(0.25, highest + 0.05)),
                 legend_loc="upper left")
    return ax


def plot_size_sweep(sweep: SizeSweep, ax=None):
    """Draw the process speedup against task size (log scale), with and without start-up; return the ``Axes``."""
    if not isinstance(sweep, SizeSweep) or not sweep.results:
        raise TypeError("sweep must be a non-empty helpers.lab.bench_results.SizeSweep")
    ax = _axes(ax)
    first = sweep.results[0]
    ax.axhline(1, color=COLORS["serial"], linewidth=0.8, label="serial (1x)")
    ax.plot(sweep.sizes, sweep.speedups(include_startup=False), color=COLORS["processes"], marker="o",
            linestyle=":", markerfacecolor="none", label="work only")
    ax.plot(sweep.sizes, sweep.speedups(include_startup=True), color=COLORS["processes"], marker="o",
            label="including pool start-up")
    ax.set_xscale("log")
    ax.set_xlabel(f"task size ({get_workload(first.workload).size_unit})", fontsize=8)
    ax.set_ylabel(f"speedup of {sweep.workers} processes (x)")
    ax.set_ylim(bottom=0)
    ax.set_title(f"When do processes pay off? {first.tasks} tasks, {sweep.workers} processes\n"
                 f"{first.measured_on}", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    return ax


def summary_workers(results: Mapping[str, BenchResult]) -> int:
    """Return the worker count the summary compares: the CPU count (at least 2) if every result has it."""
    first = next(iter(results.values()))
    wanted = max(2, first.cpus)
    common = set.intersection(*(set(r.workers("threads")) & set(r.workers("processes")) for r in results.values()))
    if not common:
        raise ValueError("the results share no worker count measured with both threads and processes")
    below = [n for n in common if n <= wanted]
    return max(below) if below else min(common)


def plot_summary(results: Mapping[str, BenchResult], ax=None, workers: int | None = None):
    """Draw one bar per workload and kind: speedup at ``workers`` workers; return the ``Axes``.

    Bars are the speedup of the work; black dots count the pool's start-up too.
    ``results`` maps a short name (the x label) to a result with threads and
    processes rows; ``workers`` defaults to :func:`summary_workers`.
    """
    import numpy as np

    if not isinstance(results, Mapping) or not results:
        raise ValueError("results must be a non-empty dict of name -> BenchResult")
    for r in results.values():
        _check_result(r)
    if workers is None:
        n = summary_workers(results)
    else:
        n = workers
        missing = [name for name, r in results.items() if n not in r.workers("threads") or n not in r.workers("processes")]
        if missing:
            raise ValueError(f"workers={n!r} was not measured with both threads and processes for {missing}")
    ax = _axes(ax)
    names = list(results)
    x = np.arange(len(names))
    width = 0.38
    first = next(iter(results.values()))
    for i, kind in enumerate(("threads", "processes")):
        work = [results[k].speedup(kind, n) for k in names]
        total = [results[k].speedup(kind, n, include_startup=True) for k in names]
        pos = x + (i - 0.5) * width
        bars = ax.bar(pos, work, width, color=COLORS[kind], label=thread_label(first.gil_enabled) if kind == "threads" else kind)
        ax.bar_label(bars, fmt="%.1fx", fontsize=7, padding=2)
        ax.plot(pos, total, linestyle="none", marker="o", markersize=4, color="black",
                label="counting start-up" if i == 0 else None)
    ax.axhline(1, color=COLORS["serial"], linewidth=0.8)
    ax.axhline(n, color="grey", linestyle="--", linewidth=1, label=f"ideal ({n}x)")
    ax.set_xticks(x, names, fontsize=8)
    ax.set_ylabel(f"speedup with {n} workers (x)")
    ax.set_ylim(0, max(n + 0.8, 1.5))
    ax.set_title(f"Who wins where, {n} workers against serial\n{first.measured_on}", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", ncols=2)
    ax.grid(axis="y", alpha=0.3)
    return ax


def plot_report(result: BenchResult):
    """Return a 2 x 2 figure: wall time, speedup, efficiency, and the Amdahl fit where there is one, else Karp-Flatt."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), dpi=DPI, layout="constrained")
    plot_wall_time(result, axes[0, 0])
    plot_speedup(result, axes[0, 1])
    plot_efficiency(result, axes[1, 0])
    if fit_amdahl(result) is not None:
        plot_amdahl(result, axes[1, 1])
    elif karp_flatt_series(result):
        plot_karp_flatt(result, axes[1, 1])
    else:
        axes[1, 1].set_axis_off()
    fig.suptitle(f"{result.what}, {result.start_method}")
    return fig


def save_report(result: BenchResult, path: str | os.PathLike[str]) -> Path:
    """Draw :func:`plot_report`, save it to ``path`` (folders created) and return the path."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = plot_report(result)
    fig.savefig(path)
    plt.close(fig)
    return path

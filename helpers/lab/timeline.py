"""Timelines of work done by several processes: record spans, check them, draw them.

A :class:`Span` says that ``lane`` (a worker: a name or a PID) was doing ``label``
from ``start`` to ``end`` (seconds from ``time.time()``, which is comparable across
processes on one machine). Workers send spans back to the parent, and
:func:`plot_timeline` draws them as a Gantt chart: one row per lane, one bar per span,
with dashed lines for moments the parent marks (when it set an event, say).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """One piece of work: ``lane`` did ``label`` from ``start`` to ``end`` (seconds)."""

    lane: str
    label: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def now() -> float:
    """Return the clock spans use (``time.time()``: one clock for all processes)."""
    return time.time()


def check_spans(spans: Iterable[Span]) -> list[Span]:
    """Return ``spans`` as a list after checking them; raise ``ValueError`` if they are unusable.

    >>> check_spans([Span("w1", "a", 0.0, 1.0)])
    [Span(lane='w1', label='a', start=0.0, end=1.0)]
    >>> check_spans([])
    Traceback (most recent call last):
    ...
    ValueError: spans is empty: there is nothing to draw
    """
    spans = list(spans)
    if not spans:
        raise ValueError("spans is empty: there is nothing to draw")
    for i, span in enumerate(spans):
        if not isinstance(span, Span):
            raise TypeError(f"spans[{i}] is a {type(span).__name__}, not a helpers.lab.timeline.Span")
        if not (math.isfinite(span.start) and math.isfinite(span.end)):
            raise ValueError(f"spans[{i}] has a start or end that is not a finite number: {span}")
        if span.end < span.start:
            raise ValueError(f"spans[{i}] ends before it starts: {span}")
    return spans


def wall_time(spans: Iterable[Span]) -> float:
    """Return the seconds from the first start to the last end.

    >>> wall_time([Span("a", "x", 1.0, 2.0), Span("b", "y", 1.5, 3.0)])
    2.0
    """
    spans = check_spans(spans)
    return max(s.end for s in spans) - min(s.start for s in spans)


def busy_time(spans: Iterable[Span]) -> float:
    """Return the total seconds of work, summed over all spans (the serial cost).

    >>> busy_time([Span("a", "x", 1.0, 2.0), Span("b", "y", 1.5, 3.0)])
    2.5
    """
    return sum(s.duration for s in check_spans(spans))


def max_concurrency(spans: Iterable[Span]) -> int:
    """Return the largest number of spans running at the same instant.

    A span that ends exactly when another starts does not overlap it.

    >>> max_concurrency([Span("a", "x", 0, 2), Span("b", "y", 1, 3), Span("c", "z", 2, 4)])
    2
    """
    events = []
    for s in check_spans(spans):
        events += [(s.start, 1), (s.end, -1)]
    running = peak = 0
    for _, step in sorted(events):  # at equal times -1 sorts first: end before start
        running += step
        peak = max(peak, running)
    return peak


def _color_key(color_by) -> Callable[[Span], str]:
    """Return a function giving a span's colour key; ``color_by`` as in :func:`plot_timeline`."""
    if callable(color_by):
        return lambda s: str(color_by(s))
    if color_by not in ("label", "lane"):
        raise ValueError(f"color_by must be 'label' or 'lane' (or a function of a Span), got {color_by!r}")
    return lambda s: str(getattr(s, color_by))


def plot_timeline(
    spans: Iterable[Span],
    *,
    ax=None,
    title: str | None = None,
    color_by: str | Callable[[Span], object] = "label",
    annotate: bool = True,
    color_keys: Sequence[str] | None = None,
    markers: Mapping[str, float] | None = None,
    legend: bool = False,
):
    """Draw spans as a Gantt chart and return the matplotlib ``Axes``.

    Rows are lanes in order of their first start, the x axis is seconds since the
    earliest start. ``color_by`` is ``"label"`` (same work, same colour), ``"lane"``,
    or a function of a span that returns its colour key (for example the worker's
    name without its PID). ``color_keys`` fixes the order in which keys get colours,
    so that several charts colour the same key alike; by default the keys found in
    ``spans``, sorted. With ``annotate``, each bar wide enough for it carries its label.

    ``markers`` maps a name to a moment (on the clock of :func:`now`, like the spans'),
    for instance when the parent called ``event.set()``: each is drawn as a dashed
    vertical line, named in the legend and above the chart. With ``legend`` (implied
    by ``markers``), a legend right of the chart says what each colour and line means.
    """
    import matplotlib.pyplot as plt  # imported here: children never need matplotlib
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    spans = check_spans(spans)
    markers = _check_markers(markers)
    legend = legend or bool(markers)
    key_of = _color_key(color_by)
    t0 = min(s.start for s in spans)
    lanes: list[str] = []
    for s in sorted(spans, key=lambda s: s.start):
        if str(s.lane) not in lanes:
            lanes.append(str(s.lane))
    found = {key_of(s) for s in spans}
    keys = list(color_keys) if color_keys is not None else []
    keys += sorted(found - set(keys), key=str)
    palette = plt.get_cmap("tab10")
    colors = {key: palette(i % 10) for i, key in enumerate(keys)}

    own_figure = ax is None
    if own_figure:
        _, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * len(lanes) + 1.2), dpi=100)
    total = max(s.end for s in spans) - t0
    for s in spans:
        row = lanes.index(str(s.lane))
        color = colors[key_of(s)]
        ax.barh(row, s.duration, left=s.start - t0, height=0.6, color=color, edgecolor="black", linewidth=0.5)
        if annotate and total > 0 and s.duration / total > 0.06:
            ax.text(s.start - t0 + s.duration / 2, row, str(s.label), ha="center", va="center", fontsize=8)
    ax.set_yticks(range(len(lanes)), lanes)
    ax.invert_yaxis()
    ax.set_xlabel("time since first start (s)")
    ax.set_ylabel("worker")
    low = min([0.0, *(t - t0 for t in markers.values())])
    high = max([total, *(t - t0 for t in markers.values())])
    ax.set_xlim(low - 0.02 * (high - low), high * 1.02 if high > 0 else 1)
    ax.grid(axis="x", alpha=0.3)
    handles = [Patch(facecolor=colors[key], edgecolor="black", linewidth=0.5, label=key)
               for key in keys if key in found]
    for (name, moment), style in zip(markers.items(), _MARKER_STYLES):
        ax.axvline(moment - t0, color=style, linestyle="--", linewidth=1.5, label=name)
        ax.text(moment - t0, 1.0, f" {name}", transform=ax.get_xaxis_transform(), color=style,
                ha="left", va="bottom", fontsize=8)
        handles.append(Line2D([], [], color=style, linestyle="--", linewidth=1.5, label=name))
    if title:
        ax.set_title(title, pad=14 if markers else None)
    if legend:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    if own_figure:
        ax.figure.tight_layout()
    return ax


_MARKER_STYLES = ("black", "tab:red", "tab:purple", "tab:brown")  # colours of the marker lines, in order


def _check_markers(markers) -> dict[str, float]:
    """Return ``markers`` as a dict of name to finite moment; raise ``ValueError`` otherwise."""
    if markers is None:
        return {}
    if not isinstance(markers, Mapping):
        raise TypeError(f"markers must map a name to a moment, like {{'start.set()': now()}}, not {markers!r}")
    if len(markers) > len(_MARKER_STYLES):
        raise ValueError(f"markers may name at most {len(_MARKER_STYLES)} moments, got {len(markers)}")
    checked = {}
    for name, moment in markers.items():
        if isinstance(moment, bool) or not isinstance(moment, (int, float)) or not math.isfinite(moment):
            raise ValueError(f"markers[{name!r}] must be a finite number of seconds, got {moment!r}")
        checked[str(name)] = float(moment)
    return checked


def plot_timelines(
    runs: Mapping[str, Iterable[Span]],
    *,
    title: str | None = None,
    color_by: str | Callable[[Span], object] = "label",
    annotate: bool = True,
    fig=None,
):
    """Draw several runs one above the other, on one time axis, and return the ``Figure``.

    ``runs`` maps a run's name (the subplot's title) to its spans. Each run's time
    starts at its own first start, and all subplots share the x axis, so a run that
    took twice as long shows bars reaching twice as far. A key gets the same colour
    in every subplot. Each subplot's title adds the run's wall time and its peak
    number of spans at once (:func:`max_concurrency`). Pass an empty matplotlib
    ``Figure`` as ``fig`` to draw into it (no pyplot figure is then created).
    """
    import matplotlib.pyplot as plt

    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must be a non-empty mapping of run name to spans")
    checked = {}
    for name, spans in runs.items():
        try:
            checked[name] = check_spans(spans)
        except (TypeError, ValueError) as error:
            raise type(error)(f"run {name!r}: {error}") from None
    key_of = _color_key(color_by)
    keys = sorted({key_of(s) for spans in checked.values() for s in spans}, key=str)
    heights = [0.7 + 0.4 * len({s.lane for s in spans}) for spans in checked.values()]
    layout = dict(sharex=True, gridspec_kw={"height_ratios": heights}, squeeze=False)
    if fig is None:
        fig, axes = plt.subplots(len(checked), 1, figsize=(6, sum(heights) + 0.9), dpi=100, **layout)
    else:
        axes = fig.subplots(len(checked), 1, **layout)
    longest = max(wall_time(spans) for spans in checked.values())
    for ax, (name, spans) in zip(axes[:, 0], checked.items()):
        plot_timeline(spans, ax=ax, color_by=color_by, annotate=annotate, color_keys=keys)
        ax.set_title(
            f"{name}: wall time {wall_time(spans):.2f} s, at most {max_concurrency(spans)} at once",
            fontsize=10,
        )
        ax.set_xlabel("")
    axes[-1, 0].set_xlabel("time since the run's first start (s)")
    axes[-1, 0].set_xlim(0, longest * 1.02 if longest > 0 else 1)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers.lab.timeline import (  # noqa: E402
    Span,
    busy_time,
    check_spans,
    max_concurrency,
    plot_timeline,
    plot_timelines,
    wall_time,
)

SPANS = [
    Span("worker-1", "A", 10.0, 11.0),
    Span("worker-2", "B", 10.5, 12.0),
    Span("worker-1", "C", 11.0, 11.5),
]


def test_measures():
    assert wall_time(SPANS) == 2.0
    assert busy_time(SPANS) == 3.0
    assert max_concurrency(SPANS) == 2
    assert max_concurrency([Span("a", "x", 0, 1), Span("b", "y", 1, 2)]) == 1
    assert max_concurrency([Span(str(i), "x", 0, 1) for i in range(5)]) == 5


@pytest.mark.parametrize(
    ("spans", "error", "message"),
    [
        ([], ValueError, "empty"),
        ([Span("a", "x", 2.0, 1.0)], ValueError, "ends before it starts"),
        ([Span("a", "x", 0.0, math.nan)], ValueError, "finite"),
        ([(0, 1, "a")], TypeError, "not a helpers.lab.timeline.Span"),
    ],
)
def test_bad_spans_are_refused_with_a_clear_error(spans, error, message):
    with pytest.raises(error, match=message):
        check_spans(spans)
    with pytest.raises(error, match=message):
        plot_timeline(spans)


def test_plot_draws_one_bar_per_span_in_lanes_by_first_start():
    ax = plot_timeline(SPANS, title="demo")
    try:
        assert len(ax.patches) == len(SPANS)
        assert [t.get_text() for t in ax.get_yticklabels()] == ["worker-1", "worker-2"]
        assert ax.get_title() == "demo"
        assert "(s)" in ax.get_xlabel()
        lefts = sorted(p.get_x() for p in ax.patches)
        assert lefts[0] == 0.0  # time is measured from the first start
    finally:
        plt.close(ax.figure)


def test_plot_rejects_an_unknown_colouring():
    with pytest.raises(ValueError, match="color_by must be 'label' or 'lane'"):
        plot_timeline(SPANS, color_by="pid")


def test_colour_by_a_function_and_fixed_colour_keys():
    ax = plot_timeline(SPANS, color_by=lambda s: s.lane, color_keys=["worker-2", "worker-1"])
    try:
        colours = {p.get_y(): p.get_facecolor() for p in ax.patches}
        assert len(set(colours.values())) == 2  # one colour per lane
        palette = plt.get_cmap("tab10")
        worker_2 = [p for p in ax.patches if p.get_width() == 1.5][0]
        assert worker_2.get_facecolor() == pytest.approx(palette(0))  # first key, first colour
    finally:
        plt.close(ax.figure)


def test_plot_timelines_shares_the_time_axis_and_names_each_run():
    together = [Span("a", "x", 0.0, 1.0), Span("b", "y", 0.1, 1.1)]
    apart = [Span("a", "x", 5.0, 6.0), Span("b", "y", 6.0, 7.0)]
    fig = plot_timelines({"together": together, "apart": apart}, title="demo")
    try:
        top, bottom = fig.axes
        assert top.get_title().startswith("together: wall time 1.10 s, at most 2 at once")
        assert bottom.get_title().startswith("apart: wall time 2.00 s, at most 1 at once")
        assert top.get_xlim() == bottom.get_xlim() and bottom.get_xlim()[1] >= 2.0
        assert "(s)" in bottom.get_xlabel() and fig._suptitle.get_text() == "demo"
        assert min(p.get_x() for p in bottom.patches) == 0.0  # each run from its own first start
    finally:
        plt.close(fig)


@pytest.mark.parametrize(
    ("runs", "error", "message"),
    [
        ({}, ValueError, "non-empty mapping"),
        ([Span("a", "x", 0, 1)], ValueError, "non-empty mapping"),
        ({"empty run": []}, ValueError, "run 'empty run': spans is empty"),
        ({"bad": [Span("a", "x", 2, 1)]}, ValueError, "run 'bad': spans\\[0\\] ends before it starts"),
    ],
)
def test_plot_timelines_refuses_bad_runs(runs, error, message):
    with pytest.raises(error, match=message):
        plot_timelines(runs)


def test_plot_timelines_draws_into_a_given_figure_without_pyplot():
    from matplotlib.figure import Figure

    fig = Figure()
    before = plt.get_fignums()
    assert plot_timelines({"run": SPANS}, fig=fig) is fig
    assert len(fig.axes) == 1 and plt.get_fignums() == before


def test_markers_are_dashed_lines_at_their_moment_and_named_in_the_legend():
    ax = plot_timeline(SPANS, markers={"start.set()": 10.25, "stop.set()": 11.75})
    try:
        lines = [line for line in ax.lines if line.get_linestyle() == "--"]
        assert [line.get_xdata()[0] for line in lines] == [0.25, 1.75]  # seconds since the first start
        assert [line.get_label() for line in lines] == ["start.set()", "stop.set()"]
        assert {"start.set()", "stop.set()"} <= {t.get_text().strip() for t in ax.texts}  # named on the chart
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == ["A", "B", "C", "start.set()", "stop.set()"]  # the bars' colours, then the lines
    finally:
        plt.close(ax.figure)


def test_a_marker_outside_the_spans_widens_the_axis():
    ax = plot_timeline(SPANS, markers={"early": 9.0, "late": 13.0})
    try:
        low, high = ax.get_xlim()
        assert low < -1.0 and high > 3.0
    finally:
        plt.close(ax.figure)


def test_legend_without_markers_and_none_by_default():
    ax = plot_timeline(SPANS, legend=True)
    try:
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A", "B", "C"]
    finally:
        plt.close(ax.figure)
    ax = plot_timeline(SPANS)
    try:
        assert ax.get_legend() is None
    finally:
        plt.close(ax.figure)


@pytest.mark.parametrize(
    ("markers", "error", "message"),
    [
        ([10.0], TypeError, "markers must map a name to a moment"),
        ({"set": "now"}, ValueError, r"markers\['set'\] must be a finite number"),
        ({"set": math.inf}, ValueError, "finite"),
        ({str(i): 10.0 for i in range(5)}, ValueError, "at most 4 moments"),
    ],
)
def test_bad_markers_are_refused_with_a_clear_error(markers, error, message):
    with pytest.raises(error, match=message):
        plot_timeline(SPANS, markers=markers)

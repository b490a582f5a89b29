from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers.timeline import Span, busy_time, check_spans, max_concurrency, plot_timeline, wall_time  # noqa: E402

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
        ([(0, 1, "a")], TypeError, "not a helpers.timeline.Span"),
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

"""Tests of helpers/lab/start_costs.py: how start costs are summarized, ranked and drawn."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers.lab.start_costs import (  # noqa: E402
    format_seconds,
    plot_start_costs,
    rank_start_costs,
    summarize_start_costs,
)


def test_start_costs_are_summarized_and_plotted():
    lines = summarize_start_costs({"spawn": [0.1, 0.3, 0.2], "fork": [0.002]})
    assert lines[0].split()[:3] == ["spawn:", "median", "200"]
    assert "fastest 100 ms, slowest 300 ms, 3 runs" in lines[0]
    ax = plot_start_costs({"spawn": [0.1, 0.3, 0.2], "fork": [0.002, 0.003]})
    try:
        assert [t.get_text() for t in ax.get_yticklabels()] == ["spawn", "fork"]
        assert ax.get_xscale() == "log" and "(log scale)" in ax.get_xlabel() and "Python" in ax.get_title()
        ax.figure.canvas.draw()
        labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert "10 ms" in labels and "100 ms" in labels
        left, right = ax.get_xlim()
        dots = [x for dots in ax.collections for x, _ in dots.get_offsets()]
        assert sorted(dots) == [0.002, 0.003, 0.1, 0.2, 0.3] and all(left < x < right for x in dots)
    finally:
        plt.close(ax.figure)
    with pytest.raises(ValueError, match="non-empty list"):
        plot_start_costs({"spawn": []})
    with pytest.raises(ValueError, match="is empty"):
        summarize_start_costs({"spawn": []})


@pytest.mark.parametrize(
    ("costs", "sentence"),
    [
        ({"fork": [0.002], "spawn": [0.05], "forkserver": [0.02]},
         "fork 2 ms < forkserver 20 ms < spawn 50 ms; the fastest was fork, the slowest spawn."),
        # a loaded machine can reorder them: the sentence follows the data, not the textbook
        ({"fork": [0.3, 0.5, 0.4], "spawn": [0.1], "forkserver": [0.2]},
         "spawn 100 ms < forkserver 200 ms < fork 400 ms; the fastest was spawn, the slowest fork."),
        ({"fork": [0.01], "spawn": [0.01], "forkserver": [0.02]},
         "fork 10 ms = spawn 10 ms < forkserver 20 ms; the slowest was forkserver."),
    ],
)
def test_rank_start_costs_orders_the_methods_by_their_measured_medians(costs, sentence):
    assert rank_start_costs(costs) == f"By median, here: {sentence}"


def test_rank_start_costs_with_one_method_and_with_none():
    assert rank_start_costs({"spawn": [0.05]}) == "Only spawn was measured here: median 50 ms."
    with pytest.raises(ValueError, match="non-empty list"):
        rank_start_costs({"spawn": []})


def test_format_seconds():
    assert [format_seconds(s) for s in (2.5, 0.25, 0.0012, 3e-6)] == ["2.50 s", "250 ms", "1.2 ms", "3 µs"]

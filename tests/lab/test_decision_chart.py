"""Tests of helpers.lab.decision_chart: every branch names a chapter that exists, and the chart draws."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest

from helpers.lab import decision_chart


def test_every_branch_names_an_existing_chapter():
    assert decision_chart.missing_chapters() == []
    fake = (decision_chart.Branch("a", "b", "99-no-such-chapter"),)
    assert decision_chart.missing_chapters(fake) == ["99-no-such-chapter"]


def test_chart_draws_a_box_per_answer_and_model():
    fig = decision_chart.draw_decision_chart()
    texts = [t.get_text() for t in fig.axes[0].texts]
    for branch in decision_chart.BRANCHES:
        assert branch.answer in texts and branch.model in texts
    with pytest.raises(ValueError, match="empty"):
        decision_chart.draw_decision_chart(())

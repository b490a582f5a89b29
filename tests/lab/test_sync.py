"""Tests of helpers/lab/sync.py: join_all, the locking-cost measurement and plot, and
the readers of chapter 08's timelines."""

from __future__ import annotations

import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers.lab import sync  # noqa: E402
from helpers.lab.timeline import Span  # noqa: E402
from tests.support import start_all


# --- join_all ----------------------------------------------------------------------------


def test_join_all_returns_exit_codes():
    processes = start_all(time.sleep, [(0.01,), (0.02,)])
    assert sync.join_all(processes, timeout=30) == [0, 0]


def test_join_all_terminates_a_stuck_process_instead_of_hanging():
    processes = start_all(time.sleep, [(60,)])
    began = time.monotonic()
    with pytest.raises(TimeoutError, match="still running after 0.5 s, so terminated: worker-1"):
        sync.join_all(processes, timeout=0.5)
    assert time.monotonic() - began < 10
    assert not processes[0].is_alive()


def test_join_all_checks_its_timeout():
    with pytest.raises(ValueError, match="timeout must be from 0 to 3600 seconds"):
        sync.join_all([], timeout=-1)


# --- what locking costs ------------------------------------------------------------------


def test_strategies_name_the_workers_the_chapter_shows():
    from helpers.sync import add_locally_then_lock, add_with_lock

    assert sync.STRATEGIES == ("lock each increment", "count locally, lock once")
    assert [sync._STRATEGY_WORKERS[s] for s in sync.STRATEGIES] == [add_with_lock, add_locally_then_lock]


def test_measure_locking_cost_returns_one_time_per_size_and_strategy():
    result = sync.measure_locking_cost(sizes=(100, 300), workers=2, repeats=1)
    assert result["sizes"] == [100, 300] and result["workers"] == 2
    for strategy in sync.STRATEGIES:
        assert len(result[strategy]) == 2 and all(t > 0 for t in result[strategy])


def test_locking_each_increment_is_slower_at_a_large_size():
    result = sync.measure_locking_cost(sizes=(30_000,), workers=2, repeats=1)
    each, once = (result[s][0] for s in sync.STRATEGIES)
    assert each > once


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"sizes": ()}, ValueError, "sizes must not be empty"),
        ({"sizes": (0,)}, ValueError, r"sizes\[0\] must be from 1"),
        ({"workers": 0}, ValueError, "workers must be from 1 to 64"),
        ({"repeats": 1.5}, TypeError, "repeats must be an int"),
    ],
)
def test_measure_locking_cost_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        sync.measure_locking_cost(**kwargs)


def test_plot_locking_cost_draws_both_strategies_and_names_the_machine():
    result = {"sizes": [10, 100], "workers": 2, sync.STRATEGIES[0]: [0.01, 0.1], sync.STRATEGIES[1]: [0.001, 0.002]}
    ax = sync.plot_locking_cost(result)
    try:
        assert len(ax.lines) == 2
        assert [t.get_text() for t in ax.get_legend().get_texts()] == list(sync.STRATEGIES)
        assert "Python" in ax.get_title() and "CPU" in ax.get_title()
        assert "(s)" in ax.get_ylabel() and "2 workers" in ax.get_xlabel()
    finally:
        plt.close(ax.figure)
    with pytest.raises(ValueError, match="measure_locking_cost"):
        sync.plot_locking_cost({"sizes": [1]})


# --- timelines of chapter 08 -------------------------------------------------------------


def test_holders_at_once_counts_only_using_spans():
    spans = [Span("a", "using", 0, 2), Span("b", "waiting", 0, 2), Span("b", "using", 2, 3)]
    assert sync.holders_at_once(spans) == 1
    with pytest.raises(ValueError, match='no "using" span'):
        sync.holders_at_once([Span("a", "waiting", 0, 1)])


def test_phases_in_order_ignores_waits_and_needs_phases():
    spans = [Span("a", "phase 1", 0, 1), Span("a", "wait", 1, 2), Span("b", "phase 1", 0, 2), Span("a", "phase 2", 2, 3)]
    assert sync.phases_in_order(spans) is True
    assert sync.phases_in_order([*spans, Span("b", "phase 2", 1.5, 3)]) is False
    with pytest.raises(ValueError, match='no "phase N" span'):
        sync.phases_in_order([Span("a", "wait", 0, 1)])

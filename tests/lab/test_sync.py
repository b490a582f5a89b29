"""Tests of helpers/lab/sync.py: join_all, the locking-cost measurement and plot, and
the readers of chapter 08's timelines."""

from __future__ import annotations

import multiprocessing
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


def test_each_variant_runs_the_worker_the_chapter_shows(monkeypatch):
    calls = []
    for name in ("count_locally", "add_to_raw_value", "add_with_value_lock", "add_locally_then_lock"):
        monkeypatch.setattr(sync, name, lambda *args, name=name: calls.append(name))
    counter = multiprocessing.Value("q", 0)
    for variant in sync.VARIANTS:
        sync._VARIANT_CALLS[variant](counter, 5)
    assert calls == ["count_locally", "add_to_raw_value", "add_with_value_lock", "add_locally_then_lock", "count_locally"]


def test_the_workers_count_right_in_one_process():
    counter = multiprocessing.Value("q", 0)
    for variant in sync.VARIANTS:
        counter.value = 0
        returned = sync._VARIANT_CALLS[variant](counter, 1_000)
        counted = returned if variant in sync.RETURNS_COUNT else counter.value
        assert counted == 1_000, variant


def test_measure_locking_cost_times_every_bar_and_checks_the_counts():
    costs = sync.measure_locking_cost(increments=2_000, processes=2, repeats=1)
    assert [(c.variant, c.processes) for c in costs] == sync.cost_plan(2)
    assert all(c.ns > 0 and c.expected == 2_000 * c.processes for c in costs)
    for c in costs:
        if c.variant == sync.UNLOCKED and c.processes == 2:
            assert 1 <= c.total <= c.expected  # may lose updates, never gains any
        else:
            assert c.total == c.expected and c.lost == 0, c


def test_a_contended_lock_costs_more_than_a_local_variable():
    costs = {(c.variant, c.processes): c.ns for c in sync.measure_locking_cost(increments=30_000, repeats=1)}
    many = max(p for _, p in costs)
    assert costs[("Value with its lock", many)] > costs[("local variable", 1)]
    assert costs[("Value with its lock", 1)] > costs[("local variable", 1)]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"increments": 0}, ValueError, "increments must be from 1"),
        ({"processes": 1}, ValueError, "processes must be from 2 to 64"),
        ({"repeats": 1.5}, TypeError, "repeats must be an int"),
    ],
)
def test_measure_locking_cost_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        sync.measure_locking_cost(**kwargs)


COSTS = [
    sync.IncrementCost("local variable", 1, 20.0, 1_000, 1_000),
    sync.IncrementCost(sync.UNLOCKED, 1, 50.0, 1_000, 1_000),
    sync.IncrementCost("Value with its lock", 1, 200.0, 1_000, 1_000),
    sync.IncrementCost("Value with its lock", 2, 3_000.0, 2_000, 2_000),
    sync.IncrementCost(sync.UNLOCKED, 2, 90.0, 1_500, 2_000),
    sync.IncrementCost("count locally, return it", 2, 21.0, 2_000, 2_000),
]


def test_locking_cost_table_and_summary_are_computed_from_the_data():
    table = sync.locking_cost_table(COSTS)
    assert "local variable, 1 process" in table and "1,500 of 2,000 (lost 500)" in table
    summary = sync.locking_cost_summary(COSTS)
    assert "cheapest was local variable, 1 process (20 ns" in summary
    assert "dearest Value with its lock, 2 processes (3,000 ns), 150 times" in summary
    assert "shared Value cost 2.5 times a local variable, and taking its lock 4.0 times" in summary
    assert "each increment cost 15.0 times" in summary
    assert "lost 500 of 2,000 updates" in summary
    lucky = [c._replace(total=c.expected) for c in COSTS]
    assert "happened to lose no update" in sync.locking_cost_summary(lucky)
    assert "cheapest was local variable" in sync.locking_cost_summary(lucky)


def test_plot_locking_cost_labels_every_bar_and_names_the_machine():
    ax = sync.plot_locking_cost(COSTS)
    try:
        assert len(ax.patches) == len(COSTS)
        assert [t.get_text() for t in ax.get_yticklabels()] == [c.label for c in COSTS]
        notes = [t.get_text() for t in ax.texts]
        assert notes[0] == "20 ns" and notes[4] == "90 ns, lost 500 updates"
        assert [p.get_hatch() or "" for p in ax.patches][4] == "//"
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == ["1 process: right count", "2 processes: right count", "lost updates: wrong count"]
        assert ax.get_xscale() == "log" and "nanoseconds per increment" in ax.get_xlabel()
        assert "Python" in ax.get_title() and "CPU" in ax.get_title()
    finally:
        plt.close(ax.figure)
    with pytest.raises(ValueError, match="measure_locking_cost"):
        sync.plot_locking_cost([{"ns": 1}])


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

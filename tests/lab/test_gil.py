"""Tests of helpers.lab.gil: the first measurement of the book, serial against threads against processes."""

from __future__ import annotations

import time

import pytest

from helpers.lab.gil import check_fastest_for_waiting, three_ways


def test_three_ways_runs_in_spawned_children_and_agrees():
    timings = three_ways([1000, 2000, 3000], workers=2)
    assert timings["results"] == [168, 303, 430]
    assert all(timings[k] > 0 for k in ("serial", "threads", "processes"))


def test_three_ways_accepts_a_standard_library_function():
    assert three_ways([0.01, 0.01], workers=2, func=time.sleep)["results"] == [None, None]


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_three_ways_rejects_bad_workers(workers):
    with pytest.raises(ValueError, match="workers must be an int >= 1"):
        three_ways([10], workers=workers)


def test_three_ways_rejects_no_tasks():
    with pytest.raises(ValueError, match="tasks must not be empty"):
        three_ways([], workers=1)


def test_check_fastest_for_waiting(capsys):
    assert check_fastest_for_waiting("threads") is True
    assert check_fastest_for_waiting("processes") is False
    assert check_fastest_for_waiting(2) is False
    out = capsys.readouterr().out
    assert out.count("❌") == 2 and "one of" in out

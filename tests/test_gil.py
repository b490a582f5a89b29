from __future__ import annotations

import time

import pytest

from helpers.gil import check_fastest_for_waiting, three_ways
from helpers.workloads import count_primes, is_prime


def test_count_primes_matches_a_sieve():
    limit = 5000
    sieve = [True] * limit
    sieve[0:2] = [False, False]
    for n in range(2, int(limit**0.5) + 1):
        if sieve[n]:
            sieve[n * n :: n] = [False] * len(sieve[n * n :: n])
    assert count_primes(limit) == sum(sieve)
    assert [n for n in range(limit) if is_prime(n)] == [n for n in range(limit) if sieve[n]]


@pytest.mark.parametrize(("limit", "error"), [(-1, ValueError), (2.5, TypeError), (True, TypeError)])
def test_count_primes_rejects_bad_limits(limit, error):
    with pytest.raises(error, match="limit must be"):
        count_primes(limit)


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

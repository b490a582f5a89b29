"""Tests of helpers.workloads: the workers give the right answers, in the parent and in a child."""

from __future__ import annotations

import math
import multiprocessing
import time

import numpy as np

from helpers.workloads import count_primes, is_prime, numpy_sines, wait


def sieve(limit: int) -> list[bool]:
    flags = [True] * limit
    flags[0:2] = [False, False]
    for n in range(2, int(limit**0.5) + 1):
        if flags[n]:
            flags[n * n :: n] = [False] * len(flags[n * n :: n])
    return flags


def test_is_prime_and_count_primes_match_a_sieve():
    limit = 5000
    flags = sieve(limit)
    assert [n for n in range(limit) if is_prime(n)] == [n for n in range(limit) if flags[n]]
    assert count_primes(limit) == sum(flags)
    assert [count_primes(n) for n in (0, 1, 2, 3, 100)] == [0, 0, 0, 1, 25]


def test_wait_sleeps_and_returns_its_argument():
    start = time.perf_counter()
    assert wait(0.05) == 0.05
    assert time.perf_counter() - start >= 0.045
    assert wait(0) == 0


def test_numpy_sines_is_the_sum_of_sines():
    expected = float(np.sin(np.linspace(0.0, 1.0, 1000)).sum())
    assert math.isclose(numpy_sines(3, length=1000), expected)
    assert round(numpy_sines(3, length=3), 6) == 1.320897  # sin(0) + sin(0.5) + sin(1)
    assert numpy_sines(0) == 0.0
    assert numpy_sines(2) == numpy_sines(5)  # the same array every pass: the answer does not drift


def test_workers_run_in_a_child_started_with_the_book_start_method():
    with multiprocessing.Pool(1) as pool:  # conftest switched to the book's start method
        assert pool.map_async(count_primes, [100, 1000]).get(timeout=60) == [25, 168]
        assert pool.apply_async(wait, (0.01,)).get(timeout=60) == 0.01
        assert pool.apply_async(numpy_sines, (2, 3)).get(timeout=60) == numpy_sines(2, 3)

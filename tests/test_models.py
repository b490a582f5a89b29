"""Tests of helpers.models: the workers of the parallel-models chapter, in the parent, on threads and in a child."""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from helpers.lab.book import book_start_method
from helpers.models import add_through_call, add_to_counter, busy_for, compute_on_loop, fetch_and_count, primes_below, zero_bytes
from helpers.workloads import count_primes


def test_primes_below_agrees_with_count_primes():
    assert [primes_below(n) for n in (0, 1, 2, 3, 100, 5000)] == [count_primes(n) for n in (0, 1, 2, 3, 100, 5000)]


def test_zero_bytes_counts_zero_bytes():
    assert zero_bytes(bytes([0, 1, 0, 2, 0])) == 3
    assert zero_bytes(b"") == 0


def test_add_to_counter_adds_on_one_thread():
    counter = [5]
    add_to_counter(counter, 1000)
    assert counter == [1005]


def test_add_through_call_adds_on_one_thread():
    counter = [5]
    add_through_call(counter, 1000)
    assert counter == [1005]


def test_busy_for_computes_for_about_the_time_asked():
    assert busy_for(0.01) > 0
    assert busy_for(0.0) == 0


def test_compute_on_loop_returns_the_count():
    assert asyncio.run(compute_on_loop(0.01)) > 0


def test_fetch_and_count_computes_in_a_process_pool():
    ctx = multiprocessing.get_context(book_start_method())
    with ProcessPoolExecutor(1, mp_context=ctx) as pool:
        assert asyncio.run(asyncio.wait_for(fetch_and_count(100, 0.01, pool), timeout=60)) == 25


def test_workers_run_on_threads():
    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(primes_below, [100, 1000], timeout=30)) == [25, 168]

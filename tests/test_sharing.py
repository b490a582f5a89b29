"""Tests of helpers/sharing.py. Processes start with the book's start method (spawn by default,
see tests/conftest.py), so every worker is proved importable by a fresh child."""

from __future__ import annotations

import multiprocessing
from multiprocessing import shared_memory

import numpy as np

from helpers import sharing
from tests.support import finish, start


def test_locked_counter_loses_nothing():
    counter, barrier = multiprocessing.Value("i", 0), multiprocessing.Barrier(2)
    adders = [start(sharing.add_to_counter, counter, 2000, True, barrier) for _ in range(2)]
    finish(*adders)
    assert counter.value == 4000


def test_unlocked_counter_counts_right_alone():
    counter = multiprocessing.Value("i", 0)
    sharing.add_to_counter(counter, 100, False)
    assert counter.value == 100


def test_unlocked_counters_in_two_processes_lose_updates():
    """The race the chapter shows: with 2 x 50,000 unlocked additions some are lost (timing: may be re-run)."""
    counter, barrier = multiprocessing.Value("i", 0), multiprocessing.Barrier(2)
    adders = [start(sharing.add_to_counter, counter, 50_000, False, barrier) for _ in range(2)]
    finish(*adders)
    assert 0 < counter.value < 100_000


def test_fill_squares_in_a_shared_array():
    array = multiprocessing.Array("q", 6)
    finish(start(sharing.fill_squares, array, 0, 3), start(sharing.fill_squares, array, 3, 6))
    assert array[:] == [0, 1, 4, 9, 16, 25]


def test_scale_shared_array_in_a_child_changes_the_parents_view():
    segment = shared_memory.SharedMemory(create=True, size=4 * 8)
    try:
        view = np.ndarray((4,), dtype=np.float64, buffer=segment.buf)
        view[:] = [1, 2, 3, 4]
        finish(start(sharing.scale_shared_array, segment.name, (4,), view.dtype.str, 2.5))
        assert view.tolist() == [2.5, 5.0, 7.5, 10.0]
        del view
    finally:
        segment.close()
        segment.unlink()


def test_manager_proxies_record_every_square():
    with multiprocessing.Manager() as manager:
        squares, seen = manager.dict(), manager.list()
        finish(start(sharing.record_squares, squares, seen, [1, 2]), start(sharing.record_squares, squares, seen, [3]))
        assert squares.copy() == {1: 1, 2: 4, 3: 9}
        assert sorted(seen) == [1, 2, 3]


def test_add_in_manager_with_a_manager_lock_loses_nothing():
    with multiprocessing.Manager() as manager:
        totals, lock = manager.dict(n=0), manager.Lock()
        finish(*[start(sharing.add_in_manager, totals, "n", 200, lock) for _ in range(2)])
        assert totals["n"] == 400


def test_add_in_manager_without_a_lock_counts_right_alone():
    with multiprocessing.Manager() as manager:
        totals = manager.dict(n=0)
        sharing.add_in_manager(totals, "n", 5)
        assert totals["n"] == 5

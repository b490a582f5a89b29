"""Tests of helpers/sharing.py. Processes start with the book's start method (spawn by default,
see tests/conftest.py), so every worker is proved importable by a fresh child."""

from __future__ import annotations

import multiprocessing
import signal
import sys
from multiprocessing import shared_memory

import numpy as np
import pytest

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
    """The race the chapter shows: with 2 x 200,000 unlocked additions some are lost (timing: may be re-run)."""
    counter, barrier = multiprocessing.Value("i", 0), multiprocessing.Barrier(2)
    adders = [start(sharing.add_to_counter, counter, 200_000, False, barrier) for _ in range(2)]
    finish(*adders)
    assert 0 < counter.value < 400_000


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


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals: Windows reports an access violation instead")
def test_an_ndarray_view_does_not_stop_close_and_reading_it_afterwards_kills_the_process():
    """The chapter's claim: close() unmaps the segment under an np.ndarray view; the next read is a segfault."""
    segment = shared_memory.SharedMemory(create=True, size=1_000 * 8)
    try:
        child = start(sharing.read_after_close, segment.name, 1_000)
        child.join(timeout=30)
        crashes = {-signal.SIGSEGV, -getattr(signal, "SIGBUS", signal.SIGSEGV)}  # macOS may say SIGBUS
        assert child.exitcode in crashes, f"exit code {child.exitcode}"
    finally:
        segment.close()
        segment.unlink()


def test_a_frombuffer_view_makes_close_raise_buffererror():
    """The contrast: np.frombuffer keeps an export of the buffer, so close() refuses instead of unmapping."""
    segment = shared_memory.SharedMemory(create=True, size=8 * 8)
    try:
        view = np.frombuffer(segment.buf, dtype=np.float64)
        with pytest.raises(BufferError):
            segment.close()
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


def test_add_in_manager_without_a_lock_in_two_processes_loses_updates():
    """The chapter's race: the manager's server runs a thread per connection, so get-then-set pairs interleave
    and additions are lost (timing: may be re-run)."""
    with multiprocessing.Manager() as manager:
        totals, barrier = manager.dict(n=0), multiprocessing.Barrier(2)
        finish(*[start(sharing.add_in_manager, totals, "n", 1_000, None, barrier) for _ in range(2)])
        assert 0 < totals["n"] < 2_000


def test_add_in_manager_without_a_lock_counts_right_alone():
    with multiprocessing.Manager() as manager:
        totals = manager.dict(n=0)
        sharing.add_in_manager(totals, "n", 5)
        assert totals["n"] == 5


def test_sum_dataset_reads_a_list_of_records_and_an_array():
    sharing.keep_dataset([[0, 1.5], [1, 2.5]])
    assert sharing.sum_dataset() == 4.0
    sharing.keep_dataset(np.arange(4, dtype=np.float64))
    assert sharing.sum_dataset() == 6.0
    sharing.keep_dataset(None)


def test_a_pool_initializer_attaches_once_and_every_task_reads_the_segment():
    values = np.arange(10, dtype=np.float64)
    segment = shared_memory.SharedMemory(create=True, size=values.nbytes)
    view = np.ndarray(values.shape, dtype=values.dtype, buffer=segment.buf)
    view[:] = values
    try:
        with multiprocessing.Pool(2, initializer=sharing.attach_dataset, initargs=(segment.name, (10,), "<f8")) as pool:
            sums = pool.map_async(sharing.sum_dataset, range(3)).get(timeout=30)
    finally:
        del view
        segment.close()
        segment.unlink()
    assert sums == [45.0, 45.0, 45.0]


def test_open_memmap_reads_the_file(tmp_path):
    path = tmp_path / "v.f8"
    np.arange(5, dtype=np.float64).tofile(path)
    with multiprocessing.Pool(1, initializer=sharing.open_memmap, initargs=(str(path), (5,), "<f8")) as pool:
        assert pool.apply_async(sharing.sum_dataset, (0,)).get(timeout=30) == 10.0


def test_collect_garbage_returns_a_count():
    assert sharing.collect_garbage() >= 0


def test_make_result_into_fills_its_places_and_leaves_the_segment_to_its_creator():
    segment = shared_memory.SharedMemory(create=True, size=8 * 8)
    try:
        segment.buf[:] = np.full(8, -1.0).tobytes()
        finish(start(sharing.make_result_into, segment.name, 4, 8))
        got = np.frombuffer(bytes(segment.buf[:64]), dtype=np.float64)
    finally:
        segment.close()
        segment.unlink()  # raises FileNotFoundError if the worker had unlinked it
    assert got[:4].tolist() == [-1.0] * 4
    assert np.array_equal(got[4:], sharing.make_result(4, 8))

"""Tests of helpers/lab/memory.py: what a shared dataset costs each worker, and the two ways of
returning a large result. Pools start with the book's start method (spawn by default), and with
fork where the test is about copy-on-write (skipped where fork is missing)."""

from __future__ import annotations

import gc
import multiprocessing

import numpy as np
import pytest

from helpers import sharing
from helpers.lab import memory

HAS_FORK = "fork" in multiprocessing.get_all_start_methods()
needs_fork = pytest.mark.skipif(not HAS_FORK, reason="copy-on-write needs the fork start method")


def test_records_are_small_lists():
    assert memory.records(3) == [[0, 0.0], [1, 0.5], [2, 1.0]]
    with pytest.raises(ValueError, match="count"):
        memory.records(0)


def test_own_uss_grows_with_a_private_buffer():
    before = memory.own_uss()
    block = np.ones(20 * memory.MB // 8)  # written: every page is this process's own
    assert memory.own_uss() - before > 10 * memory.MB
    del block


def test_worker_growth_is_small_for_shared_memory():
    values = np.arange(2_000_000, dtype=np.float64)  # 16 MB
    segment = multiprocessing.shared_memory.SharedMemory(create=True, size=values.nbytes)
    table = np.ndarray(values.shape, dtype=values.dtype, buffer=segment.buf)
    table[:] = values
    try:
        args = (segment.name, table.shape, table.dtype.str)
        growth = memory.worker_growth(multiprocessing.get_context(), sharing.attach_dataset, args, sharing.sum_dataset)
    finally:
        del table
        segment.close()
        segment.unlink()
    assert len(growth) == 2
    assert not memory.copies_per_worker({"shm": growth}, {"shm": values.nbytes / memory.MB})["shm"]


def test_worker_growth_is_small_for_a_memmap(tmp_path):
    values = np.arange(2_000_000, dtype=np.float64)
    path = tmp_path / "values.f8"
    values.tofile(path)
    args = (str(path), values.shape, values.dtype.str)
    growth = memory.worker_growth(multiprocessing.get_context(), sharing.open_memmap, args, sharing.sum_dataset)
    assert max(growth) < 0.25 * values.nbytes


@needs_fork
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork in a process that runs threads
def test_forked_workers_copy_python_objects_they_read_even_with_gc_freeze():
    fork = multiprocessing.get_context("fork")
    rows = memory.records(100_000)
    gc.freeze()
    try:
        collected = memory.worker_growth(fork, sharing.keep_dataset, (rows,), sharing.collect_garbage)
        read = memory.worker_growth(fork, sharing.keep_dataset, (rows,), sharing.sum_dataset)
    finally:
        gc.unfreeze()
    rough_size = 100_000 * 150  # about 150 bytes a record
    assert max(collected) < 0.1 * rough_size  # frozen: the collector leaves them alone
    assert min(read) > 0.4 * rough_size  # read: the reference counts are written


@needs_fork
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_forked_workers_share_a_numpy_array_they_read():
    values = np.arange(2_000_000, dtype=np.float64)
    growth = memory.worker_growth(multiprocessing.get_context("fork"), sharing.keep_dataset, (values,), sharing.sum_dataset)
    assert max(growth) < 0.25 * values.nbytes


def test_worker_growth_rejects_bad_arguments():
    with pytest.raises(ValueError, match="workers"):
        memory.worker_growth(multiprocessing.get_context(), sharing.keep_dataset, ([],), sharing.sum_dataset, workers=0)
    with pytest.raises(ValueError, match="timeout"):
        memory.worker_growth(multiprocessing.get_context(), sharing.keep_dataset, ([],), sharing.sum_dataset, timeout=-1)


def test_growth_table_and_sentences_come_from_the_data():
    growth = {"copied": [30 * memory.MB, 28 * memory.MB], "shared": [-1000, 2000]}
    size = {"copied": 30.0, "shared": 30.0}
    table = memory.growth_table(growth, size)
    assert "copied" in table and "30.0 MB" in table and "-" not in table.split("\n")[2]
    assert memory.copies_per_worker(growth, size) == {"copied": True, "shared": False}
    sentences = memory.describe_copies(growth, size).split("\n")
    assert sentences[0] == "copied: each worker added at least 93% of the dataset's size in private memory."
    assert sentences[1].startswith("shared: each worker added at least 0%")


def test_time_result_return_gives_both_ways():
    with multiprocessing.Pool(1) as pool:
        times = memory.time_result_return(pool, sharing.make_result, sharing.make_result_into, 100_000, repeats=1)
    assert set(times) == {"returned", "shared memory"} and all(t > 0 for t in times.values())
    sentence = memory.describe_result_times({"returned": 0.1, "shared memory": 0.025}, 32_000_000)
    assert sentence.endswith("shared memory was 4.0x faster here.")
    assert "returned through the pool in 100.0 ms" in sentence


def test_time_result_return_rejects_a_bad_count():
    with pytest.raises(ValueError, match="count"):
        memory.time_result_return(None, sharing.make_result, sharing.make_result_into, 0)

"""Tests of helpers/distributed.py: the scale-out chapter's workers.

The Dask Lock and Variable worker runs on a LocalCluster of two processes (skipped where
Dask does not install); the others are plain functions, tested in this process or a child.
"""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

from helpers.distributed import count_with_dask_lock, die_first_time, fail_first_time, scaled_total


def test_scaled_total_is_the_sum_times_the_factor():
    assert scaled_total(np.arange(5.0), 3) == 30.0


def test_fail_first_time_fails_once_then_succeeds(tmp_path):
    marker = tmp_path / "flag"
    with pytest.raises(RuntimeError, match="flag did not exist yet"):
        fail_first_time(str(marker))
    assert marker.exists()
    assert fail_first_time(str(marker)) == "ok"


def test_die_first_time_ends_its_process_once(tmp_path):
    marker = str(tmp_path / "flag")
    ctx = multiprocessing.get_context("spawn")
    child = ctx.Process(target=die_first_time, args=(marker,))
    child.start()
    child.join(30)
    assert child.exitcode == 1, "the first call ends its process with exit code 1"
    assert die_first_time(marker) == "ok"  # the second returns, in this process


def test_count_with_dask_lock_loses_no_increment():
    pytest.importorskip("distributed", reason="dask[distributed] does not install on this Python")
    from distributed import Variable, wait

    from helpers.lab.dask_lab import connect, shutdown

    client, cluster = connect(2, environ={})
    try:
        Variable("test-counter", client=client).set(0)
        futures = [client.submit(count_with_dask_lock, 15, "test-counter", pure=False) for _ in range(2)]
        wait(futures, timeout=60)
        assert client.gather(futures) == [15, 15]
        assert Variable("test-counter", client=client).get(timeout=10) == 30
    finally:
        shutdown(client, cluster)

"""collect: the parent takes a known number of results, or fails in time saying how many came."""

from __future__ import annotations

import multiprocessing
import sys
import time

import pytest

from helpers.lab.results import collect


def test_collect_takes_items_put_by_a_child_process():
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=queue.put, args=("from the child",))
    child.start()
    try:
        assert collect(queue, 1, timeout=60) == ["from the child"]
    finally:
        child.join(timeout=30)
    assert child.exitcode == 0


def test_collect_times_out_in_time_and_says_how_many_came():
    import queue

    q = queue.Queue()
    q.put(1)
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="only 1 of 3 items arrived within 0.2 s"):
        collect(q, 3, timeout=0.2)
    assert time.monotonic() - start < 2


@pytest.mark.parametrize(("count", "timeout", "error"), [(-1, 1, ValueError), (2, -1, ValueError), (1.5, 1, TypeError)])
def test_collect_refuses_bad_arguments(count, timeout, error):
    import queue

    with pytest.raises(error):
        collect(queue.Queue(), count, timeout)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM cannot be ignored on Windows")
def test_end_process_stops_a_child_that_ignores_sigterm_and_skips_one_never_started():
    from helpers.lab.results import end_process
    from helpers.processes import ignore_sigterm, noop

    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    stubborn = ctx.Process(target=ignore_sigterm, args=(ready, 60.0))
    stubborn.start()
    assert ready.wait(timeout=60)  # its SIGTERM handler is in place: terminate() alone will not do
    assert end_process(stubborn, timeout=0.5) is True
    assert not stubborn.is_alive()
    assert end_process(ctx.Process(target=noop)) is False
    ended = ctx.Process(target=noop)
    ended.start()
    assert end_process(ended, timeout=30) is False and ended.exitcode == 0


def test_collect_watching_its_producers_names_one_that_died_at_once():
    from helpers.processes import mystery

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=mystery, args=(2,), name="producer")  # sys.exit(2), putting nothing
    child.start()
    start = time.monotonic()
    try:
        with pytest.raises(ChildProcessError, match="producer died with exit code 2 before all the items arrived: 0 of 1"):
            collect(queue, 1, timeout=60, watch=[child])
    finally:
        child.join(timeout=30)
    assert time.monotonic() - start < 30


def test_pool_result_says_how_long_it_waited_and_gives_a_result_that_comes():
    from helpers.lab.results import pool_result
    from helpers.workloads import wait

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool_result(pool, pool.map_async(abs, [-1, -2]), timeout=60) == [1, 2]
        start = time.monotonic()
        with pytest.raises(multiprocessing.TimeoutError, match="no result within 0.5 s"):
            pool_result(pool, pool.apply_async(wait, (30,)), timeout=0.5)
        assert time.monotonic() - start < 5

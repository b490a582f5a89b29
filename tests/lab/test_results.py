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

"""collect: the parent takes a known number of results, or fails in time saying how many came."""

from __future__ import annotations

import multiprocessing
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

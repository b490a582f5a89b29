"""Tests of helpers/messages.py. Processes start with the book's start method (spawn by default,
see tests/conftest.py), so every worker is proved importable by a fresh child."""

from __future__ import annotations

import multiprocessing
import queue
import time

import pytest

from helpers import messages
from helpers.lab.ipc import expected_items, in_order_per_producer
from helpers.lab.results import collect
from tests.support import TIMEOUT, finish, start

# --- Queue -----------------------------------------------------------------------------


def test_produce_puts_numbered_items_and_no_sentinel():
    items = queue.Queue()
    messages.produce(items, "A", 3)
    assert [items.get_nowait() for _ in range(3)] == [("A", 0), ("A", 1), ("A", 2)]
    assert items.empty()


def test_racy_consumer_misses_items_of_a_slow_producer():
    items, results = multiprocessing.Queue(), multiprocessing.Queue()
    producer = start(messages.produce, items, "A", 4, 0.2)
    consumer = start(messages.consume_while_not_empty, items, results)
    received = results.get(timeout=TIMEOUT)
    finish(producer, consumer)
    assert len(received) < 4


def test_racy_consumer_takes_everything_already_there():
    items, results = multiprocessing.Queue(), multiprocessing.Queue()
    # A producer that has exited has flushed its items into the pipe (its feeder thread is joined at
    # exit); items put here could still sit in our feeder thread's buffer when a forked child looks.
    finish(start(messages.produce, items, "A", 3))
    consumer = start(messages.consume_while_not_empty, items, results)
    assert results.get(timeout=TIMEOUT) == [("A", 0), ("A", 1), ("A", 2)]
    finish(consumer)


def test_sentinels_deliver_every_item_in_order_per_producer():
    items, results = multiprocessing.Queue(), multiprocessing.Queue()
    producers = [start(messages.produce, items, name, 3, 0.01) for name in "AB"]
    consumers = [start(messages.consume_until_sentinel, items, results, f"c{i}") for i in range(2)]
    finish(*producers)
    for _ in consumers:
        items.put(None)
    received = dict(results.get(timeout=TIMEOUT) for _ in consumers)
    finish(*consumers)
    assert set(received) == {"c0", "c1"}
    everything = [item for got in received.values() for item in got]
    assert sorted(everything) == expected_items("AB", 3)
    assert all(in_order_per_producer(got) for got in received.values())


def test_consumer_without_sentinel_fails_instead_of_hanging_and_says_so():
    items, results = multiprocessing.Queue(), multiprocessing.Queue()
    consumer = start(messages.consume_until_sentinel, items, results, "c", 0.2)
    name, error = results.get(timeout=TIMEOUT)
    consumer.join(timeout=TIMEOUT)
    assert consumer.exitcode == 1  # queue.Empty in the child
    assert name == "c" and isinstance(error, TimeoutError)
    assert str(error) == "no item and no sentinel within 0.2 s"


def test_the_parent_hears_of_a_consumer_that_timed_out_at_once_not_at_its_own_timeout():
    items, results = multiprocessing.Queue(), multiprocessing.Queue()
    consumer = start(messages.consume_until_sentinel, items, results, "c", 0.2)
    begin = time.monotonic()
    with pytest.raises(RuntimeError, match=r"a worker reported a failure .*'c', TimeoutError\('no item and no sentin"):
        collect(results, 1, timeout=40)
    assert time.monotonic() - begin < 20  # the consumer's timeout and a start, not collect's 40 s
    consumer.join(timeout=TIMEOUT)
    assert consumer.exitcode == 1


def test_quiet_consumer_gets_all_while_the_producer_is_quicker_than_the_timeout():
    items, results = multiprocessing.Queue(), multiprocessing.Queue()
    producer = start(messages.produce, items, "A", 3, 0.05)
    consumer = start(messages.consume_until_quiet, items, results, "c", 3.0)
    assert results.get(timeout=TIMEOUT) == ("c", expected_items("A", 3))
    finish(producer, consumer)


def test_quiet_consumer_stops_when_nothing_comes():
    items, results = multiprocessing.Queue(), multiprocessing.Queue()
    messages.consume_until_quiet(items, results, "c", 0.05)  # in this process: nothing to wait for
    assert results.get(timeout=TIMEOUT) == ("c", [])


def test_quiet_consumer_loses_the_items_of_a_producer_slower_than_its_guess():
    items, results = multiprocessing.Queue(), multiprocessing.Queue()
    producer = start(messages.produce, items, "A", 2, 0.5)
    messages.consume_until_quiet(items, results, "c", 0.1)  # gives up long before the first item
    assert results.get(timeout=TIMEOUT) == ("c", [])
    finish(producer)
    assert [items.get(timeout=TIMEOUT) for _ in range(2)] == expected_items("A", 2)


def test_joinable_queue_workers_call_task_done_for_every_item():
    from helpers.lab.ipc import join_with_timeout

    tasks, results = multiprocessing.JoinableQueue(), multiprocessing.Queue()
    workers = [start(messages.square_tasks, tasks, results) for _ in range(2)]
    for n in range(6):
        tasks.put(n)
    join_with_timeout(tasks, TIMEOUT)
    assert dict(results.get(timeout=TIMEOUT) for _ in range(6)) == {n: n * n for n in range(6)}
    for _ in workers:
        tasks.put(None)
    join_with_timeout(tasks, TIMEOUT)  # the sentinels are task_done() too
    finish(*workers)


# --- join before drain -----------------------------------------------------------------------


def test_big_result_blocks_exit_until_read():
    results, finished = multiprocessing.Queue(), multiprocessing.Event()
    child = start(messages.put_big_result, results, 1_000_000, finished)
    assert finished.wait(timeout=TIMEOUT)
    child.join(timeout=1)
    assert child.is_alive(), "a 1 MB result should keep the child alive until it is read"
    assert len(results.get(timeout=TIMEOUT)) == 1_000_000
    finish(child)


def test_small_result_does_not_block_exit():
    results, finished = multiprocessing.Queue(), multiprocessing.Event()
    child = start(messages.put_big_result, results, 100, finished)
    assert finished.wait(timeout=TIMEOUT)
    finish(child)  # joined before reading: fine, 100 bytes fit in the pipe
    assert results.get(timeout=TIMEOUT) == b"\x01" * 100


# --- Pipe --------------------------------------------------------------------------------------


def test_send_squares_then_eof():
    receiver, sender = multiprocessing.Pipe(duplex=False)
    child = start(messages.send_squares, sender, 4)
    sender.close()
    received = []
    while True:
        assert receiver.poll(TIMEOUT)
        try:
            received.append(receiver.recv())
        except EOFError:
            break
    finish(child)
    assert received == [0, 1, 4, 9]


def test_a_pipe_send_blocks_while_nobody_reads():
    """Connection.send writes in the calling thread: past the pipe's buffer it waits for a reader."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    child = start(sender.send, b"x" * 1_000_000)  # a bound method of a Connection: picklable as an argument
    sender.close()
    child.join(timeout=1)
    assert child.is_alive(), "send() of 1 MB should wait until the parent reads"
    assert receiver.poll(TIMEOUT) and len(receiver.recv()) == 1_000_000
    finish(child)


@pytest.mark.parametrize(
    "request_, response",
    [
        (("square", 3), ("ok", 9)),
        (("upper", "ab"), ("ok", "AB")),
        (("sum", [1, 2]), ("ok", 3)),
        (("cube", 1), ("error", "unknown operation 'cube': choose from square, upper, sum")),
        (("square", "x"), ("error", "TypeError: can't multiply sequence by non-int of type 'str'")),
    ],
)
def test_answer(request_, response):
    assert messages.answer(request_) == response


def test_a_request_that_is_no_pair_gets_an_error_response():
    status, message = messages.answer("junk")  # the wording after "unpack" varies between versions
    assert status == "error" and message.startswith("ValueError: too many values to unpack")


def test_serve_requests_answers_in_order_and_stops():
    here, there = multiprocessing.Pipe()
    server = start(messages.serve_requests, there)
    there.close()
    requests = [("square", 3), ("upper", "ab"), ("sum", [1, 2]), ("cube", 1), ("square", "x"), "junk"]
    for request in requests:
        here.send(request)
    responses = []
    for _ in requests:
        assert here.poll(TIMEOUT)
        responses.append(here.recv())
    here.send(None)
    finish(server)
    assert responses == [messages.answer(request) for request in requests]
    assert here.poll(TIMEOUT)
    with pytest.raises(EOFError):
        here.recv()


def test_serve_requests_stops_when_idle():
    here, there = multiprocessing.Pipe()
    server = start(messages.serve_requests, there, 0.2)
    there.close()
    finish(server)
    here.close()


def test_serve_requests_stops_at_eof():
    here, there = multiprocessing.Pipe()
    if multiprocessing.get_start_method() == "fork":
        # A forked child holds a copy of `here` too, so closing the parent's gives it no EOF:
        # it stops only at its idle timeout (under spawn and forkserver it gets only `there`).
        server = start(messages.serve_requests, there, 1.0)
    else:
        server = start(messages.serve_requests, there)  # EOF at once, long before its 30 s idle timeout
    there.close()
    here.close()  # no None: the server sees EOFError
    finish(server)

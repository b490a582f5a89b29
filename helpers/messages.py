"""Workers that pass messages: producers and consumers on a Queue, and the ends of a Pipe.

Each worker runs in a child process, so it lives in a module that a spawned child
can import. It sends its results back through a queue or a pipe instead of
printing them, and every blocking call in it has a timeout. Chapter 03 shows each
one on the page before it uses it.
"""

from __future__ import annotations

import time
from queue import Empty


def produce(queue, producer: str, count: int, delay: float = 0.0) -> None:
    """Put (producer, 0) ... (producer, count - 1) on queue, sleeping delay seconds before each."""
    for i in range(count):
        time.sleep(delay)  # the work of making one item
        queue.put((producer, i))


def consume_while_not_empty(queue, results) -> None:
    """The racy consumer, shown as what NOT to do: it stops as soon as empty() is True."""
    received = []
    while not queue.empty():  # a snapshot: the next item may be on its way
        try:
            received.append(queue.get(timeout=10))
        except Empty:  # another consumer took the last item first
            break
    results.put(received)


def consume_until_sentinel(queue, results, consumer: str, timeout: float = 10.0) -> None:
    """Take items until None (the sentinel) arrives, then put (consumer, items) on results."""
    received = []
    while True:
        try:
            item = queue.get(timeout=timeout)  # raises queue.Empty rather than wait forever
        except Empty:  # no sentinel came: tell the parent now, then fail
            results.put((consumer, TimeoutError(f"no item and no sentinel within {timeout:g} s")))
            raise
        if item is None:
            break
        received.append(item)
    results.put((consumer, received))


def consume_until_quiet(queue, results, consumer: str, quiet: float = 1.0) -> None:
    """Take items until none comes for quiet seconds, then put (consumer, items) on results."""
    received = []
    while True:
        try:
            received.append(queue.get(timeout=quiet))
        except Empty:  # a guess: nothing for `quiet` seconds means "done"
            break
    results.put((consumer, received))


def square_tasks(tasks, results, timeout: float = 10.0) -> None:
    """Put (n, n * n) on results for each n on tasks (a JoinableQueue) until None."""
    while True:
        n = tasks.get(timeout=timeout)
        try:
            if n is None:
                return
            results.put((n, n * n))
        finally:
            tasks.task_done()  # one for every item taken, the sentinel too


def put_big_result(queue, nbytes: int, finished=None) -> None:
    """Put one result of nbytes bytes on queue, then set the Event finished, if given."""
    queue.put(b"\x01" * nbytes)  # returns at once: a feeder thread writes it into the pipe
    if finished is not None:
        finished.set()


def send_squares(conn, count: int) -> None:
    """Send 0, 1, 4 ... (count - 1) ** 2 through conn, then close it."""
    for i in range(count):
        conn.send(i * i)
    conn.close()  # the receiver's EOFError, once every other sending end is closed too


def answer(request: object) -> tuple[str, object]:
    """Return ("ok", result) for a request (operation, argument), else ("error", message)."""
    try:
        operation, argument = request
        if operation == "square":
            return ("ok", argument * argument)
        if operation == "upper":
            return ("ok", argument.upper())
        if operation == "sum":
            return ("ok", sum(argument))
        return ("error", f"unknown operation {operation!r}: choose from square, upper, sum")
    except Exception as error:  # a bad request gets an error response; the server lives on
        return ("error", f"{type(error).__name__}: {error}")


def serve_requests(conn, idle_timeout: float = 30.0) -> None:
    """Answer each request on conn (a duplex Pipe end) until None, EOF or idle_timeout seconds of silence."""
    try:
        while conn.poll(idle_timeout):
            try:
                request = conn.recv()
            except EOFError:  # the other end was closed
                break
            if request is None:
                break
            conn.send(answer(request))
    finally:
        conn.close()

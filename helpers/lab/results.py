"""The parent's side of ending a run: take the results, then end the processes.

``collect`` is the one way the book's parents take a known number of results off
a queue. Call it *before* joining the processes that put the items: a child whose
data is still in a queue's buffer does not exit until the data has been taken.
``end_process`` is the one way they make sure a child is not left running.
"""

from __future__ import annotations

import queue as queue_module
import time

from helpers.lab.args import check_int, check_seconds


def collect(queue, count: int, timeout: float = 30.0) -> list:
    """Return the next ``count`` items of ``queue``, waiting at most ``timeout`` seconds in all.

    Raises ``TimeoutError`` saying how many items arrived if the rest do not come in
    time (a child that crashed never sends its part).

    >>> import queue
    >>> q = queue.Queue()
    >>> for i in range(3): q.put(i)
    >>> collect(q, 2, timeout=1)
    [0, 1]
    >>> collect(q, 2, timeout=0.05)
    Traceback (most recent call last):
    ...
    TimeoutError: only 1 of 2 items arrived within 0.05 s: did a worker fail or wait forever? Look at the processes' exit codes.
    """
    check_int("count", count, 0)
    deadline = time.monotonic() + check_seconds("timeout", timeout)
    items = []
    while len(items) < count:
        try:
            items.append(queue.get(timeout=max(0.001, deadline - time.monotonic())))
        except queue_module.Empty:
            raise TimeoutError(
                f"only {len(items)} of {count} items arrived within {timeout:g} s: did a worker "
                "fail or wait forever? Look at the processes' exit codes."
            ) from None
    return items


def end_process(process, timeout: float = 2.0) -> bool:
    """Wait up to ``timeout`` seconds for ``process`` to end; terminate it, then kill it, if it does not.

    Returns ``True`` when it had to be stopped. A process never started is left alone.
    Whatever happens, the process is not left running.
    """
    if process.pid is None:
        return False
    process.join(timeout=timeout)
    if not process.is_alive():
        return False
    for stop in (process.terminate, process.kill):
        stop()
        process.join(timeout=2)
        if not process.is_alive():
            break
    return True

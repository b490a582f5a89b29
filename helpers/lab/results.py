"""The parent's side of ending a run: take the results, then end the processes.

``collect`` is the one way the book's parents take a known number of results off
a queue. Call it *before* joining the processes that put the items: a child whose
data is still in a queue's buffer does not exit until the data has been taken.
``end_process`` is the one way they make sure a child is not left running.
``pool_result`` waits for a pool's answer and fails at once when a pool worker dies.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import signal
import time
from collections.abc import Iterable

from helpers.lab.args import check_int, check_seconds

POLL_S = 0.1  # how often a wait that watches processes looks at them


def how_it_ended(exitcode: int | None) -> str:
    """Say, for an error message, how a process with this exit code ended.

    >>> how_it_ended(-9), how_it_ended(3)
    ('was killed by SIGKILL (exit code -9)', 'died with exit code 3')
    """
    if exitcode is None:
        return "is still running"
    if exitcode == 0:
        return "exited normally (exit code 0)"
    if exitcode > 0:
        return f"died with exit code {exitcode}"
    return f"was killed by {signal_name(exitcode)} (exit code {exitcode})"


def signal_name(exitcode: int) -> str:
    """Name the signal that a negative exit code stands for: ``"SIGKILL"``, or ``"signal 1000"``."""
    try:
        return signal.Signals(-exitcode).name
    except ValueError:
        return f"signal {-exitcode}"


def collect(queue, count: int, timeout: float = 30.0, *, watch: Iterable = ()) -> list:
    """Return the next ``count`` items of ``queue``, waiting at most ``timeout`` seconds in all.

    Raises ``TimeoutError`` saying how many items arrived if the rest do not come in
    time (a child that crashed never sends its part). ``watch``: the processes that
    put the items; if one of them has ended with a non-zero exit code while items
    are missing, ``ChildProcessError`` says which, and how, at once. An item that is
    an exception, or a tuple holding one, is a worker's report that it failed, such
    as ``("c1", TimeoutError("no item and no sentinel within 10 s"))``: ``RuntimeError``
    shows it at once.

    >>> import queue
    >>> q = queue.Queue()
    >>> for i in range(3): q.put(i)
    >>> collect(q, 2, timeout=1)
    [0, 1]
    >>> collect(q, 2, timeout=0.05)
    Traceback (most recent call last):
    ...
    TimeoutError: only 1 of 2 items arrived within 0.05 s: did a worker fail or wait forever? Look at the processes' exit codes.
    >>> q.put(("c1", TimeoutError("no item and no sentinel within 10 s")))
    >>> collect(q, 1, timeout=1)
    Traceback (most recent call last):
    ...
    RuntimeError: a worker reported a failure instead of a result: ('c1', TimeoutError('no item and no sentinel within 10 s'))
    """
    check_int("count", count, 0)
    deadline = time.monotonic() + check_seconds("timeout", timeout)
    watch = list(watch)
    items = []
    while len(items) < count:
        left = deadline - time.monotonic()
        try:
            items.append(queue.get(timeout=max(0.001, min(left, POLL_S) if watch else left)))
        except queue_module.Empty:
            for process in watch:
                if process.exitcode not in (None, 0):
                    raise ChildProcessError(
                        f"{process.name} {how_it_ended(process.exitcode)} before all the items arrived: "
                        f"{len(items)} of {count} came"
                    ) from None
            if watch and time.monotonic() < deadline:
                continue
            raise TimeoutError(
                f"only {len(items)} of {count} items arrived within {timeout:g} s: did a worker "
                "fail or wait forever? Look at the processes' exit codes."
            ) from None
        error = reported_error(items[-1])
        if error is not None:
            raise RuntimeError(f"a worker reported a failure instead of a result: {items[-1]!r}") from error
    return items


def reported_error(item: object) -> BaseException | None:
    """Return the exception ``item`` is, or the first one in it if it is a tuple; else ``None``.

    >>> reported_error(("c1", ValueError("bad"))), reported_error(("c1", [1, 2]))
    (ValueError('bad'), None)
    """
    parts = item if isinstance(item, tuple) else (item,)
    return next((part for part in parts if isinstance(part, BaseException)), None)


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


def pool_result(pool, result, timeout: float):
    """Return ``result.get()``, ``result`` an ``AsyncResult`` of ``pool``, waiting at most ``timeout`` s.

    A ``multiprocessing.Pool`` replaces a worker that dies (the out-of-memory killer
    sent it SIGKILL, say), but the task that worker was running is lost: ``get``
    would wait out its whole timeout and then raise a ``TimeoutError`` that says
    nothing. Here a worker of ``pool`` that ends with a non-zero exit code raises
    ``ChildProcessError`` at once, naming it and how it ended. A task that raised
    re-raises its exception here, as ``get`` does (a result that cannot be pickled
    arrives as ``MaybeEncodingError``); at the timeout, ``multiprocessing.TimeoutError``.
    """
    deadline = time.monotonic() + check_seconds("timeout", timeout, 0, 10**6)
    seen: dict[int, object] = {}
    while not result.ready():
        # A pool has no public list of its workers; ``_pool`` (every Python from 3.10 to
        # 3.15) holds the live ones. Keep each one seen: the pool drops a dead worker
        # from that list when it starts its replacement.
        seen.update((id(worker), worker) for worker in list(getattr(pool, "_pool", ())))
        for worker in seen.values():
            exitcode = getattr(worker, "exitcode", None)
            if exitcode not in (None, 0):
                raise ChildProcessError(
                    f"pool worker {worker.name} {how_it_ended(exitcode)} while the pool was working: "
                    "a pool does not run again a task whose worker died, so its result would never come"
                )
        left = deadline - time.monotonic()
        if left <= 0:
            raise multiprocessing.TimeoutError(f"the pool gave no result within {timeout:g} s: is a task stuck?")
        result.wait(min(left, POLL_S))
    return result.get(0)

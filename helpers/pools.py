"""Workers for the pool chapters: what the worker processes of a ``Pool`` or an executor run.

Each function is short on purpose, so that the chapters can show it on the page:
``invert`` fails for 0, ``sleep_for`` and ``sleep_and_report`` wait (a stand-in for
any task of known length, or for I/O), ``load_table`` is an initializer that gives
each worker its own state and ``look_up`` reads it, ``exit_abruptly`` kills the worker
that runs it. ``call_and_send`` runs one task in a process of its own and sends the
result back over a pipe (a time limit per task); ``put_counted`` fills a bounded queue
(back-pressure). The one ``square`` lives in ``helpers/processes.py``.

Nothing here runs at import time: every worker process imports this module again.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

from helpers.lab.timeline import Span, now


def invert(x: float) -> float:
    """Return 1 / x, which raises ZeroDivisionError for 0."""
    return 1 / x


def sleep_for(seconds: float) -> float:
    """Wait ``seconds`` without computing, then return ``seconds``."""
    time.sleep(seconds)
    return seconds


def current_worker() -> str:
    """Return the name of the thread (in a thread pool) or process that runs this call."""
    thread = threading.current_thread()
    if thread is not threading.main_thread():
        return thread.name
    return multiprocessing.current_process().name


def sleep_and_report(task: tuple[str, float]) -> Span:
    """Wait ``seconds``, then return a Span: who ran the task ``(label, seconds)``, and when."""
    label, seconds = task
    start = now()
    time.sleep(seconds)
    return Span(current_worker(), label, start, now())


def worker_name(_: object = None) -> str:
    """Return the name of the process that runs this task; the argument is ignored."""
    return multiprocessing.current_process().name


# Set in each worker by the initializer load_table; in the parent they stay as they are.
TABLE: list[int] | None = None
SETUPS = 0


def load_table(size: int) -> None:
    """Pool initializer: build this worker's table of squares, once per worker."""
    global TABLE, SETUPS
    TABLE = [n * n for n in range(size)]
    SETUPS += 1


def look_up(n: int) -> tuple[int, str, int]:
    """Return (n squared, from the table; this worker's name; how often load_table ran here)."""
    return TABLE[n], worker_name(), SETUPS


def ignore_interrupts() -> None:
    """Pool initializer: make this worker ignore SIGINT (Ctrl-C), so only the parent handles it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def exit_abruptly(code: int = 1) -> None:
    """End this process at once with os._exit(code): no clean-up, no result, like a crash."""
    os._exit(code)


def call_and_send(conn, func, *args) -> None:
    """Run func(*args) in this process and send the result through the pipe end conn."""
    conn.send(func(*args))
    conn.close()


def put_counted(queue, sent, count: int, timeout: float = 10.0) -> None:
    """Put 0 .. count-1 on queue, then None; after each put, add 1 to the shared counter sent."""
    for item in [*range(count), None]:
        queue.put(item, timeout=timeout)  # waits while the queue is full; queue.Full after timeout
        with sent.get_lock():
            sent.value += 1

"""Workers for the chapters on ``Process`` and start methods: what a child process runs.

Each function is short on purpose, so that the chapters can show it on the page.
They report what they did instead of printing it (a child's output in Jupyter is
unreliable): the timeline workers put a :class:`~helpers.lab.timeline.Span` on a
queue for each step, ``put_square`` puts a dict, ``log_progress`` logs through a
queue. ``square`` is the one ``square`` of the book; the pool chapters use it too.

Nothing here runs at import time: every child started with spawn or forkserver
imports this module again.
"""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

from helpers.lab.timeline import Span, now


def noop() -> None:
    """Do nothing: a child whose whole cost is starting and stopping."""


def square(x: int) -> int:
    """Return x * x."""
    return x * x


def put_square(queue, x: int) -> None:
    """Put {"x": x, "square": x * x, "pid": this process's PID} on queue."""
    queue.put({"x": x, "square": x * x, "pid": os.getpid()})


def nap(seconds: float, done_path: str | None = None) -> None:
    """Sleep seconds, then create the file done_path (if given) to say the nap was finished."""
    time.sleep(seconds)
    if done_path is not None:
        Path(done_path).touch()


def sleep_forever(max_seconds: float = 300.0) -> None:
    """Sleep until terminate() or kill() stops this process; give up after max_seconds."""
    time.sleep(max_seconds)  # the limit is a safety net for a forgotten child


def ignore_sigterm(ready, max_seconds: float = 300.0) -> None:
    """Ignore SIGTERM, set the Event ready, then sleep like sleep_forever."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # terminate() now does nothing on POSIX
    ready.set()
    time.sleep(max_seconds)


def raise_error(message: str, *, stderr_path: str | None = None) -> None:
    """Raise ValueError(message); with stderr_path, this child's traceback goes to that file."""
    if stderr_path is not None:
        sys.stderr = open(stderr_path, "w", encoding="utf-8")  # the file the parent reads
    raise ValueError(message)


def mystery(case: int) -> None:
    """End in way number case: 0 return, 1 raise, 2 sys.exit(2), 3 killed by SIGKILL."""
    sys.stderr = open(os.devnull, "w", encoding="utf-8")  # keep tracebacks out of the notebook
    if case == 1:
        raise RuntimeError("something went wrong in the child")
    if case == 2:
        sys.exit(2)
    if case == 3:  # as the kernel's out-of-memory killer would do; Windows has no SIGKILL
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
        time.sleep(10)


def lane() -> str:
    """Return this process's row on a timeline: its name and PID, "numbers (pid 4242)"."""
    return f"{multiprocessing.current_process().name} (pid {os.getpid()})"


def take_step(seconds: float, busy: bool = False) -> None:
    """Sleep seconds; with busy=True, compute until this thread has used seconds of CPU time."""
    if not busy:
        time.sleep(seconds)
        return
    stop = time.thread_time() + seconds  # this thread's CPU time, not the clock's
    while time.thread_time() < stop:
        pass


def count_numbers(queue, steps: int = 5, step_seconds: float = 0.2, *, busy: bool = False) -> None:
    """Count 0 to steps - 1, one number per step, and put a Span for each step on queue."""
    for number in range(steps):
        start = now()
        take_step(step_seconds, busy)
        queue.put(Span(lane(), str(number), start, now()))


def spell_letters(queue, letters: str = "ABCDE", step_seconds: float = 0.2, *, busy: bool = False) -> None:
    """Spell letters, one letter per step, and put a Span for each step on queue."""
    for letter in letters:
        start = now()
        take_step(step_seconds, busy)
        queue.put(Span(lane(), letter, start, now()))


def log_progress(queue, steps: int = 3, logger_name: str = "mpbook.worker") -> None:
    """Log "step 1 of 3" ... as INFO records, sent to the parent through queue."""
    logger = logging.getLogger(logger_name)
    logger.handlers[:] = [logging.handlers.QueueHandler(queue)]  # the only handler
    logger.propagate = False  # no copy to a handler inherited from the parent under fork
    logger.setLevel(logging.INFO)
    for step in range(1, steps + 1):
        logger.info("step %d of %d", step, steps)
        time.sleep(0.01)

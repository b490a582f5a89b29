"""Workers that fail on purpose, for tests/test_faults.py: killed, raising, or returning what cannot be pickled.

Each fails only in a child process: called in the test process itself (a serial
run, a thread pool, the plain loop a benchmark compares with) it returns its
first argument, so that a helper reaches the part that runs in a child, and a
test can never kill pytest. A child started with spawn or forkserver imports them
from here (``tests.faulty``); a learner-style module re-exports them
(``from tests.faulty import *``) where a helper wants a module name.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading

MESSAGE = "a fault put here on purpose"


def in_child() -> bool:
    """Return True in a process that multiprocessing started (a Process or a pool worker)."""
    return multiprocessing.parent_process() is not None


def killed(*args):
    """In a child, send this process SIGKILL, mid-task, as the out-of-memory killer would."""
    if in_child():
        os.kill(os.getpid(), signal.SIGKILL)
    return args[0] if args else None


def raises(*args):
    """In a child, raise ValueError(MESSAGE)."""
    if in_child():
        raise ValueError(MESSAGE)
    return args[0] if args else None


def unpicklable(*args):
    """In a child, return a lock: a result that cannot be pickled, so it cannot reach the parent."""
    if in_child():
        return threading.Lock()
    return args[0] if args else None


def returns_lambda(*args):
    """In a child, return a lambda: pickle finds no name to refer to it by."""
    return (lambda: None) if in_child() else (args[0] if args else None)


def returns_file(*args):
    """In a child, return an open file."""
    return open(os.devnull) if in_child() else (args[0] if args else None)  # noqa: SIM115


def echo(*args):
    """Return the first argument: a warm-up job that works, so a fault strikes in the timed work."""
    return args[0] if args else None


def set_nothing(*args) -> None:
    """A pool initializer that works."""


FAULTS = {"killed": killed, "raises": raises, "unpicklable": unpicklable}

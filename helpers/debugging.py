"""Worker functions for the chapter "Debug and harden multiprocess code".

Each one is what a child runs in a demonstration of something going wrong (a
worker that hangs, crashes, or outlives its parent) or of the cure (logging to
the parent, a clean exit on SIGTERM, a child that stops when its parent dies).
Every wait here ends by itself after ``max_seconds``, so a forgotten child never
runs for ever.
"""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import os
import signal
import sys
import time
from multiprocessing import parent_process
from multiprocessing.shared_memory import SharedMemory


def send_logs_to(queue) -> None:
    """Pool initializer: send every log record of this process to queue, for the parent's QueueListener."""
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(queue)]  # the only handler here
    root.setLevel(logging.INFO)


def logged_square(x: int) -> int:
    """Log what this worker does, then return x * x."""
    logging.getLogger("mpbook.pool").info("squaring %d", x)
    return x * x


def send_after(conn, value: object, seconds: float) -> None:
    """Work for seconds (a sleep), then send value through the pipe end conn and close it."""
    time.sleep(seconds)
    conn.send(value)
    conn.close()


def wait_for_reply(max_seconds: float) -> None:
    """Wait for a reply that never comes (at most max_seconds): the stuck line of a hung worker."""
    time.sleep(max_seconds)


def hang_with_stack_dumps(dump_path: str, after: float, max_seconds: float = 60.0) -> None:
    """Get stuck; write this process's stack to dump_path on SIGUSR1 and again after `after` seconds."""
    dump = open(dump_path, "w")  # stays open: faulthandler writes to its file descriptor
    if hasattr(signal, "SIGUSR1"):  # POSIX only
        faulthandler.register(signal.SIGUSR1, file=dump, all_threads=True)
    faulthandler.dump_traceback_later(after, file=dump)  # a watchdog: dumps once, at `after` s
    wait_for_reply(max_seconds)


def killed_like_oom(x: int) -> int:
    """Die at once of SIGKILL, as the kernel's out-of-memory killer ends a process."""
    os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))  # Windows has no SIGKILL
    return x


def raise_sigterm_as_exit(signum: int, frame) -> None:
    """A SIGTERM handler: raise SystemExit, so that `finally` blocks and `with` exits run."""
    sys.exit(128 + signum)


def hold_segment_until_sigterm(name: str, ready, max_seconds: float = 60.0) -> None:
    """Create shared memory `name`; on SIGTERM (or after max_seconds) close and unlink it, then exit."""
    signal.signal(signal.SIGTERM, raise_sigterm_as_exit)
    segment = SharedMemory(name=name, create=True, size=1024)
    try:
        ready.set()
        time.sleep(max_seconds)  # the work; SIGTERM interrupts it with SystemExit
    finally:
        segment.close()
        segment.unlink()  # the segment outlives every process unless someone unlinks it


def work_until_parent_dies(check_every: float = 0.1, max_seconds: float = 60.0) -> None:
    """Work in small steps while the parent lives; return as soon as it has died."""
    deadline = time.monotonic() + max_seconds
    while parent_process().is_alive() and time.monotonic() < deadline:
        time.sleep(check_every)  # one step of work


def die_with_parent(signum: int = signal.SIGTERM) -> bool:
    """Linux only: ask the kernel to send signum to this process when its parent dies; say if it could."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0


def sleep_until_parent_dies(max_seconds: float = 60.0) -> None:
    """Sleep until the kernel ends this process when its parent dies (Linux); elsewhere return at once."""
    if die_with_parent(signal.SIGTERM) and parent_process().is_alive():  # it may have died already
        time.sleep(max_seconds)

"""Exercise checks for the chapter "Debug and harden multiprocess code".

Each check runs the learner's answer (a program, a worker in a module, a function
that finds leaked children) for real, with timeouts, and prints ✅ or ❌ with a hint.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from helpers.lab.debug import run_to_exit
from helpers.lab.exercises import feedback, not_answered
from helpers.lab.results import end_process, how_it_ended

BUGGY_PROGRAM = '''\
from multiprocessing import JoinableQueue, Process, Queue
from helpers.messages import square_tasks

if __name__ == "__main__":
    tasks, results = JoinableQueue(), Queue()
    worker = Process(target=square_tasks, args=(tasks, results, 60))
    worker.start()
    for n in range(3):
        tasks.put(n)
    print(sorted(results.get(timeout=10) for _ in range(3)))
    print("all done")
'''


def check_program_exits(source: str, timeout: float = 5.0) -> bool:
    """Exercise check: does the program ``source`` print "all done" and exit with code 0 within ``timeout`` s?"""
    if not isinstance(source, str) or not source.strip():
        raise ValueError("source must be the text of the fixed program")
    exited, what = run_to_exit(source, timeout=timeout)
    if not exited:
        return feedback(False, "", f"The program is {what}. Which process is still waiting, and for what?")
    if "all done" not in what or "code 0" not in what:
        return feedback(False, "", f"The program {what}: it should print its results and 'all done', and exit with code 0.")
    return feedback(True, f"The program {what}.", "")


def _call_learner(folder: str, module: str, function: str, *args) -> None:
    """In the child: import the learner's ``module`` from ``folder`` and call ``function(*args)``."""
    sys.path.insert(0, folder)
    getattr(importlib.import_module(module), function)(*args)


def check_sigterm_cleanup(module: str, function: str = "work_then_clean_up", *, timeout: float = 30.0) -> bool:
    """Exercise check: run ``module.function(path, ready, 60)`` in a child, send SIGTERM, check that ``path`` is gone.

    The worker must create the file ``path``, set the Event ``ready``, work until
    SIGTERM comes, then remove the file and exit.
    """
    if not (isinstance(module, str) and module.isidentifier()):
        raise ValueError(f"module must be a module name such as 'my_cleanup', got {module!r}")
    if not_answered(module):
        return False
    ctx = multiprocessing.get_context()
    ready = ctx.Event()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "work-in-progress.tmp")
        child = ctx.Process(target=_call_learner, args=(os.getcwd(), module, function, path, ready, 60.0), daemon=True)
        child.start()
        try:
            deadline = time.monotonic() + timeout
            while not ready.wait(0.05) and child.is_alive() and time.monotonic() < deadline:
                pass  # wait for ready, but not for a child that has already ended
            if not ready.is_set():
                child.join(timeout=1)
                return feedback(False, "", f"{module}.{function} never set ready (the child {how_it_ended(child.exitcode)}): "
                                           "create the file, then call ready.set().")
            if not os.path.exists(path):
                return feedback(False, "", f"{module}.{function} set ready but did not create the file path first.")
            time.sleep(0.2)  # let it settle into its work
            child.terminate()  # SIGTERM on POSIX
            child.join(timeout=10)
            if child.is_alive():
                return feedback(False, "", f"{module}.{function} was still running 10 s after SIGTERM: does the handler make it exit?")
            if os.path.exists(path):
                return feedback(False, "", f"The child {how_it_ended(child.exitcode)} but left its file behind: "
                                           "install a SIGTERM handler that raises SystemExit, and remove the file in a finally block.")
            return feedback(True, f"After SIGTERM, {module}.{function} removed its file and {how_it_ended(child.exitcode)}.", "")
        finally:
            end_process(child, timeout=0)


def check_leak_finder(find_leaks: Callable[[float], None]) -> bool:
    """Exercise check: ``find_leaks(timeout)`` passes with no child or one that ends in time, and raises AssertionError for a leak."""
    from helpers.processes import nap, sleep_forever

    ctx = multiprocessing.get_context()
    children = []
    try:
        find_leaks(0.5)  # no children at all
        short = ctx.Process(target=nap, args=(0.2,), daemon=True)
        children.append(short)
        short.start()
        find_leaks(5.0)  # this one ends within the timeout: no leak
        if short.is_alive():
            return feedback(False, "", "find_leaks returned while a child was still running: it should wait up to timeout for it.")
        stuck = ctx.Process(target=sleep_forever, args=(60,), daemon=True, name="stuck-child")
        children.append(stuck)
        stuck.start()
        started = time.monotonic()
        try:
            find_leaks(0.5)
        except AssertionError as error:
            took = time.monotonic() - started
            if took > 5:
                return feedback(False, "", f"find_leaks took {took:.1f} s with a timeout of 0.5 s: wait at most timeout in all.")
            if "stuck-child" not in str(error):
                return feedback(False, "", f"The AssertionError should name the leaked child ('stuck-child'); it said: {error}")
            return feedback(True, "find_leaks waits for children that end, and names the one that leaked.", "")
        return feedback(False, "", "find_leaks(0.5) did not raise AssertionError while 'stuck-child' was still running.")
    except AssertionError as error:
        return feedback(False, "", f"find_leaks raised AssertionError when no child had leaked: {error}")
    finally:
        for child in children:
            end_process(child, timeout=0)


def check_gatherer(gather: Callable, *, timeout: float = 1.0) -> bool:
    """Exercise check: does ``gather(children, timeout)`` wait on every pipe and sentinel at once?

    ``children`` maps four running processes to the receiving end of a pipe each:
    "fast" and "slow" send their name after 0.1 and 0.3 s, "crasher" dies with exit
    code 3 without sending, and "late" would send only after 30 s. Within about
    ``timeout`` seconds ``gather`` must return ``{"fast": "fast", "slow": "slow",
    "crasher": 3}``: what each sent, or the exit code of one that ended without
    sending, and nothing for the one still running.
    """
    from helpers.debugging import send_after
    from helpers.pools import exit_abruptly

    if not callable(gather):
        raise TypeError(f"gather must be a function, got {type(gather).__name__}")
    ctx = multiprocessing.get_context()
    children = {}
    try:
        for name, target, args in (("fast", send_after, ("fast", 0.1)), ("slow", send_after, ("slow", 0.3)),
                                   ("crasher", exit_abruptly, (3,)), ("late", send_after, ("late", 30))):
            receiver, sender = ctx.Pipe(duplex=False)
            child = ctx.Process(target=target, args=(sender, *args) if target is send_after else args,
                                name=name, daemon=True)
            child.start()
            sender.close()  # the parent keeps only the receiving end
            children[child] = receiver
        started = time.monotonic()
        try:
            got = gather(dict(children), timeout)
        except Exception as error:  # noqa: BLE001 - reported to the learner
            return feedback(False, "", f"gather raised {error!r}. A pipe that is ready may hold no message: "
                                       "recv() raises EOFError when every sending end was closed.")
        took = time.monotonic() - started
        expected = {"fast": "fast", "slow": "slow", "crasher": 3}
        if took > timeout + 2:
            return feedback(False, "", f"gather took {took:.1f} s with a timeout of {timeout:g} s: "
                                       "wait at most timeout in all, for every child together.")
        if not isinstance(got, dict):
            return feedback(False, "", f"gather should return a dict from each name to what came; it returned {got!r}.")
        if got.get("late") is not None:
            return feedback(False, "", f"'late' was still running at the timeout, but gather gave {got['late']!r} for it.")
        got = {name: value for name, value in got.items() if value is not None}
        return feedback(
            got == expected,
            "Right: gather took each message and each exit as it came, and gave up on 'late' at the timeout.",
            f"gather returned {got!r}; expected {expected!r}. Did you wait on the sentinels too "
            "(the crasher sends nothing, so only its sentinel tells you it ended)?",
        )
    finally:
        for child, receiver in children.items():
            end_process(child, timeout=0)
            receiver.close()

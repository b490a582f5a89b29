"""Feedback for exercises, and ``check_worker``: run the learner's own worker in a child.

A check function takes the learner's answer, prints one line that says whether it
is right (and, if not, a hint that does not give the answer away) and returns a
bool, so a solution cell can also ``assert`` it.

``check_worker`` is the check for the exercises in which a learner writes a worker
into a module of their own (``%%writefile my_workers.py``). It imports that module
in a fresh child process started with the book's start method, exactly as
``Process``, ``Pool`` and ``ProcessPoolExecutor`` would, calls the function on each
case, and says what went wrong: the module does not import, the function is missing,
it raised, it returned a wrong (or unpicklable) result, or it did not finish in time.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
from collections.abc import Iterable

from helpers.lab.args import check_seconds

PASS = "✅"
FAIL = "❌"


def feedback(passed: bool, success: str, hint: str) -> bool:
    """Print ``success`` or ``hint`` with a mark and return ``passed``.

    >>> feedback(True, "Right.", "Look again.")
    ✅ Right.
    True
    >>> feedback(False, "Right.", "Look again.")
    ❌ Look again.
    False
    """
    print(f"{PASS} {success}" if passed else f"{FAIL} {hint}")
    return passed


def _run_calls(conn, folder: str, module_name: str, function_name: str, calls: list[tuple]) -> None:
    """In the child: import the module, call the function on each argument tuple, send the outcome."""
    if folder not in sys.path:
        sys.path.insert(0, folder)  # where the notebook wrote the learner's module
    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:  # SyntaxError, ImportError, an error at import time
        conn.send(("import", f"{type(exc).__name__}: {exc}"))
        return
    func = getattr(module, function_name, None)
    if not callable(func):
        conn.send(("missing", f"{module_name}.py defines no function {function_name!r}"))
        return
    outcomes = []
    for args in calls:
        try:
            outcomes.append(("ok", func(*args)))
        except Exception as exc:
            outcomes.append(("raised", f"{type(exc).__name__}: {exc}"))
    try:
        conn.send(("ran", outcomes))
    except Exception as exc:  # pickling fails before anything is written
        conn.send(("unpicklable", f"{type(exc).__name__}: {exc}"))


def run_worker(module: str, function: str, calls: Iterable[tuple], *, timeout: float = 20.0) -> tuple[str, object]:
    """Call ``module.function(*args)`` for each ``args`` in ``calls`` in one child process.

    Returns ``(kind, detail)``: ``("ran", [(status, value), ...])`` with status
    ``"ok"`` or ``"raised"``; or ``("import" | "missing" | "unpicklable" | "timeout"
    | "died", message)``. The child is started with the book's start method and is
    never left running: one that overruns ``timeout`` seconds is terminated.
    """
    from helpers.lab.book import book_start_method

    if not (isinstance(module, str) and module.isidentifier()):
        raise ValueError(f"module must be a module name such as 'my_workers', got {module!r}")
    if not (isinstance(function, str) and function.isidentifier()):
        raise ValueError(f"function must be a function's name such as 'cube', got {function!r}")
    timeout = check_seconds("timeout", timeout, 0.1, 600)
    calls = [tuple(args) for args in calls]
    ctx = multiprocessing.get_context(book_start_method())
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=_run_calls, args=(sender, os.getcwd(), module, function, calls), name=f"check {module}.{function}", daemon=True
    )
    child.start()
    sender.close()  # the child holds the only write end: EOF if it dies
    try:
        if not receiver.poll(timeout):
            return "timeout", f"{module}.{function} did not finish within {timeout:g} s: does it wait for something that never comes, or loop forever?"
        try:
            return receiver.recv()
        except EOFError:
            child.join(timeout=5)
            return "died", f"the child process running {module}.{function} died with exit code {child.exitcode} before it answered"
    finally:
        receiver.close()
        child.join(timeout=2)
        if child.is_alive():
            child.terminate()
            child.join(timeout=2)
        if child.is_alive():
            child.kill()
            child.join(timeout=2)


def check_worker(module: str, function: str, cases: Iterable[tuple[tuple, object]], *, timeout: float = 20.0) -> bool:
    """Check the learner's worker ``module.function`` in a child process; print what is wrong.

    ``cases`` holds ``(args, expected)`` pairs: ``[((2,), 4), ((3,), 9)]``. The
    worker must be importable by a fresh child (a function in a module file, not
    in a notebook cell), return ``expected`` for each ``args``, and finish within
    ``timeout`` seconds. Returns ``True`` when it does.
    """
    cases = [(tuple(args), expected) for args, expected in cases]
    if not cases:
        raise ValueError("cases must hold at least one (args, expected) pair")
    kind, detail = run_worker(module, function, [args for args, _ in cases], timeout=timeout)
    if kind == "import":
        return feedback(False, "", f"A child process could not import {module}: {detail}. Run the %%writefile cell again and look at the file.")
    if kind != "ran":
        return feedback(False, "", f"{detail}.")
    for (args, expected), (status, value) in zip(cases, detail):
        call = f"{function}({', '.join(map(repr, args))})"
        if status == "raised":
            return feedback(False, "", f"In a child process, {call} raised {value}.")
        if value != expected:
            return feedback(False, "", f"In a child process, {call} returned {value!r}; expected {expected!r}.")
    return feedback(True, f"{module}.{function} runs in a child process and gives the right result for all {len(cases)} cases.", "")

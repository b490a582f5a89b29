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

Every check of a learner's module first asks :func:`not_answered`: in the classroom
edition (``make student``) the learner's ``%%writefile`` cell holds no code yet, or was
not run, and the check then prints a "not answered yet" line instead of a failure.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import multiprocessing
import os
import sys
from collections.abc import Iterable

from helpers.lab.args import check_seconds
from helpers.lab.results import end_process, how_it_ended

PASS = "✅"
FAIL = "❌"
NOT_YET = "⏳"


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


def not_answered(module: str, folder: str | None = None) -> bool:
    """Print a "not answered yet" line and return True when the learner's module holds no answer yet.

    That is: no ``module.py`` in ``folder`` (the notebook's folder, the current one by
    default) and no such module on the import path (the ``%%writefile`` cell was not run),
    or a ``module.py`` there with no code in it, only comments (the cell is still empty).
    A file with code, even a stub or a syntax error, is an answer the check runs.
    """
    if not (isinstance(module, str) and module.isidentifier()):
        raise ValueError(f"module must be a module name such as 'my_workers', got {module!r}")
    path = os.path.join(folder or os.getcwd(), f"{module}.py")
    if os.path.isfile(path):
        try:
            with open(path, encoding="utf-8") as file:
                empty = not ast.parse(file.read()).body
        except (SyntaxError, ValueError, UnicodeDecodeError):
            return False  # the child's import says what is wrong
        where = f"{module}.py holds no code yet"
    else:
        try:
            empty = importlib.util.find_spec(module) is None
        except (ImportError, ValueError):
            empty = True
        where = f"there is no {module}.py yet"
    if empty:
        print(f"{NOT_YET} Not answered yet: {where}. Write your answer in the %%writefile {module}.py cell, "
              "run it, then run this check again.")
    return empty


def _run_calls(conn, folder: str, module_name: str, function_name: str, calls: list[tuple],
               initializer: str | None = None, initargs: tuple = ()) -> None:
    """In the child: import the module, run the initializer once if named, call the function on each argument tuple, send the outcome."""
    if folder not in sys.path:
        sys.path.insert(0, folder)  # where the notebook wrote the learner's module
    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:  # SyntaxError, ImportError, an error at import time
        conn.send(("import", f"{type(exc).__name__}: {exc}"))
        return
    for name in filter(None, (initializer, function_name)):
        if not callable(getattr(module, name, None)):
            conn.send(("missing", f"{module_name}.py defines no function {name!r}"))
            return
    if initializer:
        try:
            getattr(module, initializer)(*initargs)
        except Exception as exc:
            conn.send(("initializer", f"{type(exc).__name__}: {exc}"))
            return
    func = getattr(module, function_name)
    outcomes = []
    for args in calls:
        try:
            outcomes.append(("ok", func(*args)))
        except Exception as exc:
            outcomes.append(("raised", f"{type(exc).__name__}: {exc}"))
    try:
        conn.send(("ran", outcomes))
    except Exception as exc:  # pickling fails before anything is written
        conn.send(("unpicklable", f"{module_name}.{function_name} returned a result that could not be pickled "
                                  f"to send it back to the parent: {type(exc).__name__}: {exc}"))


def _check_names(module: object, function: object, initializer: object, initargs: object, timeout: object) -> float:
    """Refuse bad arguments of :func:`run_worker` with a clear error; return the timeout."""
    if not (isinstance(module, str) and module.isidentifier()):
        raise ValueError(f"module must be a module name such as 'my_workers', got {module!r}")
    for name, value in (("function", function), ("initializer", initializer or "ok")):
        if not (isinstance(value, str) and value.isidentifier()):
            raise ValueError(f"{name} must be a function's name such as 'cube', got {value!r}")
    if not isinstance(initargs, tuple):
        raise TypeError(f"initargs must be a tuple, as for Pool(initargs=...), got {type(initargs).__name__}")
    return check_seconds("timeout", timeout, 0.1, 600)


def run_worker(module: str, function: str, calls: Iterable[tuple], *, timeout: float = 20.0,
               initializer: str | None = None, initargs: tuple = ()) -> tuple[str, object]:
    """Call ``module.function(*args)`` for each ``args`` in ``calls`` in one child process.

    With ``initializer``, the child first calls ``module.initializer(*initargs)``
    once, as a pool worker does. Returns ``(kind, detail)``: ``("ran", [(status,
    value), ...])`` with status ``"ok"`` or ``"raised"``; or ``("import" | "missing"
    | "initializer" | "unpicklable" | "timeout" | "died", message)``. The child is
    started with the book's start method and is never left running: one that
    overruns ``timeout`` seconds is terminated. :func:`failure_hint` words a failure.
    """
    from helpers.lab.book import book_start_method

    timeout = _check_names(module, function, initializer, initargs, timeout)
    calls = [tuple(args) for args in calls]
    ctx = multiprocessing.get_context(book_start_method())
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=_run_calls, args=(sender, os.getcwd(), module, function, calls, initializer, initargs), name=f"check {module}.{function}", daemon=True
    )
    child.start()
    sender.close()  # the child holds the only write end: EOF if it dies
    try:
        if not receiver.poll(timeout):
            what = f"{module}.{initializer} then {function}" if initializer else f"{module}.{function}"
            return "timeout", f"{what} did not finish within {timeout:g} s: does it wait for something that never comes, or loop forever?"
        try:
            return receiver.recv()
        except EOFError:
            child.join(timeout=5)
            return "died", f"the child process running {module}.{function} {how_it_ended(child.exitcode)} before it answered"
    finally:
        receiver.close()
        end_process(child)


def failure_hint(module: str, kind: str, detail: object) -> str:
    """Return the learner-facing line for a :func:`run_worker` outcome other than ``"ran"``.

    >>> failure_hint("my_cube", "import", "SyntaxError: invalid syntax")
    'A child process could not import my_cube: SyntaxError: invalid syntax. Run the %%writefile cell again and look at the file.'
    >>> failure_hint("my_cube", "timeout", "my_cube.cube did not finish within 5 s")
    'my_cube.cube did not finish within 5 s.'
    """
    if kind == "import":
        return f"A child process could not import {module}: {detail}. Run the %%writefile cell again and look at the file."
    if kind == "initializer":
        return f"In a child process, the initializer raised {detail}."
    return f"{detail}."


def check_worker(module: str, function: str, cases: Iterable[tuple[tuple, object]], *, timeout: float = 20.0,
                 initializer: str | None = None, initargs: tuple = (), hint: str = "") -> bool:
    """Check the learner's worker ``module.function`` in a child process; print what is wrong.

    ``cases`` holds ``(args, expected)`` pairs: ``[((2,), 4), ((3,), 9)]``. The
    worker must be importable by a fresh child (a function in a module file, not
    in a notebook cell), return ``expected`` for each ``args``, and finish within
    ``timeout`` seconds. With ``initializer``, the child first calls
    ``module.initializer(*initargs)`` once, as a pool worker does. ``hint`` is added
    to the message for a wrong result. Returns ``True`` when every case passes.
    """
    cases = [(tuple(args), expected) for args, expected in cases]
    if not cases:
        raise ValueError("cases must hold at least one (args, expected) pair")
    _check_names(module, function, initializer, initargs, timeout)
    if not_answered(module):
        return False
    kind, detail = run_worker(module, function, [args for args, _ in cases], timeout=timeout,
                              initializer=initializer, initargs=initargs)
    setup = f"{initializer}({', '.join(map(repr, initargs))})"
    after = f", after {setup}" if initializer else ""
    if kind == "initializer":
        return feedback(False, "", f"In a child process, the initializer {setup} raised {detail}.")
    if kind != "ran":
        return feedback(False, "", failure_hint(module, kind, detail))
    for (args, expected), (status, value) in zip(cases, detail):
        call = f"{function}({', '.join(map(repr, args))})"
        if status == "raised":
            return feedback(False, "", f"In a child process{after}, {call} raised {value}.")
        if value != expected:
            more = f" {hint}" if hint else ""
            return feedback(False, "", f"In a child process{after}, {call} returned {value!r}; expected {expected!r}.{more}")
    return feedback(True, f"{module}.{function} runs in a child process{after} and gives the right result "
                          f"for all {len(cases)} cases.", "")

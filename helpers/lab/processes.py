"""Instruments for the chapters on ``Process``: timelines of workers, and the exercise checks.

:func:`run_workers` starts several of the timeline workers of
:mod:`helpers.processes` at once and returns their spans, :func:`plot_runs` draws
runs of them one above the other. The ``check_*`` functions give feedback on the
exercises of chapters 01 and 02. Everything here runs in the parent.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import statistics
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from helpers.lab.args import check_choice, check_int, check_seconds
from helpers.lab.book import available_methods
from helpers.lab.exercises import failure_hint, feedback, not_answered, run_worker
from helpers.lab.results import collect, end_process, signal_name
from helpers.lab.timeline import Span, check_spans, max_concurrency, plot_timelines
from helpers.processes import count_numbers, spell_letters

MAX_PROCESSES = 64


def worker_name(span: Span) -> str:
    """Return the process name in a span's lane, without the PID (to colour spans by worker).

    >>> worker_name(Span("numbers (pid 12)", "0", 0.0, 1.0))
    'numbers'
    """
    return str(span.lane).split(" (pid ")[0]


def stop_all(children: Iterable) -> None:
    """Join each started child briefly and stop any that is still alive: none is left running."""
    for child in children:
        end_process(child, timeout=5)


def run_workers(
    method: str | None = None,
    processes: int = 2,
    *,
    steps: int = 5,
    step_seconds: float = 0.2,
    busy: bool = False,
    timeout: float = 60.0,
) -> list[Span]:
    """Run ``processes`` timeline workers at once and return all their spans.

    Workers alternate between :func:`~helpers.processes.count_numbers` and
    :func:`~helpers.processes.spell_letters`, are named ``worker-1``, ``worker-2``
    ..., each takes ``steps`` steps of ``step_seconds`` (sleeping, or computing with
    ``busy=True``), and are started with ``method`` (default: the current default
    start method). Raises ``TimeoutError`` if the spans do not all arrive within
    ``timeout`` seconds, ``ChildProcessError`` at once if a worker dies before
    sending its spans; no child is left running either way.
    """
    method = check_choice("method", method or multiprocessing.get_start_method(), available_methods())
    check_int("processes", processes, 1, MAX_PROCESSES)
    check_int("steps", steps, 1, 100)
    check_seconds("step_seconds", step_seconds, 0.001, 10)
    check_seconds("timeout", timeout, 0.1, 3600)
    ctx = multiprocessing.get_context(method)
    queue = ctx.Queue()
    children = []
    for i in range(processes):
        if i % 2 == 0:
            target, args = count_numbers, (queue, steps, step_seconds)
        else:
            letters = "".join(chr(ord("A") + k % 26) for k in range(steps))
            target, args = spell_letters, (queue, letters, step_seconds)
        children.append(ctx.Process(target=target, args=args, kwargs={"busy": busy}, name=f"worker-{i + 1}"))
    try:
        for child in children:
            child.start()
        spans = collect(queue, processes * steps, timeout, watch=children)
    finally:
        stop_all(children)
        queue.close()
        queue.join_thread()
    return spans


def plot_runs(runs: Mapping[str, Iterable[Span]], *, title: str | None = None, fig=None):
    """Draw runs of the timeline workers one above the other and return the ``Figure``.

    Like :func:`helpers.lab.timeline.plot_timelines`, with one colour per worker
    (its process name), whatever its PID.
    """
    return plot_timelines(runs, title=title, color_by=worker_name, fig=fig)


def describe_exit(exitcode: int | None) -> str:
    """Say how a child ended, from its exit code: what the diagnose exercise asks for.

    >>> [describe_exit(code) for code in (None, 0, 2, -15)]
    ['running', 'success', 'exit 2', 'signal SIGTERM']
    """
    if exitcode is None:
        return "running"
    if exitcode == 0:
        return "success"
    if exitcode > 0:
        return f"exit {exitcode}"
    name = signal_name(exitcode)
    return name if name.startswith("signal ") else f"signal {name}"


class ListHandler(logging.Handler):
    """A logging handler that keeps each formatted record in ``.lines`` (a list of str).

    >>> handler = ListHandler()
    >>> _ = handler.handle(logging.makeLogRecord({"msg": "hello"}))  # True; the record from 3.14
    >>> handler.lines
    ['hello']
    """

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


# ---------------------------------------------------------------- exercise checks


def check_child_result(answer: object, x: int) -> bool:
    """Exercise check: is ``answer`` what :func:`~helpers.processes.put_square` sent for ``x``, from another process?"""
    if not isinstance(answer, dict):
        return feedback(False, "", f"answer should be the dict the child put on the queue; you gave a {type(answer).__name__}.")
    if answer.get("x") != x or answer.get("square") != x * x:
        return feedback(False, "", f"The dict should be about x={x}: did the child get args=(queue, {x})?")
    return feedback(
        answer.get("pid") != os.getpid(),
        f"Right: a child (pid {answer.get('pid')}) computed {x * x} and sent it back.",
        "That dict was made in this process, not sent by a child: start a Process and get the dict from the queue.",
    )


def check_diagnose(diagnose: Callable[[int | None], str]) -> bool:
    """Exercise check: does ``diagnose(exitcode)`` describe every kind of exit code rightly?"""
    if not callable(diagnose):
        return feedback(False, "", f"Pass your function itself, not {type(diagnose).__name__}.")
    cases = [None, 0, 1, 2, 3, -int(signal.SIGTERM)]
    if hasattr(signal, "SIGKILL"):
        cases.append(-int(signal.SIGKILL))
    for code in cases:
        try:
            given = diagnose(code)
        except Exception as error:  # noqa: BLE001 - any error is feedback for the learner
            return feedback(False, "", f"diagnose({code!r}) raised {type(error).__name__}: {error}")
        if given != describe_exit(code):
            return feedback(False, "", f"diagnose({code!r}) returned {given!r}; look again at what that code means.")
    return feedback(True, f"Right for all of {cases}.", "")


def check_three_together(spans: Sequence[Span]) -> bool:
    """Exercise check: do ``spans`` come from three different processes, all running at once?"""
    try:
        spans = check_spans(spans)
    except (TypeError, ValueError) as error:
        return feedback(False, "", f"spans should be the list of Spans you collected: {error}")
    lanes = {s.lane for s in spans}
    if len(lanes) != 3:
        return feedback(False, "", f"Found spans from {len(lanes)} processes; start three.")
    return feedback(
        max_concurrency(spans) == 3,
        "Right: three processes, and at one moment all three were working.",
        "The three processes never all ran at once: start all three before you collect and join.",
    )


def check_cheapest_method(answer: object, costs: Mapping[str, Sequence[float]]) -> bool:
    """Exercise check: is ``answer`` the method with the lowest median start cost in ``costs``?"""
    if answer not in costs:
        return feedback(False, "", f"Answer with one of {list(costs)}, as a string; you gave {answer!r}.")
    cheapest = min(costs, key=lambda m: statistics.median(costs[m]))
    return feedback(
        answer == cheapest,
        "Right: by its median, that method starts a process fastest on this machine.",
        f"Not {answer!r}: compare the medians, not the single fastest run.",
    )


def check_log_lines(lines: Sequence[str], names: Sequence[str], steps: int) -> bool:
    """Exercise check: did each named process log "step 1 of N" ... "step N of N", in order?"""
    if not isinstance(lines, (list, tuple)) or not all(isinstance(line, str) for line in lines):
        return feedback(False, "", "lines should be the list of formatted log lines your handler kept.")
    for name in names:
        mine = [line for line in lines if line.startswith(f"{name}:")]
        wanted = [f"{name}: step {i} of {steps}" for i in range(1, steps + 1)]
        if mine != wanted:
            return feedback(
                False, "",
                f"For {name!r} the lines were {mine}; expected {wanted}. Format records as '%(processName)s: %(message)s'.",
            )
    return feedback(True, "Right: every record arrived, each process's in its order.", "")


LINE_SAMPLES = {  # what a file holds -> its text, for check_count_lines
    "three lines": "fork\nspawn\nforkserver\n",
    "one line without a newline at its end": "no newline",
    "no lines at all (an empty file)": "",
}


def check_count_lines(module: str, function: str = "count_lines", *, timeout: float = 20.0) -> bool:
    """Exercise check: does ``module.function(path)``, run in a child, count the lines of the file at ``path``?

    Writes the files of :data:`LINE_SAMPLES` into a temporary folder and calls the
    learner's function on each path in one child process started with the book's
    start method (:func:`helpers.lab.exercises.run_worker`). The feedback names the
    file by what it holds, not by its path, so it reads the same on every machine.
    """
    if not_answered(module):
        return False
    with tempfile.TemporaryDirectory() as folder:
        cases = []
        for i, (what, text) in enumerate(LINE_SAMPLES.items()):
            path = Path(folder) / f"sample-{i}.txt"
            path.write_text(text, encoding="utf-8")
            cases.append((what, str(path), len(text.splitlines())))
        kind, detail = run_worker(module, function, [(path,) for _, path, _ in cases], timeout=timeout)
    if kind != "ran":
        return feedback(False, "", failure_hint(module, kind, detail))
    for (what, _, expected), (status, value) in zip(cases, detail):
        if status == "raised":
            return feedback(False, "", f"For a file of {what}, {function}(path) raised {value} in a child process.")
        if value != expected:
            return feedback(False, "", f"For a file of {what}, {function}(path) returned {value!r} in a child process; expected {expected}.")
    return feedback(True, f"{module}.{function} opens each file by its path in a child process and counts its lines right.", "")


LIGHT_TABLE_SIZE = 1_000_000  # chapter 02's by-value exercise: np.arange(LIGHT_TABLE_SIZE) sums to this table's total
LIGHT_MAX_BYTES = 100_000


def check_light_function(func: object) -> bool:
    """Is ``func(x)`` the table's total plus x, run by joblib, and small when pickled by value?"""
    if not callable(func):
        return feedback(False, "", "Pass the function itself (no parentheses).")
    from helpers.lab.by_value import pickled_sizes, run_with_joblib

    size = pickled_sizes(func)["cloudpickle"]
    total = float(sum(range(LIGHT_TABLE_SIZE)))
    try:
        got = run_with_joblib(func, range(3), timeout=60)
    except Exception as error:  # the learner's function raised in a worker
        return feedback(False, "", f"Run by joblib, your function raised {type(error).__name__}: {error}")
    if got != [total + x for x in range(3)]:
        return feedback(False, "", f"For x = 0, 1, 2 it returned {got}; expected the table's total plus x.")
    if size > LIGHT_MAX_BYTES:
        return feedback(False, "", f"Right answers, but the function pickles to {size:,} bytes: it still carries "
                                   "the table. Let it use a number computed once, not the table.")
    return feedback(True, f"Right, and light: {size:,} bytes travel with each batch of tasks, not the table.", "")

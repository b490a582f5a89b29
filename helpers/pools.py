"""Workers and tools for the chapter on pools: ``multiprocessing.Pool`` and the executors.

The workers are small on purpose, so that a chapter can show what a pool does with
them: :func:`square` computes, :func:`sleep_and_report` waits and says which worker
ran it when (a :class:`helpers.timeline.Span`), :func:`invert` raises for 0,
:func:`exit_abruptly` kills the worker that runs it, and :func:`load_table` is an
initializer that gives every worker its own state. The rest is plumbing for the
chapter (collecting results with timeouts, plotting, interrupting) and the
``check_*`` functions of its exercises.

Nothing here runs at import time: every worker process imports this module again.
"""

from __future__ import annotations

import _thread
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from numbers import Real

from helpers.timeline import Span, now

# --------------------------------------------------------------------------- workers


def square(number: int) -> int:
    """Return ``number * number``: the smallest task a pool can be given.

    >>> [square(n) for n in range(1, 6)]
    [1, 4, 9, 16, 25]
    """
    return number * number


def invert(x: float) -> float:
    """Return ``1 / x``; raise ``ZeroDivisionError`` for 0 (the chapter's task that fails).

    >>> invert(4)
    0.25
    """
    return 1 / x


def exit_abruptly(code: int = 1) -> None:
    """End the process that runs this at once with ``os._exit(code)``; never return.

    No ``finally`` block, no ``atexit`` handler, no result sent back: to the pool
    this looks like a worker that crashed or was killed.
    """
    if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 255:
        raise ValueError(f"code must be an int from 0 to 255, got {code!r}")
    os._exit(code)


def _check_seconds(seconds: object, name: str = "seconds") -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, Real):
        raise TypeError(f"{name} must be a number of seconds, got {type(seconds).__name__}")
    if not (math.isfinite(seconds) and 0 <= seconds <= 60):
        raise ValueError(f"{name} must be from 0 to 60, got {seconds!r}")
    return float(seconds)


def sleep_for(seconds: float) -> float:
    """Wait ``seconds`` (0 to 60) without computing, then return ``seconds``.

    >>> sleep_for(0)
    0.0
    """
    seconds = _check_seconds(seconds)
    time.sleep(seconds)
    return seconds


def current_worker() -> str:
    """Return the name of whoever runs this call.

    In a thread pool that is the thread's name; in a process pool (whose workers
    run tasks in their main thread) it is the process's name, such as
    ``SpawnPoolWorker-3``.
    """
    thread = threading.current_thread()
    if thread is not threading.main_thread():
        return thread.name
    return multiprocessing.current_process().name


def sleep_and_report(task: tuple[str, float]) -> Span:
    """Wait, then return a :class:`~helpers.timeline.Span` of who waited and when.

    ``task`` is ``(label, seconds)``. The span's ``lane`` is :func:`current_worker`,
    its ``start`` and ``end`` come from :func:`helpers.timeline.now`, so spans from
    different processes can be drawn on one timeline. A waiting task stands in for
    any task that takes a known time, or for I/O such as a download.

    >>> span = sleep_and_report(("A", 0.01))
    >>> span.label, span.lane, span.duration >= 0.01
    ('A', 'MainProcess', True)
    """
    if not (isinstance(task, (tuple, list)) and len(task) == 2):
        raise TypeError(f"task must be a (label, seconds) pair, got {task!r}")
    label, seconds = task
    seconds = _check_seconds(seconds, "the seconds of a task")
    start = now()
    time.sleep(seconds)
    return Span(current_worker(), str(label), start, now())


def worker_name(_: object = None) -> str:
    """Return the name of the process that runs this task (its argument is ignored).

    Process names are never reused within one parent, so the names returned by a
    pool's tasks count the worker processes that ran them.
    """
    return multiprocessing.current_process().name


# ----------------------------------------------------------------- per-worker state

# Filled by the initializer in each worker process; empty in the parent.
_WORKER_STATE: dict[str, object] = {}


def load_table(size: int) -> None:
    """Pool initializer: build this worker's lookup table of ``size`` squares, once.

    A real program would open a database connection or load a model here: work
    that should happen once per worker, not once per task. It also counts how many
    times it ran in this process, so a chapter can show that it runs once.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be an int >= 1, got {size!r}")
    _WORKER_STATE["table"] = [n * n for n in range(size)]
    _WORKER_STATE["setups"] = int(_WORKER_STATE.get("setups", 0)) + 1


def look_up(n: int) -> tuple[int, str, int]:
    """Return ``(table[n], worker name, setups)`` using the table :func:`load_table` built.

    ``setups`` is how many times the initializer ran in this worker: 1 when all is well.
    Raises ``RuntimeError`` in a process whose initializer did not run, and
    ``IndexError`` if ``n`` is not in the table.
    """
    table = _WORKER_STATE.get("table")
    if table is None:
        raise RuntimeError("look_up needs the pool's initializer: Pool(initializer=load_table, initargs=(size,))")
    if not 0 <= n < len(table):
        raise IndexError(f"n must be from 0 to {len(table) - 1}, got {n!r}")
    return table[n], worker_name(), int(_WORKER_STATE["setups"])


def ignore_interrupts() -> None:
    """Pool initializer: make this worker ignore SIGINT (Ctrl-C, a Jupyter interrupt).

    The parent then gets the ``KeyboardInterrupt`` alone, and decides what happens to
    the workers (``terminate()``, or leaving a ``with`` block), instead of every
    worker printing its own traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# ----------------------------------------------------------- plumbing for the chapter


def _check_timeout(timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, Real):
        raise TypeError(f"timeout must be a number of seconds, got {type(timeout).__name__}")
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a finite number of seconds > 0, got {timeout!r}")
    return float(timeout)


def record_arrivals(results: Iterator, count: int, timeout: float = 30) -> list[tuple[object, float]]:
    """Take ``count`` results from a ``Pool.imap``/``imap_unordered`` iterator; note when each arrived.

    Only ``chunksize=1`` (the default) gives an iterator with ``next(timeout)``.
    Returns ``[(result, arrival_time), ...]`` in the order the parent received them,
    with times from :func:`helpers.timeline.now`. Each result is awaited with
    ``results.next(timeout)``, so a lost task raises ``multiprocessing.TimeoutError``
    after ``timeout`` seconds instead of hanging.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be an int >= 0, got {count!r}")
    timeout = _check_timeout(timeout)
    if not callable(getattr(results, "next", None)):
        raise TypeError(
            "results must be what Pool.imap or Pool.imap_unordered returns with chunksize=1 "
            "(with a larger chunksize they return a generator, which has no next(timeout)); "
            f"got {type(results).__name__}"
        )
    arrivals = []
    for _ in range(count):
        result = results.next(timeout)
        arrivals.append((result, now()))
    return arrivals


def number_lanes(spans: Iterable[Span]) -> list[Span]:
    """Return the spans with lanes renamed ``worker 1``, ``worker 2``... in order of first start.

    Process names (``SpawnPoolWorker-7``) depend on the start method and on how
    many pools ran before; numbered lanes make timelines comparable.

    >>> [s.lane for s in number_lanes([Span("b", "x", 1, 2), Span("a", "y", 0, 1), Span("b", "z", 2, 3)])]
    ['worker 2', 'worker 1', 'worker 2']
    """
    from helpers.timeline import check_spans

    spans = check_spans(spans)
    order: dict[str, str] = {}
    for span in sorted(spans, key=lambda s: s.start):
        order.setdefault(span.lane, f"worker {len(order) + 1}")
    return [Span(order[s.lane], s.label, s.start, s.end) for s in spans]


def _group_arrivals(arrivals, t0: float, within: float) -> list[tuple[float, list[str]]]:
    """Return ``[(x, labels), ...]``: arrivals less than ``within`` seconds apart share one marker.

    >>> span = Span("w", "A", 0, 1)
    >>> _group_arrivals([(span, 1.0), (span, 1.01), (span, 2.0)], t0=0, within=0.1)
    [(1.0, ['A', 'A']), (2.0, ['A'])]
    """
    groups: list[tuple[float, list[str]]] = []
    for span, arrived in sorted(arrivals, key=lambda a: a[1]):
        x = arrived - t0
        if groups and x - groups[-1][0] < within:
            groups[-1][1].append(span.label)
        else:
            groups.append((x, [span.label]))
    return groups


def plot_arrivals(runs: dict[str, list[tuple[Span, float]]], *, title: str | None = None):
    """Draw one timeline per run, with a row showing when the parent received each result.

    ``runs`` maps a name (such as ``"imap"``) to what :func:`record_arrivals` returned
    for tasks that return spans. Every panel shares one time axis, measured from the
    earliest start in its run. Returns the matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt  # imported here: workers never need matplotlib

    from helpers.timeline import plot_timeline

    if not isinstance(runs, dict) or not runs:
        raise ValueError("runs must be a non-empty dict of {name: [(span, arrival_time), ...]}")
    for name, arrivals in runs.items():
        if not arrivals or not all(isinstance(a, tuple) and len(a) == 2 and isinstance(a[0], Span) for a in arrivals):
            raise TypeError(f"runs[{name!r}] must be a non-empty list of (Span, arrival_time) pairs")
    fig, axes = plt.subplots(len(runs), 1, figsize=(6, 1.4 + 1.5 * len(runs)), dpi=100, sharex=True)
    axes = [axes] if len(runs) == 1 else list(axes)
    for ax, (name, arrivals) in zip(axes, runs.items()):
        spans = number_lanes(span for span, _ in arrivals)
        plot_timeline(spans, ax=ax, title=name)
        t0 = min(s.start for s in spans)
        lanes = [t.get_text() for t in ax.get_yticklabels()]
        row = len(lanes)
        last = max(max(s.end for s in spans), max(a for _, a in arrivals)) - t0
        for x, labels in _group_arrivals(arrivals, t0, within=0.03 * last):
            ax.plot(x, row, marker="v", color="black", markersize=6)
            ax.annotate(",".join(labels), (x, row), xytext=(0, 6), textcoords="offset points",
                        ha="center", fontsize=7)
        ax.set_yticks(range(row + 1), lanes + ["parent gets"])
        ax.set_ylim(row + 0.7, -0.6)
        ax.set_xlim(0, last * 1.05)
        ax.set_xlabel("")
    axes[-1].set_xlabel("time since the first task started (s)")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


@contextmanager
def interrupt_after(seconds: float):
    """Within the ``with`` block, raise ``KeyboardInterrupt`` in the main thread after ``seconds``.

    A stand-in for pressing Ctrl-C or Jupyter's *Interrupt* button: a timer thread
    sends SIGINT to the main thread only (not to any worker), which wakes the main
    thread even while it waits in ``get(timeout=...)`` (on Windows, which lacks
    ``pthread_kill``, only when that wait returns). The timer is cancelled when
    the block ends, so nothing fires later. Main thread of the main interpreter only.

    Open it inside the pool's ``with`` block, not around it: an interrupt that lands
    while ``Pool()`` is still starting its workers can leave some of them running.
    """
    seconds = _check_seconds(seconds)
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("interrupt_after only works in the main thread")
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        raise RuntimeError("interrupt_after needs SIGINT to raise KeyboardInterrupt (Python's default handler)")
    if hasattr(signal, "pthread_kill"):  # POSIX: the signal also wakes a waiting get()
        timer = threading.Timer(seconds, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT))
    else:  # Windows: the main thread sees the interrupt once its current wait returns
        timer = threading.Timer(seconds, _thread.interrupt_main)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join(timeout=5)


# ------------------------------------------------------------------ exercise checks


def check_cubes(answer: object) -> bool:
    """Exercise check: are these the cubes of 1 to 10, in order?"""
    from helpers.exercises import feedback

    right = [n**3 for n in range(1, 11)]
    if not isinstance(answer, list):
        return feedback(
            False, "", f"Store a list (starmap_async(...).get() gives one); you gave a {type(answer).__name__}."
        )
    if sorted(answer) == right and answer != right:
        return feedback(False, "", "The right numbers, in the wrong order: which methods keep the order of the inputs?")
    return feedback(
        answer == right,
        "Right: starmap unpacks each (base, exponent) pair into pow(base, exponent), and keeps the order.",
        f"Not quite: expected 10 cubes starting 1, 8, 27; you gave {answer[:3]!r}... Check the pairs you passed.",
    )


def check_squares_of(answer: object, n: int) -> bool:
    """Exercise check: is ``answer`` the squares of 1 to ``n``, in any order, each once?"""
    from helpers.exercises import feedback

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    right = [k * k for k in range(1, n + 1)]
    if not isinstance(answer, list):
        return feedback(False, "", f"Collect the results in a list; you gave a {type(answer).__name__}.")
    return feedback(
        sorted(answer) == right,
        f"Right: all {n} squares are there, each once.",
        f"Not quite: expected the {n} squares of 1 to {n}; you have {len(answer)} values. Did every result arrive?",
    )


def check_fresh_workers(names: object, tasks: int = 4) -> bool:
    """Exercise check: did ``tasks`` tasks run in as many different worker processes?"""
    from helpers.exercises import feedback

    if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
        return feedback(False, "", "Pass the list of names that worker_name returned, one per task.")
    if len(names) != tasks:
        return feedback(False, "", f"Expected {tasks} names, one per task; you have {len(names)}.")
    distinct = len(set(names))
    return feedback(
        distinct == tasks,
        f"Right: with maxtasksperchild=1 every task got a fresh worker: {distinct} processes for {tasks} tasks.",
        f"Only {distinct} different workers ran {tasks} tasks: check maxtasksperchild and chunksize.",
    )


def check_failing_inputs(answer: object) -> bool:
    """Exercise check: which of ``INPUTS_TO_INVERT`` make :func:`invert` fail?"""
    from helpers.exercises import feedback

    right = [x for x in INPUTS_TO_INVERT if x == 0]
    wrong_type = not isinstance(answer, list)
    return feedback(
        not wrong_type and sorted(answer) == right,
        "Right: future.exception() hands you the worker's exception without raising it.",
        "Not quite: collect the inputs whose future ended with an exception, as a list."
        if wrong_type
        else f"Not quite: you found {answer!r}. Look at future.exception() for every future, not just the first.",
    )


#: The inputs of the futures exercise: some of them make :func:`invert` raise.
INPUTS_TO_INVERT: Sequence[float] = (4, 0, 2, 8, 0, 5)


def check_no_workers_left() -> bool:
    """Exercise check: is no child process of this one still running?"""
    from helpers.exercises import feedback

    left = multiprocessing.active_children()
    return feedback(
        not left,
        "Right: no worker is left behind.",
        f"{len(left)} worker(s) still running: {[p.name for p in left]}. "
        "Did you terminate (or close and join) the pool?",
    )


def check_io_pool(spans: object, total_seconds: float) -> bool:
    """Exercise check: did the waits overlap so that all of them took well under their sum?

    ``spans`` are what :func:`sleep_and_report` returned; ``total_seconds`` is the wall
    time the learner measured.
    """
    from helpers.exercises import feedback
    from helpers.timeline import busy_time

    if not isinstance(spans, list) or not spans or not all(isinstance(s, Span) for s in spans):
        return feedback(False, "", "Pass the list of spans the tasks returned.")
    serial = busy_time(spans)
    return feedback(
        total_seconds < serial / 3,
        "Right: the waits overlapped, so the whole batch took a fraction of their sum.",
        f"The batch took {total_seconds:.2f} s for {serial:.2f} s of waiting: give the pool more threads.",
    )

"""Instruments for the pool chapters: arrival timelines, a stand-in for Ctrl-C, exercise checks.

The workers these chapters send to pools live in ``helpers/pools.py`` (and the one
``square`` in ``helpers/processes.py``); this module holds what the parent uses
around them: :func:`record_arrivals` notes when each result of an ``imap`` reached
the parent, :func:`plot_arrivals` draws it and :func:`describe_arrivals` says it in
words, :func:`interrupt_after` presses "Interrupt" from a timer, and the ``check_*``
functions give feedback in exercises.
:func:`check_time_limit` runs a learner's per-task time limit for real.
:func:`check_initializer` runs a learner's initializer and task in a child process.
"""

from __future__ import annotations

import _thread
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from helpers.lab.args import check_int, check_seconds
from helpers.lab.exercises import check_worker, feedback
from helpers.lab.timeline import Span, busy_time, check_spans, now

#: The inputs of the futures exercise: some of them make ``invert`` raise.
INPUTS_TO_INVERT: Sequence[float] = (4, 0, 2, 8, 0, 5)


# ------------------------------------------------------------------- arrivals


def record_arrivals(results: Iterator, count: int, timeout: float = 30) -> list[tuple[object, float]]:
    """Take ``count`` results from a ``Pool.imap``/``imap_unordered`` iterator; note when each arrived.

    Only ``chunksize=1`` (the default) gives an iterator with ``next(timeout)``.
    Returns ``[(result, arrival_time), ...]`` in the order the parent received them,
    with times from :func:`helpers.lab.timeline.now`. Each result is awaited with
    ``results.next(timeout)``, so a lost task raises ``multiprocessing.TimeoutError``
    after ``timeout`` seconds instead of hanging.
    """
    check_int("count", count, 0)
    timeout = check_seconds("timeout", timeout, 0.001)
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


def _check_runs(runs: object) -> None:
    """Raise ``ValueError``/``TypeError`` unless ``runs`` is ``{name: [(Span, arrival_time), ...]}``."""
    if not isinstance(runs, dict) or not runs:
        raise ValueError("runs must be a non-empty dict of {name: [(span, arrival_time), ...]}")
    for name, arrivals in runs.items():
        if not arrivals or not all(isinstance(a, tuple) and len(a) == 2 and isinstance(a[0], Span) for a in arrivals):
            raise TypeError(f"runs[{name!r}] must be a non-empty list of (Span, arrival_time) pairs")


def plot_arrivals(runs: dict[str, list[tuple[Span, float]]], *, title: str | None = None):
    """Draw one timeline per run, with a row showing when the parent received each result.

    ``runs`` maps a name (such as ``"imap"``) to what :func:`record_arrivals` returned
    for tasks that return spans. Each run's time starts at the earliest start in that
    run, and every panel shows the same time range, long enough for every bar and
    every arrival of every run: runs are compared at one scale, and a run that handed
    over its results later shows them further right. Returns the matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt  # imported here: workers never need matplotlib

    from helpers.lab.timeline import plot_timeline

    _check_runs(runs)
    # One x range for all panels, set once after drawing: with a shared x axis, a limit
    # set per panel would leave only the last panel's, clipping the other runs.
    starts = {name: min(span.start for span, _ in arrivals) for name, arrivals in runs.items()}
    longest = max(
        max(max(span.end, arrived) for span, arrived in arrivals) - starts[name]
        for name, arrivals in runs.items()
    )
    longest = longest if longest > 0 else 1.0
    # time.time() can step back (a clock adjusted mid-run): keep such an arrival in view too
    earliest = min(0.0, *(arrived - starts[name] for name, arrivals in runs.items() for _, arrived in arrivals))
    fig, axes = plt.subplots(len(runs), 1, figsize=(6, 1.4 + 1.5 * len(runs)), dpi=100, sharex=True)
    axes = [axes] if len(runs) == 1 else list(axes)
    for ax, (name, arrivals) in zip(axes, runs.items()):
        spans = number_lanes(span for span, _ in arrivals)
        plot_timeline(spans, ax=ax, title=name)
        lanes = [t.get_text() for t in ax.get_yticklabels()]
        row = len(lanes)
        for x, labels in _group_arrivals(arrivals, starts[name], within=0.03 * longest):
            ax.plot(x, row, marker="v", color="black", markersize=6)
            ax.annotate(",".join(labels), (x, row), xytext=(0, 6), textcoords="offset points",
                        ha="center", fontsize=7)
        ax.set_yticks(range(row + 1), lanes + ["parent gets"])
        ax.set_ylim(row + 0.7, -0.6)
        ax.set_xlabel("")
    axes[-1].set_xlim(earliest - 0.02 * longest if earliest < 0 else 0, longest * 1.05)  # shared: every panel
    axes[-1].set_xlabel("time since the run's first task started (s)")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def describe_arrivals(runs: dict[str, list[tuple[Span, float]]]) -> list[str]:
    """Return one line per run: when its first and its last result reached the parent, and which.

    Times are seconds since the run's first task started, as in :func:`plot_arrivals`.

    >>> describe_arrivals({"imap": [(Span("w", "A", 0, 0.8), 0.81), (Span("w", "B", 0, 0.1), 0.82)]})
    ['imap: first result (A) after 0.81 s, last (B) after 0.82 s']
    """
    _check_runs(runs)
    lines = []
    for name, arrivals in runs.items():
        t0 = min(span.start for span, _ in arrivals)
        ordered = sorted(arrivals, key=lambda a: a[1])
        (first, first_at), (last, last_at) = ordered[0], ordered[-1]
        lines.append(f"{name}: first result ({first.label}) after {first_at - t0:.2f} s, "
                     f"last ({last.label}) after {last_at - t0:.2f} s")
    return lines


# ------------------------------------------------------------------ interrupts


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
    seconds = check_seconds("seconds", seconds, 0, 60)
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


# ------------------------------------------------------------ exercise checks


def check_cubes(answer: object) -> bool:
    """Exercise check: are these the cubes of 1 to 10, in order?"""
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
    check_int("n", n, 1)
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
    check_int("tasks", tasks, 1)
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
    """Exercise check: which of :data:`INPUTS_TO_INVERT` make ``invert`` fail?"""
    right = [x for x in INPUTS_TO_INVERT if x == 0]
    wrong_type = not isinstance(answer, list)
    return feedback(
        not wrong_type and sorted(answer) == right,
        "Right: future.exception() hands you the worker's exception without raising it.",
        "Not quite: collect the inputs whose future ended with an exception, as a list."
        if wrong_type
        else f"Not quite: you found {answer!r}. Look at future.exception() for every future, not just the first.",
    )


def check_no_workers_left() -> bool:
    """Exercise check: is no child process of this one still running?"""
    left = multiprocessing.active_children()
    return feedback(
        not left,
        "Right: no worker is left behind.",
        f"{len(left)} worker(s) still running: {[p.name for p in left]}. "
        "Did you terminate (or close and join) the pool?",
    )


def check_io_pool(spans: object, total_seconds: float) -> bool:
    """Exercise check: did the waits overlap so that all of them took well under their sum?

    ``spans`` are what ``sleep_and_report`` returned; ``total_seconds`` is the wall
    time the learner measured.
    """
    if not isinstance(spans, list) or not spans or not all(isinstance(s, Span) for s in spans):
        return feedback(False, "", "Pass the list of spans the tasks returned.")
    total_seconds = check_seconds("total_seconds", total_seconds)
    serial = busy_time(spans)
    return feedback(
        total_seconds < serial / 3,
        "Right: the waits overlapped, so the whole batch took a fraction of their sum.",
        f"The batch took {total_seconds:.2f} s for {serial:.2f} s of waiting: give the pool more threads.",
    )


# ------------------------------------------- the learner's initializer, in a child


def check_initializer(module: str, *, initializer: str, initargs: tuple, task: str,
                      cases: Iterable[tuple[tuple, object]], timeout: float = 20.0) -> bool:
    """Check a learner's pool initializer and the task that uses its per-worker state; print what is wrong.

    In one fresh child process started with the book's start method, as a pool
    worker would be: import ``module``, call ``initializer(*initargs)`` once, then
    ``task(*args)`` for each ``(args, expected)`` in ``cases``. Fails if the module
    does not import, a function is missing, the initializer or the task raises, a
    result is wrong, or it all takes more than ``timeout`` seconds. Returns ``True``
    when every case gives the expected result.
    """
    return check_worker(module, task, cases, timeout=timeout, initializer=initializer, initargs=initargs,
                        hint="Does the initializer store its argument in a module-level variable (with global), "
                             "and does the task read it?")


# --------------------------------------------------------- a time limit per task


def _run_in_thread(func: Callable, args: tuple, timeout: float) -> tuple[bool, object]:
    """Call ``func(*args)`` in a daemon thread; return ``(finished, result or exception)`` within ``timeout`` s."""
    outcome: list = []

    def call() -> None:
        try:
            outcome.append((True, func(*args)))
        except BaseException as error:  # noqa: BLE001 - reported to the learner
            outcome.append((False, error))

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(timeout=timeout)
    if not outcome:
        return False, None
    return outcome[0]


def check_time_limit(run_with_limit: Callable, *, timeout: float = 30.0) -> bool:
    """Exercise check: does ``run_with_limit(func, args, limit)`` stop only a task that runs too long?

    A quick task must give ``("returned", its result)``; ``sleep_for(60)`` with a limit
    of 0.5 s must give ``("stopped", -SIGTERM)`` soon after the limit, and leave no
    process running. Each call runs on a thread of its own, so an answer that waits
    for ever fails after ``timeout`` seconds instead of hanging the notebook.
    """
    from helpers.pools import sleep_for
    from helpers.processes import square

    if not callable(run_with_limit):
        raise TypeError(f"run_with_limit must be a function, got {type(run_with_limit).__name__}")
    timeout = check_seconds("timeout", timeout, 5, 600)
    for func, args, limit, expected in ((square, (7,), 10.0, ("returned", 49)),
                                        (sleep_for, (0.1,), 10.0, ("returned", 0.1))):
        finished, got = _run_in_thread(run_with_limit, (func, args, limit), timeout)
        if not finished:
            return feedback(False, "", f"run_with_limit({func.__name__}, {args!r}, {limit:g}) did not return within "
                                       f"{timeout:g} s: does every wait have a timeout?")
        if isinstance(got, BaseException) or got != expected:
            return feedback(False, "", f"run_with_limit({func.__name__}, {args!r}, {limit:g}) gave {got!r}; "
                                       f"expected {expected!r}.")
    started = time.monotonic()
    finished, got = _run_in_thread(run_with_limit, (sleep_for, (60,), 0.5), timeout)
    took = time.monotonic() - started
    left = multiprocessing.active_children()
    expected = ("stopped", -signal.SIGTERM)
    if not finished or took > 10:
        return feedback(False, "", f"run_with_limit(sleep_for, (60,), 0.5) took more than {min(timeout, 10):g} s: "
                                   "stop the process when its limit has passed (terminate()).")
    if isinstance(got, BaseException) or got != expected:
        return feedback(False, "", f"run_with_limit(sleep_for, (60,), 0.5) gave {got!r}; expected {expected!r}: "
                                   "terminate() the process, join it with a timeout, and return its exitcode.")
    return feedback(
        not left,
        f"Right: the quick tasks returned their results, and the 60 s task was stopped within 10 s "
        f"with exit code {-signal.SIGTERM}.",
        f"The results are right, but {len(left)} process(es) still run: {[p.name for p in left]}. "
        "Join each process (with a timeout) after its result or its terminate().",
    )

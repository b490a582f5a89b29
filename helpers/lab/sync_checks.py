"""Exercise checks for the chapters on locks (07) and signals (08).

Each check prints one line, ✅ or ❌ with a hint that does not give the answer
away, and returns a bool. The checks of the learner's own workers
(:func:`check_lock_transfer`, :func:`check_event_waiter`) build the lock or the
event the worker needs, run it in child processes with
:func:`helpers.lab.exercises.run_worker`, act on the object from this process
while the child runs, and look at what the worker left behind.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Sequence

from helpers.lab.args import check_int, check_seconds
from helpers.lab.book import book_start_method
from helpers.lab.exercises import failure_hint, feedback, not_answered, run_worker
from helpers.lab.sync import holders_at_once
from helpers.lab.timeline import Span
from helpers.sync import LockReport

# --- chapter 07: locks -------------------------------------------------------------------


def check_counter(total: object, workers: int, increments: int) -> bool:
    """Is ``total`` what ``workers`` processes adding ``increments`` each must give?"""
    expected = check_int("workers", workers, 1) * check_int("increments", increments, 0)
    if isinstance(total, bool) or not isinstance(total, int):
        return feedback(False, "", f"Pass the final count as an int (counter.value), not {type(total).__name__}.")
    if total < expected:
        hint = (
            f"{expected - total:,} of {expected:,} updates were lost: does every process take "
            "the SAME lock around the whole read-add-write?"
        )
    else:
        hint = f"{total:,} is more than the {expected:,} increments made: did you start from 0, and run it once?"
    return feedback(total == expected, f"Right: all {expected:,} increments arrived.", hint)


ACQUIRING_WORKERS = ("add_with_lock", "add_locally_then_lock")  # the keys check_lock_acquisitions wants


def check_lock_acquisitions(answer: object, workers: int = 4, increments: int = 10_000) -> bool:
    """``answer`` maps each worker of :data:`ACQUIRING_WORKERS` to how often the lock is taken in all."""
    with_lock, then_lock = ACQUIRING_WORKERS
    right = {with_lock: workers * increments, then_lock: workers}
    if not isinstance(answer, dict) or set(answer) != set(ACQUIRING_WORKERS):
        return feedback(False, "", f"Give a dict with exactly the keys {list(ACQUIRING_WORKERS)}; you gave {answer!r}.")
    wrong = [w for w in ACQUIRING_WORKERS if answer[w] != right[w]]
    return feedback(
        not wrong,
        f"Right: {right[with_lock]:,} acquisitions against {right[then_lock]}: every one of the first kind is a "
        "moment when the others may have to wait.",
        f"Look again at {wrong[0]!r}: how many times does ONE worker enter `with lock:`, "
        f"and how many workers are there?" if wrong else "",
    )


NEEDS = ((0, 1), (1, 2), (2, 0))  # the exercise's three workers and the locks each needs


def check_lock_order(pairs: object, reports: object, needs: Sequence[tuple[int, int]] = NEEDS) -> bool:
    """Do the lock ``pairs`` (index of first, index of second) give worker ``i`` the locks
    ``needs[i]``, in one global order, and did every :class:`LockReport` get both locks?"""
    if not isinstance(pairs, list) or not all(
        isinstance(p, tuple) and len(p) == 2 and all(isinstance(i, int) for i in p) for p in pairs
    ):
        return feedback(False, "", "Pass `pairs` as a list of (first, second) tuples of lock indexes.")
    if not isinstance(reports, list) or not all(isinstance(r, LockReport) for r in reports):
        return feedback(False, "", "Pass the list of LockReports you collected from the queue.")
    if len(reports) != len(pairs):
        return feedback(False, "", f"{len(pairs)} pairs but {len(reports)} reports: collect one report per worker.")
    if [set(p) for p in pairs] != [set(n) for n in needs]:
        return feedback(False, "", f"Worker i must get the two locks in needs[i] = {list(needs)}[i], in some order.")
    unordered = [p for p in pairs if p[0] >= p[1]]
    if unordered:
        return feedback(
            False, "", f"{unordered[0]} takes the higher-numbered lock first: it may work by luck, but a cycle remains."
        )
    stuck = sorted(r.name for r in reports if not r.got_both)
    return feedback(
        not stuck,
        "Right: every worker takes the lower-numbered lock first, so there is no cycle to wait in.",
        f"{', '.join(stuck)} gave up waiting: is each worker given the two locks its pair names?",
    )


HOLD_SECONDS = 2.0  # how long check_lock_transfer holds the lock while the learner's worker starts


def _run_in_thread(outcomes: dict, key: object, module: str, function: str, calls: list, timeout: float):
    """Start a thread that stores ``run_worker(...)``'s outcome in ``outcomes[key]``; return the thread."""

    def run() -> None:
        outcomes[key] = run_worker(module, function, calls, timeout=timeout)

    thread = threading.Thread(target=run, name=f"check {module}.{function}", daemon=True)
    thread.start()
    return thread


def _problem(outcome: tuple, call: str) -> str | None:
    """Return what went wrong in a run_worker outcome with one call, or None if it ran."""
    kind, detail = outcome
    if kind != "ran":
        return failure_hint("the module", kind, detail)
    status, value = detail[0]
    if status == "raised":
        return f"In a child process, {call} raised {value}."
    return None


def check_lock_transfer(module: str, function: str = "move", *, workers: int = 3, times: int = 10_000,
                        timeout: float = 30.0) -> bool:
    """Check the learner's ``move(lock, source, target, times)`` in child processes.

    First, while this process holds ``lock``, one child runs ``move(..., 1)``: a
    right worker waits for the lock, so neither value may change until it is let
    go. Then ``workers`` children run ``move(..., times)`` at the same time while
    this process, taking the lock now and then, checks that ``source.value +
    target.value`` never changes; at the end everything must be in ``target``.
    """
    check_int("workers", workers, 1, 16)
    check_int("times", times, 1, 1_000_000)
    timeout = check_seconds("timeout", timeout, 1, 600)
    if not_answered(module):
        return False
    ctx = multiprocessing.get_context(book_start_method())
    lock = ctx.Lock()
    source, target = ctx.Value("i", 1, lock=False), ctx.Value("i", 0, lock=False)
    outcomes: dict = {}

    # 1. The worker must wait for a lock that another process holds.
    lock.acquire()
    try:
        thread = _run_in_thread(outcomes, "held", module, function, [(lock, source, target, 1)], timeout)
        deadline = time.monotonic() + HOLD_SECONDS
        while thread.is_alive() and time.monotonic() < deadline and (source.value, target.value) == (1, 0):
            time.sleep(0.01)
        changed_while_held = (source.value, target.value) != (1, 0)
    finally:
        lock.release()
    thread.join(timeout + 5)
    problem = _problem(outcomes["held"], f"{function}(lock, source, target, 1)")
    if problem:
        return feedback(False, "", problem)
    if changed_while_held:
        return feedback(False, "", "Your worker changed the values while another process held the lock: "
                                   "take the lock around the changes, with `with lock:`.")
    if (source.value, target.value) != (0, 1):
        return feedback(False, "", f"After {function}(lock, source, target, 1), source is {source.value} and target "
                                   f"{target.value}; expected 0 and 1. Does it take 1 from source.value and add 1 "
                                   "to target.value, times times?")

    # 2. Several workers at once: the sum never changes, and nothing is lost.
    total = workers * times
    source.value, target.value = total, 0
    threads = [_run_in_thread(outcomes, i, module, function, [(lock, source, target, times)], timeout)
               for i in range(workers)]
    sums = set()
    while any(t.is_alive() for t in threads):
        if lock.acquire(timeout=0.5):
            try:
                sums.add(source.value + target.value)
            finally:
                lock.release()
    for t in threads:
        t.join(timeout + 5)
    for i in range(workers):
        problem = _problem(outcomes[i], f"{function}(lock, source, target, {times})")
        if problem:
            return feedback(False, "", problem)
    if (source.value, target.value) != (0, total):
        return feedback(False, "", f"{workers} workers each moved {times:,}: source should end at 0 and target at "
                                   f"{total:,}, but they are {source.value:,} and {target.value:,}. Updates were lost: "
                                   "do both changes happen while the lock is held?")
    if sums != {total}:
        odd = sorted(sums - {total})[0]
        return feedback(False, "", f"While the workers ran, this process took the lock and saw source + target = "
                                   f"{odd:,}, not {total:,}: a move was half done while the lock was free. "
                                   "Make both changes inside ONE `with lock:` block.")
    return feedback(True, f"{module}.{function} waits for the lock, and {workers} processes moved {total:,} "
                          "between them with no move lost or seen half done.", "")


# --- chapter 08: signals -----------------------------------------------------------------


def check_semaphore_spans(spans: object, k: int, workers: int) -> bool:
    """Do ``spans`` show ``workers`` workers that each used the resource, at most ``k`` at once?"""
    if not isinstance(spans, list) or not all(isinstance(s, Span) for s in spans):
        return feedback(False, "", "Pass the list of Spans you collected from the queue.")
    users = {s.lane for s in spans if s.label == "using"}
    if len(users) != workers:
        return feedback(
            False, "", f"Spans show {len(users)} workers using the resource, not {workers}: collect 2 spans per worker."
        )
    peak = holders_at_once(spans)
    return feedback(
        peak <= k,
        f"Right: {workers} workers, and never more than {k} held the semaphore at once.",
        f"{peak} workers held it at once, more than {k}: was the semaphore created with value {k}?",
    )


SIGNAL_AFTER = 2.0  # seconds after the child starts that check_event_waiter sets the Event


def check_event_waiter(module: str, function: str = "square_when_ready", *, timeout: float = 15.0) -> bool:
    """Check the learner's ``square_when_ready(ready, x, timeout)`` in a child process.

    Two calls, in one child: with an Event that nobody sets and a timeout of
    0.5 s, it must give up and return ``None``; then with an Event that this
    process sets :data:`SIGNAL_AFTER` seconds after the child started, and a
    timeout of 60 s, it must wait for the signal and return ``x * x`` soon after.
    """
    timeout = check_seconds("timeout", timeout, SIGNAL_AFTER + 5, 600)
    if not_answered(module):
        return False
    ctx = multiprocessing.get_context(book_start_method())
    never, ready = ctx.Event(), ctx.Event()
    calls = [(never, 3, 0.5), (ready, 4, 60.0)]
    outcomes: dict = {}
    thread = _run_in_thread(outcomes, "run", module, function, calls, timeout)
    thread.join(SIGNAL_AFTER)
    finished_early = not thread.is_alive()
    ready.set()
    signalled = time.monotonic()
    thread.join(timeout + 5)
    waited_after_signal = time.monotonic() - signalled
    kind, detail = outcomes["run"]
    if kind == "timeout":
        return feedback(False, "", f"{detail} Does every wait have a timeout, and do you return when it passes?")
    if kind != "ran":
        return feedback(False, "", failure_hint(module, kind, detail))
    (status_1, value_1), (status_2, value_2) = detail
    if status_1 == "raised":
        return feedback(False, "", f"In a child process, {function}(never_set, 3, 0.5) raised {value_1}.")
    if value_1 is not None:
        return feedback(False, "", f"With an Event nobody sets and a timeout of 0.5 s, {function} returned {value_1!r}; "
                                   "expected None. What does wait(timeout) return when the timeout passes?")
    if status_2 == "raised":
        return feedback(False, "", f"In a child process, {function}(ready, 4, 60.0) raised {value_2}.")
    if value_2 != 16 and finished_early:
        return feedback(False, "", f"{function}(ready, 4, 60.0) returned {value_2!r} before this process set the "
                                   "Event; expected 16 once it is set. Does it wait for the Event?")
    if value_2 != 16:
        return feedback(False, "", f"{function}(ready, 4, 60.0) returned {value_2!r} after the Event was set; "
                                   "expected x * x, 16.")
    if finished_early:
        return feedback(False, "", f"{function}(ready, 4, 60.0) returned before this process set the Event: "
                                   "does it wait for the signal?")
    if waited_after_signal > 5:
        return feedback(False, "", f"It returned {waited_after_signal:.0f} s after the signal: wake up when the Event "
                                   "is set, with ready.wait(timeout), rather than sleeping.")
    return feedback(True, f"{module}.{function} gave up after its timeout with None, and woke up at the signal "
                          "with 16.", "")

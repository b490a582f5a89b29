"""Checks for the exercises of the parallel-models chapter: each prints one line of feedback and returns a bool."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from helpers.lab.args import check_callable, check_int
from helpers.lab.exercises import feedback

# Each scenario, and the models that fit it (the first is the one the chapter recommends).
SCENARIOS = {
    "download 500 web pages": ("asyncio", "threads"),
    "count primes in pure Python on a Python with the GIL": ("processes",),
    "apply numpy.sin to a large array, in parts": ("threads",),
    "fetch 200 records, then run a pure-Python parser on each": ("asyncio+processes",),
}
MODEL_NAMES = ("serial", "threads", "interpreters", "processes", "asyncio", "asyncio+processes")


def check_model_choices(answers: object) -> bool:
    """Exercise check: ``answers`` maps each scenario of ``SCENARIOS`` to one of ``MODEL_NAMES``."""
    if not isinstance(answers, Mapping):
        return feedback(False, "", f"Answer with a dict {{scenario: model}}, as in the cell; you gave {type(answers).__name__}.")
    missing = [s for s in SCENARIOS if s not in answers]
    if missing:
        return feedback(False, "", f"Give a model for every scenario; missing: {missing[0]!r}.")
    unknown = [a for a in answers.values() if a not in MODEL_NAMES]
    if unknown:
        return feedback(False, "", f"{unknown[0]!r} is not one of {MODEL_NAMES}.")
    for scenario, fits in SCENARIOS.items():
        if answers[scenario] not in fits:
            return feedback(False, "", f"Not {answers[scenario]!r} for {scenario!r}: what does that task wait on?")
    return feedback(True, "Right for all four: the model follows from what each task waits on.", "")


class CountingLock:
    """A ``threading.Lock`` that counts how often it was taken (``with lock:`` or ``acquire``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.taken = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._lock.acquire(blocking, timeout)
        self.taken += got
        return got

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> CountingLock:
        if not self.acquire(timeout=30):
            raise TimeoutError("the lock was not released within 30 s")
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def check_safe_counter(add_with_lock: object, threads: int = 4, times: int = 20_000, timeout: float = 30.0) -> bool:
    """Exercise check: ``add_with_lock(counter, lock, times)`` adds 1 to ``counter[0]`` ``times`` times under ``lock``.

    Runs it on ``threads`` threads sharing one list and one lock that counts how
    often it is taken: the total must be exact and the lock must be taken.
    """
    check_callable("add_with_lock", add_with_lock)
    check_int("threads", threads, 1, 64)
    counter, lock = [0], CountingLock()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            add_with_lock(counter, lock, times)
        except BaseException as exc:  # reported below, in the learner's terms
            errors.append(exc)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=timeout)
    if any(t.is_alive() for t in workers):
        return feedback(False, "", f"The threads did not finish within {timeout:g} s: is the lock released after each addition?")
    if errors:
        return feedback(False, "", f"add_with_lock raised {type(errors[0]).__name__}: {errors[0]}.")
    expected = threads * times
    if lock.taken == 0:
        return feedback(False, "", "The lock was never taken: wrap the read-add-write in `with lock:`.")
    if counter[0] != expected:
        return feedback(False, "", f"counter[0] is {counter[0]}, expected {expected}: does each call add exactly `times`?")
    return feedback(True, f"{threads} threads added {expected} times under the lock, and none was lost.", "")


def check_unblocked(lateness: object, blocked: float) -> bool:
    """Exercise check: a timer's ``lateness`` (s) with the work moved off the loop, against ``blocked`` (s) before."""
    if isinstance(lateness, bool) or not isinstance(lateness, (int, float)):
        return feedback(False, "", f"lateness must be a number of seconds, got {lateness!r}.")
    return feedback(
        lateness < max(0.05, blocked / 3),
        f"The timer fired {lateness * 1000:.0f} ms late instead of {blocked * 1000:.0f} ms: the loop kept running.",
        f"The timer was still {lateness * 1000:.0f} ms late: is the CPU work awaited through run_in_executor?",
    )


"""Workers that share a lock, a semaphore, an event, a condition or a barrier.

The parent creates the synchronisation object and hands it to each child as an
argument of ``Process`` (or in a pool's ``initargs``), which is how
``multiprocessing`` shares them. Workers that report back put small picklable
objects (numbers, tuples, :class:`helpers.lab.timeline.Span`) on a queue the
parent gives them. Chapters 07 and 08 show each one on the page before using it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

from helpers.lab.timeline import Span, now

# --- chapter 07: locks -------------------------------------------------------------------


def add_unlocked(counter, increments: int, start=None) -> None:
    """Add 1 to counter.value increments times, with no lock: racy on purpose."""
    if start is not None:
        start.wait(timeout=10)  # a Barrier: every worker begins at the same moment
    for _ in range(increments):
        counter.value += 1  # read, add, write: another process may write in between


def add_with_value_lock(counter, increments: int, start=None) -> None:
    """Add 1 to counter.value increments times, each time holding the Value's own lock."""
    if start is not None:
        start.wait(timeout=10)
    for _ in range(increments):
        with counter.get_lock():  # a synchronized Value (lock=True, the default) has one
            counter.value += 1


def add_with_lock(lock, counter, increments: int, start=None) -> None:
    """Add 1 to counter.value increments times, each time inside `with lock:`."""
    if start is not None:
        start.wait(timeout=10)
    for _ in range(increments):
        with lock:  # every worker must be given the SAME lock
            counter.value += 1


def count_locally(increments: int) -> int:
    """Add 1 to a local variable increments times and return it: nothing shared, no lock."""
    count = 0
    for _ in range(increments):
        count += 1  # private to this process
    return count


def add_to_raw_value(counter, increments: int) -> None:
    """Add 1 to a synchronized Value increments times through get_obj(): shared memory, no lock."""
    raw = counter.get_obj()  # the ctypes number itself: its .value takes no lock
    for _ in range(increments):
        raw.value += 1  # racy if another process adds too


def add_locally_then_lock(lock, counter, increments: int, start=None) -> None:
    """Count increments in a local variable, then add the total to counter.value under lock, once."""
    if start is not None:
        start.wait(timeout=10)
    local = 0
    for _ in range(increments):
        local += 1  # private to this process: no lock needed
    with lock:
        counter.value += local


def add_one(counter, lock, timeout: float) -> bool:
    """Add 1 to counter.value under lock; return False if the lock was not free within timeout s."""
    if not lock.acquire(timeout=timeout):
        return False
    try:
        counter.value += 1
    finally:
        lock.release()
    return True


def add_twice(counter, lock, timeout: float = 1.0) -> bool:
    """Hold lock and, while holding it, call add_one (which takes lock again) twice."""
    with lock:
        return add_one(counter, lock, timeout) and add_one(counter, lock, timeout)


class LockReport(NamedTuple):
    """What take_two_locks reports: did worker name get both locks, and after how many seconds."""

    name: str
    got_both: bool
    seconds: float


def take_two_locks(first, second, name: str, results, hold=None, timeout: float = 1.0) -> None:
    """Take first, then second, waiting at most timeout s for each; put a LockReport on results."""
    began = time.perf_counter()
    if not first.acquire(timeout=timeout):
        results.put(LockReport(name, False, time.perf_counter() - began))
        return
    try:
        if hold is not None:
            hold.wait(timeout=10)  # a Barrier, for the demo: everyone holds its first lock now
        got_both = second.acquire(timeout=timeout)  # without a timeout, a deadlock waits forever
        seconds = time.perf_counter() - began
        if got_both:
            second.release()
        if hold is not None:
            hold.wait(timeout=10)  # nobody lets go of its first lock until all have tried
    finally:
        first.release()
    results.put(LockReport(name, got_both, seconds))


def add_with_lock_task(lock, counter, increments: int) -> int:
    """Pool task: add 1 to counter.value increments times under lock; return increments."""
    add_with_lock(lock, counter, increments)
    return increments


LOCK = None  # set in each pool worker by install_shared
COUNTER = None


def install_shared(lock, counter) -> None:
    """Pool initializer: keep the lock and the counter in this worker's module-level variables."""
    global LOCK, COUNTER
    LOCK, COUNTER = lock, counter


def add_with_installed_lock(increments: int) -> int:
    """Pool task: add 1 to the installed COUNTER increments times under the installed LOCK."""
    add_with_lock(LOCK, COUNTER, increments)
    return increments


# --- chapter 08: signals -----------------------------------------------------------------


def use_resource(semaphore, name: str, seconds: float, results, timeout: float = 10.0, ready=None) -> None:
    """Wait for semaphore, hold it for seconds, release it; put a waiting and a using Span on results."""
    if ready is not None:
        ready.wait(timeout)  # a Barrier: all ask at the same moment, however late each one started
    asked = now()
    if not semaphore.acquire(timeout=timeout):
        raise TimeoutError(f"{name} waited {timeout:g} s for the semaphore")
    try:
        got = now()
        time.sleep(seconds)  # use the resource
        done = now()  # read the clock before releasing: the next holder starts after this
    finally:
        semaphore.release()
    results.put(Span(name, "waiting", asked, got))
    results.put(Span(name, "using", got, done))


def work_until_stopped(start, stop, name: str, results, timeout: float = 10.0, ready=None) -> None:
    """Wait for the Event start, then work in small steps until the Event stop is set; report."""
    if ready is not None:
        ready.wait(timeout)  # a Barrier: the parent learns that every worker has started
    began = now()
    if not start.wait(timeout):  # False: the signal did not come in time
        raise TimeoutError(f"{name} waited {timeout:g} s for the start signal")
    working = now()
    steps = 0
    while True:
        sum(i * i for i in range(2_000))  # one small step of work
        steps += 1
        if stop.is_set() or now() - working > timeout:  # look at the flag between steps
            break
    results.put(Span(name, "waiting", began, working))
    results.put(Span(name, "working", working, now()))
    results.put((name, steps))


def wait_for_level(condition, level, needed: int, name: str, results, timeout: float = 10.0) -> None:
    """Wait with condition until level.value >= needed; put (name, needed, level seen or None) on results."""
    with condition:
        ready = condition.wait_for(lambda: level.value >= needed, timeout=timeout)
        seen = level.value if ready else None  # None: still too low at the timeout
    results.put((name, needed, seen))


def phased_work(barrier, name: str, durations: Sequence[float], results, timeout: float = 10.0) -> None:
    """Work durations[i] seconds in phase i + 1, then wait at barrier; put the Spans on results."""
    barrier.wait(timeout)  # the starting gate: phase 1 begins together, however late each one started
    for phase, seconds in enumerate(durations, start=1):
        begin = now()
        time.sleep(seconds)  # this worker's part of the phase
        arrived = now()
        barrier.wait(timeout)  # BrokenBarrierError if the others do not come in time
        results.put(Span(name, f"phase {phase}", begin, arrived))
        results.put(Span(name, "wait", arrived, now()))

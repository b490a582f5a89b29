"""Workers and tools for coordinating processes: locks, semaphores, events, conditions, barriers.

Every function a chapter hands to ``Process``, ``Pool`` or an executor lives here,
because a child started with ``spawn`` or ``forkserver`` imports the function it runs.
The synchronisation objects (``Lock``, ``Barrier`` ...) are created by the parent and
passed to the children as arguments, which is how ``multiprocessing`` shares them.

Workers report back by putting small picklable objects (numbers, tuples,
:class:`helpers.timeline.Span`) on a queue the parent gives them; the parent collects
them with :func:`collect` *before* it joins the processes (:func:`join_all`).
"""

from __future__ import annotations

import multiprocessing
import platform
import queue as queue_module
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from helpers.timeline import Span, max_concurrency, now

# ---------------------------------------------------------------------------
# Checking arguments
# ---------------------------------------------------------------------------


def _check_int(name: str, value: object, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` if it is an int in ``[minimum, maximum]``; else raise with a clear message.

    >>> _check_int("workers", 3)
    3
    >>> _check_int("workers", 0)
    Traceback (most recent call last):
    ...
    ValueError: workers must be an int >= 1, got 0
    """
    allowed = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int {allowed}, got {type(value).__name__} {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an int {allowed}, got {value!r}")
    return value


def _check_seconds(name: str, value: object, maximum: float = 600.0) -> float:
    """Return ``value`` as a float if it is a number of seconds in ``(0, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__} {value!r}")
    if not 0 < value <= maximum:
        raise ValueError(f"{name} must be more than 0 and at most {maximum:g} seconds, got {value!r}")
    return float(value)


# ---------------------------------------------------------------------------
# Plumbing for the parent: collect reports, join with a deadline
# ---------------------------------------------------------------------------


def collect(results, count: int, timeout: float = 10.0) -> list:
    """Return ``count`` items taken from the queue ``results``, waiting at most ``timeout`` s in all.

    Call it *before* joining the processes that put the items: a child that still
    has data in a queue's buffer does not exit until the data has been taken.
    Raises ``TimeoutError`` naming how many items arrived if the rest do not come in time.
    """
    _check_int("count", count, minimum=0)
    deadline = time.monotonic() + _check_seconds("timeout", timeout)
    items = []
    while len(items) < count:
        try:
            items.append(results.get(timeout=max(0.0, deadline - time.monotonic())))
        except queue_module.Empty:
            raise TimeoutError(
                f"only {len(items)} of {count} results arrived within {timeout:g} s: "
                "did a worker fail or wait forever? Look at the processes' exit codes."
            ) from None
    return items


def join_all(processes: Iterable[multiprocessing.process.BaseProcess], timeout: float = 10.0) -> list[int]:
    """Join every process, waiting at most ``timeout`` seconds in all; return their exit codes.

    A process still running at the deadline is terminated (so nothing is left
    behind) and ``TimeoutError`` names it: a mistake fails in seconds, never hangs.
    """
    processes = list(processes)
    deadline = time.monotonic() + _check_seconds("timeout", timeout)
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = [p for p in processes if p.is_alive()]
    for process in stuck:
        process.terminate()
    for process in stuck:
        process.join(timeout=5)
    if stuck:
        names = ", ".join(p.name for p in stuck)
        raise TimeoutError(f"still running after {timeout:g} s, so terminated: {names}")
    return [p.exitcode for p in processes]


# ---------------------------------------------------------------------------
# 1. A race you can see: increments of a shared Value
# ---------------------------------------------------------------------------


def _wait_for_start(start, timeout: float) -> None:
    """Wait on the Barrier ``start`` (if any) so that all workers begin at the same moment."""
    if start is not None:
        start.wait(timeout)  # raises threading.BrokenBarrierError after ``timeout`` s


def add_unlocked(counter, increments: int, start=None, timeout: float = 10.0) -> None:
    """Add 1 to ``counter.value`` ``increments`` times WITHOUT holding a lock (racy on purpose).

    ``counter.value += 1`` reads the value, adds one, and writes it back: three
    steps. If another process writes in between, one of the two updates is lost.
    ``start`` is an optional ``Barrier`` that releases all workers together.
    Returns ``None``: the result is in ``counter``.
    """
    _check_int("increments", increments, minimum=0)
    _wait_for_start(start, timeout)
    for _ in range(increments):
        counter.value += 1


def add_with_value_lock(counter, increments: int, start=None, timeout: float = 10.0) -> None:
    """Add 1 to ``counter.value`` ``increments`` times, each time holding the Value's own lock.

    ``counter`` must be a synchronized ``multiprocessing.Value`` (the default,
    ``lock=True``), which has ``get_lock()``. Returns ``None``.
    """
    _check_int("increments", increments, minimum=0)
    if not hasattr(counter, "get_lock"):
        raise TypeError("counter has no lock of its own: create it with Value(..., lock=True), the default")
    _wait_for_start(start, timeout)
    for _ in range(increments):
        with counter.get_lock():
            counter.value += 1


def add_with_lock(lock, counter, increments: int, start=None, timeout: float = 10.0) -> None:
    """Add 1 to ``counter.value`` ``increments`` times, each time inside ``with lock:``.

    ``lock`` is any lock the parent shares (``Lock``, ``RLock``, a Manager's
    ``Lock()`` proxy); every worker must get the *same* lock. ``counter`` is
    anything with a ``value`` attribute. Returns ``None``.
    """
    _check_int("increments", increments, minimum=0)
    _wait_for_start(start, timeout)
    for _ in range(increments):
        with lock:
            counter.value += 1


def check_counter(total: object, workers: int, increments: int) -> bool:
    """Exercise check: is ``total`` what ``workers`` processes adding ``increments`` each must give?"""
    from helpers.exercises import feedback

    expected = _check_int("workers", workers) * _check_int("increments", increments, minimum=0)
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


# ---------------------------------------------------------------------------
# 2. What locking costs
# ---------------------------------------------------------------------------

STRATEGIES = ("lock each increment", "count locally, lock once")

_shared: dict[str, Any] = {}  # what install_shared gives each pool worker


def install_shared(lock, counter, start=None) -> None:
    """Pool ``initializer``: keep the ``lock``, ``counter`` (and optional Barrier ``start``) in this worker.

    Objects passed through ``initargs`` travel to the worker when it starts, the
    way ``multiprocessing`` allows for locks (by inheritance, not in a task).
    Returns ``None``.
    """
    _shared.update(lock=lock, counter=counter, start=start)


def _installed(name: str):
    try:
        return _shared[name]
    except KeyError:
        raise RuntimeError(
            "this worker has no shared lock and counter: create the pool with "
            "initializer=install_shared, initargs=(lock, counter)"
        ) from None


def add_with_installed_lock(increments: int) -> int:
    """Pool task: add 1 to the installed counter ``increments`` times under the installed lock.

    Needs a pool made with ``initializer=install_shared``. Returns ``increments``
    (how many this task added), so the parent can check the total.
    """
    add_with_lock(_installed("lock"), _installed("counter"), increments)
    return increments


def _lock_each(lock, counter, increments: int) -> None:
    for _ in range(increments):
        with lock:
            counter.value += 1


def _local_then_once(lock, counter, increments: int) -> None:
    local = 0
    for _ in range(increments):
        local += 1
    with lock:
        counter.value += local


def timed_strategy(strategy: str, increments: int) -> float:
    """Pool task: add ``increments`` to the installed counter with ``strategy``; return the seconds taken.

    ``strategy`` is one of :data:`STRATEGIES`. If the pool was given a Barrier,
    every task waits on it first, so that the workers contend for the lock.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    _check_int("increments", increments)
    lock, counter = _installed("lock"), _installed("counter")
    _wait_for_start(_shared.get("start"), 30.0)
    begin = time.perf_counter()
    (_lock_each if strategy == STRATEGIES[0] else _local_then_once)(lock, counter, increments)
    return time.perf_counter() - begin


def measure_locking_cost(
    sizes: Sequence[int] = (1_000, 3_000, 10_000, 30_000), workers: int = 2, repeats: int = 3
) -> dict:
    """Time the two :data:`STRATEGIES` on ``workers`` processes for each number of increments in ``sizes``.

    Returns ``{"sizes": [...], "workers": w, strategy: [seconds per size] ...}``:
    for each size, the best of ``repeats`` runs of the slowest worker (the time
    until the last worker is done). Raises ``RuntimeError`` if a total is ever
    wrong. The book runs small sizes so that a chapter executes quickly; pass
    e.g. ``sizes=(1_000, 10_000, 100_000, 1_000_000)`` for a fuller curve.
    """
    sizes = [_check_int(f"sizes[{i}]", n, maximum=10_000_000) for i, n in enumerate(sizes)]
    if not sizes:
        raise ValueError("sizes must not be empty")
    _check_int("workers", workers, maximum=64)
    _check_int("repeats", repeats, maximum=100)
    lock = multiprocessing.Lock()
    counter = multiprocessing.Value("q", 0, lock=False)  # the Lock above protects it
    start = multiprocessing.Barrier(workers)
    result: dict = {"sizes": sizes, "workers": workers, **{s: [] for s in STRATEGIES}}
    with multiprocessing.Pool(workers, initializer=install_shared, initargs=(lock, counter, start)) as pool:
        for n in sizes:
            for strategy in STRATEGIES:
                runs = []
                for _ in range(repeats):
                    counter.value = 0
                    seconds = pool.starmap_async(timed_strategy, [(strategy, n)] * workers, chunksize=1).get(120)
                    if counter.value != workers * n:
                        raise RuntimeError(f"{strategy!r} counted {counter.value}, expected {workers * n}")
                    runs.append(max(seconds))
                result[strategy].append(min(runs))
    return result


def machine_label() -> str:
    """Return a short description of this machine for figure titles, e.g. ``'2 CPUs, Python 3.11.9, Linux'``.

    The CPU count is :func:`helpers.machine.effective_cpus`: the CPUs this process can really use.
    """
    from helpers.machine import effective_cpus

    cpus = effective_cpus()
    return f"{cpus} CPU{'s' if cpus != 1 else ''}, Python {platform.python_version()}, {platform.system()}"


def plot_locking_cost(result: dict, ax=None):
    """Draw :func:`measure_locking_cost`'s result (seconds against increments, log-log); return the Axes."""
    import matplotlib.pyplot as plt

    missing = [key for key in ("sizes", "workers", *STRATEGIES) if key not in result]
    if missing:
        raise ValueError(f"result lacks {missing}: pass what measure_locking_cost returned")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    for strategy, marker in zip(STRATEGIES, "os"):
        ax.plot(result["sizes"], result[strategy], marker=marker, label=strategy)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"increments per worker ({result['workers']} workers)")
    ax.set_ylabel("time until all done (s)")
    ax.set_title(f"What a lock per increment costs\n{machine_label()}", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    ax.figure.tight_layout()
    return ax


def check_lock_acquisitions(answer: object, workers: int = 4, increments: int = 10_000) -> bool:
    """Exercise check: ``answer`` maps each of :data:`STRATEGIES` to how often the lock is taken in all."""
    from helpers.exercises import feedback

    right = {STRATEGIES[0]: workers * increments, STRATEGIES[1]: workers}
    if not isinstance(answer, dict) or set(answer) != set(STRATEGIES):
        return feedback(False, "", f"Give a dict with exactly the keys {list(STRATEGIES)}; you gave {answer!r}.")
    wrong = [s for s in STRATEGIES if answer[s] != right[s]]
    return feedback(
        not wrong,
        f"Right: {right[STRATEGIES[0]]:,} acquisitions against {right[STRATEGIES[1]]}: "
        "that difference is what the figure measures.",
        f"Look again at {wrong[0]!r}: how many times does ONE worker enter `with lock:`, "
        f"and how many workers are there?" if wrong else "",
    )


# ---------------------------------------------------------------------------
# 3. RLock: taking a lock you already hold
# ---------------------------------------------------------------------------


def _add_one(counter, lock, timeout: float) -> bool:
    """Add 1 to ``counter.value`` under ``lock``; return False if the lock was not free within ``timeout``."""
    if not lock.acquire(timeout=timeout):
        return False
    try:
        counter.value += 1
    finally:
        lock.release()
    return True


def add_twice(counter, lock, timeout: float = 1.0) -> bool:
    """Hold ``lock`` and, while holding it, call a function that takes ``lock`` again, twice.

    With an ``RLock`` the inner acquisitions succeed (the holder may re-enter) and
    ``counter.value`` grows by 2; returns True. With a plain ``Lock`` the inner
    acquisition waits for a lock its own caller holds: it would wait forever, so
    it gives up after ``timeout`` seconds, the counter is unchanged, and this
    returns False.
    """
    timeout = _check_seconds("timeout", timeout)
    with lock:
        return _add_one(counter, lock, timeout) and _add_one(counter, lock, timeout)


# ---------------------------------------------------------------------------
# 3. Semaphore: at most k at a time
# ---------------------------------------------------------------------------


def use_resource(semaphore, name: str, seconds: float, results, timeout: float = 10.0) -> None:
    """Wait for ``semaphore``, hold it for ``seconds``, release it; report two Spans.

    Puts ``Span(name, "waiting", ...)`` (from the worker's start until it got the
    semaphore) and ``Span(name, "using", ...)`` (while it held it) on ``results``.
    Raises ``TimeoutError`` if the semaphore is not free within ``timeout`` seconds.
    """
    seconds = _check_seconds("seconds", seconds, maximum=60)
    asked = now()
    if not semaphore.acquire(timeout=timeout):
        raise TimeoutError(f"{name} waited {timeout:g} s for the semaphore")
    try:
        got = now()
        time.sleep(seconds)
        done = now()  # read the clock before releasing, so spans of holders never overlap falsely
    finally:
        semaphore.release()
    results.put(Span(name, "waiting", asked, got))
    results.put(Span(name, "using", got, done))


def holders_at_once(spans: Iterable[Span]) -> int:
    """Return the largest number of ``"using"`` spans that overlap: how many held the semaphore at once.

    >>> holders_at_once([Span("a", "using", 0, 2), Span("b", "using", 1, 3), Span("c", "waiting", 0, 3)])
    2
    """
    using = [s for s in spans if s.label == "using"]
    if not using:
        raise ValueError('spans has no "using" span: pass what the use_resource workers reported')
    return max_concurrency(using)


def check_semaphore_spans(spans: object, k: int, workers: int) -> bool:
    """Exercise check: do ``spans`` show ``workers`` workers that each used the resource, at most ``k`` at once?"""
    from helpers.exercises import feedback

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


# ---------------------------------------------------------------------------
# 3. Event: a start signal and a stop flag
# ---------------------------------------------------------------------------


def work_until_stopped(start, stop, name: str, results, timeout: float = 10.0) -> None:
    """Wait for the Event ``start``, then work in small steps until the Event ``stop`` is set.

    The worker looks at ``stop`` after each step, so it always finishes at least
    one step and stops within one step of the flag being set. Puts
    ``Span(name, "waiting", ...)`` (process start until the start signal),
    ``Span(name, "working", ...)`` and then ``(name, steps)`` (how many steps it
    finished) on ``results``. Raises ``TimeoutError`` if ``start`` is not set
    within ``timeout`` seconds, and stops by itself after ``timeout`` seconds of
    work if ``stop`` never comes.
    """
    timeout = _check_seconds("timeout", timeout)
    began = now()
    if not start.wait(timeout):
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


# ---------------------------------------------------------------------------
# 3. Condition: wait until shared state is right
# ---------------------------------------------------------------------------


def wait_for_level(condition, level, needed: int, name: str, results, timeout: float = 10.0) -> None:
    """Wait, with ``condition``, until ``level.value >= needed``; put ``(name, needed, seen)`` on ``results``.

    ``seen`` is the level this worker saw when it woke up, or ``None`` if it was
    still too low after ``timeout`` seconds. ``level`` must only change while
    its writer holds ``condition``, and the writer must call ``notify_all()``.
    """
    _check_int("needed", needed, minimum=0)
    timeout = _check_seconds("timeout", timeout)
    with condition:
        ready = condition.wait_for(lambda: level.value >= needed, timeout=timeout)
        seen = level.value if ready else None
    results.put((name, needed, seen))


# ---------------------------------------------------------------------------
# 3. Barrier: work in phases
# ---------------------------------------------------------------------------


def phased_work(barrier, name: str, durations: Sequence[float], results, timeout: float = 10.0) -> None:
    """Do one phase per entry of ``durations`` (a sleep of that many seconds), meeting at ``barrier`` after each.

    Puts ``Span(name, "phase N", ...)`` for the work and ``Span(name, "wait", ...)``
    for the time spent waiting at the barrier. Raises
    ``threading.BrokenBarrierError`` if the others do not arrive within ``timeout`` s.
    """
    if not durations:
        raise ValueError("durations must not be empty: give one duration per phase")
    durations = [_check_seconds(f"durations[{i}]", d, maximum=60) for i, d in enumerate(durations)]
    for phase, seconds in enumerate(durations, start=1):
        begin = now()
        time.sleep(seconds)
        arrived = now()
        barrier.wait(timeout)
        results.put(Span(name, f"phase {phase}", begin, arrived))
        results.put(Span(name, "wait", arrived, now()))


def phases_in_order(spans: Iterable[Span]) -> bool:
    """Return True if no ``"phase N+1"`` span starts before every ``"phase N"`` span has ended.

    >>> phases_in_order([Span("a", "phase 1", 0, 1), Span("b", "phase 1", 0, 2), Span("a", "phase 2", 2, 3)])
    True
    >>> phases_in_order([Span("a", "phase 1", 0, 1), Span("b", "phase 1", 0, 2), Span("a", "phase 2", 1, 3)])
    False
    """
    by_phase: dict[int, list[Span]] = {}
    for span in spans:
        if span.label.startswith("phase "):
            by_phase.setdefault(int(span.label.split()[1]), []).append(span)
    phases = sorted(by_phase)
    return all(
        max(s.end for s in by_phase[a]) <= min(s.start for s in by_phase[b]) for a, b in zip(phases, phases[1:])
    )


# ---------------------------------------------------------------------------
# 4. Deadlock: two locks, two orders
# ---------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class LockReport:
    """What :func:`take_two_locks` reports: did worker ``name`` get both locks, and how long it tried (s)."""

    name: str
    got_both: bool
    seconds: float


def take_two_locks(first, second, name: str, results, hold=None, timeout: float = 1.0) -> None:
    """Take ``first``, then ``second``, each waiting at most ``timeout`` seconds; report a :class:`LockReport`.

    ``hold`` is an optional Barrier that makes the deadlock certain for the demo:
    every worker waits on it once it holds its first lock (so each holds what
    another needs), and again before letting go (so that one worker giving up
    does not hand its lock to another). Without ``acquire(timeout=...)`` such
    workers would wait for each other forever.
    """
    timeout = _check_seconds("timeout", timeout)
    began = time.perf_counter()
    if not first.acquire(timeout=timeout):
        results.put(LockReport(name, False, time.perf_counter() - began))
        return
    try:
        if hold is not None:
            hold.wait(timeout + 10)
        got_both = second.acquire(timeout=timeout)
        seconds = time.perf_counter() - began
        if got_both:
            second.release()
        if hold is not None:
            hold.wait(timeout + 10)
    finally:
        first.release()
    results.put(LockReport(name, got_both, seconds))


NEEDS = ((0, 1), (1, 2), (2, 0))  # the exercise's three workers and the locks each needs


def check_lock_order(pairs: object, reports: object, needs: Sequence[tuple[int, int]] = NEEDS) -> bool:
    """Exercise check: do the lock ``pairs`` (index of first, index of second) give worker ``i`` the
    locks ``needs[i]``, in one global order, and did every :class:`LockReport` get both locks?"""
    from helpers.exercises import feedback

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


# ---------------------------------------------------------------------------
# 5. Pool workers
# ---------------------------------------------------------------------------


def add_with_lock_task(lock, counter, increments: int) -> int:
    """Pool task: add 1 to ``counter.value`` ``increments`` times under ``lock``; return ``increments``.

    The lock and counter come in the task's arguments, so they must be
    picklable proxies (from a ``Manager``): a plain ``multiprocessing.Lock``
    here fails with ``RuntimeError: Lock objects should only be shared between
    processes through inheritance``.
    """
    add_with_lock(lock, counter, increments)
    return increments


__all__ = [
    "LockReport",
    "NEEDS",
    "STRATEGIES",
    "add_twice",
    "add_unlocked",
    "add_with_installed_lock",
    "add_with_lock",
    "add_with_lock_task",
    "add_with_value_lock",
    "check_counter",
    "check_lock_acquisitions",
    "check_lock_order",
    "check_semaphore_spans",
    "collect",
    "holders_at_once",
    "install_shared",
    "join_all",
    "machine_label",
    "measure_locking_cost",
    "phased_work",
    "phases_in_order",
    "plot_locking_cost",
    "take_two_locks",
    "timed_strategy",
    "use_resource",
    "wait_for_level",
    "work_until_stopped",
]

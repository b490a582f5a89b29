"""Exercise checks for the chapters on messages (03) and shared memory (04).

Each check prints one line, ✅ or ❌ with a hint that does not give the answer
away, and returns a bool. The checks of the learner's own workers
(:func:`check_sentinel_consumer`, :func:`check_segment_filler`) build what the
worker needs (queues, a segment), run it in a child with
:func:`helpers.lab.exercises.run_worker` and look at what it left behind.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Mapping, Sequence
from multiprocessing import shared_memory

from helpers.lab.args import check_int, check_seconds
from helpers.lab.exercises import failure_hint, feedback, not_answered, run_worker
from helpers.lab.ipc import expected_items, in_order_per_producer
from helpers.lab.results import collect

# --- chapter 03: messages ------------------------------------------------------------------


def check_all_received(received: object, producers: Sequence[str] = ("A", "B"), count: int = 4) -> bool:
    """Did the consumers, together, receive every item, each consumer in order per producer?

    ``received`` maps each consumer's name to the list of items it received, or to
    the error a consumer reported instead (``consume_until_sentinel`` on a timeout).
    """
    errors = received.items() if isinstance(received, Mapping) else ()
    failed = [(name, value) for name, value in errors if isinstance(value, BaseException)]
    if failed:
        name, error = failed[0]
        return feedback(False, "", f"Consumer {name!r} reported {type(error).__name__}: {error}. "
                                   "Did every consumer get its own sentinel, soon after all producers finished?")
    if not isinstance(received, Mapping) or not all(isinstance(v, list) for v in received.values()):
        return feedback(False, "", "Give a dict: consumer name -> list of the items that consumer received.")
    everything = [item for items in received.values() for item in items]
    expected = expected_items(producers, count)
    if sorted(everything) != expected:
        missing = sorted(set(expected) - set(everything))
        return feedback(
            False, "",
            f"The consumers received {len(everything)} items, {len(expected)} were put"
            + (f"; missing for example {missing[:3]}" if missing else "")
            + ". Did every consumer get its own sentinel, after all producers finished?",
        )
    if not all(in_order_per_producer(items) for items in received.values()):
        return feedback(False, "", "Some consumer received a producer's items out of order: are you sorting or reordering them?")
    return feedback(
        True,
        f"Right: {len(expected)} items, none lost, each consumer saw every producer's items in the order they were put.",
        "",
    )


def check_deadlock_prediction(answer: object) -> bool:
    """``answer`` maps a result size in bytes to True if joining before reading hangs."""
    right = {100: False, 10_000_000: True}
    if not isinstance(answer, Mapping) or set(answer) != set(right):
        return feedback(False, "", "Give a dict with the keys 100 and 10_000_000, each True (hangs) or False.")
    wrong = [size for size in right if answer[size] is not right[size]]
    return feedback(
        not wrong,
        "Right: 100 bytes fit in the pipe's buffer, so the feeder thread finishes and the child exits; "
        "10 MB do not, so the child waits for a reader.",
        f"Not quite for {wrong}: how much can the pipe hold before somebody reads?",
    )


def check_square_responses(responses: object) -> bool:
    """Are ``responses`` the server's answers to squaring 1 to 5, in order?"""
    right = [("ok", n * n) for n in range(1, 6)]
    if not isinstance(responses, list):
        return feedback(False, "", f"Give a list of the five responses, got a {type(responses).__name__}.")
    return feedback(
        responses == right,
        "Right: a Pipe keeps order, so five requests sent at once get their five responses in the same order.",
        f"Expected five responses like ('ok', 1), ('ok', 4) ...; got {responses!r}.",
    )


CROSSING_OBJECTS = (
    "a dict of lists",
    "a lambda",
    "helpers.messages.produce",
    "a generator",
    "a NumPy array",
    "a multiprocessing.Lock",
)
"""The objects of the pickling exercise, in the order the exercise lists them."""


def check_crosses(answer: object) -> bool:
    """``answer`` maps each of :data:`CROSSING_OBJECTS` to True if it can be pickled and sent."""
    right = dict(zip(CROSSING_OBJECTS, (True, False, True, False, True, False)))
    if not isinstance(answer, Mapping) or set(answer) != set(right):
        return feedback(False, "", f"Give a dict with exactly these keys: {', '.join(CROSSING_OBJECTS)}.")
    wrong = [name for name in CROSSING_OBJECTS if answer[name] is not right[name]]
    return feedback(
        not wrong,
        "Right: data and importable functions pickle; lambdas, generators and locks sent through a queue or pipe do not.",
        f"Not quite: look again at {', '.join(wrong)}. Try pickle.dumps on each.",
    )


def check_sentinel_consumer(module: str, function: str = "take_until_sentinel", *, timeout: float = 20.0) -> bool:
    """Run the learner's consumer ``module.function(items, results)`` in a child and check it.

    A thread of this process puts five items on ``items``, 0.2 s apart, and then
    the sentinel ``None``. The consumer must take them all, stop at the sentinel
    (not before, not never), and put the list of items it took on ``results``.
    """
    timeout = check_seconds("timeout", timeout, 1, 600)
    sent = expected_items(["A"], 5)
    if not_answered(module):
        return False
    items, results = multiprocessing.Queue(), multiprocessing.Queue()
    sentinel_put = threading.Event()

    def feed() -> None:
        for item in sent:
            time.sleep(0.2)
            items.put(item)
        sentinel_put.set()  # before the put: a right consumer can only return after it
        items.put(None)

    feeder = threading.Thread(target=feed, daemon=True, name="check_sentinel_consumer")
    feeder.start()
    try:
        kind, detail = run_worker(module, function, [(items, results)], timeout=timeout)
        stopped_early = not sentinel_put.is_set()
        feeder.join(timeout=10)
        if kind == "timeout":
            return feedback(False, "", f"{detail} Does it stop when it takes None?")
        if kind != "ran":
            return feedback(False, "", failure_hint(module, kind, detail))
        status, value = detail[0]
        if status == "raised":
            return feedback(False, "", f"In a child process, {function}(items, results) raised {value}.")
        try:
            [received] = collect(results, 1, timeout=3)
        except TimeoutError:
            return feedback(False, "", f"{function} returned without putting the list of items it took on results.")
        if stopped_early:
            return feedback(False, "", f"{function} stopped before the sentinel was put, with {received!r}: "
                                       "did it stop on empty() or on a short timeout? Only None means 'no more items'.")
        if received != sent:
            return feedback(False, "", f"It put {received!r} on results; expected the five items {sent!r}, without the None.")
        return feedback(True, f"{module}.{function} took all five items, in order, and stopped at the sentinel.", "")
    finally:
        for q in (items, results):
            q.close()


# --- chapter 04: shared memory -------------------------------------------------------------


def check_scaled(result: object) -> bool:
    """Is ``result`` the numbers 1 to 8 times 10, read out of the shared segment in time?"""
    try:
        values = [int(v) for v in result]
    except Exception:
        return feedback(False, "", f"Give the scaled numbers as a list (or an array), got {result!r}.")
    return feedback(
        values == [10 * n for n in range(1, 9)],
        "Right: the child scaled the numbers in place, and you copied them out before the manager freed the segment.",
        f"Expected 10, 20 ... 80, got {values}. Did the child run to the end, and did you copy before the with block ended?",
    )


def check_segment_filler(module: str, function: str = "fill_segment", count: int = 8, *, timeout: float = 20.0) -> bool:
    """Run the learner's ``module.function(name, count)`` in a child on a fresh segment and check it.

    The segment holds ``count`` int64 numbers, all -1 at first. The worker must
    attach to it by name, write ``i * i`` into number ``i``, and leave the segment
    to its creator (this check), which unlinks it.
    """
    import numpy as np

    check_int("count", count, 1, 10_000)
    timeout = check_seconds("timeout", timeout, 1, 600)
    if not_answered(module):
        return False
    segment = shared_memory.SharedMemory(create=True, size=8 * count)
    unlinked_by_worker = False
    try:
        segment.buf[:] = np.full(count, -1, dtype=np.int64).tobytes()
        kind, detail = run_worker(module, function, [(segment.name, count)], timeout=timeout)
        values = np.frombuffer(bytes(segment.buf[: 8 * count]), dtype=np.int64).tolist()  # a copy
    finally:
        segment.close()
        try:
            segment.unlink()
        except FileNotFoundError:
            unlinked_by_worker = True
    if kind != "ran":
        return feedback(False, "", failure_hint(module, kind, detail))
    status, value = detail[0]
    if status == "raised":
        return feedback(False, "", f"In a child process, {function}({segment.name!r}, {count}) raised {value}.")
    if unlinked_by_worker:
        return feedback(False, "", "Your worker unlinked the segment: only its creator should; a worker calls close().")
    expected = [i * i for i in range(count)]
    if values == [-1] * count:
        return feedback(False, "", "The segment still holds what the parent put there (-1 everywhere): "
                                   "did your worker attach to it by name and write into it?")
    if values != expected:
        return feedback(False, "", f"The segment holds {values}; expected {expected}. Is the dtype int64?")
    return feedback(True, f"{module}.{function} attached by name and wrote the {count} squares the parent now sees.", "")


def check_crossover(answer: object, rows) -> bool:
    """The smallest size in ``rows`` at which shared memory moved more MB/s than Queue (or None)."""
    queue_rate = {r.size: r.mb_per_s for r in rows if r.transport == "queue"}
    shm_rate = {r.size: r.mb_per_s for r in rows if r.transport == "shared_memory"}
    faster = sorted(size for size in shm_rate if size in queue_rate and shm_rate[size] > queue_rate[size])
    right = faster[0] if faster else None
    return feedback(
        answer == right,
        "Right: you read the crossover off this run's measurements (it moves from run to run and machine to machine).",
        f"Not {answer!r}: compare r.mb_per_s of the 'shared_memory' and 'queue' rows size by size.",
    )


# --- chapter 04 recipes: a table for every worker, a result written into shared memory -------

TABLE_SIZE = 1_000  # the lookup table of the pool exercise: the squares of 0..999
RESULT_SIZE = 1_000_000  # the split-result exercise: the square roots of 0..999,999


def _segment_gone(name: object) -> bool:
    """Return True if no segment is called ``name``; a segment still there is unlinked here."""
    if not isinstance(name, str):
        return True
    try:
        left = shared_memory.SharedMemory(name=name)
    except FileNotFoundError:
        return True
    left.close()
    left.unlink()  # the learner's leftover: removed, so that nothing stays behind
    return False


def check_shared_table(sums: object, name: object) -> bool:
    """Did each of 4 tasks sum the whole table of squares, and did the creator unlink the segment?"""
    if not isinstance(name, str):
        return feedback(False, "", "Pass the segment's name as the second argument: segment.name.")
    gone = _segment_gone(name)
    right = float(sum(i * i for i in range(TABLE_SIZE)))
    if not isinstance(sums, list) or len(sums) != 4:
        return feedback(False, "", "Give the list that map_async(sum_dataset, range(4)).get(timeout=30) returned: 4 sums.")
    if any(s != right for s in sums):
        return feedback(False, "", f"Expected every sum to be {right:,.0f}, got {sums}: does the segment hold the "
                                   f"{TABLE_SIZE} squares as float64, and does initargs give its name, shape and dtype?")
    if not gone:
        return feedback(False, "", "The sums are right, but the segment was still there (the check has unlinked it): "
                                   "the process that creates a segment unlinks it, once the workers are done.")
    return feedback(True, "Right: every worker attached once and read the whole table, and its creator unlinked it.", "")


def check_split_result(result: object, name: object) -> bool:
    """Do both halves of the square roots of 0..RESULT_SIZE-1 arrive, and is the segment unlinked?"""
    import numpy as np

    if not isinstance(name, str):
        return feedback(False, "", "Pass the segment's name as the second argument: segment.name.")
    gone = _segment_gone(name)
    if not isinstance(result, np.ndarray) or result.shape != (RESULT_SIZE,):
        return feedback(False, "", f"Give the result as a NumPy array of {RESULT_SIZE:,} numbers (a .copy() of your view).")
    expected = np.sqrt(np.arange(RESULT_SIZE, dtype=np.float64))
    half = RESULT_SIZE // 2
    for part, where in ((slice(0, half), "first"), (slice(half, None), "second")):
        if not np.array_equal(result[part], expected[part]):
            return feedback(False, "", f"The {where} half is wrong: did a task write places "
                                       f"{part.start or 0} to {(part.stop or RESULT_SIZE) - 1}?")
    if not gone:
        return feedback(False, "", "The result is right, but the segment was still there (the check has unlinked it): "
                                   "the parent created it, so the parent unlinks it.")
    return feedback(True, "Right: two workers wrote their halves in place, nothing was pickled back, and the creator unlinked the segment.", "")

"""Faults in workers, for every helper of helpers/lab/ that runs them.

Three faults (tests/faulty.py): a worker killed by SIGKILL mid-task (as the
out-of-memory killer does), a worker that raises, a worker whose result cannot be
pickled. For each, the helper must end within its timeout, say what happened, and
leave nothing behind: no process of this run, no shared-memory segment or semaphore.

Helpers that take the learner's worker (or any function) get the faulty worker.
Helpers whose worker is the book's own (run_workers, measure_locking_cost, the
throughput Sender) take no function to fail with, and return nothing of the
learner's to pickle: their worker is killed from outside, mid-run.
Helpers covered through another: run_bench and sweep_task_sizes (time_once),
bench_panel (run_bench), throughput.run_benchmark (Sender), panel_run (run_workers).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import threading
import time

import pytest

from tests import leak_check
from tests.faulty import FAULTS, MESSAGE, echo, returns_file, returns_lambda, unpicklable
from tests.support import write_module

from helpers.lab import transports
from helpers.lab.bench import time_once
from helpers.lab.chunksize import measure_chunksizes
from helpers.lab.exercises import check_worker, run_worker
from helpers.lab.gil import three_ways
from helpers.lab.ipc_checks import check_segment_filler, check_sentinel_consumer
from helpers.lab.pools import check_initializer
from helpers.lab.processes import check_count_lines, run_workers
from helpers.lab.sync import measure_locking_cost
from helpers.lab.sync_checks import check_event_waiter, check_lock_transfer
from helpers.lab.warmup import start_pool

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="no SIGKILL on this platform")

TIMEOUT = 15.0  # the timeout given to each helper that takes one
HANG_S = 90.0  # past this the helper is taken to hang, and the test fails instead of waiting on

SAYS = {  # what the error, or the printed feedback, must name
    "killed": r"killed by SIGKILL \(exit code -9\)|terminated abruptly",
    "raises": rf"ValueError: {MESSAGE}|^{MESSAGE}$",
    "unpicklable": r"could not be pickled|cannot pickle|Can't pickle|PicklingError",
}


@pytest.fixture
def nothing_left():
    """Fail the test if it leaves a child, a process of this run, or a /dev/shm entry behind."""
    marker = os.environ.get(leak_check.MARKER)
    before = leak_check.snapshot(marker)
    yield
    assert multiprocessing.active_children() == []
    leaks = leak_check.find_leaks(before, marker, settle=5)
    assert not leaks, "left behind:\n" + "\n".join(leaks)


def run_within(func, *args, **kwargs) -> tuple[float, object, BaseException | None]:
    """Call ``func`` in a thread; return (seconds, result, error). A call still running after HANG_S fails the test."""
    box: dict = {}

    def call() -> None:
        try:
            box["result"] = func(*args, **kwargs)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            box["error"] = error

    thread = threading.Thread(target=call, daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(HANG_S)
    if thread.is_alive():
        pytest.fail(f"{getattr(func, '__name__', func)} was still running after {HANG_S:g} s: it hangs")
    return time.monotonic() - start, box.get("result"), box.get("error")


# --------------------------------------------------------- the learner's worker, checked in a child
# Each check prints one line of feedback and returns False for a faulty worker.


def learner_module(folder) -> str:
    return write_module(folder, "faulty_worker", "from tests.faulty import *\n")


CHECKS = {
    "check_worker": lambda m, f: check_worker(m, f, [((2,), 4)], timeout=TIMEOUT),
    "check_initializer": lambda m, f: check_initializer(m, initializer="set_nothing", initargs=(), task=f,
                                                        cases=[((2,), 4)], timeout=TIMEOUT),
    "check_count_lines": lambda m, f: check_count_lines(m, f, timeout=TIMEOUT),
    "check_sentinel_consumer": lambda m, f: check_sentinel_consumer(m, f, timeout=TIMEOUT),
    "check_segment_filler": lambda m, f: check_segment_filler(m, f, timeout=TIMEOUT),
    "check_lock_transfer": lambda m, f: check_lock_transfer(m, f, workers=2, times=10, timeout=TIMEOUT),
    "check_event_waiter": lambda m, f: check_event_waiter(m, f, timeout=TIMEOUT),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("check", CHECKS)
def test_a_check_of_the_learners_worker_says_what_went_wrong(check, fault, workdir, capsys, nothing_left):
    seconds, passed, error = run_within(CHECKS[check], learner_module(workdir), fault)
    out = capsys.readouterr().out
    assert error is None, f"{check} raised {error!r}"
    assert passed is False and out.startswith("❌"), out
    assert re.search(SAYS[fault], out, re.MULTILINE), out
    assert seconds < TIMEOUT, f"{check} took {seconds:.1f} s: it waited out its timeout instead of seeing the fault"


@pytest.mark.parametrize("worker", [unpicklable, returns_lambda, returns_file], ids=["lock", "lambda", "file"])
def test_run_worker_says_a_result_could_not_be_pickled(worker, workdir, nothing_left):
    seconds, (kind, detail), _ = run_within(run_worker, learner_module(workdir), worker.__name__, [(1,)], timeout=TIMEOUT)
    assert kind == "unpicklable", (kind, detail)
    assert f"faulty_worker.{worker.__name__} returned a result that could not be pickled" in detail
    assert seconds < TIMEOUT


# --------------------------------------------------------------------- any function, on a pool


def started_pool(func):
    pool = start_pool("processes", 2, (func, 1))
    pool.terminate()
    pool.join()
    return "started"


POOL_HELPERS = {
    "start_pool": started_pool,  # the fault strikes in the warm-up job
    "time_once": lambda func: time_once("processes", 1, func, [1, 2], warm_job=(echo, 1), timeout=TIMEOUT),
    "three_ways": lambda func: three_ways([1, 2], workers=1, func=func),
    "measure_chunksizes": lambda func: measure_chunksizes(8, [2], processes=1, repeats=1, timeout=TIMEOUT, task=func),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("helper", POOL_HELPERS)
def test_a_pool_helper_fails_at_once_naming_the_fault(helper, fault, nothing_left):
    seconds, result, error = run_within(POOL_HELPERS[helper], FAULTS[fault])
    assert seconds < TIMEOUT, f"{helper} took {seconds:.1f} s: it waited out a timeout instead of seeing the fault"
    if helper == "start_pool" and fault == "unpicklable":
        assert error is None and result == "started"  # a warm-up job's result never travels: only the worker's PID
        return
    assert error is not None, f"{helper} returned {result!r}"
    assert re.search(SAYS[fault], str(error), re.MULTILINE), f"{type(error).__name__}: {error}"


# ---------------------------------------------------------- the book's own workers, killed from outside


def kill_one(find, after: float, stop: threading.Event) -> threading.Thread:
    """Start a thread that waits for ``find()`` to return a process, waits ``after`` seconds more, kills it."""

    def run() -> None:
        while not stop.is_set():
            found = find()
            if found is not None:
                stop.wait(after)
                if not stop.is_set():
                    os.kill(found.pid, signal.SIGKILL)
                return
            stop.wait(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def child_named(pattern: str, count: int = 1):
    def find():
        children = [p for p in multiprocessing.active_children() if re.search(pattern, p.name)]
        return children[0] if len(children) >= count else None

    return find


@pytest.mark.parametrize(
    ("helper", "call", "find"),
    [
        ("run_workers", lambda: run_workers(processes=2, steps=40, step_seconds=0.1, timeout=TIMEOUT),
         child_named("^worker-1$")),
        ("measure_locking_cost", lambda: measure_locking_cost(increments=5_000_000, processes=2, repeats=1),
         child_named("^LockCostWorker-", count=2)),
    ],
    ids=["run_workers", "measure_locking_cost"],
)
def test_a_worker_killed_mid_run_is_named_at_once(helper, call, find, nothing_left):
    stop = threading.Event()
    killer = kill_one(find, 1.0, stop)
    try:
        seconds, result, error = run_within(call)
    finally:
        stop.set()
        killer.join(5)
    assert isinstance(error, ChildProcessError), f"{helper} gave {result!r} / {error!r}"
    assert re.search(SAYS["killed"], str(error)), str(error)
    assert seconds < TIMEOUT, f"{helper} took {seconds:.1f} s"


@pytest.mark.parametrize("transport", [t for t in transports.TRANSPORTS if t != "copy"])
def test_the_throughput_sender_killed_mid_send_is_named_at_once(transport, nothing_left):
    sender = transports.Sender(transport, 1024)
    stop = threading.Event()
    killer = kill_one(lambda: sender.process, 1.5, stop)
    try:
        seconds, result, error = run_within(sender.time_messages, 64, 10**8)
    finally:
        stop.set()
        killer.join(5)
        sender.close()
    assert isinstance(error, ChildProcessError), f"time_messages gave {result!r} / {error!r}"
    assert re.search(SAYS["killed"], str(error)), str(error)
    assert seconds < TIMEOUT

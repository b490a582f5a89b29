"""Run one workload under each way of running Python in parallel, and measure what each costs.

The models are ``serial`` (a loop in this interpreter), ``threads``
(:class:`~concurrent.futures.ThreadPoolExecutor`: GIL-bound, or free-threaded on a
build without the GIL), ``interpreters``
(:class:`~concurrent.futures.InterpreterPoolExecutor`, Python 3.14 and newer) and
``processes`` (:class:`~concurrent.futures.ProcessPoolExecutor`, with the book's
start method). :func:`measure` times a workload under each one that runs here,
start-up apart from the work, and checks that every model returns what the serial
loop returns. :func:`memory_per_worker` measures what one more worker costs in
memory (with psutil), :func:`count_race` runs the lock-free read-add-write of
:func:`helpers.models.add_to_counter` on threads, and :func:`timer_lateness` shows
what a CPU-bound coroutine does to asyncio's event loop.

Stored reference data (a run under another interpreter, such as a free-threaded
build) is written and read by :mod:`helpers.lab.model_reference`, whose command
line is ``python -m helpers.lab.model_reference --save-reference FILE``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import inspect
import multiprocessing
import random
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from helpers.lab.args import check_callable, check_choice, check_int, check_seconds
from helpers.lab.bench_results import Row, gil_enabled, make_row, thread_label
from helpers.lab.provenance import build_label  # noqa: F401 (the chapter's titles name the build)
from helpers.models import add_to_counter, fetch_and_count, primes_below, zero_bytes
from helpers.workloads import wait

MODELS = ("serial", "threads", "interpreters", "processes")
WORKLOADS = ("cpu", "waiting", "data")
WORKLOAD_LABELS = {
    "cpu": "CPU-bound (count primes)",
    "waiting": "waiting (sleep, like I/O)",
    "data": "data-heavy (4 MB in, one int out)",
}
WARM_S = 0.05  # each worker's warm-up task waits this long, so that every worker gets one


def has_interpreters() -> bool:
    """Return True where ``concurrent.futures.InterpreterPoolExecutor`` exists (Python 3.14 and newer)."""
    return hasattr(cf, "InterpreterPoolExecutor")


def available_models() -> tuple[str, ...]:
    """Return the models this interpreter can run: all but ``interpreters`` before 3.14."""
    return tuple(m for m in MODELS if m != "interpreters" or has_interpreters())


def model_label(model: str, gil: bool | None = None) -> str:
    """Return a legend label: threads say whether they run under the GIL (as in the speedup chapter).

    >>> model_label("threads", gil=True), model_label("threads", gil=False)
    ('threads (GIL-bound)', 'threads (free-threaded, no GIL)')
    """
    check_choice("model", model, MODELS)
    return thread_label(gil) if model == "threads" else model


def workload(name: str, tasks: int = 8, scale: float = 1.0) -> tuple[Callable, list]:
    """Return ``(func, task arguments)`` of a workload: ``tasks`` equal tasks, ``scale`` times the default size.

    ``cpu``: :func:`~helpers.models.primes_below` of 50,000 (about 25 ms in pure
    Python); ``waiting``: :func:`~helpers.workloads.wait` of 50 ms; ``data``:
    :func:`~helpers.models.zero_bytes` of a 4 MB block of random bytes (the same
    bytes every time).
    """
    check_choice("workload", name, WORKLOADS)
    check_int("tasks", tasks, 1, 1000)
    if not 0.01 <= scale <= 100:
        raise ValueError(f"scale must be from 0.01 to 100, got {scale!r}")
    if name == "cpu":
        return primes_below, [int(50_000 * scale)] * tasks
    if name == "waiting":
        return wait, [0.05 * scale] * tasks
    rng = random.Random(2026)
    return zero_bytes, [rng.randbytes(int(4_000_000 * scale)) for _ in range(tasks)]


def make_executor(model: str, workers: int) -> cf.Executor:
    """Return a fresh executor of ``model`` with ``workers`` workers (processes use the book's start method)."""
    check_choice("model", model, available_models()[1:])
    check_int("workers", workers, 1, 64)
    if model == "threads":
        return cf.ThreadPoolExecutor(workers)
    if model == "interpreters":
        return cf.InterpreterPoolExecutor(workers)
    from helpers.lab.book import book_start_method

    return cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(book_start_method()))


def start_workers(executor: cf.Executor, workers: int, timeout: float = 60.0) -> None:
    """Give each of ``workers`` workers one short wait, so that all of them are running when it returns."""
    futures = [executor.submit(wait, WARM_S) for _ in range(workers)]
    for future in futures:
        future.result(timeout=timeout)


def time_model(model: str, func: Callable, tasks: Sequence, workers: int = 2,
               timeout: float = 120.0) -> tuple[float, float, list]:
    """Run ``func`` over ``tasks`` once under ``model``; return (work seconds, start-up seconds, results).

    Start-up runs from creating the executor until every worker has finished a
    short warm-up wait (its ``WARM_S`` seconds are taken off); the work is one
    ``executor.map(..., timeout=)`` on running workers. The executor is shut down
    before returning.
    """
    check_choice("model", model, available_models())
    timeout = check_seconds("timeout", timeout, 1, 3600)
    tasks = list(tasks)
    if model == "serial":
        start = time.perf_counter()
        results = [func(t) for t in tasks]
        return time.perf_counter() - start, 0.0, results
    start = time.perf_counter()
    executor = make_executor(model, workers)
    try:
        start_workers(executor, workers, timeout)
        started = time.perf_counter()
        results = list(executor.map(func, tasks, timeout=timeout))
        done = time.perf_counter()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return done - started, max(0.0, started - start - WARM_S), results


@dataclass(frozen=True)
class ModelRun:
    """One workload timed under several models: a :class:`~helpers.lab.bench_results.Row` each (``kind`` is the model)."""

    workload: str
    workers: int
    rows: tuple[Row, ...]
    results: tuple  # the serial loop's results
    gil: bool  # whether threads ran under the GIL

    def row(self, model: str) -> Row:
        """Return the row of ``model``."""
        for row in self.rows:
            if row.kind == model:
                return row
        raise KeyError(f"{model!r} was not measured in this run; measured: {[r.kind for r in self.rows]}")

    def speedup(self, model: str) -> float:
        """Return the serial loop's median time over ``model``'s (start-up not counted)."""
        return self.row("serial").seconds / self.row(model).seconds


def measure(name: str, models: Sequence[str] | None = None, workers: int = 2, repeats: int = 3,
            tasks: int = 8, scale: float = 1.0) -> ModelRun:
    """Time workload ``name`` under each of ``models`` (default: all that run here), ``repeats`` times each.

    The repeats of all models are interleaved, so a burst of load spreads over all of them.
    Raises ``RuntimeError`` if any model's results differ from the serial loop's.
    """
    func, args = workload(name, tasks, scale)
    return measure_func(func, args, models, workers, repeats, name=name)


def measure_func(func: Callable, args: Sequence, models: Sequence[str] | None = None, workers: int = 2,
                 repeats: int = 3, name: str = "yours") -> ModelRun:
    """Time ``func`` over ``args`` under each of ``models`` (any function a worker can import); see :func:`measure`."""
    check_callable("func", func)
    args = list(args)
    if not args:
        raise ValueError("args must hold at least one task")
    models = list(models or available_models())
    for model in models:
        check_choice("model", model, available_models())
    if "serial" not in models:
        models.insert(0, "serial")
    check_int("repeats", repeats, 1, 20)
    samples: dict[str, list[float]] = {m: [] for m in models}
    startups: dict[str, list[float]] = {m: [] for m in models}
    expected = None
    for _ in range(repeats):
        for model in models:
            seconds, startup, results = time_model(model, func, args, workers)
            if expected is None:
                expected = results
            elif results != expected:
                raise RuntimeError(f"{model} returned {results[:3]}..., the serial loop {expected[:3]}...")
            samples[model].append(seconds)
            if model != "serial":
                startups[model].append(startup)
    rows = tuple(make_row(m, 1 if m == "serial" else workers, samples[m], startups[m]) for m in models)
    return ModelRun(name, workers, rows, tuple(expected), gil_enabled())


def describe_run(run: ModelRun) -> list[str]:
    """Return one line per model: median work seconds, speedup over serial, start-up (in aligned columns)."""
    labels = [model_label(row.kind, run.gil) for row in run.rows]
    width = max(map(len, labels))
    return [f"{label:<{width}}  {row.seconds:7.3f} s  {run.speedup(row.kind):5.2f}x"
            f"  (start-up {row.startup * 1000:.0f} ms)" for label, row in zip(labels, run.rows)]


# --------------------------------------------------------------------------- costs


def memory_per_worker(model: str, workers: int = 4, timeout: float = 60.0) -> float:
    """Return the memory one more worker of ``model`` costs, in MB (psutil), while all ``workers`` run.

    Threads and interpreters live in this process: the growth of its resident
    memory (RSS) from before the executor starts, divided by ``workers``. A worker
    process is a process of its own: the mean of the children's unique memory (USS:
    pages no other process shares). Each worker has imported :mod:`helpers.workloads`.
    """
    import psutil

    check_choice("model", model, available_models()[1:])
    me = psutil.Process()
    before = me.memory_info().rss
    executor = make_executor(model, workers)
    try:
        start_workers(executor, workers, timeout)
        if model == "processes":
            children = me.children()
            sizes = [c.memory_full_info().uss for c in children]
            return statistics.mean(sizes) / 1e6 if sizes else float("nan")
        return (me.memory_info().rss - before) / workers / 1e6
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def costs(models: Sequence[str] | None = None, workers: int = 4, repeats: int = 3) -> dict[str, dict[str, float]]:
    """Return ``{model: {"startup_ms": median, "memory_mb": median}}`` for ``workers`` workers of each model.

    Start-up is the time until every worker has run one warm-up task (see :func:`time_model`).
    """
    models = [m for m in (models or available_models()) if m != "serial"]
    check_int("repeats", repeats, 1, 20)
    found = {}
    for model in models:
        startups = [time_model(model, wait, [0.0], workers)[1] for _ in range(repeats)]
        memory = [memory_per_worker(model, workers) for _ in range(repeats)]
        found[model] = {"startup_ms": statistics.median(startups) * 1e3, "memory_mb": statistics.median(memory)}
    return found


# --------------------------------------------------------------------------- limits


def count_race(threads: int = 4, times: int = 500_000, timeout: float = 60.0,
               adder: Callable[[list, int], None] = add_to_counter) -> dict[str, int]:
    """Run ``adder`` (default :func:`helpers.models.add_to_counter`) on ``threads`` threads sharing one list;
    return expected, counted and lost.

    Every read-add-write that another thread's write overtakes is lost. Whether any
    are lost depends on the interpreter (with the GIL, a thread switch must fall
    between the read and the write: :func:`helpers.models.add_through_call` gives
    it a place to fall) and on chance.
    """
    check_int("threads", threads, 1, 64)
    check_int("times", times, 1, 10_000_000)
    check_callable("adder", adder)
    counter = [0]
    workers = [threading.Thread(target=adder, args=(counter, times)) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=timeout)
    if any(t.is_alive() for t in workers):
        raise TimeoutError(f"the counting threads did not finish within {timeout:g} s")
    return {"expected": threads * times, "counted": counter[0], "lost": threads * times - counter[0]}


def import_in_interpreter(module: str) -> str:
    """Import ``module`` in a fresh subinterpreter (3.14+); return ``"imported"`` or the error's last line."""
    from concurrent import interpreters

    if not module.replace(".", "_").isidentifier():
        raise ValueError(f"module must be a module name such as 'numpy', got {module!r}")
    interp = interpreters.create()
    try:
        interp.exec(f"import {module}")
        return "imported"
    except interpreters.ExecutionFailed as error:
        lines = [line.strip() for line in str(error.excinfo.msg).splitlines() if line.strip()]
        return f"{error.excinfo.type.__name__}: {lines[-1] if lines else ''}"
    finally:
        interp.close()


def run_loop(make: Callable, timeout: float = 120.0):
    """Return ``asyncio.run(make())``, run in a thread of its own with at most ``timeout`` seconds.

    A notebook's kernel already runs an event loop in its main thread, where
    ``asyncio.run`` raises ``RuntimeError: asyncio.run() cannot be called from a
    running event loop``; a fresh thread has no loop, so this works in a notebook and in a script.
    """
    timeout = check_seconds("timeout", timeout, 0.1, 3600)
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(make())
        except BaseException as error:  # handed to the caller below
            outcome["error"] = error

    thread = threading.Thread(target=target, name="asyncio loop", daemon=True)
    thread.start()
    thread.join(timeout=timeout)
    if thread.is_alive():
        raise TimeoutError(f"the event loop did not finish within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]


async def _late_timer(delay: float, blocker) -> float:
    loop = asyncio.get_running_loop()
    fired = loop.create_future()
    due = loop.time() + delay
    loop.call_later(delay, lambda: fired.done() or fired.set_result(loop.time()))
    await blocker
    return await asyncio.wait_for(fired, timeout=60) - due


def timer_lateness(work: Callable, seconds: float = 0.3, delay: float = 0.05) -> float:
    """Return how late (seconds) a timer due in ``delay`` s fires while ``await work(seconds)`` runs on the loop.

    ``work`` is an ``async def`` function, such as
    :func:`helpers.models.compute_on_loop` (CPU work in the coroutine itself:
    nothing else on the loop runs until it ends).
    """
    if not inspect.iscoroutinefunction(work):
        raise TypeError(f"work must be an async def function, got {type(work).__name__} {work!r}")
    seconds = check_seconds("seconds", seconds, 0, 10)
    delay = check_seconds("delay", delay, 0, 10)
    return run_loop(lambda: _late_timer(delay, work(seconds)))


async def _mixed(limits: Sequence[int], delay: float, pool) -> list[int]:
    jobs = [fetch_and_count(limit, delay, pool) for limit in limits]
    return list(await asyncio.wait_for(asyncio.gather(*jobs), timeout=120))


def run_mixed(limits: Sequence[int], delay: float = 0.2, workers: int = 2) -> dict[str, object]:
    """Run the mixed work (wait ``delay`` s, then count primes below each limit) one by one and with asyncio.

    ``serial`` waits and computes each item in turn; ``asyncio + processes`` runs
    :func:`helpers.models.fetch_and_count` for all items at once on one event
    loop, each computing in a ``ProcessPoolExecutor`` of ``workers`` (started
    beforehand). Returns the seconds of each and both results.
    """
    limits = [check_int("limit", n, 1, 10_000_000) for n in limits]
    delay = check_seconds("delay", delay, 0, 10)
    start = time.perf_counter()
    serial = []
    for limit in limits:
        time.sleep(delay)
        serial.append(primes_below(limit))
    serial_s = time.perf_counter() - start
    executor = make_executor("processes", workers)
    try:
        start_workers(executor, workers)
        start = time.perf_counter()
        by_asyncio = run_loop(lambda: _mixed(limits, delay, executor))
        asyncio_s = time.perf_counter() - start
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return {"serial_s": serial_s, "asyncio_s": asyncio_s, "serial": serial, "asyncio": by_asyncio}

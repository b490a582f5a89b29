"""Measure speedup: one workload run serially, on thread pools and on process pools.

:func:`run_bench` times a workload of equal tasks for every worker count from 1
up to ``max(4, 2 x effective CPUs)``, serially, on a
:class:`multiprocessing.pool.ThreadPool` and on a :class:`multiprocessing.pool.Pool`.
Each point is repeated (the repeats of all points are interleaved, so a burst
of load from another program spreads over all of them), and the pool's start-up
is timed apart from the work: start-up ends when every worker has answered
(:func:`helpers.warmup.start_pool`), so the work is timed on a pool whose
workers are all running. The answer is a
:class:`BenchResult`, a tidy table of :class:`Row` (kind, workers, seconds:
median, min, max, repeats, start-up) that the plots in
:mod:`helpers.speedup_plots` and the tests use.

The module also holds the arithmetic of Amdahl's and Gustafson's laws, a
least-squares estimate of a run's serial fraction, the exercise checks of the
speedup chapter, and a command line::

    python -m helpers.bench                 # CPU-bound default, figure in _build/bench/
    python -m helpers.bench --help

Nothing here imports matplotlib, NumPy, tqdm or ipywidgets at import time, and
modules only the parent needs (argparse, statistics, platform) are imported
where they are used. The worker processes themselves import only
:mod:`helpers.warmup` and :mod:`helpers.workloads`, so that the start-up being
measured is the pool's, not this module's.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from helpers.machine import effective_cpus
from helpers.warmup import start_pool
from helpers.workloads import count_primes, numpy_sines, wait

KINDS = ("serial", "threads", "processes")
PARALLEL_KINDS = ("threads", "processes")
MAX_WORKERS_LIMIT = 256


# --------------------------------------------------------------------------- workloads


@dataclass(frozen=True)
class Workload:
    """A kind of task the benchmark can run: ``func(task_arg(size))`` is one task."""

    name: str
    label: str  # for figure titles and legends
    func: Callable
    size_unit: str  # what ``size`` counts, for help texts and the panel
    size_range: tuple[int, int]  # allowed sizes, inclusive
    default_size: int
    default_tasks: int
    warm_up_arg: object  # a trivial task each worker runs once during start-up

    def task_arg(self, size: int) -> object:
        """Return the argument one task receives for this ``size``."""
        return size / 1000 if self.func is wait else size


WORKLOADS: dict[str, Workload] = {
    "cpu": Workload(
        "cpu", "count primes (pure Python)", count_primes, "count primes below this number",
        (1, 2_000_000), 60_000, 24, 10,
    ),
    "numpy": Workload(
        "numpy", "NumPy sin (releases the GIL)", numpy_sines, "numpy.sin over 50,000 numbers, this many times",
        (1, 100_000), 200, 24, 1,
    ),
    "io": Workload(
        "io", "waiting (like I/O)", wait, "milliseconds each task waits",
        (1, 10_000), 100, 24, 0.0,
    ),
}


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int between {low} and {high}, got {type(value).__name__} {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


def get_workload(name: str) -> Workload:
    """Return the :class:`Workload` called ``name`` (one of ``WORKLOADS``).

    >>> get_workload("cpu").func.__name__
    'count_primes'
    """
    if name not in WORKLOADS:
        raise ValueError(f"workload must be one of {', '.join(map(repr, WORKLOADS))}, got {name!r}")
    return WORKLOADS[name]


def default_max_workers(cpus: int | None = None) -> int:
    """Return the largest worker count a sweep tries by default: ``max(4, 2 x cpus)``.

    Twice the CPUs shows what happens past the CPU count; at least 4 so that a
    one-CPU machine still draws a curve.

    >>> default_max_workers(1), default_max_workers(2), default_max_workers(8)
    (4, 4, 16)
    """
    cpus = effective_cpus() if cpus is None else cpus
    return max(4, 2 * cpus)


# --------------------------------------------------------------------------- the machine


def _python_version() -> str:
    import platform

    return platform.python_version()


def gil_enabled() -> bool:
    """Return False on a free-threaded CPython running without the GIL, else True."""
    return getattr(sys, "_is_gil_enabled", lambda: True)()


def thread_label(gil: bool | None = None) -> str:
    """Return the legend label of the thread curve: GIL-bound or free-threaded.

    >>> thread_label(True), thread_label(False)
    ('threads (GIL-bound)', 'threads (free-threaded, no GIL)')
    """
    gil = gil_enabled() if gil is None else gil
    return "threads (GIL-bound)" if gil else "threads (free-threaded, no GIL)"


def machine_line(cpus: int | None = None, python: str | None = None, gil: bool | None = None) -> str:
    """Return the line every figure's title carries: effective CPUs and Python version.

    >>> machine_line(2, "3.12.1", True)
    'measured on 2 effective CPUs, Python 3.12.1'
    >>> machine_line(1, "3.14.0", False)
    'measured on 1 effective CPU, Python 3.14.0 free-threaded (GIL off)'
    """
    cpus = effective_cpus() if cpus is None else cpus
    python = _python_version() if python is None else python
    gil = gil_enabled() if gil is None else gil
    plural = "" if cpus == 1 else "s"
    return f"measured on {cpus} effective CPU{plural}, Python {python}" + ("" if gil else " free-threaded (GIL off)")


def expectation(cpus: int | None = None) -> str:
    """Return what a reader should expect of process speedups on a machine with ``cpus`` CPUs.

    >>> expectation(1).startswith("This machine has 1 effective CPU:")
    True
    """
    cpus = effective_cpus() if cpus is None else cpus
    if cpus == 1:
        return (
            "This machine has 1 effective CPU: processes have no second core to run on, so their "
            "speedup stays near 1 (or below, after paying for start-up); only waiting tasks speed up."
        )
    return (
        f"This machine has {cpus} effective CPUs: CPU-bound processes should approach a speedup of "
        f"{cpus} at {cpus} workers and stop rising there; GIL-bound threads should stay near 1."
    )


def load_note(cpus: int | None = None) -> str | None:
    """Return a warning when other programs keep the CPUs busy (1-minute load average), else None.

    A speedup measured while the CPUs are busy is lower than the machine can give:
    a worker waits for a CPU that another program holds.
    """
    if not hasattr(os, "getloadavg"):
        return None
    cpus = effective_cpus() if cpus is None else cpus
    load = os.getloadavg()[0]
    if load < 0.5:
        return None
    return (
        f"note: the 1-minute load average is {load:.2f} on {cpus} effective CPU(s): other programs "
        "are running, so speedups measured now may be lower than this machine can give."
    )


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Row:
    """One point of a sweep: ``kind`` with ``workers`` workers, timed ``repeats`` times.

    ``seconds`` is the median wall time of the work (pool start-up excluded),
    ``seconds_min`` and ``seconds_max`` its range, ``startup`` the median seconds
    from creating the pool until every worker had answered (0 for serial).
    """

    kind: str
    workers: int
    seconds: float
    seconds_min: float
    seconds_max: float
    repeats: int
    startup: float

    @property
    def total(self) -> float:
        """Median work seconds plus median start-up seconds: what a one-off run costs."""
        return self.seconds + self.startup


@dataclass(frozen=True)
class BenchResult:
    """The tidy result of :func:`run_bench`: its rows and what they were measured on."""

    workload: str
    size: int
    tasks: int
    chunksize: int
    rows: tuple[Row, ...]
    cpus: int
    python: str
    gil_enabled: bool
    start_method: str

    def __post_init__(self) -> None:
        if not any(r.kind == "serial" for r in self.rows):
            raise ValueError("rows must contain the serial baseline (a row with kind 'serial')")

    @property
    def label(self) -> str:
        """The workload's label, for titles and legends."""
        return WORKLOADS[self.workload].label if self.workload in WORKLOADS else self.workload

    @property
    def title(self) -> str:
        """A two-line figure title: the workload, then the machine (CPUs, Python version)."""
        return f"{self.label}, {self.tasks} tasks of size {self.size:,}\n{machine_line(self.cpus, self.python, self.gil_enabled)}"

    def kinds(self) -> list[str]:
        """Return the kinds measured, in the order of ``KINDS``."""
        return [k for k in KINDS if any(r.kind == k for r in self.rows)]

    def workers(self, kind: str) -> list[int]:
        """Return the worker counts measured for ``kind``, ascending."""
        return sorted(r.workers for r in self.rows if r.kind == kind)

    def row(self, kind: str, workers: int = 1) -> Row:
        """Return the row of ``kind`` with ``workers`` workers; ``KeyError`` if not measured."""
        for r in self.rows:
            if r.kind == kind and r.workers == workers:
                return r
        raise KeyError(f"no row for kind={kind!r}, workers={workers!r}; measured: {self.kinds()} with {self.workers(kind) or 'no'} workers")

    @property
    def serial(self) -> Row:
        """The serial baseline row."""
        return self.row("serial", 1)

    def seconds(self, kind: str, workers: int = 1, include_startup: bool = False) -> float:
        """Return the median seconds of ``kind`` with ``workers``, with or without pool start-up."""
        r = self.row(kind, workers)
        return r.total if include_startup else r.seconds

    def speedup(self, kind: str, workers: int = 1, include_startup: bool = False) -> float:
        """Return serial seconds / ``kind`` seconds (above 1: faster than serial)."""
        return self.serial.seconds / self.seconds(kind, workers, include_startup)

    def speedups(self, kind: str, include_startup: bool = False) -> list[float]:
        """Return the speedups of ``kind`` in the order of :meth:`workers`."""
        return [self.speedup(kind, n, include_startup) for n in self.workers(kind)]

    def efficiency(self, kind: str, workers: int, include_startup: bool = False) -> float:
        """Return speedup / workers: 1.0 means every worker was fully used."""
        return self.speedup(kind, workers, include_startup) / workers

    def to_records(self) -> list[dict]:
        """Return the rows as dicts, with speedup and efficiency added (one dict per row)."""
        records = []
        for r in self.rows:
            records.append({
                "kind": r.kind, "workers": r.workers, "seconds": r.seconds,
                "seconds_min": r.seconds_min, "seconds_max": r.seconds_max,
                "repeats": r.repeats, "startup": r.startup,
                "speedup": self.speedup(r.kind, r.workers),
                "efficiency": self.efficiency(r.kind, r.workers),
            })
        return records

    def table(self) -> str:
        """Return the rows as a text table: work seconds (median, min-max), start-up, speedup."""
        lines = [
            f"{self.label}: {self.tasks} tasks of size {self.size:,}",
            f"start method {self.start_method}, chunksize {self.chunksize}; "
            + machine_line(self.cpus, self.python, self.gil_enabled),
            f"{'kind':<10}{'workers':>8}{'median s':>10}{'min s':>9}{'max s':>9}{'start-up s':>12}{'speedup':>9}",
        ]
        for kind in self.kinds():
            for n in self.workers(kind):
                r = self.row(kind, n)
                lines.append(
                    f"{kind:<10}{n:>8}{r.seconds:>10.3f}{r.seconds_min:>9.3f}{r.seconds_max:>9.3f}"
                    f"{r.startup:>12.3f}{self.speedup(kind, n):>8.2f}x"
                )
        return "\n".join(lines)

    def headline(self, workers: int = 2) -> str:
        """Return the two headline ratios at ``workers`` workers: processes/serial and threads/serial."""
        parts = []
        for kind in PARALLEL_KINDS:
            if workers in self.workers(kind):
                parts.append(f"{kind}({workers}) / serial speedup: {self.speedup(kind, workers):.2f}x")
        return "\n".join(parts)


def _row(kind: str, workers: int, samples: Sequence[float], startups: Sequence[float]) -> Row:
    import statistics

    return Row(
        kind=kind, workers=workers, seconds=statistics.median(samples),
        seconds_min=min(samples), seconds_max=max(samples), repeats=len(samples),
        startup=statistics.median(startups) if startups else 0.0,
    )


# --------------------------------------------------------------------------- measuring

def time_once(
    kind: str, workers: int, func: Callable, tasks: Sequence, *, chunksize: int = 1,
    ctx=None, warm_job: tuple[Callable, object] | None = None, timeout: float = 600.0,
) -> tuple[float, float, list]:
    """Run ``func`` over ``tasks`` once as ``kind`` with ``workers``; return (work s, start-up s, results).

    Start-up runs from creating the pool until every worker has answered its
    warm-up job; the work is one ``map_async(...).get(timeout)``. The pool is
    terminated before returning, so no worker outlives the call.
    """
    if kind == "serial":
        if warm_job is not None:
            warm_job[0](warm_job[1])
        start = time.perf_counter()
        results = [func(t) for t in tasks]
        return time.perf_counter() - start, 0.0, results
    start = time.perf_counter()
    pool = start_pool(kind, workers, warm_job or (func, tasks[0]), ctx)
    with pool:  # leaving the block terminates the pool
        started = time.perf_counter()
        results = pool.map_async(func, tasks, chunksize=chunksize).get(timeout=timeout)
        done = time.perf_counter()
    return done - started, started - start, results


def _check_workers(workers: Iterable[int] | None, max_workers: int | None) -> list[int]:
    if workers is not None and max_workers is not None:
        raise ValueError("give workers or max_workers, not both")
    if workers is None:
        top = default_max_workers() if max_workers is None else _check_int("max_workers", max_workers, 1, MAX_WORKERS_LIMIT)
        return list(range(1, top + 1))
    if isinstance(workers, (str, bytes)) or not isinstance(workers, Iterable):
        raise TypeError(f"workers must be a list of ints between 1 and {MAX_WORKERS_LIMIT}, got {workers!r}")
    counts = [_check_int("workers[i]", n, 1, MAX_WORKERS_LIMIT) for n in workers]
    if not counts:
        raise ValueError("workers must not be empty")
    if len(set(counts)) != len(counts):
        raise ValueError(f"workers must not repeat a count, got {counts}")
    return sorted(counts)


def run_bench(
    workload: str = "cpu",
    *,
    size: int | None = None,
    tasks: int | None = None,
    max_workers: int | None = None,
    workers: Iterable[int] | None = None,
    repeats: int = 3,
    kinds: Iterable[str] = PARALLEL_KINDS,
    chunksize: int = 1,
    start_method: str | None = None,
    progress: bool = True,
    on_step: Callable[[int, int, str], None] | None = None,
    timeout: float = 600.0,
) -> BenchResult:
    """Time ``workload`` serially and on pools of each kind and worker count; return a :class:`BenchResult`.

    - ``workload``: ``"cpu"`` (pure-Python prime counting), ``"numpy"`` (NumPy
      ``sin``, which releases the GIL) or ``"io"`` (tasks that only wait).
    - ``size``: how big each task is (see ``WORKLOADS[workload].size_unit``);
      ``tasks``: how many equal tasks (default 24, which 1, 2, 3, 4, 6, 8 and 12
      workers split evenly).
    - ``workers`` (a list) or ``max_workers`` (1 up to it); default 1 up to
      ``max(4, 2 x effective CPUs)``.
    - ``repeats``: how many times each point is timed (the row keeps median, min, max).
    - ``kinds``: the parallel kinds to time besides serial, from ``("threads", "processes")``.
    - ``chunksize``: tasks a worker takes at a time (``Pool.map``'s ``chunksize``).
    - ``start_method``: for the process pools; default: the current default method.
    - ``progress``: show a ``tqdm`` progress bar; ``on_step(done, total, what)`` is
      called after each measurement (the widget panel uses it).

    Raises ``TypeError``/``ValueError`` naming a bad argument, and
    ``RuntimeError`` if a pool's results differ from the serial ones.
    """
    spec = get_workload(workload)
    size = spec.default_size if size is None else _check_int("size", size, *spec.size_range)
    tasks = spec.default_tasks if tasks is None else _check_int("tasks", tasks, 1, 100_000)
    counts = _check_workers(workers, max_workers)
    repeats = _check_int("repeats", repeats, 1, 100)
    chunksize = _check_int("chunksize", chunksize, 1, 100_000)
    if isinstance(kinds, str):
        kinds = (kinds,)
    if not isinstance(kinds, Iterable):
        raise TypeError(f"kinds must be a tuple of names from {PARALLEL_KINDS}, got {kinds!r}")
    kinds = tuple(kinds)
    bad = [k for k in kinds if k not in PARALLEL_KINDS]
    if bad or len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds must be distinct names from {PARALLEL_KINDS}, got {kinds!r}")
    if start_method is not None and start_method not in multiprocessing.get_all_start_methods():
        raise ValueError(
            f"start_method must be one of {multiprocessing.get_all_start_methods()} or None, got {start_method!r}"
        )
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    if on_step is not None and not callable(on_step):
        raise TypeError(f"on_step must be callable or None, got {type(on_step).__name__}")

    ctx = multiprocessing.get_context(start_method)
    task_list = [spec.task_arg(size)] * tasks
    warm_job = (spec.func, spec.warm_up_arg)
    points = [("serial", 1)] + [(k, n) for k in KINDS if k in kinds for n in counts]
    samples: dict[tuple[str, int], list[float]] = {p: [] for p in points}
    startups: dict[tuple[str, int], list[float]] = {p: [] for p in points}
    expected = None

    total = repeats * len(points)
    bar = None
    if progress:
        from tqdm.auto import tqdm  # imported here: children never need it

        bar = tqdm(total=total, desc=f"{workload} benchmark", unit="run")
    done = 0
    try:
        for _ in range(repeats):  # interleaved: each round times every point once
            for kind, n in points:
                work_s, startup_s, results = time_once(
                    kind, n, spec.func, task_list, chunksize=chunksize, ctx=ctx, warm_job=warm_job, timeout=timeout
                )
                if expected is None:
                    expected = results
                elif results != expected:
                    raise RuntimeError(f"{kind} with {n} workers returned different results from serial")
                samples[(kind, n)].append(work_s)
                if kind != "serial":
                    startups[(kind, n)].append(startup_s)
                done += 1
                if bar is not None:
                    bar.set_postfix_str(f"{kind} x{n}", refresh=False)
                    bar.update(1)
                if on_step is not None:
                    on_step(done, total, f"{kind} x{n}")
    finally:
        if bar is not None:
            bar.close()

    rows = tuple(_row(k, n, samples[(k, n)], startups[(k, n)]) for k, n in points)
    return BenchResult(
        workload=workload, size=size, tasks=tasks, chunksize=chunksize, rows=rows,
        cpus=effective_cpus(), python=_python_version(), gil_enabled=gil_enabled(),
        start_method=ctx.get_start_method(),
    )


# --------------------------------------------------------------------------- task size


@dataclass(frozen=True)
class SizeSweep:
    """Serial against processes for a range of task sizes (see :func:`sweep_task_sizes`)."""

    workers: int
    results: tuple[BenchResult, ...]

    @property
    def sizes(self) -> list[int]:
        """The task sizes measured, ascending."""
        return [r.size for r in self.results]

    def speedups(self, include_startup: bool = True) -> list[float]:
        """Return the process speedup at each size (start-up included by default: a one-off run)."""
        return [r.speedup("processes", self.workers, include_startup) for r in self.results]

    def crossover(self, include_startup: bool = True) -> int | None:
        """Return the smallest size from which processes beat serial at every larger size, else None.

        >>> fake = SizeSweep(2, tuple(_fake_result(s, serial, par) for s, serial, par in
        ...                  [(10, 1.0, 3.0), (100, 1.0, 1.5), (1000, 1.0, 0.6), (10000, 1.0, 0.5)]))
        >>> fake.crossover()
        1000
        """
        found = None
        for size, s in reversed(list(zip(self.sizes, self.speedups(include_startup)))):
            if s <= 1:
                break
            found = size
        return found

    def table(self) -> str:
        """Return a text table: size, serial seconds, processes start-up and work seconds, speedups."""
        if not self.results:
            return "(no sizes measured)"
        first = self.results[0]
        lines = [
            f"{first.label}: {first.tasks} tasks per size, serial against {self.workers} processes",
            machine_line(first.cpus, first.python, first.gil_enabled),
            f"{'size':>9}{'serial s':>10}{'start-up s':>12}{'work s':>9}{'speedup':>9}{'incl. start-up':>16}",
        ]
        for r in self.results:
            p = r.row("processes", self.workers)
            lines.append(
                f"{r.size:>9,}{r.serial.seconds:>10.3f}{p.startup:>12.3f}{p.seconds:>9.3f}"
                f"{r.speedup('processes', self.workers):>8.2f}x{r.speedup('processes', self.workers, True):>15.2f}x"
            )
        return "\n".join(lines)


def _fake_result(size: int, serial: float, parallel: float, workers: int = 2) -> BenchResult:
    """Return a made-up result (serial and process seconds given, no start-up): for doctests and tests."""
    rows = (_row("serial", 1, [serial], []), _row("processes", workers, [parallel], [0.0]))
    return BenchResult("cpu", size, 4, 1, rows, 2, "3.x", True, "spawn")


def sweep_task_sizes(
    sizes: Sequence[int], *, workers: int = 2, tasks: int = 4, repeats: int = 3,
    workload: str = "cpu", progress: bool = True, start_method: str | None = None,
) -> SizeSweep:
    """Time serial and ``workers`` processes for each task size in ``sizes``; return a :class:`SizeSweep`."""
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or not sizes:
        raise ValueError(f"sizes must be a non-empty list of ints, got {sizes!r}")
    spec = get_workload(workload)
    sizes = sorted(_check_int("sizes[i]", s, *spec.size_range) for s in sizes)
    workers = _check_int("workers", workers, 1, MAX_WORKERS_LIMIT)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(sizes), desc="task sizes", unit="size")
    results = []
    try:
        for size in sizes:
            results.append(run_bench(
                workload, size=size, tasks=tasks, workers=[workers], repeats=repeats,
                kinds=("processes",), progress=False, start_method=start_method,
            ))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return SizeSweep(workers, tuple(results))


# --------------------------------------------------------------------------- Amdahl and Gustafson


def _check_fraction(serial_fraction: float) -> float:
    if isinstance(serial_fraction, bool) or not isinstance(serial_fraction, (int, float)):
        raise TypeError(f"serial_fraction must be a number between 0 and 1, got {serial_fraction!r}")
    if not 0 <= serial_fraction <= 1:
        raise ValueError(f"serial_fraction must be between 0 and 1, got {serial_fraction!r}")
    return float(serial_fraction)


def amdahl_speedup(serial_fraction: float, workers: int) -> float:
    """Return Amdahl's speedup ``1 / (f + (1 - f) / n)`` for serial fraction ``f`` on ``n`` workers.

    The problem size is fixed; only the parallel part ``1 - f`` is shared out.

    >>> round(amdahl_speedup(0.1, 4), 3)
    3.077
    >>> amdahl_speedup(0.0, 8), amdahl_speedup(1.0, 8)
    (8.0, 1.0)
    """
    f = _check_fraction(serial_fraction)
    n = _check_int("workers", workers, 1, 10**9)
    return 1 / (f + (1 - f) / n)


def gustafson_speedup(serial_fraction: float, workers: int) -> float:
    """Return Gustafson's scaled speedup ``n - f (n - 1)``.

    Here ``f`` is the serial share of the time of the run *on n workers*, and the
    problem grows with ``n``: serial code takes as long as before, the parallel
    part does ``n`` times as much work in the same time.

    >>> gustafson_speedup(0.1, 4)
    3.7
    """
    f = _check_fraction(serial_fraction)
    n = _check_int("workers", workers, 1, 10**9)
    return n - f * (n - 1)


@dataclass(frozen=True)
class AmdahlFit:
    """A least-squares estimate of the serial fraction from measured speedups."""

    serial_fraction: float
    workers: tuple[int, ...]  # the worker counts the fit used
    speedups: tuple[float, ...]  # the measured speedups at those counts

    @property
    def limit(self) -> float:
        """The speedup no number of workers can exceed: ``1 / f`` (``inf`` when ``f`` is 0)."""
        return math.inf if self.serial_fraction == 0 else 1 / self.serial_fraction

    def describe(self) -> str:
        """Return one line: the serial fraction, the counts it came from, and the limit it implies."""
        limit = "no limit" if math.isinf(self.limit) else f"a limit of {self.limit:.1f}x"
        return (
            f"serial fraction f = {self.serial_fraction:.3f}, fitted to {list(self.workers)} workers: "
            f"{limit} however many workers"
        )

    def predict(self, workers: int) -> float:
        """Return the fitted Amdahl speedup on ``workers`` workers."""
        return amdahl_speedup(self.serial_fraction, workers)


def fit_serial_fraction(workers: Sequence[int], speedups: Sequence[float]) -> float:
    """Return the serial fraction ``f`` that best fits ``1/S = f + (1 - f)/n`` (least squares).

    Rearranged, ``1/S - 1/n = f (1 - 1/n)``: a straight line through the origin
    in ``f``, fitted with ``numpy.linalg.lstsq``. Points with ``n = 1`` carry no
    information and are skipped. The answer is clipped to [0, 1] (noise can
    make a measured speedup slightly super-linear).

    >>> ns = [2, 4, 8]
    >>> round(fit_serial_fraction(ns, [amdahl_speedup(0.1, n) for n in ns]), 6)
    0.1
    """
    import numpy as np

    if len(workers) != len(speedups):
        raise ValueError(f"workers and speedups must have the same length, got {len(workers)} and {len(speedups)}")
    n = np.asarray(workers, dtype=float)
    s = np.asarray(speedups, dtype=float)
    if np.any(n < 1) or np.any(s <= 0) or not np.all(np.isfinite(s)):
        raise ValueError("workers must be >= 1 and speedups finite and > 0")
    keep = n > 1
    if not keep.any():
        raise ValueError("need at least one speedup measured with 2 or more workers")
    x = (1 - 1 / n[keep])[:, None]
    y = 1 / s[keep] - 1 / n[keep]
    (f,), *_ = np.linalg.lstsq(x, y, rcond=None)
    return float(min(1.0, max(0.0, f)))


def fit_amdahl(result: BenchResult, kind: str = "processes", include_startup: bool = False) -> AmdahlFit | None:
    """Fit Amdahl's law to ``kind``'s speedups for 2 up to ``result.cpus`` workers; None if there are none.

    Counts above the CPU count are left out: past it, workers take turns on the
    CPUs, a limit Amdahl's law does not describe. On a one-CPU machine there is
    nothing to fit and the answer is None.
    """
    counts = [n for n in result.workers(kind) if 2 <= n <= result.cpus]
    if not counts:
        return None
    speedups = [result.speedup(kind, n, include_startup) for n in counts]
    return AmdahlFit(fit_serial_fraction(counts, speedups), tuple(counts), tuple(speedups))


# --------------------------------------------------------------------------- exercise checks


def check_amdahl_prediction(on_8_workers: object, limit: object) -> bool:
    """Exercise check: a job with a 5% serial fraction, its speedup on 8 workers and its limit."""
    from helpers.exercises import feedback

    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (on_8_workers, limit))
    if not numbers:
        return feedback(False, "", f"Give two numbers; you gave {on_8_workers!r} and {limit!r}.")
    right_8, right_limit = amdahl_speedup(0.05, 8), 1 / 0.05
    ok_8 = math.isclose(on_8_workers, right_8, rel_tol=0.02)
    ok_limit = math.isclose(limit, right_limit, rel_tol=0.02)
    if ok_8 and ok_limit:
        return feedback(True, "Right: 8 workers give under 6x, and no number of workers beats 20x.", "")
    wrong = "on_8_workers" if not ok_8 else "limit"
    hint = {
        "on_8_workers": "put f = 0.05 and n = 8 into 1 / (f + (1 - f) / n).",
        "limit": "let n grow without bound: what is left of f + (1 - f) / n?",
    }[wrong]
    return feedback(False, "", f"Check {wrong}: {hint}")


def check_curve_explanation(threads: object, beyond_cpus: object) -> bool:
    """Exercise check: letters explaining the flat thread curve and the process curve past the CPU count."""
    from helpers.exercises import feedback

    choices = {"a", "b", "c", "d"}
    given = [str(v).strip().lower() if isinstance(v, str) else v for v in (threads, beyond_cpus)]
    if not all(g in choices for g in given):
        return feedback(False, "", f"Answer each part with one letter from a to d, as a string; you gave {threads!r}, {beyond_cpus!r}.")
    if given == ["a", "b"]:
        return feedback(
            True,
            "Right: the GIL lets one thread compute at a time, and past the CPU count processes take turns on the CPUs.",
            "",
        )
    hints = []
    if given[0] != "a":
        hints.append("threads: what lets only one thread run Python bytecode at a time?")
    if given[1] != "b":
        hints.append("past the CPU count: how many processes can the operating system run at the same instant?")
    return feedback(False, "", "Not yet. " + " ".join(hints))


POOL_CHOICES = {
    "wait for 50 web servers to answer": "threads",
    "run a pure-Python simulation for each of 8 parameter sets": "processes",
    "apply numpy.sin to ten large arrays": "threads",
}


def check_pool_choice(answer: object) -> bool:
    """Exercise check: ``answer`` maps each job in ``POOL_CHOICES`` to ``"threads"`` or ``"processes"``."""
    from helpers.exercises import feedback

    if not isinstance(answer, dict) or set(answer) != set(POOL_CHOICES):
        return feedback(False, "", "Answer with a dict that has exactly the three jobs of the exercise as keys.")
    wrong = [job for job, right in POOL_CHOICES.items() if answer[job] != right]
    return feedback(
        not wrong,
        "Right: threads for waiting and for code that releases the GIL, processes for pure-Python computing.",
        f"Look again at: {', '.join(repr(w) for w in wrong)}. Does that job hold the GIL while it works?",
    )


def check_crossover(answer: object, sweep: SizeSweep) -> bool:
    """Exercise check: is ``answer`` the smallest task size from which processes won in ``sweep``?"""
    from helpers.exercises import feedback

    right = sweep.crossover()
    if right is None:
        return feedback(
            answer is None,
            "Right: in this measurement processes never won, so the answer is None (how many CPUs does this machine have?).",
            f"You gave {answer!r}, but processes did not beat serial at any size here: answer None.",
        )
    if answer not in sweep.sizes:
        return feedback(False, "", f"Answer with one of the sizes measured, {sweep.sizes}; you gave {answer!r}.")
    return feedback(
        answer == right,
        f"Right: from size {right:,} on, processes beat serial even counting their start-up.",
        "Not that one: find the smallest size where the speedup including start-up is above 1 "
        "and stays above 1 at every larger size.",
    )


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """Run a benchmark from the command line, print its table and headline ratios, save the figure."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m helpers.bench",
        description="Time a workload serially, on thread pools and on process pools; print the speedups and save a figure.",
    )
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="cpu", help="what each task does (default: cpu)")
    parser.add_argument("--size", type=int, help="task size (cpu: count primes below it; numpy: sin passes; io: ms)")
    parser.add_argument("--tasks", type=int, help="number of equal tasks (default: 24)")
    parser.add_argument("--max-workers", type=int, help="try 1 up to this many workers (default: max(4, 2 x effective CPUs))")
    parser.add_argument("--repeats", type=int, default=3, help="times each point is measured (default: 3)")
    parser.add_argument("--start-method", choices=multiprocessing.get_all_start_methods(),
                        help="start method of the process pools (default: the book's, spawn unless MP_BOOK_START_METHOD is set)")
    parser.add_argument("--output", default=os.path.join("_build", "bench", "speedup.png"),
                        help="where to save the figure (default: _build/bench/speedup.png)")
    parser.add_argument("--no-plot", action="store_true", help="do not draw or save a figure")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)

    from helpers.book import book_start_method

    load = load_note()
    if load:
        print(f"before measuring, {load}")
    start = time.perf_counter()
    try:
        result = run_bench(
            args.workload, size=args.size, tasks=args.tasks, max_workers=args.max_workers, repeats=args.repeats,
            start_method=args.start_method or book_start_method(), progress=not args.no_progress,
        )
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    print(result.table())
    print()
    print(result.headline(2))
    print(expectation(result.cpus))
    fit = fit_amdahl(result)
    if fit is not None:
        print(f"Amdahl fit over {list(fit.workers)} workers: serial fraction {fit.serial_fraction:.3f}")
    if not args.no_plot:
        import matplotlib

        matplotlib.use("Agg")
        from helpers.speedup_plots import save_report

        path = save_report(result, args.output)
        print(f"figure saved to {path}")
    load = load_note()
    if load:
        print(f"after measuring, {load}")
    print(f"benchmark finished in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    # Run the copy imported as helpers.bench, not this __main__ copy: its classes are
    # the ones helpers.speedup_plots knows, and workers unpickle helpers.bench names.
    from helpers.bench import main as _main

    raise SystemExit(_main())

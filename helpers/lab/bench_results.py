"""What a speedup benchmark measures and what it answers: workloads, rows and results.

:mod:`helpers.lab.bench` does the measuring and :mod:`helpers.lab.speedup_plots`
the drawing; both build on the plain data here, so that neither needs the other
(the plots never import the benchmark). Nothing here starts a process.

- :class:`Workload` and ``WORKLOADS``: the kinds of task the benchmark runs, each a
  worker from :mod:`helpers.workloads`.
- :class:`Row` and :class:`BenchResult`: the tidy table of one sweep over worker
  counts, with speedups, efficiencies and a text table.
- :class:`SizeSweep`: serial against processes over a range of task sizes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from helpers.workloads import count_primes, numpy_sines, wait

KINDS = ("serial", "threads", "processes")
PARALLEL_KINDS = ("threads", "processes")


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
    default_tasks: int  # at least this many; run_bench rounds up to a multiple of every worker count
    warm_up_arg: object  # a trivial task each worker runs once during start-up

    def task_arg(self, size: int) -> object:
        """Return the argument one task receives for this ``size``."""
        return size / 1000 if self.func is wait else size


WORKLOADS: dict[str, Workload] = {
    "cpu": Workload(
        "cpu", "count primes (pure Python)", count_primes, "count primes below this number",
        (1, 2_000_000), 60_000, 96, 10,
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


def get_workload(name: str) -> Workload:
    """Return the :class:`Workload` called ``name`` (one of ``WORKLOADS``).

    >>> get_workload("cpu").func.__name__
    'count_primes'
    """
    if name not in WORKLOADS:
        raise ValueError(f"workload must be one of {', '.join(map(repr, WORKLOADS))}, got {name!r}")
    return WORKLOADS[name]


# --------------------------------------------------------------------------- the GIL


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


# --------------------------------------------------------------------------- results


def uneven_counts(tasks: int, workers: Iterable[int]) -> list[int]:
    """Return the worker counts that ``tasks`` equal tasks do not divide: their last round is partial.

    >>> uneven_counts(12, [1, 2, 3, 4, 5, 6, 7, 8])
    [5, 7, 8]
    """
    return [n for n in workers if tasks % n]


@dataclass(frozen=True)
class Row:
    """One point of a sweep: ``kind`` with ``workers`` workers, timed ``repeats`` times.

    ``seconds`` is the median wall time of the work (pool start-up excluded),
    ``seconds_min`` and ``seconds_max`` its range, ``startup`` the median seconds
    from creating the pool until every worker had answered (0 for serial), and
    ``samples`` the work seconds of each round, in round order (the benchmark
    compares each round's parallel time with the same round's serial time).
    """

    kind: str
    workers: int
    seconds: float
    seconds_min: float
    seconds_max: float
    repeats: int
    startup: float
    samples: tuple[float, ...] = ()

    @property
    def total(self) -> float:
        """Median work seconds plus median start-up seconds: what a one-off run costs."""
        return self.seconds + self.startup


def make_row(kind: str, workers: int, samples: Sequence[float], startups: Sequence[float]) -> Row:
    """Return the :class:`Row` of ``samples`` (work seconds) and ``startups`` (start-up seconds)."""
    import statistics

    return Row(
        kind=kind, workers=workers, seconds=statistics.median(samples),
        seconds_min=min(samples), seconds_max=max(samples), repeats=len(samples),
        startup=statistics.median(startups) if startups else 0.0, samples=tuple(samples),
    )


@dataclass(frozen=True)
class BenchResult:
    """The tidy result of :func:`helpers.lab.bench.run_bench`: its rows and where they were measured.

    ``machine`` is :func:`helpers.lab.machine.machine_label` of the run (Python,
    CPUs, operating system, start method); ``cpus``, ``cores`` and ``gil_enabled``
    are kept apart because the figures draw with them. ``cores`` is how many of
    the ``cpus`` are whole physical cores (fewer where CPUs are hyperthreads;
    ``None``: unknown); ``load`` the 1-minute load average just before measuring
    (``None`` where the system has none). ``workload`` names a built-in workload
    (``WORKLOADS``) or, for a function of the reader's, its ``module.name``;
    ``size`` is ``None`` then.
    """

    workload: str
    size: int | None
    tasks: int
    chunksize: int
    rows: tuple[Row, ...]
    cpus: int
    gil_enabled: bool
    start_method: str
    machine: str
    cores: int | None = None
    load: float | None = None

    def __post_init__(self) -> None:
        if not any(r.kind == "serial" for r in self.rows):
            raise ValueError("rows must contain the serial baseline (a row with kind 'serial')")

    @property
    def label(self) -> str:
        """The workload's label, for titles and legends."""
        return WORKLOADS[self.workload].label if self.workload in WORKLOADS else self.workload

    @property
    def compute_cores(self) -> int:
        """The CPUs that are whole cores: ``cores`` where known and fewer than ``cpus``, else ``cpus``."""
        return min(self.cpus, self.cores) if self.cores else self.cpus

    @property
    def measured_on(self) -> str:
        """The line every figure and table carries: the machine, the GIL if it was off, the load before."""
        return (
            f"measured on {self.machine}" + ("" if self.gil_enabled else ", free-threaded (GIL off)")
            + ("" if self.load is None else f", load {self.load:.2f} before")
        )

    @property
    def what(self) -> str:
        """The workload and its tasks in a few words: ``"count primes (pure Python), 12 tasks of size 60,000"``."""
        return f"{self.label}, {self.tasks} tasks" + ("" if self.size is None else f" of size {self.size:,}")

    @property
    def title(self) -> str:
        """A two-line figure title: the workload, then where it was measured."""
        return f"{self.what}\n{self.measured_on}"

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

    def round_speedups(self, kind: str, workers: int = 1) -> list[float]:
        """Return each round's serial seconds / that round's ``kind`` seconds (work only).

        The benchmark times serial and every pool once per round, so a round's
        two times were taken close together, under the same load. Rows without
        per-round samples (made by hand) give the one ratio of their medians.
        """
        serial, row = self.serial, self.row(kind, workers)
        if serial.samples and len(serial.samples) == len(row.samples):
            return [s / p for s, p in zip(serial.samples, row.samples)]
        return [serial.seconds / row.seconds]

    def speedup(self, kind: str, workers: int = 1, include_startup: bool = False) -> float:
        """Return how many times faster than serial ``kind`` ran (above 1: faster).

        Work only: the median of the rounds' ratios (:meth:`round_speedups`).
        With ``include_startup``: median serial seconds / (median work + median start-up).
        """
        import statistics

        if include_startup:
            return self.serial.seconds / self.seconds(kind, workers, include_startup=True)
        return statistics.median(self.round_speedups(kind, workers))

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
            f"{self.what}",
            f"chunksize {self.chunksize}; {self.measured_on}",
            f"{'kind':<10}{'workers':>8}{'median s':>10}{'min s':>9}{'max s':>9}{'start-up s':>12}"
            f"{'speedup':>9}{'efficiency':>12}",
        ]
        for kind in self.kinds():
            for n in self.workers(kind):
                r = self.row(kind, n)
                lines.append(
                    f"{kind:<10}{n:>8}{r.seconds:>10.3f}{r.seconds_min:>9.3f}{r.seconds_max:>9.3f}"
                    f"{r.startup:>12.3f}{self.speedup(kind, n):>8.2f}x{self.efficiency(kind, n):>12.2f}"
                )
        return "\n".join(lines)

    def method(self) -> str:
        """Return how the numbers were made, in one line."""
        repeats = self.serial.repeats
        uneven = uneven_counts(self.tasks, sorted({r.workers for r in self.rows}))
        split = (f"a multiple of every worker count" if not uneven else
                 f"not a multiple of {uneven} workers, whose last round is partial")
        return (
            f"method: {self.tasks} equal tasks ({split}), chunksize {self.chunksize}; serial and every pool timed "
            f"once per round in a shuffled order, {repeats} round{'s' if repeats != 1 else ''}; pool start-up timed "
            f"apart; speedup = median over rounds of serial / parallel"
        )

    def headline(self, workers: int = 2) -> str:
        """Return the headline ratios at ``workers`` workers, threads labelled by the GIL's state.

        One line per parallel kind measured with that many workers: the median of
        the rounds' ratios, and the range of the rounds.
        """
        parts = []
        for kind in PARALLEL_KINDS:
            if workers in self.workers(kind):
                name = "processes" if kind == "processes" else thread_label(self.gil_enabled)
                each = self.round_speedups(kind, workers)
                spread = f" (rounds: {min(each):.2f}x to {max(each):.2f}x)" if len(each) > 1 else ""
                parts.append(f"{name} x{workers} / serial: {self.speedup(kind, workers):.2f}x{spread}")
        return "\n".join(parts)


# --------------------------------------------------------------------------- task sizes


@dataclass(frozen=True)
class SizeSweep:
    """Serial against processes for a range of task sizes (see :func:`helpers.lab.bench.sweep_task_sizes`)."""

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

        >>> fake = SizeSweep(2, tuple(fake_result(1.0, processes={2: par}, size=s, startup=0.0) for s, par in
        ...                  [(10, 3.0), (100, 1.5), (1000, 0.6), (10000, 0.5)]))
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
            first.measured_on,
            f"{'size':>9}{'serial s':>10}{'start-up s':>12}{'work s':>9}{'speedup':>9}{'incl. start-up':>16}",
        ]
        for r in self.results:
            p = r.row("processes", self.workers)
            lines.append(
                f"{r.size:>9,}{r.serial.seconds:>10.3f}{p.startup:>12.3f}{p.seconds:>9.3f}"
                f"{r.speedup('processes', self.workers):>8.2f}x{r.speedup('processes', self.workers, True):>15.2f}x"
            )
        return "\n".join(lines)


def fake_result(
    serial: float, threads: Sequence[float] | Mapping[int, float] = (), processes: Sequence[float] | Mapping[int, float] = (),
    *, size: int = 1000, cpus: int = 2, cores: int | None = None, startup: float = 0.1, gil: bool = True,
) -> BenchResult:
    """Return a made-up result, for doctests and tests: no process is started.

    ``threads`` and ``processes`` give the work seconds for 1, 2, 3 ... workers (a
    list) or for chosen counts (``{workers: seconds}``); each row's range is 10%
    either side, over 3 made-up repeats.
    """
    rows = [Row("serial", 1, serial, serial, serial, 1, 0.0)]
    for kind, seconds in (("threads", threads), ("processes", processes)):
        pairs = seconds.items() if isinstance(seconds, Mapping) else enumerate(seconds, start=1)
        rows += [Row(kind, n, t, t * 0.9, t * 1.1, 3, startup) for n, t in pairs]
    machine = f"Python 3.x, {cpus} CPU{'s' if cpus != 1 else ''}, Linux, spawn"
    return BenchResult("cpu", size, 8, 1, tuple(rows), cpus, gil, "spawn", machine, cores=cores)

"""Measure what ``chunksize`` does to the cost of many tiny tasks sent to a ``Pool``.

A pool sends tasks to its workers in *chunks*: one message carries ``chunksize``
tasks there and their results back. For a tiny task the messages cost far more
than the work, so the time per task falls as the chunks grow, until there are too
few chunks to keep every worker busy. :func:`measure_chunksizes` times
``Pool.map_async`` for a range of chunksizes and for the default, next to a plain
loop; :func:`plot_chunksizes` draws the result.

Run the full benchmark from the repository root (it takes a minute or so)::

    python -m helpers.lab.chunksize                 # 100,000 tasks
    python -m helpers.lab.chunksize --tasks 20000   # quicker

It prints the best chunksize's time as a ratio of ``chunksize=1`` and of the loop.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from helpers.lab.args import check_callable, check_int, check_int_list, check_seconds


def default_chunksize(n_tasks: int, processes: int) -> int:
    """Return the chunksize ``Pool.map``, ``starmap`` and their ``_async`` forms use when given none.

    CPython splits the tasks into about four chunks per worker:
    ``ceil(n_tasks / (4 * processes))`` (and 0 for no tasks). ``imap``,
    ``imap_unordered`` and ``ProcessPoolExecutor.map`` default to 1 instead.

    >>> default_chunksize(100_000, 2)
    12500
    >>> default_chunksize(1_000, 3)
    84
    >>> default_chunksize(5, 3)
    1
    """
    check_int("n_tasks", n_tasks, 0)
    check_int("processes", processes, 1)
    chunksize, extra = divmod(n_tasks, processes * 4)
    if extra:
        chunksize += 1
    return chunksize


def standard_chunksizes(n_tasks: int) -> list[int]:
    """Return the chunksizes a sweep tries: 1 and the powers of 4 up to ``n_tasks``.

    >>> standard_chunksizes(5000)
    [1, 4, 16, 64, 256, 1024, 4096]
    """
    check_int("n_tasks", n_tasks, 1)
    sizes, size = [], 1
    while size <= n_tasks:
        sizes.append(size)
        size *= 4
    return sizes


@dataclass(frozen=True)
class ChunksizeResult:
    """What :func:`measure_chunksizes` found: the best of ``repeats`` wall times, in seconds."""

    n_tasks: int
    processes: int
    loop_seconds: float
    seconds: dict[int, float] = field(repr=False)  # chunksize -> seconds for all n_tasks
    default: int = 0  # the chunksize Pool.map chose when given none
    default_seconds: float = math.nan

    @property
    def best_chunksize(self) -> int:
        """Return the fastest chunksize measured (the default's value if it won)."""
        candidates = dict(self.seconds)
        if self.default_seconds < candidates.get(self.default, math.inf):
            candidates[self.default] = self.default_seconds
        return min(candidates, key=candidates.__getitem__)

    @property
    def best_seconds(self) -> float:
        """Return the time of the fastest run, explicit chunksize or default."""
        return min(min(self.seconds.values()), self.default_seconds)

    def per_task_us(self, seconds: float) -> float:
        """Return ``seconds`` for the whole batch as microseconds per task."""
        return seconds / self.n_tasks * 1e6

    @property
    def best_vs_chunksize_1(self) -> float:
        """Return best time / time with ``chunksize=1`` (below 1: chunks help)."""
        return self.best_seconds / self.seconds[1]

    @property
    def best_vs_loop(self) -> float:
        """Return best time / plain loop time (above 1: the pool loses to the loop)."""
        return self.best_seconds / self.loop_seconds

    def table(self) -> str:
        """Return one line per run: chunksize, chunks sent, time per task."""
        lines = [f"{'':>16} {'chunks':>7} {'per task':>12}"]
        lines.append(f"{'plain loop':>16} {'':>7} {self.per_task_us(self.loop_seconds):9.2f} µs")
        rows = [(f"chunksize={c}", c, s) for c, s in sorted(self.seconds.items())]
        rows.append((f"default={self.default}", self.default, self.default_seconds))
        for name, chunk, seconds in rows:
            chunks = math.ceil(self.n_tasks / chunk)
            lines.append(f"{name:>16} {chunks:>7} {self.per_task_us(seconds):9.2f} µs")
        return "\n".join(lines)

    def summary(self) -> str:
        """Return the benchmark's answer: the best chunksize's time as a ratio of chunksize=1 and of the loop.

        Two lines: the best run, then the two ratios.
        """
        processes = f"{self.processes} process{'' if self.processes == 1 else 'es'}"
        return (
            f"best chunksize {self.best_chunksize}: {self.best_seconds * 1e3:.1f} ms "
            f"for {self.n_tasks:,} tasks on {processes}\n"
            f"= {self.best_vs_chunksize_1:.3f}x the time of chunksize=1, "
            f"{self.best_vs_loop:.1f}x the time of the plain loop"
        )


def measure_chunksizes(
    n_tasks: int = 5_000,
    chunksizes: Iterable[int] | None = None,
    *,
    processes: int | None = None,
    repeats: int = 3,
    timeout: float = 300,
    task: Callable[[int], object] | None = None,
) -> ChunksizeResult:
    """Time ``pool.map_async(task, range(n_tasks), chunksize=c).get(timeout)`` for each ``c``.

    ``n_tasks`` is the number of tiny tasks (the chapter uses a few thousand; the
    benchmark script 100,000). ``chunksizes`` default to :func:`standard_chunksizes`;
    1 is always included, and the default chunksize is measured too. ``processes``
    defaults to ``helpers.effective_cpus()``. One pool serves every run, so start-up
    is not counted. Each configuration runs ``repeats`` times, interleaved, and the
    fastest run counts (the cheap plain loop runs five times as often). ``task``
    defaults to :func:`helpers.processes.square` and must be importable by the workers.
    Results are checked against the plain loop. Returns a :class:`ChunksizeResult`.
    """
    import multiprocessing

    from helpers.lab.machine import effective_cpus
    from helpers.lab.results import pool_result  # a dead worker fails the run at once

    check_int("n_tasks", n_tasks, 1)
    processes = effective_cpus() if processes is None else check_int("processes", processes, 1, 256)
    check_int("repeats", repeats, 1, 100)
    timeout = check_seconds("timeout", timeout, 0.1, 3600)
    sizes = standard_chunksizes(n_tasks) if chunksizes is None else check_int_list("chunksizes", chunksizes, 1)
    sizes = sorted(set(sizes) | {1})
    if task is None:
        from helpers.processes import square  # the one square of the book

        task = square
    check_callable("task", task)

    inputs = list(range(n_tasks))
    loop_times: list[float] = []
    times: dict[object, list[float]] = {c: [] for c in [*sizes, None]}
    with multiprocessing.Pool(processes) as pool:
        pool_result(pool, pool.map_async(task, range(processes * 2), chunksize=1), timeout)  # wake every worker
        for _ in range(repeats):
            for _ in range(5):  # the loop is cheap: time it more often, so one hiccup does not count
                start = time.perf_counter()
                expected = [task(x) for x in inputs]
                loop_times.append(time.perf_counter() - start)
            for chunksize in [*sizes, None]:
                start = time.perf_counter()
                results = pool_result(pool, pool.map_async(task, inputs, chunksize=chunksize), timeout)
                times[chunksize].append(time.perf_counter() - start)
                if results != expected:
                    raise RuntimeError(f"chunksize={chunksize} gave different results from the loop")
    return ChunksizeResult(
        n_tasks=n_tasks,
        processes=processes,
        loop_seconds=min(loop_times),
        seconds={c: min(times[c]) for c in sizes},
        default=default_chunksize(n_tasks, processes),
        default_seconds=min(times[None]),
    )


def plot_chunksizes(result: ChunksizeResult, *, ax=None):
    """Draw time per task against chunksize (log-log) with the default and the loop; return the ``Axes``.

    The title says where it was measured (:func:`helpers.lab.machine.machine_label`).
    """
    import matplotlib.pyplot as plt  # imported here: workers never need matplotlib

    from helpers.lab.machine import machine_label

    if not isinstance(result, ChunksizeResult):
        raise TypeError(f"result must be a ChunksizeResult, got {type(result).__name__}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    sizes = sorted(result.seconds)
    ax.plot(sizes, [result.per_task_us(result.seconds[c]) for c in sizes], marker="o", label="Pool.map_async")
    ax.plot([result.default], [result.per_task_us(result.default_seconds)], marker="*", markersize=14,
            linestyle="none", color="tab:red", label=f"default chunksize ({result.default})")
    ax.axhline(result.per_task_us(result.loop_seconds), color="gray", linestyle="--", label="plain loop")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("chunksize (tasks per message)")
    ax.set_ylabel("time per task (µs)")
    ax.set_title(f"{result.n_tasks:,} tiny tasks on {result.processes} processes\n({machine_label()})", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def check_default_chunksize(answer: object) -> bool:
    """Exercise check: the chunksize ``Pool(processes=3).map`` picks for 1,000 tasks."""
    from helpers.lab.exercises import feedback

    right = default_chunksize(1_000, 3)
    if isinstance(answer, bool) or not isinstance(answer, int):
        return feedback(False, "", f"Answer with an int, the number of tasks per chunk; you gave {answer!r}.")
    return feedback(
        answer == right,
        "Right: that is the chunk size Pool.map picks for these numbers.",
        f"Not {answer}: divide the tasks by four chunks per worker, and round up.",
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark from the command line and print the table and the summary line."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.lab.chunksize",
        description="Time Pool.map_async on tiny tasks for a range of chunksizes, the default, and a plain loop.",
    )
    parser.add_argument("--tasks", type=int, default=100_000, help="number of tiny tasks (default 100,000)")
    parser.add_argument("--processes", type=int, default=None, help="pool size (default: helpers.effective_cpus())")
    parser.add_argument("--repeats", type=int, default=3, help="runs per chunksize; the fastest counts (default 3)")
    parser.add_argument("--chunksizes", type=int, nargs="+", default=None,
                        help="chunksizes to try (default: 1 and the powers of 4 up to --tasks)")
    args = parser.parse_args(argv)

    from helpers.lab.book import use_book_start_method
    from helpers.lab.machine import machine_label

    method = use_book_start_method()
    try:
        result = measure_chunksizes(args.tasks, args.chunksizes, processes=args.processes, repeats=args.repeats)
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    print(f"{machine_label(method)}; best of {args.repeats} runs")
    print(result.table())
    print(result.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Measure speedup: one workload run serially, on thread pools and on process pools.

:func:`run_bench` times a workload of equal tasks for every worker count from 1
up to ``max(4, 2 x effective CPUs)``, serially, on a
:class:`multiprocessing.pool.ThreadPool` and on a :class:`multiprocessing.pool.Pool`.
Each point is repeated (the repeats of all points are interleaved, so a burst
of load from another program spreads over all of them), and the pool's start-up
is timed apart from the work: start-up ends when every worker has answered
(:func:`helpers.lab.warmup.start_pool`), so the work is timed on a pool whose
workers are all running. :func:`time_once` is one such measurement, of any
function a child process can import. The answer is a
:class:`~helpers.lab.bench_results.BenchResult`, a tidy table of rows (kind,
workers, seconds: median, min, max, repeats, start-up) that the plots in
:mod:`helpers.lab.speedup_plots` and the tests use.

The command line runs the full-size benchmark and saves a figure::

    python -m helpers.lab.bench                 # CPU-bound default, figure in _build/bench/
    python -m helpers.lab.bench --help

Nothing here imports matplotlib, NumPy, tqdm or ipywidgets at import time. In a
notebook the worker processes import only :mod:`helpers.lab.warmup` and
:mod:`helpers.workloads` (and what those import), so that the start-up being
measured is the pool's, not this module's; run as ``python -m helpers.lab.bench``
under spawn or forkserver, they also import this module, as every such child
imports its parent's main module.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Sequence

from helpers.lab.amdahl import fit_amdahl
from helpers.lab.args import check_callable, check_choice, check_int, check_int_list, check_seconds
from helpers.lab.bench_results import (  # re-exported: the benchmark's vocabulary
    KINDS,
    PARALLEL_KINDS,
    WORKLOADS,
    BenchResult,
    Row,
    SizeSweep,
    Workload,
    get_workload,
    gil_enabled,
    make_row,
    thread_label,
)
from helpers.lab.machine import effective_cpus, machine_label
from helpers.lab.results import pool_result
from helpers.lab.warmup import start_pool

MAX_WORKERS_LIMIT = 256

__all__ = [
    "KINDS", "MAX_WORKERS_LIMIT", "PARALLEL_KINDS", "WORKLOADS", "BenchResult", "Row", "SizeSweep", "Workload",
    "default_max_workers", "expectation", "get_workload", "gil_enabled", "load_note", "main", "run_bench",
    "sweep_task_sizes", "thread_label", "time_once",
]


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


# --------------------------------------------------------------------------- measuring


def time_once(
    kind: str, workers: int, func: Callable, tasks: Sequence, *, chunksize: int = 1,
    ctx=None, warm_job: tuple[Callable, object] | None = None, timeout: float = 600.0,
) -> tuple[float, float, list]:
    """Run ``func`` over ``tasks`` once as ``kind`` with ``workers``; return (work s, start-up s, results).

    ``kind`` is ``"serial"``, ``"threads"`` or ``"processes"``; ``func`` any
    function a child process can import (from a module, not a notebook cell).
    Start-up runs from creating the pool until every worker has answered its
    warm-up job (by default ``func(tasks[0])``); the work is one
    ``map_async(...)``, awaited for at most ``timeout`` seconds
    (:func:`helpers.lab.results.pool_result`: a worker that dies fails the run at
    once). The pool is terminated before returning, so no worker outlives the call.
    """
    check_choice("kind", kind, KINDS)
    check_int("workers", workers, 1, MAX_WORKERS_LIMIT)
    check_callable("func", func)
    tasks = list(tasks)
    if not tasks:
        raise ValueError("tasks must not be empty")
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
        results = pool_result(pool, pool.map_async(func, tasks, chunksize=chunksize), timeout)
        done = time.perf_counter()
    return done - started, started - start, results


def _worker_counts(workers: Iterable[int] | None, max_workers: int | None) -> list[int]:
    if workers is not None and max_workers is not None:
        raise ValueError("give workers or max_workers, not both")
    if workers is None:
        top = default_max_workers() if max_workers is None else check_int("max_workers", max_workers, 1, MAX_WORKERS_LIMIT)
        return list(range(1, top + 1))
    counts = check_int_list("workers", workers, 1, MAX_WORKERS_LIMIT)
    if len(set(counts)) != len(counts):
        raise ValueError(f"workers must not repeat a count, got {counts}")
    return sorted(counts)


def _kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    if isinstance(kinds, str):
        kinds = (kinds,)
    if not isinstance(kinds, Iterable):
        raise TypeError(f"kinds must be a tuple of names from {PARALLEL_KINDS}, got {kinds!r}")
    kinds = tuple(check_choice("kinds", k, PARALLEL_KINDS) for k in kinds)
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds must not repeat a name, got {kinds!r}")
    return kinds


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
    size = spec.default_size if size is None else check_int("size", size, *spec.size_range)
    tasks = spec.default_tasks if tasks is None else check_int("tasks", tasks, 1, 100_000)
    counts = _worker_counts(workers, max_workers)
    repeats = check_int("repeats", repeats, 1, 100)
    chunksize = check_int("chunksize", chunksize, 1, 100_000)
    kinds = _kinds(kinds)
    if start_method is not None:
        check_choice("start_method", start_method, multiprocessing.get_all_start_methods())
    timeout = check_seconds("timeout", timeout, 0.001, 86_400)
    if on_step is not None:
        check_callable("on_step", on_step)

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

    rows = tuple(make_row(k, n, samples[(k, n)], startups[(k, n)]) for k, n in points)
    method = ctx.get_start_method()
    return BenchResult(
        workload=workload, size=size, tasks=tasks, chunksize=chunksize, rows=rows,
        cpus=effective_cpus(), gil_enabled=gil_enabled(), start_method=method, machine=machine_label(method),
    )


def sweep_task_sizes(
    sizes: Sequence[int], *, workers: int = 2, tasks: int = 4, repeats: int = 3,
    workload: str = "cpu", progress: bool = True, start_method: str | None = None,
) -> SizeSweep:
    """Time serial and ``workers`` processes for each task size in ``sizes``; return a :class:`SizeSweep`."""
    spec = get_workload(workload)
    sizes = sorted(check_int_list("sizes", sizes, *spec.size_range))
    workers = check_int("workers", workers, 1, MAX_WORKERS_LIMIT)
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


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """Run a benchmark from the command line, print its table and headline ratios, save the figure."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m helpers.lab.bench",
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

    from helpers.lab.book import book_start_method

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
        # The one place the benchmark reaches for the plots; they never import this module.
        from helpers.lab.speedup_plots import save_report

        path = save_report(result, args.output)
        print(f"figure saved to {path}")
    load = load_note()
    if load:
        print(f"after measuring, {load}")
    print(f"benchmark finished in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

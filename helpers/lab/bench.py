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
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence

from helpers.lab.args import check_callable, check_choice, check_int, check_int_list, check_seconds
from helpers.lab.book import available_methods
from helpers.lab.bench_plan import (  # re-exported: how a sweep is planned
    MAX_WORKERS_LIMIT,
    default_max_workers,
    default_worker_counts,
    even_task_count,
    expectation,
)
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
from helpers.lab.machine import compute_cores, effective_cpus, load_average, load_note, machine_label
from helpers.lab.results import pool_result
from helpers.lab.warmup import start_pool

__all__ = [
    "KINDS", "MAX_WORKERS_LIMIT", "check_task_list", "PARALLEL_KINDS", "WORKLOADS", "BenchResult", "Row", "SizeSweep", "Workload",
    "default_max_workers", "default_worker_counts", "even_task_count", "expectation", "get_workload", "gil_enabled",
    "load_note", "main", "run_bench", "sweep_task_sizes", "thread_label", "time_once",
]


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
        return default_worker_counts(max_workers)
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


def check_task_list(tasks: object) -> list:
    """Return ``tasks`` as a list if it is a non-empty sequence of arguments, one per task (not a string)."""
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, Sequence) or not tasks:
        raise TypeError(f"with a function, tasks must be a non-empty list of its arguments (one per task), got {tasks!r}")
    return list(tasks)


def _what_to_run(workload, size, tasks, counts) -> tuple[str, Callable, list, tuple, int | None]:
    """Return (name, func, task list, warm-up job, size) for a built-in workload's name or a function."""
    if callable(workload):
        if size is not None:
            raise TypeError("size is for the built-in workloads; with a function, give its tasks as a list")
        tasks = check_task_list(tasks)
        module, qualname = getattr(workload, "__module__", None), getattr(workload, "__qualname__", "")
        name = f"{module}.{qualname}"
        interactive = module == "__main__" and not getattr(sys.modules.get("__main__"), "__file__", None)
        if "<" in qualname or interactive:  # <lambda>, <locals>: pickle cannot name them
            raise TypeError(
                f"a pool's workers must import the function, and {name} is defined in a notebook cell or "
                "inside another function: put it in a module file (%%writefile) and import it from there"
            )
        return name, workload, tasks, (workload, tasks[0]), None
    if not isinstance(workload, str):
        raise TypeError(f"workload must be one of {', '.join(map(repr, WORKLOADS))} or a function, got {workload!r}")
    spec = get_workload(workload)
    size = spec.default_size if size is None else check_int("size", size, *spec.size_range)
    if tasks is None:
        tasks = even_task_count(counts, spec.default_tasks)
    else:
        tasks = check_int("tasks", tasks, 1, 100_000)
    return workload, spec.func, [spec.task_arg(size)] * tasks, (spec.func, spec.warm_up_arg), size


def run_bench(
    workload: str | Callable = "cpu",
    *,
    size: int | None = None,
    tasks: int | Sequence | None = None,
    max_workers: int | None = None,
    workers: Iterable[int] | None = None,
    repeats: int = 5,
    kinds: Iterable[str] = PARALLEL_KINDS,
    chunksize: int = 1,
    start_method: str | None = None,
    progress: bool = True,
    on_step: Callable[[int, int, str], None] | None = None,
    timeout: float = 600.0,
    seed: int | None = None,
) -> BenchResult:
    """Time ``workload`` serially and on pools of each kind and worker count; return a :class:`BenchResult`.

    - ``workload``: a built-in workload, ``"cpu"`` (pure-Python prime counting),
      ``"numpy"`` (NumPy ``sin``, which releases the GIL) or ``"io"`` (tasks that
      only wait), or any function a child process can import (from a module file,
      not a notebook cell), such as one you wrote.
    - ``tasks``: for a built-in workload, how many equal tasks of ``size`` (see
      ``WORKLOADS[workload].size_unit``); by default the smallest multiple of
      every worker count that is at least the workload's ``default_tasks``, so
      every worker count splits them evenly. For a function: the list of its
      arguments, one per task (``func(task)`` is one task).
    - ``workers`` (a list) or ``max_workers``; default
      :func:`~helpers.lab.bench_plan.default_worker_counts`.
    - ``repeats``: rounds; each round times serial and every pool once, in a
      shuffled order (``seed`` fixes it), so slow drifts and bursts of load from
      other programs spread over all points. Rows keep median, min, max and each
      round's seconds; speedups are medians of each round's ratio.
    - ``kinds``: the parallel kinds to time besides serial, from ``("threads", "processes")``.
    - ``chunksize``: tasks a worker takes at a time (``Pool.map``'s ``chunksize``).
    - ``start_method``: for the process pools; default: the current default method.
    - ``progress``: show a ``tqdm`` progress bar; ``on_step(done, total, what)`` is
      called after each measurement (the widget panel uses it).

    Raises ``TypeError``/``ValueError`` naming a bad argument, and
    ``RuntimeError`` if a pool's results differ from the serial ones.
    """
    counts = _worker_counts(workers, max_workers)
    name, func, task_list, warm_job, size = _what_to_run(workload, size, tasks, counts)
    repeats = check_int("repeats", repeats, 1, 100)
    chunksize = check_int("chunksize", chunksize, 1, 100_000)
    kinds = _kinds(kinds)
    if start_method is not None:
        check_choice("start_method", start_method, available_methods())
    timeout = check_seconds("timeout", timeout, 0.001, 86_400)
    if on_step is not None:
        check_callable("on_step", on_step)

    ctx = multiprocessing.get_context(start_method)
    points = [("serial", 1)] + [(k, n) for k in KINDS if k in kinds for n in counts]
    samples: dict[tuple[str, int], list[float]] = {p: [] for p in points}
    startups: dict[tuple[str, int], list[float]] = {p: [] for p in points}
    expected, first = None, None
    shuffle = random.Random(seed).shuffle
    load = load_average()

    total = repeats * len(points)
    bar = None
    if progress:
        from tqdm.auto import tqdm  # imported here: children never need it

        bar = tqdm(total=total, desc=f"{name} benchmark", unit="run")
    done = 0
    try:
        for _ in range(repeats):  # each round times every point once, in a new order
            order = list(points)
            shuffle(order)
            for kind, n in order:
                work_s, startup_s, results = time_once(
                    kind, n, func, task_list, chunksize=chunksize, ctx=ctx, warm_job=warm_job, timeout=timeout
                )
                if expected is None:
                    expected, first = results, f"{kind} x{n}"
                elif results != expected:
                    raise RuntimeError(f"{kind} x{n} returned different results from {first}, which ran first")
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
        workload=name, size=size, tasks=len(task_list), chunksize=chunksize, rows=rows,
        cpus=effective_cpus(), gil_enabled=gil_enabled(), start_method=method, machine=machine_label(method),
        cores=compute_cores(), load=load,
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
    """Run a benchmark from the command line: print how, the table, the headline ratios; save the figure."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m helpers.lab.bench",
        description="Time a workload serially, on thread pools and on process pools; print the speedups and save a figure.",
    )
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="cpu", help="what each task does (default: cpu)")
    parser.add_argument("--size", type=int, help="task size (cpu: count primes below it; numpy: sin passes; io: ms)")
    parser.add_argument("--tasks", type=int,
                        help="number of equal tasks (default: the smallest multiple of every worker count that is at "
                             "least the workload's default, 96 for cpu)")
    parser.add_argument("--max-workers", type=int,
                        help="try 1, 2, 3, 4, 6, 8, 12, ... up to this many workers, and the CPU and core counts "
                             "(default: max(4, 2 x effective CPUs))")
    parser.add_argument("--repeats", type=int, default=5, help="rounds; each times every point once (default: 5)")
    parser.add_argument("--start-method", choices=available_methods(),
                        help="start method of the process pools (default: the book's, spawn unless MP_BOOK_START_METHOD is set)")
    parser.add_argument("--output", default=os.path.join("_build", "bench", "speedup.png"),
                        help="where to save the figure (default: _build/bench/speedup.png)")
    parser.add_argument("--save-reference", metavar="FILE",
                        help="also store the result with its provenance as JSON (a reference curve for the book)")
    parser.add_argument("--no-plot", action="store_true", help="do not draw or save a figure")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)

    from helpers.lab.amdahl import fit_note, karp_flatt_series
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
    print(result.method())
    print(result.table())
    print()
    print(result.headline(2))
    print(expectation(result.cpus, result.cores, result.gil_enabled))
    series = karp_flatt_series(result)
    if series:
        print("Karp-Flatt serial fraction of processes: " + ", ".join(f"{n} workers {e:.3f}" for n, e in series))
    print(fit_note(result))
    if args.save_reference:
        from helpers.lab.bench_reference import save_reference

        print(f"reference curve saved to {save_reference(result, args.save_reference)}")
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

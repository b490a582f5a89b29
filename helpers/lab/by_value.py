"""Instruments for chapter 02's recipe "keep a worker function in the notebook after all".

A function defined in a notebook cannot be pickled by reference (``__main__`` is not a
module a spawned child can import), but `cloudpickle`, which joblib's default backend
(loky) uses for its tasks, pickles it *by value*: its code and every global it uses go
into the pickle. :func:`pickled_sizes` says how large each way makes a function,
:func:`per_task_seconds` times a batch of tasks, :func:`run_with_joblib` runs tasks on
loky and stops its workers afterwards, and :func:`describe_costs` turns the
measurements into sentences.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Iterable, Mapping

from helpers.lab.args import check_int, check_seconds


def pickled_sizes(func: Callable) -> dict[str, int | None]:
    """Return the bytes of ``func`` pickled by ``pickle`` (None if it cannot) and by ``cloudpickle``."""
    import cloudpickle

    try:
        by_pickle = len(pickle.dumps(func))
    except (pickle.PicklingError, AttributeError, TypeError):
        by_pickle = None
    return {"pickle": by_pickle, "cloudpickle": len(cloudpickle.dumps(func))}


def run_with_joblib(func: Callable, args: Iterable, *, n_jobs: int = 2, timeout: float = 60.0,
                    shutdown: bool = True) -> list:
    """Return ``[func(a) for a in args]`` computed by joblib's loky workers; stop them after if ``shutdown``."""
    check_int("n_jobs", n_jobs, 1, 64)
    check_seconds("timeout", timeout, 1)
    from joblib import Parallel, delayed
    from joblib.externals.loky import get_reusable_executor

    try:
        return Parallel(n_jobs=n_jobs, timeout=timeout)(delayed(func)(a) for a in args)
    finally:
        if shutdown:
            get_reusable_executor().shutdown(wait=True)  # loky keeps its workers for the next call


def per_task_seconds(run: Callable[[], object], tasks: int, *, repeats: int = 3) -> float:
    """Return the fastest of ``repeats`` calls of ``run()``, divided by the ``tasks`` it runs."""
    check_int("tasks", tasks, 1)
    check_int("repeats", repeats, 1, 100)
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - began)
    return best / tasks


def format_costs(costs: Mapping[str, tuple[int, float]]) -> str:
    """A table: each way, the bytes its function pickles to, and its time per task in microseconds."""
    width = max(len(way) for way in costs) + 2
    lines = [f"{'way':<{width}}{'function pickled':>17}{'per task':>12}"]
    for way, (size, seconds) in costs.items():
        lines.append(f"{way:<{width}}{size:>11,} bytes{seconds * 1e6:>9.0f} µs")
    return "\n".join(lines)


def describe_costs(costs: Mapping[str, tuple[int, float]], by_value: str, by_name: str,
                   heavy: str, pool: str) -> str:
    """Sentences from the data: what pickling by value and a large global cost per task, next to a Pool."""
    (value_size, value_time), (name_size, name_time) = costs[by_value], costs[by_name]
    heavy_size, heavy_time = costs[heavy]
    pool_time = costs[pool][1]
    return "\n".join([
        f"By value, the function pickled to {value_size:,} bytes, by name to {name_size:,}; per task, joblib took "
        f"{value_time * 1e6:.0f} µs with the one and {name_time * 1e6:.0f} µs with the other "
        f"({'more' if value_time > name_time else 'no more'} for the function sent by value, in this run).",
        f"The function that reads a large global pickled to {heavy_size / 1e6:.1f} MB and took "
        f"{heavy_time / value_time:.1f}x the time per task of the small one.",
        f"Pool.map_async with the module's function took {pool_time * 1e6:.0f} µs per task: "
        f"joblib's own cost per task was {name_time / pool_time:.0f}x that here.",
    ])

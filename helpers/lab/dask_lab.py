"""The scale-out chapter's instruments: connect to Dask, shut it down, and time the same
tasks on a ``multiprocessing.Pool`` and on a Dask cluster.

:func:`connect` is the one place that decides where the chapter's tasks run: on the
cluster whose scheduler the environment variable ``MP_BOOK_DASK_SCHEDULER`` names
(``tcp://host:8786``), or else on a ``LocalCluster`` of worker processes started here.
:func:`shutdown` closes both with a time limit. :func:`measure_overhead` times one
batch per task size in the parent, on a Pool and on Dask (start-up apart: both are
running before the clock starts); :func:`describe_overhead` says what the numbers show,
computed from them; :func:`plot_overhead` draws them.

Dask and matplotlib are imported inside the functions that need them.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence

from helpers.lab.args import check_callable, check_int, check_int_list, check_seconds
from helpers.lab.results import pool_result

ADDRESS_VARIABLE = "MP_BOOK_DASK_SCHEDULER"
NEAR_POOL = 1.25  # "close to the Pool": at most 25 % slower per task

__all__ = [
    "ADDRESS_VARIABLE", "connect", "describe_overhead", "measure_overhead", "plot_overhead",
    "scheduler_address", "shutdown",
]


def scheduler_address(environ: dict | None = None) -> str | None:
    """Return the scheduler address in ``MP_BOOK_DASK_SCHEDULER``, or None when it is unset or blank.

    >>> scheduler_address({"MP_BOOK_DASK_SCHEDULER": " tcp://10.0.0.5:8786 "})
    'tcp://10.0.0.5:8786'
    >>> scheduler_address({}) is None
    True
    """
    value = (os.environ if environ is None else environ).get(ADDRESS_VARIABLE, "").strip()
    return value or None


def connect(n_workers: int = 2, *, timeout: float = 30.0, environ: dict | None = None):
    """Return ``(client, cluster)``, with at least one worker ready within ``timeout`` seconds.

    With ``MP_BOOK_DASK_SCHEDULER`` set: a ``Client`` of that scheduler, and ``cluster``
    None (the cluster belongs to whoever started it). Otherwise: a new ``LocalCluster`` of
    ``n_workers`` worker processes with one thread each, its dashboard on a free port,
    and a ``Client`` of it, once all ``n_workers`` are ready.
    """
    from dask.distributed import Client, LocalCluster

    check_int("n_workers", n_workers, 1, 64)
    check_seconds("timeout", timeout, 1.0)
    address = scheduler_address(environ)
    if address:
        client = Client(address, timeout=f"{timeout}s")
        try:
            client.wait_for_workers(1, timeout=timeout)
        except BaseException:
            client.close(timeout=timeout)
            raise
        return client, None
    cluster = LocalCluster(
        n_workers=n_workers, processes=True, threads_per_worker=1,
        dashboard_address=":0", silence_logs=logging.CRITICAL,
    )
    try:
        client = Client(cluster, timeout=f"{timeout}s")
        client.wait_for_workers(n_workers, timeout=timeout)
    except BaseException:
        cluster.close(timeout=timeout)
        raise
    return client, cluster


def shutdown(client, cluster=None, *, timeout: float = 10.0) -> None:
    """Close ``client``, then ``cluster`` (its workers and scheduler) if given, each within ``timeout`` s."""
    check_seconds("timeout", timeout, 0.1)
    try:
        client.close(timeout=timeout)
    finally:
        if cluster is not None:
            cluster.close(timeout=timeout)


def _time_dask(client, func: Callable, tasks: list, timeout: float) -> tuple[float, list]:
    from dask.distributed import wait

    start = time.perf_counter()
    futures = [client.submit(func, task, pure=False) for task in tasks]
    wait(futures, timeout=timeout)  # raises TimeoutError if some are not done in time
    results = client.gather(futures)  # all done: gather only collects
    return time.perf_counter() - start, results


def measure_overhead(client, pool, func: Callable, sizes: Sequence[int], *, tasks: int = 40,
                     timeout: float = 60.0) -> list[dict]:
    """Time ``tasks`` calls ``func(size)`` per size: in the parent, on ``pool``, on Dask's ``client``.

    Both pools must be running already, so only the work is timed. Returns one row per
    size: ``size``, ``task_s`` (one call in the parent), and the wall-clock seconds per
    task of the batch on the pool (``pool_s``) and on Dask (``dask_s``). Raises
    ``AssertionError`` if the three give different results.
    """
    check_callable("func", func)
    sizes = check_int_list("sizes", sizes, 0)
    check_int("tasks", tasks, 1, 10_000)
    check_seconds("timeout", timeout, 1.0)
    rows = []
    for size in sizes:
        batch = [size] * tasks
        start = time.perf_counter()
        expected = [func(size) for _ in range(min(tasks, 5))]
        task_s = (time.perf_counter() - start) / len(expected)
        start = time.perf_counter()
        on_pool = pool_result(pool, pool.map_async(func, batch, chunksize=1), timeout)
        pool_s = (time.perf_counter() - start) / tasks
        dask_wall, on_dask = _time_dask(client, func, batch, timeout)
        assert on_pool == on_dask == [expected[0]] * tasks, f"results differ for size {size}"
        rows.append({"size": size, "task_s": task_s, "pool_s": pool_s, "dask_s": dask_wall / tasks})
    return rows


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"


def describe_overhead(rows: Sequence[dict], workers: int = 2) -> list[str]:
    """Return sentences that say what ``rows`` (from :func:`measure_overhead`) show, from their numbers."""
    if not rows:
        raise ValueError("rows must not be empty: run measure_overhead first")
    rows = sorted(rows, key=lambda r: r["task_s"])
    tiny = rows[0]
    lines = [
        f"tiniest task ({_ms(tiny['task_s'])} in the parent): {_ms(tiny['dask_s'])} per task on Dask, "
        f"{_ms(tiny['pool_s'])} on the Pool ({tiny['dask_s'] / tiny['pool_s']:.1f}x)"
    ]
    beats = next((r for r in rows if r["dask_s"] < r["task_s"]), None)
    lines.append(
        f"Dask beat the parent alone from tasks of about {_ms(beats['task_s'])} on"
        if beats else "Dask beat the parent alone at no task size measured"
    )
    near = next((r for r in rows if r["dask_s"] <= NEAR_POOL * r["pool_s"]), None)
    lines.append(
        f"Dask came within {round((NEAR_POOL - 1) * 100)} % of the Pool's time per task from tasks of about "
        f"{_ms(near['task_s'])} on" if near else
        f"Dask stayed more than {round((NEAR_POOL - 1) * 100)} % slower than the Pool at every task size measured"
    )
    ideal = rows[-1]["task_s"] / workers
    lines.append(f"largest task ({_ms(rows[-1]['task_s'])}): ideal with {workers} workers {_ms(ideal)} per task, "
                 f"Pool {_ms(rows[-1]['pool_s'])}, Dask {_ms(rows[-1]['dask_s'])}")
    return lines


def plot_overhead(rows: Sequence[dict], *, workers: int = 2, title: str | None = None):
    """Draw wall-clock time per task against task length, for the Pool, Dask and the ideal; return the figure."""
    import matplotlib.pyplot as plt

    if not rows:
        raise ValueError("rows must not be empty: run measure_overhead first")
    rows = sorted(rows, key=lambda r: r["task_s"])
    x = [r["task_s"] * 1e3 for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(x, [r["pool_s"] * 1e3 for r in rows], "o-", label="multiprocessing.Pool")
    ax.plot(x, [r["dask_s"] * 1e3 for r in rows], "s-", label="Dask (LocalCluster)")
    ax.plot(x, [v / workers for v in x], "k--", label=f"ideal: task time / {workers}")
    ax.set(xscale="log", yscale="log", xlabel="task length in the parent (ms)",
           ylabel="wall-clock time per task (ms)", title=title or f"{workers} workers each")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig

"""Workers for the scale-out chapter: what the tasks on a Dask cluster run, beyond the
pool chapters' workers (``helpers.workloads``, ``helpers.processes``, ``helpers.pools``).

``scaled_total`` needs a large input (to show what sending data costs, and ``scatter``),
``fail_first_time`` raises once (for ``retries``), ``die_first_time`` ends its worker
process once (a worker lost mid-task), and ``count_with_dask_lock`` shares a counter
between tasks through Dask's own ``Lock`` and ``Variable``, which live on the scheduler.

Dask is imported inside the function that needs it: this module imports without Dask.
"""

from __future__ import annotations

import os
from pathlib import Path


def scaled_total(values, factor: float) -> float:
    """Return the sum of the NumPy array ``values``, times ``factor``."""
    return float(values.sum()) * factor


def fail_first_time(marker: str) -> str:
    """Raise RuntimeError if the file ``marker`` does not exist yet (creating it); else return "ok"."""
    path = Path(marker)
    if not path.exists():
        path.touch()
        raise RuntimeError(f"a passing failure: {path.name} did not exist yet")
    return "ok"


def die_first_time(marker: str) -> str:
    """End this process at once (os._exit) if the file ``marker`` does not exist yet (creating it); else return "ok"."""
    path = Path(marker)
    if not path.exists():
        path.touch()
        os._exit(1)  # like a crash or a lost machine: no result, no clean-up
    return "ok"


def count_with_dask_lock(times: int, name: str) -> int:
    """Add 1 to the Dask Variable ``name``, ``times`` times, each under the Dask Lock ``name``; return ``times``."""
    from distributed import Lock, Variable

    lock, counter = Lock(name), Variable(name)
    for _ in range(times):
        if not lock.acquire(timeout=10):
            raise TimeoutError(f"the Dask Lock {name!r} was not free within 10 s")
        try:
            counter.set(counter.get(timeout=10) + 1)  # read, add, write: safe only under the lock
        finally:
            lock.release()
    return times

"""What this machine offers to parallel code: CPU counts, quotas and start methods."""

from __future__ import annotations

import math
import multiprocessing
import os
import platform
import sys
import threading
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cgroup_cpu_quota(root: str | os.PathLike[str] = CGROUP_ROOT) -> float | None:
    """Return the CPU quota of this process's cgroup in CPUs, or ``None`` if unlimited.

    Reads cgroup v2 (``cpu.max``: ``"<quota> <period>"`` or ``"max <period>"``) and
    falls back to cgroup v1 (``cpu/cpu.cfs_quota_us`` and ``cpu/cpu.cfs_period_us``,
    where a quota of -1 means unlimited). ``root`` exists so tests can point at
    fake files.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "cpu.max").write_text("150000 100000\\n")
    >>> cgroup_cpu_quota(d)
    1.5
    """
    root = Path(root)
    v2 = _read(root / "cpu.max")
    if v2 is not None:
        fields = v2.split()
        if len(fields) != 2 or fields[0] == "max":
            return None
        quota, period = int(fields[0]), int(fields[1])
        return quota / period if quota > 0 and period > 0 else None
    for v1 in (root / "cpu", root / "cpu,cpuacct"):
        quota_text = _read(v1 / "cpu.cfs_quota_us")
        period_text = _read(v1 / "cpu.cfs_period_us")
        if quota_text is not None and period_text is not None:
            quota, period = int(quota_text), int(period_text)
            return quota / period if quota > 0 and period > 0 else None
    return None


def affinity_cpus() -> int | None:
    """Return how many CPUs the scheduler lets this process run on, or ``None`` if unknown."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return None


def process_cpus() -> int | None:
    """Return ``os.process_cpu_count()`` (Python 3.13+), else the affinity, else ``None``."""
    if hasattr(os, "process_cpu_count"):
        return os.process_cpu_count()
    return affinity_cpus()


def effective_cpus(root: str | os.PathLike[str] = CGROUP_ROOT) -> int:
    """Return how many CPUs this process can really keep busy at once (at least 1).

    The smallest of the CPUs in the machine (``os.cpu_count()``), the CPUs this
    process may run on (affinity, or ``os.process_cpu_count()``), and the cgroup
    CPU quota rounded up. On a Binder session with a quota of one CPU this is 1,
    however many CPUs the host has: size pools with this, not ``os.cpu_count()``.
    """
    counts = [n for n in (os.cpu_count(), process_cpus()) if n]
    quota = cgroup_cpu_quota(root)
    if quota is not None:
        counts.append(math.ceil(quota))
    return max(1, min(counts)) if counts else 1


def default_start_method(
    platform_name: str = sys.platform,
    version: tuple[int, int] = sys.version_info[:2],
    can_send_handles: bool | None = None,
) -> str:
    """Return the start method CPython uses by default on a platform and version.

    ``spawn`` on Windows and macOS. On Linux and other POSIX systems ``fork`` up to
    Python 3.13; from 3.14 ``forkserver`` where the platform can pass file
    descriptors between processes (``multiprocessing.reduction.HAVE_SEND_HANDLE``,
    true on Linux), else ``spawn``: never ``fork``.

    >>> default_start_method("linux", (3, 13)), default_start_method("linux", (3, 14), True)
    ('fork', 'forkserver')
    >>> default_start_method("linux", (3, 14), can_send_handles=False)
    'spawn'
    >>> default_start_method("darwin", (3, 12)), default_start_method("win32", (3, 14))
    ('spawn', 'spawn')
    """
    if not (isinstance(version, tuple) and len(version) >= 2):
        raise TypeError(f"version must be a (major, minor) tuple, got {version!r}")
    if platform_name in ("win32", "darwin"):
        return "spawn"
    if tuple(version[:2]) < (3, 14):
        return "fork"
    if can_send_handles is None:
        from multiprocessing import reduction

        can_send_handles = bool(getattr(reduction, "HAVE_SEND_HANDLE", False))
    return "forkserver" if can_send_handles else "spawn"


def os_thread_count() -> int:
    """Return how many OS threads this process has (Linux ``/proc``), else Python's count."""
    status = _read(Path("/proc/self/status"))
    if status:
        for line in status.splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return threading.active_count()


def machine_report() -> dict[str, object]:
    """Return the facts the book's chapters depend on, as an ordered mapping for display."""
    quota = cgroup_cpu_quota()
    return {
        "Python": platform.python_version(),
        "Implementation": platform.python_implementation(),
        "Operating system": f"{platform.system()} {platform.release()}",
        "Default start method here": default_start_method(),
        "Start method in use": multiprocessing.get_start_method(allow_none=True) or "(not set yet)",
        "Threads in this process (Python)": threading.active_count(),
        "Threads in this process (OS)": os_thread_count(),
        "os.cpu_count()": os.cpu_count(),
        "CPUs in affinity mask": affinity_cpus(),
        "os.process_cpu_count()": (
            os.process_cpu_count() if hasattr(os, "process_cpu_count") else "(Python 3.13+)"
        ),
        "cgroup CPU quota": "none" if quota is None else f"{quota:g} CPUs",
        "helpers.effective_cpus()": effective_cpus(),
    }


def check_pool_size(answer: object) -> bool:
    """Exercise check: is ``answer`` the right number of worker processes for CPU-bound work here?"""
    from helpers.lab.exercises import feedback

    right = effective_cpus()
    return feedback(
        isinstance(answer, int) and not isinstance(answer, bool) and answer == right,
        "Right: one worker per CPU you can really use, which is what effective_cpus() counts.",
        f"Not quite: you gave {answer!r}. Which of the counts above honours affinity AND the cgroup quota?",
    )


def machine_label(start_method: str | None = None) -> str:
    """Return the one note of where a measurement was made, for figure titles and captions.

    Python version, the CPUs this process can use (:func:`effective_cpus`), the
    operating system and, if given, the start method:
    ``"Python 3.14.0, 2 CPUs, Linux, spawn"``.
    """
    cpus = effective_cpus()
    note = f"Python {platform.python_version()}, {cpus} CPU{'s' if cpus != 1 else ''}, {platform.system()}"
    return f"{note}, {start_method}" if start_method else note

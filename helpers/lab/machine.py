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
PROC_SELF_CGROUP = Path("/proc/self/cgroup")  # which cgroup this process is in


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _own_cgroups() -> dict[str, str]:
    """Return this process's cgroup in each hierarchy, from :data:`PROC_SELF_CGROUP`.

    Keys are the controllers of a cgroup v1 hierarchy (``"cpu,cpuacct"``), or ``""``
    for cgroup v2; values are paths below the hierarchy's root (``"/user.slice/x"``).
    """
    groups = {}
    for line in (_read(PROC_SELF_CGROUP) or "").splitlines():
        fields = line.split(":", 2)
        if len(fields) == 3:
            groups[fields[1]] = fields[2]
    return groups


def _folders_up(top: Path, group: str) -> list[Path]:
    """Return ``top/group`` and each folder above it, up to ``top`` itself."""
    parts = [part for part in group.split("/") if part not in ("", ".", "..")]
    return [top.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]


def _quota(quota_text: str, period_text: str) -> float | None:
    try:
        quota, period = int(quota_text), int(period_text)
    except ValueError:  # "max": no quota
        return None
    return quota / period if quota > 0 and period > 0 else None


def cgroup_cpu_quota(root: str | os.PathLike[str] = CGROUP_ROOT) -> float | None:
    """Return the CPU quota of this process's cgroup in CPUs, or ``None`` if unlimited.

    A quota on any cgroup above this process's own limits it too (systemd's
    ``CPUQuota=``, Slurm, a container inside a limited slice), so this reads the
    process's own cgroup, as ``/proc/self/cgroup`` names it, and every one above
    it up to ``root``, and returns the smallest quota found. Reads cgroup v2
    (``cpu.max``: ``"<quota> <period>"`` or ``"max <period>"``) and falls back to
    cgroup v1 (``cpu/cpu.cfs_quota_us`` and ``cpu/cpu.cfs_period_us``, where a
    quota of -1 means unlimited). ``root`` exists so tests can point at fake files.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (pathlib.Path(d) / "cpu.max").write_text("150000 100000\\n")
    ...     cgroup_cpu_quota(d)
    1.5
    """
    root = Path(root)
    groups = _own_cgroups()
    v2 = [text.split() for f in _folders_up(root, groups.get("", "/")) if (text := _read(f / "cpu.max"))]
    if v2:
        quotas = [_quota(*fields) for fields in v2 if len(fields) == 2]
    else:
        v1_group = next((g for names, g in groups.items() if "cpu" in names.split(",")), "/")
        quotas = [
            _quota(quota_text, period_text)
            for top in (root / "cpu", root / "cpu,cpuacct")
            for f in _folders_up(top, v1_group)
            if (quota_text := _read(f / "cpu.cfs_quota_us")) is not None
            and (period_text := _read(f / "cpu.cfs_period_us")) is not None
        ]
    return min((q for q in quotas if q is not None), default=None)


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
    process may run on (affinity, or ``os.process_cpu_count()``), and the CPU
    quota of its cgroup or of any cgroup above it (:func:`cgroup_cpu_quota`),
    rounded up. On a Binder session with a quota of one CPU this is 1, however
    many CPUs the host has: size pools with this, not ``os.cpu_count()``.
    """
    counts = [n for n in (os.cpu_count(), process_cpus()) if n]
    quota = cgroup_cpu_quota(root)
    if quota is not None:
        counts.append(math.ceil(quota))
    return max(1, min(counts)) if counts else 1


def physical_cores() -> int | None:
    """Return how many physical cores the machine has (psutil), or ``None`` where that is unknown.

    A core with simultaneous multithreading (Intel's Hyper-Threading, AMD's SMT)
    shows up as two logical CPUs that share its execution units: two busy
    processes on one core run well short of twice as fast as one. ``psutil`` reads
    the count from the operating system on Linux, macOS and Windows; it is not
    smaller for a process limited by affinity or a quota (see :func:`compute_cores`).
    """
    try:
        import psutil
    except ImportError:  # the book lists it; a bare environment may lack it
        return None
    return psutil.cpu_count(logical=False) or None


def compute_cores(cpus: int | None = None, cores: int | None = None) -> int:
    """Return how many whole cores this process can compute on: the effective CPUs, at most the physical cores.

    On a 4-core laptop with 8 hyperthreads this is 4; in a container with a
    quota of 2 CPUs on a 32-core host it is 2.

    >>> compute_cores(8, 4), compute_cores(2, 32)
    (4, 2)
    """
    cpus = effective_cpus() if cpus is None else cpus
    cores = physical_cores() if cores is None else cores
    return min(cpus, cores) if cores else cpus


def load_average() -> float | None:
    """Return the 1-minute load average (``os.getloadavg()``), or ``None`` where there is none (Windows)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def load_label(cpus: int | None = None) -> str:
    """Return how busy the CPUs are, for a title or a printed summary.

    ``"1-minute load average 0.42 on 2 CPUs"`` (the CPUs :func:`effective_cpus`
    counts, as in :func:`machine_label`), or ``"load average unknown"`` where the
    system has none (Windows).
    """
    load = load_average()
    if load is None:
        return "load average unknown"
    cpus = effective_cpus() if cpus is None else cpus
    return f"1-minute load average {load:.2f} on {cpus} CPU{'s' if cpus != 1 else ''}"


def load_note(cpus: int | None = None, *,
              effect: str = "speedups measured now may be lower than this machine can give") -> str | None:
    """Return a warning when other programs keep the CPUs busy (1-minute load average), else None.

    ``effect`` says what that does to the measurement at hand. A speedup measured
    while the CPUs are busy is lower than the machine can give, and a start cost
    higher: the processes wait for a CPU that another program holds. ``None`` too
    where the system has no load average (Windows).
    """
    load = load_average()
    if load is None or load < 0.5:
        return None
    cpus = effective_cpus() if cpus is None else cpus
    return (
        f"note: the 1-minute load average is {load:.2f} on {cpus} effective CPU(s): other programs "
        f"are running, so {effect}."
    )


def default_start_method(
    platform_name: str = sys.platform,
    version: tuple[int, ...] = sys.version_info[:3],
    can_send_handles: bool | None = None,
    writable_tempdir: bool | None = None,
) -> str:
    """Return the start method CPython uses by default on a platform and version.

    ``spawn`` on Windows and macOS. On Linux and other POSIX systems ``fork`` up to
    Python 3.13; from 3.14 ``forkserver`` where the platform can pass file
    descriptors between processes (``multiprocessing.reduction.HAVE_SEND_HANDLE``,
    true on Linux) and, from 3.14.9 (gh-155717), the temporary folder is writable
    (the fork server's socket lives there); else ``spawn``: never ``fork``.
    ``version`` is ``(major, minor)`` or ``(major, minor, micro)``; without the
    micro version the temporary-folder condition is not applied.

    >>> default_start_method("linux", (3, 13)), default_start_method("linux", (3, 14), True)
    ('fork', 'forkserver')
    >>> default_start_method("linux", (3, 14), can_send_handles=False)
    'spawn'
    >>> default_start_method("linux", (3, 14, 9), True, writable_tempdir=False)
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
    if not can_send_handles:
        return "spawn"
    if len(version) >= 3 and tuple(version[:3]) >= (3, 14, 9):
        if writable_tempdir is None:
            import tempfile

            try:
                writable_tempdir = os.access(tempfile.gettempdir(), os.W_OK)
            except OSError:  # gettempdir raises FileNotFoundError when no folder is usable
                writable_tempdir = False
        if not writable_tempdir:
            return "spawn"
    return "forkserver"


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
        "Operating system": platform.system(),
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
        "Physical cores (psutil)": physical_cores() or "unknown",
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

    Python version, the CPUs this process can use (:func:`effective_cpus`), with
    the cores they are on where those are fewer (hyperthreads), the operating
    system and, if given, the start method: ``"Python 3.14.0, 2 CPUs, Linux, spawn"``
    or ``"Python 3.14.0, 8 CPUs on 4 cores, Linux"``.
    """
    cpus = effective_cpus()
    cores = compute_cores(cpus)
    on = f" on {cores} core{'s' if cores != 1 else ''}" if cores < cpus else ""
    note = f"Python {platform.python_version()}, {cpus} CPU{'s' if cpus != 1 else ''}{on}, {platform.system()}"
    return f"{note}, {start_method}" if start_method else note

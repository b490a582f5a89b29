"""Nothing of a test run outlives it: no process, no shared-memory segment, no semaphore.

A pytest plugin; the root ``conftest.py`` loads it (``pytest_plugins``), so it watches
every run: helper tests, nbval's kernels, the book build, JupyterLab and the browser.

At the start of the session it notes the ``/dev/shm`` entries of ``multiprocessing``
(``psm_*``: ``SharedMemory`` segments; ``sem.mp-*``: named semaphores, Linux) and
the processes of the run, and puts a marker (:data:`MARKER`, a fresh value) in the
environment. At the end it lists what is left, waiting up to :data:`SETTLE_S` for
processes that are still exiting (a kernel asked to shut down, a resource tracker
cleaning up after it), and fails the run if anything is: the list is printed in
the summary, the last line counts it (``N leaked``) and the exit status is 1.
A failed check is not pinned on whichever test happened to run last.

A process of the run is a descendant of the pytest process (by parent PID), or
any process whose environment carries this run's marker: that catches a
grandchild whose parent died and which now belongs to init, as long as it was
started by ``exec`` (spawn, forkserver, ``subprocess``) with the environment handed
on; a child of ``fork`` keeps the environment pytest itself started with, which
lacks the marker.
Zombies are dead and do not count.

Allowed to remain: the resource tracker and the fork server that ``multiprocessing``
starts for the pytest process itself, once each (and the resource tracker of joblib's
loky backend, which works the same way). They are its direct children, they
live as long as it does, and they end when it exits: each then reads the end of a
pipe from it (the tracker first unlinks what the run registered and did not free,
with a warning). Their own children are not allowed: a fork server's child is a
worker like any other.

A new ``/dev/shm`` entry counts as left behind when no process maps it, or when
a leaked process does. Entries mapped by other programs are theirs (``/dev/shm``
is shared by the whole machine). A ``sem.mp-*`` semaphore mapped by the pytest
process belongs to a live ``multiprocessing`` lock there, which unlinks it when it
is freed or at exit; a segment open in the pytest process is reported: a test
should unlink what it creates.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

MARKER = "MP_BOOK_TEST_RUN"
SETTLE_S = 10.0
SHM_DIR = Path("/dev/shm")
SEGMENT_PREFIX, SEMAPHORE_PREFIX = "psm_", "sem.mp-"
ALLOWED_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver",
                   "joblib.externals.loky.backend.resource_tracker")  # joblib's own tracker, the same role


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    zombie: bool
    command: str
    marked: bool  # its environment carries this run's marker


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def processes(marker: str | None = None) -> dict[int, Proc] | None:
    """Return every process this user can see: from /proc (Linux), else from psutil if it is
    installed (it comes with ipykernel); ``None`` where neither can tell."""
    if os.path.isdir("/proc/self"):
        return processes_from_proc(marker)
    try:
        return processes_from_psutil(marker)
    except ImportError:
        return None


def processes_from_proc(marker: str | None = None) -> dict[int, Proc]:
    token = f"{MARKER}={marker}".encode() if marker else None
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = _read(f"/proc/{name}/stat").decode(errors="replace")
            state, ppid = stat[stat.rindex(")") + 2:].split()[:2]  # the command may hold spaces
            command = _read(f"/proc/{name}/cmdline").replace(b"\0", b" ").decode(errors="replace").strip()
            try:
                marked = token is not None and token in _read(f"/proc/{name}/environ").split(b"\0")
            except OSError:  # another user's process
                marked = False
        except (OSError, ValueError):  # it ended meanwhile
            continue
        found[int(name)] = Proc(int(name), int(ppid), state == "Z", command, marked)
    return found


def processes_from_psutil(marker: str | None = None) -> dict[int, Proc]:
    import psutil

    found = {}
    for _ in range(3):
        try:
            listed = list(psutil.process_iter())
            break
        except IndexError:  # seen from psutil.pids() while processes start and end: read the table again
            continue
    else:
        listed = list(psutil.process_iter())
    for proc in listed:
        try:
            with proc.oneshot():
                try:
                    marked = marker is not None and proc.environ().get(MARKER) == marker
                except psutil.AccessDenied:
                    marked = False
                found[proc.pid] = Proc(proc.pid, proc.ppid(), proc.status() == psutil.STATUS_ZOMBIE,
                                       " ".join(proc.cmdline()), marked)
        except (psutil.Error, OSError):
            continue
    return found


def run_processes(marker: str | None = None, root: int | None = None) -> dict[int, Proc] | None:
    """Return the live processes of this run: descendants of ``root`` or marked, but not ``root``,
    not zombies, and not its allowed helpers (see the module's docstring)."""
    root = os.getpid() if root is None else root
    every = processes(marker)
    if every is None:
        return None
    children: dict[int, list[int]] = {}
    for proc in every.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    mine, todo = set(), list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid not in mine:
            mine.add(pid)
            todo.extend(children.get(pid, []))
    mine |= {pid for pid, proc in every.items() if proc.marked}
    return {
        pid: every[pid] for pid in sorted(mine - {root})
        if not every[pid].zombie
        and not (every[pid].ppid == root and any(h in every[pid].command for h in ALLOWED_HELPERS))
    }


def shm_entries() -> dict[str, int] | None:
    """Return ``{name: inode}`` of multiprocessing's entries in /dev/shm; ``None`` where there is no /dev/shm."""
    if not SHM_DIR.is_dir():
        return None
    found = {}
    for entry in os.scandir(SHM_DIR):
        if entry.name.startswith((SEGMENT_PREFIX, SEMAPHORE_PREFIX)):
            try:
                found[entry.name] = entry.inode()
            except OSError:
                pass
    return found


def mappers() -> dict[int, set[int]]:
    """Return ``{inode: PIDs}`` of the /dev/shm files that processes have mapped (Linux /proc)."""
    found: dict[int, set[int]] = {}
    for name in os.listdir("/proc") if os.path.isdir("/proc/self") else ():
        if not name.isdigit():
            continue
        try:
            for line in _read(f"/proc/{name}/maps").decode(errors="replace").splitlines():
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and fields[5].startswith("/dev/shm/"):
                    found.setdefault(int(fields[4]), set()).add(int(name))
        except (OSError, ValueError):
            continue
    return found


@dataclass(frozen=True)
class Snapshot:
    processes: frozenset[int] | None
    shm: dict[str, int] | None


def snapshot(marker: str | None = None) -> Snapshot:
    """Note the processes of this run and multiprocessing's /dev/shm entries, now."""
    procs = run_processes(marker)
    return Snapshot(None if procs is None else frozenset(procs), shm_entries())


def leaks_now(before: Snapshot, marker: str | None = None) -> list[str]:
    """Return one line per process or /dev/shm entry of this run that is new since ``before``."""
    multiprocessing.active_children()  # join the children multiprocessing knows have ended
    lines = []
    procs = run_processes(marker) if before.processes is not None else None
    leaked = {pid: p for pid, p in (procs or {}).items() if pid not in before.processes}
    for proc in leaked.values():
        lines.append(f"process {proc.pid} (parent {proc.ppid}) still running: {proc.command[:300]}")
    now = shm_entries() if before.shm is not None else None
    new = {name: inode for name, inode in (now or {}).items() if before.shm.get(name) != inode}
    if new:
        users = mappers()
        for name, inode in sorted(new.items()):
            pids = users.get(inode, set())
            kind = "segment" if name.startswith(SEGMENT_PREFIX) else "semaphore"
            if pids & set(leaked):
                lines.append(f"/dev/shm/{name}: a {kind}, held by leaked process {min(pids & set(leaked))}")
            elif os.getpid() in pids:
                if kind == "segment":
                    lines.append(f"/dev/shm/{name}: a segment still open in the test process and never unlinked")
            elif not pids:
                lines.append(f"/dev/shm/{name}: a {kind} that no process uses, never unlinked")
    return lines


def find_leaks(before: Snapshot, marker: str | None = None, settle: float = SETTLE_S) -> list[str]:
    """Return what this run left since ``before``.

    While a process is left, look again for up to ``settle`` seconds (it may be
    exiting, and a resource tracker unlinks what its program left once it sees it
    gone); /dev/shm entries alone, for up to a second (one is unmapped for an instant
    while it is created).
    """
    gc.collect()  # a lock or segment the tests dropped is freed (and its name unlinked) now, not at exit
    start = time.monotonic()
    while True:
        lines = leaks_now(before, marker)
        waited = time.monotonic() - start
        processes_left = any(line.startswith("process ") for line in lines)
        if not lines or waited >= settle or (not processes_left and waited >= min(settle, 1.0)):
            return lines
        time.sleep(0.2)


# --------------------------------------------------------------------------- the plugin

_BEFORE = pytest.StashKey[Snapshot]()
_LEAKS = pytest.StashKey[list]()


def pytest_sessionstart(session):
    os.environ[MARKER] = uuid.uuid4().hex
    session.config.stash[_BEFORE] = snapshot(os.environ[MARKER])


def pytest_sessionfinish(session, exitstatus):
    before = session.config.stash.get(_BEFORE, None)
    if before is None:
        return
    leaks = find_leaks(before, os.environ.get(MARKER))
    session.config.stash[_LEAKS] = leaks
    if leaks and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, config):
    before = config.stash.get(_BEFORE, None)
    if before is None or _LEAKS not in config.stash:
        return
    leaks = config.stash[_LEAKS]
    if before.processes is None:
        terminalreporter.write_line(f"leak check: processes not checked on {sys.platform} (no /proc, no psutil)")
    if not leaks:
        terminalreporter.write_line("leak check: no process, shared-memory segment or semaphore of this run is left")
        return
    terminalreporter.write_sep("=", "left behind by this test run (the run fails)", red=True, bold=True)
    for line in leaks:
        terminalreporter.write_line(line, red=True)
    terminalreporter.write_line("(tests/leak_check.py says what counts and what is allowed)")
    terminalreporter.stats.setdefault("leaked", []).extend(leaks)  # the last line reads "..., N leaked"

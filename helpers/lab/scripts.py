"""Run a whole Python program in a fresh interpreter, and read what children print.

Some lessons cannot happen inside a notebook's kernel: a script without the
``if __name__ == "__main__":`` guard, a parent that exits without joining, a
program that leaks a semaphore. :func:`run_script` runs such a program as a file
in a new interpreter, with ``helpers`` importable, and returns what it printed;
:func:`script_session` does the same for a program whose children may outlive it,
and kills them afterwards (:func:`program_session` does it for any command); :func:`capture_child_stderr` catches what a child
writes to its standard error. This is the book's one script runner.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from helpers.lab.args import check_seconds

ROOT = Path(__file__).resolve().parent.parent.parent


def script_env() -> dict[str, str]:
    """Return this environment with ``helpers`` importable and colour off.

    ipykernel sets ``FORCE_COLOR``; from Python 3.13 a child would then colour its
    tracebacks with terminal escape codes, which a notebook shows as noise.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHON_COLORS"] = "0"
    env["NO_COLOR"] = "1"
    return env


def run_script(source: str, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run ``source`` as a file ``script.py`` in a fresh Python interpreter; return the result.

    The script can import ``helpers``. Its output is in ``.stdout`` and ``.stderr``
    (text), its exit status in ``.returncode``. Raises ``subprocess.TimeoutExpired``
    after ``timeout`` seconds (the script is then killed).

    >>> run_script("import sys; print(sys.argv[1:])", "a", "b").stdout
    "['a', 'b']\\n"
    """
    _check_source(source)
    check_seconds("timeout", timeout, 0.1, 600)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "script.py"
        path.write_text(source, encoding="utf-8")
        return subprocess.run(
            [sys.executable, str(path), *map(str, args)],
            capture_output=True, text=True, timeout=timeout, env=script_env(), cwd=folder,
        )


def _check_source(source: object) -> str:
    """Return ``source`` if it is the non-empty text of a script, else raise ``ValueError``."""
    if not isinstance(source, str) or not source.strip():
        raise ValueError("source must be the non-empty text of a Python script")
    return source


class ScriptSession:
    """A program that :func:`program_session` ran: its ``result``, and which of its processes still run."""

    def __init__(self, result: subprocess.CompletedProcess, group: int | None) -> None:
        self.result = result
        self.group = group  # the program's session and process group (its PID); None where there are none

    def still_running(self, pid: int) -> bool | None:
        """Return whether ``pid`` is a process the program started that still runs (``None`` on Windows).

        A PID alone cannot tell: once that process has ended, the system may give its
        PID to any new process. A process in the program's session is the program's,
        though: no other process can join that session, and its ID is given to no new
        process while the session has a member or the program is unreaped.
        """
        if self.group is None:
            return None
        try:
            return os.getsid(pid) == self.group
        except ProcessLookupError:
            return False

    def members(self) -> list[int]:
        """Return the PIDs of the program's processes still running (not zombies); ``[]`` on Windows."""
        return [] if self.group is None else _session_members(self.group)


def _exit_status(process: subprocess.Popen) -> int | None:
    """Return the exit status of ``process`` once it has ended, else ``None``; never reap it where waitid can.

    An unreaped (zombie) process keeps its PID, which is also its session's ID, from
    being given to another process.
    """
    if not hasattr(os, "waitid"):  # Windows; macOS before Python 3.13: this reaps the program
        return process.poll()
    info = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    if info is None:
        return None
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


def wait_for_exit(process: subprocess.Popen, command, timeout: float) -> int:
    """Return the exit status of ``process`` once it has ended (not reaped: see :func:`_exit_status`).

    Raises ``subprocess.TimeoutExpired`` for ``command`` if it is still running after
    ``timeout`` seconds; stopping it is the caller's part.
    """
    deadline = time.monotonic() + timeout
    while (status := _exit_status(process)) is None:
        if time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(command, timeout)
        time.sleep(0.01)
    return status


@contextlib.contextmanager
def program_session(command: list[str], *, timeout: float = 60.0, grace: float = 0.0, env: dict | None = None,
                    cwd: str | os.PathLike[str] | None = None) -> Iterator[ScriptSession]:
    """Run ``command``; yield a :class:`ScriptSession` once it has exited; then end what it left running.

    The book's one runner of whole programs, for programs whose children may outlive
    them (:func:`script_session`, the scale-out chapter's engines). On POSIX the
    program runs in a session of its own, which holds every process it starts, even
    those that move to process groups of their own (Ray's workers do); it is not
    reaped until the block ends, so :meth:`ScriptSession.still_running` tells its
    processes from strangers with a reused PID, and at the end of the block every
    process still in the session is killed, never a stranger. Its output goes to
    files, so a child that keeps running does not hold the result up. Raises
    ``subprocess.TimeoutExpired`` after ``timeout`` seconds (everything is then
    killed). With ``grace`` (seconds), the session first gets SIGTERM and that long to
    end: ``multiprocessing``'s resource tracker ignores SIGTERM, outlives the others,
    and unlinks the semaphores and segments they left, which SIGKILL at once would
    leave in ``/dev/shm``. On Windows only the program itself is killed.
    """
    check_seconds("timeout", timeout, 0.1, 600)
    check_seconds("grace", grace, 0, 60)
    posix = hasattr(os, "getsid")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                   env=script_env() if env is None else env, cwd=cwd, start_new_session=posix)
        try:
            status = wait_for_exit(process, command, timeout)
            result = subprocess.CompletedProcess(command, status, _text(out), _text(err))
            yield ScriptSession(result, process.pid if posix else None)
        finally:
            if posix:
                _end_session(process.pid, grace)
            else:
                with contextlib.suppress(OSError):
                    process.kill()
            process.wait(timeout=10)  # ended or killed: it has exited, or does at once


@contextlib.contextmanager
def script_session(source: str, *args: str, timeout: float = 60.0, grace: float = 0.0) -> Iterator[ScriptSession]:
    """Run ``source`` as :func:`run_script` does, in a :func:`program_session`; yield its :class:`ScriptSession`."""
    _check_source(source)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "script.py"
        path.write_text(source, encoding="utf-8")
        command = [sys.executable, str(path), *map(str, args)]
        with program_session(command, timeout=timeout, grace=grace, cwd=folder) as session:
            yield session


def _session_members(session: int) -> list[int]:
    """Return the PIDs of the live (not zombie) processes in ``session``, its leader included while it runs."""
    import psutil

    members = []
    for proc in psutil.process_iter(["status"]):
        with contextlib.suppress(OSError, psutil.Error):
            if os.getsid(proc.pid) == session and proc.info["status"] != psutil.STATUS_ZOMBIE:
                members.append(proc.pid)
    return members


def _end_session(session: int, grace: float) -> None:
    """SIGTERM every process in ``session`` and wait up to ``grace`` s (if ``grace``); then SIGKILL those left."""
    for signum in ((signal.SIGTERM,) if grace else ()) + (signal.SIGKILL,):
        for pid in _session_members(session):
            with contextlib.suppress(OSError):
                os.kill(pid, signum)
        deadline = time.monotonic() + (grace if signum == signal.SIGTERM else 5.0)
        while _session_members(session) and time.monotonic() < deadline:
            time.sleep(0.02)


def _text(file) -> str:
    file.seek(0)
    return file.read().decode("utf-8", errors="replace")


_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning|ProcessPool)):?( |$)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def exception_lines(text: str, max_lines: int = 3) -> list[str]:
    """Return the last exception in a traceback ``text``: its first line and what follows, stripped.

    At most ``max_lines`` non-empty lines; ``[]`` if there is no exception line.
    Terminal colour codes (Python 3.13+ colours tracebacks) are removed first.

    >>> exception_lines("Traceback (most recent call last):\\n  File 'x'\\nValueError: bad\\n")
    ['ValueError: bad']
    >>> exception_lines("\\x1b[1;35mValueError\\x1b[0m: \\x1b[35mbad\\x1b[0m")
    ['ValueError: bad']
    """
    lines = _ANSI.sub("", text).splitlines()
    starts = [i for i, line in enumerate(lines) if _EXCEPTION_LINE.match(line)]
    if not starts:
        return []
    found = [line.strip() for line in lines[starts[-1]:] if line.strip()]
    return found[:max_lines]


class Captured:
    """Text captured by :func:`capture_child_stderr`, readable once the block has ended."""

    def __init__(self) -> None:
        self.text = ""

    def exception_lines(self) -> list[str]:
        """Return the lines of the last exception in the captured text (see :func:`exception_lines`)."""
        return exception_lines(self.text)


@contextlib.contextmanager
def capture_child_stderr() -> Iterator[Captured]:
    """Point file descriptor 2 at a temporary file for the block; yield what was written there.

    A child started with ``spawn`` inside the block inherits that descriptor as its
    standard error, so what it prints there (a traceback, say) is captured instead of
    landing in some notebook cell. Read ``.text`` after the block. Children of a
    fork server do not inherit it: they get the server's standard error.
    """
    captured = Captured()
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as file:
        os.dup2(file.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            file.seek(0)
            captured.text = file.read().decode("utf-8", errors="replace")

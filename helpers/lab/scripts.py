"""Run a whole Python program in a fresh interpreter, and read what children print.

Some lessons cannot happen inside a notebook's kernel: a script without the
``if __name__ == "__main__":`` guard, a parent that exits without joining, a
program that leaks a semaphore. :func:`run_script` runs such a program as a file
in a new interpreter, with ``helpers`` importable, and returns what it printed;
:func:`capture_child_stderr` catches what a child writes to its standard error.
This is the book's one script runner.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
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
    if not isinstance(source, str) or not source.strip():
        raise ValueError("source must be the non-empty text of a Python script")
    check_seconds("timeout", timeout, 0.1, 600)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "script.py"
        path.write_text(source, encoding="utf-8")
        return subprocess.run(
            [sys.executable, str(path), *map(str, args)],
            capture_output=True, text=True, timeout=timeout, env=script_env(), cwd=folder,
        )


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


def pid_alive(pid: int) -> bool | None:
    """Return whether a process with this PID exists (``None`` on Windows, where this cannot tell)."""
    if sys.platform == "win32":
        return None  # os.kill on Windows would terminate the process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

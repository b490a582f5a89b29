"""Small tools the tests share: start children and check they ended, write a learner's module."""

from __future__ import annotations

import multiprocessing
import textwrap
from pathlib import Path

TIMEOUT = 30  # seconds a test child may take; a hang still fails in half a minute


def start(target, *args):
    """Start ``target(*args)`` in a child (the book's start method) and return the started process."""
    process = multiprocessing.Process(target=target, args=args)
    process.start()
    return process


def start_all(target, arg_tuples):
    """Start one child per argument tuple, named worker-1, worker-2 ...; return them started."""
    processes = [
        multiprocessing.Process(target=target, args=args, name=f"worker-{i}") for i, args in enumerate(arg_tuples, 1)
    ]
    for process in processes:
        process.start()
    return processes


def finish(*processes, timeout: float = TIMEOUT) -> None:
    """Join each process; fail (killing it) if one is still running or exited with an error."""
    for process in processes:
        process.join(timeout=timeout)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)
            raise AssertionError(f"{process.name} did not finish within {timeout} s")
        assert process.exitcode == 0, f"{process.name} exit code {process.exitcode}"


def write_module(folder: Path, name: str, text: str) -> str:
    """Write ``text`` (dedented) to ``folder/name.py``, as a %%writefile cell would; return ``name``."""
    (Path(folder) / f"{name}.py").write_text(textwrap.dedent(text))
    return name

"""The one script runner and the child-stderr capture."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time

import pytest

from helpers.lab.scripts import (
    capture_child_stderr,
    exception_lines,
    run_script,
    script_env,
    script_session,
)


def test_a_script_can_import_helpers_and_reports_its_exit_status():
    done = run_script("import helpers, sys; print(helpers.__name__); sys.exit(3)")
    assert done.stdout == "helpers\n" and done.returncode == 3


def test_a_script_that_runs_too_long_is_stopped():
    with pytest.raises(subprocess.TimeoutExpired):
        run_script("import time; time.sleep(60)", timeout=1)


@pytest.mark.parametrize(("source", "error"), [("", ValueError), ("   ", ValueError), (None, ValueError)])
def test_bad_source_fails_at_once(source, error):
    with pytest.raises(error):
        run_script(source)


def test_scripts_run_without_forced_colour(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    env = script_env()
    assert "FORCE_COLOR" not in env and env["PYTHON_COLORS"] == "0"
    done = run_script("raise ValueError('plain')")
    assert "\x1b[" not in done.stderr and exception_lines(done.stderr) == ["ValueError: plain"]


def test_exception_lines_finds_the_last_exception_only():
    text = "ValueError: first\nTraceback (most recent call last):\n  File 'x'\nKeyError: 'k'\n  note\n"
    assert exception_lines(text) == ["KeyError: 'k'", "note"]
    assert exception_lines("no error here") == []


def test_capture_child_stderr_catches_a_spawned_childs_traceback():
    from helpers.lab.exercises import feedback  # any importable function will do as a target

    ctx = multiprocessing.get_context("spawn")
    with capture_child_stderr() as captured:
        child = ctx.Process(target=feedback, args=("not a bool", "x"))  # missing argument: TypeError
        child.start()
        child.join(timeout=60)
    assert child.exitcode == 1
    assert captured.exception_lines()[0].startswith("TypeError")


LEAVES_A_CHILD = """\
import subprocess, sys

marker = sys.argv[1]
child = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep(1.5); open({marker!r}, 'w').close()"])
print(child.pid, flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")
def test_script_session_tells_the_script_children_and_kills_them_at_the_end(tmp_path):
    marker = tmp_path / "the child finished"
    with script_session(LEAVES_A_CHILD, str(marker), timeout=60) as session:
        assert session.result.returncode == 0, session.result.stderr
        child = int(session.result.stdout)
        assert session.still_running(child) is True  # the script has ended, its child runs on
        assert session.still_running(os.getpid()) is False  # a process that is not the script's
    time.sleep(2.5)
    assert not marker.exists(), "the child the script left running was not killed"


@pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")
def test_script_session_stops_a_script_that_runs_too_long():
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        with script_session("import time; time.sleep(60)", timeout=0.5):
            pass
    assert time.monotonic() - start < 20


def test_capture_child_stderr_restores_the_descriptor():
    """The chapter captures a child's stderr in the kernel: fd 2 must be the kernel's again afterwards."""
    before = os.fstat(2)
    with capture_child_stderr() as captured:
        os.write(2, b"to the file\n")
    after = os.fstat(2)
    assert captured.text == "to the file\n"
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)


def test_exception_lines_finds_a_broken_pool():
    """A qualified exception name whose last part is not ...Error."""
    text = "Traceback:\n  x\nconcurrent.futures.process.BrokenProcessPool: gone\n"
    assert exception_lines(text) == ["concurrent.futures.process.BrokenProcessPool: gone"]


HANDLES_SIGTERM = '''
import signal, sys, time
from pathlib import Path

def on_sigterm(signum, frame):
    Path(sys.argv[1]).write_text("terminated")
    sys.exit(0)

signal.signal(signal.SIGTERM, on_sigterm)
print("ready", flush=True)
time.sleep(60)
'''


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")
@pytest.mark.parametrize("grace", [0, 5])
def test_script_session_sends_sigterm_first_only_with_grace(tmp_path, grace):
    marker = tmp_path / "marker"
    with pytest.raises(subprocess.TimeoutExpired):
        with script_session(HANDLES_SIGTERM, str(marker), timeout=3, grace=grace):
            pass
    assert marker.exists() is bool(grace)  # without grace, SIGKILL at once: no handler runs
    with pytest.raises(ValueError):
        with script_session("pass", grace=-1):
            pass

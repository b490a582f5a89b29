"""The leak check (tests/leak_check.py) sees what a run leaves behind, and fails the run for it."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from multiprocessing import shared_memory
from pathlib import Path

import pytest

from tests import leak_check

from helpers.lab.results import end_process
from helpers.processes import sleep_forever

ROOT = Path(__file__).resolve().parent.parent

needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc (Linux)")
needs_shm = pytest.mark.skipif(leak_check.shm_entries() is None, reason="lists /dev/shm (Linux)")


@needs_shm
@needs_proc
@pytest.mark.parametrize("closed", [True, False], ids=["closed", "still-open"])
def test_a_segment_never_unlinked_is_found_and_goes_once_unlinked(closed):
    before = leak_check.snapshot()
    segment = shared_memory.SharedMemory(create=True, size=1024)
    try:
        if closed:
            segment.close()
        leaks = leak_check.find_leaks(before, settle=0)
        says = "that no process uses" if closed else "still open in the test process"
        assert any(segment.name.lstrip("/") in line and says in line for line in leaks), leaks
    finally:
        if not closed:
            segment.close()
        segment.unlink()
    assert not [line for line in leak_check.find_leaks(before, settle=0) if segment.name.lstrip("/") in line]


@needs_proc
def test_a_child_left_running_is_found_and_the_resource_tracker_is_allowed():
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()  # this process's own tracker: allowed, it ends when pytest does
    before = leak_check.snapshot()
    child = multiprocessing.Process(target=sleep_forever, args=(60,), name="left-running")
    child.start()
    try:
        leaks = leak_check.find_leaks(before, settle=0)
        assert any(line.startswith(f"process {child.pid} ") for line in leaks), leaks
        assert resource_tracker._resource_tracker._pid not in leak_check.run_processes()
    finally:
        end_process(child, timeout=0)
    assert not [line for line in leak_check.find_leaks(before, settle=5) if str(child.pid) in line]


@needs_proc
def test_psutil_sees_what_proc_sees():
    """Where there is no /proc (macOS, Windows) the check reads processes with psutil instead."""
    pytest.importorskip("psutil")
    marker = os.environ.get(leak_check.MARKER)
    child = multiprocessing.Process(target=sleep_forever, args=(60,))
    child.start()
    try:
        # A child that is still starting may exec between the two reads and change its command
        # line; once it has settled the two readings must agree.
        deadline = time.monotonic() + 10
        while True:
            via_proc = leak_check.processes_from_proc(marker)[child.pid]
            via_psutil = leak_check.processes_from_psutil(marker)[child.pid]
            if via_psutil == via_proc or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        found = leak_check.run_processes(marker)
    finally:
        end_process(child, timeout=0)
    assert via_psutil == via_proc and not via_proc.zombie
    assert child.pid in found  # a child of pytest, or of its fork server


ORPHAN_MAKER = (  # start a grandchild that sleeps (its output not tied to ours), print its PID, exit
    "import subprocess, sys; print(subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], "
    "stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid)"
)


@needs_proc
def test_an_orphan_whose_parent_has_exited_is_found_by_the_runs_marker(monkeypatch):
    marker = uuid.uuid4().hex
    monkeypatch.setenv(leak_check.MARKER, marker)
    before = leak_check.snapshot(marker)
    made = subprocess.run([sys.executable, "-c", ORPHAN_MAKER], capture_output=True, text=True, timeout=60)
    orphan = int(made.stdout)  # its parent has exited: it is no descendant of this process any more
    try:
        assert orphan not in leak_check.run_processes()  # not found without the marker...
        leaks = leak_check.find_leaks(before, marker, settle=0)
        assert any(line.startswith(f"process {orphan} ") for line in leaks), leaks  # ...found with it
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(orphan, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while orphan in (leak_check.run_processes(marker) or {}) and time.monotonic() < deadline:
        time.sleep(0.1)  # init reaps it
    assert orphan not in (leak_check.run_processes(marker) or {})


LEAKY_TEST = '''\
from multiprocessing import shared_memory

def test_leaves_a_segment():
    segment = shared_memory.SharedMemory(create=True, size=64)
    open({name_file!r}, "w").write(segment.name)
    segment.close()  # never unlinked
'''
CLEAN_TEST = "def test_nothing():\n    pass\n"


@needs_shm
@needs_proc
@pytest.mark.parametrize("leaky", [True, False], ids=["leaky", "clean"])
def test_the_plugin_fails_a_run_that_leaks_and_says_what(tmp_path, leaky):
    name_file = tmp_path / "segment-name"
    (tmp_path / "test_inner.py").write_text(LEAKY_TEST.format(name_file=str(name_file)) if leaky else CLEAN_TEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("PYTEST_ADDOPTS", None)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "tests.leak_check", "-p", "no:cacheprovider", "-c",
             str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )
    finally:
        if name_file.exists():  # the inner run's resource tracker unlinks it as that run exits; make sure
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leak_check.SHM_DIR / name_file.read_text().lstrip("/"))
    output = done.stdout + done.stderr
    if leaky:
        name = name_file.read_text().lstrip("/")
        assert done.returncode == 1, output
        assert "left behind by this test run" in output and f"/dev/shm/{name}" in output, output
        assert re.search(r"1 passed, 1 leaked", output), output
    else:
        assert done.returncode == 0, output
        assert "leak check: no process, shared-memory segment or semaphore of this run is left" in output, output

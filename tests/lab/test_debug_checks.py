"""Tests for helpers/lab/debug_checks.py: each check passes a right answer and fails a wrong one."""

from __future__ import annotations

import multiprocessing
import sys
import time

import pytest

from helpers.lab import debug_checks

FIXED = debug_checks.BUGGY_PROGRAM.replace(
    '    print("all done")', '    tasks.put(None)\n    worker.join(timeout=30)\n    print("all done")')

GOOD_WORKER = '''
import os, signal, sys, time
def work_then_clean_up(path, ready, max_seconds):
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(128 + s))
    open(path, "w").close()
    try:
        ready.set()
        time.sleep(max_seconds)
    finally:
        os.remove(path)
'''
NO_HANDLER = '''
import time
def work_then_clean_up(path, ready, max_seconds):
    open(path, "w").close()
    ready.set()
    time.sleep(max_seconds)
'''


def test_check_program_exits(capsys):
    assert debug_checks.check_program_exits(FIXED, timeout=30)
    assert not debug_checks.check_program_exits(debug_checks.BUGGY_PROGRAM, timeout=3)
    assert "never exited" in capsys.readouterr().out
    with pytest.raises(ValueError):
        debug_checks.check_program_exits("")


@pytest.mark.skipif(sys.platform == "win32", reason="terminate() cannot be caught on Windows")
def test_check_sigterm_cleanup(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good_cleanup.py").write_text(GOOD_WORKER)
    (tmp_path / "bad_cleanup.py").write_text(NO_HANDLER)
    assert debug_checks.check_sigterm_cleanup("good_cleanup")
    assert not debug_checks.check_sigterm_cleanup("bad_cleanup")
    assert "left its file behind" in capsys.readouterr().out
    (tmp_path / "stub_cleanup.py").write_text("def work_then_clean_up(path, ready, max_seconds):\n    ...\n")
    started = time.monotonic()
    assert not debug_checks.check_sigterm_cleanup("stub_cleanup", timeout=60)
    assert time.monotonic() - started < 30  # a child that ended is not waited for
    assert "never set ready (the child exited normally" in capsys.readouterr().out
    with pytest.raises(ValueError):
        debug_checks.check_sigterm_cleanup("not a module")


def right_finder(timeout):
    deadline = time.monotonic() + timeout
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    leaked = multiprocessing.active_children()
    assert not leaked, [child.name for child in leaked]


def test_check_leak_finder(capsys):
    assert debug_checks.check_leak_finder(right_finder)
    assert not debug_checks.check_leak_finder(lambda timeout: None)  # does not wait
    assert "returned while a child was still running" in capsys.readouterr().out
    assert not debug_checks.check_leak_finder(lambda timeout: time.sleep(min(timeout, 1)))  # never raises
    assert "did not raise" in capsys.readouterr().out
    assert multiprocessing.active_children() == []


def _gather_right(children, timeout):
    from multiprocessing.connection import wait

    deadline = time.monotonic() + timeout
    owner = {}
    for child, receiver in children.items():
        owner[receiver] = owner[child.sentinel] = child
    got = {}
    while owner and time.monotonic() < deadline:
        for ready in wait(list(owner), timeout=max(0, deadline - time.monotonic())):
            child = owner.pop(ready)
            if ready == child.sentinel:
                child.join(timeout=5)
                got.setdefault(child.name, child.exitcode)
            elif ready.poll(0):
                try:
                    got[child.name] = ready.recv()
                except EOFError:
                    pass
    return got


def _gather_pipes_only(children, timeout):
    """Waits on the pipes alone: the crasher's EOF says nothing about how it ended."""
    got = {}
    for child, receiver in children.items():
        if receiver.poll(timeout / len(children)):
            try:
                got[child.name] = receiver.recv()
            except EOFError:
                pass
    return got


def _gather_one_by_one(children, timeout):
    """Joins each child in turn, and waits for 'late' far longer than timeout."""
    got = {}
    for child, receiver in children.items():
        child.join(timeout=4)
        if receiver.poll(0):
            try:
                got[child.name] = receiver.recv()
            except EOFError:
                got[child.name] = child.exitcode
    return got


def _gather_forgets_eof(children, timeout):
    """Takes a ready pipe for a message: the crasher's pipe has none, and recv() raises EOFError."""
    from multiprocessing.connection import wait

    got = {}
    owner = {receiver: child for child, receiver in children.items()}
    for ready in wait(list(owner), timeout=timeout):
        got[owner[ready].name] = ready.recv() if ready.poll(0) else None
    return got


def test_check_gatherer_passes_a_readiness_loop_and_fails_the_rest(capsys):
    assert debug_checks.check_gatherer(_gather_right)
    assert "✅" in capsys.readouterr().out
    assert not debug_checks.check_gatherer(_gather_pipes_only)
    assert "sentinels too" in capsys.readouterr().out
    assert not debug_checks.check_gatherer(_gather_one_by_one)
    assert "wait at most timeout in all" in capsys.readouterr().out
    assert not debug_checks.check_gatherer(_gather_forgets_eof)
    assert "EOFError" in capsys.readouterr().out
    with pytest.raises(TypeError):
        debug_checks.check_gatherer("gather")
    assert multiprocessing.active_children() == []

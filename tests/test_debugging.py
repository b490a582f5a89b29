"""Tests for helpers/debugging.py: each worker does what the chapter says, within its limits."""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue as queue_module
import signal
import sys
import time
import uuid

import pytest

from helpers import debugging
from helpers.lab.debug import read_dump, stack_functions
from helpers.lab.results import end_process

ctx = multiprocessing.get_context()


def test_logged_square_sends_a_record_through_the_queue_handler():
    records = queue_module.Queue()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        debugging.send_logs_to(records)
        assert debugging.logged_square(4) == 16
        record = records.get(timeout=5)
        assert record.getMessage() == "squaring 4" and record.name == "mpbook.pool"
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


def test_hang_with_stack_dumps_writes_the_stuck_stack(tmp_path):
    path = str(tmp_path / "dump.txt")
    child = ctx.Process(target=debugging.hang_with_stack_dumps, args=(path, 0.3, 30))
    child.start()
    try:
        child.join(timeout=0.5)
        assert child.is_alive()
        assert stack_functions(read_dump(path, timeout=20))[:2] == ["wait_for_reply", "hang_with_stack_dumps"]
    finally:
        end_process(child, timeout=0)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="no SIGKILL")
def test_killed_like_oom_dies_of_sigkill():
    child = ctx.Process(target=debugging.killed_like_oom, args=(1,))
    child.start()
    child.join(timeout=30)
    assert child.exitcode == -signal.SIGKILL


@pytest.mark.skipif(sys.platform == "win32", reason="terminate() cannot be caught on Windows")
def test_hold_segment_until_sigterm_unlinks_its_segment():
    from multiprocessing.shared_memory import SharedMemory

    name = f"mpbook-test-{uuid.uuid4().hex[:8]}"
    ready = ctx.Event()
    child = ctx.Process(target=debugging.hold_segment_until_sigterm, args=(name, ready, 30))
    child.start()
    try:
        assert ready.wait(30)
        child.terminate()
        child.join(timeout=10)
        assert child.exitcode == 128 + signal.SIGTERM
        with pytest.raises(FileNotFoundError):
            SharedMemory(name=name)
    finally:
        end_process(child, timeout=0)


def test_work_until_parent_dies_returns_while_the_parent_lives_only_at_its_limit():
    child = ctx.Process(target=debugging.work_until_parent_dies, args=(0.05, 0.5))
    child.start()
    started = time.monotonic()
    child.join(timeout=30)
    assert child.exitcode == 0 and time.monotonic() - started >= 0.4


def test_die_with_parent_says_whether_it_could():
    assert debugging.die_with_parent(0) is sys.platform.startswith("linux")  # signal 0: clears the setting


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_sleep_until_parent_dies_sleeps_while_the_parent_lives():
    child = ctx.Process(target=debugging.sleep_until_parent_dies, args=(30,))
    child.start()
    try:
        child.join(timeout=1)
        assert child.is_alive()  # the parent (this process) lives: no signal
    finally:
        end_process(child, timeout=0)


def test_send_after_waits_then_sends_and_closes_its_end():
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=debugging.send_after, args=(sender, "done", 0.3))
    started = time.monotonic()
    child.start()
    sender.close()
    assert receiver.poll(30) and receiver.recv() == "done"
    assert time.monotonic() - started >= 0.3
    child.join(timeout=30)
    assert child.exitcode == 0
    with pytest.raises(EOFError):
        receiver.recv() if receiver.poll(5) else None

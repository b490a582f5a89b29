"""Tests for helpers/lab/debug.py."""

from __future__ import annotations

import multiprocessing
import os
import sys

import pytest

from helpers.lab import debug
from helpers.processes import nap, sleep_forever
from helpers.lab.results import end_process

DUMP = 'Timeout (0:00:01)!\nThread 0x1 (most recent call first):\n  File "/x/y/w.py", line 3 in wait\n  File "/x/w.py", line 9 in main\n'


def test_stack_functions_and_short_dump_read_a_faulthandler_dump():
    assert debug.stack_functions(DUMP) == ["wait", "main"]
    two = DUMP + 'Current thread 0x2 (most recent call first):\n  File "/x/v.py", line 1 in other\n'
    assert debug.stack_functions(two) == ["wait", "main"]
    assert "other" not in debug.short_dump(two) and "0x1" not in debug.short_dump(two)
    assert 'File "w.py", line 3 in wait' in debug.short_dump(DUMP) and "/x/" not in debug.short_dump(DUMP)


def test_read_dump_waits_for_a_frame_and_times_out(tmp_path):
    path = tmp_path / "d.txt"
    with pytest.raises(TimeoutError, match="no stack"):
        debug.read_dump(str(path), timeout=0.1)
    path.write_text(DUMP)
    assert debug.read_dump(str(path), timeout=1) == DUMP
    with pytest.raises(ValueError):
        debug.read_dump(str(path), timeout=-1)


def test_py_spy_dump_gives_a_stack_or_a_clear_reason(tmp_path):
    from helpers.debugging import hang_with_stack_dumps

    path = str(tmp_path / "dump.txt")
    child = multiprocessing.Process(target=hang_with_stack_dumps, args=(path, 0.1, 30))
    child.start()
    try:
        debug.read_dump(path, timeout=20)  # the child is stuck now
        attached, text = debug.py_spy_dump(child.pid)
        if attached:
            assert text.startswith("Thread ") and "wait_for_reply" in text and "\x1b[" not in text
        else:
            assert "instead" in text
    finally:
        end_process(child, timeout=0)


@pytest.mark.skipif(os.name != "posix", reason="no zombies on Windows")
def test_process_state_sees_a_zombie_until_join():
    child = multiprocessing.Process(target=nap, args=(0.05,))
    child.start()
    assert debug.wait_for_state(child.pid, "zombie", timeout=20)
    child.join(timeout=5)
    assert debug.process_state(child.pid) == "gone"
    assert not debug.wait_for_state(child.pid, "zombie", timeout=0.05)


@pytest.mark.parametrize("cause", list(debug.NEVER_EXITS))
def test_each_never_exits_program_hangs_and_its_cure_exits(cause):
    exited, what = debug.run_to_exit(debug.NEVER_EXITS[cause], timeout=3)
    assert not exited and "never exited" in what
    exited, what = debug.run_to_exit(debug.EXITS[cause], timeout=60)
    assert exited and "code 0" in what and "all done" in what


@pytest.mark.skipif(os.name != "posix", reason="script_session tracks children on POSIX only")
def test_the_orphan_stops_after_its_parent_dies():
    stopped, after = debug.orphan_stops(timeout=20)
    assert stopped and after < 20


def test_run_pytest_reports_the_summary():
    code, summary = debug.run_pytest("def test_ok():\n    assert True\n\ndef test_bad():\n    assert False\n", timeout=120)
    assert code == 1 and summary == "1 failed, 1 passed"

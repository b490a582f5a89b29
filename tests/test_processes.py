"""Tests of helpers/processes.py, the workers of chapters 01 and 02. Children start with the
book's method (spawn by default, set in tests/conftest.py), so these tests also prove that
each worker is importable by a fresh child."""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing
import os
import signal
import sys
import time

import pytest

from helpers.lab.processes import ListHandler
from helpers.lab.results import collect
from helpers.lab.scripts import exception_lines
from helpers.lab.timeline import Span
from helpers.processes import (
    count_numbers,
    ignore_sigterm,
    lane,
    log_progress,
    mystery,
    nap,
    noop,
    put_square,
    raise_error,
    sleep_forever,
    spell_letters,
    square,
    take_step,
)

POSIX = sys.platform != "win32"


def run(target, *args, name=None, **kwargs):
    """Start a child with the book's method, wait for it (10 s at most) and return it."""
    child = multiprocessing.Process(target=target, args=args, kwargs=kwargs, name=name)
    child.start()
    child.join(timeout=10)
    if child.is_alive():
        child.kill()
        child.join(timeout=5)
        pytest.fail(f"{name or target.__name__} did not end in 10 s")
    return child


# ---------------------------------------------------------------- simple workers


def test_square():
    assert [square(x) for x in (-3, 0, 1, 7)] == [9, 0, 1, 49]


def test_noop_ends_with_exit_code_0():
    assert noop() is None
    assert run(noop).exitcode == 0


def test_a_return_value_is_lost_but_put_square_sends_the_result_back():
    child = run(square, 7)
    assert child.exitcode == 0 and not hasattr(child, "result")
    queue = multiprocessing.Queue()
    run(put_square, queue, 12)
    answer = queue.get(timeout=5)
    assert answer == {"x": 12, "square": 144, "pid": answer["pid"]}
    assert answer["pid"] != os.getpid()


def test_nap_leaves_its_file_only_when_it_has_finished(tmp_path):
    done = tmp_path / "done"
    begin = time.monotonic()
    nap(0.05)
    assert time.monotonic() - begin >= 0.05 and not done.exists()
    assert run(nap, 0.05, str(done)).exitcode == 0
    assert done.exists()


# ---------------------------------------------------------------- ending: exit codes and signals


def test_a_child_that_raises_exits_with_1_and_its_traceback_goes_to_its_stderr(tmp_path):
    log = tmp_path / "stderr.txt"
    child = run(raise_error, "no such customer: 42", name="failing", stderr_path=str(log))
    assert child.exitcode == 1
    text = log.read_text()
    assert text.startswith("Process failing:\nTraceback (most recent call last):")
    assert exception_lines(text) == ["ValueError: no such customer: 42"]
    with pytest.raises(ValueError, match="in the parent"):
        raise_error("in the parent")


@pytest.mark.skipif(not POSIX, reason="negative exit codes are POSIX signals")
def test_mystery_cases_end_with_their_exit_codes():
    codes = [run(mystery, case).exitcode for case in range(4)]
    assert codes == [0, 1, 2, -signal.SIGKILL]


@pytest.mark.skipif(not POSIX, reason="SIGTERM can be ignored on POSIX only")
def test_terminate_sends_sigterm_and_kill_stops_a_child_that_ignores_it():
    child = multiprocessing.Process(target=sleep_forever)
    child.start()
    child.terminate()
    child.join(timeout=10)
    assert child.exitcode == -signal.SIGTERM

    ready = multiprocessing.Event()
    stubborn = multiprocessing.Process(target=ignore_sigterm, args=(ready,))
    stubborn.start()
    try:
        assert ready.wait(timeout=10)
        stubborn.terminate()
        stubborn.join(timeout=0.5)
        assert stubborn.is_alive()
        stubborn.kill()
        stubborn.join(timeout=10)
        assert stubborn.exitcode == -signal.SIGKILL
    finally:
        if stubborn.is_alive():
            stubborn.kill()
            stubborn.join(timeout=5)


def test_sleep_forever_gives_up_after_max_seconds():
    child = run(sleep_forever, 0.1)
    assert child.exitcode == 0


# ---------------------------------------------------------------- timeline workers


def test_timeline_workers_report_one_span_per_step_from_the_child():
    queue = multiprocessing.Queue()
    numbers = multiprocessing.Process(target=count_numbers, args=(queue, 3, 0.02), name="numbers")
    letters = multiprocessing.Process(target=spell_letters, args=(queue, "XY", 0.02), name="letters")
    numbers.start()
    letters.start()
    spans = collect(queue, 5, timeout=30)
    numbers.join(timeout=10)
    letters.join(timeout=10)
    assert (numbers.exitcode, letters.exitcode) == (0, 0)
    by_lane = {}
    for span in spans:
        assert isinstance(span, Span) and span.end >= span.start + 0.015
        by_lane.setdefault(span.lane, []).append(span.label)
    assert by_lane == {f"numbers (pid {numbers.pid})": ["0", "1", "2"], f"letters (pid {letters.pid})": ["X", "Y"]}
    assert numbers.pid != os.getpid()


def test_busy_steps_use_cpu_time():
    # spawn, whatever the book's method: a fork server's children are not ours, and
    # os.times() counts the CPU time of this process's own children only
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    before = os.times()
    child = ctx.Process(target=count_numbers, args=(queue, 2, 0.05), kwargs={"busy": True})
    child.start()
    spans = collect(queue, 2, timeout=30)
    child.join(timeout=10)
    after = os.times()
    assert child.exitcode == 0
    assert all(s.duration >= 0.05 for s in spans)
    assert after.children_user + after.children_system - before.children_user - before.children_system >= 0.09


def test_take_step_sleeps_or_computes():
    cpu, clock = time.thread_time(), time.monotonic()
    take_step(0.1)
    assert time.monotonic() - clock >= 0.1 and time.thread_time() - cpu < 0.05  # slept
    cpu = time.thread_time()
    take_step(0.05, busy=True)
    assert time.thread_time() - cpu >= 0.05  # computed


def test_lane_names_the_process_and_its_pid():
    assert lane() == f"{multiprocessing.current_process().name} (pid {os.getpid()})"


# ---------------------------------------------------------------- logging through a queue


def test_log_progress_sends_records_through_a_queue():
    queue = multiprocessing.Queue()
    handler = ListHandler()
    handler.setFormatter(logging.Formatter("%(processName)s: %(message)s"))
    listener = logging.handlers.QueueListener(queue, handler)
    listener.start()
    try:
        children = [multiprocessing.Process(target=log_progress, args=(queue, 3), name=n) for n in ("alpha", "beta")]
        for child in children:
            child.start()
        for child in children:
            child.join(timeout=10)
    finally:
        listener.stop()
    assert [child.exitcode for child in children] == [0, 0]
    for name in ("alpha", "beta"):
        assert [line for line in handler.lines if line.startswith(name)] == [f"{name}: step {i} of 3" for i in (1, 2, 3)]
    assert len(handler.lines) == 6


def test_no_child_is_left_behind():
    assert multiprocessing.active_children() == []

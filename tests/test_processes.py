"""Tests of helpers/processes.py. Children start with the book's method (spawn by default,
set in tests/conftest.py), so these tests also prove the workers are importable."""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers import processes  # noqa: E402
from helpers.processes import (  # noqa: E402
    capture_child_stderr,
    check_cheapest_method,
    check_child_result,
    check_diagnose,
    check_log_lines,
    check_three_together,
    collect,
    count_numbers,
    exception_lines,
    expected_view,
    format_seconds,
    ignore_sigterm,
    log_progress,
    measure_start_costs,
    mystery,
    nap,
    parent_exits,
    plot_start_costs,
    put_square,
    raise_error,
    report_view,
    run_script,
    run_workers,
    show_views,
    sleep_forever,
    spell_letters,
    start_cost,
    summarize_start_costs,
    worker_name,
)
from helpers.timeline import Span, busy_time, max_concurrency, wall_time  # noqa: E402

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
    by_worker = {}
    for span in spans:
        assert isinstance(span, Span) and span.end >= span.start + 0.015
        by_worker.setdefault(worker_name(span), []).append(span)
    assert [s.label for s in by_worker["numbers"]] == ["0", "1", "2"]
    assert [s.label for s in by_worker["letters"]] == ["X", "Y"]
    assert by_worker["numbers"][0].lane == f"numbers (pid {numbers.pid})"
    assert numbers.pid != os.getpid()


def test_busy_steps_use_cpu_time():
    queue = multiprocessing.Queue()
    before = os.times()
    child = run(count_numbers, queue, 2, 0.05, busy=True)
    spans = collect(queue, 2, timeout=5)
    after = os.times()
    assert child.exitcode == 0
    assert all(s.duration >= 0.05 for s in spans)
    assert after.children_user + after.children_system - before.children_user - before.children_system >= 0.09


def test_run_workers_overlap_and_halve_the_wall_time():
    spans = run_workers(processes=2, steps=4, step_seconds=0.1)
    assert len(spans) == 8
    assert {worker_name(s) for s in spans} == {"worker-1", "worker-2"}
    assert max_concurrency(spans) == 2
    assert wall_time(spans) < 0.75 * busy_time(spans)  # sleeping steps overlap
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: run_workers(processes=0), ValueError, "processes must be from 1 to 64, got 0"),
        (lambda: run_workers(processes=65), ValueError, "processes must be from 1 to 64"),
        (lambda: run_workers(processes=True), TypeError, "processes must be an int"),
        (lambda: run_workers("threads"), ValueError, "method must be one of"),
        (lambda: run_workers(steps=0), ValueError, "steps must be from 1 to 100"),
        (lambda: run_workers(step_seconds=0), ValueError, "step_seconds must be more than 0"),
        (lambda: run_workers(step_seconds="1"), TypeError, "step_seconds must be a number"),
        (lambda: count_numbers(None, steps=-1), ValueError, "steps must be from 1 to 1000"),
        (lambda: spell_letters(None, letters=""), ValueError, "letters must be a string"),
        (lambda: nap(-1), ValueError, "seconds must be more than 0"),
        (lambda: start_cost("spawn", repeats=0), ValueError, "repeats must be from 1 to 1000"),
        (lambda: start_cost("posix_spawn"), ValueError, "method must be one of"),
        (lambda: measure_start_costs([]), ValueError, "at least one start method"),
        (lambda: collect(None, -1), ValueError, "count must be from 0"),
        (lambda: mystery(4), ValueError, "case must be from 0 to 3, got 4"),
        (lambda: sleep_forever(0), ValueError, "max_seconds must be more than 0"),
        (lambda: run_script("  "), ValueError, "source must be the non-empty text"),
        (lambda: parent_exits("yes"), TypeError, "daemon must be True or False"),
        (lambda: processes.start_method_panel(processes=9), ValueError, "processes must be from 1 to 8"),
    ],
)
def test_bad_arguments_get_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_collect_times_out_when_a_child_sends_too_little():
    queue = multiprocessing.Queue()
    queue.put("only one")
    with pytest.raises(TimeoutError, match="got 1 of 2 items"):
        collect(queue, 2, timeout=0.3)


# ---------------------------------------------------------------- lifecycle and exit codes


def test_a_return_value_is_lost_but_a_queue_brings_the_result_back():
    child = run(processes.square, 7)
    assert child.exitcode == 0 and not hasattr(child, "result")
    queue = multiprocessing.Queue()
    run(put_square, queue, 12)
    answer = queue.get(timeout=5)
    assert answer["square"] == 144 and answer["pid"] != os.getpid()
    assert check_child_result(answer, 12) is True
    assert check_child_result({"x": 12, "square": 144, "pid": os.getpid()}, 12) is False
    assert check_child_result(144, 12) is False


def test_a_child_that_raises_exits_with_1_and_its_traceback_goes_to_its_stderr(tmp_path):
    log = tmp_path / "stderr.txt"
    child = run(raise_error, "no such customer: 42", name="failing", stderr_path=str(log))
    assert child.exitcode == 1
    text = log.read_text()
    assert text.startswith("Process failing:\nTraceback (most recent call last):")
    assert exception_lines(text) == ["ValueError: no such customer: 42"]


@pytest.mark.skipif(not POSIX, reason="negative exit codes are POSIX signals")
def test_mystery_cases_end_with_their_exit_codes():
    codes = [run(mystery, case).exitcode for case in range(4)]
    assert codes == [0, 1, 2, -signal.SIGKILL]


@pytest.mark.skipif(not POSIX, reason="signal names are POSIX")
def test_check_diagnose(capsys):
    def right(code):
        if code is None:
            return "running"
        if code == 0:
            return "success"
        if code > 0:
            return f"exit {code}"
        return f"signal {signal.Signals(-code).name}"

    assert check_diagnose(right) is True
    assert check_diagnose(lambda code: "success") is False
    assert check_diagnose(lambda code: 1 / 0) is False
    assert check_diagnose("success") is False
    out = capsys.readouterr().out
    assert "ZeroDivisionError" in out and out.count("❌") == 3


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


@pytest.mark.skipif(not POSIX, reason="checks for a PID with os.kill(pid, 0)")
def test_a_daemon_child_is_terminated_when_its_parent_exits_and_a_normal_one_is_waited_for():
    normal = parent_exits(False, child_seconds=0.6)
    daemon = parent_exits(True, child_seconds=0.6)
    assert normal["child_finished"] is True and normal["child_alive_after"] is False
    assert normal["parent_waited"] >= 0.3
    assert daemon["child_finished"] is False and daemon["child_alive_after"] is False


# ---------------------------------------------------------------- timelines


def test_check_three_together(capsys):
    def spans(lanes, offset):
        return [Span(lane, "x", i * offset, i * offset + 1) for i, lane in enumerate(lanes)]

    assert check_three_together(spans(["a", "b", "c"], 0.1)) is True
    assert check_three_together(spans(["a", "b", "c"], 1.0)) is False  # one after the other
    assert check_three_together(spans(["a", "b"], 0.1)) is False
    assert check_three_together([]) is False
    assert capsys.readouterr().out.count("❌") == 3


# ---------------------------------------------------------------- start methods


def test_each_start_method_shows_the_child_what_the_chapter_says(capsys):
    entry = "/added/by/the/test"
    processes.SETTING = "changed by the test"
    sys.path.append(entry)
    views = {}
    with tempfile.TemporaryFile() as file:
        info = os.fstat(file.fileno())
        processes.THREAD_LOCK.acquire()
        try:
            for method in processes.available_methods():
                ctx = multiprocessing.get_context(method)
                lock, queue = ctx.Lock(), ctx.Queue()
                with lock:
                    child = ctx.Process(
                        target=report_view,
                        args=(queue, file.fileno(), (info.st_dev, info.st_ino), entry, lock),
                    )
                    child.start()
                    views[method] = queue.get(timeout=30)
                    child.join(timeout=10)
                assert child.exitcode == 0
        finally:
            processes.THREAD_LOCK.release()
            processes.SETTING = "as imported"
            sys.path.remove(entry)
    for method, view in views.items():
        assert view.pop("pid") != os.getpid()
        assert view == expected_view(method, "changed by the test"), method
    show_views(views)
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[4:] == processes.available_methods()
    assert len(out) == 1 + len(processes.VIEW_ROWS)


def test_start_costs_are_measured_summarized_and_plotted():
    costs = measure_start_costs(["spawn"], repeats=2)
    assert list(costs) == ["spawn"] and len(costs["spawn"]) == 2
    assert all(0 < c < 30 for c in costs["spawn"])
    lines = summarize_start_costs({"spawn": [0.1, 0.3, 0.2], "fork": [0.002]})
    assert lines[0].split()[:3] == ["spawn:", "median", "200"]
    assert "fastest 100 ms, slowest 300 ms, 3 runs" in lines[0]
    ax = plot_start_costs({"spawn": [0.1, 0.3, 0.2], "fork": [0.002, 0.003]})
    try:
        assert [t.get_text() for t in ax.get_yticklabels()] == ["spawn", "fork"]
        assert ax.get_xscale() == "log" and "(log scale)" in ax.get_xlabel() and "Python" in ax.get_title()
        ax.figure.canvas.draw()
        labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert "10 ms" in labels and "100 ms" in labels
    finally:
        plt.close(ax.figure)
    with pytest.raises(ValueError, match="non-empty list"):
        plot_start_costs({"spawn": []})
    with pytest.raises(ValueError, match="is empty"):
        summarize_start_costs({"spawn": []})


def test_check_cheapest_method(capsys):
    costs = {"fork": [0.001, 0.5, 0.5], "spawn": [0.1, 0.1, 0.1]}  # fork has the fastest run, not the lowest median
    assert check_cheapest_method("spawn", costs) is True
    assert check_cheapest_method("fork", costs) is False
    assert check_cheapest_method("threads", costs) is False
    assert "medians" in capsys.readouterr().out


def test_format_seconds():
    assert [format_seconds(s) for s in (2.5, 0.25, 0.0012, 3e-6)] == ["2.50 s", "250 ms", "1.2 ms", "3 µs"]


# ---------------------------------------------------------------- helpers/, scripts, child stderr


def test_a_function_the_child_cannot_import_breaks_the_pool_and_its_error_is_captured(monkeypatch):
    def cube(x):
        return x**3

    # As in a notebook: the function lives in the parent's __main__, which a spawned child lacks.
    cube.__module__, cube.__qualname__ = "__main__", "cube_defined_in_a_notebook"
    monkeypatch.setattr(sys.modules["__main__"], "cube_defined_in_a_notebook", cube, raising=False)
    spawn = multiprocessing.get_context("spawn")
    with pytest.raises(BrokenProcessPool):
        with capture_child_stderr() as child_stderr:
            with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as executor:
                list(executor.map(cube, [1, 2], timeout=30))
    lines = child_stderr.exception_lines()
    assert lines and lines[0].startswith("AttributeError: Can't get attribute 'cube_defined_in_a_notebook'")


def test_capture_child_stderr_restores_the_descriptor():
    before = os.fstat(2)
    with capture_child_stderr() as captured:
        os.write(2, b"to the file\n")
    after = os.fstat(2)
    assert captured.text == "to the file\n"
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)


GUARDED = '''
import multiprocessing
from helpers.processes import put_square

if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=put_square, args=(queue, 5))
    child.start()
    print(queue.get(timeout=30)["square"])
    child.join(timeout=30)
'''

UNGUARDED = '''
import multiprocessing

def cube(x):
    return x ** 3

child = multiprocessing.get_context("spawn").Process(target=cube, args=(2,))
child.start()
child.join(timeout=30)
print("exit code:", child.exitcode)
'''


def test_run_script_with_and_without_the_main_guard():
    guarded = run_script(GUARDED)
    assert (guarded.returncode, guarded.stdout) == (0, "25\n"), guarded.stderr
    unguarded = run_script(UNGUARDED)
    assert unguarded.stdout == "exit code: 1\n"
    assert exception_lines(unguarded.stderr, 2) == [
        "RuntimeError:",
        "An attempt has been made to start a new process before the",
    ]


def test_exception_lines():
    assert exception_lines("no error here") == []
    text = "Traceback:\n  x\nconcurrent.futures.process.BrokenProcessPool: gone\n"
    assert exception_lines(text) == ["concurrent.futures.process.BrokenProcessPool: gone"]


# ---------------------------------------------------------------- logging through a queue


def test_log_progress_sends_records_through_a_queue():
    queue = multiprocessing.Queue()
    handler = processes.ListHandler()
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
    assert sorted(handler.lines) == sorted(f"{n}: step {i} of 3" for n in ("alpha", "beta") for i in (1, 2, 3))
    assert check_log_lines(handler.lines, ["alpha", "beta"], 3) is True
    assert check_log_lines(list(reversed(handler.lines)), ["alpha", "beta"], 3) is False
    assert check_log_lines("alpha: step 1 of 3", ["alpha"], 1) is False


# ---------------------------------------------------------------- the panel


def test_panel_runs_and_shows_a_timeline_and_the_start_cost():
    panel = processes.start_method_panel(processes=1, max_processes=3)
    output = panel.children[-1]
    assert output.outputs == ()
    result = panel.run()
    assert len(result["spans"]) == 5 and len(result["costs"]) == 3
    assert result["figure_png"].startswith(b"\x89PNG")
    kinds = [o["output_type"] for o in output.outputs]
    assert kinds == ["stream", "display_data"]
    assert "1 process" in output.outputs[0]["text"] and "start and join one process" in output.outputs[0]["text"]
    assert "image/png" in output.outputs[1]["data"]
    assert multiprocessing.active_children() == []


def test_no_child_is_left_behind():
    assert multiprocessing.active_children() == []
    assert threading.active_count() >= 1

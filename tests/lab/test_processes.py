"""Tests of helpers/lab/processes.py: timelines of the workers of chapter 01, and the checks of
the exercises of chapters 01 and 02. Also the chapter's claims about where a worker must live."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers.lab import processes  # noqa: E402
from helpers.lab.processes import (  # noqa: E402
    ListHandler,
    check_cheapest_method,
    check_child_result,
    check_count_lines,
    check_diagnose,
    check_log_lines,
    check_three_together,
    describe_exit,
    plot_runs,
    run_workers,
    stop_all,
    worker_name,
)
from helpers.lab.scripts import capture_child_stderr, exception_lines, run_script  # noqa: E402
from helpers.lab.timeline import Span, busy_time, max_concurrency, wall_time  # noqa: E402
from helpers.processes import sleep_forever  # noqa: E402

POSIX = sys.platform != "win32"


# ---------------------------------------------------------------- run_workers and plot_runs


def test_run_workers_overlap_and_halve_the_wall_time():
    spans = run_workers(processes=2, steps=4, step_seconds=0.1)
    assert len(spans) == 8
    assert {worker_name(s) for s in spans} == {"worker-1", "worker-2"}
    assert sorted(s.label for s in spans if worker_name(s) == "worker-2") == ["A", "B", "C", "D"]
    assert max_concurrency(spans) == 2
    assert wall_time(spans) < 0.75 * busy_time(spans)  # sleeping steps overlap
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"processes": 0}, ValueError, "processes must be from 1 to 64, got 0"),
        ({"processes": 65}, ValueError, "processes must be from 1 to 64"),
        ({"processes": True}, TypeError, "processes must be an int"),
        ({"method": "threads"}, ValueError, "method must be one of"),
        ({"steps": 0}, ValueError, "steps must be from 1 to 100"),
        ({"step_seconds": 0}, ValueError, "step_seconds must be from 0.001 to 10 seconds"),
        ({"step_seconds": "1"}, TypeError, "step_seconds must be a number"),
        ({"timeout": -1}, ValueError, "timeout must be from"),
    ],
)
def test_run_workers_refuses_bad_arguments_before_starting_anything(kwargs, error, message):
    with pytest.raises(error, match=message):
        run_workers(**kwargs)
    assert multiprocessing.active_children() == []


def test_run_workers_times_out_without_leaving_a_child():
    with pytest.raises(TimeoutError, match="only 0 of 2 items arrived"):
        run_workers(processes=1, steps=2, step_seconds=1.0, timeout=0.2)
    assert multiprocessing.active_children() == []


def test_stop_all_kills_what_does_not_end_and_skips_what_never_started():
    sleeper = multiprocessing.Process(target=sleep_forever, args=(60,))
    never = multiprocessing.Process(target=sleep_forever)
    sleeper.start()
    stop_all([sleeper, never])
    assert not sleeper.is_alive() and never.pid is None


def test_plot_runs_colours_by_worker_not_by_pid():
    spans = [Span(f"worker-1 (pid {pid})", "0", t, t + 1) for pid, t in ((10, 0.0), (11, 0.5))]
    fig = plot_runs({"run": spans, "again": spans[:1]}, title="t")
    try:
        assert len(fig.axes) == 2 and fig._suptitle.get_text() == "t"
        colours = {tuple(p.get_facecolor()) for p in fig.axes[0].patches}
        assert len(colours) == 1  # two PIDs, one worker, one colour
    finally:
        plt.close(fig)


def test_worker_name_and_describe_exit():
    assert worker_name(Span("numbers (pid 7)", "0", 0, 1)) == "numbers"
    assert worker_name(Span("main", "0", 0, 1)) == "main"
    assert [describe_exit(c) for c in (None, 0, 1, 2)] == ["running", "success", "exit 1", "exit 2"]
    assert describe_exit(-int(signal.SIGTERM)) == "signal SIGTERM"
    assert describe_exit(-1000) == "signal 1000"


def test_list_handler_keeps_formatted_records():
    handler = ListHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.lab.list_handler")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.warning("careful %d", 1)
    assert handler.lines == ["WARNING careful 1"]


# ---------------------------------------------------------------- exercise checks


def test_check_child_result(capsys):
    assert check_child_result({"x": 12, "square": 144, "pid": os.getpid() + 1}, 12) is True
    assert check_child_result({"x": 12, "square": 144, "pid": os.getpid()}, 12) is False  # made here
    assert check_child_result({"x": 3, "square": 9, "pid": 1}, 12) is False
    assert check_child_result(144, 12) is False
    assert capsys.readouterr().out.count("❌") == 3


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


def test_check_three_together(capsys):
    def spans(lanes, offset):
        return [Span(lane, "x", i * offset, i * offset + 1) for i, lane in enumerate(lanes)]

    assert check_three_together(spans(["a", "b", "c"], 0.1)) is True
    assert check_three_together(spans(["a", "b", "c"], 1.0)) is False  # one after the other
    assert check_three_together(spans(["a", "b"], 0.1)) is False
    assert check_three_together([]) is False
    assert capsys.readouterr().out.count("❌") == 3


def test_check_cheapest_method(capsys):
    costs = {"fork": [0.001, 0.5, 0.5], "spawn": [0.1, 0.1, 0.1]}  # fork has the fastest run, not the lowest median
    assert check_cheapest_method("spawn", costs) is True
    assert check_cheapest_method("fork", costs) is False
    assert check_cheapest_method("threads", costs) is False
    assert "medians" in capsys.readouterr().out


def test_check_log_lines(capsys):
    lines = [f"{n}: step {i} of 2" for i in (1, 2) for n in ("alpha", "beta")]
    assert check_log_lines(lines, ["alpha", "beta"], 2) is True
    assert check_log_lines(list(reversed(lines)), ["alpha", "beta"], 2) is False
    assert check_log_lines(lines[:-1], ["alpha", "beta"], 2) is False
    assert check_log_lines("alpha: step 1 of 1", ["alpha"], 1) is False
    assert capsys.readouterr().out.count("❌") == 3


RIGHT = 'def count_lines(path):\n    with open(path, encoding="utf-8") as f:\n        return sum(1 for _ in f)\n'


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("lines_right", RIGHT, "✅ lines_right.count_lines opens each file by its path"),
        ("lines_stub", "def count_lines(path):\n    ...\n", "❌ For a file of three lines, count_lines(path) returned None in a child process; expected 3."),
        ("lines_newlines", "def count_lines(path):\n    return open(path).read().count('\\n')\n",
         "❌ For a file of one line without a newline at its end, count_lines(path) returned 0"),
        ("lines_file_object", "def count_lines(file):\n    return len(file.readlines())\n",
         "❌ For a file of three lines, count_lines(path) raised AttributeError: 'str' object has no attribute 'readlines'"),
        ("lines_broken", "def count_lines(path)\n", "❌ A child process could not import lines_broken: SyntaxError"),
        ("lines_other_name", "def lines(path):\n    return 0\n", "❌ lines_other_name.py defines no function 'count_lines'."),
    ],
)
def test_check_count_lines(workdir, capsys, name, text, says):
    (workdir / f"{name}.py").write_text(text)
    assert check_count_lines(name) is says.startswith("✅")
    assert capsys.readouterr().out.startswith(says)


# ---------------------------------------------------------------- the chapter's claims


def test_a_function_defined_in_the_notebook_kills_a_spawned_child(monkeypatch):
    """What chapter 01 shows: the child cannot find a function of the parent's __main__."""

    def cube(x):
        return x**3

    # As in a notebook: the function lives in the parent's __main__, which a spawned child lacks.
    cube.__module__, cube.__qualname__ = "__main__", "cube_defined_in_a_notebook"
    monkeypatch.setattr(sys.modules["__main__"], "cube_defined_in_a_notebook", cube, raising=False)
    spawn = multiprocessing.get_context("spawn")
    with capture_child_stderr() as child_stderr:
        child = spawn.Process(target=cube, args=(3,))
        child.start()
        child.join(timeout=60)
    assert child.exitcode == 1
    lines = child_stderr.exception_lines()
    assert lines and lines[0].startswith("AttributeError: ")
    assert "cube_defined_in_a_notebook" in lines[0]


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


def test_a_script_needs_the_main_guard_under_spawn():
    guarded = run_script(GUARDED)
    assert (guarded.returncode, guarded.stdout) == (0, "25\n"), guarded.stderr
    unguarded = run_script(UNGUARDED)
    assert unguarded.stdout == "exit code: 1\n"
    assert exception_lines(unguarded.stderr, 2) == [
        "RuntimeError:",
        "An attempt has been made to start a new process before the",
    ]


def test_no_child_is_left_behind():
    assert multiprocessing.active_children() == []


def _table_function(source: str, name: str, **globals_):
    namespace = {"__name__": "__main__", **globals_}
    exec(source, namespace)
    return namespace[name]


def test_check_light_function(capsys):
    import numpy as np

    table = np.arange(processes.LIGHT_TABLE_SIZE, dtype=np.float64)
    heavy = _table_function("def heavy(x):\n    return float(table.sum()) + x\n", "heavy", table=table)
    light = _table_function("def light(x):\n    return TOTAL + x\n", "light", TOTAL=float(table.sum()))
    wrong = _table_function("def wrong(x):\n    return TOTAL\n", "wrong", TOTAL=float(table.sum()))
    assert processes.check_light_function(light)
    assert not processes.check_light_function(heavy)
    assert "still carries" in capsys.readouterr().out
    assert not processes.check_light_function(wrong)
    assert not processes.check_light_function(42)

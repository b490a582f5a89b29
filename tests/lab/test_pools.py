"""Tests of helpers/lab/pools.py: arrivals, the timer interrupt and the pool chapters' checks."""

from __future__ import annotations

import multiprocessing
import signal
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers.lab.pools import (  # noqa: E402
    INPUTS_TO_INVERT,
    check_cubes,
    check_failing_inputs,
    check_fresh_workers,
    check_initializer,
    check_io_pool,
    check_no_workers_left,
    check_squares_of,
    check_time_limit,
    describe_arrivals,
    interrupt_after,
    number_lanes,
    plot_arrivals,
    record_arrivals,
)
from helpers.lab.timeline import Span  # noqa: E402
from helpers.pools import invert, sleep_and_report, sleep_for  # noqa: E402

TIMEOUT = 60  # generous: the machine may be loaded; a hang still fails in a minute


pytestmark = pytest.mark.usefixtures("no_worker_left_behind")


# ------------------------------------------------------------------ arrivals


def test_record_arrivals_keeps_imap_order_and_times_each_result():
    tasks = [("A", 0.2), ("B", 0.0), ("C", 0.0)]
    with multiprocessing.Pool(processes=2) as pool:
        ordered = record_arrivals(pool.imap(sleep_and_report, tasks), len(tasks), timeout=TIMEOUT)
        unordered = record_arrivals(pool.imap_unordered(sleep_and_report, tasks), len(tasks), timeout=TIMEOUT)
    assert [span.label for span, _ in ordered] == ["A", "B", "C"]
    assert sorted(span.label for span, _ in unordered) == ["A", "B", "C"]
    a_end = ordered[0][0].end
    assert all(arrived >= a_end for _, arrived in ordered)  # imap held B and C back until A was done
    times = [arrived for _, arrived in ordered]
    assert times == sorted(times)


def test_record_arrivals_explains_that_a_chunked_imap_has_no_timeout():
    with multiprocessing.Pool(processes=1) as pool:
        with pytest.raises(TypeError, match="chunksize=1"):
            record_arrivals(pool.imap(invert, [1, 2, 3, 4], chunksize=2), 4, timeout=TIMEOUT)


def test_record_arrivals_times_out_instead_of_hanging():
    with multiprocessing.Pool(processes=1) as pool:
        with pytest.raises(multiprocessing.TimeoutError):
            record_arrivals(pool.imap(sleep_for, [5]), 1, timeout=0.2)


@pytest.mark.parametrize(
    ("results", "count", "timeout", "error", "message"),
    [
        ([1, 2], 2, 1, TypeError, "Pool.imap"),
        (iter([1]), -1, 1, ValueError, "count must be"),
        (iter([1]), 1, 0, ValueError, "timeout must be"),
        (iter([1]), 1, "1", TypeError, "timeout must be"),
    ],
)
def test_record_arrivals_refuses_bad_arguments(results, count, timeout, error, message):
    with pytest.raises(error, match=message):
        record_arrivals(results, count, timeout=timeout)


def test_number_lanes_numbers_workers_by_first_start():
    nine, three = "SpawnPoolWorker-9", "SpawnPoolWorker-3"
    spans = [Span(nine, "b", 1, 2), Span(three, "a", 0, 1), Span(nine, "c", 2, 3)]
    renamed = number_lanes(spans)
    assert [s.lane for s in renamed] == ["worker 2", "worker 1", "worker 2"]
    assert [(s.label, s.start, s.end) for s in renamed] == [(s.label, s.start, s.end) for s in spans]


def test_plot_arrivals_draws_a_panel_per_run_with_a_parent_row():
    arrivals = [(Span("p1", "A", 0.0, 1.0), 1.1), (Span("p2", "B", 0.0, 0.5), 1.2)]
    fig = plot_arrivals({"imap": arrivals, "imap_unordered": arrivals}, title="demo")
    try:
        assert len(fig.axes) == 2
        for ax in fig.axes:
            labels = [t.get_text() for t in ax.get_yticklabels()]
            assert labels == ["worker 1", "worker 2", "parent gets"]
            assert len(ax.patches) == 2 and len(ax.lines) == 2  # two bars, two arrival markers
        assert [ax.get_title() for ax in fig.axes] == ["imap", "imap_unordered"]
        assert "(s)" in fig.axes[-1].get_xlabel()
        assert fig._suptitle.get_text() == "demo"
    finally:
        plt.close(fig)


def _inside(ax, x: float) -> bool:
    left, right = sorted(ax.get_xlim())
    return left <= x <= right


# The two runs end far apart, listed in both orders: a figure whose panels share one
# x axis but each set their own limit shows only the last panel's range, and clips
# the other run's bars and arrival markers.
SHORT_RUN = [(Span("p1", "A", 10.0, 10.8), 10.81), (Span("p2", "B", 10.0, 10.15), 10.16)]
LONG_RUN = [
    (Span("p1", "A", 0.0, 0.8), 0.81),
    (Span("p2", "B", 0.0, 0.15), 2.5),   # arrivals long after the bars end
    (Span("p2", "C", 0.15, 0.3), 4.0),
]


@pytest.mark.parametrize("order", ["long run first", "short run first"])
def test_plot_arrivals_shows_every_bar_and_marker_of_runs_of_different_lengths(order):
    runs = {"imap": LONG_RUN, "imap_unordered": SHORT_RUN}
    if order == "short run first":
        runs = dict(reversed(runs.items()))
    fig = plot_arrivals(runs)
    try:
        for ax, (name, arrivals) in zip(fig.axes, runs.items()):
            markers = [x for line in ax.lines for x in line.get_xdata()]
            assert len(markers) == len(arrivals), name  # none merged: all far apart
            t0 = min(span.start for span, _ in arrivals)
            assert sorted(markers) == pytest.approx(sorted(arrived - t0 for _, arrived in arrivals))
            for x in markers:
                assert _inside(ax, x), f"{name}: arrival marker at {x:.2f} s outside x range {ax.get_xlim()}"
            assert len(ax.patches) == len(arrivals), name
            for bar in ax.patches:
                start, end = bar.get_x(), bar.get_x() + bar.get_width()
                assert _inside(ax, start) and _inside(ax, end), (
                    f"{name}: task bar {start:.2f} to {end:.2f} s outside x range {ax.get_xlim()}")
    finally:
        plt.close(fig)


def test_describe_arrivals_names_the_first_and_last_result_of_each_run():
    assert describe_arrivals({"imap": LONG_RUN, "imap_unordered": SHORT_RUN}) == [
        "imap: first result (A) after 0.81 s, last (C) after 4.00 s",
        "imap_unordered: first result (B) after 0.16 s, last (A) after 0.81 s",
    ]
    with pytest.raises(ValueError, match="runs"):
        describe_arrivals({})


def test_plot_arrivals_merges_results_that_arrive_together():
    arrivals = [
        (Span("p1", "A", 0.0, 1.0), 1.0),
        (Span("p2", "B", 0.0, 0.2), 1.001),
        (Span("p2", "C", 0.2, 0.4), 1.002),
    ]
    fig = plot_arrivals({"imap": arrivals})
    try:
        (ax,) = fig.axes
        assert len(ax.lines) == 1
        assert [t.get_text() for t in ax.texts if "," in t.get_text()] == ["A,B,C"]
    finally:
        plt.close(fig)


@pytest.mark.parametrize(("runs", "error"), [({}, ValueError), ([], ValueError), ({"x": [(1, 2)]}, TypeError)])
def test_plot_arrivals_refuses_bad_runs(runs, error):
    with pytest.raises(error, match="runs"):
        plot_arrivals(runs)


# ---------------------------------------------------------------- interrupts


@pytest.fixture
def default_sigint():
    """Give SIGINT Python's own handler for the test, then put back the one before.

    Python installs that handler only if SIGINT was not ignored when it started: under
    ``nohup``, or in a CI job started with SIGINT ignored, it stays ignored.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    if previous is not None:  # None: a handler not set from Python, which cannot be put back
        signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("default_sigint")
def test_interrupt_after_interrupts_a_waiting_get_and_the_pool_is_cleaned_up():
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        with multiprocessing.Pool(processes=1) as pool:
            with interrupt_after(0.3):
                pool.apply_async(sleep_for, (30,)).get(TIMEOUT)
    assert time.perf_counter() - start < 20
    assert multiprocessing.active_children() == []


@pytest.mark.usefixtures("default_sigint")
def test_interrupt_after_is_cancelled_when_the_block_ends_first():
    with interrupt_after(0.2):
        pass
    time.sleep(0.4)  # a KeyboardInterrupt here would fail the test


def test_interrupt_after_refuses_a_replaced_sigint_handler():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with pytest.raises(RuntimeError, match="SIGINT"):
            with interrupt_after(0.1):
                pass
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize(("seconds", "error"), [(-0.1, ValueError), (float("nan"), ValueError), (None, TypeError)])
def test_interrupt_after_refuses_bad_seconds(seconds, error):
    with pytest.raises(error, match="seconds"):
        with interrupt_after(seconds):
            pass


# ------------------------------------------------------------ exercise checks


def test_exercise_checks_accept_right_answers_and_refuse_wrong_ones(capsys):
    assert check_cubes([n**3 for n in range(1, 11)])
    assert not check_cubes([n**3 for n in range(10, 0, -1)])
    assert not check_cubes((1, 8))
    assert check_squares_of([4, 1, 9], 3)
    assert not check_squares_of([1, 4], 3)
    assert check_fresh_workers(["a", "b", "c", "d"])
    assert not check_fresh_workers(["a", "a", "b", "c"])
    assert not check_fresh_workers(["a", "b"])
    assert check_failing_inputs([x for x in INPUTS_TO_INVERT if x == 0])
    assert not check_failing_inputs([0])
    assert not check_failing_inputs(None)
    assert check_no_workers_left()
    spans = [Span(f"t{i}", "w", 0.0, 0.1) for i in range(10)]
    assert check_io_pool(spans, 0.15)
    assert not check_io_pool(spans, 1.0)
    assert not check_io_pool([], 0.1)
    out = capsys.readouterr().out
    assert out.count("✅") == 6 and out.count("❌") == 9
    with pytest.raises(ValueError, match="n must be at least 1"):
        check_squares_of([], 0)


def test_check_no_workers_left_sees_a_running_pool(capsys):
    pool = multiprocessing.Pool(processes=1)
    try:
        assert check_no_workers_left() is False
    finally:
        pool.terminate()
        pool.join()
    assert "still running" in capsys.readouterr().out


# ----------------------------------------------- the learner's initializer and task

GOOD = '''\
GREETING = None

def set_greeting(greeting):
    global GREETING
    GREETING = greeting

def greet(name):
    return f"{GREETING}, {name}!"
'''
CASES = [(("Ada",), "Hello, Ada!"), (("Linus",), "Hello, Linus!")]


def check(folder, name, text, **kwargs):
    (folder / f"{name}.py").write_text(text)
    return check_initializer(name, initializer="set_greeting", initargs=("Hello",), task="greet",
                             cases=CASES, **kwargs)


def test_check_initializer_passes_a_right_initializer_and_task(workdir, capsys):
    assert check(workdir, "state_good", GOOD) is True
    out = capsys.readouterr().out
    assert out.startswith("✅") and "set_greeting('Hello')" in out


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (GOOD.replace("    global GREETING\n", ""), r"greet\('Ada'\) returned 'None, Ada!'; expected 'Hello, Ada!'.*global"),
        (GOOD.replace("    GREETING = greeting", "    raise OSError('no database')"), r"initializer set_greeting\('Hello'\) raised OSError: no database"),
        (GOOD.replace('return f"{GREETING}, {name}!"', "return name.missing"), r"greet\('Ada'\) raised AttributeError"),
        (GOOD.replace("def greet", "def greeting"), "defines no function 'greet'"),
        (GOOD.replace("def set_greeting(greeting):", "def set_greeting(greeting)"), "could not import"),
        (GOOD.replace('return f"{GREETING}, {name}!"', "import os; os._exit(5)"), "died with exit code 5"),
    ],
    ids=["no-global", "initializer-raises", "task-raises", "missing-task", "syntax-error", "dies"],
)
def test_check_initializer_says_what_is_wrong(workdir, capsys, text, says):
    import re

    name = f"state_{abs(hash(text)) % 10**8}"
    assert check(workdir, name, text, timeout=30) is False
    out = capsys.readouterr().out
    assert out.startswith("❌") and re.search(says, out), out


def test_check_initializer_fails_a_hang_within_its_timeout(workdir, capsys):
    text = GOOD.replace("    GREETING = greeting", "    import time; time.sleep(3600)")
    start = time.monotonic()
    assert check(workdir, "state_hangs", text, timeout=3) is False
    assert time.monotonic() - start < 15
    assert "did not finish within 3 s" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"module": "my-state"}, ValueError),
        ({"task": ""}, ValueError),
        ({"initargs": "Hello"}, TypeError),
        ({"cases": []}, ValueError),
        ({"timeout": 0}, ValueError),
    ],
)
def test_check_initializer_refuses_bad_arguments(kwargs, error):
    arguments = {"module": "my_state", "initializer": "set_greeting", "initargs": ("Hello",), "task": "greet",
                 "cases": CASES, **kwargs}
    module = arguments.pop("module")
    with pytest.raises(error):
        check_initializer(module, **arguments)


# ------------------------------------------------------- check_time_limit


def _limit_with_a_process(func, args, limit):
    from helpers.pools import call_and_send

    receiver, sender = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=call_and_send, args=(sender, func, *args))
    process.start()
    sender.close()
    if receiver.poll(limit):
        result = receiver.recv()
        process.join(timeout=5)
        return "returned", result
    process.terminate()
    process.join(timeout=5)
    return "stopped", process.exitcode


def _limit_that_leaks(func, args, limit):
    from helpers.pools import call_and_send

    receiver, sender = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=call_and_send, args=(sender, func, *args), daemon=True)
    process.start()
    if receiver.poll(limit):
        return "returned", receiver.recv()
    _limit_that_leaks.left = process
    return "stopped", -signal.SIGTERM  # claims it stopped the task, and did not


def _limit_with_a_pool(func, args, limit):
    with multiprocessing.Pool(processes=1) as pool:
        pending = pool.apply_async(func, args)
        try:
            return "returned", pending.get(timeout=limit)
        except multiprocessing.TimeoutError:
            return "stopped", None  # a Pool cannot say how one task ended


@pytest.mark.usefixtures("no_worker_left_behind")
def test_check_time_limit_passes_a_process_per_task_and_fails_the_rest(capsys):
    assert check_time_limit(_limit_with_a_process)
    assert "exit code -15" in capsys.readouterr().out
    assert not check_time_limit(_limit_with_a_pool)
    assert "expected ('stopped', -15)" in capsys.readouterr().out
    try:
        assert not check_time_limit(_limit_that_leaks)
        assert "still run" in capsys.readouterr().out
    finally:
        _limit_that_leaks.left.kill()
        _limit_that_leaks.left.join(timeout=10)
    with pytest.raises(TypeError):
        check_time_limit("run_with_limit")

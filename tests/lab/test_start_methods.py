"""Tests of helpers/lab/start_methods.py: what a child inherits under each start method, what
starting costs, a parent that exits without joining, and the panel of chapter 02."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import helpers.lab.start_methods as lab  # noqa: E402
from helpers.lab.panels import accessibility_problems, button_colors, contrast_ratio  # noqa: E402
from helpers.lab.start_methods import (  # noqa: E402
    available_methods,
    expected_view,
    measure_start_costs,
    parent_exits,
    report_view,
    show_views,
    start_cost,
    start_method_panel,
)

POSIX = sys.platform != "win32"


def test_available_methods_come_in_the_books_order():
    methods = available_methods()
    standard = {"fork", "spawn", "forkserver"}
    assert set(methods) == standard & set(multiprocessing.get_all_start_methods())
    assert methods == sorted(methods, key=lambda m: ("fork", "spawn", "forkserver").index(m))


def test_start_methods_other_packages_register_are_left_out():
    """Importing joblib registers loky's contexts in multiprocessing, which 3.14 then lists."""
    import joblib  # noqa: F401

    from joblib.externals.loky.backend import context  # noqa: F401  (registers "loky", "loky_init_main")

    assert "loky" in multiprocessing.context._concrete_contexts
    assert not set(available_methods()) - {"fork", "spawn", "forkserver"}


# ---------------------------------------------------------------- what a child inherits


def test_each_start_method_shows_the_child_what_the_chapter_says(capsys):
    entry = "/added/by/the/test"
    lab.SETTING = "changed by the test"
    sys.path.append(entry)
    views = {}
    with tempfile.TemporaryFile() as file:
        info = os.fstat(file.fileno())
        lab.THREAD_LOCK.acquire()
        try:
            for method in available_methods():
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
            lab.THREAD_LOCK.release()
            lab.SETTING = "as imported"
            sys.path.remove(entry)
    for method, view in views.items():
        assert view.pop("pid") != os.getpid()
        assert view == expected_view(method, "changed by the test"), method
    show_views(views)
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[4:] == available_methods()
    assert len(out) == 1 + len(lab.VIEW_ROWS)


def test_expected_view_differs_only_for_fork():
    spawn = expected_view("spawn", "new")
    assert spawn == {"global": "as imported", "sys_path": True, "file": False, "thread_lock": True, "mp_lock": False}
    if "fork" in available_methods():
        assert expected_view("fork", "new") == {**spawn, "global": "new", "file": True, "thread_lock": False}
    with pytest.raises(ValueError, match="method must be one of"):
        expected_view("threads", "new")


# ---------------------------------------------------------------- what starting costs


def test_start_costs_are_measured_per_method():
    costs = measure_start_costs(["spawn"], repeats=2)
    assert list(costs) == ["spawn"] and len(costs["spawn"]) == 2
    assert all(0 < c < 30 for c in costs["spawn"])


def test_the_chapter_finds_the_start_cost_tools_here_too():
    from helpers.lab import start_costs

    for name in ("format_seconds", "plot_start_costs", "rank_start_costs", "summarize_start_costs"):
        assert getattr(lab, name) is getattr(start_costs, name)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: start_cost("spawn", repeats=0), ValueError, "repeats must be from 1 to 1000"),
        (lambda: start_cost("spawn", warmup=-1), ValueError, "warmup must be from 0 to 100"),
        (lambda: start_cost("posix_spawn"), ValueError, "method must be one of"),
        (lambda: measure_start_costs([]), ValueError, "at least one start method"),
        (lambda: parent_exits("yes"), TypeError, "daemon must be True or False"),
        (lambda: parent_exits(True, child_seconds=0), ValueError, "child_seconds must be from"),
        (lambda: parent_exits(True, method="threads"), ValueError, "method must be one of"),
        (lambda: start_method_panel(processes=9), ValueError, "processes must be from 1 to 8"),
        (lambda: start_method_panel(max_processes=0), ValueError, "max_processes must be from 1 to 64"),
    ],
)
def test_bad_arguments_get_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------- a parent that exits


@pytest.mark.skipif(not POSIX, reason="checks for a PID with os.kill(pid, 0)")
def test_a_daemon_child_is_terminated_when_its_parent_exits_and_a_normal_one_is_waited_for():
    normal = parent_exits(False, child_seconds=0.6)
    daemon = parent_exits(True, child_seconds=0.6)
    assert normal["child_finished"] is True and normal["child_alive_after"] is False
    assert normal["parent_waited"] >= 0.3
    assert daemon["child_finished"] is False and daemon["child_alive_after"] is False


@pytest.mark.skipif(not POSIX, reason="process groups are POSIX")
def test_parent_exits_neither_counts_nor_kills_a_process_that_got_the_child_pid(monkeypatch):
    """Once the child has ended, its PID, printed by the script, may belong to another process."""
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        monkeypatch.setenv("STRANGER_PID", str(stranger.pid))  # the script prints it as its child's PID
        monkeypatch.setattr(lab, "PARENT_SCRIPT", "import os, time\nprint(os.environ['STRANGER_PID'], time.time())\n")
        report = parent_exits(True, child_seconds=0.1)
        assert report["child_alive_after"] is False
        time.sleep(0.2)
        assert stranger.poll() is None, "parent_exits killed a process that was not the script's"
    finally:
        stranger.kill()
        stranger.wait(timeout=30)


def test_the_parent_script_runs_the_nap_worker():
    assert "from helpers.processes import nap" in lab.PARENT_SCRIPT
    code = [line for line in lab.PARENT_SCRIPT.splitlines() if not line.strip().startswith("#")]
    assert 'if __name__ == "__main__":' in code and not any(".join(" in line for line in code)


# ---------------------------------------------------------------- the panel


def test_panel_runs_and_shows_a_timeline_and_the_start_cost():
    panel = start_method_panel(processes=1, max_processes=3)
    output = panel.children[-1]
    assert output.outputs == ()
    result = panel.run()
    assert len(result["spans"]) == 5 and len(result["costs"]) == 3
    assert result["figure_png"].startswith(b"\x89PNG")
    kinds = [o["output_type"] for o in output.outputs]
    assert kinds == ["stream", "display_data"]
    summary = output.outputs[0]["text"]
    assert "1 process" in summary and "start and join one process" in summary
    assert max(len(line) for line in summary.splitlines()) <= 60  # a longer line scrolls sideways in the page
    # The timeline is an <img> with an alt text that says what it shows, not a bare image/png.
    figure = output.outputs[1]["data"]
    assert set(figure) == {"text/html", "text/plain"}
    assert result["alt"].startswith("Timeline of 1 process started with ") and result["alt"].endswith(" at once.")
    assert figure["text/plain"] == result["alt"] and f'alt="{result["alt"]}"' in figure["text/html"]
    assert figure["text/html"].startswith('<img src="data:image/png;base64,')
    assert multiprocessing.active_children() == []


def test_the_panel_offers_this_platforms_methods_and_shows_a_failed_run():
    panel = start_method_panel(processes=2, max_processes=4)
    dropdown, count = panel.children[0].children
    assert list(dropdown.options) == available_methods()
    assert dropdown.value == multiprocessing.get_start_method()
    assert (count.min, count.max, count.value) == (1, 4, 2)
    button, output = panel.children[2], panel.children[3]
    count.max = 100
    count.value = 100  # over run_workers' limit of 64: the run fails
    button.click()
    assert "The run failed: ValueError: processes must be from 1 to 64" in output.outputs[-1]["text"]
    assert button.disabled is False


def test_the_panel_is_labelled_for_screen_readers_and_its_button_is_readable():
    panel = start_method_panel()
    assert accessibility_problems(panel) == []
    button = panel.children[2]
    assert contrast_ratio(*button_colors(button)) >= 4.5  # WCAG AA for text; button_style="primary" gives 3.12


def test_no_child_is_left_behind():
    assert multiprocessing.active_children() == []

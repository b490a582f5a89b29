"""Instruments for the chapter on start methods: what a child inherits, and what starting costs.

- :func:`report_view` is the probe of the chapter's lab: a child started with each
  method reports what it sees of its parent's state; :func:`show_views` prints the
  table and :func:`expected_view` states the rules the table must follow.
- :func:`measure_start_costs` times starting and joining a child that does nothing,
  per method; :mod:`helpers.lab.start_costs` shows it (re-exported here).
- :func:`parent_exits` runs a whole program whose main process ends without joining
  its child, to watch what ``daemon`` changes.
- :func:`start_method_panel`: pick a method and a number of processes, see the
  timeline (with its alt text) and the start cost.

The probe runs in a child, so this module stays quick to import: matplotlib is
imported inside the function that draws.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from helpers.lab.args import check_choice, check_int, check_seconds
from helpers.lab.book import METHOD_ORDER, available_methods  # noqa: F401 (re-exported: the chapter lists them)
from helpers.lab.machine import machine_label
from helpers.lab.panels import FigureWithAlt, figure_png, number_box, run_button
from helpers.lab.processes import MAX_PROCESSES, plot_runs, run_workers, stop_all
from helpers.lab.scripts import script_session
from helpers.lab.start_costs import (  # re-exported: the chapter shows its measurements with them
    format_seconds,
    plot_start_costs,
    rank_start_costs,
    summarize_start_costs,
)
from helpers.lab.timeline import max_concurrency, wall_time
from helpers.processes import noop


# Changed at run time by the chapter's lab, to see which children notice.
SETTING = "as imported"
# A module-level threading lock: the lab holds it in the parent while a child starts.
THREAD_LOCK = threading.Lock()


def check_method(method: object) -> str:
    """Return ``method`` if this platform has it as a start method, else raise ``ValueError``."""
    return check_choice("method", method, available_methods())


# ---------------------------------------------------------------- what a child inherits


def report_view(queue, fd: int, file_id: tuple[int, int], path_entry: str, lock) -> None:
    """Put on ``queue`` a dict of what this child sees of its parent's state.

    ``"global"``: this module's ``SETTING``; ``"sys_path"``: whether ``path_entry``
    is in ``sys.path``; ``"file"``: whether descriptor ``fd`` is open here on the
    parent's file ``file_id`` (``(st_dev, st_ino)``); ``"thread_lock"``: whether
    this module's ``THREAD_LOCK`` could be taken; ``"mp_lock"``: whether the
    ``multiprocessing`` ``lock`` passed in could be taken.
    """
    try:
        info = os.fstat(fd)
        file_open = (info.st_dev, info.st_ino) == tuple(file_id)
    except OSError:
        file_open = False
    thread_lock_free = THREAD_LOCK.acquire(timeout=0.1)
    if thread_lock_free:
        THREAD_LOCK.release()
    mp_lock_free = lock.acquire(timeout=0.1)
    if mp_lock_free:
        lock.release()
    queue.put({
        "pid": os.getpid(),
        "global": SETTING,
        "sys_path": path_entry in sys.path,
        "file": file_open,
        "thread_lock": thread_lock_free,
        "mp_lock": mp_lock_free,
    })


VIEW_ROWS = {
    "global": ("1. global SETTING", lambda v: repr(v)),
    "sys_path": ("2. new sys.path entry", lambda v: "present" if v else "missing"),
    "file": ("3. parent's open file", lambda v: "open" if v else "not open"),
    "thread_lock": ("4. held threading.Lock", lambda v: "free (new)" if v else "HELD (copy)"),
    "mp_lock": ("5. held mp.Lock", lambda v: "free" if v else "held (shared)"),
}


def show_views(views: Mapping[str, Mapping[str, object]]) -> None:
    """Print, as a table, what a child saw under each start method (``{method: view}``)."""
    methods = [m for m in available_methods() if m in views] + [m for m in views if m not in METHOD_ORDER]
    cells = {key: [fmt(views[m][key]) for m in methods] for key, (_, fmt) in VIEW_ROWS.items()}
    width = max(len(label) for label, _ in VIEW_ROWS.values())
    columns = [max(len(m), *(len(cells[key][i]) for key in VIEW_ROWS)) + 2 for i, m in enumerate(methods)]
    print(f"{'what the child sees':<{width}}  " + "".join(f"{m:<{w}}" for m, w in zip(methods, columns)).rstrip())
    for key, (label, _) in VIEW_ROWS.items():
        print(f"{label:<{width}}  " + "".join(f"{c:<{w}}" for c, w in zip(cells[key], columns)).rstrip())


def expected_view(method: str, changed: str) -> dict[str, object]:
    """Return what :func:`report_view` must report under ``method`` in the chapter's lab.

    ``changed`` is the value the parent gave ``SETTING``. Only ``fork`` copies the
    parent's memory (its globals, its open descriptors, its locked lock); every
    method gets ``sys.path`` from the parent (fork by copying, spawn and forkserver
    because ``multiprocessing`` sends it), and a ``multiprocessing`` lock is one
    lock shared by all.

    >>> expected_view("spawn", "changed")["global"]
    'as imported'
    """
    forked = check_method(method) == "fork"
    return {
        "global": changed if forked else "as imported",
        "sys_path": True,
        "file": forked,
        "thread_lock": not forked,
        "mp_lock": False,
    }


# ---------------------------------------------------------------- what starting costs


def start_cost(method: str, repeats: int = 5, *, warmup: int = 1, timeout: float = 30.0) -> list[float]:
    """Return the seconds it took, ``repeats`` times, to start and join one child doing nothing.

    The first ``warmup`` starts are not counted: they pay one-time costs (the fork
    server starting, files entering the disk cache). Raises ``RuntimeError`` if a
    child fails or does not end within ``timeout`` seconds.
    """
    ctx = multiprocessing.get_context(check_method(method))
    check_int("repeats", repeats, 1, 1000)
    check_int("warmup", warmup, 0, 100)
    check_seconds("timeout", timeout, 0.1, 600)
    costs = []
    for i in range(warmup + repeats):
        child = ctx.Process(target=noop)
        begin = time.perf_counter()
        child.start()
        child.join(timeout)
        elapsed = time.perf_counter() - begin
        if child.exitcode != 0:
            stop_all([child])
            raise RuntimeError(f"a {method} child ended with exit code {child.exitcode}")
        if i >= warmup:
            costs.append(elapsed)
    return costs


def measure_start_costs(methods: Sequence[str] | None = None, repeats: int = 5) -> dict[str, list[float]]:
    """Return ``{method: [seconds, ...]}``: :func:`start_cost` for each method (default: all)."""
    methods = available_methods() if methods is None else [check_method(m) for m in methods]
    if not methods:
        raise ValueError("methods must name at least one start method")
    return {method: start_cost(method, repeats) for method in methods}


# ---------------------------------------------------------------- a parent that exits

PARENT_SCRIPT = '''\
import multiprocessing
import sys
import time

from helpers.processes import nap

if __name__ == "__main__":
    method, seconds, kind, done_file = sys.argv[1:5]
    multiprocessing.set_start_method(method)
    child = multiprocessing.Process(
        target=nap, args=(float(seconds), done_file), daemon=kind == "daemon"
    )
    child.start()
    print(child.pid, time.time(), flush=True)
    # The main program ends here, without join(): what happens to the child?
'''


def parent_exits(daemon: bool, *, child_seconds: float = 1.0, method: str | None = None) -> dict[str, object]:
    """Run :data:`PARENT_SCRIPT`: a parent that starts one child and ends without joining it.

    The child naps ``child_seconds``, then leaves a file to say it finished. Returns
    ``{"daemon", "parent_waited", "child_finished", "child_alive_after"}``: how many
    seconds the parent took to exit after its main program ended, whether the child
    finished its nap, and whether the child was still running once the parent had
    exited (``None`` on Windows, where this helper cannot tell). A child found still
    running is killed, so none is left behind; the script runs in a session of its
    own (:func:`~helpers.lab.scripts.script_session`), so a process that got the
    child's PID after the child ended is neither counted nor killed.
    """
    if not isinstance(daemon, bool):
        raise TypeError(f"daemon must be True or False, got {daemon!r}")
    check_seconds("child_seconds", child_seconds, 0.01, 10)
    method = check_method(method or multiprocessing.get_start_method())
    with tempfile.TemporaryDirectory() as folder:
        done_file = Path(folder) / "nap-finished"
        with script_session(PARENT_SCRIPT, method, str(child_seconds), "daemon" if daemon else "normal",
                            str(done_file), timeout=30 + child_seconds) as session:
            exited = time.time()
            finished = done_file.exists()
            result = session.result
            if result.returncode != 0 or not result.stdout.strip():
                raise RuntimeError(f"the parent script failed:\n{result.stderr[-2000:]}")
            pid_text, ended_text = result.stdout.split()[:2]
            alive = session.still_running(int(pid_text))
        # the session has ended: every process the script left running is killed
    return {
        "daemon": daemon,
        "parent_waited": exited - float(ended_text),
        "child_finished": finished,
        "child_alive_after": alive,
    }


# ---------------------------------------------------------------- the panel


def panel_run(method: str, processes: int, *, busy: bool = False, steps: int = 5,
              step_seconds: float = 0.2, repeats: int = 3) -> dict[str, object]:
    """Run what the panel runs and return ``{"spans", "costs", "figure_png", "alt", "summary"}``.

    :func:`~helpers.lab.processes.run_workers` with ``method`` and ``processes``, then
    :func:`start_cost` (``repeats`` runs) for the same method; the figure is the
    timeline, as PNG bytes, and ``alt`` a sentence saying what it shows.
    """
    from matplotlib.figure import Figure

    spans = run_workers(method, processes, steps=steps, step_seconds=step_seconds, busy=busy)
    costs = start_cost(method, repeats)
    work = "computing" if busy else "sleeping"
    plural = "es" if processes > 1 else ""
    fig = Figure(figsize=(6, 1.6 + 0.4 * processes), dpi=100)
    plot_runs({f"{processes} process{plural} {work}": spans}, title=f"Timeline ({machine_label(method)})", fig=fig)
    alt = (
        f"Timeline of {processes} process{plural} started with {method}, one row per process and one bar "
        f"per step of {format_seconds(step_seconds)} {work}: the run took {format_seconds(wall_time(spans))}, "
        f"with at most {max_concurrency(spans)} process{'es' if max_concurrency(spans) > 1 else ''} at once."
    )
    summary = (  # short lines: a long one would scroll sideways in the panel
        f"{method}, {processes} process{plural}, {steps} steps of {format_seconds(step_seconds)} {work}\n"
        f"wall time {format_seconds(wall_time(spans))}, at most {max_concurrency(spans)} at once\n"
        f"start and join one process: median {format_seconds(statistics.median(costs))} over {len(costs)} runs"
    )
    return {"spans": spans, "costs": costs, "figure_png": figure_png(fig), "alt": alt, "summary": summary}


def start_method_panel(*, processes: int = 2, max_processes: int = 8, run: bool = False):
    """Return an ipywidgets panel: pick a start method and a number of processes, run, look.

    Controls: a start-method dropdown (this platform's methods, the current default
    selected), a number of processes (1 to ``max_processes``), sleeping or
    computing steps, and a Run button. Each run shows the start cost of the method
    and the timeline of the workers, with its alt text, in the panel's output area
    (:func:`panel_run`). The controls are labelled for screen readers and the button
    meets WCAG AA contrast (see :mod:`helpers.lab.panels`).
    With ``run=True`` it runs once before it is returned. The panel's ``run()``
    attribute runs it from code.
    """
    import ipywidgets as widgets

    check_int("max_processes", max_processes, 1, MAX_PROCESSES)
    check_int("processes", processes, 1, max_processes)
    methods = available_methods()
    current = multiprocessing.get_start_method()
    wide = {"description_width": "initial"}
    method = widgets.Dropdown(options=methods, value=current if current in methods else methods[0],
                              description="Start method", style=wide)
    count = number_box("Processes", processes, 1, max_processes)
    work = widgets.Dropdown(options=["sleep", "compute"], value="sleep", description="Each step", style=wide)
    button = run_button("Run")
    output = widgets.Output(layout={"min_height": "60px"})
    panel = widgets.VBox([widgets.HBox([method, count]), work, button, output])

    def do_run() -> dict[str, object]:
        """Run with the panel's current settings, show the result in it and return it."""
        button.disabled = True
        output.outputs = ()
        output.append_stdout(f"Running {count.value} process(es) with {method.value} ...\n")
        try:
            result = panel_run(method.value, count.value, busy=work.value == "compute")
        except Exception as error:
            output.outputs = ()
            output.append_stderr(f"The run failed: {type(error).__name__}: {error}\n")
            raise
        finally:
            button.disabled = False
        output.outputs = ()
        output.append_stdout(result["summary"] + "\n")
        output.append_display_data(FigureWithAlt(result["figure_png"], result["alt"]))
        return result

    def clicked(_button) -> None:
        with contextlib.suppress(Exception):  # the error is shown in the panel's output
            do_run()

    button.on_click(clicked)
    panel.run = do_run
    if run:
        do_run()
    return panel

"""The widget panel that reruns a speedup benchmark and redraws its figure.

It sits on top of the benchmark (:mod:`helpers.lab.bench`) and the plots
(:mod:`helpers.lab.speedup_plots`), which know nothing of it. ipywidgets and
matplotlib are imported when a panel is made, never at import time. Its controls
are labelled for screen readers, its button meets WCAG AA contrast and its figure
carries an alt text (see :mod:`helpers.lab.panels`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from helpers.lab.args import check_int
from helpers.lab.bench import (
    MAX_WORKERS_LIMIT,
    WORKLOADS,
    BenchResult,
    check_task_list,
    default_max_workers,
    get_workload,
    run_bench,
)
from helpers.lab.panels import FigureWithAlt, figure_png, number_box, run_button
from helpers.lab.speedup_plots import plot_speedup

MINE = "mine"  # the dropdown's value for the reader's own function
PANEL_SIZES = {  # (min, max, step) of the task-size box per workload
    "cpu": (1_000, 100_000, 1_000),
    "numpy": (10, 500, 10),
    "io": (10, 500, 10),
}


def speedup_alt(result: BenchResult) -> str:
    """Return a sentence saying what :func:`plot_speedup` draws for ``result``, and what it measured."""
    kinds = result.kinds()[1:]  # the parallel kinds measured
    top = max(max(result.workers(kind), default=1) for kind in result.kinds())
    reached = [f"{kind} reached {result.speedup(kind, top):.2f}x" for kind in kinds if top in result.workers(kind)]
    return (
        f"Speedup over serial against the number of workers, 1 to {top}, for {' and '.join(kinds)} on the "
        f"workload {result.label}, with a dashed line where speedup equals workers: "
        f"with {top} worker{'s' if top > 1 else ''}, {' and '.join(reached)}."
    )


class BenchPanel:
    """Widgets to rerun a benchmark and redraw its speedup: size, maximum workers, workload, run.

    ``workload`` is a built-in workload's name, or a function of your own that a
    child process can import, with ``tasks`` the list of its arguments (one per
    task): the dropdown then offers it beside the built-in ones, and the size box
    is for the built-in ones only. For a built-in workload ``tasks`` is how many
    equal tasks (default: as :func:`helpers.lab.bench.run_bench` chooses).

    Display it (``display(panel)`` or make it a cell's last expression) and press
    *Run and redraw*, or call :meth:`run` from code. The last result is kept in
    ``panel.result``.
    """

    def __init__(self, workload: str | Callable = "cpu", size: int | None = None, max_workers: int | None = None,
                 tasks: int | Sequence | None = None, repeats: int = 3) -> None:
        import ipywidgets as w

        self.func, self.task_list = None, None
        if callable(workload):
            self.func, self.task_list, tasks = workload, check_task_list(tasks), None
        spec = get_workload("cpu" if self.func else workload)
        if size is not None:
            check_int("size", size, *spec.size_range)
        if max_workers is not None:
            check_int("max_workers", max_workers, 1, MAX_WORKERS_LIMIT)
        self.tasks = None if tasks is None else check_int("tasks", tasks, 1, 100_000)
        self.repeats = check_int("repeats", repeats, 1, 100)
        self.result: BenchResult | None = None
        top = max(8, default_max_workers())
        wide = {"description_width": "initial"}  # show each description in full
        options = [(spec.label, name) for name, spec in WORKLOADS.items()]
        if self.func is not None:
            options.insert(0, (f"{self.func.__module__}.{self.func.__qualname__} (yours)", MINE))
        self.workload = w.Dropdown(options=options, value=MINE if self.func else workload,
                                   description="workload", style=wide)
        self.size = number_box("task size", 0, 0, 100)  # its range is the workload's: _set_size_range
        self.unit = w.Label()
        self.max_workers = number_box("max workers", min(top, max_workers or default_max_workers()), 1, top)
        self.button = run_button("Run and redraw")
        self.progress = w.IntProgress(value=0, min=0, max=1, description="progress")
        self.status = w.Label(value="Press the button to measure.")
        self.output = w.Output()
        self.widget = w.VBox([
            w.HBox([self.workload, self.max_workers]),
            w.HBox([self.size, self.unit]),
            w.HBox([self.button, self.progress, self.status]),
            self.output,
        ])
        self._set_size_range(size)
        self.workload.observe(lambda change: self._set_size_range(None), names="value")
        self.button.on_click(lambda _button: self.run())

    def _set_size_range(self, size: int | None) -> None:
        mine = self.workload.value == MINE
        self.size.disabled = mine  # your function's tasks are your list; the size box is for the built-in ones
        spec = get_workload("cpu" if mine else self.workload.value)
        low, high, step = PANEL_SIZES[spec.name]
        value = spec.default_size if size is None else size
        high = max(high, value)
        value = min(max(value, low), high)
        # Widen the range first, then set the value, then narrow: the box refuses min > max.
        self.size.max, self.size.min = max(self.size.max, high), min(self.size.min, low)
        self.size.value = value
        self.size.min, self.size.max, self.size.step = low, high, step
        self.unit.value = f"your {len(self.task_list)} tasks, as given" if mine else spec.size_unit

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _step(self, done: int, total: int, what: str) -> None:
        self.progress.max, self.progress.value = total, done
        self.status.value = f"{done}/{total}: {what}"

    def run(self) -> BenchResult:
        """Measure with the panel's settings, redraw the speedup figure and return the result."""
        import matplotlib.pyplot as plt

        self.button.disabled = True
        self.progress.value = 0
        try:
            if self.workload.value == MINE:
                what = {"workload": self.func, "tasks": self.task_list}
            else:
                what = {"workload": self.workload.value, "size": self.size.value, "tasks": self.tasks}
            self.result = run_bench(**what, max_workers=self.max_workers.value, repeats=self.repeats,
                                    progress=False, on_step=self._step)
            fig = plot_speedup(self.result).figure
            self.output.outputs = ()
            self.output.append_display_data(FigureWithAlt(figure_png(fig), speedup_alt(self.result)))
            plt.close(fig)
            self.status.value = "Done."
        except Exception as error:  # show it in the panel, then let it propagate
            self.status.value = f"Failed: {error}"
            raise
        finally:
            self.button.disabled = False
        return self.result

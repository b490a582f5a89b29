"""The decision chart: from "what does your task wait on?" to the model to use, and the chapter that teaches it.

``BRANCHES`` is the chart as data (the answer, the model, the chapter); the chapter
draws it with :func:`draw_decision_chart` and lists the same chapters as links
beside it, so the book's build checks every link.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

CHAPTERS = Path(__file__).resolve().parent.parent.parent / "chapters"
QUESTION = "What does your\ntask wait on?"


class Branch(NamedTuple):
    answer: str  # what the task waits on
    model: str  # what to use
    chapter: str  # the chapter that teaches it (file name without suffix)


BRANCHES = (
    Branch("the network or the disk:\nmany slow waits",
           "asyncio (thousands of waits)\nor threads (dozens)", "12-choose-a-parallel-model"),
    Branch("the CPU, in NumPy or C code\nthat releases the GIL",
           "threads: one process,\nno copies", "09-measure-speedup"),
    Branch("the CPU, in pure Python",
           "processes: Pool,\nProcessPoolExecutor", "05-run-many-tasks-with-a-pool"),
    Branch("the CPU, in pure Python,\non a free-threaded 3.14t",
           "threads without the GIL\n(check your extensions)", "12-choose-a-parallel-model"),
    Branch("the CPU, pure Python, 3.14,\nno NumPy in the workers",
           "subinterpreters:\nInterpreterPoolExecutor", "12-choose-a-parallel-model"),
    Branch("both: waits, then\nCPU work on each result",
           "asyncio + run_in_executor\ninto a process pool", "12-choose-a-parallel-model"),
    Branch("more CPUs than\none machine has",
           "Dask (or Ray, MPI)\non a cluster", "11-scale-out-with-dask"),
)


def missing_chapters(branches=BRANCHES, folder: Path = CHAPTERS) -> list[str]:
    """Return the chapters the chart names that do not exist in ``folder`` ([] when all do)."""
    return [b.chapter for b in branches if not (Path(folder) / f"{b.chapter}.ipynb").exists()]


def _box(ax, x: float, y: float, text: str, colour: str, width: float) -> None:
    ax.text(x, y, text, ha="center", va="center", fontsize=7.5, wrap=True,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": "#444444", "linewidth": 0.8},
            ).set_clip_on(False)


def draw_decision_chart(branches=BRANCHES):
    """Draw the chart: the question on the left, an answer per branch, its model and chapter on the right."""
    import matplotlib.pyplot as plt

    if not branches:
        raise ValueError("branches must not be empty")
    fig, ax = plt.subplots(figsize=(8, 0.75 * len(branches) + 0.6), dpi=90)
    ax.set_xlim(0, 10)
    ax.set_ylim(-0.6, len(branches) - 0.4)
    ax.axis("off")
    middle = (len(branches) - 1) / 2
    _box(ax, 0.9, middle, QUESTION, "#fde68a", 1.6)
    for i, branch in enumerate(branches):
        y = len(branches) - 1 - i
        ax.annotate("", xy=(2.3, y), xytext=(1.75, middle), arrowprops={"arrowstyle": "->", "color": "#555555", "lw": 0.8})
        _box(ax, 3.6, y, branch.answer, "#e0f2fe", 2.4)
        ax.annotate("", xy=(5.55, y), xytext=(4.95, y), arrowprops={"arrowstyle": "->", "color": "#555555", "lw": 0.8})
        _box(ax, 6.8, y, branch.model, "#dcfce7", 2.4)
        ax.text(8.25, y, f"chapter {branch.chapter[:2]}", fontsize=7.5, va="center", color="#1d4ed8")
    fig.tight_layout()
    return fig

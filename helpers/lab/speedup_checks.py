"""The exercise checks of the speedup chapter (``chapters/09-measure-speedup.ipynb``).

Each prints one line, ✅ or ❌ with a hint that does not give the answer away,
and returns a bool so that a solution cell can ``assert`` it.
"""

from __future__ import annotations

import math

from helpers.lab.amdahl import amdahl_speedup
from helpers.lab.bench_results import SizeSweep
from helpers.lab.exercises import feedback


def check_amdahl_prediction(on_8_workers: object, limit: object) -> bool:
    """Exercise check: a job with a 5% serial fraction, its speedup on 8 workers and its limit."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (on_8_workers, limit))
    if not numbers:
        return feedback(False, "", f"Give two numbers; you gave {on_8_workers!r} and {limit!r}.")
    right_8, right_limit = amdahl_speedup(0.05, 8), 1 / 0.05
    ok_8 = math.isclose(on_8_workers, right_8, rel_tol=0.02)
    ok_limit = math.isclose(limit, right_limit, rel_tol=0.02)
    if ok_8 and ok_limit:
        return feedback(True, "Right: both numbers follow from Amdahl's law with f = 0.05.", "")
    wrong = "on_8_workers" if not ok_8 else "limit"
    hint = {
        "on_8_workers": "put f = 0.05 and n = 8 into 1 / (f + (1 - f) / n).",
        "limit": "let n grow without bound: what is left of f + (1 - f) / n?",
    }[wrong]
    return feedback(False, "", f"Check {wrong}: {hint}")


def check_curve_explanation(threads: object, beyond_cpus: object) -> bool:
    """Exercise check: letters explaining the flat thread curve and the process curve past the CPU count."""
    choices = {"a", "b", "c", "d"}
    given = [str(v).strip().lower() if isinstance(v, str) else v for v in (threads, beyond_cpus)]
    if not all(isinstance(g, str) and g in choices for g in given):
        return feedback(False, "", f"Answer each part with one letter from a to d, as a string; you gave {threads!r}, {beyond_cpus!r}.")
    if given == ["a", "b"]:
        return feedback(
            True,
            "Right: the GIL lets one thread compute at a time, and past the CPU count processes take turns on the CPUs.",
            "",
        )
    hints = []
    if given[0] != "a":
        hints.append("threads: what lets only one thread run Python bytecode at a time?")
    if given[1] != "b":
        hints.append("past the CPU count: how many processes can the operating system run at the same instant?")
    return feedback(False, "", "Not yet. " + " ".join(hints))


POOL_CHOICES = {
    "wait for 50 web servers to answer": "threads",
    "run a pure-Python simulation for each of 8 parameter sets": "processes",
    "apply numpy.sin to ten large arrays": "threads",
}


def check_pool_choice(answer: object) -> bool:
    """Exercise check: ``answer`` maps each job in ``POOL_CHOICES`` to ``"threads"`` or ``"processes"``."""
    if not isinstance(answer, dict) or set(answer) != set(POOL_CHOICES):
        return feedback(False, "", "Answer with a dict that has exactly the three jobs of the exercise as keys.")
    wrong = [job for job, right in POOL_CHOICES.items() if answer[job] != right]
    return feedback(
        not wrong,
        "Right: threads for waiting and for code that releases the GIL, processes for pure-Python computing.",
        f"Look again at: {', '.join(repr(w) for w in wrong)}. Does that job hold the GIL while it works?",
    )


def check_crossover(answer: object, sweep: SizeSweep) -> bool:
    """Exercise check: is ``answer`` the smallest task size from which processes won in ``sweep``?"""
    right = sweep.crossover()
    if right is None:
        return feedback(
            answer is None,
            "Right: in this measurement processes never won, so the answer is None (how many CPUs does this machine have?).",
            f"You gave {answer!r}, but processes did not beat serial at any size here: answer None.",
        )
    if answer not in sweep.sizes:
        return feedback(False, "", f"Answer with one of the sizes measured, {sweep.sizes}; you gave {answer!r}.")
    return feedback(
        answer == right,
        "Right: that is the smallest size from which processes beat serial, start-up included.",
        "Not that one: find the smallest size where the speedup including start-up is above 1 "
        "and stays above 1 at every larger size.",
    )

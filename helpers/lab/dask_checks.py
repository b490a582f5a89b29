"""Exercise checks of the scale-out chapter: each prints ✅ or ❌ with a hint and returns a bool."""

from __future__ import annotations

import math

from helpers.lab.exercises import feedback


def check_scaled_totals(results: object, values, factors: list[float]) -> bool:
    """Exercise check: is ``results`` ``[scaled_total(values, f) for f in factors]``, in that order?"""
    if not isinstance(results, list):
        return feedback(False, "", f"Collect the results in a list (client.gather gives one); you gave a {type(results).__name__}.")
    if results and not all(isinstance(r, (int, float)) for r in results):
        return feedback(False, "", "The list holds futures, not numbers: gather them (after wait(..., timeout=...)).")
    total = float(values.sum())
    right = [total * f for f in factors]
    if len(results) != len(right):
        return feedback(False, "", f"Expected {len(right)} results, one per factor; you have {len(results)}.")
    return feedback(
        all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(results, right)),
        f"Right: {len(right)} tasks shared one scattered copy of the data.",
        "Not quite: each result should be the data's sum times its factor, in the order of the factors.",
    )

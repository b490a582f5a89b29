"""Feedback for exercises: each chapter's ``check_*`` functions build on ``feedback``.

A check function takes the learner's answer, prints one line that says whether it
is right (and, if not, a hint that does not give the answer away) and returns a
bool, so a solution cell can also ``assert`` it.
"""

from __future__ import annotations

PASS = "✅"
FAIL = "❌"


def feedback(passed: bool, success: str, hint: str) -> bool:
    """Print ``success`` or ``hint`` with a mark and return ``passed``.

    >>> feedback(True, "Right.", "Look again.")
    ✅ Right.
    True
    >>> feedback(False, "Right.", "Look again.")
    ❌ Look again.
    False
    """
    print(f"{PASS} {success}" if passed else f"{FAIL} {hint}")
    return passed

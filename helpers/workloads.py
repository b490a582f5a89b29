"""Workers for measuring speedup: pure-Python tasks that hold the GIL while they compute,
a task that only waits, and a NumPy task that releases the GIL."""

from __future__ import annotations

import time


def is_prime(n: int) -> bool:
    """Return True if ``n`` is prime, by trial division (slow on purpose)."""
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    divisor = 3
    while divisor * divisor <= n:
        if n % divisor == 0:
            return False
        divisor += 2
    return True


def count_primes(limit: int) -> int:
    """Return how many primes are below ``limit``: pure Python, it holds the GIL throughout."""
    return sum(1 for n in range(limit) if is_prime(n))


def wait(seconds: float) -> float:
    """Sleep for ``seconds`` and return them: a task that waits (like I/O) instead of computing."""
    time.sleep(seconds)
    return seconds


def numpy_sines(repeats: int, length: int = 50_000) -> float:
    """Apply ``numpy.sin`` to ``length`` numbers ``repeats`` times; return the last result's sum."""
    import numpy as np  # imported here: a child that never runs this task skips NumPy

    x = np.linspace(0.0, 1.0, length)
    out = np.zeros_like(x)
    for _ in range(repeats):
        np.sin(x, out=out)  # inside this call NumPy releases the GIL while it loops over x
    return float(out.sum())

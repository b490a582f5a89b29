"""Workloads for the book: pure-Python CPU-bound tasks that hold the GIL while they run,
and, for comparison, a task that only waits and a NumPy task that releases the GIL."""

from __future__ import annotations

import time


def is_prime(n: int) -> bool:
    """Return True if ``n`` is prime, by trial division (slow on purpose).

    >>> [k for k in range(20) if is_prime(k)]
    [2, 3, 5, 7, 11, 13, 17, 19]
    """
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
    """Return how many primes are below ``limit`` (a pure-Python, GIL-holding task).

    >>> count_primes(100)
    25
    """
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"limit must be an int, got {type(limit).__name__}")
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    return sum(1 for n in range(limit) if is_prime(n))


# The speedup chapter compares these two with count_primes: one task that only
# waits, and one that computes in NumPy with the GIL released.


def wait(seconds: float) -> float:
    """Sleep for ``seconds`` and return ``seconds``: a task that waits instead of computing.

    It stands in for I/O (a network reply, a disk read): a thread that sleeps
    releases the GIL, so waiting threads overlap even though only one can run
    Python code at a time.

    >>> wait(0.001)
    0.001
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"seconds must be a number, got {type(seconds).__name__}")
    if not 0 <= seconds <= 60:
        raise ValueError(f"seconds must be between 0 and 60, got {seconds!r}")
    time.sleep(seconds)
    return seconds


def numpy_sines(repeats: int, length: int = 50_000) -> float:
    """Apply ``numpy.sin`` to ``length`` numbers ``repeats`` times and return a checksum.

    The checksum is the sum of the last result (0.0 when ``repeats`` is 0), so
    every way of running the same tasks returns the same number. NumPy releases
    the GIL inside the loop of a ufunc such as ``sin`` over a large float array,
    so threads running this task compute at the same time. The array (400 kB)
    fits in a CPU cache, so the task is limited by arithmetic, not memory.
    ``numpy.sin`` itself runs on one core (unlike matrix products, which
    NumPy's BLAS library may already spread over every core).

    >>> numpy_sines(0)
    0.0
    >>> round(numpy_sines(3, length=3), 6)  # sin(0) + sin(0.5) + sin(1)
    1.320897
    """
    import numpy as np  # imported here: children that never run this task skip NumPy

    for name, value, low, high in (("repeats", repeats, 0, 1_000_000), ("length", length, 1, 10_000_000)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if not low <= value <= high:
            raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    x = np.linspace(0.0, 1.0, length)
    out = np.zeros_like(x)
    for _ in range(repeats):
        np.sin(x, out=out)
    return float(out.sum())

"""CPU-bound workloads written in pure Python, so they hold the GIL while they run."""

from __future__ import annotations


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

"""Workers for choosing a parallel model: a CPU-bound task, a task that reads a large block
of bytes, a read-add-write with no lock, and coroutines that wait and compute.

The waiting task is ``wait`` from :mod:`helpers.workloads`.
"""

from __future__ import annotations

import asyncio
import time

from helpers.workloads import is_prime


def primes_below(limit: int) -> int:
    """Count the primes below ``limit`` with a plain loop: pure Python, it holds the GIL where there is one."""
    count = 0
    for n in range(limit):
        if is_prime(n):
            count += 1
    return count


def zero_bytes(block: bytes) -> int:
    """Return how many zero bytes ``block`` holds: little work on a lot of data."""
    return block.count(0)


def add_to_counter(counter: list, times: int) -> None:
    """Add 1 to ``counter[0]``, ``times`` times, with no lock: read, add, write back."""
    for _ in range(times):
        counter[0] += 1


def plus_one(value: int) -> int:
    """Return ``value + 1``: a call, so that the interpreter may switch threads on its return."""
    return value + 1


def add_through_call(counter: list, times: int) -> None:
    """Like :func:`add_to_counter`, with a function call between the read and the write."""
    for _ in range(times):
        counter[0] = plus_one(counter[0])


def busy_for(seconds: float) -> int:
    """Compute (count loop turns) for ``seconds`` without waiting on anything; return the count."""
    end = time.perf_counter() + seconds
    turns = 0
    while time.perf_counter() < end:
        turns += 1
    return turns


async def compute_on_loop(seconds: float) -> int:
    """Compute for ``seconds`` inside the coroutine: no ``await``, so the event loop waits."""
    return busy_for(seconds)


async def fetch_and_count(limit: int, delay: float, pool) -> int:
    """Wait ``delay`` seconds (as for a download), then count the primes below ``limit`` in ``pool``."""
    await asyncio.sleep(delay)  # the loop runs other coroutines meanwhile
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool, primes_below, limit)  # CPU work leaves the loop

"""Amdahl's and Gustafson's laws, and a least-squares estimate of a run's serial fraction.

Plain arithmetic on numbers and on the results of :mod:`helpers.lab.bench`; NumPy
is imported only by the fit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from helpers.lab.args import check_int, check_number
from helpers.lab.bench_results import BenchResult


def amdahl_speedup(serial_fraction: float, workers: int) -> float:
    """Return Amdahl's speedup ``1 / (f + (1 - f) / n)`` for serial fraction ``f`` on ``n`` workers.

    The problem size is fixed; only the parallel part ``1 - f`` is shared out.

    >>> round(amdahl_speedup(0.1, 4), 3)
    3.077
    >>> amdahl_speedup(0.0, 8), amdahl_speedup(1.0, 8)
    (8.0, 1.0)
    """
    f = check_number("serial_fraction", serial_fraction, 0, 1)
    n = check_int("workers", workers, 1)
    return 1 / (f + (1 - f) / n)


def gustafson_speedup(serial_fraction: float, workers: int) -> float:
    """Return Gustafson's scaled speedup ``n - f (n - 1)``.

    Here ``f`` is the serial share of the time of the run *on n workers*, and the
    problem grows with ``n``: serial code takes as long as before, the parallel
    part does ``n`` times as much work in the same time.

    >>> gustafson_speedup(0.1, 4)
    3.7
    """
    f = check_number("serial_fraction", serial_fraction, 0, 1)
    n = check_int("workers", workers, 1)
    return n - f * (n - 1)


@dataclass(frozen=True)
class AmdahlFit:
    """A least-squares estimate of the serial fraction from measured speedups."""

    serial_fraction: float
    workers: tuple[int, ...]  # the worker counts the fit used
    speedups: tuple[float, ...]  # the measured speedups at those counts

    @property
    def limit(self) -> float:
        """The speedup no number of workers can exceed: ``1 / f`` (``inf`` when ``f`` is 0)."""
        return math.inf if self.serial_fraction == 0 else 1 / self.serial_fraction

    def describe(self) -> str:
        """Return one line: the serial fraction, the counts it came from, and the limit it implies.

        >>> AmdahlFit(0.25, (2, 3), (1.6, 2.0)).describe()
        'serial fraction f = 0.250, fitted to [2, 3] workers: a limit of 4.0x however many workers'
        """
        limit = "no limit" if math.isinf(self.limit) else f"a limit of {self.limit:.1f}x"
        return (
            f"serial fraction f = {self.serial_fraction:.3f}, fitted to {list(self.workers)} workers: "
            f"{limit} however many workers"
        )

    def predict(self, workers: int) -> float:
        """Return the fitted Amdahl speedup on ``workers`` workers."""
        return amdahl_speedup(self.serial_fraction, workers)


def fit_serial_fraction(workers: Sequence[int], speedups: Sequence[float]) -> float:
    """Return the serial fraction ``f`` that best fits ``1/S = f + (1 - f)/n`` (least squares).

    Rearranged, ``1/S - 1/n = f (1 - 1/n)``: a straight line through the origin
    in ``f``, fitted with ``numpy.linalg.lstsq``. Points with ``n = 1`` carry no
    information and are skipped. The answer is clipped to [0, 1] (noise can
    make a measured speedup slightly super-linear).

    >>> ns = [2, 4, 8]
    >>> round(fit_serial_fraction(ns, [amdahl_speedup(0.1, n) for n in ns]), 6)
    0.1
    """
    import numpy as np

    if len(workers) != len(speedups):
        raise ValueError(f"workers and speedups must have the same length, got {len(workers)} and {len(speedups)}")
    n = np.asarray(workers, dtype=float)
    s = np.asarray(speedups, dtype=float)
    if np.any(n < 1) or np.any(s <= 0) or not np.all(np.isfinite(s)):
        raise ValueError("workers must be >= 1 and speedups finite and > 0")
    keep = n > 1
    if not keep.any():
        raise ValueError("need at least one speedup measured with 2 or more workers")
    x = (1 - 1 / n[keep])[:, None]
    y = 1 / s[keep] - 1 / n[keep]
    (f,), *_ = np.linalg.lstsq(x, y, rcond=None)
    return float(min(1.0, max(0.0, f)))


MIN_FIT_COUNTS = 3  # worker counts of 2 or more a fit needs: one or two noisy points fix any curve


def fit_amdahl(result: BenchResult, kind: str = "processes", include_startup: bool = False) -> AmdahlFit | None:
    """Fit Amdahl's law to ``kind``'s speedups for 2 up to ``result.compute_cores`` workers, or return None.

    Only counts up to the whole cores are used: past them, workers share cores
    (hyperthreads) or take turns on the CPUs, limits Amdahl's law does not
    describe. With fewer than ``MIN_FIT_COUNTS`` such counts (a machine with 2
    or 3 cores, say) the answer is None: a curve through one or two noisy points
    says nothing about the serial fraction. :func:`fit_note` says which case it is.
    """
    counts = [n for n in result.workers(kind) if 2 <= n <= result.compute_cores]
    if len(counts) < MIN_FIT_COUNTS:
        return None
    speedups = [result.speedup(kind, n, include_startup) for n in counts]
    return AmdahlFit(fit_serial_fraction(counts, speedups), tuple(counts), tuple(speedups))


def fit_note(result: BenchResult, kind: str = "processes") -> str:
    """Return the fit's one-line description, or why there is no fit for ``result``."""
    fit = fit_amdahl(result, kind)
    if fit is not None:
        return fit.describe()
    counts = [n for n in result.workers(kind) if 2 <= n <= result.compute_cores]
    cores = result.compute_cores
    return (
        f"no Amdahl fit: it needs {MIN_FIT_COUNTS} worker counts from 2 up to the {cores} whole "
        f"core{'s' if cores != 1 else ''} here, and this run has {len(counts)} ({counts or 'none'}); "
        "the Karp-Flatt fractions below show the same per worker count"
    )


def karp_flatt(speedup: float, workers: int) -> float:
    """Return the Karp-Flatt metric: the serial fraction that one measured speedup implies.

    ``e = (1/S - 1/n) / (1 - 1/n)``, Amdahl's law solved for ``f`` at one point.
    If ``e`` stays the same as ``n`` grows, the loss is a fixed serial part; if it
    grows, an overhead grows with the workers (more tasks to hand out, workers
    sharing cores). Below 0 means a super-linear point, usually noise.

    >>> round(karp_flatt(amdahl_speedup(0.1, 4), 4), 6)
    0.1
    >>> karp_flatt(2.0, 2)
    0.0
    """
    n = check_int("workers", workers, 2)
    s = check_number("speedup", speedup, 1e-9, math.inf)
    return (1 / s - 1 / n) / (1 - 1 / n)


def karp_flatt_series(result: BenchResult, kind: str = "processes") -> list[tuple[int, float]]:
    """Return ``(workers, e)`` for every count of 2 or more measured for ``kind`` (see :func:`karp_flatt`)."""
    return [(n, karp_flatt(result.speedup(kind, n), n)) for n in result.workers(kind) if n >= 2]

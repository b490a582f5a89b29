"""Tests of helpers.lab.amdahl: the two laws and the fit of a serial fraction."""

from __future__ import annotations

import math

import pytest

from helpers.lab.amdahl import (
    AmdahlFit,
    amdahl_speedup,
    fit_amdahl,
    fit_note,
    fit_serial_fraction,
    gustafson_speedup,
    karp_flatt,
    karp_flatt_series,
)
from tests.lab.test_bench_results import fake


def test_amdahl_and_gustafson():
    assert amdahl_speedup(0.05, 8) == pytest.approx(5.9259, rel=1e-4)
    assert amdahl_speedup(0.5, 10**6) == pytest.approx(2.0, rel=1e-5)
    assert gustafson_speedup(0.05, 8) == pytest.approx(7.65)
    for func in (amdahl_speedup, gustafson_speedup):
        with pytest.raises(ValueError, match="serial_fraction must be from 0 to 1"):
            func(1.5, 2)
        with pytest.raises(ValueError, match="workers must be at least 1"):
            func(0.1, 0)
        with pytest.raises(TypeError, match="workers must be an int"):
            func(0.1, 2.0)


@pytest.mark.parametrize("f", [0.0, 0.03, 0.25, 1.0])
def test_fit_serial_fraction_recovers_f(f):
    ns = [1, 2, 3, 4, 8]
    assert fit_serial_fraction(ns, [amdahl_speedup(f, n) for n in ns]) == pytest.approx(f, abs=1e-9)


def test_fit_serial_fraction_errors_and_clipping():
    assert fit_serial_fraction([2], [2.2]) == 0.0  # super-linear noise clips to 0
    with pytest.raises(ValueError, match="same length"):
        fit_serial_fraction([2, 3], [1.5])
    with pytest.raises(ValueError, match="2 or more workers"):
        fit_serial_fraction([1], [1.0])
    with pytest.raises(ValueError, match="finite and > 0"):
        fit_serial_fraction([2], [0.0])


def test_fit_amdahl_uses_only_counts_up_to_the_cpus():
    f = 0.1
    seconds = [10 / amdahl_speedup(f, n) for n in (1, 2, 3, 4)] + [8.0, 9.0]  # 5 and 6 workers: oversubscribed
    fit = fit_amdahl(fake(10.0, processes=seconds, cpus=4))
    assert fit.workers == (2, 3, 4)
    assert fit.serial_fraction == pytest.approx(f)
    assert fit.limit == pytest.approx(10) and fit.predict(4) == pytest.approx(amdahl_speedup(f, 4))
    assert fit_amdahl(fake(1.0, processes=[1.0, 1.0, 1.0, 1.0], cpus=1)) is None  # one CPU: nothing to fit


def test_a_fit_without_serial_part_has_no_limit():
    fit = AmdahlFit(0.0, (2,), (2.0,))
    assert math.isinf(fit.limit) and "no limit" in fit.describe()


def test_no_fit_from_fewer_than_three_counts_of_two_or_more_workers():
    two_cpus = fake(1.0, processes=[1.0, 0.55, 0.5, 0.5], cpus=2)  # only n = 2 lies in 2..cpus
    assert fit_amdahl(two_cpus) is None
    assert fit_note(two_cpus).startswith("no Amdahl fit: it needs 3 worker counts from 2 up to the 2 whole cores here, "
                                         "and this run has 1 ([2])")
    hyperthreads = fake(1.0, processes=[1.0, 0.55, 0.4, 0.3, 0.28, 0.27], cpus=6, cores=3)  # 2..3 only: 2 counts
    assert fit_amdahl(hyperthreads) is None
    four = fake(1.0, processes=[1.0, 0.55, 0.4, 0.3], cpus=4)
    assert fit_amdahl(four).workers == (2, 3, 4) and fit_note(four) == fit_amdahl(four).describe()


def test_karp_flatt_recovers_a_constant_serial_fraction_and_shows_a_growing_one():
    for n in (2, 4, 8):
        assert karp_flatt(amdahl_speedup(0.2, n), n) == pytest.approx(0.2)
    assert karp_flatt(2.0, 2) == 0.0 and karp_flatt(2.2, 2) < 0  # super-linear: noise
    r = fake(1.0, processes=[1.0, 0.5, 0.4, 0.4], cpus=4)  # 2.0x, 2.5x, 2.5x: the loss grows with n
    series = karp_flatt_series(r)
    assert [n for n, _ in series] == [2, 3, 4]
    assert series[0][1] == pytest.approx(0.0) and series[1][1] < series[2][1]
    with pytest.raises(ValueError, match="workers must be at least 2"):
        karp_flatt(1.0, 1)
    with pytest.raises(ValueError, match="speedup must be from"):
        karp_flatt(0.0, 2)

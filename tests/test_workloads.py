from __future__ import annotations

import math
import time

import numpy as np
import pytest

from helpers.workloads import numpy_sines, wait


def test_wait_sleeps_and_returns_its_argument():
    start = time.perf_counter()
    assert wait(0.05) == 0.05
    assert time.perf_counter() - start >= 0.045


@pytest.mark.parametrize(("seconds", "error"), [(-0.1, ValueError), (61, ValueError), ("1", TypeError), (True, TypeError)])
def test_wait_rejects_bad_seconds(seconds, error):
    with pytest.raises(error, match="seconds must be"):
        wait(seconds)


def test_numpy_sines_is_the_sum_of_sines():
    expected = float(np.sin(np.linspace(0.0, 1.0, 1000)).sum())
    assert math.isclose(numpy_sines(3, length=1000), expected)
    assert numpy_sines(0) == 0.0
    assert numpy_sines(2) == numpy_sines(5)  # the same array every pass: the answer does not drift


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"repeats": -1}, ValueError), ({"repeats": 1.0}, TypeError), ({"repeats": 1, "length": 0}, ValueError),
     ({"repeats": 1, "length": True}, TypeError)],
)
def test_numpy_sines_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error, match="repeats must be|length must be"):
        numpy_sines(**kwargs)

"""Tests of helpers/lab/dask_checks.py: the scale-out chapter's exercise checks."""

from __future__ import annotations

import numpy as np

from helpers.lab.dask_checks import check_scaled_totals

VALUES = np.arange(10.0)  # sums to 45


def test_the_right_totals_in_order_pass(capsys):
    assert check_scaled_totals([45.0, 90.0, 135.0], VALUES, [1, 2, 3])
    assert capsys.readouterr().out.startswith("✅")


def test_wrong_order_wrong_length_and_futures_fail(capsys):
    assert not check_scaled_totals([90.0, 45.0, 135.0], VALUES, [1, 2, 3])
    assert not check_scaled_totals([45.0, 90.0], VALUES, [1, 2, 3])
    assert not check_scaled_totals([object()], VALUES, [1])
    assert not check_scaled_totals((45.0,), VALUES, [1])
    out = capsys.readouterr().out
    assert out.count("❌") == 4 and "gather" in out and "tuple" in out

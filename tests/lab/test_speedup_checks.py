"""Tests of helpers.lab.speedup_checks: each check accepts the answer and explains a wrong one."""

from __future__ import annotations

from helpers.lab.speedup_checks import (
    POOL_CHOICES,
    check_amdahl_prediction,
    check_crossover,
    check_curve_explanation,
    check_pool_choice,
)
from tests.lab.test_bench_results import sweep_of


def test_check_amdahl_prediction(capsys):
    assert check_amdahl_prediction(1 / (0.05 + 0.95 / 8), 20)
    assert check_amdahl_prediction(5.93, 20.0)
    assert not check_amdahl_prediction(8, 20)
    assert not check_amdahl_prediction(5.93, float("inf"))
    assert not check_amdahl_prediction("6", 20)
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and out.count("❌") == 3 and "Check limit" in out and "Check on_8_workers" in out


def test_check_curve_explanation(capsys):
    assert check_curve_explanation("a", "b")
    assert check_curve_explanation(" A", "B")
    assert not check_curve_explanation("b", "b")
    assert not check_curve_explanation("a", "e")
    assert not check_curve_explanation(["a"], "b")
    out = capsys.readouterr().out
    assert "threads:" in out and "one letter" in out


def test_check_pool_choice(capsys):
    assert check_pool_choice(dict(POOL_CHOICES))
    flipped = {job: ("threads" if c == "processes" else "processes") for job, c in POOL_CHOICES.items()}
    assert not check_pool_choice(flipped)
    assert not check_pool_choice({"x": "threads"})
    assert "Look again" in capsys.readouterr().out


def test_check_crossover(capsys):
    sweep = sweep_of([0.2, 0.8, 1.3, 1.8])
    assert check_crossover(1000, sweep)
    assert not check_crossover(100, sweep)
    assert not check_crossover(5, sweep)
    never = sweep_of([0.2, 0.5])
    assert check_crossover(None, never)
    assert not check_crossover(100, never)
    assert "never won" in capsys.readouterr().out

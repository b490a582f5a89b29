"""Tests of helpers.lab.model_checks: each check accepts the right answer and names what is wrong otherwise."""

from __future__ import annotations

from helpers.lab import model_checks


def right_answers():
    return {scenario: fits[0] for scenario, fits in model_checks.SCENARIOS.items()}


def test_check_model_choices(capsys):
    assert model_checks.check_model_choices(right_answers()) is True
    wrong = {**right_answers(), "download 500 web pages": "processes"}
    assert model_checks.check_model_choices(wrong) is False
    assert model_checks.check_model_choices({}) is False
    assert model_checks.check_model_choices({**right_answers(), "download 500 web pages": ...}) is False
    assert model_checks.check_model_choices("threads") is False
    out = capsys.readouterr().out
    assert out.count("❌") == 4 and "missing" in out and "not one of" in out


def test_check_safe_counter(capsys):
    def with_lock(counter, lock, times):
        for _ in range(times):
            with lock:
                counter[0] += 1

    def without_lock(counter, lock, times):
        for _ in range(times):
            counter[0] += 1

    def too_few(counter, lock, times):
        with lock:
            counter[0] += 1

    def raises(counter, lock, times):
        raise KeyError("x")

    assert model_checks.check_safe_counter(with_lock, times=1000) is True
    assert model_checks.check_safe_counter(without_lock, times=1000) is False
    assert model_checks.check_safe_counter(too_few, times=1000) is False
    assert model_checks.check_safe_counter(raises, times=10) is False
    out = capsys.readouterr().out
    assert "never taken" in out and "expected 4000" in out and "KeyError" in out


def test_check_unblocked(capsys):
    assert model_checks.check_unblocked(0.01, 0.25) is True
    assert model_checks.check_unblocked(0.2, 0.25) is False
    assert model_checks.check_unblocked("fast", 0.25) is False
    assert capsys.readouterr().out.count("❌") == 2

"""The one argument checker: clear errors naming the argument and the allowed range."""

from __future__ import annotations

import math

import pytest

from helpers.lab import args


@pytest.mark.parametrize("value", [1, 5, 10])
def test_check_int_accepts_the_range(value):
    assert args.check_int("n", value, 1, 10) == value


@pytest.mark.parametrize(
    ("value", "error", "says"),
    [(0, ValueError, "n must be from 1 to 10, got 0"), (11, ValueError, "got 11"),
     (True, TypeError, "n must be an int"), ("3", TypeError, "str '3'"), (2.0, TypeError, "float")],
)
def test_check_int_names_the_argument(value, error, says):
    with pytest.raises(error, match=says):
        args.check_int("n", value, 1, 10)


def test_check_int_without_an_upper_bound():
    assert args.check_int("n", 10**9, 1) == 10**9
    with pytest.raises(ValueError, match="at least 1"):
        args.check_int("n", 0, 1)


@pytest.mark.parametrize("value", [math.nan, math.inf, -0.1, 3601])
def test_check_seconds_refuses_what_is_not_a_duration(value):
    with pytest.raises(ValueError, match="timeout must be from 0 to 3600 seconds"):
        args.check_seconds("timeout", value)


def test_check_seconds_returns_a_float():
    assert args.check_seconds("t", 3) == 3.0 and isinstance(args.check_seconds("t", 3), float)


def test_check_number_and_choice():
    assert args.check_number("f", 0.25, 0, 1) == 0.25
    with pytest.raises(ValueError, match="f must be from 0 to 1"):
        args.check_number("f", 1.5, 0, 1)
    assert args.check_choice("m", "spawn", ("fork", "spawn")) == "spawn"
    with pytest.raises(ValueError, match="m must be one of 'fork', 'spawn'; got 'x'"):
        args.check_choice("m", "x", ("fork", "spawn"))


def test_check_int_list_names_the_bad_item():
    assert args.check_int_list("sizes", range(1, 4), 1) == [1, 2, 3]
    with pytest.raises(ValueError, match=r"sizes\[1\] must be at least 1, got 0"):
        args.check_int_list("sizes", [1, 0], 1)
    with pytest.raises(TypeError, match="sizes must be a list of ints"):
        args.check_int_list("sizes", "123", 1)


def test_check_callable():
    assert args.check_callable("func", len) is len
    with pytest.raises(TypeError, match="func must be a function"):
        args.check_callable("func", 3)

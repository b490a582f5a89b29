"""The one argument checker of the book's instruments.

Every parent-side tool checks its arguments here, so that a bad argument fails at
once with a message naming it and the allowed range, never as a hang or a traceback
from deep inside multiprocessing. Worker functions (``helpers/<topic>.py``) do not
check: they stay short enough to read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def check_int(name: str, value: object, low: int = 0, high: int | None = None) -> int:
    """Return ``value`` if it is an int in ``[low, high]``; else raise naming ``name``.

    >>> check_int("workers", 4, 1, 64)
    4
    >>> check_int("workers", 0, 1, 64)
    Traceback (most recent call last):
    ...
    ValueError: workers must be from 1 to 64, got 0
    >>> check_int("workers", 2.0, 1)
    Traceback (most recent call last):
    ...
    TypeError: workers must be an int, got float 2.0
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {allowed}, got {value}")
    return value


def check_seconds(name: str, value: object, low: float = 0.0, high: float = 3600.0) -> float:
    """Return ``value`` as a float if it is a finite number of seconds in ``[low, high]``.

    >>> check_seconds("timeout", 2)
    2.0
    >>> check_seconds("timeout", -1)
    Traceback (most recent call last):
    ...
    ValueError: timeout must be from 0 to 3600 seconds, got -1
    >>> check_seconds("timeout", None)
    Traceback (most recent call last):
    ...
    TypeError: timeout must be a number of seconds, got NoneType None
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__} {value!r}")
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be from {low:g} to {high:g} seconds, got {value!r}")
    return float(value)


def check_number(name: str, value: object, low: float, high: float) -> float:
    """Return ``value`` as a float if it is a finite number in ``[low, high]``.

    >>> check_number("fraction", 0.5, 0, 1)
    0.5
    >>> check_number("fraction", 2, 0, 1)
    Traceback (most recent call last):
    ...
    ValueError: fraction must be from 0 to 1, got 2
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be from {low:g} to {high:g}, got {value!r}")
    return float(value)


def check_choice(name: str, value: object, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; else raise listing them.

    >>> check_choice("method", "spawn", ["fork", "spawn"])
    'spawn'
    >>> check_choice("method", "thread", ["fork", "spawn"])
    Traceback (most recent call last):
    ...
    ValueError: method must be one of 'fork', 'spawn'; got 'thread'
    """
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value  # type: ignore[return-value]


def check_int_list(name: str, values: object, low: int = 0, high: int | None = None) -> list[int]:
    """Return ``values`` as a non-empty list of ints each in ``[low, high]``.

    >>> check_int_list("sizes", (1, 2), 1)
    [1, 2]
    >>> check_int_list("sizes", [], 1)
    Traceback (most recent call last):
    ...
    ValueError: sizes must not be empty
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of ints, got {type(values).__name__} {values!r}")
    values = list(values)
    if not values:
        raise ValueError(f"{name} must not be empty")
    return [check_int(f"{name}[{i}]", v, low, high) for i, v in enumerate(values)]


def check_callable(name: str, value: object) -> object:
    """Return ``value`` if it can be called; else raise ``TypeError`` naming ``name``."""
    if not callable(value):
        raise TypeError(f"{name} must be a function, got {type(value).__name__} {value!r}")
    return value

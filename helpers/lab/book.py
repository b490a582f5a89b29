"""Book-wide settings: which start method the chapters use.

One switch, the environment variable ``MP_BOOK_START_METHOD``, chooses the start
method for a whole run (executing the notebooks, nbval, the book build) without
editing any notebook. With no switch set the book uses ``spawn``: it is the one
method every operating system has, and it behaves the same on all of them.
"""

from __future__ import annotations

import multiprocessing
import os

START_METHOD_ENV = "MP_BOOK_START_METHOD"
DEFAULT_START_METHOD = "spawn"
METHOD_ORDER = ("fork", "spawn", "forkserver")  # the standard library's, in the order the book teaches them


def available_methods() -> list[str]:
    """Return the standard library's start methods this platform has, in the order fork, spawn, forkserver.

    ``multiprocessing.get_all_start_methods()`` may list more: a package can register
    contexts of its own (importing joblib adds loky's ``"loky"`` and ``"loky_init_main"``,
    which 3.14 then lists); the book teaches, offers and accepts only these three.

    >>> "spawn" in available_methods()
    True
    """
    available = multiprocessing.get_all_start_methods()
    return [m for m in METHOD_ORDER if m in available]


def book_start_method() -> str:
    """Return the start method the book runs with: the switch's value, else ``"spawn"``.

    Raises ``ValueError`` when the switch names a method this platform lacks.
    """
    method = os.environ.get(START_METHOD_ENV, "").strip() or DEFAULT_START_METHOD
    available = available_methods()
    if method not in available:
        raise ValueError(
            f"{START_METHOD_ENV}={method!r} is not a start method on this platform; "
            f"choose one of {', '.join(available)}"
        )
    return method


def use_book_start_method() -> str:
    """Make the book's start method the default of this process and return its name.

    Every chapter's setup cell calls this once. Code that wants a particular
    method on purpose uses ``multiprocessing.get_context(name)`` instead.
    """
    method = book_start_method()
    multiprocessing.set_start_method(method, force=True)
    return method

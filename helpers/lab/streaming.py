"""Instruments for streaming results as they finish: how far a pool reads ahead of its consumer.

:class:`Counted` wraps the input of a pool and counts the items taken from it, by
whichever thread takes them (``Pool.imap`` takes them in its task-handler thread).
Taken minus written is the number of tasks *in flight*: read from the input, not yet
written out. Each of them holds memory somewhere (a pipe, a worker, a result waiting
in the parent), so a stream has bounded memory exactly when that number stays bounded.
:class:`InFlightFile` writes lines to a real file and notes that number at every line.
:func:`check_bounded_stream` is the exercise check built on both.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Iterable

from helpers.lab.args import check_callable, check_int
from helpers.lab.exercises import feedback


class Counted:
    """An iterator over ``iterable`` that counts in ``taken`` how many items were taken from it.

    >>> numbers = Counted(range(5))
    >>> next(numbers), next(numbers), numbers.taken
    (0, 1, 2)
    """

    def __init__(self, iterable: Iterable):
        self._items = iter(iterable)
        self._lock = threading.Lock()  # the pool's thread and the caller may both take items
        self.taken = 0

    def __iter__(self) -> Counted:
        return self

    def __next__(self):
        with self._lock:
            item = next(self._items)
            self.taken += 1
            return item


class InFlightFile:
    """A text file that notes, at each line written, how many items of ``inputs`` are in flight.

    ``inputs`` is a :class:`Counted`; in flight = ``inputs.taken`` minus the lines
    written before this one. ``in_flight`` lists that number for every line, and
    ``lines`` counts them. The file is ``path`` (opened for writing, truncated).

    >>> import os, tempfile
    >>> numbers = Counted(range(3))
    >>> path = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> with InFlightFile(path, numbers) as out:
    ...     for n in numbers:
    ...         _ = out.write(f"{n}\\n")
    >>> out.in_flight, out.lines
    ([1, 1, 1], 3)
    """

    def __init__(self, path: str | os.PathLike, inputs: Counted):
        if not isinstance(inputs, Counted):
            raise TypeError(f"inputs must be a Counted, got {type(inputs).__name__}")
        self.path = os.fspath(path)
        self.inputs = inputs
        self.in_flight: list[int] = []
        self.lines = 0
        self._file = open(self.path, "w", encoding="utf-8")

    def write(self, text: str) -> int:
        """Write ``text``; for each line it ends, note the items in flight."""
        if not isinstance(text, str):
            raise TypeError(f"write() takes a str, got {type(text).__name__}: write f'{{result}}\\n'")
        for _ in range(text.count("\n")):
            self.in_flight.append(self.inputs.taken - self.lines)
            self.lines += 1
        return self._file.write(text)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> InFlightFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def peak(self) -> int:
        """The most items in flight at any line (0 before the first line)."""
        return max(self.in_flight, default=0)


def check_bounded_stream(stream_squares: Callable, limit: int = 4, count: int = 40) -> bool:
    """Exercise check: does ``stream_squares(numbers, out, limit)`` write every square with at most ``limit`` in flight?

    Calls it with ``numbers`` = 1 to ``count`` (an iterator that counts what is taken)
    and ``out`` a file that notes the tasks in flight at each line, then reads the file
    back: one square per line, each once.
    """
    check_callable("stream_squares", stream_squares)
    limit = check_int("limit", limit, 1, 1000)
    count = check_int("count", count, 1, 100_000)
    numbers = Counted(range(1, count + 1))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "squares.txt")
        with InFlightFile(path, numbers) as out:
            stream_squares(numbers, out, limit)
        with open(path, encoding="utf-8") as written:
            lines = written.read().split()
    if sorted(lines) != sorted(str(n * n) for n in range(1, count + 1)):
        return feedback(False, "", f"The file should hold the {count} squares of 1 to {count}, one per line, each once; "
                                   f"it has {len(lines)} lines. Write f'{{result}}\\n' for every result.")
    return feedback(
        out.peak <= limit,
        f"Right: all {count} squares written, with at most {out.peak} tasks in flight (the limit was {limit}).",
        f"All {count} squares are there, but up to {out.peak} tasks were in flight at once, over the limit of {limit}: "
        "take the next inputs only as results are written.",
    )

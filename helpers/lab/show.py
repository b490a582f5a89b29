"""Show a worker's source on the page, taken from the live module so it can never drift.

``show(square)`` as the last line of a cell displays the function's code, syntax
highlighted, headed by the file it lives in. Jupyter and the HTML book render the
Markdown form (a fenced ``python`` block); the plain-text form, the same code, is
what nbval compares, so a changed worker fails the chapter's test until the chapter
is executed again.
"""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path


def source_file(obj: object) -> str:
    """Return where ``obj`` is defined, as a learner would find it: ``helpers/messages.py``.

    >>> from helpers.lab.results import collect
    >>> source_file(collect)
    'helpers/lab/results.py'
    """
    module = inspect.getmodule(obj)
    if module is None or not getattr(module, "__file__", None):
        raise TypeError(f"{obj!r} has no source file: show() needs a function or class from a module")
    name = module.__name__
    if name == "__main__":
        raise TypeError(f"{obj!r} is defined in the notebook; show() displays code from a module")
    if name.split(".")[0] == "helpers":
        return name.replace(".", "/") + ".py"
    return Path(module.__file__).name


class Source:
    """Source code to display: a ``python`` code block in Jupyter and the book, plain text elsewhere."""

    def __init__(self, blocks: list[tuple[str, str]]) -> None:
        self.blocks = blocks  # (file, code) pairs

    def _text(self) -> str:
        return "\n\n".join(f"# {file}\n{code}" for file, code in self.blocks)

    def __repr__(self) -> str:
        return self._text()

    def _repr_markdown_(self) -> str:
        return f"```python\n{self._text()}\n```"


def show(*objects: object) -> Source:
    """Return the source of functions or classes, each headed by its file, for display.

    >>> from helpers.lab.results import collect
    >>> header, signature = repr(show(collect)).splitlines()[:2]
    >>> header, signature.startswith("def collect(queue, count: int")
    ('# helpers/lab/results.py', True)
    >>> show()
    Traceback (most recent call last):
    ...
    TypeError: show() needs at least one function or class
    """
    if not objects:
        raise TypeError("show() needs at least one function or class")
    blocks = []
    for obj in objects:
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            raise TypeError(f"show() displays functions and classes, got {type(obj).__name__} {obj!r}")
        blocks.append((source_file(obj), textwrap.dedent(inspect.getsource(obj)).rstrip()))
    return Source(blocks)

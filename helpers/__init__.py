"""Worker functions and instruments for the multiprocessing book.

Two kinds of code, in two places:

- ``helpers/<topic>.py`` (``processes``, ``messages``, ``sharing``, ``pools``,
  ``sync``, ``workloads``, ``debugging``): worker functions, what a child process runs. They are
  short and plain, and every chapter shows their source on the page. A child
  started with ``spawn`` or ``forkserver`` imports the function it runs, so a
  worker must live in a module like these, never in a notebook cell.
- ``helpers/lab/``: the book's instruments (timing, timelines, plots, widget
  panels, machine facts, exercise checks). Learners use them; they need not read them.

This file stays light on purpose: a spawned child imports ``helpers`` every time
it starts, so nothing here plots, measures or changes global state.
"""

from helpers.lab.book import book_start_method, use_book_start_method
from helpers.lab.machine import effective_cpus

__all__ = ["book_start_method", "effective_cpus", "use_book_start_method"]

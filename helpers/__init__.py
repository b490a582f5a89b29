"""Worker functions and tools for the multiprocessing book.

Every chapter imports its workers from here, because a child started with the
``spawn`` or ``forkserver`` method must import the function it runs: a function
defined in a notebook cell does not exist in the child.

This file stays light on purpose: a spawned child imports ``helpers`` every
time it starts, so nothing here plots, measures or changes global state.
The topic modules (``helpers.timeline``, ``helpers.machine`` ...) hold the code.
"""

from helpers.book import book_start_method, use_book_start_method
from helpers.machine import effective_cpus

__all__ = ["book_start_method", "effective_cpus", "use_book_start_method"]

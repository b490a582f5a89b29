"""Workers that share state: Value, Array, SharedMemory segments and manager proxies.

Each worker runs in a child process and changes memory (or a manager's object)
that the parent sees too; it returns nothing. One, read_after_close, crashes its
process on purpose. Chapter 04 shows each one on the page before it uses it.
"""

from __future__ import annotations

from multiprocessing import shared_memory


def add_to_counter(counter, times: int, use_lock: bool, start=None) -> None:
    """Add 1 to counter.value times times, holding counter.get_lock() for each if use_lock."""
    if start is not None:
        start.wait(timeout=10)  # a Barrier: every adder begins at the same moment
    for _ in range(times):
        if use_lock:
            with counter.get_lock():
                counter.value += 1
        else:
            counter.value += 1  # a read, then a write: another process may write in between


def fill_squares(array, start: int, stop: int) -> None:
    """Write i * i into array[i] for start <= i < stop (a shared Array)."""
    for i in range(start, stop):
        array[i] = i * i


def scale_shared_array(name: str, shape: tuple[int, ...], dtype: str, factor: float) -> None:
    """Attach to the SharedMemory segment name, view it as a NumPy array and multiply it in place."""
    import numpy as np

    segment = shared_memory.SharedMemory(name=name)  # attach: no create, no size
    try:
        array = np.ndarray(shape, dtype=dtype, buffer=segment.buf)  # a view, not a copy
        array *= factor
        del array  # drop the view BEFORE close(): close() would unmap the memory under it
    finally:
        segment.close()  # detach this process; the creator unlinks


def read_after_close(name: str, count: int) -> float:
    """Attach to the segment name, view it as count float64s with np.ndarray, close() it, then read the view."""
    import numpy as np

    segment = shared_memory.SharedMemory(name=name)
    array = np.ndarray((count,), dtype=np.float64, buffer=segment.buf)  # holds no claim on the memory
    segment.close()  # succeeds: nothing stops it, and the memory under the array is unmapped
    return float(array.sum())  # reads unmapped memory: the process dies (SIGSEGV), no traceback


def record_squares(shared_dict, shared_list, numbers: list[int]) -> None:
    """For each n in numbers, set shared_dict[n] = n * n and append n to shared_list (manager proxies)."""
    for n in numbers:
        shared_dict[n] = n * n  # one message to the manager's server, one reply
        shared_list.append(n)


def add_in_manager(totals, key: str, times: int, lock=None, start=None) -> None:
    """Add 1 to totals[key] (a manager dict proxy) times times, holding lock for each if given."""
    if start is not None:
        start.wait(timeout=10)  # a Barrier: every adder begins at the same moment
    for _ in range(times):
        if lock is None:
            totals[key] += 1  # two messages: get the value, then set value + 1
        else:
            with lock:
                totals[key] += 1


# --- One read-only dataset for every worker of a pool --------------------------------------
# An initializer runs once in each worker, before its first task, and leaves the dataset in a
# global of that worker; the tasks read the global. Only the initializer's arguments cross.

_dataset = None  # this worker's dataset: a list, or a NumPy array over shared memory or a file
_segment = None  # the SharedMemory under _dataset: kept open for as long as the view lives


def keep_dataset(dataset) -> None:
    """Pool initializer: keep dataset in this worker's global (fork inherits it; spawn pickles it)."""
    global _dataset
    _dataset = dataset


def attach_dataset(name: str, shape: tuple[int, ...], dtype: str) -> None:
    """Pool initializer: attach once to the SharedMemory segment name and keep a NumPy view of it."""
    global _segment, _dataset
    import numpy as np

    _segment = shared_memory.SharedMemory(name=name)  # attach: no create, no size
    _dataset = np.ndarray(shape, dtype=dtype, buffer=_segment.buf)  # a view, not a copy


def open_memmap(path: str, shape: tuple[int, ...], dtype: str) -> None:
    """Pool initializer: map the file at path read-only as a NumPy array (pages load when read)."""
    global _dataset
    import numpy as np

    _dataset = np.memmap(path, dtype=dtype, mode="r", shape=shape)


def sum_dataset(_task: int = 0) -> float:
    """Read every item of this worker's dataset and return their sum."""
    if isinstance(_dataset, list):  # records [id, value]: each read writes the items' refcounts
        return float(sum(row[1] for row in _dataset))
    return float(_dataset.sum())  # one buffer: reading it writes nothing


def collect_garbage(_task: int = 0) -> int:
    """Run a full garbage collection in this worker, reading no item, and return what it found."""
    import gc

    return gc.collect()


# --- Large results: written into the parent's segment, not pickled back -------------------


def make_result(start: int, stop: int):
    """Return the square roots of start..stop-1 as a float64 array (pickled back to the parent)."""
    import numpy as np

    return np.sqrt(np.arange(start, stop, dtype=np.float64))


def make_result_into(name: str, start: int, stop: int) -> None:
    """Write the square roots of start..stop-1 into places start..stop-1 of the float64 segment name."""
    import numpy as np

    segment = shared_memory.SharedMemory(name=name)  # the parent created it; attach
    try:
        out = np.ndarray((stop,), dtype=np.float64, buffer=segment.buf)[start:stop]
        np.sqrt(np.arange(start, stop, dtype=np.float64), out=out)  # computed in place
        del out  # before close()
    finally:
        segment.close()  # detach; the parent, which created it, unlinks

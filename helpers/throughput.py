"""How fast data moves between processes: Queue, Pipe and shared memory, measured.

One child process sends ``count`` messages of ``size`` bytes to the parent, which
times how long they take to arrive. Each *transport* moves the message its own way:

``"pipe"``
    ``Connection.send`` pickles the bytes and writes them into an OS pipe; the
    parent's ``recv`` reads and unpickles them.
``"queue"``
    ``Queue.put`` hands the bytes to a feeder thread, which pickles them and writes
    them into a pipe; the parent's ``get`` reads and unpickles them.
``"shared_memory"``
    The child writes the message into a ``SharedMemory`` segment and sends a
    one-byte notice over a pipe; the parent copies the message out into a buffer
    of its own (so that it ends holding the message, as with the other transports)
    and sends a one-byte acknowledgement before the child may write the next one.
    Two copies, no pickling, no allocation, no data through the kernel.
``"copy"``
    No second process at all: the parent copies the message into a buffer it
    already owns (``dst[:] = src`` on a ``memoryview``, one ``memcpy``; the best of
    a few placements of the buffers, see :func:`aligned_buffer`). This is the
    physical reference: a message cannot cross between processes faster than
    memory can be copied once.

:func:`run_benchmark` measures every transport at every size and returns a list of
:class:`Measurement`; :func:`ratios_to_copy` compares bandwidths with the reference;
:func:`plot_throughput` draws messages per second and MB/s against message size.
The module is also a script; the full sweep from 64 B to 64 MiB is::

    python -m helpers.throughput                 # a minute or so
    python -m helpers.throughput --max-size 1MiB # quicker
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from multiprocessing import shared_memory

TRANSPORTS = ("copy", "pipe", "queue", "shared_memory")
"""Every transport, the reference first."""

KiB = 1024
MiB = 1024 * KiB

FULL_SIZES = tuple(64 * 4**k for k in range(11))
"""The full sweep: 64 B, 256 B, 1 KiB ... 16 MiB, 64 MiB (every fourth power of two)."""

SMALL_SIZES = tuple(64 * 4**k for k in range(8))
"""The notebook's default sweep, 64 B to 1 MiB: quick enough to run on every build."""

MAX_SIZE = 1024 * MiB
"""The largest message size the benchmark accepts (1 GiB): the parent holds a few copies."""

DEFAULT_BYTES_PER_SIZE = 4 * MiB
DEFAULT_MAX_MESSAGES = 2000
DEFAULT_MIN_MESSAGES = 2
TIMEOUT_S = 120.0
"""How long the parent waits for any one reply from the sending child before giving up."""

_FILL = 0xA5  # payload byte: not zero, so that every page of the message is really written


@dataclass(frozen=True)
class Measurement:
    """``messages`` messages of ``size`` bytes moved by ``transport`` in ``seconds`` (the best repeat)."""

    transport: str
    size: int
    messages: int
    seconds: float

    @property
    def messages_per_s(self) -> float:
        """Messages per second."""
        return self.messages / self.seconds

    @property
    def mb_per_s(self) -> float:
        """Megabytes (10**6 bytes) of message per second."""
        return self.size * self.messages / self.seconds / 1e6


def format_size(size: int) -> str:
    """Return ``size`` bytes in binary units, the way the sizes of the sweep are written.

    >>> [format_size(n) for n in (64, 1024, 256 * 1024, 64 * 1024 * 1024, 1000)]
    ['64 B', '1 KiB', '256 KiB', '64 MiB', '1000 B']
    """
    for unit, factor in (("GiB", 1024 * MiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} B"


def parse_size(text: str) -> int:
    """Return the number of bytes in ``text``: ``"4096"``, ``"64B"``, ``"256KiB"``, ``"64MiB"``, ``"1GiB"``.

    >>> parse_size("64MiB"), parse_size("256 KiB"), parse_size("64")
    (67108864, 262144, 64)
    """
    match = re.fullmatch(r"\s*(\d+)\s*(B|KiB|MiB|GiB)?\s*", text)
    if not match:
        raise ValueError(f"size must look like 4096, 64B, 256KiB, 64MiB or 1GiB, got {text!r}")
    factor = {None: 1, "B": 1, "KiB": KiB, "MiB": MiB, "GiB": 1024 * MiB}[match.group(2)]
    return int(match.group(1)) * factor


def messages_for(
    size: int,
    bytes_per_size: int = DEFAULT_BYTES_PER_SIZE,
    min_messages: int = DEFAULT_MIN_MESSAGES,
    max_messages: int = DEFAULT_MAX_MESSAGES,
) -> int:
    """Return how many messages of ``size`` bytes one measurement sends.

    About ``bytes_per_size`` bytes in all, but at least ``min_messages`` and at most
    ``max_messages`` messages, so that tiny messages do not take forever and huge
    ones are still sent more than once.

    >>> messages_for(64), messages_for(64 * 1024), messages_for(64 * 1024 * 1024)
    (2000, 64, 2)
    """
    return max(min_messages, min(max_messages, bytes_per_size // size))


def _check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{name} must be {allowed}, got {value}")
    return value


def _check_sizes(sizes: Iterable[int]) -> list[int]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Iterable):
        raise TypeError(f"sizes must be a sequence of ints, got {type(sizes).__name__}")
    sizes = list(sizes)
    if not sizes:
        raise ValueError("sizes is empty: give at least one message size in bytes")
    for i, size in enumerate(sizes):
        _check_int(f"sizes[{i}]", size, 1, MAX_SIZE)
    return sizes


def _check_transports(transports: Iterable[str]) -> list[str]:
    if isinstance(transports, str):
        transports = [transports]
    transports = list(transports)
    if not transports:
        raise ValueError(f"transports is empty: choose from {', '.join(TRANSPORTS)}")
    for name in transports:
        if name not in TRANSPORTS:
            raise ValueError(f"unknown transport {name!r}: choose from {', '.join(TRANSPORTS)}")
    return transports


def _wait(conn, what: str) -> object:
    """Receive one object from ``conn``, or raise ``TimeoutError`` after ``TIMEOUT_S``."""
    if not conn.poll(TIMEOUT_S):
        raise TimeoutError(f"no {what} within {TIMEOUT_S:g} s: did the sending process die?")
    return conn.recv()


def send_messages(transport: str, control, channel, shm_name: str | None = None) -> None:
    """The child's side of the benchmark (a worker: it runs in the sending process).

    Waits on ``control`` for ``(size, count)``, builds one message of ``size`` bytes,
    answers ``"ready"``, waits for ``"go"`` and sends ``count`` copies over
    ``channel`` the way ``transport`` does; ``None`` ends it. Returns nothing.
    """
    shm = shared_memory.SharedMemory(name=shm_name) if transport == "shared_memory" else None
    try:
        while True:
            command = _wait(control, "command")
            if command is None:
                return
            size, count = command
            payload = bytes([_FILL]) * size
            control.send("ready")
            _wait(control, "go")
            if transport == "pipe":
                for _ in range(count):
                    channel.send(payload)
            elif transport == "queue":
                for _ in range(count):
                    channel.put(payload)
            else:
                for _ in range(count):
                    shm.buf[:size] = payload
                    channel.send_bytes(b"n")  # notice: a message is in the segment
                    if not channel.poll(TIMEOUT_S):
                        raise TimeoutError("no acknowledgement from the receiving process")
                    channel.recv_bytes()  # the receiver has copied it out
            del payload
    finally:
        if shm is not None:
            shm.close()


COPY_OFFSETS = (0, 64, 2048)
"""Where, relative to a page, the reference copy's destination starts (see :func:`_time_copy`)."""


def aligned_buffer(size: int, offset: int = 0) -> memoryview:
    """Return a writable ``memoryview`` of ``size`` bytes whose address is ``offset`` modulo 4096.

    ``memcpy`` speed depends, on some CPUs, on how source and destination line up
    within a page: a destination a few bytes after the source (modulo 4 KiB) can
    be ten times slower. The benchmark places its buffers on purpose so that it
    measures copying, not that accident.

    >>> import ctypes
    >>> view = aligned_buffer(100, 64)
    >>> len(view), ctypes.addressof(ctypes.c_char.from_buffer(view)) % 4096
    (100, 64)
    """
    import ctypes

    raw = bytearray(size + 8192)
    start_of_raw = ctypes.c_char.from_buffer(raw)
    address = ctypes.addressof(start_of_raw)
    del start_of_raw  # release the export, or the bytearray stays locked
    start = (offset - address) % 4096
    return memoryview(raw)[start : start + size]


def _time_copy(size: int, count: int) -> float:
    """Return the seconds ``count`` in-process copies of ``size`` bytes take: the best placement."""
    src = aligned_buffer(size, 0)  # page-aligned, like a shared-memory segment
    src[:] = bytes([_FILL]) * size
    best = float("inf")
    for offset in COPY_OFFSETS:
        dst = aligned_buffer(size, offset)
        dst[:] = src  # touch every page first: the first write into new memory is slow
        start = time.perf_counter()
        for _ in range(count):
            dst[:] = src  # memoryview to memoryview: one memcpy
        best = min(best, time.perf_counter() - start)
    return best


class _Sender:
    """The parent's handle on one sending child: start it, time messages, stop it."""

    def __init__(self, transport: str, max_size: int):
        self.transport = transport
        self.control, child_control = multiprocessing.Pipe()
        self.shm = None
        if transport == "pipe":
            self.inbox, child_channel = multiprocessing.Pipe(duplex=False)
        elif transport == "queue":
            self.inbox = child_channel = multiprocessing.Queue()
        else:
            self.shm = shared_memory.SharedMemory(create=True, size=max_size)
            self.own_buffer = aligned_buffer(max_size, 64)  # not a few bytes after the segment: see aligned_buffer
            self.own_buffer[:] = self.shm.buf[:max_size]  # touch every page now, not while timing
            self.inbox, child_channel = multiprocessing.Pipe()
        self.process = multiprocessing.Process(
            target=send_messages,
            args=(transport, child_control, child_channel, self.shm.name if self.shm else None),
            name=f"throughput-{transport}",
        )
        try:
            self.process.start()
        except BaseException:
            self.close()
            raise
        child_control.close()
        if transport != "queue":
            child_channel.close()

    def time_messages(self, size: int, count: int) -> float:
        """Return the seconds from "go" until the parent holds all ``count`` messages."""
        self.control.send((size, count))
        _wait(self.control, "ready")
        inbox, received = self.inbox, 0
        start = time.perf_counter()
        self.control.send("go")
        if self.transport == "queue":
            for _ in range(count):
                received += len(inbox.get(timeout=TIMEOUT_S))
        elif self.transport == "pipe":
            for _ in range(count):
                received += len(_wait(inbox, "message"))
        else:
            segment, mine = self.shm.buf, self.own_buffer
            for _ in range(count):
                if not inbox.poll(TIMEOUT_S):
                    raise TimeoutError(f"no message within {TIMEOUT_S:g} s")
                inbox.recv_bytes()
                mine[:size] = segment[:size]  # copy the message out, into the parent's own buffer
                received += size
                inbox.send_bytes(b"a")
        elapsed = time.perf_counter() - start
        if received != size * count:
            raise RuntimeError(f"{self.transport}: received {received} bytes, expected {size * count}")
        return elapsed

    def close(self) -> None:
        """Stop the child (politely, then by force) and release the pipe, queue and segment."""
        try:
            if self.process.is_alive():
                try:
                    self.control.send(None)
                except OSError:
                    pass
                self.process.join(timeout=10)
            if self.process.is_alive():
                self.process.terminate()
                self.process.join(timeout=10)
        finally:
            self.control.close()
            if self.transport == "queue":
                self.inbox.close()
                self.inbox.join_thread()
            else:
                self.inbox.close()
            if self.shm is not None:
                self.own_buffer.release()
                self.shm.close()
                self.shm.unlink()


def run_benchmark(
    sizes: Sequence[int] = SMALL_SIZES,
    transports: Sequence[str] = TRANSPORTS,
    *,
    bytes_per_size: int = DEFAULT_BYTES_PER_SIZE,
    max_messages: int = DEFAULT_MAX_MESSAGES,
    repeat: int = 3,
    progress: bool = False,
) -> list[Measurement]:
    """Measure every transport at every message size; return one :class:`Measurement` each.

    ``sizes`` are message sizes in bytes: the default :data:`SMALL_SIZES` (64 B to
    1 MiB) runs in seconds; pass :data:`FULL_SIZES` for the full 64 B to 64 MiB
    sweep. Each measurement sends :func:`messages_for` messages (about
    ``bytes_per_size`` bytes, at most ``max_messages`` messages) ``repeat`` times
    and keeps the fastest run, the one least disturbed by other programs.
    One sending child per transport serves all sizes, so process start-up is never
    timed. With ``progress`` a tqdm bar counts the measurements.
    Rows come transport by transport, sizes in the order given.
    """
    sizes = _check_sizes(sizes)
    transports = _check_transports(transports)
    _check_int("bytes_per_size", bytes_per_size, 1)
    _check_int("max_messages", max_messages, DEFAULT_MIN_MESSAGES)
    _check_int("repeat", repeat, 1, 100)
    from tqdm.auto import tqdm

    rows: list[Measurement] = []
    with tqdm(total=len(transports) * len(sizes), disable=not progress, desc="throughput") as bar:
        for transport in transports:
            sender = None if transport == "copy" else _Sender(transport, max(sizes))
            try:
                for size in sizes:
                    bar.set_postfix_str(f"{transport}, {format_size(size)}")
                    count = messages_for(size, bytes_per_size, DEFAULT_MIN_MESSAGES, max_messages)
                    timer = _time_copy if sender is None else sender.time_messages
                    best = min(timer(size, count) for _ in range(repeat))
                    rows.append(Measurement(transport, size, count, max(best, 1e-9)))
                    bar.update()
            finally:
                if sender is not None:
                    sender.close()
    return rows


def ratios_to_copy(rows: Iterable[Measurement], size: int) -> dict[str, float]:
    """Return each transport's bandwidth at ``size`` divided by in-process copy's, copy excluded.

    Raises ``ValueError`` if ``rows`` lack the ``"copy"`` row for ``size``.

    >>> rows = [Measurement("copy", 64, 10, 1.0), Measurement("pipe", 64, 10, 4.0)]
    >>> ratios_to_copy(rows, 64)
    {'pipe': 0.25}
    """
    rows = [r for r in rows if r.size == size]
    reference = [r for r in rows if r.transport == "copy"]
    if not reference:
        raise ValueError(f"no 'copy' measurement at size {size}: measure the reference too")
    copy_rate = reference[0].mb_per_s
    return {r.transport: r.mb_per_s / copy_rate for r in rows if r.transport != "copy"}


def format_table(rows: Iterable[Measurement]) -> str:
    """Return the measurements as a text table: transport, size, messages/s, MB/s."""
    lines = [f"{'transport':<14}{'size':>9}{'messages/s':>14}{'MB/s':>11}"]
    for r in rows:
        lines.append(f"{r.transport:<14}{format_size(r.size):>9}{r.messages_per_s:>14,.0f}{r.mb_per_s:>11,.1f}")
    return "\n".join(lines)


LABELS = {
    "copy": "in-process copy (reference)",
    "pipe": "Pipe",
    "queue": "Queue",
    "shared_memory": "shared memory",
}


def machine_label() -> str:
    """Return what the measurement ran on: effective CPUs and Python version."""
    from helpers.machine import effective_cpus

    return f"{effective_cpus()} CPUs, Python {platform.python_version()}"


def plot_throughput(rows: Iterable[Measurement], *, title: str | None = None):
    """Draw messages/s (left) and MB/s (right) against message size; return the two ``Axes``.

    Both axes are logarithmic. The in-process copy is drawn as a dashed black line:
    the physical limit the other transports approach for large messages.
    """
    import matplotlib.pyplot as plt  # imported here: children never need matplotlib

    rows = list(rows)
    if not rows:
        raise ValueError("rows is empty: run run_benchmark() first")
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.5), dpi=100, layout="constrained")
    for transport in [t for t in TRANSPORTS if any(r.transport == t for r in rows)]:
        mine = sorted((r for r in rows if r.transport == transport), key=lambda r: r.size)
        style = {"color": "black", "linestyle": "--"} if transport == "copy" else {"marker": "o", "markersize": 3}
        sizes = [r.size for r in mine]
        left.plot(sizes, [r.messages_per_s for r in mine], label=LABELS[transport], **style)
        right.plot(sizes, [r.mb_per_s for r in mine], label=LABELS[transport], **style)
    ticks = sorted({r.size for r in rows})
    step = max(1, len(ticks) // 6)
    for ax, ylabel in ((left, "messages per second"), (right, "MB/s (10⁶ bytes per second)")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(ticks[::step], [format_size(t) for t in ticks[::step]], fontsize=8, rotation=30)
        ax.minorticks_off()
        ax.set_xlabel("message size")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="major", alpha=0.3)
    right.legend(fontsize=8)
    fig.suptitle(title or f"Throughput between two processes ({machine_label()})", fontsize=10)
    return left, right


def main(argv: list[str] | None = None) -> int:
    """Run the sweep from the command line, print the table and the ratios at the largest size."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.throughput",
        description="Measure Queue, Pipe and shared memory against in-process copy.",
    )
    parser.add_argument("--max-size", type=parse_size, default=FULL_SIZES[-1],
                        help="largest message size of the sweep (default 64MiB); the sweep is 64 B, 256 B, 1 KiB ...")
    parser.add_argument("--bytes-per-size", type=parse_size, default=64 * MiB,
                        help="about how many bytes each measurement moves (default 64MiB)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest counts (default 3)")
    parser.add_argument("--start-method", default=None, choices=multiprocessing.get_all_start_methods(),
                        help="start method of the sending child (default: the book's, spawn)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if not 64 <= args.max_size <= MAX_SIZE:
        parser.error(f"--max-size must be between 64B and 1GiB, got {args.max_size}")

    from helpers.book import book_start_method

    multiprocessing.set_start_method(args.start_method or book_start_method(), force=True)
    sizes = [s for s in FULL_SIZES if s <= args.max_size]
    if sizes[-1] != args.max_size:
        sizes.append(args.max_size)
    try:
        rows = run_benchmark(sizes, bytes_per_size=args.bytes_per_size, repeat=args.repeat,
                             progress=not args.no_progress)
    except ValueError as error:
        parser.error(str(error))
    largest = sizes[-1]
    print(f"Throughput on {machine_label()}, start method {multiprocessing.get_start_method()}:")
    print(format_table(rows))
    copy_rate = next(r.mb_per_s for r in rows if r.transport == "copy" and r.size == largest)
    print(f"\nBandwidth at {format_size(largest)} as a fraction of in-process copy "
          f"({copy_rate:,.0f} MB/s in this run):")
    for transport, ratio in ratios_to_copy(rows, largest).items():
        print(f"  {LABELS[transport]:<14} {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

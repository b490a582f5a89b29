"""How fast data moves between processes: Queue, Pipe and shared memory, measured.

One child process sends ``count`` messages of ``size`` bytes to the parent, which
times how long they take to arrive; :mod:`helpers.lab.transports` says how each
transport (``"pipe"``, ``"queue"``, ``"shared_memory"``, and the in-process
``"copy"`` reference) moves a message.

:func:`run_benchmark` measures every transport at every size and returns a list of
:class:`Measurement`; :func:`ratios_to_copy` compares bandwidths with the reference;
:func:`plot_throughput` draws messages per second and MB/s against message size.
The module is also a script; the full sweep from 64 B to 64 MiB is::

    python -m helpers.lab.throughput                 # a minute or so
    python -m helpers.lab.throughput --max-size 1MiB # quicker
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from helpers.lab.args import check_choice, check_int, check_int_list
from helpers.lab.book import available_methods
from helpers.lab.machine import machine_label
from helpers.lab.transports import TRANSPORTS, Sender, time_copy

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


def _check_transports(transports: Iterable[str]) -> list[str]:
    transports = [transports] if isinstance(transports, str) else list(transports)
    if not transports:
        raise ValueError(f"transports must not be empty: choose from {', '.join(TRANSPORTS)}")
    return [check_choice("transport", name, TRANSPORTS) for name in transports]


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
    sizes = check_int_list("sizes", sizes, 1, MAX_SIZE)
    transports = _check_transports(transports)
    check_int("bytes_per_size", bytes_per_size, 1)
    check_int("max_messages", max_messages, DEFAULT_MIN_MESSAGES)
    check_int("repeat", repeat, 1, 100)
    from tqdm.auto import tqdm

    rows: list[Measurement] = []
    with tqdm(total=len(transports) * len(sizes), disable=not progress, desc="throughput") as bar:
        for transport in transports:
            sender = None if transport == "copy" else Sender(transport, max(sizes))
            try:
                for size in sizes:
                    bar.set_postfix_str(f"{transport}, {format_size(size)}")
                    count = messages_for(size, bytes_per_size, DEFAULT_MIN_MESSAGES, max_messages)
                    timer = time_copy if sender is None else sender.time_messages
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


def plot_throughput(rows: Iterable[Measurement], *, title: str | None = None):
    """Draw messages/s (left) and MB/s (right) against message size; return the two ``Axes``.

    Both axes are logarithmic. The in-process copy is drawn as a dashed black line:
    for large messages, the limit the other transports approach.
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
    label = machine_label(multiprocessing.get_start_method(allow_none=True))
    fig.suptitle(title or f"Throughput between two processes ({label})", fontsize=10)
    return left, right


def main(argv: list[str] | None = None) -> int:
    """Run the sweep from the command line, print the table and the ratios at the largest size."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.lab.throughput",
        description="Measure Queue, Pipe and shared memory against in-process copy.",
    )
    parser.add_argument("--max-size", type=parse_size, default=FULL_SIZES[-1],
                        help="largest message size of the sweep (default 64MiB); the sweep is 64 B, 256 B, 1 KiB ...")
    parser.add_argument("--bytes-per-size", type=parse_size, default=64 * MiB,
                        help="about how many bytes each measurement moves (default 64MiB)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest counts (default 3)")
    parser.add_argument("--start-method", default=None, choices=available_methods(),
                        help="start method of the sending child (default: the book's, spawn)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if not 64 <= args.max_size <= MAX_SIZE:
        parser.error(f"--max-size must be between 64B and 1GiB, got {args.max_size}")

    from helpers.lab.book import book_start_method

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
    print(f"Throughput on {machine_label(multiprocessing.get_start_method())}:")
    print(format_table(rows))
    copy_rate = next(r.mb_per_s for r in rows if r.transport == "copy" and r.size == largest)
    print(f"\nBandwidth at {format_size(largest)} as a fraction of in-process copy "
          f"({copy_rate:,.0f} MB/s in this run):")
    for transport, ratio in ratios_to_copy(rows, largest).items():
        print(f"  {LABELS[transport]:<14} {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

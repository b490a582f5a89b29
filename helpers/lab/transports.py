"""How the throughput benchmark moves one message, transport by transport.

One child process sends ``count`` messages of ``size`` bytes to the parent, which
times how long they take to arrive (:class:`Sender`). Each *transport* moves the
message its own way:

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
    a few placements of the buffers, see :func:`aligned_buffer`). For large
    messages this is the reference: no transport delivers a fresh copy faster
    than memory can be copied once. For small ones it measures the cost of one
    Python slice assignment, not memory bandwidth.

:mod:`helpers.lab.throughput` sweeps sizes and transports with these.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import time
from multiprocessing import shared_memory

from helpers.lab.results import POLL_S, end_process, how_it_ended

TRANSPORTS = ("copy", "pipe", "queue", "shared_memory")
"""Every transport, the reference first."""

TIMEOUT_S = 120.0
"""How long the parent waits for any one reply from the sending child before giving up."""

_FILL = 0xA5  # payload byte: not zero, so that every page of the message is really written


def _wait(conn, what: str) -> object:
    """Receive one object from ``conn``, or raise ``TimeoutError`` after ``TIMEOUT_S``."""
    if not conn.poll(TIMEOUT_S):
        raise TimeoutError(f"no {what} within {TIMEOUT_S:g} s: did the sending process die?")
    return conn.recv()


def send_messages(transport: str, control, channel, shm_name: str | None = None) -> None:
    """The child's side of the benchmark: it runs in the sending process.

    Waits on ``control`` for ``(size, count)``, builds one message of ``size`` bytes,
    answers ``"ready"``, waits for ``"go"`` and sends ``count`` copies over
    ``channel`` the way ``transport`` does; ``None`` ends it.
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
"""Where, relative to a page, the reference copy's destination starts (see :func:`time_copy`)."""


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


def time_copy(size: int, count: int) -> float:
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


class Sender:
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
        """Return the seconds from "go" until the parent holds all ``count`` messages.

        Raises ``ChildProcessError`` at once, saying how it ended, if the sending child dies.
        """
        try:
            return self._time_messages(size, count)
        except (EOFError, OSError, TimeoutError) as error:  # a closed pipe, a half message, a silence
            self.process.join(timeout=1)  # a child that has died has its exit code at once
            if self.process.exitcode is None:
                raise
            raise ChildProcessError(
                f"the sending process {self.process.name} {how_it_ended(self.process.exitcode)} "
                f"while sending {count} messages of {size} bytes"
            ) from error

    def _get(self) -> bytes:
        """Take one message off the queue within ``TIMEOUT_S``; stop waiting as soon as the sender has died."""
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            try:
                return self.inbox.get(timeout=POLL_S)
            except queue_module.Empty:
                if not self.process.is_alive():
                    raise EOFError("the queue is empty and its sending process has ended") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no message within {TIMEOUT_S:g} s") from None

    def _time_messages(self, size: int, count: int) -> float:
        self.control.send((size, count))
        _wait(self.control, "ready")
        inbox, received = self.inbox, 0
        start = time.perf_counter()
        self.control.send("go")
        if self.transport == "queue":
            for _ in range(count):
                received += len(self._get())
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
            end_process(self.process, timeout=10)
        finally:
            self.control.close()
            self.inbox.close()
            if self.transport == "queue":
                self.inbox.join_thread()
            if self.shm is not None:
                self.own_buffer.release()
                self.shm.close()
                self.shm.unlink()

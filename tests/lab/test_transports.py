"""Tests of helpers/lab/transports.py: each transport delivers every byte, and nothing is left running."""

from __future__ import annotations

import ctypes
import multiprocessing

import pytest

from helpers.lab import transports


def address(view: memoryview) -> int:
    return ctypes.addressof(ctypes.c_char.from_buffer(view))


@pytest.mark.parametrize("offset", transports.COPY_OFFSETS)
def test_aligned_buffer_is_writable_the_right_size_and_placed(offset):
    view = transports.aligned_buffer(1000, offset)
    view[:] = b"x" * 1000
    assert bytes(view) == b"x" * 1000
    assert address(view) % 4096 == offset


def test_time_copy_is_positive():
    assert transports.time_copy(4096, 10) > 0


@pytest.mark.parametrize("transport", ["pipe", "queue", "shared_memory"])
def test_a_sender_delivers_every_message_and_stops(transport):
    sender = transports.Sender(transport, 4096)
    try:
        assert sender.time_messages(4096, 3) > 0  # raises if a byte is missing
        assert sender.time_messages(64, 5) > 0  # one child serves several sizes
    finally:
        sender.close()
    assert not sender.process.is_alive() and sender.process.exitcode == 0
    assert multiprocessing.active_children() == []

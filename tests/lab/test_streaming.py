"""Tests for helpers/lab/streaming.py: the in-flight count, and the streaming exercise's check."""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

import pytest

from helpers.lab.streaming import Counted, InFlightFile, check_bounded_stream
from helpers.processes import square

pytestmark = pytest.mark.usefixtures("no_worker_left_behind")


def test_counted_counts_the_items_taken_by_every_thread():
    numbers = Counted(range(10_000))
    threads = [threading.Thread(target=lambda: [None for _ in iter(lambda: next(numbers, None), None)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert numbers.taken == 10_000  # every item counted once, whichever thread took it
    with pytest.raises(StopIteration):
        next(numbers)
    assert numbers.taken == 10_000  # the end is not an item


def test_in_flight_file_notes_taken_minus_written_at_each_line(tmp_path):
    numbers = Counted(range(10))
    with InFlightFile(tmp_path / "out.txt", numbers) as out:
        batch = list(itertools.islice(numbers, 4))
        out.write(f"{batch[0]}\n{batch[1]}\n")  # two lines in one write
        out.write(f"{batch[2]}\n")
    assert out.in_flight == [4, 3, 2] and out.peak == 4 and out.lines == 3
    assert (tmp_path / "out.txt").read_text().split() == ["0", "1", "2"]
    with pytest.raises(TypeError, match="Counted"):
        InFlightFile(tmp_path / "x.txt", range(3))
    with InFlightFile(tmp_path / "y.txt", numbers) as out, pytest.raises(TypeError, match="str"):
        out.write(5)


def test_a_pool_takes_its_input_far_ahead_of_a_slow_consumer():
    """What chapter 05 shows: Pool.imap_unordered's task thread does not wait for the consumer."""
    numbers = Counted(range(2_000))
    with multiprocessing.Pool(processes=2) as pool:
        results = pool.imap_unordered(square, numbers)
        results.next(timeout=60)  # one result taken; the parent then takes no more
        deadline = time.monotonic() + 30
        while numbers.taken <= 200 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert numbers.taken > 200  # far more than the 2 workers and the 1 result taken


def _bounded_by_hand(numbers, out, limit):
    with ProcessPoolExecutor(max_workers=2) as executor:
        pending = {executor.submit(square, n) for n in itertools.islice(numbers, limit)}
        while pending:
            done, pending = wait(pending, timeout=60, return_when=FIRST_COMPLETED)
            assert done, "no result within 60 s"
            for future in done:
                out.write(f"{future.result(timeout=0)}\n")
            pending |= {executor.submit(square, n) for n in itertools.islice(numbers, len(done))}


def _in_batches(numbers, out, limit):
    with multiprocessing.Pool(processes=2) as pool:
        while batch := list(itertools.islice(numbers, limit)):
            results = pool.imap_unordered(square, batch)
            for _ in batch:
                out.write(f"{results.next(timeout=60)}\n")


def _unbounded(numbers, out, limit):
    with multiprocessing.Pool(processes=2) as pool:
        results = pool.imap_unordered(square, list(numbers))  # takes every input at once
        for _ in range(40):
            out.write(f"{results.next(timeout=60)}\n")


def _loses_one(numbers, out, limit):
    for n in itertools.islice(numbers, 39):
        out.write(f"{square(n)}\n")


def test_check_bounded_stream_passes_bounded_answers_and_fails_the_others(capsys):
    assert check_bounded_stream(_bounded_by_hand)
    assert check_bounded_stream(_in_batches, limit=3)
    assert "✅" in capsys.readouterr().out
    assert not check_bounded_stream(_unbounded)
    assert "over the limit of 4" in capsys.readouterr().out
    assert not check_bounded_stream(_loses_one)
    assert "it has 39 lines" in capsys.readouterr().out
    with pytest.raises(ValueError):
        check_bounded_stream(_in_batches, limit=0)
    with pytest.raises(TypeError):
        check_bounded_stream("stream_squares")

"""Tests of helpers/lab/ipc_checks.py: each check passes the right answer and fails wrong ones."""

from __future__ import annotations

import multiprocessing
import pickle

import numpy as np
import pytest

from tests.support import write_module

from helpers.lab import ipc_checks
from helpers.lab.throughput import Measurement
from helpers.messages import produce


def test_check_all_received(capsys):
    good = {"c1": [("A", 0), ("B", 0), ("A", 1)], "c2": [("B", 1)]}
    assert ipc_checks.check_all_received(good, ("A", "B"), 2)
    assert not ipc_checks.check_all_received({"c1": [("A", 0)]}, ("A", "B"), 2)
    assert not ipc_checks.check_all_received({"c1": [("A", 1), ("A", 0), ("B", 0), ("B", 1)]}, ("A", "B"), 2)
    assert not ipc_checks.check_all_received([("A", 0)], ("A",), 1)
    assert "missing" in capsys.readouterr().out
    timed_out = {"c1": [("A", 0)], "c2": TimeoutError("no item and no sentinel within 10 s")}
    assert not ipc_checks.check_all_received(timed_out, ("A",), 1)
    assert "Consumer 'c2' reported TimeoutError: no item and no sentinel within 10 s" in capsys.readouterr().out


def test_check_deadlock_prediction():
    assert ipc_checks.check_deadlock_prediction({100: False, 10_000_000: True})
    assert not ipc_checks.check_deadlock_prediction({100: True, 10_000_000: True})
    assert not ipc_checks.check_deadlock_prediction({100: False})


def test_check_square_responses():
    assert ipc_checks.check_square_responses([("ok", n * n) for n in range(1, 6)])
    assert not ipc_checks.check_square_responses([("ok", n * n) for n in range(5, 0, -1)])
    assert not ipc_checks.check_square_responses(("ok", 1))


def test_check_crosses_matches_what_pickle_does():
    candidates = {
        "a dict of lists": {"a": [1]},
        "a lambda": lambda: None,
        "helpers.messages.produce": produce,
        "a generator": (n for n in range(2)),
        "a NumPy array": np.zeros(2),
        "a multiprocessing.Lock": multiprocessing.Lock(),
    }
    assert list(candidates) == list(ipc_checks.CROSSING_OBJECTS)
    truth = {}
    for name, obj in candidates.items():
        try:
            pickle.dumps(obj)
            truth[name] = True
        except Exception:
            truth[name] = False
    assert ipc_checks.check_crosses(truth)
    assert not ipc_checks.check_crosses({**truth, "a lambda": True})
    assert not ipc_checks.check_crosses({"a lambda": False})


def test_check_scaled():
    assert ipc_checks.check_scaled(np.arange(1, 9) * 10)
    assert not ipc_checks.check_scaled(list(range(1, 9)))
    assert not ipc_checks.check_scaled(None)


def test_check_crossover():
    rows = [Measurement("queue", 64, 1, 1.0), Measurement("shared_memory", 64, 1, 2.0),
            Measurement("queue", 1024, 1, 1.0), Measurement("shared_memory", 1024, 1, 0.5)]
    assert ipc_checks.check_crossover(1024, rows)
    assert not ipc_checks.check_crossover(64, rows)
    assert ipc_checks.check_crossover(None, rows[:2])


# --- the learner's own workers ---------------------------------------------------------------


CONSUMER_RIGHT = """\
def take_until_sentinel(items, results):
    taken = []
    while True:
        item = items.get(timeout=10)
        if item is None:
            break
        taken.append(item)
    results.put(taken)
"""


def test_check_sentinel_consumer_passes_a_right_consumer(workdir, capsys):
    assert ipc_checks.check_sentinel_consumer(write_module(workdir, "consumer_right", CONSUMER_RIGHT))
    assert capsys.readouterr().out.startswith("✅")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("def take_until_sentinel(items, results):\n    ...\n", "without putting the list"),
        ("def take_until_sentinel(items, results):\n    taken = []\n    while not items.empty():\n"
         "        taken.append(items.get(timeout=10))\n    results.put(taken)\n", "stopped before the sentinel"),
        ("def take_until_sentinel(items, results):\n    taken = []\n    while True:\n"
         "        taken.append(items.get(timeout=10))\n", "did not finish within"),
        ("def take_until_sentinel(items, results):\n    taken = []\n    while True:\n"
         "        item = items.get(timeout=10)\n        taken.append(item)\n        if item is None:\n"
         "            break\n    results.put(taken)\n", "without the None"),
        ("def take_until_sentinel(items, results):\n    raise RuntimeError('no')\n", "raised RuntimeError: no"),
        ("def take(items, results):\n    pass\n", "defines no function"),
    ],
    ids=["stub", "empty", "hangs", "keeps-the-sentinel", "raises", "missing"],
)
def test_check_sentinel_consumer_fails_wrong_consumers(workdir, capsys, text, says):
    name = write_module(workdir, f"consumer_{abs(hash(text)) % 10**8}", text)
    assert not ipc_checks.check_sentinel_consumer(name, timeout=4)
    out = capsys.readouterr().out
    assert out.startswith("❌") and says in out, out


FILLER_RIGHT = """\
import numpy as np
from multiprocessing import shared_memory

def fill_segment(name, count):
    segment = shared_memory.SharedMemory(name=name)
    numbers = np.ndarray((count,), dtype=np.int64, buffer=segment.buf)
    numbers[:] = np.arange(count) ** 2
    del numbers
    segment.close()
"""


def test_check_segment_filler_passes_a_right_worker(workdir, capsys):
    assert ipc_checks.check_segment_filler(write_module(workdir, "filler_right", FILLER_RIGHT))
    assert capsys.readouterr().out.startswith("✅")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("def fill_segment(name, count):\n    ...\n", "-1 everywhere"),
        (FILLER_RIGHT.replace("np.int64", "np.int32"), "Is the dtype int64?"),
        (FILLER_RIGHT.replace("segment.close()", "segment.close()\n    segment.unlink()"), "only its creator"),
        ("def fill_segment(name, count):\n    raise ValueError('bad')\n", "raised ValueError: bad"),
    ],
    ids=["stub", "int32", "unlinks", "raises"],
)
def test_check_segment_filler_fails_wrong_workers(workdir, capsys, text, says):
    name = write_module(workdir, f"filler_{abs(hash(text)) % 10**8}", text)
    assert not ipc_checks.check_segment_filler(name)
    out = capsys.readouterr().out
    assert out.startswith("❌") and says in out, out


def _segment_with(values):
    from multiprocessing import shared_memory

    segment = shared_memory.SharedMemory(create=True, size=values.nbytes)
    np.ndarray(values.shape, dtype=values.dtype, buffer=segment.buf)[:] = values
    return segment


def test_check_shared_table(capsys):
    right = float(sum(i * i for i in range(ipc_checks.TABLE_SIZE)))
    segment = _segment_with(np.zeros(1))
    segment.close()
    segment.unlink()
    assert ipc_checks.check_shared_table([right] * 4, segment.name)
    assert not ipc_checks.check_shared_table([right] * 3, segment.name)
    assert not ipc_checks.check_shared_table([right, right, right, 0.0], segment.name)
    assert not ipc_checks.check_shared_table([right] * 4, None)
    left = _segment_with(np.zeros(1))
    left.close()  # closed, never unlinked: the check says so and unlinks it
    assert not ipc_checks.check_shared_table([right] * 4, left.name)
    assert "still there" in capsys.readouterr().out
    assert ipc_checks._segment_gone(left.name)


def test_check_split_result(capsys):
    right = np.sqrt(np.arange(ipc_checks.RESULT_SIZE, dtype=np.float64))
    segment = _segment_with(np.zeros(1))
    segment.close()
    segment.unlink()
    assert ipc_checks.check_split_result(right.copy(), segment.name)
    half_done = right.copy()
    half_done[ipc_checks.RESULT_SIZE // 2:] = 0
    assert not ipc_checks.check_split_result(half_done, segment.name)
    assert "second half" in capsys.readouterr().out
    assert not ipc_checks.check_split_result(right.tolist(), segment.name)
    left = _segment_with(np.zeros(1))
    left.close()
    assert not ipc_checks.check_split_result(right.copy(), left.name)
    assert ipc_checks._segment_gone(left.name)

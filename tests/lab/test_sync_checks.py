"""Tests of helpers/lab/sync_checks.py: the exercise checks of chapters 07 and 08. The
checks of the learner's own workers run modules written here, as a learner's
%%writefile cell would, in child processes."""

from __future__ import annotations


import pytest

from tests.support import write_module

from helpers.lab import sync_checks
from helpers.lab.timeline import Span
from helpers.sync import LockReport


def test_check_counter(capsys):
    assert sync_checks.check_counter(20_000, workers=4, increments=5_000) is True
    assert sync_checks.check_counter(19_000, workers=4, increments=5_000) is False
    assert sync_checks.check_counter(21_000, workers=4, increments=5_000) is False
    assert sync_checks.check_counter("20000", workers=4, increments=5_000) is False
    out = capsys.readouterr().out
    assert out.count("✅") == 1 and out.count("❌") == 3
    assert "1,000 of 20,000 updates were lost" in out


def test_check_lock_acquisitions(capsys):
    right = {"add_with_lock": 40_000, "add_locally_then_lock": 4}
    assert sync_checks.ACQUIRING_WORKERS == tuple(right)
    assert sync_checks.check_lock_acquisitions(right) is True
    assert sync_checks.check_lock_acquisitions({"add_with_lock": 10_000, "add_locally_then_lock": 4}) is False
    assert sync_checks.check_lock_acquisitions({"add_with_lock": 40_000, "add_locally_then_lock": 1}) is False
    assert sync_checks.check_lock_acquisitions([40_000, 4]) is False
    assert capsys.readouterr().out.count("❌") == 3


def test_check_lock_order(capsys):
    ok = [LockReport(f"w{i}", True, 0.0) for i in (1, 2, 3)]
    assert sync_checks.check_lock_order([(0, 1), (1, 2), (0, 2)], ok) is True
    assert sync_checks.check_lock_order([(0, 1), (1, 2), (2, 0)], ok) is False  # the cycle
    assert sync_checks.check_lock_order([(0, 1), (0, 1), (0, 1)], ok) is False  # not the locks they need
    stuck = [*ok[:2], LockReport("w3", False, 1.0)]
    assert sync_checks.check_lock_order([(0, 1), (1, 2), (0, 2)], stuck) is False
    assert sync_checks.check_lock_order([(0, 1), (1, 2)], ok) is False
    assert sync_checks.check_lock_order("pairs", ok) is False
    assert sync_checks.check_lock_order([(0, 1)], ok[:1], needs=[(1, 0)]) is True
    out = capsys.readouterr().out
    assert out.count("❌") == 5 and "(2, 0) takes the higher-numbered" in out and "w3 gave up" in out
    assert "needs[i]" in out


def test_check_semaphore_spans(capsys):
    two = [Span("a", "using", 0, 2), Span("b", "using", 1, 3), Span("c", "using", 3, 4)]
    assert sync_checks.check_semaphore_spans(two, k=2, workers=3) is True
    assert sync_checks.check_semaphore_spans(two, k=1, workers=3) is False
    assert sync_checks.check_semaphore_spans(two, k=2, workers=4) is False
    assert sync_checks.check_semaphore_spans("spans", k=2, workers=3) is False
    assert capsys.readouterr().out.count("❌") == 3


# --- the learner's own workers -----------------------------------------------------------


TRANSFERS = {
    "right": """
        def move(lock, source, target, times):
            for _ in range(times):
                with lock:
                    source.value -= 1
                    target.value += 1
    """,
    "all_at_once": """
        def move(lock, source, target, times):
            with lock:
                source.value -= times
                target.value += times
    """,
    "stub": """
        def move(lock, source, target, times):
            ...
    """,
    "no_lock": """
        def move(lock, source, target, times):
            for _ in range(times):
                source.value -= 1
                target.value += 1
    """,
    "two_blocks": """
        def move(lock, source, target, times):
            for _ in range(times):
                with lock:
                    source.value -= 1
                with lock:
                    target.value += 1
    """,
    "raises": """
        def move(lock, source, target, times):
            raise ValueError("no")
    """,
}


@pytest.mark.parametrize(
    ("kind", "passed", "message"),
    [
        ("right", True, "waits for the lock"),
        ("all_at_once", True, "waits for the lock"),
        ("stub", False, "source is 1 and target 0"),
        ("no_lock", False, "changed the values while another process held the lock"),
        ("two_blocks", False, "ONE `with lock:` block"),
        ("raises", False, "raised ValueError: no"),
    ],
)
def test_check_lock_transfer(kind, passed, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # run_worker puts the current folder on the child's path
    module = write_module(tmp_path, f"transfer_{kind}", TRANSFERS[kind])
    assert sync_checks.check_lock_transfer(module, "move", times=20_000) is passed
    assert message in capsys.readouterr().out


def test_check_lock_transfer_names_a_module_that_does_not_import(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken_transfer_module.py").write_text("def move(:\n")
    assert sync_checks.check_lock_transfer("broken_transfer_module") is False
    assert "could not import the module" in capsys.readouterr().out


WAITERS = {
    "right": """
        def square_when_ready(ready, x, timeout):
            if not ready.wait(timeout):
                return None
            return x * x
    """,
    "stub": """
        def square_when_ready(ready, x, timeout):
            ...
    """,
    "ignores_the_answer": """
        def square_when_ready(ready, x, timeout):
            ready.wait(timeout)
            return x * x
    """,
    "never_waits": """
        def square_when_ready(ready, x, timeout):
            return x * x if ready.is_set() else None
    """,
    "no_timeout": """
        def square_when_ready(ready, x, timeout):
            ready.wait()
            return x * x
    """,
}


@pytest.mark.parametrize(
    ("kind", "passed", "message"),
    [
        ("right", True, "woke up at the signal"),
        ("stub", False, "returned None before this process set the Event"),
        ("ignores_the_answer", False, "returned 9; expected None"),
        ("never_waits", False, "before this process set the Event"),
        ("no_timeout", False, "did not finish within 7 s"),
    ],
)
def test_check_event_waiter(kind, passed, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    module = write_module(tmp_path, f"waiter_{kind}", WAITERS[kind])
    assert sync_checks.check_event_waiter(module, timeout=7) is passed
    assert message in capsys.readouterr().out


def test_checks_of_own_workers_check_their_arguments():
    with pytest.raises(ValueError, match="workers must be from 1 to 16"):
        sync_checks.check_lock_transfer("m", workers=0)
    with pytest.raises(ValueError, match="timeout must be from 7 to 600 seconds"):
        sync_checks.check_event_waiter("m", timeout=1)

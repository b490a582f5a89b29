"""Tests of helpers.lab.warmup: a started pool has every worker running, and failures clean up."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import helpers.lab.warmup as warmup
from helpers.lab.warmup import start_pool, warm_up
from helpers.workloads import count_primes, wait

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kind", ["processes", "threads"])
def test_a_started_pool_works_and_is_cleaned_up(kind):
    with start_pool(kind, 2, (count_primes, 10)) as pool:
        assert pool.map_async(count_primes, [100, 1000], chunksize=1).get(timeout=30) == [25, 168]
    assert multiprocessing.active_children() == []


def test_process_workers_are_all_running_and_distinct():
    with start_pool("processes", 3, (wait, 0.0)) as pool:
        # The barrier is cyclic: a second round of warm-up jobs again needs all 3 workers at once.
        answers = pool.map_async(warm_up, [(wait, 0.0)] * 3, chunksize=1).get(timeout=30)
    assert len({pid for pid, _ in answers}) == 3
    assert multiprocessing.active_children() == []


def test_a_failing_warm_up_job_reaches_the_parent_and_the_pool_is_gone():
    with pytest.raises(ValueError, match="sleep length must be non-negative"):
        start_pool("processes", 2, (wait, -1.0))
    assert multiprocessing.active_children() == []


def test_a_barrier_that_never_fills_times_out(monkeypatch):
    monkeypatch.setattr(warmup, "WARM_UP_TIMEOUT_S", 0.1)
    with pytest.raises(threading.BrokenBarrierError):
        warm_up((count_primes, 10), threading.Barrier(2))


@pytest.mark.parametrize(
    ("kind", "workers", "error", "match"),
    [("fibers", 2, ValueError, "kind must be one of"), ("threads", 0, ValueError, "workers must be at least 1"),
     ("threads", True, TypeError, "workers must be an int")],
)
def test_start_pool_rejects_bad_arguments(kind, workers, error, match):
    with pytest.raises(error, match=match):
        start_pool(kind, workers, (count_primes, 10))


def test_workers_import_little():
    """A worker imports this module; it must not pull in the benchmark or plotting code."""
    code = (
        "import sys, helpers.lab.warmup; print(sorted(m for m in ('helpers.lab.bench', 'helpers.lab.bench_results',"
        " 'dataclasses', 'matplotlib', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr

"""Tests of helpers/lab/engines.py: MPI and Ray run the chapter's tasks, and leave no process.

The MPI and Ray runs are skipped where the optional engines (requirements-engines.txt)
are not installed; the suite's leak check fails the run if any of their processes is left.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers.lab.engines import missing, run_on_mpi, run_on_ray, run_program
from helpers.workloads import count_primes

LIMITS = [20_000, 5_000, 1_000]

# A program that starts a child in a process group of its own (as Ray starts its workers) and exits.
ORPHAN = (
    "import subprocess, sys\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], process_group=0)\n"
    "print('parent done')\n"
)


def test_missing_names_what_to_install_or_nothing():
    for engine in ("mpi", "ray"):
        sentence = missing(engine)
        assert sentence is None or "pip install -r requirements-engines.txt" in sentence
    with pytest.raises(ValueError, match="'mpi' or 'ray'"):
        missing("spark")


def test_run_program_kills_what_its_session_left_in_other_groups():
    run = run_program([sys.executable, "-c", ORPHAN], timeout=30)
    assert run.returncode == 0 and run.stdout == "parent done\n"
    assert run.left_running == 1  # the child outlived its parent; it has been killed since


def test_run_program_times_out_and_kills_everything():
    with pytest.raises(subprocess.TimeoutExpired):
        run_program([sys.executable, "-c", ORPHAN + "import time; time.sleep(60)\n"], timeout=1)


def test_mpi_pool_executor_gives_the_pools_results():
    if reason := missing("mpi"):
        pytest.skip(reason)
    results, run = run_on_mpi(LIMITS, ranks=3, timeout=60)
    assert results == [count_primes(n) for n in LIMITS]
    assert run.left_running == 0


def test_ray_pool_gives_the_pools_results_and_shuts_down():
    if reason := missing("ray"):
        pytest.skip(reason)
    before = set(Path("/tmp/ray").glob("session_*")) if Path("/tmp/ray").is_dir() else set()
    results, run = run_on_ray(LIMITS, timeout=90)
    assert results == [count_primes(n) for n in LIMITS]
    assert run.left_running == 0, "ray.shutdown() left processes running"
    after = set(Path("/tmp/ray").glob("session_*")) if Path("/tmp/ray").is_dir() else set()
    assert after <= before, f"Ray left its session files in /tmp/ray: {sorted(after - before)}"

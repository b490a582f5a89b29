"""The scale-out chapter's other engines: run the pool chapter's tasks on MPI and on Ray, each as
a program of its own, with a time limit, and leave no process behind.

Both engines start processes that a notebook kernel should not keep: ``mpiexec`` starts
ranks, and ``ray.init`` starts a local cluster (``gcs_server``, ``raylet``, agents and
worker processes). So each runs as a separate program in a session of its own
(:func:`run_program`); when the program has ended, or its time is up, every process still
in that session is killed. Ray's worker processes sit in process groups of their own, so
killing the program's group would miss them; the session holds them all.

:data:`MPI_PROGRAM` and :data:`RAY_PROGRAM` are the programs; :func:`run_on_mpi` and
:func:`run_on_ray` run them on a list of limits for ``count_primes`` and return the
results (the program's JSON output). :func:`missing` says what to install where an
engine is absent. The engines are optional: ``pip install -r requirements-engines.txt``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from helpers.lab.args import check_int, check_int_list
from helpers.lab.scripts import program_session, script_env

__all__ = ["MPI_PROGRAM", "RAY_PROGRAM", "EngineRun", "missing", "mpiexec", "run_on_mpi", "run_on_ray",
           "run_program"]

INSTALL = "pip install -r requirements-engines.txt"

MPI_PROGRAM = '''\
"""Run count_primes on MPI ranks: rank 0 runs this file, the other ranks are the workers."""
import json
import sys

from mpi4py.futures import MPIPoolExecutor

from helpers.workloads import count_primes

if __name__ == "__main__":
    limits = [int(arg) for arg in sys.argv[1:]]
    with MPIPoolExecutor() as executor:  # its workers: the ranks that mpiexec started
        results = list(executor.map(count_primes, limits, timeout=60))
    print(json.dumps(results))
'''

RAY_PROGRAM = '''\
"""Run count_primes on Ray's drop-in Pool, on a small local Ray cluster, then stop it."""
import json
import os
import sys

import ray
from ray.util.multiprocessing import Pool

from helpers.workloads import count_primes

if __name__ == "__main__":
    limits = [int(arg) for arg in sys.argv[1:]]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=100 * 1024**2, logging_level="ERROR",
             _temp_dir=os.path.abspath("ray"))  # its logs and sockets in this folder, not the system's temporary one
    try:
        with Pool(processes=2) as pool:  # the same Pool API, on Ray's workers
            results = pool.map_async(count_primes, limits).get(timeout=60)
    finally:
        ray.shutdown()  # stops the raylet, the GCS server and the workers it started
    print(json.dumps(results))
'''


@dataclass(frozen=True)
class EngineRun:
    """What :func:`run_program` saw: the exit status, the output, the seconds it took, and how
    many processes of the program's session were still running when the program itself ended
    (they were killed then)."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    left_running: int


def missing(engine: str) -> str | None:
    """Return one sentence saying what to install to run ``engine`` ("mpi" or "ray"), or None if it is here."""
    if engine == "mpi":
        if importlib.util.find_spec("mpi4py") is None or mpiexec() is None:
            return f"MPI is not installed here: run `{INSTALL}` (mpi4py, and MPICH's mpiexec) to run this cell."
        return None
    if engine == "ray":
        if importlib.util.find_spec("ray") is None:
            return f"Ray is not installed here: run `{INSTALL}` (Ray has wheels up to Python 3.14) to run this cell."
        return None
    raise ValueError(f"engine must be 'mpi' or 'ray', not {engine!r}")


def mpiexec() -> str | None:
    """Return the path of ``mpiexec``: beside this Python (a virtual environment's ``bin``), else on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("mpiexec")


def run_program(command: list[str], *, timeout: float = 60.0, grace: float = 2.0, env: dict | None = None,
                cwd: str | None = None) -> EngineRun:
    """Run ``command`` in a session of its own (:func:`~helpers.lab.scripts.program_session`); return an
    :class:`EngineRun`; leave none of its processes.

    Raises ``subprocess.TimeoutExpired`` after ``timeout`` seconds (everything is killed first).
    """
    start = time.perf_counter()
    with program_session(command, timeout=timeout, grace=grace, env=env, cwd=cwd) as session:
        seconds = time.perf_counter() - start
        left = len(session.members())
    result = session.result
    return EngineRun(result.returncode, result.stdout, result.stderr, seconds, left)


def _results(run: EngineRun, engine: str) -> list:
    if run.returncode != 0:
        raise RuntimeError(f"the {engine} program failed (exit status {run.returncode}): {run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def run_on_mpi(limits: list[int], *, ranks: int = 3, timeout: float = 60.0) -> tuple[list[int], EngineRun]:
    """Run :data:`MPI_PROGRAM` as ``mpiexec -n RANKS python -m mpi4py.futures``; return its results and the run."""
    limits = check_int_list("limits", limits, 0)
    check_int("ranks", ranks, 2, 64)
    launcher = mpiexec()
    if launcher is None:
        raise FileNotFoundError(missing("mpi"))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mpi_primes.py"
        path.write_text(MPI_PROGRAM, encoding="utf-8")
        command = [launcher, "-n", str(ranks), sys.executable, "-m", "mpi4py.futures", str(path), *map(str, limits)]
        run = run_program(command, timeout=timeout, cwd=folder)
    return _results(run, "MPI"), run


def run_on_ray(limits: list[int], *, timeout: float = 90.0) -> tuple[list[int], EngineRun]:
    """Run :data:`RAY_PROGRAM` in a fresh interpreter, in a temporary folder that holds Ray's session
    files and is removed afterwards; return its results and the run."""
    limits = check_int_list("limits", limits, 0)
    env = script_env()
    env["RAY_USAGE_STATS_ENABLED"] = "0"  # no usage report, no prompt about it
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ray_primes.py"
        path.write_text(RAY_PROGRAM, encoding="utf-8")
        run = run_program([sys.executable, str(path), *map(str, limits)], timeout=timeout, env=env, cwd=folder)
    return _results(run, "Ray"), run

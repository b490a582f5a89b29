"""Tests of helpers/lab/dask_lab.py: connecting (to a LocalCluster, and to a scheduler and two
workers started with Dask's own ``dask scheduler`` / ``dask worker`` commands as separate
processes on 127.0.0.1), shutting down, and the Pool against Dask measurements.

Skipped, with the reason, where dask[distributed] does not install on this Python.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers.lab.dask_lab import (  # noqa: E402
    ADDRESS_VARIABLE,
    connect,
    describe_overhead,
    measure_overhead,
    plot_overhead,
    scheduler_address,
    shutdown,
)
from helpers.workloads import count_primes  # noqa: E402

ROWS = [
    {"size": 1, "task_s": 1e-6, "pool_s": 1e-4, "dask_s": 1e-3},
    {"size": 2, "task_s": 1e-2, "pool_s": 5.2e-3, "dask_s": 6e-3},
    {"size": 3, "task_s": 1e-1, "pool_s": 5.1e-2, "dask_s": 5.2e-2},
]


def test_scheduler_address_reads_the_variable():
    assert scheduler_address({ADDRESS_VARIABLE: "tcp://127.0.0.1:8786"}) == "tcp://127.0.0.1:8786"
    assert scheduler_address({ADDRESS_VARIABLE: "  "}) is None
    assert scheduler_address({}) is None


def test_describe_overhead_computes_its_sentences_from_the_rows():
    lines = describe_overhead(ROWS)
    assert "1 ms per task on Dask" in lines[0] and "10.0x" in lines[0]
    assert lines[1] == "Dask beat the parent alone from tasks of about 10 ms on"
    assert lines[2] == "Dask came within 25 % of the Pool's time per task from tasks of about 10 ms on"
    slow = [dict(r, dask_s=2 * (r["task_s"] + r["pool_s"])) for r in ROWS]
    assert describe_overhead(slow)[1] == "Dask beat the parent alone at no task size measured"
    assert "at every task size measured" in describe_overhead(slow)[2]
    with pytest.raises(ValueError, match="rows must not be empty"):
        describe_overhead([])


def test_plot_overhead_draws_three_lines():
    fig = plot_overhead(ROWS)
    assert len(fig.axes[0].lines) == 3 and fig.axes[0].get_xscale() == "log"
    plt.close(fig)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="timeout"):
        shutdown(object(), timeout=0)


def _needs_dask():
    pytest.importorskip("distributed", reason="dask[distributed] does not install on this Python")


def test_local_cluster_runs_the_pool_workload_and_closes():
    _needs_dask()
    client, cluster = connect(2, environ={})
    try:
        assert len(client.scheduler_info()["workers"]) == 2
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            rows = measure_overhead(client, pool, count_primes, [10, 2000], tasks=6)
    finally:
        shutdown(client, cluster)
    assert [r["size"] for r in rows] == [10, 2000]
    assert all(r["pool_s"] > 0 and r["dask_s"] > 0 for r in rows)
    assert cluster.status.name == "closed"


def _start(args, log):
    """Start one `dask ...` command in a session of its own (so it and its children can be ended together)."""
    return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _session(sid):
    """The live processes of session ``sid`` (a command started by _start, and what it started)."""
    import psutil

    members = []
    for proc in psutil.process_iter():
        try:
            if os.getsid(proc.pid) == sid and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc)
        except (OSError, psutil.Error):
            pass  # gone meanwhile, or not ours to look at
    return members


def _stop(process, timeout=20.0):
    """SIGTERM: Dask's commands close their workers cleanly on it, and the resource trackers of
    their session then unlink what those workers left. SIGKILL to the session only if some of it
    is still there after a grace period (a kill earlier would leave semaphores in /dev/shm)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    deadline = time.monotonic() + 10
    while _session(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _session(process.pid):
        try:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: only what this test started
        except ProcessLookupError:
            pass
    process.wait(5)


@pytest.fixture
def dask_commands_cluster(tmp_path):
    """A scheduler and two workers started with `dask scheduler` and `dask worker` on 127.0.0.1,
    as separate processes; yields the scheduler's address and stops all three afterwards."""
    if sys.platform == "win32":
        pytest.skip("process sessions and killpg are POSIX")
    _needs_dask()
    scheduler_file = tmp_path / "scheduler.json"
    log_path = tmp_path / "dask.log"
    started = []
    with open(log_path, "w") as log:
        try:
            started.append(_start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                   "--scheduler-file", str(scheduler_file)], log))
            deadline = time.monotonic() + 60
            while not scheduler_file.exists() and time.monotonic() < deadline:
                assert started[0].poll() is None, log_path.read_text()
                time.sleep(0.2)
            address = json.loads(scheduler_file.read_text())["address"]
            assert address.startswith("tcp://127.0.0.1:")
            for _ in range(2):
                started.append(_start(["worker", address, "--nworkers", "1", "--nthreads", "1", "--host",
                                       "127.0.0.1", "--no-dashboard", "--death-timeout", "30"], log))
            from distributed import Client

            probe = Client(address, timeout="30s")
            try:
                probe.wait_for_workers(2, timeout=60)  # both workers are there before the test starts
            finally:
                probe.close(timeout=10)
            yield address
        finally:
            for process in reversed(started):
                _stop(process)
    assert all(p.returncode is not None for p in started)


def test_the_chapter_code_runs_on_a_scheduler_and_two_workers_started_by_dask_commands(dask_commands_cluster,
                                                                                       monkeypatch):
    from distributed import wait

    from helpers.processes import square

    monkeypatch.setenv(ADDRESS_VARIABLE, dask_commands_cluster)
    client, cluster = connect(2)
    try:
        assert cluster is None
        client.wait_for_workers(2, timeout=60)
        assert len(client.scheduler_info()["workers"]) == 2
        sizes = [1000, 2000, 3000, 4000]
        futures = client.map(count_primes, sizes)
        wait(futures, timeout=60)
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            assert client.gather(futures) == pool.map_async(count_primes, sizes).get(timeout=60)
        with client.get_executor() as executor:
            assert list(executor.map(square, range(6), timeout=30)) == [0, 1, 4, 9, 16, 25]
        assert {w["host"] for w in client.scheduler_info()["workers"].values()} == {"127.0.0.1"}
    finally:
        shutdown(client)


CHAPTER = Path(__file__).resolve().parents[2] / "chapters" / "11-scale-out-with-dask.ipynb"


def test_the_chapter_notebook_runs_unchanged_on_that_cluster(dask_commands_cluster, monkeypatch, tmp_path):
    """The whole chapter, executed with MP_BOOK_DASK_SCHEDULER set: no cell raises, and it used that cluster."""
    import nbformat
    from jupyter_client import KernelManager
    from nbclient import NotebookClient
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

    monkeypatch.setenv(ADDRESS_VARIABLE, dask_commands_cluster)
    work = tmp_path / "run"
    work.mkdir()  # the chapter's %%writefile modules land here, not in chapters/
    nb = nbformat.read(CHAPTER, as_version=4)
    # As scripts/execute_notebooks.py does: this environment's kernel, and a kernel shut down
    # as Jupyter would (a killed kernel's pools would leave their semaphores in /dev/shm).
    km = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager())
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    try:
        NotebookClient(nb, km=km, timeout=120, resources={"metadata": {"path": str(work)}}).execute(env=env)
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=False)
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "2 workers, on the scheduler in MP_BOOK_DASK_SCHEDULER" in text
    assert "cluster: not ours" in text

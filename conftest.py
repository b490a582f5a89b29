"""pytest configuration for the whole repository (nbval runs the notebooks in chapters/).

Two changes make nbval's kernels behave as Jupyter's do.

While pytest runs a test it sets PYTEST_CURRENT_TEST, and ipykernel then turns off
its capture of file-descriptor output: text printed by a child process would reach
Jupyter but not nbval. The kernels nbval starts are given the environment without
that variable, so nbval sees what a learner sees.

nbval stops a kernel by killing its process group, which kills multiprocessing's
resource tracker with it, so semaphores a notebook still held stay in /dev/shm.
The kernels are asked to shut down instead, as Jupyter does (and killed only if
they do not), so the resource tracker cleans up.

And nbval compares stored outputs only where they were made (see _nbval_mode).

Tests marked ``slow`` (the classroom edition run top to bottom, Run All twice in JupyterLab,
the one-CPU run) are skipped unless pytest gets ``--slow``: ``make test-slow`` runs them, so
that ``make test`` stays a suite a contributor runs before every commit.

The plugin tests/leak_check.py fails the run if it leaves a process, a shared-memory
segment or a semaphore behind.
"""

import os
import sys
from pathlib import Path

import nbval.kernel
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "scripts"))
import notebook_rules  # noqa: E402

pytest_plugins = ["tests.leak_check"]

_start_new_kernel = nbval.kernel.start_new_kernel


def _start_kernel_as_jupyter_would(*args, **kwargs):
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    kwargs.setdefault("env", env)
    return _start_new_kernel(*args, **kwargs)


nbval.kernel.start_new_kernel = _start_kernel_as_jupyter_would


def _stop_kernel_as_jupyter_would(self):
    self.kc.stop_channels()
    self.km.shutdown_kernel(now=False)
    del self.km


nbval.kernel.RunningKernel.stop = _stop_kernel_as_jupyter_would


# Stored outputs are compared strictly only where they were made: under the reference Python
# and start method (scripts/notebook_rules.py). Elsewhere nbval runs lax: every cell still runs
# and must not raise, so every assert in a chapter still holds, but outputs are not compared,
# since error texts, warnings and defaults differ between versions (the chapters say where).
_NBVAL_MODE = pytest.StashKey[str]()


def _nbval_mode() -> tuple[str, str]:
    run = notebook_rules.this_run()
    here = f"{run['implementation']} {run['python']}, {run['start_method']}"
    differences = notebook_rules.reference_problems(run)
    reference = f"CPython {notebook_rules.REFERENCE_PYTHON}, {notebook_rules.REFERENCE_START_METHOD}"
    if not differences:
        return "strict", f"{here} made the stored outputs: every output is compared"
    return "lax", (f"{here} is not the reference ({reference}), so outputs are not compared; "
                   "every cell still runs and must not raise")


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False,
                     help="also run the tests marked slow (make test-slow runs only those)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow: run `make test-slow`")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a long check, run by `make test-slow` (pytest --slow)")
    if config.option.nbval and not config.option.nbval_lax:
        mode, why = _nbval_mode()
        config.option.nbval_lax = mode == "lax"
        config.stash[_NBVAL_MODE] = f"nbval {mode}: {why}"


def pytest_report_header(config):
    return config.stash.get(_NBVAL_MODE, None)


def pytest_terminal_summary(terminalreporter, config):
    line = config.stash.get(_NBVAL_MODE, None)
    if line:
        terminalreporter.write_line(line)

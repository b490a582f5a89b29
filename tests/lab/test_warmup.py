"""Tests of helpers.lab.warmup: a started pool has every worker running, and failures clean up."""

from __future__ import annotations

import ast
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


HEAVY = ("helpers.lab.bench", "helpers.lab.bench_results", "dataclasses", "matplotlib", "numpy")


def run_python(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter from the repository root; return the words it printed."""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def imports_at_import_time(path: Path) -> set[str]:
    """Return the modules that a module's source imports when it is imported (not inside functions)."""
    found = set()
    nodes = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while nodes:
        node = nodes.pop()
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            nodes.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))
    return found


def is_helpers(module: str) -> bool:
    return module == "helpers" or module.startswith("helpers.")


def test_workers_import_little():
    """A worker imports this module; it and the helpers modules it imports must not pull in heavy modules.

    What the standard library imports changes between versions (from Python 3.14,
    ``multiprocessing.pool`` imports ``traceback``, which imports ``dataclasses``), and
    a pool worker imports ``multiprocessing.pool`` anyway. So this checks what the
    helpers modules themselves import, not everything that ends up in ``sys.modules``.
    """
    loaded = run_python("import sys, helpers.lab.warmup; print(*(m for m in sys.modules if m.startswith('helpers')))")
    loaded = [m for m in loaded if is_helpers(m)]
    assert "helpers.lab.warmup" in loaded and not set(loaded) & set(HEAVY), loaded
    named = {}
    for module in loaded:
        path = ROOT.joinpath(*module.split("."))
        named[module] = imports_at_import_time(path / "__init__.py" if path.is_dir() else path.with_suffix(".py"))
    heavy = {m: sorted(i for i in imports if i.split(".")[0] in HEAVY or i in HEAVY) for m, imports in named.items()}
    assert not any(heavy.values()), f"helpers modules a worker imports import heavy modules: {heavy}"
    # Those named imports are all they bring in: with them imported first, importing
    # warmup adds nothing but helpers modules.
    others = sorted({i for imports in named.values() for i in imports if not is_helpers(i)})
    added = run_python(
        f"import sys\nfor m in {others!r}: __import__(m)\nbefore = set(sys.modules)\n"
        "import helpers.lab.warmup\nprint(*sorted(set(sys.modules) - before))"
    )
    assert [m for m in added if not is_helpers(m)] == [], added
    # Plotting and numbers are never imported by the standard library: they must be absent.
    absent = run_python("import sys, helpers.lab.warmup; print(*{'matplotlib', 'numpy'} & set(sys.modules))")
    assert absent == []

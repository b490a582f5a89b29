"""The helpers package stays readable: no module over 400 lines, no import cycle.

The import graph is built statically, from every ``import`` statement in every
module under ``helpers/``: at the top of a module and inside functions alike (a
function-level import that closes a cycle works only as long as nobody calls the
function at import time, and it still ties the two modules together). A second
check imports each module alone in a fresh interpreter, as a spawned child does.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HELPERS = ROOT / "helpers"
MAX_LINES = 400


def module_name(path: Path) -> str:
    """helpers/lab/bench.py -> helpers.lab.bench; helpers/lab/__init__.py -> helpers.lab."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(HELPERS.rglob("*.py"))}


def imported_modules(name: str, source: str, known: set[str]) -> set[str]:
    """Return the modules of ``known`` that the source of module ``name`` imports, anywhere in it."""
    is_package = MODULES.get(name, Path()).name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x, from ..lab import y
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from a.b import c` imports a.b, and a.b.c too when c is a module
            targets = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(t for t in targets if t in known)
    found.discard(name)  # `from helpers.lab import x` inside helpers/lab/__init__.py names itself
    return found


def import_graph() -> dict[str, set[str]]:
    known = set(MODULES)
    return {name: imported_modules(name, path.read_text(), known) for name, path in MODULES.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one cycle as a path [a, b, ..., a], or None when the graph has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_cycles_and_only_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_the_graph_sees_top_level_function_level_and_relative_imports():
    known = {"helpers", "helpers.lab", "helpers.lab.x", "helpers.lab.y", "helpers.lab.z"}
    source = (
        "import helpers.lab.x\n"
        "def f():\n    from helpers.lab import y\n"
        "if __name__ == '__main__':\n    from .z import main\n"
    )
    assert imported_modules("helpers.lab.w", source, known) == {"helpers.lab", "helpers.lab.x", "helpers.lab.y", "helpers.lab.z"}


def test_helpers_have_no_import_cycle():
    graph = import_graph()
    assert "helpers.lab.bench" in graph and "helpers.workloads" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in helpers: " + " -> ".join(cycle)


def test_no_helpers_module_is_over_400_lines():
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them): " + ", ".join(f"{k} ({v})" for k, v in sorted(long.items()))


@pytest.mark.parametrize("name", sorted(MODULES))
def test_each_module_imports_alone_in_a_fresh_interpreter(name):
    done = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"python -c 'import {name}' failed:\n{done.stderr[-2000:]}"

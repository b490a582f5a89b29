"""Rules every chapter notebook follows, shared by the execute script and the tests.

- The first code cell is the setup cell, generated from ``_config.yml`` so that the
  repository URL is set in one place (Colab installs the helpers from there).
- Code cells between a ``{solution-start}`` and a ``{solution-end}`` cell are
  solutions: their source is hidden in Jupyter so learners are not handed the answer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SETUP_TAG = "setup"

SETUP_TEMPLATE = '''\
# Setup, the same in every chapter: make the book's `helpers` package importable
# (on Colab, install it first) and switch to the book's start method.
import sys

if "google.colab" in sys.modules:
    %pip install --quiet "git+{url}@{branch}"
try:
    import helpers
except ModuleNotFoundError:  # a checkout whose environment lacks `pip install -e .`
    sys.path.insert(0, "..")
    import helpers

START_METHOD = helpers.use_book_start_method()'''


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def toc_files() -> list[str]:
    """Return every page of ``_toc.yml`` in reading order, without suffix ("chapters/00-start-here")."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                yield str(entry["file"]).removesuffix(".md").removesuffix(".ipynb")
            yield from walk(entry.get("sections"))
            yield from walk(entry.get("chapters"))  # the chapters of a part

    return [str(toc["root"]), *walk(toc.get("parts") or toc.get("chapters"))]


def toc_notebooks() -> list[Path]:
    """Return the chapter notebooks in the order of ``_toc.yml``."""
    return [ROOT / f"{f}.ipynb" for f in toc_files() if (ROOT / f"{f}.ipynb").exists()]


def setup_source() -> str:
    repo = config()["repository"]
    return SETUP_TEMPLATE.format(url=repo["url"], branch=repo.get("branch", "main"))


def solution_cells(nb) -> list:
    """Return the code cells that lie between solution-start and solution-end markers."""
    inside, found = False, []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            if "{solution-start}" in cell.source:
                inside = True
            elif "{solution-end}" in cell.source:
                inside = False
        elif cell.cell_type == "code" and inside:
            found.append(cell)
    return found


def apply(nb) -> None:
    """Rewrite the derived parts of a notebook (setup cell, hidden solutions) in place."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or SETUP_TAG not in code[0].metadata.get("tags", []):
        raise ValueError(f"the first code cell must carry the tag {SETUP_TAG!r}")
    code[0].source = setup_source()
    for cell in solution_cells(nb):
        cell.metadata.setdefault("jupyter", {})["source_hidden"] = True


# Calls that hand a function to another process. Cells tagged ``raises-exception``
# may break the rule on purpose (the chapter on processes shows what goes wrong).
PROCESS_CONSTRUCTORS = {"Process"}
POOL_METHODS = {
    "map", "imap", "imap_unordered", "starmap", "apply", "apply_async",
    "map_async", "starmap_async", "submit",
}
INITIALIZER_OWNERS = {"Pool", "ProcessPoolExecutor"}


def _python_source(cell_source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(cell_source)


def _call_name(node) -> str | None:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def notebook_defined_workers(nb, name: str = "notebook") -> list[str]:
    """Return one message per place where a function defined in the notebook is sent to a process.

    Looks for ``Process(target=f)``, ``pool.map(f, ...)`` and the other pool and
    executor methods, and ``initializer=f``, where ``f`` is a lambda or a name the
    notebook binds with ``def`` or ``= lambda``.
    """
    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    trees, defined = [], set()
    for index, cell in code_cells:
        tree = ast.parse(_python_source(cell.source))
        trees.append((index, cell, tree))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defined.add(node.name)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
                defined.update(t.id for t in node.targets if isinstance(t, ast.Name))

    def is_local(expr) -> bool:
        return isinstance(expr, ast.Lambda) or (isinstance(expr, ast.Name) and expr.id in defined)

    problems = []
    for index, cell, tree in trees:
        if "raises-exception" in cell.metadata.get("tags", []):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = _call_name(node)
            handed = []
            if called in PROCESS_CONSTRUCTORS:
                handed += [kw.value for kw in node.keywords if kw.arg == "target"]
            if called in POOL_METHODS and isinstance(node.func, ast.Attribute) and node.args:
                handed.append(node.args[0])
            if called in INITIALIZER_OWNERS:
                handed += [kw.value for kw in node.keywords if kw.arg == "initializer"]
            for expr in handed:
                if is_local(expr):
                    what = "a lambda" if isinstance(expr, ast.Lambda) else f"{expr.id!r}"
                    problems.append(
                        f"{name}, cell {index} (line {node.lineno}): {what} is defined in the "
                        f"notebook and handed to {called}(); under spawn/forkserver the child "
                        f"cannot import it. Move the worker to helpers/."
                    )
    return problems

"""Rules every chapter notebook follows, shared by the execute script and the tests.

- The first code cell is the setup cell, generated from ``_config.yml`` so that the
  repository URL is set in one place (Colab installs the helpers from there).
- Code cells between a ``{solution-start}`` and a ``{solution-end}`` cell are
  solutions: their source and outputs are hidden in Jupyter so learners are not
  handed the answer (the HTML book shows them in a closed dropdown).

It also holds the checks of a chapter's shape that the tests apply: a class can
finish it (cell budget, stated time), every worker it imports is shown on the page,
the learner writes a worker of their own, and test-only cells print nothing.
"""

from __future__ import annotations

import ast
import re
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
        cell.metadata.setdefault("jupyter", {}).update(source_hidden=True, outputs_hidden=True)


# Calls that hand a function to another process. Cells tagged ``raises-exception``
# may break the rule on purpose (the chapter on processes shows what goes wrong).
PROCESS_CONSTRUCTORS = {"Process"}
POOL_METHODS = {
    "map", "imap", "imap_unordered", "starmap", "apply", "apply_async",
    "map_async", "starmap_async", "submit",
}
INITIALIZER_OWNERS = {"Pool", "ProcessPoolExecutor"}


PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}  # cell magics whose body is Python


def _python_source(cell_source: str) -> str:
    """Return a cell's Python: IPython syntax turned into calls, a Python cell magic's body
    unwrapped (``%%time``), and nothing for other cell magics (``%%writefile``, ``%%bash``)."""
    from IPython.core.inputtransformer2 import TransformerManager

    stripped = cell_source.lstrip()
    if stripped.startswith("%%"):
        first, _, body = stripped.partition("\n")
        magic = first[2:].split()[0] if first[2:].split() else ""
        return _python_source(body) if magic in PYTHON_CELL_MAGICS else ""
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


# ---------------------------------------------------------------------------
# A chapter's shape: budget, workers on the page, the learner's own worker
# ---------------------------------------------------------------------------

MAX_CELLS = 90
MAX_MINUTES = 60
WHAT_YOU_NEED = "## What you need"
_MINUTES = re.compile(r"\babout (\d+) minutes\b", re.IGNORECASE)
_DEFINITION = re.compile(r"^(?:async def|def|class) (\w+)", re.MULTILINE)


def stated_minutes(nb) -> int | None:
    """Return N from "About N minutes" in the chapter's "What you need" cell, else None."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and WHAT_YOU_NEED in cell.source:
            section = cell.source.split(WHAT_YOU_NEED, 1)[1].split("\n## ", 1)[0]
            found = _MINUTES.search(section)
            return int(found.group(1)) if found else None
    return None


def worker_imports(nb) -> list[str]:
    """Return the names the notebook imports from worker modules (``helpers.<topic>``, not ``helpers.lab``)."""
    names = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(_python_source(cell.source))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                parts = node.module.split(".")
                if parts[0] == "helpers" and len(parts) > 1 and parts[1] != "lab":
                    names += [alias.name for alias in node.names if alias.name not in names]
    return names


def _output_text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    return output.get("data", {}).get("text/plain", "") if "data" in output else ""


def shown_definitions(nb) -> set[str]:
    """Return the names whose ``def``/``class`` line appears in a stored output (what ``show()`` displays)."""
    names = set()
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            names.update(_DEFINITION.findall(_output_text(output)))
    return names


def _blocks(nb):
    """Yield (cell, inside_solution) for every cell, in order."""
    inside = False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            if "{solution-start}" in cell.source:
                inside = True
            elif "{solution-end}" in cell.source:
                inside = False
        yield cell, inside


def _outputs_contain(cell, text: str) -> bool:
    return any(text in _output_text(o) for o in cell.get("outputs", []))


def writefile_exercise_problems(nb) -> list[str]:
    """Return what is missing from the chapter's "write your own worker" exercise ([] when it is there).

    Outside a solution: a ``%%writefile my_<name>.py`` cell (the learner's module),
    then a check cell that names the module and whose stored output fails (the
    unfinished stub, ❌). Inside a solution: ``%%writefile solution_<name>.py`` and a
    check cell naming it whose stored output passes (✅). nbval runs both again.
    """
    learner = solution = None
    learner_checked = solution_checked = False
    for cell, inside in _blocks(nb):
        if cell.cell_type != "code":
            continue
        first = cell.source.lstrip().split("\n", 1)[0]
        written = re.fullmatch(r"%%writefile\s+((my|solution)_\w+)\.py", first.strip())
        if written:
            if written.group(2) == "my" and not inside:
                learner = written.group(1)
            elif written.group(2) == "solution" and inside:
                solution = written.group(1)
            continue
        if learner and not inside and learner in cell.source and _outputs_contain(cell, "❌"):
            learner_checked = True
        if solution and inside and solution in cell.source and _outputs_contain(cell, "✅"):
            solution_checked = True
    problems = []
    if not learner:
        problems.append("no learner cell `%%writefile my_<name>.py` outside a solution")
    elif not learner_checked:
        problems.append(f"no check of {learner} whose stored output says ❌ for the unfinished stub")
    if not solution:
        problems.append("no `%%writefile solution_<name>.py` cell inside a solution")
    elif not solution_checked:
        problems.append(f"no check of {solution} inside the solution whose stored output says ✅")
    return problems


def remove_input_problems(nb) -> list[str]:
    """Return the ``remove-input`` cells that are not silent code cells (the page would show bare output)."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if "remove-input" not in cell.metadata.get("tags", []):
            continue
        if cell.cell_type != "code":
            problems.append(f"cell {index}: remove-input on a {cell.cell_type} cell")
        elif cell.outputs:
            problems.append(f"cell {index}: a remove-input cell has outputs; test-only cells must print nothing")
    return problems

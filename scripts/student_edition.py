"""Write the classroom edition: the chapters without their solutions, exercise cells empty.

    python scripts/student_edition.py                  # into _build/student/, with its HTML book
    python scripts/student_edition.py --out DIR --no-html

``make student`` runs it. The folder it writes is a book of its own that a teacher
can hand out, or put in a repository and point Binder or nbgitpuller at:

- ``chapters/``: every chapter of ``_toc.yml``. Cells between ``{solution-start}``
  and ``{solution-end}`` are gone, markers included; in their place is one empty
  code cell for the learner's answer. The ``%%writefile my_<name>.py`` cell of an
  exercise keeps its first line and the stub as comments, so it writes a module
  with no code: its check then prints "⏳ Not answered yet" instead of a failure
  (``helpers.lab.exercises.not_answered``). A later cell that used what a removed
  solution defined imports it itself (an import is not an answer) or, for the
  learner's own results, says "not answered yet" until the learner defines them.
  Outputs of the emptied cells and of the cells that check them are cleared.
- the ``helpers`` package, ``pyproject.toml``, the requirements and a ``binder/``
  folder, so Binder builds the same environment as for the full book;
- ``_config.yml`` with sphinx-exercise's ``hide_solutions: true``, and the pages of
  the toc, from which ``jupyter-book build`` makes ``_build/html/`` inside the folder.

The full book is not touched.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell

sys.path.insert(0, str(Path(__file__).resolve().parent))
import notebook_rules  # noqa: E402
from notebook_rules import ROOT  # noqa: E402

DEFAULT_OUT = ROOT / "_build" / "student"
ANSWER_CELL = "# Your answer to the exercise above."
NOT_YET = "⏳"
COPIED = ["helpers", "pyproject.toml", "requirements.txt", "binder", "_ext", "LICENSE", "chapters/data"]
_LEARNER_FILE = re.compile(r"%%writefile\s+(my_\w+)\.py\s*$")

README = """\
# {title}: classroom edition

The chapters of the book without their solutions: each exercise has an empty cell for
your answer, and each check tells you "Not answered yet" until you write one.

Run it on Binder or a JupyterHub (your teacher gives you the link), or on your computer:

    python -m pip install -r requirements.txt -e .
    jupyter lab

`pip install -e .` installs the book's `helpers` package, whose worker functions the
chapters import (on Binder, `binder/postBuild` does it). Open `chapters/` and start with
the first chapter. The full book, with solutions: {url}
"""


def _names(tree: ast.AST) -> tuple[set[str], set[str], dict[str, str]]:
    """Return (names stored, names loaded, {name: import statement}) of a cell's code."""
    stores, loads, imports = set(), set(), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (stores if isinstance(node.ctx, (ast.Store, ast.Del)) else loads).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stores.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                name = (alias.asname or alias.name).split(".")[0]
                stores.add(name)
                one = (ast.Import(names=[alias]) if isinstance(node, ast.Import)
                       else ast.ImportFrom(module=node.module, names=[alias], level=node.level))
                imports[name] = ast.unparse(one)
    return stores, loads, imports


def _tree(source: str) -> ast.AST | None:
    try:
        return ast.parse(notebook_rules._python_source(source))
    except SyntaxError:
        return None


def empty_learner_cell(source: str) -> str:
    """Return a ``%%writefile my_<name>.py`` cell with its stub turned into comments (a module with no code)."""
    first, _, stub = source.partition("\n")
    lines = [first, "# Write your answer here. The lines below are a start: select them and press",
             "# Ctrl+/ (Cmd+/ on a Mac) to uncomment them, then fill in the body."]
    lines += [f"# {line}" if line.strip() else "#" for line in stub.rstrip().splitlines()]
    return "\n".join(lines)


def _options(source: str) -> tuple[list[str], str]:
    """Split a cell into its leading ``#|`` option lines and the rest."""
    lines = source.splitlines()
    count = next((i for i, line in enumerate(lines) if not line.startswith("#|")), len(lines))
    return lines[:count], "\n".join(lines[count:])


def _guarded(source: str, missing: list[str]) -> str:
    """Return ``source`` run only once the learner has defined ``missing``, else a "not answered yet" line."""
    options, body = _options(source)
    condition = " and ".join(f"{name!r} in globals()" for name in missing)
    message = (f"{NOT_YET} Not answered yet: this cell needs {', '.join(missing)}, "
               "which your answer to the exercise above defines.")
    return "\n".join([*options, f"if not ({condition}):", f"    print({message!r})", "else:",
                      textwrap.indent(body, "    ")])


def _clear(cell) -> None:
    cell.outputs = []
    cell.execution_count = None


def student_notebook(nb):
    """Return the classroom edition of a chapter notebook (a new object; ``nb`` is not changed)."""
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)  # a copy
    cells, defined, only_in_solutions, solution_imports = [], set(), set(), {}
    emptied: list[str] = []
    in_exercise = has_learner_file = False
    for cell, inside in notebook_rules.solution_blocks(nb):
        marker = cell.cell_type == "markdown" and ("{solution-start}" in cell.source or "{solution-end}" in cell.source)
        if inside or marker:
            if cell.cell_type == "code":
                tree = _tree(cell.source)
                if tree is not None:
                    stores, _, imports = _names(tree)
                    only_in_solutions |= stores - defined
                    solution_imports.update(imports)
            if "{solution-start}" in cell.source and cell.cell_type == "markdown":
                # a cell for the answer, unless the learner writes it in a %%writefile cell or the
                # chapter already gives one (a code cell with no code, just before the solution)
                given = cells and cells[-1].cell_type == "code" and not getattr(_tree(cells[-1].source), "body", True)
                if not (has_learner_file or given):
                    cells.append(new_code_cell(ANSWER_CELL))
                in_exercise = has_learner_file = False
            continue
        if cell.cell_type == "markdown":
            if re.search(r"^`{3,}\{exercise\}", cell.source, re.MULTILINE):
                in_exercise, has_learner_file = True, False
            cells.append(cell)
            continue
        learner = _LEARNER_FILE.match(cell.source.split("\n", 1)[0].strip())
        if learner and in_exercise:
            cell.source = empty_learner_cell(cell.source)
            emptied.append(learner.group(1))
            has_learner_file = True
            _clear(cell)
        elif any(re.search(rf"\b{module}\b", cell.source) for module in emptied):
            _clear(cell)
        tree = _tree(cell.source)
        if tree is not None:
            stores, loads, _ = _names(tree)
            needed = sorted((loads & only_in_solutions) - stores)
            hoisted = [solution_imports[name] for name in needed if name in solution_imports]
            missing = [name for name in needed if name not in solution_imports]
            if missing and not cell.source.lstrip().startswith("%%"):
                cell.source = _guarded(cell.source, missing)
                _clear(cell)
            if hoisted:  # after the cell's `#|` options, which must stay first
                options, body = _options(cell.source)
                note = "# Imported by the solution above, which this edition leaves out:"
                cell.source = "\n".join([*options, note, *hoisted, "", body])
            defined |= stores
            only_in_solutions -= stores
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop(notebook_rules.STAMP_KEY, None)  # its digest is of the full chapter
    return nb


def solution_sources(nb) -> list[str]:
    """Return the source of every solution code cell of a full chapter (what the edition must not hold)."""
    return [cell.source for cell in notebook_rules.solution_cells(nb) if cell.source.strip()]


def write_edition(out: Path) -> list[Path]:
    """Write the classroom edition into ``out`` (emptied first); return the chapters written."""
    if out.exists():
        shutil.rmtree(out)
    (out / "chapters").mkdir(parents=True)
    written = []
    for path in notebook_rules.toc_notebooks():
        target = out / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(student_notebook(nbformat.read(path, as_version=4)), target)
        written.append(target)
    for page in notebook_rules.toc_files():
        source = ROOT / f"{page}.md"
        if source.exists():
            target = out / f"{page}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, out / name, ignore=ignore, dirs_exist_ok=True)
        elif source.exists():
            shutil.copy2(source, out / name)
    shutil.copy2(ROOT / "_toc.yml", out / "_toc.yml")
    # The book's test settings stay behind: they name the book's tests/, and pytest run on the edition
    # from the book then uses the book's conftest.py (kernels stopped as Jupyter does, the leak check).
    pyproject = (out / "pyproject.toml").read_text()
    (out / "pyproject.toml").write_text(re.sub(r"\n\[tool\.pytest\.ini_options\]\n(?:(?!\n\[).)*", "\n", pyproject,
                                               flags=re.DOTALL))
    config = notebook_rules.config()
    config["title"] = f"{config['title']} (classroom edition)"
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["hide_solutions"] = True  # sphinx-exercise: no {solution} is rendered
    (out / "_config.yml").write_text("# The classroom edition, written by scripts/student_edition.py\n"
                                     + yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    url = config.get("repository", {}).get("url", "")
    (out / "README.md").write_text(README.format(title=notebook_rules.config()["title"], url=url))
    (out / ".gitignore").write_text("_build/\n__pycache__/\n*.egg-info/\nchapters/my_*.py\n")
    return written


def build_html(out: Path) -> int:
    """Build the edition's HTML book into ``out/_build/html``; return the exit status."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book) if jupyter_book.exists() else "jupyter-book", "build", "--keep-going", str(out)]
    return subprocess.run(command, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the folder to write (emptied first)")
    parser.add_argument("--no-html", action="store_true", help="write the notebooks only; build no HTML book")
    args = parser.parse_args(argv)
    written = write_edition(args.out)
    print(f"wrote {len(written)} chapters without solutions into {args.out}")
    if args.no_html:
        return 0
    status = build_html(args.out)
    if status == 0:
        print(f"built its HTML book, solutions hidden: {args.out / '_build' / 'html' / 'index.html'}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())

"""The classroom edition (``make student``): no solution code, empty exercise cells, Binder-ready.

The cheap checks run here; the edition run top to bottom (nbval lax) and its HTML book
are slow and run with ``make test-slow``.
"""

from __future__ import annotations

import ast
import hashlib
import re
import subprocess
import sys

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

import notebook_rules
import student_edition
from notebook_rules import ROOT
from tests.test_binder import check_binder_build, dockerfile

CHAPTERS = [p for p in notebook_rules.toc_notebooks() if p.parent.name == "chapters"]


def _digests() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in CHAPTERS}


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    before = _digests()
    out = tmp_path_factory.mktemp("student")
    student_edition.write_edition(out)
    assert _digests() == before, "writing the classroom edition changed the full book's chapters"
    return out


def _python_of(source: str) -> list:
    return ast.parse(notebook_rules._python_source(source)).body


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_the_edition_has_no_solution_code(edition, path):
    full = nbformat.read(path, as_version=4)
    student = nbformat.read(edition / "chapters" / path.name, as_version=4)
    text = "\n".join(cell.source for cell in student.cells)
    assert "{solution-start}" not in text and "{solution-end}" not in text and "{solution}" not in text
    assert not re.search(r"\bsolution_\w+", text), "a solution module is named"
    # no line of a solution (longer than a bare `pool.join()`), unless the chapter has it outside a solution too
    outside = {line.strip() for cell, inside in notebook_rules.solution_blocks(full) if not inside for line in cell.source.splitlines()}
    student_lines = {line.strip() for line in text.splitlines()}
    for source in student_edition.solution_sources(full):
        lines = {line.strip() for line in source.splitlines()
                 if len(line.strip()) > 25 and not line.lstrip().startswith(("#", "import ", "from "))}  # imports may move
        leaked = (lines & student_lines) - outside
        assert not leaked, f"{path.name}: solution lines in the classroom edition: {sorted(leaked)[:3]}"
    assert notebook_rules.STAMP_KEY not in student.metadata


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_every_exercise_cell_is_empty_and_its_check_output_cleared(edition, path):
    student = nbformat.read(edition / "chapters" / path.name, as_version=4)
    learner = [c for c in student.cells if c.cell_type == "code" and re.match(r"%%writefile\s+my_\w+\.py", c.source)]
    full = nbformat.read(path, as_version=4)
    exercises = notebook_rules.writefile_exercise_problems(full)
    emptied = [c for c in learner if not _python_of(c.source.split("\n", 1)[1] if "\n" in c.source else "")]
    if path.name[:2] != "00" and not exercises:
        assert emptied, f"{path.name}: the learner's %%writefile cell was not emptied"
    for cell in emptied:
        module = re.match(r"%%writefile\s+(my_\w+)\.py", cell.source).group(1)
        assert not cell.outputs
        checks = [c for c in student.cells if c.cell_type == "code" and c is not cell and module in c.source]
        assert all(not c.outputs for c in checks), f"{path.name}: a check of {module} keeps the full book's output"


def test_the_edition_is_a_book_binder_can_build(edition):
    config = yaml.safe_load((edition / "_config.yml").read_text())
    assert config["sphinx"]["config"]["hide_solutions"] is True
    assert "sphinx_exercise" in config["sphinx"]["extra_extensions"]
    assert (edition / "binder" / "requirements.txt").read_text() == (ROOT / "requirements.txt").read_text()
    assert (edition / "helpers" / "lab" / "exercises.py").exists() and (edition / "pyproject.toml").exists()
    assert "pip install -r requirements.txt -e ." in (edition / "README.md").read_text()
    # pytest run on the edition from the book must use the book's conftest.py (kernels stopped as
    # Jupyter does, the leak check), not stop at the edition's pyproject.toml as its root
    assert "[tool.pytest" not in (edition / "pyproject.toml").read_text()
    for page in notebook_rules.toc_files():
        assert any((edition / f"{page}{ext}").exists() for ext in (".md", ".ipynb")), page
    check_binder_build(dockerfile(edition))


def test_student_notebook_empties_answers_guards_results_and_keeps_imports():
    stub = '%%writefile my_cube.py\ndef cube(x: int) -> int:\n    """Return x cubed."""\n    ...  # your code here'
    nb = new_notebook(cells=[
        new_markdown_cell("```{exercise} Cube\n:label: ex-cube\n```"),
        new_code_cell(stub),
        new_code_cell('check_worker("my_cube", "cube", CASES)', outputs=[new_output("stream", name="stdout", text="❌")]),
        new_markdown_cell("```{solution-start} ex-cube\n:class: dropdown\n```"),
        new_code_cell("%%writefile solution_cube.py\ndef cube(x):\n    return x ** 3"),
        new_code_cell("from helpers.lab.pools import check_squares_of\nsquares = [n * n for n in range(3)]"),
        new_markdown_cell("```{solution-end}\n```"),
        new_code_cell("#| alt: A figure of the squares, one bar per number.\nassert check_squares_of(squares, 3)"),
        new_markdown_cell("```{exercise} Think\n:label: ex-think\n```"),
        new_markdown_cell("```{solution-start} ex-think\n```"),
        new_code_cell("answer = 42"),
        new_markdown_cell("```{solution-end}\n```"),
    ])
    student = student_edition.student_notebook(nb)
    sources = [c.source for c in student.cells]
    assert len(nb.cells) == 12, "the full notebook is not changed"
    assert not any("solution_" in s or "{solution" in s for s in sources)
    learner = sources[1]
    assert learner.startswith("%%writefile my_cube.py\n") and not _python_of(learner.split("\n", 1)[1])
    assert "# def cube(x: int) -> int:" in learner
    assert student.cells[2].outputs == []
    guarded = sources[3]
    assert guarded.startswith("#| alt: A figure")  # options stay first
    assert "from helpers.lab.pools import check_squares_of" in guarded
    assert "'squares' in globals()" in guarded and "Not answered yet" in guarded
    assert sources[-1] == student_edition.ANSWER_CELL  # a cell for the answer where the solution was
    namespace: dict = {"print": lambda *a: namespace.setdefault("printed", a)}
    exec(compile(guarded.split("\n", 1)[1].replace("from helpers.lab.pools import check_squares_of", ""), "cell", "exec"),
         namespace)
    assert "Not answered yet" in namespace["printed"][0]


@pytest.mark.slow
def test_every_classroom_notebook_runs_top_to_bottom():
    """Under nbval lax: every cell runs without an error, the checks say "not answered yet"."""
    out = ROOT / "_build" / "student-check"  # under the book, so its conftest.py runs the kernels
    student_edition.write_edition(out)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                           str(out / "chapters")], cwd=ROOT, capture_output=True, text=True, timeout=3600, check=False)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


@pytest.mark.slow
def test_the_classroom_book_builds_with_solutions_hidden(tmp_path):
    out = tmp_path / "student"
    assert student_edition.main(["--out", str(out)]) == 0
    html = out / "_build" / "html"
    pages = list((html / "chapters").glob("*.html"))
    assert len(pages) == len(CHAPTERS)
    for page in pages:
        assert 'class="solution' not in page.read_text(), f"{page.name} shows a solution"

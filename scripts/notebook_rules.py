"""Rules every chapter notebook follows, shared by the execute script and the tests.

- The first code cell is the setup cell, generated from ``_config.yml`` so that the
  repository URL is set in one place (Colab installs the helpers from there).
- Code cells between a ``{solution-start}`` and a ``{solution-end}`` cell are
  solutions: their source and outputs are hidden in Jupyter so learners are not
  handed the answer (the HTML book shows them in a closed dropdown).
- A code cell that draws a figure begins with ``#| alt: <a sentence saying what the
  figure shows>``; it is copied into the cell's ``mystnb.image.alt`` metadata, which
  MyST-NB writes as the ``alt`` of the figure's ``<img>`` in the HTML book.

It also holds the checks of a chapter's shape that the tests apply: a class can
finish it (cell budget, stated time), every worker it imports is shown on the page,
the learner writes a worker of their own, and test-only cells print nothing.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
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


def solution_blocks(nb):
    """Yield (cell, inside_solution) for every cell, in order: inside means between solution-start and solution-end."""
    inside = False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            if "{solution-start}" in cell.source:
                inside = True
            elif "{solution-end}" in cell.source:
                inside = False
        yield cell, inside


def solution_cells(nb) -> list:
    """Return the code cells that lie between solution-start and solution-end markers."""
    return [cell for cell, inside in solution_blocks(nb) if inside and cell.cell_type == "code"]


def apply(nb) -> None:
    """Rewrite the derived parts of a notebook (setup cell, hidden solutions, figure alt texts) in place."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or SETUP_TAG not in code[0].metadata.get("tags", []):
        raise ValueError(f"the first code cell must carry the tag {SETUP_TAG!r}")
    code[0].source = setup_source()
    for cell in solution_cells(nb):
        cell.metadata.setdefault("jupyter", {}).update(source_hidden=True, outputs_hidden=True)
    for cell in code:
        set_figure_alt(cell)


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


# A chapter's stated time ("About N minutes") is derived, not guessed: the execute script
# records how long the chapter ran (STAMP_KEY's "execution_seconds") and rewrites the
# sentence with timed_minutes(). Reading rates from Carver, "Reading rate: a review of
# research and theory" (Academic Press, 1990), for college readers: 200 words a minute
# when reading to learn (his "learning" process), 138 when reading to remember every
# step (his "memorizing" process), which is how a learner reads code to write some like
# it. A word is a run of non-space characters. Solution cells are counted in the
# exercise allowance instead, and test-only cells (remove-input) are never shown.
PROSE_WORDS_PER_MINUTE = 200
CODE_WORDS_PER_MINUTE = 138
# Minutes per {exercise}: read it, try it, run the check, read the solution. The
# Carpentries' lessons plan 5 to 15 minutes per short exercise; this is the low end.
EXERCISE_MINUTES = 5
ROUND_TO_MINUTES = 5  # the stated time is rounded up to a multiple of this


def reading_words(nb) -> tuple[int, int]:
    """Return the words of prose and of code a learner reads (solutions and test-only cells left out)."""
    prose = code = 0
    for cell, inside in solution_blocks(nb):
        if cell.cell_type == "markdown":
            prose += len(cell.source.split())
        elif cell.cell_type == "code" and not inside and "remove-input" not in cell.metadata.get("tags", []):
            code += len(cell.source.split())
    return prose, code


def exercise_count(nb) -> int:
    """Return how many ``{exercise}`` directives the chapter has."""
    return sum(len(re.findall(r"^`{3,}\{exercise\}", c.source, re.MULTILINE)) for c in nb.cells if c.cell_type == "markdown")


def execution_seconds(nb) -> float | None:
    """Return the seconds the execute script took to run the chapter, or None if it did not record them."""
    return nb.metadata.get(STAMP_KEY, {}).get("execution_seconds")


def time_parts(nb) -> dict[str, float] | None:
    """Return the minutes of reading, running and exercises the stated time adds up, or None without a timed run."""
    seconds = execution_seconds(nb)
    if seconds is None:
        return None
    prose, code = reading_words(nb)
    return {
        "reading": prose / PROSE_WORDS_PER_MINUTE + code / CODE_WORDS_PER_MINUTE,
        "running": seconds / 60,
        "exercises": exercise_count(nb) * EXERCISE_MINUTES,
    }


def timed_minutes(nb) -> int | None:
    """Return the chapter's time from its timed run: reading + running + exercises, rounded up to 5 minutes."""
    parts = time_parts(nb)
    if parts is None:
        return None
    return ROUND_TO_MINUTES * math.ceil(round(sum(parts.values()), 6) / ROUND_TO_MINUTES)


def set_stated_minutes(nb, minutes: int) -> bool:
    """Rewrite "About N minutes" in the "What you need" cell with ``minutes``; return False if there is none."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and WHAT_YOU_NEED in cell.source:
            head, section = cell.source.split(WHAT_YOU_NEED, 1)
            section, sep, rest = section.partition("\n## ")
            if not _MINUTES.search(section):
                return False
            section = _MINUTES.sub(lambda m: m.group(0).replace(m.group(1), str(minutes)), section, count=1)
            cell.source = head + WHAT_YOU_NEED + section + sep + rest
            return True
    return False


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
    for cell, inside in solution_blocks(nb):
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


# ---------------------------------------------------------------------------
# Provenance: outputs made by the execute script, with no machine paths
# ---------------------------------------------------------------------------

SANITIZE_FILE = ROOT / "tests" / "nbval_sanitize.cfg"
STAMP_KEY = "mp_book"
# The Python and start method the stored outputs are made with; nbval compares outputs
# strictly only under these two (the Makefile reads this line: keep its form).
REFERENCE_PYTHON = "3.14"
REFERENCE_START_METHOD = "spawn"  # the book's default: helpers/lab/book.py
EXECUTE_COMMAND = "make execute"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def path_patterns() -> list[tuple[re.Pattern, str]]:
    """Return the ``[path-*]`` rules of the sanitize file: machine paths and their placeholders.

    nbval applies the same rules before it compares outputs, so a stored output
    (already rewritten) and a fresh one (rewritten by nbval) compare equal.
    """
    text = SANITIZE_FILE.read_text()
    found = re.findall(r"^\[(path-[\w-]+)\]\nregex: (.*)\nreplace: (.*)$", text, flags=re.MULTILINE)
    return [(re.compile(regex), replace) for _, regex, replace in found]


def strip_paths(text: str, patterns=None) -> str:
    """Return ``text`` with the paths of the machine that ran it replaced by placeholders."""
    for regex, replace in patterns or path_patterns():
        text = regex.sub(replace, text)
    return text


def strip_output_paths(nb) -> None:
    """Rewrite machine paths in every stored output (text, values, tracebacks) in place."""
    patterns = path_patterns()
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if "text" in output:
                output["text"] = strip_paths(output["text"], patterns)
            if "evalue" in output:
                output["evalue"] = strip_paths(output["evalue"], patterns)
            if "traceback" in output:
                output["traceback"] = [strip_paths(line, patterns) for line in output["traceback"]]
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") and isinstance(value, str):
                    output["data"][mime] = strip_paths(value, patterns)


def outputs_digest(nb) -> str:
    """Return a digest of every code cell's source, execution count and outputs.

    Markdown cells and metadata are left out: prose may be edited without
    executing again, but any change to code or to what it printed is seen.
    """
    code = [[c.source, c.execution_count, c.outputs] for c in nb.cells if c.cell_type == "code"]
    return hashlib.sha256(json.dumps(code, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


def this_run() -> dict[str, str]:
    """The facts a stamp records of the Python and start method running now."""
    import platform

    from helpers.lab.book import book_start_method

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "start_method": book_start_method(),
    }


def stamp(nb, execution_seconds: float | None = None) -> None:
    """Record in the notebook's metadata that the execute script made its outputs (and how long it ran).

    The seconds are metadata, outside :func:`outputs_digest`, like the stated time they give.
    """
    nb.metadata[STAMP_KEY] = {
        "executed_by": "scripts/execute_notebooks.py",
        **this_run(),
        "outputs_sha256": outputs_digest(nb),
        **({"execution_seconds": round(execution_seconds, 1)} if execution_seconds is not None else {}),
    }


def reference_problems(run: dict) -> list[str]:
    """Return why outputs made under ``run`` (a stamp, or :func:`this_run`) are not the reference ones."""
    python_version = run.get("python", "unknown")
    implementation = run.get("implementation", "CPython")  # stamps older than this field
    start_method = run.get("start_method", "unknown")
    problems = []
    if implementation != "CPython" or python_version.split(".")[:2] != REFERENCE_PYTHON.split("."):
        problems.append(f"made with {implementation} {python_version}, not the reference CPython {REFERENCE_PYTHON}")
    if start_method != REFERENCE_START_METHOD:
        problems.append(f"made under the {start_method} start method, not the book's {REFERENCE_START_METHOD}")
    return problems


def provenance_problems(nb) -> list[str]:
    """Return why the notebook's outputs may not be the execute script's ([] when they are).

    Refused: no stamp; code or outputs changed since (run and saved in Jupyter, edited
    by hand); widget views whose saved state is missing (they would render as nothing).
    """
    recorded = nb.metadata.get(STAMP_KEY, {})
    if not recorded:
        return ["its outputs carry no stamp of the execute script"]
    problems = reference_problems(recorded)
    if recorded.get("outputs_sha256") != outputs_digest(nb):
        problems.append("its code or outputs changed after the execute script made them (saved from Jupyter?)")
    views = {
        o["data"][WIDGET_VIEW]["model_id"]
        for c in nb.cells if c.cell_type == "code"
        for o in c.outputs if WIDGET_VIEW in o.get("data", {})
    }
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    missing = sorted(views - set(state))
    if missing:
        problems.append(f"{len(missing)} widget view(s) have no saved widget state, so they would render as nothing")
    return problems


# ---------------------------------------------------------------------------
# Figures: alt text written by the author next to the code that draws them
# ---------------------------------------------------------------------------

ALT_OPTION = "alt"
MYSTNB_KEY = "mystnb"  # MyST-NB's cell-level configuration; its "image" options go to image outputs
IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
_OPTION = re.compile(r"#\| ?([a-z][a-z-]*): ?(.*)")
_CONTINUED = re.compile(r"#\|\s{2,}(\S.*)")  # "#|" and two spaces or more: the value goes on
_PATH_LIKE = re.compile(r"\w[\\/]\w|\.(?:png|jpe?g|gif|svg)\b", re.IGNORECASE)
MIN_ALT_WORDS = 5


def cell_options(source: str) -> dict[str, str]:
    """Return the ``#| name: value`` lines at the top of a code cell as ``{name: value}``.

    A long value goes on over the next lines that start with ``#|`` and at least two
    spaces; they are joined with single spaces.

    >>> cell_options("#| alt: Two bars,\\n#|   one per worker.\\nplot()")
    {'alt': 'Two bars, one per worker.'}
    """
    options: dict[str, str] = {}
    name = None
    for line in source.splitlines():
        line = line.rstrip()
        continued = _CONTINUED.fullmatch(line)
        option = _OPTION.fullmatch(line)
        if continued and name:
            options[name] = f"{options[name]} {continued.group(1)}".strip()
        elif option:
            name = option.group(1)
            options[name] = option.group(2).strip()
        else:
            break
    return options


def set_figure_alt(cell) -> None:
    """Copy a code cell's ``#| alt:`` text into ``mystnb.image.alt`` (or drop a stale one)."""
    alt = cell_options(cell.source).get(ALT_OPTION)
    if alt:
        cell.metadata.setdefault(MYSTNB_KEY, {}).setdefault("image", {})[ALT_OPTION] = alt
        return
    mystnb = cell.metadata.get(MYSTNB_KEY, {})
    image = mystnb.get("image", {})
    if ALT_OPTION in image:
        del image[ALT_OPTION]
        if not image:
            del mystnb["image"]
        if not mystnb:
            del cell.metadata[MYSTNB_KEY]


def has_image_output(cell) -> bool:
    return cell.cell_type == "code" and any(
        mime in output.get("data", {}) for output in cell.get("outputs", []) for mime in IMAGE_MIMES
    )


def alt_text_problem(alt: str | None) -> str | None:
    """Return why ``alt`` is not a sentence saying what a figure shows, or None when it is one."""
    if not alt:
        return "no alt text: begin the cell with `#| alt: <a sentence saying what the figure shows>`"
    if _PATH_LIKE.search(alt):
        return f"the alt text looks like a file path, not a description: {alt!r}"
    if not alt[0].isupper() or not alt.endswith("."):
        return f"the alt text must be a sentence (a capital letter first, a full stop last): {alt!r}"
    if len(alt.split()) < MIN_ALT_WORDS:
        return f"the alt text is too short to say what the figure shows (under {MIN_ALT_WORDS} words): {alt!r}"
    return None


def figure_alt_problems(nb) -> list[str]:
    """Return one message per code cell with an image output whose alt text is missing, not a
    sentence, or not yet copied into the metadata MyST-NB reads ([] when all are fine)."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if not has_image_output(cell):
            continue
        written = cell_options(cell.source).get(ALT_OPTION)
        problem = alt_text_problem(written)
        if problem:
            problems.append(f"cell {index}: {problem}")
        elif cell.metadata.get(MYSTNB_KEY, {}).get("image", {}).get(ALT_OPTION) != written:
            problems.append(
                f"cell {index}: metadata mystnb.image.alt differs from the cell's `#| alt:` line; run the execute script"
            )
    return problems

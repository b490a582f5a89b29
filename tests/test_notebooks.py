"""Structural checks of the chapters: the toc, stored outputs, the chapter skeleton,
the setup cell and the rule that workers live in helpers/. nbval compares the outputs."""

from __future__ import annotations

import json
import os
import re
import sys

import nbformat
import pytest

import notebook_rules
from notebook_rules import ROOT

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
IDS = [p.name for p in CHAPTERS]


def read(path):
    return nbformat.read(path, as_version=4)


def test_toc_and_chapter_files_match():
    listed = notebook_rules.toc_files()
    missing = [f for f in listed if not any((ROOT / f"{f}{ext}").exists() for ext in (".md", ".ipynb"))]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"
    unlisted = [p.name for p in CHAPTERS if f"chapters/{p.stem}" not in listed]
    assert not unlisted, f"chapters missing from _toc.yml: {unlisted}"
    assert CHAPTERS, "no chapter notebooks found"


def test_chapter_files_are_numbered_kebab_case():
    for path in CHAPTERS:
        assert re.fullmatch(r"\d\d-[a-z0-9]+(-[a-z0-9]+)*\.ipynb", path.name), path.name


def test_toc_order_follows_file_numbers():
    numbered = [f for f in notebook_rules.toc_files() if f.startswith("chapters/")]
    assert numbered == sorted(numbered), "_toc.yml order must follow the chapter numbers"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_every_code_cell_was_executed_in_order(path):
    """Stored outputs come from one top-to-bottom run of the execute script."""
    cells = [c for c in read(path).cells if c.cell_type == "code"]
    counts = [c.execution_count for c in cells]
    assert None not in counts, f"{path.name}: cells never executed at positions {[i for i, n in enumerate(counts) if n is None]}"
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: not one run from the top: {counts}"
    for i, cell in enumerate(cells):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if errors and "raises-exception" not in cell.metadata.get("tags", []):
            pytest.fail(f"{path.name}, code cell {i}: stored error {errors[0].ename} without the raises-exception tag")


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chapter_has_the_skeleton(path):
    nb = read(path)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "a title first"
    for heading in ("## What you'll learn", "## What you need", "## Summary", "## Further reading"):
        assert heading in text, f"{path.name} lacks the heading {heading!r}"
    assert "```{exercise}" in text and "```{solution-start}" in text, f"{path.name} has no exercise with a solution"
    assert text.count("{solution-start}") == text.count("{solution-end}"), f"{path.name}: unbalanced solutions"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_setup_cell_and_hidden_solutions_are_current(path):
    nb = read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "setup" in code[0].metadata.get("tags", []), "the first code cell must be the setup cell"
    assert code[0].source == notebook_rules.setup_source(), (
        f"{path.name}: the setup cell differs from the one _config.yml gives; run `make execute NB={path.relative_to(ROOT)}`"
    )
    solutions = notebook_rules.solution_cells(nb)
    assert solutions, f"{path.name}: no solution code cell"
    for cell in solutions:
        hidden = cell.metadata.get("jupyter", {})
        assert hidden.get("source_hidden") is True, f"{path.name}: a solution's source is visible"
        assert hidden.get("outputs_hidden") is True, f"{path.name}: a solution's output is visible"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_no_notebook_defined_function_is_sent_to_a_process(path):
    problems = notebook_rules.notebook_defined_workers(read(path), path.name)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_a_class_can_finish_the_chapter(path):
    nb = read(path)
    assert len(nb.cells) <= notebook_rules.MAX_CELLS, (
        f"{path.name} has {len(nb.cells)} cells, over the budget of {notebook_rules.MAX_CELLS}: split it"
    )
    minutes = notebook_rules.stated_minutes(nb)
    assert minutes is not None, f'{path.name}: "## What you need" must say "About N minutes"'
    assert 0 < minutes <= notebook_rules.MAX_MINUTES, f"{path.name} says {minutes} minutes, over {notebook_rules.MAX_MINUTES}"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_every_imported_worker_is_shown_on_the_page(path):
    """Each name the chapter imports from a worker module has its def (or class) in a stored output."""
    nb = read(path)
    missing = [name for name in notebook_rules.worker_imports(nb) if name not in notebook_rules.shown_definitions(nb)]
    assert not missing, f"{path.name} imports workers whose code is never shown (use helpers.lab.show.show): {missing}"


@pytest.mark.parametrize("path", [p for p in CHAPTERS if p.name[:2] != "00"], ids=[p.name for p in CHAPTERS if p.name[:2] != "00"])
def test_the_learner_writes_a_worker_and_a_check_runs_it(path):
    problems = notebook_rules.writefile_exercise_problems(read(path))
    assert not problems, f"{path.name}: " + "; ".join(problems)


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_test_only_cells_are_hidden_and_silent(path):
    problems = notebook_rules.remove_input_problems(read(path))
    assert not problems, f"{path.name}: " + "; ".join(problems)


def machine_paths() -> list[str]:
    """The paths of this machine that must never appear in a stored output."""
    home = os.path.expanduser("~")
    paths = {str(ROOT), sys.prefix, sys.base_prefix, *([home + os.sep] if home not in ("", os.sep) else [])}
    return sorted(p for p in paths if p and p != os.sep)


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_no_machine_path_in_stored_outputs(path):
    """Tracebacks and messages show <book>/, <stdlib>/ and <site-packages>/ instead (see tests/nbval_sanitize.cfg)."""
    nb = read(path)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        text = json.dumps(cell.outputs)
        for machine_path in machine_paths():
            assert json.dumps(machine_path)[1:-1] not in text, f"{path.name}, cell {index}: a stored output shows {machine_path}"
        assert not re.search(r"/lib/python3\.\d+", text), f"{path.name}, cell {index}: a stored output shows an interpreter path"
        assert not re.search(r"/pymp-[0-9a-z_]+", text), f"{path.name}, cell {index}: a stored output shows a temporary folder"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_outputs_were_made_by_the_execute_script(path):
    problems = notebook_rules.provenance_problems(read(path))
    assert not problems, f"{path.name}: " + "; ".join(problems) + ": run `make execute`"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_every_figure_has_alt_text_that_is_a_sentence(path):
    """Each code cell with an image output begins with `#| alt: ...`: a sentence saying what the
    figure shows (a capital letter first, a full stop last, at least 5 words, not a file path),
    copied into the metadata MyST-NB writes as the figure's alt text."""
    problems = notebook_rules.figure_alt_problems(read(path))
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_progress_bars_are_stored_finished(path):
    """A reader who opens a chapter sees each progress bar at its end, not at 0 of N."""
    state = read(path).metadata.get("widgets", {}).get(notebook_rules.WIDGET_STATE, {}).get("state", {})
    unfinished = [
        f"{model_id}: {model['state'].get('value')} of {model['state'].get('max')}"
        for model_id, model in state.items()
        if model["model_name"] in ("FloatProgressModel", "IntProgressModel")
        and model["state"].get("value") != model["state"].get("max")
    ]
    assert not unfinished, f"{path.name}: progress bars stored unfinished: {unfinished}"


# Measured timings: "About N minutes" is reading + running + exercises (notebook_rules.timed_minutes),
# from the run the execute script timed and stored in the notebook's stamp.
@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_stated_time_is_reading_running_and_exercises(path):
    nb = read(path)
    minutes = notebook_rules.timed_minutes(nb)
    if minutes is None:
        pytest.skip(f"{path.name} has no timed run yet (see test_every_chapter_has_a_timed_run)")
    parts = notebook_rules.time_parts(nb)
    assert notebook_rules.stated_minutes(nb) == minutes, (
        f"{path.name} says about {notebook_rules.stated_minutes(nb)} minutes; its timed run gives {minutes} "
        f"(reading {parts['reading']:.1f}, running {parts['running']:.1f}, exercises {parts['exercises']}): "
        f"run `python scripts/execute_notebooks.py --times {path.relative_to(ROOT)}` after a text edit"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_every_chapter_has_a_timed_run(path):
    """Every chapter's time is measured: the execute script records how long it ran."""
    seconds = notebook_rules.execution_seconds(read(path))
    assert seconds is not None and seconds > 0, (
        f"{path.name}: no execution_seconds in its stamp; run `make execute NB={path.relative_to(ROOT)}`"
    )

"""The rules the structural checks rely on must catch what they claim to catch."""

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import notebook_rules


def notebook(*sources: str, tags=None):
    cells = [new_code_cell(s) for s in sources]
    if tags:
        cells[-1].metadata["tags"] = tags
    return new_notebook(cells=cells)


def test_pool_map_of_a_notebook_function_is_reported():
    nb = notebook(
        "def square(x):\n    return x * x",
        "from multiprocessing import Pool\nwith Pool(2) as pool:\n    pool.map(square, range(5))",
    )
    problems = notebook_rules.notebook_defined_workers(nb, "scratch.ipynb")
    assert len(problems) == 1
    assert "scratch.ipynb, cell 1" in problems[0] and "'square'" in problems[0] and "map()" in problems[0]


def test_process_target_lambda_and_initializer_are_reported():
    nb = notebook(
        "init = lambda: None",
        "import multiprocessing as mp\np = mp.Process(target=lambda: 1)\n"
        "ex = ProcessPoolExecutor(initializer=init)\nex.submit(init)",
    )
    assert len(notebook_rules.notebook_defined_workers(nb)) == 3


def test_helpers_workers_magics_and_tagged_demonstrations_pass():
    nb = notebook(
        "%matplotlib inline\nfrom helpers.workloads import count_primes",
        "with Pool(2) as pool:\n    pool.map(count_primes, [10])",
    )
    assert notebook_rules.notebook_defined_workers(nb) == []
    demo = notebook("def f(x):\n    return x", "executor.map(f, [1])", tags=["raises-exception"])
    assert notebook_rules.notebook_defined_workers(demo) == []


def test_solution_cells_are_found_between_markers():
    nb = new_notebook(cells=[
        new_code_cell("before"),
        new_markdown_cell("```{solution-start} ex-a\n:class: dropdown\n```"),
        new_code_cell("answer"),
        new_markdown_cell("```{solution-end}\n```"),
        new_code_cell("after"),
    ])
    assert [c.source for c in notebook_rules.solution_cells(nb)] == ["answer"]


def test_setup_source_uses_the_configured_repository():
    repo = notebook_rules.config()["repository"]
    assert f'git+{repo["url"]}@{repo["branch"]}' in notebook_rules.setup_source()


def with_outputs(source: str, *texts: str, tags=None):
    cell = new_code_cell(source)
    cell.outputs = [{"output_type": "stream", "name": "stdout", "text": t} for t in texts]
    if tags:
        cell.metadata["tags"] = tags
    return cell


def test_stated_minutes_is_read_from_what_you_need():
    nb = new_notebook(cells=[new_markdown_cell("## What you need\n\n- chapter 01\n- About 45 minutes.\n\n## Next")])
    assert notebook_rules.stated_minutes(nb) == 45
    assert notebook_rules.stated_minutes(new_notebook(cells=[new_markdown_cell("## What you need\n- nothing")])) is None
    elsewhere = new_notebook(cells=[new_markdown_cell("About 10 minutes"), new_markdown_cell("## What you need\n- x")])
    assert notebook_rules.stated_minutes(elsewhere) is None


def timed_chapter(seconds=None):
    prose = " ".join(["word"] * 390)  # with the 10 words of the heading and the time: 400 words
    cells = [
        new_markdown_cell("## What you need\n\n- chapter 01\n- About 45 minutes.\n\n## Next " + prose),
        new_code_cell(" ".join(["x"] * 138)),  # 138 words of code: 1 minute
        new_code_cell("assert x", metadata={"tags": ["remove-input"]}),  # not shown, not read
        new_markdown_cell("```{exercise} One\n:label: ex-one\n```"),
        new_markdown_cell("```{solution-start} ex-one\n```"),
        new_code_cell(" ".join(["y"] * 1000)),  # a solution: in the exercise allowance
        new_markdown_cell("```{solution-end}\n```"),
        new_markdown_cell("````{exercise} Two\n:label: ex-two\n````"),
    ]
    nb = new_notebook(cells=cells)
    if seconds is not None:
        nb.metadata[notebook_rules.STAMP_KEY] = {"execution_seconds": seconds}
    return nb


def test_timed_minutes_add_reading_running_and_exercises_rounded_up_to_five():
    nb = timed_chapter(seconds=90)
    prose, code = notebook_rules.reading_words(nb)
    assert code == 138
    assert notebook_rules.exercise_count(nb) == 2
    parts = notebook_rules.time_parts(nb)
    assert parts["running"] == 1.5 and parts["exercises"] == 2 * notebook_rules.EXERCISE_MINUTES
    assert abs(parts["reading"] - (prose / 200 + 1)) < 1e-9
    total = sum(parts.values())
    assert notebook_rules.timed_minutes(nb) == 5 * -(-total // 5)
    assert notebook_rules.timed_minutes(timed_chapter()) is None  # no timed run: no derived time


def test_set_stated_minutes_rewrites_only_the_number_in_what_you_need():
    nb = timed_chapter(seconds=10)
    before = nb.cells[0].source
    assert notebook_rules.set_stated_minutes(nb, 25) is True
    assert notebook_rules.stated_minutes(nb) == 25
    assert nb.cells[0].source == before.replace("About 45 minutes", "About 25 minutes")
    untimed = new_notebook(cells=[new_markdown_cell("## What you need\n- nothing")])
    assert notebook_rules.set_stated_minutes(untimed, 25) is False


def test_the_stamp_keeps_execution_seconds_outside_the_digest():
    nb = notebook("print(1)")
    notebook_rules.stamp(nb, execution_seconds=12.34)
    digest = nb.metadata[notebook_rules.STAMP_KEY]["outputs_sha256"]
    assert notebook_rules.execution_seconds(nb) == 12.3
    notebook_rules.stamp(nb, execution_seconds=99)
    assert nb.metadata[notebook_rules.STAMP_KEY]["outputs_sha256"] == digest


def test_worker_imports_skip_the_lab_and_the_package_root():
    nb = notebook(
        "from helpers.processes import square, noop\nfrom helpers.lab.show import show\nfrom helpers import effective_cpus",
        "%%time\nfrom helpers.sync import add_with_lock",
    )
    assert notebook_rules.worker_imports(nb) == ["square", "noop", "add_with_lock"]


def test_shown_definitions_come_from_stored_outputs_only():
    nb = new_notebook(cells=[
        with_outputs("show(square)", "# helpers/processes.py\ndef square(x: int) -> int:\n    return x * x\n"),
        new_code_cell("def noop():\n    pass"),
    ])
    assert notebook_rules.shown_definitions(nb) == {"square"}


def exercise(learner_out: str, solution_out: str, solution_name: str = "solution_cube"):
    return new_notebook(cells=[
        new_code_cell("%%writefile my_cube.py\ndef cube(x):\n    ..."),
        with_outputs('check_worker("my_cube", "cube", [((2,), 8)])', learner_out),
        new_markdown_cell("```{solution-start} ex-cube\n:class: dropdown\n```"),
        new_code_cell(f"%%writefile {solution_name}.py\ndef cube(x):\n    return x ** 3"),
        with_outputs(f'check_worker("{solution_name}", "cube", [((2,), 8)])', solution_out),
        new_markdown_cell("```{solution-end}\n```"),
    ])


def test_a_complete_writefile_exercise_passes():
    assert notebook_rules.writefile_exercise_problems(exercise("❌ cube(2) returned None", "✅ right")) == []


def test_writefile_exercise_problems_name_what_is_missing():
    assert "says ❌" in " ".join(notebook_rules.writefile_exercise_problems(exercise("✅ oops", "✅ right")))
    assert "says ✅" in " ".join(notebook_rules.writefile_exercise_problems(exercise("❌ no", "❌ no")))
    assert "inside a solution" in " ".join(notebook_rules.writefile_exercise_problems(exercise("❌", "✅", "my_other")))
    assert len(notebook_rules.writefile_exercise_problems(notebook("print(1)"))) == 2


def test_remove_input_cells_must_be_silent_code():
    nb = new_notebook(cells=[
        with_outputs("assert True", tags=["remove-input"]),
        with_outputs("print(1)", "1\n", tags=["remove-input"]),
    ])
    problems = notebook_rules.remove_input_problems(nb)
    assert len(problems) == 1 and problems[0].startswith("cell 1")


def test_machine_paths_become_placeholders():
    text = (
        '  File "/opt/py/lib/python3.14/concurrent/futures/process.py", line 9\n'
        "\x1b[32m/home/ada/book/helpers/pools.py:69\x1b[39m "
        "~/.venv/lib/python3.13t/site-packages/numpy/x.py /dev/shm/psm_1 helpers/lab/show.py"
    )
    assert notebook_rules.strip_paths(text) == (
        '  File "<stdlib>/concurrent/futures/process.py", line 9\n'
        "\x1b[32m<book>/helpers/pools.py:69\x1b[39m "
        "<site-packages>/numpy/x.py /dev/shm/psm_1 helpers/lab/show.py"
    )


def stamped(*cells):
    nb = new_notebook(cells=list(cells))
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = i + 1
    notebook_rules.stamp(nb)
    # as if made under the reference Python and start method, whatever runs the test
    nb.metadata[notebook_rules.STAMP_KEY].update(
        python=f"{notebook_rules.REFERENCE_PYTHON}.0", implementation="CPython",
        start_method=notebook_rules.REFERENCE_START_METHOD,
    )
    return nb


def test_outputs_made_by_another_python_or_start_method_are_refused():
    nb = stamped(with_outputs("print(1)", "1\n"))
    nb.metadata[notebook_rules.STAMP_KEY]["python"] = "3.11.7"
    assert notebook_rules.provenance_problems(nb) == [
        f"made with CPython 3.11.7, not the reference CPython {notebook_rules.REFERENCE_PYTHON}"
    ]
    nb.metadata[notebook_rules.STAMP_KEY].update(python=f"{notebook_rules.REFERENCE_PYTHON}.2", start_method="fork")
    assert notebook_rules.provenance_problems(nb) == [
        f"made under the fork start method, not the book's {notebook_rules.REFERENCE_START_METHOD}"
    ]
    nb.metadata[notebook_rules.STAMP_KEY].update(start_method=notebook_rules.REFERENCE_START_METHOD, implementation="PyPy")
    assert len(notebook_rules.provenance_problems(nb)) == 1


def test_a_stamped_notebook_passes_and_prose_may_change():
    nb = stamped(new_markdown_cell("# Title"), with_outputs("print(1)", "1\n"))
    assert notebook_rules.provenance_problems(nb) == []
    nb.cells[0].source = "# A better title"
    assert notebook_rules.provenance_problems(nb) == []


def test_outputs_changed_or_never_stamped_are_refused():
    nb = stamped(with_outputs("print(1)", "1\n"))
    nb.cells[0].outputs[0]["text"] = "2\n"
    assert "changed after the execute script" in notebook_rules.provenance_problems(nb)[0]
    del nb.metadata[notebook_rules.STAMP_KEY]
    assert "no stamp" in notebook_rules.provenance_problems(nb)[0]


def test_widget_views_without_saved_state_are_refused():
    cell = new_code_cell("panel")
    cell.outputs = [{"output_type": "display_data", "metadata": {},
                     "data": {notebook_rules.WIDGET_VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0}}}]
    nb = stamped(cell)
    assert "no saved widget state" in notebook_rules.provenance_problems(nb)[0]
    nb.metadata["widgets"] = {notebook_rules.WIDGET_STATE: {"state": {"abc": {}}, "version_major": 2, "version_minor": 0}}
    assert notebook_rules.provenance_problems(nb) == []


def test_make_book_refuses_a_notebook_saved_by_hand(tmp_path):
    import subprocess
    import sys

    import nbformat

    nb = nbformat.from_dict(stamped(with_outputs("print(1)", "1\n")))
    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    nbformat.write(nb, good)
    nb.cells[0].outputs[0]["text"] = "edited by hand\n"
    nbformat.write(nb, bad)
    script = notebook_rules.ROOT / "scripts" / "execute_notebooks.py"
    ok = subprocess.run([sys.executable, str(script), "--check", str(good)], capture_output=True, text=True, timeout=120)
    refused = subprocess.run([sys.executable, str(script), "--check", str(bad)], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert refused.returncode == 1 and "run `make execute`" in refused.stderr and "bad.ipynb" in refused.stderr


# ---------------------------------------------------------------- figure alt texts


def figure_cell(source: str):
    cell = new_code_cell(source)
    cell.outputs = [{"output_type": "display_data", "metadata": {},
                     "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 600x350 with 1 Axes>"}}]
    return cell


ALT = "Two timelines of the same workers, one bar per step."


def test_the_alt_line_is_copied_into_the_metadata_myst_nb_reads():
    setup = new_code_cell("", metadata={"tags": ["setup"]})
    figure = figure_cell("#| alt: Two timelines of the same workers,\n#|   one bar per step.\nplot_runs(runs)")
    nb = new_notebook(cells=[setup, figure])
    assert notebook_rules.figure_alt_problems(nb) == [
        "cell 1: metadata mystnb.image.alt differs from the cell's `#| alt:` line; run the execute script"
    ]
    notebook_rules.apply(nb)
    assert figure.metadata["mystnb"] == {"image": {"alt": ALT}}
    assert notebook_rules.figure_alt_problems(nb) == []
    figure.source = "plot_runs(runs)"  # the line is gone: so is the stale alt text, and the cell is reported
    notebook_rules.apply(nb)
    assert "mystnb" not in figure.metadata
    assert "no alt text" in notebook_rules.figure_alt_problems(nb)[0]


def test_only_the_leading_option_lines_count():
    assert notebook_rules.cell_options(f"#| alt: {ALT}\n#| other: x\nplot()") == {"alt": ALT, "other": "x"}
    assert notebook_rules.cell_options(f"plot()\n#| alt: {ALT}") == {}
    assert notebook_rules.cell_options(f"# a comment\n#| alt: {ALT}") == {}


def test_alt_texts_that_are_not_sentences_are_reported():
    problem = notebook_rules.alt_text_problem
    assert problem(ALT) is None
    assert "no alt text" in problem(None) and "no alt text" in problem("")
    assert "file path" in problem("../_images/0a1b2c.png")
    assert "file path" in problem("Figure saved to _build/bench/speedup.png.")
    assert "a capital letter first" in problem("two timelines of the same workers.")
    assert "a full stop last" in problem("Two timelines of the same workers")
    assert "too short" in problem("A timeline.")
    nb = new_notebook(cells=[figure_cell("#| alt: speedup\nplot()"), new_code_cell("#| alt: no figure here\nx = 1")])
    problems = notebook_rules.figure_alt_problems(nb)
    assert len(problems) == 1 and problems[0].startswith("cell 0:")  # a cell without an image needs no alt

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

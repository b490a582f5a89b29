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

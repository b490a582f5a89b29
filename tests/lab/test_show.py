"""show(): a function's source from the live module, for the page."""

from __future__ import annotations

import inspect

import pytest

from helpers.lab.results import collect
from helpers.lab.show import Source, show, source_file


def test_show_gives_the_live_source_headed_by_its_file():
    shown = show(collect)
    text = repr(shown)
    assert text.startswith("# helpers/lab/results.py\ndef collect(")
    assert inspect.getsource(collect).rstrip() in text


def test_markdown_form_is_a_python_code_block_for_jupyter_and_the_book():
    markdown = show(collect)._repr_markdown_()
    assert markdown.startswith("```python\n# helpers/lab/results.py\ndef collect(") and markdown.endswith("\n```")


def test_several_functions_are_shown_one_after_another():
    text = repr(show(collect, Source))
    assert text.index("def collect(") < text.index("class Source")
    assert text.count("# helpers/lab/") == 2


def test_a_module_outside_helpers_is_named_by_its_file(tmp_path, monkeypatch):
    (tmp_path / "my_workers_show.py").write_text("def cube(x: int) -> int:\n    return x ** 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import my_workers_show

    assert source_file(my_workers_show.cube) == "my_workers_show.py"
    assert "return x ** 3" in repr(show(my_workers_show.cube))


@pytest.mark.parametrize("bad", [42, "collect", print])
def test_show_refuses_what_has_no_python_source(bad):
    with pytest.raises(TypeError, match="show"):
        show(bad)

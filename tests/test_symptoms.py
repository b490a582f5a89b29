"""The symptom index (symptoms.md) covers every pitfall admonition and every error output
of the chapters, and each of its links names a label that exists.

The checks live in scripts/symptom_index.py (run it to list what is missing); the tests
below run them on the chapters, and on small made-up notebooks to show that they fail
when an entry is missing."""

from __future__ import annotations

import nbformat
import pytest

import notebook_rules
import symptom_index
from notebook_rules import ROOT

GROUPS = ("Errors", "Crashes", "Warnings", "Hangs", "Silent wrong results", "Slower")


def test_symptom_index_covers_every_pitfall_and_error_output():
    found = symptom_index.problems()
    assert not found, "symptoms.md is out of date with the chapters:\n" + "\n".join(found)


def test_every_pitfall_is_found():
    """The detector sees the pitfall boxes the chapters really have (at least one per
    chapter that shows one), so an empty scan cannot pass for a covered book."""
    total = sum(len(symptom_index.pitfalls(symptom_index.read(p), p.stem)) for p in symptom_index.chapters())
    text_count = sum(
        line.count("{admonition} Pitfall")
        for p in symptom_index.chapters()
        for line in p.read_text().splitlines()
    )
    assert total >= text_count > 20


def test_page_is_grouped_by_kind_and_every_entry_starts_with_what_you_see():
    entries = symptom_index.entries()
    groups = {entry.group.split(":")[0] for entry in entries}
    for group in GROUPS:
        assert any(g.startswith(group) for g in groups), f"symptoms.md has no group {group!r}"
    for entry in entries:
        assert entry.text.startswith(("- `", '- "', "- A ")), f"an entry must start with the symptom's text: {entry.text[:60]!r}"
        assert " → " in entry.text, f"an entry says symptom → link: {entry.text[:60]!r}"


def test_reference_pages_follow_the_chapters_in_the_toc():
    pages = notebook_rules.toc_files()
    last_chapter = max(i for i, page in enumerate(pages) if page.startswith("chapters/"))
    for page in ("symptoms", "glossary", "genindex"):
        assert page in pages, f"_toc.yml lacks {page}"
        assert pages.index(page) > last_chapter, f"{page} should come after the chapters"


# -- the checks fail when they should -----------------------------------------------------


def notebook(markdown: list[str], outputs: list[dict]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(text) for text in markdown]
    code = nbformat.v4.new_code_cell("pass")
    code.outputs = [nbformat.from_dict(o) for o in outputs]
    nb.cells.append(code)
    return nb


PITFALL = "(demo-section)=\n## A section\n\n```{admonition} Pitfall: a demo\n:class: warning\n:name: pitfall-demo\nBody.\n```"
ERROR = {"output_type": "error", "ename": "BufferError", "evalue": "cannot close exported pointers exist", "traceback": []}
STDERR = {"output_type": "stream", "name": "stderr", "text": "Traceback (most recent call last):\nRuntimeError: something at 0x7f00ab went wrong\n"}
STDOUT = {"output_type": "stream", "name": "stdout", "text": "get() raised ZeroDivisionError('division by zero')\n"}
TRACKER = {"output_type": "stream", "name": "stdout", "text": "resource_tracker: There appear to be 3 leaked semaphore objects to clean up at shutdown\n"}


def page(tmp_path, *lines: str):
    path = tmp_path / "symptoms.md"
    path.write_text("# Symptoms\n\n## Errors\n\n" + "\n".join(lines) + "\n")
    return path


COMPLETE = (
    "- `BufferError: cannot close exported pointers exist` → {ref}`x <demo-section>`: a view.",
    "- `RuntimeError: something at 0x… went wrong` → {ref}`x <demo-section>`: demo.",
    "- `ZeroDivisionError` from a worker → {ref}`x <demo-section>`: demo.",
    "- `resource_tracker: There appear to be 1 leaked semaphore objects to clean up at shutdown` → {ref}`x <demo-section>`.",
    '- "a demo" → {ref}`the pitfall <pitfall-demo>`: demo.',
)


def test_a_complete_page_passes(tmp_path):
    nb = notebook([PITFALL], [ERROR, STDERR, STDOUT, TRACKER])
    assert symptom_index.problems({"99-demo": nb}, page(tmp_path, *COMPLETE)) == []


@pytest.mark.parametrize("missing, complaint", [
    (0, "'BufferError: cannot close exported pointers exist'"),
    (1, "'RuntimeError: something at 0x7f00ab went wrong'"),
    (2, "'ZeroDivisionError'"),
    (3, "'resource_tracker: There appear to be 3 leaked"),
    (4, "(pitfall-demo) has no entry"),
])
def test_a_missing_entry_fails(tmp_path, missing, complaint):
    nb = notebook([PITFALL], [ERROR, STDERR, STDOUT, TRACKER])
    lines = [line for i, line in enumerate(COMPLETE) if i != missing]
    found = symptom_index.problems({"99-demo": nb}, page(tmp_path, *lines))
    assert len(found) == 1 and complaint in found[0], found


def test_an_entry_with_another_message_fails(tmp_path):
    nb = notebook([PITFALL], [ERROR])
    other = "- `BufferError: memoryview has 1 exported buffer` → {ref}`x <demo-section>`."
    found = symptom_index.problems({"99-demo": nb}, page(tmp_path, other, COMPLETE[4]))
    assert any("BufferError: cannot close exported pointers exist" in f for f in found), found


def test_a_dangling_link_and_a_link_to_another_chapter_fail(tmp_path):
    nb = notebook([PITFALL], [ERROR])
    other = notebook(["(elsewhere)=\n## Elsewhere"], [])
    dangling = "- `BufferError: cannot close exported pointers exist` → {ref}`x <no-such-label>`."
    found = symptom_index.problems({"99-demo": nb}, page(tmp_path, dangling, COMPLETE[4]))
    assert any("'no-such-label', which no chapter defines" in f for f in found), found
    elsewhere = "- `BufferError: cannot close exported pointers exist` → {ref}`x <elsewhere>`."
    found = symptom_index.problems({"99-demo": nb, "98-other": other}, page(tmp_path, elsewhere, COMPLETE[4]))
    assert found == ["99-demo, cell 1: the entries for 'BufferError: cannot close exported pointers exist' link to no label in this chapter"]


def test_a_pitfall_without_a_name_fails(tmp_path):
    nb = notebook(["```{admonition} Pitfall: unnamed\n:class: warning\nBody.\n```"], [])
    found = symptom_index.problems({"99-demo": nb}, page(tmp_path))
    assert found == ["99-demo: the pitfall 'Pitfall: unnamed' has no :name: (add one, e.g. :name: pitfall-...)"]


def test_messages_compare_without_addresses_numbers_and_names():
    norm = symptom_index.normalise
    assert norm("Can't pickle <function <lambda> at 0x7fe37e525f30>: it's not found") == norm(
        "`Can't pickle <function <lambda> at 0x…>: it's not found`")
    assert norm("This process (pid=24981) is multi-threaded") == norm("This process (pid=…) is multi-threaded")
    assert norm("module '__main__' has no attribute 'cube'") == norm("module '__main__' has no attribute 'f'")
    assert norm("cannot close exported pointers exist") != norm("cannot close")


def test_symptom_and_glossary_pages_are_in_the_book_folder():
    assert (ROOT / "symptoms.md").exists() and (ROOT / "glossary.md").exists() and (ROOT / "genindex.md").exists()

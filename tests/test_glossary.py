"""The glossary defines the book's terms, the chapters link them with {term}, and the
built book has a general index (glossary terms and the API names the chapters index),
reachable from every page, and a symptom index whose links all land on an anchor."""

from __future__ import annotations

import html
import re

import pytest

import symptom_index
from notebook_rules import ROOT

REQUIRED_TERMS = {
    "process", "start method", "fork", "spawn", "forkserver", "pickling", "sentinel",
    "feeder thread", "resource tracker", "chunksize", "GIL", "free-threaded build",
    "subinterpreter", "daemon process", "zombie", "pool", "future", "shared memory",
    "manager", "proxy", "race condition", "deadlock", "semaphore", "barrier",
    "copy-on-write", "context",
}
# API names the chapters introduce with {index}; each must be in the built index.
INDEXED_NAMES = {"Process", "Queue", "Pipe", "Pool", "ProcessPoolExecutor", "SharedMemory", "Lock",
                 "Value", "Manager", "Semaphore", "Event", "Condition", "Barrier", "get_context"}
TERM_ROLE = re.compile(r"\{term\}`(?:[^`<]*<([^>`]+)>|([^`<]+))`")


def glossary_terms() -> set[str]:
    """The terms of the {glossary} block in glossary.md: its unindented lines."""
    text = (ROOT / "glossary.md").read_text()
    block = text.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    return {line.strip() for line in block.splitlines() if line.strip() and not line.startswith(" ")}


def test_glossary_defines_the_book_terms():
    missing = REQUIRED_TERMS - glossary_terms()
    assert not missing, f"glossary.md lacks {sorted(missing)}"


def term_uses() -> dict[str, set[str]]:
    """{page: the terms its {term} roles name}, for every chapter and markdown page."""
    uses = {}
    for path in symptom_index.chapters():
        nb = symptom_index.read(path)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        uses[path.stem] = {(a or b).strip() for a, b in TERM_ROLE.findall(text)}
    for path in ROOT.glob("*.md"):
        uses[path.stem] = {(a or b).strip() for a, b in TERM_ROLE.findall(path.read_text())}
    return uses


def test_every_term_role_names_a_glossary_term():
    known = {term.lower() for term in glossary_terms()}  # Sphinx matches terms case-insensitively
    unknown = {page: sorted(t for t in terms if t.lower() not in known) for page, terms in term_uses().items()}
    unknown = {page: terms for page, terms in unknown.items() if terms}
    assert not unknown, f"{{term}} roles with no glossary entry: {unknown}"


def test_every_chapter_links_glossary_terms():
    uses = term_uses()
    bare = [p.stem for p in symptom_index.chapters() if not uses.get(p.stem)]
    assert not bare, f"chapters that link no glossary term with {{term}}: {bare}"


def index_names(html_text: str) -> set[str]:
    """The entries of a built genindex.html (main entries and sub-entries, as text)."""
    body = html_text.split('<h1 id="index">', 1)[-1]
    texts = (html.unescape(re.sub(r"<[^>]+>", "", m)) for m in re.findall(r"<li>(.*?)(?:<ul>|</li>)", body, re.S))
    return {re.sub(r"(,\s*\[\d+\])+$", "", " ".join(text.split())) for text in texts}  # "Queue, [1]": two places


def test_built_book_has_a_general_index_with_terms_and_api(built_book):
    page = built_book / "genindex.html"
    assert page.exists(), "no genindex.html"
    names = index_names(page.read_text())
    missing = (INDEXED_NAMES | REQUIRED_TERMS) - names
    assert not missing, f"the general index lacks {sorted(missing)}"


def test_every_page_links_the_index_glossary_and_symptoms(built_book):
    for path in [*sorted((built_book / "chapters").glob("*.html")), built_book / "intro.html"]:
        text = path.read_text()
        prefix = "../" if path.parent.name == "chapters" else ""
        for target in ("genindex.html", "glossary.html", "symptoms.html"):
            assert f'href="{prefix}{target}"' in text, f"{path.name} does not link {target}"


@pytest.mark.parametrize("page", ["symptoms.html", "glossary.html"])
def test_links_of_the_reference_pages_land_on_an_anchor(built_book, page):
    """Every in-book link of the page points at a page that exists and an id it has."""
    text = (built_book / page).read_text()
    article = text.split('<article class="bd-article"', 1)[1].split("</article>", 1)[0]
    links = re.findall(r'<a class="reference internal" href="([^"#]+)(?:#([^"]+))?"', article)
    assert links, f"{page} has no internal links"
    ids = {}
    for target, anchor in links:
        file = (built_book / target).resolve()
        assert file.exists(), f"{page} links {target}, which was not built"
        if anchor:
            ids.setdefault(file, set(re.findall(r'id="([^"]+)"', file.read_text())))
            assert anchor in ids[file], f"{page} links {target}#{anchor}, an id that page lacks"

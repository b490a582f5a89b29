"""The HTML book builds with zero warnings (-W -n) and contains every chapter."""

from __future__ import annotations

import notebook_rules


def test_book_builds_every_page(built_book):
    assert (built_book / "index.html").exists()
    for page in notebook_rules.toc_files():
        assert (built_book / f"{page}.html").exists(), f"no page for {page}"


def test_exercise_solutions_render_as_dropdowns(built_book):
    html = (built_book / "chapters" / "00-start-here.html").read_text()
    assert 'class="solution dropdown' in html or "solution dropdown" in html
    assert "Size a pool for this machine" in html

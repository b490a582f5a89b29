"""The HTML book builds with zero warnings (-W -n) and contains every chapter."""

from __future__ import annotations

import yaml

from notebook_rules import ROOT


def test_book_builds_every_page(built_book):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert (built_book / "index.html").exists()
    assert (built_book / f"{toc['root']}.html").exists()
    for entry in toc["chapters"]:
        page = built_book / f"{entry['file']}.html"
        assert page.exists(), f"no page for {entry['file']}"


def test_exercise_solutions_render_as_dropdowns(built_book):
    html = (built_book / "chapters" / "00-start-here.html").read_text()
    assert 'class="solution dropdown' in html or "solution dropdown" in html
    assert "Size a pool for this machine" in html

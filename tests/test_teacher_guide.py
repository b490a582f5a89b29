"""The teacher's guide: its tables are current, its plans add up the chapters' stated times and fit."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

import notebook_rules
import teacher_guide
from notebook_rules import ROOT


def test_the_committed_guide_is_current():
    text = teacher_guide.PAGE.read_text()
    assert teacher_guide.render(text) == text, "teachers-guide.md is not current: run `python scripts/teacher_guide.py`"


def test_every_generated_block_is_on_the_page():
    names = set(re.findall(r"<!-- generated: ([\w-]+) -->", teacher_guide.PAGE.read_text()))
    assert names == set(teacher_guide.blocks()), names


def test_the_guide_is_in_the_toc_and_linked_from_readme_and_intro():
    assert "teachers-guide" in notebook_rules.toc_files()
    assert "teachers-guide.md" in (ROOT / "README.md").read_text()
    assert "{doc}`teachers-guide`" in (ROOT / "intro.md").read_text()


def test_the_guide_links_the_symptom_index():
    assert "{doc}`symptoms`" in teacher_guide.PAGE.read_text()
    assert (ROOT / "symptoms.md").exists()


@pytest.mark.parametrize(("name", "title", "sessions"), teacher_guide.PLANS, ids=[p[0] for p in teacher_guide.PLANS])
def test_each_plan_fits_its_sessions_and_adds_up_the_stated_times(name, title, sessions):
    found = teacher_guide.chapters()
    days, rest = teacher_guide.schedule(found, sessions)
    taught = []
    for rows, length in zip(days, sessions):
        starts = [start for start, *_ in rows]
        assert starts == sorted(starts)
        for (start, _, minutes, _), following in zip(rows, rows[1:] + [None]):
            if following:
                assert start + minutes == following[0], "rows follow each other without gaps"
        last_start, _, last_minutes, _ = rows[-1]
        assert last_start + last_minutes <= teacher_guide.START_CLOCK + length, f"{name} overruns its session"
        taught += [(item, minutes) for _, item, minutes, _ in rows if item.startswith("[")]
    # every chapter once, in order, at the minutes it states; the rest are listed as left over
    placed = [f"[{c['title']}]({c['path']})" for c in found[: len(taught)]]
    assert [item for item, _ in taught] == placed
    assert [m for _, m in taught] == [c["minutes"] for c in found[: len(taught)]]
    assert rest == found[len(taught):]
    assert taught, f"{name}: not even the first chapter fits"


def test_schedule_puts_a_break_after_ninety_minutes_and_lunch_after_three_hours():
    chapters = [{"title": f"C{i}", "path": f"chapters/{i:02d}-c.ipynb", "minutes": 50, "exercises": 1} for i in range(8)]
    [day], rest = teacher_guide.schedule(chapters, [450])
    items = [item for _, item, _, _ in day]
    assert items.index("Break") == 3 and "Lunch" in items  # after 100 minutes, not before
    assert not any(a == b == "Break" for a, b in zip(items, items[1:]))
    assert rest  # 8 x 50 minutes and the breaks do not fit in one day


def test_the_nbgitpuller_link_comes_from_config():
    config = notebook_rules.config()
    text = teacher_guide.links_text()
    link = re.search(r"(\S+/hub/user-redirect/git-pull\?\S+)", text).group(1)
    query = parse_qs(urlparse(link).query)
    assert query["repo"] == [config["repository"]["url"]]
    assert query["branch"] == [config["repository"].get("branch", "main")]
    folder = config["repository"]["url"].rstrip("/").rsplit("/", 1)[-1]
    assert query["urlpath"][0].startswith(f"lab/tree/{folder}/chapters/")
    assert link.startswith(config["launch_buttons"]["jupyterhub_url"].rstrip("/"))

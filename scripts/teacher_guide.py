"""Regenerate the tables of the teacher's guide (teachers-guide.md) from the chapters.

    python scripts/teacher_guide.py           # rewrite the generated parts of the page
    python scripts/teacher_guide.py --check   # exit 1 if the page is not current

The page is written by hand except between ``<!-- generated: NAME -->`` and
``<!-- end generated: NAME -->`` lines, which this script fills from the chapters'
stated times (``About N minutes``, derived by the execute script from a timed run:
``notebook_rules.timed_minutes``), their exercises, and ``_config.yml``'s repository
settings (the Binder and nbgitpuller links). The execute script runs it after every
run, and a test checks that the committed page is current.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import quote

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import notebook_rules  # noqa: E402
from notebook_rules import ROOT  # noqa: E402

PAGE = ROOT / "teachers-guide.md"
_BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end generated: (?P=name) -->)", re.DOTALL)

# The fixed parts of every session, in minutes (the chapters' own times come from the notebooks).
OPENING_MINUTES = 10  # welcome, open Binder or the hub, run the first cell together
CLOSING_MINUTES = 5  # questions, where to go on
BREAK_MINUTES = 15
LUNCH_MINUTES = 60
BREAK_AFTER_MINUTES = 90  # a break at the first chapter boundary after this much teaching
# (name, title, [session lengths in minutes]); a day of the two-day course runs 9:00 to 16:30.
PLANS = [
    ("90-minutes", "A 90-minute session", [90]),
    ("half-day", "A half day (3.5 hours)", [210]),
    ("two-days", "Two days", [450, 450]),
]
START_CLOCK = 9 * 60  # sessions are written as if they start at 9:00


def chapters() -> list[dict]:
    """Return each chapter of ``_toc.yml`` with its title, stated minutes, exercises and timed parts."""
    found = []
    for path in notebook_rules.toc_notebooks():
        if not path.parent.name == "chapters":
            continue
        nb = nbformat.read(path, as_version=4)
        title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip() if nb.cells else path.stem
        found.append({
            "path": path.relative_to(ROOT).as_posix(),
            "title": title,
            "minutes": notebook_rules.stated_minutes(nb),
            "exercises": notebook_rules.exercise_count(nb),
            "parts": notebook_rules.time_parts(nb),
        })
    return found


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def _link(chapter: dict) -> str:
    return f"[{chapter['title']}]({chapter['path']})"


def schedule(chapters_in_order: list[dict], sessions: list[int]) -> tuple[list[list[tuple]], list[dict]]:
    """Pack the chapters, in order, into sessions of the given lengths.

    Each session opens (OPENING_MINUTES) and closes (CLOSING_MINUTES); a break comes at
    the first chapter boundary after BREAK_AFTER_MINUTES of teaching, and the first break
    after three hours of a session is lunch. A chapter that does not fit what is left of
    a session goes to the next; the chapters that fit in none are returned as the rest.
    Returns (sessions as lists of (start, item, minutes, exercises) rows, rest).
    """
    todo = list(chapters_in_order)
    days = []
    for length in sessions:
        rows, now, since_break, lunch_taken = [], START_CLOCK, 0, False
        rows.append((now, "Welcome; everyone opens the book on Binder or the hub and runs the first cell", OPENING_MINUTES, ""))
        now += OPENING_MINUTES
        end = START_CLOCK + length
        while todo:
            chapter = todo[0]
            pause = 0
            if since_break >= BREAK_AFTER_MINUTES:
                lunch = not lunch_taken and now - START_CLOCK >= 180 and length >= 360
                pause = LUNCH_MINUTES if lunch else BREAK_MINUTES
            if now + pause + chapter["minutes"] + CLOSING_MINUTES > end:
                break
            if pause:
                rows.append((now, "Lunch" if pause == LUNCH_MINUTES else "Break", pause, ""))
                lunch_taken = lunch_taken or pause == LUNCH_MINUTES
                now += pause
                since_break = 0
            rows.append((now, _link(chapter), chapter["minutes"], str(chapter["exercises"])))
            now += chapter["minutes"]
            since_break += chapter["minutes"]
            todo.pop(0)
        rows.append((now, "Questions; what to read next", CLOSING_MINUTES, ""))
        days.append(rows)
    return days, todo


def chapter_table(found: list[dict]) -> str:
    lines = [
        "| Chapter | Stated time | Reading | Running | Exercises |",
        "|---|---:|---:|---:|---:|",
    ]
    for chapter in found:
        parts = chapter["parts"]
        if parts:
            reading, running = f"{parts['reading']:.0f} min", f"{parts['running']:.1f} min"
            exercises = f"{chapter['exercises']} × {notebook_rules.EXERCISE_MINUTES} min"
        else:
            reading = running = "not timed yet"
            exercises = str(chapter["exercises"])
        lines.append(f"| {_link(chapter)} | {chapter['minutes']} min | {reading} | {running} | {exercises} |")
    total = sum(c["minutes"] or 0 for c in found)
    lines.append(f"| All chapters | {total} min ({total / 60:.1f} h) | | | {sum(c['exercises'] for c in found)} |")
    untimed = [c["path"] for c in found if not c["parts"]]
    note = ""
    if untimed:
        note = ("\n\nNot timed yet (their stated time is still the author's estimate until `make execute` runs them): "
                + ", ".join(f"`{p}`" for p in untimed) + ".")
    return "\n".join(lines) + note


def plan_text(title: str, sessions: list[int], found: list[dict]) -> str:
    days, rest = schedule(found, sessions)
    out = []
    for number, rows in enumerate(days, 1):
        if len(days) > 1:
            out.append(f"**Day {number}** ({_clock(START_CLOCK)} to {_clock(START_CLOCK + sessions[number - 1])})\n")
        out.append("| Start | What | Minutes | Exercises |")
        out.append("|---|---|---:|---:|")
        out += [f"| {_clock(start)} | {item} | {minutes} | {ex} |" for start, item, minutes, ex in rows]
        taught = sum(m for _, item, m, _ in rows if item.startswith("["))
        spare = START_CLOCK + sessions[number - 1] - (rows[-1][0] + rows[-1][2])
        out.append("")
        out.append(f"Chapters: {taught} minutes; {spare} minutes to spare for questions and slower exercises.\n")
    if rest:
        out.append("Not in this plan (homework, or a next session): " + ", ".join(_link(c) for c in rest) + ".")
    else:
        out.append("Every chapter fits.")
    return "\n".join(out).rstrip()


def links_text() -> str:
    config = notebook_rules.config()
    repo = config["repository"]
    url, branch = repo["url"].rstrip("/"), repo.get("branch", "main")
    buttons = config.get("launch_buttons", {})
    hub = buttons.get("jupyterhub_url", "https://YOUR-HUB.example.org").rstrip("/")
    binder = buttons.get("binderhub_url", "https://mybinder.org").rstrip("/")
    owner_repo = url.split("github.com/", 1)[-1]
    folder = owner_repo.rsplit("/", 1)[-1]
    first = chapters()[0]["path"]  # the first chapter of the toc
    pull = (f"{hub}/hub/user-redirect/git-pull?repo={quote(url, safe='')}&branch={quote(branch)}"
            f"&urlpath={quote(f'lab/tree/{folder}/{first}', safe='')}")
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    return "\n".join([
        f"- Binder: <{binder}/v2/gh/{owner_repo}/{branch}?urlpath={quote(f'lab/tree/{first}', safe='')}>",
        f"- JupyterHub with nbgitpuller (replace `{hub}` with your hub's address):",
        "",
        "  ```text",
        f"  {pull}",
        "  ```",
        "",
        f"  The first click clones `{url}` (branch `{branch}`) into the folder `{folder}/` of each learner's home "
        f"and opens `{first}`; later clicks pull new commits into it.",
        f"- Binder's Python: `{runtime}` (`binder/runtime.txt`; repo2docker installs conda-forge's build of it), "
        f"the version the stored outputs were made with (CPython {notebook_rules.REFERENCE_PYTHON}).",
    ])


def reference_text() -> str:
    stored = sorted((ROOT / "chapters" / "data").glob("speedup-reference*.json"))
    if stored:
        names = ", ".join(f"`chapters/data/{p.name}`" for p in stored)
        return (f"The speedup chapter draws the stored reference curve ({names}) next to what Binder measures, "
                "with the machine it was measured on.")
    return ("No reference curve is stored with this edition (`chapters/data/` has no `speedup-reference*.json`): "
            "on Binder the speedup chapter says so and draws only what the learner's one CPU measured. "
            "Show the class a run on a machine with more cores (yours), or the figures of the HTML book.")


def blocks() -> dict[str, str]:
    found = chapters()
    made = {"chapters": chapter_table(found), "links": links_text(), "reference": reference_text()}
    for name, title, sessions in PLANS:
        made[f"plan-{name}"] = plan_text(title, sessions, found)
    return made


def render(text: str) -> str:
    """Return ``text`` with every generated block filled in; a block the script does not know is an error."""
    made = blocks()

    def fill(match: re.Match) -> str:
        name = match.group("name")
        if name not in made:
            raise ValueError(f"teachers-guide.md has a generated block {name!r} this script does not make")
        return f"{match.group(1)}{made[name]}\n{match.group(4)}"

    return _BLOCK.sub(fill, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the page is not current")
    args = parser.parse_args(argv)
    text = PAGE.read_text()
    new = render(text)
    if args.check:
        if new != text:
            print(f"{PAGE.name} is not current: run `python scripts/teacher_guide.py`", file=sys.stderr)
            return 1
        return 0
    if new != text:
        PAGE.write_text(new)
        print(f"rewrote the tables of {PAGE.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

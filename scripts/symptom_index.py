"""What the symptom index (symptoms.md) must cover, read from the chapters.

A learner arrives with a symptom: an error message, a warning, a cell that never
finishes. ``symptoms.md`` is written by hand, one line per symptom that starts with the
text the learner sees and links with ``{ref}`` to the section with the cause and the fix.
This module finds what it must cover, so that a test fails when a chapter gains a
pitfall or an error output that the page does not list:

- every pitfall admonition (a directive whose title starts with "Pitfall", or a
  "Pitfall:" heading), which must carry a name (``:name: pitfall-...``, or a
  ``(pitfall-...)=`` target above the heading) that some entry links to;
- every error a chapter's stored outputs show: an error output (``ename: evalue``), and
  the exception, warning or ``resource_tracker:`` lines of its stream outputs. An
  error output, a line on stderr and a resource-tracker line need an entry with the
  same message (addresses, numbers and quoted names may differ); a line that a cell
  printed itself (stdout) needs an entry that names the exception. In both cases the
  entry must link to a label in that chapter.

Run it to list what is missing: ``python scripts/symptom_index.py``.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "symptoms.md"

FENCE_OPEN = re.compile(r"^(`{3,}|~{3,}|:{3,})\{([\w-]+)\}\s*(.*)$")
PITFALL_TITLE = re.compile(r"^pitfall\b", re.I)
PITFALL_HEADING = re.compile(r"^#{1,6}\s+Pitfall:", re.I)
TARGET = re.compile(r"^\(([\w.:-]+)\)=\s*$")
OPTION_LABEL = re.compile(r"^:(?:name|label):\s*(\S+)\s*$")
REF = re.compile(r"\{ref\}`(?:[^`<]*<([^>`]+)>|([^`<]+))`")
EXCEPTION = re.compile(
    r"(?<![\w.])((?:[a-z_][\w]*\.)*(?:[A-Z]\w*(?:Error|Exception|Warning)|KeyboardInterrupt|SystemExit"
    r"|BrokenProcessPool|BrokenExecutor|queue\.Full|queue\.Empty))(?![\w])(:[ \t]*(.*))?"
)
TRACKER = re.compile(r"resource_tracker: .*")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Pitfall:
    chapter: str  # the notebook's stem
    title: str
    name: str | None  # the label an entry links to


@dataclass(frozen=True)
class ShownError:
    chapter: str
    cell: int  # index of the code cell in the notebook
    text: str  # what an entry must contain: "Name: message", or "Name" for a cell's own print
    line: str  # the output line it came from, for the report


@dataclass(frozen=True)
class Entry:
    group: str  # the "##" heading it is under
    text: str  # the whole line
    labels: tuple[str, ...]  # the {ref} targets, in order


def chapters() -> list[Path]:
    return sorted((ROOT / "chapters").glob("*.ipynb"))


def read(path: Path):
    return nbformat.read(path, as_version=4)


def normalise(text: str) -> str:
    """Make a message comparable with an entry: what differs between runs and machines
    (addresses, numbers, quoted names, ``<...>`` reprs) becomes ``…``; code marks and
    extra spaces go."""
    text = ANSI.sub("", text).replace("`", "")
    text = re.sub(r"0x[0-9a-fA-F]+", "0x…", text)
    text = re.sub(r"(?<!\w)'[^'\n]*'(?!\w)", "'…'", text)
    text = re.sub(r'(?<!\w)"[^"\n]*"(?!\w)', '"…"', text)
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"<[^<>]*>", "<…>", text)
    text = re.sub(r"\d+", "…", text)
    text = re.sub(r"…+", "…", text)
    return " ".join(text.split())


def labels(nb) -> set[str]:
    """Every label a {ref} can name in a notebook's markdown: ``(x)=`` targets, and the
    ``:name:`` or ``:label:`` of directives."""
    found = set()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                match = TARGET.match(line.strip()) or OPTION_LABEL.match(line.strip())
                if match:
                    found.add(match.group(1))
    return found


def page_labels(path: Path) -> set[str]:
    """The ``(x)=`` targets of a markdown page."""
    return {m.group(1) for line in path.read_text().splitlines() if (m := TARGET.match(line.strip()))}


def pitfalls(nb, chapter: str) -> list[Pitfall]:
    """Every pitfall admonition (or "Pitfall:" heading) of a notebook, with its label."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for i, line in enumerate(lines):
            opened = FENCE_OPEN.match(line.strip())
            if opened and PITFALL_TITLE.match(opened.group(3)):
                name = None
                for option in lines[i + 1:]:
                    if not option.startswith(":") or option.startswith(":::"):
                        break
                    if option.startswith(":name:"):
                        name = option.split(":", 2)[2].strip()
                found.append(Pitfall(chapter, opened.group(3), name))
            elif PITFALL_HEADING.match(line):
                target = TARGET.match(lines[i - 1].strip()) if i else None
                found.append(Pitfall(chapter, line.lstrip("#").strip(), target.group(1) if target else None))
    return found


def _stream_errors(text: str, with_message: bool) -> list[tuple[str, str]]:
    """(what an entry must contain, the line) for each exception or warning in a stream."""
    found = []
    lines = ANSI.sub("", text).splitlines()
    for i, line in enumerate(lines):
        for match in EXCEPTION.finditer(line):
            name, colon, message = match.group(1), match.group(2), (match.group(3) or "").strip()
            if with_message and colon is not None:
                if not message:  # "RuntimeError:" and the message on the next lines
                    message = next((later.strip() for later in lines[i + 1:] if later.strip()), "")
                found.append((f"{name}: {message}".strip(), line))
            else:
                found.append((name, line))
        tracker = TRACKER.search(line)
        if tracker:
            found.append((tracker.group(0), line))
    return found


def shown_errors(nb, chapter: str) -> list[ShownError]:
    """Every error, exception or warning that a notebook's stored outputs show."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            if output.output_type == "error":
                message = ANSI.sub("", output.evalue).strip().splitlines()
                text = f"{output.ename}: {message[0]}" if message else output.ename
                found.append(ShownError(chapter, index, text, text))
            elif output.output_type == "stream":
                for text, line in _stream_errors(output.text, with_message=output.name == "stderr"):
                    found.append(ShownError(chapter, index, text, line.strip()))
    return found


def entries(page: Path = PAGE) -> list[Entry]:
    """The entries of the symptom index: the list items, with the group they are in."""
    found, group = [], ""
    for line in page.read_text().splitlines():
        if line.startswith("## "):
            group = line[3:].strip()
        elif line.startswith("- "):
            found.append(Entry(group, line, tuple(a or b for a, b in REF.findall(line))))
    return found


def problems(notebooks: dict[str, object] | None = None, page: Path = PAGE) -> list[str]:
    """Everything the symptom index misses or gets wrong, one sentence each ([] when none).

    ``notebooks`` maps a chapter's stem to its notebook (default: every chapter)."""
    if notebooks is None:
        notebooks = {path.stem: read(path) for path in chapters()}
    where = {}  # label -> chapter
    for chapter, nb in notebooks.items():
        for label in labels(nb):
            where[label] = chapter
    known = set(where) | page_labels(page) | page_labels(ROOT / "glossary.md")
    listed = entries(page)
    out = []
    for entry in listed:
        if not entry.labels:
            out.append(f"symptoms.md: the entry {entry.text[:70]!r} links nowhere (add a {{ref}} to a label)")
        for label in entry.labels:
            if label not in known:
                out.append(f"symptoms.md: the entry {entry.text[:70]!r} links to {label!r}, which no chapter defines")
    linked = {label for entry in listed for label in entry.labels}
    for chapter, nb in notebooks.items():
        for pitfall in pitfalls(nb, chapter):
            if not pitfall.name:
                out.append(f"{chapter}: the pitfall {pitfall.title!r} has no :name: (add one, e.g. :name: pitfall-...)")
            elif pitfall.name not in linked:
                out.append(f"{chapter}: the pitfall {pitfall.title!r} ({pitfall.name}) has no entry in symptoms.md")
        for shown in shown_errors(nb, chapter):
            wanted = normalise(shown.text)
            matching = [e for e in listed if wanted in normalise(e.text)]
            if not matching:
                out.append(f"{chapter}, cell {shown.cell}: no entry in symptoms.md contains {shown.text!r} (shown as {shown.line!r})")
            elif not any(where.get(label) == chapter for e in matching for label in e.labels):
                out.append(f"{chapter}, cell {shown.cell}: the entries for {shown.text!r} link to no label in this chapter")
    return out


if __name__ == "__main__":
    found = problems()
    print("\n".join(found) or "symptoms.md covers every pitfall and every error output")
    sys.exit(1 if found else 0)

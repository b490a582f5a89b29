"""Reference curves: a benchmark result stored as data, with where, when and how it was measured.

The speedup chapter measures on the reader's machine, which often has 2 to 8
CPUs. To show what the same benchmark does on a machine with many cores, the
book stores such a run next to the chapters: ``python -m helpers.lab.bench
--save-reference FILE`` writes the result and its provenance (CPU model, cores,
Python, date, the command) as JSON, and :func:`load_reference` reads it back as a
:class:`~helpers.lab.bench_results.BenchResult`. Nothing here measures or draws.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from pathlib import Path

from helpers.lab.bench_results import BenchResult, Row
from helpers.lab.provenance import describe_provenance, load_json, provenance, save_json

__all__ = ["describe_provenance", "find_reference", "load_reference", "save_reference"]

FORMAT = 1  # bumped when the file layout changes


def save_reference(result: BenchResult, path: str | os.PathLike[str], command: str | None = None) -> Path:
    """Write ``result`` and its provenance to ``path`` as JSON (folders created); return the path."""
    if not isinstance(result, BenchResult):
        raise TypeError(f"result must be a BenchResult, got {type(result).__name__}")
    command = command if command is not None else "python -m helpers.lab.bench " + " ".join(sys.argv[1:])
    prov = provenance(command, result.load, start_method=result.start_method)
    return save_json(path, FORMAT, prov, result=asdict(result))


def load_reference(path: str | os.PathLike[str]) -> tuple[BenchResult, dict[str, object]]:
    """Return the stored result and its provenance; ``ValueError`` names what is wrong with the file."""
    data = load_json(path, FORMAT, "a reference curve")
    try:
        fields = dict(data["result"])
        fields["rows"] = tuple(Row(**{**row, "samples": tuple(row["samples"])}) for row in fields["rows"])
        return BenchResult(**fields), dict(data["provenance"])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"{path} is not a reference curve of this book: {error}") from error


def find_reference(folder: str | os.PathLike[str], pattern: str = "speedup-reference*.json"):
    """Return ``(result, provenance)`` of the newest reference file in ``folder``, or ``None`` if there is none."""
    found = sorted(Path(folder).glob(pattern))
    if not found:
        return None
    return max((load_reference(p) for p in found), key=lambda pair: str(pair[1].get("date", "")))

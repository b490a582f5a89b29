"""Reference data for the parallel-models chapter: a run under another interpreter, stored with its provenance.

A reader's Python may have the GIL, or lack subinterpreters. The chapter then shows
runs stored next to it in ``chapters/data/``: ``python -m helpers.lab.model_reference
--save-reference FILE`` measures every workload under each model the interpreter
runs, the lock-free counter race and the interpreter's imports, and writes them
with where, when and how they were measured (the build, ``Py_GIL_DISABLED``,
``sys._is_gil_enabled()`` after the imports, CPUs, load, date, the command).
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from pathlib import Path

from helpers.lab.bench_results import Row
from helpers.lab.machine import load_average
from helpers.lab.models import WORKLOADS, ModelRun, available_models, costs, count_race, measure
from helpers.lab.provenance import build_label, describe_provenance, load_json, provenance, save_json

__all__ = ["describe_provenance", "find_references", "load_reference", "main", "measure_reference", "save_reference"]

FORMAT = 2  # 2: the common provenance of helpers.lab.provenance
PATTERN = "parallel-models-*.json"
IMPORTS = ("numpy", "psutil")  # the extension modules the chapter imports; the GIL is read after them


def measured_provenance(command: str, load_before: float | None) -> dict[str, object]:
    """Return the provenance of a run, read after importing :data:`IMPORTS` (one may turn the GIL back on)."""
    for name in IMPORTS:
        __import__(name)
    return provenance(command, load_before, imports=list(IMPORTS))


def measure_reference(workers: int = 2, repeats: int = 5) -> dict[str, object]:
    """Measure every workload under each model available here, and the counter race; return the data."""
    load = load_average()
    runs = [measure(name, workers=workers, repeats=repeats) for name in WORKLOADS]
    race = count_race()
    cost = costs(workers=4, repeats=3)
    summary = [f"{build_label()}, {workers} workers, median of {repeats}"]
    for run in runs:
        parts = [f"{row.kind} {run.speedup(row.kind):.2f}x" for row in run.rows if row.kind != "serial"]
        summary.append(f"{run.workload}: serial {run.row('serial').seconds:.3f} s; " + ", ".join(parts))
    summary.append(f"counter race: {race['lost']} of {race['expected']} additions lost")
    return {
        "format": FORMAT,
        "provenance": measured_provenance("", load),
        "models": list(available_models()),
        "runs": [asdict(run) for run in runs],
        "race": race,
        "costs": cost,
        "summary": summary,
    }


def save_reference(data: dict, path: str | os.PathLike[str], command: str) -> Path:
    """Write ``data`` (from :func:`measure_reference`) with ``command`` in its provenance; return the path."""
    run = {k: v for k, v in data.items() if k not in ("format", "provenance")}
    return save_json(path, FORMAT, {**data["provenance"], "command": command}, **run)


def _run(fields: dict) -> ModelRun:
    rows = tuple(Row(**{**row, "samples": tuple(row["samples"])}) for row in fields["rows"])
    return ModelRun(fields["workload"], fields["workers"], rows, tuple(fields["results"]), fields["gil"])


def load_reference(path: str | os.PathLike[str]) -> dict[str, object]:
    """Return stored data with its runs as :class:`~helpers.lab.models.ModelRun`; ``ValueError`` says what is wrong."""
    what = "parallel-models reference data"
    data = load_json(path, FORMAT, what)
    try:
        return {**data, "runs": {run["workload"]: _run(run) for run in data["runs"]}}
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"{path} is not {what} of this book: {error}") from error


def find_references(folder: str | os.PathLike[str]) -> dict[str, dict]:
    """Return every stored run in ``folder``, keyed by its build label (``"CPython 3.13.15 (free-threaded, GIL off)"``)."""
    return {data["provenance"]["build"]: data for data in map(load_reference, sorted(Path(folder).glob(PATTERN)))}


def main(argv: list[str] | None = None) -> int:
    """Command line: measure every workload under every model here; with --save-reference, store it."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m helpers.lab.model_reference", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--save-reference", metavar="FILE", help="store the run with its provenance as JSON")
    args = parser.parse_args(argv)
    data = measure_reference(workers=args.workers, repeats=args.repeats)
    for line in data["summary"]:
        print(line)
    if args.save_reference:
        command = "python -m helpers.lab.model_reference " + " ".join(argv if argv is not None else sys.argv[1:])
        print(f"saved {save_reference(data, args.save_reference, command)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

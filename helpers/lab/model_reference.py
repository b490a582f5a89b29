"""Reference data for the parallel-models chapter: a run under another interpreter, stored with its provenance.

A reader's Python may have the GIL, or lack subinterpreters. The chapter then shows
runs stored next to it in ``chapters/data/``: ``python -m helpers.lab.model_reference
--save-reference FILE`` measures every workload under each model the interpreter
runs, the lock-free counter race and the interpreter's imports, and writes them
with where, when and how they were measured (the build, ``Py_GIL_DISABLED``,
``sys._is_gil_enabled()`` after the imports, CPUs, load, date, the command).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import sysconfig
from dataclasses import asdict
from pathlib import Path

from helpers.lab.bench_reference import cpu_model
from helpers.lab.bench_results import Row, gil_enabled
from helpers.lab.machine import effective_cpus, load_average, physical_cores
from helpers.lab.models import WORKLOADS, ModelRun, available_models, build_label, costs, count_race, measure

FORMAT = 1
PATTERN = "parallel-models-*.json"
IMPORTS = ("numpy", "psutil")  # the extension modules the chapter imports; the GIL is read after them


def provenance(command: str, load_before: float | None) -> dict[str, object]:
    """Return where, when and how a run was measured, with the interpreter's build and GIL state."""
    for name in IMPORTS:
        __import__(name)  # an extension module without free-threading support turns the GIL back on
    return {
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "build": build_label(),
        "py_gil_disabled": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "config_args": sysconfig.get_config_var("CONFIG_ARGS") or "",
        "gil_enabled_after_imports": gil_enabled(),
        "imports": list(IMPORTS),
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "physical_cores": physical_cores(),
        "effective_cpus": effective_cpus(),
        "os": f"{platform.system()} {platform.release()}",
        "load_before": load_before,
    }


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
        "provenance": provenance("", load),
        "models": list(available_models()),
        "runs": [asdict(run) for run in runs],
        "race": race,
        "costs": cost,
        "summary": summary,
    }


def save_reference(data: dict, path: str | os.PathLike[str], command: str) -> Path:
    """Write ``data`` (from :func:`measure_reference`) with ``command`` in its provenance; return the path."""
    if not command.strip():
        raise ValueError("command must say how the data was made")
    data = {**data, "provenance": {**data["provenance"], "command": command}}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


def _run(fields: dict) -> ModelRun:
    rows = tuple(Row(**{**row, "samples": tuple(row["samples"])}) for row in fields["rows"])
    return ModelRun(fields["workload"], fields["workers"], rows, tuple(fields["results"]), fields["gil"])


def load_reference(path: str | os.PathLike[str]) -> dict[str, object]:
    """Return stored data with its runs as :class:`~helpers.lab.models.ModelRun`; ``ValueError`` says what is wrong."""
    try:
        data = json.loads(Path(path).read_text())
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        if not data["provenance"]["command"]:
            raise ValueError("its provenance names no command")
        return {**data, "runs": {run["workload"]: _run(run) for run in data["runs"]}}
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"{path} is not parallel-models reference data of this book: {error}") from error


def find_references(folder: str | os.PathLike[str]) -> dict[str, dict]:
    """Return every stored run in ``folder``, keyed by its build label (``"CPython 3.13.15 (free-threaded, GIL off)"``)."""
    return {data["provenance"]["build"]: data for data in map(load_reference, sorted(Path(folder).glob(PATTERN)))}


def describe_provenance(data: dict) -> str:
    """Return a stored run's provenance in a few readable lines."""
    prov = data["provenance"]
    return "\n".join([
        f"{prov['build']}: Py_GIL_DISABLED={int(prov['py_gil_disabled'])}, "
        f"sys._is_gil_enabled() after importing {', '.join(prov['imports'])}: {prov['gil_enabled_after_imports']}",
        f"{prov['logical_cpus']} logical CPUs on {prov['physical_cores']} physical cores ({prov['cpu_model']}), "
        f"{prov['os']}, load before {prov['load_before']}",
        f"measured {prov['date']} with: {prov['command']}",
    ])


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

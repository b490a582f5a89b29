"""Reference curves: a benchmark result stored as data, with where, when and how it was measured.

The speedup chapter measures on the reader's machine, which often has 2 to 8
CPUs. To show what the same benchmark does on a machine with many cores, the
book stores such a run next to the chapters: ``python -m helpers.lab.bench
--save-reference FILE`` writes the result and its provenance (CPU model, cores,
Python, date, the command) as JSON, and :func:`load_reference` reads it back as a
:class:`~helpers.lab.bench_results.BenchResult`. Nothing here measures or draws.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from dataclasses import asdict
from pathlib import Path

from helpers.lab.bench_results import BenchResult, Row, gil_enabled
from helpers.lab.machine import effective_cpus, physical_cores

FORMAT = 1  # bumped when the file layout changes


def cpu_model() -> str:
    """Return the CPU's model name where the system tells it (Linux ``/proc/cpuinfo``, else ``platform``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def provenance(command: str, result: BenchResult) -> dict[str, object]:
    """Return where, when and how ``result`` was measured, for the stored file."""
    return {
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "physical_cores": physical_cores(),
        "effective_cpus": effective_cpus(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "gil_enabled": gil_enabled(),
        "os": f"{platform.system()} {platform.release()}",
        "start_method": result.start_method,
        "load_before": result.load,
    }


def save_reference(result: BenchResult, path: str | os.PathLike[str], command: str | None = None) -> Path:
    """Write ``result`` and its provenance to ``path`` as JSON (folders created); return the path."""
    if not isinstance(result, BenchResult):
        raise TypeError(f"result must be a BenchResult, got {type(result).__name__}")
    command = command if command is not None else "python -m helpers.lab.bench " + " ".join(sys.argv[1:])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": FORMAT, "provenance": provenance(command, result), "result": asdict(result)}
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


def load_reference(path: str | os.PathLike[str]) -> tuple[BenchResult, dict[str, object]]:
    """Return the stored result and its provenance; ``ValueError`` names what is wrong with the file."""
    try:
        data = json.loads(Path(path).read_text())
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
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


def describe_provenance(prov: dict[str, object]) -> str:
    """Return the provenance as a few readable lines."""
    cores = prov.get("physical_cores") or "?"
    return "\n".join([
        f"CPU: {prov.get('cpu_model')}, {prov.get('logical_cpus')} logical CPUs on {cores} physical cores "
        f"({prov.get('effective_cpus')} usable)",
        f"Python {prov.get('python')} ({prov.get('implementation')}, GIL {'on' if prov.get('gil_enabled') else 'off'}), "
        f"{prov.get('os')}, {prov.get('start_method')}",
        f"measured {prov.get('date')}, load before {prov.get('load_before')}",
        f"command: {prov.get('command')}",
    ])

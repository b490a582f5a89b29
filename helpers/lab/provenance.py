"""Stored measurements: one file format, and where, when and how each was measured.

The book stores a few runs next to the chapters (``chapters/data/``): a speedup
curve from a machine with many cores (:mod:`helpers.lab.bench_reference`) and the
parallel-models runs of a free-threaded and a GIL build
(:mod:`helpers.lab.model_reference`). Each file is JSON with a ``format`` number, a
``provenance`` made by :func:`provenance` (the command, the date, the CPU, the
interpreter's build and GIL state, the load before measuring) and the run itself.
This module writes and reads that envelope and describes the provenance; the two
modules above convert their own runs. Nothing here measures or draws.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sysconfig
from pathlib import Path

from helpers.lab.bench_results import gil_enabled
from helpers.lab.machine import effective_cpus, physical_cores


def cpu_model() -> str:
    """Return the CPU's model name where the system tells it (Linux ``/proc/cpuinfo``, else ``platform``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def free_threaded_build() -> bool:
    """Return True on a CPython built with ``--disable-gil`` (whether or not the GIL came back on at run time)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def build_label() -> str:
    """Return which Python this is, for titles: ``"CPython 3.14.0 (GIL)"`` or ``"... (free-threaded, GIL off)"``."""
    if free_threaded_build():
        state = "free-threaded, GIL off" if not gil_enabled() else "free-threaded build, GIL re-enabled"
    else:
        state = "GIL"
    return f"{platform.python_implementation()} {platform.python_version()} ({state})"


def provenance(command: str, load_before: float | None, **extra: object) -> dict[str, object]:
    """Return where, when and how a run was measured; ``extra`` adds fields of the run's own.

    Call it after the run's imports: ``gil_enabled`` is read now, and an extension module
    without free-threading support turns the GIL back on when it is imported.
    """
    return {
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "physical_cores": physical_cores(),
        "effective_cpus": effective_cpus(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "build": build_label(),
        "py_gil_disabled": free_threaded_build(),
        "config_args": sysconfig.get_config_var("CONFIG_ARGS") or "",
        "gil_enabled": gil_enabled(),
        "os": f"{platform.system()} {platform.release()}",
        "load_before": load_before,
        **extra,
    }


def save_json(path: str | os.PathLike[str], fmt: int, prov: dict[str, object], **run: object) -> Path:
    """Write ``{"format", "provenance", **run}`` to ``path`` as JSON (folders made); return the path.

    A stored run must say how it was made: ``ValueError`` if the provenance has no command.
    """
    if not str(prov.get("command", "")).strip():
        raise ValueError("the provenance must name the command that made the data")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"format": fmt, "provenance": prov, **run}, indent=1) + "\n")
    return path


def load_json(path: str | os.PathLike[str], fmt: int, what: str) -> dict:
    """Return the stored dict; ``ValueError`` says ``"PATH is not WHAT of this book: why"``.

    ``what`` names the kind of file for the message (``"a reference curve"``).
    """
    try:
        data = json.loads(Path(path).read_text())
        if not isinstance(data, dict) or data.get("format") != fmt:
            raise ValueError(f"format {data.get('format') if isinstance(data, dict) else None!r}, expected {fmt}")
        if not str(data["provenance"]["command"]).strip():
            raise ValueError("its provenance names no command")
        return data
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"{path} is not {what} of this book: {error}") from error


def describe_provenance(prov: dict[str, object]) -> str:
    """Return a provenance (from :func:`provenance`) as a few readable lines."""
    cores = prov.get("physical_cores") or "?"
    load = prov.get("load_before")
    imports = prov.get("imports")
    gil = f"GIL {'on' if prov.get('gil_enabled') else 'off'}"
    if imports:
        gil += f" after importing {', '.join(imports)}"
    lines = [
        f"{prov.get('build', prov.get('python'))}: Py_GIL_DISABLED={int(bool(prov.get('py_gil_disabled')))}, {gil}",
        f"CPU: {prov.get('cpu_model')}, {prov.get('logical_cpus')} logical CPUs on {cores} physical cores "
        f"({prov.get('effective_cpus')} usable), {prov.get('os')}"
        + (f", {prov['start_method']}" if prov.get("start_method") else ""),
        f"measured {prov.get('date')}, "
        + ("load average unknown" if load is None else f"1-minute load average {load:.2f} before"),
        f"command: {prov.get('command')}",
    ]
    return "\n".join(lines)

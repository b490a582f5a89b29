"""The measurements a chapter stores are worth showing: made on a quiet machine, and plausible.

A figure in the built book is the stored run's, so a run made while the machine was busy, or
one whose baseline ran slow, would teach the wrong lesson to every reader of the HTML. These
tests read the tables the speedup chapter printed (nbval compares nothing of them: their cells
are tagged ``nbval-ignore-output``) and fail when they show such a run; the cure is
``make execute NB=chapters/09-measure-speedup.ipynb`` on an idle machine.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from notebook_rules import ROOT

SPEEDUP = ROOT / "chapters" / "09-measure-speedup.ipynb"
MAX_EFFICIENCY = 1.05  # above it, the serial baseline ran slow: noise, not a gain
ROW = re.compile(r"^(serial|threads|processes)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)x\s+([\d.]+)$")
HEADER = re.compile(r"measured on .*?, (\d+) CPUs?\b.*?(?:, load ([\d.]+) before)?$")


def stored_tables(path) -> dict[str, str]:
    """Return the stored text of each cell that prints a benchmark table, keyed by the cell's first line."""
    tables = {}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        if "median s" in text and "efficiency" in text:
            tables[cell.source.splitlines()[0]] = text
    return tables


def parse(text: str) -> tuple[int, float | None, list[tuple[str, int, float]]]:
    """Return (CPUs, load before or None, [(kind, workers, efficiency)]) of one printed table."""
    cpus, load, rows = None, None, []
    for line in text.splitlines():
        if (m := HEADER.search(line)) and cpus is None:
            cpus, load = int(m.group(1)), (float(m.group(2)) if m.group(2) else None)
        if m := ROW.match(line.strip()):
            rows.append((m.group(1), int(m.group(2)), float(m.group(8))))
    assert cpus is not None and rows, f"not a benchmark table:\n{text}"
    return cpus, load, rows


def test_the_parser_reads_a_table_and_refuses_other_text():
    text = (
        "count primes (pure Python), 96 tasks of size 30,000\n"
        "chunksize 1; measured on Python 3.14.0, 2 CPUs, Linux, spawn, load 0.12 before\n"
        "kind       workers  median s    min s    max s  start-up s  speedup  efficiency\n"
        "serial           1     0.841    0.823    1.224       0.000    1.00x        1.00\n"
        "processes        2     0.430    0.420    0.450       0.158    1.96x        0.98\n"
    )
    assert parse(text) == (2, 0.12, [("serial", 1, 1.0), ("processes", 2, 0.98)])
    with pytest.raises(AssertionError, match="not a benchmark table"):
        parse("hello")


@pytest.fixture(scope="module")
def cpu_table():
    tables = stored_tables(SPEEDUP)
    (key,) = [k for k in tables if k.startswith('cpu = run_bench("cpu"')]
    return parse(tables[key])


def test_the_stored_sweep_was_measured_on_a_quiet_machine(cpu_table):
    cpus, load, _ = cpu_table
    assert load is not None, "the stored table does not say the load it was measured under"
    assert load < cpus / 2, f"the stored sweep ran at a load of {load} on {cpus} CPUs: re-execute on an idle machine"


def test_no_stored_efficiency_exceeds_what_noise_allows(cpu_table):
    _, _, rows = cpu_table
    too_high = [(kind, n, e) for kind, n, e in rows if e > MAX_EFFICIENCY]
    assert not too_high, f"efficiency above {MAX_EFFICIENCY} (a slow baseline, not a gain): {too_high}"

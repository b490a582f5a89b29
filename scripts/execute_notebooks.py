"""Execute chapter notebooks in place: the only way the book's stored outputs are made.

    python scripts/execute_notebooks.py                 # every chapter in _toc.yml
    python scripts/execute_notebooks.py chapters/00-*.ipynb

    python scripts/execute_notebooks.py --check         # refuse outputs it did not make
    python scripts/execute_notebooks.py --times         # only rewrite the stated times (after a text edit)

Before running a notebook it rewrites the two things the project derives rather
than edits by hand: the setup cell (from ``repository`` in ``_config.yml``) and
the hidden source of solution cells. It then runs every cell with the kernel of
this environment, in the notebook's folder, with a per-cell timeout, and stores
the outputs and the widget state, with the paths of this machine replaced by
placeholders (the ``[path-*]`` rules of tests/nbval_sanitize.cfg), and stamps the
notebook with a digest of its code and outputs and the seconds the run took. From
those seconds and the chapter's words and exercises it rewrites the chapter's stated
time, "About N minutes" (``notebook_rules.timed_minutes``), and after a run it
regenerates the teacher's guide, whose schedules add those times up
(scripts/teacher_guide.py). ``--check`` (run by ``make book``)
refuses a notebook whose outputs were not made so: run and saved in Jupyter, or
saved without its widget state, or made with another Python or start method than
the reference ones (``REFERENCE_PYTHON`` in notebook_rules.py). ``make execute`` runs it
under the reference Python, providing one where the machine lacks it.

To see a chapter under another Python or start method (``MP_BOOK_START_METHOD``, see
helpers/lab/book.py), add ``--any-python``; never commit what that makes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
from nbclient import NotebookClient
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

sys.path.insert(0, str(Path(__file__).resolve().parent))
import notebook_rules  # noqa: E402

CELL_TIMEOUT_S = 120


def execute(path: Path) -> float:
    """Execute one notebook in place and return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    notebook_rules.apply(nb)
    km = KernelManager(
        kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager()
    )
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
        record_timing=False,
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    start = time.perf_counter()
    try:
        client.execute(env=env)
    finally:  # nbclient leaves a kernel it did not create running: shut it down as Jupyter would
        if km.has_kernel:
            km.shutdown_kernel(now=False)
    elapsed = time.perf_counter() - start
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook_rules.strip_output_paths(nb)
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)  # the digest is of what the file will hold
    notebook_rules.stamp(nb, execution_seconds=elapsed)
    minutes = notebook_rules.timed_minutes(nb)
    if not notebook_rules.set_stated_minutes(nb, minutes):
        print(f'  no "About N minutes" under "{notebook_rules.WHAT_YOU_NEED}": the chapter takes about {minutes} minutes',
              flush=True)
    nbformat.write(nb, path)
    return elapsed


def shown(path: Path) -> str:
    """Return ``path`` relative to the book when it lies inside it, as the output should show it."""
    try:
        return str(path.resolve().relative_to(notebook_rules.ROOT))
    except ValueError:
        return str(path)


def check(paths: list[Path]) -> int:
    """Print each notebook whose outputs the execute script did not make; return the exit status."""
    refused = 0
    for path in paths:
        for problem in notebook_rules.provenance_problems(nbformat.read(path, as_version=4)):
            refused += 1
            print(f"{shown(path)}: {problem}", file=sys.stderr)
    if refused:
        print(f"Refusing to build: run `{notebook_rules.EXECUTE_COMMAND}` (or `make execute NB=<chapter>`) "
              "so the stored outputs are made by the execute script.", file=sys.stderr)
    return 1 if refused else 0


def retime(paths: list[Path]) -> int:
    """Rewrite the stated time of each timed chapter (its words may have changed), then the teacher's guide."""
    import teacher_guide

    for path in paths:
        nb = nbformat.read(path, as_version=4)
        minutes = notebook_rules.timed_minutes(nb)
        if minutes is None:
            print(f"{shown(path)}: no timed run stored; run `make execute NB={shown(path)}`", file=sys.stderr)
        elif minutes != notebook_rules.stated_minutes(nb) and notebook_rules.set_stated_minutes(nb, minutes):
            nbformat.write(nb, path)
            print(f"{shown(path)}: about {minutes} minutes")
    return teacher_guide.main([])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter in _toc.yml")
    parser.add_argument("--check", action="store_true", help="execute nothing; refuse outputs the script did not make")
    parser.add_argument("--times", action="store_true",
                        help="execute nothing; rewrite each chapter's stated time from its stored timed run "
                             "(after an edit of its text) and the teacher's guide")
    parser.add_argument("--any-python", action="store_true",
                        help="execute under this Python and start method even if they are not the reference ones")
    args = parser.parse_args(argv)
    paths = args.notebooks or notebook_rules.toc_notebooks()
    for path in paths:
        if path.suffix != ".ipynb" or not path.is_file():
            parser.error(f"not a notebook file: {path}")
    if args.check:
        return check(paths)
    if args.times:
        return retime(paths)
    here = notebook_rules.reference_problems(notebook_rules.this_run())
    if here and not args.any_python:
        parser.error("the stored outputs would be " + "; ".join(here)
                     + f": run `{notebook_rules.EXECUTE_COMMAND}` (it provides the reference Python), or add --any-python")
    for path in paths:
        print(f"executing {shown(path)} ...", flush=True)
        print(f"  done in {execute(path):.1f} s", flush=True)
    import teacher_guide  # its tables add up the stated times just rewritten

    return teacher_guide.main([])


if __name__ == "__main__":
    raise SystemExit(main())

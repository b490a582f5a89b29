"""Binder builds the book as a classroom uses it: repo2docker's Dockerfile, read without Docker.

``repo2docker --no-build --debug`` prints the Dockerfile it would build. The checks: the
requirements are installed in a layer of their own before the repository is copied in
(so a commit that changes a chapter reuses the cached layer), the helpers are installed
after it (binder/postBuild), and the Python is the one the stored outputs were made with.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import notebook_rules
from notebook_rules import ROOT

REPO2DOCKER = Path(sys.executable).parent / "repo2docker"


def dockerfile(folder: Path) -> str:
    """Return what ``repo2docker --no-build --debug folder`` prints (the Dockerfile, and its log)."""
    command = str(REPO2DOCKER) if REPO2DOCKER.exists() else shutil.which("repo2docker")
    if not command:
        pytest.skip("repo2docker is not installed: pip install -r requirements-dev.txt")
    done = subprocess.run([command, "--no-build", "--debug", str(folder)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def check_binder_build(text: str) -> None:
    lines = text.splitlines()

    def first(pattern: str) -> int:
        found = [i for i, line in enumerate(lines) if re.search(pattern, line)]
        assert found, f"no line matches {pattern!r} in repo2docker's Dockerfile"
        return found[0]

    copy_requirements = first(r"^COPY .*src/binder/requirements\.txt ")
    install = first(r"^RUN .*pip install .*-r \"?binder/requirements\.txt")
    copy_repository = first(r"^COPY --chown=\S+ src/ ")
    post_build = first(r"^RUN \./binder/postBuild")
    assert copy_requirements < install < copy_repository < post_build, (
        "the requirements must be installed before the repository is copied (a cached layer), postBuild after")
    reference = notebook_rules.REFERENCE_PYTHON
    assert re.search(rf"Building conda environment for python={re.escape(reference)}\b", text), (
        f"Binder's Python is not the reference {reference}")


def test_binder_pins_the_reference_python():
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == f"python-{notebook_rules.REFERENCE_PYTHON}"


def test_binder_installs_the_helpers_after_copying_the_repository():
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert re.search(r"pip install .*-e \.", post_build)


def test_repo2docker_builds_the_book_with_cached_requirements_and_the_reference_python():
    check_binder_build(dockerfile(ROOT))

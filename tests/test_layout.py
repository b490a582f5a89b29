"""The repository keeps the promises its README and Binder set-up make."""

from __future__ import annotations

import re

from notebook_rules import ROOT


def test_binder_requirements_are_the_learner_requirements():
    assert (ROOT / "binder" / "requirements.txt").read_text() == (ROOT / "requirements.txt").read_text()


def test_binder_requirements_have_no_local_paths():
    # repo2docker installs a requirements file before copying the repository (a cached
    # layer) only when it names no local path; "-e ." would reinstall everything per commit.
    for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines():
        assert not re.match(r"\s*(-e|-r|\.|/)", line), line


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make book" in readme
    assert (ROOT / ".ci" / "run").read_text().rstrip().endswith("make test")


def test_readme_lists_every_chapter():
    readme = (ROOT / "README.md").read_text()
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        assert f"chapters/{path.name}" in readme, f"README does not list {path.name}"


def test_tests_mirror_the_helpers_layout():
    """tests/test_<topic>.py for helpers/<topic>.py; tests/lab/test_<module>.py for helpers/lab/<module>.py."""
    missing = []
    for module in sorted((ROOT / "helpers").rglob("*.py")):
        if module.name == "__init__.py":
            continue
        relative = module.relative_to(ROOT / "helpers")
        expected = ROOT / "tests" / relative.parent / f"test_{module.name}"
        if not expected.exists():
            missing.append(f"{expected.relative_to(ROOT)} (for helpers/{relative})")
    assert not missing, "helpers modules without their test file: " + ", ".join(missing)

"""The repository keeps the promises its README and Binder set-up make."""

from __future__ import annotations

import re

from notebook_rules import REFERENCE_PYTHON, ROOT


def test_binder_requirements_are_the_learner_requirements():
    assert (ROOT / "binder" / "requirements.txt").read_text() == (ROOT / "requirements.txt").read_text()


def test_binder_requirements_have_no_local_paths():
    # repo2docker installs a requirements file before copying the repository (a cached
    # layer) only when it names no local path; "-e ." would reinstall everything per commit.
    for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines():
        assert not re.match(r"\s*(-e|-r|\.|/)", line), line


def test_ci_runs_the_readme_test_command_under_the_reference_python():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make book" in readme
    ci = (ROOT / ".ci" / "run").read_text().rstrip()
    assert ci.endswith('scripts/debian-python "$reference" make test')
    assert f"`scripts/debian-python {REFERENCE_PYTHON} make test`" in readme
    assert "REFERENCE_PYTHON" in ci


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


WORKFLOW = ROOT / ".github" / "workflows" / "test.yml"


def test_the_github_workflow_is_valid():
    """The workflow cannot run here: check it against GitHub's schema (vendored in check-jsonschema)."""
    import subprocess
    import sys
    from pathlib import Path

    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_github_workflow_covers_every_python_and_system():
    import yaml

    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    matrix = jobs["matrix"]["strategy"]["matrix"]
    assert set(matrix["python"]) >= {"3.10", "3.11", "3.12", "3.13", "3.14", "3.15", "3.14t"}
    assert {"ubuntu-latest", "macos-latest", "windows-latest"} <= set(matrix["os"])
    assert set(matrix["start-method"]) == {"spawn", "forkserver", "fork"}
    reference = jobs["reference"]["steps"]
    assert any(step.get("with", {}).get("python-version") == REFERENCE_PYTHON for step in reference)
    assert any("make test" in step.get("run", "") for step in reference)

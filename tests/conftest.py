"""Shared fixtures. Helper tests start processes with the book's start method (spawn by
default), so they prove that workers are importable by a fresh child."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import helpers  # noqa: E402

helpers.use_book_start_method()


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the book once per session, as `make book` does, and return _build/html."""
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jb if jb.exists() else shutil.which("jupyter-book")), "build", "-W", "-n", "--keep-going", str(ROOT)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"jupyter-book build failed:\n{output[-5000:]}"
    return ROOT / "_build" / "html"

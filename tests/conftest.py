"""Shared fixtures. Helper tests start processes with the book's start method (spawn by
default), so they prove that workers are importable by a fresh child.

The book fixtures build the HTML book once per session, as `make book` does (with the
JavaScript of widgets and maths installed by npm when npm is here), and serve it on
127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import helpers  # noqa: E402

helpers.use_book_start_method()

sys.path.insert(0, str(ROOT / "_ext"))
import book_html  # noqa: E402  (the Sphinx extension that serves JavaScript from the book)


@dataclass(frozen=True)
class BookBuild:
    html: Path  # _build/html
    seconds: float  # how long the build took
    started: float  # time.time() when it started: older files in html/ are stale
    log: str


BUILD_SECONDS = pytest.StashKey[float]()


@pytest.fixture(scope="session")
def book_build(request) -> BookBuild:
    """Build every page of the book, as `make book` does, with zero warnings.

    --all re-reads every page: an incremental build would skip the pages that did not
    change, and with them their warnings."""
    book_html.install(ROOT)  # npm ci, as `make book` does (nothing without npm)
    jb = Path(sys.executable).with_name("jupyter-book")
    started, start = time.time(), time.perf_counter()
    result = subprocess.run(
        [str(jb if jb.exists() else shutil.which("jupyter-book")), "build", "--all", "-W", "-n", "--keep-going", str(ROOT)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    seconds = time.perf_counter() - start
    request.config.stash[BUILD_SECONDS] = seconds
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"jupyter-book build failed:\n{output[-5000:]}"
    warnings = [line for line in output.splitlines() if "WARNING" in line]
    assert not warnings, "the build printed warnings:\n" + "\n".join(warnings)
    return BookBuild(html=ROOT / "_build" / "html", seconds=seconds, started=started, log=output)


@pytest.fixture(scope="session")
def built_book(book_build: BookBuild) -> Path:
    """Build the book once per session, as `make book` does, and return _build/html."""
    return book_build.html


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder like a chapter's, where the learner's %%writefile cell writes its module (the cwd)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def no_worker_left_behind():
    """Fail the test if it leaves a child process of this run alive."""
    import multiprocessing

    yield
    assert multiprocessing.active_children() == []


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the name http.server uses)
        pass


@pytest.fixture(scope="session")
def book_url(built_book: Path):
    """Serve the built book on 127.0.0.1 (a free port) and return its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def pytest_terminal_summary(terminalreporter, config):
    """Report how long the book took to build; say loudly when the browser tests did not
    run, and why."""
    if BUILD_SECONDS in config.stash:
        terminalreporter.write_line(f"book build (jupyter-book build --all, stored outputs): {config.stash[BUILD_SECONDS]:.1f} s")
    reasons = set()
    for report in terminalreporter.stats.get("skipped", []):
        if any(name in report.nodeid for name in ("test_browser.py", "test_jupyterlab.py")) and isinstance(report.longrepr, tuple):
            reasons.add(report.longrepr[2].removeprefix("Skipped: "))
    if reasons:
        terminalreporter.write_sep("=", "browser tests skipped", yellow=True, bold=True)
        for reason in sorted(reasons):
            terminalreporter.write_line(reason)

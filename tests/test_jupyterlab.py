"""The chapters work in JupyterLab, opened and run the way a learner does it.

A JupyterLab server of this environment (with jupyterlab-myst, as requirements.txt
installs it) is started on 127.0.0.1 with a random token and its own temporary
configuration, data, runtime, settings and workspace folders, so it touches nothing of
the user's; the chapters are trusted in that data folder first, as `make lab` does.
Headless Chromium (Debian's package, driven by Playwright) opens every chapter of
_toc.yml in it, and before anything runs checks that:

- no MyST markup is left as text on the page (a fence, ``:class:``, ``:label:``,
  ``{solution-start}``): jupyterlab-myst rendered the admonitions and exercises;
- every solution cell is collapsed, its source and its outputs (the learner is not
  handed the answer);
- every stored widget (outside the solutions) is shown as a widget, not as its text.

Then it runs all cells (Run All), waits for each cell with a timeout (and names the cell
still running when one is exceeded), fails on an error output in a cell not tagged
``raises-exception``. Run All twice in a row in the same kernel must work too: the slow
variant of the test (``make test-slow``) runs every chapter twice. Solutions are checked
before the first run only: JupyterLab shows the outputs of every cell it runs, a collapsed
one included (its source stays collapsed).
The widget panels of chapters 02 and 09 are then used as a learner
would: one control changed, the button pressed, and the panel's output must change. At
the end the kernel is restarted and the notebook closed without saving: the file on disk
must be byte-identical to what it was before (autosave is off in the test's settings).

Chapter files must be left as they were: nothing new under chapters/ but the learner's
and the solutions' modules (``my_*.py``, ``solution_*.py``, git-ignored).

Screenshots go to _build/jupyterlab/ (CHAPTER-opened.png, CHAPTER-ran.png and, for the
panels, CHAPTER-panel.png). The server and every process it started (kernels and their
children) are ended after the tests; a process that survives the server's own shut-down
is reported as an error and killed. Without Chromium or Playwright the tests are skipped,
and the test run says why.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

import notebook_rules
from notebook_rules import ROOT

CHROMIUM = Path("/usr/bin/chromium")
# The flags tests/test_browser.py uses: without the networking ones Chromium calls home.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOTS = ROOT / "_build" / "jupyterlab"
CHAPTERS = [p.relative_to(ROOT).as_posix() for p in notebook_rules.toc_notebooks()]

SERVER_START_TIMEOUT_S = 90
OPEN_TIMEOUT_S = 60  # the notebook is shown, its markdown rendered and its kernel idle
CELL_TIMEOUT_S = 120  # as scripts/execute_notebooks.py and nbval allow one cell
PANEL_TIMEOUT_S = 90
WIDGET_TIMEOUT_S = 15  # stored widgets rendered from the notebook's saved state
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Set in the server's environment, so inherited by its kernels and their children: the
# fixture finds every process the test started by it, and only those.
MARKER = "MP_BOOK_JUPYTERLAB_TEST"

# What jupyterlab-myst leaves as text when it cannot render a construct.
RAW_MYST = [
    ("a code fence", re.compile(r"```|~~~")),
    ("a directive option", re.compile(r":(class|label|name|nonumber|hidden|open):")),
    ("a directive or role name", re.compile(r"\{(solution-start|solution-end|solution|exercise|admonition|note|warning|"
                                            r"tip|important|caution|attention|danger|error|hint|seealso|dropdown|"
                                            r"ref|doc|numref|eq|download|term)\}")),
]

# User settings of the test's JupyterLab: every cell attached to the page (the default
# windowing renders only the cells in view), no autosave (the test must leave the
# chapters as they are), no news or update check (no request leaves 127.0.0.1).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


# ------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# What a chapter may write next to itself: the learner's modules and the solutions' (git-ignored).
LEARNER_FILES = re.compile(r"(my|solution)_\w+\.py")


def chapter_files() -> set[str]:
    """The files under chapters/ other than the learner's and the solutions' modules (checkpoints included)."""
    return {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "chapters").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not LEARNER_FILES.fullmatch(p.name)
    }


def marked_processes(marker: str) -> list[int]:
    """The PIDs of the processes whose environment holds MARKER=marker (the server's family)."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    if not Path("/proc").is_dir():  # not Linux: only the server's own shut-down is relied on
        return found
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:  # gone, or not ours to read
            continue
    return found


def describe(pid: int) -> str:
    try:
        return f"{pid}: " + Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:150]
    except OSError:
        return f"{pid}: (gone)"


@dataclass
class LabServer:
    url: str  # http://127.0.0.1:PORT/
    token: str
    process: subprocess.Popen
    log: Path

    def api(self, method: str, path: str, timeout: float = 10.0):
        request = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"token {self.token}"},
            data=b"" if method == "POST" else None,
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def _skip_without_browser():
    pytest.importorskip(
        "playwright.sync_api", reason="Python Playwright is not installed: pip install -r requirements-dev.txt"
    )
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: the JupyterLab tests need Debian's chromium package "
            "(apt-get install chromium; .ci/run installs it)"
        )


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory) -> LabServer:
    """A JupyterLab server for this module, on 127.0.0.1 with a random token, in folders of its own."""
    _skip_without_browser()
    jupyter = Path(sys.executable).with_name("jupyter")
    home = tmp_path_factory.mktemp("jupyterlab")
    marker = secrets.token_hex(8)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTEST_"))}
    # PYTEST_CURRENT_TEST would reach the kernels, and ipykernel then stops capturing the
    # output of child processes (see tests/conftest.py): run them as a learner's would run.
    env.update({
        "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"), MARKER: marker,
    })
    for name, settings in LAB_SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    # As `make lab` does: trusted chapters show their stored widgets at once. The signatures
    # go to the temporary data folder; the notebooks are not written.
    subprocess.run([str(jupyter), "trust", *CHAPTERS], cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)

    files_before = chapter_files()
    token, port = secrets.token_hex(16), free_port()
    log = home / "server.log"
    command = [
        str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}", "--LabApp.expose_app_in_browser=True",
        # Opening a notebook makes a checkpoint of it: keep those out of the checkout.
        f"--FileCheckpoints.checkpoint_dir={home / 'checkpoints'}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    server = LabServer(url=f"http://127.0.0.1:{port}/", token=token, process=process, log=log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter lab exited with {process.returncode}:\n{server.log_tail()}")
            try:
                server.api("GET", "api/status", timeout=2)
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer within {SERVER_START_TIMEOUT_S} s:\n{server.log_tail()}")
                time.sleep(0.5)
        yield server
    finally:
        survivors = _stop_server(server, marker)
    assert not survivors, "processes outlived the JupyterLab server's shut-down (killed now):\n" + "\n".join(survivors)
    left = sorted(chapter_files() - files_before)
    assert not left, f"running the chapters in JupyterLab left files behind: {left}"


def _stop_server(server: LabServer, marker: str) -> list[str]:
    """Shut down every kernel and the server; kill what is left. Return what had to be killed."""
    try:
        for kernel in server.api("GET", "api/kernels") or []:
            server.api("DELETE", f"api/kernels/{kernel['id']}", timeout=30)
        server.api("POST", "api/shutdown")
    except (urllib.error.URLError, OSError):
        pass  # it is killed below
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
    deadline = time.monotonic() + 10  # children of a kernel take a moment to notice it has gone
    while marked_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    survivors = [describe(pid) for pid in marked_processes(marker)]
    for pid in marked_processes(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return survivors


# ------------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def lab(lab_server):
    """A Chromium tab with JupyterLab loaded (``window.jupyterapp`` exposed), for the whole module."""
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    current = {f"{Path(name).stem}-{what}.png" for name in CHAPTERS for what in ("opened", "ran", "panel")}
    for old in SCREENSHOTS.glob("*.png"):
        if old.name not in current:
            old.unlink()  # a chapter no longer in _toc.yml
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport=VIEWPORT)
        context.route(lambda url: not url.startswith(lab_server.url) and not url.startswith(("data:", "blob:")),
                      lambda route: route.abort())
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{lab_server.url}lab?reset&token={lab_server.token}")
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.restored", timeout=OPEN_TIMEOUT_S * 1000)
        page.evaluate("() => jupyterapp.restored")
        yield page
        context.close()
        browser.close()


JS_OPEN = """async (path) => {
  const widget = await jupyterapp.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await widget.context.ready;
  await widget.sessionContext.ready;
  window.mpbookNotebook = widget;
  jupyterapp.shell.activateById(widget.id);
  return widget.content.widgets.length;
}"""

# Every markdown cell rendered (by jupyterlab-myst, or by JupyterLab's own renderer) and the kernel idle.
JS_READY = """() => {
  const nb = window.mpbookNotebook;
  const kernel = nb.sessionContext.session && nb.sessionContext.session.kernel;
  const unrendered = nb.content.widgets.filter(c => c.model.type === 'markdown'
      && !(c.rendered && Array.from(c.node.querySelectorAll('.myst, .jp-RenderedMarkdown')).some(r => r.childElementCount > 0)));
  return !!kernel && kernel.status === 'idle' && unrendered.length === 0;
}"""

JS_READY_STATE = """() => {
  const nb = window.mpbookNotebook;
  const kernel = nb.sessionContext.session && nb.sessionContext.session.kernel;
  return {kernel: kernel ? kernel.status : 'no kernel', unrendered: nb.content.widgets
    .map((c, i) => [c, i]).filter(([c, i]) => c.model.type === 'markdown'
      && !(c.rendered && Array.from(c.node.querySelectorAll('.myst, .jp-RenderedMarkdown')).some(r => r.childElementCount > 0)))
    .map(([c, i]) => i)};
}"""

JS_MARKDOWN_TEXT = """() => window.mpbookNotebook.content.widgets.map(
  c => c.model.type === 'markdown' ? c.node.innerText : null)"""

# For each cell: is its source shown, are its outputs shown, and the text a reader sees.
JS_CELL_VIEW = """(index) => {
  const cell = window.mpbookNotebook.content.widgets[index];
  const input = cell.node.querySelector('.jp-InputArea-editor');
  const outputs = cell.node.querySelector('.jp-OutputArea');
  const shown = el => !!el && el.offsetParent !== null && el.getBoundingClientRect().height > 0;
  return {inputHidden: cell.inputHidden, outputHidden: cell.outputHidden,
          editorShown: shown(input), outputsShown: shown(outputs) && outputs.innerText.trim() !== '',
          text: cell.node.innerText};
}"""

JS_RUN_ALL = """() => {
  const nb = window.mpbookNotebook;
  window.mpbookRun = {done: false, result: null, error: null};
  jupyterapp.commands.execute('notebook:run-all-cells').then(
    r => { window.mpbookRun = {done: true, result: r, error: null}; },
    e => { window.mpbookRun = {done: true, result: false, error: String(e)}; });
}"""

# Where the run is: the cells still marked running (queued ones count), and the kernel's state.
JS_PROGRESS = """() => {
  const nb = window.mpbookNotebook;
  const running = [];
  nb.content.widgets.forEach((c, i) => {
    if (c.model.type === 'code' && c.model.executionState === 'running') running.push(i);
  });
  const kernel = nb.sessionContext.session && nb.sessionContext.session.kernel;
  return {running, status: kernel ? kernel.status : 'none', done: window.mpbookRun.done,
          error: window.mpbookRun.error};
}"""

JS_OUTCOME = """() => window.mpbookNotebook.content.widgets.map(c => c.model.type !== 'code' ? null : {
  count: c.model.executionCount,
  tags: c.model.getMetadata('tags') || [],
  errors: c.model.outputs.toJSON().filter(o => o.output_type === 'error')
           .map(o => o.ename + ': ' + String(o.evalue).slice(0, 300)),
})"""

JS_RESTART_AND_CLOSE = """async () => {
  const nb = window.mpbookNotebook;
  const kernel = nb.sessionContext.session && nb.sessionContext.session.kernel;
  if (kernel) {
    await kernel.restart();
  }
  await nb.sessionContext.shutdown();
  nb.context.model.dirty = false;  // close without saving, and without the "save?" dialog
  nb.close();
  window.mpbookNotebook = null;
}"""


def cell_label(nb, index: int) -> str:
    first = next((line for line in nb.cells[index].source.splitlines() if line.strip()), "")
    return f"cell {index} ({first[:70]!r})"


def wait_for(page, js: str, what: str, timeout_s: float, arg=None, state_js: str | None = None) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(js, arg=arg, timeout=timeout_s * 1000, polling=250)
    except PlaywrightTimeout:
        state = f": {page.evaluate(state_js)}" if state_js else ""
        pytest.fail(f"{what} within {timeout_s:.0f} s{state}")


def run_all(page, nb, name: str, which: str) -> None:
    """Press Run All and wait until no cell runs and the kernel is idle; fail on a cell over its time."""
    page.evaluate(JS_RUN_ALL)
    current, since = None, time.monotonic()
    idle_since = None
    while True:
        state = page.evaluate(JS_PROGRESS)
        now = time.monotonic()
        first = state["running"][0] if state["running"] else None
        if first != current:
            current, since = first, now
        if first is not None and now - since > CELL_TIMEOUT_S:
            pytest.fail(f"{name}, {which} Run All: {cell_label(nb, first)} still running after {CELL_TIMEOUT_S} s")
        if state["done"] and first is None and state["status"] == "idle":
            idle_since = idle_since or now
            if now - idle_since > 0.5:  # idle for a moment: late output of a child has arrived
                break
        else:
            idle_since = None
        if state["status"] in ("dead", "unknown", "none") and first is None and state["done"]:
            pytest.fail(f"{name}, {which} Run All: the kernel is {state['status']}")
        time.sleep(0.25)
    if state["error"]:
        pytest.fail(f"{name}, {which} Run All: the command failed: {state['error']}")
    problems = []
    for index, outcome in enumerate(page.evaluate(JS_OUTCOME)):
        if outcome is None:
            continue
        if outcome["errors"] and "raises-exception" not in outcome["tags"]:
            problems.append(f"{cell_label(nb, index)} raised: " + "; ".join(outcome["errors"]))
        elif outcome["count"] is None:
            problems.append(f"{cell_label(nb, index)} did not run")
    assert not problems, f"{name}, {which} Run All:\n" + "\n".join(problems)


# ------------------------------------------------------------------- what is checked


def raw_myst(texts: list[str | None]) -> list[str]:
    """What of the rendered markdown cells still reads as MyST source."""
    found = []
    for index, text in enumerate(texts):
        for what, pattern in RAW_MYST if text else []:
            match = pattern.search(text)
            if match:
                start = max(0, match.start() - 40)
                found.append(f"cell {index}: {what} left as text: {text[start:match.end() + 40]!r}")
    return found


def output_lines(cell) -> list[str]:
    """A few lines a reader would see if the cell's stored outputs were shown."""
    lines = []
    for output in cell.get("outputs", []):
        text = output.get("text") or output.get("data", {}).get("text/plain", "") or output.get("evalue", "")
        lines += [line.strip() for line in str(text).splitlines() if len(line.strip()) > 8]
    return lines[:5]


def solution_problems(page, nb) -> list[str]:
    """The solution cells whose source or outputs a learner can see without asking."""
    problems = []
    for cell in notebook_rules.solution_cells(nb):
        index = nb.cells.index(cell)
        view = page.evaluate(JS_CELL_VIEW, index)
        hidden_lines = [line.strip() for line in cell.source.splitlines()[1:] if len(line.strip()) > 8]
        # A collapsed cell shows its first line as a placeholder; the rest must stay out of sight.
        seen_source = [line for line in hidden_lines if line in view["text"]]
        seen_output = [line for line in output_lines(cell) if line in view["text"]]
        if not view["inputHidden"] or view["editorShown"] or seen_source:
            problems.append(f"{cell_label(nb, index)}: its source is visible {seen_source[:1]}")
        if not view["outputHidden"] or view["outputsShown"] or seen_output:
            problems.append(f"{cell_label(nb, index)}: its outputs are visible {seen_output[:1]}")
    return problems


# The cells with stored widget views: how many views, and how many outputs show a rendered widget.
JS_WIDGET_VIEWS = """() => window.mpbookNotebook.content.widgets.map((c, index) => {
  if (c.model.type !== 'code') return null;
  const views = c.model.outputs.toJSON().filter(o => o.data && o.data['application/vnd.jupyter.widget-view+json']);
  if (!views.length) return null;
  const rendered = Array.from(c.node.querySelectorAll('.jp-OutputArea-output'))
    .filter(o => o.querySelector('.jupyter-widgets')).length;
  const area = c.node.querySelector('.jp-OutputArea');
  return {index, views: views.length, rendered, text: area ? area.innerText.slice(0, 80) : ''};
}).filter(x => x)"""


def widget_problems(page, nb) -> list[str]:
    """The stored widget views (outside solutions) that a trusted chapter does not show as widgets."""
    solutions = {id(cell) for cell in notebook_rules.solution_cells(nb)}
    expected = [i for i, c in enumerate(nb.cells) if id(c) not in solutions and any(
        WIDGET_VIEW in o.get("data", {}) for o in c.get("outputs", []))]
    with contextlib.suppress(Exception):  # the widget manager restores the saved state after the page shows
        page.wait_for_function(
            "(cells) => { const views = (" + JS_WIDGET_VIEWS + ")(); return cells.every("
            "i => views.some(v => v.index === i && v.rendered >= v.views)); }",
            arg=expected, timeout=WIDGET_TIMEOUT_S * 1000, polling=250,
        )
    return [
        f"{cell_label(nb, view['index'])}: {view['views']} stored widget(s), {view['rendered']} rendered "
        f"(shown instead: {view['text']!r})"
        for view in page.evaluate(JS_WIDGET_VIEWS)
        if id(nb.cells[view["index"]]) not in solutions and view["rendered"] < view["views"]
    ]


def scroll_to(page, index: int) -> None:
    page.evaluate("(i) => window.mpbookNotebook.content.widgets[i].node.scrollIntoView({block: 'center'})", index)
    page.wait_for_timeout(300)


def first_exercise(nb) -> int:
    return next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and "{exercise}" in c.source), 0)


# The widget panels a learner uses (chapters 02 and 09), by the call that makes them.
PANELS = ("start_method_panel", "BenchPanel")

# The controls and the output area of a widget panel.
JS_PANEL = """(index) => {
  const cell = window.mpbookNotebook.content.widgets[index];
  const panel = cell.node.querySelector('.jp-OutputArea .widget-vbox, .jp-OutputArea .jupyter-widgets');
  if (!panel) return null;
  const area = Array.from(cell.node.querySelectorAll('.jp-OutputArea .widget-output')).pop();
  return {buttons: Array.from(cell.node.querySelectorAll('.jp-OutputArea button.jupyter-button'))
                        .map(b => b.innerText.trim()).filter(t => t),
          selects: cell.node.querySelectorAll('.jp-OutputArea select').length,
          sliders: cell.node.querySelectorAll('.jp-OutputArea .noUi-handle').length,
          numbers: cell.node.querySelectorAll('.jp-OutputArea input[type=number]').length,
          output: area ? area.innerHTML : null};
}"""


def use_panel(page, nb, name: str, index: int) -> None:
    """Change one control of the panel in cell ``index``, press its button, and see its output change."""
    view = page.evaluate(JS_PANEL, index)
    assert view is not None, f"{name}: {cell_label(nb, index)} shows no widget panel after Run All"
    assert view["output"] is not None, f"{name}: the panel has no output area"
    cell = page.locator(".jp-Notebook-cell").nth(index)  # the notebook is the only one open
    scroll_to(page, index)
    before = view["output"]
    # A number box or a slider first (the first is the number of processes or workers in both
    # panels: one fewer makes a shorter run), else a dropdown.
    if view["numbers"]:
        box = cell.locator(".jp-OutputArea input[type=number]").first
        value, low = box.input_value(), box.get_attribute("min")
        new = int(float(value)) - 1 if low is None or float(value) > float(low) else int(float(value)) + 1
        box.fill(str(new))
        box.press("Enter")
    elif view["sliders"]:
        handle = cell.locator(".jp-OutputArea .noUi-handle").first
        value = handle.get_attribute("aria-valuenow")
        handle.focus()
        handle.press("ArrowLeft" if value != handle.get_attribute("aria-valuemin") else "ArrowRight")
        assert handle.get_attribute("aria-valuenow") != value, f"{name}: the panel's slider did not move"
    else:
        assert view["selects"], f"{name}: the panel has neither a slider nor a dropdown to change"
        select = cell.locator(".jp-OutputArea select").first
        options = select.locator("option").evaluate_all("os => os.map(o => o.value)")
        current = select.input_value()
        others = [o for o in options if o != current]
        assert others, f"{name}: the panel's dropdown offers only {options}"
        select.select_option(others[0])
    page.wait_for_timeout(500)  # the kernel hears of the change before the click
    buttons = cell.locator(".jp-OutputArea button.jupyter-button").filter(has_text=re.compile(r"\bRun\b"))
    assert buttons.count(), f"{name}: the panel has no Run button (buttons: {view['buttons']})"
    buttons.first.click()
    changed = """([index, before]) => {
      const cell = window.mpbookNotebook.content.widgets[index];
      const area = Array.from(cell.node.querySelectorAll('.jp-OutputArea .widget-output')).pop();
      const button = Array.from(cell.node.querySelectorAll('.jp-OutputArea button.jupyter-button'))
                          .find(b => /\\bRun\\b/.test(b.innerText));
      return area && area.innerHTML !== before && (area.innerText.trim() !== '' || !!area.querySelector('img'))
             && !(button && button.disabled) && !/Running/.test(area.innerText);
    }"""
    wait_for(page, changed, f"{name}: the panel's output area did not change after a new setting and a click",
             PANEL_TIMEOUT_S, [index, before])
    failed = page.evaluate(JS_PANEL, index)["output"]
    assert "failed" not in failed.lower(), f"{name}: the panel's run failed: {failed[:500]}"


# ------------------------------------------------------------------- the test


def test_every_widget_panel_is_in_a_chapter():
    """The panels the test uses are still made where it looks for them (else it would skip them quietly)."""
    sources = {name: (ROOT / name).read_text() for name in CHAPTERS}
    missing = [maker for maker in PANELS if not any(f"{maker}(" in text for text in sources.values())]
    assert not missing, f"no chapter makes the widget panel(s) {missing}: update PANELS in {Path(__file__).name}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_in_jupyterlab(lab, name):
    check_chapter(lab, name, runs=("first",))


@pytest.mark.slow
@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_runs_twice_in_jupyterlab(lab, name):
    """Run All a second time in the same kernel: a learner does it, and it catches state a chapter
    leaves behind (a name already taken, a resource never released). Slow: every chapter twice."""
    check_chapter(lab, name, runs=("first", "second"))


def check_chapter(lab, name: str, runs: tuple[str, ...]) -> None:
    """Open the notebook ``name`` (relative to the book's root), check it, Run All once per item of
    ``runs`` (each names its run in a failure), close it unsaved."""
    path = ROOT / name
    stored = path.read_bytes()
    nb = nbformat.reads(stored.decode(), as_version=4)
    stem = Path(name).stem
    count = lab.evaluate(JS_OPEN, name)
    try:
        assert count == len(nb.cells), f"{name}: JupyterLab shows {count} cells, the file has {len(nb.cells)}"
        wait_for(lab, JS_READY, f"{name}: the markdown was not rendered, or the kernel not idle,", OPEN_TIMEOUT_S,
                 state_js=JS_READY_STATE)
        lab.wait_for_timeout(500)  # jupyterlab-myst renders each cell asynchronously
        scroll_to(lab, first_exercise(nb))
        lab.screenshot(path=str(SCREENSHOTS / f"{stem}-opened.png"))

        problems = raw_myst(lab.evaluate(JS_MARKDOWN_TEXT)) + solution_problems(lab, nb) + widget_problems(lab, nb)
        assert not problems, f"{name}, as opened in JupyterLab:\n" + "\n".join(problems)

        for run in runs:
            run_all(lab, nb, name, run)
        scroll_to(lab, first_exercise(nb))
        lab.screenshot(path=str(SCREENSHOTS / f"{stem}-ran.png"))

        panel = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and any(
            f"{maker}(" in c.source for maker in PANELS)), None)
        if panel is not None:
            use_panel(lab, nb, name, panel)
            lab.screenshot(path=str(SCREENSHOTS / f"{stem}-panel.png"))
    finally:
        lab.evaluate(JS_RESTART_AND_CLOSE)
    assert path.read_bytes() == stored, f"{name}: the file changed on disk although the notebook was closed unsaved"

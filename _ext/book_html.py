"""Two fixes to the HTML pages, so that the book works in a browser with no network and
with no console error (tests/test_browser.py checks both).

1. Serve the JavaScript of widgets and of maths from the book itself. A page with
   ipywidgets outputs needs require.js and ``@jupyter-widgets/html-manager`` (1.x matches
   ipywidgets 8), a page with maths needs MathJax 3; by default both come from public
   CDNs, so offline a widget shows nothing and an equation shows its TeX source.
   ``make book`` runs ``npm ci``, which installs the versions pinned in
   ``package-lock.json`` into ``node_modules/``. When they are there, this extension
   copies the files the pages load into ``_build/vendor-js/_vendor/``, adds that folder
   to ``html_extra_path`` (so they land in ``_build/html/_vendor/``, not under
   ``_static/``), and points MyST-NB's ``nb_ipywidgets_js`` and Sphinx's
   ``mathjax_path`` at them. It also writes a three-line require.js configuration that
   makes the widget bundle look for its icon fonts next to itself (else it asks the
   page's own folder for them: a 404 per font, with the CDN default too).
   Without ``node_modules/`` (no npm on the machine) the pages keep the CDN defaults and
   the build log says so. Nothing here is committed as a copied file.
   ``python _ext/book_html.py`` runs ``npm ci`` when the installation is missing, stale
   or broken (``make book`` and the tests call it; one ``npm ci`` at a time).

2. One copy of each inline script. With Sphinx 7.4 a script that an extension adds with
   ``app.add_js_file(None, body=...)`` while the documents are read is written twice in
   every page; sphinx-thebe's ``const THEBE_JS_URL = ...`` then throws "Identifier
   'THEBE_JS_URL' has already been declared" on every page.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

URL_DIR = "_vendor"  # the folder of the built site that holds the served files
NODE_MODULES = Path("node_modules")

# ipywidgets: require.js, the embedding bundle and the Font Awesome fonts it loads.
REQUIRE_JS = NODE_MODULES / "requirejs" / "require.js"
EMBED_DIST = NODE_MODULES / "@jupyter-widgets" / "html-manager" / "dist"
EMBED_JS = "embed-amd.js"
FONT_PATTERNS = ("*.woff2", "*.woff", "*.ttf")
PATHS_JS = "require-paths.js"
PATHS_JS_SOURCE = """\
// Written by _ext/book_html.py. The widget bundle derives where its fonts are from the
// require.js names of its modules; map those names to this folder.
(function () {
  var here = document.currentScript.src.replace(/[^/]*$/, "").replace(/\\/$/, "");
  require.config({paths: {"@jupyter-widgets": here, "@jupyter-widgets/html-manager/dist": here}});
})();
"""

# MathJax 3: the component Sphinx loads by default, and what it loads on demand (fonts,
# TeX extensions, the menu and its accessibility tools).
MATHJAX_ES5 = NODE_MODULES / "mathjax" / "es5"
MATHJAX_JS = "tex-mml-chtml.js"
MATHJAX_PARTS = (MATHJAX_JS, "input", "output/chtml", "a11y", "ui", "sre", "adaptors")
SPHINX_MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/"


NPM_CI = ("ci", "--ignore-scripts", "--no-audit", "--no-fund")
NPM_STAMP = NODE_MODULES / ".installed-package-lock.json"  # a copy of the lock npm installed
SERVED = (REQUIRE_JS, EMBED_DIST / EMBED_JS, MATHJAX_ES5 / MATHJAX_JS)


def installed(root: Path) -> bool:
    """Whether node_modules/ holds what package-lock.json pins (and nothing went missing)."""
    stamp, lock = root / NPM_STAMP, root / "package-lock.json"
    return (
        stamp.is_file() and lock.is_file() and stamp.read_bytes() == lock.read_bytes()
        and all((root / path).is_file() for path in SERVED)
    )


def install(root: Path) -> bool:
    """Run `npm ci` in ``root`` unless node_modules/ is current; False when npm is missing.

    Runs that share the folder (two test runs, a test run and `make book`) take turns."""
    npm = shutil.which("npm")
    if npm is None:
        return False
    if installed(root):
        return True
    lock_path = root / "_build" / ".npm-ci.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock_file:
        try:
            import fcntl

            fcntl.flock(lock_file, fcntl.LOCK_EX)
        except ImportError:  # Windows
            pass
        if not installed(root):  # another run may have installed it while this one waited
            result = subprocess.run([npm, *NPM_CI], cwd=root, capture_output=True, text=True, timeout=900)
            if result.returncode != 0:
                raise RuntimeError(f"npm {' '.join(NPM_CI)} failed:\n{(result.stdout + result.stderr)[-3000:]}")
            shutil.copyfile(root / "package-lock.json", root / NPM_STAMP)
    if not installed(root):
        raise RuntimeError(f"npm {' '.join(NPM_CI)} did not install {[str(p) for p in SERVED]}")
    return True


def serve_from_book(app: Sphinx, config: Config) -> None:
    root = Path(app.srcdir)
    staging = Path(app.outdir).parent / "vendor-js"
    served = []
    if (root / REQUIRE_JS).is_file() and (root / EMBED_DIST / EMBED_JS).is_file():
        target = fresh_dir(staging / URL_DIR / "widgets")
        fonts = [f for pattern in FONT_PATTERNS for f in (root / EMBED_DIST).glob(pattern)]
        for source in (root / REQUIRE_JS, root / EMBED_DIST / EMBED_JS, *fonts):
            shutil.copyfile(source, target / source.name)
        (target / PATHS_JS).write_text(PATHS_JS_SOURCE)
        # Sphinx puts a relative script path under _static/: step out of it.
        config.nb_ipywidgets_js = {
            f"../{URL_DIR}/widgets/{name}": {} for name in (REQUIRE_JS.name, PATHS_JS, EMBED_JS)
        }
        served.append("widgets")
    mathjax_path = getattr(config, "mathjax_path", "") or ""
    if (root / MATHJAX_ES5 / MATHJAX_JS).is_file() and mathjax_path.startswith(SPHINX_MATHJAX_CDN):
        target = fresh_dir(staging / URL_DIR / "mathjax")
        for part in MATHJAX_PARTS:
            source = root / MATHJAX_ES5 / part
            if source.is_dir():
                shutil.copytree(source, target / part)
            else:
                shutil.copyfile(source, target / part)
        config.mathjax_path = f"../{URL_DIR}/mathjax/{MATHJAX_JS}"
        served.append("maths")
    if served:
        config.html_extra_path = [*config.html_extra_path, str(staging)]
        logger.info(f"JavaScript for {' and '.join(served)}: served from the book ({URL_DIR}/), installed by npm")
    if missing := [kind for kind in ("widgets", "maths") if kind not in served]:
        logger.info(
            f"JavaScript for {' and '.join(missing)}: loaded from public CDNs "
            "(run `npm ci`, as `make book` does, to serve it from the book)"
        )


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def drop_duplicate_scripts(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    seen, unique = set(), []
    for script in context.get("script_files", []):
        filename = getattr(script, "filename", script)  # a str in old-style themes
        key = (filename or "", getattr(script, "priority", 0), tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Sphinx) -> dict:
    # Before MyST-NB reads nb_ipywidgets_js (builder-inited) and before Sphinx checks
    # html_extra_path (config-inited, priority 800).
    app.connect("config-inited", serve_from_book, priority=400)
    # After every extension has added its per-page scripts (priority 500).
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    # `make book`: install the JavaScript to serve, or say why the pages will use CDNs.
    if not install(Path.cwd()):
        print("npm not found: widgets and maths will load their JavaScript from public CDNs (see README)")
    sys.exit(0)

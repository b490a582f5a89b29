"""The HTML book works in a real browser, offline too.

Headless Chromium (Debian's package, driven by Playwright) opens every page listed in
_toc.yml in the built book, served on 127.0.0.1. Each page must load with no console
error, no failed request and no request to any other host; every image on it must have
loaded; every widget output must be rendered (not left as text, nor as nothing), and
every formula typeset; its sidebar must list every chapter and its launch links must
open its own notebook. The
search page must find a word from each chapter. Every figure carries its alt sentence, and
axe-core finds no critical or serious accessibility violation in the book's own content.
A full-page screenshot of every page is written to _build/screenshots/ for review.

The build must be clean too (see conftest.book_build): zero warnings, every relative link
of the built pages reaches a file (and the anchor in it), and it takes under a minute.

Without Chromium the browser tests are skipped, and the test run says why.
"""

from __future__ import annotations

import functools
import html.parser
import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import ipywidgets
import nbformat
import pytest

import notebook_rules
from notebook_rules import ROOT

CHROMIUM = Path("/usr/bin/chromium")
# Without the networking flags Chromium calls home at start-up, and on a closed network
# those connections are refused.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}  # wide enough for the sidebar to show
BUILD_SECONDS_MAX = 60
WIDGET_RENDER_TIMEOUT_MS = 15_000
NETWORK_IDLE_TIMEOUT_MS = 15_000
VIEW_MIME = "application/vnd.jupyter.widget-view+json"
REMOVE_OUTPUT_TAGS = {"remove-output", "remove_output", "remove-cell", "remove_cell"}
# The CDN defaults for the JavaScript of widgets and maths (the book serves it when npm is here).
CDN_SCRIPTS = (
    "https://cdn.jsdelivr.net/npm/@jupyter-widgets", "https://cdnjs.cloudflare.com/ajax/libs/require.js",
    "https://cdn.jsdelivr.net/npm/mathjax",
)
LAUNCH_SERVICES = {"Binder": "binderhub_url", "JupyterHub": "jupyterhub_url", "Colab": "colab_url"}


def toc_pages() -> list[str]:
    """Every page of _toc.yml in reading order, as docnames ("chapters/00-start-here")."""
    return notebook_rules.toc_files()


PAGES = toc_pages()
CHAPTERS = PAGES[1:]
NOTEBOOK_PAGES = [p for p in PAGES if (ROOT / f"{p}.ipynb").exists()]


def page_source(page: str) -> Path:
    return next(p for p in (ROOT / f"{page}.ipynb", ROOT / f"{page}.md") if p.exists())


# -------------------------------------------------------------- what the notebooks hold


def widget_outputs(page: str) -> list[dict]:
    """The widget outputs a notebook page shows, as [{"model_id", "text"}]; "text" is the
    plain-text form a reader sees if the widget is not rendered."""
    path = ROOT / f"{page}.ipynb"
    if not path.exists():
        return []
    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        if REMOVE_OUTPUT_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(VIEW_MIME)
            if view:
                found.append({"model_id": view["model_id"], "text": str(output["data"].get("text/plain", ""))})
    return found


def _widget_class_names() -> list[str]:
    names = {n for n, obj in vars(ipywidgets).items() if isinstance(obj, type) and issubclass(obj, ipywidgets.DOMWidget)}
    return sorted(names | {"interactive"}, key=len, reverse=True)


# A widget shown as its text form, "IntSlider(value=3, max=10)", because its output
# lost the widget view (matplotlib's "Text(0.5, 1.0, 'x')" does not match).
WIDGET_AS_TEXT = re.compile(r"(?m)^\s*(?:%s)\((?:\)|[a-z_]+=)" % "|".join(_widget_class_names()))


def search_word(page: str) -> str:
    """The longest word of the page's title: a word a reader would search for."""
    source = page_source(page)
    if source.suffix == ".ipynb":
        text = "\n".join(c.source for c in nbformat.read(source, as_version=4).cells if c.cell_type == "markdown")
    else:
        text = source.read_text()
    title = next((line for line in text.splitlines() if line.startswith("# ")), "")
    return max(re.findall(r"[A-Za-z]{4,}", title) or re.findall(r"[A-Za-z]{4,}", text), key=len)


# ------------------------------------------------------------ the built pages, as files


class _PageParser(html.parser.HTMLParser):
    """The ids of one HTML page and the URLs it links or loads."""

    URL_ATTRS = {("a", "href"), ("img", "src"), ("link", "href"), ("script", "src"), ("source", "src"), ("iframe", "src")}

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)
            if (tag, name) in self.URL_ATTRS and value is not None:
                self.urls.append(value)


@functools.lru_cache(maxsize=None)
def parse_page(path: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def pages_of_this_build(book_build) -> list[Path]:
    """The HTML pages this session's build wrote (older ones are left over from other builds)."""
    return sorted(
        p for p in book_build.html.rglob("*.html")
        if "_static" not in p.relative_to(book_build.html).parts and p.stat().st_mtime >= book_build.started - 1
    )


def test_every_toc_page_was_built_now(book_build):
    stale = [p for p in PAGES if (book_build.html / f"{p}.html") not in pages_of_this_build(book_build)]
    assert not stale, f"no page written by this build for {stale}"


def test_build_with_stored_outputs_takes_under_a_minute(book_build):
    assert notebook_rules.config()["execute"]["execute_notebooks"] == "off", "the build must use the stored outputs"
    assert book_build.seconds < BUILD_SECONDS_MAX, (
        f"building the book took {book_build.seconds:.0f} s, more than {BUILD_SECONDS_MAX} s"
    )


def test_internal_links_reach_their_targets(book_build):
    """Every relative href/src of every built page names a file that exists, and an anchor
    (#...) names an id in the target page."""
    html_root = book_build.html.resolve()
    broken = []
    for page in pages_of_this_build(book_build):
        for url in parse_page(page).urls:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or url.startswith(("mailto:", "javascript:")):
                continue
            target = page if not parts.path else Path(posixpath.normpath(page.parent / unquote(parts.path)))
            where = f"{page.relative_to(html_root)}: {url}"
            if target.is_dir():
                target = target / "index.html"
            if html_root not in (target.resolve(), *target.resolve().parents):
                broken.append(f"{where} (outside the book)")
            elif not target.is_file():
                broken.append(f"{where} (no file {target.relative_to(html_root)})")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in parse_page(target).ids:
                broken.append(f"{where} (no id {parts.fragment!r} in {target.relative_to(html_root)})")
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(sorted(set(broken)))


# ------------------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def browser_context(built_book):
    """A headless Chromium with a page context in which every request to a host other than
    127.0.0.1 is aborted (and recorded by the tests)."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Python Playwright is not installed: pip install -r requirements-dev.txt"
    )
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: the browser tests need Debian's chromium package "
            "(apt-get install chromium; .ci/run installs it)"
        )
    screenshots = built_book.parent / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    for old in set(screenshots.glob("*.png")) - {screenshot_path(built_book, page) for page in PAGES}:
        old.unlink(missing_ok=True)  # a page no longer in _toc.yml
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(30_000)
        context.route(lambda url: not is_local(url), lambda route: route.abort())
        yield context
        context.close()
        browser.close()


def screenshot_path(built_book: Path, page: str) -> Path:
    return built_book.parent / "screenshots" / (page.replace("/", "--") + ".png")


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1"


@dataclass
class Visit:
    """What happened when the browser opened one page."""

    url: str
    failures: list[str]  # failed requests, HTTP errors, requests to another host
    console_errors: list[str]
    images: list[dict]
    views: list[dict]  # one per widget view on the page
    maths: list[dict]  # one per formula on the page
    has_widget_state: bool
    outputs_text: str  # the visible text of the cell outputs
    sidebar: list[str]  # the URLs the sidebar links to
    launch: dict[str, list[str]]  # "Binder" -> the URLs of its launch links
    screenshot: Path


JS_WIDGET_VIEWS = """() => Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')).map(s => {
  const prev = s.previousElementSibling;  // html-manager puts the widget just before its view tag
  const area = prev && prev.classList.contains('widget-subarea') ? prev : null;
  let modelId = null;
  try { modelId = JSON.parse(s.textContent).model_id; } catch (e) {}
  const box = area ? area.getBoundingClientRect() : {width: 0, height: 0};
  return {model_id: modelId, rendered: !!(area && area.querySelector('.jupyter-widgets')),
          error: area ? /Error displaying widget/i.test(area.innerText) : false,
          shown: !!(area && area.offsetParent !== null), width: box.width, height: box.height};
})"""
JS_ALL_VIEWS_RENDERED = """() => Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]'))
  .every(s => s.previousElementSibling && s.previousElementSibling.querySelector('.jupyter-widgets'))"""
JS_MATHS_TYPESET = "() => window.MathJax && MathJax.startup && MathJax.startup.promise && MathJax.startup.promise.then(() => true)"
JS_MATHS = """() => Array.from(document.querySelectorAll('span.math, div.math')).map(m => ({
  tex: m.textContent.trim().slice(0, 60), rendered: !!m.querySelector('mjx-container'), error: !!m.querySelector('mjx-merror')}))"""
JS_IMAGES_SETTLED = """() => Promise.all(Array.from(document.images).map(img => {
  img.loading = 'eager';
  return img.complete ? null : new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done); });
}))"""
JS_IMAGES = "() => Array.from(document.images).map(i => ({src: i.currentSrc || i.src, complete: i.complete, width: i.naturalWidth}))"


@pytest.fixture(scope="module")
def visit(browser_context, book_url, built_book):
    """visit(page) opens a page once (later calls reuse what was seen) and returns a Visit."""
    seen: dict[str, Visit | Exception] = {}

    def open_page(page: str) -> Visit:
        if page not in seen:
            require_offline_js(page, built_book / f"{page}.html")
            try:
                seen[page] = _open_page(browser_context, book_url + f"{page}.html", screenshot_path(built_book, page))
            except Exception as error:  # every test of this page reports it, without opening it again
                seen[page] = error
        if isinstance(seen[page], Exception):
            raise seen[page]
        return seen[page]

    return open_page


def _open_page(browser_context, url: str, screenshot: Path) -> Visit:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    failures, errors, in_flight = [], [], set()
    tab = browser_context.new_page()
    try:
        tab.on("request", lambda r: in_flight.add(r.url))
        tab.on("requestfinished", lambda r: in_flight.discard(r.url))
        tab.on("requestfailed", lambda r: in_flight.discard(r.url))
        tab.on("request", lambda r: None if is_local(r.url) else failures.append(f"request to another host: {r.url}"))
        tab.on("requestfailed", lambda r: is_local(r.url) and failures.append(f"failed: {r.url} ({r.failure})"))
        tab.on("response", lambda r: r.status >= 400 and failures.append(f"HTTP {r.status}: {r.url}"))
        tab.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
        tab.on("console", lambda m: m.type == "error" and not is_favicon(m) and errors.append(f"{m.text} ({m.location.get('url')})"))
        tab.goto(url, wait_until="load")
        try:
            tab.wait_for_function(JS_ALL_VIEWS_RENDERED, timeout=WIDGET_RENDER_TIMEOUT_MS)
        except PlaywrightTimeout:
            pass  # the widget test says which view did not render
        if tab.locator("span.math, div.math").count():
            try:
                tab.wait_for_function(JS_MATHS_TYPESET, timeout=WIDGET_RENDER_TIMEOUT_MS)
            except PlaywrightTimeout:
                pass  # the maths test says which formula was not typeset
        tab.evaluate(JS_IMAGES_SETTLED)
        try:
            tab.wait_for_load_state("networkidle", timeout=NETWORK_IDLE_TIMEOUT_MS)
        except PlaywrightTimeout:
            failures.append(f"still loading {NETWORK_IDLE_TIMEOUT_MS // 1000} s after the page loaded: {sorted(in_flight)}")
        tab.screenshot(path=str(screenshot), full_page=True)
        return Visit(
            url=url, failures=failures, console_errors=errors,
            images=tab.evaluate(JS_IMAGES),
            views=tab.evaluate(JS_WIDGET_VIEWS),
            maths=tab.evaluate(JS_MATHS),
            has_widget_state=tab.locator('script[type="application/vnd.jupyter.widget-state+json"]').count() > 0,
            outputs_text="\n".join(tab.locator(".cell_output").all_inner_texts()),
            sidebar=tab.eval_on_selector_all("nav.bd-docs-nav a.reference.internal", "as => as.map(a => a.href)"),
            launch={name: tab.eval_on_selector_all(launch_selector(name), "as => as.map(a => a.href)") for name in LAUNCH_SERVICES},
            screenshot=screenshot,
        )
    finally:
        tab.close()


def launch_selector(service: str) -> str:
    # Bootstrap's tooltips move an element's title to data-bs-original-title.
    return f'a[title="Launch on {service}"], a[data-bs-original-title="Launch on {service}"]'


def is_favicon(message) -> bool:
    # The browser asks for /favicon.ico on its own; the book declares no icon.
    return urlsplit(message.location.get("url", "")).path == "/favicon.ico"


def require_offline_js(page: str, html_page: Path) -> None:
    """Skip a page that loads the JavaScript of widgets or maths from a CDN when npm is
    missing (this offline test cannot reach a CDN); fail when npm is here (the book
    should serve it)."""
    text = html_page.read_text(encoding="utf-8")
    if not any(f'src="{cdn}' in text for cdn in CDN_SCRIPTS):
        return
    if shutil.which("npm") is None:
        pytest.skip(
            f"{page} has widgets or maths and npm is not installed, so the book loads their "
            "JavaScript from public CDNs, which this offline test does not reach: install Node.js/npm"
        )
    pytest.fail(
        f"{page} loads JavaScript from a CDN although npm is installed: "
        "is `book_html` in sphinx.local_extensions of _config.yml, and did `npm ci` run?"
    )


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_without_console_errors(visit, page):
    errors = visit(page).console_errors
    assert not errors, f"{page}: console errors:\n" + "\n".join(errors)


@pytest.mark.parametrize("page", PAGES)
def test_page_makes_no_failed_or_outside_requests(visit, page):
    failures = visit(page).failures
    assert not failures, f"{page}: requests that failed or left 127.0.0.1:\n" + "\n".join(failures)


@pytest.mark.parametrize("page", PAGES)
def test_every_image_has_loaded(visit, page):
    broken = [img["src"] for img in visit(page).images if not (img["complete"] and img["width"] > 0)]
    assert not broken, f"{page}: images that did not load (naturalWidth 0):\n" + "\n".join(broken)


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


@pytest.mark.parametrize("page", PAGES)
def test_widgets_render(visit, page):
    seen = visit(page)
    expected = widget_outputs(page)
    problems = []
    views = {v["model_id"]: v for v in seen.views}
    if (expected or views) and not seen.has_widget_state:
        problems.append("no widget state stored in the notebook: run `make execute NB=...` (it stores it)")
    if len(views) < len(expected):
        problems.append(
            f"the notebook shows {len(expected)} widget outputs, the page has {len(views)} widgets: "
            f"{[first_line(o['text'])[:60] for o in expected]}"
        )
    for model_id, view in views.items():
        if not view["rendered"]:
            problems.append(f"widget {model_id} did not render (is the widget JavaScript served?)")
        elif view["error"]:
            problems.append(f"widget {model_id} shows an error")
        elif view["shown"] and not (view["width"] > 0 and view["height"] > 0):
            problems.append(f"widget {model_id} rendered with no size")
    as_text = WIDGET_AS_TEXT.findall(seen.outputs_text) + [
        o["text"] for o in expected if first_line(o["text"]) and first_line(o["text"]) in seen.outputs_text
    ]
    problems += [f"a widget is shown as text: {t.strip()[:60]!r}" for t in as_text]
    assert not problems, f"{page}:\n" + "\n".join(problems)


@pytest.mark.parametrize("page", PAGES)
def test_maths_render(visit, page):
    maths = visit(page).maths
    problems = [f"not typeset: {m['tex']!r}" for m in maths if not m["rendered"]]
    problems += [f"TeX error in: {m['tex']!r}" for m in maths if m["error"]]
    assert not problems, f"{page}: formulas (is the MathJax JavaScript served?):\n" + "\n".join(problems)


@pytest.mark.parametrize("page", PAGES)
def test_sidebar_lists_every_chapter(visit, page):
    linked = {urlsplit(u).path for u in visit(page).sidebar}
    missing = [c for c in CHAPTERS if f"/{c}.html" not in linked]
    assert not missing, f"{page}: the sidebar has no link to {missing}"


def test_sidebar_links_reach_every_chapter(browser_context, book_url):
    """Read the book as a reader does: from the first page, click the next chapter in the sidebar."""
    tab = browser_context.new_page()
    # Only the navigation matters here: skip the heavy scripts and the figures.
    tab.route(lambda url: "/_vendor/" in url or "/_images/" in url, lambda route: route.abort())
    tab.goto(book_url + f"{PAGES[0]}.html", wait_until="domcontentloaded")
    for chapter in CHAPTERS:
        target = book_url + f"{chapter}.html"
        hrefs = tab.eval_on_selector_all("nav.bd-docs-nav a.reference.internal", "as => as.map(a => a.href)")
        assert target in hrefs, f"{tab.url}: no sidebar link to {chapter}"
        tab.locator("nav.bd-docs-nav a.reference.internal").nth(hrefs.index(target)).click()
        tab.wait_for_url(target, wait_until="domcontentloaded")
        assert tab.locator("h1").first.inner_text().strip(), f"{chapter}: the page has no title"
    tab.close()


def expected_launch_links(page: str) -> dict[str, str]:
    """The launch URL each service needs to open this page's notebook, from _config.yml."""
    cfg = notebook_rules.config()
    repo = cfg["repository"]
    repo_url = repo["url"].rstrip("/")
    org, name = urlsplit(repo_url).path.strip("/").split("/")[:2]
    branch = repo.get("branch", "main")
    path = posixpath.join(repo.get("path_to_book") or "", f"{page}.ipynb")
    buttons = cfg.get("launch_buttons", {})
    ui = "lab/tree" if buttons.get("notebook_interface") == "jupyterlab" else "tree"
    links = {
        "Binder": f"{buttons.get('binderhub_url', '').rstrip('/')}/v2/gh/{org}/{name}/{branch}?urlpath={ui}/{path}",
        # nbgitpuller clones into a folder named after the repository
        "JupyterHub": f"{buttons.get('jupyterhub_url', '').rstrip('/')}/hub/user-redirect/git-pull"
                      f"?repo={repo_url}&urlpath={ui}/{name}/{path}&branch={branch}",
        "Colab": f"{buttons.get('colab_url', '').rstrip('/')}/github/{org}/{name}/blob/{branch}/{path}",
    }
    return {service: url for service, url in links.items() if buttons.get(LAUNCH_SERVICES[service])}


def same_url(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.netloc, pa.path.rstrip("/")) == (pb.scheme, pb.netloc, pb.path.rstrip("/")) and parse_qs(
        pa.query
    ) == parse_qs(pb.query)


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_launch_links_open_this_notebook(visit, page):
    expected = expected_launch_links(page)
    assert expected, "no launch service is configured in _config.yml"
    notebook = ROOT / (notebook_rules.config()["repository"].get("path_to_book") or "") / f"{page}.ipynb"
    assert notebook.exists(), f"the launch links would open {notebook}, which does not exist"
    found = visit(page).launch
    wrong = []
    for service, url in expected.items():
        links = found.get(service, [])
        if len(links) != 1 or not same_url(links[0], url):
            wrong.append(f"{service}: {links or 'no link'}, expected {url}")
    assert not wrong, f"{page}: wrong launch links:\n" + "\n".join(wrong)


@pytest.mark.parametrize("page", CHAPTERS)
def test_search_finds_a_word_from_each_chapter(browser_context, book_url, page):
    word = search_word(page)
    tab = browser_context.new_page()
    errors = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(book_url + f"search.html?q={word}")
    tab.wait_for_function("() => document.querySelector('#search-results .search-summary')?.innerText.trim()")
    found = {urlsplit(u).path for u in tab.eval_on_selector_all("#search-results ul.search a", "as => as.map(a => a.href)")}
    tab.close()
    assert not errors, f"search page errors: {errors}"
    assert f"/{page}.html" in found, f"searching {word!r} does not find {page}; it finds {sorted(found)}"


@pytest.mark.parametrize("page", PAGES)
def test_screenshot_of_every_page(visit, page):
    shot = visit(page).screenshot
    assert shot.exists() and shot.stat().st_size > 10_000, f"no screenshot of {page} at {shot}"


# ------------------------------------------------------------- accessibility (axe-core)

AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # pinned in package.json, installed by npm ci
AXE_FAILING_IMPACTS = ("critical", "serious")
# Violations of the theme's own buttons (pydata-sphinx-theme 0.17, sphinx-book-theme 1.3), on
# every page whatever the book holds. Each is matched by rule id AND a class of the theme's own
# on the element itself (the selector axe reports varies from page to page: ".nav-link" where
# the page has no other), so nothing in the book's own content is ever excused.
AXE_THEME_ALLOWED = {
    ("label-content-name-mismatch", "search-button__button"):
        "the theme's search button (navbar and sidebar): aria-label 'Search', while its visible text also "
        "shows the shortcut Ctrl+K",
    ("label-content-name-mismatch", "theme-switch-button"):
        "the theme's colour-mode switch: aria-label 'Color mode', while its icons are titled Light, Dark, System Settings",
}
_OWN_CLASSES = re.compile(r'^<[\w-]+[^>]*?\sclass="([^"]*)"')


def axe_failures(violations: list[dict]) -> list[str]:
    """The critical and serious violations that the theme allow-list does not excuse, one line per element."""
    found = []
    for violation in violations:
        if violation["impact"] not in AXE_FAILING_IMPACTS:
            continue
        for node in violation["nodes"]:
            selector = " ".join(str(part) for part in node["target"])
            own = _OWN_CLASSES.match(node.get("html", ""))
            classes = own.group(1).split() if own else []
            if not any((violation["id"], c) in AXE_THEME_ALLOWED for c in classes):
                why = (node.get("failureSummary") or "").strip().splitlines()
                found.append(
                    f"{violation['impact']} {violation['id']} ({violation['help']}): {selector}\n"
                    f"    {node['html'][:160]}\n    {why[-1].strip() if why else ''}"
                )
    return found


def test_the_axe_allow_list_excuses_only_the_theme():
    theme = {"id": "label-content-name-mismatch", "impact": "serious", "help": "h",
             "nodes": [{"target": [".nav-link"], "html": '<button class="btn nav-link theme-switch-button" aria-label="Color mode">'}]}
    book = {"id": "label-content-name-mismatch", "impact": "serious", "help": "h",
            "nodes": [{"target": [".widget-button"], "html": '<button class="widget-button"><span class="theme-switch-button">'}]}
    other_rule = dict(theme, id="color-contrast")
    minor = dict(book, impact="moderate")
    assert axe_failures([theme, minor]) == []
    assert len(axe_failures([book, other_rule])) == 2


@pytest.mark.parametrize("page", PAGES)
def test_axe_finds_no_serious_violation_in_the_books_content(browser_context, book_url, built_book, page):
    """axe-core, injected into the built page once its widgets, maths and images are rendered,
    reports no critical or serious violation beyond the theme's own (AXE_THEME_ALLOWED)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    if not AXE_JS.exists():
        if shutil.which("npm") is None:
            pytest.skip("axe-core comes from npm (package.json) and npm is not installed: install Node.js/npm")
        pytest.fail(f"{AXE_JS.relative_to(ROOT)} is missing although npm is installed: run `npm ci`")
    require_offline_js(page, built_book / f"{page}.html")
    tab = browser_context.new_page()
    try:
        tab.goto(book_url + f"{page}.html", wait_until="load")
        try:
            tab.wait_for_function(JS_ALL_VIEWS_RENDERED, timeout=WIDGET_RENDER_TIMEOUT_MS)
            if tab.locator("span.math, div.math").count():
                tab.wait_for_function(JS_MATHS_TYPESET, timeout=WIDGET_RENDER_TIMEOUT_MS)
            tab.evaluate(JS_IMAGES_SETTLED)
            tab.wait_for_load_state("networkidle", timeout=NETWORK_IDLE_TIMEOUT_MS)
        except PlaywrightTimeout:
            pass  # the other browser tests say what did not render; check what is there
        tab.add_script_tag(path=str(AXE_JS))
        results = tab.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    finally:
        tab.close()
    failures = axe_failures(results["violations"])
    assert not failures, f"{page}: axe-core found {len(failures)} critical or serious problems:\n" + "\n".join(failures)


class _ImageParser(html.parser.HTMLParser):
    """The alt text of each figure that MyST-NB wrote from a cell's image output (src in _images/)."""

    def __init__(self):
        super().__init__()
        self.alts: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img" and "/_images/" in f"/{attrs.get('src') or ''}":
            self.alts.append(attrs.get("alt"))


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_every_figure_on_the_page_has_its_alt_sentence(book_build, page):
    """The <img> of each figure carries its cell's `#| alt:` sentence, not MyST-NB's default (its file path)."""
    nb = nbformat.read(ROOT / f"{page}.ipynb", as_version=4)
    expected = [
        notebook_rules.cell_options(cell.source).get("alt")
        for cell in nb.cells
        if notebook_rules.has_image_output(cell) and not REMOVE_OUTPUT_TAGS & set(cell.metadata.get("tags", []))
        for output in cell.outputs if any(m in output.get("data", {}) for m in notebook_rules.IMAGE_MIMES)
    ]
    parser = _ImageParser()
    parser.feed((book_build.html / f"{page}.html").read_text(encoding="utf-8"))
    problems = [f"{alt!r}: {notebook_rules.alt_text_problem(alt)}" for alt in parser.alts if notebook_rules.alt_text_problem(alt)]
    assert not problems, f"{page}: figures whose alt text is not a sentence:\n" + "\n".join(problems)
    assert parser.alts == expected, f"{page}: the figures' alt texts differ from their cells' `#| alt:` lines"

"""The built website in a real browser, offline: every page as a reader opens it.

Each page is opened by file:// in headless Chromium with every request that would
leave the machine aborted and recorded, as for a reader offline or on a school
network. A page must throw no error, log no console error, load every local file it
asks for, ask nothing of another server, typeset all its math and show no raw TeX,
and weigh (with everything it loads) at most 2 MB, or a chapter 2.5 MB besides its
explorers' recordings.

To test a page's explorer, add a test that takes `site_page` (one opened page per
parameter, shared by the tests of this module) or call `open_offline` with a query
string, e.g. `open_offline(browser, site, CHAPTERS[2], "?lr=0.1")`, to check that a
link restores the controls' state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from chromium import LOCAL_SCHEMES
from conftest import ROOT


def toc_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    files += [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [f"{f}.html" for f in files]


PAGES = toc_pages() + ["search.html"]
CHAPTERS = [p for p in PAGES if p.count("/") == 2]  # book/<chapter>/<notebook>.html


@dataclass
class OfflinePage:
    """A page opened offline, and what happened while it loaded (and since)."""

    page: object  # playwright.sync_api.Page
    rel: str  # the page's path in the site
    url: str
    errors: list[str] = field(default_factory=list)  # page errors, console errors, failed loads
    offsite: list[str] = field(default_factory=list)  # requests aborted: they would leave
    loaded: list[str] = field(default_factory=list)  # the local files it asked for

    def close(self):
        self.page.context.close()


# The views readers open pages in: light and dark colours (the theme follows the
# system's), at a desktop's width and a phone's.
VIEWS = {
    "light-1280": dict(color_scheme="light", viewport={"width": 1280, "height": 900}),
    "dark-1280": dict(color_scheme="dark", viewport={"width": 1280, "height": 900}),
    "light-390": dict(color_scheme="light", viewport={"width": 390, "height": 844},
                      is_mobile=True, has_touch=True, device_scale_factor=3),
    "dark-390": dict(color_scheme="dark", viewport={"width": 390, "height": 844},
                     is_mobile=True, has_touch=True, device_scale_factor=3),
}


def open_offline(browser, site: Path, rel: str, query: str = "",
                 typeset: bool = True, init_script: str | None = None,
                 **context_options) -> OfflinePage:
    """Open site/rel (plus a ?query) offline and wait until its math is typeset.

    `context_options` go to the browser context: e.g. one of VIEWS. `init_script`
    runs in the page before any of its own scripts.
    """
    context = browser.new_context(**context_options)
    if init_script:
        context.add_init_script(init_script)
    opened = OfflinePage(page=None, rel=rel, url=(site / rel).as_uri() + query)

    def route(r):
        if r.request.url.startswith(LOCAL_SCHEMES):
            r.continue_()
        else:
            opened.offsite.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = opened.page = context.new_page()
    page.on("pageerror", lambda e: opened.errors.append(f"page error: {e}"))
    page.on("console", lambda m: m.type == "error" and opened.errors.append(
        f"console error: {m.text} ({m.location.get('url', '')})"))
    page.on("requestfailed", lambda r: r.url.startswith("file:") and opened.errors.append(
        f"failed to load {r.url}: {r.failure}"))
    page.on("websocket", lambda ws: opened.offsite.append(ws.url))
    page.on("request", lambda r: r.url.startswith("file:") and opened.loaded.append(r.url))
    page.goto(opened.url, wait_until="load")
    if typeset:
        wait_for_math(page)
    return opened


def wait_for_math(page):
    # KaTeX's auto-renderer typesets on DOMContentLoaded, before `load`; this waits for
    # the page to be complete, for a caller that opened it with an earlier wait.
    page.wait_for_function("document.readyState === 'complete'")


@pytest.fixture(scope="module", params=PAGES)
def site_page(request, browser, site):
    opened = open_offline(browser, site, request.param)
    yield opened
    opened.close()


# What a reader sees as prose: the page's main text without code, outputs and typeset math.
PROSE_JS = """() => {
    const main = (document.querySelector('main') || document.body).cloneNode(true);
    main.querySelectorAll('pre, code, script, style, .katex, .cell_output')
        .forEach(e => e.remove());
    return main.textContent;
}"""

# Formulas, and those KaTeX typeset without error (an error shows as .katex-error).
MATH_JS = """() => {
    const math = [...document.querySelectorAll('main .math')];
    return [math.length, math.filter(e => e.querySelector('.katex')
                                      && !e.querySelector('.katex-error')).length];
}"""


def test_no_page_or_console_errors(site_page):
    assert site_page.errors == []


def test_no_request_leaves_the_machine(site_page):
    assert site_page.offsite == []


def test_math_is_typeset_and_no_raw_tex_shows(site_page):
    total, typeset = site_page.page.evaluate(MATH_JS)
    assert typeset == total, f"{total - typeset} of {total} formulas not typeset"
    if site_page.rel in CHAPTERS:  # so that this cannot pass by finding no math at all
        assert total > 0
    prose = site_page.page.evaluate(PROSE_JS)
    for raw in ("$$", "\\frac", "\\(", "\\[", "\\begin{"):
        assert raw not in prose
    # A TeX command or a caret power in text (a link's text taken from a heading with
    # math, a bibliography field) shows raw: "\\pi/2", "1/N^2", "\\emph".
    assert re.findall(r"\\[A-Za-z]+|\w\^[\w{]", prose) == []


PAGE_BYTES = 2_000_000  # a page without an explorer, with everything it loads
CHAPTER_BYTES = 2_500_000  # a chapter: its explorers' recordings plus this
EXPLORER_BYTES_JS = """() => [...document.querySelectorAll('.cl-explorer')]
    .reduce((n, e) => n + new Blob([e.outerHTML]).size, 0)"""


def test_page_weight(site_page):
    # Everything the page loaded, by the size of each file on disk (once per file).
    files = {Path(unquote(urlparse(u).path)) for u in site_page.loaded}
    total = sum(f.stat().st_size for f in files if f.is_file())
    explorers = site_page.page.evaluate(EXPLORER_BYTES_JS)
    budget = explorers + CHAPTER_BYTES if explorers else PAGE_BYTES
    heaviest = sorted(files, key=lambda f: -f.stat().st_size if f.is_file() else 0)[:4]
    assert total <= budget, (f"{total / 1e6:.2f} MB (explorers {explorers / 1e6:.2f} MB); "
                             f"heaviest: {[f.name for f in heaviest]}")


def test_no_widget_text_shows_instead_of_a_widget(site_page):
    text = site_page.page.evaluate("() => document.body.innerText")
    for repr_start in ("VBox(children", "HBox(children", "interactive(children", "Output()"):
        assert repr_start not in text


def test_the_site_index_opens_the_first_page_offline(browser, site):
    opened = open_offline(browser, site, "index.html", typeset=False)
    try:
        opened.page.wait_for_url("**/" + PAGES[0])
        opened.page.wait_for_load_state("load")
        wait_for_math(opened.page)
        assert opened.errors == [] and opened.offsite == []
    finally:
        opened.close()

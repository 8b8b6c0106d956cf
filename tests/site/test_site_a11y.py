"""Every page of the built website as readers with different needs open it.

Each page (offline, by file://) in light and dark colours, at a desktop width
(1280x900) and a phone's (390x844):

- axe-core (tests/site/vendor/axe-core, WCAG 2.0/2.1/2.2 A and AA) finds nothing,
  including in the markup the theme, myst-nb and KaTeX produce (book/_ext/postprocess.py
  and book/_static/a11y.css mend what they get wrong);
- every image has alt text that says something: not empty, not a file path, not
  a copy of its caption;
- at 1280 no typeset formula is wider than the text column;
- at 390 the page never scrolls sideways and no formula is cut off at its left.

A search for a word of the book, offline, lists the pages with no page or console
error (Sphinx's search would fetch each result page for a snippet; file:// refuses).
"""

from __future__ import annotations

import json

import pytest
from conftest import ROOT
from test_site_browser import PAGES, VIEWS, open_offline

AXE = (ROOT / "tests" / "site" / "vendor" / "axe-core" / "axe.min.js").read_text()
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
RUN_AXE = """async tags => {
    const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, preload: false,
                                       resultTypes: ['violations']});
    return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' +
                                       n.failureSummary.split('\\n').slice(1, 2))}));
}"""

IMAGES = """() => [...document.querySelectorAll('main img')].map(img => {
    const fig = img.closest('figure');
    const cap = fig && fig.querySelector('figcaption');
    return {src: img.getAttribute('src'), alt: img.getAttribute('alt'),
            caption: cap ? cap.innerText.replace(/^Fig\\.\\s*[\\d.]+\\s*/, '').trim() : ''};
})"""

# Each typeset display formula against its column. An equation number sits at the
# column's right edge, so a numbered formula must fit in the column beside it.
WIDE_MATH = """() => [...document.querySelectorAll('main div.math')].filter(col => {
        const html = col.querySelector('.katex-html');
        if (!html) return false;
        const range = document.createRange();
        range.selectNodeContents(html);  // the formula's ink, however its boxes are set
        const number = col.querySelector('.eqno');
        const need = range.getBoundingClientRect().width
            + (number ? number.getBoundingClientRect().width : 0);
        return need > col.getBoundingClientRect().width + 1;
    }).map(col => (col.closest('[id]') || {}).id + ': ' + col.textContent.slice(0, 40))"""


@pytest.fixture(scope="module", params=[(p, v) for p in PAGES for v in VIEWS],
                ids=lambda pv: f"{pv[0]}-{pv[1]}")
def viewed_page(request, browser, site):
    rel, view = request.param
    opened = open_offline(browser, site, rel, **VIEWS[view])
    opened.view = view
    yield opened
    opened.close()


def test_axe_finds_no_violations(viewed_page):
    page = viewed_page.page
    page.add_script_tag(content=AXE)
    violations = page.evaluate(RUN_AXE, WCAG_AA)
    assert violations == [], json.dumps(violations, indent=1)


def test_every_image_says_what_it_shows(viewed_page):
    if viewed_page.view != "light-1280":
        pytest.skip("the same images in every view")
    for img in viewed_page.page.evaluate(IMAGES):
        alt = (img["alt"] or "").strip()
        assert alt, f"{img['src']}: no alt text"
        assert not alt.endswith((".png", ".svg", ".jpg")) and "_images/" not in alt, \
            f"{img['src']}: alt text is a path"
        assert alt != img["caption"], f"{img['src']}: alt text repeats the caption"


def test_no_formula_is_wider_than_its_column(viewed_page):
    if viewed_page.view != "light-1280":
        pytest.skip("checked at the desktop width")
    assert viewed_page.page.evaluate(WIDE_MATH) == []


# On a phone: the page never scrolls sideways (long inline code wraps, tables fit),
# and a formula wider than the screen starts at its left edge (it scrolls inside its
# own box) instead of being cut off where nothing can scroll to.
PHONE_LAYOUT = """() => [document.documentElement.scrollWidth,
    [...document.querySelectorAll('main div.math .katex-html')]
        .filter(h => h.getBoundingClientRect().left
                     < h.closest('div.math').getBoundingClientRect().left - 1)
        .map(h => h.textContent.slice(0, 30))]"""


def test_a_phone_never_scrolls_the_page_sideways(viewed_page):
    if viewed_page.view != "light-390":
        pytest.skip("checked at the phone's width")
    width, cut = viewed_page.page.evaluate(PHONE_LAYOUT)
    assert width <= 390, f"the page is {width} px wide"
    assert cut == [], f"formulas cut off at the left: {cut}"


def test_search_works_offline(browser, site):
    opened = open_offline(browser, site, "search.html", "?q=broadcast", typeset=False)
    try:
        results = opened.page.locator("#search-results li")
        results.first.wait_for(timeout=15000)
        opened.page.wait_for_timeout(1500)  # any per-result fetch has failed by now
        assert results.count() > 0
        assert opened.errors == [] and opened.offsite == []
    finally:
        opened.close()

"""Mend the written pages where the theme and extensions serve readers badly.

Each rewrite below is one small, exact replacement in the written HTML files, made
when the build finishes (Sphinx's ``build-finished`` event), because the markup comes
from templates of pinned packages that offer no setting for it.

For readers of assistive technology (tests/site/test_site_a11y.py runs axe-core on
every page):

- myst-nb's folded cells: ``<summary aria-label="Toggle hidden content">`` hides the
  visible text ("Show code cell source") from screen readers behind another name.
  Without the label, the summary's visible text is its name.
- pydata-sphinx-theme's search button is named "Search" while it shows "Search
  Ctrl+K"; without the label its name is what it shows.
- the theme's colour-mode button is named "Color mode" while its icons carry titles
  ("Light", "Dark", "System Settings") that become its visible text. The icons are
  decoration (aria-hidden, no title), so the button's name is the one it shows in
  its tooltip.
- sphinxcontrib-bibtex / docutils mark each reference ``role="doc-biblioentry"``,
  a role ARIA 1.3 deprecates, inside ``role="list"``; a list's items are
  ``role="listitem"``.

For keyboard readers: a chapter with an explorer gets a second skip link, "Skip to
the explorer", beside the theme's "Skip to main content".

For readers who download a chapter: the download button's notebook is the reader
edition (``reader_sources``).

For the page's weight (tests/site/test_site_browser.py weighs every page):

- pydata-sphinx-theme loads Font Awesome twice: its stylesheet has the icon font and
  every icon's class, and ``fontawesome.js`` (1.5 MB) swaps each icon for an SVG. The
  script goes; the icons are drawn from the font.
- myst-nb asks Sphinx to put the math renderer on every page; a page with no math
  (nothing of class ``math``) loses KaTeX's script, stylesheet and auto-renderer.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

REWRITES = [
    (re.compile(r'<summary aria-label="Toggle hidden content">'), "<summary>"),
    (re.compile(r'(<button class="btn search-button-field[^>]*?) aria-label="Search"'), r"\1"),
    (re.compile(r'(<i class="theme-switch [^"]*"[^>]*?) title="[^"]*"></i>'),
     r'\1 aria-hidden="true"></i>'),
    (re.compile(r'role="doc-biblioentry"'), 'role="listitem"'),
    # (Layout, not accessibility: site.css wraps this one code block's long pip line.)
    (re.compile(r'<pre><span></span><span class="c1"># Colab only'),
     '<pre class="cl-wrap"><span></span><span class="c1"># Colab only'),
]


FONTAWESOME_JS = re.compile(r'<script defer src="[^"]*/scripts/fontawesome\.js[^"]*"></script>\n?')
KATEX = [re.compile(r'<link rel="stylesheet" type="text/css" href="[^"]*/(?:vendor/katex/'
                   r'katex\.min|katex-math)\.css[^"]*" />\n?'),
         re.compile(r'<script src="[^"]*/(?:katex\.min|auto-render\.min|katex_autorenderer)'
                   r'\.js[^"]*"></script>\n?')]


SKIP_LINK = ('<div id="pst-skip-link" class="skip-link d-print-none">'
             '<a href="#main-content">Skip to main content</a></div>')
EXPLORER = re.compile(r'<div class="cl-explorer" id="(cl-[\w-]+)"')


# An inline code word such as `softmax-before-cross-entropy` cannot wrap, so on a
# phone it widens its table or heading past the screen. A line break opportunity
# (<wbr>) after each -, _, . or / inside such a word lets it wrap there and nowhere
# else (site.css lets span.pre wrap; copying the text copies no extra character).
INLINE_CODE = re.compile(r'<span class="pre">([^<]{13,})</span>')


def breakable(match: re.Match) -> str:
    return ('<span class="pre">' + re.sub(r"([-_./])(?=\w)", r"\1<wbr>", match.group(1))
            + "</span>")


def mend(html: str) -> str:
    for pattern, replacement in REWRITES:
        html = pattern.sub(replacement, html)
    html = INLINE_CODE.sub(breakable, html)
    # A chapter's first explorer is a hundred or more Tab presses down the page (each
    # code cell has a copy button): a second skip link, beside the theme's, goes there.
    explorer = EXPLORER.search(html)
    if explorer and SKIP_LINK in html:
        html = html.replace(SKIP_LINK, SKIP_LINK + '\n<div class="skip-link d-print-none">'
                            f'<a href="#{explorer.group(1)}">Skip to the explorer</a></div>', 1)
    html = FONTAWESOME_JS.sub("", html)
    if 'class="math' not in html:
        for pattern in KATEX:
            html = pattern.sub("", html)
    return html


def reader_sources(outdir: Path) -> None:
    """The page's download button gives the reader notebook, as Colab gets it.

    The theme links the notebook's copy under _sources/, which is the MyST source
    (directives and roles show raw in Jupyter); each is replaced by the plain-Jupyter
    edition tools/reader_notebooks.py writes for Colab.
    """
    import nbformat

    sys.path.insert(0, str(ROOT / "tools"))
    import reader_notebooks

    base_url, labels = reader_notebooks.site_url(), reader_notebooks.book_labels()
    for source in (outdir / "_sources").rglob("*.ipynb"):
        rel = source.relative_to(outdir / "_sources").as_posix()
        nb = nbformat.read(ROOT / rel, as_version=4)
        nbformat.write(reader_notebooks.reader_notebook(nb, rel, base_url, labels), source)


def mend_site(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for path in Path(app.outdir).rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        mended = mend(text)
        if mended != text:
            path.write_text(mended, encoding="utf-8")
    reader_sources(Path(app.outdir))


def setup(app):
    app.connect("build-finished", mend_site)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

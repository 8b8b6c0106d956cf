"""The book's PDF (tools/build_pdf.py, `make pdf`): built offline, with every chapter.

The single-page site is built into a temporary folder and printed by the system's
Chromium; the PDF's text must hold every chapter's and appendix page's title, no raw
TeX, and none of the site's navigation or fold prompts; each explorer prints its
fallback picture instead of its canvas and controls.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from build_pdf import PDF_NAME, build_single_page, print_pdf
from conftest import ROOT
from pypdf import PdfReader
from test_site_browser import open_offline, toc_pages


def plain(text: str) -> str:
    text = text.translate(str.maketrans("\u201c\u201d\u2018\u2019", "\"\"''"))
    return re.sub(r"\s+", " ", text)


def page_title(rel_html: str) -> str:
    source = ROOT / rel_html.removesuffix(".html")
    path = next(source.parent.glob(source.name + ".*"))
    if path.suffix == ".ipynb":
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                         if c.cell_type == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    return re.search(r"^# (.+)$", text, re.MULTILINE).group(1).strip()


@pytest.fixture(scope="module")
def single_page(tmp_path_factory):
    return build_single_page(tmp_path_factory.mktemp("pdf"))


@pytest.fixture(scope="module")
def pdf(single_page, browser):
    print_pdf(single_page, single_page.parent / PDF_NAME, browser)
    return PdfReader(single_page.parent / PDF_NAME)


def test_the_pdf_has_every_page_of_the_book(pdf):
    text = plain(" ".join(page.extract_text() for page in pdf.pages))
    for rel in toc_pages():
        title = plain(page_title(rel).replace("`", ""))
        assert title in text, f"{rel}: {title!r} not in the PDF"
    for chrome in ("Show code cell", "Skip to main content", "Search Ctrl+K"):
        assert chrome not in text
    # Untypeset math (code may print "\\n{" or "$", so only TeX's own words count).
    assert re.findall(r"\\(?:frac|begin|pi|lVert|mathrm|emph)\b|\$\$", text) == []


PRINTED = """() => [...document.querySelectorAll('.cl-explorer')].map(e => [
    getComputedStyle(e.querySelector('img.cl-fallback')).display,
    e.querySelector('canvas') ? getComputedStyle(e.querySelector('canvas')).display : 'none',
    getComputedStyle(e.querySelector('.cl-controls') || e).display])"""


def test_explorers_print_their_default_picture(single_page, browser):
    opened = open_offline(browser, single_page.parent, single_page.name)
    try:
        opened.page.wait_for_function(
            "[...document.querySelectorAll('.cl-explorer')].every(e => e.dataset.rendered)")
        opened.page.emulate_media(media="print")
        printed = opened.page.evaluate(PRINTED)
        assert len(printed) >= 9
        assert all(img == "block" and canvas == "none" and controls == "none"
                   for img, canvas, controls in printed), printed
    finally:
        opened.close()


def test_the_site_links_the_pdf(site):
    # `make book` writes the PDF at the site's root (tools/build_pdf.py).
    intro = (site / "book" / "intro.html").read_text(encoding="utf-8")
    assert f'href="../{PDF_NAME}"' in intro

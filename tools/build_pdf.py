"""The whole book as one PDF, built offline: the single-page site printed by Chromium.

    python tools/build_pdf.py                 # writes _build/html/why-wont-it-converge.pdf
    python tools/build_pdf.py OUT_DIR         # writes OUT_DIR/why-wont-it-converge.pdf

`make pdf` runs this after the website's build; the book's introduction links the
file at the site's root. No TeX: Jupyter Book builds the single-page HTML
(`--builder singlehtml`, into _build/singlehtml), and the system's Chromium
(tools/chromium.py) opens it by file://, with every request that would leave the
machine refused (KaTeX typesets the math before `load`), and prints it to A4 with page
numbers. The print rules of book/_static/site.css show each explorer's fallback
picture (its default setting) instead of its canvas and controls.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from chromium import ARGS, LOCAL_SCHEMES, chromium_path

ROOT = Path(__file__).resolve().parents[1]
PDF_NAME = "why-wont-it-converge.pdf"
JUPYTER_BOOK = str(Path(sys.executable).with_name("jupyter-book"))
FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#555">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


def build_single_page(build_root: Path) -> Path:
    """Build the single-page HTML under build_root/_build/singlehtml; return its page.

    Sphinx writes the page where the book's first page lives (book/intro.html) but
    makes every link in it relative to the output's root, so the page to print is a
    copy at the root (book.html), with its links into itself made in-page anchors.
    """
    proc = subprocess.run(
        [JUPYTER_BOOK, "build", str(ROOT), "--builder", "singlehtml", "--path-output",
         str(build_root), "--warningiserror", "--nitpick", "--keep-going"],
        capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise SystemExit(proc.stdout[-3000:] + proc.stderr[-3000:])
    out = build_root / "_build" / "singlehtml"
    html = (out / "book" / "intro.html").read_text(encoding="utf-8")
    (out / "book.html").write_text(html.replace('href="book/intro.html#', 'href="#'),
                                   encoding="utf-8")
    return out / "book.html"


def print_pdf(page: Path, pdf: Path, browser=None) -> None:
    """Print `page` to `pdf` offline, in `browser` (a playwright Browser) or the system's."""
    if browser is None:
        from playwright.sync_api import sync_playwright

        path = chromium_path()
        if path is None:
            raise SystemExit("no Chromium found: apt-get install chromium, or set CHROMIUM")
        with sync_playwright() as p:
            launched = p.chromium.launch(executable_path=path, args=ARGS)
            try:
                return print_pdf(page, pdf, launched)
            finally:
                launched.close()
    context = browser.new_context()
    try:
        context.route("**/*", lambda r: r.continue_()
                      if r.request.url.startswith(LOCAL_SCHEMES) else r.abort())
        tab = context.new_page()
        tab.goto(page.as_uri(), wait_until="load", timeout=120_000)
        pdf.parent.mkdir(parents=True, exist_ok=True)
        tab.pdf(path=str(pdf), format="A4", print_background=True,
                margin={"top": "18mm", "bottom": "18mm", "left": "16mm", "right": "16mm"},
                display_header_footer=True, header_template="<div></div>",
                footer_template=FOOTER)
    finally:
        context.close()


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "_build" / "html"
    page = build_single_page(ROOT)
    print_pdf(page, out / PDF_NAME)
    print(f"{out / PDF_NAME}: {(out / PDF_NAME).stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

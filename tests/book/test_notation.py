"""The notation page lists, for every symbol, exactly the chapters whose math uses it.

A chapter added later, or a symbol a chapter starts using, fails here until the page
says so. A symbol is found in a chapter's markdown math ($...$ and $$...$$): a single
letter as a token (not inside a longer name or a command such as \\exp), a command
such as \\eta as itself. The two symbols with two meanings in the book are told apart by
form: sigma applied to something is the sigmoid, sigma alone the noise's spread.
"""

import functools
import re

import pytest
from conftest import ROOT, book_notebooks, load

PAGE = ROOT / "book" / "notation.md"
MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$]+?)\$", re.S)


def token(letter):
    return rf"(?<![A-Za-z\\]){letter}(?![A-Za-z])"


# The symbol column's text -> how it is found, where the default below does not do.
PATTERNS = {
    r"N": r"(?<![A-Za-z\\])(?<!\\mathcal )(?<!\\mathcal)N(?![A-Za-z])",
    r"L(\theta)": token("L"),
    r"h(N)": r"(?<![A-Za-z\\])h\(",
    r"r_i": r"(?<![A-Za-z\\])r_",
    r"\sigma": r"\\sigma(?![A-Za-z])(?!\s*[('])",
    r"\sigma(z)": r"\\sigma\s*[(']",
    r"\mathcal N(\mu, s^2)": r"\\mathcal\s*N",
    r"p, p_k": r"(?<![A-Za-z\\])p(?![A-Za-z])",
}


def pattern(symbol):
    if symbol in PATTERNS:
        return PATTERNS[symbol]
    if re.fullmatch(r"[A-Za-z]", symbol):
        return token(symbol)
    if re.fullmatch(r"\\[A-Za-z]+", symbol):
        return re.escape(symbol) + r"(?![A-Za-z])"
    return re.escape(symbol)


@functools.cache  # read the notebooks once, not once per symbol row
def chapter_math():
    """Each chapter's label (its first line, `(label)=`) -> its markdown math."""
    chapters = {}
    for path in book_notebooks():
        cells = load(path).cells
        label = re.match(r"\((.+?)\)=", cells[0].source).group(1)
        text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
        chapters[label] = "\n".join(a or b for a, b in MATH.findall(text))
    return chapters


def symbol_rows():
    rows = [line for line in PAGE.read_text().splitlines() if line.startswith("| $")]
    for line in rows:
        symbol_cell, _, _, chapter_cell = (c.strip() for c in line.strip("|").split("|"))
        symbol = ", ".join(re.findall(r"\$([^$]+)\$", symbol_cell))
        yield symbol, set(re.findall(r"<([^>]+)>`", chapter_cell))


ROWS = list(symbol_rows())


def test_the_page_has_symbol_rows():
    assert len(ROWS) >= 15


@pytest.mark.parametrize(("symbol", "listed"), ROWS, ids=[s for s, _ in ROWS])
def test_every_chapter_that_uses_a_symbol_is_listed(symbol, listed):
    used = {label for label, math in chapter_math().items()
            if re.search(pattern(symbol), math)}
    assert listed == used, (
        f"${symbol}$: add {sorted(used - listed)}, remove {sorted(listed - used)}"
    )

"""The website: a warnings-as-errors build that shows what the notebooks show."""

import html
import re

import pytest
from conftest import ROOT, book_notebooks, load

# The `site` fixture (conftest.py) builds the website once per test session.


def page_for(site, notebook):
    return site / notebook.relative_to(ROOT).with_suffix(".html")


def visible_text(page_html):
    text = re.sub(r"<[^>]+>", "", page_html)
    return html.unescape(text)


def test_the_site_has_an_index(site):
    assert (site / "index.html").exists()


@pytest.mark.parametrize("notebook", book_notebooks(), ids=lambda p: p.name)
def test_page_shows_every_printed_line_and_figure(site, notebook):
    page = page_for(site, notebook).read_text()
    text = visible_text(page)
    nb = load(notebook)
    pngs = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            if out.output_type == "stream" and out.name == "stdout":
                for line in out.text.splitlines():
                    assert line.strip() in text, f"not on the page: {line!r}"
            pngs += "image/png" in out.get("data", {})
    assert pngs > 0
    assert len(re.findall(r"<img[^>]+src=\"[^\"]+\.png\"", page)) >= pngs


@pytest.mark.parametrize("notebook", book_notebooks(), ids=lambda p: p.name)
def test_colab_button_opens_this_notebook_on_main(site, notebook, config):
    page = page_for(site, notebook).read_text()
    org_repo = config["repository"]["url"].removeprefix("https://github.com/").rstrip("/")
    links = set(re.findall(r"https://colab\.research\.google\.com/github/([^\"]+)", page))
    rel = notebook.relative_to(ROOT).as_posix()
    assert links == {f"{org_repo}/blob/main/{rel}"}
    assert (ROOT / rel).exists()


def test_extensions_are_jupyter_books_defaults_without_thebe(config):
    # _config.yml lists them only to leave out sphinx_thebe (see the comment there);
    # a Jupyter Book upgrade that changes its defaults must show up here.
    from jupyter_book.config import get_default_sphinx_config

    defaults = get_default_sphinx_config()["extensions"]
    listed = config["sphinx"]["config"]["extensions"]
    added = ["sphinx_exercise", "sphinxcontrib.bibtex"]  # the book's own additions
    assert listed == [e for e in defaults if e != "sphinx_thebe"] + added


def test_mathjax_is_vendored_with_its_license(config):
    static = ROOT / config["sphinx"]["config"]["html_static_path"][0]
    entry = static / config["sphinx"]["config"]["mathjax_path"]
    assert entry.is_file() and "://" not in config["sphinx"]["config"]["mathjax_path"]
    assert (entry.parent / "LICENSE").is_file()
    assert (entry.parent / "output" / "chtml" / "fonts" / "woff-v2").is_dir()

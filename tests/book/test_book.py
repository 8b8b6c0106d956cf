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
            data = out.get("data", {})
            # An explorer's output carries a PNG for viewers without HTML; the page
            # shows its HTML (myst-nb's render priority), so that PNG is not an image.
            pngs += "image/png" in data and "text/html" not in data
    assert pngs > 0
    assert len(re.findall(r"<img[^>]+src=\"[^\"]*_images/[^\"]+\.png\"", page)) >= pngs


def test_execution_statistics_page_lists_every_chapter_with_time_and_versions(site):
    import execution_stats

    page = (site / "book" / "status.html").read_text()
    text = visible_text(page)
    stats = execution_stats.load()
    for notebook in book_notebooks():
        rel = notebook.relative_to(ROOT)
        assert f'href="../{rel.with_suffix(".html").as_posix()}' in page or \
            f'href="{rel.relative_to("book").with_suffix(".html").as_posix()}' in page
        entry = stats[rel.as_posix()]
        assert entry["torch"] in text and entry["ipywidgets"] in text
    assert "Time (s)" in text


@pytest.mark.parametrize("notebook", book_notebooks(), ids=lambda p: p.name)
def test_colab_button_opens_this_chapters_reader_notebook(site, notebook, config,
                                                         tmp_path_factory):
    # The `colab` branch holds tools/reader_notebooks.py's output at the same paths.
    import reader_notebooks

    page = page_for(site, notebook).read_text()
    org_repo = config["repository"]["url"].removeprefix("https://github.com/").rstrip("/")
    links = set(re.findall(r"https://colab\.research\.google\.com/github/([^\"]+)", page))
    rel = notebook.relative_to(ROOT).as_posix()
    assert links == {f"{org_repo}/blob/colab/{rel}"}
    out = tmp_path_factory.mktemp("colab")
    assert reader_notebooks.main([str(out)]) == 0
    assert (out / rel).exists()


def test_extensions_are_jupyter_books_defaults_without_thebe(config):
    # _config.yml lists them only to leave out sphinx_thebe (see the comment there);
    # a Jupyter Book upgrade that changes its defaults must show up here.
    from jupyter_book.config import get_default_sphinx_config

    defaults = get_default_sphinx_config()["extensions"]
    listed = config["sphinx"]["config"]["extensions"]
    # the book's own additions (execution_stats, postprocess and single_page are
    # local extensions in book/_ext/)
    added = ["sphinx_exercise", "sphinxcontrib.bibtex", "sphinxcontrib.katex",
             "execution_stats", "postprocess", "single_page"]
    assert listed == [e for e in defaults if e != "sphinx_thebe"] + added


def test_katex_stylesheet_and_fonts_are_vendored_with_their_license(config):
    static = ROOT / config["sphinx"]["config"]["html_static_path"][0]
    css_path = config["sphinx"]["config"]["katex_css_path"]
    css = static / css_path
    assert css.is_file() and "://" not in css_path
    assert (css.parent / "LICENSE").is_file()
    # every WOFF2 font the stylesheet names is there (the browser asks for no other)
    fonts = set(re.findall(r"url\((fonts/[^)]+\.woff2)\)", css.read_text()))
    assert fonts and all((css.parent / f).is_file() for f in fonts)

"""The website: a warnings-as-errors build that shows what the notebooks show."""

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, book_notebooks, load

JUPYTER_BOOK = str(Path(sys.executable).with_name("jupyter-book"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [JUPYTER_BOOK, "build", str(ROOT), "--path-output", str(out), "--all",
         "--warningiserror", "--nitpick", "--keep-going"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "WARNING" not in proc.stdout + proc.stderr
    return out / "_build" / "html"


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

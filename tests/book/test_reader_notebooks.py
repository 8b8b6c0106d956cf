"""What the Colab button opens: plain Jupyter notebooks with no MyST syntax left."""

import re

import nbformat
import pytest
import reader_notebooks as rn
from conftest import ROOT, book_notebooks, load

NOTEBOOKS = book_notebooks()
IDS = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]
BASE = "https://example.org/book/"
# Text that only makes sense on the website (mark such blocks `website-only`).
WEBSITE_ONLY = re.compile(r"rocket icon|on this page|launch button", re.IGNORECASE)


LABELS = {"sec-far": ("Far away", "book/other/page.ipynb"),
          "sec-here": ("Right here", "book/ch/nb.ipynb"),
          "ch-ex2": ("Exercise 2", "book/ch/nb.ipynb")}


def convert(text, rel="book/ch/nb.ipynb", labels=None):
    return rn.Converter(rel, BASE, labels if labels is not None else {}).convert(text)


@pytest.fixture(scope="module")
def readers():
    return {p: rn.reader_notebook(load(p), p.relative_to(ROOT).as_posix(), rn.site_url())
            for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_myst_syntax_reaches_colab(path, readers):
    for cell in readers[path].cells:
        if cell.cell_type == "markdown":
            assert not rn.MYST_LEFTOVERS.search(cell.source), cell.source
            assert not re.search(r"\{[a-z][\w:-]*\}`", cell.source)
            assert "```{" not in cell.source and ":::" not in cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_text_that_only_makes_sense_on_the_website(path, readers):
    for cell in readers[path].cells:
        if cell.cell_type == "markdown":
            assert not WEBSITE_ONLY.search(cell.source), cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_saved_widget_state_but_every_figure_and_the_same_code(path, readers):
    original, reader = load(path), readers[path]
    assert "widgets" not in reader.metadata
    code = [c for c in original.cells if c.cell_type == "code"]
    reader_code = [c for c in reader.cells if c.cell_type == "code"]
    assert [c.source for c in reader_code] == [c.source for c in code]
    for before, after in zip(code, reader_code, strict=True):
        for out in after.outputs:
            assert rn.WIDGET_VIEW not in out.get("data", {})
        pngs = [o for o in before.outputs if "image/png" in o.get("data", {})]
        assert [o for o in after.outputs if "image/png" in o.get("data", {})] == pngs
    nbformat.validate(reader)
    assert load(path) == original  # the book's notebook itself is untouched


def test_admonitions_become_blockquotes_with_a_title():
    text = "Intro\n\n```{admonition} Run it\n:class: tip\nDo *this*.\n```\n\nAfter"
    assert convert(text) == "Intro\n\n> **Run it**\n>\n> Do *this*.\n\nAfter"
    assert convert(":::{note}\nShort.\n:::") == "> **Note**\n>\n> Short."


def test_nested_directives_exercises_and_solutions():
    text = ("````{exercise} Halve it\n:label: ex-half\nTry lr/2.\n```{hint}\nLook at "
            "{ref}`the sweep <sec-sweep>`.\n```\n````\n\n"
            "```{solution} ex-half\n:class: dropdown\nIt converges.\n```")
    out = convert(text)
    assert "> **Halve it**" in out and "> > **Hint**" in out
    assert "> > Look at the sweep." in out
    assert "> **Solution to the exercise**\n>\n> It converges." in out
    assert not rn.MYST_LEFTOVERS.search(out)


def test_website_only_blocks_are_dropped():
    text = "A\n\n```{admonition} Run\n:class: tip website-only\nRocket.\n```\n\nB"
    assert convert(text) == "A\n\nB"
    assert convert("A\n\n```{only} html\nOn this page.\n```\n\nB") == "A\n\nB"


def test_roles_targets_and_relative_links():
    text = ("(sec-x)=\n## X\n\nSee {doc}`the checklist <../checklist>`, {eq}`eq-1`, "
            "{math}`a^2`, {cite}`smith2020`, {numref}`fig-1` and "
            "[intro](../intro.md#why) or [docs](https://pytorch.org) and [up](#x).")
    out = convert(text)
    assert out == (
        "## X\n\nSee [the checklist](https://example.org/book/book/checklist.html), "
        "the equation above, $a^2$, [source](https://example.org/book/book/references.html), "
        "the figure and "
        "[intro](https://example.org/book/book/intro.html#why) or "
        "[docs](https://pytorch.org) and [up](#x).")


def test_code_fences_math_and_figures():
    code = "```python\nx = {'a': 1}  # {ref}`not a role in code`\n```"
    assert convert(code) == code
    assert convert("```{math}\na = b\n```") == "$$\na = b\n$$"
    assert convert("```{code-block} python\nx = 1\n```") == "```python\nx = 1\n```"
    out = convert("```{figure} img/a.png\n:width: 50%\nThe caption.\n```")
    assert out.startswith("![The caption.](https://example.org/book/book/ch/img/a.png)")


def test_directives_inside_lists_keep_their_indentation():
    out = convert("- item\n\n  ```{tip}\n  Inside.\n  ```\n- next")
    assert out == "- item\n\n  > **Tip**\n  >\n  > Inside.\n- next"


def test_cells_left_empty_are_dropped():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# T"),
        nbformat.v4.new_markdown_cell("```{only} html\nOn this page.\n```"),
        nbformat.v4.new_code_cell("1"),
    ])
    reader = rn.reader_notebook(nb, "book/x.ipynb", BASE)
    assert [c.cell_type for c in reader.cells] == ["markdown", "markdown", "code"]
    assert "notebook edition" in reader.cells[1].source


def test_main_writes_every_notebook_at_its_repository_path(tmp_path):
    assert rn.main([str(tmp_path)]) == 0
    for path in NOTEBOOKS:
        assert (tmp_path / path.relative_to(ROOT)).exists()
    assert (tmp_path / "README.md").exists()
    assert rn.main([]) == 2


def test_bare_references_read_as_titles_and_gated_solutions_as_headings():
    out = convert("See {ref}`sec-far`, {ref}`sec-here` and {ref}`ch-ex2`.", labels=LABELS)
    assert out == ("See [\u201cFar away\u201d](https://example.org/book/book/other/page.html"
                   "#sec-far), \u201cRight here\u201d and Exercise 2.")
    start = convert("```{solution-start} ch-ex2\n:class: dropdown\n```", labels=LABELS)
    assert start == "**Solution to Exercise 2**"
    assert convert("```{solution-end}\n```", labels=LABELS) == ""
    exercise = convert("```{exercise}\n:label: ch-ex2\nDo it.\n```", labels=LABELS)
    assert exercise.startswith("> **Exercise 2**")


def test_book_labels_finds_sections_and_exercises(tmp_path):
    page = tmp_path / "book" / "p.md"
    page.parent.mkdir()
    page.write_text("(sec-a)=\n## Alpha\n\n```{exercise}\n:label: p-ex1\nX\n```\n")
    assert rn.book_labels(tmp_path) == {"sec-a": ("Alpha", "book/p.md"),
                                        "p-ex1": ("Exercise 1", "book/p.md")}


def test_citations_read_as_titles_and_equation_labels_are_dropped():
    out = convert("As asked in {cite}`so_manual_init`:\n\n$$\na = b\n$$ (eq-ab)")
    assert out.startswith("As asked in [source](https://example.org/book/book/references.html)")
    assert out.endswith("$$\na = b\n$$")


def test_references_start_sentences_with_a_capital_and_math_stays_on_one_line():
    out = convert("It is flat. {numref}`fig-a` shows it; see {numref}`Figure %s <fig-a>`.")
    assert out == "It is flat. The figure shows it; see the figure."
    quoted = convert("```{exercise}\nDerive $a =\nb$ here.\n```")
    assert "$a = b$" in quoted and not any(line.count("$") == 1 for line in quoted.split("\n"))


def test_folded_cells_stay_folded_and_doc_links_read_as_page_titles(readers):
    nb = next(iter(readers.values()))
    folded = [c for c in nb.cells if "hide-input" in c.metadata.get("tags", [])]
    assert folded and all(c.metadata["jupyter"]["source_hidden"] for c in folded)
    text = convert("See {doc}`../checklist`.", rel="book/ch/nb.ipynb", labels={})
    assert text.startswith("See [The convergence checklist](")


def test_the_sites_download_button_gives_the_reader_notebook(site):
    # The theme's download button links each page's notebook under _sources/;
    # book/_ext/postprocess.py puts the reader edition there.
    for path in NOTEBOOKS:
        rel = path.relative_to(ROOT).as_posix()
        page = (site / rel).with_suffix(".html").read_text(encoding="utf-8")
        assert f'_sources/{rel}"' in page
        downloaded = nbformat.read(site / "_sources" / rel, as_version=4)
        assert downloaded.cells[1].get("id") == "reader-edition-note"
        assert not [c for c in downloaded.cells if c.cell_type == "markdown"
                    and rn.MYST_LEFTOVERS.search(c.source)], rel

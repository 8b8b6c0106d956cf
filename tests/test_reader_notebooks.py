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


def convert(text, rel="book/ch/nb.ipynb"):
    return rn.Converter(rel, BASE).convert(text)


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
    assert "> **Solution**\n>\n> It converges." in out
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
        "(eq-1), $a^2$, [smith2020], fig-1 and "
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

"""Policy for every notebook in the book: what nbval, the website and Colab rely on."""

import re

import pytest
import sync_install_cells
from conftest import ROOT, book_notebooks, field_guide_notebooks, load

import convergence_lab as cl

NOTEBOOKS = book_notebooks()
IDS = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def toc_files(toc):
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return files


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_there_is_at_least_one_chapter():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_listed_in_the_table_of_contents(path, toc):
    stem = str(path.relative_to(ROOT).with_suffix(""))
    assert stem in toc_files(toc)


def test_every_toc_entry_exists(toc):
    for entry in toc_files(toc):
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), entry


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_executed_top_to_bottom_in_one_fresh_kernel(path):
    nb = load(path)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    counts = [c.execution_count for c in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_errors_tracebacks_or_brittle_floats(path):
    for i, cell in enumerate(code_cells(load(path))):
        for out in cell.outputs:
            assert out.output_type != "error", f"code cell {i} stores an error"
            text = out.get("text", "") + out.get("data", {}).get("text/plain", "")
            assert "Traceback" not in text, f"code cell {i} prints a traceback"
            assert not re.search(r"\d\.\d{9,}", text), f"code cell {i} prints a 9+ decimal float"
            # 1e-10 and below is round-off, which differs between CPUs: print the bound.
            tiny = re.search(r"\b\d(\.\d+)?e-(1\d|[2-9]\d)\b", text)
            assert not tiny, f"code cell {i} prints round-off {tiny.group(0)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_opens_with_a_title(path):
    first = load(path).cells[0]
    lines = first.source.splitlines()
    # A chapter opens with its cross-reference label, then its title.
    assert first.cell_type == "markdown" and re.fullmatch(r"\([a-z0-9-]+\)=", lines[0])
    assert lines[1].startswith("# ")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_code_cell_installs_the_helper_at_the_books_release_in_colab_only(
    path, config
):
    # No drift: the cell installs exactly the helper release the page was built
    # with (fix with: python tools/sync_install_cells.py).
    source = code_cells(load(path))[0].source
    repo_url = config["repository"]["url"].rstrip("/")
    assert 'if "google.colab" in sys.modules:' in source
    installs = re.findall(r"pip install (.*)git\+(\S+?)@(v[^\s\"]+)\"", source)
    assert installs == [("--quiet \"convergence-lab @ ", repo_url,
                         f"v{cl.__version__}")], installs
    # %pip prints "you may need to restart the kernel" in Colab; !pip does not.
    assert "%pip" not in source
    assert source == sync_install_cells.install_cell_source()


def test_the_books_version_is_recorded_once():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'attr = "convergence_lab.__version__"' in pyproject
    assert sync_install_cells.book_version() == cl.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", cl.__version__)


def test_colab_launch_points_at_the_reader_notebooks_branch(config):
    # The deploy workflow publishes tools/reader_notebooks.py's output as `colab`.
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert config["repository"]["branch"] == "colab"
    assert config["repository"]["url"].startswith("https://github.com/")
    assert not config["html"].get("use_edit_page_button")  # it would use `colab` too
    pages = (ROOT / ".github" / "workflows" / "pages.yml").read_text()
    assert "tools/reader_notebooks.py" in pages and "HEAD:refs/heads/colab" in pages


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_widget_cells_are_compared_loosely_and_leave_a_plain_figure(path):
    nb = load(path)
    for i, cell in enumerate(code_cells(nb)):
        tags = cell.metadata.get("tags", [])
        assert "nbval-skip" not in tags, f"code cell {i}: later cells need its variables"
        kinds = [set(out.get("data", {})) for out in cell.outputs]
        if any(WIDGET_VIEW in k for k in kinds):
            assert "nbval-ignore-output" in tags, f"code cell {i} shows widgets untagged"
            assert any("image/png" in k for k in kinds), f"code cell {i} leaves no plain figure"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_saved_widget_state(path):
    # The website shows a static explorer; saved state would make it fetch a widget
    # manager from a CDN, and Colab's ipywidgets 7 errors on ipywidgets 8 state.
    # tools/execute_notebooks.py drops it (make execute).
    assert WIDGET_STATE not in load(path).metadata.get("widgets", {}), (
        "widget state saved: re-execute with tools/execute_notebooks.py")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_figures_are_png_and_not_svg(path):
    for cell in code_cells(load(path)):
        for out in cell.outputs:
            assert "image/svg+xml" not in out.get("data", {})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_code_and_printed_lines_fit_the_page(path):
    # The book's code column shows about 79 characters before scrolling sideways.
    # The Colab install cell is folded away on the website, so it may be longer.
    for i, cell in enumerate(code_cells(load(path))[1:], start=1):
        lines = cell.source.splitlines()
        lines += [ln for out in cell.outputs for ln in out.get("text", "").splitlines()]
        # A link cannot wrap: checkup's "read: <url>" line may run past the column.
        too_long = [ln for ln in lines if len(ln) > 79
                    and not re.fullmatch(r"\s*read: https://\S+", ln)]
        assert not too_long, f"code cell {i}: {too_long[0]!r}"


# One folding policy for every chapter. The lesson's code (model, loss, step, the bug,
# the fix) stays visible; plumbing is folded with `hide-input`: each figure's drawing
# code and the explorer (its setup, draw and controls). A chapter that computes and
# draws in one cell splits it: the computation visible, the figure in its own cell.
TAGS = {"hide-input", "hide-cell", "nbval-ignore-output"}
DRAWS = ("plt.subplots(", "plt.figure(", "cl.Explorer(")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_one_folding_policy(path):
    for i, cell in enumerate(code_cells(load(path))):
        tags = set(cell.metadata.get("tags", []))
        assert tags <= TAGS, f"code cell {i}: tags {sorted(tags - TAGS)} mean nothing here"
        assert ("hide-cell" in tags) == (i == 0), (
            f"code cell {i}: only the Colab install cell (the first) is folded whole")
        if any(call in cell.source for call in DRAWS):
            assert "hide-input" in tags, f"code cell {i} draws a figure: fold it (hide-input)"


# The field guide (chapters 6 on): every figure is numbered, captioned and carries alt
# text that says what it shows (myst-nb writes `mystnb.image.alt` into the <img>).
GUIDE = field_guide_notebooks()


@pytest.mark.parametrize("path", GUIDE, ids=[str(p.relative_to(ROOT)) for p in GUIDE])
def test_field_guide_figures_have_captions_and_alt_text(path):
    for i, cell in enumerate(code_cells(load(path))):
        pngs = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        if not pngs or "nbval-ignore-output" in cell.metadata.get("tags", []):
            continue  # a live explorer's own fallback figure
        meta = cell.metadata.get("mystnb", {})
        assert meta.get("figure", {}).get("caption"), f"code cell {i}: no caption"
        assert meta.get("figure", {}).get("name"), f"code cell {i}: no figure name"
        alt = meta.get("image", {}).get("alt", "")
        assert len(alt.split()) >= 15, f"code cell {i}: alt text {alt!r} says too little"

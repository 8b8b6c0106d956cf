"""Fixtures and helpers shared by every test group.

    tests/unit/     the helper package (src/convergence_lab), one module per test file;
                    test_inputs_ch*.py: each chapter's own explorer refuses bad input
    tests/book/     the notebooks' policy, the book build, reader notebooks, the execution
                    statistics and the execute tool; nbval_sanitize.cfg for nbval
    tests/site/     the built website and the recorded explorer in headless Chromium
    tests/project/  the pipeline itself: CI workflows, Dependabot, zizmor

nbval re-runs the notebooks under book/ (pyproject.toml's testpaths).

This is the only conftest.py: test modules import it as `conftest` (ROOT, load,
book_notebooks), and a second conftest.py in a group folder would take that name over
for modules collected after it.
"""

import contextlib
import io
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = str(Path(sys.executable).with_name("jupyter-book"))
# The project's tools (tools/*.py) are scripts, not a package; tests import them, and
# the book's Sphinx extension (book/_ext/execution_stats.py) too.
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "book" / "_ext")]
# The browser the site tests drive: $CHROMIUM, else the system's (tools/chromium.py).
# Never `playwright install`: it downloads a browser.
from chromium import ARGS as BROWSER_ARGS  # noqa: E402
from chromium import chromium_path  # noqa: E402

# tests/site/test_recording_browser.py and test_live_view_browser.py record the small
# explorer of tests/unit/test_recording.py; pytest puts a group's folder on sys.path
# only once it collects it.
sys.path.insert(0, str(ROOT / "tests" / "unit"))


def book_notebooks():
    found = (ROOT / "book").rglob("*.ipynb")
    return sorted(p for p in found if ".ipynb_checkpoints" not in p.parts)


def field_guide_notebooks():
    """Chapters 6 on: the field guide, whose figures carry captions and alt text."""
    return [p for p in book_notebooks() if int(p.parent.name[:2]) >= 6]


@pytest.fixture(scope="session")
def config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


@pytest.fixture(scope="session")
def toc():
    return yaml.safe_load((ROOT / "_toc.yml").read_text())


def load(path):
    return nbformat.read(path, as_version=4)


def explorer_cells(chapter):
    """The chapter's notebook and the indices (among its code cells) that build an explorer."""
    (path,) = (ROOT / "book" / chapter).glob("*.ipynb")
    code = [c.source for c in load(path).cells if c.cell_type == "code"]
    return path, code, [i for i, src in enumerate(code) if "cl.Explorer(" in src]


def run_to_explorer(chapter, which=0):
    """Run a chapter's notebook up to one of its explorers; return the cells' namespace.

    `chapter` is its folder under book/, e.g. "03-broadcast-regression"; `which` counts
    the cells that build a `cl.Explorer(` (0: the first). Executes, in one namespace,
    every code cell but the Colab install cell, up to and including that cell: the
    explorer the notebook itself builds, on the data and results of the cells before
    it, is then `namespace["explorer"]` (whatever name the notebook gave it). Figures
    go to Agg and are closed, printed output is dropped.
    """
    from convergence_lab import Explorer

    path, code, builds = explorer_cells(chapter)
    assert code[0].startswith("# Colab only"), f"{path.name}: no install cell first"
    assert len(builds) > which, f"{path.name}: no cell builds explorer {which}"
    built = builds[which]
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace = {}
    with (warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()),
          pytest.MonkeyPatch.context() as patch):
        warnings.simplefilter("ignore", UserWarning)  # plt.show() under Agg
        patch.setattr(plt, "show", lambda *args, **kwargs: None)
        try:
            for i, src in enumerate(code[1:built + 1], start=2):
                if i == built + 1:  # the explorer's cell: which name does it bind?
                    before = {k: id(v) for k, v in namespace.items()}
                exec(compile(src, f"{path.name} code cell {i}", "exec"), namespace)
            new = [v for k, v in namespace.items()
                   if isinstance(v, Explorer) and before.get(k) != id(v)]
            assert len(new) == 1, f"{path.name} code cell {built + 1}: one explorer"
            namespace["explorer"] = new[0]
        finally:
            plt.close("all")
    return namespace


@pytest.fixture
def chapter_explorer():
    """Build a chapter's explorer from its notebook's own cells (`run_to_explorer`).

    chapter_explorer("01-sine-parity") is the notebook's `explorer`;
    chapter_explorer("03-broadcast-regression", "ONE_D") is (`explorer`, `ONE_D`): the
    explorer and further names of the notebook that a test needs.
    """
    def build(chapter, *names, which=0):
        namespace = run_to_explorer(chapter, which)
        explorer = namespace["explorer"]
        return (explorer, *(namespace[name] for name in names)) if names else explorer

    return build


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The website, built once per session as `make book` builds it (warnings as errors)."""
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [JUPYTER_BOOK, "build", str(ROOT), "--path-output", str(out), "--all",
         "--warningiserror", "--nitpick", "--keep-going"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "WARNING" not in proc.stdout + proc.stderr
    return out / "_build" / "html"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Overrides pytest-playwright's fixture: launch the system's Chromium.
    path = chromium_path()
    if path is None:
        pytest.fail("no Chromium found: apt-get install chromium (.ci/run does), "
                    "or set CHROMIUM to a Chrome or Chromium binary")
    return {**browser_type_launch_args, "executable_path": path, "args": BROWSER_ARGS}

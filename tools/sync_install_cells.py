"""Write every notebook's Colab install cell from the book's one recorded version.

    python tools/sync_install_cells.py           # rewrite the cells that differ
    python tools/sync_install_cells.py --check   # list them and exit 1; change nothing

The first code cell of each chapter installs the helper package, in Colab only, from
the repository in _config.yml at the release tag ``v<version>``, where ``version`` is
``convergence_lab.__version__`` (the one place it is recorded; pyproject reads it
too). A page therefore always installs the helper it was built with, never whatever
``main`` is today (the drift that breaks d2l's and fastbook's Colab links).

``!pip install --quiet`` rather than ``%pip``: in Colab (IPython 7.34) ``%pip`` always
prints "you may need to restart the kernel", which is not true here, and ``--quiet``
still shows pip's errors. Only the cell's source changes; outputs and ids stay, so
the notebooks need no re-execution.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
INIT = ROOT / "src" / "convergence_lab" / "__init__.py"
MARKER = 'if "google.colab" in sys.modules:'


def book_version(init: Path = INIT) -> str:
    """``__version__`` read from the package source without importing it."""
    for node in ast.parse(init.read_text()).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == "__version__"):
            return ast.literal_eval(node.value)
    raise SystemExit(f"no __version__ in {init}")


def repository_url(root: Path = ROOT) -> str:
    config = yaml.safe_load((root / "_config.yml").read_text())
    return config["repository"]["url"].rstrip("/")


def install_requirement(version: str | None = None, url: str | None = None) -> str:
    """The pip requirement the install cell uses: the helper at the release tag."""
    version = version or book_version()
    url = url or repository_url()
    return f"convergence-lab @ git+{url}@v{version}"


def install_cell_source(version: str | None = None, url: str | None = None) -> str:
    requirement = install_requirement(version, url)
    return (
        "# Colab only: install the book's helper package (data, plots, sliders)\n"
        "# at the release this page was built with. Elsewhere, requirements.txt\n"
        "# has already installed it.\n"
        "import sys\n"
        "\n"
        f"{MARKER}\n"
        f'    !pip install --quiet "{requirement}"'
    )


def install_cell(nb):
    """The notebook's first code cell, which must be the install cell."""
    cell = next((c for c in nb.cells if c.cell_type == "code"), None)
    if cell is None or MARKER not in cell.source:
        raise SystemExit("the first code cell is not the Colab install cell")
    return cell


def book_notebooks(root: Path = ROOT) -> list[Path]:
    found = (root / "book").rglob("*.ipynb")
    return sorted(p for p in found if ".ipynb_checkpoints" not in p.parts)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [Path(a).resolve() for a in argv if a != "--check"] or book_notebooks()
    wanted = install_cell_source()
    stale = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        cell = install_cell(nb)
        if cell.source == wanted:
            continue
        stale.append(path)
        if not check:
            cell.source = wanted
            nbformat.write(nb, path)
    verb = "out of date" if check else "rewritten"
    for path in stale:
        print(f"{path.relative_to(ROOT)}: install cell {verb}")
    print(f"{len(stale)} of {len(paths)} install cells {verb}; pinned to "
          f"{install_requirement()}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Re-execute the book's notebooks in place, each top to bottom in a fresh kernel.

    python tools/execute_notebooks.py            # every notebook under book/
    python tools/execute_notebooks.py PATH ...   # just these

nbclient (unlike JupyterLab) stores the widget state, so the website can draw the
sliders; timing metadata is not recorded, so a re-run with unchanged outputs leaves
the file unchanged. Fails on the first cell error or on a notebook slower than the
book's 30-second budget.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 30


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3", "language": "python",
    }
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or sorted((ROOT / "book").rglob("*.ipynb"))
    paths = [p for p in paths if ".ipynb_checkpoints" not in p.parts]
    slow = []
    for path in paths:
        seconds = execute(path)
        print(f"{path.relative_to(ROOT)}: executed in {seconds:.1f} s")
        if seconds > BUDGET_SECONDS:
            slow.append(path)
    if slow:
        print(f"over the {BUDGET_SECONDS} s budget: " + ", ".join(str(p) for p in slow))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

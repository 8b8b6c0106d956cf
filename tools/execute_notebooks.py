"""Re-execute the book's notebooks in place, each top to bottom in a fresh kernel.

    python tools/execute_notebooks.py            # every notebook under book/
    python tools/execute_notebooks.py PATH ...   # just these

The saved widget state that nbclient (unlike JupyterLab) stores is dropped: the
website shows a static explorer instead, the state would make the site fetch a
widget manager from a CDN, and Colab's ipywidgets 7 errors on ipywidgets 8 state.
The widget views stay (a kernel redraws them once the cell runs), next to a plain
figure. Timing metadata is not recorded and widget ids are renumbered in a fixed
order, so a re-run with unchanged outputs leaves the file unchanged. Fails on the first
cell error or on a notebook slower than the book's 30-second budget.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
# The run record is kept by the book's Sphinx extension (book/_ext/execution_stats.py).
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from execution_stats import record  # noqa: E402

BUDGET_SECONDS = 30
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def merge_streams(nb) -> None:
    """Join adjacent stdout (or stderr) chunks: how output is split depends on timing."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for out in cell.outputs:
            prev = merged[-1] if merged else None
            if (out.output_type == "stream" and prev is not None
                    and prev.output_type == "stream" and prev.name == out.name):
                prev.text += out.text
            else:
                merged.append(out)
        cell.outputs = merged


def stable_widget_ids(nb) -> None:
    """Renumber widget model ids (random UUIDs) in the order they are reached.

    Starting from the widget views in the outputs and following each model's
    references, so that re-executing an unchanged notebook rewrites nothing.
    """
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state")
    if not state:
        return
    roots = [out["data"][WIDGET_VIEW]["model_id"]
             for cell in nb.cells if cell.cell_type == "code"
             for out in cell.get("outputs", []) if WIDGET_VIEW in out.get("data", {})]
    order, stack = [], list(reversed(roots))
    while stack:
        mid = stack.pop()
        if mid in order or mid not in state:
            continue
        order.append(mid)
        refs = re.findall(r"IPY_MODEL_([0-9a-f]{32})", json.dumps(state[mid], sort_keys=True))
        stack.extend(reversed(refs))
    order += sorted((m for m in state if m not in order),
                    key=lambda m: json.dumps(state[m], sort_keys=True))
    new = {old: f"{i + 1:032x}" for i, old in enumerate(order)}
    text = json.dumps({"cells": nb.cells, "state": state})
    text = re.sub(r"[0-9a-f]{32}", lambda m: new.get(m.group(0), m.group(0)), text)
    renamed = json.loads(text)
    for cell, fresh in zip(nb.cells, renamed["cells"], strict=True):
        if cell.cell_type == "code":
            cell["outputs"] = nbformat.from_dict(fresh["outputs"])
    nb.metadata["widgets"][WIDGET_STATE]["state"] = dict(sorted(renamed["state"].items()))


def drop_widget_state(nb) -> None:
    """Remove the saved widget state; a live kernel rebuilds it when the cell runs."""
    nb.metadata.pop("widgets", None)


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
    rel = path.relative_to(ROOT).as_posix()
    try:
        client.execute()
    except CellExecutionError:
        record(rel, time.perf_counter() - start, "error")
        raise
    seconds = time.perf_counter() - start
    record(rel, seconds, "ok")  # the budget is reported (and fails the run) below
    merge_streams(nb)
    stable_widget_ids(nb)  # the view ids, numbered by following the state's references
    drop_widget_state(nb)
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

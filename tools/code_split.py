"""How much of each chapter's *visible* code is the lesson, and how much is plumbing.

    python tools/code_split.py            # every chapter
    python tools/code_split.py PATH ...   # just these

Visible code is every code cell the website shows unfolded: not tagged hide-input,
hide-cell, remove-input or remove-cell, and not the Colab install cell. Within it, a
line counts as plumbing when it only draws or decorates a figure or wires an explorer
(matplotlib calls, the helper's plot and explorer functions); everything else (the
model, the loss, the step, the experiment and what it prints) counts as lesson. A
heuristic, but the same one for every chapter and every version.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = {"hide-input", "hide-cell", "remove-input", "remove-cell"}
PLUMBING = re.compile(
    r"^\s*(?:\w+\s*=\s*)?(?:"
    r"(?:ax|axes|fig|plt|ax_\w+|art|artists)\b[\w\[\]\s,.()\"'-]*\."  # figure objects
    r"|plt\.|fig,|.*\bplt\.subplots\(|cl\.(?:plot_trace|outcome_map|correctness_strip|"
    r"correctness_key|Explorer|log_slider|slider|int_slider|choice|toggle)\b"
    r"|explorer\.|def (?:setup|draw)\b"
    r")"
)


# A whole cell is plumbing when it builds or drives an explorer or demonstrates its
# input checks (the explorer's precompute, setup/draw wiring, the bad-input loop).
PLUMBING_CELL = re.compile(
    r"cl\.Explorer\(|^def (?:setup|draw)\(|^explorer\.|^for bad in|explorer\.render\(",
    re.M,
)


def split(nb) -> tuple[int, int]:
    code = [c for c in nb.cells if c.cell_type == "code"]
    lesson = plumbing = 0
    for cell in code[1:]:  # code[0]: the Colab install cell, folded on the website
        if HIDDEN & set(cell.metadata.get("tags", [])):
            continue
        whole = "plumbing" in cell.metadata.get("tags", []) or PLUMBING_CELL.search(cell.source)
        for line in cell.source.splitlines():
            if not line.strip() or line.strip().startswith("#"):
                continue
            if whole or PLUMBING.match(line):
                plumbing += 1
            else:
                lesson += 1
    return lesson, plumbing


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((ROOT / "book").rglob("*.ipynb"))
    print(f"{'chapter':48} {'lesson':>6} {'plumbing':>8} {'plumbing %':>10}")
    for path in paths:
        if ".ipynb_checkpoints" in path.parts:
            continue
        lesson, plumbing = split(nbformat.read(path, as_version=4))
        share = plumbing / max(1, lesson + plumbing)
        print(f"{path.name:48} {lesson:6d} {plumbing:8d} {share:10.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

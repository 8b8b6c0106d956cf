"""Benchmarks: a slider move of each chapter's explorer, and a batched sweep.

    make bench        (or: python benchmarks/bench_explorer.py [NOTEBOOK ...])

For each notebook, runs its code cells (not the widget display) to build the chapter's
`explorer`, then times scripted slider moves end to end: recompute the run, redraw the
moving artists, encode the PNG the browser receives. Every control is swept over its
range and the moves are replayed in a shuffled order. Targets (DESIGN.md): median under
50 ms, worst under 100 ms on 2 cores. Also times `convergence_lab.sweep` over K
settings against K separate runs. Exits 1 if a target is missed.
"""

from __future__ import annotations

import contextlib
import io
import random
import statistics
import sys
import time
from pathlib import Path

import matplotlib
import matplotlib.pyplot
import nbformat
import numpy as np
import torch
from IPython.core.inputtransformer2 import TransformerManager

import convergence_lab as cl

matplotlib.use("agg")
ROOT = Path(__file__).resolve().parents[1]
MEDIAN_BUDGET, WORST_BUDGET = 0.050, 0.100


def chapter_namespace(path: Path) -> dict:
    """Run a notebook's code cells in one namespace, skipping only widget display."""
    namespace: dict = {"__name__": "__chapter__"}
    transform = TransformerManager().transform_cell
    nb = nbformat.read(path, as_version=4)
    with contextlib.redirect_stdout(io.StringIO()):  # the chapter's prints are not the point
        for cell in nb.cells:
            if cell.cell_type != "code" or "nbval-ignore-output" in cell.metadata.get("tags", []):
                continue
            exec(compile(transform(cell.source), str(path), "exec"), namespace)  # noqa: S102
    matplotlib.pyplot.close("all")
    return namespace


def slider_moves(controls, steps_per_control: int = 12, seed: int = 0):
    moves = []
    for name, c in controls.items():
        offered = c.steps()  # the values the control's own widget can produce
        pick = np.linspace(0, len(offered) - 1, steps_per_control).round().astype(int)
        moves += [{name: offered[i]} for i in np.unique(pick)]
    random.Random(seed).shuffle(moves)
    # The costliest corner (every slider at its maximum: most epochs, most data) and back.
    top = {n: c.steps()[-1] for n, c in controls.items() if c.kind in ("log", "float", "int")}
    return moves + [top, {n: c.default for n, c in controls.items()}]


def bench_explorer(path: Path) -> bool:
    """Every explorer the chapter builds (chapters 8 and 9 build several)."""
    ns = chapter_namespace(path)
    found = {id(v): (k, v) for k, v in ns.items() if isinstance(v, cl.Explorer)}
    return all([bench_one(path, name, explorer) for name, explorer in found.values()])


def bench_one(path: Path, name: str, explorer) -> bool:
    moves = slider_moves(explorer.controls)
    explorer.render()  # warm caches as a reader's first look would
    times, messages = [], []
    for move in moves:
        start = time.perf_counter()
        explorer.update(**move)
        times.append(time.perf_counter() - start)
        if explorer.message:  # a slider position the chapter cannot draw
            messages.append(move)
    median, worst = statistics.median(times), max(times)
    p95 = float(np.percentile(times, 95))
    ok = median < MEDIAN_BUDGET and worst < WORST_BUDGET and not messages
    print(f"{path.relative_to(ROOT)} ({name}): {len(times)} slider moves, median "
          f"{median * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms, worst {worst * 1e3:.1f} ms, "
          f"{len(messages)} drawn as an input message "
          f"[{'ok' if ok else 'OVER BUDGET OR UNDRAWABLE'}: median < 50 ms, worst < 100 ms]")
    for move in messages:
        print(f"  slider position not drawn: {move}: {explorer.message}")
    return ok


def bench_sweep(k: int = 64, steps: int = 200, n: int = 1000) -> bool:
    """K settings of chapter 1's model in one batched run vs K one-setting runs."""
    xs = torch.stack([cl.parity_data(n, 10 + 15 * i, seed=i)[0].ravel() for i in range(k)])
    ys = xs % 2
    w0 = torch.full((k,), 1.5)
    lrs = np.geomspace(1e-7, 1e-2, k)

    def loss(params, step, x=xs, y=ys):
        return ((torch.sin(params["w"][:, None] * x) ** 2 - y) ** 2).mean(dim=1)

    start = time.perf_counter()
    batched = cl.sweep(loss, {"w": w0}, lr=lrs, steps=steps)
    t_batched = time.perf_counter() - start
    start = time.perf_counter()
    singles = [
        cl.sweep(lambda p, s, i=i: loss(p, s, xs[i : i + 1], ys[i : i + 1]),
                 {"w": w0[i : i + 1]}, lr=lrs[i : i + 1], steps=steps)
        for i in range(k)
    ]
    t_single = time.perf_counter() - start
    same = np.allclose(np.concatenate([s.params["w"] for s in singles]), batched.params["w"],
                       rtol=1e-4, atol=1e-6)
    speedup = t_single / t_batched
    ok = same and speedup > 5
    print(f"sweep of {k} settings x {steps} steps x {n} samples: batched {t_batched:.2f} s, "
          f"{k} separate runs {t_single:.2f} s, speed-up {speedup:.1f}x, same results: {same} "
          f"[{'ok' if ok else 'TOO SLOW OR WRONG'}: speed-up > 5x]")
    return ok


def main(argv: list[str]) -> int:
    torch.set_num_threads(1)
    # By default every chapter with an explorer (chapter 5, the checkup, has none).
    paths = [Path(a).resolve() for a in argv] or sorted(
        p for p in (ROOT / "book").rglob("*.ipynb") if "cl.Explorer(" in p.read_text())
    ok = True
    for path in paths:
        if ".ipynb_checkpoints" in path.parts:
            continue
        ok &= bench_explorer(path)
    ok &= bench_sweep()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

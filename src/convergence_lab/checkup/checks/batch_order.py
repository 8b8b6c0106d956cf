"""unshuffled-batches: are the batches shuffled, or does each step see one class?

Experiment on the first (up to 200) batches of an iterable: with class labels, the
share of batches holding a single class against the chance of that when shuffled,
and the number of label runs against what shuffling gives; with continuous targets,
whether over 95% of neighbouring targets are in order. One batch: skipped.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import inputs
from ..report import fmt

NEEDS = "data"
CODES = {"unshuffled-batches": "batches ordered by target"}


def run(ctx):
    if ctx.as_tensors or len(ctx.batches) < 2:
        return  # one batch: the order inside it does not matter
    ys = [inputs.labels(b[1]) for b in ctx.batches]
    if any(t is None for t in ys):
        return  # several target columns that are not one-hot: no single order
    labels = torch.cat(ys)
    if len(labels) < 8:
        return
    values = labels.unique()
    discrete = not labels.is_floating_point() or (
        len(values) <= 20 and bool((values == values.round()).all()))
    if discrete and len(values) >= 2:
        _class_order(ctx, ys, labels, values)
    elif not discrete and len(labels) >= 16:
        d = labels[1:] - labels[:-1]
        nonzero = d[d != 0]
        if nonzero.numel() and max(float((nonzero > 0).double().mean()),
                                   float((nonzero < 0).double().mean())) > 0.95:
            ctx.add("unshuffled-batches", "warning",
                    f"The targets of the first {len(ys)} batches are sorted (over 95% "
                    "of neighbours in order), so each step sees a narrow range of "
                    "targets and the model chases the latest one. Shuffle: "
                    "DataLoader(..., shuffle=True).")


def _chance(p: float) -> str:
    """A small probability as a reader reads it: 'about 1.2%', 'under one in a million'.

    Below 1e-6 the exact value is of no use (and its digits differ between CPUs).
    """
    return f"about {fmt(p * 100)}%" if p >= 1e-6 else "under one in a million"


def _class_order(ctx, ys, labels, values):
    n = len(labels)
    shares = torch.stack([(labels == v).double().mean() for v in values])
    # Label runs across the whole sequence against what shuffling gives:
    # neighbours differ with probability 1 - sum(share^2).
    runs = 1 + int((labels[1:] != labels[:-1]).sum())
    expected_runs = 1 + (n - 1) * (1 - float((shares ** 2).sum()))
    full = ys[:-1] if len(ys[-1]) < len(ys[0]) else ys  # a short last batch
    b = float(np.median([len(t) for t in full]))
    pure = sum(int(t.unique().numel() == 1) for t in full) / len(full)
    expected_pure = float((shares ** b).sum())  # chance of a pure batch, shuffled
    if b >= 2 and pure >= 0.5 and expected_pure < 0.05:
        what = (f"{pure:.0%} of the first {len(ys)} batches hold a single class "
                f"(shuffled batches of {b:.0f} would almost never do: "
                f"{_chance(expected_pure)})")
    elif expected_runs >= 8 and runs <= expected_runs / 4:
        what = (f"The batches are ordered by class: the labels of the first {len(ys)} "
                f"batches come in {runs} runs of one class where shuffled data would "
                f"give about {expected_runs:.0f}")
    else:
        return
    ctx.add("unshuffled-batches", "warning",
            f"{what}. Each step then pulls the model towards one class and the next "
            "undoes it, so the loss zig-zags instead of converging. Shuffle: "
            "DataLoader(..., shuffle=True).")

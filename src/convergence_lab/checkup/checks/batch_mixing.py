"""batch-mixing: does one sample's output depend on another sample of the batch?

Experiment: in eval mode (BatchNorm uses its running statistics and dropout is off,
so layers that mix samples by design in training do not count), a batch of up to 8
probe samples. For float inputs, the gradient of sample i's outputs with respect to
the whole input batch, for the first and the last sample: any row j != i that is not
exactly 0 means output i depends on input j. Then, for any inputs, the same question
by experiment, which also sees paths the gradient cannot (token ids cast with .long()
inside forward): the other samples' inputs are replaced by other samples (or by
copies of sample i when there are no others), and sample i's output must not move
(by more than 1e-5 of its size).
"""

from __future__ import annotations

import torch

from ...errors import LessonInputError
from .. import probes
from ..context import tensors_in
from ..report import fmt

NEEDS = "model"
CODES = {"batch-mixing": "one sample's output depends on other samples of the batch"}
SAMPLES = 8


def run(ctx):
    X = ctx.probe[0]
    m = min(len(X), SAMPLES)
    if m < 3:
        return
    ctx.model.eval()
    try:
        found = _probe(ctx, X[:m], ctx.X[m:2 * m])
    except LessonInputError:
        try:  # a model that needs its training batch size
            m = len(X)
            found = _probe(ctx, X, ctx.X[m:2 * m])
        except LessonInputError:
            ctx.note("the batch-mixing probe was skipped: the model did not run on a "
                     "batch of probe samples in eval mode.")
            return
    if found is None:
        return
    i, j, share = found
    ctx.add("batch-mixing", "warning",
            f"Samples are mixed inside the batch: in eval mode (no BatchNorm statistics, "
            f"no dropout), the output for sample {i} of a batch of {m} changes with the "
            f"input of sample {j} ({share}). Each prediction should depend on its own "
            "input only. Usual causes: an RNN/LSTM/GRU fed (batch, seq, feature) without "
            "batch_first=True (it then runs along the batch), a view/reshape/transpose "
            "that moves the batch axis, or a statistic taken over dim 0 in forward().")


def _probe(ctx, X, alt):
    found = _by_gradient(ctx, X) if X.is_floating_point() else None
    return found or _by_swap(ctx, X, alt)


def _outputs(ctx, X, m):
    probes.seed(0)
    return [t for t in tensors_in(ctx.forward(X))
            if t.dim() and t.shape[0] == m and t.is_floating_point()]


def _by_gradient(ctx, X):
    m = len(X)
    Xg = X.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        outs = [t for t in _outputs(ctx, Xg, m) if t.requires_grad]
        if not outs:
            return None
        for i in (0, m - 1):
            (g,) = torch.autograd.grad(sum(t[i].sum() for t in outs), Xg,
                                       retain_graph=True, allow_unused=True)
            if g is None:
                continue
            g = g.detach().reshape(m, -1).abs().amax(1)
            others = g.clone()
            others[i] = 0
            if float(others.max()) > 0:
                j = int(others.argmax())
                own = float(g[i])
                share = (f"d output_{i} / d input_{j} is {fmt(float(others[j]) / own)} "
                         f"times d output_{i} / d input_{i}" if own > 0 else
                         f"d output_{i} / d input_{j} is not 0")
                return i, j, share
    return None


def _by_swap(ctx, X, alt):
    m = len(X)
    with torch.no_grad():
        base = _outputs(ctx, X, m)
        if not base:
            return None
        for i in (0, m - 1):
            moved = X.clone()
            for k in range(m):
                if k != i:
                    moved[k] = alt[k] if k < len(alt) else X[i]
            if torch.equal(moved, X):
                continue
            for t0, t1 in zip(base, _outputs(ctx, moved, m), strict=False):
                gap = float((t0[i] - t1[i]).abs().max())
                if gap > 1e-5 * (1 + float(t0[i].abs().max())):
                    j = next(k for k in range(m) if k != i)
                    return i, j, (f"replacing the other samples' inputs moves output {i} "
                                  f"by {fmt(gap)}")
    return None

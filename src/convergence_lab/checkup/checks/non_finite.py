"""non-finite: any NaN or inf in inputs, targets, outputs, the loss or the gradients?

Experiment: scan every batch read for NaN/inf; then one forward pass on up to 512
samples, one loss call and one backward pass on the probe batch, and one more
backward pass on up to 256 samples (a NaN gradient can come from a few samples, such
as all-zero rows under a sqrt). The first non-finite
value found is reported, and every later check that runs the model is skipped: one
NaN makes every loss and gradient after it NaN.
"""

from __future__ import annotations

import torch

from ...errors import LessonInputError
from .. import probes
from ..context import finite
from ..report import fmt, names

NEEDS = "model"
CODES = {"non-finite": "NaN or inf in inputs, targets, outputs or gradients"}
GRAD_SAMPLES = 256
SKIPPED = "the training probes were skipped: the data or the model's output is not finite."


def run(ctx):
    if _data(ctx) or _outputs(ctx) or _loss_and_gradients(ctx):
        ctx.stop(SKIPPED)


def _data(ctx) -> bool:
    bad = False
    for k, what in enumerate(("inputs", "targets")):
        counts = [int((~torch.isfinite(b[k])).sum()) if b[k].is_floating_point() else 0
                  for b in ctx.batches]
        n = sum(counts)
        if not n:
            continue
        bad = True
        if ctx.as_tensors:
            t = ctx.batches[0][k]
            rows = (~torch.isfinite(t)).reshape(len(t), -1)
            where = (f"{n} NaN or inf value(s) in {len(t)} samples "
                     f"(the first in sample {int(rows.any(1).nonzero()[0, 0])})")
        else:
            i = next(i for i, c in enumerate(counts) if c)
            where = (f"{n} NaN or inf value(s) in the {len(ctx.batches)} batches read "
                     f"(the first in batch {i})")
        ctx.add("non-finite", "error",
                f"The {what} contain {where}. One NaN makes the loss and every gradient "
                "NaN, and the weights become NaN after one step. Drop or impute those "
                "samples before training.")
    return bad


def _outputs(ctx) -> bool:
    record = ctx.forward_record
    bad = [t for t in record.outputs if not finite(t)]
    if not bad:
        return False
    rows = (~torch.isfinite(bad[0])).reshape(len(bad[0]), -1).any(1) if bad[0].dim() else (
        torch.ones(1, dtype=torch.bool))
    first = (f" (the first is sample {int(rows.nonzero()[0, 0])})"
             if len(rows) == record.n else "")
    ctx.add("non-finite", "error",
            f"The model's output contains NaN or inf for {int(rows.sum())} of {record.n} "
            f"samples{first} although the inputs are finite: a log, sqrt or division "
            "of something that can be negative or 0, or weights that have already "
            "diverged.")
    return True


def _loss_and_gradients(ctx) -> bool:
    first = ctx.first_pass
    if first.loss is None:  # outputs finite on the large sample, not on the probe
        ctx.add("non-finite", "error",
                "The model's output contains NaN or inf on finite inputs: check for a "
                "log or division of something that can be 0, or weights that have "
                "already diverged.")
        return True
    if not bool(torch.isfinite(first.loss)):
        ctx.add("non-finite", "error",
                f"The loss is {float(first.loss)} on finite inputs and outputs: check "
                "the targets' range for this loss (e.g. BCELoss needs targets in [0, 1] "
                "and outputs strictly inside it).")
        return True
    bad = [n for n, g in first.grads.items() if g is not None and not finite(g)]
    if not bad and len(ctx.X) > len(ctx.probe[0]):
        bad = _wider_gradients(ctx)
    if bad:
        ctx.add("non-finite", "error",
                f"The gradient of {names(bad)} contains NaN or inf at a finite loss "
                f"({fmt(first.loss)}): a sqrt, log or division at 0 in the forward "
                "pass. One step would make the weights NaN.")
        return True
    return False


def _wider_gradients(ctx) -> list[str]:
    """Non-finite gradients from a backward pass on up to 256 samples."""
    X, y = ctx.X[:GRAD_SAMPLES], ctx.y[:GRAD_SAMPLES]
    ctx.restore()
    ctx.training_mode()
    for _, p in ctx.trainable:
        p.grad = None
    try:
        probes.seed(0)
        loss = ctx.loss(ctx.forward(X), y)
        if not (bool(torch.isfinite(loss)) and loss.requires_grad):
            return []
        ctx.backward(loss)
        return [n for n, p in ctx.trainable if p.grad is not None and not finite(p.grad)]
    except LessonInputError:
        return []  # a model that needs its own batch size: the probe batch decided
    finally:
        ctx.restore()

"""labels-not-learnable: do the inputs say anything about the targets?

Experiment: up to 768 of the samples read, split at random into 512 to train on and
256 held back (with fewer, a third held back). The model, from the reader's state
(dropout off), takes up to 200 Adam steps on batches of 32 drawn from the training
part, at 0.001 and then (if that showed nothing) at 0.01. Every 10 steps its loss on
the held-back samples is compared with the same predictions scored against the held-
back targets shuffled, 32 times: an input-independent baseline, since shuffling
keeps the targets' distribution and breaks only their link to the inputs. The inputs
predict the targets when the held-back loss is below the shuffles' mean by more than
3 standard deviations of the shuffles: the real pairing is then no chance draw among
them. (A relative margin would not do: with targets far from unit scale, a model 200
small steps from its start explains a small share of the loss, yet clearly.) If that
happens at no point, the model learned nothing that carries over to new samples:
labels misaligned with their inputs (shuffled separately, shifted by one, read from
another file). A warning: a task can also be too hard for 200 steps. Skipped with
fewer than 256 samples (too few held back to show a signal) or a single target
value, and when checkup already found something else: a model that cannot learn for
another reason learns nothing from well-paired labels either, so this is a diagnosis
of exclusion."""

from __future__ import annotations

import math

import torch

from ... import errors
from ..report import fmt

NEEDS = "step"
CODES = {"labels-not-learnable": "the model does no better than an input-independent baseline"}
TRAIN, HELD, MIN_SAMPLES = 512, 256, 256
STEPS, RATES, EVERY, SHUFFLES, BATCH = 200, (1e-3, 1e-2), 10, 32, 32
SIGMAS = 3.0


def run(ctx):
    if ctx.report.findings:
        return
    X, y = ctx.X, ctx.y
    n = min(len(X), TRAIN + HELD)
    if n < MIN_SAMPLES or y[:n].unique().numel() < 2:
        return
    g = torch.Generator().manual_seed(0)
    order = torch.randperm(len(X), generator=g)[:n]
    held = max(n // 3, min(HELD, n - TRAIN))
    tr, te = order[held:], order[:held]
    Xtr, ytr, Xte, yte = X[tr], y[tr], X[te], y[te]
    shuffles = [torch.randperm(held, generator=g) for _ in range(SHUFFLES)]
    best = None  # (held-out loss, baseline) where the held-out loss is lowest
    try:
        for lr in RATES:
            ctx.restore()
            ctx.training_mode()
            opt = torch.optim.Adam([p for _, p in ctx.trainable], lr=lr)
            for k in range(STEPS + 1):
                if k % EVERY == 0:
                    point = _score(ctx, Xte, yte, shuffles)
                    if point is None:
                        return
                    real, mean, std = point
                    if real < mean - SIGMAS * std:
                        return  # the inputs predict the targets: learnable
                    if best is None or point[0] < best[0]:
                        best = point
                if k < STEPS:
                    pick = torch.randint(len(Xtr), (BATCH,), generator=g)
                    ctx.standard_step(Xtr[pick], ytr[pick], opt)
    except errors.LessonInputError:
        ctx.note("the labels-not-learnable probe was skipped: the model did not train on "
                 f"a batch of {BATCH} samples.")
        return
    finally:
        ctx.restore()
    loss, baseline, _ = best
    if baseline <= 0:
        return
    ctx.add("labels-not-learnable", "warning",
            f"The targets do not follow from the inputs: after training on {len(Xtr)} "
            f"samples, the loss on {held} held-back samples is at best {fmt(loss)}, never "
            f"clearly below the {fmt(baseline)} of the same predictions scored against "
            "shuffled targets (an input-independent baseline; clearly: by over 3 "
            "standard deviations of 32 shuffles). The model learned nothing "
            "that carries over to new samples. Check that inputs and labels are paired: "
            "shuffled together (one index for both), not shifted by one, read from the "
            "same files in the same order. (A very hard task can also do this in 200 "
            "steps, hence a warning.)")


def _score(ctx, X, y, shuffles):
    pred = ctx.eval_pred(X)
    try:
        with torch.no_grad():
            real = float(ctx.loss(pred, y))
            base = torch.tensor([float(ctx.loss(pred, y[s])) for s in shuffles])
    except errors.LessonInputError:
        return None
    mean, std = float(base.mean()), float(base.std())
    if not (math.isfinite(real) and math.isfinite(mean)):
        return None
    return real, mean, std

"""cannot-overfit-batch: can the setup fit 8 samples almost exactly?

Experiment: 8 samples alone, from the reader's state (dropout off), chosen to span
the targets: with one target value per sample, the samples at 8 evenly spaced ranks
of the sorted targets (the smallest and the largest included, so an output that
cannot reach part of the range shows); otherwise the first 8 probe samples.
The floor is the lowest loss any output could reach on them (the loss at the target
itself, or at an output fitted directly). The batch counts as fitted when a run
closes at least 95% of the gap between the starting loss and that floor (or comes
within 1e-4 of it). The reader's optimizer gets 200 steps (through their train_step);
if it does not fit, Adam at 0.01 gets 200 steps and L-BFGS 200 iterations. Only if
all three fail is it reported: then no optimizer setting is the problem, the wiring
is. (The reader's own optimizer failing where another fits is slow-progress.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ...errors import LessonInputError
from .. import inputs, probes
from ..report import fmt

NEEDS = "step"
CODES = {"cannot-overfit-batch": "the model cannot fit one small batch"}
SAMPLES = 8
STEPS = 200
LEFT = 0.05  # the share of the gap to the floor a fitted batch may leave
EXPLAINED = {"loss-broadcast", "softmax-before-cross-entropy", "no-gradient"}


@dataclass
class SmallFit:
    X: torch.Tensor
    y: torch.Tensor
    start: float
    floor: float | None
    yours: list  # the reader's optimizer: the loss every 10 steps
    best: float  # the lowest loss any of the three reached
    fitted_by: str | None  # the first that fitted: "your optimizer", "Adam", "L-BFGS"

    def left(self, loss) -> float:
        """The share of the gap from the start to the floor still left at ``loss``."""
        floor = self.floor if self.floor is not None and self.floor < self.start else 0.0
        gap = self.start - floor
        return (loss - floor) / gap if gap > 0 else 0.0


def fitted(fit: SmallFit, loss: float) -> bool:
    if not math.isfinite(loss):
        return False
    floor = fit.floor if fit.floor is not None and fit.floor < fit.start else 0.0
    return fit.left(loss) <= LEFT or loss - floor < 1e-4


def small_fit(ctx) -> SmallFit | None:
    """Run (once per checkup) the overfit experiment; None if it cannot run."""
    if "small_fit" in ctx.cache:
        return ctx.cache["small_fit"]
    ctx.cache["small_fit"] = fit = _small_fit(ctx)
    return fit


def spread_samples(X, y, m):
    """m samples at evenly spaced ranks of the targets (or the first m)."""
    t = inputs.labels(y)
    if t is None or t.dim() != 1 or len(t) <= m:
        return X[:m], y[:m]
    order = torch.argsort(t.double(), stable=True)
    pick = order[torch.linspace(0, len(t) - 1, m).round().long()]
    return X[pick], y[pick]


def _small_fit(ctx):
    m = min(SAMPLES, len(ctx.X))
    Xs, ys = spread_samples(ctx.X, ctx.y, m)
    ctx.restore()
    ctx.training_mode()
    try:
        start = ctx.eval_loss(Xs, ys)
    except LessonInputError:
        return None  # a model that cannot run a batch this small (a fixed size)
    if not math.isfinite(start):
        return None
    fit = SmallFit(Xs, ys, start, ctx.floor(Xs, ys), [start], start, None)
    try:
        ctx.restore()
        ctx.training_mode()
        for k in range(STEPS):
            probes.seed(k)
            ctx.step(Xs, ys)
            if k % 10 == 9:
                fit.yours.append(_finite_or(ctx.eval_loss(Xs, ys), start))
                if fitted(fit, fit.yours[-1]):
                    break
    except LessonInputError:
        return None  # the model cannot train on a batch this small (BatchNorm)
    fit.best = min(fit.yours)
    if fitted(fit, fit.best):
        fit.fitted_by = "your optimizer"
        return fit
    references = [("Adam", lambda ps: torch.optim.Adam(ps, lr=0.01), STEPS),
                  ("L-BFGS", lambda ps: torch.optim.LBFGS(
                      ps, lr=1, max_iter=STEPS, line_search_fn="strong_wolfe"), 1)]
    for name, make, steps in references:
        ctx.restore()
        ctx.training_mode()
        opt = make([p for _, p in ctx.trainable])
        try:
            for k in range(steps):
                ctx.standard_step(Xs, ys, opt)
                if k % 10 == 9 and fitted(fit, ctx.eval_loss(Xs, ys)):
                    break
            loss = _finite_or(ctx.eval_loss(Xs, ys), start)
        except LessonInputError:
            return None
        fit.best = min(fit.best, loss)
        if fitted(fit, loss):
            fit.fitted_by = name
            return fit
    return fit


def _finite_or(value, default):
    return value if math.isfinite(value) else default


def run(ctx):
    if EXPLAINED & ctx.codes:
        ctx.note("the overfit test was skipped: the loss above cannot be fitted as it "
                 "stands.")
        return
    fit = small_fit(ctx)
    if fit is None or fit.fitted_by is not None:
        return
    m = len(fit.X)
    n_params = sum(p.numel() for _, p in ctx.trainable)
    known = fit.floor is not None or inputs.hard_labels(fit.y)
    severity = "error" if n_params >= m and known else "warning"
    few = "" if n_params >= m else (
        f" With only {n_params} parameter(s) for {m} samples the model may be too small "
        "to fit them exactly, so this is a warning.")
    soft = "" if known else (
        " The targets are not hard labels and the loss's minimum is unknown, so this is "
        "a warning.")
    floor = fit.floor if fit.floor is not None else 0.0
    ctx.add("cannot-overfit-batch", severity,
            f"On one batch of {m} samples the loss went only from {fmt(fit.start)} to "
            f"{fmt(fit.best)} with your optimizer, Adam and L-BFGS alike, while the "
            f"lowest any output could reach is {fmt(floor)}: {fit.left(fit.best):.0%} "
            "of the way there was left (a working setup closes at least 95% of it). If "
            "8 samples cannot be fitted, more data or epochs will not help: look for a "
            "wiring bug (targets vs outputs, an output activation that cannot reach the "
            "targets, a start outside the basin, a model too small)." + few + soft)

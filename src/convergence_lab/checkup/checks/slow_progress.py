"""slow-progress: does the reader's optimizer barely move where another fits?

Experiment: the overfit experiment's runs (8 samples, 200 steps of the reader's
optimizer; Adam at 0.01 and L-BFGS as references). Reported when the reader's
optimizer closes less than 10% of the gap from the starting loss to the floor in its
200 steps while a reference fits the batch (closes 95%). Then the cause is looked
for, one setting at a time, each with the same 200 steps: no weight decay (when it is
set), default momentum/betas (when they are unusual), and the learning rate 10x,
100x, ... 10^6x larger. The first change that closes half of the gap is named.
"""

from __future__ import annotations

import math

import torch

from ..report import fmt
from .overfit import STEPS, fitted, small_fit

NEEDS = "step"
CODES = {"slow-progress": "the optimizer barely reduces a loss that can be fit"}
SLOW = 0.10  # less than this share of the gap closed in STEPS steps is slow
FIXED = 0.5  # a change that closes this share names the cause


def _progress(fit, losses) -> float:
    best = min(v for v in losses if math.isfinite(v)) if any(
        math.isfinite(v) for v in losses) else fit.start
    return 1 - fit.left(best)


def run(ctx):
    if ctx.lr() is None:
        return
    fit = small_fit(ctx)
    if fit is None or fit.fitted_by in (None, "your optimizer"):
        return  # it fits (healthy), or nothing fits (cannot-overfit-batch)
    closed = _progress(fit, fit.yours)
    if closed >= SLOW:
        return
    cause = _cause(ctx, fit)
    ctx.add("slow-progress", "warning",
            f"Your optimizer barely moves: in {STEPS} steps on {len(fit.X)} samples it "
            f"closed {max(closed, 0):.0%} of the gap from the loss {fmt(fit.start)} to "
            f"the lowest reachable ({fmt(fit.floor or 0)}), while {fit.fitted_by} fitted "
            f"the same batch. {cause}")


def _variants(ctx):
    g = ctx.opt.param_groups[0]
    wd = g.get("weight_decay")
    if isinstance(wd, (int, float)) and wd > 0:
        yield ({"weight_decay": 0.0}, None, _wd_cause(ctx, wd))
    momentum, betas = g.get("momentum"), g.get("betas")
    if isinstance(momentum, (int, float)) and (momentum > 0.99 or g.get("dampening", 0) > 0):
        yield ({"momentum": 0.9, "dampening": 0.0}, None,
               f"With momentum {momentum} and dampening {g.get('dampening', 0)} the steps "
               "are damped to almost nothing (or kept pointing along old gradients); "
               "momentum 0.9 without dampening fits. Use the defaults.")
    if isinstance(betas, (tuple, list)) and len(betas) == 2 and (
            betas[0] > 0.99 or betas[1] < 0.9):
        yield ({"betas": (0.9, 0.999)}, None,
               f"With betas {tuple(betas)} the running averages lag (or shrink the steps); "
               "betas (0.9, 0.999) fit. Use the defaults.")
    lr = ctx.lr()
    for k in range(1, 7):
        yield ({}, 10.0 ** k,
               f"The learning rate is far too small: at {fmt(lr * 10 ** k)} ({10 ** k}x "
               f"yours) the same optimizer closes over half of the gap in {STEPS} steps. "
               "Raise it (a learning-rate range test finds the best value).")


def _wd_cause(ctx, wd) -> str:
    grads = ctx.first_pass.grads
    params = dict(ctx.trainable)
    g = math.sqrt(sum(float(v.pow(2).sum()) for v in grads.values() if v is not None))
    w = math.sqrt(sum(float(params[n].detach().pow(2).sum()) for n in grads))
    coupled = not isinstance(ctx.opt, torch.optim.AdamW)
    return (f"Weight decay dominates the update: with weight_decay {fmt(wd)} the decay "
            f"term's pull wd x ||w|| = {fmt(wd * w)} against the loss gradient's "
            f"{fmt(g)} at your state, so the weights settle where the two balance, far "
            "from the loss's minimum; without weight decay the same optimizer closes "
            f"over half of the gap. Lower it by orders of magnitude"
            + (" (and with Adam prefer AdamW, whose decay does not pass through the "
               "adaptive scaling)." if coupled and not isinstance(
                   ctx.opt, torch.optim.SGD) else "."))


def _cause(ctx, fit) -> str:
    X, y = fit.X, fit.y
    for group, scale, text in _variants(ctx):
        ctx.restore()
        ctx.training_mode()
        try:
            losses = ctx.run_steps(X, y, STEPS, scale=scale, **group)
        except Exception:  # noqa: BLE001 - a variant the optimizer rejects names nothing
            continue
        finally:
            ctx.restore()
        if _progress(fit, losses) >= FIXED or fitted(fit, min(losses)):
            return text
    return ("No single change of weight decay, momentum or a larger learning rate "
            "fixed it; compare your optimizer's settings with the reference's.")

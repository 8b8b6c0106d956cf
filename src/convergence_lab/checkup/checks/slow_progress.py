"""slow-progress: does the reader's optimizer make no headway where another fits?

Experiment: the overfit experiment's runs (8 samples, 200 steps of the reader's
optimizer; Adam at 0.01 and L-BFGS as references). When the reader's optimizer does
not fit the batch but a reference does, it is reported if any of these holds: it
closed less than 10% of the gap from the starting loss to the floor; it stalled
(closed less than 1% of the gap over its last 100 steps); or one unusual setting of
it (weight decay, momentum above 0.99 or dampening, Adam's betas or eps), set alone
to a usual value (0; momentum 0.9 without dampening; (0.9, 0.999); 1e-8), fits the
batch in the same 200 steps. The cause is then named: the first single change (those
settings, then the learning rate 10x, 100x, ... 10^6x larger) that closes half of
the gap. Skipped when an error or lr-schedule-too-fast already explains a slow
optimizer (a rate that diverges, parameters it does not hold, gradients that do not
reach them)."""

from __future__ import annotations

import math

import torch

from ..report import fmt
from .overfit import STEPS, fitted, small_fit

NEEDS = "step"
CODES = {"slow-progress": "the optimizer barely reduces a loss that can be fit"}
SLOW = 0.10  # closing less than this share of the gap in STEPS steps is no headway
STALL = 0.01  # closing less than this share over the last 100 steps is a stall
HALF = 0.5  # a change that closes this share of the gap names the cause


def _closed(fit, losses) -> float:
    finite = [v for v in losses if math.isfinite(v)]
    return 1 - fit.left(min(finite)) if finite else 0.0


def run(ctx):
    if ctx.lr() is None or not ctx.report.ok or "lr-schedule-too-fast" in ctx.codes:
        return
    fit = small_fit(ctx)
    if fit is None or fit.fitted_by in (None, "your optimizer"):
        return  # it fits (healthy), or nothing fits (cannot-overfit-batch)
    closed = _closed(fit, fit.yours)
    stalled = len(fit.yours) > 10 and closed - _closed(fit, fit.yours[:-10]) < STALL
    setting = next((text for group, text in _settings(ctx)
                    if fitted(fit, min(_try(ctx, fit, group), default=math.inf))), None)
    if closed >= SLOW and not stalled and setting is None:
        return
    how = " and had stopped closing it," if stalled and closed >= SLOW else ""
    cause = setting or _cause(ctx, fit)
    ctx.add("slow-progress", "warning",
            f"Your optimizer makes little headway: in {STEPS} steps on {len(fit.X)} "
            f"samples it closed {max(closed, 0):.0%} of the gap from the loss "
            f"{fmt(fit.start)} to the lowest reachable ({fmt(fit.floor or 0)}){how} while "
            f"{fit.fitted_by} fitted the same batch. {cause}")


def _settings(ctx):
    """(param-group changes, cause) for each setting of the reader's that is unusual."""
    g = ctx.opt.param_groups[0]
    wd = g.get("weight_decay")
    if isinstance(wd, (int, float)) and wd > 0:
        yield {"weight_decay": 0.0}, _wd_cause(ctx, wd)
    momentum, damp = g.get("momentum"), g.get("dampening", 0)
    if isinstance(momentum, (int, float)) and (momentum > 0.99 or damp > 0):
        yield ({"momentum": 0.9, "dampening": 0.0},
               f"With momentum {momentum} and dampening {damp} each step is damped to a "
               "fraction of the gradient (or kept pointing along old gradients); with "
               "momentum 0.9 and no dampening the same optimizer fits. Use those.")
    betas = g.get("betas")
    if isinstance(betas, (tuple, list)) and len(betas) == 2 and (
            betas[0] > 0.99 or betas[1] < 0.9):
        yield ({"betas": (0.9, 0.999)},
               f"With betas {tuple(betas)} the running averages lag or shrink the steps; "
               "with (0.9, 0.999) the same optimizer fits. Use the defaults.")
    eps = g.get("eps")
    if isinstance(eps, (int, float)) and eps >= 1e-3 and "betas" in g:
        yield ({"eps": 1e-8},
               f"eps = {fmt(eps)} swamps the square root of Adam's second moment (the "
               "gradients' typical size), so every step shrinks to about lr x gradient / "
               "eps: Adam turns into slow SGD. With eps 1e-8 the same optimizer fits.")


def _try(ctx, fit, group, scale=None):
    try:
        return ctx.run_steps(fit.X, fit.y, STEPS, scale=scale, **group)
    except Exception:  # noqa: BLE001 - a variant the optimizer rejects names nothing
        return []
    finally:
        ctx.restore()


def _cause(ctx, fit) -> str:
    for group, text in _settings(ctx):
        if _closed(fit, _try(ctx, fit, group)) >= HALF:
            return text
    lr = ctx.lr()
    for k in range(1, 7):
        if _closed(fit, _try(ctx, fit, {}, scale=10.0 ** k)) >= HALF:
            return (f"The learning rate is far too small: at {fmt(lr * 10 ** k)} "
                    f"({10 ** k}x yours) the same optimizer closes over half of the gap "
                    f"in {STEPS} steps. Raise it (a learning-rate range test finds the "
                    "best value).")
    return ("No single change of weight decay, momentum, betas, eps or a larger learning "
            "rate fixed it; compare your optimizer's settings with the reference's.")


def _wd_cause(ctx, wd) -> str:
    # The evidence is the experiment (weight decay 0 fits); the mechanism is the
    # equilibrium the field guide derives: under L2 decay with SGD, each direction of
    # curvature a settles at a / (a + wd) of the way to the loss's minimum.
    adam_l2 = not isinstance(ctx.opt, (torch.optim.AdamW, torch.optim.SGD))
    return (f"Weight decay holds the weights back: with weight_decay {fmt(wd)} they "
            "settle where the decay's pull towards 0 balances the loss gradient (with "
            f"SGD, along a direction of curvature a, at a / (a + {fmt(wd)}) of the way "
            "to the loss's minimum), and without weight decay the same optimizer "
            "closes over half of the gap. Lower it by orders of magnitude"
            + (" (and with Adam prefer AdamW, whose decay does not pass through the "
               "adaptive scaling)." if adam_l2 else "."))

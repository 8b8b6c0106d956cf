"""grad-accumulation, and the no-gradient cases only a train_step shows.

Experiment, through the reader's own ``train_step`` (skipped without one): calls from
the reader's state on the probe batch until a parameter moves (up to 16 calls: a
step that accumulates gradients on purpose steps only every few calls). None moved:
the step never updates. Did every parameter with a gradient move? Then one more
call: is the gradient it leaves in ``.grad`` the fresh gradient at the point where
it began, or that plus the one the moving call left behind (within 0.001 of the sum
and over 0.1 from the fresh one)? The latter means ``.grad`` is never zeroed.
"""

from __future__ import annotations

import math

import torch

from .. import probes
from ..report import fmt

NEEDS = "step"
CODES = {"grad-accumulation": "gradients are not zeroed between steps"}
CALLS = 16


def _grads(ctx):
    return [None if p.grad is None else p.grad.detach().clone() for _, p in ctx.trainable]


def run(ctx):
    if ctx.user_step is None:
        return
    X, y = ctx.probe
    ctx.restore()
    ctx.training_mode()
    for _, p in ctx.trainable:
        p.grad = None
    before = ctx.params()
    for calls in range(1, CALLS + 1):
        probes.seed(calls - 1)
        ctx.step(X, y)
        after1 = ctx.params()
        moved = [not torch.equal(a, b) for a, b in zip(before, after1, strict=True)]
        if any(moved):
            break
    else:
        ctx.add("no-gradient", "error",
                f"train_step changed no parameter in {CALLS} calls: check that it calls "
                "loss.backward() and optimizer.step() on the optimizer of this model, "
                "and that the loss is computed from model(X).")
        return
    g1 = _grads(ctx)
    held = {id(p) for g in ctx.opt.param_groups for p in g["params"]}
    base = ctx.first_pass.grads
    stuck = [n for (n, p), m in zip(ctx.trainable, moved, strict=True)
             if not m and id(p) in held and base.get(n) is not None
             and bool(base[n].abs().max() > 0)]
    if stuck:
        ctx.add("no-gradient", "error",
                f"train_step left {', '.join(stuck[:4])} unchanged although the loss has "
                "a gradient for it: the step's path to the loss is cut (detached) or it "
                "steps another optimizer.")
    # second call: a step that zeroes its gradients sees only the fresh one
    rng = torch.get_rng_state()
    ctx.step(X, y)
    g2 = _grads(ctx)
    if all(g is None or not bool(g.any()) for g in g2):
        return  # gradients cleared at the end of the step: nothing accumulates
    with torch.no_grad():
        for (_, p), v in zip(ctx.trainable, after1, strict=True):
            p.copy_(v)
    for _, p in ctx.trainable:
        p.grad = None
    torch.set_rng_state(rng)
    ctx.backward(ctx.loss(ctx.forward(X), y))
    fresh = _grads(ctx)
    # Parameters without a gradient (unused layers) take no part in the test.
    pairs = [(a, b, torch.zeros_like(a) if c is None else c)
             for a, b, c in zip(g2, fresh, g1, strict=True)
             if a is not None and b is not None]
    if not pairs:
        return
    norm = math.sqrt(sum(float(a.pow(2).sum()) for a, _, _ in pairs)) or 1.0
    to_fresh = math.sqrt(sum(float((a - b).pow(2).sum()) for a, b, _ in pairs)) / norm
    to_sum = math.sqrt(sum(float((a - b - c).pow(2).sum()) for a, b, c in pairs)) / norm
    prev = math.sqrt(sum(float(c.pow(2).sum()) for _, _, c in pairs)) / norm
    if to_sum < 1e-3 and to_fresh > 0.1 and prev > 0.1:
        ctx.add("grad-accumulation", "error",
                "After two calls of train_step the gradient is the sum of both steps' "
                f"gradients (it differs from the fresh one by {fmt(to_fresh)} of its "
                "size, from the sum by less than 0.001): gradients are not zeroed, so "
                "every step also re-applies all earlier ones and the loss swings instead of "
                "settling, at any learning rate. Call optimizer.zero_grad() before "
                "loss.backward() in every step.")

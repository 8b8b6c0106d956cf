"""lr-schedule-too-fast: does the learning rate collapse within a few epochs of steps?

Experiment, through the reader's ``train_step`` (skipped without one: a scheduler in
the reader's outer loop is invisible to checkup): 3 calls on the probe batch, reading
the param groups' learning rate after each. If a scheduler attached to the optimizer
advanced once per call, its schedule is followed further by stepping it alone (no
training) for 3 epochs of calls (3 x batches per epoch); otherwise the measured factor
per call is extended to that horizon. Reported when the learning rate falls by 10x or
more within 3 epochs of calls, or the scheduler runs out of steps (OneCycleLR): a
scheduler meant per epoch, stepped per batch.
"""

from __future__ import annotations

import torch

from .. import probes
from ..report import fmt

NEEDS = "step"
CODES = {"lr-schedule-too-fast": "the learning rate falls by a large factor over a few steps"}
CALLS = 3
EPOCHS = 3
FALL = 10.0


def _lr(ctx) -> float:
    lr = ctx.opt.param_groups[0]["lr"]
    return float(lr)


def run(ctx):
    if ctx.user_step is None or ctx.lr() is None:
        return
    X, y = ctx.probe
    ctx.restore()
    ctx.training_mode()
    schedulers = [s for s, _ in ctx.state.schedulers
                  if not isinstance(s, torch.optim.lr_scheduler.ReduceLROnPlateau)]
    counters = [s.last_epoch for s in schedulers]
    lrs = [_lr(ctx)]
    for k in range(CALLS):
        probes.seed(k)
        ctx.step(X, y)
        lrs.append(_lr(ctx))
    horizon = EPOCHS * ctx.epoch_steps
    per_call = [s for s, c in zip(schedulers, counters, strict=True)
                if s.last_epoch - c == CALLS]
    # A rate that moved with no scheduler stepping: something checkup cannot restore.
    ctx.lr_moved = lrs[-1] != lrs[0] and not any(
        s.last_epoch != c for s, c in zip(schedulers, counters, strict=True))
    ran_out = None
    if per_call:
        sched = per_call[0]
        for k in range(CALLS, horizon):
            try:
                for s in per_call:
                    s.step()
            except ValueError as exc:  # OneCycleLR past its total_steps
                ran_out = (k, str(exc).split(".")[0])
                break
            lrs.append(_lr(ctx))
        how = (f"the scheduler {type(sched).__name__} advances one step at every call "
               "of train_step")
    else:
        if lrs[-1] == lrs[0] or lrs[0] <= 0 or lrs[-1] <= 0:
            return
        rate = (lrs[-1] / lrs[0]) ** (1 / CALLS)
        lrs = [lrs[0] * rate ** k for k in range(horizon + 1)]
        how = (f"the learning rate changes by a factor of {fmt(rate)} at every call of "
               "train_step")
    ctx.restore()
    low = min(lrs)
    epochs = (f"{EPOCHS} epochs ({horizon} calls of {ctx.epoch_steps} batches each)"
              if ctx.epoch_steps > 1 else f"{EPOCHS} epochs (one full-batch call each)")
    if ran_out is not None:
        what = (f"{how}, and it runs out after {ran_out[0]} calls, before the end of "
                f"{epochs}: \"{ran_out[1]}\"")
    elif low * FALL <= lrs[0] * (1 + 1e-9):
        when = next(k for k, v in enumerate(lrs) if v * FALL <= lrs[0] * (1 + 1e-9))
        per_epoch = (low / lrs[0]) ** (ctx.epoch_steps / max(1, len(lrs) - 1))
        what = (f"{how}: over {epochs} it falls from {fmt(lrs[0])} to {fmt(low)}, "
                f"{fmt(lrs[0] / low)}x, already {FALL:.0f}x lower after {when} calls "
                f"(about {fmt(per_epoch)}x per epoch)")
    else:
        return
    ctx.add("lr-schedule-too-fast", "warning",
            f"The learning rate collapses: {what}. A schedule meant per epoch but "
            "stepped per batch runs that many times too fast, and training stalls once "
            "the rate is near 0. Call scheduler.step() once per epoch, after the batch "
            "loop (or give a per-batch scheduler its total number of batches).")

"""lr-too-large: does the loss grow at this learning rate and fall at a smaller one?

Experiment: 10 steps from the reader's state on the probe batch at their learning
rate. The loss "grows" when it more than doubles at some step (a jump, or growth to
the end), or overflows. Then 10 steps at 0.1x, 0.01x, ... down to 1e-10x, stopping at the first
factor where the loss ends below its start and below where the reader's rate ended,
without ever exceeding twice its start. That factor names a learning rate that works.
When none does, the overflow is not the step size's fault (non-finite). When
input-scale fired, the inputs' scale is named as the cause of so small a stable rate.
"""

from __future__ import annotations

import math

from ..report import fmt

NEEDS = "step"
CODES = {"lr-too-large": "the loss grows at the learning rate, falls at a smaller one"}
STEPS = 10
FACTORS = [10.0 ** -k for k in range(1, 11)]


def _what(losses) -> str:
    start = losses[0]
    if not math.isfinite(losses[-1]):
        return f"overflowed to inf/NaN after {len(losses) - 1} steps"
    if losses[-1] >= max(losses):
        return f"grew from {fmt(start)} to {fmt(losses[-1])} in {STEPS} steps"
    peak = max(range(len(losses)), key=lambda k: losses[k])
    return (f"jumped from {fmt(start)} to {fmt(losses[peak])} at step {peak} (and ended "
            f"at {fmt(losses[-1])} after {STEPS})")


def run(ctx):
    lr = ctx.lr()
    if lr is None:
        return
    X, y = ctx.probe
    base = ctx.run_steps(X, y, STEPS)
    start = base[0]
    if not math.isfinite(start):
        return
    blew = not math.isfinite(base[-1])
    if not (blew or max(base) > 2 * abs(start)):
        return
    for factor in FACTORS:
        small = ctx.run_steps(X, y, STEPS, scale=factor)
        if (math.isfinite(small[-1]) and small[-1] < start and max(small) <= 2 * start
                and (blew or small[-1] < base[-1])):
            cause = ("Each step overshoots the minimum by more than it gains. Use a "
                     f"learning rate of about {fmt(lr * factor)} or below.")
            if ctx.mean_sq_input is not None:
                cause = ("The inputs are far from unit scale (mean x^2 = "
                         f"{fmt(ctx.mean_sq_input)}, see input-scale): a first layer's "
                         "curvature grows like x^2, which is what makes the stable "
                         "learning rate this small. Standardise the inputs rather than "
                         f"shrinking the learning rate (or use about {fmt(lr * factor)}).")
            ctx.add("lr-too-large", "error",
                    f"At the learning rate {fmt(lr)} the loss {_what(base)}, while at "
                    f"{fmt(lr * factor)} ({fmt(factor)}x) it fell from {fmt(start)} to "
                    f"{fmt(small[-1])}. " + cause)
            return
    if blew:
        ctx.add("non-finite", "error",
                f"The loss overflowed within {len(base) - 1} steps at the learning rate "
                f"{fmt(lr)} and did not fall at any rate down to 1e-10x smaller either: "
                "not a step size problem. Check the step's sign and the loss itself.")


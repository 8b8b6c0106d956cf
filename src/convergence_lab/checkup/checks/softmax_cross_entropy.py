"""softmax-before-cross-entropy: does CrossEntropyLoss get logits (NLLLoss log-probs)?

Experiment: in the same spied loss call, the input of every ``F.cross_entropy`` or
``F.nll_loss``: rows that all lie in [0, 1] and sum to 1 (within 0.001) are
probabilities, not what these losses expect.
"""

from __future__ import annotations

import torch

NEEDS = "model"
CODES = {"softmax-before-cross-entropy": "probabilities fed to a loss expecting logits"}


def run(ctx):
    for name, pred in ctx.first_pass.spy.class_inputs:
        if pred.dim() < 2 or pred.shape[1] < 2 or not pred.is_floating_point():
            continue
        with torch.no_grad():
            sums = pred.sum(1)
            probs = bool((pred >= 0).all() and (pred <= 1).all()
                         and ((sums - 1).abs() < 1e-3).all())
        if not probs:
            continue
        ce = name == "cross_entropy"
        loss = "CrossEntropyLoss" if ce else "NLLLoss"
        wants = "raw logits" if ce else "log-probabilities"
        fix = "remove the softmax from the model" if ce else (
            "use log_softmax instead of softmax")
        ctx.add("softmax-before-cross-entropy", "error",
                f"The model outputs probabilities (every row is in [0, 1] and sums to 1) "
                f"but {loss} expects {wants}. "
                + ("It then applies log-softmax on top, which squeezes the outputs into "
                   "a range of 1, so the gradients are tiny and the loss stalls well "
                   "above its minimum. " if ce else
                   "It takes minus the input at the target as the loss, so probabilities "
                   "make it unbounded below instead of a log-likelihood. ")
                + "Fix: " + fix + ".")
        return

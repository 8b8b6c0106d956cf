"""input-scale: are the input features near unit scale, and on similar scales?

Experiment: the root-mean-square of each input feature over up to 2048 samples (one
per channel for images, per feature for sequences). Flag a feature above 10, or a
spread over 100x between the largest and smallest. Skipped when the first layer is
an embedding (it looks inputs up) or a BatchNorm over the features (it rescales).
"""

from __future__ import annotations

import torch
from torch import nn

from .. import probes
from ..report import fmt

NEEDS = "data"
CODES = {"input-scale": "input features far from unit scale, or on different scales"}


def feature_columns(ctx) -> torch.Tensor | None:
    X = ctx.X
    if not X.is_floating_point() or len(X) < 2:
        return None
    layer = probes.first_layer(ctx.model)
    if isinstance(layer, nn.Embedding) or (
            isinstance(layer, nn.modules.batchnorm._BatchNorm)
            and X.dim() > 1 and layer.num_features == X.shape[1]):
        return None  # the model looks its inputs up / standardises them itself
    X = X.detach().double()
    flat = X.reshape(len(X), -1)
    if X.dim() > 2:  # one scale per channel, or per feature of a sequence
        last = isinstance(layer, nn.RNNBase) or (
            isinstance(layer, nn.Linear) and layer.in_features == X.shape[-1])
        flat = X.movedim(-1 if last else 1, 0).reshape(X.shape[-1 if last else 1], -1).T
    return flat


def run(ctx):
    flat = feature_columns(ctx)
    if flat is None:
        return
    rms = flat.pow(2).mean(0).sqrt()
    live = rms[rms > 0]
    if live.numel() == 0:
        return
    big, small = float(live.max()), float(live.min())
    mean_sq = float(flat.pow(2).mean())
    problems = []
    if big > 10:
        problems.append(f"the largest feature has root-mean-square {fmt(big)}")
    if big / small > 100:
        problems.append(f"feature scales range from {fmt(small)} to {fmt(big)}")
    if not problems:
        return
    ctx.mean_sq_input = mean_sq
    group_lr = ctx.opt.param_groups[0].get("lr")
    adaptive = not isinstance(ctx.opt, torch.optim.SGD)
    if isinstance(ctx.opt, torch.optim.SGD) and isinstance(group_lr, float):
        lr_note = (" For SGD on a linear first layer, a rule of thumb puts the largest "
                   f"stable learning rate near 1/mean(x^2) = {fmt(1 / mean_sq)} (the "
                   f"exact edge depends on the model); yours is {fmt(group_lr)}.")
    else:
        lr_note = ""
    rescale = (" With an adaptive optimizer such as Adam or RMSprop the step size is "
               "set in weight units, so after rescaling the inputs the learning rate "
               "has to change with them (the weights' scale changes by the same "
               "factor): search it again." if adaptive else
               " After rescaling, search the learning rate again: the stable range "
               "moves with the inputs' scale.")
    ctx.add("input-scale", "warning",
            f"Inputs are far from unit scale: {'; '.join(problems)} (mean x^2 = "
            f"{fmt(mean_sq)}). The gradient of a first layer carries a factor x, so its "
            "curvature grows like x^2: large features force a small learning rate, "
            "under which the small ones barely move, which can slow or destabilise "
            "training." + lr_note + " Standardise each feature: (X - mean) / std, "
            "computed on the training set." + rescale)

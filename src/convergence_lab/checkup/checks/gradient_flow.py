"""vanishing-gradient / exploding-gradient: does the gradient reach the first layers?

Experiment: the gradient from one backward pass at the reader's state, per layer that
owns a weight matrix (embeddings aside: a lookup only touches the rows it used), in
the order the layers ran. Each layer's size is its relative gradient
||grad W|| / ||W||, the fraction of the weights one unit-rate step would change.
With three or more such layers, the first layer's relative gradient against the
last one's: 100 times smaller or more is a vanishing gradient, 100 times larger or
more an exploding one.
"""

from __future__ import annotations

import math

from torch import nn

from ..report import fmt

NEEDS = "model"
CODES = {
    "vanishing-gradient": "relative gradients shrink by orders of magnitude towards the input",
    "exploding-gradient": "relative gradients grow by orders of magnitude towards the input",
}
FACTOR = 100.0
MIN_LAYERS = 3


def relative_gradients(ctx) -> list[tuple[str, float]]:
    """(layer name, ||grad W|| / ||W||) for each weight-owning layer, in running order."""
    grads = ctx.first_pass.grads
    modules = dict(ctx.model.named_modules())
    params = dict(ctx.trainable)
    out = []
    for name in ctx.forward_record.weight_order:
        m = modules[name]
        if isinstance(m, nn.Embedding):
            continue
        g2 = w2 = 0.0
        for pname, p in m.named_parameters(recurse=False):
            full = f"{name}.{pname}" if name else pname
            if p.dim() < 2 or full not in params or grads.get(full) is None:
                continue
            g2 += float(grads[full].double().pow(2).sum())
            w2 += float(p.detach().double().pow(2).sum())
        if w2 > 0 and math.isfinite(g2):
            out.append((name or type(m).__name__, math.sqrt(g2 / w2)))
    return out


def run(ctx):
    layers = relative_gradients(ctx)
    if len(layers) < MIN_LAYERS:
        return
    (first, r_first), (last, r_last) = layers[0], layers[-1]
    if r_last == 0 or r_first == 0:
        return  # a zero gradient: no-gradient's business
    ratio = r_first / r_last
    if 1 / FACTOR < ratio < FACTOR:
        return
    shown = ", ".join(f"{n} {fmt(r)}" for n, r in (layers if len(layers) <= 6 else
                                                     layers[:3] + layers[-3:]))
    if ratio <= 1 / FACTOR:
        ctx.add("vanishing-gradient", "warning",
                f"The gradient vanishes towards the input: the first weight layer "
                f"('{first}') gets a relative gradient ||grad W||/||W|| {fmt(1 / ratio)} "
                f"times smaller than the last ('{last}') across {len(layers)} layers "
                f"({shown}). Each layer multiplies the backward signal by its weights "
                "and its activation's slope (at most 1/4 for a sigmoid), so the early "
                "layers barely move. Use ReLU-family activations in deep stacks, "
                "Kaiming/Xavier init, normalisation layers or residual connections.")
    else:
        ctx.add("exploding-gradient", "warning",
                f"The gradient explodes towards the input: the first weight layer "
                f"('{first}') gets a relative gradient ||grad W||/||W|| {fmt(ratio)} "
                f"times larger than the last ('{last}') across {len(layers)} layers "
                f"({shown}). Each layer multiplies the backward signal by its weights, "
                "so weights initialised too large grow it layer by layer and any "
                "learning rate that suits the last layer throws the first ones far. Use "
                "Kaiming/Xavier init (std about 1/sqrt(fan_in)), normalisation layers, "
                "or clip gradients (torch.nn.utils.clip_grad_norm_).")

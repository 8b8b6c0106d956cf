"""vanishing-gradient / exploding-gradient: does the gradient reach the first layers?

Experiment: the gradient from one backward pass at the reader's state, per layer that
owns a weight matrix (embeddings aside: a lookup only touches the rows it used), in
the order the layers ran. Each layer's size is its relative gradient
||grad W|| / ||W||, the fraction of the weights one unit-rate step would change.
Vanishing: with four or more such layers, the first layer's relative gradient is 100
times smaller or more than the last hidden layer's. Exploding: with three or more,
the first layer's is 100 times larger or more than the output layer's. (The output
layer is where the loss's gradient enters, and in healthy networks it has the
largest relative gradient: 14 to 206 times the hidden layers' in the benchmark's CNN and
transformer: so it is left out of the vanishing test, and a first layer far above
it is an explosion, e.g. one grown through time inside a recurrent layer.)
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
    if len(layers) < 3 or any(r == 0 for _, r in layers):
        return  # too shallow, or a zero gradient (no-gradient's business)
    shown = ", ".join(f"{n} {fmt(r)}" for n, r in (layers if len(layers) <= 6 else
                                                     layers[:3] + layers[-3:]))
    (first, r_first), (hidden, r_hidden), (out, r_out) = layers[0], layers[-2], layers[-1]
    if len(layers) >= 4 and r_first * FACTOR <= r_hidden:
        ctx.add("vanishing-gradient", "warning",
                f"The gradient vanishes towards the input: the first weight layer "
                f"('{first}') gets a relative gradient ||grad W||/||W|| "
                f"{fmt(r_hidden / r_first)} times smaller than the last hidden one "
                f"('{hidden}') across {len(layers)} layers ({shown}). Each layer "
                "multiplies the backward signal by its weights and its activation's "
                "slope (at most 1/4 for a sigmoid), so the early layers barely move. Use "
                "ReLU-family activations in deep stacks, Kaiming/Xavier init, "
                "normalisation layers or residual connections.")
    elif r_first >= FACTOR * r_out:
        ctx.add("exploding-gradient", "warning",
                f"The gradient explodes towards the input: the first weight layer "
                f"('{first}') gets a relative gradient ||grad W||/||W|| "
                f"{fmt(r_first / r_out)} times larger than the output layer ('{out}'), "
                f"which in a healthy network has the largest ({shown}). Each layer (and "
                "each time step of a recurrent one) multiplies the backward signal by "
                "its weights, so weights initialised too large grow it step by step, and "
                "any learning rate that suits the output layer throws the first ones "
                "far. Use Kaiming/Xavier (or orthogonal recurrent) init, normalisation "
                "with residual connections, or clip gradients "
                "(torch.nn.utils.clip_grad_norm_).")

"""saturated-activation: do sigmoid/tanh units sit in their flat tails?

Experiment: in the same recorded forward pass, every sigmoid and tanh call (module or
functional), except a sigmoid that produces the model's output when the loss is
BCELoss (its log undoes the sigmoid's flat tails). A unit is saturated when, for more
than half of the samples, the function's derivative there is below a tenth of its
peak (|x| above about 3.6 for sigmoid, 1.8 for tanh). A layer is reported when at
least half of its units are saturated: for most samples their gradient is cut
tenfold or more, so they and the layers before them barely learn.
"""

from __future__ import annotations

NEEDS = "model"
CODES = {"saturated-activation": "sigmoid/tanh units stuck in their flat tails"}
SAMPLES = 0.5
UNITS = 0.5


def run(ctx):
    record = ctx.forward_record
    outputs = {id(t) for t in record.outputs} if ctx.first_pass.spy.bce else set()
    found = []
    for k, (kind, out, flat_share) in enumerate(record.spy.squashes, 1):
        if id(out) in outputs or flat_share.numel() == 0:
            continue
        stuck = int((flat_share > SAMPLES).sum())
        if stuck >= UNITS * flat_share.numel():
            name = record.layer_names.get(id(out))
            where = f"'{name}'" if name else f"{kind} call {k} in forward()"
            found.append((stuck / flat_share.numel(), stuck, flat_share.numel(), kind, where))
    if not found:
        return
    found.sort(key=lambda f: -f[0])
    parts = "; ".join(f"{s} of {u} {kind} units in {where}" for _, s, u, kind, where in
                      found[:3])
    ctx.add("saturated-activation", "warning",
            f"Saturated activations: {parts} sit where the function is flat (its "
            f"derivative below a tenth of its peak) for more than half of {record.n} "
            "samples. The gradient through such a unit is cut tenfold or more, so the "
            "layers before it barely learn. Usual causes: inputs far from unit scale, "
            "weights initialised too large for the layer width, or a learning rate "
            "that pushed the pre-activations out. Standardise the inputs, use Xavier "
            "init (nn.init.xavier_uniform_), or switch hidden layers to ReLU.")

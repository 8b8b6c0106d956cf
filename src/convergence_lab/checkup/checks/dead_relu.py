"""dead-relu: do some ReLU units output 0 for every sample?

Experiment: one no-grad forward pass on up to 512 samples with every ReLU call
watched (module or functional). A unit (a feature, or a channel) is dead when it is
0 for every sample; a layer is reported when a quarter or more of its units are dead.
"""

from __future__ import annotations

NEEDS = "model"
CODES = {"dead-relu": "ReLU units inactive for every sample"}
SHARE = 0.25


def run(ctx):
    record = ctx.forward_record
    worst = []
    for k, (out, active) in enumerate(record.spy.relus, 1):
        name = record.layer_names.get(id(out))
        name = f"'{name}'" if name else f"relu call {k} in forward()"
        dead = int((~active).sum())
        if dead / len(active) >= SHARE:
            worst.append((dead / len(active), dead, len(active), name))
    if not worst:
        return
    worst.sort(key=lambda w: -w[0])
    parts = "; ".join(f"{d} of {u} in {name}" for _, d, u, name in worst[:3])
    ctx.add("dead-relu", "warning",
            f"ReLU units output 0 for all {record.n} samples: {parts}. A dead unit passes "
            "no gradient, so it never recovers and the network trains with less "
            "capacity than it has. Usual causes: a learning rate that threw the biases "
            "far negative, unscaled inputs, or a bad init. Lower the learning rate, "
            "standardise inputs, or try LeakyReLU.")

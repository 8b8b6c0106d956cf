"""loss-broadcast: do the prediction and target shapes broadcast in the loss?

Experiment: one call of the reader's loss on the model's output for the probe batch,
watched by a LossSpy: a built-in loss given shapes that differ (PyTorch broadcasts
them, and warns), or arithmetic inside a hand-written loss that combines (B, 1) with
(B,) into a (B, B) table.
"""

from __future__ import annotations

NEEDS = "model"
CODES = {"loss-broadcast": "prediction and target shapes broadcast in the loss"}


def run(ctx):
    first = ctx.first_pass
    spy, said = first.spy, first.warned
    if not spy.broadcasts and not said:
        return
    if spy.broadcasts:
        what, a, b, wide = spy.broadcasts[0]
        if what.startswith("F."):
            seen = (f"The prediction has shape {a} and the target {b}: the loss "
                    f"broadcasts them to {wide}")
        else:
            seen = (f"Inside the loss, '{what}' combines shapes {a} and {b}: it "
                    f"broadcasts them to {wide}")
    else:
        seen = (f"PyTorch warned inside the loss ({said[0].split('. This')[0]}): it "
                "broadcasts prediction and target")
    ctx.add("loss-broadcast", "error",
            f"{seen}, comparing every prediction with every target, so it trains each "
            "prediction towards the batch mean and the loss stalls near the target's "
            "variance. Make the shapes equal: y.view(-1, 1) or model(X).squeeze(1).")

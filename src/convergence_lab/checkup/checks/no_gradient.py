"""no-gradient: does every trainable parameter get a gradient?

Experiment: one backward pass from the reader's loss on the probe batch. A loss that
does not require grad (the graph is cut), tensors the gradient never reaches (unused
or detached), and weight tensors whose gradient is exactly 0 and stays 0 after one
step (a step function such as round, sign or argmax in forward(); a softmax over an
axis of size 1). A zero-initialised layer also blocks the first gradient, but it
opens after one step, so only gradients that stay 0 count; and dead ReLUs block it
too, so when dead-relu fired it speaks for them. (Through a train_step,
the user_step check adds the parameters the step never moves.)
"""

from __future__ import annotations

from .. import probes
from ..report import fmt, names

NEEDS = "model"
CODES = {"no-gradient": "trainable parameters that get no gradient"}


def run(ctx):
    first = ctx.first_pass
    if not first.has_graph:
        ctx.add("no-gradient", "error",
                "The loss does not require grad: the graph from the parameters to the "
                "loss is cut (a .detach(), .item(), .data, torch.no_grad() or a NumPy "
                "round trip), so no parameter gets a gradient.")
        ctx.stop()
        return
    none = [n for n, g in first.grads.items() if g is None]
    if none:
        ctx.add("no-gradient", "error",
                f"{len(none)} of {len(ctx.trainable)} trainable parameter tensors get no "
                f"gradient from the loss ({names(none)}): they are unused in forward() "
                "or their path to the loss is detached, so they never train. Use them, "
                "or set requires_grad=False on purpose.")
    _zero(ctx, first)


def zero_grads(grads: dict, shapes: dict) -> list[str]:
    got = [n for n, g in grads.items() if g is not None]
    zero = [n for n in got if not bool(grads[n].any())]
    # A 1-D tensor (a bias before BatchNorm) can have a zero gradient by design;
    # a weight matrix, or the whole model, cannot.
    if len(zero) < len(got):
        zero = [n for n in zero if shapes[n] >= 2]
    return zero


def _zero(ctx, first):
    if "dead-relu" in ctx.codes:
        return  # dead ReLUs block the gradient upstream: dead-relu says so
    dims = {n: p.dim() for n, p in ctx.trainable}
    zero = zero_grads(first.grads, dims)
    if not zero:
        return
    X, y = ctx.probe
    ctx.restore()
    ctx.training_mode()
    ctx.standard_step(X, y)
    for _, p in ctx.trainable:
        p.grad = None
    probes.seed(0)
    ctx.backward(ctx.loss(ctx.forward(X), y))
    again = set(zero_grads({n: p.grad for n, p in ctx.trainable}, dims))
    ctx.restore()
    zero = [n for n in zero if n in again]
    if not zero:
        return
    single = ctx.forward_record.spy.single_softmax
    scaled = "input-scale" in ctx.codes
    if single:
        cause = (f"a {single[0]} taken over an axis of size 1: softmax of one value is "
                 "always 1 (log_softmax always 0), whatever the input, so its derivative "
                 "is exactly 0. For one output use a sigmoid (BCEWithLogitsLoss on the "
                 "raw output); for C classes give the layer C outputs")
    else:
        cause = ("something between them and the loss has zero derivative, such as "
                 "torch.round, sign, argmax or (x > 0).float() in forward()"
                 + (", or activations saturated by the unscaled inputs" if scaled else "")
                 + ". Use a smooth function (sigmoid instead of a threshold) while "
                 "training")
    ctx.add("no-gradient", "warning" if scaled and not single else "error",
            f"{len(zero)} of {len(ctx.trainable)} trainable parameter tensors get a "
            f"gradient of exactly 0 ({names(zero)}) at a loss of {fmt(first.loss)}, even "
            f"after a step: {cause}. Gradient descent cannot move them.")

"""param-not-in-optimizer: does the optimizer hold every trainable parameter?

Experiment: the model's trainable tensors against the optimizer's ``param_groups``;
then, after one backward pass, the trainable tensors a module holds outside its
registry (a layer in a plain list, a tensor attribute with requires_grad=True) that
the gradient reaches: ``model.parameters()`` never lists them.
"""

from __future__ import annotations

from ..report import names

NEEDS = "data"
CODES = {"param-not-in-optimizer": "trainable parameters the optimizer does not hold"}


def run(ctx):
    held = {id(p) for g in ctx.opt.param_groups for p in g["params"]}
    missing = [n for n, p in ctx.trainable if id(p) not in held]
    if missing:
        n_all = len(ctx.trainable)
        if len(missing) == n_all:
            why = ("the optimizer holds none of this model's parameters: was it built "
                   "for another model instance, or before the model was replaced?")
        else:
            why = ("they were probably added after the optimizer was built, or left out "
                   "of the list passed to it.")
        ctx.add("param-not-in-optimizer", "error",
                f"{len(missing)} of {n_all} trainable parameter tensors are not in the "
                f"optimizer ({names(missing)}): {why} They get gradients but never move. "
                "Build the optimizer from model.parameters() after the model is complete.")
    if ctx.stopped or not ctx.hidden:
        return
    # One that gets no gradient is kept out on purpose (a frozen teacher).
    hidden = {n: t for n, t in ctx.hidden}
    reached = [n for n in ctx.first_pass.hidden_grads if id(hidden[n]) not in held]
    if reached:
        ctx.add("param-not-in-optimizer", "error",
                f"{len(reached)} trainable tensor(s) sit outside the model's registry "
                f"({names(reached)}): a layer kept in a plain Python list or dict, or a "
                "tensor attribute made with requires_grad=True. model.parameters() does "
                "not list them, so the optimizer never moves them (and state_dict() and "
                ".to() miss them too). Hold layers in nn.ModuleList / nn.ModuleDict and "
                "tensors as nn.Parameter.")

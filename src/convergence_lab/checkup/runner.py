"""Run the registered checks in order on one probe context."""

from __future__ import annotations

from .checks import REGISTRY
from .context import NoGraph, Probe
from .report import Report

_ORDER = {"error": 0, "warning": 1, "info": 2}


def run(ctx: Probe) -> Report:
    if ctx.user_step is None:
        ctx.note("no train_step given: the step-level checks used a standard step "
                 "(zero_grad, loss, backward, step).")
    for check in REGISTRY:
        if ctx.stopped and check.NEEDS != "data":
            continue
        if check.NEEDS != "data":  # every experiment starts from the reader's state
            ctx.restore()
            ctx.training_mode()
        try:
            check.run(ctx)
        except NoGraph:
            ctx.add("no-gradient", "error",
                    "train_step's loss does not require grad: the graph from the "
                    "parameters to the loss is cut (a .detach(), .item(), .data, "
                    "torch.no_grad() or a NumPy round trip), so backward() cannot reach "
                    "any parameter and nothing trains. Compute the loss from model(X) "
                    "with tensor operations only.")
            ctx.stop()
    ctx.report.findings.sort(key=lambda f: _ORDER[f.severity])
    return ctx.report

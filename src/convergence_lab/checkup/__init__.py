"""checkup(): point the book's diagnostics at a reader's own training loop.

Each check is a small experiment on the reader's model, loss, optimizer and data, in a
module of its own under ``checks/`` whose docstring states the experiment: one forward
and backward pass, a few steps at the optimizer's learning rate and at smaller ones,
an attempt to overfit one small batch, a probe that runs the reader's own
``train_step``. The experiments move the reader's parameters, so :func:`checkup`
snapshots everything it may touch and puts it back bit for bit in a ``finally`` block
(see :func:`checkup` for exactly what is and is not restored).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import nn

from . import inputs, probes, runner
from .checks import CHECKS
from .context import Probe
from .report import Finding, Report

__all__ = ["Finding", "Report", "checkup", "CHECKS"]


def checkup(model: nn.Module, loss_fn: Callable, optimizer: torch.optim.Optimizer,
            data, train_step: Callable | None = None) -> Report:
    """Run the book's checks on a training setup and return a :class:`Report`.

    ``data`` is a pair of tensors ``(X, y)`` or an iterable of ``(X, y)`` batches
    (a DataLoader; up to 200 batches are read). ``train_step``, if given, is the
    reader's own step, a callable ``(X, y) -> loss`` that zeroes, backpropagates and
    steps itself; the step-level checks then run through it.

    Restored bit for bit afterwards: the model's parameters, gradients, buffers and
    train/eval modes (also of layers held in plain lists), the optimizer's state and
    hyperparameters, the learning-rate schedulers attached to the optimizer (found
    wherever they live), the CPU, NumPy and Python random generators, CUDA's when it
    is in use, and a DataLoader's own generator. Not restored, and reported under
    ``report.not_restored`` when it happened: data passed as a generator or iterator
    (the batches read are used up), and a learning rate that ``train_step`` changed
    within the learning-rate probe's 3 calls with no scheduler stepping (a counter
    of your own may then have moved on). Anything else ``train_step`` keeps (a list
    of logged losses, a step counter, a GradScaler) also advances with each of the
    probe's calls."""
    inputs.check_arguments(model, loss_fn, optimizer, train_step)
    hidden, hidden_modules = probes.unregistered(model)
    state = probes.State(model, optimizer, data, extra=[t for _, t in hidden],
                         extra_modules=hidden_modules, schedulers=train_step is not None)
    threads = torch.get_num_threads()
    # Small models run several times faster on one thread (no hand-off between
    # threads), and one thread keeps the probes' round-off the same on every run.
    torch.set_num_threads(1)
    ctx = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch's broadcast warning: we report it
            with torch.enable_grad():
                ctx = Probe(model, loss_fn, optimizer, data, train_step, state, hidden)
                report = runner.run(ctx)
    finally:
        state.restore()
        torch.set_num_threads(threads)
    _unrestorable(report, data, ctx)
    return report


def _unrestorable(report, data, ctx):
    if inputs.is_iterator(data):
        report.not_restored.append(
            f"data is a {type(data).__name__} (an iterator): the {len(ctx.batches)} "
            "batches checkup read from it are used up. Pass a list or a DataLoader to "
            "train on them afterwards.")
    if ctx.lr_moved:
        report.not_restored.append(
            "train_step changed the learning rate during the probes, and no scheduler "
            "attached to the optimizer stepped: the optimizer's learning rate is "
            "restored, but if a counter of your own sets it, that counter has moved on.")

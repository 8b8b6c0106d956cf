"""A small recorded training loop.

The lesson writes its own ``step()`` (zero the gradients, compute the loss, call
``backward()``, step the optimizer) in the notebook; :func:`record_training` only calls
it, and records what a reader needs to see: the loss, every parameter, and the gradient
norm at each epoch. It stops at the first non-finite value and says where.

The convention chapters rely on: ``History.params[name]`` has one row more than
``History.loss``. Row ``k`` of the parameters is where epoch ``k`` started (row 0 the
initial values), ``loss[k]`` the loss computed there, and the last row of the
parameters is where training ended.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from .errors import LessonInputError, check_int

__all__ = ["History", "record_training", "named_tensors"]


@dataclass
class History:
    """What :func:`record_training` recorded.

    ``loss[k]`` and ``grad_norm[k]`` belong to epoch ``k``, evaluated at the parameters
    ``params[name][k]``; ``params[name][-1]`` is where training ended, so the
    parameter arrays have one row more than the loss.
    """

    loss: np.ndarray
    grad_norm: np.ndarray
    params: dict[str, np.ndarray] = field(default_factory=dict)
    diverged_at: int | None = None
    message: str = ""

    @property
    def epochs_run(self) -> int:
        return len(self.loss)

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    def final(self, name: str):
        """The last recorded value of parameter ``name`` (a float for a single number)."""
        value = self.params[name][-1]
        return float(value.reshape(-1)[0]) if value.size == 1 else value

    def __repr__(self) -> str:
        last = self.loss[-1] if self.epochs_run else float("nan")
        status = self.message or f"ran {self.epochs_run} epochs"
        return f"History({status}; last loss {last:.4g})"


def named_tensors(params) -> dict[str, torch.Tensor]:
    """The trainable tensors of a module, a mapping, or a list, keyed by name."""
    if isinstance(params, torch.nn.Module):
        return dict(params.named_parameters())
    if isinstance(params, Mapping):
        return dict(params)
    if isinstance(params, (list, tuple)) and all(isinstance(p, torch.Tensor) for p in params):
        return {str(i): p for i, p in enumerate(params)}
    raise LessonInputError(
        "record_training() records the parameters of an nn.Module, a dict of tensors or a "
        f"list of tensors; got {type(params).__name__}."
    )


def _total_norm(grads) -> float:
    # In NumPy: for the book's small models, torch's per-call overhead made this norm
    # cost a third of a training step.
    arrays = (g.detach().cpu().numpy() for g in grads)
    return math.sqrt(sum(float(np.vdot(a, a)) for a in arrays))


def _snapshot(named: Mapping[str, torch.Tensor]) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in named.items()}


def record_training(step: Callable[[], torch.Tensor], params, epochs: int) -> History:
    """Call ``step()`` ``epochs`` times and record the run.

    ``step`` is the lesson's own code: it returns the loss it computed before updating.
    ``params`` is what it trains (an ``nn.Module``, a dict or a list of tensors).
    Training stops at the first epoch whose loss, gradient or updated parameters are
    not finite; ``diverged_at`` holds that epoch and ``message`` says what overflowed.
    """
    if not callable(step):
        raise LessonInputError(
            "record_training() needs step, a function that runs one training step."
        )
    epochs = check_int(epochs, "The number of epochs", 1)
    named = named_tensors(params)
    if not named:
        raise LessonInputError("record_training() found no parameters to record.")

    losses, norms = [], []
    trace = {k: [v] for k, v in _snapshot(named).items()}
    diverged_at, message = None, ""
    for epoch in range(epochs):
        loss = step()
        value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
        grads = [p.grad for p in named.values() if p.grad is not None]
        norm = _total_norm(grads) if grads else float("nan")
        losses.append(value)
        norms.append(norm)
        snap = _snapshot(named)
        for k, v in snap.items():
            trace[k].append(v)
        bad = [
            what
            for what, ok in (
                ("loss", math.isfinite(value)),
                ("gradient", not grads or math.isfinite(norm)),
                # a sum is finite only if every entry is (or it overflows: diverged too)
                ("parameters", math.isfinite(sum(float(v.sum()) for v in snap.values()))),
            )
            if not ok
        ]
        if bad:
            diverged_at = epoch
            message = f"diverged at epoch {epoch}: the {' and '.join(bad)} overflowed to inf/NaN"
            break
    return History(
        loss=np.asarray(losses, dtype=np.float64),
        grad_norm=np.asarray(norms, dtype=np.float64),
        params={k: np.stack(v) for k, v in trace.items()},
        diverged_at=diverged_at,
        message=message,
    )

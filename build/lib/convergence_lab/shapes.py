"""A guard against a loss silently broadcasting prediction and target.

``MSELoss()(pred, target)`` with ``pred`` of shape (B, 1) and ``target`` of shape (B,)
does not fail: broadcasting turns the difference into a (B, B) matrix, every prediction
compared with every target. PyTorch prints one UserWarning, once, which is easy to miss
in a notebook. :func:`check_same_shape` and :func:`shape_guard` make it an error that
says what to change.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .errors import LessonInputError

__all__ = ["check_same_shape", "shape_guard"]


def check_same_shape(prediction: torch.Tensor, target: torch.Tensor) -> None:
    """Raise :class:`LessonInputError` unless prediction and target have the same shape."""
    p, t = tuple(prediction.shape), tuple(target.shape)
    if p == t:
        return
    try:
        broadcast = tuple(torch.broadcast_shapes(prediction.shape, target.shape))
        what = f"the loss would broadcast them to {broadcast}"
        if len(p) == len(t) + 1 and p[-1] == 1 and p[:-1] == t:
            hint = "reshape the target with target.view(-1, 1) (or squeeze the prediction)"
        elif len(t) == len(p) + 1 and t[-1] == 1 and t[:-1] == p:
            hint = "reshape the prediction with prediction.view(-1, 1) (or squeeze the target)"
        else:
            hint = "make both the same shape before the loss"
    except RuntimeError:
        what, hint = "they cannot even be broadcast together", "fix the shapes"
    raise LessonInputError(
        f"Prediction has shape {p} but target has shape {t}: {what}, comparing every "
        f"prediction with every target. To fix it, {hint}."
    )


def shape_guard(loss_fn: Callable) -> Callable:
    """Wrap a loss so it checks ``check_same_shape(prediction, target)`` on every call."""
    if not callable(loss_fn):
        raise LessonInputError("shape_guard() wraps a loss function, e.g. torch.nn.MSELoss().")

    def guarded(prediction, target, *args, **kwargs):
        check_same_shape(prediction, target)
        return loss_fn(prediction, target, *args, **kwargs)

    guarded.__wrapped__ = loss_fn
    guarded.__name__ = f"shape_guard({getattr(loss_fn, '__name__', type(loss_fn).__name__)})"
    return guarded

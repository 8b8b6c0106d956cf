"""A guard against a loss silently broadcasting prediction and target.

``MSELoss()(pred, target)`` with ``pred`` of shape (B, 1) and ``target`` of shape (B,)
does not fail: broadcasting turns the difference into a (B, B) matrix, every prediction
compared with every target. PyTorch prints one UserWarning, once, which is easy to miss
in a notebook. :func:`check_same_shape` and :func:`shape_guard` make any shape mismatch
an error whose message is derived from the two shapes: what the loss would compare
(or that it would raise) and how to make the shapes agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .errors import LessonInputError

__all__ = ["check_same_shape", "shape_guard"]


def _what_the_loss_does(p: tuple, t: tuple) -> str:
    """Say which predictions an elementwise loss would pair with which targets."""
    try:
        b = tuple(torch.broadcast_shapes(p, t))
    except RuntimeError:
        return "they cannot be broadcast together, so the loss raises an error"
    n_p, n_t, n_b = math.prod(p), math.prod(t), math.prod(b)
    said = f"the loss would broadcast them to {b}"
    if n_b == n_p == n_t:
        # Only size-1 axes differ: the pairing is still one to one.
        return (f"{said}, which still pairs each prediction with its own target, "
                "so the value is right, but the shapes disagree")
    if n_p > 1 and n_t > 1 and n_b == n_p * n_t:
        return (f"{said}, comparing every prediction with every target "
                f"({n_b} pairs instead of {max(n_p, n_t)})")
    if n_b == n_p:
        return (f"{said}, reusing the target {n_b // n_t} times: each target "
                f"value is compared with {n_b // n_t} predictions")
    if n_b == n_t:
        return (f"{said}, reusing the prediction {n_b // n_p} times: each "
                f"prediction is compared with {n_b // n_p} targets")
    return (f"{said}, comparing each prediction with {n_b // n_p} targets and "
            f"each target with {n_b // n_t} predictions")


def _how_to_fix(p: tuple, t: tuple) -> str:
    """A hint derived from the element counts of the two shapes."""
    n_p, n_t = math.prod(p), math.prod(t)
    if n_p == n_t:
        return (f"reshape the prediction to the target's shape, "
                f"prediction.reshape(target.shape), giving {t} (this assumes "
                "the values are in the same order; a transposed layout needs "
                "a transpose instead)")
    return (f"note that they hold different numbers of values ({n_p} and "
            f"{n_t}): make the model output one value per target, or check "
            "that prediction and target come from the same batch")


def check_same_shape(prediction: torch.Tensor, target: torch.Tensor) -> None:
    """Raise :class:`LessonInputError` unless prediction and target have the same shape.

    The message says what an elementwise loss would do with the two shapes (pair every
    prediction with every target, reuse one of them, or raise) and, from the element
    counts, how to make them agree.
    """
    p, t = tuple(prediction.shape), tuple(target.shape)
    if p == t:
        return
    raise LessonInputError(
        f"Prediction has shape {p} but target has shape {t}: "
        f"{_what_the_loss_does(p, t)}. To fix it, {_how_to_fix(p, t)}."
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

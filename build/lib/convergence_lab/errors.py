"""Reader-facing input errors.

A lesson's functions are called by readers with values they typed or dragged. A bad
value should come back as one clear sentence, not as a stack of frames; this module
holds the exception type for that and the checks the other modules share.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

__all__ = ["LessonInputError", "check_learning_rate", "check_int"]


class LessonInputError(ValueError):
    """A value a reader can fix; the message says what to change."""


def check_learning_rate(lr, name: str = "learning rate") -> float:
    """Return ``lr`` as a float, or raise if it is not a finite positive number.

    A learning rate of 0 never moves the parameters and a negative one climbs the
    loss, so neither is a training run worth drawing.
    """
    if isinstance(lr, bool) or not isinstance(lr, Real):
        raise LessonInputError(f"The {name} must be a number, got {lr!r}.")
    value = float(lr)
    if not math.isfinite(value) or value <= 0:
        raise LessonInputError(
            f"The {name} must be a finite number above 0, got {value:g}: "
            "at 0 the parameters never move, below 0 they climb the loss."
        )
    return value


def check_int(value, name: str, minimum: int, why: str = "") -> int:
    """Return ``value`` as an int, or raise if it is not a whole number >= ``minimum``."""
    if isinstance(value, bool):  # True would pass as 1: almost surely a slip
        raise LessonInputError(f"{name} must be a whole number, got {value!r}.")
    if not isinstance(value, Integral):
        if isinstance(value, Real) and float(value).is_integer():
            value = int(value)
        else:
            raise LessonInputError(f"{name} must be a whole number, got {value!r}.")
    value = int(value)
    if value < minimum:
        reason = f" ({why})" if why else ""
        raise LessonInputError(f"{name} must be at least {minimum}{reason}, got {value}.")
    return value

"""One call at the top of every chapter: seeds, threads, style, friendly errors."""

from __future__ import annotations

import math
import random

import numpy as np
import torch

from .errors import LessonInputError
from .plots import use_book_style

__all__ = ["setup_notebook", "format_lesson_error", "readout", "verdict"]


def format_lesson_error(exc: BaseException) -> str:
    """The one line a reader sees for a :class:`LessonInputError`."""
    return f"Input problem: {exc}"


def _show_lesson_error(shell, etype, value, tb, tb_offset=None):
    print(format_lesson_error(value))
    return []


def setup_notebook(seed: int = 0, threads: int = 1) -> None:
    """Seed every generator, fix the thread count, apply the book style.

    One thread keeps reductions bit-for-bit reproducible across machines (nbval compares
    printed numbers). Inside IPython a :class:`LessonInputError` prints one line instead
    of a traceback.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    use_book_style()
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((LessonInputError,), _show_lesson_error)


def verdict(claim: str, holds) -> None:
    """Print ``claim: yes`` when ``holds``, else stop the notebook there.

    A chapter's claim about a run whose digits depend on the CPU's rounding is
    printed as a verdict, never as raw numbers, so every machine prints the same
    line; when the claim fails the cell fails (AssertionError naming the claim),
    so a re-execution can never quietly publish a false "no".
    """
    if not bool(holds):
        raise AssertionError(f"{claim}: no")
    print(f"{claim}: yes")


def _significant(x: float, digits: int) -> str:
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        decimals = max(digits - 1 - math.floor(math.log10(abs(x))), 0)
        return f"{x:.{decimals}f}"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def readout(value, digits: int = 3, *, percent: bool = False) -> str:
    """The book's one number format for explorer titles and readouts.

    ``digits`` significant digits: plain from 0.001 to 10,000 (``1.48``, ``0.0123``,
    ``1500``), scientific outside (``5.2e-4``). A chaotic run's later digits differ from
    CPU to CPU, so a title shows only the digits its lesson needs. ``percent=True``
    shows a fraction as a percentage and never rounds a score short of perfect up to
    "100%" (or a non-zero one down to "0%"): it adds digits until the two differ. NaN
    and infinities read "NaN", "inf" and "-inf", so a diverged run says so.
    """
    digits = int(digits)
    if digits < 1:
        raise LessonInputError(f"readout() needs at least 1 significant digit, got {digits}.")
    v = float(value)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if not percent:
        return _significant(v, digits)
    text = _significant(100 * v, digits)
    while digits < 8 and ((float(text) == 100 and v != 1) or (float(text) == 0 and v != 0)):
        digits += 1
        text = _significant(100 * v, digits)
    return f"{text}%"

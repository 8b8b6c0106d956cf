"""One call at the top of every chapter: seeds, threads, style, friendly errors."""

from __future__ import annotations

import random

import numpy as np
import torch

from .errors import LessonInputError
from .plots import use_book_style

__all__ = ["setup_notebook", "format_lesson_error", "verdict"]


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

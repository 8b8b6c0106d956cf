"""Consistent figures for every chapter.

One colour means one thing across the book: red is the failing run, green the fix,
blue a neutral run, grey a target or reference, orange a warning, purple a better fix.
Curves that are only being compared, with no verdict attached, take ``PALETTE`` instead,
so that red never marks a run that is not failing. Figures come in three sizes
(``FIGSIZE``), all drawn at the same dpi, so text has one size across the book.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure

__all__ = [
    "COLORS",
    "PALETTE",
    "FIGSIZE",
    "use_book_style",
    "new_figure",
    "plot_trace",
    "outcome_map",
    "correctness_strip",
    "correctness_key",
]

COLORS = {
    "fail": "#c0392b",
    "fix": "#1e8449",
    "neutral": "#2e86c1",
    "target": "#7f8c8d",
    "better": "#8e44ad",
    "warn": "#d68910",
}

#: For plain comparisons (no verdict): colour-blind-safe hues unlike the ones above.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#000000")

#: The book's figure sizes in inches (at dpi 100): one panel, two panels, three or more.
FIGSIZE = {"one": (6.4, 3.2), "two": (9.0, 3.2), "wide": (10.0, 3.2)}

_STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 9,  # legible where a two-panel figure is shown at 77%
    "legend.frameon": False,
    "image.cmap": "viridis",
}


def use_book_style() -> None:
    """Apply the book's matplotlib settings (small fonts, light grid, no top/right spines)."""
    mpl.rcParams.update(_STYLE)


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float = 9.0, height: float = 3.2):
    """A figure detached from pyplot, and its axes as a flat list (matplotlib's order:
    ``nrows`` then ``ncols``).

    Detached figures are not shown automatically at the end of a cell, so an explorer
    can redraw one without the inline backend printing a second copy.
    """
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    return fig, axes


def plot_trace(ax, values, *, label=None, color=None, target=None, target_label=None, x=None):
    """Plot one recorded quantity against the epoch, with an optional target line."""
    values = np.asarray(values, dtype=float).reshape(len(values), -1)[:, 0]
    steps = np.arange(len(values)) if x is None else np.asarray(x)
    ax.plot(steps, values, color=color or COLORS["neutral"], label=label, lw=1.4)
    if target is not None:
        ax.axhline(target, color=COLORS["target"], ls="--", lw=1, label=target_label)
    ax.set_xlabel("epoch")
    return ax


def outcome_map(ax, x, y, outcome, labels, colors, *, log_x=True, log_y=True):
    """A heatmap of discrete outcomes: ``outcome[i, j]`` for ``y[i]``, ``x[j]``.

    ``labels`` and ``colors`` name and colour outcome codes 0, 1, 2, ...; a legend of
    coloured patches says which is which.
    """
    outcome = np.asarray(outcome)
    if outcome.shape != (len(y), len(x)):
        raise ValueError(f"outcome has shape {outcome.shape}, expected {(len(y), len(x))}")
    cmap = ListedColormap(colors)
    norm = BoundaryNorm(np.arange(len(colors) + 1) - 0.5, len(colors))
    ax.pcolormesh(_edges(x, log_x), _edges(y, log_y), outcome, cmap=cmap, norm=norm)
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.grid(False)
    handles = [mpl.patches.Patch(color=c, label=lab) for c, lab in zip(colors, labels, strict=True)]
    ax.legend(handles=handles, loc="lower left", frameon=True, framealpha=0.9)
    return ax


def _edges(centres, log):
    c = np.asarray(centres, dtype=float)
    if len(c) == 1:
        return np.array([c[0] * 0.9, c[0] * 1.1]) if log else np.array([c[0] - 0.5, c[0] + 0.5])
    t = np.log(c) if log else c
    mids = (t[1:] + t[:-1]) / 2
    e = np.concatenate([[t[0] - (mids[0] - t[0])], mids, [t[-1] + (t[-1] - mids[-1])]])
    return np.exp(e) if log else e


def correctness_strip(ax, correct, *, width: int = 60, start: int = 0, title=None):
    """Show a row of right/wrong answers as a grid of green and red cells.

    Cell ``(r, c)`` is the answer for the integer ``start + r * width + c``.
    """
    correct = np.asarray(correct, dtype=bool).ravel()
    rows = -(-len(correct) // width)
    grid = np.full(rows * width, np.nan)
    grid[: len(correct)] = correct
    cmap = ListedColormap([COLORS["fail"], COLORS["fix"]])
    ax.imshow(grid.reshape(rows, width), cmap=cmap, vmin=0, vmax=1, aspect="auto",
              interpolation="nearest", extent=(0, width, start + rows * width, start))
    ax.set_xlabel(f"x mod {width}")
    ax.set_ylabel("x (row start)")
    ax.grid(False)
    ax.set_title(title or f"{correct.mean():.1%} correct")
    return ax


def correctness_key(right: str = "right", wrong: str = "wrong"):
    """Legend handles saying what the colours of :func:`correctness_strip` mean.

    Pass them to ``ax.legend(handles=...)`` or ``fig.legend(handles=...)``.
    """
    return [mpl.patches.Patch(color=COLORS["fix"], label=right),
            mpl.patches.Patch(color=COLORS["fail"], label=wrong)]

"""convergence_lab: plumbing for the "Why Won't It Converge?" book.

The lessons (models, losses, optimizer steps, bugs and fixes) live in the notebooks.
This package holds what a reader should not have to read twice: seeded data, a
recorded training loop, batched sweeps, plots, slider explorers and input checks.
"""

from .checkup import CHECKS, Finding, Report, checkup
from .controls import choice, int_slider, log_slider, slider, toggle
from .data import linear_data, parity_data
from .errors import LessonInputError
from .explorer import grid_index
from .notebook import readout, setup_notebook, verdict
from .plots import (
    COLORS,
    FIGSIZE,
    PALETTE,
    correctness_key,
    correctness_strip,
    outcome_map,
    plot_trace,
)
from .recorded import Explorer
from .shapes import shape_guard
from .sweep import sweep
from .training import record_training

# What the chapters use, plus checkup's report types. Everything else is importable
# from its module (convergence_lab.training.History, convergence_lab.errors.check_int, ...).
__all__ = [
    "CHECKS", "COLORS", "FIGSIZE", "PALETTE", "Explorer", "Finding", "LessonInputError",
    "Report", "checkup",
    "choice", "correctness_key", "correctness_strip", "grid_index", "int_slider",
    "linear_data", "log_slider", "outcome_map", "parity_data", "plot_trace", "readout",
    "record_training", "setup_notebook", "shape_guard", "slider", "sweep", "toggle",
    "verdict",
]
# The book's release: every notebook's Colab cell installs the tag v<__version__>.
# Bump it only through a release (README: "Cut a release").
__version__ = "0.1.0"

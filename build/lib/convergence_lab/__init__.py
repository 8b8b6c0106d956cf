"""convergence_lab: plumbing for the "Why Won't It Converge?" book.

The lessons (models, losses, optimizer steps, bugs and fixes) live in the notebooks.
This package holds what a reader should not have to read twice: seeded data, a
recorded training loop, batched sweeps, plots, slider explorers and input checks.
"""

from .data import linear_data, parity_data
from .errors import LessonInputError, check_int, check_learning_rate
from .explorer import (
    Control,
    Explorer,
    choice,
    grid_index,
    int_slider,
    log_slider,
    slider,
    toggle,
)
from .notebook import format_lesson_error, setup_notebook
from .plots import (
    COLORS,
    correctness_strip,
    new_figure,
    outcome_map,
    plot_trace,
    use_book_style,
)
from .shapes import check_same_shape, shape_guard
from .sweep import SweepResult, sweep
from .training import History, fit, named_tensors

__all__ = [
    "COLORS", "Control", "Explorer", "History", "LessonInputError", "SweepResult",
    "check_int", "check_learning_rate", "check_same_shape", "choice",
    "correctness_strip", "shape_guard",
    "fit", "format_lesson_error", "grid_index", "int_slider", "linear_data", "log_slider",
    "named_tensors", "new_figure", "outcome_map", "parity_data", "plot_trace",
    "setup_notebook", "slider", "sweep", "toggle", "use_book_style",
]
# The book's release: every notebook's Colab cell installs the tag v<__version__>.
# Bump it only through a release (README: "Cut a release").
__version__ = "0.1.0"

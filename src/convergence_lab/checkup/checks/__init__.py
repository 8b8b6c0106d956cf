"""The checks, one module each, in the order they run.

Each module states its experiment in its docstring and declares ``NEEDS`` (``"data"``:
reads the data only; ``"model"``: runs the model; ``"step"``: trains) and ``CODES``
(code -> what it catches); ``run(ctx)`` adds findings to the probe context. Adding a
check is one module and one line below.
"""

from __future__ import annotations

from ..report import CODES
from . import (
    batch_mixing,
    batch_order,
    dead_relu,
    gradient_flow,
    input_scale,
    labels_learnable,
    learning_rate,
    loss_broadcast,
    lr_schedule,
    no_gradient,
    non_finite,
    optimizer_params,
    overfit,
    saturation,
    slow_progress,
    softmax_cross_entropy,
    user_step,
)

REGISTRY = [
    input_scale,  # data: first, so later messages can name the inputs' scale
    batch_order,
    non_finite,  # data, then one forward and backward pass; stops the rest if any NaN
    optimizer_params,
    loss_broadcast,
    softmax_cross_entropy,
    dead_relu,  # before no_gradient: dead units explain zero gradients upstream
    no_gradient,
    saturation,
    gradient_flow,
    batch_mixing,
    user_step,
    lr_schedule,
    learning_rate,
    overfit,
    slow_progress,
    labels_learnable,  # last: a diagnosis of exclusion
]

# Where each code is taught: a section of the published book, as a link a reader can
# open from Colab or their own script. SITE is the book's html.baseurl (_config.yml; a
# test keeps them equal), kept here because Colab installs the helper without the book.
# A code no chapter teaches yet links to chapter 5's table of checks.
SITE = "https://why-wont-it-converge.github.io/book/"
_CH5 = "book/05-checkup/checkup.html#checkup-how"
LESSONS = {
    "loss-broadcast": "book/03-broadcast-regression/broadcast_regression.html"
                      "#broadcast-regression",
    "lr-too-large": "book/01-sine-parity/sine_parity.html#sine-parity-stable-lr",
    "input-scale": "book/03-broadcast-regression/broadcast_regression.html"
                   "#broadcast-regression-scale",
    "grad-accumulation": "book/06-wiring-bugs/wiring_bugs.html"
                         "#wiring-bugs-grad-accumulation",
}

# code -> (what it catches, the link to its lesson): the table Finding checks codes
# against (report.CODES), filled here so that report need not import the checks.
CHECKS = CODES
CHECKS.update({code: (what, SITE + LESSONS.get(code, _CH5))
               for check in REGISTRY for code, what in check.CODES.items()})

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
# Every code has one (a test checks it, and that each lands on a labelled section).
SITE = "https://why-wont-it-converge.github.io/book/"
_CH6 = "book/06-wiring-bugs/wiring_bugs.html#wiring-bugs-"
_CH7 = "book/07-data-bugs/data_bugs.html#data-bugs-"
_CH8 = "book/08-step-size/step_size.html#step-size-"
_CH9 = "book/09-depth-activations/depth_activations.html#depth-activations-"
LESSONS = {
    # taught by chapters 1 and 3 (the field guide has a pointer section for each)
    "loss-broadcast": "book/03-broadcast-regression/broadcast_regression.html"
                      "#broadcast-regression",
    "lr-too-large": "book/01-sine-parity/sine_parity.html#sine-parity-stable-lr",
    "input-scale": "book/03-broadcast-regression/broadcast_regression.html"
                   "#broadcast-regression-scale",
    # the field guide, chapters 6 to 9: one section per code, named after it
    **{code: _CH6 + code for code in (
        "grad-accumulation", "param-not-in-optimizer", "no-gradient",
        "softmax-before-cross-entropy", "batch-mixing")},
    **{code: _CH7 + code for code in (
        "non-finite", "unshuffled-batches", "labels-not-learnable")},
    **{code: _CH8 + code for code in (
        "slow-progress", "lr-schedule-too-fast", "cannot-overfit-batch")},
    **{code: _CH9 + code for code in (
        "vanishing-gradient", "exploding-gradient", "saturated-activation",
        "dead-relu")},
}

# code -> (what it catches, the link to its lesson): the table Finding checks codes
# against (report.CODES), filled here so that report need not import the checks.
CHECKS = CODES
CHECKS.update({code: (what, SITE + LESSONS[code])
               for check in REGISTRY for code, what in check.CODES.items()})

"""The evaluation set's format: one Case per setup, registered with @case.

A case is a setup modelled on a real public report (a GitHub issue, a PyTorch forum
thread, a Stack Overflow question), small enough for checkup to run in well under a
second. Each case file registers its setups with the ``case`` decorator; the runner
(``run.py``) imports every ``cases_*.py`` module and measures checkup on all of them.

kind:
  "bug"        the setup is broken in one way; ``expect`` is the checkup code that
               names its cause.
  "healthy"    the setup trains fine; checkup should raise no error and ideally no
               warning. ``expect`` is None.
  "bad-input"  checkup must refuse the call with a LessonInputError whose message
               names the problem; ``expect`` is a tuple of words, at least one of
               which (case-insensitively) must appear in that message.

``build()`` returns a fresh Setup each call (seeded, so every call is identical).
``confirm()`` establishes the ground truth by actually training (bug and healthy
cases): it returns (holds, text), where ``holds`` says the setup really is broken
(bug) or really converges (healthy), and ``text`` gives the measured numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

KINDS = ("bug", "healthy", "bad-input")


@dataclass
class Setup:
    model: Any
    loss_fn: Any
    optimizer: Any
    data: Any
    train_step: Callable | None = None


@dataclass
class Case:
    name: str
    kind: str
    expect: Any
    source: str
    build: Callable[[], Setup]
    confirm: Callable[[], tuple[bool, str]] | None = None


CASES: dict[str, Case] = {}


def case(name: str, kind: str, expect=None, source: str = "",
         confirm: Callable[[], tuple[bool, str]] | None = None):
    """Register ``build`` as a case. ``source`` names the report it is modelled on."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    if not source:
        raise ValueError(f"case {name!r} needs a source")

    def register(build):
        if name in CASES:
            raise ValueError(f"duplicate case {name!r}")
        CASES[name] = Case(name, kind, expect, source, build, confirm)
        return build

    return register


def standard_epoch(setup: Setup) -> None:
    """One epoch of the setup's own training: its train_step, or zero_grad/backward/step."""
    data = setup.data
    batches = [data] if (isinstance(data, (tuple, list)) and len(data) == 2
                         and all(torch.is_tensor(t) for t in data)) else data
    for X, y in batches:
        if setup.train_step is not None:
            setup.train_step(X, y)
        else:
            setup.optimizer.zero_grad()
            loss = setup.loss_fn(setup.model(X), y)
            loss.backward()
            setup.optimizer.step()

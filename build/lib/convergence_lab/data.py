"""Seeded data for each chapter's scenario.

Every generator takes a ``seed`` and draws from its own ``torch.Generator``, so a
chapter's numbers do not depend on what ran before it in the kernel.
"""

from __future__ import annotations

import torch

from .errors import LessonInputError, check_int

__all__ = ["parity_data", "linear_data"]


def parity_data(n_samples: int = 1000, high: int = 1000, seed: int = 0):
    """Integers drawn uniformly from ``[0, high)`` and their parity (chapter 1).

    Returns ``(x, y)``, float32 column tensors of shape ``(n_samples, 1)`` with
    ``y = x mod 2``: the layout ``nn.Linear(1, 1)`` expects.
    """
    n_samples = check_int(n_samples, "The number of samples", 1)
    high = check_int(
        high, "The sample range N", 2, why="parity needs at least one even and one odd integer"
    )
    generator = torch.Generator().manual_seed(int(seed))
    x = torch.randint(0, high, (n_samples, 1), generator=generator).to(torch.float32)
    return x, torch.remainder(x, 2)


def linear_data(n_samples: int, weights, bias: float = 0.0, noise: float = 1.0,
                scale: float = 1.0, seed: int = 0):
    """Inputs ``x = scale * N(0, 1)`` and targets ``y = x @ weights + bias + noise * N(0, 1)``.

    Returns ``(x, y)`` as float32 tensors of shapes ``(n_samples, len(weights))`` and
    ``(n_samples,)``: the target is flat, as most hand-written scripts make it (chapter 3
    is about what that does to a loss).
    """
    n_samples = check_int(n_samples, "The number of samples", 1)
    w = torch.as_tensor(weights, dtype=torch.float64).reshape(-1)
    if w.numel() == 0:
        raise LessonInputError("linear_data() needs at least one weight.")
    if not (noise >= 0 and scale > 0):
        raise LessonInputError(
            f"noise must be >= 0 and scale > 0; got noise={noise:g}, scale={scale:g}."
        )
    generator = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n_samples, w.numel() + 1, generator=generator, dtype=torch.float64)
    x = scale * z[:, :-1]
    y = x @ w + bias + noise * z[:, -1]
    return x.to(torch.float32), y.to(torch.float32)

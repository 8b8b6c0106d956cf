"""Seeded data for each chapter's scenario.

Every generator takes a ``seed`` and draws from its own ``torch.Generator``, so a
chapter's numbers do not depend on what ran before it in the kernel.
"""

from __future__ import annotations

import torch

from .errors import check_int

__all__ = ["parity_data"]


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

"""Batched sweeps: many training settings in one vectorised run.

A slider explorer or a heatmap needs hundreds of runs. Training them one by one pays
Python and autograd overhead per run; stacking them along a leading "setting" axis
pays it once. Settings never mix: each setting's loss depends only on its own slice
of the parameters, so the gradient of the summed loss is each setting's own gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from .errors import LessonInputError, check_int

__all__ = ["SweepResult", "sweep"]


@dataclass
class SweepResult:
    """What :func:`sweep` recorded for K settings.

    ``loss[s, k]`` is setting k's loss before step s (row ``steps`` is the loss after
    the last step); after a setting diverges its entries are NaN. ``diverged_at[k]`` is
    the step at which setting k's loss or parameters stopped being finite, or -1.
    ``params`` holds the final parameters (the last finite ones for diverged settings),
    ``trajectory`` the parameters before every step and after the last, if recorded.
    """

    loss: np.ndarray
    params: dict[str, np.ndarray]
    diverged_at: np.ndarray
    trajectory: dict[str, np.ndarray] | None = None

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    @property
    def final_loss(self) -> np.ndarray:
        return self.loss[-1]


def _learning_rates(lr, k: int) -> torch.Tensor:
    rates = torch.as_tensor(np.asarray(lr, dtype=np.float64)).reshape(-1)
    if rates.numel() == 1:
        rates = rates.expand(k)
    if rates.numel() != k:
        raise LessonInputError(f"sweep() got {rates.numel()} learning rates for {k} settings.")
    bad = ~(torch.isfinite(rates) & (rates > 0))
    if bad.any():
        first = int(bad.nonzero()[0])
        raise LessonInputError(
            f"Every learning rate in a sweep must be a finite number above 0; "
            f"setting {first} has {float(rates[first]):g}."
        )
    return rates


def sweep(
    loss_fn: Callable[[dict[str, torch.Tensor], int], torch.Tensor],
    init: Mapping[str, torch.Tensor],
    lr,
    steps: int,
    *,
    record_params: bool = False,
    manual_grads: bool = False,
    optimizer: str = "sgd",
    alpha: float = 0.99,
    eps: float = 1e-8,
) -> SweepResult:
    """Run gradient descent on K independent settings at once.

    ``init`` maps names to tensors whose first axis has length K (one slice per
    setting). ``loss_fn(params, step)`` returns a tensor of K losses, one per setting;
    ``step`` lets it pick a mini-batch. ``lr`` is one learning rate per setting (or one
    for all). Each step is ``p <- p - lr * dloss/dp`` for every setting still finite.

    With ``manual_grads=True``, ``loss_fn`` returns ``(losses, grads)`` itself, grads
    being a dict like ``init`` (for example hand-written backpropagation); autograd is
    not used, which is several times faster for many tiny models.

    ``optimizer="rmsprop"`` replaces the step by ``torch.optim.RMSprop``'s (defaults:
    ``v <- alpha v + (1 - alpha) g^2``, ``p <- p - lr g / (sqrt(v) + eps)``).
    """
    if optimizer not in ("sgd", "rmsprop"):
        raise LessonInputError(f"optimizer must be 'sgd' or 'rmsprop', got {optimizer!r}.")
    steps = check_int(steps, "The number of steps", 1)
    if not init:
        raise LessonInputError("sweep() needs at least one parameter in init.")
    sizes = {name: t.shape[0] if t.dim() else 0 for name, t in init.items()}
    k = next(iter(sizes.values()))
    if k == 0 or any(s != k for s in sizes.values()):
        raise LessonInputError(
            "Every tensor in init needs the same leading 'setting' axis; got sizes "
            + ", ".join(f"{n}: {s}" for n, s in sizes.items())
        )
    params = {n: t.detach().clone().requires_grad_(not manual_grads) for n, t in init.items()}
    dtype = next(iter(params.values())).dtype
    rates = _learning_rates(lr, k).to(dtype)

    alive = torch.ones(k, dtype=torch.bool)
    diverged_at = torch.full((k,), -1, dtype=torch.long)
    losses = torch.full((steps + 1, k), float("nan"), dtype=torch.float64)
    trajectory = {n: [] for n in params} if record_params else None

    # Per-setting values (learning rate, alive) broadcast over each tensor with this shape.
    per_setting = {n: (k,) + (1,) * (p.dim() - 1) for n, p in params.items()}
    rate_of = {n: rates.view(per_setting[n]) for n in params}
    square_avg = {}  # RMSprop's running mean of g^2, only when it is used
    if optimizer == "rmsprop":
        square_avg = {n: torch.zeros_like(p) for n, p in params.items()}
    for s in range(steps + 1):
        if trajectory is not None:
            for n, p in params.items():
                trajectory[n].append(p.detach().clone())
        if manual_grads:
            with torch.no_grad():
                loss, given = loss_fn(params, s)
        else:
            loss = loss_fn(params, s)
        if loss.shape != (k,):
            raise LessonInputError(
                f"loss_fn must return one loss per setting, shape ({k},); got {tuple(loss.shape)}."
            )
        value = loss.detach()
        if not torch.isfinite(value).all():  # the per-setting bookkeeping only when needed
            newly = alive & ~torch.isfinite(value)
            diverged_at[newly] = s
            alive &= ~newly
        everyone = bool(alive.all())
        losses[s] = value if everyone else torch.where(alive, value.double(), torch.nan)
        if s == steps or not alive.any():
            break
        if manual_grads:
            missing = set(params) - set(given)
            if missing:
                raise LessonInputError(f"loss_fn gave no gradient for {sorted(missing)}.")
            grads = [given[n] for n in params]
        else:
            grads = torch.autograd.grad(
                loss[alive].sum(), list(params.values()), allow_unused=True
            )
        # [update] (shown in the book's appendix)
        with torch.no_grad():
            # Compute every tensor's update first: a setting whose update overflows in
            # any tensor keeps all of its last finite values.
            moved = {}
            ok = torch.ones(k, dtype=torch.bool)
            for (name, p), g in zip(params.items(), grads, strict=True):
                if g is not None:
                    if optimizer == "rmsprop":
                        v = square_avg[name]
                        v.mul_(alpha).addcmul_(g, g, value=1 - alpha)
                        g = g / (v.sqrt() + eps)
                    moved[name] = p - rate_of[name] * g
                    finite = torch.isfinite(moved[name])
                    if not finite.all():
                        ok &= finite.reshape(k, -1).all(dim=1)
            # [/update]
            if everyone and bool(ok.all()):  # the common case: plain updates
                for name, new in moved.items():
                    params[name].copy_(new)
                continue
            diverged_at[alive & ~ok] = s + 1
            alive &= ok
            for name, new in moved.items():
                p = params[name]
                p.copy_(torch.where(alive.view(per_setting[name]), new, p))

    result_params = {n: p.detach().numpy().copy() for n, p in params.items()}
    traj = None
    if trajectory is not None:
        traj = {n: torch.stack(v).numpy() for n, v in trajectory.items()}
    return SweepResult(
        loss=losses.numpy(),
        params=result_params,
        diverged_at=diverged_at.numpy(),
        trajectory=traj,
    )

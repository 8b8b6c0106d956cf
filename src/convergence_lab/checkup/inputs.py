"""Reading the reader's arguments: refuse what checkup cannot run on, in one sentence."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn

from ..errors import LessonInputError

MAX_BATCHES = 200  # how far into a DataLoader checkup reads


def check_arguments(model, loss_fn, optimizer, train_step) -> None:
    if not isinstance(model, nn.Module):
        raise LessonInputError(
            f"checkup() needs the model as an nn.Module, got {type(model).__name__}.")
    if not callable(loss_fn) or isinstance(loss_fn, type):
        raise LessonInputError(
            "loss_fn must be callable: a loss object or function, e.g. torch.nn.MSELoss() (with "
            f"the brackets); got {loss_fn!r}.")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise LessonInputError(
            "optimizer must be a torch.optim optimizer, e.g. "
            f"torch.optim.SGD(model.parameters(), lr=0.1); got {type(optimizer).__name__}.")
    if train_step is not None and not callable(train_step):
        raise LessonInputError(
            "train_step must be a function (X, y) -> loss that runs one step, or None; "
            f"got {type(train_step).__name__}.")
    if not any(p.requires_grad for p in model.parameters()):
        raise LessonInputError(
            "The model has no trainable parameters (none has requires_grad=True): "
            "there is nothing to train. Unfreeze at least one layer.")
    for i, g in enumerate(optimizer.param_groups):
        lr = g.get("lr")
        if torch.is_tensor(lr):
            lr = float(lr)
        if isinstance(lr, (int, float)) and not lr > 0 and g["params"]:
            raise LessonInputError(
                f"The optimizer's learning rate is {lr:g} (param group {i}): at 0 the "
                "parameters never move, below 0 they climb the loss. Use a positive "
                "learning rate, e.g. 1e-3.")


def _pair(batch) -> bool:
    return isinstance(batch, (tuple, list)) and len(batch) == 2 and all(
        torch.is_tensor(t) for t in batch)


def read_batches(data) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], bool]:
    """The data as a list of (X, y) batches, and whether it came as one pair of tensors."""
    if isinstance(data, (tuple, list)) and len(data) == 2 and any(
            isinstance(t, np.ndarray) for t in data):
        raise LessonInputError(
            "X and y are NumPy arrays: convert them to tensors first, e.g. "
            "(torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)).")
    if _pair(data):
        X, y = data
        _check_batch(X, y, "The data")
        return [(X, y)], True
    if torch.is_tensor(data) or not isinstance(data, Iterable) or isinstance(
            data, (str, bytes, dict)):
        raise LessonInputError(
            "checkup() needs data as a pair of tensors (X, y) or an iterable of "
            f"(X, y) batches such as a DataLoader; got {type(data).__name__}.")
    out = []
    for i, batch in enumerate(itertools.islice(data, MAX_BATCHES)):
        if not _pair(batch):
            what = (f"a {type(batch).__name__} of {len(batch)}"
                    if isinstance(batch, (tuple, list)) else f"a {type(batch).__name__}")
            raise LessonInputError(
                f"Each batch must be a pair of tensors (X, y); batch {i} is {what}.")
        _check_batch(batch[0], batch[1], f"Batch {i}")
        out.append((batch[0], batch[1]))
    if not out:
        raise LessonInputError(
            "The data gave no batches: is the dataset (or DataLoader) empty, or a "
            "generator that was already used up?")
    return out, False


def _check_batch(X, y, what) -> None:
    if X.dim() == 0 or y.dim() == 0:
        raise LessonInputError(
            f"{what} holds a 0-dimensional tensor (shapes {tuple(X.shape)} and "
            f"{tuple(y.shape)}): X and y need one row per sample.")
    if len(X) != len(y):
        raise LessonInputError(
            f"{what} has {len(X)} samples in X but {len(y)} in y: they must match.")
    if len(X) == 0:
        raise LessonInputError(
            f"{what} is empty: X has shape {tuple(X.shape)}, 0 samples. Pass data "
            "with at least one sample (checkup needs 8 or more for its probes).")


def is_iterator(data) -> bool:
    """A generator or iterator is used up by reading it; a list or DataLoader is not."""
    return isinstance(data, Iterator)


def batches_per_epoch(data, batches, as_tensors) -> int:
    """How many steps one epoch takes: 1 for a pair of tensors, len(data) if it has one."""
    if as_tensors:
        return 1
    try:
        return max(1, len(data))
    except TypeError:
        return len(batches)


def first_samples(batches, n):
    xs, ys, total = [], [], 0
    for X, y in batches:
        xs.append(X)
        ys.append(y)
        total += len(X)
        if total >= n:
            break
    try:
        return torch.cat(xs)[:n], torch.cat(ys)[:n]
    except RuntimeError as exc:
        raise LessonInputError(
            "The batches' shapes differ beyond the batch size (X "
            f"{[tuple(x.shape) for x in xs[:3]]}...), so they cannot be joined into one "
            f"probe batch: {str(exc).splitlines()[0]}") from None


def labels(y) -> torch.Tensor | None:
    """Targets as one label per sample (one-hot rows as their argmax), or None."""
    y = y.detach()
    if y.dim() == 2 and y.shape[1] == 1:
        return y[:, 0]
    if y.dim() == 2 and y.is_floating_point() and y.shape[1] >= 2 and bool(
            (y >= 0).all() and ((y.sum(1) - 1).abs() < 1e-3).all()):
        return y.argmax(1)
    return y if y.dim() == 1 else None


def hard_labels(y) -> bool:
    return not y.is_floating_point() or bool(((y == 0) | (y == 1)).all())


def callable_name(f: Callable) -> str:
    return getattr(f, "__name__", type(f).__name__)

"""The instruments :func:`checkup` observes a reader's code with.

* :class:`State` copies everything a probe may change and puts it back bit for bit:
  parameters, gradients, buffers, modes, optimizer state and hyperparameters, the
  random generators of every device the probes seed, a DataLoader's own generator,
  and the learning-rate schedulers attached to the optimizer.
* :class:`LossSpy` and :class:`ActivationSpy` are ``TorchFunctionMode`` s: PyTorch
  hands them every torch call made while they are active, so they see what happens
  *inside* a reader's ``forward`` or loss function (an ``F.relu``, a ``torch.sigmoid``,
  a wrapped ``F.cross_entropy``, a subtraction that broadcasts) however it is written.
* :func:`unregistered` finds layers and tensors a module holds in plain
  Python containers, which ``model.parameters()`` and so the optimizer never see.
"""

from __future__ import annotations

import copy
import gc
import random

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

# ---------------------------------------------------------------- state handling


class State:
    """Everything a probe may change, copied so it can be put back bit for bit.

    ``schedulers``: look for learning-rate schedulers attached to the optimizer (a
    reader's ``train_step`` may step one) and save their counters too.
    """

    def __init__(self, model, optimizer, data, extra=(), extra_modules=(),
                 schedulers=False):
        self.model, self.optimizer = model, optimizer
        # modules held outside the registry (a plain list) keep buffers too
        self.modules = [m for top in (model, *extra_modules) for m in top.modules()]
        seen, tensors = set(), []
        for p in [*model.parameters(), *extra,
                  *(p for g in optimizer.param_groups for p in g["params"])]:
            if id(p) not in seen:
                seen.add(id(p))
                tensors.append(p)
        self.tensors = tensors
        self.values = [p.detach().clone() for p in tensors]
        self.grads = [None if p.grad is None else p.grad.detach().clone()
                      for p in tensors]
        self.buffers = [b.detach().clone() for b in self._buffers()]
        self.modes = [m.training for m in self.modules]
        self.opt_state = {p: _clone(s) for p, s in optimizer.state.items()}
        self.groups = [{k: copy.deepcopy(v) for k, v in g.items() if k != "params"}
                       for g in optimizer.param_groups]
        self.rng = (torch.get_rng_state(), np.random.get_state(), random.getstate())
        self.device_rng = [(dev, dev.get_rng_state_all()) for dev in seeded_devices()]
        self.generators = [(g, g.get_state()) for g in _loader_generators(data)]
        self.schedulers = [(s, copy.deepcopy(s.state_dict()))
                           for s in attached_schedulers(optimizer)] if schedulers else []

    def restore(self, rng: bool = True):
        with torch.no_grad():
            for p, v, g in zip(self.tensors, self.values, self.grads, strict=False):
                p.copy_(v)
                p.grad = None if g is None else g.clone()
            for b, v in zip(self._buffers(), self.buffers, strict=False):
                b.copy_(v)
        for m, mode in zip(self.modules, self.modes, strict=False):
            m.training = mode
        self.optimizer.state.clear()
        self.optimizer.state.update({p: _clone(s) for p, s in self.opt_state.items()})
        for g, saved in zip(self.optimizer.param_groups, self.groups, strict=False):
            g.update(copy.deepcopy(saved))
        for s, saved in self.schedulers:
            s.load_state_dict(copy.deepcopy(saved))
        if rng:
            torch.set_rng_state(self.rng[0])
            np.random.set_state(self.rng[1])
            random.setstate(self.rng[2])
            for dev, states in self.device_rng:
                dev.set_rng_state_all(states)
            for g, s in self.generators:
                g.set_state(s)

    def _buffers(self):
        return [b for m in self.modules for b in m.buffers(recurse=False)]


def seeded_devices() -> list:
    """The accelerator modules whose generators :func:`seed` reseeds: CUDA once it
    is initialised. (Uninitialised CUDA is left alone: seeding it would queue a seed
    that changes the reader's generator when CUDA starts later.)"""
    cuda = torch.cuda
    return [cuda] if cuda.is_available() and cuda.is_initialized() else []


def seed(k: int) -> None:
    """Seed the CPU generator and those of :func:`seeded_devices`, and no other.

    Not ``torch.manual_seed``: that also seeds every other device's generator,
    which checkup would then have to save and restore too.
    """
    torch.random.default_generator.manual_seed(k)
    for dev in seeded_devices():
        dev.manual_seed_all(k)


def attached_schedulers(optimizer) -> list:
    """The learning-rate schedulers that hold ``optimizer`` (wherever they live)."""
    kinds = (torch.optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    found = []
    for ref in gc.get_referrers(optimizer):
        owners = [ref] if isinstance(ref, kinds) else (
            gc.get_referrers(ref) if isinstance(ref, dict) and ref.get("optimizer") is optimizer
            else [])
        found += [o for o in owners if isinstance(o, kinds) and o.optimizer is optimizer
                  and all(o is not f for f in found)]
    return found


def _clone(state):
    return {k: v.detach().clone() if torch.is_tensor(v) else copy.deepcopy(v)
            for k, v in state.items()}


def _loader_generators(data) -> list[torch.Generator]:
    """The private generators a DataLoader draws its shuffling from, if any."""
    found = []
    for obj in (data, getattr(data, "sampler", None),
                getattr(getattr(data, "batch_sampler", None), "sampler", None)):
        g = getattr(obj, "generator", None)
        if isinstance(g, torch.Generator) and all(g is not f for f in found):
            found.append(g)
    return found


# ---------------------------------------------------------------- spies
# Losses whose input and target must have one shape: PyTorch broadcasts (and
# warns) when they differ. Matched by name, as F.mse_loss and friends reach a
# TorchFunctionMode under their own names.
_SAME_SHAPE_LOSSES = {
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "soft_margin_loss", "poisson_nll_loss",
    "gaussian_nll_loss", "kl_div"}
# Elementwise arithmetic a hand-written loss is made of.
_BINARY_OPS = {
    "sub", "add", "mul", "div", "true_divide", "pow", "maximum", "minimum",
    "__sub__", "__rsub__", "__add__", "__radd__", "__mul__", "__rmul__",
    "__truediv__", "__rtruediv__", "__pow__", "__rpow__", "subtract", "multiply",
    "divide"}
_CLASS_LOSSES = {"cross_entropy", "nll_loss"}


def _name(func) -> str:
    return getattr(func, "__name__", "") or ""


def accidental_broadcast(a, b) -> tuple | None:
    """The shape ``a op b`` broadcasts to, if that is the classic accident.

    The accident: one operand is the other with an extra size-1 axis, (B, 1)
    against (B,), so the result is a (B, B) table of every pair instead of B
    differences. Deliberate broadcasting (a scalar, a (1, C) weight, pairwise
    distances between (B, 1, D) and (1, B, D)) has operands of one rank or a
    small one, and is left alone.
    """
    sa, sb = tuple(a.shape), tuple(b.shape)
    if sa == sb or abs(len(sa) - len(sb)) != 1 or min(a.numel(), b.numel()) < 2:
        return None
    big, small = (sa, sb) if len(sa) > len(sb) else (sb, sa)
    if not any(big[i] == 1 and big[:i] + big[i + 1:] == small for i in range(len(big))):
        return None
    try:
        wide = tuple(torch.broadcast_shapes(sa, sb))
    except RuntimeError:
        return None
    n_wide = int(np.prod(wide)) if wide else 1
    return wide if n_wide > max(a.numel(), b.numel()) else None


class LossSpy(TorchFunctionMode):
    """Watches one call of a loss function: what broadcasts, which losses run.

    ``broadcasts``: (what, shape, shape, result shape) for every silent
    broadcast seen. ``class_inputs``: (name, input) for every ``F.cross_entropy``
    or ``F.nll_loss`` call, however deeply the reader wrapped it. ``bce``: whether
    ``F.binary_cross_entropy`` ran (its log undoes a sigmoid output's flat tails).
    """

    def __init__(self):
        super().__init__()
        self.broadcasts, self.class_inputs, self.bce = [], [], False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        try:
            self._look(_name(func), args, kwargs)
        except Exception:  # noqa: BLE001 - a spy must never break the reader's loss
            pass
        return func(*args, **kwargs)

    def _look(self, name, args, kwargs):
        self.bce |= name == "binary_cross_entropy"
        tensors = [a for a in args if torch.is_tensor(a)]
        if name in _CLASS_LOSSES and tensors:
            self.class_inputs.append((name, tensors[0]))
        if len(tensors) < 2:
            return
        a, b = tensors[0], tensors[1]
        if name in _SAME_SHAPE_LOSSES and a.shape != b.shape and min(
                a.numel(), b.numel()) > 1:
            try:
                wide = tuple(torch.broadcast_shapes(a.shape, b.shape))
            except RuntimeError:
                return  # the loss raises: the caller reports that
            self.broadcasts.append((f"F.{name}", tuple(a.shape), tuple(b.shape), wide))
        elif name in _BINARY_OPS:
            wide = accidental_broadcast(a, b)
            if wide is not None:
                op = name.strip("_")
                op = op[1:] if name.startswith("__r") else op
                self.broadcasts.append((op, tuple(a.shape), tuple(b.shape), wide))


_RELUS = {F.relu, torch.relu, torch.Tensor.relu, torch.relu_, torch.Tensor.relu_,
          F.relu6}
_SQUASH = {torch.sigmoid: "sigmoid", torch.Tensor.sigmoid: "sigmoid",
           F.sigmoid: "sigmoid", torch.tanh: "tanh", torch.Tensor.tanh: "tanh",
           F.tanh: "tanh"}
_SOFTMAX = {F.softmax, torch.softmax, torch.Tensor.softmax, F.log_softmax,
            torch.log_softmax, torch.Tensor.log_softmax}
# Where a squashing function is flat: its derivative is below a tenth of its peak
# (sigmoid' = s(1 - s) peaks at 1/4, tanh' = 1 - t^2 at 1), read off its output.
_FLAT = {"sigmoid": lambda s: s * (1 - s) < 0.025, "tanh": lambda t: 1 - t * t < 0.1}


class ActivationSpy(TorchFunctionMode):
    """Sees every ReLU, sigmoid, tanh and softmax in a forward pass, module or functional.

    ``relus``: (output, active) per ReLU call, ``active`` saying for each unit (axis
    1: a feature or a channel) whether it was non-zero for any sample.
    ``squashes``: (kind, output, flat) per sigmoid/tanh call, ``flat`` giving for
    each unit the share of samples where the function is flat (derivative below a
    tenth of its peak). ``single_softmax``: the names of softmax calls taken over an
    axis of size 1. All taken at once, before an in-place op downstream can change
    the output.
    """

    def __init__(self):
        super().__init__()
        self.relus, self.squashes, self.single_softmax = [], [], []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        try:
            self._look(func, args, kwargs, out)
        except Exception:  # noqa: BLE001 - a spy must never break the reader's forward
            pass
        return out

    def _look(self, func, args, kwargs, out):
        if not torch.is_tensor(out) or out.dim() < 1:
            return
        is_relu = func in _RELUS
        if not is_relu and func is F.hardtanh:  # nn.ReLU6 is hardtanh(0, 6)
            is_relu = kwargs.get("min_val", args[1] if len(args) > 1 else -1.0) == 0
        if is_relu and out.dim() >= 2 and out.shape[1] > 0:
            with torch.no_grad():
                active = (out != 0).transpose(0, 1).reshape(out.shape[1], -1).any(1)
            self.relus.append((out, active))
        elif func in _SQUASH and out.is_floating_point():
            kind = _SQUASH[func]
            with torch.no_grad():
                flat = _FLAT[kind](out.detach().double())
                units = flat.movedim(1, 0).reshape(flat.shape[1], -1) if (
                    flat.dim() >= 2) else flat.reshape(1, -1)
            self.squashes.append((kind, out, units.double().mean(1)))
        elif func in _SOFTMAX:
            dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
            x = args[0]
            if dim is not None and torch.is_tensor(x) and x.dim() and x.shape[dim] == 1:
                self.single_softmax.append(getattr(func, "__name__", "softmax"))


# ---------------------------------------------------------------- registration
def unregistered(model: nn.Module) -> tuple[list[tuple[str, torch.Tensor]], list]:
    """Trainable tensors, and modules, a module holds outside its registries.

    ``self.layers = [nn.Linear(...)]`` or ``self.scale = torch.ones(1,
    requires_grad=True)`` are plain attributes: ``model.parameters()`` skips
    them, so an optimizer built from it never moves them.
    """
    registered = {id(p) for p in model.parameters()}
    modules = {id(m) for m in model.modules()}
    found, seen, hidden_modules = [], set(), []

    def visit(value, where, depth):
        if depth > 3 or id(value) in seen:
            return
        if isinstance(value, nn.Module):
            if id(value) in modules:
                return
            seen.add(id(value))
            hidden_modules.append(value)
            for n, p in value.named_parameters():
                if p.requires_grad and id(p) not in registered:
                    found.append((f"{where}.{n}", p))
                    registered.add(id(p))
        elif torch.is_tensor(value):
            if value.requires_grad and value.is_leaf and id(value) not in registered:
                found.append((where, value))
                registered.add(id(value))
        elif isinstance(value, (list, tuple)):
            seen.add(id(value))
            for i, v in enumerate(value):
                visit(v, f"{where}[{i}]", depth + 1)
        elif isinstance(value, dict):
            seen.add(id(value))
            for k, v in value.items():
                visit(v, f"{where}[{k!r}]", depth + 1)

    for prefix, module in model.named_modules():
        for key, value in vars(module).items():
            if key.startswith("_") and key in ("_parameters", "_buffers", "_modules"):
                continue
            if key.startswith("__"):
                continue
            visit(value, f"{prefix}.{key}" if prefix else key, 0)
    return found, hidden_modules


def first_layer(model: nn.Module) -> nn.Module | None:
    """The first module (in registration order) that owns parameters itself."""
    for m in model.modules():
        if any(True for _ in m.parameters(recurse=False)):
            return m
    return None

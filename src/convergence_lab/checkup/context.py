"""The probe context: built once per checkup() call and handed to every check.

It holds the reader's objects, the data read once (a statistics sample and a probe
batch), the findings so far, and the calls that run the reader's code (forward,
loss, backward, one step) with their errors turned into one sentence. Quantities
several checks share (the gradients at the reader's state, one recorded forward
pass, the loss floor) are computed the first time a check asks and kept.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import cached_property

import torch
from torch import nn

from ..errors import LessonInputError
from . import inputs, probes
from .report import CODES, Finding, Report

STATS_SAMPLES = 2048  # for the data's statistics (feature scales, label order)
FORWARD_SAMPLES = 512  # for the recorded forward pass (dead units, saturation)
PROBE_SAMPLES = 1024  # the probe batch when the data is a pair of tensors


class NoGraph(Exception):
    """The reader's step raised "does not require grad": a cut graph."""


@dataclass
class ForwardRecord:
    """One no-grad forward pass on the statistics sample, watched by an ActivationSpy."""

    n: int  # samples it ran on
    outputs: list  # the model's output tensors
    spy: probes.ActivationSpy
    layer_names: dict  # id(output tensor) -> the name of the module that made it
    weight_order: list  # names of modules owning a weight matrix, in the order they ran


@dataclass
class FirstPass:
    """One forward, loss and backward pass on the probe batch at the reader's state."""

    pred: object  # the model's output
    loss: torch.Tensor | None  # None when the output is not finite
    has_graph: bool  # whether the loss requires grad
    spy: probes.LossSpy  # what the loss call did
    warned: list  # PyTorch's broadcast warnings from the loss call
    grads: dict  # trainable name -> gradient (None: no gradient reached it)
    hidden_grads: list  # names of unregistered tensors the gradient reached

    @property
    def backed(self) -> bool:
        """Whether backward ran: the output and loss were finite and had a graph."""
        return bool(self.grads) or bool(self.hidden_grads)


class Probe:
    def __init__(self, model, loss_fn, optimizer, data, train_step, state, hidden):
        self.model, self.loss_fn, self.opt = model, loss_fn, optimizer
        self.data, self.user_step, self.state = data, train_step, state
        self.hidden = hidden
        self.report = Report()
        self.stopped = False
        self.trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self.batches, self.as_tensors = inputs.read_batches(data)
        self.X, self.y = inputs.first_samples(self.batches, STATS_SAMPLES)
        if self.as_tensors:
            self.probe = (self.X[:PROBE_SAMPLES], self.y[:PROBE_SAMPLES])
        else:
            self.probe = inputs.first_samples(
                self.batches, max(len(self.batches[0][0]), 32))
        self.epoch_steps = inputs.batches_per_epoch(data, self.batches, self.as_tensors)
        self.mean_sq_input: float | None = None  # set by input-scale when it fires
        self.lr_moved = False  # train_step changed the learning rate
        self.cache: dict = {}  # experiments several checks share, by name

    # -- findings
    def add(self, code, severity, message):
        lesson = CODES[code][1] if code in CODES else None  # Finding refuses the unknown
        self.report.findings.append(Finding(code, severity, message, lesson))

    def note(self, text):
        self.report.notes.append(text)

    def stop(self, note: str | None = None):
        """Skip every later check that runs the model: what it needs is broken."""
        self.stopped = True
        if note:
            self.note(note)

    @property
    def codes(self) -> set[str]:
        return set(self.report.codes)

    # -- calls into the reader's code, their errors turned into one sentence
    def forward(self, X):
        try:
            out = self.model(X)
        except Exception as exc:
            raise LessonInputError(
                f"The model raised {type(exc).__name__} on a batch of shape "
                f"{tuple(X.shape)}: {first_line(exc)}") from None
        if out is None:
            raise LessonInputError(
                "model(X) returned None: does forward() end with return?")
        return out

    def loss(self, pred, y):
        try:
            value = self.loss_fn(pred, y)
        except Exception as exc:
            shape = tuple(pred.shape) if torch.is_tensor(pred) else type(pred).__name__
            raise LessonInputError(
                f"loss_fn raised {type(exc).__name__} on a prediction of shape {shape} "
                f"and a target of shape {tuple(y.shape)} ({y.dtype}): "
                f"{first_line(exc)}") from None
        if not torch.is_tensor(value):
            raise LessonInputError(
                f"loss_fn must return a tensor, got {type(value).__name__}: a number "
                "(for example from .item()) carries no gradient.")
        return value.mean() if value.dim() else value

    def backward(self, loss):
        try:
            loss.backward()
        except Exception as exc:
            raise LessonInputError(
                f"loss.backward() raised {type(exc).__name__}: {explain(exc)}") from None

    def standard_step(self, X, y, opt=None):
        """zero_grad, loss, backward, step: always through a closure, which L-BFGS
        needs and every other torch.optim optimizer calls exactly once."""
        opt = opt or self.opt
        seen = []

        def closure():
            opt.zero_grad()
            loss = self.loss(self.forward(X), y)
            self.backward(loss)
            seen.append(loss)
            return loss

        opt.step(closure)
        return seen[0]

    def step(self, X, y):
        """One step as the reader trains: their train_step, or the standard step."""
        if self.user_step is None:
            return self.standard_step(X, y)
        try:
            return self.user_step(X, y)
        except LessonInputError:
            raise
        except Exception as exc:
            if "does not require grad" in str(exc):
                raise NoGraph() from None
            raise LessonInputError(
                f"train_step raised {type(exc).__name__}: {explain(exc)}") from None

    def eval_pred(self, X):
        """The model's output without a graph (with one if forward() needs autograd)."""
        probes.seed(0)
        if not self.grad_in_forward:
            with torch.no_grad():
                return self.forward(X)
        out = self.forward(X)  # a forward() that differentiates (a physics loss)
        return out.detach() if torch.is_tensor(out) else out

    def eval_loss(self, X, y) -> float:
        return float(self.loss(self.eval_pred(X), y))

    def lr(self) -> float | None:
        """The first param group's learning rate, when it is a positive number."""
        lr = self.opt.param_groups[0].get("lr")
        lr = float(lr) if torch.is_tensor(lr) and lr.numel() == 1 else lr
        return float(lr) if isinstance(lr, (int, float)) and lr > 0 else None

    def run_steps(self, X, y, steps, scale=None, **group):
        """``steps`` steps from the reader's state, the param groups' learning rates
        times ``scale`` and other entries set to ``group``; the loss before and after
        each step (stopping at a non-finite one)."""
        self.restore()
        self.training_mode()
        for g in self.opt.param_groups:
            if scale is not None:
                g["lr"] = g["lr"] * scale
            g.update(group)
        losses = [self.eval_loss(X, y)]
        for k in range(steps):
            probes.seed(k)
            self.step(X, y)
            losses.append(self.eval_loss(X, y))
            if not math.isfinite(losses[-1]):
                break
        return losses

    def params(self):
        return [p.detach().clone() for _, p in self.trainable]

    def restore(self):
        """Back to the reader's state (the random generators stay as the probe left them)."""
        self.state.restore(rng=False)

    def training_mode(self):
        """Training mode as the reader trains, but dropout off: its noise would decide
        a probe's verdict by chance. The modes are restored afterwards."""
        self.model.train()
        for m in self.model.modules():
            if isinstance(m, nn.modules.dropout._DropoutNd):
                m.eval()

    @cached_property
    def grad_in_forward(self) -> bool:
        """Whether forward() works only with autograd on (it calls autograd.grad)."""
        X = self.probe[0][:2]
        try:
            with torch.no_grad():
                self.model(X)
            return False
        except Exception:  # noqa: BLE001 - any failure: try with autograd on
            try:
                self.model(X)
                return True
            except Exception:  # noqa: BLE001 - fails either way: a real error
                return False

    # -- shared measurements
    @cached_property
    def first_pass(self) -> FirstPass:
        """Forward, loss and backward on the probe batch, the loss call spied on."""
        self.restore()
        self.training_mode()
        for p in [p for _, p in self.trainable] + [t for _, t in self.hidden]:
            p.grad = None
        X, y = self.probe
        probes.seed(0)
        pred = self.forward(X)
        if not all(finite(t) for t in tensors_in(pred)):
            return FirstPass(pred, None, False, probes.LossSpy(), [], {}, [])
        with warnings.catch_warnings(record=True) as caught, probes.LossSpy() as spy:
            warnings.simplefilter("always")
            loss = self.loss(pred, y)
        warned = [str(w.message) for w in caught if "broadcast" in str(w.message)]
        grads, hidden = {}, []
        if bool(torch.isfinite(loss)) and loss.requires_grad:
            self.backward(loss)
            grads = {n: None if p.grad is None else p.grad.detach().clone()
                     for n, p in self.trainable}
            hidden = [n for n, t in self.hidden if t.grad is not None]
        self.restore()
        return FirstPass(pred, loss.detach(), loss.requires_grad, spy, warned, grads, hidden)

    @cached_property
    def forward_record(self) -> ForwardRecord:
        """A no-grad forward on up to 512 samples, watched by an ActivationSpy."""
        X = self.X[:FORWARD_SAMPLES]
        seen = []
        hooks = [m.register_forward_hook(lambda m, i, o: seen.append((m, o)))
                 for m in self.model.modules()]
        try:
            try:
                with torch.no_grad(), probes.ActivationSpy() as spy:
                    probes.seed(0)
                    out = self.forward(X)
            except LessonInputError:
                # A model that needs autograd in forward() or a fixed batch size:
                # look at the probe batch the way training would run it.
                seen.clear()
                X = self.probe[0]
                with probes.ActivationSpy() as spy:
                    probes.seed(0)
                    out = self.forward(X)
        finally:
            for h in hooks:
                h.remove()
        module_names = {m: n for n, m in self.model.named_modules()}
        names = {}
        for m, o in seen:
            for t in tensors_in(o):
                names.setdefault(id(t), module_names.get(m) or type(m).__name__)
        order = []
        for m, _ in seen:
            name = module_names.get(m)
            if name is not None and name not in order and any(
                    p.requires_grad and p.dim() >= 2 for p in m.parameters(recurse=False)):
                order.append(name)
        return ForwardRecord(len(X), tensors_in(out), spy, names, order)

    def floor(self, X, y) -> float | None:
        """The lowest loss any output could reach on (X, y): the lowest of the loss at
        the target itself (and its logit and log, for targets in [0, 1]) and at an
        output fitted directly (not through the model) by L-BFGS from the model's own.

        Each candidate is a loss some output reaches, so the lowest is an upper bound
        on the floor: measuring progress to it is never too strict. Clipped at 0 (a
        loss unbounded below, such as NLL of free outputs, then counts from 0). None
        when the output is not one floating tensor or no candidate can be evaluated.
        """
        try:
            pred = self.eval_pred(X)
        except LessonInputError:
            return None  # a model that cannot run a batch this small
        if not torch.is_tensor(pred) or not pred.is_floating_point():
            return None
        candidates = []
        if y.is_floating_point() and pred.numel() == y.numel():
            t = y.detach().reshape(pred.shape).to(pred.dtype)
            candidates.append(t)
            if bool(((t >= 0) & (t <= 1)).all()):
                c = t.clamp(1e-6, 1 - 1e-6)
                candidates += [torch.log(c) - torch.log1p(-c), torch.log(c)]
        values = [v for v in map(lambda c: self._loss_at(c, y), candidates)
                  if v is not None]
        fitted = self._fit_output(pred, y)
        if fitted is not None:
            values.append(fitted)
        return max(0.0, min(values)) if values else None

    def _loss_at(self, out, y) -> float | None:
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = float(self.loss_fn(out, y).mean())
        except Exception:  # noqa: BLE001 - a candidate the loss rejects is no floor
            return None
        return v if math.isfinite(v) else None

    def _fit_output(self, start, y) -> float | None:
        free = start.detach().clone().requires_grad_(True)
        opt = torch.optim.LBFGS([free], lr=1, max_iter=100, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            value = self.loss_fn(free, y).mean()
            value.backward()
            return value

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for _ in range(2):
                    opt.step(closure)
        except Exception:  # noqa: BLE001 - a loss that rejects free outputs (BCE's range)
            return None
        return self._loss_at(free.detach(), y)


def tensors_in(out) -> list[torch.Tensor]:
    """The tensors in a model's output: a tensor, or a tuple/list/dict of them."""
    if torch.is_tensor(out):
        return [out]
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in tensors_in(o)]
    return []


def finite(t) -> bool:
    return not (torch.is_tensor(t) and t.is_floating_point()) or bool(torch.isfinite(t).all())


def first_line(exc) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def explain(exc) -> str:
    """The error's first line, and the usual cause when PyTorch's is cryptic."""
    text = first_line(exc)
    if "inplace operation" in text or "in-place operation" in text:
        text += (" -- a tensor the gradient needs was changed in place in forward() "
                 "or the loss (h[:, 0] = 0, x += 1, x.relu_(), inplace=True). Use an "
                 "out-of-place version (x = x + 1) or clone first (h = h.clone()).")
    return text

"""checkup(): point the book's diagnostics at a reader's own training loop.

Each check is a small experiment on the reader's model, loss, optimizer and data:
one forward and backward pass, a few steps at the optimizer's learning rate and at
smaller ones, an attempt to overfit one small batch, a probe that runs the reader's
own ``train_step`` twice. The experiments move the reader's parameters, so
:func:`checkup` snapshots everything it may touch (parameters, gradients, buffers,
module modes, optimizer state and hyperparameters, the random generators) and puts
it back bit for bit in a ``finally`` block.
"""

from __future__ import annotations

import copy
import html
import math
import random
import textwrap
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .errors import LessonInputError

__all__ = ["Finding", "Report", "checkup", "CHECKS"]

_CH = "book/05-checkup/checkup"
# code -> (what it catches, the page that explains it)
CHECKS = {
    "loss-broadcast": ("prediction and target shapes broadcast in the loss",
                       "book/03-broadcast-regression/broadcast_regression"),
    "lr-too-large": ("the loss grows at the learning rate, falls at a smaller one",
                     "book/01-sine-parity/sine_parity"),
    "input-scale": ("input features far from unit scale, or on different scales",
                    "book/03-broadcast-regression/broadcast_regression"),
    "grad-accumulation": ("gradients are not zeroed between steps", _CH),
    "param-not-in-optimizer": ("trainable parameters the optimizer does not hold", _CH),
    "no-gradient": ("trainable parameters that get no gradient", _CH),
    "softmax-before-cross-entropy": ("probabilities fed to a loss expecting logits", _CH),
    "non-finite": ("NaN or inf in inputs, targets, outputs or gradients", _CH),
    "unshuffled-batches": ("batches ordered by target", _CH),
    "dead-relu": ("ReLU units inactive for every sample", _CH),
    "cannot-overfit-batch": ("the model cannot fit one small batch", _CH),
}
_SEVERITIES = ("error", "warning", "info")
_ELEMENTWISE = (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss, nn.BCELoss,
                nn.BCEWithLogitsLoss, nn.SoftMarginLoss, nn.PoissonNLLLoss)
_ELEMENTWISE_F = {F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss,
                  F.binary_cross_entropy, F.binary_cross_entropy_with_logits,
                  F.soft_margin_loss, F.poisson_nll_loss}
_STATS_SAMPLES = 2048  # enough for feature scales and dead units, cheap to run
_MAX_BATCHES = 200  # how far into a DataLoader the ordering check looks
_LR_STEPS = 10
_OVERFIT_SAMPLES = 8
_OVERFIT_STEPS = 200


def _g(x) -> str:
    """Two significant digits: portable across CPUs, enough for a diagnosis."""
    return f"{float(x):.2g}"


@dataclass(frozen=True)
class Finding:
    """One thing :func:`checkup` observed: a code, how bad, what and why, where to read."""

    code: str
    severity: str
    message: str
    chapter: str | None = None

    def __post_init__(self):
        if self.code not in CHECKS:
            raise LessonInputError(f"Unknown checkup code {self.code!r}.")
        if self.severity not in _SEVERITIES:
            raise LessonInputError(f"Severity must be one of {_SEVERITIES}.")


@dataclass
class Report:
    """What :func:`checkup` found. ``ok`` means no finding of severity ``"error"``."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return list(dict.fromkeys(f.code for f in self.findings))

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def _counts(self) -> str:
        n = {s: sum(f.severity == s for f in self.findings) for s in _SEVERITIES}
        parts = [f"{n[s]} {s}{'s' if n[s] != 1 else ''}" for s in _SEVERITIES[:2]]
        return ", ".join(parts)

    def __str__(self) -> str:
        head = "checkup: " + ("OK" if self.ok else "PROBLEMS") + f" ({self._counts()})"
        lines = [head]
        for f in self.findings:
            lines += textwrap.wrap(f"[{f.severity}] {f.code}: {f.message}", 79,
                                   subsequent_indent="    ")
            if f.chapter:
                lines.append(f"    read: {f.chapter}")
        for note in self.notes:
            lines += textwrap.wrap(f"note: {note}", 79, subsequent_indent="    ")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Report(ok={self.ok}, codes={self.codes})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{f.severity}</td><td><code>{f.code}</code></td>"
            f"<td style='text-align:left'>{html.escape(f.message)}</td>"
            f"<td>{html.escape(f.chapter or '')}</td></tr>" for f in self.findings)
        notes = "".join(f"<p>note: {html.escape(n)}</p>" for n in self.notes)
        head = html.escape(str(self).splitlines()[0])
        return (f"<p><b>{head}</b></p><table><tr><th>severity</th><th>code</th>"
                f"<th>message</th><th>chapter</th></tr>{rows}</table>{notes}")


# ---------------------------------------------------------------- state handling
class _State:
    """Everything a probe may change, copied so it can be put back bit for bit."""

    def __init__(self, model, optimizer, data):
        self.model, self.optimizer = model, optimizer
        seen, tensors = set(), []
        for p in list(model.parameters()) + [
                p for g in optimizer.param_groups for p in g["params"]]:
            if id(p) not in seen:
                seen.add(id(p))
                tensors.append(p)
        self.tensors = tensors
        self.values = [p.detach().clone() for p in tensors]
        self.grads = [None if p.grad is None else p.grad.detach().clone() for p in tensors]
        self.buffers = [b.detach().clone() for b in model.buffers()]
        self.modes = [m.training for m in model.modules()]
        self.opt_state = {p: _clone(s) for p, s in optimizer.state.items()}
        self.groups = [{k: copy.deepcopy(v) for k, v in g.items() if k != "params"}
                       for g in optimizer.param_groups]
        self.rng = (torch.get_rng_state(), np.random.get_state(), random.getstate())
        self.generators = [(g, g.get_state()) for g in _loader_generators(data)]

    def restore(self, rng: bool = True):
        with torch.no_grad():
            for p, v, g in zip(self.tensors, self.values, self.grads, strict=False):
                p.copy_(v)
                p.grad = None if g is None else g.clone()
            for b, v in zip(self.model.buffers(), self.buffers, strict=False):
                b.copy_(v)
        for m, mode in zip(self.model.modules(), self.modes, strict=False):
            m.training = mode
        self.optimizer.state.clear()
        self.optimizer.state.update({p: _clone(s) for p, s in self.opt_state.items()})
        for g, saved in zip(self.optimizer.param_groups, self.groups, strict=False):
            g.update(copy.deepcopy(saved))
        if rng:
            torch.set_rng_state(self.rng[0])
            np.random.set_state(self.rng[1])
            random.setstate(self.rng[2])
            for g, s in self.generators:
                g.set_state(s)


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


# ---------------------------------------------------------------- inputs
def _batches(data) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], bool]:
    """The data as a list of (X, y) batches, and whether it came as one pair of tensors."""
    if (isinstance(data, (tuple, list)) and len(data) == 2
            and all(torch.is_tensor(t) for t in data)):
        X, y = data
        if len(X) != len(y):
            raise LessonInputError(
                f"X has {len(X)} samples but y has {len(y)}: they must match.")
        return [(X, y)], True
    if torch.is_tensor(data) or not isinstance(data, Iterable):
        raise LessonInputError(
            "checkup() needs data as a pair of tensors (X, y) or an iterable of "
            f"(X, y) batches such as a DataLoader; got {type(data).__name__}.")
    out = []
    for i, batch in enumerate(data):
        if i >= _MAX_BATCHES:
            break
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2
                and all(torch.is_tensor(t) for t in batch)):
            raise LessonInputError(
                "Each batch must be a pair of tensors (X, y); batch "
                f"{i} is a {type(batch).__name__}.")
        out.append((batch[0], batch[1]))
    if not out:
        raise LessonInputError("The data gave no batches: is the DataLoader empty?")
    return out, False


def _first_samples(batches, n):
    xs, ys, total = [], [], 0
    for X, y in batches:
        xs.append(X)
        ys.append(y)
        total += len(X)
        if total >= n:
            break
    return torch.cat(xs)[:n], torch.cat(ys)[:n]


def _unwrap(fn):
    while hasattr(fn, "__wrapped__"):
        fn = fn.__wrapped__
    return getattr(fn, "func", fn)  # functools.partial


def _loss_kind(loss_fn) -> str:
    fn = _unwrap(loss_fn)
    if isinstance(fn, nn.CrossEntropyLoss) or fn is F.cross_entropy:
        return "cross-entropy"
    if isinstance(fn, nn.NLLLoss) or fn is F.nll_loss:
        return "nll"
    if isinstance(fn, _ELEMENTWISE) or fn in _ELEMENTWISE_F:
        return "elementwise"
    return "other"


def _finite(t) -> bool:
    return not (torch.is_tensor(t) and t.is_floating_point()) or bool(torch.isfinite(t).all())


# ---------------------------------------------------------------- the tool
def checkup(model: nn.Module, loss_fn: Callable, optimizer: torch.optim.Optimizer,
            data, train_step: Callable | None = None) -> Report:
    """Run the book's checks on a training setup and return a :class:`Report`.

    ``data`` is a pair of tensors ``(X, y)`` or an iterable of ``(X, y)`` batches
    (a DataLoader). ``train_step``, if given, is the reader's own step, a callable
    ``(X, y) -> loss`` that zeroes, backpropagates and steps itself; the step-level
    checks (gradient accumulation, no gradient, learning rate, overfitting) then run
    through it. The model, the optimizer, the random generators and the DataLoader's
    generator are left exactly as they were. State a ``train_step`` keeps elsewhere
    (a scheduler, a counter) is not restored.
    """
    if not isinstance(model, nn.Module):
        raise LessonInputError(
            f"checkup() needs the model as an nn.Module, got {type(model).__name__}.")
    if not callable(loss_fn):
        raise LessonInputError("loss_fn must be callable, e.g. torch.nn.MSELoss().")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise LessonInputError(
            "optimizer must be a torch.optim optimizer, e.g. "
            f"torch.optim.SGD(model.parameters(), lr=0.1); got {type(optimizer).__name__}.")
    if train_step is not None and not callable(train_step):
        raise LessonInputError(
            "train_step must be a function (X, y) -> loss that runs one step, or None; "
            f"got {type(train_step).__name__}.")
    state = _State(model, optimizer, data)
    threads = torch.get_num_threads()
    # Small models run several times faster on one thread (no hand-off between
    # threads), and one thread keeps the probes' round-off the same on every run.
    torch.set_num_threads(1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch's broadcast warning: we report it
            with torch.enable_grad():
                return _Checkup(model, loss_fn, optimizer, data, train_step, state).run()
    finally:
        state.restore()
        torch.set_num_threads(threads)


class _Checkup:
    def __init__(self, model, loss_fn, optimizer, data, train_step, state):
        self.model, self.loss_fn, self.opt = model, loss_fn, optimizer
        self.data, self.user_step, self.state = data, train_step, state
        self.report = Report()
        self.kind = _loss_kind(loss_fn)
        self.trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]

    def add(self, code, severity, message):
        self.report.findings.append(Finding(code, severity, message, CHECKS[code][1]))

    # -- helpers that call the reader's code, turning their errors into one sentence
    def forward(self, X):
        try:
            return self.model(X)
        except Exception as exc:
            raise LessonInputError(
                f"The model raised {type(exc).__name__} on a batch of shape "
                f"{tuple(X.shape)}: {_first_line(exc)}") from None

    def loss(self, pred, y):
        try:
            value = self.loss_fn(pred, y)
        except Exception as exc:
            shape = tuple(pred.shape) if torch.is_tensor(pred) else type(pred).__name__
            raise LessonInputError(
                f"loss_fn raised {type(exc).__name__} on a prediction of shape {shape} "
                f"and a target of shape {tuple(y.shape)} ({y.dtype}): "
                f"{_first_line(exc)}") from None
        if not torch.is_tensor(value):
            raise LessonInputError(
                f"loss_fn must return a tensor, got {type(value).__name__}: a number "
                "(for example from .item()) carries no gradient.")
        return value.mean() if value.dim() else value

    def standard_step(self, X, y):
        self.opt.zero_grad()
        loss = self.loss(self.forward(X), y)
        loss.backward()
        self.opt.step()
        return loss

    def step(self, X, y):
        if self.user_step is None:
            return self.standard_step(X, y)
        try:
            return self.user_step(X, y)
        except LessonInputError:
            raise
        except Exception as exc:
            if "does not require grad" in str(exc):
                raise _NoGraph() from None
            raise LessonInputError(
                f"train_step raised {type(exc).__name__}: {_first_line(exc)}") from None

    def eval_loss(self, X, y) -> float:
        with torch.no_grad():
            torch.manual_seed(0)
            return float(self.loss(self.forward(X), y))

    def params_vector(self):
        return [p.detach().clone() for _, p in self.trainable]

    # -- the run
    def run(self) -> Report:
        batches, as_tensors = _batches(self.data)
        X, y = _first_samples(batches, _STATS_SAMPLES)
        first = batches[0]
        if as_tensors:
            probe = (X[:1024], y[:1024])
        else:
            probe = _first_samples(batches, max(len(first[0]), 32))
        if not self.trainable:
            raise LessonInputError("The model has no trainable parameters.")
        if self.user_step is None:
            self.report.notes.append(
                "no train_step given: the step-level checks used a standard step "
                "(zero_grad, loss, backward, step).")
        bad_data = self.check_data(X, y)
        self.check_input_scale(X)
        if not as_tensors:
            self.check_order(batches)
        self.check_optimizer_holds_params()
        self.model.train()
        _dropout_off(self.model)
        pred = self.check_forward(*probe)
        if pred is None or bad_data:
            self.report.notes.append("the training probes were skipped: the data or "
                                     "the model's output is not finite.")
            return self.report
        if not self.check_gradients(*probe):
            return self.report
        self.check_dead_relu(X)
        self.state.restore(rng=False)
        try:
            if self.user_step is not None:
                self.check_user_step(*probe)
            self.check_learning_rate(*probe)
            explained = {"loss-broadcast", "softmax-before-cross-entropy"}
            if explained & set(self.report.codes):
                self.report.notes.append("the overfit test was skipped: the loss "
                                         "above cannot be fitted as it stands.")
            else:
                self.check_overfit(*probe)
        except _NoGraph:
            self.add("no-gradient", "error",
                     "train_step's loss does not require grad: the graph from the "
                     "parameters to the loss is cut (a .detach(), .item(), .data, "
                     "torch.no_grad() or a NumPy round trip), so backward() cannot "
                     "reach any parameter and nothing trains. Compute the loss from "
                     "model(X) with tensor operations only.")
        order = {"error": 0, "warning": 1, "info": 2}
        self.report.findings.sort(key=lambda f: order[f.severity])
        return self.report

    # -- checks on the data alone
    def check_data(self, X, y) -> bool:
        bad = [name for name, t in (("inputs", X), ("targets", y)) if not _finite(t)]
        for name, t in (("inputs", X), ("targets", y)):
            if name in bad:
                n = int((~torch.isfinite(t)).sum())
                self.add("non-finite", "error",
                         f"The {name} contain {n} NaN or inf value(s) in the first "
                         f"{len(t)} samples. One NaN makes the loss and every gradient "
                         "NaN, and the weights become NaN after one step. Drop or impute "
                         "those samples before training.")
        return bool(bad)

    def check_input_scale(self, X):
        if not X.is_floating_point() or len(X) < 2:
            return
        flat = X.detach().double().reshape(len(X), -1)
        if X.dim() > 2:  # images and sequences: one scale per channel
            flat = X.detach().double().transpose(0, 1).reshape(X.shape[1], -1).T
        rms = flat.pow(2).mean(0).sqrt()
        live = rms[rms > 0]
        if live.numel() == 0:
            return
        big, small = float(live.max()), float(live.min())
        mean_sq = float(flat.pow(2).mean())
        problems = []
        if big > 10:
            problems.append(f"the largest feature has root-mean-square {_g(big)}")
        if big / small > 100:
            problems.append(f"feature scales range from {_g(small)} to {_g(big)}")
        if not problems:
            return
        lr_note = ""
        group_lr = self.opt.param_groups[0].get("lr")
        if isinstance(self.opt, torch.optim.SGD) and isinstance(group_lr, float):
            lr_note = (f" For SGD on a first layer the stable learning rate is about "
                       f"1/mean(x^2) = {_g(1 / mean_sq)}; yours is {_g(group_lr)}.")
        self.add("input-scale", "warning",
                 f"Inputs are far from unit scale: {'; '.join(problems)} (mean x^2 "
                 f"= {_g(mean_sq)}). The gradient of a first layer carries a factor x, "
                 "so its curvature grows like x^2 and no single learning rate suits "
                 "large and small features at once." + lr_note +
                 " Standardise each feature: (X - mean) / std, computed on the "
                 "training set.")

    def check_order(self, batches):
        ys = [b[1].detach().reshape(len(b[1]), -1) for b in batches]
        sizes = [len(t) for t in ys]
        if len(ys) < 4 or min(sizes) < 4 or ys[0].shape[1] != 1:
            return
        labels = torch.cat(ys)[:, 0]
        values = labels.unique()
        discrete = not labels.is_floating_point() or (
            len(values) <= 20 and bool((values == values.round()).all()))
        if discrete and len(values) >= 2:
            shares = torch.stack([(labels == v).double().mean() for v in values])
            pure = sum(int(t.unique().numel() == 1) for t in ys) / len(ys)
            b = float(np.median(sizes))
            expected = float((shares ** b).sum())  # chance of a pure batch if shuffled
            if pure >= 0.5 and expected < 0.05:
                self.add("unshuffled-batches", "warning",
                         f"{pure:.0%} of the first {len(ys)} batches hold a single "
                         f"class (shuffled batches of {b:.0f} would almost never do: "
                         f"about {_g(expected * 100)}%). Each step then pulls the model "
                         "towards one class and the next undoes it, so the loss "
                         "zig-zags instead of converging. Shuffle: "
                         "DataLoader(..., shuffle=True).")
        elif not discrete and len(labels) >= 16:
            d = labels[1:] - labels[:-1]
            nonzero = d[d != 0]
            if nonzero.numel() and max(float((nonzero > 0).double().mean()),
                                       float((nonzero < 0).double().mean())) > 0.95:
                self.add("unshuffled-batches", "warning",
                         f"The targets of the first {len(ys)} batches are sorted "
                         "(over 95% of neighbours in order), so each step sees a narrow "
                         "range of targets and the model chases the latest one. "
                         "Shuffle: DataLoader(..., shuffle=True).")

    def check_optimizer_holds_params(self):
        held = {id(p) for g in self.opt.param_groups for p in g["params"]}
        missing = [n for n, p in self.trainable if id(p) not in held]
        if not missing:
            return
        n_all = len(self.trainable)
        names = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
        if len(missing) == n_all:
            why = ("the optimizer holds none of this model's parameters: was it built "
                   "for another model instance, or before the model was replaced?")
        else:
            why = ("they were probably added after the optimizer was built, or left "
                   "out of the list passed to it.")
        self.add("param-not-in-optimizer", "error",
                 f"{len(missing)} of {n_all} trainable parameter tensors are not in the "
                 f"optimizer ({names}): {why} They get gradients but never move. Build "
                 "the optimizer from model.parameters() after the model is complete.")

    # -- checks from one forward and backward pass
    def check_forward(self, X, y):
        torch.manual_seed(0)
        pred = self.forward(X)
        if torch.is_tensor(pred) and not _finite(pred):
            self.add("non-finite", "error",
                     "The model's output contains NaN or inf on finite inputs: check "
                     "for a log or division of something that can be 0, or weights "
                     "that have already diverged.")
            return None
        if not torch.is_tensor(pred):
            return pred
        self.check_broadcast(pred, y)
        self.check_softmax(pred)
        return pred

    def check_broadcast(self, pred, y):
        p, t = tuple(pred.shape), tuple(y.shape)
        if p == t or not pred.is_floating_point():
            return
        try:
            wide = tuple(torch.broadcast_shapes(pred.shape, y.shape))
        except RuntimeError:
            return  # the loss raises or reshapes itself: nothing silent
        if self.kind in ("cross-entropy", "nll"):
            return  # (B, C) against (B,) class indices is how these losses work
        silent = self.kind == "elementwise"
        if not silent and pred.numel() == y.numel() and wide != p:
            # an unknown loss: does reshaping the target change its value?
            with torch.no_grad():
                as_is = float(self.loss(pred, y))
                fixed = float(self.loss(pred, y.reshape(pred.shape)))
            silent = not math.isclose(as_is, fixed, rel_tol=1e-4, abs_tol=1e-12)
        if not silent:
            return
        self.add("loss-broadcast", "error",
                 f"The prediction has shape {p} and the target {t}: the loss broadcasts "
                 f"them to {wide}, comparing every prediction with every target, so it "
                 "trains each prediction towards the batch mean and the loss stalls "
                 "near the target's variance. Make the shapes equal: "
                 "y.view(-1, 1) or model(X).squeeze(1).")

    def check_softmax(self, pred):
        if self.kind not in ("cross-entropy", "nll") or pred.dim() < 2:
            return
        if pred.shape[1] < 2 or not pred.is_floating_point():
            return
        with torch.no_grad():
            sums = pred.sum(1)
            probs = bool((pred >= 0).all() and (pred <= 1).all()
                         and ((sums - 1).abs() < 1e-3).all())
        if not probs:
            return
        loss = "CrossEntropyLoss" if self.kind == "cross-entropy" else "NLLLoss"
        wants = "raw logits" if self.kind == "cross-entropy" else "log-probabilities"
        fix = ("remove the softmax from the model" if self.kind == "cross-entropy"
               else "use log_softmax instead of softmax")
        self.add("softmax-before-cross-entropy", "error",
                 f"The model outputs probabilities (every row is in [0, 1] and sums to "
                 f"1) but {loss} expects {wants}. It then applies log-softmax on top, "
                 "which squeezes the outputs into a range of 1, so the gradients are "
                 "tiny and the loss stalls well above its minimum. Fix: " + fix + ".")

    def check_gradients(self, X, y):
        self.state.restore(rng=False)
        for _, p in self.trainable:
            p.grad = None
        torch.manual_seed(0)
        loss = self.loss(self.forward(X), y)
        if not torch.isfinite(loss):
            self.add("non-finite", "error",
                     f"The loss is {float(loss)} on finite inputs and outputs: check "
                     "the targets' range for this loss (e.g. BCELoss needs targets in "
                     "[0, 1] and outputs strictly inside it).")
            return False
        if not loss.requires_grad:
            self.add("no-gradient", "error",
                     "The loss does not require grad: the graph from the parameters to "
                     "the loss is cut (a .detach(), .item(), .data, torch.no_grad() or "
                     "a NumPy round trip), so no parameter gets a gradient.")
            return False
        loss.backward()
        self.base_grads = {n: None if p.grad is None else p.grad.detach().clone()
                           for n, p in self.trainable}
        none = [n for n, p in self.trainable if p.grad is None]
        if none:
            names = ", ".join(none[:4]) + (", ..." if len(none) > 4 else "")
            self.add("no-gradient", "error",
                     f"{len(none)} of {len(self.trainable)} trainable parameter tensors "
                     f"get no gradient from the loss ({names}): they are unused in "
                     "forward() or their path to the loss is detached, so they never "
                     "train. Use them, or set requires_grad=False on purpose.")
        bad = [n for n, p in self.trainable if p.grad is not None and not _finite(p.grad)]
        if bad:
            self.add("non-finite", "error",
                     f"The gradient of {', '.join(bad[:4])} contains NaN or inf at a "
                     f"finite loss ({_g(loss)}): a sqrt, log or division at 0 in the "
                     "forward pass. One step would make the weights NaN.")
        return not bad

    def check_dead_relu(self, X):
        outputs = []
        hooks = [m.register_forward_hook(lambda m, i, o: outputs.append((m, o)))
                 for m in self.model.modules() if isinstance(m, (nn.ReLU, nn.ReLU6))]
        if not hooks:
            return
        names = {m: n for n, m in self.model.named_modules()}
        try:
            with torch.no_grad():
                torch.manual_seed(0)
                self.forward(X)
        finally:
            for h in hooks:
                h.remove()
        worst = []
        for m, o in outputs:
            if not torch.is_tensor(o) or o.dim() < 2:
                continue
            active = (o != 0).transpose(0, 1).reshape(o.shape[1], -1).any(1)
            dead = int((~active).sum())
            if dead / o.shape[1] >= 0.25:
                worst.append((dead / o.shape[1], dead, o.shape[1], names.get(m, "?")))
        if not worst:
            return
        worst.sort(reverse=True)
        parts = "; ".join(f"{d} of {n} in '{name}'" for _, d, n, name in worst[:3])
        self.add("dead-relu", "warning",
                 f"ReLU units output 0 for all {len(X)} samples: {parts}. A dead unit "
                 "passes no gradient, so it never recovers and the network trains with "
                 "less capacity than it has. Usual causes: a learning rate that threw "
                 "the biases far negative, unscaled inputs, or a bad init. Lower the "
                 "learning rate, standardise inputs, or try LeakyReLU.")

    # -- checks that step
    def check_user_step(self, X, y):
        """Run the reader's step twice from the same state: zeroed? did it move?"""
        self.state.restore(rng=False)
        for _, p in self.trainable:
            p.grad = None
        before = self.params_vector()
        torch.manual_seed(0)
        self.step(X, y)
        after1 = self.params_vector()
        g1 = [None if p.grad is None else p.grad.detach().clone() for _, p in self.trainable]
        held = {id(p) for g in self.opt.param_groups for p in g["params"]}
        base = getattr(self, "base_grads", {})
        moved = [not torch.equal(a, b) for a, b in zip(before, after1, strict=False)]
        if not any(moved):
            self.add("no-gradient", "error",
                     "train_step changed no parameter: check that it calls "
                     "loss.backward() and optimizer.step() on the optimizer of this "
                     "model, and that the loss is computed from model(X).")
            return
        stuck = [n for (n, p), m in zip(self.trainable, moved, strict=False)
                 if not m and id(p) in held and base.get(n) is not None
                 and bool(base[n].abs().max() > 0)]
        if stuck:
            self.add("no-gradient", "error",
                     f"train_step left {', '.join(stuck[:4])} unchanged although the "
                     "loss has a gradient for it: the step's path to the loss is cut "
                     "(detached) or it steps another optimizer.")
        # second call: a step that zeroes its gradients sees only the fresh one
        rng = torch.get_rng_state()
        self.step(X, y)
        g2 = [None if p.grad is None else p.grad.detach().clone() for _, p in self.trainable]
        if all(g is None or not bool(g.any()) for g in g2) or any(g is None for g in g1):
            return  # gradients cleared at the end of the step: nothing accumulates
        with torch.no_grad():
            for (_, p), v in zip(self.trainable, after1, strict=False):
                p.copy_(v)
        for _, p in self.trainable:
            p.grad = None
        torch.set_rng_state(rng)
        self.loss(self.forward(X), y).backward()
        fresh = [None if p.grad is None else p.grad.detach().clone()
                 for _, p in self.trainable]
        pairs = [(a, b, c) for a, b, c in zip(g2, fresh, g1, strict=False) if a is not None
                 and b is not None]
        if not pairs:
            return
        norm = math.sqrt(sum(float(a.pow(2).sum()) for a, _, _ in pairs)) or 1.0
        to_fresh = math.sqrt(sum(float((a - b).pow(2).sum()) for a, b, _ in pairs)) / norm
        to_sum = math.sqrt(sum(float((a - b - c).pow(2).sum()) for a, b, c in pairs)) / norm
        prev = math.sqrt(sum(float(c.pow(2).sum()) for _, _, c in pairs)) / norm
        if to_sum < 1e-3 and to_fresh > 0.1 and prev > 0.1:
            self.add("grad-accumulation", "error",
                     "After two calls of train_step the gradient is the sum of both "
                     f"steps' gradients (it differs from the fresh one by {_g(to_fresh)} "
                     "of its size, from the sum by less than 0.001): gradients are not "
                     "zeroed, so every step also re-applies all earlier ones and the "
                     "effective step keeps growing. Call optimizer.zero_grad() before "
                     "loss.backward() in every step.")

    def run_steps(self, X, y, factor, steps):
        self.state.restore(rng=False)
        for g in self.opt.param_groups:
            g["lr"] = g["lr"] * factor
        losses = [self.eval_loss(X, y)]
        for k in range(steps):
            torch.manual_seed(k)
            self.step(X, y)
            losses.append(self.eval_loss(X, y))
            if not math.isfinite(losses[-1]):
                break
        return losses

    def check_learning_rate(self, X, y):
        lr = self.opt.param_groups[0].get("lr")
        if not isinstance(lr, (float, int)) or lr <= 0:
            return
        base = self.run_steps(X, y, 1.0, _LR_STEPS)
        start = base[0]
        if not math.isfinite(start):
            return
        blew = not math.isfinite(base[-1])
        grew = blew or base[-1] > 2 * abs(start) or max(base) > 10 * abs(start)
        if not grew:
            return
        for factor in (0.1, 0.01, 0.001):
            small = self.run_steps(X, y, factor, _LR_STEPS)
            if math.isfinite(small[-1]) and small[-1] < start and max(small) <= 2 * start:
                what = (f"overflowed to inf/NaN after {len(base) - 1} steps" if blew else
                        f"grew from {_g(start)} to {_g(base[-1])} in {_LR_STEPS} steps")
                self.add("lr-too-large", "error",
                         f"At the learning rate {_g(lr)} the loss {what}, while at "
                         f"{_g(lr * factor)} ({_g(factor)}x) it fell from {_g(start)} "
                         f"to {_g(small[-1])}. Each step overshoots the minimum by more "
                         "than it gains. Use a learning rate of about "
                         f"{_g(lr * factor)} or below (or rescale the inputs).")
                return
        if blew:
            self.add("non-finite", "error",
                     f"The loss overflowed within {len(base) - 1} steps at the learning "
                     f"rate {_g(lr)} and did not fall at 1000x smaller ones either: "
                     "check the step's sign and the loss itself.")

    def check_overfit(self, X, y):
        n_params = sum(p.numel() for _, p in self.trainable)
        m = min(_OVERFIT_SAMPLES, len(X))
        Xs, ys = X[:m], y[:m]
        tries = [("your optimizer", None)]
        tries += [("Adam at 0.01", lambda ps: torch.optim.Adam(ps, lr=0.01)),
                  ("L-BFGS", lambda ps: torch.optim.LBFGS(
                      ps, lr=1, max_iter=_OVERFIT_STEPS, line_search_fn="strong_wolfe"))]
        start = best = None
        for _name, make in tries:
            self.state.restore(rng=False)
            _dropout_off(self.model)
            start = self.eval_loss(Xs, ys)
            if not math.isfinite(start):
                return
            final = self.fit_small(Xs, ys, make, start)
            if final is None:
                return  # the model cannot train on a batch this small (BatchNorm)
            best = final if best is None else min(best, final)
            if _fitted(start, best):
                return
        severity = "error" if n_params >= m else "warning"
        few = "" if n_params >= m else (
            f" With only {n_params} parameter(s) for {m} samples the model may be too "
            "small to fit them exactly, so this is a warning.")
        self.add("cannot-overfit-batch", severity,
                 f"On one batch of {m} samples the loss went only from {_g(start)} to "
                 f"{_g(best)}, with your optimizer, Adam and L-BFGS alike. A working "
                 "setup fits a handful of samples almost exactly; if it cannot, more "
                 "data or epochs will not help: look for a wiring bug (targets vs "
                 "outputs, an output activation that cannot reach the targets, a "
                 "start outside the basin, a model too small)." + few)

    def fit_small(self, X, y, make, start):
        try:
            if make is None:
                for k in range(_OVERFIT_STEPS):
                    torch.manual_seed(k)
                    self.step(X, y)
                    if k % 10 == 9 and _fitted(start, self.eval_loss(X, y)):
                        break
                value = self.eval_loss(X, y)
                return value if math.isfinite(value) else start
            params = [p for _, p in self.trainable]
            opt = make(params)

            def closure():
                opt.zero_grad()
                torch.manual_seed(0)
                loss = self.loss(self.forward(X), y)
                loss.backward()
                return loss

            steps = 1 if isinstance(opt, torch.optim.LBFGS) else 300
            for k in range(steps):
                opt.step(closure)
                if k % 10 == 9 and _fitted(start, self.eval_loss(X, y)):
                    break
            value = self.eval_loss(X, y)
            return value if math.isfinite(value) else start
        except LessonInputError:
            return None


def _fitted(start, now) -> bool:
    return math.isfinite(now) and (now <= start - 0.5 * abs(start) or now < 1e-4)


def _dropout_off(model):
    # Dropout would keep an overfitting test from fitting; the mode is restored after.
    for m in model.modules():
        if isinstance(m, nn.modules.dropout._DropoutNd):
            m.eval()


def _first_line(exc) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class _NoGraph(Exception):
    """The reader's step raised "does not require grad": a cut graph."""

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

import html
import math
import textwrap
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..errors import LessonInputError
from . import probes
from .probes import LossSpy, ReluSpy, State

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


# ---------------------------------------------------------------- inputs
def _batches(data) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], bool]:
    """The data as a list of (X, y) batches, and whether it came as one pair of tensors."""
    if isinstance(data, (tuple, list)) and len(data) == 2 and any(
            isinstance(t, np.ndarray) for t in data):
        raise LessonInputError(
            "X and y are NumPy arrays: convert them to tensors first, e.g. "
            "(torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)).")
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


def _finite(t) -> bool:
    return not (torch.is_tensor(t) and t.is_floating_point()) or bool(torch.isfinite(t).all())


def _tensors(out) -> list[torch.Tensor]:
    """The tensors in a model's output: a tensor, or a tuple/list/dict of them."""
    if torch.is_tensor(out):
        return [out]
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _tensors(o)]
    return []


def _labels(y) -> torch.Tensor | None:
    """Targets as one label per sample (one-hot rows as their argmax), or None."""
    y = y.detach()
    if y.dim() == 2 and y.shape[1] == 1:
        return y[:, 0]
    if y.dim() == 2 and y.is_floating_point() and y.shape[1] >= 2 and bool(
            (y >= 0).all() and ((y.sum(1) - 1).abs() < 1e-3).all()):
        return y.argmax(1)
    return y if y.dim() == 1 else None


def _hard_labels(y) -> bool:
    return not y.is_floating_point() or bool(((y == 0) | (y == 1)).all())


# ---------------------------------------------------------------- the tool
def checkup(model: nn.Module, loss_fn: Callable, optimizer: torch.optim.Optimizer,
            data, train_step: Callable | None = None) -> Report:
    """Run the book's checks on a training setup and return a :class:`Report`.

    ``data`` is a pair of tensors ``(X, y)`` or an iterable of ``(X, y)`` batches
    (a DataLoader; up to 200 batches are read). A generator passed as ``data`` is
    consumed: pass a list or a DataLoader to train on it afterwards.
    ``train_step``, if given, is the reader's own step, a callable ``(X, y) -> loss``
    that zeroes, backpropagates and steps itself; the step-level checks (gradient
    accumulation, no gradient, learning rate, overfitting) then run through it.
    The model, the optimizer, the random generators and the DataLoader's generator
    are left exactly as they were. State a ``train_step`` keeps elsewhere (a
    scheduler, a counter) is not restored.
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
    hidden, hidden_modules = probes.unregistered(model)
    state = State(model, optimizer, data, extra=[t for _, t in hidden],
                  extra_modules=hidden_modules)
    threads = torch.get_num_threads()
    # Small models run several times faster on one thread (no hand-off between
    # threads), and one thread keeps the probes' round-off the same on every run.
    torch.set_num_threads(1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch's broadcast warning: we report it
            with torch.enable_grad():
                return _Checkup(model, loss_fn, optimizer, data, train_step, state,
                                hidden).run()
    finally:
        state.restore()
        torch.set_num_threads(threads)


class _Checkup:
    def __init__(self, model, loss_fn, optimizer, data, train_step, state, hidden):
        self.model, self.loss_fn, self.opt = model, loss_fn, optimizer
        self.data, self.user_step, self.state = data, train_step, state
        self.hidden = hidden
        self.report = Report()
        self.spy = LossSpy()
        self.fully_dead = False  # a ReLU layer with every unit dead
        self.trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]

    def add(self, code, severity, message):
        self.report.findings.append(Finding(code, severity, message, CHECKS[code][1]))

    # -- helpers that call the reader's code, turning their errors into one sentence
    def forward(self, X):
        try:
            out = self.model(X)
        except Exception as exc:
            raise LessonInputError(
                f"The model raised {type(exc).__name__} on a batch of shape "
                f"{tuple(X.shape)}: {_first_line(exc)}") from None
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
                f"{_first_line(exc)}") from None
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
                f"loss.backward() raised {type(exc).__name__}: {_explain(exc)}") from None

    def standard_step(self, X, y):
        # Always through a closure: L-BFGS needs one, and every other
        # torch.optim optimizer calls it exactly once.
        seen = []

        def closure():
            self.opt.zero_grad()
            loss = self.loss(self.forward(X), y)
            self.backward(loss)
            seen.append(loss)
            return loss

        self.opt.step(closure)
        return seen[0]

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
                f"train_step raised {type(exc).__name__}: {_explain(exc)}") from None

    def eval_loss(self, X, y) -> float:
        return float(self.loss(self.eval_pred(X), y))

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
        self.probe = probe
        if not self.trainable:
            raise LessonInputError("The model has no trainable parameters.")
        if self.user_step is None:
            self.report.notes.append(
                "no train_step given: the step-level checks used a standard step "
                "(zero_grad, loss, backward, step).")
        bad_data = self.check_data(batches, as_tensors)
        self.check_input_scale(X)
        if not as_tensors:
            self.check_order(batches)
        self.check_optimizer_holds_params()
        self.model.train()
        _dropout_off(self.model)
        if bad_data or not self.check_outputs(X, probe[0]):
            self.report.notes.append("the training probes were skipped: the data or "
                                     "the model's output is not finite.")
            return self.sorted()
        if self.check_forward(*probe) is None:
            return self.sorted()
        if not self.check_gradients(*probe):
            return self.sorted()
        self.state.restore(rng=False)
        try:
            if self.user_step is not None:
                self.check_user_step(*probe)
            self.check_learning_rate(*probe)
            explained = {"loss-broadcast", "softmax-before-cross-entropy", "no-gradient"}
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
        return self.sorted()

    def sorted(self) -> Report:
        order = {"error": 0, "warning": 1, "info": 2}
        self.report.findings.sort(key=lambda f: order[f.severity])
        return self.report

    # -- checks on the data alone
    def check_data(self, batches, as_tensors) -> bool:
        """NaN or inf anywhere in the data read: all of (X, y), or every batch."""
        bad = False
        for k, name in enumerate(("inputs", "targets")):
            counts = [int((~torch.isfinite(b[k])).sum()) if b[k].is_floating_point()
                      else 0 for b in batches]
            n = sum(counts)
            if not n:
                continue
            bad = True
            if as_tensors:
                rows = (~torch.isfinite(batches[0][k])).reshape(len(batches[0][k]), -1)
                where = (f"{n} NaN or inf value(s) in {len(batches[0][k])} samples "
                         f"(the first in sample {int(rows.any(1).nonzero()[0, 0])})")
            else:
                i = next(i for i, c in enumerate(counts) if c)
                where = (f"{n} NaN or inf value(s) in the {len(batches)} batches read "
                         f"(the first in batch {i})")
            self.add("non-finite", "error",
                     f"The {name} contain {where}. One NaN makes the loss and every "
                     "gradient NaN, and the weights become NaN after one step. Drop or "
                     "impute those samples before training.")
        return bad

    def check_input_scale(self, X):
        if not X.is_floating_point() or len(X) < 2:
            return
        layer = probes.first_layer(self.model)
        if isinstance(layer, nn.Embedding) or (
                isinstance(layer, nn.modules.batchnorm._BatchNorm)
                and X.dim() > 1 and layer.num_features == X.shape[1]):
            return  # the model looks its inputs up / standardises them itself
        X = X.detach().double()
        flat = X.reshape(len(X), -1)
        if X.dim() > 2:  # one scale per channel, or per feature of a sequence
            last = isinstance(layer, nn.RNNBase) or (
                isinstance(layer, nn.Linear) and layer.in_features == X.shape[-1])
            flat = X.movedim(-1 if last else 1, 0).reshape(
                X.shape[-1 if last else 1], -1).T
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
        if len(batches) < 2:
            return  # one batch: the order inside it does not matter
        ys = [_labels(b[1]) for b in batches]
        if any(t is None for t in ys):
            return  # several target columns that are not one-hot: no single order
        labels = torch.cat(ys)
        if len(labels) < 8:
            return
        values = labels.unique()
        discrete = not labels.is_floating_point() or (
            len(values) <= 20 and bool((values == values.round()).all()))
        if discrete and len(values) >= 2:
            self.check_class_order(ys, labels, values)
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

    def check_class_order(self, ys, labels, values):
        n = len(labels)
        shares = torch.stack([(labels == v).double().mean() for v in values])
        # Label runs across the whole sequence against what shuffling gives:
        # neighbours differ with probability 1 - sum(share^2).
        runs = 1 + int((labels[1:] != labels[:-1]).sum())
        expected_runs = 1 + (n - 1) * (1 - float((shares ** 2).sum()))
        full = ys[:-1] if len(ys[-1]) < len(ys[0]) else ys  # a short last batch
        b = float(np.median([len(t) for t in full]))
        pure = sum(int(t.unique().numel() == 1) for t in full) / len(full)
        expected_pure = float((shares ** b).sum())  # chance of a pure batch, shuffled
        if b >= 2 and pure >= 0.5 and expected_pure < 0.05:
            what = (f"{pure:.0%} of the first {len(ys)} batches hold a single class "
                    f"(shuffled batches of {b:.0f} would almost never do: about "
                    f"{_g(expected_pure * 100)}%)")
        elif expected_runs >= 8 and runs <= expected_runs / 4:
            what = (f"The batches are ordered by class: the labels of the first "
                    f"{len(ys)} batches come in {runs} runs of one class where "
                    f"shuffled data would give about {expected_runs:.0f}")
        else:
            return
        self.add("unshuffled-batches", "warning",
                 f"{what}. Each step then pulls the model towards one class and the "
                 "next undoes it, so the loss zig-zags instead of converging. "
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

    def check_unregistered(self):
        """Called after a backward pass: hidden tensors that the loss reaches."""
        held = {id(p) for g in self.opt.param_groups for p in g["params"]}
        # One that gets no gradient is kept out on purpose (a frozen teacher).
        missing = [n for n, t in self.hidden if id(t) not in held and t.grad is not None]
        if not missing:
            return
        names = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
        self.add("param-not-in-optimizer", "error",
                 f"{len(missing)} trainable tensor(s) sit outside the model's registry "
                 f"({names}): a layer kept in a plain Python list or dict, or a tensor "
                 "attribute made with requires_grad=True. model.parameters() does not "
                 "list them, so the optimizer never moves them (and state_dict() and "
                 ".to() miss them too). Hold layers in nn.ModuleList / nn.ModuleDict and "
                 "tensors as nn.Parameter.")

    # -- checks from forward and backward passes
    def check_outputs(self, X, probe) -> bool:
        """A no-grad forward on up to 2048 samples: finite outputs? dead ReLUs?"""
        seen = []
        hooks = [m.register_forward_hook(lambda m, i, o: seen.append((m, o)))
                 for m in self.model.modules() if isinstance(m, (nn.ReLU, nn.ReLU6))]
        try:
            try:
                with torch.no_grad(), ReluSpy() as spy:
                    torch.manual_seed(0)
                    out = self.forward(X)
            except LessonInputError:
                # A model that needs autograd in forward() or a fixed batch size:
                # look at the probe batch the way training would run it.
                seen.clear()
                with ReluSpy() as spy:
                    torch.manual_seed(0)
                    out = self.forward(probe)
                X = probe
        finally:
            for h in hooks:
                h.remove()
        module_names = {m: n for n, m in self.model.named_modules()}
        names = {id(o): f"'{module_names.get(m, '?')}'" for m, o in seen}
        bad = [t for t in _tensors(out) if not _finite(t)]
        if bad:
            rows = (~torch.isfinite(bad[0])).reshape(len(bad[0]), -1).any(1)
            first = f" (the first is sample {int(rows.nonzero()[0, 0])})" if len(
                bad[0]) == len(X) else ""
            self.add("non-finite", "error",
                     f"The model's output contains NaN or inf for {int(rows.sum())} of "
                     f"{len(X)} samples{first} although the inputs are finite: a log, "
                     "sqrt or division of something that can be negative or 0, or "
                     "weights that have already diverged.")
            return False
        self.check_dead_relu(spy.outputs, names, len(X))
        return True

    def check_dead_relu(self, outputs, names, n):
        worst = []
        for k, (o, active) in enumerate(outputs, 1):
            name = names.get(id(o), f"relu call {k} in forward()")
            dead = int((~active).sum())
            if dead / len(active) >= 0.25:
                worst.append((dead / len(active), dead, len(active), name))
            self.fully_dead |= dead == len(active)
        if not worst:
            return
        worst.sort(key=lambda w: -w[0])
        parts = "; ".join(f"{d} of {u} in {name}" for _, d, u, name in worst[:3])
        self.add("dead-relu", "warning",
                 f"ReLU units output 0 for all {n} samples: {parts}. A dead unit "
                 "passes no gradient, so it never recovers and the network trains with "
                 "less capacity than it has. Usual causes: a learning rate that threw "
                 "the biases far negative, unscaled inputs, or a bad init. Lower the "
                 "learning rate, standardise inputs, or try LeakyReLU.")

    def check_forward(self, X, y):
        """One forward and one loss call watched by a LossSpy."""
        torch.manual_seed(0)
        pred = self.forward(X)
        if not all(_finite(t) for t in _tensors(pred)):
            self.add("non-finite", "error",
                     "The model's output contains NaN or inf on finite inputs: check "
                     "for a log or division of something that can be 0, or weights "
                     "that have already diverged.")
            return None
        with warnings.catch_warnings(record=True) as caught, self.spy:
            warnings.simplefilter("always")
            self.loss(pred, y)
        said = [str(w.message) for w in caught if "broadcast" in str(w.message)]
        self.check_broadcast(said)
        self.check_softmax()
        return pred

    def check_broadcast(self, said):
        if not self.spy.broadcasts and not said:
            return
        if self.spy.broadcasts:
            what, a, b, wide = self.spy.broadcasts[0]
            if what.startswith("F."):
                seen = (f"The prediction has shape {a} and the target {b}: the loss "
                        f"broadcasts them to {wide}")
            else:
                seen = (f"Inside the loss, '{what}' combines shapes {a} and {b}: it "
                        f"broadcasts them to {wide}")
        else:
            seen = (f"PyTorch warned inside the loss ({said[0].split('. This')[0]}): "
                    "it broadcasts prediction and target")
        self.add("loss-broadcast", "error",
                 f"{seen}, comparing every prediction with every target, so it trains "
                 "each prediction towards the batch mean and the loss stalls near the "
                 "target's variance. Make the shapes equal: y.view(-1, 1) or "
                 "model(X).squeeze(1).")

    def check_softmax(self):
        for name, pred in self.spy.class_inputs:
            if pred.dim() < 2 or pred.shape[1] < 2 or not pred.is_floating_point():
                continue
            with torch.no_grad():
                sums = pred.sum(1)
                probs = bool((pred >= 0).all() and (pred <= 1).all()
                             and ((sums - 1).abs() < 1e-3).all())
            if not probs:
                continue
            ce = name == "cross_entropy"
            loss = "CrossEntropyLoss" if ce else "NLLLoss"
            wants = "raw logits" if ce else "log-probabilities"
            fix = ("remove the softmax from the model" if ce
                   else "use log_softmax instead of softmax")
            self.add("softmax-before-cross-entropy", "error",
                     f"The model outputs probabilities (every row is in [0, 1] and sums "
                     f"to 1) but {loss} expects {wants}. It then applies log-softmax on "
                     "top, which squeezes the outputs into a range of 1, so the "
                     "gradients are tiny and the loss stalls well above its minimum. "
                     "Fix: " + fix + ".")
            return

    def check_gradients(self, X, y):
        self.state.restore(rng=False)
        for p in [p for _, p in self.trainable] + [t for _, t in self.hidden]:
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
        self.backward(loss)
        self.check_unregistered()
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
            return False
        self.check_zero_gradients(loss, X, y)
        return True

    def check_zero_gradients(self, loss, X, y):
        """Gradients that exist but are exactly 0: a step function in forward()."""
        if self.fully_dead:
            return  # a layer of dead ReLUs blocks the gradient: dead-relu says so
        zero = _zero_grads(self.trainable)
        if not zero:
            return
        # A zero-initialised gate or output layer also blocks the first gradient
        # (ReZero); it opens after one step. A step function never does.
        self.standard_step(X, y)
        for _, p in self.trainable:
            p.grad = None
        torch.manual_seed(0)
        self.backward(self.loss(self.forward(X), y))
        again = {n for n, _ in _zero_grads(self.trainable)}
        zero = [(n, p) for n, p in zero if n in again]
        self.state.restore(rng=False)
        if not zero:
            return
        names = ", ".join(n for n, _ in zero[:4]) + (", ..." if len(zero) > 4 else "")
        scaled = "input-scale" in self.report.codes
        self.add("no-gradient", "warning" if scaled else "error",
                 f"{len(zero)} of {len(self.trainable)} trainable parameter tensors get a "
                 f"gradient of exactly 0 ({names}) at a loss of {_g(loss)}, even after a "
                 "step: something between them and the loss has zero derivative, such "
                 "as torch.round, sign, argmax or (x > 0).float() in forward()"
                 + (", or activations saturated by the unscaled inputs" if scaled else "")
                 + ". Gradient descent cannot move them. Use a smooth function "
                 "(sigmoid instead of a threshold) while training.")

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
        if all(g is None or not bool(g.any()) for g in g2):
            return  # gradients cleared at the end of the step: nothing accumulates
        with torch.no_grad():
            for (_, p), v in zip(self.trainable, after1, strict=False):
                p.copy_(v)
        for _, p in self.trainable:
            p.grad = None
        torch.set_rng_state(rng)
        self.backward(self.loss(self.forward(X), y))
        fresh = [None if p.grad is None else p.grad.detach().clone()
                 for _, p in self.trainable]
        # Parameters without a gradient (unused layers) take no part in the test.
        pairs = [(a, b, torch.zeros_like(a) if c is None else c)
                 for a, b, c in zip(g2, fresh, g1, strict=False)
                 if a is not None and b is not None]
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

    def loss_floor(self, X, y) -> float | None:
        """The loss at a perfect prediction, when the targets say what that is.

        BCE or cross-entropy on soft targets bottoms out at their entropy, not 0.
        The candidates are the target itself, its logit and its log, each read as
        the model's output; each is a loss the model could reach, so the lowest is
        an upper bound on the floor: measuring progress to it is never too strict.
        """
        self.state.restore(rng=False)
        try:
            pred = self.eval_pred(X)
        except LessonInputError:
            return None  # a model that cannot run a batch this small: see fit_small
        if not torch.is_tensor(pred) or pred.numel() != y.numel() or not (
                y.is_floating_point()):
            return None
        t = y.detach().reshape(pred.shape).to(pred.dtype)
        candidates = [t]
        if bool(((t >= 0) & (t <= 1)).all()):
            c = t.clamp(1e-6, 1 - 1e-6)
            candidates += [torch.log(c) - torch.log1p(-c), torch.log(c)]
        values = []
        for c in candidates:
            try:
                with torch.no_grad():
                    v = float(self.loss_fn(c, y).mean())
            except Exception:  # noqa: BLE001 - a candidate the loss rejects is no floor
                continue
            if math.isfinite(v):
                values.append(v)
        return max(0.0, min(values)) if values else None

    def eval_pred(self, X):
        try:
            with torch.no_grad():
                torch.manual_seed(0)
                return self.forward(X)
        except LessonInputError:
            if not self.grad_in_forward():
                raise
        torch.manual_seed(0)  # a forward() that differentiates (a physics loss)
        out = self.forward(X)
        return out.detach() if torch.is_tensor(out) else out

    def grad_in_forward(self) -> bool:
        """Whether forward() works only with autograd on (it calls autograd.grad)."""
        if not hasattr(self, "_grad_in_forward"):
            X = self.probe[0]
            try:
                with torch.no_grad():
                    self.model(X[:2])
                self._grad_in_forward = False
            except Exception:  # noqa: BLE001 - any failure: try with autograd on
                try:
                    self.model(X[:2])
                    self._grad_in_forward = True
                except Exception:  # noqa: BLE001 - fails either way: a real error
                    self._grad_in_forward = False
        return self._grad_in_forward

    def check_overfit(self, X, y):
        n_params = sum(p.numel() for _, p in self.trainable)
        m = min(_OVERFIT_SAMPLES, len(X))
        Xs, ys = X[:m], y[:m]
        floor = self.loss_floor(Xs, ys)
        tries = [("your optimizer", None)]
        tries += [("Adam at 0.01", lambda ps: torch.optim.Adam(ps, lr=0.01)),
                  ("L-BFGS", lambda ps: torch.optim.LBFGS(
                      ps, lr=1, max_iter=_OVERFIT_STEPS, line_search_fn="strong_wolfe"))]
        start = best = None
        for _name, make in tries:
            self.state.restore(rng=False)
            _dropout_off(self.model)
            try:
                start = self.eval_loss(Xs, ys)
            except LessonInputError:
                return  # a model that cannot run a batch this small (a fixed size)
            if not math.isfinite(start):
                return
            final = self.fit_small(Xs, ys, make, start, floor)
            if final is None:
                return  # the model cannot train on a batch this small (BatchNorm)
            best = final if best is None else min(best, final)
            if _fitted(start, best, floor):
                return
        known = floor is not None or _hard_labels(ys)
        severity = "error" if n_params >= m and known else "warning"
        few = "" if n_params >= m else (
            f" With only {n_params} parameter(s) for {m} samples the model may be too "
            "small to fit them exactly, so this is a warning.")
        soft = "" if known else (
            " The targets are not hard labels and the loss's minimum is unknown, so "
            "this is a warning.")
        low = "" if not floor else f" (the lowest reachable is about {_g(floor)})"
        self.add("cannot-overfit-batch", severity,
                 f"On one batch of {m} samples the loss went only from {_g(start)} to "
                 f"{_g(best)}{low}, with your optimizer, Adam and L-BFGS alike. A "
                 "working setup fits a handful of samples almost exactly; if it cannot, "
                 "more data or epochs will not help: look for a wiring bug (targets vs "
                 "outputs, an output activation that cannot reach the targets, a "
                 "start outside the basin, a model too small)." + few + soft)

    def fit_small(self, X, y, make, start, floor):
        try:
            if make is None:
                for k in range(_OVERFIT_STEPS):
                    torch.manual_seed(k)
                    self.step(X, y)
                    if k % 10 == 9 and _fitted(start, self.eval_loss(X, y), floor):
                        break
                value = self.eval_loss(X, y)
                return value if math.isfinite(value) else start
            params = [p for _, p in self.trainable]
            opt = make(params)

            def closure():
                opt.zero_grad()
                torch.manual_seed(0)
                loss = self.loss(self.forward(X), y)
                self.backward(loss)
                return loss

            steps = 1 if isinstance(opt, torch.optim.LBFGS) else 300
            for k in range(steps):
                opt.step(closure)
                if k % 10 == 9 and _fitted(start, self.eval_loss(X, y), floor):
                    break
            value = self.eval_loss(X, y)
            return value if math.isfinite(value) else start
        except LessonInputError:
            return None


def _zero_grads(trainable):
    got = [(n, p) for n, p in trainable if p.grad is not None]
    zero = [(n, p) for n, p in got if not bool(p.grad.any())]
    # A 1-D tensor (a bias before BatchNorm) can have a zero gradient by design;
    # a weight matrix, or the whole model, cannot.
    if len(zero) < len(got):
        zero = [(n, p) for n, p in zero if p.dim() >= 2]
    return zero


def _fitted(start, now, floor=None) -> bool:
    if not math.isfinite(now):
        return False
    if floor is None or not 0 <= floor < start:
        return now <= start - 0.5 * abs(start) or now < 1e-4
    return now - floor <= 0.5 * (start - floor) or now - floor < 1e-4


def _dropout_off(model):
    # Dropout would keep an overfitting test from fitting; the mode is restored after.
    for m in model.modules():
        if isinstance(m, nn.modules.dropout._DropoutNd):
            m.eval()


def _first_line(exc) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _explain(exc) -> str:
    """The error's first line, and the usual cause when PyTorch's is cryptic."""
    text = _first_line(exc)
    if "inplace operation" in text or "in-place operation" in text:
        text += (" -- a tensor the gradient needs was changed in place in forward() "
                 "or the loss (h[:, 0] = 0, x += 1, x.relu_(), inplace=True). Use an "
                 "out-of-place version (x = x + 1) or clone first (h = h.clone()).")
    return text


class _NoGraph(Exception):
    """The reader's step raised "does not require grad": a cut graph."""

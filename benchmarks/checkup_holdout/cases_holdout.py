"""Held-out evaluation cases for convergence_lab.checkup (prefix "ho-").

Written independently of the tool: each setup is modelled on a public report (or, where
none was found, named honestly as a common pattern) and on what the code means. Every
case registers through ``benchmarks.checkup_eval.common.case`` and carries a confirm()
that trains the setup (and, for bugs, its fixed version) to establish the ground truth.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import ConcatDataset, DataLoader, TensorDataset

from benchmarks.checkup_eval.common import Setup, case

# --------------------------------------------------------------------------- helpers


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _batches(data):
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(torch.is_tensor(t) for t in data):
        return [tuple(data)]
    return data


def _step(s: Setup, X, y) -> float:
    if s.train_step is not None:
        out = s.train_step(X, y)
        return float(out) if out is not None else float("nan")
    s.optimizer.zero_grad()
    loss = s.loss_fn(s.model(X), y)
    loss.backward()
    s.optimizer.step()
    return loss.item()


def _train(s: Setup, steps: int) -> list[float]:
    losses: list[float] = []
    while len(losses) < steps:
        for X, y in _batches(s.data):
            losses.append(_step(s, X, y))
            if len(losses) >= steps:
                break
    return losses


def _all(data):
    xs, ys = zip(*[(X, y) for X, y in _batches(data)], strict=True)
    return torch.cat(xs), torch.cat(ys)


@torch.no_grad()
def _eval_loss(model, loss_fn, X, y) -> float:
    was = model.training
    model.eval()
    v = loss_fn(model(X), y).item()
    model.train(was)
    return v


@torch.no_grad()
def _acc(model, X, y) -> float:
    was = model.training
    model.eval()
    out = model(X)
    model.train(was)
    return (out.argmax(-1) == y).float().mean().item()


def _fin(v: float) -> bool:
    return math.isfinite(v)


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _teacher(d_in: int, d_out: int, seed: int, hidden: int = 32):
    torch.manual_seed(seed)
    t = nn.Sequential(nn.Linear(d_in, hidden), nn.Tanh(), nn.Linear(hidden, d_out))
    for p in t.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        t[0].weight.mul_(2.0)
    return t


def _cls_data(n: int, d: int, k: int, seed: int, teacher_seed: int = 7):
    """Learnable classes: argmax of a random tanh teacher on Gaussian inputs."""
    t = _teacher(d, k, teacher_seed)
    X = torch.randn(n, d, generator=_g(seed))
    with torch.no_grad():
        y = t(X).argmax(1)
    return X, y


def _reg_data(n: int, d: int, seed: int, teacher_seed: int = 11, d_out: int = 1):
    t = _teacher(d, d_out, teacher_seed)
    X = torch.randn(n, d, generator=_g(seed))
    with torch.no_grad():
        y = t(X)
        y = (y - y.mean(0)) / y.std(0)
    return X, y


def _images(n: int, c: int, h: int, k: int, seed: int, noise: float = 0.6, template_seed: int = 5):
    """k smooth class templates (c x h x h) plus noise; label = template index."""
    tg = _g(template_seed)
    templates = F.avg_pool2d(torch.randn(k, c, h + 2, h + 2, generator=tg), 3, 1)
    templates = templates / templates.flatten(1).std(1).view(k, 1, 1, 1)
    g = _g(seed)
    y = torch.randint(0, k, (n,), generator=g)
    X = templates[y] + noise * torch.randn(n, c, h, h, generator=g)
    return X, y


def _loader(X, y, bs: int, shuffle: bool, seed: int = 0):
    return DataLoader(TensorDataset(X, y), batch_size=bs, shuffle=shuffle,
                      generator=_g(seed) if shuffle else None)


def _rel_grads(model, loss_fn, X, y) -> list[float]:
    """Per weight-matrix gradient norm / parameter norm, input side first."""
    model.zero_grad()
    loss_fn(model(X), y).backward()
    out = [(p.grad.norm() / p.norm()).item() for p in model.parameters()
           if p.dim() > 1 and p.grad is not None]
    model.zero_grad()
    return out


def _cmp_lower(build, steps, metric, ratio, what="loss"):
    """Bug holds when broken >= ratio x fixed (lower is better), or broken is non-finite."""
    torch.manual_seed(0)
    b = build()
    _train(b, steps)
    mb = metric(b)
    torch.manual_seed(0)
    f = build(fixed=True)
    _train(f, steps)
    mf = metric(f)
    holds = _fin(mf) and ((not _fin(mb)) or mb >= ratio * mf)
    return holds, (f"after {steps} steps {what}: broken {_fmt(mb)} vs fixed {_fmt(mf)} "
                   f"(need broken >= {ratio}x fixed)")


def _healthy(build, steps, frac, test=None, min_acc=None):
    """Healthy holds when the full-data loss falls to <= frac of its start (and acc >= min_acc)."""
    torch.manual_seed(0)
    s = build()
    X, y = _all(s.data)
    start = _eval_loss(s.model, s.loss_fn, X, y)
    _train(s, steps)
    end = _eval_loss(s.model, s.loss_fn, X, y)
    holds = _fin(end) and end <= frac * start
    text = f"loss {_fmt(start)} -> {_fmt(end)} in {steps} steps (need <= {frac} x start)"
    if test is not None:
        Xt, yt = test()
        a = _acc(s.model, Xt, yt)
        holds = holds and a >= min_acc
        text += f"; held-out acc {a:.3f} (need >= {min_acc})"
    return holds, text


def _cmp_acc_own(build, steps, margin):
    """Like _cmp_acc, but each setup carries its own held-out set as ``.test`` (same pipeline)."""
    torch.manual_seed(0)
    b = build()
    _train(b, steps)
    ab = _acc(b.model, *b.test)
    torch.manual_seed(0)
    f = build(fixed=True)
    _train(f, steps)
    af = _acc(f.model, *f.test)
    return af - ab >= margin, (f"after {steps} steps held-out acc: broken {ab:.3f} vs fixed "
                               f"{af:.3f} (need a gap >= {margin})")


def _with_test(setup: Setup, Xt, yt) -> Setup:
    setup.test = (Xt, yt)
    return setup


# =========================================================================== loss-broadcast

def _pinn_data(n, seed):
    X = torch.rand(n, 3, generator=_g(seed)) * 2 - 1
    y = torch.sin(math.pi * X[:, 0]) * torch.exp(-X[:, 1] ** 2) + 0.5 * X[:, 2]
    return X, y


@case("ho-broadcast-pinn-output-column-vs-flat-target", "bug", "loss-broadcast",
      "Photon-AI-Research/NeuralSolvers#20: 'UserWarning in InitalCondition.py' (input "
      "[batch_size, 3], prediction [batch_size, 1], target [batch_size]; fixed by "
      "model(x).reshape(-1)) (https://github.com/Photon-AI-Research/NeuralSolvers/issues/20)",
      confirm=lambda: _cmp_lower(build_pinn_broadcast, 600,
                                 lambda s: F.mse_loss(s.model(_pinn_data(512, 1)[0]).reshape(-1),
                                                      _pinn_data(512, 1)[1]).item(), 3.0, "MSE"))
def build_pinn_broadcast(fixed=False):
    torch.manual_seed(101)
    X, y = _pinn_data(512, 1)
    model = nn.Sequential(nn.Linear(3, 64), nn.Tanh(),
                          nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))
    target = y.unsqueeze(1) if fixed else y          # BUG: (512,) target vs (512, 1) prediction
    return Setup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-3), (X, target))


def _critic_data(n, seed):
    g = _g(seed)
    s = torch.randn(n, 8, generator=g)
    a = torch.rand(n, 4, generator=g) * 2 - 1
    q = _teacher(12, 1, 31)(torch.cat([s, a], 1)).squeeze(1)
    ent = (a + 0.5 * s[:, :4]) ** 2                  # per-action-dimension term (n, 4)
    correct = (q - 0.5 * ent.sum(1)).unsqueeze(1)     # the TD target the critic should fit
    buggy = q.unsqueeze(1) - 0.5 * ent                # log_prob left unreduced: (n, 4)
    return torch.cat([s, a], 1), correct.detach(), buggy.detach()


@case("ho-broadcast-critic-td-target-unreduced", "bug", "loss-broadcast",
      "sunwuzhou03/reinforcement-learning-lab#1: 'MSE warning' (critic output [64, 1] vs "
      "td_target [64, 4] because log_prob was not reduced over the action dimension) "
      "(https://github.com/sunwuzhou03/reinforcement-learning-lab/issues/1)",
      confirm=lambda: _cmp_lower(build_critic_broadcast, 640,
                                 lambda s: F.mse_loss(s.model(_critic_data(1024, 2)[0]),
                                                      _critic_data(1024, 2)[1]).item(), 3.0,
                                 "MSE to the correct target"))
def build_critic_broadcast(fixed=False):
    torch.manual_seed(102)
    X, correct, buggy = _critic_data(1024, 2)
    model = nn.Sequential(nn.Linear(12, 64), nn.ReLU(),
                          nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
    T = correct if fixed else buggy                   # BUG: (B, 4) target against (B, 1) output
    return Setup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-3),
                 _loader(X, T, 64, True, 2))


# =========================================================================== lr-too-large

class _Quadratic(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.u = nn.Parameter(torch.zeros(1))
        self.b = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return self.w * x ** 2 + self.u * x + self.b


def _lr_confirm(build, steps):
    torch.manual_seed(0)
    b = build()
    X, y = _all(b.data)
    start = _eval_loss(b.model, b.loss_fn, X, y)
    _train(b, steps)
    end_b = _eval_loss(b.model, b.loss_fn, X, y)
    torch.manual_seed(0)
    f = build(fixed=True)
    _train(f, steps)
    end_f = _eval_loss(f.model, f.loss_fn, X, y)
    holds = (not _fin(end_b) or end_b > start) and _fin(end_f) and end_f < 0.5 * start
    return holds, (f"start {_fmt(start)}; given lr -> {_fmt(end_b)}, smaller lr -> "
                   f"{_fmt(end_f)} after {steps} steps (need given > start, smaller < 0.5 x start)")


@case("ho-lr-quadratic-fit-sgd", "bug", "lr-too-large",
      "chiphuyen/stanford-tensorflow-tutorials#54: '03_linear_regression_sol.py for quadratic "
      "case' (y = w x^2 + u x + b by gradient descent; the loss went to inf until the learning "
      "rate was reduced) (https://github.com/chiphuyen/stanford-tensorflow-tutorials/issues/54)",
      confirm=lambda: _lr_confirm(build_lr_quadratic, 200))
def build_lr_quadratic(fixed=False):
    torch.manual_seed(103)
    g = _g(3)
    x = torch.randn(256, 1, generator=g)
    y = 1.5 * x ** 2 - 2.0 * x + 0.5 + 0.1 * torch.randn(256, 1, generator=g)
    model = _Quadratic()
    lr = 0.05 if fixed else 0.5                       # BUG: 0.5 is above 2 / curvature
    return Setup(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=lr), (x, y))


@case("ho-lr-mlp-classifier-sgd-step-10", "bug", "lr-too-large",
      "jax-ml/jax#159: 'Lower learning rate in NN example notebook to fix divergence.' "
      "(an MLP classifier example whose step size diverged) "
      "(https://github.com/jax-ml/jax/pull/159)",
      confirm=lambda: _lr_confirm(build_lr_mlp, 300))
def build_lr_mlp(fixed=False):
    torch.manual_seed(104)
    X, y = _cls_data(1024, 16, 4, 4)
    model = nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                          nn.Linear(128, 4))
    lr = 0.5 if fixed else 10.0                       # BUG: step size far too large
    return Setup(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=lr), (X, y))


# =========================================================================== input-scale

def _particle_data(n, seed):
    g = _g(seed)
    energy = torch.exp(torch.randn(n, 1, generator=g) * 0.8 + 6.0)        # ~ 400 GeV
    pt = energy * torch.rand(n, 1, generator=g) * 0.3                      # ~ 60 GeV
    eta = torch.randn(n, 1, generator=g) * 1.5
    phi = (torch.rand(n, 1, generator=g) * 2 - 1) * math.pi
    charge = torch.randint(0, 2, (n, 1), generator=g).float() * 2 - 1
    depth = torch.rand(n, 3, generator=g) * 2 - 1
    X = torch.cat([energy, pt, eta, phi, charge, depth], 1)
    y = ((eta[:, 0] * charge[:, 0] > 0).long() * 2
         + (torch.sin(phi[:, 0]) + depth[:, 0] > 0).long())
    return X, y


@case("ho-scale-particle-features-raw-energy", "bug", "input-scale",
      "jpata/particleflow#346: 'Input opt' (adds standardize_inputs: per-element features "
      "are standardised before training; validation loss compared with and without) "
      "(https://github.com/jpata/particleflow/pull/346)",
      confirm=lambda: _cmp_acc_own(build_scale_particles, 800, 0.15))
def build_scale_particles(fixed=False):
    torch.manual_seed(105)
    X, y = _particle_data(1024, 5)
    Xt, yt = _particle_data(1024, 6)
    if fixed:
        mu, sd = X.mean(0), X.std(0)
        X, Xt = (X - mu) / sd, (Xt - mu) / sd
    # BUG (unfixed): energy ~400 and pt ~60 next to charge +-1 and eta ~1, fed raw
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 4))
    return _with_test(Setup(model, nn.CrossEntropyLoss(),
                            torch.optim.Adam(model.parameters(), lr=1e-3),
                            _loader(X, y, 64, True, 5)), Xt, yt)


def _column_data(n, seed):
    g = _g(seed)
    p = 1.0e5 + 2.0e3 * torch.randn(n, 1, generator=g)       # surface pressure, Pa
    t = 280.0 + 15.0 * torch.randn(n, 1, generator=g)        # temperature, K
    q = 0.01 + 0.004 * torch.randn(n, 1, generator=g)        # specific humidity, kg/kg
    z = 1000.0 + 500.0 * torch.randn(n, 1, generator=g)      # height, m
    raw = torch.cat([p, t, q, z], 1)
    std = (raw - torch.tensor([1.0e5, 280.0, 0.01, 1000.0])) / torch.tensor([2.0e3, 15.0, 0.004,
                                                                            500.0])
    y = _teacher(4, 1, 41)(std)
    return raw, std, (y - y.mean()) / y.std()


@case("ho-scale-atmos-columns-mixed-units", "bug", "input-scale",
      "ai2cm/fv3net#506: 'Add normalization to neural networks in fv3fit' (neural nets need "
      "inputs normalised to zero mean and unit standard deviation to train properly) "
      "(https://github.com/ai2cm/fv3net/pull/506)",
      confirm=lambda: _cmp_lower(build_scale_columns, 600,
                                 lambda s: F.mse_loss(s.model(s.test[0]), s.test[1]).item(),
                                 3.0, "held-out MSE"))
def build_scale_columns(fixed=False):
    torch.manual_seed(106)
    raw, std, y = _column_data(1024, 7)
    raw_t, std_t, y_t = _column_data(512, 8)
    X, Xt = (std, std_t) if fixed else (raw, raw_t)   # BUG: Pa, K, kg/kg and m side by side
    model = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                          nn.Linear(64, 1))
    return _with_test(Setup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-3),
                            (X, y)), Xt, y_t)


# =========================================================================== grad-accumulation

class _FrozenFeatures(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x):
        return F.adaptive_avg_pool2d(F.relu(self.conv(x)), 4).flatten(1)


@case("ho-accum-transfer-learning-head-no-zero-grad", "bug", "grad-accumulation",
      "udacity/deep-learning-v2-pytorch#160: 'Add zero_grad to Transfer Learning notebook' "
      "(the classifier-on-frozen-features training loop was missing zero_grad) "
      "(https://github.com/udacity/deep-learning-v2-pytorch/pull/160)",
      confirm=lambda: _cmp_acc_own(build_accum_transfer, 400, 0.15))
def build_accum_transfer(fixed=False):
    torch.manual_seed(107)
    X, y = _images(640, 3, 16, 5, 9)
    Xt, yt = _images(512, 3, 16, 5, 10)
    model = nn.Sequential(_FrozenFeatures(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 5))
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01,
                          momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def train_step(xb, yb):
        if fixed:
            opt.zero_grad()
        loss = loss_fn(model(xb), yb)                 # BUG: no opt.zero_grad() (unfixed)
        loss.backward()
        opt.step()
        return loss.item()

    return _with_test(Setup(model, loss_fn, opt, _loader(X, y, 32, True, 9), train_step), Xt, yt)


def _waypoint_data(n, seed):
    g = _g(seed)
    X = torch.randn(n, 12, 8, generator=g)            # 12 headings x 8 visual features
    score = X[:, :, 0] + 0.5 * X[:, :, 1] * X[:, :, 2]
    y = (score > 0.8).float()                         # navigable headings, multi-label
    return X.flatten(1), y


@case("ho-accum-waypoint-heatmap-adam-no-zero-grad", "bug", "grad-accumulation",
      "wz0919/waypoint-predictor#4: 'Is optimizer.zero_grad() intentionally omitted in "
      "training loop?' (https://github.com/wz0919/waypoint-predictor/issues/4)",
      confirm=lambda: _cmp_lower(build_accum_waypoint, 640,
                                 lambda s: F.binary_cross_entropy_with_logits(
                                     s.model(s.test[0]), s.test[1]).item(),
                                 1.5, "held-out BCE"))
def build_accum_waypoint(fixed=False):
    torch.manual_seed(108)
    X, y = _waypoint_data(1024, 11)
    Xt, yt = _waypoint_data(512, 12)
    model = nn.Sequential(nn.Linear(96, 128), nn.ReLU(), nn.Linear(128, 12))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()

    def train_step(xb, yb):
        if fixed:
            opt.zero_grad()
        loss = loss_fn(model(xb), yb)                 # BUG: gradients never cleared (unfixed)
        loss.backward()
        opt.step()
        return loss.item()

    return _with_test(Setup(model, loss_fn, opt, _loader(X, y, 32, True, 11), train_step), Xt, yt)


# =========================================================================== param-not-in-optimizer

class _BagRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 16)
        self.encoder = nn.Sequential(nn.Linear(16, 32), nn.ReLU())
        self.head = nn.Linear(32, 1)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens).mean(1)))


def _bag_data(n, seed):
    g = _g(seed)
    tokens = torch.randint(0, 100, (n, 8), generator=g)
    scores = torch.randn(100, generator=_g(13))
    y = scores[tokens].mean(1, keepdim=True)
    return tokens, y / y.std()


@case("ho-notinopt-param-groups-skip-embedding", "bug", "param-not-in-optimizer",
      "zjunlp/HVPNeT#5: 'Not putting parameters into optimizer but still trainable' (parameter "
      "groups built by module name; some modules' parameters were never appended) "
      "(https://github.com/zjunlp/HVPNeT/issues/5)",
      confirm=lambda: _cmp_lower(build_notinopt_groups, 800,
                                 lambda s: F.mse_loss(s.model(s.test[0]), s.test[1]).item(),
                                 2.0, "held-out MSE"))
def build_notinopt_groups(fixed=False):
    torch.manual_seed(109)
    tokens, y = _bag_data(1536, 14)
    tt, yt = _bag_data(512, 15)
    model = _BagRegressor()
    named = list(model.named_parameters())
    groups = [
        {"params": [p for n, p in named if n.startswith("encoder.") and not n.endswith("bias")],
         "weight_decay": 0.01},
        {"params": [p for n, p in named if n.startswith("encoder.") and n.endswith("bias")],
         "weight_decay": 0.0},
        {"params": [p for n, p in named if n.startswith("head.")], "weight_decay": 0.0},
    ]
    if fixed:
        groups.append({"params": [model.embed.weight], "weight_decay": 0.0})
    # BUG (unfixed): 'embed.weight' matches no group, so the embedding table never moves
    opt = torch.optim.AdamW(groups, lr=3e-3)
    return _with_test(Setup(model, nn.MSELoss(), opt, _loader(tokens, y, 64, True, 14)), tt, yt)


class _CellStack(nn.Module):
    def __init__(self, fixed):
        super().__init__()
        self.inp = nn.Linear(1, 24)
        cells = [nn.LSTMCell(24, 24) for _ in range(2)]
        self.cells = nn.ModuleList(cells) if fixed else cells   # BUG: plain list (unfixed)
        self.out = nn.Linear(24, 1)

    def forward(self, x):                              # x: (batch, time, 1)
        b = x.shape[0]
        states = [(x.new_zeros(b, 24), x.new_zeros(b, 24)) for _ in self.cells]
        for t in range(x.shape[1]):
            h = torch.tanh(self.inp(x[:, t]))
            for i, cell in enumerate(self.cells):
                states[i] = cell(h, states[i])
                h = states[i][0]
        return self.out(h)


def _integrate_data(n, seed):
    x = torch.randint(0, 2, (n, 14, 1), generator=_g(seed)).float() * 2 - 1
    return x, x.sum(1) / math.sqrt(14)


@case("ho-notinopt-lstm-cells-in-python-list", "bug", "param-not-in-optimizer",
      "ikostrikov/pytorch-meta-optimizer#11: 'LSTM weights not optimised' (LSTM cells appended "
      "to a plain Python list are not registered, so the optimizer never sees them) "
      "(https://github.com/ikostrikov/pytorch-meta-optimizer/issues/11)",
      confirm=lambda: _cmp_lower(build_notinopt_cells, 400,
                                 lambda s: F.mse_loss(s.model(s.test[0]), s.test[1]).item(),
                                 2.0, "held-out MSE"))
def build_notinopt_cells(fixed=False):
    torch.manual_seed(110)
    x, y = _integrate_data(1024, 16)
    xt, yt = _integrate_data(512, 17)
    model = _CellStack(fixed)
    return _with_test(Setup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=3e-3),
                            _loader(x, y, 64, True, 16)), xt, yt)


# =========================================================================== no-gradient

class _NodeAttention(nn.Module):
    """Adjacency computed from node features (W_phi, W_theta), then used to mix node values."""

    def __init__(self, fixed):
        super().__init__()
        self.fixed = fixed
        self.phi = nn.Linear(4, 16)
        self.theta = nn.Linear(4, 16)
        self.value = nn.Linear(4, 16)
        self.out = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, x):                              # x: (batch, nodes, 4)
        adj = torch.softmax(self.phi(x) @ self.theta(x).transpose(1, 2) / 4.0, dim=-1)
        if not self.fixed:
            adj = adj.detach()                         # BUG: W_phi / W_theta get no gradient
        h = adj @ self.value(x)
        return self.out(h[:, 0])                       # read out at the query node 0


def _graph_data(n, seed):
    g = _g(seed)
    x = torch.randn(n, 6, 4, generator=g)
    # node 0 asks for the value (feature 1) of the node whose key (feature 0) is largest
    idx = x[:, :, 0].argmax(1)
    y = x[torch.arange(n), idx, 1].unsqueeze(1)
    return x, y


@case("ho-nograd-detached-learned-adjacency", "bug", "no-gradient",
      "queenie88/A-GCN#4: 'Question about gradient flow' (adj is detached from the graph, so "
      "W_phi and W_theta cannot be updated; maintainer: the .detach() should be removed) "
      "(https://github.com/queenie88/A-GCN/issues/4)",
      confirm=lambda: _cmp_lower(build_nograd_adjacency, 800,
                                 lambda s: F.mse_loss(s.model(s.test[0]), s.test[1]).item(),
                                 1.5, "held-out MSE"))
def build_nograd_adjacency(fixed=False):
    torch.manual_seed(111)
    x, y = _graph_data(2048, 18)
    xt, yt = _graph_data(512, 19)
    model = _NodeAttention(fixed)
    return _with_test(Setup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=3e-3),
                            _loader(x, y, 64, True, 18)), xt, yt)


class _LowRankLinear(nn.Module):
    def __init__(self, d_in, d_out, rank, fixed):
        super().__init__()
        self.fixed = fixed
        self.U = nn.Parameter(torch.randn(d_out, rank) / math.sqrt(rank))
        self.V = nn.Parameter(torch.randn(rank, d_in) / math.sqrt(d_in))

    def forward(self, x):
        w = self.U @ self.V
        if not self.fixed:
            w = w.data                                 # BUG: .data cuts the graph to U and V
        return x @ w.t()


@case("ho-nograd-lowrank-weight-via-data", "bug", "no-gradient",
      "rballester/tntorch#3: 'Usage with Pytorch optimizers using nn.Parameter' (factor cores "
      "wrapped as parameters, but the weight built from them was detached from the graph, so "
      "the network did not learn) (https://github.com/rballester/tntorch/issues/3)",
      confirm=lambda: _cmp_lower(build_nograd_lowrank, 600,
                                 lambda s: F.mse_loss(s.model(s.test[0]), s.test[1]).item(),
                                 2.0, "held-out MSE"))
def build_nograd_lowrank(fixed=False):
    torch.manual_seed(112)
    X, y = _reg_data(1024, 16, 20, teacher_seed=21)
    Xt, yt = _reg_data(512, 16, 22, teacher_seed=21)
    model = nn.Sequential(_LowRankLinear(16, 16, 3, fixed), nn.ReLU(), nn.Linear(16, 32),
                          nn.ReLU(), nn.Linear(32, 1))
    return _with_test(Setup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=3e-3),
                            _loader(X, y, 64, True, 20)), Xt, yt)


# ============================================================ softmax-before-cross-entropy

class _DualEncoder(nn.Module):
    def __init__(self, fixed):
        super().__init__()
        self.fixed = fixed
        self.ctx = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 32))
        self.resp = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 32))

    def forward(self, x):                              # x: (batch, 1 + candidates, 16)
        c = self.ctx(x[:, 0])
        r = self.resp(x[:, 1:])
        logits = (c.unsqueeze(1) * r).sum(-1)
        return logits if self.fixed else torch.softmax(logits, dim=1)   # BUG: final softmax


def _dialog_data(n, seed, k=16):
    g = _g(seed)
    M = torch.randn(16, 16, generator=_g(23)) / 4.0
    ctx = torch.randn(n, 16, generator=g)
    cands = torch.randn(n, k, 16, generator=g)
    y = torch.randint(0, k, (n,), generator=g)
    true_resp = torch.tanh(ctx @ M) + torch.randn(n, 16, generator=g)
    cands[torch.arange(n), y] = true_resp
    return torch.cat([ctx.unsqueeze(1), cands], 1), y


@case("ho-softmax-dual-encoder-final-layer", "bug", "softmax-before-cross-entropy",
      "IBM/dstc-noesis#18: 'No need to use nn.Softmax layer when using nn.CrossEntropyLoss()' "
      "(dual encoder response selection with a softmax final layer and CrossEntropyLoss) "
      "(https://github.com/IBM/dstc-noesis/issues/18)",
      confirm=lambda: _cmp_acc_own(build_softmax_dual, 200, 0.15))
def build_softmax_dual(fixed=False):
    torch.manual_seed(113)
    X, y = _dialog_data(1024, 24)
    Xt, yt = _dialog_data(512, 25)
    model = _DualEncoder(fixed)
    return _with_test(Setup(model, nn.CrossEntropyLoss(),
                            torch.optim.SGD(model.parameters(), lr=0.05),
                            _loader(X, y, 64, True, 24)), Xt, yt)


def _ce(out, y):
    return F.cross_entropy(out, y)


@case("ho-softmax-mlp-functional-cross-entropy", "bug", "softmax-before-cross-entropy",
      "danielkelshaw/ConcreteDropout#11: 'is softmax required?' (the MNIST example passes logits "
      "through softmax in the output layer and then uses F.cross_entropy) "
      "(https://github.com/danielkelshaw/ConcreteDropout/issues/11)",
      confirm=lambda: _cmp_acc_own(build_softmax_mlp, 300, 0.1))
def build_softmax_mlp(fixed=False):
    torch.manual_seed(114)
    X, y = _images(1024, 1, 8, 20, 26, noise=1.5)
    Xt, yt = _images(512, 1, 8, 20, 27, noise=1.5)
    layers = [nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 20)]
    if not fixed:
        layers.append(nn.Softmax(dim=1))               # BUG: probabilities into F.cross_entropy
    model = nn.Sequential(*layers)
    return _with_test(Setup(model, _ce, torch.optim.SGD(model.parameters(), lr=0.05),
                            _loader(X, y, 64, True, 26)), Xt, yt)


# =========================================================================== non-finite

def _nonfinite_confirm(build, steps):
    torch.manual_seed(0)
    b = build()
    lb = _train(b, steps)
    torch.manual_seed(0)
    f = build(fixed=True)
    lf = _train(f, steps)
    holds = (not _fin(lb[-1])) and _fin(lf[-1]) and lf[-1] < 0.5 * lf[0]
    return holds, (f"final train loss: broken {_fmt(lb[-1])} vs fixed {_fmt(lf[0])} -> "
                   f"{_fmt(lf[-1])} after {steps} steps "
                   f"(need broken non-finite, fixed < 0.5x start)")


def _sensor_series(n, seed):
    g = _g(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    t = torch.arange(32).float()
    freq = (y.float() + 1.0).view(n, 1, 1) * 0.35
    phase = torch.rand(n, 3, 1, generator=g) * 6.28
    X = torch.sin(freq * t.view(1, 1, 32) + phase) + 0.3 * torch.randn(n, 3, 32, generator=g)
    return X, y


@case("ho-nonfinite-nan-in-sensor-series-cnn1d", "bug", "non-finite",
      "timeseriesAI/tsai#506: 'Why are the output values all nan on this dataset' (maintainer: "
      "most often X contains nan values; replace them, e.g. with Nan2Value) "
      "(https://github.com/timeseriesAI/tsai/issues/506)",
      confirm=lambda: _nonfinite_confirm(build_nonfinite_series, 160))
def build_nonfinite_series(fixed=False):
    torch.manual_seed(115)
    X, y = _sensor_series(512, 28)
    drop = torch.rand(X.shape, generator=_g(29)) < 0.02
    X = X.masked_fill(drop, float("nan"))              # dropped sensor readings
    if fixed:
        X = torch.nan_to_num(X, nan=0.0)
    model = nn.Sequential(nn.Conv1d(3, 16, 5, padding=2),
                          nn.ReLU(), nn.Conv1d(16, 16, 5, padding=2),
                          nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(16, 3))
    return Setup(model, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=3e-3),
                 _loader(X, y, 64, True, 28))


@case("ho-nonfinite-zero-std-column-standardised", "bug", "non-finite",
      "zhouhaoyi/Informer2020#402: 'Test Loss: nan, mse:nan, mae:nan' (own dataset; a reply: "
      "'my dataset had many 0s and the loss was nan'; advice: change the normalisation or drop "
      "that column) (https://github.com/zhouhaoyi/Informer2020/issues/402)",
      confirm=lambda: _nonfinite_confirm(build_nonfinite_zero_std, 300))
def build_nonfinite_zero_std(fixed=False):
    torch.manual_seed(116)
    raw, y = _reg_data(1024, 6, 30, teacher_seed=31)
    raw = raw * torch.tensor([3.0, 10.0, 0.5, 2.0, 1.0, 7.0]) + 5.0
    raw[:, 4] = 0.0                                    # a sensor that never fired: all zeros
    mu, sd = raw.mean(0), raw.std(0)
    if fixed:
        sd = sd.clamp_min(1e-6)
    X = (raw - mu) / sd                                # BUG (unfixed): 0 / 0 -> NaN column
    model = nn.Sequential(nn.Linear(6, 64), nn.ReLU(), nn.Linear(64, 1))
    return Setup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-3), (X, y))


# =========================================================================== unshuffled-batches

def _sorted(X, y):
    order = torch.argsort(y, stable=True)
    return X[order], y[order]


@case("ho-unshuffled-fashion-style-sorted-by-label-cnn", "bug", "unshuffled-batches",
      "zalandoresearch/fashion-mnist#5: 'shuffling the dataset' (the files were sorted by "
      "label; 'if people forget to shuffle the data ... learning algorithms may fail especially "
      "when using mini-batch') (https://github.com/zalandoresearch/fashion-mnist/pull/5)",
      confirm=lambda: _cmp_acc_own(build_unshuffled_sorted_cnn, 256, 0.25))
def build_unshuffled_sorted_cnn(fixed=False):
    torch.manual_seed(117)
    X, y = _sorted(*_images(1024, 1, 8, 10, 32, noise=0.8))
    Xt, yt = _images(512, 1, 8, 10, 33, noise=0.8)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(8 * 16, 10))
    loader = _loader(X, y, 64, shuffle=fixed, seed=32)  # BUG (unfixed): shuffle=False
    return _with_test(Setup(model, nn.CrossEntropyLoss(),
                            torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9), loader),
                      Xt, yt)


def _mixture(n, seed, k=4, d=20, spread=0.6):
    g = _g(seed)
    y = torch.randint(0, k, (n,), generator=g)
    means = torch.randn(k, d, generator=_g(37)) * spread
    return means[y] + torch.randn(n, d, generator=g), y


@case("ho-unshuffled-concatenated-per-class-sources", "bug", "unshuffled-batches",
      "ultralytics/yolov5#2582: 'shuffle index' (outside DDP no shuffling: training data "
      "configured as a list of paths whose images are different classes or sources come in "
      "path order) (https://github.com/ultralytics/yolov5/issues/2582)",
      confirm=lambda: _cmp_acc_own(build_unshuffled_concat, 320, 0.25))
def build_unshuffled_concat(fixed=False):
    torch.manual_seed(118)
    X, y = _mixture(1280, 34)
    Xt, yt = _mixture(512, 36)
    parts = [TensorDataset(X[y == c], y[y == c]) for c in range(4)]   # one folder per class
    ds = ConcatDataset(parts)
    loader = DataLoader(ds, batch_size=32, shuffle=fixed,             # BUG (unfixed): no shuffle
                        generator=_g(34) if fixed else None)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 4))
    return _with_test(Setup(model, nn.CrossEntropyLoss(),
                            torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), loader),
                      Xt, yt)


# =========================================================================== dead-relu

def _dead_fraction(model, X, layer_idx):
    """Fraction of units of ReLU layer ``layer_idx`` (index into the Sequential) never active."""
    with torch.no_grad():
        h = model[:layer_idx + 1](X)
    return (h.flatten(1) <= 0).all(0).float().mean().item()


def _dead_confirm(build, steps, test_loss, X_probe, layer_idx, ratio):
    torch.manual_seed(0)
    b = build()
    dead = _dead_fraction(b.model, X_probe, layer_idx)
    _train(b, steps)
    mb = test_loss(b)
    torch.manual_seed(0)
    f = build(fixed=True)
    dead_f = _dead_fraction(f.model, X_probe, layer_idx)
    _train(f, steps)
    mf = test_loss(f)
    holds = dead >= 0.8 and dead_f <= 0.2 and mb >= ratio * mf
    return holds, (f"dead units at hand-over: broken {dead:.2f} vs fixed {dead_f:.2f}; after "
                   f"{steps} steps held-out loss broken {_fmt(mb)} vs fixed {_fmt(mf)} "
                   f"(need dead >= 0.8, loss ratio >= {ratio})")


class _BagScorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 16)
        self.mlp = nn.Sequential(nn.Linear(16, 48), nn.ReLU(), nn.Linear(48, 1))

    def forward(self, tokens):
        return self.mlp(self.emb(tokens).mean(1))


def _dead_bag(model, tokens):
    with torch.no_grad():
        h = model.mlp[:2](model.emb(tokens).mean(1))
    return (h <= 0).all(0).float().mean().item()


def _dead_bag_confirm():
    steps = 600
    torch.manual_seed(0)
    b = build_dead_text_scorer()
    dead = _dead_bag(b.model, b.test[0])
    _train(b, steps)
    mb = F.mse_loss(b.model(b.test[0]), b.test[1]).item()
    torch.manual_seed(0)
    f = build_dead_text_scorer(fixed=True)
    dead_f = _dead_bag(f.model, f.test[0])
    _train(f, steps)
    mf = F.mse_loss(f.model(f.test[0]), f.test[1]).item()
    holds = dead >= 0.8 and dead_f <= 0.2 and mb >= 2.0 * mf
    return holds, (f"dead hidden units at hand-over: broken {dead:.2f} vs fixed {dead_f:.2f}; "
                   f"after {steps} steps held-out MSE broken {_fmt(mb)} vs fixed {_fmt(mf)} "
                   f"(need dead >= 0.8, ratio >= 2)")


@case("ho-deadrelu-text-scorer-after-high-lr-run", "bug", "dead-relu",
      "dangitstam/topic-rnn#9: 'fix typos, smaller learning rate to prevent dying ReLU' "
      "(a too-high learning rate left ReLU units dead in a text model) "
      "(https://github.com/dangitstam/topic-rnn/pull/9)",
      confirm=_dead_bag_confirm)
def build_dead_text_scorer(fixed=False):
    torch.manual_seed(119)
    tokens, y = _bag_data(1024, 50)
    tt, yt = _bag_data(512, 51)
    y, yt = y + 3.0, yt + 3.0                          # review scores around 3
    model = _BagScorer()
    if not fixed:
        # the checkpoint comes from a first run at SGD lr=0.5, momentum 0.9 (10 steps)
        warm = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        for _ in range(10):
            warm.zero_grad()
            F.mse_loss(model(tokens), y).backward()
            warm.step()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return _with_test(Setup(model, nn.MSELoss(), opt, _loader(tokens, y, 64, True, 50)), tt, yt)


@case("ho-deadrelu-regression-mlp-after-sgd-lr-0.6", "bug", "dead-relu",
      "keras-team/keras#7057: 'Feature proposal: detect dead ReLUs' ('too high learning rate "
      "can eventually push neuron's weights into the never-active zone') "
      "(https://github.com/keras-team/keras/issues/7057)",
      confirm=lambda: _dead_confirm(build_dead_regression, 400,
                                    lambda s: F.mse_loss(s.model(s.test[0]), s.test[1]).item(),
                                    _reg_data(1024, 10, 41, teacher_seed=42)[0], 3, 2.0))
def build_dead_regression(fixed=False):
    torch.manual_seed(120)
    X, y = _reg_data(1024, 10, 41, teacher_seed=42)
    Xt, yt = _reg_data(512, 10, 43, teacher_seed=42)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                          nn.Linear(32, 1))
    if not fixed:
        # an earlier run at SGD lr=0.6, momentum 0.9; the checkpoint it left is handed over
        warm = torch.optim.SGD(model.parameters(), lr=0.6, momentum=0.9)
        for _ in range(100):
            warm.zero_grad()
            F.mse_loss(model(X), y).backward()
            warm.step()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return _with_test(Setup(model, nn.MSELoss(), opt, _loader(X, y, 64, True, 41)), Xt, yt)


# =========================================================================== cannot-overfit-batch

class _NextStepLSTM(nn.Module):
    def __init__(self, fixed):
        super().__init__()
        self.fixed = fixed
        self.cell = nn.LSTMCell(1, 32)
        self.lin = nn.Linear(32, 1)

    def forward(self, x):                              # x: (batch, time, 1)
        h = x.new_zeros(x.shape[0], 32)
        c = x.new_zeros(x.shape[0], 32)
        outs = []
        for t in range(x.shape[1]):
            h, c = self.cell(x[:, t], (h, c))
            o = self.lin(h)
            outs.append(o if self.fixed else torch.tanh(o))   # BUG: output squashed to (-1, 1)
        return torch.stack(outs, 1)


def _waves(n, seed):
    g = _g(seed)
    t = torch.arange(17).float()
    amp = 1.5 + torch.rand(n, 1, generator=g) * 1.5
    phase = torch.rand(n, 1, generator=g) * 6.28
    w = amp * torch.sin(0.5 * t + phase)
    return w[:, :16].unsqueeze(-1), w[:, 1:].unsqueeze(-1)


@case("ho-overfit-lstm-forecaster-tanh-output", "bug", "cannot-overfit-batch",
      "pytorch/examples#250: 'Add linear layer to time series prediction' (the network's final "
      "output was modulated with a tanh nonlinearity; fixed by a final linear layer) "
      "(https://github.com/pytorch/examples/pull/250)",
      confirm=lambda: _cmp_lower(build_overfit_lstm_tanh, 300,
                                 lambda s: F.mse_loss(s.model(_waves(256, 44)[0]),
                                                      _waves(256, 44)[1]).item(),
                                 5.0, "train MSE"))
def build_overfit_lstm_tanh(fixed=False):
    torch.manual_seed(121)
    x, y = _waves(256, 44)                             # amplitudes 1.5 .. 3
    model = _NextStepLSTM(fixed)
    return Setup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-2), (x, y))


class _PathLengthMLP(nn.Module):
    def __init__(self, fixed):
        super().__init__()
        self.fixed = fixed
        self.net = nn.Sequential(nn.Linear(10, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                                 nn.Linear(64, 1))

    def forward(self, x):
        z = self.net(x)
        return F.softplus(z) if self.fixed else F.softplus(torch.tanh(z))   # BUG: <= 1.31


def _path_length_data(n, seed):
    X, y = _reg_data(n, 10, seed, teacher_seed=45)
    return X, 4.5 + 1.5 * y                            # average path lengths, mostly 1.5 .. 8


@case("ho-overfit-softplus-of-tanh-output", "bug", "cannot-overfit-batch",
      "dtak/tree-regularization-public#2: 'The activation tanh seems can't fit the region of "
      "average path length' (tanh then softplus output cannot exceed ~1, while the average path "
      "length targets can) (https://github.com/dtak/tree-regularization-public/issues/2)",
      confirm=lambda: _cmp_lower(build_overfit_softplus_tanh, 500,
                                 lambda s: F.mse_loss(s.model(_path_length_data(512, 46)[0]),
                                                      _path_length_data(512, 46)[1]).item(),
                                 5.0, "train MSE"))
def build_overfit_softplus_tanh(fixed=False):
    torch.manual_seed(122)
    X, y = _path_length_data(512, 46)
    model = _PathLengthMLP(fixed)
    return Setup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=3e-3), (X, y))


# =========================================================================== slow-progress

def _slow_confirm(build, steps):
    torch.manual_seed(0)
    b = build()
    X, y = _all(b.data)
    start = _eval_loss(b.model, b.loss_fn, X, y)
    _train(b, steps)
    eb = _eval_loss(b.model, b.loss_fn, X, y)
    torch.manual_seed(0)
    f = build(fixed=True)
    _train(f, steps)
    ef = _eval_loss(f.model, f.loss_fn, X, y)
    holds = eb >= 0.8 * start and ef <= 0.3 * start
    return holds, (f"start {_fmt(start)}; given settings -> {_fmt(eb)}, fixed -> {_fmt(ef)} after "
                   f"{steps} steps (need given >= 0.8 x start, fixed <= 0.3 x start)")


@case("ho-slow-critic-rmsprop-lr-1e-6", "bug", "slow-progress",
      "isp1tze/MAProj#3: 'Learning rates are too small' ('The learning rate for actor and critic "
      "is too small, it takes a very long time to converge. Maybe change it as 0.01') "
      "(https://github.com/isp1tze/MAProj/issues/3)",
      confirm=lambda: _slow_confirm(build_slow_critic, 400))
def build_slow_critic(fixed=False):
    torch.manual_seed(123)
    X, y = _reg_data(1024, 16, 47, teacher_seed=48)
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 1))
    lr = 1e-3 if fixed else 1e-6                       # BUG: far too small
    return Setup(model, nn.MSELoss(), torch.optim.RMSprop(model.parameters(), lr=lr), (X, y))


def _sr_patches(n, seed):
    """Blurred low-resolution patches (upsampled back to 16x16) and their sharp targets."""
    g = _g(seed)
    sharp = F.avg_pool2d(torch.rand(n, 1, 18, 18, generator=g), 3, 1)
    low = F.interpolate(F.avg_pool2d(sharp, 2), scale_factor=2, mode="bilinear",
                        align_corners=False)
    return low, sharp


@case("ho-slow-srcnn-sgd-lr-1e-5", "bug", "slow-progress",
      "tegg89/SRCNN-Tensorflow#24: 'Loss drop little' (SRCNN loss improves by a tiny fraction; "
      "answers: 'Use bigger learning rate') (https://github.com/tegg89/SRCNN-Tensorflow/issues/24)",
      confirm=lambda: _slow_confirm(build_slow_srcnn, 300))
def build_slow_srcnn(fixed=False):
    torch.manual_seed(124)
    low, sharp = _sr_patches(512, 49)
    model = nn.Sequential(nn.Conv2d(1, 16, 9, padding=4), nn.ReLU(), nn.Conv2d(16, 8, 1), nn.ReLU(),
                          nn.Conv2d(8, 1, 5, padding=2))
    if fixed:
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=1e-5)   # BUG: far too small, no momentum
    return Setup(model, nn.MSELoss(), opt, _loader(low, sharp, 32, True, 49))


# =========================================================================== lr-schedule-too-fast

def _per_epoch_counter(n_batches):
    state = {"calls": 0}

    def end_of_epoch() -> bool:
        state["calls"] += 1
        return state["calls"] % n_batches == 0
    return end_of_epoch


class _TinySRGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(16, 4, 3, padding=1))
        self.up = nn.PixelShuffle(2)

    def forward(self, x):
        return self.up(self.body(x))


def _sr_pairs(n, seed):
    g = _g(seed)
    hr = F.avg_pool2d(torch.rand(n, 1, 18, 18, generator=g), 3, 1)
    return F.avg_pool2d(hr, 2), hr


@case("ho-schedule-steplr-half-epochs-stepped-per-batch", "bug", "lr-schedule-too-fast",
      "Lornatang/SRGAN-PyTorch#1: 'Learning rate scheduler is working incorrect' (StepLR with "
      "step_size=epochs // 2, gamma=0.1 called at each training step, so the learning rate is "
      "quickly zero; the model does not train) "
      "(https://github.com/Lornatang/SRGAN-PyTorch/issues/1)",
      confirm=lambda: _cmp_lower(build_schedule_steplr, 320,
                                 lambda s: F.mse_loss(s.model(_sr_pairs(256, 53)[0]),
                                                      _sr_pairs(256, 53)[1]).item(),
                                 2.0, "held-out MSE"))
def build_schedule_steplr(fixed=False):
    torch.manual_seed(125)
    lr_img, hr_img = _sr_pairs(512, 52)
    loader = _loader(lr_img, hr_img, 32, True, 52)    # 16 batches per epoch
    epochs = 20
    model = _TinySRGenerator()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=epochs // 2, gamma=0.1)
    loss_fn = nn.MSELoss()
    end_of_epoch = _per_epoch_counter(len(loader))

    def train_step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        if not fixed or end_of_epoch():
            sched.step()                               # BUG (unfixed): every batch
        return loss.item()

    return Setup(model, loss_fn, opt, loader, train_step)


@case("ho-schedule-plateau-stepped-on-every-batch", "bug", "lr-schedule-too-fast",
      "abhishekkrthakur/wtfml#7: 'Scheduler call' (the engine calls scheduler.step() every "
      "batch when acc_steps = 1, where implementations usually step after validation; the "
      "reporter asks how ReduceLROnPlateau fits) "
      "(https://github.com/abhishekkrthakur/wtfml/issues/7)",
      confirm=lambda: _cmp_acc_own(build_schedule_plateau_per_batch, 480, 0.1))
def build_schedule_plateau_per_batch(fixed=False):
    torch.manual_seed(126)
    X, y = _mixture(1024, 54, k=6, d=24, spread=0.35)
    Xt, yt = _mixture(512, 55, k=6, d=24, spread=0.35)
    loader = _loader(X, y, 32, True, 54)               # 32 batches per epoch
    model = nn.Sequential(nn.Linear(24, 64), nn.ReLU(), nn.Linear(64, 6))
    opt = torch.optim.SGD(model.parameters(), lr=0.005, momentum=0.9)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.1, patience=2)
    loss_fn = nn.CrossEntropyLoss()
    end_of_epoch = _per_epoch_counter(len(loader))
    running = []

    def train_step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        running.append(loss.item())
        if not fixed:
            sched.step(loss.item())                    # BUG: plateau test on every batch loss
        elif end_of_epoch():
            sched.step(sum(running) / len(running))
            running.clear()
        return loss.item()

    return _with_test(Setup(model, loss_fn, opt, loader, train_step), Xt, yt)


# =========================================================================== vanishing-gradient

def _grad_ratio_text(model, loss_fn, X, y):
    r = _rel_grads(model, loss_fn, X, y)
    return r[0] / r[-1], f"relative grad first/last layer {r[0] / r[-1]:.1e}"


def _vanish_confirm(build, steps, margin, below):
    torch.manual_seed(0)
    b = build()
    ratio, txt = _grad_ratio_text(b.model, b.loss_fn, *_all(b.data))
    holds, acc_txt = _cmp_acc_own(build, steps, margin)
    return holds and ratio < below, f"{txt} at hand-over (need < {below}); {acc_txt}"


def _sigmoid_stack(fixed, depth=7, width=64, d_in=20, k=3):
    layers, d = [], d_in
    for _ in range(depth):
        lin = nn.Linear(d, width)
        if fixed:
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            nn.init.zeros_(lin.bias)
        layers += [lin, nn.ReLU() if fixed else nn.Sigmoid()]
        d = width
    layers.append(nn.Linear(d, k))
    return nn.Sequential(*layers)


@case("ho-vanishing-seven-sigmoid-hidden-layers", "bug", "vanishing-gradient",
      "microsoft/CNTK#476: 'Training invalidation when add the nubmer of layers' (a sigmoid DNN "
      "trained with 6 hidden layers, but with 7 the training error did not descend at all) "
      "(https://github.com/microsoft/CNTK/issues/476)",
      confirm=lambda: _vanish_confirm(build_vanishing_sigmoid7, 400, 0.2, 1e-2))
def build_vanishing_sigmoid7(fixed=False):
    torch.manual_seed(127)
    X, y = _cls_data(1024, 20, 3, 56, teacher_seed=57)
    Xt, yt = _cls_data(512, 20, 3, 58, teacher_seed=57)
    model = _sigmoid_stack(fixed)                      # BUG (unfixed): 7 sigmoid layers
    return _with_test(Setup(model, nn.CrossEntropyLoss(),
                            torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                            _loader(X, y, 64, True, 56)), Xt, yt)


def _sigmoid_autoencoder(fixed):
    dims = [32, 64, 48, 32, 16, 32, 48, 64, 32]
    layers = []
    for a, b in zip(dims[:-1], dims[1:], strict=True):
        lin = nn.Linear(a, b)
        if fixed:
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            nn.init.zeros_(lin.bias)
        layers += [lin, nn.ReLU() if fixed else nn.Sigmoid()]   # BUG (unfixed): sigmoid everywhere
    return nn.Sequential(*layers[:-1])


def _ae_data(n, seed):
    X, _ = _reg_data(n, 8, seed)
    return torch.tanh(X @ torch.randn(8, 32, generator=_g(71)) / 2)


def _vanish_ae_confirm():
    steps = 600
    torch.manual_seed(0)
    b = build_vanishing_sigmoid_autoencoder()
    D = b.data[0]
    r = _rel_grads(b.model, b.loss_fn, D, D)
    holds, txt = _cmp_lower(build_vanishing_sigmoid_autoencoder, steps,
                            lambda s: F.mse_loss(s.model(_ae_data(512, 73)),
                                                 _ae_data(512, 73)).item(),
                            2.0, "held-out reconstruction MSE")
    return holds and r[0] / r[-1] < 1e-2, (f"relative grad first/last layer {r[0] / r[-1]:.1e} at "
                                           f"hand-over (need < 1e-2); {txt}")


@case("ho-vanishing-deep-sigmoid-autoencoder", "bug", "vanishing-gradient",
      "common pattern, e.g. stacked autoencoders from pre-ReLU tutorials (sigmoid after every "
      "layer, eight layers deep) trained end to end with SGD",
      confirm=_vanish_ae_confirm)
def build_vanishing_sigmoid_autoencoder(fixed=False):
    torch.manual_seed(128)
    D = _ae_data(1024, 72)
    model = _sigmoid_autoencoder(fixed)
    return Setup(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                 (D, D))


# =========================================================================== saturated-activation

class _HandLSTM(nn.Module):
    """A hand-written LSTM cell: W maps [x, h] to the four gates."""

    def __init__(self, d_in, hidden, fixed):
        super().__init__()
        self.hidden = hidden
        scale = 1.0 / math.sqrt(d_in + hidden) if fixed else 1.0   # BUG: randn weights, std 1
        self.W = nn.Parameter(torch.randn(d_in + hidden, 4 * hidden) * scale)
        self.b = nn.Parameter(torch.zeros(4 * hidden))
        self.out = nn.Linear(hidden, 2)

    def run(self, x):                                  # x: (batch, time, d_in)
        h = x.new_zeros(x.shape[0], self.hidden)
        c = x.new_zeros(x.shape[0], self.hidden)
        zs = []
        for t in range(x.shape[1]):
            z = torch.cat([x[:, t], h], 1) @ self.W + self.b
            zs.append(z)
            i, f, g, o = z.chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        return self.out(h), torch.stack(zs, 1)

    def pre(self, x):
        return self.run(x)[1]

    def forward(self, x):
        return self.run(x)[0]


def _seq_sign_data(n, seed):
    g = _g(seed)
    x = torch.randn(n, 10, 16, generator=g)
    y = (x[:, :, 0].sum(1) + x[:, -1, 1] > 0).long()
    return x, y


@case("ho-saturated-handwritten-lstm-randn-weights", "bug", "saturated-activation",
      "mukul-rathi/deep-learning-tutorials#2: 'LSTM Sigmoid and Tanh gradients saturated' "
      "('Look at initial weights initialisation') "
      "(https://github.com/mukul-rathi/deep-learning-tutorials/issues/2)",
      confirm=lambda: _saturated_confirm(build_saturated_hand_lstm, 300, 0.1))
def build_saturated_hand_lstm(fixed=False):
    torch.manual_seed(129)
    x, y = _seq_sign_data(1024, 61)
    xt, yt = _seq_sign_data(512, 62)
    model = _HandLSTM(16, 64, fixed)
    return _with_test(Setup(model, nn.CrossEntropyLoss(),
                            torch.optim.Adam(model.parameters(), lr=3e-3),
                            _loader(x, y, 64, True, 61)), xt, yt)


class _WideSigmoidNet(nn.Module):
    def __init__(self, fixed):
        super().__init__()
        self.l1 = nn.Linear(16, 512)
        self.l2 = nn.Linear(512, 32)
        if not fixed:
            nn.init.uniform_(self.l2.weight, 0.0, 0.2)    # BUG: small but all positive
        self.l3 = nn.Linear(32, 1)

    def pre(self, x):
        return self.l2(F.relu(self.l1(x)))

    def forward(self, x):
        return self.l3(torch.sigmoid(self.pre(x)))


def _saturated_confirm(build, steps, margin):
    torch.manual_seed(0)
    b = build()
    with torch.no_grad():
        z = b.model.pre(b.test[0])
    frac = (z.abs() > 3.0).float().mean().item()
    if isinstance(b.model, _HandLSTM):
        holds, txt = _cmp_acc_own(build, steps, margin)
    else:
        holds, txt = _cmp_lower(build, steps,
                                lambda s: F.mse_loss(s.model(s.test[0]), s.test[1]).item(),
                                2.0, "held-out MSE")
    return holds and frac >= 0.5, (f"pre-activations with |z| > 3 at hand-over: {frac:.2f} "
                                   f"(need >= 0.5); {txt}")


@case("ho-saturated-sigmoid-after-wide-positive-sum", "bug", "saturated-activation",
      "ArtemOnigiri/SimpleNN#4: '[Вопрос] Сигмоидная функция при больших значениях' "
      "(with many "
      "neurons the weighted sum is large however small the weights, the sigmoid gives exactly "
      "1.0 and its derivative 0, so nothing trains) "
      "(https://github.com/ArtemOnigiri/SimpleNN/issues/4)",
      confirm=lambda: _saturated_confirm(build_saturated_wide_sigmoid, 400, 0.0))
def build_saturated_wide_sigmoid(fixed=False):
    torch.manual_seed(130)
    X, y = _reg_data(1024, 16, 63, teacher_seed=64)
    Xt, yt = _reg_data(512, 16, 65, teacher_seed=64)
    model = _WideSigmoidNet(fixed)
    return _with_test(Setup(model, nn.MSELoss(),
                            torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
                            _loader(X, y, 64, True, 63)), Xt, yt)


# =========================================================================== batch-mixing

class _BiLSTMEncoder(nn.Module):
    def __init__(self, fixed):
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.lstm = nn.LSTM(16, 16, bidirectional=True, batch_first=fixed)   # BUG: batch_first
        self.cls = nn.Linear(32, 2)

    def forward(self, tokens):                         # tokens: (batch, seq)
        out, _ = self.lstm(self.embed(tokens))         # fed (batch, seq, emb) either way
        return self.cls(out.mean(1))


def _token_seq_data(n, seed):
    g = _g(seed)
    tokens = torch.randint(0, 50, (n, 8), generator=g)
    y = (tokens[:, 0] < tokens[:, -1]).long()          # depends on word order
    return tokens, y


@case("ho-batchmix-bilstm-encoder-batch-first-false", "bug", "batch-mixing",
      "salesforce/cove#10: 'batch_first should be True when initializing the LSTM?' (the LSTM is "
      "built with batch_first=False but inputs and outputs are handled batch-first) "
      "(https://github.com/salesforce/cove/issues/10)",
      confirm=lambda: _cmp_acc_own(build_batchmix_bilstm, 600, 0.15))
def build_batchmix_bilstm(fixed=False):
    torch.manual_seed(131)
    tokens, y = _token_seq_data(1024, 74)
    tt, yt = _token_seq_data(512, 75)
    model = _BiLSTMEncoder(fixed)
    return _with_test(Setup(model, nn.CrossEntropyLoss(),
                            torch.optim.Adam(model.parameters(), lr=3e-3),
                            _loader(tokens, y, 32, True, 74)), tt, yt)


class _TinyVQA(nn.Module):
    def __init__(self, fixed):
        super().__init__()
        self.embed = nn.Embedding(20, 16)
        self.gru = nn.GRU(16, 32, batch_first=fixed)   # BUG (unfixed): default seq-first
        self.img = nn.Linear(8, 32)
        self.cls = nn.Sequential(nn.ReLU(), nn.Linear(32, 4))

    def forward(self, x):                              # x: (batch, 8 image feats + 6 tokens)
        img, q = x[:, :8], x[:, 8:].long()
        out, _ = self.gru(self.embed(q))               # fed (batch, seq, emb)
        return self.cls(out[:, -1] * torch.tanh(self.img(img)))


def _vqa_data(n, seed):
    g = _g(seed)
    img = torch.randn(n, 8, generator=g)
    q = torch.randint(4, 20, (n, 6), generator=g)
    qtype = torch.randint(0, 4, (n,), generator=g)
    q[:, 0] = qtype                                    # question word decides what is asked
    y = (img[:, :4].argmax(1) + qtype) % 4
    return torch.cat([img, q.float()], 1), y


@case("ho-batchmix-vqa-gru-question-encoder-seq-first", "bug", "batch-mixing",
      "Cadene/vqa.pytorch#40: 'Batch first in LSTM' (inputs of shape (batch, seq_len, input_size) "
      "fed to a recurrent question encoder without batch_first=True) "
      "(https://github.com/Cadene/vqa.pytorch/issues/40)",
      confirm=lambda: _cmp_acc_own(build_batchmix_vqa, 600, 0.15))
def build_batchmix_vqa(fixed=False):
    torch.manual_seed(132)
    X, y = _vqa_data(2048, 76)
    Xt, yt = _vqa_data(512, 77)
    model = _TinyVQA(fixed)
    return _with_test(Setup(model, nn.CrossEntropyLoss(),
                            torch.optim.Adam(model.parameters(), lr=3e-3),
                            _loader(X, y, 64, True, 76)), Xt, yt)


# =========================================================================== labels-not-learnable

def _labels_confirm(build, steps, chance_margin):
    torch.manual_seed(0)
    b = build()
    _train(b, steps)
    ab = _acc(b.model, *b.test)
    base = torch.bincount(b.test[1]).max().item() / len(b.test[1])
    torch.manual_seed(0)
    f = build(fixed=True)
    _train(f, steps)
    af = _acc(f.model, *f.test)
    holds = ab <= base + chance_margin and af >= base + 0.3
    return holds, (f"after {steps} steps held-out acc: broken {ab:.3f} vs majority baseline "
                   f"{base:.3f} (need <= baseline + {chance_margin}); fixed {af:.3f} (need >= "
                   f"baseline + 0.3)")


@case("ho-labels-listdir-order-vs-csv-order", "bug", "labels-not-learnable",
      "ZhengyuZhao/Targeted-Transfer#4: 'The list of images may not match with list of labels.' "
      "(image ids from os.listdir and labels from images.csv may be in different orders) "
      "(https://github.com/ZhengyuZhao/Targeted-Transfer/issues/4)",
      confirm=lambda: _labels_confirm(build_labels_listdir, 400, 0.08))
def build_labels_listdir(fixed=False):
    torch.manual_seed(133)
    X, y = _images(1536, 3, 16, 4, 78)
    if not fixed:
        listdir_order = torch.randperm(len(y), generator=_g(79))
        X = X[listdir_order]                           # BUG: images in directory order,
        # labels still in CSV order
    Xtr, ytr, Xt, yt = X[:1024], y[:1024], X[1024:], y[1024:]
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(16, 4))
    return _with_test(Setup(model, nn.CrossEntropyLoss(),
                            torch.optim.Adam(model.parameters(), lr=3e-3),
                            _loader(Xtr, ytr, 64, True, 78)), Xt, yt)


@case("ho-labels-train-labels-paired-with-test-inputs", "bug", "labels-not-learnable",
      "FluxML/fluxml.github.io#119: 'Minor error with 60 minute blitz tutorial' (the training "
      "labels were applied to the test data, which gave random accuracy) "
      "(https://github.com/FluxML/fluxml.github.io/pull/119)",
      confirm=lambda: _labels_confirm(build_labels_wrong_split, 400, 0.08))
def build_labels_wrong_split(fixed=False):
    torch.manual_seed(134)
    X_train, y_train = _mixture(1024, 80, k=3, d=12, spread=0.8)
    X_test, y_test = _mixture(1024, 81, k=3, d=12, spread=0.8)
    X, y = (X_test, y_test) if fixed else (X_test, y_train)   # BUG: labels from the other split
    Xtr, ytr, Xt, yt = X[:768], y[:768], X[768:], y[768:]
    model = nn.Sequential(nn.Linear(12, 64), nn.ReLU(), nn.Linear(64, 3))
    return _with_test(Setup(model, nn.CrossEntropyLoss(),
                            torch.optim.Adam(model.parameters(), lr=3e-3),
                            _loader(Xtr, ytr, 64, True, 80)), Xt, yt)


# =========================================================================== healthy

class _ResBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.c1 = nn.Conv2d(ch, ch, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(ch)
        self.c2 = nn.Conv2d(ch, ch, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(ch)

    def forward(self, x):
        return F.relu(x + self.b2(self.c2(F.relu(self.b1(self.c1(x))))))


@case("ho-healthy-small-resnet-batchnorm", "healthy", None,
      "common pattern, e.g. CIFAR-style ResNet tutorials scaled down (conv stem, two residual "
      "blocks with BatchNorm, SGD momentum 0.9, shuffled DataLoader)",
      confirm=lambda: _healthy(build_healthy_resnet, 320, 0.3, lambda: _images(512, 3, 16, 4, 83),
                               0.9))
def build_healthy_resnet(fixed=False):
    torch.manual_seed(201)
    X, y = _images(1024, 3, 16, 4, 82)
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                          _ResBlock(16), nn.MaxPool2d(2), _ResBlock(16),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 4))
    return Setup(model, nn.CrossEntropyLoss(),
                 torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4),
                 _loader(X, y, 64, True, 82))


class _GRULM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(16, 16)
        self.gru = nn.GRU(16, 64, batch_first=True)
        self.out = nn.Linear(64, 16)

    def forward(self, tokens):
        return self.out(self.gru(self.embed(tokens))[0])


def _lm_data(n, seed):
    g = _g(seed)
    start = torch.randint(0, 16, (n, 1), generator=g)
    step = torch.randint(1, 5, (n, 1), generator=g)
    seq = (start + step * torch.arange(13).view(1, 13)) % 16
    return seq[:, :12], seq[:, 1:]


def _lm_loss(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


@case("ho-healthy-gru-next-token", "healthy", None,
      "yunjey/pytorch-tutorial#73: 'Input dimension to LSTM in language_model/main.py' "
      "(language model fed (batch, seq_len, input_size) with batch_first=True, as intended) "
      "(https://github.com/yunjey/pytorch-tutorial/issues/73)",
      confirm=lambda: _healthy(build_healthy_gru_lm, 400, 0.3, lambda: _lm_data(256, 85), 0.8))
def build_healthy_gru_lm(fixed=False):
    torch.manual_seed(202)
    x, y = _lm_data(1024, 84)
    model = _GRULM()
    return Setup(model, _lm_loss, torch.optim.Adam(model.parameters(), lr=3e-3),
                 _loader(x, y, 64, True, 84))


class _TinyTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(16, 32)
        self.pos = nn.Parameter(torch.zeros(1, 10, 32))
        layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2)
        self.cls = nn.Linear(32, 4)

    def forward(self, tokens):
        return self.cls(self.enc(self.embed(tokens) + self.pos).mean(1))


def _max_token_data(n, seed):
    tokens = torch.randint(0, 16, (n, 10), generator=_g(seed))
    return tokens, tokens.max(1).values.clamp_min(12) - 12


@case("ho-healthy-transformer-warmup-cosine-per-step", "healthy", None,
      "vturrisi/solo-learn#271: 'About the setup of LinearWarmupCosineAnnealingLR' (warmup and "
      "cosine horizon expressed in steps: epochs x steps per epoch, stepped per batch) "
      "(https://github.com/vturrisi/solo-learn/issues/271)",
      confirm=lambda: _healthy(build_healthy_transformer, 480, 0.3,
                               lambda: _max_token_data(512, 87), 0.9))
def build_healthy_transformer(fixed=False):
    torch.manual_seed(203)
    x, y = _max_token_data(1024, 86)
    loader = _loader(x, y, 64, True, 86)
    model = _TinyTransformer()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    total = 30 * len(loader)                           # 30 epochs x 16 steps
    warmup = total // 10

    def lr_lambda(step):
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
    loss_fn = nn.CrossEntropyLoss()

    def train_step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        sched.step()
        return loss.item()

    return Setup(model, loss_fn, opt, loader, train_step)


@case("ho-healthy-mixed-tanh-relu-mlp", "healthy", None,
      "common pattern, e.g. regression MLPs mixing a tanh first layer with ReLU layers",
      confirm=lambda: _healthy(build_healthy_mixed_mlp, 500, 0.3))
def build_healthy_mixed_mlp(fixed=False):
    torch.manual_seed(204)
    X, y = _reg_data(1024, 12, 88, teacher_seed=89)
    model = nn.Sequential(nn.Linear(12, 64), nn.Tanh(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))
    return Setup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-3),
                 _loader(X, y, 64, True, 88))


def _blobs(n, seed):
    g = _g(seed)
    img = F.avg_pool2d(torch.randn(n, 1, 20, 20, generator=g), 5, 1)
    return img / img.flatten(1).std(1).view(n, 1, 1, 1)


@case("ho-healthy-conv-autoencoder", "healthy", None,
      "common pattern, e.g. convolutional autoencoder tutorials (strided conv encoder, "
      "ConvTranspose decoder, MSE against the input)",
      confirm=lambda: _healthy(build_healthy_autoencoder, 400, 0.3))
def build_healthy_autoencoder(fixed=False):
    torch.manual_seed(205)
    X = _blobs(512, 90)
    model = nn.Sequential(nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
                          nn.Conv2d(16, 8, 3, stride=2, padding=1), nn.ReLU(),
                          nn.ConvTranspose2d(8, 16, 4, stride=2, padding=1), nn.ReLU(),
                          nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1))
    return Setup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=2e-3),
                 _loader(X, X, 32, True, 90))


class _MultiTask(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.cls = nn.Linear(64, 3)
        self.reg = nn.Linear(64, 1)

    def forward(self, x):
        h = self.trunk(x)
        return {"cls": self.cls(h), "reg": self.reg(h)}


def _multitask_loss(out, y):
    return F.cross_entropy(out["cls"], y[:, 0].long()) + F.l1_loss(out["reg"].squeeze(1), y[:, 1])


def _multitask_data(n, seed):
    X, c = _cls_data(n, 10, 3, seed, teacher_seed=91)
    _, r = _reg_data(n, 10, seed, teacher_seed=92)
    return X, torch.stack([c.float(), r[:, 0]], 1)


@case("ho-healthy-multitask-dict-output", "healthy", None,
      "torch-points3d/torch-points3d#620: 'Mulitask model with to extra heads and RSConv as "
      "common backbone' (classification + regression heads on a shared backbone, combined "
      "CrossEntropy + L1 loss) (https://github.com/torch-points3d/torch-points3d/issues/620)",
      confirm=lambda: _healthy(build_healthy_multitask, 500, 0.3))
def build_healthy_multitask(fixed=False):
    torch.manual_seed(206)
    X, y = _multitask_data(1024, 93)
    model = _MultiTask()
    return Setup(model, _multitask_loss, torch.optim.Adam(model.parameters(), lr=2e-3),
                 _loader(X, y, 64, True, 93))


def _huber_confirm():
    torch.manual_seed(0)
    s = build_healthy_huber()
    Xt, yt = _reg_data(512, 8, 95, teacher_seed=96)
    start = F.mse_loss(s.model(Xt), yt).item()
    _train(s, 600)
    end = F.mse_loss(s.model(Xt), yt).item()
    return end <= 0.15 * start, (f"clean held-out MSE {_fmt(start)} -> {_fmt(end)} in 600 steps "
                                 f"(need <= 0.15 x start)")


@case("ho-healthy-huber-regression-with-outliers", "healthy", None,
      "Nixtla/neuralforecast#577: '[FEAT] Robust regression HuberLoss/SmoothL1' (Huber loss for "
      "point regression that is robust to outliers) "
      "(https://github.com/Nixtla/neuralforecast/pull/577)",
      confirm=_huber_confirm)
def build_healthy_huber(fixed=False):
    torch.manual_seed(207)
    X, y = _reg_data(1024, 8, 94, teacher_seed=96)
    outlier = torch.rand(1024, 1, generator=_g(97)) < 0.05
    y = torch.where(outlier, y + 15.0, y)              # 5% gross outliers
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(),
                          nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
    return Setup(model, nn.HuberLoss(delta=1.0), torch.optim.Adam(model.parameters(), lr=1e-3),
                 _loader(X, y, 64, True, 94))


class _TwoTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.user = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 16))
        self.item = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 16))

    def forward(self, x):                              # x: user features ++ item features
        return (self.user(x[:, :8]) * self.item(x[:, 8:])).sum(1)


def _pairs(n, seed):
    g = _g(seed)
    u = torch.randn(n, 8, generator=g)
    i = torch.randn(n, 8, generator=g)
    A = torch.randn(8, 8, generator=_g(98))
    y = (((u @ A) * i).sum(1) > 0).float()
    return torch.cat([u, i], 1), y


@case("ho-healthy-two-tower-dot-product", "healthy", None,
      "common pattern, e.g. two-tower retrieval models (separate user and item MLP towers, "
      "dot-product score, BCEWithLogitsLoss on clicked / not clicked pairs)",
      confirm=lambda: _healthy(build_healthy_two_tower, 600, 0.4))
def build_healthy_two_tower(fixed=False):
    torch.manual_seed(208)
    X, y = _pairs(2048, 99)
    model = _TwoTower()
    return Setup(model, nn.BCEWithLogitsLoss(), torch.optim.Adam(model.parameters(), lr=3e-3),
                 _loader(X, y, 64, True, 99))


@case("ho-healthy-adamw-onecycle-per-batch", "healthy", None,
      "pytorch/pytorch#65417: 'OneCycleLR updating on epoch rather than on step' (OneCycleLR "
      "built with steps_per_epoch=len(train_dataloader) and epochs must be stepped every batch) "
      "(https://github.com/pytorch/pytorch/issues/65417)",
      confirm=lambda: _healthy(build_healthy_onecycle, 640, 0.3, lambda: _cls_data(512, 16, 5, 101),
                               0.75))
def build_healthy_onecycle(fixed=False):
    torch.manual_seed(209)
    X, y = _cls_data(1024, 16, 5, 100)
    loader = _loader(X, y, 64, True, 100)
    model = nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 5))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, epochs=40,
                                                steps_per_epoch=len(loader))
    loss_fn = nn.CrossEntropyLoss()

    def train_step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        sched.step()                                   # per batch, total = 40 x 16 steps
        return loss.item()

    return Setup(model, loss_fn, opt, loader, train_step)


class _EmbedNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 32)
        self.norm = nn.LayerNorm(32)
        self.mlp = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 4))

    def forward(self, tokens):
        return self.mlp(self.norm(self.embed(tokens).mean(1)))


def _topic_bags(n, seed):
    g = _g(seed)
    tokens = torch.randint(0, 100, (n, 12), generator=g)
    topic_of_word = torch.arange(100) % 4
    counts = F.one_hot(topic_of_word[tokens], 4).sum(1)
    return tokens, counts.argmax(1)


@case("ho-healthy-embedding-layernorm-classifier", "healthy", None,
      "common pattern, e.g. text classifiers that mean-pool nn.Embedding vectors and apply "
      "nn.LayerNorm before an MLP head",
      confirm=lambda: _healthy(build_healthy_embed_norm, 500, 0.3, lambda: _topic_bags(512, 103),
                               0.8))
def build_healthy_embed_norm(fixed=False):
    torch.manual_seed(210)
    tokens, y = _topic_bags(1536, 102)
    model = _EmbedNorm()
    return Setup(model, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=3e-3),
                 _loader(tokens, y, 64, True, 102))


def _motif_data(n, seed):
    g = _g(seed)
    idx = torch.randint(0, 4, (n, 40), generator=g)
    y = torch.randint(0, 2, (n,), generator=g)
    motif = torch.tensor([0, 3, 1, 2, 2, 3])
    pos = torch.randint(0, 34, (n,), generator=g)
    for k in range(n):
        if y[k] == 1:
            idx[k, pos[k]:pos[k] + 6] = motif
    return F.one_hot(idx, 4).float().transpose(1, 2), y


@case("ho-healthy-cnn1d-motif-detection", "healthy", None,
      "common pattern, e.g. 1-D CNNs over one-hot DNA sequences detecting a motif (conv, ReLU, "
      "global max pooling)",
      confirm=lambda: _healthy(build_healthy_cnn1d, 400, 0.3, lambda: _motif_data(512, 105), 0.9))
def build_healthy_cnn1d(fixed=False):
    torch.manual_seed(211)
    X, y = _motif_data(1024, 104)
    model = nn.Sequential(nn.Conv1d(4, 16, 7, padding=3),
                          nn.ReLU(), nn.Conv1d(16, 16, 5, padding=2),
                          nn.ReLU(), nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Linear(16, 2))
    return Setup(model, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=3e-3),
                 _loader(X, y, 64, True, 104))


def _imbalanced(n, seed):
    g = _g(seed)
    y = torch.multinomial(torch.tensor([0.6, 0.25, 0.1, 0.05]), n, replacement=True, generator=g)
    means = torch.randn(4, 10, generator=_g(106)) * 1.2
    return means[y] + torch.randn(n, 10, generator=g), y


@case("ho-healthy-class-weighted-cross-entropy", "healthy", None,
      "weiaicunzai/pytorch-cifar100#54: 'How to handle unbalanced data?' (nn.CrossEntropyLoss "
      "with a class weight tensor for four imbalanced classes) "
      "(https://github.com/weiaicunzai/pytorch-cifar100/issues/54)",
      confirm=lambda: _healthy(build_healthy_class_weights, 500, 0.3, lambda: _imbalanced(512, 108),
                               0.85))
def build_healthy_class_weights(fixed=False):
    torch.manual_seed(212)
    X, y = _imbalanced(1536, 107)
    freq = torch.bincount(y, minlength=4).float() / len(y)
    weights = (1.0 / freq) / (1.0 / freq).sum() * 4
    model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 4))
    return Setup(model, nn.CrossEntropyLoss(weight=weights),
                 torch.optim.Adam(model.parameters(), lr=2e-3), _loader(X, y, 64, True, 107))


@case("ho-healthy-sgd-nesterov-regression", "healthy", None,
      "common pattern, e.g. SGD(lr=0.05, momentum=0.9, nesterov=True) on a small regression MLP",
      confirm=lambda: _healthy(build_healthy_nesterov, 500, 0.3))
def build_healthy_nesterov(fixed=False):
    torch.manual_seed(213)
    X, y = _reg_data(1024, 10, 109, teacher_seed=110)
    model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(),
                          nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
    return Setup(model, nn.MSELoss(),
                 torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True),
                 _loader(X, y, 64, True, 109))


def _resumed_confirm():
    torch.manual_seed(0)
    s = build_healthy_resumed()
    X, y = _all(s.data)
    fresh = s.fresh_loss
    handed = _eval_loss(s.model, s.loss_fn, X, y)
    _train(s, 600)
    end = _eval_loss(s.model, s.loss_fn, X, y)
    holds = handed < fresh and end <= 0.5 * handed
    return holds, (f"loss at init {_fmt(fresh)}, at hand-over (after 300 steps) {_fmt(handed)}, "
                   f"after 600 more {_fmt(end)} (need <= 0.5 x hand-over)")


@case("ho-healthy-resumed-mid-training", "healthy", None,
      "pytorch/pytorch#549: 'load_state_dict() for optimizers' (pause training and resume where "
      "it left off, model and optimizer state together) "
      "(https://github.com/pytorch/pytorch/issues/549)",
      confirm=_resumed_confirm)
def build_healthy_resumed(fixed=False):
    torch.manual_seed(214)
    X, y = _reg_data(1024, 12, 111, teacher_seed=112)
    model = nn.Sequential(nn.Linear(12, 64), nn.ReLU(),
                          nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = _loader(X, y, 64, True, 111)
    fresh = _eval_loss(model, nn.MSELoss(), X, y)
    s = Setup(model, nn.MSELoss(), opt, loader)
    _train(s, 300)                                     # the first session, before the pause
    s.fresh_loss = fresh
    return s

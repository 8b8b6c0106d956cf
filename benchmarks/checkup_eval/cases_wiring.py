"""Wiring bugs: setups broken in how model, loss, optimizer, data and training step connect.

Codes covered (kind="bug", names prefixed "w-"): loss-broadcast, lr-too-large, input-scale,
grad-accumulation, param-not-in-optimizer, no-gradient, softmax-before-cross-entropy,
non-finite, unshuffled-batches.

Each ``build(fixed=False)`` returns the broken setup; ``build(fixed=True)`` returns the same
setup with only the bug repaired, which is what each ``confirm()`` trains against it. (The
lr-too-large builds take no argument: their confirm reruns them at a smaller learning rate.)
Synthetic data: random teacher networks or simple rules, all seeded. Held-out samples come
from the same generator as the training samples and are never trained on.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from .common import Setup, case

# --------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _loader(X, y, batch_size, shuffle=False, seed=0):
    """A DataLoader over (X, y); a shuffled one draws its order from its own generator."""
    return DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle,
                      generator=_g(seed) if shuffle else None)


def _batches(data):
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(torch.is_tensor(t)
                                                                  for t in data):
        return [tuple(data)]
    return data


def _train(setup: Setup, steps: int) -> list[float]:
    """Run the setup's own training for ``steps`` batches; return the loss of each."""
    losses: list[float] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while True:
            for X, y in _batches(setup.data):
                if setup.train_step is not None:
                    loss = setup.train_step(X, y)
                else:
                    setup.optimizer.zero_grad()
                    loss = setup.loss_fn(setup.model(X), y)
                    loss.backward()
                    setup.optimizer.step()
                losses.append(float(loss))
                if len(losses) >= steps:
                    return losses


def _mse(model, X, y) -> float:
    """Mean squared error with the prediction reshaped to the target (no broadcasting)."""
    with torch.no_grad():
        out = model(X)
        return float(((out.reshape(y.shape) - y) ** 2).mean())


def _acc(model, X, y) -> float:
    with torch.no_grad():
        return float((model(X).argmax(1) == y).float().mean())


def _tail(losses, n=10) -> float:
    return float(np.mean(losses[-n:]))


def _finite(x: float) -> bool:
    return math.isfinite(x)


def _params_finite(model) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def _teacher_mlp(n_in, n_out, seed, hidden=32):
    torch.manual_seed(seed)
    t = nn.Sequential(nn.Linear(n_in, hidden), nn.Tanh(), nn.Linear(hidden, n_out))
    for p in t.parameters():
        p.requires_grad_(False)
    return t


def _teacher_classes(X, n_classes, seed, hidden=32):
    """Labels from a random MLP teacher on the flattened inputs, made balanced by ranking."""
    flat = X.reshape(len(X), -1)
    scores = _teacher_mlp(flat.shape[1], n_classes, seed, hidden)(flat)
    scores = (scores - scores.mean(0)) / scores.std(0)
    return scores.argmax(1)


def _teacher_values(X, seed, hidden=32):
    flat = X.reshape(len(X), -1)
    v = _teacher_mlp(flat.shape[1], 1, seed, hidden)(flat)[:, 0]
    return (v - v.mean()) / v.std()


def _images(n, shape, seed):
    """Smooth random images: white noise blurred by a 3x3 box filter, unit scale."""
    g = _g(seed)
    x = torch.randn(n, *shape, generator=g)
    c = shape[0]
    k = torch.ones(c, 1, 3, 3) / 9.0
    x = F.conv2d(x, k, padding=1, groups=c)
    return x / x.std()


class _SmallCNN(nn.Module):
    def __init__(self, c_in, n_out, width=8, side=8):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.fc = nn.Linear(width * (side // 2) ** 2, n_out)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


# ======================================================================================
# loss-broadcast: prediction and target shapes broadcast inside the loss
# ======================================================================================


def _bag_regression_data(seed):
    g = _g(seed)
    tokens = torch.randint(0, 50, (768, 12), generator=g)
    token_score = torch.randn(50, generator=g)
    y = 2.0 + 1.5 * torch.tanh(token_score[tokens].sum(1) / math.sqrt(12))
    return tokens, y.unsqueeze(1)          # labels are (N, 1), as the dataset loader gives


class _BagRegressor(nn.Module):
    def __init__(self, squeeze_logits):
        super().__init__()
        self.emb = nn.Embedding(50, 32)
        self.head = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
        self.squeeze_logits = squeeze_logits

    def forward(self, tokens):
        out = self.head(self.emb(tokens).mean(1))       # (B, 1)
        return out.squeeze(-1) if self.squeeze_logits else out


def _broadcast_confirm(build, steps, held_out):
    """Broken vs fixed: held-out MSE (computed without broadcasting) after ``steps``."""
    def confirm():
        X, y = held_out()
        res = {}
        for fixed in (False, True):
            s = build(fixed=fixed)
            _train(s, steps)
            res[fixed] = _mse(s.model, X, y)
        var = float(y.var())
        holds = res[False] > 0.7 * var and res[False] > 3 * res[True]
        return holds, (f"held-out MSE after {steps} steps: broken {res[False]:.3f} "
                       f"(target variance {var:.3f}), fixed {res[True]:.3f}; "
                       f"needs broken > 0.7*var and > 3x fixed")
    return confirm


def _farm_held_out():
    tokens, y = _bag_regression_data(11)
    return tokens[512:], y[512:]


@case("w-broadcast-squeezed-regression-head", "bug", "loss-broadcast",
      "deepset-ai/FARM#229: 'Using a target size ... that is different to the input size' "
      "(https://github.com/deepset-ai/FARM/issues/229)",
      _broadcast_confirm(lambda fixed=False: build_broadcast_squeezed_head(fixed), 480,
                         _farm_held_out))
def build_broadcast_squeezed_head(fixed=False):
    # Text regression head: logits squeezed to (B,) while labels stay (B, 1) -> (B, B) loss.
    tokens, y = _bag_regression_data(11)
    torch.manual_seed(0)
    model = _BagRegressor(squeeze_logits=not fixed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    data = _loader(tokens[:512], y[:512], 32, shuffle=True, seed=1)
    return Setup(model, nn.MSELoss(), opt, data)


def _seq_regression_data(seed):
    g = _g(seed)
    X = torch.randn(384, 10, 4, generator=g)
    w = torch.randn(4, generator=g)
    decay = 0.8 ** torch.arange(9, -1, -1).float()
    y = (torch.tanh(X @ w) * decay).sum(1)
    return X, (y - y.mean()) / y.std()           # targets (N,)


class _LSTMRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 32, batch_first=True)
        self.out = nn.Linear(32, 1)

    def forward(self, x):
        h, _ = self.lstm(x)
        return self.out(h[:, -1])                    # (B, 1)


@case("w-broadcast-lstm-regressor", "bug", "loss-broadcast",
      "aiboxlab/nlp#97: 'bug: shape de saída em `LSTMRegressor`' (output (B,1) vs target "
      "(B,)) "
      "(https://github.com/aiboxlab/nlp/issues/97)",
      _broadcast_confirm(lambda fixed=False: build_broadcast_lstm_regressor(fixed), 300,
                         lambda: tuple(t[256:] for t in _seq_regression_data(12))))
def build_broadcast_lstm_regressor(fixed=False):
    X, y = _seq_regression_data(12)
    torch.manual_seed(0)
    model = _LSTMRegressor()
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    y_train = y[:256].unsqueeze(1) if fixed else y[:256]    # bug: (B,) target vs (B, 1) output
    return Setup(model, nn.MSELoss(), opt, (X[:256], y_train))


def _series_windows(seed, window=24):
    g = _g(seed)
    t = torch.arange(1100).float()
    s = torch.sin(2 * math.pi * t / 24) + 0.5 * torch.sin(2 * math.pi * t / 7)
    s = s + 0.1 * torch.randn(1100, generator=g)
    X = torch.stack([s[i:i + window] for i in range(1024)]).unsqueeze(1)   # (N, 1, 24)
    y = torch.stack([s[i + window] for i in range(1024)])                  # (N,)
    return X, y


class _ConvForecaster(nn.Module):
    def __init__(self, window=24, pred_len=1):
        super().__init__()
        self.conv = nn.Conv1d(1, 8, 5)
        self.head = nn.Linear(8 * (window - 4), pred_len)

    def forward(self, x):
        return self.head(F.relu(self.conv(x)).flatten(1))     # (B, pred_len)


@case("w-broadcast-forecaster-pred-len-1", "bug", "loss-broadcast",
      "jsboige/CoursIA#926: 'fix(ml-training): MSE broadcasting bug pred_len=1 in M8 archi "
      "(train_{mamba,itransformer,patchtst,tft})' "
      "(https://github.com/jsboige/CoursIA/pull/926)",
      _broadcast_confirm(lambda fixed=False: build_broadcast_forecaster(fixed), 360,
                         lambda: (_series_windows(13)[0][768:],
                                  _series_windows(13)[1][768:].unsqueeze(1))))
def build_broadcast_forecaster(fixed=False):
    X, y = _series_windows(13)
    torch.manual_seed(0)
    model = _ConvForecaster()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    y_train = y[:768].unsqueeze(1) if fixed else y[:768]   # bug: loader yields (B,) targets
    return Setup(model, nn.MSELoss(), opt, _loader(X[:768], y_train, 64, shuffle=True, seed=2))


class _MatmulLinearRegression(nn.Module):
    def __init__(self, num_features):
        super().__init__()
        self.weights = nn.Parameter(torch.rand(num_features, 1) * 0.01)
        self.bias = nn.Parameter(torch.randn(1) * 0.01)

    def forward(self, inputs):
        return torch.matmul(inputs, self.weights) + self.bias      # (N, 1)


def _housing_linear_data(seed):
    g = _g(seed)
    X = torch.randn(640, 13, generator=g)          # standardised features
    w = torch.randn(13, generator=g) * 2.5
    y = 22.5 + X @ w + 1.0 * torch.randn(640, generator=g)        # (N,), like medv
    return X, y


@case("w-broadcast-matmul-linear-regression", "bug", "loss-broadcast",
      "blog post: 'torch broadcasting trap' (linear regression on Boston housing, "
      "(N,1) output vs (N,) target, every fit came out as intercept 22.53) "
      "(https://solofox.github.io/torch/broadcasting/2025/12/07/torch-broadcasting-trap.html)",
      _broadcast_confirm(lambda fixed=False: build_broadcast_matmul_linreg(fixed), 800,
                         lambda: (_housing_linear_data(14)[0][506:],
                                  _housing_linear_data(14)[1][506:].unsqueeze(1))))
def build_broadcast_matmul_linreg(fixed=False):
    X, y = _housing_linear_data(14)
    torch.manual_seed(0)
    model = _MatmulLinearRegression(13)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    targets = y[:506].unsqueeze(1) if fixed else y[:506]     # bug: medv column is (N,)
    return Setup(model, F.mse_loss, opt, (X[:506], targets))


# ======================================================================================
# lr-too-large: the loss grows at the given learning rate and falls at a smaller one
# ======================================================================================


def _lr_confirm(build, steps, small_lr):
    def confirm():
        out = {}
        for lr in (None, small_lr):
            s = build()
            if lr is not None:
                for group in s.optimizer.param_groups:
                    group["lr"] = lr
            losses = _train(s, steps)
            out[lr] = (losses[0], _tail(losses))
        (b0, b1), (f0, f1) = out[None], out[small_lr]
        big_lr = build().optimizer.param_groups[0]["lr"]
        grows = (not _finite(b1)) or b1 > b0
        falls = _finite(f1) and f1 < 0.5 * f0
        return grows and falls, (
            f"{steps} steps: at lr={big_lr:g} loss {b0:.3f} -> {b1:.4g} (must end above start); "
            f"at lr={small_lr:g} loss {f0:.3f} -> {f1:.3f} (must fall below half)")
    return confirm


def _tagging_data(seed):
    g = _g(seed)
    tokens = torch.randint(0, 50, (512, 12), generator=g)
    prev = torch.cat([torch.zeros(512, 1, dtype=torch.long), tokens[:, :-1]], 1)
    tags = (tokens + prev) % 5                      # a tag needs the token and its left neighbour
    return tokens, tags


class _BiLSTMTagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 16)
        self.lstm = nn.LSTM(16, 32, batch_first=True, bidirectional=True)
        self.out = nn.Linear(64, 5)

    def forward(self, tokens):
        h, _ = self.lstm(self.emb(tokens))
        return self.out(h).transpose(1, 2)         # (B, tags, T) for CrossEntropyLoss


@case("w-lr-adam-bilstm-tagger", "bug", "lr-too-large",
      "guillaumegenthial/sequence_tagging#47: 'Learn rate issuse?' (lr 0.001 fine, "
      "0.01/0.1 loss decreases then increases to nan) "
      "(https://github.com/guillaumegenthial/sequence_tagging/issues/47)",
      _lr_confirm(lambda: build_lr_bilstm_tagger(), 320, 3e-3))
def build_lr_bilstm_tagger():
    tokens, tags = _tagging_data(21)
    torch.manual_seed(0)
    model = _BiLSTMTagger()
    opt = torch.optim.Adam(model.parameters(), lr=1.0)       # bug: far too large for Adam
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(tokens, tags, 32, True, 3))


class _ResidualCNN(nn.Module):
    def __init__(self, n_classes=4):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.a = nn.Conv2d(16, 16, 3, padding=1)
        self.b = nn.Conv2d(16, 16, 3, padding=1)
        self.fc = nn.Linear(16, n_classes)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = F.relu(x + self.b(F.relu(self.a(x))))
        return self.fc(x.mean((2, 3)))


@case("w-lr-sgd-momentum-resnet", "bug", "lr-too-large",
      "gcr/torch-residual-networks#10: 'Loss function explode under default settings' "
      "(initial learning rate too large for the residual net) "
      "(https://github.com/gcr/torch-residual-networks/issues/10)",
      _lr_confirm(lambda: build_lr_resnet(), 320, 0.1))
def build_lr_resnet():
    X = _images(512, (3, 16, 16), 22)
    y = _teacher_classes(torch.cat([5 * X.mean((2, 3)), (X ** 2).mean((2, 3))], 1), 4, 22,
                         hidden=16)                  # classes from colour and contrast
    torch.manual_seed(0)
    model = _ResidualCNN()
    opt = torch.optim.SGD(model.parameters(), lr=2.0, momentum=0.9)   # bug: lr 2.0
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 32, True, 4))


def _lm_data(seed, n=512, T=17, V=16):
    g = _g(seed)
    seq = torch.zeros(n, T, dtype=torch.long)
    seq[:, :2] = torch.randint(0, V, (n, 2), generator=g)
    for t in range(2, T):
        seq[:, t] = (3 * seq[:, t - 1] + seq[:, t - 2]) % V
    return seq[:, :-1], seq[:, 1:]


class _TinyGPT(nn.Module):
    def __init__(self, V=16, T=16, d=32):
        super().__init__()
        self.tok = nn.Embedding(V, d)
        self.pos = nn.Parameter(torch.randn(T, d) * 0.1)
        self.block = nn.TransformerEncoderLayer(d, 4, 64, dropout=0.0, batch_first=True)
        self.out = nn.Linear(d, V)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(T))

    def forward(self, x):
        h = self.block(self.tok(x) + self.pos, src_mask=self.mask, is_causal=True)
        return self.out(h).transpose(1, 2)          # (B, V, T)


@case("w-lr-adam-tiny-gpt", "bug", "lr-too-large",
      "OpenNMT/OpenNMT-tf#744: 'RuntimeError: Model diverged with loss = NaN.' (GPT-2 "
      "learning rate set to 2 instead of 2.5e-4) "
      "(https://github.com/OpenNMT/OpenNMT-tf/issues/744)",
      _lr_confirm(lambda: build_lr_tiny_gpt(), 240, 2e-3))
def build_lr_tiny_gpt():
    X, Y = _lm_data(23)
    torch.manual_seed(0)
    model = _TinyGPT()
    opt = torch.optim.Adam(model.parameters(), lr=2.0)          # bug: 2 instead of 2.5e-4
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, Y, 64, True, 5))


def _char_windows(seed, n=768, window=10, V=20):
    g = _g(seed)
    trans = torch.softmax(3 * torch.randn(V, V, generator=g), 1)   # a peaked Markov chain
    text = torch.zeros(n + window, dtype=torch.long)
    for i in range(1, n + window):
        text[i] = torch.multinomial(trans[text[i - 1]], 1, generator=g)
    X = torch.stack([text[i:i + window] for i in range(n)])
    return X, text[window:window + n]


class _CharLSTM(nn.Module):
    def __init__(self, V=20):
        super().__init__()
        self.emb = nn.Embedding(V, 16)
        self.lstm = nn.LSTM(16, 64, batch_first=True)
        self.out = nn.Linear(64, V)

    def forward(self, x):
        h, _ = self.lstm(self.emb(x))
        return self.out(h[:, -1])


@case("w-lr-rmsprop-char-lstm", "bug", "lr-too-large",
      "keras-team/keras#6154: 'fix rmsprop learning rate for convergence' (pull request: the "
      "LSTM text generation example's loss falls, then rises with RMSprop at its learning "
      "rate, as in keras#5239; the maintainer disputed it for that example) "
      "(https://github.com/keras-team/keras/pull/6154)",
      _lr_confirm(lambda: build_lr_char_lstm(), 240, 3e-3))
def build_lr_char_lstm():
    X, y = _char_windows(24)
    torch.manual_seed(0)
    model = _CharLSTM()
    opt = torch.optim.RMSprop(model.parameters(), lr=0.5)         # bug: lr far too large
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 32, True, 6))


# ======================================================================================
# input-scale: features far from unit scale, or on very different scales
# ======================================================================================


def _scale_confirm(build, steps, held_out, metric, better_by):
    """Raw vs rescaled inputs at the same optimizer settings: held-out metric."""
    def confirm():
        res = {}
        for fixed in (False, True):
            s = build(fixed=fixed)
            _train(s, steps)
            X, y = held_out(fixed)
            res[fixed] = metric(s.model, X, y)
        if metric is _acc:
            holds = res[True] - res[False] >= better_by
            text = (f"held-out accuracy after {steps} steps: raw inputs {res[False]:.3f}, "
                    f"rescaled {res[True]:.3f}; needs rescaled >= raw + {better_by}")
        else:
            holds = _finite(res[True]) and (not _finite(res[False])
                                            or res[False] > better_by * res[True])
            text = (f"held-out MSE after {steps} steps: raw inputs {res[False]:.4g}, "
                    f"rescaled {res[True]:.4g}; needs raw > {better_by}x rescaled")
        return holds, text
    return confirm


def _pixel_data(seed):
    z = _images(1024, (1, 8, 8), seed)
    y = _teacher_classes(F.avg_pool2d(z, 4), 4, seed, hidden=16)
    raw = torch.clamp(torch.round(128 + 50 * z), 0, 255)        # 8-bit pixel values
    return raw, y


def _pixels_held_out(fixed):
    raw, y = _pixel_data(31)
    X = raw[768:] / 255.0 if fixed else raw[768:]
    return X, y[768:]


@case("w-scale-raw-pixels-cnn", "bug", "input-scale",
      "www0wwwjs1/Matrix-Capsules-EM-Tensorflow#51: 'why use batch_squash = "
      "tf.divide(batch_x, 255.) rather than just batch_x' (with raw 0-255 pixels the "
      "reconstruction loss goes very large) "
      "(https://github.com/www0wwwjs1/Matrix-Capsules-EM-Tensorflow/issues/51)",
      _scale_confirm(lambda fixed=False: build_scale_raw_pixels(fixed), 480,
                     _pixels_held_out, _acc, 0.15))
def build_scale_raw_pixels(fixed=False):
    raw, y = _pixel_data(31)
    X = raw[:768] / 255.0 if fixed else raw[:768]           # bug: 0..255 pixels fed as is
    torch.manual_seed(0)
    model = _SmallCNN(1, 4)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y[:768], 32, True, 7))


def _stock_data(seed, n=720, window=7):
    g = _g(seed)
    close = 800 + torch.cumsum(4 * torch.randn(n + window + 1, generator=g), 0)
    open_ = close + 2 * torch.randn(n + window + 1, generator=g)
    high = torch.maximum(open_, close) + 3 * torch.rand(n + window + 1, generator=g)
    low = torch.minimum(open_, close) - 3 * torch.rand(n + window + 1, generator=g)
    volume = 1.2e6 + 3e5 * torch.randn(n + window + 1, generator=g)
    table = torch.stack([open_, high, low, volume, close], 1)      # raw, as read from the csv
    X = torch.stack([table[i:i + window] for i in range(n)])       # (N, 7, 5)
    target = close[window:window + n]
    y = ((target - target.min()) / (target.max() - target.min())).unsqueeze(1)   # Y scaled
    return X, y, table


def _minmax(X, table):
    lo, hi = table.min(0).values, table.max(0).values
    return (X - lo) / (hi - lo)


class _StockLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(5, 10, batch_first=True)
        self.fc = nn.Linear(10, 1)

    def forward(self, x):
        h, _ = self.lstm(x)
        return self.fc(h[:, -1])


def _stock_held_out(fixed):
    X, y, table = _stock_data(32)
    X = _minmax(X, table) if fixed else X
    return X[560:], y[560:]


@case("w-scale-raw-stock-prices-lstm", "bug", "input-scale",
      "hunkim/DeepLearningZeroToAll#137: 'separated scaler & invere scale' (stock RNN lab: "
      "MinMaxScaler on the inputs, 'very important. It does not work without it.') "
      "(https://github.com/hunkim/DeepLearningZeroToAll/pull/137)",
      _scale_confirm(lambda fixed=False: build_scale_stock_lstm(fixed), 400,
                     _stock_held_out, _mse, 3.0))
def build_scale_stock_lstm(fixed=False):
    X, y, table = _stock_data(32)
    if fixed:
        X = _minmax(X, table)
    # bug (unfixed): prices near 800 and volumes near 1.2e6 go into the LSTM unscaled
    torch.manual_seed(0)
    model = _StockLSTM()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    return Setup(model, nn.MSELoss(), opt, _loader(X[:560], y[:560], 40, True, 8))


_CAL_MEAN = torch.tensor([3.9, 28.6, 5.4, 1.1, 1425.0, 3.1, 35.6, -119.6])
_CAL_STD = torch.tensor([1.9, 12.6, 2.5, 0.5, 1132.0, 1.2, 2.1, 2.0])


def _california_data(seed):
    g = _g(seed)
    z = torch.randn(1280, 8, generator=g)
    raw = _CAL_MEAN + _CAL_STD * z                     # the dataset's own units
    y = 2.07 + 1.15 * _teacher_values(z, seed)         # house value in 100k$
    return raw, z, y.unsqueeze(1)


class _WideAndDeep(nn.Module):
    def __init__(self):
        super().__init__()
        self.deep = nn.Sequential(nn.Linear(8, 30), nn.ReLU(), nn.Linear(30, 30), nn.ReLU())
        self.out = nn.Linear(38, 1)

    def forward(self, x):
        return self.out(torch.cat([x, self.deep(x)], 1))


def _california_held_out(fixed):
    raw, z, y = _california_data(33)
    return (z[1024:] if fixed else raw[1024:]), y[1024:]


@case("w-scale-california-wide-and-deep", "bug", "input-scale",
      "ageron/handson-ml3#20: 'Fixing wide-and-deep to use normalized inputs' (non-normalized "
      "California housing inputs degrade the model) "
      "(https://github.com/ageron/handson-ml3/pull/20)",
      _scale_confirm(lambda fixed=False: build_scale_california(fixed), 640,
                     _california_held_out, _mse, 3.0))
def build_scale_california(fixed=False):
    raw, z, y = _california_data(33)
    X = z[:1024] if fixed else raw[:1024]    # bug: population ~1e3, income ~4, longitude ~-120
    torch.manual_seed(0)
    model = _WideAndDeep()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.MSELoss(), opt, _loader(X, y[:1024], 32, True, 9))


def _cubic_data():
    x = torch.linspace(1, 4000, 1024).unsqueeze(1)
    t = x ** 3
    return x, (t - t.mean()) / t.std()


def _cubic_held_out(fixed):
    x, t = _cubic_data()
    x = x[1::2]
    return ((x - 2000.5) / 1155.0 if fixed else x), t[1::2]


@case("w-scale-raw-x-up-to-4000", "bug", "input-scale",
      "PyTorch forum: 'Neural network could not learn on this type of data, why?' "
      "(inputs 1..4000 fed unnormalised to a 1-50-1 net) "
      "(https://discuss.pytorch.org/t/neural-network-could-not-learn-on-this-type-of-data-why/96648/5)",
      _scale_confirm(lambda fixed=False: build_scale_raw_x(fixed), 1000,
                     _cubic_held_out, _mse, 5.0))
def build_scale_raw_x(fixed=False):
    x, t = _cubic_data()
    x = x[0::2]
    if fixed:
        x = (x - 2000.5) / 1155.0
    # bug (unfixed): x runs from 1 to 4000 straight into the first layer
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 50), nn.ReLU(), nn.Linear(50, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.MSELoss(), opt, (x, t[0::2]))


# ======================================================================================
# grad-accumulation: the reader's train_step never zeroes the gradients
# ======================================================================================


def _accum_confirm(build, steps, held_out, metric):
    def confirm():
        res = {}
        for fixed in (False, True):
            s = build(fixed=fixed)
            _train(s, steps)
            X, y = held_out()
            res[fixed] = metric(s.model, X, y)
        if metric is _acc:
            holds = res[True] - res[False] >= 0.2
            text = (f"held-out accuracy after {steps} train_step calls: without zero_grad "
                    f"{res[False]:.3f}, with zero_grad {res[True]:.3f}; needs a gap >= 0.2")
        else:
            holds = _finite(res[True]) and (not _finite(res[False])
                                            or res[False] > 5 * res[True])
            text = (f"held-out MSE after {steps} train_step calls: without zero_grad "
                    f"{res[False]:.4g}, with zero_grad {res[True]:.4g}; needs > 5x")
        return holds, text
    return confirm


def _linreg_data(seed):
    g = _g(seed)
    X = torch.randn(384, 3, generator=g)
    y = X @ torch.tensor([[1.5], [-2.0], [0.5]]) + 0.3 + 0.1 * torch.randn(384, 1, generator=g)
    return X, y


class _ManualLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.rand(3, 1))
        self.b = nn.Parameter(torch.rand(1))

    def forward(self, x):
        return x @ self.w + self.b


@case("w-accum-manual-linear-regression", "bug", "grad-accumulation",
      "greebear/pytorch-learning#1: 'this linear_regression demo cannot work well' (manual "
      "update without w.grad.data.zero_(), loss not decreasing even at lr 1e-6) "
      "(https://github.com/greebear/pytorch-learning/issues/1)",
      _accum_confirm(lambda fixed=False: build_accum_manual_linreg(fixed), 200,
                     lambda: tuple(t[256:] for t in _linreg_data(41)), _mse))
def build_accum_manual_linreg(fixed=False):
    X, y = _linreg_data(41)
    torch.manual_seed(0)
    model = _ManualLinear()
    lr = 0.05
    opt = torch.optim.SGD(model.parameters(), lr=lr)     # handed over; the loop updates by hand

    def train_step(xb, yb):
        loss = ((model(xb) - yb) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
                if fixed:
                    p.grad.zero_()
        return loss                                       # bug (unfixed): grads never zeroed

    return Setup(model, nn.MSELoss(), opt, (X[:256], y[:256]), train_step)


def _court_data(seed, n=768):
    """Noisy 8x8 frames with one bright keypoint; the target is its Gaussian heatmap."""
    g = _g(seed)
    loc = torch.randint(1, 7, (n, 2), generator=g).float()
    ii = torch.arange(8).float()
    d2 = (ii.view(1, 8, 1) - loc[:, 0].view(-1, 1, 1)) ** 2 \
        + (ii.view(1, 1, 8) - loc[:, 1].view(-1, 1, 1)) ** 2
    heat = torch.exp(-d2 / 2)
    X = 2 * heat + 0.5 * torch.randn(n, 8, 8, generator=g)
    return X.unsqueeze(1), heat.unsqueeze(1)


class _HeatmapNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(16, 1, 3, padding=1))

    def forward(self, x):
        return self.net(x)


@case("w-accum-heatmap-cnn-adam", "bug", "grad-accumulation",
      "yastrebksv/TennisCourtDetector#7: 'Why there is no \"optimizer.zero_grad()\" in "
      "base_trainer.py?' (a court keypoint detector's trainer never zeroed the gradients) "
      "(https://github.com/yastrebksv/TennisCourtDetector/issues/7)",
      _accum_confirm(lambda fixed=False: build_accum_heatmap(fixed), 320,
                     lambda: tuple(t[512:] for t in _court_data(45)), _mse))
def build_accum_heatmap(fixed=False):
    X, Y = _court_data(45)
    torch.manual_seed(0)
    model = _HeatmapNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()

    def train_step(xb, yb):
        if fixed:
            opt.zero_grad()
        out = model(xb)                       # bug (unfixed): no zero_grad in the trainer
        loss = loss_fn(out, yb)
        loss.backward()
        opt.step()
        return loss

    return Setup(model, loss_fn, opt, _loader(X[:512], Y[:512], 32, True, 10), train_step)


def _template_digits(seed, n=1024):
    g = _g(seed)
    templates = torch.randn(10, 64, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    return 0.35 * templates[y] + torch.randn(n, 64, generator=g), y


def _heldout_ce_confirm(build, steps, held_out, ratio):
    def confirm():
        res = {}
        for fixed in (False, True):
            s = build(fixed=fixed)
            _train(s, steps)
            X, y = held_out()
            with torch.no_grad():
                res[fixed] = (float(F.cross_entropy(s.model(X), y)), _acc(s.model, X, y))
        (bl, ba), (fl, fa) = res[False], res[True]
        holds = bl > ratio * fl
        return holds, (f"held-out cross-entropy after {steps} train_step calls: without "
                       f"zero_grad {bl:.3f} (acc {ba:.3f}), with zero_grad {fl:.3f} "
                       f"(acc {fa:.3f}); needs > {ratio}x")
    return confirm


class _CustomModel(nn.Module):
    """A Keras-style model with its own train_step, as in the book's torch back end chapter."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 10))
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.RMSprop(self.parameters(), lr=1e-3)
        self.zero_grad_in_step = False

    def forward(self, x):
        return self.net(x)

    def train_step(self, x, y):
        if self.zero_grad_in_step:
            self.zero_grad()
        loss = self.loss_fn(self(x), y)       # bug (default): self.zero_grad() missing
        loss.backward()
        self.optimizer.step()
        return loss


@case("w-accum-keras-style-custom-train-step", "bug", "grad-accumulation",
      "fchollet/deep-learning-with-python-notebooks#293: 'chapter 7 torch implementation of "
      "CustomModel forgets to zero_grad' "
      "(https://github.com/fchollet/deep-learning-with-python-notebooks/issues/293)",
      _heldout_ce_confirm(lambda fixed=False: build_accum_custom_model(fixed), 384,
                          lambda: tuple(t[768:] for t in _template_digits(43)), 3.0))
def build_accum_custom_model(fixed=False):
    X, y = _template_digits(43)
    torch.manual_seed(0)
    model = _CustomModel()
    model.zero_grad_in_step = fixed
    return Setup(model, model.loss_fn, model.optimizer,
                 _loader(X[:768], y[:768], 32, True, 11), model.train_step)


def _accum_regression_data(seed):
    g = _g(seed)
    X = torch.randn(768, 16, generator=g)
    return X, _teacher_values(X, seed).unsqueeze(1)


@case("w-accum-zero-grad-once-per-epoch", "bug", "grad-accumulation",
      "salesforce/corr_based_prediction#1: 'Does the model need accumulate the gradients?' "
      "(zero_grad outside the batch loop, so gradients accumulate along the training data) "
      "(https://github.com/salesforce/corr_based_prediction/issues/1)",
      _accum_confirm(lambda fixed=False: build_accum_once_per_epoch(fixed), 640,
                     lambda: tuple(t[512:] for t in _accum_regression_data(44)), _mse))
def build_accum_once_per_epoch(fixed=False):
    X, y = _accum_regression_data(44)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.0015, momentum=0.9)
    loss_fn = nn.MSELoss()
    data = _loader(X[:512], y[:512], 32, True, 12)
    calls = {"n": 0}

    def train_step(xb, yb):
        # bug (unfixed): gradients are cleared only at the start of each epoch (16 batches)
        if fixed or calls["n"] % len(data) == 0:
            opt.zero_grad()
        calls["n"] += 1
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return Setup(model, loss_fn, opt, data, train_step)


# ======================================================================================
# param-not-in-optimizer: trainable parameters the optimizer does not hold
# ======================================================================================


def _pair_confirm(build, steps, held_out, metric, *, acc_gap=None, loss_ratio=None):
    """Broken vs fixed after ``steps``: an accuracy-like metric must trail the fixed one by
    ``acc_gap``, or a loss-like metric must exceed the fixed one ``loss_ratio`` times."""
    def confirm():
        res = {}
        for fixed in (False, True):
            s = build(fixed=fixed)
            _train(s, steps)
            X, y = held_out()
            res[fixed] = metric(s.model, X, y)
        b, f = res[False], res[True]
        if acc_gap is not None:
            holds = f - b >= acc_gap
            text = (f"held-out accuracy after {steps} steps: broken {b:.3f}, fixed {f:.3f}; "
                    f"needs a gap >= {acc_gap}")
        else:
            holds = _finite(f) and (not _finite(b) or b > loss_ratio * f)
            text = (f"held-out MSE after {steps} steps: broken {b:.4g}, fixed {f:.4g}; "
                    f"needs broken > {loss_ratio}x fixed")
        return holds, text
    return confirm


def _snli_like_data(seed):
    g = _g(seed)
    X = torch.randn(1024, 32, generator=g)
    return X, _teacher_classes(X, 3, seed, hidden=64)


class _ListMLP(nn.Module):
    def __init__(self, n_layers=2, n_hid=32, use_module_list=False):
        super().__init__()
        hids = [nn.Linear(n_hid, n_hid) for _ in range(n_layers)]
        # bug (default): a plain list, so the hidden layers are not registered
        self.hids = nn.ModuleList(hids) if use_module_list else hids
        self.classifier = nn.Linear(n_hid, 3)

    def forward(self, x):
        for layer in self.hids:
            x = torch.tanh(layer(x))
        return self.classifier(x)


@case("w-notinopt-hidden-layers-in-python-list", "bug", "param-not-in-optimizer",
      "pytorch/pytorch#715: 'Module: parameters are not included if the module is "
      "initialized in a list' (https://github.com/pytorch/pytorch/issues/715)",
      _pair_confirm(lambda fixed=False: build_notinopt_list(fixed), 480,
                    lambda: tuple(t[768:] for t in _snli_like_data(51)), _acc, acc_gap=0.1))
def build_notinopt_list(fixed=False):
    X, y = _snli_like_data(51)
    torch.manual_seed(0)
    model = _ListMLP(use_module_list=fixed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X[:768], y[:768], 32, True, 13))


def _names_data(seed, n=1024, T=8, V=16):
    g = _g(seed)
    seq = torch.randint(0, V, (n, T), generator=g)
    onehot = F.one_hot(seq, V).float()
    return onehot, _teacher_classes(onehot.mean(1), 4, seed)    # the class from the letters


class _CharRNNClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(16, 64, batch_first=True)
        self.out = nn.Linear(64, 4)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.out(h[:, -1])


@case("w-notinopt-model-instantiated-twice", "bug", "param-not-in-optimizer",
      "spro/practical-pytorch#9: 'char-rnn-classification parameters update method confusion' "
      "(model instantiated twice; the optimizer holds the first one's parameters) "
      "(https://github.com/spro/practical-pytorch/issues/9)",
      _pair_confirm(lambda fixed=False: build_notinopt_twice(fixed), 480,
                    lambda: tuple(t[768:] for t in _names_data(52)), _acc, acc_gap=0.2))
def build_notinopt_twice(fixed=False):
    X, y = _names_data(52)
    torch.manual_seed(0)
    rnn = _CharRNNClassifier()
    optimizer = torch.optim.SGD(rnn.parameters(), lr=0.05)
    if not fixed:
        rnn = _CharRNNClassifier()    # bug: re-created below the train function, as in the report
    return Setup(rnn, nn.CrossEntropyLoss(), optimizer, _loader(X[:768], y[:768], 32, True, 14))


def _lowrank_data(seed):
    g = _g(seed)
    z = torch.randn(1024, 4, generator=g)
    X = _teacher_mlp(4, 32, seed, hidden=32)(z)
    return (X - X.mean(0)) / X.std(0)


class _AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 4))
        self.decoder = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 32))

    def forward(self, x):
        return self.decoder(self.encoder(x))


@case("w-notinopt-optimizer-gets-encoder-only", "bug", "param-not-in-optimizer",
      "zdebruine/MMVAE#39: 'Shared VAE Optimizer Only Given Encoder Parameters' "
      "(https://github.com/zdebruine/MMVAE/issues/39)",
      _pair_confirm(lambda fixed=False: build_notinopt_encoder_only(fixed), 480,
                    lambda: (_lowrank_data(53)[768:],) * 2, _mse, loss_ratio=2.0))
def build_notinopt_encoder_only(fixed=False):
    X = _lowrank_data(53)
    torch.manual_seed(0)
    model = _AutoEncoder()
    params = model.parameters() if fixed else model.encoder.parameters()   # bug: encoder only
    opt = torch.optim.Adam(params, lr=1e-3)
    return Setup(model, nn.MSELoss(), opt, _loader(X[:768], X[:768], 32, True, 15))


def _prunable_data(seed):
    X = _images(1024, (1, 8, 8), seed)
    return X, _teacher_classes(X, 4, seed)


def _speedup(model):
    """Replace conv2 and fc by smaller layers holding the kept weights, as a pruner's speedup."""
    keep = torch.arange(0, 8, 2)
    conv2 = nn.Conv2d(8, 4, 3, padding=1)
    fc = nn.Linear(4 * 16, model.fc.out_features)
    with torch.no_grad():
        conv2.weight.copy_(model.conv2.weight[keep])
        conv2.bias.copy_(model.conv2.bias[keep])
        w = model.fc.weight.reshape(-1, 8, 16)[:, keep].reshape(-1, 64)
        fc.weight.copy_(w)
        fc.bias.copy_(model.fc.bias)
    model.conv2, model.fc = conv2, fc
    return model


@case("w-notinopt-layers-replaced-after-optimizer", "bug", "param-not-in-optimizer",
      "microsoft/nni#4521: 'The parameters are not updated when the pruned model is "
      "finetuned' (speedup replaced the layers after the optimizer was built) "
      "(https://github.com/microsoft/nni/issues/4521)",
      _pair_confirm(lambda fixed=False: build_notinopt_replaced(fixed), 480,
                    lambda: tuple(t[768:] for t in _prunable_data(54)), _acc, acc_gap=0.15))
def build_notinopt_replaced(fixed=False):
    X, y = _prunable_data(54)
    torch.manual_seed(0)
    model = _SmallCNN(1, 4)
    if fixed:
        model = _speedup(model)
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        model = _speedup(model)        # bug: new conv2 / fc are not in the optimizer
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X[:768], y[:768], 32, True, 16))


# ======================================================================================
# no-gradient: trainable parameters that get no gradient or a zero gradient
# ======================================================================================


class _ArgmaxRouter(nn.Module):
    """Module 1 picks a code, module 2 maps the code's embedding to the output."""

    def __init__(self, soft=False):
        super().__init__()
        self.first = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 8))
        self.codes = nn.Embedding(8, 16)
        self.second = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
        self.soft = soft

    def forward(self, x):
        scores = self.first(x)
        if self.soft:
            h = torch.softmax(scores, 1) @ self.codes.weight
        else:
            h = self.codes(scores.argmax(1))          # bug: argmax has no gradient
        return self.second(h)


def _router_data(seed):
    g = _g(seed)
    X = torch.randn(1024, 8, generator=g)
    return X, _teacher_values(X, seed).unsqueeze(1)


@case("w-nograd-argmax-between-modules", "bug", "no-gradient",
      "pytorch/pytorch#1339: 'Backprop through argmax' "
      "(https://github.com/pytorch/pytorch/issues/1339)",
      _pair_confirm(lambda fixed=False: build_nograd_argmax(fixed), 480,
                    lambda: tuple(t[768:] for t in _router_data(61)), _mse, loss_ratio=5.0))
def build_nograd_argmax(fixed=False):
    X, y = _router_data(61)
    torch.manual_seed(0)
    model = _ArgmaxRouter(soft=fixed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, nn.MSELoss(), opt, _loader(X[:768], y[:768], 32, True, 17))


class _NumpyNormCNN(nn.Module):
    def __init__(self, in_torch=False):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                                      nn.Flatten(), nn.Linear(8 * 64, 4))
        self.head = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 4))
        self.in_torch = in_torch

    def forward(self, x):
        f = self.features(x)
        if self.in_torch:
            f = (f - f.mean(1, keepdim=True)) / (f.std(1, keepdim=True) + 1e-5)
        else:
            a = f.detach().numpy()              # bug: round trip through numpy cuts the graph
            a = (a - a.mean(1, keepdims=True)) / (a.std(1, ddof=1, keepdims=True) + 1e-5)
            f = torch.from_numpy(a)
        return self.head(f)


@case("w-nograd-numpy-round-trip-in-forward", "bug", "no-gradient",
      "ligerlac/torchlogix#17: 'export mode forward pass of conv layer passes tests now' "
      "(review: converting torch tensors to numpy and back in forward breaks the graph) "
      "(https://github.com/ligerlac/torchlogix/pull/17)",
      _pair_confirm(lambda fixed=False: build_nograd_numpy(fixed), 480,
                    lambda: tuple(t[768:] for t in _prunable_data(62)), _acc, acc_gap=0.15))
def build_nograd_numpy(fixed=False):
    X, y = _prunable_data(62)
    torch.manual_seed(0)
    model = _NumpyNormCNN(in_torch=fixed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X[:768], y[:768], 32, True, 18))


class _SingleUnitCNN(nn.Module):
    def __init__(self, sigmoid=False):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Conv2d(8, 16, 3), nn.ReLU())
        self.dense = nn.Linear(16 * 4 * 4, 1)
        # bug (default): softmax over a single unit is always 1
        self.act = nn.Sigmoid() if sigmoid else nn.Softmax(dim=1)

    def forward(self, x):
        return self.act(self.dense(self.conv(x).flatten(1)))


def _binary_image_data(seed):
    X = _images(1024, (1, 8, 8), seed)
    return X, _teacher_classes(X, 2, seed).float().unsqueeze(1)


def _binary_acc(model, X, y):
    with torch.no_grad():
        return float(((model(X) > 0.5).float() == y).float().mean())


@case("w-nograd-softmax-over-single-unit", "bug", "no-gradient",
      "Cross Validated: 'Convolutional neural network fails even when given answer' "
      "(Dense(1, activation='softmax') output) "
      "(https://stats.stackexchange.com/questions/481881/convolutional-neural-network-fails-even-when-given-answer?noredirect=1)",
      _pair_confirm(lambda fixed=False: build_nograd_softmax_single(fixed), 480,
                    lambda: tuple(t[768:] for t in _binary_image_data(63)), _binary_acc,
                    acc_gap=0.2))
def build_nograd_softmax_single(fixed=False):
    X, y = _binary_image_data(63)
    torch.manual_seed(0)
    model = _SingleUnitCNN(sigmoid=fixed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.BCELoss(), opt, _loader(X[:768], y[:768], 32, True, 19))


class _EmbedThenLSTM(nn.Module):
    def __init__(self, use_lstm_output=False):
        super().__init__()
        self.g = nn.Linear(6, 32)
        self.lstm = nn.LSTM(32, 32, batch_first=True)
        self.head = nn.Linear(32, 3)
        self.use_lstm_output = use_lstm_output

    def forward(self, x):
        output = torch.tanh(self.g(x))
        outputs, _ = self.lstm(output)
        if self.use_lstm_output:
            output = outputs
        return self.head(output[:, -1])         # bug (default): 'output' where 'outputs' meant


def _order_data(seed):
    g = _g(seed)
    X = torch.randn(1024, 8, 6, generator=g)
    y = _teacher_classes(X[:, :4], 3, seed)      # the class depends on the first four steps
    return X, y


@case("w-nograd-lstm-output-unused", "bug", "no-gradient",
      "BoyuanJiang/matching-networks-pytorch#1: 'Seems fce are not correctly used' (output of "
      "self.lstm stored in 'outputs' but 'output' used after it) "
      "(https://github.com/BoyuanJiang/matching-networks-pytorch/issues/1)",
      _pair_confirm(lambda fixed=False: build_nograd_lstm_unused(fixed), 480,
                    lambda: tuple(t[768:] for t in _order_data(64)), _acc, acc_gap=0.2))
def build_nograd_lstm_unused(fixed=False):
    X, y = _order_data(64)
    torch.manual_seed(0)
    model = _EmbedThenLSTM(use_lstm_output=fixed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X[:768], y[:768], 32, True, 20))


class _CountRegressor(nn.Module):
    def __init__(self, round_output=True):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))
        self.round_output = round_output

    def forward(self, x):
        out = self.net(x)
        return torch.round(out) if self.round_output else out   # bug: round's gradient is 0


def _count_data(seed):
    g = _g(seed)
    X = torch.randn(1024, 10, generator=g)
    y = torch.round(3 + 2 * _teacher_values(X, seed)).clamp(min=0).unsqueeze(1)
    return X, y


@case("w-nograd-round-in-forward", "bug", "no-gradient",
      "PyTorch forum: 'Torch.round() gradient' (rounding a network's output: round is a "
      "step function with zero gradient) "
      "(https://discuss.pytorch.org/t/torch-round-gradient/28628/4)",
      _pair_confirm(lambda fixed=False: build_nograd_round(fixed), 400,
                    lambda: tuple(t[768:] for t in _count_data(65)), _mse, loss_ratio=3.0))
def build_nograd_round(fixed=False):
    X, y = _count_data(65)
    torch.manual_seed(0)
    model = _CountRegressor(round_output=not fixed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, nn.MSELoss(), opt, (X[:768], y[:768]))


# ======================================================================================
# softmax-before-cross-entropy: probabilities fed to a loss that expects logits
# ======================================================================================


def _proper_nll(model, X, y, outputs_are_probs):
    with torch.no_grad():
        out = model(X)
        logp = torch.log(out.clamp_min(1e-12)) if outputs_are_probs else F.log_softmax(out, 1)
        return float(F.nll_loss(logp, y))


def _softmax_confirm(build, steps, held_out):
    """Broken (probabilities into the loss) vs fixed (logits): held-out NLL and accuracy."""
    def confirm():
        res = {}
        for fixed in (False, True):
            s = build(fixed=fixed)
            _train(s, steps)
            X, y = held_out()
            res[fixed] = (_proper_nll(s.model, X, y, outputs_are_probs=not fixed),
                          _acc(s.model, X, y))
        (bn, ba), (fn, fa) = res[False], res[True]
        holds = bn > 1.5 * fn and fa - ba >= 0.05
        return holds, (f"held-out after {steps} steps: broken NLL {bn:.3f} acc {ba:.3f}, "
                       f"fixed NLL {fn:.3f} acc {fa:.3f}; needs NLL > 1.5x and acc gap >= 0.05")
    return confirm


@case("w-softmax-ce-mlp-in-sequential", "bug", "softmax-before-cross-entropy",
      "vinhkhuc/PyTorch-Mini-Tutorials#1: 'About CrossEntroyLoss' "
      "(model.add_module(\"softmax\", torch.nn.Softmax()) in a Sequential model trained "
      "with CrossEntropyLoss) (https://github.com/vinhkhuc/PyTorch-Mini-Tutorials/issues/1)",
      _softmax_confirm(lambda fixed=False: build_softmax_mlp(fixed), 480,
                       lambda: tuple(t[768:] for t in _template_digits(71))))
def build_softmax_mlp(fixed=False):
    X, y = _template_digits(71)
    torch.manual_seed(0)
    model = nn.Sequential()
    model.add_module("linear_1", nn.Linear(64, 64))
    model.add_module("relu_1", nn.ReLU())
    model.add_module("linear_2", nn.Linear(64, 10))
    if not fixed:
        model.add_module("softmax", nn.Softmax(dim=1))    # bug: CrossEntropyLoss applies it too
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X[:768], y[:768], 32, True, 21))


class _DANNClassifier(nn.Module):
    def __init__(self, softmax=True):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
                                      nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Linear(16 * 16, 64), nn.ReLU(), nn.Linear(64, 10))
        self.softmax = softmax

    def forward(self, x):
        logits = self.classifier(self.features(x).flatten(1))
        return F.softmax(logits, 1) if self.softmax else logits   # bug: softmax before CE


def _color_image_data(seed):
    g = _g(seed)
    templates = _images(10, (3, 16, 16), seed)
    y = torch.randint(0, 10, (1536,), generator=g)
    return 0.5 * templates[y] + _images(1536, (3, 16, 16), seed + 1), y


@case("w-softmax-ce-cnn-classifier", "bug", "softmax-before-cross-entropy",
      "NaJaeMin92/pytorch-DANN#7: 'Regarding softmax layer' (the softmax layer makes models "
      "hard to train with CrossEntropyLoss) (https://github.com/NaJaeMin92/pytorch-DANN/issues/7)",
      _softmax_confirm(lambda fixed=False: build_softmax_cnn(fixed), 480,
                       lambda: tuple(t[1280:] for t in _color_image_data(72))))
def build_softmax_cnn(fixed=False):
    X, y = _color_image_data(72)
    torch.manual_seed(0)
    model = _DANNClassifier(softmax=not fixed)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X[:1280], y[:1280], 64, True, 22))


class _LRCN(nn.Module):
    def __init__(self, softmax=True):
        super().__init__()
        self.lstm = nn.LSTM(32, 64, batch_first=True)
        layers = [nn.Linear(64, 6)]
        if softmax:
            layers.append(nn.Softmax(dim=-1))      # bug: output softmax + CrossEntropyLoss
        self.head = nn.Sequential(*layers)

    def forward(self, frames):
        h, _ = self.lstm(frames)
        return self.head(h[:, -1])


def _frame_feature_data(seed):
    """Per-frame CNN features: one temporal template per activity, plus noise."""
    g = _g(seed)
    templates = torch.randn(6, 8, 32, generator=g)
    y = torch.randint(0, 6, (1024,), generator=g)
    return 0.4 * templates[y] + torch.randn(1024, 8, 32, generator=g), y


@case("w-softmax-ce-lstm-activity", "bug", "softmax-before-cross-entropy",
      "doronharitan/human_activity_recognition_LRCN#4: 'Softmax and CrossEntropyLoss' "
      "(removing the softmax layer made the model converge faster) "
      "(https://github.com/doronharitan/human_activity_recognition_LRCN/issues/4)",
      _softmax_confirm(lambda fixed=False: build_softmax_lrcn(fixed), 480,
                       lambda: tuple(t[768:] for t in _frame_feature_data(73))))
def build_softmax_lrcn(fixed=False):
    X, y = _frame_feature_data(73)
    torch.manual_seed(0)
    model = _LRCN(softmax=not fixed)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X[:768], y[:768], 32, True, 23))


class _TransformerTextClassifier(nn.Module):
    def __init__(self, log=False):
        super().__init__()
        self.emb = nn.Embedding(100, 32)
        self.pos = nn.Parameter(torch.randn(16, 32) * 0.1)
        self.enc = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
        self.fc = nn.Linear(32, 4)
        self.log = log

    def forward(self, tokens):
        h = self.enc(self.emb(tokens) + self.pos).mean(1)
        out = self.fc(h)
        # bug (default): softmax, where NLLLoss needs log_softmax (the loss goes negative)
        return F.log_softmax(out, 1) if self.log else F.softmax(out, 1)


def _text_data(seed):
    g = _g(seed)
    tokens = torch.randint(0, 100, (1024, 16), generator=g)
    word_class = torch.randn(100, 4, generator=g)
    y = word_class[tokens].sum(1).argmax(1)
    return tokens, y


def _softmax_nll_confirm():
    steps = 480
    X, y = _text_data(74)
    X, y = X[768:], y[768:]
    res = {}
    for fixed in (False, True):
        s = build_softmax_nll_transformer(fixed=fixed)
        losses = _train(s, steps)
        with torch.no_grad():
            out = s.model(X)
            logp = out if fixed else torch.log(out.clamp_min(1e-12))
            res[fixed] = (float(F.nll_loss(logp, y)), _acc(s.model, X, y), _tail(losses))
    (bn, ba, bl), (fn, fa, _) = res[False], res[True]
    holds = bl < 0 and bn > 1.5 * fn and fa - ba >= 0.05
    return holds, (f"held-out after {steps} steps: broken NLL {bn:.3f} acc {ba:.3f} (its "
                   f"training loss {bl:.3f}, negative), fixed NLL {fn:.3f} acc {fa:.3f}; "
                   f"needs NLL > 1.5x and acc gap >= 0.05")


@case("w-softmax-nll-transformer-text", "bug", "softmax-before-cross-entropy",
      "AnubhavGupta3377/Text-Classification-Models-Pytorch#9: 'NLLLoss' (softmax output fed "
      "to nn.NLLLoss, the loss is always negative) "
      "(https://github.com/AnubhavGupta3377/Text-Classification-Models-Pytorch/issues/9)",
      _softmax_nll_confirm)
def build_softmax_nll_transformer(fixed=False):
    X, y = _text_data(74)
    torch.manual_seed(0)
    model = _TransformerTextClassifier(log=fixed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.NLLLoss(), opt, _loader(X[:768], y[:768], 32, True, 24))


# ======================================================================================
# non-finite: NaN or inf in inputs, targets, outputs or gradients
# ======================================================================================


def _nonfinite_confirm(build, steps, held_out):
    def confirm():
        res = {}
        for fixed in (False, True):
            s = build(fixed=fixed)
            losses = _train(s, steps)
            X, y = held_out()
            res[fixed] = (losses[0], _tail(losses), _params_finite(s.model),
                          _mse(s.model, X, y))
        b, f = res[False], res[True]
        holds = ((not _finite(b[1])) or not b[2]) and _finite(f[3]) and f[1] < 0.5 * f[0]
        return holds, (f"{steps} steps: broken final loss {b[1]:.4g}, parameters finite "
                       f"{b[2]}; fixed loss {f[0]:.3f} -> {f[1]:.3f}, held-out MSE {f[3]:.3f}; "
                       f"needs broken non-finite and fixed below half its start")
    return confirm


def _sensor_data(seed):
    g = _g(seed)
    X = torch.randn(1024, 6, generator=g)
    y = _teacher_values(X, seed).unsqueeze(1)
    missing = torch.rand(1024, 6, generator=g) < 0.03         # gaps in the sensor log
    return X.masked_fill(missing, float("nan")), y


@case("w-nonfinite-nan-in-sensor-inputs", "bug", "non-finite",
      "circleAhn/TESLA-tf#1: 'Train Nan' (own sensor dataset with missing values, every loss "
      "NaN) (https://github.com/circleAhn/TESLA-tf/issues/1)",
      _nonfinite_confirm(lambda fixed=False: build_nonfinite_nan_inputs(fixed), 200,
                         lambda: _drop_nan_rows(*(t[768:] for t in _sensor_data(81)))))
def build_nonfinite_nan_inputs(fixed=False):
    X, y = _sensor_data(81)
    X, y = X[:768], y[:768]
    if fixed:
        X, y = _drop_nan_rows(X, y)       # bug (unfixed): rows with NaN readings kept
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 1))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, nn.MSELoss(), opt, _loader(X, y, 32, True, 25))


def _drop_nan_rows(X, y):
    ok = torch.isfinite(X.reshape(len(X), -1)).all(1) & torch.isfinite(y.reshape(len(y), -1)).all(1)
    return X[ok], y[ok]


def _forecast_nan_target_data(seed):
    X, y = _series_windows(seed)
    g = _g(seed + 1)
    y = y.clone()
    y[torch.rand(len(y), generator=g) < 0.02] = float("nan")      # missing values in 'y'
    return X.squeeze(1), y.unsqueeze(1)


@case("w-nonfinite-nan-in-targets", "bug", "non-finite",
      "Nixtla/neuralforecast#186: 'silent bug, training with NaNs values' (missing values in "
      "the y column make the loss nan) (https://github.com/Nixtla/neuralforecast/issues/186)",
      _nonfinite_confirm(lambda fixed=False: build_nonfinite_nan_targets(fixed), 200,
                         lambda: _drop_nan_rows(*(t[768:] for t in
                                                  _forecast_nan_target_data(82)))))
def build_nonfinite_nan_targets(fixed=False):
    X, y = _forecast_nan_target_data(82)
    X, y = X[:768], y[:768]
    if fixed:
        X, y = _drop_nan_rows(X, y)       # bug (unfixed): NaN targets go into the loss
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(24, 64), nn.ReLU(), nn.Linear(64, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.MSELoss(), opt, _loader(X, y, 64, True, 26))


def _particle_features(seed):
    g = _g(seed)
    X = torch.randn(1024, 5, generator=g) * 0.3 + 1.0
    conc = torch.full((1024, 1), 0.0414)                 # solid concentration, one value
    feats = torch.cat([X, conc], 1)
    y = _teacher_values(X, seed).unsqueeze(1)
    return feats, y


def _normalise_moments(feats):
    """Normalisation from running sums: var = E[x^2] - E[x]^2, as the simulator's stats do."""
    mean = feats.mean(0)
    var = (feats ** 2).mean(0) - mean ** 2
    return (feats - mean) / torch.sqrt(var)


def _normalise_safe(feats):
    return (feats - feats.mean(0)) / feats.std(0).clamp_min(1e-6)


@case("w-nonfinite-negative-variance-normalisation", "bug", "non-finite",
      "google-deepmind/deepmind-research#346: loss nan at the first iteration, caused by a "
      "negative variance when normalising a constant 0.0414 feature "
      "(https://github.com/google-deepmind/deepmind-research/issues/346)",
      _nonfinite_confirm(lambda fixed=False: build_nonfinite_normalisation(fixed), 200,
                         lambda: (_normalise_safe(_particle_features(83)[0])[768:],
                                  _particle_features(83)[1][768:])))
def build_nonfinite_normalisation(fixed=False):
    feats, y = _particle_features(83)
    X = _normalise_safe(feats) if fixed else _normalise_moments(feats)   # bug: sqrt(var<=0)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 1))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, nn.MSELoss(), opt, _loader(X[:768], y[:768], 32, True, 27))


class _NormalisedFeatureNet(nn.Module):
    def __init__(self, eps_inside=False):
        super().__init__()
        self.proj = nn.Linear(16, 32, bias=False)
        self.head = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
        self.eps_inside = eps_inside

    def normalize_tensor(self, in_feat, eps=1e-10):
        if self.eps_inside:
            norm_factor = torch.sqrt(torch.sum(in_feat ** 2, dim=1, keepdim=True) + eps)
        else:
            # bug: sqrt at exactly 0 (an all-zero feature vector) has an infinite gradient
            norm_factor = torch.sqrt(torch.sum(in_feat ** 2, dim=1, keepdim=True))
        return in_feat / (norm_factor + eps)

    def forward(self, x):
        return self.head(self.normalize_tensor(self.proj(x)))


def _padded_feature_data(seed):
    g = _g(seed)
    X = torch.randn(1024, 16, generator=g)
    y = _teacher_values(X / X.norm(dim=1, keepdim=True), seed).unsqueeze(1)
    pad = torch.rand(1024, generator=g) < 0.05            # empty (padded) samples
    X[pad] = 0.0
    y[pad] = 0.0
    return X, y


@case("w-nonfinite-sqrt-at-zero-in-normalize", "bug", "non-finite",
      "richzhang/PerceptualSimilarity#69: \"RuntimeError: Function 'SqrtBackward' returned nan "
      "values in its 0th output.\" (normalize_tensor takes sqrt of a zero sum) "
      "(https://github.com/richzhang/PerceptualSimilarity/issues/69)",
      _nonfinite_confirm(lambda fixed=False: build_nonfinite_sqrt_zero(fixed), 200,
                         lambda: tuple(t[768:] for t in _padded_feature_data(84))))
def build_nonfinite_sqrt_zero(fixed=False):
    X, y = _padded_feature_data(84)
    torch.manual_seed(0)
    model = _NormalisedFeatureNet(eps_inside=fixed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, nn.MSELoss(), opt, _loader(X[:768], y[:768], 32, True, 28))


class _LogCompressCNN(nn.Module):
    def __init__(self, safe=False):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 16, 1)
        self.safe = safe

    def forward(self, x):
        h = self.conv1(x)
        # bug (default): a Log layer straight after a convolution; log of negatives is NaN
        h = torch.log1p(F.relu(h)) if self.safe else torch.log(h)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        return self.fc(h.flatten(1))


def _log_cnn_data(seed):
    X = _images(1024, (1, 8, 8), seed)
    return X, _teacher_values(X, seed).unsqueeze(1)


@case("w-nonfinite-log-after-conv", "bug", "non-finite",
      "BVLC/caffe#6415: 'Log layer robustly defined?' (Log after a convolution sees negative "
      "inputs and outputs NaN) (https://github.com/BVLC/caffe/issues/6415)",
      _nonfinite_confirm(lambda fixed=False: build_nonfinite_log(fixed), 200,
                         lambda: tuple(t[768:] for t in _log_cnn_data(85))))
def build_nonfinite_log(fixed=False):
    X, y = _log_cnn_data(85)
    torch.manual_seed(0)
    model = _LogCompressCNN(safe=fixed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.MSELoss(), opt, _loader(X[:768], y[:768], 32, True, 29))


# ======================================================================================
# unshuffled-batches: a DataLoader without shuffle over data sorted by target
# ======================================================================================


def _unshuffled_confirm(build, epochs, held_out, metric):
    """The same loader's dataset, in sorted order vs reshuffled each epoch."""
    def confirm():
        res = {}
        for fixed in (False, True):
            s = build(fixed=fixed)
            steps = epochs * len(s.data)
            _train(s, steps)
            X, y = held_out()
            res[fixed] = metric(s.model, X, y)
        if metric is _acc:
            holds = res[True] - res[False] >= 0.2
            text = (f"held-out accuracy after {epochs} epochs: sorted batches {res[False]:.3f}, "
                    f"shuffled {res[True]:.3f}; needs a gap >= 0.2")
        else:
            holds = res[False] > 3 * res[True]
            text = (f"held-out MSE after {epochs} epochs: sorted batches {res[False]:.4g}, "
                    f"shuffled {res[True]:.4g}; needs sorted > 3x shuffled")
        return holds, text
    return confirm


def _sorted_by(X, y):
    order = torch.argsort(y if y.dim() == 1 else y[:, 0], stable=True)
    return X[order], y[order]


def _imagenet_like(seed):
    g = _g(seed)
    templates = _images(4, (3, 16, 16), seed)
    y = torch.randint(0, 4, (1280,), generator=g)
    return 0.3 * templates[y] + _images(1280, (3, 16, 16), seed + 1), y


@case("w-unshuffled-class-sorted-images-sgd", "bug", "unshuffled-batches",
      "Deci-AI/super-gradients#416: 'Default dataloader params have shuffle=False' (ImageNet "
      "in class order: each batch holds a single class) "
      "(https://github.com/Deci-AI/super-gradients/issues/416)",
      _unshuffled_confirm(lambda fixed=False: build_unshuffled_images(fixed), 6,
                          lambda: tuple(t[1024:] for t in _imagenet_like(91)), _acc))
def build_unshuffled_images(fixed=False):
    X, y = _imagenet_like(91)
    X, y = _sorted_by(X[:1024], y[:1024])          # the folder layout: class after class
    torch.manual_seed(0)
    model = _SmallCNN(3, 4, width=16, side=16)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                          weight_decay=1e-4)
    return Setup(model, nn.CrossEntropyLoss(), opt,
                 _loader(X, y, 32, shuffle=fixed, seed=30))     # bug: shuffle left False


def _four_class_data(seed):
    g = _g(seed)
    X = torch.randn(1280, 10, generator=g)
    return X, _teacher_classes(X, 4, seed)


@case("w-unshuffled-label-ordered-mlp", "bug", "unshuffled-batches",
      "blog post: 'Why Is It Important To Shuffle Your Dataset Before Training An ML Model' "
      "(two identical nets; the one fed label-ordered data fails to converge) "
      "(https://dailydoseofds.beehiiv.com/p/why-is-it-important-to-shuffle-your)",
      _unshuffled_confirm(lambda fixed=False: build_unshuffled_mlp(fixed), 5,
                          lambda: tuple(t[1024:] for t in _four_class_data(92)), _acc))
def build_unshuffled_mlp(fixed=False):
    X, y = _four_class_data(92)
    X, y = _sorted_by(X[:1024], y[:1024])           # all of class 0, then class 1, ...
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    return Setup(model, nn.CrossEntropyLoss(), opt,
                 _loader(X, y, 32, shuffle=fixed, seed=31))     # bug: shuffle left False


def _taxi_data(seed):
    g = _g(seed)
    X = torch.randn(1280, 7, generator=g)          # standardised pickup/dropoff/time features
    fare = _teacher_values(X, seed)                # standardised fare_amount
    return X, fare.unsqueeze(1)


@case("w-unshuffled-target-sorted-regression", "bug", "unshuffled-batches",
      "GoogleCloudPlatform/training-data-analyst#1376: 'Data shuffling is imperfect in "
      "building_production_ml_system labs' (the exported taxi data came out sorted) "
      "(https://github.com/GoogleCloudPlatform/training-data-analyst/issues/1376)",
      _unshuffled_confirm(lambda fixed=False: build_unshuffled_taxi(fixed), 10,
                          lambda: tuple(t[1024:] for t in _taxi_data(93)), _mse))
def build_unshuffled_taxi(fixed=False):
    X, y = _taxi_data(93)
    X, y = _sorted_by(X[:1024], y[:1024])            # export ordered by fare_amount
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(7, 64), nn.ReLU(), nn.Linear(64, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    return Setup(model, nn.MSELoss(), opt,
                 _loader(X, y, 32, shuffle=fixed, seed=32))     # bug: shuffle left False


class _GRUClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(6, 32, batch_first=True)
        self.fc = nn.Linear(32, 4)

    def forward(self, x):
        h, _ = self.gru(x)
        return self.fc(h[:, -1])


def _ordered_sequence_data(seed):
    g = _g(seed)
    X = torch.randn(1280, 10, 6, generator=g)
    return X, _teacher_classes(X.mean(1), 4, seed)


@case("w-unshuffled-class-ordered-gru", "bug", "unshuffled-batches",
      "keras-team/keras#6955: 'What is the purpose of \"shuffle\" in fitting?' (every class "
      "in order: the model favours the last class it trained on) "
      "(https://github.com/keras-team/keras/issues/6955)",
      _unshuffled_confirm(lambda fixed=False: build_unshuffled_gru(fixed), 8,
                          lambda: tuple(t[1024:] for t in _ordered_sequence_data(94)), _acc))
def build_unshuffled_gru(fixed=False):
    X, y = _ordered_sequence_data(94)
    X, y = _sorted_by(X[:1024], y[:1024])
    torch.manual_seed(0)
    model = _GRUClassifier()
    opt = torch.optim.RMSprop(model.parameters(), lr=3e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt,
                 _loader(X, y, 32, shuffle=fixed, seed=33))     # bug: shuffle left False

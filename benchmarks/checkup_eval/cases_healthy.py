"""Healthy setups: each one trains fine, and each is chosen to tempt a false alarm.

Every setup here converges when it is trained (its ``confirm()`` measures that), yet
each carries something a diagnosis tool could mistake for a bug: BatchNorm and Dropout
(outputs depend on the batch, or on chance), attention and recurrent layers (tensors
permuted and transposed), deep or saturating nets, small-but-adequate learning rates,
schedulers, clipping and accumulation inside a ``train_step``, class imbalance, label
smoothing and label noise (a loss that never reaches zero), frozen layers, integer
token inputs, targets of scale 100, models returning tuples or dicts, and L-BFGS.

Checkup should report no error on any of them (and ideally no warning).

Names are prefixed ``h-``. Data are synthetic and learnable (a fixed random teacher
network or a simple rule); a held-out sample is drawn from the same rule with another
seed.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from .common import Setup, case

# ----------------------------------------------------------------------------- helpers


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _teacher(d_in: int, d_out: int, seed: int, hidden: int = 32, gain: float = 1.5):
    """A fixed random tanh network: the rule the synthetic labels follow."""
    g = _g(seed)
    w1 = torch.randn(d_in, hidden, generator=g) * (gain / d_in ** 0.5)
    b1 = torch.randn(hidden, generator=g) * 0.5
    w2 = torch.randn(hidden, d_out, generator=g) / hidden ** 0.5

    def f(X):
        return torch.tanh(X @ w1 + b1) @ w2

    return f


def _classes(n: int, d: int, k: int, seed: int, teacher_seed: int = 1234):
    X = torch.randn(n, d, generator=_g(seed))
    y = _teacher(d, k, teacher_seed)(X).argmax(1)
    return X, y


def _regression(n: int, d: int, seed: int, teacher_seed: int = 4321, noise: float = 0.05):
    g = _g(seed)
    X = torch.randn(n, d, generator=g)
    y = _teacher(d, 1, teacher_seed)(X) + noise * torch.randn(n, 1, generator=g)
    return X, y


def _loader(X, y, batch: int, shuffle: bool = True, seed: int = 0) -> DataLoader:
    return DataLoader(TensorDataset(X, y), batch_size=batch, shuffle=shuffle,
                      generator=_g(seed) if shuffle else None)


def _batches(data):
    if (isinstance(data, (tuple, list)) and len(data) == 2
            and all(torch.is_tensor(t) for t in data)):
        return [data]
    return data


def _all_data(data):
    """The whole training set as one (X, y) pair."""
    if isinstance(data, DataLoader) and isinstance(data.dataset, TensorDataset):
        X, y = data.dataset.tensors
        return X, y
    pairs = list(_batches(data))
    return torch.cat([p[0] for p in pairs]), torch.cat([p[1] for p in pairs])


def _train(setup: Setup, steps: int) -> None:
    """``steps`` calls of the setup's own step (its train_step, or zero/backward/step)."""
    done = 0
    setup.model.train()
    while done < steps:
        for X, y in _batches(setup.data):
            if setup.train_step is not None:
                setup.train_step(X, y)
            else:
                setup.optimizer.zero_grad()
                loss = setup.loss_fn(setup.model(X), y)
                loss.backward()
                setup.optimizer.step()
            done += 1
            if done >= steps:
                return


@torch.no_grad()
def _eval_loss(setup: Setup, X, y) -> float:
    was = setup.model.training
    setup.model.eval()
    loss = float(setup.loss_fn(setup.model(X), y))
    setup.model.train(was)
    return loss


@torch.no_grad()
def _acc_argmax(model, X, y) -> float:
    model.eval()
    out = model(X)
    model.train()
    return (out.argmax(1) == y).float().mean().item()


@torch.no_grad()
def _acc_logit(model, X, y) -> float:
    """Accuracy of a single-logit (or per-label logit) binary output."""
    model.eval()
    out = model(X)
    model.train()
    return ((out > 0).float() == y).float().mean().item()


def _check(build, steps: int, frac: float | None = 0.3, heldout=None, metric=None,
           min_metric: float | None = None, what: str = "held-out accuracy"):
    """Train a fresh build for ``steps`` steps; the loss must fall below ``frac`` of its
    start and, if given, ``metric`` on held-out data must reach ``min_metric``."""
    torch.manual_seed(0)  # dropout and other in-training randomness
    setup = build()
    X, y = _all_data(setup.data)
    start = _eval_loss(setup, X, y)
    _train(setup, steps)
    end = _eval_loss(setup, X, y)
    holds = math.isfinite(end)
    text = f"train loss {start:.4g} -> {end:.4g} in {steps} steps ({end / start:.1%} of start"
    if frac is not None:
        holds = holds and end < frac * start
        text += f", needs < {frac:.0%})"
    else:
        holds = holds and end < start
        text += ", needs to fall)"
    if metric is not None:
        Xh, yh = heldout()
        m = metric(setup.model, Xh, yh)
        holds = holds and m >= min_metric
        text += f"; {what} {m:.3f} (needs >= {min_metric}"
        if yh.dtype == torch.long and yh.dim() == 1:
            text += f"; majority class {torch.bincount(yh).max().item() / len(yh):.2f}"
        text += ")"
    return holds, text


# --------------------------------------------------------------- normalisation, dropout


@case("h-batchnorm-mlp", "healthy", None,
      "PyTorch forum: 'What does model.eval() do for batchnorm layer?' "
      "(https://discuss.pytorch.org/t/what-does-model-eval-do-for-batchnorm-layer/7146)",
      confirm=lambda: _check(h_batchnorm_mlp, 400, 0.3, lambda: _classes(1024, 10, 3, 99),
                             _acc_argmax, 0.85))
def h_batchnorm_mlp():
    # BatchNorm1d in training mode: each sample's output depends on its batch-mates,
    # by design. Trained on shuffled mini-batches of 32.
    torch.manual_seed(0)
    X, y = _classes(512, 10, 3, 1)
    model = nn.Sequential(
        nn.Linear(10, 64), nn.BatchNorm1d(64), nn.ReLU(),
        nn.Linear(64, 64), nn.BatchNorm1d(64), nn.ReLU(),
        nn.Linear(64, 3))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 32))


def _blob_images(n: int, seed: int, channels: int = 3, size: int = 16, low: float | None = None):
    """Class c (0..3) = a bright blob in quadrant c, over noise. With ``low`` set, pixel
    values are in [0, 1] (background uniform in [0, low])."""
    g = _g(seed)
    y = torch.randint(0, 4, (n,), generator=g)
    half = size // 2
    if low is None:
        X = 0.3 * torch.randn(n, channels, size, size, generator=g)
    else:
        X = low * torch.rand(n, channels, size, size, generator=g)
    grid = torch.arange(size).float()
    for i in range(n):
        r0 = (y[i] // 2) * half
        c0 = (y[i] % 2) * half
        cy = r0 + 1 + torch.rand(1, generator=g) * (half - 2)
        cx = c0 + 1 + torch.rand(1, generator=g) * (half - 2)
        blob = torch.exp(-((grid[:, None] - cy) ** 2 + (grid[None, :] - cx) ** 2) / 3.0)
        X[i] += blob
    if low is not None:
        X = X.clamp(0, 1)
    return X, y


@case("h-batchnorm-cnn", "healthy", None,
      "Stack Overflow: 'Why does the accuracy fluctuate widely after using batch "
      "normalization' (seen via mirror https://techqa.club/v/q/why-does-the-accuracy-"
      "fluctuate-widely-after-using-batch-normalization-74946623)",
      confirm=lambda: _check(h_batchnorm_cnn, 300, 0.3, lambda: _blob_images(256, 99),
                             _acc_argmax, 0.9))
def h_batchnorm_cnn():
    # Conv -> BatchNorm2d -> ReLU blocks on 3x16x16 images, SGD with momentum.
    torch.manual_seed(0)
    X, y = _blob_images(512, 1)
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 32))


@case("h-dropout-mlp", "healthy", None,
      "fast.ai forum: 'Training Loss > Validation Loss' (dropout on in training, off in "
      "validation) (https://forums.fast.ai/t/training-loss-validation-loss/57521)",
      confirm=lambda: _check(h_dropout_mlp, 400, 0.3, lambda: _classes(1024, 20, 4, 99),
                             _acc_argmax, 0.75))
def h_dropout_mlp():
    # Dropout(0.5) twice: the training-mode output is random from call to call.
    torch.manual_seed(0)
    X, y = _classes(1024, 20, 4, 2)
    model = nn.Sequential(
        nn.Linear(20, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 4))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, (X, y))


@case("h-layernorm-mlp", "healthy", None,
      "common pattern, e.g. forum questions on LayerNorm instead of BatchNorm for small "
      "batches (LayerNorm + GELU MLP regression, batches of 16)",
      confirm=lambda: _check(h_layernorm_mlp, 400, 0.3))
def h_layernorm_mlp():
    torch.manual_seed(0)
    X, y = _regression(512, 16, 3)
    model = nn.Sequential(
        nn.Linear(16, 64), nn.LayerNorm(64), nn.GELU(),
        nn.Linear(64, 64), nn.LayerNorm(64), nn.GELU(),
        nn.Linear(64, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.MSELoss(), opt, _loader(X, y, 16))


# ----------------------------------------------------------------- attention, sequences


def _progressions(n: int, seed: int, length: int = 8):
    """Arithmetic sequences a, a+b, ..., a+(L-1)b; the target is the next term."""
    g = _g(seed)
    a = torch.randn(n, 1, generator=g)
    b = 0.3 * torch.randn(n, 1, generator=g)
    t = torch.arange(length + 1).float()
    seq = a + b * t
    return seq[:, :length, None], seq[:, length:]


class _TinyTransformer(nn.Module):
    def __init__(self, length: int = 8, d: int = 32):
        super().__init__()
        self.inp = nn.Linear(1, d)
        self.pos = nn.Parameter(0.1 * torch.randn(length, d))
        layer = nn.TransformerEncoderLayer(d, nhead=4, dim_feedforward=64,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2)
        self.head = nn.Linear(d, 1)

    def forward(self, x):  # x: (batch, seq, 1)
        h = self.encoder(self.inp(x) + self.pos)
        return self.head(h[:, -1])


@case("h-transformer-encoder", "healthy", None,
      "PyTorch forum: 'Transformer cannot predict next number in linear sequence' "
      "(https://discuss.pytorch.org/t/transformer-cannot-predict-next-number-in-linear-"
      "sequence/184454)",
      confirm=lambda: _check(h_transformer_encoder, 600, 0.3))
def h_transformer_encoder():
    # The report's task (next number of a linear sequence), done the way that works:
    # batch_first=True encoder layers (dropout 0.1, the default), a width-32 embedding,
    # learned positions, read-out from the last position.
    torch.manual_seed(0)
    X, y = _progressions(1024, 4)
    model = _TinyTransformer()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.MSELoss(), opt, _loader(X, y, 64))


class _SelfAttentionPool(nn.Module):
    """Hand-written single-head self-attention (softmax over keys), then mean pooling."""

    def __init__(self, d: int = 8, k: int = 3, width: int = 32):
        super().__init__()
        self.q = nn.Linear(d, width)
        self.k = nn.Linear(d, width)
        self.v = nn.Linear(d, width)
        self.out = nn.Linear(width, k)

    def forward(self, x):  # x: (batch, seq, d)
        q, k, v = self.q(x), self.k(x), self.v(x)
        att = torch.softmax(q @ k.transpose(1, 2) / k.shape[-1] ** 0.5, dim=-1)
        h = (att @ v).mean(dim=1)
        return self.out(torch.relu(h))


def _token_classes(n: int, seed: int, length: int = 10, d: int = 8, k: int = 3):
    g = _g(seed)
    X = torch.randn(n, length, d, generator=g)
    P = torch.randn(d, k, generator=_g(777))
    y = (X.mean(dim=1) @ P).argmax(1)
    return X, y


@case("h-self-attention-rmsprop", "healthy", None,
      "common pattern, e.g. forum questions about a hand-written attention layer "
      "(softmax over the key axis inside forward, logits out, CrossEntropyLoss)",
      confirm=lambda: _check(h_self_attention_rmsprop, 400, 0.3,
                             lambda: _token_classes(512, 99), _acc_argmax, 0.85))
def h_self_attention_rmsprop():
    # A softmax inside forward (over keys, dim=-1) that is not the output: the model
    # still returns logits to CrossEntropyLoss. RMSprop.
    torch.manual_seed(0)
    X, y = _token_classes(1024, 5)
    model = _SelfAttentionPool()
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64))


def _sines(n: int, seed: int, length: int = 20):
    """Sine waves of random frequency and phase; the target is the next value."""
    g = _g(seed)
    w = 0.2 + 0.4 * torch.rand(n, 1, generator=g)
    phi = 2 * math.pi * torch.rand(n, 1, generator=g)
    t = torch.arange(length + 1).float()
    s = torch.sin(w * t + phi)
    return s[:, :length, None], s[:, length:]


class _LSTMForecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 32, batch_first=True)
        self.head = nn.Linear(32, 1)

    def forward(self, x):  # x: (batch, seq, 1)
        out, _ = self.lstm(x)
        return self.head(out[:, -1, :])


@case("h-lstm-batch-first", "healthy", None,
      "PyTorch forum: 'Loss not decreasing in LSTM network' (one-layer LSTM, "
      "batch_first=True, last hidden state to a dense head, univariate forecasting) "
      "(https://discuss.pytorch.org/t/loss-not-decreasing-in-lstm-network/159152)",
      confirm=lambda: _check(h_lstm_batch_first, 300, 0.3))
def h_lstm_batch_first():
    torch.manual_seed(0)
    X, y = _sines(512, 6)
    model = _LSTMForecaster()
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    return Setup(model, nn.MSELoss(), opt, (X, y))


class _SeqFirstLSTM(nn.Module):
    """Default nn.LSTM (batch_first=False), fed (seq, batch, feature) correctly."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 24)
        self.fc = nn.Linear(24, 1)

    def forward(self, x):  # x: (batch, seq, 1) as the data come
        out, _ = self.lstm(x.transpose(0, 1))  # (seq, batch, 1), what the LSTM expects
        return self.fc(out[-1])


@case("h-lstm-seq-first", "healthy", None,
      "PyTorch forum: 'In a number sequence 1,2,3,4 estimate the next number using LSTM' "
      "(default nn.LSTM without batch_first) (https://discuss.pytorch.org/t/in-a-number-"
      "sequence-1-2-3-4-estimate-the-next-number-using-lstm/202270)",
      confirm=lambda: _check(h_lstm_seq_first, 400, 0.3))
def h_lstm_seq_first():
    # The data are (batch, seq, 1); the model transposes to (seq, batch, 1) itself.
    torch.manual_seed(0)
    X, y = _progressions(512, 7, length=6)
    model = _SeqFirstLSTM()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    return Setup(model, nn.MSELoss(), opt, (X, y))


def _gru_data(n: int, seed: int, length: int = 12):
    g = _g(seed)
    X = torch.randn(n, length, 4, generator=g)
    y = (X[:, :, 0].sum(1) > X[:, :, 1].sum(1)).long()
    return X, y


class _GRUClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 32, batch_first=True)
        self.fc = nn.Linear(32, 2)

    def forward(self, x):
        _, h = self.gru(x)  # h: (1, batch, 32)
        return self.fc(h[-1])


@case("h-gru-batch-first", "healthy", None,
      "PyTorch forum: 'How to Train GRU Model with Correct Forward Function?' (quoted in "
      "https://huggingface.co/datasets/nvidia/Nemotron-CC-Math-v1; forum URL not seen)",
      confirm=lambda: _check(h_gru_batch_first, 400, 0.3, lambda: _gru_data(512, 99),
                             _acc_argmax, 0.9))
def h_gru_batch_first():
    # GRU with batch_first=True, the final hidden state h_n (shape (1, B, H)) to a head.
    torch.manual_seed(0)
    X, y = _gru_data(512, 8)
    model = _GRUClassifier()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 32))


def _chirps(n: int, seed: int, freqs: int = 8, steps: int = 16):
    """1 x freq x time 'spectrograms': class 0 a rising line, class 1 a falling one."""
    g = _g(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    X = 0.3 * torch.randn(n, 1, freqs, steps, generator=g)
    t = torch.arange(steps).float()
    for i in range(n):
        start = torch.rand(1, generator=g) * 2
        f = start + t * (freqs - 3) / steps
        if y[i] == 1:
            f = freqs - 1 - f
        X[i, 0, f.round().long().clamp(0, freqs - 1), torch.arange(steps)] += 1.5
    return X, y


class _CNNLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.cnn = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.MaxPool2d((2, 1)),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.MaxPool2d((4, 1)))
        self.lstm = nn.LSTM(16, 32, batch_first=True)
        self.fc = nn.Linear(32, 2)

    def forward(self, x):  # x: (batch, 1, freq, time)
        h = self.cnn(x).squeeze(2)  # (batch, 16, time)
        out, _ = self.lstm(h.permute(0, 2, 1))  # (batch, time, 16)
        return self.fc(out[:, -1])


@case("h-cnn-lstm-permute", "healthy", None,
      "PyTorch forum: 'PyTorch model not converging in a CNN + LSTM classification task' "
      "(CNN features permuted to [batch, seq, feature] for the LSTM) "
      "(https://discuss.pytorch.org/t/pytorch-model-not-converging-in-a-cnn-lstm-"
      "classification-task/178875)",
      confirm=lambda: _check(h_cnn_lstm_permute, 300, 0.3, lambda: _chirps(256, 99),
                             _acc_argmax, 0.9))
def h_cnn_lstm_permute():
    # permute(0, 2, 1) moves the channel and time axes, never the batch axis.
    torch.manual_seed(0)
    X, y = _chirps(512, 9)
    model = _CNNLSTM()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 32))


# ------------------------------------------------------------ depth and saturating units


@case("h-deep-mlp-kaiming", "healthy", None,
      "leonardoaraujosantos/DLMatFramework#16: 'Investigate Issue with Deep Network' "
      "(deep FC-ReLU net that trained once its initialization was fixed)",
      confirm=lambda: _check(h_deep_mlp_kaiming, 400, 0.3))
def h_deep_mlp_kaiming():
    # Ten Linear layers with ReLU, Kaiming-normal weights and zero biases: gradients
    # keep their size from the output layer back to the first.
    torch.manual_seed(0)
    X, y = _regression(512, 16, 10)
    layers = [nn.Linear(16, 64), nn.ReLU()]
    for _ in range(8):
        layers += [nn.Linear(64, 64), nn.ReLU()]
    layers.append(nn.Linear(64, 1))
    model = nn.Sequential(*layers)
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return Setup(model, nn.MSELoss(), opt, (X, y))


@case("h-deep-tanh-xavier", "healthy", None,
      "common pattern, e.g. questions on training deeper tanh networks (six tanh layers "
      "with Xavier init, classification)",
      confirm=lambda: _check(h_deep_tanh_xavier, 500, 0.3, lambda: _classes(2048, 12, 3, 99),
                             _acc_argmax, 0.75))
def h_deep_tanh_xavier():
    torch.manual_seed(0)
    X, y = _classes(2048, 12, 3, 11)
    layers = [nn.Linear(12, 64), nn.Tanh()]
    for _ in range(5):
        layers += [nn.Linear(64, 64), nn.Tanh()]
    layers.append(nn.Linear(64, 3))
    model = nn.Sequential(*layers)
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight, gain=nn.init.calculate_gain("tanh"))
            nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64))


def _sine_points(n: int, seed: int):
    g = _g(seed)
    x = (torch.rand(n, 1, generator=g) * 2 - 1) * math.pi
    y = torch.sin(x) / 2.5 + 0.05 * torch.randn(n, 1, generator=g)
    return x, y


@case("h-tanh-sine", "healthy", None,
      "Cross Validated: 'Approximate the sine function with shallow neural network' "
      "(PyTorch, tanh layers, sin(x)/2.5 + noise) "
      "(https://stats.stackexchange.com/questions/320289/approximate-the-sine-function-"
      "with-shallow-neural-network)",
      confirm=lambda: _check(h_tanh_sine, 500, 0.3))
def h_tanh_sine():
    torch.manual_seed(0)
    X, y = _sine_points(1024, 12)
    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                          nn.Linear(32, 1))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, nn.MSELoss(), opt, (X, y))


def _circle(n: int, seed: int):
    g = _g(seed)
    X = torch.randn(n, 2, generator=g)
    y = (X.norm(dim=1, keepdim=True) < 1.18).float()
    return X, y


@case("h-sigmoid-hidden", "healthy", None,
      "common pattern, e.g. textbook 'points inside a circle' classifiers with a sigmoid "
      "hidden layer",
      confirm=lambda: _check(h_sigmoid_hidden, 600, 0.3, lambda: _circle(1024, 99),
                             _acc_logit, 0.9))
def h_sigmoid_hidden():
    # A sigmoid hidden layer (not only at the output), logits to BCEWithLogitsLoss.
    torch.manual_seed(0)
    X, y = _circle(1024, 13)
    model = nn.Sequential(nn.Linear(2, 16), nn.Sigmoid(), nn.Linear(16, 1))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    return Setup(model, nn.BCEWithLogitsLoss(), opt, (X, y))


class _ResidualMLP(nn.Module):
    def __init__(self, d_in: int = 10, width: int = 32, blocks: int = 6):
        super().__init__()
        self.inp = nn.Linear(d_in, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))
            for _ in range(blocks))
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        h = self.inp(x)
        for block in self.blocks:
            h = h + block(h)  # residual connection
        return self.out(torch.relu(h))


@case("h-residual-mlp", "healthy", None,
      "common pattern, e.g. forum questions on adding x + f(x) skip connections to an MLP",
      confirm=lambda: _check(h_residual_mlp, 400, 0.3))
def h_residual_mlp():
    torch.manual_seed(0)
    X, y = _regression(512, 10, 14)
    model = _ResidualMLP()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.MSELoss(), opt, _loader(X, y, 32))


# ---------------------------------------------------------------- binary losses, imbalance


@case("h-sigmoid-bceloss", "healthy", None,
      "PyTorch forum: 'Loss function for binary classification' (sigmoid output with "
      "BCELoss) (https://discuss.pytorch.org/t/loss-function-for-binary-classification/"
      "72150)",
      confirm=lambda: _check(h_sigmoid_bceloss, 400, 0.3,
                             lambda: _binary(1024, 8, 99), _acc_prob, 0.85))
def h_sigmoid_bceloss():
    # nn.Sigmoid at the output and nn.BCELoss, target shaped (B, 1) like the output.
    torch.manual_seed(0)
    X, y = _binary(1024, 8, 15)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1), nn.Sigmoid())
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return Setup(model, nn.BCELoss(), opt, _loader(X, y, 64))


def _binary(n: int, d: int, seed: int, positive_rate: float = 0.5):
    """Binary labels (B, 1) from the teacher; ``positive_rate`` sets the imbalance."""
    X = torch.randn(n, d, generator=_g(seed))
    score = _teacher(d, 1, 2468)(X)
    ref = _teacher(d, 1, 2468)(torch.randn(8192, d, generator=_g(13579)))
    cut = torch.quantile(ref, 1 - positive_rate)
    return X, (score > cut).float()


@torch.no_grad()
def _acc_prob(model, X, y) -> float:
    model.eval()
    out = model(X)
    model.train()
    return ((out > 0.5).float() == y).float().mean().item()


def _multilabel(n: int, d: int, seed: int):
    X = torch.randn(n, d, generator=_g(seed))
    y = (_teacher(d, 3, 3579)(X) > 0).float()
    return X, y


@case("h-bcewithlogits-multilabel", "healthy", None,
      "common pattern, e.g. forum questions on multi-label classification with "
      "BCEWithLogitsLoss and multi-hot float targets",
      confirm=lambda: _check(h_bcewithlogits_multilabel, 400, 0.3,
                             lambda: _multilabel(1024, 12, 99), _acc_logit, 0.85,
                             "held-out per-label accuracy"))
def h_bcewithlogits_multilabel():
    torch.manual_seed(0)
    X, y = _multilabel(1024, 12, 16)
    model = nn.Sequential(nn.Linear(12, 64), nn.ReLU(), nn.Linear(64, 3))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, nn.BCEWithLogitsLoss(), opt, _loader(X, y, 64))


@torch.no_grad()
def _balanced_acc(model, X, y) -> float:
    model.eval()
    pred = (model(X) > 0).float()
    model.train()
    tpr = (pred[y == 1] == 1).float().mean()
    tnr = (pred[y == 0] == 0).float().mean()
    return ((tpr + tnr) / 2).item()


@case("h-imbalanced-90-10", "healthy", None,
      "PyTorch forum: 'Predictions stuck at zero when positive label (1) is only 16% of "
      "data' (answer: BCEWithLogitsLoss with pos_weight) (https://discuss.pytorch.org/t/"
      "predictions-stuck-at-zero-when-positive-label-1-is-only-16-of-data/145203)",
      confirm=lambda: _check(h_imbalanced_90_10, 500, 0.3,
                             lambda: _binary(2048, 10, 99, positive_rate=0.1),
                             _balanced_acc, 0.85, "held-out balanced accuracy"))
def h_imbalanced_90_10():
    # 90% negatives, 10% positives; pos_weight = 9 balances the two classes' losses.
    torch.manual_seed(0)
    X, y = _binary(1024, 10, 17, positive_rate=0.1)
    model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([9.0]))
    return Setup(model, loss, opt, _loader(X, y, 64))


# ------------------------------------------------------------- optimizers and schedules


@case("h-adamw-weight-decay", "healthy", None,
      "Stack Overflow: 'AdamW and Adam with weight decay' "
      "(https://stackoverflow.com/questions/64621585/adamw-and-adam-with-weight-decay)",
      confirm=lambda: _check(h_adamw_weight_decay, 700, 0.3, lambda: _classes(2048, 16, 5, 99),
                             _acc_argmax, 0.7))
def h_adamw_weight_decay():
    torch.manual_seed(0)
    X, y = _classes(2048, 16, 5, 18)
    model = nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 5))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64))


@case("h-warmup-lambdalr", "healthy", None,
      "pytorch/pytorch#45895: 'Custom learning rate scheduler LambdaLR only supports epoch "
      "as argument rather than step' (a per-step warmup via LambdaLR)",
      confirm=lambda: _check(h_warmup_lambdalr, 500, 0.3, lambda: _classes(2048, 16, 4, 99),
                             _acc_argmax, 0.75))
def h_warmup_lambdalr():
    # A per-step linear warmup from 0.25x to 1x over 300 steps, then constant: the
    # learning rate rises slowly, by under 2% per call.
    torch.manual_seed(0)
    X, y = _classes(2048, 16, 4, 19)
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 4))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, 0.25 + 0.75 * s / 300))

    def train_step(X, y):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        sched.step()
        return loss

    return Setup(model, loss_fn, opt, _loader(X, y, 64), train_step)


def _signals(n: int, seed: int, length: int = 32):
    """Two-channel signals; the class is which of three frequencies is present."""
    g = _g(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    freq = torch.tensor([0.15, 0.35, 0.6])[y][:, None, None]
    t = torch.arange(length).float()
    phase = 2 * math.pi * torch.rand(n, 2, 1, generator=g)
    X = torch.sin(freq * 2 * math.pi * t / 4 + phase) + 0.3 * torch.randn(n, 2, length,
                                                                         generator=g)
    return X, y


@case("h-steplr-per-epoch", "healthy", None,
      "pytorch/pytorch#3814: 'Scheduler.step() doesn't perform optimizer.step()' "
      "(maintainers: step the scheduler after each epoch, not each iteration)",
      confirm=lambda: _check(h_steplr_per_epoch, 320, 0.3, lambda: _signals(512, 99),
                             _acc_argmax, 0.9))
def h_steplr_per_epoch():
    # StepLR(step_size=3, gamma=0.5) meant per epoch, and stepped per epoch: the
    # train_step counts batches and steps the scheduler after the last one of each epoch.
    torch.manual_seed(0)
    X, y = _signals(512, 20)
    loader = _loader(X, y, 32)
    model = nn.Sequential(
        nn.Conv1d(2, 16, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(16, 16, 5, padding=2), nn.ReLU(), nn.AdaptiveMaxPool1d(1),
        nn.Flatten(), nn.Linear(16, 3))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    batches_per_epoch = len(loader)
    seen = {"batches": 0}

    def train_step(X, y):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        seen["batches"] += 1
        if seen["batches"] % batches_per_epoch == 0:  # end of an epoch
            sched.step()
        return loss

    return Setup(model, loss_fn, opt, loader, train_step)


def _running_mean(n: int, seed: int, length: int = 10):
    g = _g(seed)
    X = torch.randn(n, length, 3, generator=g)
    y = X[:, :, 0].mean(1, keepdim=True) * 2 + X[:, -1, 1:2]
    return X, y


class _RNNRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(3, 32, batch_first=True)
        self.fc = nn.Linear(32, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


@case("h-clip-grad-norm", "healthy", None,
      "PyTorch forum: 'Clip gradient norm from chatbot tutorial' "
      "(https://discuss.pytorch.org/t/clip-gradient-norm-from-chatbot-tutorial/35106)",
      confirm=lambda: _check(h_clip_grad_norm, 400, 0.3))
def h_clip_grad_norm():
    # clip_grad_norm_(max_norm=1.0) between backward() and step(), in the train_step.
    torch.manual_seed(0)
    X, y = _running_mean(512, 21)
    model = _RNNRegressor()
    loss_fn = nn.MSELoss()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def train_step(X, y):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
        return loss

    return Setup(model, loss_fn, opt, _loader(X, y, 32), train_step)


@case("h-sgd-small-lr-linear", "healthy", None,
      "PyTorch forum: 'Why is this simple linear regression with only two variables so hard "
      "to converge during gradient descent?' (modelled as the well-conditioned case, where "
      "lr=1e-3 does converge) (https://discuss.pytorch.org/t/why-is-this-simple-linear-"
      "regression-with-only-two-variables-so-hard-to-converge-during-gradient-descent/"
      "208572)",
      confirm=lambda: _check(h_sgd_small_lr_linear, 1000, 0.3))
def h_sgd_small_lr_linear():
    # Plain SGD at lr=1e-3 on a well-conditioned linear regression, batches of 16:
    # a small step, but 32 of them per epoch, and the loss is down ~50x in 30 epochs.
    torch.manual_seed(0)
    g = _g(22)
    X = torch.randn(512, 20, generator=g)
    w = torch.randn(20, 1, generator=g)
    y = X @ w + 0.1 * torch.randn(512, 1, generator=g)
    model = nn.Linear(20, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    return Setup(model, nn.MSELoss(), opt, _loader(X, y, 16))


def _scaled_blobs():
    X, y = _blob_images(256, 98)
    return 3.0 * X, y


class _LeNet(nn.Module):
    def __init__(self, k: int = 4):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 3)
        self.fc1 = nn.Linear(16 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, k)

    def forward(self, x):  # (batch, 3, 16, 16)
        x = self.pool(F.relu(self.conv1(x)))  # (batch, 6, 6, 6)
        x = self.pool(F.relu(self.conv2(x)))  # (batch, 16, 2, 2)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


@case("h-sgd-1e-3-momentum-cnn", "healthy", None,
      "common pattern, e.g. the PyTorch 'Training a Classifier' CIFAR-10 tutorial setup "
      "(LeNet, SGD lr=0.001 momentum=0.9) copied into many forum questions",
      confirm=lambda: _check(h_sgd_1e_3_momentum_cnn, 1000, 0.3,
                             _scaled_blobs, _acc_argmax, 0.9))
def h_sgd_1e_3_momentum_cnn():
    # lr=1e-3 with momentum 0.9 on roughly unit-variance images: the loss sits near its
    # start for the first ~150 steps, then falls steadily (about 3% of start by 500).
    torch.manual_seed(0)
    X, y = _blob_images(512, 23)
    X = 3.0 * X  # standardised images: pixel std about 1
    model = _LeNet()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 16))


class _MnistStyleNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 4 * 4, 3)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.log_softmax(self.fc(torch.flatten(x, 1)), dim=1)


def _bars(n: int, seed: int, low: float = 0.2):
    """1x8x8 images in [0, 1]: class 0 a horizontal bar, 1 a vertical bar, 2 a diagonal."""
    g = _g(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    X = low * torch.rand(n, 1, 8, 8, generator=g)
    pos = torch.randint(1, 7, (n,), generator=g)
    for i in range(n):
        if y[i] == 0:
            X[i, 0, pos[i], :] = 0.9
        elif y[i] == 1:
            X[i, 0, :, pos[i]] = 0.9
        else:
            idx = torch.arange(8)
            X[i, 0, idx, (idx + pos[i] - 3).clamp(0, 7)] = 0.9
    return X, y


@case("h-logsoftmax-nll-adadelta", "healthy", None,
      "common pattern, e.g. the pytorch/examples MNIST script copied into forum questions "
      "(F.log_softmax output + NLLLoss, Adadelta lr=1.0)",
      confirm=lambda: _check(h_logsoftmax_nll_adadelta, 300, 0.3, lambda: _bars(256, 99),
                             _acc_argmax, 0.95))
def h_logsoftmax_nll_adadelta():
    # log_softmax + NLLLoss is the correct pairing (log-probabilities, not probabilities).
    torch.manual_seed(0)
    X, y = _bars(512, 24)
    model = _MnistStyleNet()
    opt = torch.optim.Adadelta(model.parameters(), lr=1.0)
    return Setup(model, nn.NLLLoss(), opt, _loader(X, y, 32))


# ------------------------------------------------------------------- labels and targets


@case("h-label-smoothing", "healthy", None,
      "common pattern, e.g. 'loss does not go to zero' questions with "
      "CrossEntropyLoss(label_smoothing=0.1)",
      confirm=lambda: _check(h_label_smoothing, 500, 0.5, lambda: _classes(2048, 16, 5, 99),
                             _acc_argmax, 0.7))
def h_label_smoothing():
    # The loss floor is about 0.5, not 0 (the entropy of the smoothed targets): the
    # loss must fall below half its start (ln 5 = 1.61), and held-out accuracy be high.
    torch.manual_seed(0)
    X, y = _classes(2048, 16, 5, 25)
    model = nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 5))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.CrossEntropyLoss(label_smoothing=0.1), opt, _loader(X, y, 64))


def _noisy_classes(n: int, d: int, k: int, seed: int, noise: float = 0.25):
    X, y = _classes(n, d, k, seed)
    g = _g(seed + 1000)
    flip = torch.rand(n, generator=g) < noise
    y = torch.where(flip, torch.randint(0, k, (n,), generator=g), y)
    return X, y


@case("h-noisy-labels", "healthy", None,
      "common pattern, e.g. questions on training with noisy labels (25% of labels "
      "replaced at random); the training loss stays high but the rule is learned",
      confirm=lambda: _check(h_noisy_labels, 500, 0.85, lambda: _classes(2048, 12, 3, 99),
                             _acc_argmax, 0.75, "held-out accuracy on clean labels"))
def h_noisy_labels():
    torch.manual_seed(0)
    X, y = _noisy_classes(2048, 12, 3, 26)
    model = nn.Sequential(nn.Linear(12, 64), nn.ReLU(), nn.Linear(64, 3))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64))


def _big_targets(n: int, seed: int):
    X, y = _regression(n, 8, seed, teacher_seed=8642, noise=0.02)
    return X, 250.0 * y  # targets of scale ~100 (std about 100)


@case("h-targets-scale-100", "healthy", None,
      "PyTorch forum: 'How to deal with the labels having drastically different values?' "
      "(regression targets in the thousands) (https://discuss.pytorch.org/t/how-to-deal-"
      "with-the-labels-having-drastically-different-values/116598)",
      confirm=lambda: _check(h_targets_scale_100, 600, 0.3))
def h_targets_scale_100():
    # Unit-scale inputs, targets with a standard deviation near 100, MSE, Adam: the loss
    # starts near 1e4 but falls steadily. Input scale is fine; only targets are large.
    torch.manual_seed(0)
    X, y = _big_targets(1024, 27)
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    return Setup(model, nn.MSELoss(), opt, _loader(X, y, 64))


# ------------------------------------------------------ frozen layers, accumulation, data


class _FrozenBackboneNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.Tanh())
        for m in self.backbone:
            if isinstance(m, nn.Linear):  # stands in for pretrained weights
                nn.init.orthogonal_(m.weight, gain=1.5)
        self.head = nn.Linear(64, 3)

    def forward(self, x):
        return self.head(self.backbone(x))


@torch.no_grad()
def _backbone_labels(backbone, X):
    f = backbone(X)
    return (f @ torch.randn(f.shape[1], 3, generator=_g(5555))).argmax(1)


def _frozen_heldout():
    s = h_frozen_backbone()
    X = torch.randn(1024, 20, generator=_g(99))
    return X, _backbone_labels(s.model.backbone, X)


@case("h-frozen-backbone", "healthy", None,
      "Stack Overflow question 44913720 on requires_grad and freezing (answer quotes the "
      "PyTorch docs: freeze the backbone, optimize only model.fc) (seen via mirror "
      "https://thinbug.com/q/44913720)",
      confirm=lambda: _check(h_frozen_backbone, 400, 0.3, _frozen_heldout, _acc_argmax, 0.85))
def h_frozen_backbone():
    # The backbone's parameters have requires_grad=False (a stand-in for a pretrained
    # encoder); the optimizer holds only the head's, as it should. The labels are a
    # linear rule on the backbone's features, so the head alone can learn them.
    torch.manual_seed(0)
    model = _FrozenBackboneNet()
    for p in model.backbone.parameters():
        p.requires_grad = False
    X = torch.randn(1024, 20, generator=_g(28))
    y = _backbone_labels(model.backbone, X)
    opt = torch.optim.SGD(model.head.parameters(), lr=0.05, momentum=0.9)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64))


@case("h-grad-accumulation-correct", "healthy", None,
      "PyTorch forum: 'Pytorch gradient accumulation' (loss / accumulation_steps, step and "
      "zero_grad every k batches) (https://discuss.pytorch.org/t/pytorch-gradient-"
      "accumulation/55955)",
      confirm=lambda: _check(h_grad_accumulation_correct, 1000, 0.3,
                             lambda: _classes(2048, 16, 4, 99), _acc_argmax, 0.75))
def h_grad_accumulation_correct():
    # Gradients are deliberately summed over k=4 calls, then stepped and zeroed: they
    # are not zeroed between every call, and that is correct here.
    torch.manual_seed(0)
    X, y = _classes(1024, 16, 4, 29)
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 4))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    k = 4
    calls = {"n": 0}
    opt.zero_grad()

    def train_step(X, y):
        loss = loss_fn(model(X), y) / k
        loss.backward()
        calls["n"] += 1
        if calls["n"] % k == 0:
            opt.step()
            opt.zero_grad()
        return loss * k

    return Setup(model, loss_fn, opt, _loader(X, y, 32), train_step)


def _topic_tokens(n: int, seed: int, length: int = 12, vocab: int = 30):
    """Token ids: 4 topics with 5 marker tokens each (ids 1-20), noise tokens 21-29."""
    g = _g(seed)
    y = torch.randint(0, 4, (n,), generator=g)
    markers = 1 + y[:, None] * 5 + torch.randint(0, 5, (n, length), generator=g)
    noise = torch.randint(21, vocab, (n, length), generator=g)
    use_marker = torch.rand(n, length, generator=g) < 0.4
    return torch.where(use_marker, markers, noise), y


class _EmbeddingRNN(nn.Module):
    def __init__(self, vocab: int = 30):
        super().__init__()
        self.embedding = nn.Embedding(vocab, 16, padding_idx=0)
        self.rnn = nn.RNN(16, 32, batch_first=True)
        self.fc = nn.Linear(32, 4)

    def forward(self, x):  # x: (batch, seq) of token ids, dtype long
        _, h = self.rnn(self.embedding(x))
        return self.fc(h.squeeze(0))


@case("h-embedding-token-ids", "healthy", None,
      "Stack Overflow: 'What it means when your model can't overfit a small batch of "
      "data?' (nn.Embedding + nn.RNN(batch_first=True), 4 news topics) (seen via mirror "
      "https://whosebug.com/question/6549442/What-it-means-when-your-model-can-t-overfit-"
      "a-small-batch-of-data)",
      confirm=lambda: _check(h_embedding_token_ids, 500, 0.3, lambda: _topic_tokens(512, 99),
                             _acc_argmax, 0.9))
def h_embedding_token_ids():
    # Integer token ids (0..29) as X: not features, so their scale is not an issue.
    torch.manual_seed(0)
    X, y = _topic_tokens(512, 30)
    model = _EmbeddingRNN()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 32))


@case("h-cnn-pixels-0-1", "healthy", None,
      "PyTorch forum: 'Normalization is important?' (ToTensor pixels in [0, 1], no "
      "Normalize) (https://discuss.pytorch.org/t/normalization-is-important/114156)",
      confirm=lambda: _check(h_cnn_pixels_0_1, 300, 0.3, lambda: _bars(256, 98),
                             _acc_argmax, 0.95))
def h_cnn_pixels_0_1():
    # Pixels in [0, 1] (mean about 0.2), not standardised: fine for a small CNN.
    torch.manual_seed(0)
    X, y = _bars(512, 31)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 3))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 32))


@case("h-dataloader-no-shuffle-random-order", "healthy", None,
      "common pattern, e.g. 'do I need shuffle=True?' questions, where the stored order "
      "is already random (not sorted by label)",
      confirm=lambda: _check(h_dataloader_no_shuffle_random_order, 700, 0.3,
                             lambda: _classes(1024, 10, 3, 99), _acc_argmax, 0.8))
def h_dataloader_no_shuffle_random_order():
    # shuffle=False, but the samples were generated in random order: every batch
    # holds a mix of classes.
    torch.manual_seed(0)
    X, y = _classes(1024, 10, 3, 32)
    model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 3))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 32, shuffle=False))


# ------------------------------------------------------------ custom outputs and losses


class _TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(10, 64), nn.ReLU())
        self.cls = nn.Linear(64, 3)
        self.reg = nn.Linear(64, 1)

    def forward(self, x):
        h = self.body(x)
        return F.log_softmax(self.cls(h), dim=1), self.reg(h).squeeze(1)


def _two_task(n: int, seed: int):
    X, c = _classes(n, 10, 3, seed)
    r = _teacher(10, 1, 1357)(X).squeeze(1)
    return X, torch.stack([c.float(), r], dim=1)


def _two_task_loss(out, y):
    logp, reg = out
    return F.nll_loss(logp, y[:, 0].long()) + F.mse_loss(reg, y[:, 1])


@torch.no_grad()
def _acc_first_head(model, X, y) -> float:
    model.eval()
    logp, _ = model(X)
    model.train()
    return (logp.argmax(1) == y[:, 0].long()).float().mean().item()


@case("h-multi-output-tuple", "healthy", None,
      "PyTorch forum: 'Multi output model' (answer: two heads, log_softmax outputs, "
      "loss1 + loss2) (https://discuss.pytorch.org/t/multi-output-model/49447)",
      confirm=lambda: _check(h_multi_output_tuple, 400, 0.3, lambda: _two_task(1024, 99),
                             _acc_first_head, 0.85, "held-out accuracy of the class head"))
def h_multi_output_tuple():
    # The model returns a tuple (log-probabilities, regression); y packs both targets;
    # a custom loss sums NLL and MSE.
    torch.manual_seed(0)
    X, y = _two_task(1024, 33)
    model = _TwoHeads()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    return Setup(model, _two_task_loss, opt, _loader(X, y, 64))


class _DictOutput(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(12, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh())
        self.logits = nn.Linear(64, 4)
        self.box = nn.Linear(64, 2)

    def forward(self, x):
        h = self.body(x)
        return {"logits": self.logits(h), "box": self.box(h)}


def _dict_task(n: int, seed: int):
    X, c = _classes(n, 12, 4, seed)
    box = _teacher(12, 2, 9753)(X)
    return X, torch.cat([c[:, None].float(), box], dim=1)


class _DictLoss(nn.Module):
    def __init__(self):
        super().__init__()
        self.ce = nn.CrossEntropyLoss()
        self.l1 = nn.SmoothL1Loss()

    def forward(self, out, y):
        return self.ce(out["logits"], y[:, 0].long()) + 2.0 * self.l1(out["box"], y[:, 1:])


@torch.no_grad()
def _acc_dict(model, X, y) -> float:
    model.eval()
    out = model(X)
    model.train()
    return (out["logits"].argmax(1) == y[:, 0].long()).float().mean().item()


@case("h-multi-output-dict", "healthy", None,
      "common pattern, e.g. detection-style models returning a dict of outputs "
      "(class logits and box regression) with a loss module that reads it",
      confirm=lambda: _check(h_multi_output_dict, 500, 0.3, lambda: _dict_task(1024, 99),
                             _acc_dict, 0.75, "held-out accuracy of the logits head"))
def h_multi_output_dict():
    torch.manual_seed(0)
    X, y = _dict_task(1024, 34)
    model = _DictOutput()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    return Setup(model, _DictLoss(), opt, _loader(X, y, 64))


class _FunctionalMLP(nn.Module):
    """Parameters declared by hand and used through torch.nn.functional."""

    def __init__(self, d_in: int = 6, width: int = 48):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(width, d_in) * (2.0 / d_in) ** 0.5)
        self.b1 = nn.Parameter(torch.zeros(width))
        self.w2 = nn.Parameter(torch.randn(1, width) * (1.0 / width) ** 0.5)
        self.b2 = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return F.linear(F.silu(F.linear(x, self.w1, self.b1)), self.w2, self.b2)


@case("h-functional-parameters", "healthy", None,
      "common pattern, e.g. forum questions on custom modules with nn.Parameter weights "
      "used via F.linear (SGD with Nesterov momentum)",
      confirm=lambda: _check(h_functional_parameters, 500, 0.3))
def h_functional_parameters():
    torch.manual_seed(0)
    X, y = _regression(512, 6, 35)
    model = _FunctionalMLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, nesterov=True)
    return Setup(model, nn.MSELoss(), opt, _loader(X, y, 32))


@case("h-lbfgs-closure", "healthy", None,
      "pytorch/pytorch#111369: 'torch.optim.LBFGS error' (LBFGS with a closure on a "
      "small regression, 100x10 data) (https://github.com/pytorch/pytorch/issues/111369)",
      confirm=lambda: _check(h_lbfgs_closure, 15, 0.3))
def h_lbfgs_closure():
    # L-BFGS needs a closure that re-evaluates the loss; the train_step builds it and
    # returns the loss. Full batch.
    torch.manual_seed(0)
    X, y = _regression(256, 10, 36, noise=0.02)
    model = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 1))
    loss_fn = nn.MSELoss()
    opt = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=20, history_size=10,
                            line_search_fn="strong_wolfe")

    def train_step(X, y):
        def closure():
            opt.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            return loss

        return opt.step(closure)

    return Setup(model, loss_fn, opt, (X, y), train_step)

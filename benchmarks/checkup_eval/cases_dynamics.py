"""Bug cases for the training-dynamics codes (case names start with "d-").

Nine codes, four setups each: dead-relu, cannot-overfit-batch, slow-progress,
lr-schedule-too-fast, vanishing-gradient, exploding-gradient, saturated-activation,
batch-mixing and labels-not-learnable.

Every builder takes ``fixed=False``; ``fixed=True`` returns the same setup with the one
bug repaired, which is what each ``confirm()`` trains next to the broken one. The bug
itself is written out in the builder (look for the ``fixed`` branch). Data are synthetic
and learnable: a random teacher network or a simple rule, seeded, so every build is
identical.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, TensorDataset

from .common import Setup, case, standard_epoch

# --------------------------------------------------------------------------- helpers


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _loader(X, y, batch_size: int, seed: int, shuffle: bool = True) -> DataLoader:
    return DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle,
                      generator=_gen(seed))


def _batches(data):
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(torch.is_tensor(t)
                                                                  for t in data):
        return [tuple(data)]
    return list(data)


def _all_data(data):
    batches = _batches(data)
    return torch.cat([b[0] for b in batches]), torch.cat([b[1] for b in batches])


def _teacher_regression(n: int, d: int, seed: int, hidden: int = 16):
    """Inputs ~ N(0, 1); target = a random one-hidden-layer tanh net, scaled to unit std."""
    g = _gen(seed)
    X = torch.randn(n, d, generator=g)
    W1 = torch.randn(d, hidden, generator=g) / d ** 0.5
    W2 = torch.randn(hidden, 1, generator=g) / hidden ** 0.5
    y = torch.tanh(2 * X @ W1) @ W2
    return X, (y - y.mean()) / y.std()


def _teacher_classes(n: int, d: int, k: int, seed: int):
    """Inputs ~ N(0, 1); label = argmax of a random one-hidden-layer tanh net."""
    g = _gen(seed)
    X = torch.randn(n, d, generator=g)
    W1 = torch.randn(d, 32, generator=g) / d ** 0.5
    W2 = torch.randn(32, k, generator=g)
    return X, (torch.tanh(2 * X @ W1) @ W2).argmax(1)


def _images(n: int, seed: int, size: int = 8):
    """Nonnegative 1 x size x size 'pixel' images; label 1 when the left half is brighter."""
    g = _gen(seed)
    X = torch.rand(n, 1, size, size, generator=g)
    X[:, :, :, : size // 2] *= 0.7 + 0.6 * torch.rand(n, 1, 1, 1, generator=g)
    y = (X[:, 0, :, : size // 2].mean((1, 2)) > X[:, 0, :, size // 2:].mean((1, 2))).long()
    return X, y


def _train(setup: Setup, epochs: int) -> Setup:
    for _ in range(epochs):
        standard_epoch(setup)
    return setup


@torch.no_grad()
def _loss(setup: Setup) -> float:
    """The setup's own loss over all its data, in eval mode."""
    X, y = _all_data(setup.data)
    was = setup.model.training
    setup.model.eval()
    value = float(setup.loss_fn(setup.model(X), y))
    setup.model.train(was)
    return value


@torch.no_grad()
def _accuracy(model, X, y, batch_size: int | None = None) -> float:
    was = model.training
    model.eval()
    size = batch_size or len(X)
    correct = 0
    for i in range(0, len(X), size):
        out = model(X[i:i + size])
        pred = out.argmax(1) if out.dim() > 1 and out.shape[1] > 1 else (out.reshape(-1) > 0)
        correct += int((pred.long() == y[i:i + size].reshape(-1).long()).sum())
    model.train(was)
    return correct / len(X)


def _loss_gap(build, epochs: int, margin: float, what: str = "") -> tuple[bool, str]:
    """Train broken and fixed alike; the broken final loss must exceed margin x fixed."""
    start = _loss(build())
    bad = _loss(_train(build(), epochs))
    good = _loss(_train(build(fixed=True), epochs))
    holds = bad > margin * good and good < start
    return holds, (f"{what}after {epochs} epochs the broken setup's loss is {bad:.4g} "
                   f"(start {start:.4g}), the fixed one's {good:.4g}; "
                   f"needs broken > {margin:g} x fixed")


def _relu_dead_fraction(model, X) -> list[float]:
    """Per nn.ReLU module: fraction of units (channels) that are zero for every sample."""
    fractions = []

    def hook(module, inputs, out):
        flat = out.reshape(out.shape[0], out.shape[1], -1) if out.dim() > 2 else out[..., None]
        fractions.append(float((flat.amax(dim=(0, 2)) <= 0).float().mean()))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.ReLU)]
    with torch.no_grad():
        model(X)
    for h in handles:
        h.remove()
    return fractions


def _dead_relu_confirm(build, epochs: int, margin: float) -> tuple[bool, str]:
    setup = build()
    X, _ = _all_data(setup.data)
    dead = _relu_dead_fraction(setup.model, X)
    holds, text = _loss_gap(build, epochs, margin)
    holds = holds and max(dead) >= 0.7
    dead = [round(d, 2) for d in dead]
    return holds, f"dead ReLU fraction per layer at hand-over {dead}; " + text


# --------------------------------------------------------------------------- dead-relu


@case("d-dead-relu-negative-bias-init", "bug", "dead-relu",
      "facebookresearch/dlrm#358: 'switched bias initialization to initialize to zeros per "
      "standard Xavier initialization' (https://github.com/facebookresearch/dlrm/pull/358): "
      "the bias may be initialised to a large negative value, so the ReLU inputs are negative "
      "and no gradient flows",
      confirm=lambda: _dead_relu_confirm(d_dead_relu_negative_bias_init, 150, 3.0))
def d_dead_relu_negative_bias_init(fixed=False):
    torch.manual_seed(0)
    X, y = _teacher_regression(1024, 13, seed=1)           # 13 dense features, as in DLRM
    model = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                          nn.Linear(32, 1))
    if fixed:
        nn.init.zeros_(model[0].bias)
    else:
        nn.init.normal_(model[0].bias, mean=-3.0, std=0.5)  # bug: large negative bias init
    return Setup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-3), (X, y))


@case("d-dead-relu-nonnegative-features-high-lr", "bug", "dead-relu",
      "Cross Validated question 450100 (https://stats.stackexchange.com/questions/450100/"
      "understanding-relu-does-this-unlucky-intialized-network-assign-all-instances): all "
      "features positive, so a hidden unit whose weights go negative is dead for every input; "
      "here one epoch of Adam at lr=0.1 on [0, 1] features pushed most units there, then the "
      "reader lowered the learning rate to 1e-3",
      confirm=lambda: _dead_relu_confirm(d_dead_relu_nonnegative_features_high_lr, 8, 2.0))
def d_dead_relu_nonnegative_features_high_lr(fixed=False):
    torch.manual_seed(0)
    X, y = _images(1024, seed=2)
    data = _loader(X.flatten(1), y.float()[:, None], 64, seed=3)   # 64 features in [0, 1]
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                          nn.Linear(32, 1))
    loss_fn = nn.BCEWithLogitsLoss()
    first_lr = 1e-3 if fixed else 0.1                        # bug: the first epoch at lr=0.1
    _train(Setup(model, loss_fn, torch.optim.Adam(model.parameters(), lr=first_lr), data), 1)
    return Setup(model, loss_fn, torch.optim.Adam(model.parameters(), lr=1e-3), data)


class _LSTMReluHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 32, batch_first=True)
        self.head = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def _last_steps_data(n: int, seed: int):
    """Sequences (n, 20, 3); target = a random tanh teacher of the last two time steps."""
    g = _gen(seed)
    X = torch.randn(n, 20, 3, generator=g)
    last = torch.cat([X[:, -1], X[:, -2]], 1)
    y = torch.tanh(2 * last @ (torch.randn(6, 16, generator=g) / 6 ** 0.5)) @ (
        torch.randn(16, 1, generator=g) / 4)
    return X, (y - y.mean()) / y.std()


@case("d-dead-relu-lstm-head-after-momentum-099", "bug", "dead-relu",
      "keras-team/keras#3687: 'Predictions are all zero' (https://github.com/keras-team/keras/"
      "issues/3687): LSTM followed by ReLU dense layers, SGD with momentum=0.99 and "
      "nesterov=True; here three epochs at lr=0.3, momentum=0.99 killed the ReLU head before "
      "the reader switched to Adam(lr=3e-3)",
      confirm=lambda: _dead_relu_confirm(d_dead_relu_lstm_head_after_momentum_099, 15, 3.0))
def d_dead_relu_lstm_head_after_momentum_099(fixed=False):
    torch.manual_seed(0)
    X, y = _last_steps_data(512, seed=4)
    data = _loader(X, y, 32, seed=5)
    model = _LSTMReluHead()
    if fixed:
        first = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    else:  # bug: the first epochs ran with momentum 0.99 at a high learning rate
        first = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.99, nesterov=True)
    _train(Setup(model, nn.MSELoss(), first, data), 3)
    return Setup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=3e-3), data)


@case("d-dead-relu-cnn-negative-conv-bias", "bug", "dead-relu",
      "Yang7879/3D-RecGAN#6: 'Editing certain if statements results in zero matrices' "
      "(https://github.com/Yang7879/3D-RecGAN/issues/6): the network predicted zero matrices, "
      "'due to Dead ReLU effect and depended on initialization'; here the first conv layer's "
      "bias is filled with -1.2 on [0, 1] images",
      confirm=lambda: _dead_relu_confirm(d_dead_relu_cnn_negative_conv_bias, 8, 2.0))
def d_dead_relu_cnn_negative_conv_bias(fixed=False):
    torch.manual_seed(0)
    X, y = _images(1024, seed=2)
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
                          nn.Flatten(), nn.Linear(16 * 64, 1))
    if not fixed:
        nn.init.constant_(model[0].bias, -1.2)              # bug: negative bias fill
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.BCEWithLogitsLoss(), opt, _loader(X, y.float()[:, None], 64, seed=3))


# ------------------------------------------------------- vanishing- / exploding-gradient


def _weight_ratios(setup: Setup) -> list[float]:
    """||grad|| / ||weight|| for every weight matrix/kernel, input side first, one batch."""
    X, y = _batches(setup.data)[0]
    setup.model.zero_grad()
    setup.loss_fn(setup.model(X), y).backward()
    ratios = [float(p.grad.norm() / p.detach().norm()) for p in setup.model.parameters()
              if p.dim() > 1 and p.grad is not None]
    setup.model.zero_grad()
    return ratios


def _gradient_confirm(build, epochs: int, margin: float, vanishing: bool) -> tuple[bool, str]:
    r = _weight_ratios(build())
    spread = r[0] / r[-1]
    shape_ok = spread < 1e-2 if vanishing else spread > 1e2
    holds, text = _loss_gap(build, epochs, margin)
    return holds and shape_ok, (f"grad/weight ratio first layer {r[0]:.1e}, output layer "
                                f"{r[-1]:.1e} (first/last {spread:.1e}); " + text)


def _mlp(sizes, act, init=None) -> nn.Sequential:
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if init is not None:
            init(layers[-1].weight)
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def _he(w):
    nn.init.kaiming_normal_(w, nonlinearity="relu")


@case("d-vanishing-deep-sigmoid-binary-features", "bug", "vanishing-gradient",
      "AI Stack Exchange: 'What could be the problem when a neural network with four hidden "
      "layers with the sigmoid activation function is not learning?' (https://ai."
      "stackexchange.com/questions/16557/what-could-be-the-problem-when-a-neural-network-with-"
      "four-hidden-layers-with-the): binary vectors mapped to real values, sigmoid in "
      "every hidden layer, high loss even on the training data (here 6 x 64 units, SGD)",
      confirm=lambda: _gradient_confirm(d_vanishing_deep_sigmoid_binary_features, 20, 3.0,
                                        vanishing=True))
def d_vanishing_deep_sigmoid_binary_features(fixed=False):
    torch.manual_seed(0)
    g = _gen(8)
    X = (torch.rand(1024, 24, generator=g) > 0.5).float()
    hidden = torch.tanh(2 * (X - 0.5) @ (torch.randn(24, 16, generator=g) / 24 ** 0.5))
    y = hidden @ torch.randn(16, 1, generator=g)
    y = (y - y.mean()) / y.std()
    sizes = [24, 64, 64, 64, 64, 64, 64, 1]
    if fixed:
        model = _mlp(sizes, nn.ReLU, init=_he)
    else:
        model = _mlp(sizes, nn.Sigmoid)                       # bug: sigmoid in 6 hidden layers
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return Setup(model, nn.MSELoss(), opt, _loader(X, y, 64, seed=9))


@case("d-vanishing-tanh-tiny-init", "bug", "vanishing-gradient",
      "SilasMarvin/dnns-from-scratch-in-zig#7: 'Use He weight initialization.' (https://github."
      "com/SilasMarvin/dnns-from-scratch-in-zig/pull/7): He init 'will allow you to go up to "
      "like 30 layers of depth ..., otherwise you will see vanishing gradients at only 5 "
      "layers' (compared with the repo's current initialisation); here a 7-layer tanh "
      "classifier initialised with N(0, 0.01^2)",
      confirm=lambda: _gradient_confirm(d_vanishing_tanh_tiny_init, 15, 3.0, vanishing=True))
def d_vanishing_tanh_tiny_init(fixed=False):
    torch.manual_seed(0)
    X, y = _teacher_classes(1024, 16, 4, seed=10)
    sizes = [16, 32, 32, 32, 32, 32, 32, 32, 4]
    if fixed:
        model = _mlp(sizes, nn.Tanh, init=lambda w: nn.init.xavier_normal_(w, gain=5 / 3))
    else:  # bug: every weight drawn from N(0, 0.01^2)
        model = _mlp(sizes, nn.Tanh, init=lambda w: nn.init.normal_(w, 0.0, 0.01))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64, seed=11))


@case("d-vanishing-sigmoid-cnn", "bug", "vanishing-gradient",
      "common pattern, e.g. LeNet-style CNNs written with a sigmoid after every convolution "
      "(as in the original LeNet; see the note in ChawDoe/LeNet5-MNIST-PyTorch#9, https://"
      "github.com/ChawDoe/LeNet5-MNIST-PyTorch/issues/9) made deeper; here 7 sigmoid conv "
      "layers on 1x8x8 images, RMSprop",
      confirm=lambda: _gradient_confirm(d_vanishing_sigmoid_cnn, 8, 2.0, vanishing=True))
def d_vanishing_sigmoid_cnn(fixed=False):
    torch.manual_seed(0)
    X, y = _images(1024, seed=12)
    act = nn.ReLU if fixed else nn.Sigmoid                     # bug: sigmoid after every conv
    layers = [nn.Conv2d(1, 8, 3, padding=1), act()]
    for _ in range(6):
        layers += [nn.Conv2d(8, 8, 3, padding=1), act()]
    model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(8 * 64, 2))
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64, seed=13))


@case("d-vanishing-sigmoid-mlp-2d-points", "bug", "vanishing-gradient",
      "Stack Overflow: 'Neural network architecture design' (http://stackoverflow.com/"
      "questions/20009078/neural-network-architecture-design): 2-D points inside a convex "
      "region, sigmoid units; with a third hidden layer the training accuracy drops to "
      "slightly better than chance (here 6 sigmoid layers, BCEWithLogits, SGD)",
      confirm=lambda: _gradient_confirm(d_vanishing_sigmoid_mlp_2d_points, 15, 5.0,
                                        vanishing=True))
def d_vanishing_sigmoid_mlp_2d_points(fixed=False):
    torch.manual_seed(0)
    g = _gen(14)
    X = torch.rand(1024, 2, generator=g) * 4 - 2
    y = (((X[:, 0] - 0.3) ** 2 + (X[:, 1] + 0.2) ** 2) < 1.0).float()[:, None]
    sizes = [2, 32, 32, 32, 32, 32, 32, 1]
    if fixed:
        model = _mlp(sizes, nn.ReLU, init=_he)
    else:
        model = _mlp(sizes, nn.Sigmoid)                       # bug: sigmoid in 6 hidden layers
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return Setup(model, nn.BCEWithLogitsLoss(), opt, _loader(X, y, 32, seed=15))


class _DeepBatchNormMLP(nn.Module):
    def __init__(self, residual: bool, depth: int = 50, width: int = 24):
        super().__init__()
        self.residual = residual
        self.inp = nn.Linear(16, width)
        if residual:   # pre-activation residual blocks
            blocks = [nn.Sequential(nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, width))
                      for _ in range(depth)]
        else:          # plain Linear -> BatchNorm -> ReLU stack
            blocks = [nn.Sequential(nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU())
                      for _ in range(depth)]
        self.blocks = nn.ModuleList(blocks)
        self.out = nn.Linear(width, 4)

    def forward(self, x):
        h = self.inp(x)
        for block in self.blocks:
            h = h + block(h) if self.residual else block(h)
        return self.out(h)


@case("d-exploding-deep-plain-batchnorm-mlp", "bug", "exploding-gradient",
      "common pattern, e.g. a very deep plain (no skip connections) Linear-BatchNorm-ReLU "
      "stack that will not train: batch norm alone does not stop the gradient explosion with "
      "depth (Yang et al., 'A Mean Field Theory of Batch Normalization', summarised in "
      "arXivTimes/arXivTimes#1134, https://github.com/arXivTimes/arXivTimes/issues/1134); "
      "here 50 blocks of width 24",
      confirm=lambda: _gradient_confirm(d_exploding_deep_plain_batchnorm_mlp, 10, 2.0,
                                        vanishing=False))
def d_exploding_deep_plain_batchnorm_mlp(fixed=False):
    torch.manual_seed(0)
    X, y = _teacher_classes(1024, 16, 4, seed=16)
    model = _DeepBatchNormMLP(residual=fixed)                 # bug: 50 plain BN blocks
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64, seed=17))


class _RNNRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(4, 32)
        self.rnn = nn.RNN(32, 64, batch_first=True)
        self.out = nn.Linear(64, 1)

    def forward(self, x):
        out, _ = self.rnn(self.inp(x))
        return self.out(out[:, -1])


@case("d-exploding-rnn-large-recurrent-init", "bug", "exploding-gradient",
      "common pattern, e.g. the backprop-through-time question in woowacampers/d2l-pytorch#4 "
      "('[8.5.5] gradient exploding이 RNN의 어떤 과정에서 발생할 수 있나요?', https://github.com/"
      "woowacampers/d2l-pytorch/issues/4): a tanh RNN whose recurrent matrix is too large "
      "blows the gradient up through time; here W_hh ~ N(0, (2.5/sqrt(64))^2), 50 steps",
      confirm=lambda: _gradient_confirm(d_exploding_rnn_large_recurrent_init, 10, 10.0,
                                        vanishing=False))
def d_exploding_rnn_large_recurrent_init(fixed=False):
    torch.manual_seed(0)
    g = _gen(18)
    X = torch.randn(512, 50, 4, generator=g)
    y = X[:, -5:, 0].sum(1, keepdim=True) / 5 ** 0.5
    model = _RNNRegressor()
    if not fixed:
        nn.init.normal_(model.rnn.weight_hh_l0, 0.0, 2.5 / 64 ** 0.5)  # bug: gain 2.5
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return Setup(model, nn.MSELoss(), opt, _loader(X, y, 32, seed=19))


class _DeepBatchNormCNN(nn.Module):
    def __init__(self, residual: bool, depth: int = 60, channels: int = 4):
        super().__init__()
        self.residual = residual
        self.stem = nn.Conv2d(1, channels, 3, padding=1)
        if residual:   # pre-activation residual blocks, last conv of each branch zero-initialised
            blocks = [nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(),
                                    nn.Conv2d(channels, channels, 3, padding=1))
                      for _ in range(depth)]
            for block in blocks:
                nn.init.zeros_(block[2].weight)
        else:          # plain Conv -> BatchNorm -> ReLU stack
            blocks = [nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1),
                                    nn.BatchNorm2d(channels), nn.ReLU())
                      for _ in range(depth)]
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(channels * 64, 2)

    def forward(self, x):
        h = self.stem(x)
        for block in self.blocks:
            h = h + block(h) if self.residual else block(h)
        return self.head(h.flatten(1))


@case("d-exploding-deep-plain-batchnorm-cnn", "bug", "exploding-gradient",
      "common pattern, e.g. 'should a deep net work without residual connections / batch "
      "norm?' questions (jay-mahadeokar/pynetbuilder#8, https://github.com/jay-mahadeokar/"
      "pynetbuilder/issues/8, asks it for ResNet without BatchNorm); here the other half: a "
      "60-layer plain Conv-BatchNorm-ReLU stack on 1x8x8 images, whose gradients grow layer "
      "by layer towards the input",
      confirm=lambda: _gradient_confirm(d_exploding_deep_plain_batchnorm_cnn, 6, 2.0,
                                        vanishing=False))
def d_exploding_deep_plain_batchnorm_cnn(fixed=False):
    torch.manual_seed(0)
    X, y = _images(512, seed=20)
    X = (X - 0.5) / 0.29
    model = _DeepBatchNormCNN(residual=fixed)                 # bug: 60 plain BN conv blocks
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64, seed=21))


class _CharRNN(nn.Module):
    """The char-RNN tutorial's cell (i2h on cat(input, hidden), i2o), with an input
    encoder and a tanh."""

    def __init__(self, vocab: int = 10, hidden: int = 48, n_out: int = 3, init_std=None):
        super().__init__()
        self.hidden = hidden
        self.encoder = nn.Linear(vocab, 16)
        self.i2h = nn.Linear(16 + hidden, hidden)
        self.i2o = nn.Linear(hidden, n_out)
        if init_std is not None:
            nn.init.normal_(self.i2h.weight, 0.0, init_std)

    def forward(self, x):                                      # x: (batch, time, vocab)
        h = x.new_zeros(x.shape[0], self.hidden)
        for t in range(x.shape[1]):
            h = torch.tanh(self.i2h(torch.cat([self.encoder(x[:, t]), h], 1)))
        return self.i2o(h)


def _char_sequences(n: int, seed: int, steps: int = 30, vocab: int = 10):
    g = _gen(seed)
    ids = torch.randint(0, vocab, (n, steps), generator=g)
    return F.one_hot(ids, vocab).float(), ids[:, -1] % 3      # class from the last char


@case("d-exploding-char-rnn-cell-large-init", "bug", "exploding-gradient",
      "pytorch/pytorch#2623: 'How to handle exploding/vanishing gradient in Pytorch and "
      "negative loss values' (https://github.com/pytorch/pytorch/issues/2623): the char-level "
      "RNN classification tutorial's i2h/i2o cell, exploding gradients; here the reader's "
      "init draws i2h from N(0, 0.45^2) (recurrent gain about 3), 30 steps, Adam",
      confirm=lambda: _gradient_confirm(d_exploding_char_rnn_cell_large_init, 8, 10.0,
                                        vanishing=False))
def d_exploding_char_rnn_cell_large_init(fixed=False):
    torch.manual_seed(0)
    X, y = _char_sequences(1024, seed=22)
    model = _CharRNN(init_std=None if fixed else 0.45)        # bug: N(0, 0.45^2) init
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64, seed=23))


# --------------------------------------------------------------------------- saturated-activation


def _tail_fractions(model, X) -> list[float]:
    """Per nn.Tanh / nn.Sigmoid module: fraction of pre-activations in the flat tails
    (|z| > 2 for tanh, where tanh' < 0.08; |z| > 4 for sigmoid, where sigmoid' < 0.02)."""
    fractions = []

    def hook(module, inputs, out):
        edge = 2.0 if isinstance(module, nn.Tanh) else 4.0
        fractions.append(float((inputs[0].abs() > edge).float().mean()))

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Tanh, nn.Sigmoid))]
    with torch.no_grad():
        model(X)
    for h in handles:
        h.remove()
    return fractions


def _saturation_confirm(build, epochs: int, margin: float) -> tuple[bool, str]:
    setup = build()
    X, _ = _all_data(setup.data)
    tails = _tail_fractions(setup.model, X)
    holds, text = _loss_gap(build, epochs, margin)
    holds = holds and max(tails) >= 0.5
    return holds, (f"fraction of pre-activations in the flat tails per tanh/sigmoid module "
                   f"{[round(t, 2) for t in tails]}; " + text)


@case("d-saturated-tanh-randn-weights", "bug", "saturated-activation",
      "common pattern, e.g. hand-written MLPs with W1 = torch.randn(fan_in, n_hidden) feeding "
      "a tanh, the 'saturated tanh' of Karpathy's makemore lecture (walked through in 'The "
      "weights in a study on fixing the saturated function', https://breno.bearblog.dev/the-"
      "weights-in-a-study-on-fixing-the-saturated-function); here 64 features -> 16 tanh -> "
      "16 tanh -> 5 classes, N(0, 1) weights, SGD",
      confirm=lambda: _saturation_confirm(d_saturated_tanh_randn_weights, 15, 4.0))
def d_saturated_tanh_randn_weights(fixed=False):
    torch.manual_seed(0)
    X, y = _teacher_classes(1024, 64, 5, seed=24)
    model = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                          nn.Linear(16, 5))
    if not fixed:
        for layer in (model[0], model[2]):
            with torch.no_grad():
                layer.weight.copy_(torch.randn(layer.weight.shape))  # bug: unscaled randn
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64, seed=25))


@case("d-saturated-sigmoid-uniform01-init", "bug", "saturated-activation",
      "tinygrad/tinygrad#566: 'Fix weight initialization' (https://github.com/tinygrad/"
      "tinygrad/pull/566): 'with uniform, test accuracy is around 50%' / 'but with "
      "scaled_uniform, we have >99.8%'; here nn.init.uniform_ with its default range [0, 1) "
      "on a sigmoid MLP, so the second layer's inputs sum to large positive values",
      confirm=lambda: _saturation_confirm(d_saturated_sigmoid_uniform01_init, 15, 4.0))
def d_saturated_sigmoid_uniform01_init(fixed=False):
    torch.manual_seed(0)
    X, y = _teacher_regression(1024, 20, seed=26)
    model = nn.Sequential(nn.Linear(20, 64), nn.Sigmoid(), nn.Linear(64, 64), nn.Sigmoid(),
                          nn.Linear(64, 1))
    if not fixed:
        nn.init.uniform_(model[0].weight)                    # bug: U(0, 1), unscaled
        nn.init.uniform_(model[2].weight)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    return Setup(model, nn.MSELoss(), opt, _loader(X, y, 64, seed=27))


def _denoising_data(n: int, seed: int):
    X, _ = _images(n, seed=seed)
    clean = X * 2 - 1                                          # images in [-1, 1]
    return clean + 0.3 * torch.randn(clean.shape, generator=_gen(seed + 1)), clean


@case("d-saturated-tanh-output-denoiser-normal-init", "bug", "saturated-activation",
      "wkentaro/pytorch-fcn#167: 'Gradient explosion occurs after modifying the weight "
      "initialization method' (https://github.com/wkentaro/pytorch-fcn/issues/167): the conv "
      "weights re-initialised from a normal distribution; here nn.init.normal_ with its default "
      "std=1 in a small conv denoiser whose output goes through nn.Tanh (targets in [-1, 1]), "
      "so the Tanh sits in its tails for nearly every pixel",
      confirm=lambda: _saturation_confirm(d_saturated_tanh_output_denoiser_normal_init, 10,
                                          5.0))
def d_saturated_tanh_output_denoiser_normal_init(fixed=False):
    torch.manual_seed(0)
    noisy, clean = _denoising_data(1024, seed=28)
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(16, 1, 3, padding=1), nn.Tanh())
    if not fixed:
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight)                    # bug: default std=1.0
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.MSELoss(), opt, _loader(noisy, clean, 64, seed=30))


class _SetRegressor(nn.Module):
    """DeepSets-style: phi on every element, pool over the set, rho on the pooled vector."""

    def __init__(self, pool: str):
        super().__init__()
        self.pool = pool
        self.phi = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 32))
        self.rho = nn.Sequential(nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))

    def forward(self, x):                                      # x: (batch, 64 elements, 4)
        h = self.phi(x)
        h = h.sum(1) if self.pool == "sum" else h.mean(1)
        return self.rho(h)


@case("d-saturated-tanh-after-sum-pooling", "bug", "saturated-activation",
      "common pattern, e.g. set / bag-of-elements models that pool with .sum(dim=1) where a "
      ".mean(dim=1) was meant, feeding a tanh layer: the pooled vector is 64 times larger "
      "than what the tanh was sized for (DeepSets-style regressor, 64 elements of 4 "
      "features, SGD)",
      confirm=lambda: _saturation_confirm(d_saturated_tanh_after_sum_pooling, 15, 5.0))
def d_saturated_tanh_after_sum_pooling(fixed=False):
    torch.manual_seed(0)
    g = _gen(31)
    X = torch.randn(1024, 64, 4, generator=g)
    y = X[:, :, 0].mean(1) * 8 + (X[:, :, 1] ** 2).mean(1) * 3
    y = ((y - y.mean()) / y.std())[:, None]
    model = _SetRegressor(pool="mean" if fixed else "sum")   # bug: sum over the set
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return Setup(model, nn.MSELoss(), opt, _loader(X, y, 64, seed=32))


# --------------------------------------------------------------------------- slow-progress


def _slow_confirm(build, epochs: int) -> tuple[bool, str]:
    """The broken setup keeps > 80% of its starting loss; the fixed one gets below 40%."""
    start = _loss(build())
    bad = _loss(_train(build(), epochs))
    good = _loss(_train(build(fixed=True), epochs))
    holds = bad > 0.8 * start and good < 0.4 * start
    return holds, (f"after {epochs} epochs the broken setup's loss is {bad:.4g} "
                   f"({bad / start:.0%} of its start {start:.4g}), the fixed one's {good:.4g} "
                   f"({good / start:.0%}); needs broken > 80% and fixed < 40% of the start")


class _TinyTransformer(nn.Module):
    def __init__(self, n_in: int = 4, d_model: int = 32, n_classes: int = 3):
        super().__init__()
        self.embed = nn.Linear(n_in, d_model)
        self.encoder = nn.TransformerEncoderLayer(d_model, nhead=4, dim_feedforward=64,
                                                  dropout=0.0, batch_first=True)
        self.head = nn.Linear(d_model, n_classes)

    def forward(self, x):                                      # x: (batch, time, n_in)
        return self.head(self.encoder(self.embed(x)).mean(1))


def _sequence_classes(n: int, seed: int, steps: int = 12):
    """Label = which of the first three features has the largest sum over time."""
    g = _gen(seed)
    X = torch.randn(n, steps, 4, generator=g)
    return X, X[:, :, :3].sum(1).argmax(1)


@case("d-slow-adam-lr-1e-7-transformer", "bug", "slow-progress",
      "huggingface/transformers#752: 'how to set the init learning rate when use bertAdam?' "
      "(https://github.com/huggingface/transformers/issues/752): the learning rate actually "
      "used was tiny and 'this cause the loss decrease very slow'; here a one-layer "
      "transformer encoder classifier with Adam(lr=1e-7)",
      confirm=lambda: _slow_confirm(d_slow_adam_lr_1e_7_transformer, 8))
def d_slow_adam_lr_1e_7_transformer(fixed=False):
    torch.manual_seed(0)
    X, y = _sequence_classes(1024, seed=33)
    model = _TinyTransformer()
    lr = 1e-3 if fixed else 1e-7                               # bug: lr=1e-7
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64, seed=34))


@case("d-slow-sgd-lr-1e-5-cnn", "bug", "slow-progress",
      "OpenLMLab/LOMO#50: '小学习率问题' (https://github.com/OpenLMLab/LOMO/issues/50): with "
      "a small learning rate (5e-5) for an SGD-style optimizer the loss did not go down; the "
      "maintainers: raise it to the 1e-2 / 1e-3 range; here a small CNN with SGD(lr=1e-5, "
      "momentum=0.9)",
      confirm=lambda: _slow_confirm(d_slow_sgd_lr_1e_5_cnn, 8))
def d_slow_sgd_lr_1e_5_cnn(fixed=False):
    torch.manual_seed(0)
    X, y = _images(1024, seed=35)
    X = (X - 0.5) / 0.29
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(16 * 4, 2))
    lr = 0.05 if fixed else 1e-5                               # bug: lr=1e-5 for SGD
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64, seed=36))


@case("d-slow-weight-decay-dominates", "bug", "slow-progress",
      "vladfi1/slippi-ai#23: 'Weight decay on main fork' (https://github.com/vladfi1/slippi-ai/"
      "pull/23): with decay_rate=1.0 'Preliminary results show this having very negative "
      "results on loss'; here SGD(lr=0.05, momentum=0.9, weight_decay=1.0) on an MLP "
      "regressor (SmoothL1Loss), so the decay term outweighs the data gradient",
      confirm=lambda: _slow_confirm(d_slow_weight_decay_dominates, 15))
def d_slow_weight_decay_dominates(fixed=False):
    torch.manual_seed(0)
    X, y = _teacher_regression(1024, 16, seed=37)
    model = _mlp([16, 64, 64, 1], nn.ReLU)
    wd = 1e-4 if fixed else 1.0                                # bug: weight_decay=1.0
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=wd)
    return Setup(model, nn.SmoothL1Loss(), opt, _loader(X, y, 64, seed=38))


class _GRURegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(3, 32, batch_first=True)
        self.out = nn.Linear(32, 1)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.out(out[:, -1])


@case("d-slow-adam-eps-1-gru", "bug", "slow-progress",
      "mlpnlp/mlpnlp-nmt#4: 'Fix default eps value of the Adam optimizer' (https://github.com/"
      "mlpnlp/mlpnlp-nmt/pull/4): eps=0.1 is far too large and 'the training does not work "
      "well' (the TensorFlow docstring's 'a current good choice is 1.0 or 0.1' for Inception "
      "is the usual origin); here Adam(lr=1e-3, eps=1.0) on a GRU regressor, so eps swamps "
      "sqrt(v) and the steps shrink to lr * gradient",
      confirm=lambda: _slow_confirm(d_slow_adam_eps_1_gru, 10))
def d_slow_adam_eps_1_gru(fixed=False):
    torch.manual_seed(0)
    X, y = _last_steps_data(512, seed=39)
    model = _GRURegressor()
    eps = 1e-8 if fixed else 1.0                               # bug: eps=1.0
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=eps)
    return Setup(model, nn.MSELoss(), opt, _loader(X, y, 32, seed=40))


# --------------------------------------------------------------------------- lr-schedule-too-fast


def _scheduled_step(model, loss_fn, optimizer, scheduler, per_batch: bool):
    """The reader's train_step. With per_batch=True it also steps the scheduler (the bug);
    the fixed version leaves the scheduler to the epoch loop (see _schedule_confirm)."""

    def train_step(X, y):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        if per_batch:
            scheduler.step()                                   # bug: once per batch
        return loss

    train_step.scheduler = scheduler
    train_step.per_batch = per_batch
    return train_step


def _schedule_confirm(build, epochs: int, margin: float) -> tuple[bool, str]:
    def run(setup):
        lr0 = setup.optimizer.param_groups[0]["lr"]
        lrs = []
        for _ in range(epochs):
            standard_epoch(setup)
            if not setup.train_step.per_batch:
                setup.train_step.scheduler.step()              # once per epoch, as meant
            lrs.append(setup.optimizer.param_groups[0]["lr"] / lr0)
        return _loss(setup), lrs

    start = _loss(build())
    bad, bad_lrs = run(build())
    good, good_lrs = run(build(fixed=True))
    holds = bad > margin * good and good < start and bad_lrs[0] < 0.05
    return holds, (f"lr / initial lr after epoch 1: per batch {bad_lrs[0]:.1e}, per epoch "
                   f"{good_lrs[0]:.2g}; after {epochs} epochs the per-batch setup's loss is "
                   f"{bad:.4g} (start {start:.4g}), the per-epoch one's {good:.4g}; needs "
                   f"per-batch > {margin:g} x per-epoch")


@case("d-lr-schedule-steplr-per-batch", "bug", "lr-schedule-too-fast",
      "pytorch/tutorials#640: 'Update transfer_learning_tutorial.py' (https://github.com/"
      "pytorch/tutorials/pull/640): 'scheduler.step() per epoch not per batch'; the tutorial's "
      "StepLR(step_size=7, gamma=0.1) with SGD(lr=0.001, momentum=0.9), here on a small CNN "
      "and stepped inside the batch loop",
      confirm=lambda: _schedule_confirm(d_lr_schedule_steplr_per_batch, 6, 3.0))
def d_lr_schedule_steplr_per_batch(fixed=False):
    torch.manual_seed(0)
    X, y = _images(1024, seed=41)
    X = (X - 0.5) / 0.29
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(16 * 4, 2))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.1)
    step = _scheduled_step(model, loss_fn, opt, sched, per_batch=not fixed)
    return Setup(model, loss_fn, opt, _loader(X, y, 32, seed=42), step)


@case("d-lr-schedule-exponential-per-batch", "bug", "lr-schedule-too-fast",
      "ivadomed/ivadomed#55: 'Fix scheduler updating' (https://github.com/ivadomed/ivadomed/"
      "pull/55): 'Scheduler was incorrectly stepped in the batch loop instead of in the epoch "
      "loop ..., causing the LR to be updated after each batch instead of after each epoch'; "
      "here an ExponentialLR(gamma=0.8) meant per epoch, on an MLP regressor with AdamW",
      confirm=lambda: _schedule_confirm(d_lr_schedule_exponential_per_batch, 10, 3.0))
def d_lr_schedule_exponential_per_batch(fixed=False):
    torch.manual_seed(0)
    X, y = _teacher_regression(1024, 16, seed=43)
    model = _mlp([16, 64, 64, 1], nn.ReLU)
    loss_fn = nn.MSELoss()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.8)
    step = _scheduled_step(model, loss_fn, opt, sched, per_batch=not fixed)
    return Setup(model, loss_fn, opt, _loader(X, y, 32, seed=44), step)


@case("d-lr-schedule-multistep-per-batch-lstm", "bug", "lr-schedule-too-fast",
      "pytorch/pytorch#3814: 'Scheduler.step() doesn't perform optimizer.step()' (https://"
      "github.com/pytorch/pytorch/issues/3814): a user calls scheduler.step() right after "
      "optimizer.step() in every iteration; the maintainers: 'Scheduler should step after the "
      "end of each epoch, not after every iteration'; here MultiStepLR(milestones=[5, 10], "
      "gamma=0.1) on an LSTM regressor with SGD",
      confirm=lambda: _schedule_confirm(d_lr_schedule_multistep_per_batch_lstm, 12, 3.0))
def d_lr_schedule_multistep_per_batch_lstm(fixed=False):
    torch.manual_seed(0)
    X, y = _last_steps_data(512, seed=45)

    class LSTMRegressor(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 32, batch_first=True)
            self.out = nn.Linear(32, 1)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.out(out[:, -1])

    model = LSTMRegressor()
    loss_fn = nn.MSELoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[5, 10], gamma=0.1)
    step = _scheduled_step(model, loss_fn, opt, sched, per_batch=not fixed)
    return Setup(model, loss_fn, opt, _loader(X, y, 32, seed=46), step)


@case("d-lr-schedule-lambda-decay-per-batch-transformer", "bug", "lr-schedule-too-fast",
      "aimagelab/meshed-memory-transformer#71: 'Call scheduler.step() per epoch AND per "
      "batch?' (https://github.com/aimagelab/meshed-memory-transformer/issues/71): a "
      "transformer whose LambdaLR is stepped inside the batch loop as well; here "
      "LambdaLR(lambda epoch: 0.85 ** epoch), written per epoch, stepped per batch, Adam",
      confirm=lambda: _schedule_confirm(d_lr_schedule_lambda_decay_per_batch_transformer, 8,
                                        3.0))
def d_lr_schedule_lambda_decay_per_batch_transformer(fixed=False):
    torch.manual_seed(0)
    X, y = _sequence_classes(1024, seed=47)
    model = _TinyTransformer()
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 0.85 ** epoch)
    step = _scheduled_step(model, loss_fn, opt, sched, per_batch=not fixed)
    return Setup(model, loss_fn, opt, _loader(X, y, 32, seed=48), step)


# --------------------------------------------------------------------------- cannot-overfit-batch


def _overfit_confirm(build, n: int, steps: int, margin: float) -> tuple[bool, str]:
    """Train on one fixed batch of n samples for `steps` steps with the setup's own loss
    and optimizer: the broken model must stay far from fitting it, the fixed one fit it."""

    def fit(setup):
        X, y = _all_data(setup.data)
        X, y = X[:n], y[:n]
        with torch.no_grad():
            start = float(setup.loss_fn(setup.model(X), y))
        for _ in range(steps):
            setup.optimizer.zero_grad()
            setup.loss_fn(setup.model(X), y).backward()
            setup.optimizer.step()
        with torch.no_grad():
            return start, float(setup.loss_fn(setup.model(X), y))

    bad0, bad = fit(build())
    good0, good = fit(build(fixed=True))
    holds = bad > margin * good and good < 0.1 * good0 and bad > 0.3 * bad0
    return holds, (f"one batch of {n} samples, {steps} steps: broken loss {bad0:.4g} -> "
                   f"{bad:.4g}, fixed {good0:.4g} -> {good:.4g}; needs broken > {margin:g} x "
                   f"fixed, broken > 30% of its start, fixed < 10% of its start")


@case("d-overfit-sigmoid-output-targets-0-100", "bug", "cannot-overfit-batch",
      "Stack Overflow: 'Backpropagation algorithm (Matlab): output values are saturating to 1' "
      "(http://stackoverflow.com/questions/14982358/backpropagation-algorithm-matlab-output-"
      "values-are-saturating-to-1/14982792): 43 z-scored features, 20 sigmoid hidden units, "
      "a sigmoid output node trained towards targets between 0 and 100",
      confirm=lambda: _overfit_confirm(d_overfit_sigmoid_output_targets_0_100, 16, 800, 100.0))
def d_overfit_sigmoid_output_targets_0_100(fixed=False):
    torch.manual_seed(0)
    X, t = _teacher_regression(512, 43, seed=49)
    y = (50 + 15 * t).clamp(0, 100)                            # targets in [0, 100]
    layers = [nn.Linear(43, 20), nn.Sigmoid(), nn.Linear(20, 1)]
    if not fixed:
        layers.append(nn.Sigmoid())                            # bug: output squashed to (0, 1)
    model = nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    return Setup(model, nn.MSELoss(), opt, (X, y))


@case("d-overfit-cnn-sigmoid-output-pixels-0-255", "bug", "cannot-overfit-batch",
      "Cross Validated: 'Understanding of the sigmoid activation function as last layer in "
      "network' (seen as a mirror at https://api.queryxchange.com/q/20_332591/understanding-of-"
      "the-sigmoid-activation-function-as-last-layer-in-network/): CONV + SIGMOID as the last "
      "layers, L2 loss, never near the solution; the answer: ground-truth pixels up to 255 "
      "while the sigmoid tops out at 1",
      confirm=lambda: _overfit_confirm(d_overfit_cnn_sigmoid_output_pixels_0_255, 16, 400, 100.0))
def d_overfit_cnn_sigmoid_output_pixels_0_255(fixed=False):
    torch.manual_seed(0)
    X, _ = _images(512, seed=50)                               # inputs in [0, 1]
    y = X * 255                                                # ground truth left in 0..255
    layers = [nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1),
              nn.ReLU(), nn.Conv2d(16, 1, 3, padding=1)]
    if not fixed:
        layers.append(nn.Sigmoid())                            # bug: sigmoid on the output
    model = nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    return Setup(model, nn.MSELoss(), opt, _loader(X, y, 32, seed=51))


def _rmse(pred, target):
    """The reader's own loss function: root mean squared error."""
    return torch.sqrt(F.mse_loss(pred, target))


@case("d-overfit-relu-on-regression-output", "bug", "cannot-overfit-batch",
      "jcjohnson/pytorch-examples#30: 'Activation not applied on the output layer' (https://"
      "github.com/jcjohnson/pytorch-examples/issues/30): the answer, 'If you apply ReLU to "
      "the output layer then the network cannot predict negative values'; here an MLP "
      "regressor with a final nn.ReLU, standardised targets (half of them negative) and a "
      "hand-written RMSE loss",
      confirm=lambda: _overfit_confirm(d_overfit_relu_on_regression_output, 32, 500, 20.0))
def d_overfit_relu_on_regression_output(fixed=False):
    torch.manual_seed(0)
    X, y = _teacher_regression(1024, 10, seed=52)
    layers = [nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1)]
    if not fixed:
        layers.append(nn.ReLU())                               # bug: ReLU on the output
    model = nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, _rmse, opt, _loader(X, y, 64, seed=53))


class _MultiLabelLSTM(nn.Module):
    def __init__(self, output_activation: str):
        super().__init__()
        self.lstm = nn.LSTM(8, 32, batch_first=True)
        self.fc = nn.Linear(32, 6)
        self.output_activation = output_activation

    def forward(self, x):
        out, _ = self.lstm(x)
        logits = self.fc(out[:, -1])
        if self.output_activation == "softmax":
            return torch.softmax(logits, dim=1)
        return torch.sigmoid(logits)


@case("d-overfit-softmax-multilabel-bce", "bug", "cannot-overfit-batch",
      "Pilhyeon/BaSNet-pytorch#19: 'about your losss function' (https://github.com/Pilhyeon/"
      "BaSNet-pytorch/issues/19): softmax probabilities trained with a BCE loss on a multi-"
      "label problem, 'mabey you should use sigmoid function, because every class may occur'; "
      "here an LSTM tagger whose softmax outputs (summing to 1) face multi-hot targets "
      "with two or three positives",
      confirm=lambda: _overfit_confirm(d_overfit_softmax_multilabel_bce, 16, 400, 10.0))
def d_overfit_softmax_multilabel_bce(fixed=False):
    torch.manual_seed(0)
    g = _gen(54)
    X = torch.randn(512, 10, 8, generator=g)
    scores = X.mean(1)[:, :6] + 0.3 * torch.randn(512, 6, generator=g)
    top = scores.topk(3, dim=1).indices
    y = torch.zeros(512, 6).scatter_(1, top[:, :2], 1.0)       # two or three labels each
    y[scores.max(1).values > 0.5, top[scores.max(1).values > 0.5, 2]] = 1.0
    model = _MultiLabelLSTM("sigmoid" if fixed else "softmax")  # bug: softmax, multi-label
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    return Setup(model, nn.BCELoss(), opt, _loader(X, y, 32, seed=55))


# --------------------------------------------------------------------------- batch-mixing


def _heldout_confirm(build, heldout, epochs: int, gap: float,
                     eval_batch: int | None = None,
                     chance: bool = False) -> tuple[bool, str]:
    """Train broken and fixed alike on their own data, then score both on the same
    correctly labelled held-out set. Default: the fixed one must win by `gap` in accuracy
    and the broken one make at least 3x as many errors. chance=True (labels cases): the
    broken one must stay within 0.05 of the majority-class baseline and the fixed one beat
    that baseline by `gap`."""
    Xh, yh = heldout
    bad = _accuracy(_train(build(), epochs).model, Xh, yh, eval_batch)
    good = _accuracy(_train(build(fixed=True), epochs).model, Xh, yh, eval_batch)
    baseline = float(torch.bincount(yh.reshape(-1).long()).max()) / len(yh)
    if chance:
        holds = bad <= baseline + 0.05 and good >= baseline + gap
        need = f"broken <= baseline + 0.05 and fixed >= baseline + {gap:g}"
    else:
        holds = good - bad >= gap and (1 - bad) >= 3 * (1 - good)
        need = f"fixed - broken >= {gap:g} and broken error >= 3 x fixed error"
    how = f" in batches of {eval_batch}" if eval_batch else ""
    return holds, (f"held-out accuracy{how} after {epochs} epochs: broken {bad:.3f}, fixed "
                   f"{good:.3f}, majority-class baseline {baseline:.3f}; needs {need}")


def _rows_data(n: int, seed: int):
    """(n, 8, 8) 'images' read row by row; label = top four rows brighter than 0.5 on
    average, so the last row carries no information about the label."""
    g = _gen(seed)
    X = torch.rand(n, 8, 8, generator=g)
    X[:, :4] += 0.3 * (torch.rand(n, 1, 1, generator=g) - 0.5)
    return (X - 0.5) / 0.3, (X[:, :4].mean((1, 2)) > 0.5).long()


class _RowLSTM(nn.Module):
    def __init__(self, batch_first: bool):
        super().__init__()
        self.lstm = nn.LSTM(8, 32, batch_first=batch_first)
        self.fc = nn.Linear(32, 2)

    def forward(self, x):                                      # x: (batch, rows, 8)
        out, _ = self.lstm(x)
        return self.fc(out[:, -1, :])


@case("d-batch-mixing-lstm-without-batch-first", "bug", "batch-mixing",
      "yunjey/pytorch-tutorial#196: 'LSTM question' (https://github.com/yunjey/pytorch-"
      "tutorial/issues/196): the MNIST row-by-row LSTM with batch_first=True changed to "
      "False, accuracy about 11% (also pytorch/pytorch#1538, 'different result on LSTM "
      "whether using batch_first'); here 8x8 images read row by row, (batch, seq, feature) "
      "fed to an LSTM that expects (seq, batch, feature)",
      confirm=lambda: _heldout_confirm(d_batch_mixing_lstm_without_batch_first,
                                       _rows_data(512, seed=57), 10, 0.2, eval_batch=16))
def d_batch_mixing_lstm_without_batch_first(fixed=False):
    torch.manual_seed(0)
    X, y = _rows_data(1024, seed=56)
    model = _RowLSTM(batch_first=fixed)                       # bug: batch_first left False
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64, seed=58))


class _BiGRUClassifier(nn.Module):
    def __init__(self, fixed: bool):
        super().__init__()
        self.fixed = fixed
        self.gru = nn.GRU(4, 24, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(48, 3)

    def forward(self, x):
        _, h_n = self.gru(x)                                   # h_n: (2, batch, 24)
        if self.fixed:
            h = h_n.permute(1, 0, 2).reshape(x.shape[0], -1)
        else:
            h = h_n.view(x.shape[0], -1)                       # bug: mixes samples
        return self.fc(h)


@case("d-batch-mixing-bigru-hidden-view", "bug", "batch-mixing",
      "common pattern, e.g. the bidirectional-RNN hidden state reshaped with "
      ".view(batch, -1), which interleaves different samples, as described in the blog post "
      "'The dangers of reshaping and other fun mistakes I've learnt from PyTorch' (https://"
      "medium.com/mcgill-artificial-intelligence-review/the-dangers-of-reshaping-and-other-fun-"
      "mistakes-ive-learnt-from-pytorch-b6a5bdc1c275); here h_n of shape (2, batch, 24) from "
      "a bidirectional GRU",
      confirm=lambda: _heldout_confirm(d_batch_mixing_bigru_hidden_view,
                                       _sequence_classes(512, seed=60), 10, 0.2,
                                       eval_batch=16))
def d_batch_mixing_bigru_hidden_view(fixed=False):
    torch.manual_seed(0)
    X, y = _sequence_classes(1024, seed=59)
    model = _BiGRUClassifier(fixed)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64, seed=61))


def _keyed_tokens(n: int, seed: int, steps: int = 8):
    """Tokens = (key, noisy one-hot class); label = the class of the token with the
    largest key, so the model has to pick one token out of the sequence."""
    g = _gen(seed)
    key = torch.randn(n, steps, 1, generator=g)
    cls = torch.randint(0, 3, (n, steps), generator=g)
    tokens = F.one_hot(cls, 3).float() * 2 - 1 + 0.1 * torch.randn(n, steps, 3, generator=g)
    return torch.cat([key, tokens], 2), cls.gather(1, key[:, :, 0].argmax(1, keepdim=True))[:, 0]


class _AttentionPoolClassifier(nn.Module):
    """Scores every time step, normalises the scores into weights, pools, classifies."""

    def __init__(self, fixed: bool):
        super().__init__()
        self.fixed = fixed
        self.proj = nn.Linear(4, 32)
        self.score = nn.Linear(32, 1)
        self.fc = nn.Linear(32, 3)

    def forward(self, x):                                      # x: (batch, time, 4)
        h = torch.tanh(self.proj(x))
        e = self.score(h).exp()                                # (batch, time, 1)
        if self.fixed:
            weights = e / e.sum(dim=1, keepdim=True)           # over time
        else:
            weights = e / e.sum(dim=0, keepdim=True)           # bug: over the batch
        return self.fc((weights * h).sum(1))


@case("d-batch-mixing-attention-normalised-over-batch", "bug", "batch-mixing",
      "allenai/deep_qa#152: 'fix bug in L1 normalization, add various tests for batched "
      "cases' (https://github.com/allenai/deep_qa/pull/152): 'causing probabilities to be "
      "normalized across the entire batch, as opposed to just one instance (due to sum "
      "axis)'; here a hand-written attention pooling whose weights are normalised with "
      ".sum(dim=0)",
      confirm=lambda: _heldout_confirm(d_batch_mixing_attention_normalised_over_batch,
                                       _keyed_tokens(512, seed=63), 15, 0.08,
                                       eval_batch=16))
def d_batch_mixing_attention_normalised_over_batch(fixed=False):
    torch.manual_seed(0)
    X, y = _keyed_tokens(1024, seed=62)
    model = _AttentionPoolClassifier(fixed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64, seed=64))


class _MHAClassifier(nn.Module):
    def __init__(self, batch_first: bool):
        super().__init__()
        self.embed = nn.Linear(4, 32)
        self.attn = nn.MultiheadAttention(32, num_heads=4, batch_first=batch_first)
        self.ff = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 32))
        self.head = nn.Linear(32, 3)

    def forward(self, x):                                      # x: (batch, time, 4)
        h = self.embed(x)
        a, _ = self.attn(h, h, h)
        h = h + a
        h = h + self.ff(h)
        return self.head(h.mean(1))


@case("d-batch-mixing-multihead-attention-batch-first", "bug", "batch-mixing",
      "om-ai-lab/OmDet#19: 'Batched MultiHeadAttention' (https://github.com/om-ai-lab/OmDet/"
      "issues/19): 'Shouldn't this MultiHeadAttention be initialized with batch_first=True, "
      "as the inputs of the self_attn layer are of the shape (batch_size, ...)? This causes "
      "inconsistencies when using the model for batch inference'; here a one-block "
      "attention classifier fed (batch, time, embed) with batch_first=False",
      confirm=lambda: _heldout_confirm(d_batch_mixing_multihead_attention_batch_first,
                                       _keyed_tokens(512, seed=66), 15, 0.08,
                                       eval_batch=16))
def d_batch_mixing_multihead_attention_batch_first(fixed=False):
    torch.manual_seed(0)
    X, y = _keyed_tokens(1024, seed=65)
    model = _MHAClassifier(batch_first=fixed)                 # bug: batch_first=False
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 64, seed=67))


# --------------------------------------------------------------------------- labels-not-learnable


def _train_part(data, n: int = 1024):
    """First n samples (the training set); _heldout_part gives the rest, same teacher."""
    return data[0][:n], data[1][:n]


def _heldout_part(data, n: int = 1024):
    return data[0][n:], data[1][n:]


@case("d-labels-shuffled-separately", "bug", "labels-not-learnable",
      "caicloud/tensorflow-tutorial#114: '第6章处理花图片数据的函数中打乱训练图片和标签问题' "
      "(https://github.com/caicloud/tensorflow-tutorial/issues/114): images and labels "
      "shuffled by two np.random.shuffle calls, kept aligned only by saving and restoring "
      "the RNG state in between; here the restore is missing, so the two permutations differ "
      "(MLP, 5 classes, tensors)",
      confirm=lambda: _heldout_confirm(d_labels_shuffled_separately,
                                       _heldout_part(_teacher_classes(1536, 20, 5, seed=68)),
                                       300, 0.3, chance=True))
def d_labels_shuffled_separately(fixed=False):
    torch.manual_seed(0)
    X, y = _train_part(_teacher_classes(1536, 20, 5, seed=68))
    g = _gen(70)
    X = X[torch.randperm(len(X), generator=g)]
    if fixed:
        g = _gen(70)                                           # same state for the labels
    y = y[torch.randperm(len(y), generator=g)]                 # bug: a different permutation
    model = _mlp([20, 64, 64, 5], nn.ReLU)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, (X, y))


@case("d-labels-off-by-one-images", "bug", "labels-not-learnable",
      "ddavid/fsoco#67: 'Added labels and updated documentation' (https://github.com/ddavid/"
      "fsoco/pull/67): 'is it possible that during labeling the indices were incremented by "
      "one?', the new frames' labels were shifted by one; here a CNN on 1x8x8 images whose "
      "label list is shifted by one position",
      confirm=lambda: _heldout_confirm(d_labels_off_by_one_images, _images(512, seed=72), 8,
                                       0.3, chance=True))
def d_labels_off_by_one_images(fixed=False):
    torch.manual_seed(0)
    X, y = _images(1024, seed=71)
    if not fixed:
        y = torch.roll(y, shifts=-1)                           # bug: label of the next image
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(16 * 4, 2))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, nn.CrossEntropyLoss(), opt, _loader(X, y, 32, seed=73))


class _CyclingLabelDataset(Dataset):
    """Returns image idx with a label drawn from its own running cursor (the bug) or with
    the label at idx (fixed)."""

    def __init__(self, X, y, fixed: bool, seed: int):
        self.X, self.y, self.fixed = X, y, fixed
        self.g = _gen(seed)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, idx):
        if self.fixed:
            return self.X[idx], self.y[idx]
        j = int(torch.randint(len(self.y), (1,), generator=self.g))   # bug: random label
        return self.X[idx], self.y[j]


@case("d-labels-dataset-cycles-labels-randomly", "bug", "labels-not-learnable",
      "amoodie/StratGAN#3: 'Check on the fact of images matching labels' (https://github.com/"
      "amoodie/StratGAN/issues/3): 'I don't think images are matching labels. I think they "
      "are being cycled through randomly, and things don't match. Will never learn that "
      "way'; here a Dataset whose __getitem__ pairs image idx with a randomly drawn label",
      confirm=lambda: _heldout_confirm(d_labels_dataset_cycles_labels_randomly,
                                       _heldout_part(_teacher_classes(1536, 16, 3, seed=74)),
                                       20, 0.3, chance=True))
def d_labels_dataset_cycles_labels_randomly(fixed=False):
    torch.manual_seed(0)
    X, y = _train_part(_teacher_classes(1536, 16, 3, seed=74))
    data = DataLoader(_CyclingLabelDataset(X, y, fixed, seed=76), batch_size=64, shuffle=True,
                      generator=_gen(77))
    model = _mlp([16, 64, 3], nn.ReLU)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return Setup(model, nn.CrossEntropyLoss(), opt, data)


class _GRUClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 32, batch_first=True)
        self.fc = nn.Linear(32, 3)

    def forward(self, x):
        out, _ = self.gru(x)
        return F.log_softmax(self.fc(out[:, -1]), dim=1)       # paired with NLLLoss


@case("d-labels-features-sorted-labels-not", "bug", "labels-not-learnable",
      "common pattern, e.g. a table of sequences sorted by a column (a timestamp, a length) "
      "after the label array was split off, so rows and labels no longer match (the "
      "alignment checks in 'Aligning Feature and Target Variables in Python', https://"
      "gurubase.io/g/python/aligning-feature-target-variables-python); here GRU "
      "sequences sorted by their first value while the labels keep the original order",
      confirm=lambda: _heldout_confirm(d_labels_features_sorted_labels_not,
                                       _sequence_classes(512, seed=79), 10, 0.3, chance=True))
def d_labels_features_sorted_labels_not(fixed=False):
    torch.manual_seed(0)
    X, y = _sequence_classes(1024, seed=78)
    order = X[:, 0, 0].argsort()
    X = X[order]                                               # sorted by the first value
    if fixed:
        y = y[order]                                           # labels follow the rows
    model = _GRUClassifier()                                   # bug: labels left unsorted
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    return Setup(model, nn.NLLLoss(), opt, _loader(X, y, 64, seed=80))

"""Bad input: setups checkup cannot run on, which it must refuse with LessonInputError.

Each ``build()`` returns a Setup with one piece wrong (empty or mismatched data, NumPy
arrays, batches that are not (X, y) pairs, a model that is not an nn.Module, an
optimizer that is a dict, a loss that returns a Python float, a forward that fails on
the data's width, no trainable parameters, a learning rate of 0, a train_step that is
not callable...). ``expect`` lists lowercase words, at least one of which a message
naming the problem would contain. There is no ``confirm()``: nothing here trains.

Names are prefixed ``x-``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from .common import Setup, case


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _xy(n: int = 64, d: int = 10, seed: int = 0):
    g = _g(seed)
    X = torch.randn(n, d, generator=g)
    y = (X[:, :1] - X[:, 1:2]).tanh()
    return X, y


def _mlp(d: int = 10, out: int = 1) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(d, 32), nn.ReLU(), nn.Linear(32, out))


# --------------------------------------------------------------------------------- data


@case("x-empty-tensors", "bad-input",
      ("empty", "no samples", "zero samples", "0 samples", "no data", "no rows", "0 rows"),
      "common pattern, e.g. a filter or split that leaves zero rows (X of shape (0, d))")
def x_empty_tensors():
    model = _mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    X = torch.empty(0, 10)
    y = torch.empty(0, 1)
    return Setup(model, nn.MSELoss(), opt, (X, y))


@case("x-length-mismatch", "bad-input",
      ("length", "mismatch", "same number", "differ", "match", "60"),
      "common pattern, e.g. 'Expected input batch_size (64) to match target batch_size "
      "(60)' error threads")
def x_length_mismatch():
    # 64 inputs, 60 targets (labels cut separately from the inputs).
    model = _mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    X, y = _xy(64)
    return Setup(model, nn.MSELoss(), opt, (X, y[:60]))


@case("x-numpy-arrays", "bad-input",
      ("numpy", "ndarray", "tensor"),
      "common pattern, e.g. 'expected Tensor ... but got numpy.ndarray' threads (data "
      "passed straight from pandas/NumPy)")
def x_numpy_arrays():
    model = _mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 10)).astype(np.float32)
    y = np.tanh(X[:, :1] - X[:, 1:2])
    return Setup(model, nn.MSELoss(), opt, (X, y))


@case("x-python-lists", "bad-input",
      ("list", "tensor"),
      "common pattern, e.g. features and labels kept as Python lists of floats")
def x_python_lists():
    model = _mlp(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    X, _ = _xy(32, 4)
    rows = X.tolist()
    labels = [int(r[0] > 0) for r in rows]
    return Setup(model, nn.CrossEntropyLoss(), opt, (rows, labels))


@case("x-batches-of-three", "bad-input",
      ("pair", "two", "three", "(x, y)", "unpack", "tuple"),
      "common pattern, e.g. a dataset yielding (input, target, sample_weight) triples")
def x_batches_of_three():
    # A list of (X, y, weight) batches: not (X, y) pairs.
    model = _mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    X, y = _xy(64)
    w = torch.ones(64, 1)
    batches = [(X[i:i + 16], y[i:i + 16], w[i:i + 16]) for i in range(0, 64, 16)]
    return Setup(model, nn.MSELoss(), opt, batches)


class _DictDataset(Dataset):
    def __init__(self):
        self.X, self.y = _xy(64)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return {"input": self.X[i], "label": self.y[i]}


@case("x-dict-batches", "bad-input",
      ("dict", "pair", "tuple", "(x, y)", "two"),
      "common pattern, e.g. Hugging Face-style datasets whose DataLoader yields dicts "
      "{'input': ..., 'label': ...}")
def x_dict_batches():
    model = _mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.MSELoss(), opt, DataLoader(_DictDataset(), batch_size=16))


@case("x-empty-dataloader", "bad-input",
      ("empty", "no batches", "no data", "zero", "no samples", "nothing"),
      "common pattern, e.g. a DataLoader over a dataset that came out empty (wrong path "
      "or filter)")
def x_empty_dataloader():
    model = _mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ds = TensorDataset(torch.empty(0, 10), torch.empty(0, 1))
    return Setup(model, nn.MSELoss(), opt, DataLoader(ds, batch_size=16))


@case("x-data-none", "bad-input",
      ("data", "none"),
      "common pattern, e.g. a data-loading function that forgot to return (data is None)")
def x_data_none():
    model = _mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.MSELoss(), opt, None)


# ------------------------------------------------------------------- model, loss, optim


@case("x-model-is-function", "bad-input",
      ("nn.module", "module"),
      "common pattern, e.g. a hand-written forward function over raw tensors passed "
      "where an nn.Module is expected")
def x_model_is_function():
    g = _g(1)
    w = (0.1 * torch.randn(10, 1, generator=g)).requires_grad_()
    b = torch.zeros(1, requires_grad=True)

    def model(x):
        return x @ w + b

    opt = torch.optim.SGD([w, b], lr=0.1)
    return Setup(model, nn.MSELoss(), opt, _xy(64))


@case("x-optimizer-is-dict", "bad-input",
      ("optimizer", "torch.optim"),
      "common pattern, e.g. optimizer settings (a config dict) passed instead of a "
      "torch.optim optimizer")
def x_optimizer_is_dict():
    model = _mlp()
    opt = {"name": "adam", "lr": 1e-3, "weight_decay": 0.0}
    return Setup(model, nn.MSELoss(), opt, _xy(64))


def _loss_as_float(out, y):
    return F.mse_loss(out, y).item()  # a Python float: nothing to backpropagate


@case("x-loss-returns-float", "bad-input",
      ("float", "tensor", "item", "scalar", "backward", "grad", "differentiable"),
      "common pattern, e.g. 'element 0 of tensors does not require grad and does not have "
      "a grad_fn' threads where the loss was turned into a number with .item()")
def x_loss_returns_float():
    model = _mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, _loss_as_float, opt, _xy(64))


@case("x-loss-fn-is-string", "bad-input",
      ("loss", "callable"),
      "common pattern, e.g. a Keras habit: loss='categorical_crossentropy' given as a "
      "string")
def x_loss_fn_is_string():
    model = _mlp(10, 3)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    X, _ = _xy(64)
    y = X[:, :3].argmax(1)
    return Setup(model, "categorical_crossentropy", opt, (X, y))


@case("x-forward-shape-mismatch", "bad-input",
      ("shape", "size", "mat1", "forward", "features", "width", "input", "dimension",
       "multiplied"),
      "common pattern, e.g. 'mat1 and mat2 shapes cannot be multiplied (64x10 and 12x32)' "
      "threads: nn.Linear(in_features) not matching the data's width")
def x_forward_shape_mismatch():
    model = _mlp(d=12)  # the first layer expects 12 features; the data have 10
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Setup(model, nn.MSELoss(), opt, _xy(64, 10))


@case("x-loss-target-shape", "bad-input",
      ("target", "shape", "loss", "multi-target", "size", "dimension"),
      "common pattern, e.g. '0D or 1D target tensor expected, multi-target not supported' "
      "threads: class indices kept as a (N, 1) column for CrossEntropyLoss")
def x_loss_target_shape():
    model = _mlp(10, 3)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    X, _ = _xy(64)
    y = X[:, :3].argmax(1, keepdim=True)  # (64, 1) long: CrossEntropyLoss raises
    return Setup(model, nn.CrossEntropyLoss(), opt, (X, y))


@case("x-all-parameters-frozen", "bad-input",
      ("trainable", "requires_grad", "requires grad", "frozen", "no parameters"),
      "lxztju/pytorch_classification#13: 'ValueError: optimizer got an empty parameter "
      "list' (fixed by undoing param.requires_grad = False in train.py) "
      "(https://github.com/lxztju/pytorch_classification/issues/13)")
def x_all_parameters_frozen():
    # The optimizer was built first, then every parameter was frozen: nothing can train.
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for p in model.parameters():
        p.requires_grad = False
    return Setup(model, nn.MSELoss(), opt, _xy(64))


@case("x-learning-rate-zero", "bad-input",
      ("learning rate", "lr", "zero"),
      "common pattern, e.g. a schedule or config that leaves lr=0 (the parameters never "
      "move)")
def x_learning_rate_zero():
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    return Setup(model, nn.MSELoss(), opt, _xy(64))


@case("x-train-step-not-callable", "bad-input",
      ("callable", "train_step", "function"),
      "common pattern, e.g. passing train_step(X, y) (its result, a loss tensor) instead "
      "of the function train_step")
def x_train_step_not_callable():
    model = _mlp()
    loss_fn = nn.MSELoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    X, y = _xy(64)

    def train_step(X, y):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        return loss

    return Setup(model, loss_fn, opt, (X, y), train_step(X, y))  # called, not passed

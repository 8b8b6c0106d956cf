"""checkup(): each code on a broken setup and a healthy one; the caller's state is kept."""

import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import convergence_lab as cl
from convergence_lab import CHECKS, Finding, LessonInputError, Report, checkup


def regression(n=512, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    y = X @ torch.randn(d, 1, generator=g) + 0.1 * torch.randn(n, 1, generator=g)
    return X, y


def classification(n=512, d=5, classes=3, seed=0):
    X, _ = regression(n, d, seed)
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0.5).long() * (classes - 2)
    return X, y


def mlp(d=5, out=1, hidden=32, seed=0, extra=()):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), *extra,
                         nn.Linear(hidden, out))


class Custom(nn.Module):
    def __init__(self, d=5, out=1, unused=False):
        super().__init__()
        torch.manual_seed(0)
        self.hidden = nn.Linear(d, 16)
        self.head = nn.Linear(16, out)
        if unused:
            self.spare = nn.Linear(16, out)

    def forward(self, x):
        return self.head(torch.tanh(self.hidden(x)))


def errors(report):
    return [f.code for f in report.findings if f.severity == "error"]


# ------------------------------------------------------------------ healthy setups
def test_healthy_regression_mlp_adam_dataloader():
    X, y = regression()
    model = mlp()
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    report = checkup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), 1e-3), loader)
    assert report.ok and report.codes == [], str(report)


def test_healthy_classification_cross_entropy_logits_class_indices():
    X, y = classification()
    model = mlp(out=3)
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    report = checkup(model, nn.CrossEntropyLoss(),
                     torch.optim.SGD(model.parameters(), 0.1), loader)
    assert report.ok and report.codes == [], str(report)


def test_healthy_custom_module_sgd_momentum_plain_tensors():
    X, y = regression()
    model = Custom()
    report = checkup(model, nn.MSELoss(),
                     torch.optim.SGD(model.parameters(), 0.01, momentum=0.9), (X, y))
    assert report.ok and report.codes == [], str(report)


@pytest.mark.parametrize("make", [
    lambda p: torch.optim.AdamW(p, 1e-3), lambda p: torch.optim.RMSprop(p, 1e-3),
    lambda p: torch.optim.Adagrad(p, 0.05)])
def test_healthy_with_other_optimizers(make):
    X, y = regression()
    model = mlp()
    assert checkup(model, nn.MSELoss(), make(model.parameters()), (X, y)).ok


def test_healthy_nll_with_log_softmax_and_bce_with_logits():
    X, y = classification()
    model = mlp(out=3, extra=())
    seq = nn.Sequential(model, nn.LogSoftmax(dim=1))
    report = checkup(seq, nn.NLLLoss(), torch.optim.Adam(seq.parameters(), 1e-2), (X, y))
    assert report.ok and "softmax-before-cross-entropy" not in report.codes, str(report)
    yb = (X[:, :1] > 0).float()
    model = mlp()
    report = checkup(model, nn.BCEWithLogitsLoss(),
                     torch.optim.Adam(model.parameters(), 1e-2), (X, yb))
    assert report.ok, str(report)


def test_healthy_plain_function_loss_and_dropout_batchnorm_eval_mode():
    X, y = regression()
    model = mlp(extra=(nn.Dropout(0.2), nn.BatchNorm1d(32))).eval()
    report = checkup(model, nn.functional.mse_loss,
                     torch.optim.Adam(model.parameters(), 1e-3), (X, y))
    assert report.ok, str(report)


# ------------------------------------------------------------------ each code
def test_loss_broadcast():
    X, y = regression()
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    report = checkup(model, nn.MSELoss(), opt, (X, y.ravel()))
    assert "loss-broadcast" in errors(report)
    assert "(512, 512)" in str(report) or "broadcasts" in str(report)
    assert "loss-broadcast" not in checkup(model, nn.MSELoss(), opt, (X, y)).codes


def test_loss_broadcast_in_a_custom_loss_function():
    X, y = regression()
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), 1e-3)

    def my_loss(p, t):
        return ((p - t) ** 2).mean()

    def reshaping_loss(p, t):
        return ((p - t.reshape(p.shape)) ** 2).mean()

    assert "loss-broadcast" in checkup(model, my_loss, opt, (X, y.ravel())).codes
    assert "loss-broadcast" not in checkup(model, reshaping_loss, opt, (X, y.ravel())).codes


def test_lr_too_large():
    X, y = regression()
    model = mlp()
    report = checkup(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), 2.0), (X, y))
    assert "lr-too-large" in errors(report)
    assert "0.2" in str(report) or "0.02" in str(report)
    model = mlp()
    healthy = checkup(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.05), (X, y))
    assert "lr-too-large" not in healthy.codes


def test_input_scale():
    X, y = regression()
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    scaled = X * torch.tensor([1.0, 1.0, 1000.0, 1.0, 1.0])
    report = checkup(model, nn.MSELoss(), opt, (scaled, y))
    found = [f for f in report.findings if f.code == "input-scale"]
    assert found and found[0].severity == "warning"
    assert "input-scale" not in checkup(model, nn.MSELoss(), opt, (X, y)).codes


def step_for(model, opt, loss_fn, zero=True):
    def train_step(xb, yb):
        if zero:
            opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss
    return train_step


def test_grad_accumulation_through_train_step():
    X, y = regression()
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), 0.01)
    bad = step_for(model, opt, nn.MSELoss(), zero=False)
    assert "grad-accumulation" in errors(checkup(model, nn.MSELoss(), opt, (X, y), bad))
    good = step_for(model, opt, nn.MSELoss())
    report = checkup(model, nn.MSELoss(), opt, (X, y), good)
    assert report.ok and report.codes == [], str(report)


def test_zero_grad_at_the_end_of_the_step_is_fine():
    X, y = regression()
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), 0.01)

    def train_step(xb, yb):
        loss = nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    assert checkup(model, nn.MSELoss(), opt, (X, y), train_step).ok


def test_param_not_in_optimizer():
    X, y = regression()
    model = mlp()
    opt = torch.optim.Adam(list(model.parameters())[:2], 1e-3)
    assert "param-not-in-optimizer" in errors(checkup(model, nn.MSELoss(), opt, (X, y)))
    other = mlp(seed=1)  # an optimizer built for another model instance
    report = checkup(model, nn.MSELoss(), torch.optim.Adam(other.parameters()), (X, y))
    assert "none of this model" in str(report)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    assert "param-not-in-optimizer" not in checkup(model, nn.MSELoss(), opt, (X, y)).codes


def test_no_gradient_unused_layer_and_detached_step():
    X, y = regression()
    model = Custom(unused=True)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    report = checkup(model, nn.MSELoss(), opt, (X, y))
    assert "no-gradient" in errors(report) and "spare.weight" in str(report)

    model = Custom()
    opt = torch.optim.Adam(model.parameters(), 1e-3)

    def detached_step(xb, yb):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(xb).detach(), yb)
        loss.backward()
        opt.step()
        return loss

    report = checkup(model, nn.MSELoss(), opt, (X, y), detached_step)
    assert "no-gradient" in errors(report)

    def no_backward(xb, yb):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(xb), yb)
        opt.step()
        return loss

    assert "no-gradient" in errors(checkup(model, nn.MSELoss(), opt, (X, y), no_backward))
    assert "no-gradient" not in checkup(model, nn.MSELoss(), opt, (X, y)).codes


def test_no_gradient_when_the_loss_itself_is_detached():
    X, y = regression()
    model = Custom()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    report = checkup(model, lambda p, t: nn.functional.mse_loss(p.detach(), t), opt, (X, y))
    assert "no-gradient" in errors(report)


def test_softmax_before_cross_entropy():
    X, y = classification()
    model = nn.Sequential(mlp(out=3), nn.Softmax(dim=1))
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    report = checkup(model, nn.CrossEntropyLoss(), opt, (X, y))
    assert "softmax-before-cross-entropy" in errors(report)
    model = mlp(out=3)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    assert checkup(model, nn.CrossEntropyLoss(), opt, (X, y)).codes == []


@pytest.mark.parametrize("where", ["inputs", "targets"])
def test_non_finite_data(where):
    X, y = regression()
    X, y = X.clone(), y.clone()
    (X if where == "inputs" else y)[3, 0] = float("nan")
    model = mlp()
    report = checkup(model, nn.MSELoss(), torch.optim.Adam(model.parameters()), (X, y))
    assert "non-finite" in errors(report) and where in str(report)


def test_non_finite_gradient():
    X, y = regression()
    X = X.abs()

    class SqrtNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(5, 1)
            with torch.no_grad():
                self.fc.weight.zero_()
                self.fc.bias.zero_()

        def forward(self, x):
            return torch.sqrt(self.fc(x))  # sqrt at 0: infinite slope

    model = SqrtNet()
    report = checkup(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.1), (X, y))
    assert "non-finite" in errors(report)


def test_unshuffled_batches():
    X, y = classification(classes=2)
    order = torch.argsort(y, stable=True)
    model = mlp(out=2)
    opt = torch.optim.SGD(model.parameters(), 0.1)
    loader = DataLoader(TensorDataset(X[order], y[order]), batch_size=16)
    report = checkup(model, nn.CrossEntropyLoss(), opt, loader)
    found = [f for f in report.findings if f.code == "unshuffled-batches"]
    assert found and found[0].severity == "warning"
    shuffled = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)
    assert "unshuffled-batches" not in checkup(model, nn.CrossEntropyLoss(), opt,
                                               shuffled).codes


def test_unshuffled_regression_targets():
    X, y = regression()
    order = torch.argsort(y.ravel())
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    loader = DataLoader(TensorDataset(X[order], y[order]), batch_size=16)
    assert "unshuffled-batches" in checkup(model, nn.MSELoss(), opt, loader).codes


def test_dead_relu():
    X, y = regression()
    model = mlp()
    with torch.no_grad():
        model[0].bias[:20] = -100.0  # 20 of 32 units never fire
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    report = checkup(model, nn.MSELoss(), opt, (X, y))
    found = [f for f in report.findings if f.code == "dead-relu"]
    assert found and found[0].severity == "warning" and "20 of 32" in found[0].message
    assert "dead-relu" not in checkup(mlp(), nn.MSELoss(), opt, (X, y)).codes


def test_cannot_overfit_batch():
    X, y = regression()
    torch.manual_seed(0)
    # a ReLU on the output cannot reach the negative targets
    model = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Linear(32, 1), nn.ReLU())
    with torch.no_grad():
        model[2].bias.fill_(-10.0)  # and starts dead: no gradient to come back
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    report = checkup(model, nn.MSELoss(), opt, (X, y))
    assert "cannot-overfit-batch" in errors(report)
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), 1e-4)  # slow, but it can fit
    assert "cannot-overfit-batch" not in checkup(model, nn.MSELoss(), opt, (X, y)).codes


# ------------------------------------------------------------------ the caller's world
def snapshot(model, opt, loader):
    return ({k: v.clone() for k, v in model.state_dict().items()},
            [None if p.grad is None else p.grad.clone() for p in model.parameters()],
            _copy_state(opt.state_dict()), torch.get_rng_state().clone(),
            np.random.get_state()[1].copy(), random.getstate(),
            [m.training for m in model.modules()],
            [b[1].clone() for b in loader])


def _copy_state(sd):
    return {"state": {k: {n: t.clone() if torch.is_tensor(t) else t for n, t in s.items()}
                      for k, s in sd["state"].items()},
            "param_groups": [dict(g) for g in sd["param_groups"]]}


def assert_same(a, b):
    for x, y in zip(a[0].values(), b[0].values(), strict=True):
        assert torch.equal(x, y)
    for x, y in zip(a[1], b[1], strict=True):
        assert (x is None and y is None) or torch.equal(x, y)
    assert a[2]["param_groups"] == b[2]["param_groups"]
    assert a[2]["state"].keys() == b[2]["state"].keys()
    for k in a[2]["state"]:
        for n in a[2]["state"][k]:
            assert torch.equal(torch.as_tensor(a[2]["state"][k][n]),
                               torch.as_tensor(b[2]["state"][k][n]))
    assert torch.equal(a[3], b[3])
    assert (a[4] == b[4]).all() and a[5] == b[5] and a[6] == b[6]
    for x, y in zip(a[7], b[7], strict=True):
        assert torch.equal(x, y)


@pytest.mark.parametrize("make_opt", [
    lambda p: torch.optim.SGD(p, 0.05, momentum=0.9), lambda p: torch.optim.Adam(p, 1e-2)])
@pytest.mark.parametrize("with_step", [False, True])
def test_callers_state_is_untouched_bit_for_bit(make_opt, with_step):
    X, y = classification()
    model = mlp(out=3, extra=(nn.BatchNorm1d(32), nn.Dropout(0.3)))
    opt = make_opt(model.parameters())
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True,
                        generator=torch.Generator().manual_seed(3))
    step = step_for(model, opt, nn.CrossEntropyLoss())
    for xb, yb in list(loader)[:3]:  # mid-training: momentum, moments, step counts
        step(xb, yb)
    model.eval()
    torch.manual_seed(123)
    np.random.seed(5)
    random.seed(7)
    shuffle_state = loader.generator.get_state()
    before = snapshot(model, opt, loader)
    # snapshot() iterated the loader: rewind it, then checkup must leave it there
    loader.generator.set_state(shuffle_state)
    torch.manual_seed(123)
    before_rng = torch.get_rng_state().clone()
    checkup(model, nn.CrossEntropyLoss(), opt, loader, step if with_step else None)
    assert torch.equal(torch.get_rng_state(), before_rng)
    after = snapshot(model, opt, loader)
    assert_same(before, after)


# ------------------------------------------------------------------ reader mistakes
def test_reader_mistakes_give_lesson_errors():
    X, y = regression()
    model = mlp()
    opt = torch.optim.Adam(model.parameters())
    with pytest.raises(LessonInputError, match="model raised"):
        checkup(model, nn.MSELoss(), opt, (X[:, :3], y))
    with pytest.raises(LessonInputError, match="loss_fn raised"):
        checkup(model, lambda p, t: 1 / 0, opt, (X, y))
    with pytest.raises(LessonInputError, match="train_step must be a function"):
        checkup(model, nn.MSELoss(), opt, (X, y), train_step=3)
    with pytest.raises(LessonInputError, match="nn.Module"):
        checkup(lambda x: x, nn.MSELoss(), opt, (X, y))
    with pytest.raises(LessonInputError, match="torch.optim"):
        checkup(model, nn.MSELoss(), "adam", (X, y))
    with pytest.raises(LessonInputError, match="loss_fn must be callable"):
        checkup(model, 3, opt, (X, y))
    with pytest.raises(LessonInputError, match="pair of tensors"):
        checkup(model, nn.MSELoss(), opt, [1, 2, 3])
    with pytest.raises(LessonInputError, match="must match"):
        checkup(model, nn.MSELoss(), opt, (X, y[:10]))
    with pytest.raises(LessonInputError, match="must return a tensor"):
        checkup(model, lambda p, t: 0.5, opt, (X, y))

    def broken_step(xb, yb):
        raise KeyError("oops")

    with pytest.raises(LessonInputError, match="train_step raised KeyError"):
        checkup(model, nn.MSELoss(), opt, (X, y), broken_step)


def test_report_prints_and_renders():
    finding = Finding("lr-too-large", "error", "x " * 60, CHECKS["lr-too-large"][1])
    report = Report([finding, Finding("dead-relu", "warning", "some units")])
    assert not report.ok and report.codes == ["lr-too-large", "dead-relu"]
    text = str(report)
    assert text.startswith("checkup: PROBLEMS (1 error, 1 warning)")
    prose = [line for line in text.splitlines() if not line.startswith("    read: ")]
    assert max(len(line) for line in prose) <= 79  # a link cannot wrap
    assert "<table>" in report._repr_html_() and "lr-too-large" in repr(report)
    assert Report().ok and str(Report()).startswith("checkup: OK")
    with pytest.raises(LessonInputError):
        Finding("no-such-code", "error", "")
    with pytest.raises(LessonInputError):
        Finding("dead-relu", "fatal", "")
    assert cl.checkup is checkup


# ------------------------------------------------------------------ review defects (issue 12)
# One broken and one healthy setup per defect the adversarial review found.


class FunctionalRelu(nn.Module):
    def __init__(self, d=5, dead=0):
        super().__init__()
        torch.manual_seed(0)
        self.a, self.b = nn.Linear(d, 16), nn.Linear(16, 1)
        with torch.no_grad():
            self.a.bias[:dead] = -100.0

    def forward(self, x):
        return self.b(F.relu(self.a(x)) + torch.relu(self.a(x)) * 0 + self.a(x).relu() * 0)


def test_dead_relu_in_functional_relu_calls():
    X, y = regression()
    dead = FunctionalRelu(dead=8)
    report = checkup(dead, nn.MSELoss(), torch.optim.Adam(dead.parameters(), 1e-2), (X, y))
    assert "dead-relu" in report.codes and report.ok, str(report)
    assert "relu call" in str(report)
    alive = FunctionalRelu()
    report = checkup(alive, nn.MSELoss(), torch.optim.Adam(alive.parameters(), 1e-2), (X, y))
    assert report.codes == [], str(report)


def test_loss_broadcast_judged_inside_the_loss():
    X, y = regression()
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), 0.05)
    # healthy: the loss aligns the shapes itself
    report = checkup(model, lambda p, t: F.mse_loss(p.squeeze(1), t), opt, (X, y[:, 0]))
    assert report.codes == [], str(report)
    # broken: a hand-written loss, and a multi-output loss
    report = checkup(model, lambda p, t: ((p - t) ** 2).mean(), opt, (X, y[:, 0]))
    assert "loss-broadcast" in errors(report) and "(512, 512)" in str(report)

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.reg, self.cls = nn.Linear(5, 16), nn.Linear(16, 1), nn.Linear(16, 3)

        def forward(self, x):
            h = torch.tanh(self.body(x))
            return self.reg(h), self.cls(h)

    heads = TwoHeads()
    Y = torch.stack([y[:, 0], classification()[1].float()], 1)
    opt = torch.optim.Adam(heads.parameters(), 1e-2)
    broken = lambda o, t: F.mse_loss(o[0], t[:, 0]) + F.cross_entropy(o[1], t[:, 1].long())  # noqa: E731
    fixed = lambda o, t: F.mse_loss(o[0], t[:, :1]) + F.cross_entropy(o[1], t[:, 1].long())  # noqa: E731
    assert "loss-broadcast" in errors(checkup(heads, broken, opt, (X, Y)))
    assert checkup(heads, fixed, opt, (X, Y)).ok


def test_pairwise_broadcasting_in_a_loss_is_not_an_accident():
    X, y = classification()
    model = mlp(out=4)

    def contrastive(z, t):
        d = (z.unsqueeze(1) - z.unsqueeze(0)).pow(2).sum(-1)
        same = (t.unsqueeze(1) == t.unsqueeze(0)).float()
        return (same * d + (1 - same) * F.relu(2 - d)).mean()

    report = checkup(model, contrastive, torch.optim.Adam(model.parameters(), 1e-2), (X, y))
    assert "loss-broadcast" not in report.codes, str(report)


def test_softmax_before_a_wrapped_cross_entropy():
    X, y = classification()
    probs = mlp(out=3, extra=())
    probs.append(nn.Softmax(dim=1))
    opt = torch.optim.Adam(probs.parameters(), 1e-2)
    report = checkup(probs, lambda p, t: F.cross_entropy(p, t), opt, (X, y))
    assert "softmax-before-cross-entropy" in errors(report), str(report)
    logits = mlp(out=3)
    report = checkup(logits, lambda p, t: 2 * F.cross_entropy(p, t),
                     torch.optim.Adam(logits.parameters(), 1e-2), (X, y))
    assert report.codes == [], str(report)


def test_non_finite_beyond_the_first_samples_and_batches():
    X, y = regression(n=3000)
    X[2500, 1] = float("nan")
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), 0.05)
    report = checkup(model, nn.MSELoss(), opt, (X, y))
    assert "non-finite" in errors(report) and "sample 2500" in str(report)

    class Log(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(5, 1)

        def forward(self, x):
            return self.a(torch.log(x))

    X, y = regression()
    X = X.abs() + 0.5
    log = Log()
    loader = DataLoader(TensorDataset(X, y), batch_size=32)
    opt = torch.optim.SGD(log.parameters(), 0.05)
    assert checkup(log, nn.MSELoss(), opt, loader).ok
    X[100, 0] = -1.0
    loader = DataLoader(TensorDataset(X, y), batch_size=32)
    report = checkup(log, nn.MSELoss(), opt, loader)
    assert "non-finite" in errors(report) and "sample 100" in str(report)


def sorted_classes(n=300, classes=2):
    # A dataset stored class by class; the classes follow the first feature.
    X, _ = regression(n)
    X = X[X[:, 0].argsort()]
    y = torch.arange(n) * classes // n
    return X, y


@pytest.mark.parametrize("case", ["short last batch", "batches of 2", "one-hot"])
def test_unshuffled_batches_harder_cases(case):
    X, y = sorted_classes(250 if case == "short last batch" else 300)
    model = mlp(out=2)
    opt = torch.optim.SGD(model.parameters(), 0.1)
    bs = 2 if case == "batches of 2" else 8
    target = F.one_hot(y, 2).float() if case == "one-hot" else y
    report = checkup(model, nn.CrossEntropyLoss(), opt,
                     DataLoader(TensorDataset(X, target), batch_size=bs))
    assert "unshuffled-batches" in report.codes, str(report)
    shuffled = DataLoader(TensorDataset(X, target), batch_size=bs, shuffle=True,
                          generator=torch.Generator().manual_seed(0))
    assert checkup(model, nn.CrossEntropyLoss(), opt, shuffled).codes == []


def test_imbalanced_shuffled_small_batches_are_fine():
    X, _ = regression(600)
    y = (torch.arange(600) % 20 == 0).long()
    model = mlp(out=2)
    loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    report = checkup(model, nn.CrossEntropyLoss(),
                     torch.optim.Adam(model.parameters(), 1e-2), loader)
    assert "unshuffled-batches" not in report.codes, str(report)


class Hidden(nn.Module):
    def __init__(self, how):
        super().__init__()
        torch.manual_seed(0)
        self.out = nn.Linear(16, 1)
        if how == "list":
            self.hidden = [nn.Linear(5, 16)]
        elif how == "modulelist":
            self.hidden = nn.ModuleList([nn.Linear(5, 16)])
        self.scale = (torch.ones(1, requires_grad=True) if how == "tensor"
                      else nn.Parameter(torch.ones(1)))
        self.front = None if how in ("list", "modulelist") else nn.Linear(5, 16)
        self.teacher = [nn.Linear(5, 1)]  # kept out on purpose: used without gradient

    def forward(self, x):
        h = self.hidden[0](x) if self.front is None else self.front(x)
        with torch.no_grad():
            t = self.teacher[0](x)
        return self.scale * self.out(torch.tanh(h)) + 0 * t


@pytest.mark.parametrize("how", ["list", "tensor"])
def test_unregistered_layers_and_tensors(how):
    X, y = regression()
    model = Hidden(how)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    hidden = model.hidden[0].weight if how == "list" else model.scale
    before = hidden.detach().clone()
    report = checkup(model, nn.MSELoss(), opt, (X, y))
    assert "param-not-in-optimizer" in errors(report), str(report)
    assert "nn.ModuleList" in str(report) and "teacher" not in str(report)
    assert torch.equal(hidden, before) and hidden.grad is None  # restored too
    # passing the hidden tensors to the optimizer by hand is fine
    extra = [model.hidden[0].weight, model.hidden[0].bias] if how == "list" else [model.scale]
    opt = torch.optim.Adam([*model.parameters(), *extra], 1e-2)
    assert checkup(model, nn.MSELoss(), opt, (X, y)).ok


def test_registered_containers_are_fine():
    X, y = regression()
    model = Hidden("modulelist")
    report = checkup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), 1e-2), (X, y))
    assert report.codes == [], str(report)


def test_no_gradient_when_gradients_are_exactly_zero():
    X, y = regression()

    class Threshold(nn.Module):
        def __init__(self, soft):
            super().__init__()
            torch.manual_seed(0)
            self.a, self.b, self.soft = nn.Linear(5, 8), nn.Linear(8, 1), soft

        def forward(self, x):
            h = self.a(x)
            return self.b(torch.sigmoid(h) if self.soft else (h > 0).float())

    for soft in (False, True):
        model = Threshold(soft)
        report = checkup(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.1), (X, y))
        assert ("no-gradient" in errors(report)) is not soft, str(report)
    # a zero-initialised output layer blocks only the first gradient: fine
    model = mlp()
    nn.init.zeros_(model[2].weight)
    report = checkup(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.05), (X, y))
    assert report.codes == [], str(report)


def test_overfit_against_the_floor_of_soft_targets():
    X, _ = regression()
    y = torch.sigmoid(0.7 * X[:, :1] - 0.3 * X[:, 1:2])
    model = mlp(extra=())
    model.append(nn.Sigmoid())
    report = checkup(model, nn.BCELoss(), torch.optim.Adam(model.parameters(), 1e-2),
                     DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True))
    assert report.codes == [], str(report)
    logits = mlp()
    report = checkup(logits, nn.BCEWithLogitsLoss(),
                     torch.optim.Adam(logits.parameters(), 1e-2), (X, y))
    assert report.codes == [], str(report)


def test_lbfgs_without_a_train_step():
    X, y = regression()
    model = mlp()
    report = checkup(model, nn.MSELoss(), torch.optim.LBFGS(model.parameters()), (X, y))
    assert report.ok, str(report)


def test_backward_and_forward_mistakes_give_lesson_errors():
    X, y = regression()

    class InPlace(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(5, 8), nn.Linear(8, 1)

        def forward(self, x):
            h = torch.sigmoid(self.a(x))
            h[:, 0] = 0
            return self.b(h)

    class NoReturn(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(5, 1)

        def forward(self, x):
            self.a(x)

    model = InPlace()
    opt = torch.optim.SGD(model.parameters(), 0.1)
    with pytest.raises(LessonInputError, match="changed in place"):
        checkup(model, nn.MSELoss(), opt, (X, y))
    with pytest.raises(LessonInputError, match="changed in place"):
        checkup(model, nn.MSELoss(), opt, (X, y), step_for(model, opt, nn.MSELoss()))
    model = NoReturn()
    with pytest.raises(LessonInputError, match="returned None"):
        checkup(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.1), (X, y))
    with pytest.raises(LessonInputError, match="torch.as_tensor"):
        checkup(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.1),
                (X.numpy(), y.numpy()))


def test_grad_accumulation_seen_past_an_unused_layer():
    X, y = regression()
    model = Custom(unused=True)
    opt = torch.optim.SGD(model.parameters(), 0.01)

    def step(xb, yb):  # no zero_grad
        loss = F.mse_loss(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    report = checkup(model, nn.MSELoss(), opt, (X, y), step)
    assert {"grad-accumulation", "no-gradient"} <= set(errors(report)), str(report)
    report = checkup(model, nn.MSELoss(), opt, (X, y), step_for(model, opt, nn.MSELoss()))
    assert errors(report) == ["no-gradient"], str(report)


class GRUReg(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.gru, self.out = nn.GRU(3, 8, batch_first=True), nn.Linear(8, 1)

    def forward(self, x):
        return self.out(self.gru(x)[0][:, -1])


def test_input_scale_on_sequences_and_batchnorm_first():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(256, 5, 3, generator=g)
    y = X[:, :, 0].sum(1, keepdim=True)
    model = GRUReg()
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    assert "input-scale" not in checkup(model, nn.MSELoss(), opt, (X, y)).codes
    scaled = X * torch.tensor([1.0, 0.001, 1.0])
    assert "input-scale" in checkup(model, nn.MSELoss(), opt, (scaled, y)).codes
    X, y = regression()
    model = nn.Sequential(nn.BatchNorm1d(5), nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1))
    report = checkup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), 1e-2),
                     DataLoader(TensorDataset(X * 1000 + 3000, y), batch_size=32,
                                shuffle=True))
    assert "input-scale" not in report.codes, str(report)


def test_state_untouched_with_hidden_tensors_and_lbfgs():
    X, y = regression()
    model = Hidden("tensor")
    model.scale.grad = torch.full((1,), 0.5)
    opt = torch.optim.LBFGS(model.parameters())
    before = [t.detach().clone() for t in (*model.parameters(), model.scale)]
    rng = torch.get_rng_state().clone()
    checkup(model, nn.MSELoss(), opt, (X, y))
    after = [t.detach().clone() for t in (*model.parameters(), model.scale)]
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
    assert torch.equal(model.scale.grad, torch.full((1,), 0.5))
    assert torch.equal(torch.get_rng_state(), rng) and opt.state_dict()["state"] == {}


def test_state_untouched_for_a_batchnorm_held_in_a_plain_list():
    class ListNorm(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.a, self.b = nn.Linear(5, 16), nn.Linear(16, 1)
            self.norms = [nn.BatchNorm1d(16)]

        def forward(self, x):
            return self.b(torch.relu(self.norms[0](self.a(x))))

    X, y = regression()
    model = ListNorm()  # the hidden BatchNorm in training mode: probes move its stats
    stats = [b.clone() for b in model.norms[0].buffers()]
    report = checkup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), 1e-2), (X, y))
    assert "param-not-in-optimizer" in errors(report), str(report)
    assert all(torch.equal(a, b) for a, b in zip(stats, model.norms[0].buffers(), strict=True))
    assert model.norms[0].training


def test_every_finding_links_to_its_lesson_on_the_published_site(config):
    from convergence_lab.checkup.checks import SITE

    assert SITE == config["html"]["baseurl"]  # Colab's copy of the helper has no config
    for code, (_, link) in CHECKS.items():
        page, _, section = link.removeprefix(SITE).partition("#")
        assert link.startswith(SITE) and page.endswith(".html") and section, code
    # Every code has a lesson of its own: a field-guide section, or the chapter
    # that teaches it (none is left pointing at chapter 5's table of checks).
    assert not [code for code, (_, link) in CHECKS.items() if "checkup-how" in link]
    guide = [code for code, (_, link) in CHECKS.items() if link.endswith("-" + code)]
    assert len(guide) == len(CHECKS) - 3  # lr-too-large, loss-broadcast, input-scale
    finding = Finding("dead-relu", "warning", "some units", CHECKS["dead-relu"][1])
    report = Report([finding])
    lesson = "book/09-depth-activations/depth_activations.html#depth-activations-dead-relu"
    assert f"    read: {SITE}{lesson}" in str(report)
    assert (f"<a href='{SITE}{lesson}'>"
            "depth_activations § depth-activations-dead-relu</a>") in report._repr_html_()

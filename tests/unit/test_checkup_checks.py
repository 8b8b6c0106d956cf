"""checkup's newer checks and rules: each code broken and healthy, the overfit floor,
the learning-rate search, empty data, and what is (and is not) restored."""

from unittest import mock

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from convergence_lab import LessonInputError, checkup


def teacher(n=512, d=6, seed=0, classes=None):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    h = torch.tanh(X @ torch.randn(d, 8, generator=g))
    y = h @ torch.randn(8, 1, generator=g)
    if classes:
        return X, (y[:, 0] > y.median()).long()
    return X, y


def loader(X, y, bs=32, seed=0):
    return DataLoader(TensorDataset(X, y), batch_size=bs, shuffle=True,
                      generator=torch.Generator().manual_seed(seed))


def mlp(d=6, out=1, hidden=32, depth=2, act=nn.ReLU, seed=0):
    torch.manual_seed(seed)
    layers, width = [], d
    for _ in range(depth - 1):
        layers += [nn.Linear(width, hidden), act()]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, out))


def finding(report, code):
    return next(f for f in report.findings if f.code == code)


# ------------------------------------------------------------- cannot-overfit-batch
def relu_head_data():
    X, y = teacher(64, 4)
    y = 0.5 + y.abs() / y.abs().max()
    y[::4] = -1.5  # a quarter of the targets negative: a ReLU output cannot reach them
    return X, y


@pytest.mark.parametrize("head, broken", [(nn.ReLU, True), (nn.Identity, False)])
def test_overfit_is_judged_against_the_floor_not_against_half_the_start(head, broken):
    X, y = relu_head_data()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1), head())
    report = checkup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), 1e-2), (X, y))
    assert ("cannot-overfit-batch" in report.codes) == broken, str(report)
    if broken:
        message = finding(report, "cannot-overfit-batch").message
        assert "of the way there was left" in message and "closes at least 95%" in message


def test_label_smoothing_floor_is_not_a_failure_to_fit():
    X, y = teacher(256, 6, classes=True)
    model = mlp(out=2)
    report = checkup(model, nn.CrossEntropyLoss(label_smoothing=0.2),
                     torch.optim.Adam(model.parameters(), 1e-3), loader(X, y))
    assert report.codes == [], str(report)


# ------------------------------------------------------------- lr-too-large search
def test_learning_rate_search_goes_far_enough_and_names_the_input_scale():
    x = torch.linspace(1, 100, 200).reshape(-1, 1)
    X = torch.cat([x, x ** 2], 1)  # unscaled polynomial features
    y = 0.5 * x + 0.01 * x ** 2
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    report = checkup(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), 1e-3), (X, y))
    assert "lr-too-large" in report.codes and "non-finite" not in report.codes, str(report)
    message = finding(report, "lr-too-large").message
    assert "The inputs are far from unit scale" in message


def test_a_jump_is_reported_as_a_jump_not_as_growth():
    from convergence_lab.checkup.checks.learning_rate import _what

    assert _what([1.0, 5.0, 3.0, 0.9]).startswith("jumped from 1 to 5 at step 1")
    assert _what([1.0, 1.5, 2.9]).startswith("grew from 1 to 2.9")
    assert _what([1.0, float("nan")]).startswith("overflowed")


# ------------------------------------------------------------- empty data
@pytest.mark.parametrize("data", [
    (torch.zeros(0, 3), torch.zeros(0)),
    DataLoader(TensorDataset(torch.zeros(0, 3), torch.zeros(0)), batch_size=4),
    [(torch.zeros(0, 3), torch.zeros(0))],
])
def test_empty_data_is_a_clear_error(data):
    model = nn.Linear(3, 1)
    with pytest.raises(LessonInputError, match="empty|no batches"):
        checkup(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.1), data)


def test_a_learning_rate_of_zero_is_a_clear_error():
    model = nn.Linear(3, 1)
    with pytest.raises(LessonInputError, match="learning rate is 0"):
        checkup(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.0),
                (torch.randn(16, 3), torch.randn(16, 1)))


# ------------------------------------------------------------- no-gradient, softmax
def test_softmax_over_one_unit_is_named_as_the_zero_gradient():
    X, y = teacher(128, 6, classes=True)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 1), nn.Softmax(dim=1))
    report = checkup(model, nn.BCELoss(), torch.optim.Adam(model.parameters(), 1e-3),
                     (X, y.float().view(-1, 1)))
    message = finding(report, "no-gradient").message
    assert "softmax" in message and "axis of size 1" in message and "round" not in message


# ------------------------------------------------------------- slow-progress
@pytest.mark.parametrize("make, cause", [
    (lambda p: torch.optim.Adam(p, lr=1e-7), "learning rate is far too small"),
    (lambda p: torch.optim.SGD(p, lr=1e-6), "learning rate is far too small"),
    (lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=20.0),
     "Weight decay holds the weights back"),
])
def test_slow_progress_and_its_cause(make, cause):
    X, y = teacher()
    model = mlp()
    report = checkup(model, nn.MSELoss(), make(model.parameters()), loader(X, y))
    assert "slow-progress" in report.codes, str(report)
    assert cause in finding(report, "slow-progress").message


@pytest.mark.parametrize("make", [
    lambda p: torch.optim.SGD(p, lr=1e-2), lambda p: torch.optim.Adam(p, lr=1e-3),
    lambda p: torch.optim.AdamW(p, lr=1e-3, weight_decay=1e-2)])
def test_small_but_adequate_rates_are_not_slow(make):
    X, y = teacher()
    model = mlp()
    report = checkup(model, nn.MSELoss(), make(model.parameters()), loader(X, y))
    assert report.codes == [], str(report)


# ------------------------------------------------------------- lr-schedule-too-fast
def scheduled(per_call: bool, make_sched):
    X, y = teacher()
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = make_sched(opt)

    def train_step(xb, yb):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        opt.step()
        if per_call:
            sched.step()
        return loss

    return model, opt, sched, loader(X, y), train_step


def test_scheduler_stepped_per_batch_is_too_fast_and_is_put_back():
    model, opt, sched, data, step = scheduled(
        True, lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=5, gamma=0.1))
    report = checkup(model, nn.MSELoss(), opt, data, step)
    assert "lr-schedule-too-fast" in report.codes, str(report)
    assert "StepLR" in finding(report, "lr-schedule-too-fast").message
    assert sched.last_epoch == 0 and opt.param_groups[0]["lr"] == 0.05
    assert report.not_restored == []


@pytest.mark.parametrize("make_sched", [
    lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda s: min(1.0, (s + 1) / 500)),
    lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10_000)])
def test_per_step_warmup_and_long_cosine_are_fine(make_sched):
    model, opt, sched, data, step = scheduled(True, make_sched)
    report = checkup(model, nn.MSELoss(), opt, data, step)
    assert "lr-schedule-too-fast" not in report.codes, str(report)


def test_a_learning_rate_changed_by_hand_cannot_be_put_back_and_says_so():
    X, y = teacher()
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)

    def train_step(xb, yb):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        opt.step()
        for g in opt.param_groups:
            g["lr"] *= 0.5  # a decay of the reader's own
        return loss

    report = checkup(model, nn.MSELoss(), opt, loader(X, y), train_step)
    assert "lr-schedule-too-fast" in report.codes
    assert opt.param_groups[0]["lr"] == 0.05
    assert any("learning rate" in s for s in report.not_restored)


# ------------------------------------------------------------- vanishing / exploding
def test_deep_sigmoid_net_has_a_vanishing_gradient():
    X, y = teacher()
    model = mlp(depth=10, act=nn.Sigmoid)
    report = checkup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), 1e-3),
                     loader(X, y))
    assert "vanishing-gradient" in report.codes, str(report)


def test_deep_plain_batchnorm_stack_has_an_exploding_gradient():
    # Without skip connections, BatchNorm's backward pass grows the gradient with depth
    # (about 1.2x per Linear-BatchNorm-ReLU block).
    X, y = teacher()
    torch.manual_seed(0)
    layers, width = [], 6
    for _ in range(50):
        layers += [nn.Linear(width, 32), nn.BatchNorm1d(32), nn.ReLU()]
        width = 32
    model = nn.Sequential(*layers, nn.Linear(32, 1))
    report = checkup(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), 1e-3),
                     loader(X, y))
    assert "exploding-gradient" in report.codes, str(report)


@pytest.mark.parametrize("act, init", [(nn.ReLU, "kaiming"), (nn.Tanh, "xavier")])
def test_deep_nets_with_proper_init_are_fine(act, init):
    X, y = teacher()
    model = mlp(depth=10, act=act)
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.Linear):
                (nn.init.kaiming_normal_(m.weight, nonlinearity="relu") if init == "kaiming"
                 else nn.init.xavier_normal_(m.weight))
                m.bias.zero_()
    report = checkup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), 1e-3),
                     loader(X, y))
    assert not {"vanishing-gradient", "exploding-gradient"} & set(report.codes), str(report)


# ------------------------------------------------------------- saturated-activation
def test_unscaled_inputs_saturate_a_tanh_layer_and_xavier_does_not():
    X, y = teacher()
    for scale, broken in [(30.0, True), (1.0, False)]:
        model = mlp(act=nn.Tanh)
        report = checkup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), 1e-3),
                         loader(X * scale, y))
        assert ("saturated-activation" in report.codes) == broken, str(report)


def test_a_confident_sigmoid_output_is_not_saturation():
    X, y = teacher(256, 6, classes=True)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())
    with torch.no_grad():
        model[2].weight.mul_(50)  # outputs pinned near 0 and 1
    report = checkup(model, nn.BCELoss(), torch.optim.Adam(model.parameters(), 1e-3),
                     loader(X, y.float().view(-1, 1)))
    assert "saturated-activation" not in report.codes


# ------------------------------------------------------------- batch-mixing
class Tagger(nn.Module):
    def __init__(self, batch_first):
        super().__init__()
        torch.manual_seed(0)
        self.rnn = nn.LSTM(4, 16, batch_first=batch_first)
        self.head = nn.Linear(16, 2)

    def forward(self, x):  # x: (batch, seq, feature) from the DataLoader
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def sequences(n=256):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 10, 4, generator=g)
    return X, (X[:, :, 0].sum(1) > 0).long()


@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_without_batch_first_mixes_samples(batch_first):
    X, y = sequences()
    model = Tagger(batch_first)
    report = checkup(model, nn.CrossEntropyLoss(),
                     torch.optim.Adam(model.parameters(), 1e-3), loader(X, y))
    assert ("batch-mixing" in report.codes) == (not batch_first), str(report)


def test_batchnorm_in_training_mode_is_not_batch_mixing():
    X, y = teacher()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 1))
    report = checkup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), 1e-3),
                     loader(X, y))
    assert "batch-mixing" not in report.codes and model.training


def test_integer_inputs_are_tested_by_swapping_samples():
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 50, (256, 8), generator=g)
    y = (tokens[:, 0] > 25).long()

    class Bag(nn.Module):
        def __init__(self, mix):
            super().__init__()
            torch.manual_seed(0)
            self.emb, self.head, self.mix = nn.Embedding(50, 16), nn.Linear(16, 2), mix

        def forward(self, t):
            h = self.emb(t).mean(1)
            return self.head(h - h.mean(0) if self.mix else h)

    for mix in (True, False):
        model = Bag(mix)
        report = checkup(model, nn.CrossEntropyLoss(),
                         torch.optim.Adam(model.parameters(), 1e-2), loader(tokens, y))
        assert ("batch-mixing" in report.codes) == mix, str(report)


# ------------------------------------------------------------- labels-not-learnable
def test_labels_shuffled_apart_from_inputs_are_not_learnable():
    X, y = teacher(768, classes=True)
    shuffled = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(1))]
    for labels, broken in [(shuffled, True), (y, False)]:
        model = mlp(out=2)
        report = checkup(model, nn.CrossEntropyLoss(),
                         torch.optim.Adam(model.parameters(), 1e-3), loader(X, labels))
        assert ("labels-not-learnable" in report.codes) == broken, str(report)


# ------------------------------------------------------------- what is restored
def test_iterator_data_is_reported_as_used_up():
    X, y = teacher(128)
    model = mlp()
    batches = ((X[i:i + 32], y[i:i + 32]) for i in range(0, 128, 32))
    report = checkup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), 1e-3), batches)
    assert any("used up" in s for s in report.not_restored)
    assert "not restored:" in str(report)


def test_cuda_generators_are_saved_and_restored_when_cuda_is_in_use():
    states = [torch.ByteTensor([1, 2, 3]), torch.ByteTensor([4, 5, 6])]
    calls = {"set": [], "seeded": []}
    fake = mock.MagicMock()
    fake.is_available.return_value = True
    fake.is_initialized.return_value = True
    fake.get_rng_state_all.return_value = states
    fake.set_rng_state_all.side_effect = lambda s: calls["set"].append(s)
    fake.manual_seed_all.side_effect = lambda k: calls["seeded"].append(k)
    X, y = teacher(128)
    model = mlp()
    with mock.patch("torch.cuda", fake):
        checkup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), 1e-3), (X, y))
    assert calls["seeded"], "the probes seed CUDA's generators too"
    assert calls["set"] and calls["set"][-1] is states


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_generator_state_is_untouched_on_a_real_gpu():  # pragma: no cover
    X, y = teacher(128)
    model = mlp().cuda()
    torch.cuda.manual_seed_all(123)
    before = torch.cuda.get_rng_state_all()
    checkup(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), 1e-3),
            (X.cuda(), y.cuda()))
    after = torch.cuda.get_rng_state_all()
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))


def test_unshuffled_batches_states_a_tiny_chance_as_a_bound():
    # The chance that shuffled batches of 32 are one class is ~1e-17: its digits mean
    # nothing to a reader (and differ between CPUs), so the message gives a bound.
    from convergence_lab.checkup.checks.batch_order import _chance

    assert _chance(0.012) == "about 1.2%"
    assert _chance(2.2e-19) == "under one in a million"
    x = torch.randn(512, 2, generator=torch.Generator().manual_seed(0))
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    order = torch.argsort(y, stable=True)
    loader = DataLoader(TensorDataset(x[order], y[order]), batch_size=32)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    report = checkup(model, nn.CrossEntropyLoss(),
                     torch.optim.SGD(model.parameters(), lr=0.1), loader)
    (found,) = [f for f in report.findings if f.code == "unshuffled-batches"]
    assert "would almost never do: under one in a million" in found.message

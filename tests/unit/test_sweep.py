import numpy as np
import pytest
import torch

from convergence_lab import LessonInputError, sweep


def quadratic(params, step):
    # setting k minimises (w_k - 1)^2: gradient 2 (w - 1)
    return (params["w"] - 1.0) ** 2


def test_sweep_matches_separate_runs():
    lrs = np.array([0.01, 0.1, 0.4])
    batched = sweep(quadratic, {"w": torch.zeros(3, dtype=torch.float64)}, lr=lrs, steps=20)
    for k, lr in enumerate(lrs):
        single = sweep(quadratic, {"w": torch.zeros(1, dtype=torch.float64)}, lr=[lr], steps=20)
        np.testing.assert_allclose(batched.loss[:, k], single.loss[:, 0])
        np.testing.assert_allclose(batched.params["w"][k], single.params["w"][0])
    # closed form: w_s = 1 - (1 - 2 lr)^s
    np.testing.assert_allclose(batched.params["w"], 1 - (1 - 2 * lrs) ** 20)
    assert batched.loss.shape == (21, 3)
    assert not batched.diverged.any()
    np.testing.assert_array_equal(batched.final_loss, batched.loss[-1])


def test_sweep_marks_only_the_diverging_setting():
    result = sweep(quadratic, {"w": torch.zeros(2)}, lr=[0.1, 1e30], steps=50)
    assert result.diverged_at[0] == -1
    assert 0 < result.diverged_at[1] < 10
    assert np.isnan(result.loss[-1, 1]) and np.isfinite(result.loss[-1, 0])
    assert np.isfinite(result.params["w"]).all()  # the last finite value is kept


def test_sweep_records_trajectories_with_matrix_parameters():
    def loss(params, step):
        return ((params["W"] - 2.0) ** 2).sum(dim=(1, 2))

    result = sweep(loss, {"W": torch.zeros(4, 2, 3)}, lr=0.25, steps=3, record_params=True)
    assert result.trajectory["W"].shape == (4, 4, 2, 3)
    np.testing.assert_allclose(result.params["W"], 2.0 - 2.0 * 0.5**3)


def test_sweep_passes_the_step_for_minibatches():
    seen = []

    def loss(params, step):
        seen.append(step)
        return params["w"] ** 2

    sweep(loss, {"w": torch.ones(2)}, lr=0.1, steps=4)
    assert seen == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("lr, message", [
    ([0.1, 0.0], "setting 1 has 0"),
    ([-1.0, 0.1], "setting 0 has -1"),
    ([0.1, float("nan")], "setting 1 has nan"),
    ([0.1, 0.1, 0.1], "3 learning rates for 2 settings"),
])
def test_sweep_rejects_bad_learning_rates(lr, message):
    with pytest.raises(LessonInputError, match=message):
        sweep(quadratic, {"w": torch.zeros(2)}, lr=lr, steps=1)


def test_sweep_rejects_malformed_shapes():
    with pytest.raises(LessonInputError, match="same leading 'setting' axis"):
        sweep(quadratic, {"w": torch.zeros(2), "v": torch.zeros(3)}, lr=0.1, steps=1)
    with pytest.raises(LessonInputError, match=r"one loss per setting, shape \(2,\); got \(\)"):
        sweep(lambda p, s: p["w"].sum(), {"w": torch.zeros(2)}, lr=0.1, steps=1)
    with pytest.raises(LessonInputError, match="at least one parameter"):
        sweep(quadratic, {}, lr=0.1, steps=1)
    with pytest.raises(LessonInputError, match="number of steps must be at least 1"):
        sweep(quadratic, {"w": torch.zeros(2)}, lr=0.1, steps=0)


def test_sweep_keeps_all_tensors_of_a_setting_that_overflows_in_one():
    def loss(params, step):
        # setting 1: a finite loss whose gradient overflows float32
        return params["a"] ** 2 + params["b"] ** 2 * torch.tensor([1.0, 2e38])

    result = sweep(loss, {"a": torch.ones(2), "b": torch.ones(2)}, lr=0.1, steps=5)
    assert result.diverged_at.tolist() == [-1, 1]
    # setting 1 stopped before its first update, so a keeps its start value too
    assert result.params["a"][1] == 1.0 and result.params["b"][1] == 1.0
    assert result.params["a"][0] < 1.0


def test_sweep_with_manual_gradients_matches_autograd():
    def loss_and_grads(params, step):
        r = params["w"] - 1.0
        return r**2, {"w": 2 * r}

    lrs = [0.01, 0.1, 0.4]
    manual = sweep(loss_and_grads, {"w": torch.zeros(3, dtype=torch.float64)}, lr=lrs,
                   steps=20, manual_grads=True)
    auto = sweep(quadratic, {"w": torch.zeros(3, dtype=torch.float64)}, lr=lrs, steps=20)
    np.testing.assert_allclose(manual.loss, auto.loss)
    np.testing.assert_allclose(manual.params["w"], auto.params["w"])


def test_sweep_with_manual_gradients_needs_every_gradient():
    def incomplete(params, step):
        return params["w"] ** 2, {}

    with pytest.raises(LessonInputError, match=r"no gradient for \['w'\]"):
        sweep(incomplete, {"w": torch.ones(2)}, lr=0.1, steps=1, manual_grads=True)


def test_sweep_rmsprop_matches_torch_optim_rmsprop():
    torch.manual_seed(0)
    x, y = torch.randn(8, 2, dtype=torch.float64), torch.randn(8, dtype=torch.float64)
    lrs = [0.01, 0.1]

    def loss(params, step):
        return ((params["w"] @ x.T - y) ** 2).mean(dim=1)

    batched = sweep(loss, {"w": torch.zeros(2, 2, dtype=torch.float64)}, lr=lrs, steps=30,
                    optimizer="rmsprop")
    for k, lr in enumerate(lrs):
        w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.RMSprop([w], lr=lr)
        for _ in range(30):
            opt.zero_grad()
            ((x @ w - y) ** 2).mean().backward()
            opt.step()
        np.testing.assert_allclose(batched.params["w"][k], w.detach().numpy(), rtol=1e-12)


def test_sweep_rejects_unknown_optimizers():
    with pytest.raises(LessonInputError, match="'sgd' or 'rmsprop', got 'adam'"):
        sweep(quadratic, {"w": torch.zeros(2)}, lr=0.1, steps=1, optimizer="adam")

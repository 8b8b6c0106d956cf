import math

import numpy as np
import pytest
import torch

from convergence_lab import LessonInputError
from convergence_lab.training import History, named_tensors, record_training


def quadratic_problem(lr):
    w = torch.nn.Parameter(torch.tensor([3.0]))
    opt = torch.optim.SGD([w], lr=lr)

    def step():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        opt.step()
        return loss

    return w, step


def test_fit_records_loss_params_and_gradient_norm():
    w, step = quadratic_problem(lr=0.1)
    run = record_training(step, {"w": w}, epochs=5)
    assert isinstance(run, History)
    assert run.epochs_run == 5 and not run.diverged and run.message == ""
    # w <- 0.8 w each step; loss is evaluated before the update
    expected_w = 3.0 * 0.8 ** np.arange(6)
    np.testing.assert_allclose(run.params["w"].ravel(), expected_w, rtol=1e-6)
    np.testing.assert_allclose(run.loss, expected_w[:5] ** 2, rtol=1e-6)
    np.testing.assert_allclose(run.grad_norm, 2 * expected_w[:5], rtol=1e-6)
    assert math.isclose(run.final("w"), expected_w[-1], rel_tol=1e-6)


def test_fit_stops_at_overflow_and_reports_the_epoch():
    w, step = quadratic_problem(lr=1e30)
    run = record_training(step, [w], epochs=50)
    assert run.diverged
    assert run.diverged_at == run.epochs_run - 1
    assert run.diverged_at < 5
    assert "diverged at epoch" in run.message and "overflowed" in run.message
    assert "diverged" in repr(run)


def test_fit_reads_module_parameters_by_name():
    net = torch.nn.Linear(1, 1, bias=False)
    assert list(named_tensors(net)) == ["weight"]
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    x = torch.ones(4, 1)

    def step():
        opt.zero_grad()
        loss = (net(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    run = record_training(step, net, epochs=3)
    assert run.params["weight"].shape == (4, 1, 1)


def test_fit_rejects_bad_input_with_clear_messages():
    w, step = quadratic_problem(lr=0.1)
    with pytest.raises(LessonInputError, match="number of epochs must be at least 1"):
        record_training(step, [w], epochs=0)
    with pytest.raises(LessonInputError, match="needs step"):
        record_training(None, [w], epochs=1)
    with pytest.raises(LessonInputError, match="no parameters"):
        record_training(step, {}, epochs=1)
    with pytest.raises(LessonInputError, match="got str"):
        record_training(step, "w", epochs=1)

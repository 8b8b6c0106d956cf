import warnings

import pytest
import torch

from convergence_lab import LessonInputError, shape_guard
from convergence_lab.shapes import check_same_shape


def message_for(pred, target):
    with pytest.raises(LessonInputError) as info:
        check_same_shape(pred, target)
    return str(info.value)


def mse(pred, target):
    """The real, unguarded loss (its own broadcast warning silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.nn.functional.mse_loss(pred, target)


def test_same_shapes_pass_and_the_loss_is_unchanged():
    pred, target = torch.ones(4, 1), torch.zeros(4, 1)
    check_same_shape(pred, target)
    guarded = shape_guard(torch.nn.MSELoss())
    assert guarded(pred, target).item() == 1.0


def test_column_prediction_against_flat_target_is_every_pair():
    pred, target = torch.arange(4.0).view(4, 1), torch.arange(4.0) * 2
    message = message_for(pred, target)
    assert "(4, 1)" in message and "(4,)" in message
    assert "broadcast them to (4, 4)" in message
    assert "every prediction with every target (16 pairs instead of 4)" in message
    # what the message says is what the loss computes
    every_pair = ((pred.view(4, 1) - target.view(1, 4)) ** 2).mean()
    assert torch.isclose(mse(pred, target), every_pair)
    # the hint, applied, gives the target's shape and the right loss
    assert "prediction.reshape(target.shape), giving (4,)" in message
    fixed = pred.reshape(target.shape)
    assert fixed.shape == target.shape
    assert torch.isclose(mse(fixed, target), ((pred.ravel() - target) ** 2).mean())


def test_flat_prediction_against_column_target_is_every_pair_too():
    message = message_for(torch.ones(5), torch.zeros(5, 1))
    assert "broadcast them to (5, 5)" in message
    assert "every prediction with every target" in message
    assert "giving (5, 1)" in message


def test_rows_against_one_target_vector_reuse_the_target():
    pred, target = torch.arange(6.0).view(2, 3), torch.tensor([1.0, 2.0, 3.0])
    message = message_for(pred, target)
    assert "broadcast them to (2, 3)" in message
    assert "reusing the target 2 times" in message
    assert "every prediction with every target" not in message
    # each row of the prediction is compared with the same target vector
    rows = torch.stack([((row - target) ** 2) for row in pred]).mean()
    assert torch.isclose(mse(pred, target), rows)
    assert "different numbers of values (6 and 3)" in message
    assert "reshape" not in message


def test_one_prediction_against_many_targets_reuses_the_prediction():
    message = message_for(torch.ones(1), torch.zeros(4))
    assert "reusing the prediction 4 times" in message


def test_partial_broadcast_names_both_counts():
    message = message_for(torch.ones(2, 3, 1), torch.zeros(3, 4))
    assert "broadcast them to (2, 3, 4)" in message
    assert "each prediction with 4 targets and each target with 2" in message


def test_shapes_that_cannot_broadcast_make_the_loss_raise():
    pred, target = torch.ones(3, 2), torch.zeros(4)
    message = message_for(pred, target)
    assert "cannot be broadcast together, so the loss raises" in message
    assert "every prediction" not in message
    assert "different numbers of values (6 and 4)" in message
    with pytest.raises(RuntimeError):
        mse(pred, target)


def test_unbroadcastable_shapes_with_equal_counts_get_the_reshape_hint():
    message = message_for(torch.ones(3, 2), torch.zeros(2, 3))
    assert "cannot be broadcast" in message
    assert "giving (2, 3)" in message and "transpose" in message


def test_scalar_against_one_element_pairs_correctly_and_hints_the_target_shape():
    pred, target = torch.tensor(2.0), torch.tensor([5.0])
    message = message_for(pred, target)
    assert "broadcast them to (1,)" in message
    assert "so the value is right" in message
    assert "every prediction" not in message
    assert "giving (1,)" in message and "view(-1, 1)" not in message
    assert mse(pred, target).item() == 9.0
    assert pred.reshape(target.shape).shape == target.shape


def test_guard_raises_before_the_loss_runs_and_passes_extra_arguments():
    calls = []

    def loss(p, t, scale=1.0):
        calls.append(scale)
        return ((p - t) ** 2).mean() * scale

    guarded = shape_guard(loss)
    with pytest.raises(LessonInputError):
        guarded(torch.ones(3, 1), torch.ones(3))
    assert calls == []
    assert guarded(torch.ones(3), torch.zeros(3), scale=2.0).item() == 2.0
    assert guarded.__wrapped__ is loss
    assert "shape_guard(loss)" == guarded.__name__


def test_guard_needs_a_callable():
    with pytest.raises(LessonInputError, match="wraps a loss function"):
        shape_guard("mse")

import pytest
import torch

from convergence_lab import LessonInputError, check_same_shape, shape_guard


def test_same_shapes_pass_and_the_loss_is_unchanged():
    pred, target = torch.ones(4, 1), torch.zeros(4, 1)
    check_same_shape(pred, target)
    mse = shape_guard(torch.nn.MSELoss())
    assert mse(pred, target).item() == 1.0


def test_column_prediction_against_flat_target_says_how_to_fix_it():
    with pytest.raises(LessonInputError) as info:
        check_same_shape(torch.ones(100, 1), torch.zeros(100))
    message = str(info.value)
    assert "(100, 1)" in message and "(100,)" in message
    assert "broadcast them to (100, 100)" in message
    assert "target.view(-1, 1)" in message


def test_flat_prediction_against_column_target():
    with pytest.raises(LessonInputError, match=r"prediction\.view\(-1, 1\)"):
        check_same_shape(torch.ones(5), torch.zeros(5, 1))


def test_shapes_that_cannot_broadcast():
    with pytest.raises(LessonInputError, match="cannot even be broadcast"):
        check_same_shape(torch.ones(3, 2), torch.zeros(4))


def test_other_mismatches_get_a_generic_hint():
    with pytest.raises(LessonInputError, match="make both the same shape"):
        check_same_shape(torch.ones(2, 3), torch.zeros(3))


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

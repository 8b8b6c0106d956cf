import pytest
import torch

from convergence_lab import LessonInputError, parity_data


def test_parity_data_shapes_dtype_and_targets():
    x, y = parity_data(n_samples=50, high=10, seed=3)
    assert x.shape == (50, 1) and y.shape == (50, 1)
    assert x.dtype == torch.float32 and y.dtype == torch.float32
    assert x.min() >= 0 and x.max() < 10
    assert torch.equal(y, x % 2)


def test_parity_data_is_seeded_and_independent_of_global_state():
    torch.manual_seed(123)
    a = parity_data(20, 100, seed=7)[0]
    torch.manual_seed(999)
    b = parity_data(20, 100, seed=7)[0]
    assert torch.equal(a, b)
    assert not torch.equal(a, parity_data(20, 100, seed=8)[0])


def test_parity_data_smallest_range_has_both_parities():
    x, y = parity_data(200, high=2, seed=0)
    assert set(x.ravel().tolist()) == {0.0, 1.0}


@pytest.mark.parametrize("high", [1, 0, -5])
def test_parity_data_rejects_ranges_without_two_integers(high):
    with pytest.raises(LessonInputError, match="sample range N must be at least 2"):
        parity_data(10, high=high)


def test_parity_data_rejects_no_samples():
    with pytest.raises(LessonInputError, match="number of samples must be at least 1"):
        parity_data(0, high=10)


def test_linear_data_follows_its_model():
    from convergence_lab import linear_data

    x, y = linear_data(20000, [5.0, 3.0], bias=1.0, noise=0.5, scale=100.0, seed=1)
    assert x.shape == (20000, 2) and y.shape == (20000,)
    assert x.dtype == torch.float32
    assert abs(float(x.std()) - 100) < 2
    residual = y - (x @ torch.tensor([5.0, 3.0]) + 1.0)
    assert abs(float(residual.std()) - 0.5) < 0.02
    assert torch.equal(linear_data(5, [1.0], seed=3)[0], linear_data(5, [1.0], seed=3)[0])


@pytest.mark.parametrize("kwargs, message", [
    ({"n_samples": 0, "weights": [1.0]}, "number of samples must be at least 1"),
    ({"n_samples": 5, "weights": []}, "at least one weight"),
    ({"n_samples": 5, "weights": [1.0], "noise": -1.0}, "noise must be >= 0"),
    ({"n_samples": 5, "weights": [1.0], "scale": 0.0}, "scale > 0"),
])
def test_linear_data_rejects_bad_input(kwargs, message):
    from convergence_lab import linear_data

    with pytest.raises(LessonInputError, match=message):
        linear_data(**kwargs)

import math

import pytest

from convergence_lab import LessonInputError
from convergence_lab.errors import check_int, check_learning_rate


def test_learning_rate_accepts_positive_numbers():
    assert check_learning_rate(4e-4) == 4e-4
    assert check_learning_rate(1) == 1.0


@pytest.mark.parametrize("bad", [0, 0.0, -1e-3, math.inf, math.nan])
def test_learning_rate_rejects_zero_negative_and_non_finite(bad):
    with pytest.raises(LessonInputError, match="must be a finite number above 0"):
        check_learning_rate(bad)


@pytest.mark.parametrize("bad", ["0.1", None, True])
def test_learning_rate_rejects_non_numbers(bad):
    with pytest.raises(LessonInputError, match="must be a number"):
        check_learning_rate(bad)


def test_lesson_error_is_a_value_error():
    assert issubclass(LessonInputError, ValueError)


def test_check_int_accepts_whole_floats_and_says_why():
    assert check_int(3.0, "N", 2) == 3
    with pytest.raises(LessonInputError, match=r"N must be at least 2 \(needs two\), got 1"):
        check_int(1, "N", 2, why="needs two")
    with pytest.raises(LessonInputError, match="whole number"):
        check_int(2.5, "N", 2)
    with pytest.raises(LessonInputError, match="whole number"):
        check_int(True, "N", 0)

import numpy as np
import pytest
import torch

import convergence_lab as cl
from convergence_lab.notebook import format_lesson_error


def test_setup_notebook_seeds_and_sets_threads():
    cl.setup_notebook(seed=5, threads=1)
    a = torch.rand(3), np.random.rand(3)
    cl.setup_notebook(seed=5, threads=1)
    b = torch.rand(3), np.random.rand(3)
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert torch.get_num_threads() == 1


def test_lesson_errors_print_one_line_in_ipython(capsys):
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    cl.setup_notebook()
    shell.run_cell("import convergence_lab as cl\ncl.parity_data(10, high=1)")
    out = capsys.readouterr().out
    assert "Input problem: The sample range N must be at least 2" in out
    assert "Traceback" not in out


def test_format_lesson_error():
    assert format_lesson_error(cl.LessonInputError("x")) == "Input problem: x"


def test_verdict_prints_yes_for_a_claim_that_holds(capsys):
    cl.verdict("w stays away from pi/2", True)
    assert capsys.readouterr().out == "w stays away from pi/2: yes\n"


def test_verdict_stops_the_notebook_on_a_false_claim(capsys):
    import pytest

    with pytest.raises(AssertionError, match="w stays away from pi/2: no"):
        cl.verdict("w stays away from pi/2", np.bool_(False))
    assert capsys.readouterr().out == ""


def test_readout_shows_significant_digits_plain_or_scientific():
    assert cl.readout(1.47886) == "1.48"
    assert cl.readout(0.0123456) == "0.0123"
    assert cl.readout(1500.4) == "1500"
    assert cl.readout(5.239e-4, 2) == "5.2e-4"
    assert cl.readout(2.5e7, 2) == "2.5e7"
    assert cl.readout(0) == "0"
    assert cl.readout(-1.47886, 2) == "-1.5"


def test_readout_percent_never_rounds_to_a_perfect_score():
    assert cl.readout(0.5013, 2, percent=True) == "50%"
    assert cl.readout(1.0, 2, percent=True) == "100%"
    assert cl.readout(1499 / 1500, 2, percent=True) == "99.9%"
    assert cl.readout(1 / 1500, 1, percent=True) == "0.07%"
    assert cl.readout(0.0, 2, percent=True) == "0%"


def test_readout_names_non_finite_values_and_rejects_zero_digits():
    assert cl.readout(float("nan")) == "NaN"
    assert cl.readout(float("inf")) == "inf"
    assert cl.readout(-np.inf) == "-inf"
    with pytest.raises(cl.LessonInputError, match="at least 1 significant digit"):
        cl.readout(1.0, 0)

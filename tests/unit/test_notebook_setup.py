import numpy as np
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

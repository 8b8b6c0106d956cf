"""Each kind of control owns its rules: construction checks, value checks, the widget,
and the values, readouts and HTML control of the website recording."""

import math
import warnings

import pytest

import convergence_lab as cl
from convergence_lab import LessonInputError
from convergence_lab.controls import (
    Choice,
    Control,
    FloatSlider,
    IntSlider,
    LogSlider,
    Toggle,
    log_exponents,
)


def test_builders_make_one_class_per_kind():
    made = {
        "log": cl.log_slider("rate", 1e-2, 1e-4, 1.0, learning_rate=False),
        "float": cl.slider("w", 0.5, 0, 1),
        "int": cl.int_slider("n", 3, 1, 9),
        "choice": cl.choice("c", ["a", "b"], "b"),
        "bool": cl.toggle("t"),
    }
    classes = {"log": LogSlider, "float": FloatSlider, "int": IntSlider, "choice": Choice,
               "bool": Toggle}
    for kind, control in made.items():
        assert type(control) is classes[kind] and control.kind == kind
        assert isinstance(control, Control)
    assert made["log"].min == 1e-4 and made["log"].max == 1.0 and made["log"].step == 0.1


# -- validate: made when an explorer is built ------------------------------------------
@pytest.mark.parametrize("control, text", [
    (cl.slider("w", 1, 2, 1), "min must be below max"),
    (cl.int_slider("n", 5, 3, 3), "min must be below max"),
    (cl.log_slider("r", 10, 1e-3, 1, learning_rate=False), "outside its range"),
    (cl.int_slider("n", 0, 1, 9), "outside its range"),
    (cl.log_slider("r", 0.1, 0, 1, learning_rate=False), "needs min > 0"),
    (cl.choice("c", ["a", "b"], "z"), "not an option"),
])
def test_validate_refuses_controls_that_cannot_work(control, text):
    with pytest.raises(ValueError, match=text):
        control.validate("x")


def test_validate_accepts_good_controls():
    for control in (cl.slider("w", 0.5, 0, 1), cl.toggle("t"), cl.choice("c", [1], 1),
                    cl.log_slider("r", 1e-2, 1e-4, 1, learning_rate=True)):
        control.validate("x")


# -- check: the values draw may see ---------------------------------------------------
def test_log_slider_check():
    gain = cl.log_slider("gain", 1.0, 0.1, 10.0, learning_rate=False)
    assert gain.check(3) == 3.0 and isinstance(gain.check(3), float)
    assert gain.check(1e9) == 1e9  # beyond the maximum: allowed on purpose
    for bad in (0, -1.0, float("nan"), float("inf"), True, "fast"):
        with pytest.raises(LessonInputError, match=r"^The gain must be a finite number above "
                                                   r"0 \(it is set on a log scale\), got"):
            gain.check(bad)


def test_a_learning_rate_says_why_by_its_flag_not_its_label():
    lr = cl.log_slider("step size", 1e-2, 1e-4, 1.0, learning_rate=True)
    with pytest.raises(LessonInputError, match="never move"):
        lr.check(0)
    with pytest.raises(LessonInputError, match="The step size must be a number, got 'fast'"):
        lr.check("fast")
    plain = cl.log_slider("learning rate", 1e-2, 1e-4, 1.0, learning_rate=False)
    with pytest.raises(LessonInputError, match="set on a log scale"):
        plain.check(0)


def test_the_label_does_not_mark_a_learning_rate():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cl.log_slider("NumPy lr", 0.3, 0.1, 1.0).learning_rate is False
        assert cl.log_slider("gain", 1.0, 0.1, 10.0).learning_rate is False


def test_float_int_choice_and_toggle_checks():
    w = cl.slider("initial w", 0.5, 0, 1)
    assert w.check(2) == 2.0 and isinstance(w.check(2), float)
    with pytest.raises(LessonInputError, match=r"^The initial w must be a finite number, "
                                               r"got nan\.$"):
        w.check(float("nan"))
    with pytest.raises(LessonInputError, match="finite number"):
        w.check(True)
    n = cl.int_slider("sample range N", 5, 2, 10, why="parity needs two integers")
    assert n.check(4.0) == 4 and isinstance(n.check(4.0), int)
    with pytest.raises(LessonInputError, match=r"^The sample range N must be at least 2 "
                                               r"\(parity needs two integers\), got 1\.$"):
        n.check(1)
    with pytest.raises(LessonInputError, match="whole number, got 2.5"):
        n.check(2.5)
    c = cl.choice("hidden size", [2, 5], 5)
    assert c.check(2) == 2
    with pytest.raises(LessonInputError, match=r"^hidden size must be one of 2, 5; got 3\.$"):
        c.check(3)
    assert cl.toggle("t").check(True) is True


# -- the website's values ---------------------------------------------------------------
def test_log_web_values_share_the_widgets_exponents_and_reach_the_top():
    control = cl.log_slider("r", 3e-5, 3e-5, 3.0, step=0.5, learning_rate=False)
    low, high, step = control.exponents()
    assert (low, high, step) == log_exponents(3e-5, 3.0, 0.5)
    widget = control.widget()
    assert (widget.min, widget.max, widget.step) == (low, high, step)
    values = control.web_values()
    assert len(values) == 11 and values[0] == pytest.approx(3e-5)
    assert values[-1] == pytest.approx(3.0, rel=1e-3)  # the top value is a setting
    # The slider's steps, the first one being the default itself (3e-5, not 10**-4.5229).
    assert [math.log10(v) for v in values] == pytest.approx(
        [low + step * k for k in range(11)], abs=1e-4)
    assert values[0] == 3e-5


def test_float_default_step_is_a_hundredth_for_widget_and_website():
    control = cl.slider("w", 0.5, 0.0, 2.0)
    assert control.step_size == 0.02
    assert control.widget().step == 0.02
    values = control.web_values()
    assert len(values) == 101 and values[1] == 0.02 and values[-1] == 2.0


def test_web_values_overrides_per_kind():
    assert cl.slider("w", 0.5, 0, 1).web_values([1, 0]) == [0.0, 0.5, 1.0]
    assert cl.log_slider("r", 0.1, 1e-3, 1, learning_rate=False).web_values(
        [1e-3, 0.1001]) == [1e-3, 0.1]  # next to the default: the default
    assert cl.toggle("t", True).web_values([0]) == [False, True]
    assert cl.toggle("t").web_values([True]) == [True, False]
    with pytest.raises(LessonInputError, match="outside the range of 'w'"):
        cl.slider("w", 0.5, 0, 1).web_values([2])


def test_index_of_matches_reals_with_a_tolerance_and_others_exactly():
    r = cl.slider("w", 0.5, 0, 1)
    assert r.index_of([0.1, 0.5 * (1 + 1e-9)], 0.5) == 1
    assert r.index_of([0.1, 0.51], 0.5) is None
    assert cl.int_slider("n", 3, 1, 9).index_of([1, 3], 3) == 1
    assert cl.choice("c", ["a", "b"], "b").index_of(["a", "b"], "b") == 1
    assert cl.choice("c", ["a", "b"], "b").index_of(["a"], "b") is None


def test_labels_are_short_and_distinct():
    r = cl.slider("w", 0.5, 0, 1)
    assert r.labels([0.1, 0.25, 0.5]) == ["0.1", "0.25", "0.5"]
    assert r.labels([1.0001, 1.0002]) == ["1.0001", "1.0002"]  # digits until distinct
    assert cl.int_slider("n", 3, 1, 9).labels([1, 3]) == ["1", "3"]
    assert cl.choice("c", ["a", 5], 5).labels(["a", 5]) == ["a", "5"]
    assert cl.toggle("t").labels([False, True]) == ["off", "on"]


def test_web_kind_picks_the_html_control():
    assert cl.slider("w", 0.5, 0, 1).web_kind([0.5]) == "fixed"
    assert cl.slider("w", 0.5, 0, 1).web_kind([0, 0.5]) == "range"
    assert cl.int_slider("n", 3, 1, 9).web_kind([1, 3]) == "range"
    assert cl.log_slider("r", 0.1, 1e-3, 1, learning_rate=False).web_kind([0.01, 0.1]) == (
        "range")
    assert cl.toggle("t").web_kind([False, True]) == "checkbox"
    assert cl.toggle("t").web_kind([True, False]) == "select"
    assert cl.toggle("t").web_kind([False]) == "fixed"
    assert cl.choice("c", ["a", "b"], "b").web_kind(["a", "b"]) == "select"


def test_a_new_kind_is_one_class():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Odd(Control):
        kind = "odd"

        def check(self, value):
            if value % 2 == 0:
                raise LessonInputError(f"The {self.description} must be odd, got {value}.")
            return value

        def steps(self):
            return [1, 3, 5]

    def setup(axes):
        return {"line": axes[0].plot([], [])[0]}

    def draw(art, k):
        art["line"].set_data([0, 1], [0, k])

    ex = cl.Explorer(setup, draw, {"k": Odd("odd k", 3)}, layout=(1, 1), figsize=(3, 2))
    ex.render(k=4)
    assert ex.message == "The odd k must be odd, got 4."
    from convergence_lab import recording

    meta = recording.decode(recording.record(ex).html)["meta"]
    assert meta["controls"][0]["kind"] == "select" and meta["controls"][0]["values"] == [
        "1", "3", "5"]

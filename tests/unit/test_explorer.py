import io

import numpy as np
import PIL.Image
import pytest

import convergence_lab as cl
from convergence_lab import LessonInputError


def setup(axes):
    ax = axes[0]
    ax.set(xlim=(0, 10), ylim=(-1, 100))
    return {"line": ax.plot([], [])[0], "title": ax.set_title(" ")}


def draw(art, lr, n, flag=False):
    x = np.arange(n)
    art["line"].set_data(x, lr * x**2)
    art["title"].set_text(f"lr={lr:g} n={n} flag={flag}")


CONTROLS = {
    "lr": cl.log_slider("learning rate", 1e-2, 1e-4, 1.0, learning_rate=True),
    "n": cl.int_slider("n", 5, 2, 10),
    "flag": cl.toggle("flag"),
}


def with_choice():
    controls = {**CONTROLS, "size": cl.choice("hidden size", [2, 5], 5)}

    def draw_size(art, lr, n, flag=False, size=5):
        draw(art, lr, n, flag)

    return cl.Explorer(setup, draw_size, controls, layout=(1, 1), figsize=(4, 3))


def make():
    return cl.Explorer(setup, draw, CONTROLS, layout=(1, 1), figsize=(4, 3))


def test_render_returns_a_png_of_the_figure_size():
    ex = make()
    png = ex.render()
    image = PIL.Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (4 * 100, 3 * 100)  # the book's dpi
    assert ex.message == ""
    assert ex.artists["title"].get_text() == "lr=0.01 n=5 flag=False"


def test_update_keeps_values_and_render_does_not():
    ex = make()
    ex.update(n=7)
    assert ex.values["n"] == 7
    ex.render(n=9)
    assert ex.values["n"] == 7
    assert ex.artists["title"].get_text().endswith("n=9 flag=False")


def test_frames_differ_when_values_differ_and_repeat_when_equal():
    ex = make()
    a, b, a_again = ex.render(lr=0.5), ex.render(lr=1.0), ex.render(lr=0.5)
    assert a != b and a == a_again


@pytest.mark.parametrize("bad, text", [
    ({"lr": 0}, "learning rate must be a finite number above 0"),
    ({"lr": -1.0}, "learning rate must be a finite number above 0"),
    ({"n": 1}, "n must be at least 2"),
    ({"speed": 3}, "Unknown setting(s): speed"),
])
def test_bad_input_becomes_a_message_not_an_exception(bad, text):
    ex = make()
    ex.render(**bad)
    assert text in ex.message
    assert text.split()[0] in ex.message_artist.get_text()
    ex.render()  # the next good frame clears it
    assert ex.message == ""


def test_errors_other_than_input_errors_still_raise():
    def broken(art, **values):
        raise RuntimeError("bug in the chapter")

    ex = cl.Explorer(setup, lambda art, **v: None, CONTROLS, layout=(1, 1))
    ex.draw = broken
    with pytest.raises(RuntimeError, match="bug in the chapter"):
        ex.render()


def test_controls_validate_their_ranges():
    with pytest.raises(ValueError, match="outside its range"):
        cl.Explorer(setup, draw, {"lr": cl.log_slider("rate", 10, 1e-3, 1)})
    with pytest.raises(ValueError, match="needs min > 0"):
        cl.Explorer(setup, draw, {"lr": cl.log_slider("rate", 0.1, 0, 1)})
    with pytest.raises(ValueError, match="min must be below max"):
        cl.Explorer(setup, draw, {"w": cl.slider("w", 1, 2, 1)})
    with pytest.raises(ValueError, match="not an option"):
        cl.Explorer(setup, draw, {"c": cl.choice("c", ["a", "b"], "z")})
    with pytest.raises(TypeError, match="setup and draw must be functions"):
        cl.Explorer(None, draw, CONTROLS)
    with pytest.raises(TypeError, match="setup must return artists"):
        cl.Explorer(lambda axes: 42, draw, CONTROLS)


def test_widgets_use_the_shared_ipywidgets_api():
    import ipywidgets as w

    kinds = {
        "log": (cl.log_slider("a", 1e-2, 1e-4, 1), w.FloatLogSlider),
        "float": (cl.slider("b", 0.5, 0, 1), w.FloatSlider),
        "int": (cl.int_slider("c", 3, 1, 9), w.IntSlider),
        "choice": (cl.choice("d", ["x", "y"], "y"), w.Dropdown),
        "bool": (cl.toggle("e", True), w.Checkbox),
    }
    for control, widget_type in kinds.values():
        widget = control.widget()
        assert isinstance(widget, widget_type)
        assert widget.value == pytest.approx(control.default)


def test_widget_labels_are_never_cut_short():
    # ipywidgets gives every control 300 px and, unless told, a fixed label width.
    log = cl.log_slider("learning rate", 1e-2, 1e-6, 1e2, learning_rate=True).widget()
    assert log.style.description_width == "initial"
    assert log.readout_format == cl.controls.LOG_READOUT == ".2e"
    drop = cl.choice("initial weights", ["PyTorch default", "manual"], "manual").widget()
    assert drop.style.description_width == "initial"
    assert drop.layout.width == "max(300px, 22.0em)"
    box = cl.toggle("reshape the target (the fix)").widget()
    assert box.indent is False and box.layout.width == "auto"


def test_log_readout_is_legible_at_every_value():
    # The frontend formats it (d3-format); Python's format spec agrees for ".2e"
    # except for the exponent's leading zero, so a short readout at every value.
    for value in (1e-8, 1e-6, 3.16e-4, 0.5, 1.0, 100.0, 1e3):
        text = format(value, cl.controls.LOG_READOUT)
        assert len(text) <= 8 and "e" in text


@pytest.mark.parametrize("low, high, step", [
    (3e-5, 3.0, 0.5), (1e-6, 1e2, 0.5), (1e-8, 10.0, 0.1), (0.075, 1.2, 0.1505),
    (1e-4, 1.0, 0.1),
])
def test_log_slider_top_value_is_reachable_in_ipywidgets_7(low, high, step):
    lo, hi, st = cl.controls.log_exponents(low, high, step)
    # jQuery UI's slider (ipywidgets 7) recomputes its maximum like this and drops
    # a whole step when the result exceeds max.
    top = round((hi - lo) / st) * st + lo
    if abs(round((hi - lo) / st) - (hi - lo) / st) < 1e-6:
        assert top <= hi
        assert 10 ** top == pytest.approx(high, rel=1e-3)
    widget = cl.log_slider("rate", low, low, high, step).widget()
    assert (widget.min, widget.max, widget.step) == (lo, hi, st)


def test_dropdown_width_fits_label_and_longest_option():
    assert cl.controls.dropdown_width("n", [1, 2]) == "max(300px, 5.2em)"
    assert cl.controls.dropdown_width("hidden size", []) == "max(300px, 10.6em)"


def test_a_slider_move_redraws_through_the_widget_callback(monkeypatch):
    ex = make()
    box = ex.widgets()
    n_slider = box.children[1]
    n_slider.value = 8
    assert ex.values["n"] == 8
    assert ex.artists["title"].get_text().endswith("n=8 flag=False")


def test_show_displays_sliders_then_the_static_figure(monkeypatch):
    shown = []

    class Handle:
        def update(self, obj):
            shown.append(("update", obj))

    def fake_display(obj, display_id=False):
        shown.append(("display", obj))
        return Handle() if display_id else None

    monkeypatch.setattr("IPython.display.display", fake_display)
    ex = make()
    ex.show()
    kinds = [type(obj).__name__ for _, obj in shown]
    assert kinds == ["VBox", "Image"]
    ex.update(lr=0.5)
    assert shown[-1][0] == "update" and shown[-1][1].data == ex.render()


def test_preview_leaves_the_values_alone():
    ex = make()
    image = ex.preview(lr=0.5)
    assert image.data[:4] == b"\x89PNG"
    assert ex.values["lr"] == pytest.approx(1e-2)


def test_render_records_its_time():
    ex = make()
    ex.render()
    assert 0 < ex.last_seconds < 5


def test_explorer_redraw_stays_fast_enough_for_a_smoke_check():
    # Not the benchmark (benchmarks/bench_explorer.py is); a guard against a
    # regression to full redraws, with a generous bound.
    ex = make()
    ex.render()
    times = []
    for lr in np.geomspace(1e-4, 1, 10):
        ex.render(lr=lr)
        times.append(ex.last_seconds)
    assert np.median(times) < 0.5


def test_lesson_input_error_in_setup_defaults_does_not_break_construction():
    def draw_bad_default(art, lr, n, flag=False):
        raise LessonInputError("no data yet")

    ex = cl.Explorer(setup, draw_bad_default, CONTROLS, layout=(1, 1))
    ex.render()
    assert ex.message == "no data yet"


def test_choice_values_outside_the_options_get_a_message_before_draw():
    ex = with_choice()
    ex.render(size=3)
    assert ex.message == "hidden size must be one of 2, 5; got 3."
    ex.render(size=2)
    assert ex.message == ""


def test_grid_index_finds_grid_values_and_refuses_others():
    grid = 0.3 * 2 ** (np.arange(-4, 5) / 2)
    assert cl.grid_index(0.3, grid, "learning rate") == 4
    assert cl.grid_index(grid[0] * 1.005, grid, "learning rate") == 0  # slider rounding
    for bad in [0.25, 100.0, 0.0, -1.0]:
        with pytest.raises(LessonInputError, match=r"learning rate values from 0\.075 to 1\.2"):
            cl.grid_index(bad, grid, "learning rate")


def _one_axis_explorer(controls):
    def setup(axes):
        return {"line": axes[0].plot([], [])[0]}

    def draw(art, **values):
        art["line"].set_data([0, 1], [0, 1])

    return cl.Explorer(setup, draw, controls, layout=(1, 1), figsize=(3, 2))


def test_explorer_checks_values_from_each_control_before_draw():
    ex = _one_axis_explorer({
        "lr": cl.log_slider("learning rate", 1e-2, 1e-4, 1.0, learning_rate=True),
        "gain": cl.log_slider("gain", 1.0, 0.1, 10.0),
        "N": cl.int_slider("sample range N", 5, 2, 10, why="parity needs two integers"),
        "w0": cl.slider("initial w", 0.5, 0.0, 1.0),
    })
    ex.render(lr=0)
    assert ex.message.startswith("The learning rate must be a finite number above 0")
    assert "never move" in ex.message  # a learning rate says why
    ex.render(gain=-1.0)
    assert ex.message == ("The gain must be a finite number above 0 (it is set on a log "
                          "scale), got -1.0.")
    ex.render(N=1)
    assert ex.message == ("The sample range N must be at least 2 (parity needs two "
                          "integers), got 1.")
    ex.render(N=2.5)
    assert "whole number" in ex.message
    ex.render(w0=float("nan"))
    assert ex.message == "The initial w must be a finite number, got nan."
    ex.render(N=50)  # beyond the slider's maximum, but a valid value
    assert ex.message == ""


# -- the public surface the recorder, the live check and a live view use ------------------
def test_apply_checks_draws_and_returns_the_refusal_as_a_message():
    ex = make()
    assert ex.apply({"lr": 0.5}) == ""
    assert ex.artists["title"].get_text() == "lr=0.5 n=5 flag=False"  # missing: current
    assert ex.values["lr"] == pytest.approx(1e-2) and ex.message == ""  # left alone
    assert ex.apply({"n": 1}).startswith("The n must be at least 2")
    assert ex.apply({"speed": 3}) == "Unknown setting(s): speed."
    assert ex.message == ""  # apply draws nothing on the canvas and keeps no message


def test_moving_artists_and_the_message_artist_are_public():
    ex = make()
    assert ex.moving == [ex.artists["line"], ex.artists["title"]]
    ex.moving.clear()  # a copy: the explorer's own list is untouched
    assert len(ex.moving) == 2
    ex.render(n=1)
    assert "at least 2" in ex.message_artist.get_text()


def test_background_and_current_pngs():
    ex = make()
    frame = ex.render()
    assert ex.png() == frame
    background = ex.background_png()
    assert background[:4] == b"\x89PNG" and background != frame
    assert ex.render() == frame


def test_widgets_box_has_one_widget_per_control_and_the_figure_on_request():
    ex = make()
    assert [type(w).__name__ for w in ex.widgets().children] == [
        "FloatLogSlider", "IntSlider", "Checkbox"]
    box = ex.widgets(live_image=True)
    assert type(box.children[-1]).__name__ == "Image" and box.children[-1].value == ex.render()


def test_the_live_explorer_records_nothing_and_the_chapters_explorer_records():
    from convergence_lab.explorer import LiveExplorer

    live = LiveExplorer(setup, draw, CONTROLS, layout=(1, 1), figsize=(4, 3), web_grid={})
    assert not hasattr(live, "recording")
    assert issubclass(cl.Explorer, LiveExplorer) and hasattr(cl.Explorer, "recording")

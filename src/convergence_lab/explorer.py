"""Slider explorers that also leave a plain figure.

An :class:`Explorer` owns one matplotlib figure. The chapter gives it two functions:
``setup(axes)`` draws the fixed frame (limits, labels, reference lines) once and
returns the artists that move; ``draw(artists, **values)`` computes a run and updates
those artists. Only the moving artists are redrawn per slider move (blitting), which
keeps a redraw well under 100 ms on a slow 2-core machine where a full matplotlib
redraw alone takes about 50 ms.

``show()`` displays the figure for the defaults as an ordinary PNG output (what the
website, nbval and a reader without a kernel see), then the sliders; each slider move
replaces that output in place. Bad input never raises in a reader's face:
:class:`LessonInputError` from ``draw`` becomes a message drawn on the figure.

With ``web_grid`` (a mapping, ``{}`` for the controls' own steps) the explorer is also
recorded for the website (see :mod:`convergence_lab.static_explorer`): ``show()`` then
displays the recording (a canvas explorer that moves without a kernel, with a PNG of
the defaults for places where scripts do not run), and below it the live sliders with
their figure inside the widget box, so a page without a kernel shows only the recording.
"""

from __future__ import annotations

import io
import math
import textwrap
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Real

import numpy as np
import PIL.Image
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg

from .errors import LessonInputError, check_int, check_learning_rate
from .plots import COLORS, FIGSIZE, new_figure

__all__ = [
    "Control", "log_slider", "slider", "int_slider", "choice", "toggle", "Explorer", "grid_index",
]


@dataclass(frozen=True)
class Control:
    """A description of one slider or switch, independent of the widget library."""

    kind: str
    description: str
    default: object
    min: float | None = None
    max: float | None = None
    step: float | None = None
    options: tuple = ()
    why: str = ""  # said when a value is refused, e.g. why an int slider starts at 2

    def validate(self, name: str) -> None:
        if self.kind in ("log", "float", "int"):
            if not (self.min < self.max):
                raise ValueError(f"control {name!r}: min must be below max")
            if not (self.min <= self.default <= self.max):
                raise ValueError(f"control {name!r}: default {self.default} is outside its range")
            if self.kind == "log" and self.min <= 0:
                raise ValueError(f"control {name!r}: a log slider needs min > 0")
        elif self.kind == "choice" and self.default not in self.options:
            raise ValueError(f"control {name!r}: default {self.default!r} is not an option")

    def widget(self):
        """The ipywidgets control; only API shared by ipywidgets 7.7 (Colab) and 8.

        Labels keep their natural width (``description_width: initial``) and a
        dropdown is made wide enough for its label and longest option, so no label
        is cut short ("initial wei..."). Log sliders read out in exponent notation:
        the frontend formats the readout itself (d3-format), and a fixed-point
        format there shows 1e-6 as a cut-off ``0.0000010(``.
        """
        import ipywidgets as w

        style = {"description_width": "initial"}
        common = {"description": self.description, "continuous_update": False,
                  "style": style}
        if self.kind == "log":
            low, high, step = log_exponents(self.min, self.max, self.step or 0.1)
            return w.FloatLogSlider(value=self.default, base=10, min=low, max=high,
                                    step=step, readout_format=LOG_READOUT, **common)
        if self.kind == "float":
            return w.FloatSlider(value=self.default, min=self.min, max=self.max,
                                 step=self.step or (self.max - self.min) / 100, **common)
        if self.kind == "int":
            return w.IntSlider(value=self.default, min=self.min, max=self.max,
                               step=self.step or 1, **common)
        if self.kind == "choice":
            return w.Dropdown(options=list(self.options), value=self.default,
                              description=self.description, style=style,
                              layout={"width": dropdown_width(self.description, self.options)})
        # indent=False: the label sits right of the box at its full length, instead
        # of in what is left of a row whose left part is kept for a description.
        return w.Checkbox(value=bool(self.default), description=self.description,
                          indent=False, layout={"width": "auto"})


# A readout legible at every value, from 1e-8 to 1e3: "1.00e-6", "3.16e-2".
LOG_READOUT = ".2e"


def log_exponents(low: float, high: float, step: float) -> tuple[float, float, float]:
    """A log slider's exponent range and step, such that its top value is reachable.

    Exponents are rounded to 4 decimals (exact enough, and a short widget repr).
    ipywidgets 7's slider (jQuery UI, Colab) recomputes its top as
    ``round((max - min) / step) * step + min`` and drops a whole step when round-off
    puts that above ``max``: 3e-5 to 3 in half decades then stops at 0.949. So when
    the range is a whole number of steps, ``max`` is that very sum.
    """
    low = round(float(np.log10(low)), 4)
    high = round(float(np.log10(high)), 4)
    step = round(float(step), 4)
    steps = round((high - low) / step)
    if abs(low + steps * step - high) < 1e-6:
        high = low + steps * step
    return low, high, step


def dropdown_width(description: str, options) -> str:
    """A CSS width that fits the label and the longest option, and never less than
    the 300 px ipywidgets gives a control by default."""
    chars = len(description) + max((len(str(o)) for o in options), default=0)
    # About 0.6 em per character of the UI font, plus the arrow and the gaps.
    return f"max(300px, {0.6 * chars + 4:.1f}em)"


def log_slider(description, default, min, max, step=0.1):  # noqa: A002 - mirrors ipywidgets
    """A slider over powers of ten (for learning rates); ``step`` is in decades."""
    return Control("log", description, float(default), float(min), float(max), step)


def slider(description, default, min, max, step=None):  # noqa: A002
    return Control("float", description, float(default), float(min), float(max), step)


def int_slider(description, default, min, max, step=1, why=""):  # noqa: A002
    """A whole-number slider; ``why`` says why smaller values make no sense, if asked."""
    return Control("int", description, int(default), int(min), int(max), step, why=why)


def choice(description, options, default):
    return Control("choice", description, default, options=tuple(options))


def toggle(description, default=False):
    return Control("bool", description, bool(default))


class Explorer:
    """Sliders over a chapter's ``draw``, with a static figure for readers without a kernel.

    ``controls`` maps keyword names of ``draw`` to :class:`Control` objects;
    ``layout`` is ``(nrows, ncols)`` of the axes handed to ``setup``.
    ``setup(axes)`` returns the moving artists: a mapping or a sequence whose values
    are artists or lists of artists. Everything else it draws is the fixed frame.
    """

    def __init__(self, setup: Callable, draw: Callable, controls: Mapping[str, Control], *,
                 layout=(1, 2), figsize=FIGSIZE["two"], dpi: int = 100,
                 web_grid: Mapping | None = None, name: str | None = None):
        if not (callable(setup) and callable(draw)):
            raise TypeError(
                "setup and draw must be functions: setup(axes), draw(artists, **values)"
            )
        for key, control in controls.items():
            control.validate(key)
        self.draw = draw
        self.controls = dict(controls)
        self.web_grid = None if web_grid is None else dict(web_grid)
        self.name = name
        self._recording = None
        self._image = None
        self.values = {name: c.default for name, c in self.controls.items()}
        self.fig, self.axes = new_figure(*layout, width=figsize[0], height=figsize[1])
        self.fig.set_dpi(dpi)
        self.artists = setup(self.axes)
        self._moving = list(_flatten(self.artists))
        self._message = self.fig.text(
            0.5, 0.5, "", ha="center", va="center", wrap=True, color=COLORS["fail"],
            fontsize=11, fontweight="bold",
            bbox={"facecolor": "white", "edgecolor": COLORS["fail"], "boxstyle": "round"},
        )
        # The frame is drawn once; its ticks must not depend on the moving data.
        for ax in self.axes:
            ax.set_autoscale_on(False)
        self.canvas = FigureCanvasAgg(self.fig)
        # Lay out once with the defaults drawn, so titles and labels get their room ...
        try:
            draw(self.artists, **self.values)
        except LessonInputError:
            pass
        self.canvas.draw()
        # ... then freeze the layout and keep the frame without the moving artists.
        self.fig.set_layout_engine("none")
        for artist in self._moving + [self._message]:
            artist.set_animated(True)
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        self._handle = None
        self.message = ""
        self.last_seconds = float("nan")

    def render(self, **changes) -> bytes:
        """Redraw with ``changes`` applied to the current values; return PNG bytes."""
        start = time.perf_counter()
        values = {**self.values, **changes}
        message = ""
        try:
            self._check(values)
            self.draw(self.artists, **values)
        except LessonInputError as exc:
            message = str(exc)
        png = self._compose(message)
        self.last_seconds = time.perf_counter() - start
        return png

    def _check(self, values) -> None:
        """Refuse values no ``draw`` should see, with a message derived from the control.

        A log slider's value must be a finite number above 0 (for a learning rate, the
        message says why), an int slider's a whole number at least its minimum, a
        float slider's a finite number, a choice one of its options. Values beyond a
        slider's maximum are allowed: a reader may ask ``render`` for them on purpose.
        """
        unknown = set(values) - set(self.controls)
        if unknown:
            raise LessonInputError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
        for name, control in self.controls.items():
            values[name] = _checked(control, values[name])

    def _compose(self, message: str) -> bytes:
        """Blit the moving artists (or a message in their place) onto the frame."""
        self.message = message
        self.canvas.restore_region(self._background)
        if message:
            self._message.set_text(textwrap.fill(message, 60))
            self.fig.draw_artist(self._message)
        else:
            for artist in self._moving:
                if artist.get_visible():
                    self.fig.draw_artist(artist)
        return _encode_png(self.canvas)

    def _publish(self, png: bytes) -> None:
        if self._image is not None:  # the live figure inside the widget box
            self._image.value = png
        if self._handle is not None:
            from IPython.display import Image

            self._handle.update(Image(data=png, format="png"))

    def update(self, **changes) -> bytes:
        """Apply ``changes`` to the explorer's values, redraw, and refresh the shown figure."""
        png = self.render(**changes)
        self.values.update({k: v for k, v in changes.items() if k in self.controls})
        self._publish(png)
        return png

    def preview(self, **changes):
        """A one-off picture with ``changes`` applied, leaving the live figure and values alone."""
        from IPython.display import Image

        return Image(data=self.render(**changes), format="png")

    def recording(self):
        """The website recording over ``web_grid`` (made once, then reused)."""
        from .static_explorer import record

        if self._recording is None:
            self._recording = record(self, self.web_grid, name=self.name)
        return self._recording

    def show(self) -> None:
        """Display the sliders (when ipywidgets is there) and the figure for the current values.

        With ``web_grid``: the website recording first, then the live sliders with their
        figure inside the widget box (shown only where a kernel runs the widgets).
        """
        from IPython.display import Image, display

        if self.web_grid is not None:
            display(self.recording())
            box = self._widgets(live_image=True)
            if box is not None:
                display(box)
            return
        png = self.render()
        box = self._widgets()
        if box is not None:
            display(box)
        self._handle = display(Image(data=png, format="png"), display_id=True)

    def _widgets(self, live_image: bool = False):
        try:
            import ipywidgets as w
        except ImportError:  # a plain Python kernel: the static figure is all there is
            return None
        sliders = {name: c.widget() for name, c in self.controls.items()}

        def on_change(change):
            name = next(n for n, s in sliders.items() if s is change["owner"])
            try:
                self.update(**{name: change["new"]})
            except Exception as exc:  # a slider callback must never spill a traceback
                self._publish(self._compose(f"This setting broke the explorer: {exc}"))

        for s in sliders.values():
            s.observe(on_change, names="value")
        children = list(sliders.values())
        if live_image:
            # An Image widget: its bytes go over the widget channel, and without a kernel
            # (the website) it is not drawn at all, so only the recording shows there.
            self._image = w.Image(value=self.render(), format="png")
            children.append(self._image)
        return w.VBox(children)


def _checked(control: Control, value):
    """``value`` as ``control``'s kind of value, or a LessonInputError saying why not."""
    label = control.description
    if control.kind == "log":
        lowered = label.lower()
        if "learning rate" in lowered or lowered.split()[-1] == "lr":
            return check_learning_rate(value, label)
        if isinstance(value, bool) or not isinstance(value, Real) or not (
                math.isfinite(value) and value > 0):
            raise LessonInputError(
                f"The {label} must be a finite number above 0 (it is set on a log scale), "
                f"got {value!r}."
            )
        return float(value)
    if control.kind == "int":
        return check_int(value, f"The {label}", int(control.min), why=control.why)
    if control.kind == "float":
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise LessonInputError(f"The {label} must be a finite number, got {value!r}.")
        return float(value)
    if control.kind == "choice" and value not in control.options:
        allowed = ", ".join(map(str, control.options))
        raise LessonInputError(f"{label} must be one of {allowed}; got {value!r}.")
    return value


def _flatten(artists):
    if isinstance(artists, Artist):
        yield artists
    elif isinstance(artists, Mapping):
        for value in artists.values():
            yield from _flatten(value)
    elif isinstance(artists, (list, tuple)):
        for value in artists:
            yield from _flatten(value)
    elif artists is not None:
        raise TypeError(f"setup must return artists (or mappings/lists of them), got {artists!r}")


def _encode_png(canvas) -> bytes:
    # Fast zlib level: a slider frame is shown once, size matters less than latency.
    width, height = canvas.get_width_height()
    image = PIL.Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="png", compress_level=1)
    return buf.getvalue()


def grid_index(value: float, grid, name: str, rel_tol: float = 0.01) -> int:
    """The index of ``value`` in a precomputed log-spaced ``grid``, or a clear refusal.

    Explorers that precompute runs on a grid of (say) learning rates look results up by
    this index; a value between grid points, or outside, gets a message naming the grid.
    """
    grid = np.asarray(grid, dtype=float)
    value = float(value)
    if value > 0:
        k = int(np.argmin(np.abs(np.log(grid / value))))
        if abs(grid[k] - value) <= rel_tol * grid[k]:
            return k
    raise LessonInputError(
        f"This explorer has {name} values from {grid[0]:.3g} to {grid[-1]:.3g} "
        f"({len(grid)} steps); {value:g} is not one of them."
    )

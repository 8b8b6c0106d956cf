"""Slider explorers that also leave a plain figure: the live (kernel-side) explorer.

A :class:`LiveExplorer` owns one matplotlib figure. The chapter gives it two functions:
``setup(axes)`` draws the fixed frame (limits, labels, reference lines) once and
returns the artists that move; ``draw(artists, **values)`` computes a run and updates
those artists. Only the moving artists are redrawn per slider move (blitting), which
keeps a redraw well under 100 ms on a slow 2-core machine where a full matplotlib
redraw alone takes about 50 ms.

``show()`` displays the figure for the defaults as an ordinary PNG output (what the
website, nbval and a reader without a kernel see), then the sliders; each slider move
replaces that output in place. Bad input never raises in a reader's face:
:class:`LessonInputError` from a control's check or from ``draw`` becomes a message
drawn on the figure.

What other modules may use (nothing outside this module touches its private names):
``apply(values)`` (check, draw, and the refusal as a message), ``moving`` and
``message_artist`` (what a frame consists of), ``background_png()`` and ``png()``,
``widgets()`` (the control box), plus ``render``, ``update``, ``preview``, ``show``.

``widgets(live_image=True)`` puts the figure inside the control box: the live view
(:mod:`convergence_lab.live_view`: each move sends the frame's artists, drawn in the
browser by the website's renderer) where anywidget runs, else an ipywidgets ``Image``
that gets a PNG per move (Colab, no anywidget, a frontend without its extension).

The chapters' :class:`convergence_lab.Explorer` (:mod:`convergence_lab.recorded`) is
this explorer plus the website recording over ``web_grid``.
"""

from __future__ import annotations

import io
import textwrap
import time
from collections.abc import Callable, Mapping

import numpy as np
import PIL.Image
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg

from .controls import Control
from .errors import LessonInputError
from .plots import COLORS, FIGSIZE, new_figure

__all__ = ["LiveExplorer", "grid_index"]


class LiveExplorer:
    """Sliders over a chapter's ``draw``, with a static figure for readers without a kernel.

    ``controls`` maps keyword names of ``draw`` to :class:`~convergence_lab.controls.Control`
    objects; ``layout`` is ``(nrows, ncols)`` of the axes handed to ``setup``.
    ``setup(axes)`` returns the moving artists: a mapping or a sequence whose values
    are artists or lists of artists. Everything else it draws is the fixed frame.
    ``web_grid`` and ``name`` are kept for the website recording
    (:class:`convergence_lab.Explorer`); the live explorer records nothing.
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
        self._image = None
        self._live = None
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

    # -- what a frame is made of -------------------------------------------------------
    @property
    def moving(self) -> list:
        """The moving artists, in the order ``setup`` returned them (flattened)."""
        return list(self._moving)

    @property
    def message_artist(self):
        """The text that shows a refusal in place of the moving artists."""
        return self._message

    def apply(self, values: Mapping) -> str:
        """Check ``values`` (missing ones: the current values) and draw them.

        Returns the refusal as a message (a :class:`LessonInputError` from a control's
        check or from ``draw``), or ``""`` when the setting was drawn. Only the artists
        change: nothing is blitted, ``self.values`` and ``self.message`` stay as they are.
        Every other error propagates.
        """
        values = {**self.values, **values}
        try:
            self._check(values)
            self.draw(self.artists, **values)
        except LessonInputError as exc:
            return str(exc)
        return ""

    def _check(self, values) -> None:
        """Refuse values no ``draw`` should see, with each control's own message."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise LessonInputError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
        for name, control in self.controls.items():
            values[name] = control.check(values[name])

    # -- pictures ----------------------------------------------------------------------
    def render(self, **changes) -> bytes:
        """Redraw with ``changes`` applied to the current values; return PNG bytes."""
        start = time.perf_counter()
        png = self._compose(self.apply(changes))
        self.last_seconds = time.perf_counter() - start
        return png

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
        return self.png()

    def png(self) -> bytes:
        """The canvas as it is now, as PNG bytes (fast zlib level: a slider frame is
        shown once, so latency matters more than size)."""
        return _encode_png(self.canvas)

    def background_png(self) -> bytes:
        """The fixed frame without the moving artists, as PNG bytes.

        Leaves the canvas showing the bare frame until the next ``render``.
        """
        self.canvas.restore_region(self._background)
        return self.png()

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

    def show(self) -> None:
        """Display the sliders (when ipywidgets is there), then the figure for the current
        values, as an ordinary PNG output that each slider move replaces."""
        from IPython.display import Image, display

        png = self.render()
        box = self.widgets()
        if box is not None:
            display(box)
        self._handle = display(Image(data=png, format="png"), display_id=True)

    def widgets(self, live_image: bool = False):
        """The control box: one widget per control, each move redrawing the explorer.

        ``live_image``: the figure goes inside the box. Where the live view runs
        (:mod:`convergence_lab.live_view`: anywidget installed, not Colab), it is an
        anywidget canvas drawn by the website's renderer: each move sends the frame's
        artists (a few kB of polylines and texts), not a picture. Next to it, until the
        browser reports it has drawn the view, an ipywidgets ``Image`` gets the PNG of
        each move (a frontend without anywidget's extension shows that); then the
        ``Image`` is hidden and no longer sent. Without anywidget, and in Colab, the
        ``Image`` alone is the figure (its PNG bytes go over the widget channel).
        Either way, without a kernel (the website) the figure is not drawn at all.
        None without ipywidgets (a plain Python kernel: the static figure is all
        there is).
        """
        try:
            import ipywidgets as w
        except ImportError:
            return None
        sliders = {name: c.widget() for name, c in self.controls.items()}

        def on_change(change):
            name = next(n for n, s in sliders.items() if s is change["owner"])
            try:
                if self._live is not None and self._live.ready and self._handle is None:
                    self._move_live({name: change["new"]})
                else:
                    self.update(**{name: change["new"]})
                    if self._live is not None:  # not drawn yet: keep its frame current
                        self._live.show(self.message)
            except Exception as exc:  # a slider callback must never spill a traceback
                self._show_broken(exc)

        for s in sliders.values():
            s.observe(on_change, names="value")
        children = list(sliders.values())
        if live_image:
            self._live = self._live_figure()
            if self._live is not None:
                self._live.widget.observe(self._live_ready, names="ready")
                children.append(self._live.widget)
            self._image = w.Image(value=self.render(), format="png")
            children.append(self._image)
            if self._live is not None:
                self._live.show(self.message)
        return w.VBox(children)

    def _live_figure(self):
        from .live_view import live_figure

        return live_figure(self)

    def _live_ready(self, change) -> None:
        """The browser drew the live view: hide the PNG ``Image`` and stop sending it."""
        if change["new"] and self._image is not None:
            self._image.layout.display = "none"
            self._image = None

    def _move_live(self, changes) -> None:
        """A move with the live view drawing: apply, and send the frame (no PNG; the
        Agg canvas is not blitted, so ``png()`` shows it only after the next ``render``)."""
        start = time.perf_counter()
        self.message = self.apply(changes)
        self.values.update({k: v for k, v in changes.items() if k in self.controls})
        self._live.show(self.message)
        self.last_seconds = time.perf_counter() - start

    def _show_broken(self, exc: Exception) -> None:
        """A setting whose ``draw`` failed: its message in place of the figure."""
        message = f"This setting broke the explorer: {exc}"
        if self._live is not None:
            self._live.show(message)
        if self._image is not None or self._handle is not None:
            self._publish(self._compose(message))
        else:
            self.message = message


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

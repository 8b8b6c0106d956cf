"""The live explorer's figure drawn in the browser by the website's renderer.

On a slider move the kernel runs the chapter's ``draw`` (``explorer.apply(values)``),
encodes the moving artists as one frame (:class:`~convergence_lab.recording.FrameEncoder`:
the very rows a website recording stores for that setting) and sets them on an
anywidget (:mod:`anywidget`); the browser draws them over the background PNG (sent
once) with ``drawFrame`` from ``static/explorer.js``, the website's renderer. No PNG
travels per move, and the notebook and the website draw with the same code.

On the wire a frame is the raw bytes of a one-frame recording without controls
(:func:`convergence_lab.recording.format.pack_raw`, the byte format of
:mod:`convergence_lab.recording.format`), in a ``Bytes`` trait: ipywidgets sends bytes
as a binary buffer (no base64, no JSON of numbers), the browser reads the int32 rows
and the int16 coordinate pool in place as typed arrays, and the renderer's own
``decode`` reads it. It is not deflated: it goes over the kernel's local connection
(a few kB a frame), where zlib would cost the kernel more than it saves. How fast a
move repaints then depends on the server: a stock jupyter_server holds the frame for
the browser's delayed ACK (about 35 ms); :mod:`convergence_lab.lab_server`, which
`make lab` enables, removes that wait.

Where it runs:

* JupyterLab / Jupyter Notebook with ``anywidget`` installed (``pip install
  convergence-lab[live]``): the live view. Its frontend code is anywidget's
  extension from the installed package and the ESM below (this package's
  ``explorer.js``, inlined); nothing is fetched from a CDN.
* Without anywidget (``ImportError``): :func:`fallback_reason` says so, and
  :meth:`LiveExplorer.widgets <convergence_lab.explorer.LiveExplorer.widgets>` falls
  back to the PNG ``Image`` widget.
* Google Colab (``google.colab`` imported): the fallback too, without importing
  anywidget: Colab shows third-party widgets only through its custom widget manager,
  which loads their code from third-party sites (anywidget would switch it on).
* A frontend that cannot load anywidget's extension (the kernel's environment has it,
  the server's does not): the view never reports ``ready``, so the PNG ``Image`` next
  to it keeps being updated; once a frontend draws the view, it reports ``ready`` and
  the ``Image`` is hidden and no longer sent.
"""

from __future__ import annotations

import functools
import sys
from importlib import resources

from .recording import FrameEncoder

__all__ = ["ESM_TAIL", "LiveFigure", "esm", "fallback_reason", "live_figure"]

#: The ES module's own part, after explorer.js (inlined in a function whose ``window``
#: is a fresh object, so this module always uses its own renderer, never an older
#: ``window.clExplorer`` from a recorded explorer's output on the same page).
#: ``render`` draws the background once the frame and the PNG are there, then every
#: change of ``frame``; each draw fires a bubbling ``cl-live-drawn`` event at the next
#: animation frame (detail: ``performance.now()`` there) and counts itself in
#: ``data-frames`` (the benchmark's probe).
ESM_TAIL = r"""
function toBuffer(v) {
  if (v instanceof ArrayBuffer) return v;
  if (v && ArrayBuffer.isView(v)) return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength);
  return null;
}

function render({ model, el }) {
  var root = document.createElement("div"), canvas = null, ctx = null, bg = null, drawn = 0;
  root.className = "cl-live";
  el.appendChild(root);

  function draw() {
    var buf = toBuffer(model.get("frame"));
    if (!bg || !buf || !buf.byteLength) return;
    var d = clExplorer.decode(buf), m = d.meta;
    if (!canvas) {
      canvas = clExplorer.makeCanvas(m.w, m.h);
      canvas.setAttribute("aria-label", "the explorer's figure");
      ctx = canvas.getContext("2d");
      root.appendChild(canvas);
    }
    var said = clExplorer.drawFrame(ctx, bg, d.frames, {w: m.w, h: m.h, q: m.q,
                                    styles: m.styles, texts: m.texts, arr: d.arr});
    // The figure's name says what its titles say (the sliders announce the setting).
    canvas.setAttribute("aria-label", said.length ? said.join("; ") : "the explorer's figure");
    root.dataset.frames = ++drawn;
    requestAnimationFrame(function () {
      root.dispatchEvent(new CustomEvent("cl-live-drawn",
                                         {bubbles: true, detail: performance.now()}));
    });
  }

  var img = new Image(), url = null, png = toBuffer(model.get("background"));
  if (png) {
    url = URL.createObjectURL(new Blob([png], {type: "image/png"}));
    img.onload = function () {
      bg = img;
      draw();
      // Drawn here: the PNG fallback next to this view is no longer needed.
      if (!model.get("ready")) { model.set("ready", true); model.save_changes(); }
    };
    img.onerror = function () { root.dataset.error = "background"; };
    img.src = url;
  }
  model.on("change:frame", draw);
  return function () {
    model.off("change:frame", draw);
    if (url) URL.revokeObjectURL(url);
  };
}

export default { render };
"""


def esm() -> str:
    """The live view's ES module: ``static/explorer.js`` (read from the installed
    package) wrapped so its ``clExplorer`` is private, then :data:`ESM_TAIL`."""
    js = resources.files("convergence_lab").joinpath("static/explorer.js").read_text("utf-8")
    head = "var clExplorer = (function (window) {\n"
    return head + js + "\nreturn clExplorer;\n})({});\n" + ESM_TAIL


def fallback_reason() -> str:
    """Why the live view cannot be used here ("" when it can): Colab, or no anywidget.

    Cheap: a look at ``sys.modules`` and one import attempt.
    """
    if "google.colab" in sys.modules:
        return ("Google Colab: third-party widgets need its custom widget manager, which "
                "loads code from third-party sites; the figure is a PNG Image widget")
    try:
        import anywidget  # noqa: F401
    except ImportError:
        return "anywidget is not installed (pip install convergence-lab[live])"
    return ""


@functools.cache
def _widget_class():
    import anywidget
    import traitlets

    class LiveView(anywidget.AnyWidget):
        """The live figure: ``background`` (PNG, sent once), ``frame`` (the current
        frame, ``FrameEncoder.one_frame_recording``), ``ready`` (set by the browser
        once it has drawn)."""

        _esm = esm()
        background = traitlets.Bytes(b"").tag(sync=True)
        frame = traitlets.Bytes(b"").tag(sync=True)
        ready = traitlets.Bool(False).tag(sync=True)

    return LiveView


class LiveFigure:
    """A live explorer's figure in the browser: :attr:`widget` (the anywidget to put in
    the control box) and :meth:`show` (send the frame of the artists as they are).

    Made by :func:`live_figure`, which returns None where the live view cannot run.
    """

    def __init__(self, explorer):
        self.encoder = FrameEncoder(explorer)
        self.widget = _widget_class()(background=explorer.background_png())

    @property
    def ready(self) -> bool:
        """Whether a browser has loaded the view and drawn it."""
        return bool(self.widget.ready)

    def show(self, message: str = "") -> bytes:
        """Send the frame of the explorer's artists as ``draw`` left them (or the refusal
        ``message`` in their place, as ``explorer.apply`` returns it); returns its bytes."""
        data = self.encoder.one_frame_recording(message)
        self.widget.frame = data
        return data


def live_figure(explorer) -> LiveFigure | None:
    """The live view of ``explorer``'s figure, or None where it cannot run
    (:func:`fallback_reason`). ``explorer``: a
    :class:`~convergence_lab.explorer.LiveExplorer` (its ``apply`` draws the artists
    this encodes)."""
    if fallback_reason():
        return None
    return LiveFigure(explorer)

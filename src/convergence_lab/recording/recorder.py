"""Recording an explorer for the website, and encoding one frame of it.

A built page has no kernel, so the explorer cannot recompute. Instead :func:`record`
runs the chapter's own ``draw`` for every combination of the controls' website values
and keeps what moves: each moving artist (lines, texts) in pixel coordinates over the
fixed background frame the explorer already blits. Repeated arrays, styles, texts and
whole frames are stored once, coordinates are quantised (1/8 px) and delta-coded, and
the whole is packed (:mod:`.format`, which specifies the bytes) into one
self-contained ``text/html`` output. The JS renderer (``static/explorer.js``, the same
for every chapter, inlined into the output) draws it on a canvas; no server, no
network, no CDN. The output carries a PNG of the default setting for places where
scripts do not run (GitHub's viewer, an untrusted notebook).

:class:`FrameEncoder` turns the explorer's artists, as ``draw`` left them, into the
rows of one frame. The recorder uses it for every setting; a live view can use it for
one frame (``encode``) and send the renderer the very rows a recording stores.

Everything is deterministic (fixed zlib level, sorted JSON, PNGs without metadata,
ids from a content hash or a given name), so two executions give identical bytes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
import math
import re
import textwrap
import zlib
from dataclasses import dataclass
from importlib import resources
from typing import NamedTuple

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.text import Text

from ..errors import LessonInputError
from .clipping import clip_polyline
from .format import BLOB_CLASS, VERSION, ZLIB_LEVEL, pack, pack_raw

__all__ = [
    "MAX_BYTES", "MAX_SETTINGS", "MARGIN", "CANVAS_HASH_JS", "Recording", "Tables", "Frame",
    "FrameEncoder", "record",
]

#: The most one explorer may add to a page (bytes of its HTML output). Beyond about
#: 1.5 MB a page is slow to open on a school network; a coarser grid keeps the lesson.
MAX_BYTES = 1_500_000
#: The most settings one explorer records. Each costs one ``draw`` plus encoding its
#: artists: 0.3 to 1.1 ms in chapters 1-4 (chapter 3: 3672 settings in 2.7 s), so the
#: cap keeps a recording under about a minute.
MAX_SETTINGS = 50_000
#: Pixels around an axes box; a line leaving the axes is cut here.
MARGIN = 4.0
_NO_ROW = [-1, -1, -1, -1]

#: A page-side function (for playwright's ``evaluate``) hashing a recorded explorer's
#: canvas pixels: equal pictures give equal numbers. The tests and benchmarks share it.
CANVAS_HASH_JS = """root => {
  const c = root.querySelector('canvas'), d = c.getContext('2d')
      .getImageData(0, 0, c.width, c.height).data;
  let h = 0;
  for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) | 0;
  return h;
}"""


@dataclass(frozen=True)
class Recording:
    """A recorded explorer: its ``html`` output, sizes and counts for reports."""

    html: str
    png: bytes
    explorer_id: str
    grid_sizes: dict
    combinations: int
    frames: int
    blob_bytes: int

    @property
    def size(self) -> int:
        """Bytes the explorer adds to a page (its HTML output)."""
        return len(self.html.encode())

    def _repr_mimebundle_(self, include=None, exclude=None):
        # The PNG is for front ends that do not run scripts; text/plain is nbval's.
        return {
            "text/html": self.html,
            "image/png": base64.b64encode(self.png).decode(),
            "text/plain": f"<explorer {self.explorer_id}: {self.combinations} settings>",
        }


class Tables:
    """Repeated items stored once: arrays in one int16 pool (delta-coded), styles and
    texts by value, frames by their rows.

    With a ``compressor`` (a zlib compressobj), every new item is fed to it, so
    ``compressed`` tracks the size the data will have; :meth:`finish` flushes it.
    """

    def __init__(self, compressor=None):
        self.arrays: dict[bytes, int] = {}
        self.pool: list[np.ndarray] = []
        self.styles: dict[str, int] = {}
        self.texts: dict[str, int] = {}
        self.frames: dict[bytes, int] = {}
        self._z = compressor
        self.compressed = 0

    def _feed(self, data: bytes) -> None:
        if self._z is not None:
            self.compressed += len(self._z.compress(data))

    def finish(self) -> None:
        """Count what the compressor still holds."""
        if self._z is not None:
            self.compressed += len(self._z.flush())

    def array(self, values: np.ndarray) -> int:
        delta = np.diff(values, prepend=0).astype("<i2")
        key = delta.tobytes()
        if key not in self.arrays:
            self.arrays[key] = len(self.pool)
            self.pool.append(delta)
            self._feed(key)
        return self.arrays[key]

    def style(self, style: dict) -> int:
        key = json.dumps(style, sort_keys=True, separators=(",", ":"))
        return self.styles.setdefault(key, len(self.styles))

    def text(self, text: str) -> int:
        if text not in self.texts:
            self.texts[text] = len(self.texts)
            self._feed(text.encode())
        return self.texts[text]

    def frame(self, rows: np.ndarray) -> int:
        key = rows.astype("<i4").tobytes()
        if key not in self.frames:
            self.frames[key] = len(self.frames)
            self._feed(key)
        return self.frames[key]


class Frame(NamedTuple):
    """One frame on its own: ``rows`` (``n_artists x 4`` int32, as in a recording's
    frames section) index its own ``styles`` (dicts), ``texts`` and ``arrays``
    (coordinates in 1/q px, and sub-path starts, as int64: the pool's deltas summed)."""

    rows: np.ndarray
    styles: list
    texts: list
    arrays: list


def _css(color, alpha=None) -> str:
    r, g, b, a = to_rgba(color, alpha)
    return f"rgba({round(r * 255)},{round(g * 255)},{round(b * 255)},{round(a, 3)})"


def _linespacing(text) -> float:
    # Text.get_linespacing is recent (Colab's matplotlib lacks it); matplotlib >= 3.11
    # may say "normal" (its default, 1.2 font sizes).
    value = getattr(text, "_linespacing", 1.2)
    return round(float(value), 3) if isinstance(value, (int, float)) else 1.2


def _dashes(line: Line2D):
    # The dash pattern as matplotlib draws it (already scaled by the line width):
    # matplotlib has no public getter for it.
    return line._dash_pattern[1]


class FrameEncoder:
    """The rows of one frame of ``explorer``: its moving artists as ``draw`` left them.

    Rows follow the byte format (:mod:`.format`): one ``[style, a, b, c]`` row per
    moving artist (``explorer.moving``), then the message's row
    (``explorer.message_artist``). ``width``, ``height`` (canvas px) and ``q`` (stored
    coordinates are in 1/q px) describe the frame.

    A frame of the live explorer, for a renderer that draws recorded frames::

        encoder = FrameEncoder(explorer)
        frame = encoder.encode(explorer.apply({"lr": 0.1}))
    """

    def __init__(self, explorer):
        self.width, self.height = explorer.canvas.get_width_height()
        self.px = explorer.fig.dpi / 72.0  # points to pixels
        # Coordinates in 1/q px must fit int16 (deltas too): 1/8 px unless the figure is huge.
        span = 2 * (max(self.width, self.height) + 2 * MARGIN)
        self.q = next((q for q in (8, 4, 2, 1) if span * q < 32000), None)
        if self.q is None:
            raise LessonInputError("The explorer's figure is too large to record for the website.")
        self.artists = explorer.moving + [explorer.message_artist]
        for a in self.artists:
            if not isinstance(a, (Line2D, Text)):
                raise LessonInputError(
                    f"The website explorer records lines and texts; {type(a).__name__} "
                    "is neither. Draw it with ax.plot / axvline / ax.text instead."
                )

    def rows(self, message: str, tables: Tables) -> np.ndarray:
        """The frame's rows (int64), storing its items in ``tables``.

        ``message``: the refusal to show in place of the moving artists ("" for none),
        as :meth:`LiveExplorer.apply` returns it.
        """
        rows = []
        *moving, msg = self.artists
        for a in moving:
            if message:
                rows.append(_NO_ROW)
            elif isinstance(a, Line2D):
                rows.append(self._line(a, tables))
            else:
                rows.append(self._text(a, tables))
        rows.append(self._text(msg, tables, textwrap.fill(message, 60)) if message else _NO_ROW)
        return np.asarray(rows, dtype=np.int64)

    def encode(self, message: str = "") -> Frame:
        """One frame with its own tables (not part of a recording)."""
        tables = Tables()
        rows = self.rows(message, tables)
        return Frame(rows=rows.astype(np.int32), styles=[json.loads(s) for s in tables.styles],
                     texts=list(tables.texts),
                     arrays=[np.cumsum(d.astype(np.int64)) for d in tables.pool])

    def one_frame_recording(self, message: str = "") -> bytes:
        """The frame as the raw bytes of a one-frame recording without controls
        (:func:`.format.pack_raw`): what the live view sends the renderer per move."""
        tables = Tables()
        tables.frame(self.rows(message, tables))
        return pack_raw(_meta(self, tables, [], 1), tables.pool, list(tables.frames),
                        np.zeros(1, "<i4"))

    # -- lines ---------------------------------------------------------------------
    def _clip_box(self, artist):
        box = artist.get_clip_box() if artist.get_clip_on() else None
        if box is None:
            return (0.0, 0.0, float(self.width), float(self.height))
        x0, y0, x1, y1 = box.x0, self.height - box.y1, box.x1, self.height - box.y0
        return (float(x0), float(y0), float(x1), float(y1))

    def _line(self, line: Line2D, tables: Tables):
        if not line.get_visible():
            return _NO_ROW
        xy = np.asarray(line.get_xydata(), dtype=float).reshape(-1, 2)
        with np.errstate(all="ignore"):  # log axes map values <= 0 to nan/-inf
            pts = line.get_transform().transform(xy) if len(xy) else np.zeros((0, 2))
        pts[:, 1] = self.height - pts[:, 1]
        box = self._clip_box(line)
        marker = line.get_marker()
        has_marker = marker not in (None, "None", "none", "", " ")
        ls = line.get_linestyle()
        has_line = ls not in ("None", "none", "", " ") and line.get_linewidth() > 0
        pts, starts = clip_polyline(pts, box, MARGIN, connect=has_line)
        if len(pts) > 32000:
            raise LessonInputError("A recorded line has more than 32000 points: plot fewer.")
        style = {
            "k": "line", "c": _css(line.get_color(), line.get_alpha()),
            "lw": round(line.get_linewidth() * self.px, 3) if has_line else 0,
            "clip": [round(v, 2) for v in box],
        }
        if has_line:
            dashes = _dashes(line)
            if dashes:
                style["dash"] = [round(d * self.px, 3) for d in dashes]
                style["cap"] = "butt"
            else:
                style["cap"] = {"projecting": "square"}.get(line.get_solid_capstyle(),
                                                            line.get_solid_capstyle())
            style["join"] = line.get_solid_joinstyle()
        if has_marker:
            style["m"] = str(marker)
            style["ms"] = round(line.get_markersize() * self.px, 3)
            style["mc"] = _css(line.get_markerfacecolor(), line.get_alpha())
        q = np.round(pts * self.q).astype(np.int64)
        xs, ys = tables.array(q[:, 0]), tables.array(q[:, 1])
        br = tables.array(np.asarray(starts, dtype=np.int64)) if len(starts) > 1 else -1
        return [tables.style(style), xs, ys, br]

    # -- texts ---------------------------------------------------------------------
    def _text(self, text: Text, tables: Tables, content=None):
        content = text.get_text() if content is None else content
        if not text.get_visible() or not content.strip():
            return _NO_ROW
        x, y = text.get_transform().transform(text.get_unitless_position())
        style = {
            "k": "text", "c": _css(text.get_color(), text.get_alpha()),
            "fs": round(text.get_fontsize() * self.px, 3),
            "fw": "bold" if str(text.get_fontweight()) in ("bold", "heavy", "700", "800",
                                                          "900", "semibold", "600") else "normal",
            "ha": text.get_horizontalalignment(), "va": text.get_verticalalignment(),
            "rot": round(float(text.get_rotation()), 2),
            "ls": _linespacing(text),
        }
        patch = text.get_bbox_patch()
        if patch is not None:
            pad = patch.get_boxstyle().pad * text.get_fontsize() * self.px
            style["box"] = {"fc": _css(patch.get_facecolor()), "ec": _css(patch.get_edgecolor()),
                            "pad": round(pad, 2), "lw": round(patch.get_linewidth() * self.px, 2)}
        qx = int(round(float(x) * self.q))
        qy = int(round((self.height - float(y)) * self.q))
        return [tables.style(style), tables.text(content), qx, qy]


def _explorer_id(name, payload: bytes) -> str:
    if name:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,40}", name):
            raise LessonInputError(
                f"An explorer name must be a short word (letters, digits, - or _), got {name!r}."
            )
        return name
    return "ex" + hashlib.sha256(payload).hexdigest()[:8]


def _renderer_js() -> str:
    return resources.files("convergence_lab").joinpath("static/explorer.js").read_text("utf-8")


def web_grids(explorer, web_grid=None) -> dict:
    """Each control's website values (its own steps, or ``web_grid``'s), by name."""
    web_grid = dict(web_grid or {})
    unknown = set(web_grid) - set(explorer.controls)
    if unknown:
        raise LessonInputError(f"web_grid names unknown control(s): {', '.join(sorted(unknown))}.")
    return {n: c.web_values(web_grid.get(n)) for n, c in explorer.controls.items()}


def record(explorer, web_grid=None, *, name=None, max_bytes: int = MAX_BYTES,
           max_settings: int = MAX_SETTINGS) -> Recording:
    """Record ``explorer`` over its website grid into one self-contained HTML output.

    ``web_grid`` maps control names to the values the website offers (default: each
    control's own steps, see ``Control.web_values``). Refuses, with the grid sizes and the
    estimated size, a recording over ``max_bytes``: before recording, from a sample of
    settings, then while recording, as soon as the compressed data alone passes the cap.
    Grids over ``max_settings`` settings are refused outright (too slow to record).
    """
    grids = web_grids(explorer, web_grid)
    names = list(grids)
    sizes = {n: len(grids[n]) for n in names}
    total = math.prod(sizes.values())
    grid_text = " x ".join(f"{n} {s}" for n, s in sizes.items()) + f" = {total} settings"

    def refuse(estimate):
        raise LessonInputError(
            f"The website explorer would be about {estimate / 1e6:.1f} MB, over the "
            f"{max_bytes / 1e6:.1f} MB cap: its grid is {grid_text}. Pass a coarser "
            "web_grid (fewer values for the finest controls)."
        )

    if total > max_settings:
        raise LessonInputError(
            f"The website explorer would record {total} settings (at most {max_settings}: "
            f"each takes up to about a millisecond to record): its grid is {grid_text}. "
            "Pass a coarser web_grid (fewer values for the finest controls)."
        )

    encoder = FrameEncoder(explorer)

    def frame_of(tables, idx):
        values = {n: grids[n][i] for n, i in zip(names, idx, strict=True)}
        return tables.frame(encoder.rows(explorer.apply(values), tables))

    saved_values = dict(explorer.values)
    png = explorer.render()  # the default setting: also the fallback picture
    # What the picture says at that setting (the titles and notes draw wrote), for its alt.
    said = [" ".join(a.get_text().split()) for a in encoder.artists[:-1]
            if isinstance(a, Text) and a.get_visible() and a.get_text().strip()]
    background = explorer.background_png()
    fixed = len(background) * 4 / 3 + len(png) * 4 / 3 + 20_000
    shape = [sizes[n] for n in names]
    # Before: a sample of evenly spaced settings, compressed as they would be. Repeats
    # across the whole grid make the real recording much smaller (chapter 3: sampled
    # 3.5 MB, recorded 0.9 MB), so only a gross excess (four times the cap) is refused
    # here, to save the time; the exact check follows while recording.
    sample = Tables(zlib.compressobj(ZLIB_LEVEL))
    picks = np.unique(np.linspace(0, total - 1, min(total, 24)).round().astype(int))
    for k in picks:
        frame_of(sample, np.unravel_index(k, shape))
    sample.finish()
    estimate = fixed + sample.compressed * 4 / 3 * total / len(picks)
    if estimate > 4 * max_bytes:
        refuse(estimate)
    # While: the compressed data so far only grows, so passing the cap is final.
    tables = Tables(zlib.compressobj(ZLIB_LEVEL))
    combos = np.empty(total, dtype="<i4")
    check_every = max(1, total // 64)
    for k, idx in enumerate(itertools.product(*(range(s) for s in shape))):
        combos[k] = frame_of(tables, idx)
        if k % check_every == check_every - 1 and fixed + tables.compressed * 4 / 3 > max_bytes:
            refuse(fixed + tables.compressed * 4 / 3 * total / (k + 1))
    # Leave the live explorer as it was.
    explorer.values = saved_values
    explorer.render()

    controls = explorer.controls
    meta = _meta(encoder, tables, [
        {"name": n, "label": controls[n].description,
         "kind": controls[n].web_kind(grids[n]),
         "values": controls[n].labels(grids[n]),
         "default": controls[n].index_of(grids[n], controls[n].default)}
        for n in names
    ], total)
    blob = pack(meta, tables.pool, list(tables.frames), combos)
    explorer_id = _explorer_id(name, blob)
    data = {"controls": meta["controls"], "w": meta["w"], "h": meta["h"],
            "panels": _panels(explorer), "label_px": _label_px(explorer)}
    setting = ", ".join(f"{c['label']} {c['values'][c['default']]}" for c in meta["controls"])
    alt = "; ".join(said) + f". Setting: {setting}" if said else f"Setting: {setting}"
    page = _html(explorer_id, blob, background, png, meta, alt, data)
    size = len(page.encode())
    if size > max_bytes:
        refuse(size)
    return Recording(html=page, png=png, explorer_id=explorer_id, grid_sizes=sizes,
                     combinations=total, frames=len(tables.frames), blob_bytes=len(blob))


def _meta(encoder: FrameEncoder, tables: Tables, controls: list, n_combos: int) -> dict:
    """A recording's header (:mod:`.format`) for the items stored in ``tables``."""
    return {
        "v": VERSION, "w": encoder.width, "h": encoder.height, "q": encoder.q,
        "controls": controls,
        "styles": [json.loads(s) for s in tables.styles],
        "texts": list(tables.texts),
        "n_arrays": len(tables.pool), "n_frames": len(tables.frames),
        "n_artists": len(encoder.artists), "n_combos": n_combos,
    }


def _panels(explorer) -> list[list[int]]:
    """The figure's panels as full-height columns [left, right) in canvas px.

    The website stacks them on a narrow page (explorer.js, ``stacking``). Only a single
    row of two or more axes is split: each boundary lies in the gap between one axes'
    tight box (ticks, labels, title) and the next one's; anything else gives [].
    """
    axes = sorted(explorer.axes, key=lambda ax: ax.get_position().x0)
    rows = {round(ax.get_position().y0, 3) for ax in axes}
    if len(axes) < 2 or len(rows) > 1:
        return []
    renderer = explorer.canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer) for ax in axes]
    width = explorer.canvas.get_width_height()[0]
    cuts = [0]
    for left, right in zip(boxes, boxes[1:], strict=False):
        cuts.append(round(min(right.x0, (left.x1 + right.x0) / 2)))
    cuts.append(width)
    return [[a, b] for a, b in zip(cuts, cuts[1:], strict=False)]


def _label_px(explorer) -> float:
    """The smallest tick or axis label's height in canvas px (font size x dpi / 72)."""
    sizes = [t.get_fontsize() for ax in explorer.axes
             for t in [ax.xaxis.label, ax.yaxis.label, *ax.get_xticklabels(),
                       *ax.get_yticklabels()] if t.get_text()]
    return round(min(sizes) * explorer.fig.dpi / 72, 2) if sizes else 0.0


def _json_in_html(data) -> str:
    # Inside <script>, "</" could end the element early.
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/")


def _html(explorer_id, blob, background, png, meta, alt, data) -> str:
    b64 = base64.b64encode(blob).decode()
    bg = base64.b64encode(background).decode()
    fallback = base64.b64encode(png).decode()
    settings = ", ".join(
        f"{c['label']} {c['values'][0]} to {c['values'][-1]} ({len(c['values'])} values)"
        if c["kind"] == "range" else f"{c['label']} ({len(c['values'])} choices)"
        for c in meta["controls"]
    )
    note = html.escape(f"Recorded settings: {settings}.")
    js = _renderer_js()
    # The renderer finds its data through the element that holds this script.
    return (
        f'<div class="cl-explorer" id="cl-{explorer_id}" data-explorer="{explorer_id}">'
        f'<img class="cl-fallback" alt="{html.escape(alt)}" '
        f'width="{meta["w"]}" height="{meta["h"]}" '
        f'style="display:block;max-width:100%;height:auto" '
        f'src="data:image/png;base64,{fallback}">'
        f'<p class="cl-grid-note" hidden>{note}</p>'
        f'<script type="application/json" class="cl-data">{_json_in_html(data)}</script>'
        f'<script type="application/octet-stream" class="cl-bg">{bg}</script>'
        f'<script type="application/octet-stream" class="{BLOB_CLASS}">{b64}</script>'
        f"<script>{js}\nclExplorer(document.getElementById(\"cl-{explorer_id}\"));</script>"
        "</div>"
    )

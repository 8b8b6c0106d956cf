"""The website's explorer: a recording of an :class:`~convergence_lab.Explorer`.

A built page has no kernel, so the explorer cannot recompute. Instead ``record`` runs
the chapter's own ``draw`` for every combination of the controls' website grid and
keeps what moves: each moving artist (lines, texts) in pixel coordinates over the
fixed background frame the explorer already blits. Repeated arrays are stored once,
coordinates are quantised (1/8 px) and delta-coded, and the whole is deflated and
base64'd into one self-contained ``text/html`` output. A small generic JS renderer
(``static/explorer.js``, the same for every chapter, inlined into the output) inflates
it with the browser's ``DecompressionStream`` and draws on a canvas; no server, no
network, no CDN. The output carries a PNG of the default setting for places where
scripts do not run (GitHub's viewer, an untrusted notebook).

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
import struct
import textwrap
import zlib
from dataclasses import dataclass
from importlib import resources

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.text import Text

from .errors import LessonInputError

__all__ = [
    "MAX_BYTES", "MAX_SETTINGS", "web_values", "record", "Recording", "decode", "compare_with_live",
]

#: The most one explorer may add to a page (bytes of its HTML output). Beyond about
#: 1.5 MB a page is slow to open on a school network; a coarser grid keeps the lesson.
MAX_BYTES = 1_500_000
#: The most settings one explorer records (chapter 3 has 2448; each costs about 1 ms).
MAX_SETTINGS = 50_000
_MARGIN = 4.0  # px around an axes box; a line leaving the axes is cut here
_ZLIB_LEVEL = 9
_BLOB_MARK = "cl-blob"

#: A page-side function (for playwright's ``evaluate``) hashing a recorded explorer's
#: canvas pixels: equal pictures give equal numbers. The tests and benchmarks share it.
CANVAS_HASH_JS = """root => {
  const c = root.querySelector('canvas'), d = c.getContext('2d')
      .getImageData(0, 0, c.width, c.height).data;
  let h = 0;
  for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) | 0;
  return h;
}"""


def web_values(control, override=None) -> list:
    """The values a control takes on the website: its own steps, or ``override``.

    Log sliders step in decades exactly as the ipywidgets slider does, int and float
    sliders by their step, choices are their options, toggles off and on. An override
    must stay inside the control's range (or options); the default is always kept, so
    the website opens on the same picture as the notebook.
    """
    kind = control.kind
    if override is None:
        if kind == "log":
            lo = round(math.log10(control.min), 4)
            hi = round(math.log10(control.max), 4)
            step = round(control.step or 0.1, 4)
            n = int(round((hi - lo) / step)) + 1
            values = [float(10 ** (lo + step * k)) for k in range(n)]
        elif kind == "float":
            step = control.step or (control.max - control.min) / 100
            n = int(round((control.max - control.min) / step)) + 1
            values = [float(control.min + step * k) for k in range(n)]
        elif kind == "int":
            values = list(range(int(control.min), int(control.max) + 1, int(control.step or 1)))
        elif kind == "choice":
            values = list(control.options)
        else:
            values = [False, True]
    else:
        values = list(override)
        if not values:
            raise LessonInputError(f"The website grid of {control.description!r} is empty.")
        for v in values:
            if kind == "choice" and v not in control.options:
                raise LessonInputError(
                    f"{v!r} is not an option of {control.description!r} "
                    f"({', '.join(map(str, control.options))})."
                )
            if kind in ("log", "float", "int") and not (
                control.min * (1 - 1e-9) <= v <= control.max * (1 + 1e-9)
            ):
                raise LessonInputError(
                    f"{v!r} is outside the range of {control.description!r} "
                    f"({control.min:g} to {control.max:g})."
                )
        if kind == "int":
            values = [int(v) for v in values]
        elif kind in ("log", "float"):
            values = [float(v) for v in values]
        elif kind == "bool":
            values = [bool(v) for v in values]
    if kind in ("log", "float"):
        # The slider's own steps come from rounded exponents (0.29998 for a default 0.3):
        # a value that close to the default is the default, not a second setting.
        values = [control.default if math.isclose(v, control.default, rel_tol=1e-3) else v
                  for v in values]
        values = sorted(set(values))
    if _index_of(values, control.default, kind) is None:
        values.append(control.default)
        if kind in ("log", "float", "int"):
            values.sort()
    return values


def _index_of(values, value, kind):
    for i, v in enumerate(values):
        if kind in ("log", "float") and math.isclose(v, value, rel_tol=1e-6):
            return i
        if kind not in ("log", "float") and v == value:
            return i
    return None


def _labels(values, kind) -> list[str]:
    """Short, distinct readouts (and query-string values) for a control's grid."""
    if kind == "bool":
        return ["on" if v else "off" for v in values]
    if kind not in ("log", "float"):
        return [str(v) for v in values]
    for digits in range(3, 12):
        labels = [f"{v:.{digits}g}" for v in values]
        if len(set(labels)) == len(labels):
            return labels
    return [repr(v) for v in values]


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


class _Tables:
    """Repeated items stored once: arrays in one int16 pool, styles and texts by value."""

    def __init__(self, compressor):
        self.arrays: dict[bytes, int] = {}
        self.pool: list[np.ndarray] = []
        self.styles: dict[str, int] = {}
        self.texts: dict[str, int] = {}
        self.frames: dict[bytes, int] = {}
        self._z = compressor
        self.compressed = 0

    def _feed(self, data: bytes) -> None:
        self.compressed += len(self._z.compress(data))

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


def _css(color, alpha=None) -> str:
    r, g, b, a = to_rgba(color, alpha)
    return f"rgba({round(r * 255)},{round(g * 255)},{round(b * 255)},{round(a, 3)})"


class _Recorder:
    def __init__(self, explorer, tables):
        self.ex = explorer
        self.t = tables
        fig = explorer.fig
        self.width, self.height = explorer.canvas.get_width_height()
        self.px = fig.dpi / 72.0  # points to pixels
        # Coordinates in 1/q px must fit int16 (deltas too): 1/8 px unless the figure is huge.
        span = 2 * (max(self.width, self.height) + 2 * _MARGIN)
        self.q = next((q for q in (8, 4, 2, 1) if span * q < 32000), None)
        if self.q is None:
            raise LessonInputError("The explorer's figure is too large to record for the website.")
        self.artists = list(explorer._moving) + [explorer._message]
        for a in self.artists:
            if not isinstance(a, (Line2D, Text)):
                raise LessonInputError(
                    f"The website explorer records lines and texts; {type(a).__name__} "
                    "is neither. Draw it with ax.plot / axvline / ax.text instead."
                )

    # -- lines ---------------------------------------------------------------------
    def _clip_box(self, artist):
        box = artist.get_clip_box() if artist.get_clip_on() else None
        if box is None:
            return (0.0, 0.0, float(self.width), float(self.height))
        x0, y0, x1, y1 = box.x0, self.height - box.y1, box.x1, self.height - box.y0
        return (float(x0), float(y0), float(x1), float(y1))

    def _line(self, line: Line2D):
        if not line.get_visible():
            return [-1, -1, -1, -1]
        xy = np.asarray(line.get_xydata(), dtype=float).reshape(-1, 2)
        with np.errstate(all="ignore"):  # log axes map values <= 0 to nan/-inf
            pts = line.get_transform().transform(xy) if len(xy) else np.zeros((0, 2))
        pts[:, 1] = self.height - pts[:, 1]
        box = self._clip_box(line)
        marker = line.get_marker()
        has_marker = marker not in (None, "None", "none", "", " ")
        ls = line.get_linestyle()
        has_line = ls not in ("None", "none", "", " ") and line.get_linewidth() > 0
        pts, starts = _clip_polyline(pts, box, _MARGIN, connect=has_line)
        if len(pts) > 32000:
            raise LessonInputError("A recorded line has more than 32000 points: plot fewer.")
        style = {
            "k": "line", "c": _css(line.get_color(), line.get_alpha()),
            "lw": round(line.get_linewidth() * self.px, 3) if has_line else 0,
            "clip": [round(v, 2) for v in box],
        }
        if has_line:
            offset, dashes = line._dash_pattern  # noqa: SLF001 - already scaled by lw
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
        xs, ys = self.t.array(q[:, 0]), self.t.array(q[:, 1])
        br = self.t.array(np.asarray(starts, dtype=np.int64)) if len(starts) > 1 else -1
        return [self.t.style(style), xs, ys, br]

    # -- texts ---------------------------------------------------------------------
    def _text(self, text: Text, content=None):
        content = text.get_text() if content is None else content
        if not text.get_visible() or not content.strip():
            return [-1, -1, -1, -1]
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
        return [self.t.style(style), self.t.text(content), qx, qy]

    def frame(self, message: str) -> int:
        rows = []
        *moving, msg = self.artists
        for a in moving:
            if message:
                rows.append([-1, -1, -1, -1])
            elif isinstance(a, Line2D):
                rows.append(self._line(a))
            else:
                rows.append(self._text(a))
        rows.append(self._text(msg, textwrap.fill(message, 60)) if message else [-1, -1, -1, -1])
        return self.t.frame(np.asarray(rows, dtype=np.int64))


def _linespacing(text) -> float:
    # matplotlib >= 3.11 may say "normal" (its default, 1.2 font sizes).
    value = getattr(text, "_linespacing", 1.2)
    return round(float(value), 3) if isinstance(value, (int, float)) else 1.2


def _clip_polyline(pts, box, margin, connect=True):
    """Points inside ``box`` (+ margin), cutting where the line leaves it.

    A diverged run jumps between huge values; matplotlib joins them with near-vertical
    segments that paint a solid wall. Here a segment between two points outside the box
    is dropped, and a segment that leaves (or enters) is cut at the box edge, so a
    diverged line visibly leaves the axes and stops. Non-finite points break the line.
    Returns the kept points and the index where each sub-path starts.
    """
    x0, y0, x1, y1 = box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin
    finite = np.isfinite(pts).all(axis=1)
    inside = finite.copy()
    inside[finite] = ((pts[finite, 0] >= x0) & (pts[finite, 0] <= x1)
                      & (pts[finite, 1] >= y0) & (pts[finite, 1] <= y1))
    if inside.all():
        return pts, [0]
    if not connect:
        return pts[inside], [0]
    out, starts, count = [], [], 0
    n = len(pts)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], inside.astype(np.int8), [0]])))
    for a, b in zip(edges[::2], edges[1::2], strict=True):  # runs [a, b) of inside points
        run = [pts[a:b]]
        if a > 0 and finite[a - 1]:
            run.insert(0, _cut(pts[a], pts[a - 1], (x0, y0, x1, y1))[None])
        if b < n and finite[b]:
            run.append(_cut(pts[b - 1], pts[b], (x0, y0, x1, y1))[None])
        starts.append(count)
        out.append(np.concatenate(run))
        count += len(out[-1])
    # Segments crossing the box with both ends outside (rare: a jump straight across).
    # Prefiltered in bulk: a diverged run has hundreds of such jumps, all walls.
    p, q = np.where(finite[:, None], pts, 0)[:-1], np.where(finite[:, None], pts, 0)[1:]
    lo, hi = np.minimum(p, q), np.maximum(p, q)
    wall = ((p[:, 1] < y0) & (q[:, 1] > y1)) | ((p[:, 1] > y1) & (q[:, 1] < y0))
    maybe = (finite[:-1] & finite[1:] & ~inside[:-1] & ~inside[1:] & ~wall
             & (hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0) & (lo[:, 1] <= y1))
    for i in np.flatnonzero(maybe):
        seg = _segment_in_box(pts[i], pts[i + 1], (x0, y0, x1, y1))
        if seg is not None:
            starts.append(count)
            out.append(seg)
            count += 2
    if not out:
        return np.zeros((0, 2)), [0]
    return np.concatenate(out), starts


def _segment_in_box(p, q, box):
    """Liang-Barsky: the part of segment p-q inside ``box``, or None."""
    t0, t1 = 0.0, 1.0
    d = q - p
    for num, den in ((p[0] - box[0], -d[0]), (box[2] - p[0], d[0]),
                     (p[1] - box[1], -d[1]), (box[3] - p[1], d[1])):
        if den == 0:
            if num < 0:
                return None
            continue
        t = num / den
        if den < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    return np.array([p + t0 * d, p + t1 * d])


def _cut(inside, outside, box):
    """Where the segment from an inside point to an outside one crosses the box edge."""
    seg = _segment_in_box(inside, outside, box)
    return seg[1] if seg is not None else inside


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


def record(explorer, web_grid=None, *, name=None, max_bytes: int = MAX_BYTES,
           max_settings: int = MAX_SETTINGS) -> Recording:
    """Record ``explorer`` over its website grid into one self-contained HTML output.

    ``web_grid`` maps control names to the values the website offers (default: each
    control's own steps, see :func:`web_values`). Refuses, with the grid sizes and the
    estimated size, a recording over ``max_bytes``: before recording, from a sample of
    settings, then while recording, as soon as the compressed data alone passes the cap.
    Grids over ``max_settings`` settings are refused outright (too slow to record).
    """
    web_grid = dict(web_grid or {})
    unknown = set(web_grid) - set(explorer.controls)
    if unknown:
        raise LessonInputError(f"web_grid names unknown control(s): {', '.join(sorted(unknown))}.")
    names = list(explorer.controls)
    grids = {n: web_values(explorer.controls[n], web_grid.get(n)) for n in names}
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
            f"recording takes a fraction of a millisecond each): its grid is {grid_text}. "
            "Pass a coarser web_grid (fewer values for the finest controls)."
        )

    def frame_of(rec, idx):
        values = {n: grids[n][i] for n, i in zip(names, idx, strict=True)}
        message = ""
        try:
            explorer._check(values)  # noqa: SLF001 - the same refusals as the live explorer
            explorer.draw(explorer.artists, **values)
        except LessonInputError as exc:
            message = str(exc)
        return rec.frame(message)

    saved_values = dict(explorer.values)
    png = explorer.render()  # the default setting: also the fallback picture
    background = _png_of_background(explorer)
    fixed = len(background) * 4 / 3 + len(png) * 4 / 3 + 20_000
    shape = [sizes[n] for n in names]
    # Before: a sample of evenly spaced settings, compressed as they would be. Repeats
    # across the whole grid make the real recording much smaller (chapter 3: sampled
    # 3.5 MB, recorded 0.9 MB), so only a gross excess (four times the cap) is refused
    # here, to save the time; the exact check follows while recording.
    sample = _Tables(zlib.compressobj(_ZLIB_LEVEL))
    picks = np.unique(np.linspace(0, total - 1, min(total, 24)).round().astype(int))
    sampler = _Recorder(explorer, sample)
    for k in picks:
        frame_of(sampler, np.unravel_index(k, shape))
    sample.compressed += len(sample._z.flush())  # noqa: SLF001
    estimate = fixed + sample.compressed * 4 / 3 * total / len(picks)
    if estimate > 4 * max_bytes:
        refuse(estimate)
    # While: the compressed data so far only grows, so passing the cap is final.
    tables = _Tables(zlib.compressobj(_ZLIB_LEVEL))
    rec = _Recorder(explorer, tables)
    combos = np.empty(total, dtype="<i4")
    check_every = max(1, total // 64)
    for k, idx in enumerate(itertools.product(*(range(s) for s in shape))):
        combos[k] = frame_of(rec, idx)
        if k % check_every == check_every - 1 and fixed + tables.compressed * 4 / 3 > max_bytes:
            refuse(fixed + tables.compressed * 4 / 3 * total / (k + 1))
    # Leave the live explorer as it was.
    explorer.values = saved_values
    explorer.render()

    meta = {
        "v": 1, "w": rec.width, "h": rec.height, "q": rec.q,
        "controls": [
            {"name": n, "label": explorer.controls[n].description,
             "kind": _widget_kind(explorer.controls[n], grids[n]),
             "values": _labels(grids[n], explorer.controls[n].kind),
             "default": _index_of(grids[n], explorer.controls[n].default,
                                  explorer.controls[n].kind)}
            for n in names
        ],
        "styles": [json.loads(s) for s in tables.styles],
        "texts": list(tables.texts),
        "n_arrays": len(tables.pool), "n_frames": len(tables.frames),
        "n_artists": len(rec.artists), "n_combos": total,
    }
    pool = np.concatenate(tables.pool) if tables.pool else np.zeros(0, "<i2")
    offsets = np.concatenate([[0], np.cumsum([len(a) for a in tables.pool])]).astype("<i4")
    frames = np.frombuffer(b"".join(tables.frames), dtype="<i4")
    int32 = np.concatenate([offsets, frames, combos]).astype("<i4")
    meta["n_int32"], meta["n_int16"] = int(len(int32)), int(len(pool))
    head = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 4)  # keep the int32 section aligned
    raw = struct.pack("<I", len(head)) + head + int32.tobytes() + pool.astype("<i2").tobytes()
    blob = zlib.compress(raw, _ZLIB_LEVEL)
    explorer_id = _explorer_id(name, blob)
    page = _html(explorer_id, blob, background, png, meta)
    size = len(page.encode())
    if size > max_bytes:
        refuse(size)
    return Recording(html=page, png=png, explorer_id=explorer_id, grid_sizes=sizes,
                     combinations=total, frames=len(tables.frames), blob_bytes=len(blob))


def _widget_kind(control, values) -> str:
    if len(values) == 1:
        return "fixed"
    if control.kind in ("log", "float", "int"):
        return "range"
    if control.kind == "bool" and values == [False, True]:
        return "checkbox"
    return "select"


def _png_of_background(explorer) -> bytes:
    from .explorer import _encode_png

    explorer.canvas.restore_region(explorer._background)  # noqa: SLF001
    return _encode_png(explorer.canvas)


def _html(explorer_id, blob, background, png, meta) -> str:
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
        f'<img class="cl-fallback" alt="the explorer at its default setting" '
        f'width="{meta["w"]}" height="{meta["h"]}" style="max-width:100%;height:auto" '
        f'src="data:image/png;base64,{fallback}">'
        f'<p class="cl-grid-note" hidden>{note}</p>'
        f'<script type="application/octet-stream" class="cl-bg">{bg}</script>'
        f'<script type="application/octet-stream" class="{_BLOB_MARK}">{b64}</script>'
        f"<script>{js}\nclExplorer(document.getElementById(\"cl-{explorer_id}\"));</script>"
        "</div>"
    )


def decode(page: str) -> dict:
    """Unpack a recorded explorer's HTML: its header, frames and arrays, as numpy.

    What the JS renderer does, in Python: used by the tests to compare the recording
    with ``draw``, and handy to inspect what a page carries.
    """
    m = re.search(rf'class="{_BLOB_MARK}">([A-Za-z0-9+/=]*)<', page)
    if m is None:
        raise LessonInputError("This HTML holds no recorded explorer.")
    raw = zlib.decompress(base64.b64decode(m.group(1)))
    (n,) = struct.unpack("<I", raw[:4])
    meta = json.loads(raw[4:4 + n])
    int32 = np.frombuffer(raw, dtype="<i4", count=meta["n_int32"], offset=4 + n)
    pool = np.frombuffer(raw, dtype="<i2", count=meta["n_int16"], offset=4 + n + 4 * len(int32))
    na, nf, nart = meta["n_arrays"], meta["n_frames"], meta["n_artists"]
    offsets = int32[:na + 1]
    frames = int32[na + 1:na + 1 + nf * nart * 4].reshape(nf, nart, 4)
    combos = int32[na + 1 + nf * nart * 4:]
    # Integers as stored (coordinates in 1/q px, break indices as they are).
    arrays = [np.cumsum(pool[offsets[i]:offsets[i + 1]].astype(np.int64)) for i in range(na)]
    return {"meta": meta, "frames": frames, "combos": combos, "arrays": arrays}


def compare_with_live(explorer, recording=None, *, every: int = 97) -> tuple[int, float]:
    """Redraw every ``every``-th recorded setting live and compare it with the recording.

    The website must show what the notebook's own ``draw`` shows. For each sampled
    setting this checks that every point ``draw`` places inside the axes is in the
    recording (to the quantisation, ``0.5 / q`` px), every visible text is recorded as
    it is, and a refused setting carries the same message. Returns the number of
    settings compared and the largest distance found, in pixels; raises
    ``AssertionError`` naming the first setting that differs.
    """
    from matplotlib.lines import Line2D as _Line

    recording = recording or explorer.recording()
    data = decode(recording.html)
    meta, q = data["meta"], data["meta"]["q"]
    names = [c["name"] for c in meta["controls"]]
    grids = {n: web_values(explorer.controls[n], (explorer.web_grid or {}).get(n))
             for n in names}
    height = explorer.canvas.get_width_height()[1]
    artists = list(explorer._moving)  # noqa: SLF001 - the same artists the recorder read
    combos = list(itertools.product(*(range(len(grids[n])) for n in names)))
    saved, worst, compared = dict(explorer.values), 0.0, 0
    try:
        for k in range(0, len(combos), max(1, every)):
            values = {n: grids[n][i] for n, i in zip(names, combos[k], strict=True)}
            rows = data["frames"][data["combos"][k]]
            where = f"setting {values}"
            try:
                explorer._check(values)  # noqa: SLF001
                explorer.draw(explorer.artists, **values)
            except LessonInputError as exc:
                shown = meta["texts"][rows[-1][1]].replace("\n", " ")
                assert rows[-1][0] >= 0 and shown == str(exc), where
                compared += 1
                continue
            assert rows[-1][0] < 0, f"{where}: recorded a message the live draw does not show"
            for artist, row in zip(artists, rows[:-1], strict=True):
                hidden = not artist.get_visible() or (
                    not isinstance(artist, _Line) and not artist.get_text().strip())
                if hidden:
                    assert row[0] < 0, f"{where}: a hidden artist was recorded"
                    continue
                if not isinstance(artist, _Line):
                    assert meta["texts"][row[1]] == artist.get_text(), where
                    continue
                want = artist.get_transform().transform(artist.get_xydata())
                want[:, 1] = height - want[:, 1]
                box = meta["styles"][row[0]]["clip"]
                keep = (np.isfinite(want).all(axis=1)
                        & (want[:, 0] >= box[0] - _MARGIN) & (want[:, 0] <= box[2] + _MARGIN)
                        & (want[:, 1] >= box[1] - _MARGIN) & (want[:, 1] <= box[3] + _MARGIN))
                if not keep.any():
                    continue
                got = np.column_stack([data["arrays"][row[1]], data["arrays"][row[2]]]) / q
                assert len(got), f"{where}: a drawn line is missing from the recording"
                for p in want[keep]:
                    gap = float(np.min(np.abs(got - p).max(axis=1)))
                    worst = max(worst, gap)
                    assert gap <= 0.5 / q + 1e-9, f"{where}: a point is {gap:.2f} px off"
            compared += 1
    finally:
        explorer.values = saved
        explorer.render()
    return compared, worst

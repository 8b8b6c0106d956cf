"""The byte format of a recorded explorer: a written spec, and ``pack``/``decode``.

Three programs read or write these bytes: :func:`pack` (the recorder), :func:`decode`
(Python, for tests and inspection) and the JS renderer ``static/explorer.js``. This
docstring is the spec they follow; change all three together, and bump ``"v"``.

The page
--------
A recorded explorer's HTML output holds the data as the text of
``<script type="application/octet-stream" class="cl-blob">``: the blob, base64
(standard alphabet, with padding). The blob is zlib (RFC 1950) at level 9 of the
*raw bytes* below. Next to it, ``class="cl-bg"`` holds the background PNG (the fixed
frame) in base64, and the ``cl-fallback`` image the PNG of the default setting.
``<script type="application/json" class="cl-data">`` holds what the page needs before
the blob is inflated (the controls and their layout are built at once, so nothing
moves when the canvas arrives): ``controls`` (as in the header), ``w`` and ``h``,
``panels`` (the figure's full-height columns ``[left, right)`` in px, which a narrow
page stacks; ``[]`` for one panel) and ``label_px`` (the smallest tick or axis label's
height in canvas px).

The raw bytes
-------------
All integers little-endian. ``H`` is the length of the header in bytes.

=============  =======================  ====================================================
offset         size (bytes)             content
=============  =======================  ====================================================
0              4                        ``H``: u32
4              ``H``                    header: JSON, UTF-8, keys sorted, no spaces between
                                        items, then ASCII spaces up to a multiple of 4
4 + H          4 * ``n_int32``          the int32 section (i32 values, see below)
4 + H + 4 *    2 * ``n_int16``          the int16 pool (i16 values, see below)
``n_int32``
=============  =======================  ====================================================

Header keys:

* ``v``: format version, 1.
* ``w``, ``h``: the canvas in pixels; ``q``: coordinates are stored in 1/q px
  (8, or 4, 2, 1 for figures too large for int16 at 1/8 px).
* ``controls``: one object per control, in the order of the combinations below:
  ``name`` (the keyword of ``draw``, and the query-string key after the explorer id),
  ``label``, ``kind`` (``"fixed"``, ``"range"``, ``"checkbox"`` or ``"select"``),
  ``values`` (the readouts, as strings), ``default`` (an index into ``values``).
* ``styles``: the list of artist styles (objects, see "Styles"); ``texts``: the list
  of distinct strings drawn (texts and messages, newlines kept).
* ``n_arrays``, ``n_frames``, ``n_artists``, ``n_combos``: the counts below;
  ``n_int32``, ``n_int16``: the lengths of the two sections.

The int32 section, in order:

1. array offsets: ``n_arrays + 1`` values; array ``i`` is pool items
   ``offsets[i]`` to ``offsets[i + 1]`` (exclusive).
2. frames: ``n_frames * n_artists * 4`` values, a ``(n_frames, n_artists, 4)`` array;
   row ``a`` of a frame is artist ``a``: the moving artists in the explorer's order,
   then last the message (which replaces all of them when the setting is refused).
   A row is ``[style, a, b, c]``; ``style`` indexes ``styles`` (the kind of the row is
   ``styles[style]["k"]``):

   * a line (``"k": "line"``): ``a``, ``b``: the arrays of its x and y coordinates;
     ``c``: the array of indices where each sub-path starts, or -1 for one path;
   * a text (``"k": "text"``): ``a``: an index into ``texts``; ``b``, ``c``: its
     anchor x, y in 1/q px;
   * ``[-1, -1, -1, -1]``: not drawn in this frame (hidden, empty, or replaced by
     the message; the message row is all -1 when there is none).

3. combos: ``n_combos`` values, the frame of each setting. Settings run through the
   controls' values as nested loops, the last control fastest (C order): setting
   ``k`` has control ``j``'s value index ``unravel_index(k, sizes)[j]``.

The int16 pool: every array's values, delta-coded (the first value as itself, then
each minus the one before; decode with a running sum), arrays one after another.
Coordinates are measured from the canvas's top left corner, y down.

Styles
------
Common keys: ``k`` (``"line"`` or ``"text"``), ``c`` (CSS ``rgba(...)``). Lines:
``lw`` (px, 0 for markers only), ``clip`` (``[x0, y0, x1, y1]``, px), ``cap``,
``join``, ``dash`` (px, optional), ``m``, ``ms``, ``mc`` (marker, its size in px and
colour; optional). Texts: ``fs`` (px), ``fw`` (``"bold"``/``"normal"``), ``ha``,
``va``, ``rot`` (degrees), ``ls`` (line spacing, in font sizes), ``box`` (optional:
``fc``, ``ec``, ``pad``, ``lw``).
"""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib

import numpy as np

from ..errors import LessonInputError

__all__ = ["VERSION", "ZLIB_LEVEL", "BLOB_CLASS", "pack", "pack_raw", "unpack", "unpack_raw",
           "decode"]

VERSION = 1
ZLIB_LEVEL = 9
#: The class of the page element whose text is the base64 blob.
BLOB_CLASS = "cl-blob"


def pack(meta: dict, pool: list[np.ndarray], frames: list[bytes], combos: np.ndarray) -> bytes:
    """The compressed blob of a recording (the zlib stream, before base64).

    ``meta``: the header without ``n_int32``/``n_int16`` (added here, in place);
    ``pool``: the delta-coded int16 arrays; ``frames``: each frame's rows as int32
    bytes (``n_artists * 4`` values); ``combos``: the frame of each setting.
    """
    return zlib.compress(pack_raw(meta, pool, frames, combos), ZLIB_LEVEL)


def pack_raw(meta: dict, pool: list[np.ndarray], frames: list[bytes],
             combos: np.ndarray) -> bytes:
    """The raw bytes (before zlib) of :func:`pack`: what the JS ``decode`` reads.

    The live view (:mod:`convergence_lab.live_view`) sends one frame this way, as a
    one-frame recording without controls, uncompressed (it travels over loopback).
    """
    data = np.concatenate(pool) if pool else np.zeros(0, "<i2")
    offsets = np.concatenate([[0], np.cumsum([len(a) for a in pool])]).astype("<i4")
    rows = np.frombuffer(b"".join(frames), dtype="<i4")
    int32 = np.concatenate([offsets, rows, combos]).astype("<i4")
    meta["n_int32"], meta["n_int16"] = int(len(int32)), int(len(data))
    head = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 4)  # keep the int32 section aligned
    return struct.pack("<I", len(head)) + head + int32.tobytes() + data.astype("<i2").tobytes()


def unpack(blob: bytes) -> dict:
    """The contents of a blob: ``meta`` (the header), ``frames`` (``(n_frames,
    n_artists, 4)``), ``combos`` and ``arrays`` (integers as stored: coordinates in
    1/q px, break indices as they are)."""
    return unpack_raw(zlib.decompress(blob))


def unpack_raw(raw: bytes) -> dict:
    """:func:`unpack` of the raw bytes (a blob already inflated, or :func:`pack_raw`'s)."""
    (n,) = struct.unpack("<I", raw[:4])
    meta = json.loads(raw[4:4 + n])
    int32 = np.frombuffer(raw, dtype="<i4", count=meta["n_int32"], offset=4 + n)
    pool = np.frombuffer(raw, dtype="<i2", count=meta["n_int16"], offset=4 + n + 4 * len(int32))
    na, nf, nart = meta["n_arrays"], meta["n_frames"], meta["n_artists"]
    offsets = int32[:na + 1]
    frames = int32[na + 1:na + 1 + nf * nart * 4].reshape(nf, nart, 4)
    combos = int32[na + 1 + nf * nart * 4:]
    arrays = [np.cumsum(pool[offsets[i]:offsets[i + 1]].astype(np.int64)) for i in range(na)]
    return {"meta": meta, "frames": frames, "combos": combos, "arrays": arrays}


def decode(page: str) -> dict:
    """Unpack a recorded explorer's HTML (see :func:`unpack`).

    What the JS renderer does, in Python: used to compare the recording with ``draw``,
    and handy to inspect what a page carries.
    """
    m = re.search(rf'class="{BLOB_CLASS}">([A-Za-z0-9+/=]*)<', page)
    if m is None:
        raise LessonInputError("This HTML holds no recorded explorer.")
    return unpack(base64.b64decode(m.group(1)))

"""The website's explorer: a recording of an explorer, for pages without a kernel.

* :mod:`.format`: the byte format (its docstring is the spec), ``pack`` and ``decode``;
* :mod:`.clipping`: cutting recorded lines at their axes;
* :mod:`.recorder`: ``record`` (an explorer over its website grid into one HTML
  output), ``FrameEncoder`` (one frame's rows), the size caps;
* :mod:`.live_check`: ``check_against_live``, the recording against the live explorer.

The JS renderer that draws a recording is ``convergence_lab/static/explorer.js``.
"""

from .format import decode, pack, unpack
from .live_check import LiveCheck, check_against_live
from .recorder import (
    CANVAS_HASH_JS,
    MAX_BYTES,
    MAX_SETTINGS,
    Frame,
    FrameEncoder,
    Recording,
    record,
    web_grids,
)

__all__ = [
    "CANVAS_HASH_JS", "MAX_BYTES", "MAX_SETTINGS", "Frame", "FrameEncoder", "LiveCheck",
    "Recording", "check_against_live", "decode", "pack", "record", "unpack", "web_grids",
]

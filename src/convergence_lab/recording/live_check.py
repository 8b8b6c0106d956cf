"""Does the website show what the notebook's ``draw`` shows? One call checks it.

:func:`check_against_live` redraws sampled settings of the live explorer and compares
them with the decoded recording (:func:`.format.decode`), independently of the
recorder's own encoding: from the artists' data through matplotlib's transforms.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np
from matplotlib.lines import Line2D

from .format import decode
from .recorder import MARGIN, web_grids

__all__ = ["LiveCheck", "check_against_live"]


class LiveCheck(NamedTuple):
    """The settings compared and the largest distance found, in pixels."""

    compared: int
    worst: float

    def summary(self) -> str:
        return (f"website recording vs live explorer: the same at {self.compared} sampled "
                "settings")

    def __str__(self) -> str:
        return self.summary()


def check_against_live(explorer, recording=None, *, every: int = 97) -> LiveCheck:
    """Redraw every ``every``-th recorded setting live and compare it with the recording.

    ``recording``: by default ``explorer.recording()``. For each sampled setting this
    checks that every point ``draw`` places inside the axes is in the recording (to the
    quantisation, ``0.5 / q`` px), every visible text is recorded as it is, and a
    refused setting carries the same message. Raises ``AssertionError`` naming the first
    setting that differs. Leaves the explorer at its values, redrawn.
    """
    recording = recording or explorer.recording()
    data = decode(recording.html)
    meta, q = data["meta"], data["meta"]["q"]
    grids = web_grids(explorer, explorer.web_grid)
    names = [c["name"] for c in meta["controls"]]
    height = explorer.canvas.get_width_height()[1]
    artists = explorer.moving  # the same artists the recorder read
    combos = list(itertools.product(*(range(len(grids[n])) for n in names)))
    saved, worst, compared = dict(explorer.values), 0.0, 0
    try:
        for k in range(0, len(combos), max(1, every)):
            values = {n: grids[n][i] for n, i in zip(names, combos[k], strict=True)}
            rows = data["frames"][data["combos"][k]]
            where = f"setting {values}"
            message = explorer.apply(values)
            if message:
                shown = meta["texts"][rows[-1][1]].replace("\n", " ")
                assert rows[-1][0] >= 0 and shown == message, where
                compared += 1
                continue
            assert rows[-1][0] < 0, f"{where}: recorded a message the live draw does not show"
            for artist, row in zip(artists, rows[:-1], strict=True):
                worst = max(worst, _compare_artist(artist, row, data, height, q, where))
            compared += 1
    finally:
        explorer.values = saved
        explorer.render()
    return LiveCheck(compared, worst)


def _compare_artist(artist, row, data, height, q, where) -> float:
    """The largest distance between the live ``artist`` and its recorded ``row``, in px."""
    meta = data["meta"]
    hidden = not artist.get_visible() or (
        not isinstance(artist, Line2D) and not artist.get_text().strip())
    if hidden:
        assert row[0] < 0, f"{where}: a hidden artist was recorded"
        return 0.0
    if not isinstance(artist, Line2D):
        assert meta["texts"][row[1]] == artist.get_text(), where
        return 0.0
    want = artist.get_transform().transform(artist.get_xydata())
    want[:, 1] = height - want[:, 1]
    box = meta["styles"][row[0]]["clip"]
    keep = (np.isfinite(want).all(axis=1)
            & (want[:, 0] >= box[0] - MARGIN) & (want[:, 0] <= box[2] + MARGIN)
            & (want[:, 1] >= box[1] - MARGIN) & (want[:, 1] <= box[3] + MARGIN))
    if not keep.any():
        return 0.0
    got = np.column_stack([data["arrays"][row[1]], data["arrays"][row[2]]]) / q
    assert len(got), f"{where}: a drawn line is missing from the recording"
    worst = 0.0
    for p in want[keep]:
        gap = float(np.min(np.abs(got - p).max(axis=1)))
        worst = max(worst, gap)
        assert gap <= 0.5 / q + 1e-9, f"{where}: a point is {gap:.2f} px off"
    return worst

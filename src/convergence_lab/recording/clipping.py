"""Clipping a recorded line to its axes box, in pixel coordinates (``clip_polyline``),
with the Liang-Barsky segment clip it uses (``segment_in_box``, ``cut``)."""

from __future__ import annotations

import numpy as np

__all__ = ["clip_polyline", "segment_in_box", "cut"]


def clip_polyline(pts, box, margin, connect=True):
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
            run.insert(0, cut(pts[a], pts[a - 1], (x0, y0, x1, y1))[None])
        if b < n and finite[b]:
            run.append(cut(pts[b - 1], pts[b], (x0, y0, x1, y1))[None])
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
        seg = segment_in_box(pts[i], pts[i + 1], (x0, y0, x1, y1))
        if seg is not None:
            starts.append(count)
            out.append(seg)
            count += 2
    if not out:
        return np.zeros((0, 2)), [0]
    return np.concatenate(out), starts


def segment_in_box(p, q, box):
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


def cut(inside, outside, box):
    """Where the segment from an inside point to an outside one crosses the box edge."""
    seg = segment_in_box(inside, outside, box)
    return seg[1] if seg is not None else inside

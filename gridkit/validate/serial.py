"""Reading order of grid serials (west→east, north→south) as people number by eye.

The one definition used by ``code_serial_order`` (and meant for
``gridkit fix --renumber`` to check against): :func:`reading_order_breaks`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["ROW_HEIGHTS", "X_TOLERANCE", "reading_order_breaks"]

#: Row heights a person may have used, as multiples of the community's median grid side.
ROW_HEIGHTS = (0.5, 2.0)
#: Inside a row, a grid is "west" of another only by more than this share of the grid side.
X_TOLERANCE = 0.1
#: Breakpoints of the banding closer than this (m) are one.
_SAME_BREAK_M = 1e-3
#: Row heights tried per community at most (large communities: evenly spread among them).
_MAX_HEIGHTS = 2048


def reading_order_breaks(x: np.ndarray, y: np.ndarray, side: np.ndarray, serial: np.ndarray,
                         group: np.ndarray) -> np.ndarray:
    """Mask of grids whose serial contradicts reading order unambiguously.

    Reading order, for a row height ``H``: rows are bands ``H`` high counted
    from the northernmost centroid of the community, numbered north→south;
    inside a row grids run west→east by centroid ``x``. A person numbering by
    eye picks ``H`` without measuring, so a community's numbering is accepted
    when it is the reading order for **some** ``H`` between 0.5× and 2× the
    median grid side of the community (``sqrt`` of the median area), with
    grids less than 0.1 × the side apart in ``x`` counted as level inside a
    row. Only when no such ``H`` explains the serials is the community
    flagged; the grids named are the fewest whose serials must move for the
    ``H`` that explains the most grids (ties: the smallest ``H``).

    Example: a community of 100 m × 100 m grids whose centroids are
    A (50, 150), B (150, 130), C (50, 50), D (150, 40) (y to the north).
    Numbered A, B, C, D (rows of one grid) or A, C, B, D (one row two grids
    high) it passes; numbered B, A, C, D it is flagged (B is east of A and no
    row height puts B in an earlier row), naming A, the grid whose serial
    must move (the fewest such grids are named).

    Parameters
    ----------
    x, y : centroid coordinates in a metric CRS.
    side : the community's median grid side (m), per grid.
    serial : the serial number of each grid.
    group : the community of each grid (any hashable labels).

    Returns
    -------
    Boolean mask, ``True`` for grids named as out of place.

    Examples
    --------
    >>> x, y = np.array([50., 150, 50, 150]), np.array([150., 130, 50, 40])
    >>> side, group = np.full(4, 100.0), np.zeros(4)
    >>> reading_order_breaks(x, y, side, np.array([1, 2, 3, 4]), group).tolist()
    [False, False, False, False]
    >>> reading_order_breaks(x, y, side, np.array([1, 3, 2, 4]), group).tolist()
    [False, False, False, False]
    >>> reading_order_breaks(x, y, side, np.array([2, 1, 3, 4]), group).tolist()
    [True, False, False, False]
    """
    out = np.zeros(len(x), bool)
    # Serial ties (duplicate codes) are broken by position, never by row order.
    order = np.lexsort((-y, x, serial, pd.factorize(group, sort=True)[0]))
    codes = pd.factorize(group[order], sort=True)[0]
    bounds = np.flatnonzero(np.diff(codes, prepend=-1, append=-1))
    starts, sizes = bounds[:-1], np.diff(bounds)
    # Communities of one size are checked together; the few that no row height explains
    # (or that have too many heights to check together) one by one.
    for n in np.unique(sizes[sizes >= 2]):
        members = order[starts[sizes == n][:, None] + np.arange(n)]
        suspect = _late_everywhere(x[members], y[members], side[members[:, 0]])
        for rows in members[suspect]:
            out[rows] = _out_of_place(x[rows], y[rows], float(side[rows[0]]))
    return out


def _late_everywhere(x: np.ndarray, y: np.ndarray, side: np.ndarray) -> np.ndarray:
    """For communities of one size (rows of ``x``, ``y``, in serial order): no height fits.

    The first test of :func:`_out_of_place` for many communities at once, with
    the same arithmetic: ``True`` where every row height leaves a grid read
    late, and where a community has more than ``_MAX_HEIGHTS`` heights (those
    are left to :func:`_out_of_place`).
    """
    depth = y.max(axis=1, keepdims=True) - y
    low, high = ROW_HEIGHTS[0] * side, ROW_HEIGHTS[1] * side
    heights, overflow = _heights_of_many(depth, low, high)
    rows = np.floor(depth[:, None, :] / heights[:, :, None])
    span = x.max(axis=1) - x.min(axis=1) + side
    key = rows * span[:, None, None] * 4 + (x - x.min(axis=1, keepdims=True))[:, None, :]
    tolerance = X_TOLERANCE * side
    late = key < np.maximum.accumulate(key, axis=2) - tolerance[:, None, None]
    return late.any(axis=2).all(axis=1) | overflow


def _heights_of_many(depth: np.ndarray, low: np.ndarray, high: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_heights` of each row of ``depth``, padded with copies of its last height.

    A repeated height changes no test. Also returns the mask of rows with more
    than ``_MAX_HEIGHTS`` heights (:func:`_heights` thins those out; not done here).
    """
    k = np.arange(1, int(np.ceil(depth.max(initial=0) / low.min())) + 1)
    # Breakpoints beyond a row's own k are below its low bound and drop out with it.
    points = (depth[:, :, None] / k).reshape(len(depth), -1)
    inside = (points > low[:, None]) & (points < high[:, None])
    points = np.sort(np.where(inside, points, np.inf), axis=1)
    with np.errstate(invalid="ignore"):  # inf - inf between the padding: NaN, never kept
        step = np.diff(points, axis=1, prepend=-np.inf)
    points = np.sort(np.where(step > _SAME_BREAK_M, points, np.inf), axis=1)
    count = (points < np.inf).sum(axis=1)
    width = int(count.max(initial=0))
    cuts = np.column_stack([low, np.where(points[:, :width] < np.inf, points[:, :width],
                                          high[:, None]), high])
    heights = np.column_stack([low, (cuts[:, :-1] + cuts[:, 1:]) / 2, high])
    return heights, count + 3 > _MAX_HEIGHTS


def _out_of_place(x: np.ndarray, y: np.ndarray, side: float) -> np.ndarray:
    """Out-of-place mask of one community given in serial order (all False when consistent)."""
    depth = y.max() - y
    low, high = ROW_HEIGHTS[0] * side, ROW_HEIGHTS[1] * side
    heights = _heights(depth, low, high)
    rows = np.floor(depth[None, :] / heights[:, None])
    # Reading key: row first, x inside the row; rows never decrease along a good numbering,
    # so a running maximum of the key finds every grid read after one it should precede.
    span = x.max() - x.min() + side
    key = rows * span * 4 + (x - x.min())
    tolerance = X_TOLERANCE * side
    late = key < np.maximum.accumulate(key, axis=1) - tolerance
    if not late.any(axis=1).all():
        return np.zeros(len(x), bool)
    return ~_in_order(key, tolerance)


def _in_order(key: np.ndarray, tolerance: float) -> np.ndarray:
    """Longest subsequence, over the rows of ``key``, that never falls by more than ``tolerance``.

    ``key`` holds one reading key per row height (rows) and grid (columns, in
    serial order). Returns the mask of the longest such subsequence over all
    row heights (ties: the first row height; inside it, the earliest serials
    are kept): the grids outside it are the fewest whose serials must move.

    >>> _in_order(np.array([[3.0, 1.0, 2.0, 4.0]]), 0.0).tolist()
    [False, True, True, True]
    """
    heights, n = key.shape
    length = np.ones((heights, n), np.int64)
    previous = np.full((heights, n), -1)
    for j in range(1, n):
        fits = key[:, :j] <= key[:, j:j + 1] + tolerance
        score = np.where(fits, length[:, :j], 0)
        k = np.argmax(score, axis=1)
        found = score[np.arange(heights), k] > 0
        length[found, j] = score[found, k[found]] + 1
        previous[found, j] = k[found]
    best = int(np.argmax(length.max(axis=1)))
    keep = np.zeros(n, bool)
    j = int(np.argmax(length[best]))
    while j >= 0:
        keep[j] = True
        j = previous[best, j]
    return keep


def _heights(depth: np.ndarray, low: float, high: float) -> np.ndarray:
    """One row height per distinct banding of ``depth`` with heights in ``[low, high]``.

    The banding changes only where a depth is a multiple of the height
    (``depth / k``); the midpoints between those breakpoints, and the ends,
    represent every banding.
    """
    depth = depth[depth > 0]
    k = np.arange(1, int(np.ceil(depth.max(initial=0) / low)) + 1)
    points = (depth[:, None] / k[None, :]).ravel()
    points = np.unique(points[(points > low) & (points < high)])
    # Depths equal but for coordinate noise give breakpoints a hair apart: one is enough,
    # so every height tried lies clear of every breakpoint and rows never hinge on noise.
    points = points[np.diff(points, prepend=-np.inf) > _SAME_BREAK_M]
    cuts = np.concatenate([[low], points, [high]])
    heights = np.concatenate([[low], (cuts[:-1] + cuts[1:]) / 2, [high]])
    if len(heights) > _MAX_HEIGHTS:
        heights = heights[np.linspace(0, len(heights) - 1, _MAX_HEIGHTS).round().astype(int)]
    return heights

"""Point-in-grid engine: which grid contains each of millions of points.

:class:`GridIndex` is built once from the grid polygons and answers
``locate(x, y)`` for arrays of coordinates with the position of the containing
grid (``-1`` when no grid contains the point). Points never become Python
objects one at a time: every test runs over arrays in GEOS or numpy.

Rule for points on shared edges and vertices (and in overlaps, a defect that
``gridkit validate`` reports): a point belongs to every grid that *covers* it
(interior or boundary); among those, the grid with the **lowest position**
wins. :mod:`gridkit.events` sorts the layer by grid code before building the
index, so the winner is the grid with the lowest code, whatever the file order.

Two methods give identical answers (``"auto"``, the default, starts with
the STRtree and builds the raster once the points located reach
:data:`RASTER_AFTER_POINTS_PER_GRID` times the number of grids, so a small
run never pays for the raster):

``"raster"``
    A uniform lookup raster over the layer's extent. At build time every cell
    that any grid boundary touches is marked a *boundary cell* and gets the
    sorted list of grids whose boundary touches it, plus any grid that covers
    it wholly (overlaps); every other cell lies wholly inside one set of grids
    and is labelled once (one exact test per run of such cells along a raster
    row). A point in a labelled cell is answered by array indexing; a point in
    a boundary cell is tested exactly with :func:`shapely.intersects_xy`
    against its cell's candidates only (prepared polygons).
``"strtree"``
    Bounding-box candidates from :meth:`shapely.STRtree.query`, tested with
    :func:`shapely.intersects_xy` (covers semantics), then the lowest
    position per point. Simple; used to label the raster and as the
    reference in tests.

Build the index in the coordinate system of the points (containment does not
need metres): transforming 20,000 polygons is cheaper than transforming
millions of points.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely

#: Values of raster cells below zero: -1 no grid; -2 - k boundary cell number k.
_EMPTY = -1
#: Relative margin (in cell units) when marking cells touched by a boundary
#: piece, so that a boundary lying on a cell line marks the cells on both sides.
_EPS = 1e-6
#: Below this many points ``locate`` runs in the calling thread.
_PARALLEL_MIN = 200_000
#: ``method="auto"`` builds the raster when the points located so far (this
#: call included) reach this many per grid: building costs about as much as
#: locating this many points with the STRtree.
RASTER_AFTER_POINTS_PER_GRID = 50
METHODS = ("auto", "raster", "strtree")
#: Rings per batch when marking boundary cells, points per batch of exact
#: tests while building: bounds the memory of the build.
_RING_BATCH = 4096
_POINT_BATCH = 1 << 18


class GridIndex:
    """Locate points in a set of polygons (the grid layer).

    Parameters
    ----------
    geometries : array-like of shapely geometries
        Polygons or multipolygons; missing or empty ones never contain a point.
        Their order defines the positions returned and the tie-break (lowest
        position wins).
    method : {"auto", "raster", "strtree"}
        See the module docstring. All return identical results.
    cells_per_grid : int
        Raster resolution target: about this many cells for a grid of median
        area (more cells: fewer points need an exact test, bigger raster).
    max_cells : int
        Upper bound on the raster size (int32 cells: 4 bytes each).
    threads : int
        Worker threads for large ``locate`` calls (GEOS releases the GIL).

    Examples
    --------
    >>> from shapely import box
    >>> index = GridIndex([box(0, 0, 1, 1), box(1, 0, 2, 1)])
    >>> index.locate([0.5, 1.0, 1.5, 3.0], [0.5, 0.5, 0.5, 0.5]).tolist()
    [0, 0, 1, -1]
    """

    def __init__(
        self,
        geometries,
        *,
        method: str = "auto",
        cells_per_grid: int = 256,
        max_cells: int = 1 << 24,
        threads: int = 2,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
        geoms = np.asarray(geometries, dtype=object)
        if geoms.ndim != 1:
            geoms = geoms.ravel()
        usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        self.geometries = np.where(usable, geoms, None)
        shapely.prepare(self.geometries)
        self.method = method
        self.threads = max(1, int(threads))
        self._tree = shapely.STRtree(self.geometries)
        self._raster: np.ndarray | None = None
        self._raster_options = (cells_per_grid, max_cells)
        self._usable = bool(usable.any())
        self._located = 0
        if method == "raster":
            self._ensure_raster(0)

    def __len__(self) -> int:
        return len(self.geometries)

    # ------------------------------------------------------------------ build
    def _ensure_raster(self, points: int) -> None:
        """Build the raster now if the method asks for it (see ``method``)."""
        self._located += points
        wanted = self.method == "raster" or (
            self.method == "auto"
            and self._located >= RASTER_AFTER_POINTS_PER_GRID * len(self.geometries))
        if wanted and self._raster is None and self._usable:
            self._build_raster(*self._raster_options)

    def _build_raster(self, cells_per_grid: int, max_cells: int) -> None:
        geoms = self.geometries
        usable = ~shapely.is_missing(geoms)
        minx, miny, maxx, maxy = shapely.total_bounds(geoms[usable])
        width, height = maxx - minx, maxy - miny
        areas = shapely.area(geoms[usable])
        side = float(np.sqrt(np.median(areas[areas > 0]))) if (areas > 0).any() else 0.0
        cell = side / np.sqrt(max(cells_per_grid, 1))
        floor_cell = np.sqrt(width * height / max_cells) if width * height > 0 else 0.0
        cell = max(cell, floor_cell, max(width, height) / max_cells, 1e-9)
        nx = int(np.floor(width / cell)) + 1
        ny = int(np.floor(height / cell)) + 1
        self._origin = (float(minx), float(miny))
        self._cell = float(cell)
        self._shape = (ny, nx)

        # Cells touched by a boundary, with the grids whose boundary touches
        # them, as keys cell * n + grid; rings in batches to bound memory.
        parts, part_owner = shapely.get_parts(geoms, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        ring_owner = part_owner[ring_part]
        n = len(geoms)
        pairs = _unique(np.concatenate([np.zeros(0, np.int64)] + [
            self._boundary_keys(rings[i:i + _RING_BATCH], ring_owner[i:i + _RING_BATCH], n)
            for i in range(0, len(rings), _RING_BATCH)]))
        bcells = _unique(pairs // n)

        # A grid that covers a boundary cell wholly (overlap) has no boundary
        # piece there: add the grids covering each boundary cell's centre.
        cy, cx = np.divmod(bcells, nx)
        pts, covering = self._covering_batched(minx + (cx + 0.5) * cell,
                                               miny + (cy + 0.5) * cell)
        pairs = _unique(np.concatenate([pairs, bcells[pts] * n + covering]))
        pair_cell, self._candidates = np.divmod(pairs, n)
        counts = np.bincount(np.searchsorted(bcells, pair_cell), minlength=len(bcells))
        self._cand_ptr = np.concatenate([[0], np.cumsum(counts)])

        raster = np.full((ny, nx), _EMPTY, dtype=np.int32)
        raster.ravel()[bcells] = -2 - np.arange(len(bcells), dtype=np.int32)
        # Every other cell lies wholly inside the same grids as its left
        # neighbour unless that neighbour is a boundary cell: label the first
        # cell of each such run by an exact test of its centre, then fill the
        # run. A grid covering a run's first cell meets the boundary cell on
        # its left, so that cell's candidates suffice for the test.
        boundary = raster <= -2
        start = ~boundary
        start[:, 1:] &= boundary[:, :-1]
        sy, sx = np.nonzero(start)
        sx_centre, sy_centre = minx + (sx + 0.5) * cell, miny + (sy + 0.5) * cell
        labels = np.empty(len(sx), dtype=np.int64)
        left = sx > 0
        labels[left] = self._test_candidates(
            -2 - raster[sy[left], sx[left] - 1].astype(np.int64), sx_centre[left], sy_centre[left])
        labels[~left] = self._locate_strtree(sx_centre[~left], sy_centre[~left])
        run = np.where(start, np.arange(nx, dtype=np.int32), np.int32(0))
        np.maximum.accumulate(run, axis=1, out=run)
        filled = np.full((ny, nx), _EMPTY, dtype=np.int32)
        filled[sy, sx] = labels
        filled = np.take_along_axis(filled, run, axis=1)
        self._raster = np.where(boundary, raster, filled)

    def _boundary_keys(self, rings: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
        """Keys ``cell * n + grid`` of the cells that the rings (of grids ``owner``) touch.

        Rings are split into pieces of at most half a cell, so that each
        piece's bounding box (widened by a hair, so that a boundary on a cell
        line marks the cells on both sides) spans at most 2 x 2 cells.
        """
        ny, nx = self._shape
        pieces = shapely.segmentize(rings, self._cell / 2)
        coords, ring_of = shapely.get_coordinates(pieces, return_index=True)
        same = ring_of[1:] == ring_of[:-1]
        a, b = coords[:-1][same], coords[1:][same]
        owner = owner[ring_of[:-1][same]]
        lo = (np.minimum(a, b) - self._origin) / self._cell
        hi = (np.maximum(a, b) - self._origin) / self._cell
        i0 = np.clip(np.floor(lo[:, 0] - _EPS), 0, nx - 1).astype(np.int64)
        i1 = np.clip(np.floor(hi[:, 0] + _EPS), 0, nx - 1).astype(np.int64)
        j0 = np.clip(np.floor(lo[:, 1] - _EPS), 0, ny - 1).astype(np.int64)
        j1 = np.clip(np.floor(hi[:, 1] + _EPS), 0, ny - 1).astype(np.int64)
        dx, dy = i1 != i0, j1 != j0
        both = dx & dy
        cells = np.concatenate([j0 * nx + i0, (j0 * nx + i1)[dx], (j1 * nx + i0)[dy],
                                (j1 * nx + i1)[both]])
        owners = np.concatenate([owner, owner[dx], owner[dy], owner[both]])
        return _unique(cells * n + owners)

    def _covering_batched(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_covering` in batches (bounded memory), on the worker threads."""
        starts = range(0, len(x), _POINT_BATCH)

        def batch(start: int) -> tuple[np.ndarray, np.ndarray]:
            pts, grids = self._covering(x[start:start + _POINT_BATCH],
                                        y[start:start + _POINT_BATCH])
            return pts + start, grids

        with ThreadPoolExecutor(self.threads) as pool:
            done = list(pool.map(batch, starts))
        if not done:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate([d[0] for d in done]), np.concatenate([d[1] for d in done])

    # ----------------------------------------------------------------- locate
    def locate(self, x, y) -> np.ndarray:
        """Position of the grid containing each point (``-1``: none).

        Parameters
        ----------
        x, y : array-like of float
            Coordinates in the CRS of the grid geometries; NaN gives ``-1``.

        Returns
        -------
        numpy.ndarray of int64, one value per point.

        Examples
        --------
        >>> from shapely import box
        >>> GridIndex([box(0, 0, 2, 2), box(1, 1, 3, 3)]).locate([1.5], [1.5]).tolist()
        [0]
        """
        x = np.ascontiguousarray(x, dtype=np.float64).ravel()
        y = np.ascontiguousarray(y, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError("x and y must have the same length")
        self._ensure_raster(len(x))
        work = self._locate_raster if self._raster is not None else self._locate_strtree
        if self.threads == 1 or len(x) < _PARALLEL_MIN:
            return work(x, y)
        bounds = np.linspace(0, len(x), self.threads + 1).astype(int)
        with ThreadPoolExecutor(self.threads) as pool:
            parts = pool.map(lambda s: work(x[s[0]:s[1]], y[s[0]:s[1]]),
                             zip(bounds[:-1], bounds[1:]))
            return np.concatenate(list(parts))

    def _covering(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (point, grid) for every grid covering a point, sorted by point."""
        ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        pts, grids = self._tree.query(shapely.points(x[ok], y[ok]))
        hit = shapely.intersects_xy(self.geometries[grids], x[ok[pts]], y[ok[pts]])
        return ok[pts[hit]], grids[hit]

    def _locate_strtree(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        pts, grids = self._covering(x, y)
        order = np.lexsort((grids, pts))
        return _lowest(pts[order], grids[order], len(x))

    def _test_candidates(self, cellno: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Exact test of points against the candidates of their boundary cells."""
        start = self._cand_ptr[cellno]
        count = self._cand_ptr[cellno + 1] - start
        owner = np.repeat(np.arange(len(x)), count)
        offset = np.repeat(start - np.cumsum(count) + count, count) + np.arange(count.sum())
        cand = self._candidates[offset]
        hit = shapely.intersects_xy(self.geometries[cand], x[owner], y[owner])
        return _lowest(owner[hit], cand[hit], len(x))

    def _locate_raster(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ny, nx = self._shape
        out = np.full(len(x), -1, dtype=np.int64)
        with np.errstate(invalid="ignore"):
            fx = np.floor((x - self._origin[0]) / self._cell)
            fy = np.floor((y - self._origin[1]) / self._cell)
            inside = (fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny)  # False for NaN
        idx = np.flatnonzero(inside)
        value = self._raster.ravel()[fy[idx].astype(np.int64) * nx + fx[idx].astype(np.int64)]
        out[idx] = np.maximum(value, _EMPTY)
        edge = value <= -2
        points = idx[edge]
        out[points] = self._test_candidates(-2 - value[edge].astype(np.int64),
                                            x[points], y[points])
        return out


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sorting beats numpy 2's hash-based ``unique`` here)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _lowest(owner: np.ndarray, grid: np.ndarray, n: int) -> np.ndarray:
    """For pairs sorted by ``owner`` then ``grid``: the first grid of each owner, -1 if none."""
    out = np.full(n, -1, dtype=np.int64)
    first = np.r_[True, owner[1:] != owner[:-1]] if len(owner) else np.zeros(0, bool)
    out[owner[first]] = grid[first]
    return out

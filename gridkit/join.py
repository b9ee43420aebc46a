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
    A uniform lookup raster over the layer's extent, filled by scanlines
    (:meth:`GridIndex._build_raster`): every cell that a grid's ring passes
    through is a *boundary cell* with the sorted list of grids whose rings
    touch it, plus any grid that covers it wholly (overlaps); every other cell
    lies wholly inside one set of grids and is labelled from the even-odd
    crossings of the rings with the raster rows' centre lines: no cell is
    tested on its own. A point in a labelled cell is answered by array
    indexing; a point in a boundary cell is tested exactly with
    :func:`shapely.intersects_xy` against its cell's candidates only
    (prepared polygons), the points grouped by cell so that the polygons stay
    in the CPU caches. On the 20,000-grid synthetic Guangzhou about a quarter
    of the points need a test, 2 candidates each; the raster (at most 2**24
    cells, 64 MB) is built in about 1.3 s, and can be kept on disk
    (``cache``, :mod:`gridkit.index_cache`).
``"strtree"``
    Bounding-box candidates from :meth:`shapely.STRtree.query`, tested with
    :func:`shapely.intersects_xy` (covers semantics), then the lowest
    position per point. Simple; used for small runs and as the reference
    in tests.

Build the index in the coordinate system of the points (containment does not
need metres): transforming 20,000 polygons is cheaper than transforming
millions of points.

``locate`` splits large calls over ``threads`` threads (GEOS and numpy
release the GIL); every GEOS structure the threads share is built before
they start (see :meth:`GridIndex._prepare`). The index pickles (dask sends
it to its workers) and is rebuilt on arrival.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["METHODS", "RASTER_AFTER_POINTS_PER_GRID", "GridIndex"]

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
#: Ring edges per batch when building the raster (bounds the memory of the build).
_EDGE_BATCH = 1 << 18
#: What a built raster consists of (stored by the index cache).
_RASTER_STATE = ("_origin", "_cell", "_shape", "_raster", "_candidates", "_cand_ptr")


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
    cache : path-like, optional
        Folder of built rasters (:mod:`gridkit.index_cache`): a raster built
        for the same geometries and options is loaded from it instead of
        built, and a newly built one is stored in it.

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
        cache: str | os.PathLike | None = None,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
        geoms = np.asarray(geometries, dtype=object)
        if geoms.ndim != 1:
            geoms = geoms.ravel()
        usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        #: Positions of the polygons left out because a vertex is not finite (NaN/inf):
        #: no point can be tested against them and they would break the raster's extent.
        self.non_finite = _non_finite(geoms)
        usable[self.non_finite] = False
        self.geometries = np.where(usable, geoms, None)
        self._prepare()
        self.method = method
        self.threads = max(1, int(threads))
        self._raster: np.ndarray | None = None
        self._raster_options = (cells_per_grid, max_cells)
        self._cache = cache
        self._usable = bool(usable.any())
        self._located = 0
        self._expected = 0
        if method == "raster":
            self._ensure_raster(0)

    def _prepare(self) -> None:
        """Prepare the polygons and the STRtree, and use each once, here, in one thread.

        GEOS builds a prepared polygon's point-in-area index and the tree's nodes
        lazily, on first use, and not thread-safely: two threads testing points
        against a polygon that neither had used before corrupt memory ("double
        free or corruption" crashes in some 10-million-event runs). Two test
        points per polygon inside its envelope (not vertices: a point on a
        vertex is answered before the index is built) settle them before any
        thread starts.
        """
        shapely.prepare(self.geometries)
        self._tree = shapely.STRtree(self.geometries)
        self._lock = threading.Lock()
        usable = self.geometries[~shapely.is_missing(self.geometries)]
        bounds = shapely.bounds(usable)
        for share in (0.5, 1 / 3):
            shapely.intersects_xy(usable, bounds[:, 0] + share * (bounds[:, 2] - bounds[:, 0]),
                                  bounds[:, 1] + share * (bounds[:, 3] - bounds[:, 1]))
        self._tree.query(shapely.points(0.0, 0.0))

    def __getstate__(self) -> dict:
        """Pickle (dask sends the index to its workers) without the GEOS-only parts."""
        state = self.__dict__.copy()
        for key in ("_tree", "_lock"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._prepare()

    def __len__(self) -> int:
        return len(self.geometries)

    def expect(self, points: int) -> None:
        """Announce how many points the coming ``locate`` calls will bring in all.

        With ``method="auto"`` the raster is then built on the first call when
        that many points pay for it, rather than after the first calls ran on
        the STRtree (the row count of a Parquet file is known before reading).

        Examples
        --------
        >>> from shapely import box
        >>> index = GridIndex([box(0, 0, 1, 1)])
        >>> index.expect(10_000)
        >>> index.locate([0.5], [0.5]).tolist(), index.has_raster
        ([0], True)
        """
        self._expected = max(self._expected, int(points))

    @property
    def has_raster(self) -> bool:
        """Whether the lookup raster is built."""
        return self._raster is not None

    # ------------------------------------------------------------------ build
    def _ensure_raster(self, points: int) -> None:
        """Build the raster now if the method asks for it (see ``method``)."""
        self._located += points
        wanted = self.method == "raster" or (
            self.method == "auto"
            and max(self._located, self._expected)
            >= RASTER_AFTER_POINTS_PER_GRID * len(self.geometries))
        if wanted and self._raster is None and self._usable:
            with self._lock:  # threads of one dask worker share the index: build it once
                if self._raster is None:
                    self._load_or_build()

    def _load_or_build(self) -> None:
        """The raster from the cache folder when one was built for these grids, else built."""
        if self._cache is None:
            self._build_raster(*self._raster_options)
            return
        from gridkit.index_cache import index_key, load_index, store_index

        key = index_key(self.geometries, self._raster_options)
        stored = load_index(self._cache, key)
        if stored is not None and _usable_state(stored, len(self.geometries)):
            self._origin = tuple(float(v) for v in stored["_origin"])
            self._cell = float(stored["_cell"])
            self._shape = tuple(int(v) for v in stored["_shape"])
            self._candidates, self._cand_ptr = stored["_candidates"], stored["_cand_ptr"]
            self._raster = stored["_raster"]
            return
        self._build_raster(*self._raster_options)
        store_index(self._cache, key, {name: getattr(self, name) for name in _RASTER_STATE})

    def _build_raster(self, cells_per_grid: int, max_cells: int) -> None:
        """Build the lookup raster by a scanline fill of the grid polygons.

        1. *Boundary cells*: every cell that a ring edge passes through (edges
           cut at the raster rows; each row span covers a range of cells),
           with the grids whose edges touch it.
        2. *Scanlines*: the rings of each grid cut every raster row's centre
           line at crossings; sorted by x and paired (even-odd), they give the
           intervals of the row that lie inside the grid. A cell that no
           boundary touches lies wholly inside every grid whose interval
           contains its centre (at least half a cell from any edge, so the
           crossing arithmetic cannot tip it), and outside every other one.
        3. Boundary cells also get the grids whose interval contains their
           centre although no edge of theirs touches them (a grid covering the
           cell wholly: overlapping grids). Every other cell belongs to the
           lowest grid whose interval contains it: cells form runs, in
           row-major order, that start at a row's first cell or right after a
           boundary cell, labelled from the intervals and laid out in one pass.

        Even-odd is GEOS's rule for a grid of one ring and for valid grids; a
        grid of several rings that is not valid (overlapping parts, a hole
        outside its shell) has every cell of its bounding box made a boundary
        cell instead, so its points are tested exactly. No cell is tested
        one by one.
        """
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

        edges = _Edges.of(geoms, self._origin, self._cell)
        n = len(geoms)
        odd = _odd_grids(geoms)
        with ThreadPoolExecutor(self.threads) as pool:
            batches = range(0, len(edges.grid), _EDGE_BATCH)
            touching = _merge_unique([*pool.map(
                lambda i: edges.slice(i, i + _EDGE_BATCH).boundary_keys(nx, ny, n), batches),
                _bbox_keys(geoms, odd, self._origin, self._cell, nx, ny)])
            spans = _merge_spans(list(pool.map(
                lambda i: edges.slice(i, i + _EDGE_BATCH).crossings(ny), batches)), odd, nx)
        bcells = _distinct_sorted(touching // n)
        covering = spans.containing(bcells, n)
        if len(touching) and len(covering):
            covering = covering[~_isin_sorted(covering, touching)]
        pairs = _merge_unique([touching, covering])
        pair_cell, self._candidates = np.divmod(pairs, n)
        self._cand_ptr = np.append(np.searchsorted(pair_cell, bcells), len(pairs))

        after = bcells + 1
        starts = _merge_unique([after[after % nx != 0], np.arange(ny, dtype=np.int64) * nx])
        starts = starts[~_isin_sorted(starts, bcells)]
        labels = np.full(len(starts), _EMPTY, dtype=np.int64)
        hit = spans.containing(starts, n)  # keys start * n + grid, sorted: lowest grid first
        hit_start, hit_grid = np.divmod(hit, n)
        first = np.r_[True, hit_start[1:] != hit_start[:-1]] if len(hit) else hit.astype(bool)
        labels[np.searchsorted(starts, hit_start[first])] = hit_grid[first]
        position = np.concatenate([bcells, starts])
        value = np.concatenate([-2 - np.arange(len(bcells)), labels])
        order = np.argsort(position, kind="stable")  # merges two sorted runs
        position, value = position[order], value[order]
        lengths = np.diff(np.append(position, nx * ny))
        self._raster = np.repeat(value.astype(np.int32), lengths).reshape(ny, nx)


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
        edge = np.flatnonzero(value <= -2)
        cells = -2 - value[edge].astype(np.int64)
        # Test the points cell by cell: the few polygons of a cell then stay in the CPU
        # caches, about 4x faster than testing in file order.
        order = np.argsort(cells, kind="stable")
        points = idx[edge[order]]
        out[points] = self._test_candidates(cells[order], x[points], y[points])
        return out


def _non_finite(geoms: np.ndarray) -> np.ndarray:
    """Sorted positions of the geometries with a NaN or infinite coordinate."""
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    return np.unique(owner[~np.isfinite(coords).all(axis=1)])
@dataclass(frozen=True)
class _Edges:
    """Ring edges of the grids in raster cell units: from (x0, y0) to (x1, y1), of ``grid``."""

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    grid: np.ndarray

    @classmethod
    def of(cls, geoms: np.ndarray, origin: tuple[float, float], cell: float) -> _Edges:
        parts, part_owner = shapely.get_parts(geoms, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, ring_of = shapely.get_coordinates(rings, return_index=True)
        fx = (coords[:, 0] - origin[0]) / cell
        fy = (coords[:, 1] - origin[1]) / cell
        same = ring_of[1:] == ring_of[:-1]  # drop ring-to-ring "edges"
        return cls(fx[:-1][same], fy[:-1][same], fx[1:][same], fy[1:][same],
                   part_owner[ring_part][ring_of[:-1][same]])

    def slice(self, start: int, stop: int) -> _Edges:
        return _Edges(*(getattr(self, f)[start:stop] for f in ("x0", "y0", "x1", "y1", "grid")))

    def _slope(self) -> np.ndarray:
        """dx/dy of each edge (0 for horizontal edges)."""
        dy = self.y1 - self.y0
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(dy != 0, (self.x1 - self.x0) / dy, 0.0)

    def boundary_keys(self, nx: int, ny: int, n: int) -> np.ndarray:
        """Sorted keys ``cell * n + grid`` of the cells the edges pass through.

        Each edge is cut at the raster rows it spans (widened by a hair, so that
        an edge on a cell line marks the cells on both sides); within a row it
        covers the cells between its x at the row's two limits.
        """
        ylo, yhi = np.minimum(self.y0, self.y1), np.maximum(self.y0, self.y1)
        j0 = np.clip(np.floor(ylo - _EPS), 0, ny - 1).astype(np.int64)
        j1 = np.clip(np.floor(yhi + _EPS), 0, ny - 1).astype(np.int64)
        edge, row = _expand(j0, j1 - j0 + 1)
        lo, hi, slope = ylo[edge], yhi[edge], self._slope()[edge]
        flat = self.y1[edge] == self.y0[edge]
        xs = []
        for limit in (row, row + 1):
            y = np.clip(limit, lo, hi)
            xs.append(np.where(flat, self.x0[edge], self.x0[edge] + (y - self.y0[edge]) * slope))
        xs.append(np.where(flat, self.x1[edge], xs[-1]))
        xmin, xmax = np.minimum.reduce(xs), np.maximum.reduce(xs)
        i0 = np.clip(np.floor(xmin - _EPS), 0, nx - 1).astype(np.int64)
        i1 = np.clip(np.floor(xmax + _EPS), 0, nx - 1).astype(np.int64)
        span, col = _expand(i0, i1 - i0 + 1)
        keys = (row[span] * nx + col) * n + self.grid[edge[span]]
        return _unique(keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys)

    def crossings(self, ny: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(grid, row, x) where the edges cross a raster row's centre line ``y = row + 0.5``.

        Half-open in y (an edge crosses when ``min y <= row + 0.5 < max y``), so a
        closed ring crosses every line an even number of times, vertices and
        horizontal edges included.
        """
        ylo, yhi = np.minimum(self.y0, self.y1), np.maximum(self.y0, self.y1)
        first = np.ceil(ylo - 0.5)
        first += np.where(first + 0.5 < ylo, 1, 0) - np.where(first - 0.5 >= ylo, 1, 0)
        last = np.ceil(yhi - 0.5) - 1
        last += np.where(last + 1.5 < yhi, 1, 0) - np.where(last + 0.5 >= yhi, 1, 0)
        first = np.clip(first, 0, ny).astype(np.int64)
        last = np.clip(last, -1, ny - 1).astype(np.int64)
        edge, row = _expand(first, np.maximum(last - first + 1, 0))
        x = self.x0[edge] + (row + 0.5 - self.y0[edge]) * self._slope()[edge]
        return self.grid[edge], row, x


@dataclass(frozen=True)
class _Spans:
    """Runs of cells ``start .. end`` (flat raster numbers, one row each) inside ``grid``."""

    start: np.ndarray
    end: np.ndarray
    grid: np.ndarray

    def containing(self, cells: np.ndarray, n: int) -> np.ndarray:
        """Sorted keys ``cell * n + grid`` of the (sorted) ``cells`` that a span holds."""
        lo = np.searchsorted(cells, self.start)
        span, at = _expand(lo, np.searchsorted(cells, self.end, side="right") - lo)
        return _unique(cells[at] * n + self.grid[span])


def _merge_spans(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], odd: np.ndarray,
                 nx: int) -> _Spans:
    """The spans of cells whose centre lies inside each grid (even-odd pairs of crossings).

    Grids in ``odd`` are left out (their cells are all boundary cells).
    """
    grid, row, x = (np.concatenate([p[k] for p in parts]) for k in range(3))
    keep = ~odd[grid]
    grid, row, x = grid[keep], row[keep], x[keep]
    order = np.lexsort((x, row, grid))
    grid, row, x = grid[order], row[order], x[order]
    grid, row, xa, xb = grid[0::2], row[0::2], x[0::2], x[1::2]
    ia = np.ceil(xa - 0.5)
    ib = np.floor(xb - 0.5)
    ia, ib = np.clip(ia, 0, nx - 1).astype(np.int64), np.clip(ib, -1, nx - 1).astype(np.int64)
    some = ia <= ib
    return _Spans(row[some] * nx + ia[some], row[some] * nx + ib[some], grid[some])


def _odd_grids(geoms: np.ndarray) -> np.ndarray:
    """Mask of grids of several rings (or not polygonal) where even-odd may differ from GEOS.

    Even-odd over a grid's rings is GEOS's containment for one ring and for
    valid (multi)polygons; other grids with several rings, or other types, are odd.
    """
    kind = shapely.get_type_id(geoms)
    several = ~shapely.is_missing(geoms) & (
        (kind != shapely.GeometryType.POLYGON) | (shapely.get_num_interior_rings(geoms) > 0))
    odd = np.zeros(len(geoms), bool)
    rows = np.flatnonzero(several)
    polygonal = np.isin(kind[rows], (shapely.GeometryType.POLYGON,
                                     shapely.GeometryType.MULTIPOLYGON))
    odd[rows] = ~polygonal | ~shapely.is_valid(geoms[rows])
    return odd


def _bbox_keys(geoms: np.ndarray, odd: np.ndarray, origin: tuple[float, float], cell: float,
               nx: int, ny: int) -> np.ndarray:
    """Keys ``cell * n + grid`` of every cell in the bounding box of the ``odd`` grids."""
    rows = np.flatnonzero(odd)
    b = (shapely.bounds(geoms[rows]) - np.tile(origin, 2)) / cell
    i0 = np.clip(np.floor(b[:, 0] - _EPS), 0, nx - 1).astype(np.int64)
    i1 = np.clip(np.floor(b[:, 2] + _EPS), 0, nx - 1).astype(np.int64)
    j0 = np.clip(np.floor(b[:, 1] - _EPS), 0, ny - 1).astype(np.int64)
    j1 = np.clip(np.floor(b[:, 3] + _EPS), 0, ny - 1).astype(np.int64)
    box, row = _expand(j0, j1 - j0 + 1)
    span, col = _expand(i0[box], (i1 - i0 + 1)[box])
    return _unique((row[span] * nx + col) * len(geoms) + rows[box[span]])


def _expand(first: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges ``first[k] .. first[k] + count[k] - 1``: (k, value) of every member."""
    owner = np.repeat(np.arange(len(first)), count)
    offset = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
    return owner, first[owner] + offset


def _usable_state(stored: dict, grids: int) -> bool:
    """Whether arrays loaded from the index cache form a raster for ``grids`` grids."""
    if set(stored) != set(_RASTER_STATE):
        return False
    raster, ptr, cand = stored["_raster"], stored["_cand_ptr"], stored["_candidates"]
    return (raster.dtype == np.int32 and stored["_shape"].tolist() == list(raster.shape)
            and stored["_origin"].shape == (2,) and stored["_cell"].shape == ()
            and ptr.ndim == 1 and len(ptr) >= 1 and int(ptr[-1]) == len(cand)
            and (not len(cand) or (0 <= cand.min() and cand.max() < grids))
            and (raster.size == 0 or (raster.max() < grids
                                      and raster.min() >= -len(ptr))))


def _merge_unique(parts: list[np.ndarray]) -> np.ndarray:
    """Sorted distinct values of sorted arrays (a stable sort merges the runs)."""
    return _distinct_sorted(np.sort(np.concatenate([np.zeros(0, np.int64), *parts]),
                                    kind="stable"))


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    """Distinct values of a sorted array."""
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _isin_sorted(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """``np.isin`` for a sorted ``sorted_set``, by binary search."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[at] == values


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sorting beats numpy 2's hash-based ``unique`` here)."""
    return _distinct_sorted(np.sort(values))


def _lowest(owner: np.ndarray, grid: np.ndarray, n: int) -> np.ndarray:
    """For pairs sorted by ``owner`` then ``grid``: the first grid of each owner, -1 if none."""
    out = np.full(n, -1, dtype=np.int64)
    first = np.r_[True, owner[1:] != owner[:-1]] if len(owner) else np.zeros(0, bool)
    out[owner[first]] = grid[first]
    return out

"""The scanline-filled lookup raster equals the per-cell method on random polygons.

The per-cell method (the reference here, too slow for a city) looks at every
raster cell on its own: the grids whose polygon meets the closed cell box, and
whether each of them covers the box wholly. The scanline raster must label
every cell that method finds uniform with the same grid (the lowest covering
one, or none), mark every other cell as a boundary cell, and list as a
boundary cell's candidates at least every grid that meets it; and ``locate``
must give what GEOS gives point by point, on vertices and edges too.
"""

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import box

from gridkit.join import GridIndex


def per_cell(index: GridIndex) -> tuple[np.ndarray, list[set[int]]]:
    """Per-cell reference: label of uniform cells (-2 when mixed) and the grids meeting each."""
    ny, nx = index._shape
    x0, y0 = index._origin
    c = index._cell
    jj, ii = np.divmod(np.arange(nx * ny), nx)
    cells = shapely.box(x0 + ii * c, y0 + jj * c, x0 + (ii + 1) * c, y0 + (jj + 1) * c)
    geoms = index.geometries
    cell_no, grid = shapely.STRtree(geoms).query(cells, predicate="intersects")
    covers = shapely.covers(geoms[grid], cells[cell_no])
    label = np.full(nx * ny, -1)
    meeting: list[set[int]] = [set() for _ in range(nx * ny)]
    for k, g, whole in zip(cell_no, grid, covers):
        meeting[k].add(int(g))
        if not whole:
            label[k] = -2
    for k, g in sorted(zip(cell_no, grid), key=lambda p: (p[0], -p[1])):
        if label[k] != -2:
            label[k] = g  # lowest covering grid last
    return label, meeting


def candidates(index: GridIndex, cell: int) -> set[int]:
    k = -2 - int(index._raster.ravel()[cell])
    return set(index._candidates[index._cand_ptr[k]:index._cand_ptr[k + 1]].tolist())


def brute_force(geoms, x, y):
    """Lowest position of a grid covering each point, by GEOS one grid at a time.

    Prepared and used once, as the index uses them: for an invalid
    multipolygon with overlapping parts, GEOS's prepared test counts ring
    crossings (even-odd) while the unprepared one (and a prepared polygon's
    first call) takes the union of the parts.
    """
    usable = np.array([g for g in geoms if g is not None], dtype=object)
    shapely.prepare(usable)
    bounds = shapely.bounds(usable)
    shapely.intersects_xy(usable, bounds[:, 0] + (bounds[:, 2] - bounds[:, 0]) / 2,
                          bounds[:, 1] + (bounds[:, 3] - bounds[:, 1]) / 2)
    hits = np.array([shapely.intersects_xy(g, x, y) if g is not None and not g.is_empty
                     else np.zeros(len(x), bool) for g in geoms])
    return np.where(hits.any(axis=0), hits.argmax(axis=0), -1)


def random_layer(seed: int, n: int) -> list:
    """Voronoi cells with holes, multipolygons, an overlap, a bowtie and a missing geometry."""
    rng = np.random.default_rng(seed)
    extent = box(0, 0, 100, 100)
    seeds = shapely.multipoints(rng.uniform(0, 100, size=(n, 2)))
    cells = list(shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=extent)), extent))
    for k in range(0, len(cells), 3):  # holes
        centre = shapely.centroid(cells[k])
        cells[k] = cells[k].difference(centre.buffer(rng.uniform(0.5, 3)))
    if len(cells) > 3:  # a multipolygon of two separate cells, one overlapping box
        cells[0] = shapely.MultiPolygon([*shapely.get_parts(cells[0]),
                                         *shapely.get_parts(shapely.box(110, 0, 115, 5))])
        cells[1] = shapely.box(*shapely.bounds(cells[1]))
    cells.append(shapely.Polygon([(20, 20), (60, 60), (60, 20), (20, 60)]))  # bowtie
    cells.append(shapely.MultiPolygon([box(70, 70, 80, 80), box(75, 75, 85, 85)]))  # invalid
    cells.append(None)
    order = rng.permutation(len(cells))
    return [cells[i] for i in order]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(2, 25),
       cells_per_grid=st.sampled_from([4, 16, 64]))
def test_scanline_raster_equals_per_cell_method(seed, n, cells_per_grid):
    geoms = random_layer(seed, n)
    index = GridIndex(geoms, method="raster", cells_per_grid=cells_per_grid)
    label, meeting = per_cell(index)
    raster = index._raster.ravel()
    uniform = raster >= -1
    assert (label[uniform] != -2).all(), "a cell the scanline fill labelled is mixed"
    np.testing.assert_array_equal(raster[uniform], label[uniform])
    for cell in np.flatnonzero(~uniform):
        assert meeting[cell] <= candidates(index, cell)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(2, 40))
def test_locate_equals_geos_on_random_and_edge_points(seed, n):
    geoms = random_layer(seed, n)
    rng = np.random.default_rng(seed)
    usable = [g for g in geoms if g is not None]
    vertices = shapely.get_coordinates(usable)
    on_vertex = vertices[rng.integers(0, len(vertices), 300)]
    # points on edges: midpoints of consecutive vertices of one ring
    rings = shapely.get_rings(shapely.get_parts(usable))
    mids = np.concatenate([(c[:-1] + c[1:]) / 2 for c in
                           (shapely.get_coordinates(r) for r in rings)])
    on_edge = mids[rng.integers(0, len(mids), 300)]
    x = np.concatenate([rng.uniform(-5, 120, 3000), on_vertex[:, 0], on_edge[:, 0]])
    y = np.concatenate([rng.uniform(-5, 105, 3000), on_vertex[:, 1], on_edge[:, 1]])
    expected = brute_force(geoms, x, y)
    for cells_per_grid in (1, 16, 256):
        index = GridIndex(geoms, method="raster", cells_per_grid=cells_per_grid)
        np.testing.assert_array_equal(index.locate(x, y), expected)


@pytest.mark.parametrize("cells_per_grid", [1, 9, 100])
def test_edges_on_cell_lines_and_horizontal_edges(cells_per_grid):
    # squares whose edges fall exactly on raster lines: cell corners and shared edges
    geoms = [box(i, j, i + 1, j + 1) for j in range(3) for i in range(3)]
    index = GridIndex(geoms, method="raster", cells_per_grid=cells_per_grid)
    label, meeting = per_cell(index)
    raster = index._raster.ravel()
    uniform = raster >= -1
    np.testing.assert_array_equal(raster[uniform], label[uniform])
    grid = np.linspace(0, 3, 13)
    x, y = (a.ravel() for a in np.meshgrid(grid, grid))
    np.testing.assert_array_equal(index.locate(x, y), brute_force(geoms, x, y))

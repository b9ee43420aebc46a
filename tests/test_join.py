"""The point-in-grid engine: raster and STRtree methods agree with each other,
with brute force and with geopandas.sjoin; shared edges go to the lowest position."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import box

from gridkit.join import GridIndex

METHODS = ("raster", "strtree", "auto")


def brute_force(geoms, x, y):
    """Lowest position of a geometry covering each point (-1: none)."""
    hits = np.array([shapely.intersects_xy(g, x, y) if g is not None and not g.is_empty
                     else np.zeros(len(x), bool) for g in geoms])
    return np.where(hits.any(axis=0), hits.argmax(axis=0), -1)


def lattice(n, size=0.01, x0=113.2, y0=23.0):
    """n x n squares sharing edges; coordinates as floats exactly as built."""
    xs = x0 + np.arange(n + 1) * size
    ys = y0 + np.arange(n + 1) * size
    return [box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(n) for i in range(n)], xs, ys


def voronoi(n, seed=0):
    rng = np.random.default_rng(seed)
    extent = box(113.2, 23.0, 113.3, 23.1)
    seeds = shapely.multipoints(rng.uniform([113.2, 23.0], [113.3, 23.1], size=(n, 2)))
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds,
                                                                             extend_to=extent)),
                                 extent)
    return shapely.segmentize(cells, shapely.length(cells) / 100)  # ~100 vertices each


@pytest.mark.parametrize("method", METHODS)
def test_shared_edge_and_vertex_go_to_lowest_position(method):
    geoms, xs, ys = lattice(2)  # positions: 0 1 / 2 3 (bottom row first)
    index = GridIndex(geoms, method=method)
    x = [xs[1], xs[1], xs[0], xs[2], xs[1] + 0.001]
    y = [ys[0] + 0.005, ys[1], ys[1], ys[2], ys[1] + 0.005]
    # right edge of 0, centre vertex of all four, left edge 0|2, far corner of 3, inside 3
    assert index.locate(x, y).tolist() == [0, 0, 0, 3, 3]
    reversed_index = GridIndex(geoms[::-1], method=method)
    assert reversed_index.locate([xs[1]], [ys[0] + 0.005]).tolist() == [2]  # (old 1)


@pytest.mark.parametrize("method", METHODS)
def test_missing_outside_holes_multipart_overlap(method):
    ring = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (3, 1), (3, 3), (1, 3)]])
    multi = shapely.MultiPolygon([box(10, 0, 11, 1), box(12, 0, 13, 1)])
    geoms = [None, ring, shapely.Polygon(), multi, box(2, 2, 2.5, 2.5), box(0, 0, 4, 4)]
    index = GridIndex(geoms, method=method)
    x = [1.5, 0.5, 12.5, 11.5, 2.2, np.nan, 50.0, 1.0, 2.7]
    y = [2.5, 0.5, 0.5, 0.5, 2.2, 1.0, 50.0, 1.0, 2.7]
    # hole of 1 → 5 (whole square overlaps it); ring; 2nd part; gap between parts;
    # small box inside the hole wins over 5; NaN; far away; hole corner → ring; hole → 5
    assert index.locate(x, y).tolist() == [5, 1, 3, -1, 4, -1, -1, 1, 5]
    assert GridIndex([], method=method).locate([1.0], [1.0]).tolist() == [-1]
    assert GridIndex([None], method=method).locate([1.0], [1.0]).tolist() == [-1]


def test_auto_builds_the_raster_only_for_many_points():
    geoms, xs, ys = lattice(4)
    index = GridIndex(geoms)
    few = index.locate([xs[1]], [ys[1]])
    assert index._raster is None and few.tolist() == [0]
    rng = np.random.default_rng(0)
    x, y = rng.uniform(xs[0], xs[-1], 2000), rng.uniform(ys[0], ys[-1], 2000)
    np.testing.assert_array_equal(index.locate(x, y), brute_force(geoms, x, y))
    assert index._raster is not None


def test_unknown_method():
    with pytest.raises(ValueError, match="raster"):
        GridIndex([box(0, 0, 1, 1)], method="quadtree")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 6), seed=st.integers(0, 10_000), cells=st.sampled_from([1, 4, 64, 400]))
def test_methods_agree_on_lattice_edges_and_vertices(n, seed, cells):
    geoms, xs, ys = lattice(n)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(geoms))
    geoms = [geoms[i] for i in order]
    m = 300
    # points exactly on lattice lines and vertices, and random ones around the layer
    x = np.concatenate([rng.choice(xs, m), rng.uniform(xs[0] - 0.01, xs[-1] + 0.01, m),
                        rng.choice(xs, m)])
    y = np.concatenate([rng.uniform(ys[0] - 0.01, ys[-1] + 0.01, m), rng.choice(ys, m),
                        rng.choice(ys, m)])
    expected = brute_force(geoms, x, y)
    for method in METHODS:
        got = GridIndex(geoms, method=method, cells_per_grid=cells).locate(x, y)
        np.testing.assert_array_equal(got, expected)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 60))
def test_methods_agree_on_irregular_polygons_incl_vertices(seed, n):
    geoms = voronoi(n, seed)
    rng = np.random.default_rng(seed)
    vertices = shapely.get_coordinates(geoms)
    pick = vertices[rng.integers(0, len(vertices), 200)]
    x = np.concatenate([rng.uniform(113.19, 113.31, 2000), pick[:, 0]])
    y = np.concatenate([rng.uniform(22.99, 23.11, 2000), pick[:, 1]])
    expected = brute_force(geoms, x, y)
    for method in METHODS:
        np.testing.assert_array_equal(GridIndex(geoms, method=method).locate(x, y), expected)


def test_raster_matches_geopandas_sjoin_and_threads():
    geoms = voronoi(300, seed=3)
    rng = np.random.default_rng(7)
    x = rng.uniform(113.19, 113.31, 250_000)  # above the threshold for two threads
    y = rng.uniform(22.99, 23.11, 250_000)
    got = GridIndex(geoms, threads=2).locate(x, y)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=4326)
    grids = gpd.GeoDataFrame(geometry=geoms, crs=4326)
    joined = gpd.sjoin(points, grids, predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]  # random points never lie on an edge
    expected = joined["index_right"].fillna(-1).to_numpy().astype(int)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(GridIndex(geoms, threads=1).locate(x, y), got)

"""The validation hot paths split over two threads give what one call gives."""

import numpy as np
import pytest
import shapely

from gridkit.validate import base


def broken_coverage(seed: int, n: int = 150) -> np.ndarray:
    """A Voronoi coverage with overlapping, shrunk, shifted and missing polygons."""
    rng = np.random.default_rng(seed)
    extent = shapely.box(0, 0, 1000, 1000)
    seeds = shapely.multipoints(rng.uniform(0, 1000, size=(n, 2)))
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=extent)), extent)
    cells = shapely.segmentize(cells, 50)
    k = rng.choice(len(cells), 40, replace=False)
    cells[k[:10]] = shapely.buffer(cells[k[:10]], 3)  # overlap their neighbours
    cells[k[10:20]] = shapely.buffer(cells[k[10:20]], -2)  # gaps
    cells[k[20:30]] = shapely.transform(cells[k[20:30]], lambda xy: xy + 0.5)  # both
    cells[k[30:35]] = None
    return cells[~shapely.is_missing(cells)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_thread_coverage_check_equals_one_call(seed, monkeypatch):
    geoms = broken_coverage(seed)
    expected = shapely.coverage_invalid_edges(geoms)
    monkeypatch.setattr(base, "_PARALLEL_COVERAGE", 2)
    got = base._invalid_edges(geoms)
    assert (~shapely.is_empty(expected)).sum() > 15  # the check has work to do
    assert shapely.equals_exact(got, expected).all()
    breaks = base.coverage_breaks(np.concatenate([geoms, [None, shapely.Polygon()]]))
    np.testing.assert_array_equal(breaks[:-2], ~shapely.is_empty(expected))
    assert not breaks[-2:].any()

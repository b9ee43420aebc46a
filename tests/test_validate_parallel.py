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


def test_published_layer_reuses_the_grids_reprojection_with_the_same_result():
    """Rows identical to their grid take its reprojection; the others are projected alike."""
    from concurrent.futures import Future

    import geopandas as gpd

    from gridkit.validate import core

    lonlat = shapely.transform(broken_coverage(3, 60), lambda xy: xy * 1e-5 + [113.3, 23.1])
    codes = [f"440104001001{k:03d}" for k in range(len(lonlat))]
    grids = gpd.GeoDataFrame({"grid_code": codes}, geometry=lonlat, crs=4490)
    ref_geoms = lonlat.copy()
    ref_geoms[0] = shapely.force_3d(ref_geoms[0], 5.0)  # same x/y, a Z: not identical
    ref_geoms[1] = shapely.transform(ref_geoms[1], lambda xy: xy + 1e-6)  # moved
    ref_geoms[2] = None
    ref_codes = codes[::-1] + ["440104001001999"]  # another order, one unknown code
    reference = gpd.GeoDataFrame({"grid_code": ref_codes},
                                 geometry=[*ref_geoms[::-1], lonlat[5]], crs=4490)
    done = Future()
    done.set_result(core._metric(grids, "EPSG:4547"))
    got = core._reproject(reference, "EPSG:4547", grids, done)[0].geometry.to_numpy()
    expected = reference.to_crs("EPSG:4547").geometry.to_numpy()
    assert list(shapely.to_wkb(got)) == list(shapely.to_wkb(expected))  # bit for bit, Z too
    reused = np.array([g is done.result()[1][len(lonlat) - 1 - r]
                       for r, g in enumerate(got[:len(lonlat)])])
    assert reused[:-3].all() and not reused[-3:].any()  # not the moved, 3D or missing rows

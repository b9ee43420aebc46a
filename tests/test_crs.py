"""gridkit.crs: --crs specs, GCJ-02/BD-09 conversions, layer CRS helpers, coordinate checks."""

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import MultiPolygon, Point, Polygon, box

from gridkit.crs import (
    DEFAULT_METRIC_CRS,
    assign_crs,
    bd09_to_gcj02,
    bd09_to_wgs84,
    check_coordinates,
    check_layer_coordinates,
    convert_coordinates,
    convert_geometries,
    estimate_offset_system,
    expected_offset_m,
    find_coordinate_problem,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    guess_projected_crs,
    majority_problem,
    out_of_china,
    parse_crs,
    tally_coordinates,
    to_metric,
    to_wgs84,
    valid_coordinate_mask,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from gridkit.errors import InputError

GEOD = pyproj.Geod(ellps="WGS84")
TO_4547 = pyproj.Transformer.from_crs(4326, 4547, always_xy=True)
GUANGZHOU = (113.264385, 23.129112)  # 广州 city centre, WGS84
FAST = settings(max_examples=40, deadline=None)


def metres(lon_a, lat_a, lon_b, lat_b):
    return GEOD.inv(lon_a, lat_a, lon_b, lat_b)[2]


def reference_wgs84_to_gcj02(lon, lat):
    """Scalar transcription of the published algorithm (coordtransform layout)."""
    a, ee = 6378245.0, 0.00669342162296594323
    if not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271):
        return lon, lat
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlng += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlng += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlng += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    radlat = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sqrtmagic) * math.pi)
    dlng = (dlng * 180.0) / (a / sqrtmagic * math.cos(radlat) * math.pi)
    return lon + dlng, lat + dlat


# --- reference values --------------------------------------------------------------------


def test_beijing_reference_value():
    lon, lat = wgs84_to_gcj02(116.397128, 39.916527)
    assert lon == pytest.approx(116.403370, abs=1e-5)
    assert lat == pytest.approx(39.917929, abs=1e-5)


@pytest.mark.parametrize(
    ("wgs", "gcj"),
    [  # published test vectors of googollee/eviltransform (lon, lat)
        ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
        ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
        ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    ],
)
def test_published_gcj02_vectors(wgs, gcj):
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)
    back = gcj02_to_wgs84(*gcj)
    assert metres(*wgs, *back) < 1e-3


def test_published_bd09_vectors():
    # coordtransform README and gcoord unit tests
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx(
        (116.41036949371029, 39.92133699351022), abs=1e-9
    )
    assert gcj02_to_bd09(123, 45) == pytest.approx((123.00636499, 45.00636899), abs=1e-8)
    assert gcj02_to_wgs84(123, 45) == pytest.approx((122.99395597, 44.99804071), abs=1e-6)


def test_vectorised_matches_scalar_algorithm():
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(60, 150, 300), rng.uniform(-5, 60, 300)  # in and out of China
    got_lon, got_lat = wgs84_to_gcj02(lon, lat)
    expected = np.array([reference_wgs84_to_gcj02(x, y) for x, y in zip(lon, lat, strict=True)])
    np.testing.assert_allclose(got_lon, expected[:, 0], rtol=0, atol=1e-11)
    np.testing.assert_allclose(got_lat, expected[:, 1], rtol=0, atol=1e-11)


def test_guangzhou_offset_in_metric_crs():
    lon, lat = (a.ravel() for a in np.meshgrid(np.linspace(112.95, 114.05, 25),
                                                np.linspace(22.55, 23.95, 25)))
    x0, y0 = TO_4547.transform(lon, lat)
    x1, y1 = TO_4547.transform(*wgs84_to_gcj02(lon, lat))
    dx, dy = x1 - x0, y1 - y0
    # east 500–570 m, south 270–340 m: a shift of 590–640 m all over Guangzhou
    assert ((dx > 480) & (dx < 600)).all()
    assert ((dy < -250) & (dy > -360)).all()
    assert ((np.hypot(dx, dy) > 550) & (np.hypot(dx, dy) < 660)).all()
    bx, by = TO_4547.transform(*wgs84_to_bd09(lon, lat))
    assert ((np.hypot(bx - x0, by - y0) > 1100) & (np.hypot(bx - x0, by - y0) < 1400)).all()


# --- round trips (hypothesis) ------------------------------------------------------------

guangzhou_lon = st.floats(112.9, 114.1)
guangzhou_lat = st.floats(22.5, 24.0)
china_lon = st.floats(73.0, 135.0)
china_lat = st.floats(18.0, 53.5)


def points(lon, lat):
    return st.lists(st.tuples(lon, lat), min_size=1, max_size=30).map(
        lambda pts: tuple(np.array(c, dtype=float) for c in zip(*pts, strict=True))
    )


@FAST
@given(points(guangzhou_lon, guangzhou_lat) | points(china_lon, china_lat))
def test_round_trip_gcj02(pts):
    lon, lat = pts
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, *back).max() < 1e-3


@FAST
@given(points(guangzhou_lon, guangzhou_lat) | points(china_lon, china_lat))
def test_round_trip_bd09(pts):
    lon, lat = pts
    assert metres(lon, lat, *bd09_to_wgs84(*wgs84_to_bd09(lon, lat))).max() < 1e-3
    assert metres(lon, lat, *bd09_to_gcj02(*gcj02_to_bd09(lon, lat))).max() < 1e-3


@FAST
@given(points(china_lon, china_lat))
def test_inverse_then_forward_hits_target(pts):
    lon, lat = pts
    again = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    np.testing.assert_allclose(again, (lon, lat), rtol=0, atol=1e-9)


def test_outside_china_is_identity():
    lon = np.array([2.3522, -74.006, 139.6917, 151.2093, 100.5018])
    lat = np.array([48.8566, 40.7128, 35.6895, -33.8688, 0.5])  # Paris … Tokyo, Sydney
    assert out_of_china(lon, lat).all()
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09,
                    bd09_to_gcj02, wgs84_to_bd09, bd09_to_wgs84):
        out_lon, out_lat = convert(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_nan_passthrough_and_shapes():
    lon = np.array([[113.3, np.nan], [113.4, 113.5]])
    lat = np.array([[23.1, 23.2], [np.nan, 23.3]])
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84, wgs84_to_bd09, bd09_to_wgs84):
        out_lon, out_lat = convert(lon, lat)
        assert out_lon.shape == out_lat.shape == (2, 2)
        assert np.isnan(out_lon[0, 1]) and np.isnan(out_lat[1, 0])
        assert out_lon[1, 1] == convert(113.5, 23.3)[0]  # independent of its neighbours
        assert np.isfinite(out_lon[0, 0]) and np.isfinite(out_lat[1, 1])
    lon, lat = wgs84_to_gcj02(113.3, 23.1)
    assert np.ndim(lon) == 0 and isinstance(float(lon), float)


def test_convert_coordinates_names():
    lon, lat = convert_coordinates([113.3], [23.1], "GCJ-02", "bd_09")
    assert (lon[0], lat[0]) == gcj02_to_bd09(113.3, 23.1)
    assert convert_coordinates(113.3, 23.1, "wgs84", "wgs84") == (113.3, 23.1)
    with pytest.raises(ValueError, match="unknown coordinate system"):
        convert_coordinates(1, 2, "utm", "wgs84")


# --- geometries --------------------------------------------------------------------------


def test_convert_geometries_keeps_shared_vertices_and_holes():
    left = Polygon(
        [(113.30, 23.10), (113.31, 23.10), (113.31, 23.11), (113.30, 23.11)],
        holes=[[(113.302, 23.102), (113.304, 23.102), (113.304, 23.104), (113.302, 23.104)]],
    )
    right = box(113.31, 23.10, 113.32, 23.11)  # shares the edge x = 113.31
    # parts touching at the corner (113.33, 23.11): valid only while that point stays shared
    multi = MultiPolygon([box(113.32, 23.10, 113.33, 23.11), box(113.33, 23.11, 113.34, 23.12)])
    geoms = gpd.GeoSeries([left, right, multi, None, Polygon()], index=[10, 11, 12, 13, 14],
                          crs=4326, name="geometry")
    for dst in ("gcj02", "bd09"):
        out = convert_geometries(geoms, "wgs84", dst)
        assert list(out.index) == [10, 11, 12, 13, 14] and out.crs == geoms.crs
        assert out[13] is None and out[14].is_empty
        assert geoms.is_valid[:3].all() and out.is_valid[:3].all()
        shared_left = {tuple(c) for c in shapely.get_coordinates(out[10].exterior)}
        shared_right = {tuple(c) for c in shapely.get_coordinates(out[11])}
        assert len(shared_left & shared_right) == 2  # the two ends of the common edge
        assert out[10].intersection(out[11]).area == 0 and out[10].touches(out[11])
        parts = out[12].geoms
        assert parts[0].touches(parts[1]) and parts[0].intersection(parts[1]).geom_type == "Point"
        assert out[10].interiors[0].coords[0] == tuple(
            np.array(convert_coordinates(113.302, 23.102, "wgs84", dst), dtype=float)
        )
        back = convert_geometries(out, dst, "wgs84")
        for before, after in zip(geoms[:3], back[:3], strict=True):
            assert before.hausdorff_distance(after) < 1e-8


def test_convert_geometries_same_vertex_same_output_across_calls():
    vertex = (113.2712345, 23.1298765)
    alone = convert_geometries(Point(vertex), "bd09", "wgs84")
    rng = np.random.default_rng(3)
    ring = np.vstack([rng.uniform([113, 23], [113.5, 23.5], (40, 2)), [vertex]])
    line = convert_geometries(shapely.linestrings(ring), "bd09", "wgs84")
    assert tuple(shapely.get_coordinates(line)[-1]) == (alone.x, alone.y)


def test_convert_geometries_keeps_z():
    out = convert_geometries(np.array([Point(113.3, 23.1, 12.5)]), "wgs84", "gcj02")
    assert out[0].has_z and out[0].z == 12.5


# --- parse_crs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "name", "epsg", "offset"),
    [
        (4490, "EPSG:4490", 4490, None),
        ("4490", "EPSG:4490", 4490, None),
        ("EPSG:4490", "EPSG:4490", 4490, None),
        ("epsg:4547", "EPSG:4547", 4547, None),
        (" EPSG:4326 ", "EPSG:4326", 4326, None),
        ("wgs84", "EPSG:4326", 4326, None),
        ("WGS-84", "EPSG:4326", 4326, None),
        ("cgcs2000", "EPSG:4490", 4490, None),
        ("CGCS2000", "EPSG:4490", 4490, None),
        ("gcj02", "gcj02", 4326, "gcj02"),
        ("GCJ-02", "gcj02", 4326, "gcj02"),
        ("bd09", "bd09", 4326, "bd09"),
        ("BD-09", "bd09", 4326, "bd09"),
        (np.int64(3857), "EPSG:3857", 3857, None),
        (pyproj.CRS.from_epsg(4547), "EPSG:4547", 4547, None),
    ],
)
def test_parse_crs_accepts(spec, name, epsg, offset):
    parsed = parse_crs(spec)
    assert (parsed.name, parsed.crs.to_epsg(), parsed.offset) == (name, epsg, offset)
    assert parse_crs(parsed) is parsed


@pytest.mark.parametrize(
    "spec", ["mars", "", "EPSG:abc", "99999", "EPSG:5773", "+proj=longlat", True, 4.5, None]
)
def test_parse_crs_rejects(spec):
    with pytest.raises(InputError) as err:
        parse_crs(spec)
    assert "wgs84, cgcs2000, gcj02, bd09" in str(err.value)


def test_parse_crs_is_frozen():
    with pytest.raises(AttributeError):
        parse_crs("gcj02").offset = None


# --- check_coordinates -------------------------------------------------------------------

GZ_LON = np.array([113.26, 113.30, 113.35, 113.40, 113.45])
GZ_LAT = np.array([23.13, 23.10, 23.15, 23.20, 23.05])


def test_check_accepts_plausible_coordinates():
    check_coordinates(GZ_LON, GZ_LAT, 4490)
    check_coordinates(GZ_LON, GZ_LAT, "gcj02")
    x, y = TO_4547.transform(GZ_LON, GZ_LAT)
    check_coordinates(x, y, "EPSG:4547")
    check_coordinates([np.nan, 0.0], [np.nan, 0.0], 4547)  # NaN and 0,0 are not judged
    check_coordinates([], [], 4490)


def test_check_swapped_lon_lat():
    with pytest.raises(InputError, match="swapped") as err:
        check_coordinates(GZ_LAT, GZ_LON, 4490, path="grids.gpkg")
    assert err.value.path == "grids.gpkg" and err.value.row == 1
    assert str(err.value).startswith("grids.gpkg: row 1: lon/lat look swapped")


def test_single_outlier_is_out_of_range_not_swapped():
    lon, lat = np.append(GZ_LON, [23.1, 113.2]), np.append(GZ_LAT, [113.3, 23.1])
    with pytest.raises(InputError, match="out of range") as err:
        check_coordinates(lon, lat, 4490)
    assert err.value.row == 6
    check_coordinates(lon, lat, 4490, strict=False)  # events: counted as unlocatable


def test_out_of_range_row_and_rows_argument():
    lon, lat = GZ_LON.copy(), GZ_LAT.copy()
    lon[3] = 213.4
    with pytest.raises(InputError, match=r"x=213\.4") as err:
        check_coordinates(lon, lat, "wgs84", path="e.csv")
    assert err.value.row == 4
    with pytest.raises(InputError) as err:
        check_coordinates(lon, lat, "wgs84", rows=[7, 8, 9, 10, 11])
    assert err.value.row == 10


@pytest.mark.parametrize(
    ("x", "y", "code"),
    [
        (512_345.0, 2_560_000.0, "EPSG:4547"),  # 3-degree GK CM 114E, no zone prefix
        (38_512_345.0, 2_560_000.0, "EPSG:4526"),  # 3-degree GK zone 38, prefixed
        (19_700_000.0, 2_560_000.0, "EPSG:4497"),  # 6-degree GK zone 19, prefixed
        (12_610_000.0, 2_645_000.0, "EPSG:3857"),  # Web Mercator
    ],
)
def test_check_projected_numbers_in_geographic_crs(x, y, code):
    xs, ys = x + np.arange(5) * 100.0, y + np.arange(5) * 100.0
    with pytest.raises(InputError, match="look projected") as err:
        check_coordinates(xs, ys, 4490, path="g.shp")
    assert code in str(err.value) and f"crs={code[5:]}" in str(err.value)
    assert f"--crs {code[5:]}" in err.value.cli_message() and "--" not in str(err.value)
    assert err.value.row == 1


def test_check_degrees_in_projected_crs():
    with pytest.raises(InputError, match="look like degrees") as err:
        check_coordinates(GZ_LON, GZ_LAT, 4547, path="g.gpkg")
    assert "--crs 4490" in err.value.cli_message() and "crs=4490" in str(err.value)


def test_check_projected_outside_area_of_use():
    x, y = TO_4547.transform(GZ_LON, GZ_LAT)
    with pytest.raises(InputError, match="area of use") as err:
        check_coordinates(x + 38_000_000, y, 4547)  # zone-prefixed values labelled CM 114E
    assert "EPSG:4526" in str(err.value)
    with pytest.raises(InputError, match="area of use"):
        check_coordinates(x, y, 4526)  # unprefixed values labelled zone 38


def test_guess_projected_crs():
    assert guess_projected_crs(512_000, 2_560_000) == [4547]
    assert guess_projected_crs(38_512_000, 2_560_000) == [4526]
    assert guess_projected_crs(1.0, 2.0) == []


def test_valid_coordinate_mask():
    mask = valid_coordinate_mask([113.3, 0, 200, np.nan, 113.3], [23.1, 0, 23, 23, -91], "gcj02")
    assert mask.tolist() == [True, False, False, False, False]
    assert valid_coordinate_mask([512_000.0], [2_560_000.0], 4547).tolist() == [True]


def layer(geoms, crs=4490):
    return gpd.GeoDataFrame({"grid_code": [f"44010400100100{i}" for i in range(len(geoms))]},
                            geometry=geoms, crs=crs)


def test_check_layer_coordinates_rows_and_empties():
    geoms = [box(113.30, 23.10, 113.31, 23.11), None, Polygon(),
             box(113.32, 23.10, 113.33, 95.0), box(113.33, 23.10, 113.34, 23.11)]
    with pytest.raises(InputError, match="out of range") as err:
        check_layer_coordinates(layer(geoms), path="grids.gpkg")
    assert err.value.row == 4
    check_layer_coordinates(layer(geoms[:3]))
    swapped = layer([box(23.10, 113.30, 23.11, 113.31), box(23.11, 113.30, 23.12, 113.31)])
    swapped.attrs["source_path"] = "wrong.gpkg"
    with pytest.raises(InputError, match="^wrong.gpkg: row 1: lon/lat look swapped"):
        check_layer_coordinates(swapped)
    with pytest.raises(InputError, match="no CRS; pass crs") as err:
        check_layer_coordinates(layer(geoms[:1], crs=None))
    assert "no CRS; pass --crs (an EPSG code" in err.value.cli_message()


# --- layers ------------------------------------------------------------------------------


def test_assign_crs_converts_offset_layers_once():
    wgs = layer([box(113.30, 23.10, 113.31, 23.11), Point(113.32, 23.12)], crs=None)
    gcj = wgs.set_geometry(convert_geometries(wgs.geometry, "wgs84", "gcj02"))
    loaded = assign_crs(gcj, "gcj02")
    assert loaded.crs.to_epsg() == 4326 and loaded.attrs["source_crs"] == "gcj02"
    assert gcj.crs is None  # input untouched
    for before, after in zip(wgs.geometry, loaded.geometry, strict=True):
        assert before.hausdorff_distance(after) < 1e-8
    again = to_wgs84(loaded)  # not shifted a second time
    assert again.geometry.geom_equals_exact(loaded.geometry, tolerance=1e-12).all()
    assert again.attrs["source_crs"] == "gcj02"


def test_assign_crs_overrides_label_and_requires_crs():
    x, y = TO_4547.transform(GZ_LON, GZ_LAT)
    projected = layer(list(shapely.points(x, y)), crs=4326)
    fixed = assign_crs(projected, "4547")
    assert fixed.crs.to_epsg() == 4547 and fixed.attrs["source_crs"] == "EPSG:4547"
    with pytest.raises(InputError, match="look projected"):
        assign_crs(projected)
    with pytest.raises(InputError, match="no CRS; pass crs"):
        assign_crs(layer([Point(113.3, 23.1)], crs=None), path="x.geojson")


def test_to_metric_area_of_a_known_square():
    x0, y0 = TO_4547.transform(*GUANGZHOU)
    square = layer([box(x0, y0, x0 + 1000, y0 + 1000)], crs=4547)
    lonlat = to_wgs84(square)
    assert lonlat.crs.to_epsg() == 4326
    metric = to_metric(lonlat)
    assert metric.crs.to_epsg() == 4547  # auto (DEFAULT_METRIC_CRS) picks the Guangzhou zone
    assert DEFAULT_METRIC_CRS == "auto"
    assert metric.area.iloc[0] == pytest.approx(1e6, rel=1e-6)
    assert to_metric(lonlat, "EPSG:32649").area.iloc[0] == pytest.approx(1e6, rel=2e-3)


def test_to_metric_and_to_wgs84_errors():
    bare = layer([Point(113.3, 23.1)], crs=None)
    bare.attrs["source_path"] = "bare.geojson"
    for func in (to_metric, to_wgs84):
        with pytest.raises(InputError, match="^bare.geojson: the layer has no CRS"):
            func(bare)
    for bad in (4490, "gcj02", "EPSG:2227"):  # geographic, offset, US feet
        with pytest.raises(InputError, match="not a projected CRS in metres"):
            to_metric(layer([Point(113.3, 23.1)]), bad)


# --- offset detection --------------------------------------------------------------------


def median_shift(reference, shifted):
    a = to_metric(reference).centroid
    b = to_metric(shifted).centroid
    return float(np.median(b.x - a.x)), float(np.median(b.y - a.y))


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_estimate_offset_system_recognises_shifted_layer(system):
    reference = layer([box(113.25 + i * 0.01, 23.10, 113.26 + i * 0.01, 23.11) for i in range(5)])
    shifted = reference.set_geometry(convert_geometries(reference.geometry, "wgs84", system))
    dx, dy = median_shift(reference, shifted)
    assert estimate_offset_system(113.27, 23.105, dx, dy) == system


def test_estimate_offset_system_rejects_other_shifts():
    lon, lat = GUANGZHOU
    dx, dy = expected_offset_m(lon, lat, "gcj02")
    assert estimate_offset_system(lon, lat, dx * 1.05, dy * 0.95) == "gcj02"
    assert estimate_offset_system(lon, lat, 5.0, -3.0) is None  # no offset
    assert estimate_offset_system(lon, lat, -dx, -dy) is None  # the reference is the GCJ-02 one
    assert estimate_offset_system(lon, lat, dx * 1.3, dy * 1.3) is None  # too far off
    assert estimate_offset_system(2.35, 48.86, 0.0, 0.0) is None  # outside China: no offset


def test_tallies_added_over_chunks_decide_like_the_whole_file():
    rng = np.random.default_rng(3)
    lon = np.where(rng.random(1000) < 0.6, 23.1, 113.3) + rng.random(1000) * 0.1
    lat = np.where(lon < 50, 113.2, 23.1)
    rows = np.arange(1, 1001)
    whole = tally_coordinates(lon, lat, rows)
    parts = [tally_coordinates(lon[i:i + 300], lat[i:i + 300], rows[i:i + 300])
             for i in (600, 300, 0, 900)]  # any order
    added = parts[0] + parts[1] + parts[2] + parts[3]
    assert added == whole
    problem = majority_problem(added, "wgs84", axes=("lon", "lat"))
    assert problem.kind == "swapped" and problem.row == int(np.flatnonzero(lon < 50)[0]) + 1
    assert "latitude-like lon" in problem.message and "--" not in problem.message


def test_one_check_for_tables_and_layers():
    assert majority_problem(tally_coordinates([113.2, 200.0, 113.3], [23.1, 23.0, 23.2]),
                            "wgs84") is None  # one outlier is not a wrong CRS
    strict = find_coordinate_problem([113.2, 200.0, 113.3], [23.1, 23.0, 23.2], "wgs84")
    assert (strict.kind, strict.row) == ("out_of_range", 2)
    assert find_coordinate_problem([113.2, 200.0], [23.1, 23.0], "wgs84", strict=False,
                                   rows=[5, 9]) is None
    metres = find_coordinate_problem([512_000, 513_000], [2_560_000, 2_561_000], "wgs84")
    assert metres.kind == "projected" and "EPSG:4547" in metres.hint
    degrees = find_coordinate_problem([113.2], [23.1], "EPSG:4547")
    assert degrees.kind == "degrees"

"""Coordinate reference systems: ``--crs`` specs, GCJ-02 / BD-09 ⇄ WGS84, sanity checks.

Chinese web maps publish coordinates in two offset ("encrypted") systems that
PROJ does not know:

- **GCJ-02** (国测局坐标, Amap/Gaode, Tencent, Google China): WGS84 plus a
  smooth, position-dependent shift, applied only inside China's bounding box;
  in Guangzhou about 500–570 m east and 270–340 m south (590–640 m);
- **BD-09** (百度坐标, Baidu): GCJ-02 plus a further shift (1.2–1.3 km from
  WGS84 in Guangzhou).

This module implements the standard public algorithm ("eviltransform" /
"coordtransform") vectorised with numpy, and iterative inverses accurate to
about 0.2 mm. CGCS2000 (EPSG:4490) and WGS84 (EPSG:4326) differ by a few
centimetres and are treated as the same datum, as PROJ does.

Convention for layers (see ``docs/architecture.md``): the loader converts
GCJ-02/BD-09 geometries to WGS84 once (:func:`assign_crs`), labels them
EPSG:4326 and records the user's spec in ``gdf.attrs["source_crs"]``. After
that the geometries always agree with ``gdf.crs``; ``source_crs`` is
informational and never triggers a second conversion.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from gridkit.errors import InputError

DEFAULT_METRIC_CRS = "auto"

#: The ``--crs`` names besides EPSG codes, and what they stand for.
NAMED_CRS = {"wgs84": "EPSG:4326", "cgcs2000": "EPSG:4490", "gcj02": "gcj02", "bd09": "bd09"}
#: Systems :func:`convert_coordinates` and :func:`convert_geometries` know.
SYSTEMS = ("wgs84", "gcj02", "bd09")

_ACCEPTED = "an EPSG code (e.g. 4490, EPSG:4547) or one of wgs84, cgcs2000, gcj02, bd09"

# GCJ-02: Krasovsky 1940 ellipsoid as used by the published algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
# BD-09
_X_PI = np.pi * 3000.0 / 180.0
# China's bounding box of the standard ``out_of_china`` test.
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)
# Iterative inverses: stop when the forward residual is below this (≈ 0.1 mm).
_INVERSE_TOL_DEG = 1e-9
_INVERSE_MAX_ITER = 30
# Area-of-use margin (degrees) before a projected layer is reported as misplaced.
_AREA_MARGIN_DEG = 2.0

Coords = tuple[NDArray[np.float64], NDArray[np.float64]]


@dataclass(frozen=True)
class CrsSpec:
    """A parsed ``--crs`` value.

    Attributes
    ----------
    name : canonical spelling: ``"EPSG:4490"`` (any EPSG code), ``"gcj02"`` or
        ``"bd09"``; for a CRS without an EPSG code, its PROJ string.
    crs : the pyproj CRS the coordinates are expressed in; EPSG:4326 for the
        offset systems.
    offset : ``None``, ``"gcj02"`` or ``"bd09"``.
    """

    name: str
    crs: pyproj.CRS
    offset: str | None = None


#: What the functions taking a CRS accept (see :func:`parse_crs`).
CrsLike = str | int | pyproj.CRS | CrsSpec


def parse_crs(spec: CrsLike) -> CrsSpec:
    """Parse a ``--crs`` value (SPEC §7).

    Parameters
    ----------
    spec : an EPSG code as ``int`` or string (``4490``, ``"4490"``,
        ``"EPSG:4490"``, ``"epsg:4547"``), or a name: ``wgs84`` (EPSG:4326),
        ``cgcs2000`` (EPSG:4490), ``gcj02``/``gcj-02``, ``bd09``/``bd-09``
        (case-insensitive). A ``pyproj.CRS`` (e.g. ``gdf.crs``) or a
        :class:`CrsSpec` is accepted as well.

    Returns
    -------
    CrsSpec

    Raises
    ------
    InputError
        For anything else, listing the accepted values.

    Examples
    --------
    >>> spec = parse_crs("GCJ-02")
    >>> spec.name, spec.crs.to_epsg(), spec.offset
    ('gcj02', 4326, 'gcj02')
    >>> parse_crs(4547).name
    'EPSG:4547'
    """
    if isinstance(spec, CrsSpec):
        return spec
    if isinstance(spec, pyproj.CRS):
        epsg = spec.to_epsg()
        return CrsSpec(f"EPSG:{epsg}" if epsg else spec.to_string(), spec)
    if isinstance(spec, Integral) and not isinstance(spec, bool):
        return _parse_key(str(int(spec)), str(spec))
    if isinstance(spec, str):
        return _parse_key(re.sub(r"[\s_\-]", "", spec.lower()), spec)
    raise InputError(f"unknown CRS {spec!r}: use {_ACCEPTED}")


@functools.lru_cache(maxsize=64)
def _parse_key(key: str, original: str) -> CrsSpec:
    key = NAMED_CRS.get(key, key).lower()
    if key in ("gcj02", "bd09"):
        return CrsSpec(key, pyproj.CRS.from_epsg(4326), key)
    match = re.fullmatch(r"(?:epsg:)?(\d{4,6})", key)
    if not match:
        raise InputError(f"unknown CRS {original!r}: use {_ACCEPTED}")
    try:
        crs = pyproj.CRS.from_epsg(int(match.group(1)))
    except pyproj.exceptions.CRSError:
        raise InputError(f"unknown EPSG code {original!r}: use {_ACCEPTED}") from None
    if not (crs.is_geographic or crs.is_projected):
        raise InputError(
            f"{original!r} ({crs.name}) is not a horizontal CRS: use {_ACCEPTED}"
        )
    return CrsSpec(f"EPSG:{match.group(1)}", crs)


# --------------------------------------------------------------------------------------
# GCJ-02 / BD-09 point conversions
# --------------------------------------------------------------------------------------


def _arrays(lon: ArrayLike, lat: ArrayLike) -> Coords:
    lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=np.float64),
                                   np.asarray(lat, dtype=np.float64))
    # Contiguous copies (0-d stays 0-d): the same value takes the same numpy code path.
    return np.array(lon, order="C"), np.array(lat, order="C")


def _result(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Coords:
    # 0-d arrays become numpy float scalars; arrays keep their shape.
    return lon[()], lat[()]


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether points fall outside the bounding box where GCJ-02 applies.

    NaN is not "out of China" (it stays NaN through the conversions).

    Examples
    --------
    >>> out_of_china([113.3, 2.35], [23.1, 48.86]).tolist()
    [False, True]
    """
    lon, lat = _arrays(lon, lat)
    return ((lon < _CHINA_LON[0]) | (lon > _CHINA_LON[1])
            | (lat < _CHINA_LAT[0]) | (lat > _CHINA_LAT[1]))


def _gcj_delta(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Coords:
    """The GCJ-02 shift (degrees) at WGS84 ``lon, lat``, ignoring the China test."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y
             + 0.2 * np.sqrt(np.abs(x)) + common
             + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
             + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0)
    d_lon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y
             + 0.1 * np.sqrt(np.abs(x)) + common
             + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
             + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0)
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * pi)
    return d_lon, d_lat


def _invert(
    forward: Callable[[NDArray[np.float64], NDArray[np.float64]], Coords],
    target_x: NDArray[np.float64],
    target_y: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
) -> Coords:
    """Solve ``forward(x, y) == target`` by fixed-point iteration from ``x, y``.

    Valid because the forward maps are the identity plus a shift that varies
    slowly with position. Each point is iterated on its own until its residual
    is below ``_INVERSE_TOL_DEG``, so a point's result never depends on the other
    points in the array (shared vertices convert identically in any call).
    NaN residuals count as converged.
    """
    shape = target_x.shape
    tx, ty = target_x.ravel(), target_y.ravel()
    x, y = x.ravel().copy(), y.ravel().copy()
    todo = np.arange(tx.size)
    for _ in range(_INVERSE_MAX_ITER):
        fx, fy = forward(x[todo], y[todo])
        rx, ry = fx - tx[todo], fy - ty[todo]
        bad = (np.abs(rx) >= _INVERSE_TOL_DEG) | (np.abs(ry) >= _INVERSE_TOL_DEG)
        if not bad.any():
            break
        todo = todo[bad]
        x[todo] -= rx[bad]
        y[todo] -= ry[bad]
    return x.reshape(shape), y.reshape(shape)


def _wgs84_to_gcj02(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Coords:
    d_lon, d_lat = _gcj_delta(lon, lat)
    outside = out_of_china(lon, lat)
    return np.where(outside, lon, lon + d_lon), np.where(outside, lat, lat + d_lat)


def _gcj02_to_bd09(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Coords:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    outside = out_of_china(lon, lat)
    return (np.where(outside, lon, z * np.cos(theta) + 0.0065),
            np.where(outside, lat, z * np.sin(theta) + 0.006))


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """WGS84 → GCJ-02 (the standard published algorithm), vectorised.

    Points outside China's bounding box (:func:`out_of_china`) are returned
    unchanged; NaN stays NaN.

    Parameters
    ----------
    lon, lat : degrees, scalars or arrays of any (broadcastable) shape.

    Returns
    -------
    (lon, lat) : float64 arrays of the broadcast shape (numpy scalars for scalars).

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.397128, 39.916527)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.403372, 39.917931)
    """
    return _result(*_wgs84_to_gcj02(*_arrays(lon, lat)))


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """GCJ-02 → WGS84: iterative inverse of :func:`wgs84_to_gcj02`.

    Fixed-point iteration per point until the forward residual is < 1e-9°
    (≈ 0.1 mm); typically 3–4 vectorised passes.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(113.264385, 23.129112))
    >>> abs(float(lon) - 113.264385) < 1e-9 and abs(float(lat) - 23.129112) < 1e-9
    True
    """
    lon, lat = _arrays(lon, lat)
    return _result(*_invert(_wgs84_to_gcj02, lon, lat, lon, lat))


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """GCJ-02 → BD-09 (the standard formula), vectorised.

    Like GCJ-02, BD-09 is taken to equal WGS84 outside China's bounding box
    (as in "eviltransform"), so the three systems coincide there.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.410369, 39.921337)
    """
    return _result(*_gcj02_to_bd09(*_arrays(lon, lat)))


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """BD-09 → GCJ-02: the usual closed-form inverse, refined iteratively.

    The closed form alone is off by up to about 0.2 m; the refinement
    makes ``bd09_to_gcj02(gcj02_to_bd09(p))`` equal ``p`` to ≈ 0.1 mm.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(116.410369, 39.921337)
    >>> round(float(lon), 5), round(float(lat), 5)
    (116.404, 39.915)
    """
    lon, lat = _arrays(lon, lat)
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _result(*_invert(_gcj02_to_bd09, lon, lat, z * np.cos(theta), z * np.sin(theta)))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """WGS84 → BD-09 (via GCJ-02).

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(113.264385, 23.129112)
    >>> round(float(lon), 3), round(float(lat), 3)
    (113.276, 23.133)
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """BD-09 → WGS84 (via GCJ-02), both steps iterative inverses.

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(113.264385, 23.129112))
    >>> abs(float(lon) - 113.264385) < 1e-8
    True
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_CONVERTERS: dict[tuple[str, str], Callable[[ArrayLike, ArrayLike], Coords]] = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


def _system(name: str) -> str:
    key = re.sub(r"[\s_\-]", "", str(name).lower())
    if key not in SYSTEMS:
        raise ValueError(f"unknown coordinate system {name!r}; expected one of {SYSTEMS}")
    return key


def convert_coordinates(lon: ArrayLike, lat: ArrayLike, src: str, dst: str) -> Coords:
    """Convert lon/lat between ``"wgs84"``, ``"gcj02"`` and ``"bd09"``.

    ``wgs84`` stands for any lon/lat datum PROJ treats as WGS84 (EPSG:4326,
    EPSG:4490). Same ``src`` and ``dst`` returns float64 copies.

    Examples
    --------
    >>> lon, lat = convert_coordinates([113.3], [23.1], "gcj-02", "wgs84")
    >>> lon.shape
    (1,)
    """
    src, dst = _system(src), _system(dst)
    if src == dst:
        return _result(*_arrays(lon, lat))
    return _CONVERTERS[src, dst](lon, lat)


def convert_geometries(
    geoms: ArrayLike | gpd.GeoSeries | shapely.Geometry, src: str, dst: str
) -> NDArray[np.object_] | gpd.GeoSeries | shapely.Geometry:
    """Convert geometries between ``"wgs84"``, ``"gcj02"`` and ``"bd09"``.

    All geometry types (points to multipolygons and collections), empties and
    ``None`` are handled by one vectorised ``shapely.transform`` call; Z values
    are kept. Conversion is a function of each coordinate alone, so a vertex
    shared by two polygons (or rings) maps to the identical output and the
    topology is preserved.

    Parameters
    ----------
    geoms : a GeoSeries, a geometry array or a single geometry.
    src, dst : ``"wgs84"``, ``"gcj02"`` or ``"bd09"``.

    Returns
    -------
    The same kind of object: a GeoSeries keeps its index, name and CRS label.

    Examples
    --------
    >>> from shapely import Point
    >>> p = convert_geometries(Point(113.3, 23.1), "wgs84", "gcj02")
    >>> round(p.x - 113.3, 4), round(p.y - 23.1, 4)
    (0.0054, -0.0026)
    """
    src, dst = _system(src), _system(dst)
    if isinstance(geoms, gpd.GeoSeries):
        out = convert_geometries(np.asarray(geoms.values), src, dst)
        return gpd.GeoSeries(out, index=geoms.index, crs=geoms.crs, name=geoms.name)
    if src == dst:
        return shapely.transform(geoms, lambda xy: xy, include_z=None)

    def transform(x: NDArray, y: NDArray, *z: NDArray) -> tuple[NDArray, ...]:
        return (*convert_coordinates(x, y, src, dst), *z)

    return shapely.transform(geoms, transform, include_z=None, interleaved=False)


def expected_offset_m(lon: ArrayLike, lat: ArrayLike, system: str = "gcj02") -> Coords:
    """The shift of ``system`` against WGS84 at WGS84 ``lon, lat``, in metres.

    Parameters
    ----------
    lon, lat : WGS84 degrees.
    system : ``"gcj02"`` or ``"bd09"``.

    Returns
    -------
    (dx_east, dy_north) : metres on the WGS84 ellipsoid, ``system`` minus WGS84.

    Examples
    --------
    >>> dx, dy = expected_offset_m(113.264385, 23.129112, "gcj02")
    >>> round(float(dx)), round(float(dy))
    (546, -296)
    """
    lon, lat = _arrays(lon, lat)
    to_lon, to_lat = convert_coordinates(lon, lat, "wgs84", system)
    azimuth, _, dist = pyproj.Geod(ellps="WGS84").inv(lon, lat, to_lon, to_lat)
    azimuth, dist = np.radians(np.asarray(azimuth)), np.asarray(dist)
    return _result(dist * np.sin(azimuth), dist * np.cos(azimuth))


def estimate_offset_system(
    lon: float,
    lat: float,
    dx_m: float,
    dy_m: float,
    *,
    rel_tol: float = 0.15,
    abs_tol_m: float = 30.0,
) -> str | None:
    """Which offset system explains a layer's systematic shift, if any.

    For the ``layer_offset`` rule: compare a layer with a WGS84/CGCS2000
    reference, measure the systematic shift (layer minus reference, e.g. the
    median displacement of matched centroids in EPSG:4547, whose grid north is
    within 0.5° of true north in Guangzhou), and ask whether it is the GCJ-02
    or BD-09 shift at that place.

    Parameters
    ----------
    lon, lat : WGS84 degrees of the area (e.g. the reference layer's centroid;
        the layer's own centroid is as good, the shift varies slowly).
    dx_m, dy_m : observed shift east and north in metres, layer minus reference.
    rel_tol, abs_tol_m : a system matches when the observed vector is within
        ``max(abs_tol_m, rel_tol × |expected|)`` of its expected shift
        (:func:`expected_offset_m`).

    Returns
    -------
    ``"gcj02"`` or ``"bd09"`` — the ``--crs`` value that fixes the layer (the
    closer one if both match) — or ``None`` when neither matches, including
    where a system has no shift (GCJ-02 outside China).

    Examples
    --------
    >>> dx, dy = expected_offset_m(113.3, 23.1, "gcj02")
    >>> estimate_offset_system(113.3, 23.1, dx + 20, dy - 10)
    'gcj02'
    >>> estimate_offset_system(113.3, 23.1, 5.0, -3.0) is None
    True
    """
    best, best_err = None, np.inf
    for system in ("gcj02", "bd09"):
        ex, ey = expected_offset_m(lon, lat, system)
        expected = float(np.hypot(ex, ey))
        err = float(np.hypot(dx_m - ex, dy_m - ey))
        if expected > abs_tol_m and err <= max(abs_tol_m, rel_tol * expected) and err < best_err:
            best, best_err = system, err
    return best


# --------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------


def _path(gdf: gpd.GeoDataFrame, path: str | os.PathLike | None) -> str | os.PathLike | None:
    return path if path is not None else gdf.attrs.get("source_path")


def _no_crs(path: str | os.PathLike | None) -> InputError:
    return InputError(f"the layer has no CRS; pass --crs ({_ACCEPTED})", path=path)


def assign_crs(
    gdf: gpd.GeoDataFrame,
    crs: CrsLike | None = None,
    *,
    path: str | os.PathLike | None = None,
) -> gpd.GeoDataFrame:
    """Apply a ``--crs`` spec to a freshly read layer (what ``read_layer`` does).

    The coordinates are checked (:func:`check_layer_coordinates`) in the
    declared system first. Then, for ``gcj02``/``bd09``, geometries are
    converted to WGS84 and labelled EPSG:4326; otherwise the spec overrides the
    file's label. ``attrs["source_crs"]`` records the spec's canonical name.

    Parameters
    ----------
    gdf : the layer as read.
    crs : the ``--crs`` value; ``None`` keeps the file's CRS (required then).
    path : for messages; default ``gdf.attrs["source_path"]``.

    Returns
    -------
    A new GeoDataFrame; the input is not modified.

    Raises
    ------
    InputError
        No CRS at all, an unknown spec, or implausible coordinates.

    Examples
    --------
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(113.2699, 23.1265)])
    >>> out = assign_crs(g, "gcj02")
    >>> out.crs.to_epsg(), out.attrs["source_crs"], round(float(out.geometry.x[0]), 3)
    (4326, 'gcj02', 113.265)
    """
    path = _path(gdf, path)
    if crs is None and gdf.crs is None:
        raise _no_crs(path)
    spec = parse_crs(gdf.crs if crs is None else crs)
    check_layer_coordinates(gdf, spec, path=path)
    if spec.offset:
        out = gdf.set_geometry(convert_geometries(gdf.geometry, spec.offset, "wgs84"))
        out = out.set_crs(spec.crs, allow_override=True)
    else:
        out = gdf.set_crs(spec.crs, allow_override=True)
    out.attrs["source_crs"] = spec.name
    return out


def to_wgs84(gdf: gpd.GeoDataFrame, *, path: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """Reproject a layer to EPSG:4326 lon/lat.

    A layer loaded with ``--crs gcj02``/``bd09`` was already converted to WGS84
    by the loader (``attrs["source_crs"]`` says so); it is not shifted again.

    Raises
    ------
    InputError
        The layer has no CRS.

    Examples
    --------
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(500000, 2560000)], crs=4547)
    >>> round(float(to_wgs84(g).geometry.x[0]), 3)
    114.0
    """
    if gdf.crs is None:
        raise _no_crs(_path(gdf, path))
    return gdf.to_crs("EPSG:4326")


#: ``--metric-crs auto``: the CRS is chosen from where the data is (:func:`auto_metric_crs`).
AUTO_METRIC_CRS = "auto"
#: Rough extent of China (lon/lat) inside which the CGCS2000 3-degree zones are used.
_CHINA = (73.0, 18.0, 135.5, 53.6)


def auto_metric_crs(lon: float, lat: float) -> str:
    """The metric CRS for data centred at ``lon``, ``lat`` (degrees).

    In China the CGCS2000 3-degree Gauss-Krüger zone (no zone prefix) whose
    central meridian is nearest, EPSG:4534 (75°E) to EPSG:4554 (135°E);
    elsewhere the WGS84 UTM zone (EPSG:326xx north, 327xx south).

    >>> auto_metric_crs(113.3, 23.1), auto_metric_crs(116.4, 39.9), auto_metric_crs(-73.9, 40.7)
    ('EPSG:4547', 'EPSG:4548', 'EPSG:32618')
    """
    west, south, east, north = _CHINA
    if west <= lon <= east and south <= lat <= north:
        return f"EPSG:{4534 + int(np.clip(np.floor((lon - 75.0) / 3.0 + 0.5), 0, 20))}"
    zone = int(np.clip(np.floor((lon + 180.0) / 6.0) + 1, 1, 60))
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def layer_centre(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    """Lon/lat of the centre of a layer's bounds (finite coordinates only).

    A layer without any coordinate is placed at the centre of its CRS's area of use.
    """
    coords = shapely.get_coordinates(gdf.geometry.to_numpy())
    coords = coords[np.isfinite(coords).all(axis=1)]
    if not len(coords):
        area = gdf.crs.area_of_use
        if area is None:
            return 0.0, 0.0
        return (area.west + area.east) / 2, (area.south + area.north) / 2
    x, y = (coords.min(axis=0) + coords.max(axis=0)) / 2
    lon, lat = pyproj.Transformer.from_crs(gdf.crs, 4326, always_xy=True).transform(x, y)
    return float(lon), float(lat)


def metric_crs_for(gdf: gpd.GeoDataFrame, metric_crs: CrsLike = AUTO_METRIC_CRS) -> pyproj.CRS:
    """The metric CRS to use for ``gdf``: ``auto`` resolved from its centre, else checked.

    ``auto`` keeps a layer that is already in a projected CRS in metres (other
    than Web Mercator); otherwise it is :func:`auto_metric_crs` of the centre.

    Raises
    ------
    InputError
        ``metric_crs`` is not a projected CRS in metres (the message suggests
        the zone that fits where the data is).
    """
    if str(metric_crs).strip().lower() == AUTO_METRIC_CRS:
        own = gdf.crs
        if (own is not None and own.is_projected and "mercator" not in own.name.lower()
                and all(axis.unit_name == "metre" for axis in own.axis_info)):
            return own  # delivered in a projected CRS in metres (not Web Mercator): keep it
        return pyproj.CRS(auto_metric_crs(*layer_centre(gdf)))
    spec = parse_crs(metric_crs)
    if spec.offset or not spec.crs.is_projected or any(
        axis.unit_name != "metre" for axis in spec.crs.axis_info
    ):
        raise InputError(
            f"metric CRS {spec.name} is not a projected CRS in metres; use --metric-crs auto "
            f"(here {auto_metric_crs(*layer_centre(gdf))})"
        )
    return spec.crs


def metric_crs_warning(gdf: gpd.GeoDataFrame, crs: pyproj.CRS) -> str | None:
    """A warning when the data's centre lies outside ``crs``'s area of use, else ``None``.

    >>> from shapely import box
    >>> g = gpd.GeoDataFrame(geometry=[box(116.3, 39.9, 116.4, 40.0)], crs=4490)
    >>> metric_crs_warning(g, pyproj.CRS(4547))[:60]
    'metric CRS EPSG:4547 is meant for 112.5-115.5°E, 21.52-45.45'
    """
    area = crs.area_of_use
    if area is None:
        return None
    lon, lat = layer_centre(gdf)
    if area.west <= lon <= area.east and area.south <= lat <= area.north:
        return None
    return (f"metric CRS {crs.to_string()} is meant for {area.west:g}-{area.east:g}°E, "
            f"{area.south:g}-{area.north:g}°N but the data is centred at {lon:.2f}°E, "
            f"{lat:.2f}°N: areas may be off; --metric-crs auto picks "
            f"{auto_metric_crs(lon, lat)}")


def to_metric(
    gdf: gpd.GeoDataFrame,
    metric_crs: CrsLike = AUTO_METRIC_CRS,
    *,
    path: str | os.PathLike | None = None,
) -> gpd.GeoDataFrame:
    """Reproject a layer to the metric CRS for areas and distances.

    An offset (GCJ-02/BD-09) layer was converted to WGS84 by the loader
    (``attrs["source_crs"]`` records it), so a plain reprojection is right.

    Parameters
    ----------
    gdf : a layer with a CRS.
    metric_crs : a projected CRS in metres (``--metric-crs``), or ``auto``
        (default): the zone of the layer's centre (:func:`auto_metric_crs`;
        EPSG:4547 for Guangzhou).
    path : for messages; default ``gdf.attrs["source_path"]``.

    Raises
    ------
    InputError
        The layer has no CRS, or ``metric_crs`` is not projected in metres.

    Examples
    --------
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame(geometry=[box(113.30, 23.10, 113.31, 23.11)], crs=4490)
    >>> round(float(to_metric(g).area[0]) / 1e6, 2), to_metric(g).crs.to_epsg()
    (1.13, 4547)
    """
    if gdf.crs is None:
        raise _no_crs(_path(gdf, path))
    return gdf.to_crs(metric_crs_for(gdf, metric_crs))


# --------------------------------------------------------------------------------------
# Coordinate sanity checks
# --------------------------------------------------------------------------------------


def _out_of_range(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
    return (np.abs(x) > 180.0) | (np.abs(y) > 90.0)


def valid_coordinate_mask(x: ArrayLike, y: ArrayLike, crs: CrsLike) -> NDArray[np.bool_]:
    """Which points have usable coordinates: finite, not the 0,0 placeholder,
    and, for a geographic CRS (incl. GCJ-02/BD-09), |lon| ≤ 180 and |lat| ≤ 90.

    For events: the others are *unlocatable* (see docs/architecture.md).

    Examples
    --------
    >>> valid_coordinate_mask([113.3, 0, 200, float("nan")], [23.1, 0, 23, 23], "wgs84").tolist()
    [True, False, False, False]
    """
    x, y = _arrays(x, y)
    ok = np.isfinite(x) & np.isfinite(y) & ~((x == 0) & (y == 0))
    if parse_crs(crs).crs.is_geographic:
        ok &= ~_out_of_range(x, y)
    return ok


def _fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return np.format_float_positional(value, precision=6, trim="-")


def _example(
    x: NDArray[np.float64], y: NDArray[np.float64], rows: NDArray, mask: NDArray[np.bool_]
) -> tuple[int, str]:
    """First row (smallest row number) among ``mask`` and its coordinates."""
    i = np.flatnonzero(mask)[np.argmin(rows[mask])]
    return int(rows[i]), f"x={_fmt(x[i])}, y={_fmt(y[i])}"


def _epsg_label(code: int) -> str:
    return f"EPSG:{code} ({pyproj.CRS.from_epsg(code).name})"


def guess_projected_crs(x: float, y: float) -> list[int]:
    """EPSG codes of projected CRSs (China) that metre values ``x, y`` may be in.

    - x 25–45 million: CGCS2000 3-degree Gauss-Krüger with the zone number
      prefixed (zone = the millions, EPSG:4513–4533; Guangzhou zone 38 = 4526);
    - x 13–23 million: 6-degree Gauss-Krüger with zone prefix (EPSG:4491–4501);
    - x 8–15.2 million, y 0–8 million: Web Mercator (EPSG:3857);
    - x 0.2–0.8 million, y 2.2–3.0 million: EPSG:4547 (3-degree CM 114E,
      no zone prefix; Guangzhou itself is x 0.4–0.6 M, y 2.4–2.7 M).

    Other unprefixed values (any Gauss-Krüger CM zone or UTM) give no guess.

    Examples
    --------
    >>> guess_projected_crs(38_512_000, 2_560_000)
    [4526]
    >>> guess_projected_crs(512_000, 2_560_000)
    [4547]
    """
    zone = int(x // 1_000_000) if np.isfinite(x) else -1
    codes = []
    if 25 <= zone <= 45:
        codes.append(4513 + zone - 25)
    if 13 <= zone <= 23:
        codes.append(4491 + zone - 13)
    if 8e6 <= x <= 15.2e6 and 0 <= y <= 8e6:
        codes.append(3857)
    if 2e5 <= x <= 8e5 and 2.2e6 <= y <= 3e6:
        codes.append(4547)
    return codes


def check_coordinates(
    x: ArrayLike,
    y: ArrayLike,
    crs: CrsLike,
    *,
    path: str | os.PathLike | None = None,
    rows: ArrayLike | None = None,
    strict: bool = True,
) -> None:
    """Raise :class:`InputError` when coordinates do not fit their declared CRS.

    Checks, on the finite points other than the 0,0 placeholder (NaN and 0,0
    are the caller's business), deciding layer-wide problems by majority (more
    than half of the points) so that one outlier is not taken for a wrong CRS:

    geographic CRS (incl. GCJ-02/BD-09)
        - lon/lat swapped: x in 0–56 and y in 70–140 (China read backwards);
        - projected-looking numbers (|x| > 180 or |y| > 90), naming the
          projected CRSs they may be (:func:`guess_projected_crs`);
        - with ``strict``, any single point out of range (|lon| > 180, |lat| > 90);
    projected CRS
        - degree-looking numbers (|x| ≤ 180 and |y| ≤ 90): pass ``--crs 4490``;
        - the median point falls outside the CRS's area of use (+2°), e.g. a
          zone-prefixed EPSG:4526 layer labelled EPSG:4547.

    Parameters
    ----------
    x, y : coordinates (any shape; flattened).
    crs : the declared CRS (anything :func:`parse_crs` takes, or ``gdf.crs``).
    path : the file, for the message.
    rows : 1-based row number of each point (default: position + 1).
    strict : report isolated out-of-range points; set False for event tables,
        where such rows are counted as unlocatable instead.

    Raises
    ------
    InputError
        With ``path`` and the row of the first offending point.

    Examples
    --------
    >>> check_coordinates([113.26, 113.30], [23.13, 23.10], "EPSG:4490")
    >>> check_coordinates([23.13, 23.10], [113.26, 113.30], 4490, path="g.gpkg")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gridkit.errors.InputError: g.gpkg: row 1: lon/lat look swapped ...
    """
    spec = parse_crs(crs)
    x, y = (np.ravel(a) for a in _arrays(x, y))
    rows = np.arange(1, x.size + 1) if rows is None else np.ravel(np.asarray(rows))
    problems = coordinate_problems(x, y, spec)
    keep = problems.pop("usable")
    counts = {kind: int(mask.sum()) for kind, mask in problems.items()}
    examples = {kind: _first(x, y, rows, mask) for kind, mask in problems.items() if mask.any()}
    check_coordinate_counts(int(keep.sum()), counts, examples, spec, path=path)
    x, y, rows = x[keep], y[keep], rows[keep]
    if not x.size:
        return
    if spec.crs.is_geographic:
        outside = _out_of_range(x, y)
        if strict and outside.any():
            row, example = _example(x, y, rows, outside)
            raise InputError(
                f"coordinate out of range for {spec.name} ({example}; "
                "longitude must be within ±180 and latitude within ±90)",
                path=path, row=row,
            )
    else:
        _check_area_of_use(x, y, rows, spec, path)


def coordinate_problems(x: ArrayLike, y: ArrayLike, crs: CrsLike) -> dict[str, NDArray[np.bool_]]:
    """Masks of the majority checks of :func:`check_coordinates`, point by point.

    ``usable``: finite and not the 0,0 placeholder; among those, for a
    geographic CRS (incl. GCJ-02/BD-09) ``swapped`` (x 0–56 and y 70–140: China
    read backwards) and ``projected`` (|x| > 180 or |y| > 90: metres, not
    degrees); for a projected CRS ``degrees`` (|x| ≤ 180 and |y| ≤ 90).
    Callers that read their data in chunks add up the counts of each mask and
    decide with :func:`check_coordinate_counts` (so the decision does not
    depend on the chunking).

    Examples
    --------
    >>> masks = coordinate_problems([23.1, 113.3, 0], [113.3, 23.1, 0], "wgs84")
    >>> {k: v.tolist() for k, v in masks.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'usable': [True, True, False], 'swapped': [True, False, False],
     'projected': [True, False, False]}
    """
    x, y = (np.ravel(a) for a in _arrays(x, y))
    usable = np.isfinite(x) & np.isfinite(y) & ~((x == 0) & (y == 0))
    if parse_crs(crs).crs.is_geographic:
        return {"usable": usable,
                "swapped": usable & (x >= 0) & (x <= 56) & (y >= 70) & (y <= 140),
                "projected": usable & _out_of_range(x, y)}
    return {"usable": usable, "degrees": usable & ~_out_of_range(x, y)}


def _first(x: NDArray[np.float64], y: NDArray[np.float64], rows: NDArray,
           mask: NDArray[np.bool_]) -> tuple[int, float, float]:
    i = np.flatnonzero(mask)[np.argmin(rows[mask])]
    return int(rows[i]), float(x[i]), float(y[i])


def check_coordinate_counts(
    usable: int,
    counts: dict[str, int],
    examples: dict[str, tuple[int, float, float]],
    crs: CrsLike,
    *,
    path: str | os.PathLike | None = None,
) -> None:
    """Refuse coordinates that are mostly swapped, projected or degrees (by majority).

    The decision of :func:`check_coordinates` on counts of
    :func:`coordinate_problems` masks, so that data read in chunks is judged
    as a whole: a problem is reported when it concerns more than half of the
    ``usable`` points (one outlier is not a wrong CRS).

    Parameters
    ----------
    usable : number of usable points.
    counts : kind → number of points flagged.
    examples : kind → (row, x, y) of the flagged point with the lowest row.
    crs : the declared CRS.
    path : the file, for the message.

    Raises
    ------
    InputError
        Naming the example's row.

    Examples
    --------
    >>> check_coordinate_counts(4, {"swapped": 3}, {"swapped": (1, 23.1, 113.3)}, "wgs84")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gridkit.errors.InputError: row 1: lon/lat look swapped (3 of 4 coordinates ...
    """
    spec = parse_crs(crs)
    for kind in ("swapped", "projected", "degrees"):
        count = counts.get(kind, 0)
        if not usable or 2 * count <= usable:
            continue
        row, x, y = examples[kind]
        share, example = f"{count} of {usable} coordinates", f"x={_fmt(x)}, y={_fmt(y)}"
        if kind == "swapped":
            message = (f"lon/lat look swapped ({share} have a latitude-like x and a "
                       f"longitude-like y, e.g. {example}); put longitude in x and latitude in y")
        elif kind == "projected":
            message = (f"coordinates look projected (metres), not degrees of {spec.name} "
                       f"({share} outside ±180/±90, e.g. {example}); "
                       f"{_projected_hint(guess_projected_crs(x, y))}")
        else:
            message = (f"coordinates look like degrees, not metres of {spec.name} "
                       f"({share}, e.g. {example}); pass --crs 4490 "
                       "(or wgs84, gcj02, bd09 for web-map coordinates)")
        raise InputError(message, path=path, row=row)


def _projected_hint(codes: list[int]) -> str:
    if not codes:
        return ("pass --crs with the layer's projected EPSG code (e.g. a CGCS2000 "
                "Gauss-Kruger CM zone, EPSG:4534-4554)")
    return f"they may be {' or '.join(_epsg_label(c) for c in codes)}; pass --crs {codes[0]}"


def _check_area_of_use(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    rows: NDArray,
    spec: CrsSpec,
    path: str | os.PathLike | None,
) -> None:
    area = spec.crs.area_of_use
    if area is None:
        return
    mx, my = float(np.median(x)), float(np.median(y))
    to_geo = pyproj.Transformer.from_crs(spec.crs, spec.crs.geodetic_crs, always_xy=True)
    lon, lat = to_geo.transform(mx, my)
    west, south, east, north = area.bounds
    m = _AREA_MARGIN_DEG
    placed = bool(np.isfinite(lon) and np.isfinite(lat))
    if placed and west - m <= lon <= east + m and south - m <= lat <= north + m:
        return
    where = f"lies at lon {lon:.2f}, lat {lat:.2f}" if placed else "maps to no place on earth"
    codes = [c for c in guess_projected_crs(mx, my) if f"EPSG:{c}" != spec.name]
    epsg = spec.crs.to_epsg()
    raise InputError(
        f"coordinates fall outside the area of use of {_epsg_label(epsg) if epsg else spec.name}: "
        f"their median x={_fmt(mx)}, y={_fmt(my)} {where}; "
        f"{_projected_hint(codes)}",
        path=path, row=int(rows.min()),
    )


def check_layer_coordinates(
    gdf: gpd.GeoDataFrame,
    crs: CrsLike | None = None,
    *,
    path: str | os.PathLike | None = None,
    strict: bool = True,
) -> None:
    """:func:`check_coordinates` for a layer, using each geometry's bounds.

    The two bounding-box corners per feature are exact for range checks and
    cheap (no vertex extraction); rows are the 1-based feature numbers. Empty
    and null geometries are skipped.

    Parameters
    ----------
    gdf : the layer.
    crs : the declared CRS; default ``gdf.crs``.
    path : for messages; default ``gdf.attrs["source_path"]``.
    strict : see :func:`check_coordinates`.

    Raises
    ------
    InputError
        No CRS given nor labelled, or implausible coordinates.

    Examples
    --------
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(512_000, 2_560_000)], crs=4490)
    >>> check_layer_coordinates(g, path="g.gpkg")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gridkit.errors.InputError: g.gpkg: row 1: coordinates look projected (metres), ...
    """
    path = _path(gdf, path)
    crs = gdf.crs if crs is None else crs
    if crs is None:
        raise _no_crs(path)
    bounds = shapely.bounds(np.asarray(gdf.geometry.values))
    feature_rows = np.arange(1, len(gdf) + 1)
    check_coordinates(
        np.concatenate([bounds[:, 0], bounds[:, 2]]),
        np.concatenate([bounds[:, 1], bounds[:, 3]]),
        crs,
        path=path,
        rows=np.concatenate([feature_rows, feature_rows]),
        strict=strict,
    )

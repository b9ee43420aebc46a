"""The metric CRS for areas and distances, chosen from where the data is (``--metric-crs auto``).

In China the CGCS2000 3-degree Gauss-Krüger zone of the layer's centre
(EPSG:4534–4554; Guangzhou EPSG:4547, Beijing EPSG:4548), elsewhere its WGS84
UTM zone. A CRS given by the user is checked (projected, in metres) and a
warning says when the data lies outside its area of use.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from gridkit.crs.spec import CrsLike, parse_crs
from gridkit.errors import InputError
from gridkit.i18n import pick

__all__ = ["AUTO_METRIC_CRS", "auto_metric_crs", "layer_centre", "metric_crs_for",
           "metric_crs_warning"]

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

    >>> from shapely import box
    >>> layer_centre(gpd.GeoDataFrame(geometry=[box(113.0, 23.0, 113.2, 23.2)], crs=4490))
    (113.1, 23.1)
    """
    geoms = gdf.geometry.to_numpy()
    coords = shapely.get_coordinates(geoms)
    if len(coords) and np.isfinite(coords).all():
        # All finite: the geometries' bounds span the same coordinates, and are quicker.
        bounds = shapely.bounds(geoms)
        low, high = np.nanmin(bounds[:, :2], axis=0), np.nanmax(bounds[:, 2:], axis=0)
    else:
        coords = coords[np.isfinite(coords).all(axis=1)]
        if not len(coords):
            area = gdf.crs.area_of_use
            if area is None:
                return 0.0, 0.0
            return (area.west + area.east) / 2, (area.south + area.north) / 2
        low, high = coords.min(axis=0), coords.max(axis=0)
    x, y = (low + high) / 2
    lon, lat = pyproj.Transformer.from_crs(gdf.crs, 4326, always_xy=True).transform(x, y)
    return round(float(lon), 9), round(float(lat), 9)


def metric_crs_for(gdf: gpd.GeoDataFrame, metric_crs: CrsLike = AUTO_METRIC_CRS, *,
                   centre: tuple[float, float] | None = None) -> pyproj.CRS:
    """The metric CRS to use for ``gdf``: ``auto`` resolved from its centre, else checked.

    ``auto`` keeps a layer that is already in a projected CRS in metres (other
    than Web Mercator); otherwise it is :func:`auto_metric_crs` of the centre.
    ``centre``: :func:`layer_centre` of ``gdf`` when the caller has it already.

    Raises
    ------
    InputError
        ``metric_crs`` is not a projected CRS in metres (a CRS in feet included:
        the hint names the zone that fits where the data is).
    """
    if str(metric_crs).strip().lower() == AUTO_METRIC_CRS:
        own = gdf.crs
        if (own is not None and own.is_projected and "mercator" not in own.name.lower()
                and all(axis.unit_name == "metre" for axis in own.axis_info)):
            return own  # delivered in a projected CRS in metres (not Web Mercator): keep it
        return pyproj.CRS(auto_metric_crs(*(centre or layer_centre(gdf))))
    spec = parse_crs(metric_crs)
    if spec.offset or not spec.crs.is_projected or any(
        axis.unit_name != "metre" for axis in spec.crs.axis_info
    ):
        here = auto_metric_crs(*(centre or layer_centre(gdf)))
        raise InputError(f"metric CRS {spec.name} is not a projected CRS in metres",
                         hint=f"use {{option}} (here {here})",
                         option=("metric_crs", AUTO_METRIC_CRS))
    return spec.crs


def metric_crs_warning(gdf: gpd.GeoDataFrame, crs: pyproj.CRS, lang: str = "en", *,
                       centre: tuple[float, float] | None = None) -> str | None:
    """A warning when the data's centre lies outside ``crs``'s area of use, else ``None``.

    ``centre``: :func:`layer_centre` of ``gdf`` when the caller has it already.

    >>> from shapely import box
    >>> g = gpd.GeoDataFrame(geometry=[box(116.3, 39.9, 116.4, 40.0)], crs=4490)
    >>> metric_crs_warning(g, pyproj.CRS(4547))[:60]
    'metric CRS EPSG:4547 is meant for 112.5-115.5°E, 21.52-45.45'
    """
    area = crs.area_of_use
    if area is None:
        return None
    lon, lat = centre or layer_centre(gdf)
    if area.west <= lon <= area.east and area.south <= lat <= area.north:
        return None
    auto = auto_metric_crs(lon, lat)
    return pick(lang,
                zh=f"量测坐标系 {crs.to_string()} 适用于东经 {area.west:g}-{area.east:g}°、北纬 "
                   f"{area.south:g}-{area.north:g}°，而数据中心在 {lon:.2f}°E, {lat:.2f}°N："
                   f"面积可能有偏差；此处自动选择的是 {auto}",
                en=f"metric CRS {crs.to_string()} is meant for {area.west:g}-{area.east:g}°E, "
                   f"{area.south:g}-{area.north:g}°N but the data is centred at {lon:.2f}°E, "
                   f"{lat:.2f}°N: areas may be off; the automatic choice here is {auto}")

"""CRS handling of layers: apply a ``--crs`` spec, reproject to WGS84 or a metric CRS,
check a layer's coordinates.
"""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import shapely

from gridkit.crs.checks import check_coordinates
from gridkit.crs.metric import metric_crs_for
from gridkit.crs.offsets import convert_geometries
from gridkit.crs.spec import ACCEPTED_SPECS, DEFAULT_METRIC_CRS, WGS84, CrsLike, parse_crs
from gridkit.errors import InputError

__all__ = ["assign_crs", "check_layer_coordinates", "to_metric", "to_wgs84"]

def _path(gdf: gpd.GeoDataFrame, path: str | os.PathLike | None) -> str | os.PathLike | None:
    return path if path is not None else gdf.attrs.get("source_path")


def _no_crs(path: str | os.PathLike | None) -> InputError:
    return InputError("the layer has no CRS", path=path, hint=f"pass {{option}} ({ACCEPTED_SPECS})",
                      option=("crs", None))


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
    return gdf.to_crs(WGS84)


def to_metric(
    gdf: gpd.GeoDataFrame,
    metric_crs: CrsLike = DEFAULT_METRIC_CRS,
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
        (default): the zone of the layer's centre
        (:func:`~gridkit.crs.metric.auto_metric_crs`; EPSG:4547 for Guangzhou).
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

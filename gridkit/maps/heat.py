"""Binning of work-order coordinates for the heat map of an events map."""

from __future__ import annotations

__all__ = ["HEAT_BIN_M", "HEAT_MAX_POINTS", "heat_points"]

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gridkit.crs import (
    DEFAULT_METRIC_CRS,
    convert_coordinates,
    metric_crs_for,
    parse_crs,
    valid_coordinate_mask,
)

#: Side of the square bins of the event heat map, metres (doubled until at most
#: :data:`HEAT_MAX_POINTS` bins are occupied: a city's 10 million work orders in 250 m
#: bins are some 130,000 points, 4 MB of the page).
HEAT_BIN_M = 250.0
HEAT_MAX_POINTS = 20_000


def heat_points(x: np.ndarray, y: np.ndarray, crs: str = "wgs84", *, bin_m: float = HEAT_BIN_M,
                metric_crs: str = DEFAULT_METRIC_CRS,
                max_points: int | None = HEAT_MAX_POINTS) -> pd.DataFrame:
    """Bin event coordinates on a square grid of ``bin_m`` metres for a heat map.

    Millions of work orders become at most ``max_points`` weighted points
    (WGS84 bin centres, weight = count ÷ largest count): when more bins are
    occupied, the bin side is doubled until they are few enough. The side used
    is ``result.attrs["bin_m"]``. Coordinates are in ``crs`` (a ``--crs``
    spec: GCJ-02/BD-09 are converted); missing or impossible ones
    (:func:`gridkit.crs.valid_coordinate_mask`) are left out.

    Examples
    --------
    >>> p = heat_points(np.array([113.3, 113.3, 113.5, 0]), np.array([23.1, 23.1, 23.2, 0]))
    >>> sorted(p.weight.tolist()), p.attrs["bin_m"]
    ([0.5, 1.0], 250.0)
    >>> p = heat_points(np.array([113.3, 113.31]), np.array([23.1, 23.1]), max_points=1)
    >>> len(p), p.attrs["bin_m"] > 250
    (1, True)
    >>> heat_points(np.array([113.3]), np.array([23.1]), metric_crs="EPSG:4326")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gridkit.errors.InputError: metric CRS EPSG:4326 is not a projected CRS in metres; ...
    """
    spec = parse_crs(crs)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = valid_coordinate_mask(x, y, spec)
    x, y = x[ok], y[ok]
    if spec.offset:
        x, y = convert_coordinates(x, y, spec.offset, "wgs84")
    # Plain coordinate arrays through pyproj, one integer key per cell: ten million
    # work orders never become shapely points.
    # The metric CRS is chosen (auto) or checked as for layers, at the points' median
    # (robust to a few far-away points).
    centre = shapely.points(np.median(x), np.median(y)) if len(x) else shapely.Point()
    metric_crs = metric_crs_for(gpd.GeoDataFrame(geometry=[centre], crs=spec.crs), metric_crs)
    mx, my = pyproj.Transformer.from_crs(spec.crs, metric_crs, always_xy=True).transform(x, y)
    i, j = np.floor(mx / bin_m).astype(np.int64), np.floor(my / bin_m).astype(np.int64)
    i, j, counts = _cells(i, j)
    while max_points and len(i) > max_points:
        # floor(v / 2b) == floor(floor(v / b) / 2): coarser cells from the occupied ones only.
        bin_m *= 2
        i, j, counts = _cells(i // 2, j // 2, counts)
    lon, lat = pyproj.Transformer.from_crs(metric_crs, 4326, always_xy=True).transform(
        (i + 0.5) * bin_m, (j + 0.5) * bin_m)
    heat = pd.DataFrame({"lon": lon, "lat": lat,
                         "weight": counts / counts.max() if len(counts) else counts})
    heat.attrs["bin_m"] = float(bin_m)
    return heat


def _cells(i: np.ndarray, j: np.ndarray, weights: np.ndarray | None = None,
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct cells ``(i, j)`` sorted by ``i`` then ``j``, with their summed weights.

    ``weights=None``: each entry counts 1 (the first pass over millions of points
    then skips the inverse index).
    """
    if not len(i):
        return i, j, np.zeros(0)
    rows = j.max() - j.min() + 1
    key = (i - i.min()) * rows + (j - j.min())
    if weights is None:
        keys, sums = np.unique(key, return_counts=True)
    else:
        keys, inverse = np.unique(key, return_inverse=True)
        sums = np.bincount(inverse, weights=weights, minlength=len(keys))
    return keys // rows + i.min(), keys % rows + j.min(), sums.astype(float)

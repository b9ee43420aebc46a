"""Binning of work-order coordinates for the heat map of an events map."""

from __future__ import annotations

__all__ = ["HEAT_BIN_M", "HEAT_MAX_POINTS", "HeatBins", "heat_points"]

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


class HeatBins:
    """Work-order counts on square cells of ``bin_m`` metres, added chunk by chunk.

    The report and ``gridkit map events`` stream a year's work orders
    (:func:`gridkit.events.join_events`): each chunk's coordinates are binned
    here and dropped, so ten million orders cost the occupied cells (some
    130,000 at 250 m), not 160 MB of coordinates. ``points()`` gives the
    heat map's weighted points, exactly as :func:`heat_points` over all of them.

    Parameters
    ----------
    crs : ``--crs`` spec of the coordinates (GCJ-02/BD-09 are converted).
    bin_m : side of the cells, metres.
    metric_crs : where the cells are square: ``auto`` chooses it (as for layers,
        :func:`gridkit.crs.metric_crs_for`) at the median of the first
        coordinates added; a CRS given is checked.

    Examples
    --------
    >>> bins = HeatBins()
    >>> bins.add(np.array([113.3, 0]), np.array([23.1, 0]))  # 0,0 is left out
    >>> bins.add(np.array([113.3, 113.5]), np.array([23.1, 23.2]))
    >>> bins.points().weight.tolist(), bins.events
    ([1.0, 0.5], 3)
    """

    def __init__(self, crs: str = "wgs84", *, bin_m: float = HEAT_BIN_M,
                 metric_crs: str = DEFAULT_METRIC_CRS) -> None:
        self.spec = parse_crs(crs)
        self.bin_m = float(bin_m)
        self.metric_crs = metric_crs
        #: Coordinates binned (valid ones).
        self.events = 0
        self._transformer: pyproj.Transformer | None = None
        self._i = self._j = np.zeros(0, dtype=np.int64)
        self._counts = np.zeros(0)

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        """Bin coordinates; missing or impossible ones
        (:func:`gridkit.crs.valid_coordinate_mask`) are left out."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        ok = valid_coordinate_mask(x, y, self.spec)
        x, y = x[ok], y[ok]
        if not len(x):
            return
        if self.spec.offset:
            x, y = convert_coordinates(x, y, self.spec.offset, "wgs84")
        if self._transformer is None:
            # At the median, robust to a few far-away points; plain arrays through pyproj:
            # millions of work orders never become shapely points.
            centre = shapely.points(np.median(x), np.median(y))
            self.metric_crs = metric_crs_for(
                gpd.GeoDataFrame(geometry=[centre], crs=self.spec.crs), self.metric_crs)
            self._transformer = pyproj.Transformer.from_crs(self.spec.crs, self.metric_crs,
                                                            always_xy=True)
        mx, my = self._transformer.transform(x, y)
        i = np.floor(mx / self.bin_m).astype(np.int64)
        j = np.floor(my / self.bin_m).astype(np.int64)
        i, j, counts = _cells(i, j)
        self._i, self._j, self._counts = _cells(np.concatenate([self._i, i]),
                                                np.concatenate([self._j, j]),
                                                np.concatenate([self._counts, counts]))
        self.events += len(x)

    def points(self, max_points: int | None = HEAT_MAX_POINTS) -> pd.DataFrame:
        """The heat map's points: WGS84 cell centres, weight = count ÷ largest count.

        When more than ``max_points`` cells are occupied, the side is doubled
        until they are few enough; the side used is ``result.attrs["bin_m"]``.
        """
        i, j, counts, bin_m = self._i, self._j, self._counts, self.bin_m
        while max_points and len(i) > max_points:
            # floor(v / 2b) == floor(floor(v / b) / 2): coarser cells from the occupied ones.
            bin_m *= 2
            i, j, counts = _cells(i // 2, j // 2, counts)
        if self._transformer is None:
            lon = lat = np.zeros(0)
        else:
            lon, lat = pyproj.Transformer.from_crs(self.metric_crs, 4326, always_xy=True
                                                   ).transform((i + 0.5) * bin_m,
                                                               (j + 0.5) * bin_m)
        heat = pd.DataFrame({"lon": lon, "lat": lat,
                             "weight": counts / counts.max() if len(counts) else counts})
        heat.attrs["bin_m"] = float(bin_m)
        return heat


def heat_points(x: np.ndarray, y: np.ndarray, crs: str = "wgs84", *, bin_m: float = HEAT_BIN_M,
                metric_crs: str = DEFAULT_METRIC_CRS,
                max_points: int | None = HEAT_MAX_POINTS) -> pd.DataFrame:
    """Bin event coordinates on a square grid of ``bin_m`` metres for a heat map.

    Millions of work orders become at most ``max_points`` weighted points
    (WGS84 bin centres, weight = count ÷ largest count): when more bins are
    occupied, the bin side is doubled until they are few enough. The side used
    is ``result.attrs["bin_m"]``. Coordinates are in ``crs`` (a ``--crs``
    spec: GCJ-02/BD-09 are converted); missing or impossible ones
    (:func:`gridkit.crs.valid_coordinate_mask`) are left out. All at once;
    :class:`HeatBins` adds them chunk by chunk.

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
    bins = HeatBins(crs, bin_m=bin_m, metric_crs=metric_crs)
    bins.add(x, y)
    return bins.points(max_points)


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

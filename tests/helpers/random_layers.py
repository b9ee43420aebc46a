"""Random grid layers for the metamorphic and serial-order tests (not ``gridkit synth``).

A community is a rectangle cut recursively into grids (random cut positions,
alternately across its longer side); grids are numbered by
:func:`reading_order` with a chosen row height. Codes are real Guangzhou
community codes + a serial. Everything is in EPSG:4547 metres.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import box

from gridkit.data import GUANGZHOU_CODES

X0, Y0 = 500_000.0, 2_560_000.0


def community_codes(count: int, start: int = 0) -> list[str]:
    """``count`` real 12-digit Guangzhou community codes (from the test fixture list)."""
    table = pd.read_csv(GUANGZHOU_CODES, dtype=str)
    codes = table.loc[table["level"] == "community", "code"].tolist()
    return codes[start:start + count]


def split(rng: np.random.Generator, cell: tuple[float, float, float, float],
          n: int) -> list[shapely.Polygon]:
    """``cell`` (xmin, ymin, xmax, ymax) cut into ``n`` rectangles at random positions."""
    if n == 1:
        return [box(*cell)]
    x0, y0, x1, y1 = cell
    first = int(np.clip(round(n * rng.uniform(0.35, 0.65)), 1, n - 1))
    t = first / n * rng.uniform(0.85, 1.15)
    if x1 - x0 >= y1 - y0:
        cut = x0 + (x1 - x0) * t
        return split(rng, (x0, y0, cut, y1), first) + split(rng, (cut, y0, x1, y1), n - first)
    cut = y1 - (y1 - y0) * t
    return split(rng, (x0, cut, x1, y1), first) + split(rng, (x0, y0, x1, cut), n - first)


def reading_order(geoms: np.ndarray, height: float) -> np.ndarray:
    """1-based reading-order position: rows ``height`` high from the top centroid, then x."""
    centre = shapely.centroid(geoms)
    x, y = shapely.get_x(centre), shapely.get_y(centre)
    row = np.floor((y.max() - y) / height)
    order = np.lexsort((-y, x, row))
    out = np.empty(len(geoms), np.int64)
    out[order] = np.arange(1, len(geoms) + 1)
    return out


def layer(seed: int, communities: int = 4, grids: tuple[int, int] = (4, 9),
          row_height: float = 1.0, size: float = 600.0) -> tuple[gpd.GeoDataFrame,
                                                                 gpd.GeoDataFrame]:
    """A grid layer and its communities layer, side by side in a row, rows shuffled.

    Each community gets a random number of grids in ``grids`` and is numbered in
    reading order with rows ``row_height`` × its median grid side high.
    """
    rng = np.random.default_rng(seed)
    codes = community_codes(communities, start=seed % 500)
    rows, outlines = [], []
    for k, comm in enumerate(codes):
        cell = (X0 + k * size, Y0, X0 + (k + 1) * size, Y0 + size * rng.uniform(0.8, 1.3))
        outlines.append(box(*cell))
        parts = np.array(split(rng, cell, int(rng.integers(grids[0], grids[1] + 1))))
        side = float(np.sqrt(np.median(shapely.area(parts))))
        for geom, serial in zip(parts, reading_order(parts, row_height * side)):
            rows.append({"grid_code": f"{comm}{serial:03d}", "grid_name": f"{comm[-3:]}-{serial}",
                         "community_code": comm, "geometry": geom})
    grid_layer = gpd.GeoDataFrame(rows, crs="EPSG:4547")
    grid_layer = grid_layer.sample(frac=1, random_state=seed).reset_index(drop=True)
    comm_layer = gpd.GeoDataFrame({"community_code": codes, "community_name": codes},
                                  geometry=outlines, crs="EPSG:4547")
    return grid_layer, comm_layer


def permute_serials(grid_layer: gpd.GeoDataFrame, community: str,
                    rng: np.random.Generator) -> gpd.GeoDataFrame:
    """``grid_layer`` with the serials of ``community`` randomly permuted."""
    out = grid_layer.copy()
    rows = np.flatnonzero(out["community_code"].to_numpy() == community)
    out.loc[rows, "grid_code"] = out["grid_code"].to_numpy()[rng.permutation(rows)]
    return out

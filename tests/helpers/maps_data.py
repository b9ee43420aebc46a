"""A small grid layer near Guangzhou for map and report tests (12 grids, one hostile name)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely import box

__all__ = ["CODES", "COMMUNITIES", "EVIL", "EVIL_ESCAPED", "STEP", "X0", "Y0", "cell", "layer"]

X0, Y0, STEP = 113.26, 23.12, 0.005
COMMUNITIES = ("440103001101", "440103002103", "440104001007")
CODES = [f"{c}{row + 1:03d}" for c in COMMUNITIES for row in range(4)]
EVIL = "<img src=x onerror=alert(1)>"
EVIL_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


def cell(i: int) -> shapely.Polygon:
    col, row = divmod(i, 4)
    return box(X0 + col * STEP, Y0 - (row + 1) * STEP, X0 + (col + 1) * STEP, Y0 - row * STEP)


def layer() -> gpd.GeoDataFrame:
    names = [f"第{i % 4 + 1}网格" for i in range(12)]
    names[5] = EVIL
    households = [100.0 * (i + 1) for i in range(12)]
    households[6] = np.nan
    return gpd.GeoDataFrame({"grid_code": CODES, "grid_name": names,
                             "community_code": [c[:12] for c in CODES],
                             "households": households},
                            geometry=[cell(i) for i in range(12)], crs=4490)

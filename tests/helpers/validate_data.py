"""Small hand-built layers for the validation tests (EPSG:4547): a clean layer and its parts.

Layout (metres, EPSG:4547 near Guangzhou): two real communities side by
side, A = 440104001007 (west) and B = 440104001101 (east), each 200 m × 240 m
and cut into 2 × 2 grids of 100 m × 120 m numbered in reading order:

    A001 A002 | B001 B002
    A003 A004 | B003 B004

"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely import Polygon, box

__all__ = ["A", "B", "H", "W", "X0", "Y0", "add", "cell", "code", "communities", "grids",
           "new_grid", "reference"]

A, B = "440104001007", "440104001101"
X0, Y0 = 500_000.0, 2_560_000.0
W, H = 100.0, 120.0


def cell(col: int, row: int, *, grow: tuple[float, ...] = (0, 0, 0, 0)) -> Polygon:
    """Grid cell ``col`` 0..3 (west→east), ``row`` 0 (north) or 1.

    ``grow`` moves the west, south, east and north edges outwards (metres).
    """
    w, s, e, n = grow
    x, y = X0 + W * col, Y0 + H * (1 - row)
    return box(x - w, y - s, x + W + e, y + H + n)


def code(comm: str, serial: int) -> str:
    return f"{comm}{serial:03d}"


def grids() -> gpd.GeoDataFrame:
    """The clean layer: 8 grids, codes in reading order, 300 households each."""
    rows = []
    for k, comm in enumerate((A, B)):
        for serial, (col, row) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)], start=1):
            rows.append({"grid_code": code(comm, serial), "grid_name": f"{comm[-3:]}第{serial}网格",
                         "community_code": comm, "households": 300.0,
                         "geometry": cell(2 * k + col, row)})
    return gpd.GeoDataFrame(rows, crs="EPSG:4547")


def add(layer: gpd.GeoDataFrame, *rows: dict) -> gpd.GeoDataFrame:
    """``layer`` with ``rows`` appended."""
    return pd.concat([layer, gpd.GeoDataFrame(list(rows), crs=layer.crs)], ignore_index=True)


def new_grid(comm: str, serial: int, geometry) -> dict:
    return {"grid_code": code(comm, serial), "grid_name": "x", "community_code": comm,
            "households": 300.0, "geometry": geometry}


def communities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"community_code": [A, B], "community_name": ["三眼井社区", "德源里社区"]},
        geometry=[box(X0, Y0, X0 + 2 * W, Y0 + 2 * H), box(X0 + 2 * W, Y0, X0 + 4 * W, Y0 + 2 * H)],
        crs="EPSG:4547",
    )


def reference() -> gpd.GeoDataFrame:
    return grids()[["grid_code", "grid_name", "community_code", "geometry"]].copy()

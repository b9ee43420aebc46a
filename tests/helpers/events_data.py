"""Three grids and nine work orders whose every metric is computed by hand (see :func:`events`)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import box

__all__ = ["A", "B", "C", "H", "T", "events", "layer"]

A, B, C = "440104001001001", "440104001001002", "440105001001001"
T = pd.Timestamp("2023-05-01 08:00")
H = pd.Timedelta(hours=1)


def layer():
    """A | B | C side by side, 0.01° squares; A and B in 越秀区, C in 海珠区. File order B, C, A."""
    return gpd.GeoDataFrame(
        {"grid_code": [B, C, A], "grid_name": ["乙", "丙", "甲"],
         "community_code": [B[:12], C[:12], A[:12]]},
        geometry=[box(113.01, 23.0, 113.02, 23.01), box(113.02, 23.0, 113.03, 23.01),
                  box(113.0, 23.0, 113.01, 23.01)], crs=4490)


def events():
    """Nine events; the comment says where each lands and what it counts for.

    e1 in A, dispatched to A after 1 h (correct, timely), closed in period, valid complaint
    e2 on the A|B edge → A (lowest code), dispatched to B after 3 h (wrong, late),
       closed after the period end
    e3 on the B|C edge → B, dispatched to B after exactly 2 h (correct, timely), closed
    e4 in C, never dispatched, never closed, valid complaint
    e5 outside every grid, dispatched after 1 h (timely; not in accuracy), closed
    e6 lon/lat missing → unlocatable, not dispatched
    e7 at 0,0 → unlocatable, dispatched after 2.5 h (late)
    e8 lat 95 → unlocatable
    e9 on the corner shared by nothing but C (outer corner) → C, dispatched to A (wrong)
    """
    return pd.DataFrame({
        "event_id": [f"e{i}" for i in range(1, 10)],
        "lon": [113.005, 113.01, 113.02, 113.025, 113.5, np.nan, 0.0, 113.0, 113.03],
        "lat": [23.005, 23.005, 23.002, 23.005, 23.005, np.nan, 0.0, 95.0, 23.01],
        "reported_at": [T] * 9,
        "assigned_grid_code": [A, B, B, None, A, None, B, None, A],
        "dispatched_at": [T + H, T + 3 * H, T + 2 * H, pd.NaT, T + H, pd.NaT, T + 2.5 * H,
                          pd.NaT, T + H],
        "closed_at": [T + 5 * H, pd.Timestamp("2024-01-01 00:00"), T + 9 * H, pd.NaT,
                      T + H, pd.NaT, pd.NaT, pd.NaT, pd.Timestamp("2023-12-31 23:59:59")],
        "valid_complaint": [True, False, False, True, False, False, False, False, False],
    })

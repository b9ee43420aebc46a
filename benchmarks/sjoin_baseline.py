"""The obvious alternative to ``gridkit events``: geopandas.sjoin, for the benchmark.

Reads the same grid layer and events file, builds points with
``geopandas.points_from_xy``, joins them with ``geopandas.sjoin(points, grids,
predicate="within")`` and counts events per grid. Printed as JSON on stdout:
``{"events": N, "located": N, "outside_or_unlocatable": N, "per_grid": {code: count}}``.

It is kept as lean as a fair comparison allows: only ``lon``/``lat`` are read
from the events (gridkit reads every column it needs for the metrics), the
points get the grid layer's CRS label (the events are WGS84; the synth's
grids are CGCS2000, the same to centimetres, as gridkit treats them), and no
output file is written. A point in two overlapping grids (a defect the synth
injects) is counted once, for the grid with the lowest code, as gridkit does.

Usage::

    python benchmarks/sjoin_baseline.py GRIDS.gpkg EVENTS.parquet > counts.json
"""

from __future__ import annotations

import json
import sys

import geopandas
import pandas as pd


def main(grids_path: str, events_path: str) -> dict:
    """Per-grid event counts by geopandas.sjoin (see the module docstring)."""
    grids = geopandas.read_file(grids_path, columns=["grid_code"])
    events = pd.read_parquet(events_path, columns=["lon", "lat"])
    points = geopandas.GeoDataFrame(
        geometry=geopandas.points_from_xy(events["lon"], events["lat"], crs=grids.crs))
    joined = geopandas.sjoin(points, grids, predicate="within")
    # One grid per event (overlapping grids): the lowest code, as gridkit decides.
    codes = joined["grid_code"].astype(str).sort_values(kind="stable")
    codes = codes[~codes.index.duplicated()]
    per_grid = codes.value_counts().sort_index()
    return {"events": len(events), "located": int(per_grid.sum()),
            "outside_or_unlocatable": len(events) - int(per_grid.sum()),
            "per_grid": {str(k): int(v) for k, v in per_grid.items()}}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("Usage::")[1].strip())
    json.dump(main(sys.argv[1], sys.argv[2]), sys.stdout)

"""The minimal alternative to ``gridkit validate``: GEOS's coverage check alone, for the benchmark.

Reads the grid layer with geopandas, reprojects it to the metric CRS
(EPSG:4547 unless given) and runs ``shapely.coverage_invalid_edges``: the one
check a script writer would reach for (edges that do not match their
neighbours: overlaps and gaps between touching grids). Prints JSON:
``{"grids": N, "grids_with_invalid_edges": N}``.

Usage::

    python benchmarks/coverage_baseline.py GRIDS.gpkg [EPSG] > result.json
"""

from __future__ import annotations

import json
import sys

import geopandas
import shapely


def main(grids_path: str, metric_crs: str = "EPSG:4547") -> dict:
    """Count the grids with invalid coverage edges (see the module docstring)."""
    grids = geopandas.read_file(grids_path).to_crs(metric_crs)
    edges = shapely.coverage_invalid_edges(grids.geometry.to_numpy())
    return {"grids": len(grids),
            "grids_with_invalid_edges": int((~shapely.is_empty(edges)).sum())}


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.split("Usage::")[1].strip())
    json.dump(main(*sys.argv[1:]), sys.stdout)

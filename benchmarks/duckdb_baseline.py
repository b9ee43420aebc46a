"""The second peer of ``gridkit events``: DuckDB's spatial join, for the benchmark.

Reads the same grid layer (``ST_Read``, GDAL inside DuckDB's ``spatial``
extension) and events file (``read_parquet``, ``lon``/``lat`` only), joins
``ST_Within(ST_Point(lon, lat), geom)`` (DuckDB plans it as its spatial join)
and counts events per grid. A point in two overlapping grids counts once, for
the lowest code, as gridkit decides. Printed as JSON on stdout, as
``sjoin_baseline.py`` does: ``{"events": N, "located": N,
"outside_or_unlocatable": N, "per_grid": {code: count}}``.

The extension is loaded from the ``duckdb-ext-spatial`` package (pip, no
network at run time) when it is installed, else with ``INSTALL spatial``.

Usage::

    python benchmarks/duckdb_baseline.py GRIDS.gpkg EVENTS.parquet > counts.json
"""

from __future__ import annotations

import glob
import json
import os
import sys

import duckdb


def load_spatial(con: duckdb.DuckDBPyConnection) -> None:
    """Load the spatial extension: the pip package's file, else DuckDB's own installer."""
    try:
        import duckdb_ext
    except ImportError:
        con.execute("INSTALL spatial")
        con.execute("LOAD spatial")
        return
    found = [p for root in duckdb_ext.__path__ for p in glob.glob(
        os.path.join(root, "extensions", f"v{duckdb.__version__}", "*",
                     "spatial.duckdb_extension"))]
    if not found:
        sys.exit(f"no spatial extension for DuckDB {duckdb.__version__} in duckdb-ext-spatial")
    con.execute(f"LOAD '{found[0]}'")


def main(grids_path: str, events_path: str) -> dict:
    """Per-grid event counts by DuckDB's spatial join (see the module docstring)."""
    con = duckdb.connect()
    load_spatial(con)
    con.execute("CREATE TABLE grids AS SELECT grid_code, geom FROM ST_Read(?)", [grids_path])
    total = con.execute("SELECT count(*) FROM read_parquet(?)", [events_path]).fetchone()[0]
    rows = con.execute(
        """
        WITH points AS (
            SELECT file_row_number AS id, ST_Point(lon, lat) AS pt
            FROM read_parquet(?, file_row_number = true)),
        hits AS (
            SELECT points.id, min(grids.grid_code) AS code
            FROM points JOIN grids ON ST_Within(points.pt, grids.geom)
            GROUP BY points.id)
        SELECT code, count(*) FROM hits GROUP BY code ORDER BY code
        """, [events_path]).fetchall()
    per_grid = {str(code): int(count) for code, count in rows}
    located = sum(per_grid.values())
    return {"events": int(total), "located": located,
            "outside_or_unlocatable": int(total) - located, "per_grid": per_grid}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("Usage::")[1].strip())
    json.dump(main(sys.argv[1], sys.argv[2]), sys.stdout)

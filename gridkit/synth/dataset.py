"""The data set on disk: :func:`synthesize` writes every file and ``truth.json``."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gridkit.codes import load_divisions
from gridkit.crs import convert_geometries
from gridkit.data import GUANGZHOU_CODES
from gridkit.errors import InputError
from gridkit.io.write import atomic_output
from gridkit.synth.city import build_city, select_districts
from gridkit.synth.common import (
    DISPATCH_SLA_HOURS,
    EVENT_ROW_GROUP,
    METRIC_CRS,
    OUTPUT_CRS,
    PERIOD_END,
)
from gridkit.synth.defects import DEFECT_NOTES, inject_defects
from gridkit.synth.events import EDGE_MARGIN_M, plan_events, write_events
from gridkit.synth.rosters import build_rosters, roster_metrics

__all__ = ["FILES", "OFFSET_FILE", "synthesize", "write_layer"]

FILES = (
    "grids.gpkg", "communities.gpkg", "reference.gpkg", "filings.csv", "party.csv",
    "cadres.csv", "workers.csv", "events.parquet", "truth.json",
)
OFFSET_FILE = "grids-gcj02.gpkg"
_GPKG_DATE = "2024-01-01T00:00:00Z"  # gpkg_contents.last_change: byte-identical output


_GRID_COLUMNS = ["grid_code", "grid_name", "community_code", "street_code", "district_code",
                 "grid_type", "households", "population", "geometry"]
_COMMUNITY_COLUMNS = ["community_code", "community_name", "street_code", "district_code",
                      "geometry"]
_REFERENCE_COLUMNS = ["grid_code", "grid_name", "community_code", "geometry"]


def write_layer(gdf: gpd.GeoDataFrame, path: str | os.PathLike, layer: str) -> None:
    """Write a GeoPackage layer byte-reproducibly (fixed ``last_change`` date).

    Geometry types are kept as they are: a layer mixing polygons and
    multipolygons is written with the generic geometry type.
    """
    types = set(gdf.geom_type.dropna())
    options = {} if len(types) <= 1 else {"promote_to_multi": False, "geometry_type": "Unknown"}
    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _GPKG_DATE})
    try:
        gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio", **options)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def _check_out_dir(out: Path, force: bool) -> bool:
    """Refuse a non-empty folder without ``force``; True when ``out`` is to be replaced."""
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise InputError("output exists and is not a folder", path=out)
        if any(out.iterdir()) and not force:
            raise InputError("output folder is not empty", path=out,
                             hint="use {option} to replace it", option=("force", True))
        return True
    if not out.parent.exists():
        raise InputError("output folder does not exist", path=out.parent)
    return False


def _keep_other_files(old: Path, new: Path) -> None:
    """Copy into ``new`` what ``old`` holds besides synth's own files (a README, a project
    file): ``--force`` replaces the data set, not the user's notes beside it."""
    for entry in old.iterdir():
        target = new / entry.name
        if target.exists():
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, target, symlinks=True)
        else:
            shutil.copy2(entry, target, follow_symlinks=False)


def _check_sizes(grids: int, events: int, seed: int) -> None:
    for name, value, low in (("grids", grids, 1), ("events", events, 0), ("seed", seed, 0)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise InputError(f"{value!r} is not an integer ≥ {low}", hint="give another {option}",
                             option=(name, None))


def _write_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    for key, table in tables.items():
        table.to_csv(folder / f"{key}.csv", index=False, encoding="utf-8", lineterminator="\n")


def _clean_stats(grids: gpd.GeoDataFrame) -> dict[str, float]:
    """Shape statistics of a clean layer: validators' thresholds must not flag them."""
    area = shapely.area(np.asarray(grids.geometry.values))
    perimeter = shapely.length(np.asarray(grids.geometry.values))
    return {
        "min_area_m2": round(float(area.min()), 1),
        "max_area_m2": round(float(area.max()), 1),
        "min_thinness": round(float((4 * np.pi * area / perimeter**2).min()), 4),
        "min_mean_width_m": round(float((2 * area / perimeter).min()), 2),
        "min_households": int(grids["households"].min()),
        "max_households": int(grids["households"].max()),
    }


class _Steps:
    """A progress bar over the generation steps (only when ``enabled``)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="synth", unit="step", file=sys.stderr)

    def __call__(self, label: str | None = None) -> None:
        if self.bar is not None:
            if label:
                self.bar.set_description(label)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def synthesize(out_dir: str | os.PathLike, *, grids: int = 2000, events: int = 20000,
               seed: int = 0, defects: bool = False, districts: Sequence[str] | None = None,
               force: bool = False, progress: bool = False) -> dict:
    """Write a synthetic data set to the folder ``out_dir`` and return its truth.

    The folder is built next to ``out_dir`` and moved into place at the end;
    an existing non-empty folder is replaced only with ``force``.

    Parameters
    ----------
    out_dir : output folder (its parent must exist).
    grids : number of grids (before defects).
    events : number of work orders.
    seed : random seed; the same arguments give byte-identical files.
    defects : inject defects of every validation rule (and write ``grids-gcj02.gpkg``).
    districts : 6-digit district codes (default: all 11).
    force : replace a non-empty ``out_dir``.
    progress : show a progress bar on stderr.

    Returns
    -------
    The content of ``truth.json``.

    Examples
    --------
    >>> import tempfile
    >>> truth = synthesize(tempfile.mkdtemp(), grids=300, events=5000, seed=7,
    ...                    districts=["440104"], defects=True, force=True)
    >>> truth["metrics"]["events"]
    5000
    """
    _check_sizes(grids, events, seed)
    out = Path(out_dir)
    replace = _check_out_dir(out, force)
    divisions = load_divisions(GUANGZHOU_CODES)
    codes = select_districts(districts, divisions)
    steps = _Steps(7 + -(-events // EVENT_ROW_GROUP), progress)
    try:
        with atomic_output(out, force=replace) as tmp:
            tmp.mkdir()
            truth = _generate(tmp, grids=grids, events=events, seed=seed, defects=defects,
                              districts=codes, divisions=divisions, step=steps)
            if replace:
                _keep_other_files(out, tmp)
    finally:
        steps.close()
    return truth


def _generate(folder: Path, *, grids: int, events: int, seed: int, defects: bool,
              districts: list[str], divisions: pd.DataFrame, step: _Steps) -> dict:
    """Generate every file into ``folder``; return the truth."""
    step("city")
    city = build_city(grids, seed=seed, districts=districts, divisions=divisions)
    step("defects")
    if defects:
        bad = inject_defects(city, seed)
        layer, reference, defect_list = bad.grids, bad.reference, bad.defects
    else:
        layer, reference, defect_list = city.grids, city.grids[_REFERENCE_COLUMNS], []
    step("rosters")
    tables, issues = build_rosters(layer, divisions, seed)
    step("layers")
    write_layer(layer[_GRID_COLUMNS].to_crs(OUTPUT_CRS), folder / "grids.gpkg", "grids")
    write_layer(city.communities[_COMMUNITY_COLUMNS].to_crs(OUTPUT_CRS),
                folder / "communities.gpkg", "communities")
    write_layer(reference[_REFERENCE_COLUMNS].to_crs(OUTPUT_CRS), folder / "reference.gpkg",
                "reference")
    if defects:
        shifted = layer[_GRID_COLUMNS].to_crs(OUTPUT_CRS)
        shifted = shifted.set_geometry(convert_geometries(shifted.geometry, "wgs84", "gcj02"))
        write_layer(shifted, folder / OFFSET_FILE, "grids")
        defect_list.append({"rule": "layer_offset", "file": OFFSET_FILE, "crs": "gcj02",
                            "grid_codes": [], "also": [], "note": DEFECT_NOTES["layer_offset"]})
    _write_tables(folder, tables)
    step("events")
    touched = {c for d in defect_list for c in d["grid_codes"]}
    covered = shapely.union_all(np.asarray(city.districts.geometry.values))
    event_metrics = write_events(folder / "events.parquet", plan_events(layer, covered, touched),
                                 events, seed, tick=lambda: step("events"))
    truth = {
        "seed": seed, "grids": grids, "events": events, "districts": districts,
        "parameters": {
            "dispatch_sla_hours": DISPATCH_SLA_HOURS, "period_end": PERIOD_END,
            "metric_crs": METRIC_CRS, "grid_count": "rows of grids.gpkg",
            # A label kept as written in earlier truth files (gridkit.codes has it now).
            "serial_order": "gridkit.synth.serial_order",
            "event_edge_margin_m": EDGE_MARGIN_M,
            "clean_grids": _clean_stats(city.grids),
        },
        "defects": defect_list,
        "rosters": issues,
        "metrics": {**roster_metrics(layer, tables), **event_metrics},
    }
    (folder / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n",
                                       encoding="utf-8")
    step("done")
    return truth

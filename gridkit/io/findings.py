"""The findings file of ``gridkit validate``: written and read in one place.

Two forms carry the same findings, both in EPSG:4490 (CGCS2000 lon/lat):

- the JSON of ``gridkit validate --format json`` (SPEC §7): ``findings``, a
  list of objects with ``rule``, ``severity``, ``grid_codes``, ``area_m2``,
  ``message`` and the geometry as ``wkt``;
- the GeoPackage of ``gridkit validate --out findings.gpkg``
  (:func:`write_findings`): one layer per rule, grid codes joined with ``;``,
  and a ``summary`` table.

:func:`read_findings` reads either (``gridkit map findings --findings``).
"""

from __future__ import annotations

__all__ = ["FINDINGS_CRS", "findings_frame", "read_findings", "write_findings"]

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gridkit.crs import NAMED_CRS
from gridkit.errors import InputError
from gridkit.io.write import atomic_output

#: CRS of the findings in both files (CGCS2000 geographic: lon/lat as in QGIS).
FINDINGS_CRS = NAMED_CRS["cgcs2000"]


def write_findings(findings: gpd.GeoDataFrame, path: str | os.PathLike, *,
                   rules: Iterable[str], by_rule: Mapping[str, int],
                   skipped: Mapping[str, str], force: bool = False) -> None:
    """Write findings to a GeoPackage that opens in QGIS (EPSG:4490).

    One layer per rule with findings (columns ``rule``, ``severity``,
    ``grid_codes`` joined with ``;``, ``area_m2``, ``message``, the extra
    keys the rule uses), and a ``summary`` table of every rule that ran
    (``by_rule``: its number of findings) or was skipped (``skipped``: why).
    Written atomically (:func:`gridkit.io.write.atomic_output`).
    """
    summary = pd.DataFrame(
        [{"rule": r, "findings": n, "skipped": ""} for r, n in by_rule.items()]
        + [{"rule": r, "findings": 0, "skipped": why} for r, why in skipped.items()]
    )
    frame = findings.to_crs(FINDINGS_CRS)
    frame["grid_codes"] = frame["grid_codes"].map(";".join)
    with atomic_output(path, force=force) as tmp:
        pyogrio.write_dataframe(summary, tmp, layer="summary", driver="GPKG")
        for rule in rules:
            layer = frame[frame["rule"] == rule]
            if layer.empty:
                continue
            # Drop the unused extra columns, never the geometry: a rule whose findings
            # have none (empty_geometry) is still a spatial layer with the CRS.
            unused = [c for c in layer.columns
                      if c != "geometry" and layer[c].isna().all()]
            layer.drop(columns=unused).to_file(tmp, layer=rule, driver="GPKG",
                                               promote_to_multi=True)


def findings_frame(findings: gpd.GeoDataFrame | Mapping[str, Any]) -> gpd.GeoDataFrame:
    """Validation findings as a GeoDataFrame, from ``ValidationResult.findings`` or its JSON.

    The JSON form (SPEC §7, ``gridkit validate --format json``) carries each
    finding's geometry as ``wkt`` in EPSG:4490.

    Examples
    --------
    >>> f = findings_frame({"findings": [{"rule": "gap", "severity": "error",
    ...     "grid_codes": [], "area_m2": 3.0, "message": "m", "wkt": "POINT (113.3 23.1)"}]})
    >>> f.rule.tolist(), f.crs.to_epsg()
    (['gap'], 4490)
    """
    if isinstance(findings, gpd.GeoDataFrame):
        return findings
    rows = findings.get("findings", []) if isinstance(findings, Mapping) else None
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        raise InputError("not the JSON of gridkit validate: 'findings' must be a list of "
                         "objects")
    table = pd.DataFrame(rows, columns=["rule", "severity", "grid_codes", "area_m2", "message",
                                        "wkt"])
    wkt = np.array([w if isinstance(w, str) else None for w in table["wkt"]], dtype=object)
    geometry = shapely.from_wkt(wkt, on_invalid="ignore")
    return gpd.GeoDataFrame(table.drop(columns="wkt"), geometry=geometry, crs=FINDINGS_CRS)


def read_findings(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Read the findings written by ``gridkit validate``: its JSON, or its GeoPackage.

    The GeoPackage (``--out findings.gpkg``) has one layer per rule, grid codes
    joined with ``;``; its ``summary`` table is skipped.

    Raises
    ------
    InputError
        The file is missing or is neither form.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("findings file not found", path=path)
    if path.suffix.lower() == ".json":
        try:
            return findings_frame(json.loads(path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"not the JSON of gridkit validate: {exc}", path=path) from None
        except InputError as exc:
            raise InputError(exc.message, path=path) from None
    try:
        layers = [name for name, _ in pyogrio.list_layers(path) if name != "summary"]
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(f"not a findings GeoPackage or JSON: {exc}", path=path) from None
    frames = []
    for name in layers:
        frame = pyogrio.read_dataframe(path, layer=name)
        if not isinstance(frame, gpd.GeoDataFrame):  # a rule whose findings have no place
            frame = gpd.GeoDataFrame(frame, geometry=[None] * len(frame), crs=FINDINGS_CRS)
        frames.append(frame.to_crs(FINDINGS_CRS))
    if not frames:
        return findings_frame({"findings": []})
    found = pd.concat(frames, ignore_index=True)
    missing = [c for c in ("rule", "severity", "message") if c not in found.columns]
    if missing:
        raise InputError(f"not a findings layer: no column {missing[0]!r}", path=path)
    found["grid_codes"] = [[] if not isinstance(c, str) or not c else c.split(";")
                           for c in found.get("grid_codes", pd.Series([None] * len(found)))]
    return gpd.GeoDataFrame(found, geometry="geometry", crs=FINDINGS_CRS)

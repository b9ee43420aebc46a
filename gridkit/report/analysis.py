"""What a report shows: the project's inputs analysed with the library, and its maps."""

from __future__ import annotations

__all__ = ["TABLE_LEVELS", "Analysis", "analyse", "project_maps"]

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from gridkit.coverage import ROSTERS, CoverageResult, compute_coverage
from gridkit.divisions import load_divisions
from gridkit.events import EVENT_COLUMNS, EventsResult, accumulate, prepare_events, summarise
from gridkit.io import read_events_chunks, read_layer, read_table
from gridkit.maps import (
    GridMap,
    coverage_map,
    events_map,
    findings_map,
    grids_map,
    names_lookup,
    simplify_grids,
)
from gridkit.metrics import mapped_metrics
from gridkit.report.project import Project
from gridkit.scoring import ScoreResult, load_config, score
from gridkit.validate import ValidationResult, validate
from gridkit.validate import load_config as load_rules

#: Report levels of the coverage and work-order tables.
TABLE_LEVELS = ("district", "street")


@dataclass
class Analysis:
    """Everything the report shows, computed by :func:`analyse`."""

    project: Project
    grids: gpd.GeoDataFrame
    names: dict[str, str]
    records: dict[str, int]
    validation: ValidationResult | None
    coverage: dict[str, CoverageResult]
    events: dict[str, EventsResult] = field(default_factory=dict)
    event_points: pd.DataFrame | None = None
    score: ScoreResult | None = None


def analyse(project: Project, lang: str = "zh") -> Analysis:
    """Load the project's inputs and run validation, coverage, work orders and scoring.

    Coverage and work orders are rolled up per grid (for the maps) and per
    :data:`TABLE_LEVELS` (for the tables); the events are joined once. The
    scoring config is fed with the whole-city metrics of both.
    """
    inputs = project.inputs
    divisions = load_divisions(inputs.get("codes"))
    grids = read_layer(inputs["grids"], "grids", crs=project.crs)
    layers = {k: read_layer(inputs[k], k) for k in ("communities", "reference") if k in inputs}
    tables = {k: read_table(inputs[k], k) for k in ROSTERS if k in inputs}
    records = {"grids": len(grids), **{k: len(v) for k, v in (layers | tables).items()},
               "codes": len(divisions)}
    names = names_lookup(divisions, layers.get("communities"))
    validation = validate(grids, layers.get("communities"), layers.get("reference"),
                          divisions if "codes" in inputs else None,
                          load_rules(inputs.get("validation")), lang,
                          metric_crs=project.metric_crs)
    rosters = {k: tables[k] for k in ROSTERS if k in tables}
    coverage = {level: compute_coverage(grids, **rosters, by=level, names=names, lang=lang)
                for level in ("grid", *TABLE_LEVELS)}
    analysis = Analysis(project=project, grids=grids, names=names, records=records,
                        validation=validation, coverage=coverage)
    if "events" in inputs:
        analysis.events, analysis.event_points = _work_orders(project, grids, names, lang)
        records["events"] = len(analysis.event_points)
    if "evaluation" in inputs:
        config = load_config(inputs["evaluation"])
        records["evaluation"] = len(config.indicators)
        metrics = dict(coverage["district"].metrics)
        if analysis.events:
            metrics.update(analysis.events["district"].metrics)
        analysis.score = score(config, metrics)
    return analysis


def _work_orders(project: Project, grids: gpd.GeoDataFrame, names: dict[str, str],
                 lang: str) -> tuple[dict[str, EventsResult], pd.DataFrame]:
    """The work orders joined chunk by chunk, as ``gridkit events`` does, and their points.

    The events file is never loaded whole: each chunk (Parquet batch, CSV
    chunk) is joined and counted, and only its coordinates are kept, for the
    heat map (16 bytes an event).
    """
    path = project.inputs["events"]
    prepared, params, _ = prepare_events(grids, path, crs=project.events_crs,
                                         sla_hours=project.dispatch_sla,
                                         period_end=project.period_end)
    points: list[np.ndarray] = []

    def keep_points(chunks: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for chunk in chunks:
            points.append(np.column_stack([pd.to_numeric(chunk[c], errors="coerce")
                                           .to_numpy(dtype=float) for c in ("lon", "lat")]))
            yield chunk

    total = accumulate(keep_points(read_events_chunks(path, select=EVENT_COLUMNS)),
                       prepared, params)
    results = {level: summarise(total, prepared, params, by=level, names=names, lang=lang,
                                path=str(path))
               for level in ("grid", *TABLE_LEVELS)}
    lonlat = np.concatenate(points) if points else np.empty((0, 2))
    return results, pd.DataFrame({"lon": lonlat[:, 0], "lat": lonlat[:, 1]})


def project_maps(analysis: Analysis, lang: str = "zh") -> dict[str, GridMap]:
    """The report's maps: grids, validation findings, coverage and work orders.

    The grids are simplified once (:func:`~gridkit.maps.simplify_grids`, the
    costliest step) and the simplified layer is shared by the four maps.
    """
    project = analysis.project
    simplified = simplify_grids(analysis.grids, project.tolerance_m, project.metric_crs)
    common = {"names": analysis.names, "tolerance_m": project.tolerance_m,
              "metric_crs": project.metric_crs, "lang": lang, "simplified": simplified}
    maps = {"grids": grids_map(analysis.grids, **common)}
    if analysis.validation is not None:
        maps["findings"] = findings_map(analysis.grids, analysis.validation.findings, **common)
    rows = analysis.coverage["grid"].rows
    if any(m in rows and rows[m].notna().any() for m in mapped_metrics("coverage")):
        maps["coverage"] = coverage_map(analysis.grids, rows, level="grid", **common)
    if analysis.events:
        maps["events"] = events_map(analysis.grids, analysis.events["grid"].rows,
                                    points=analysis.event_points,
                                    points_crs=project.events_crs, **common)
    return maps

"""What a report shows: the project's inputs analysed with the library, and its maps."""

from __future__ import annotations

__all__ = ["TABLE_LEVELS", "Analysis", "analyse", "project_maps"]

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from gridkit.coverage import ROSTERS, CoverageResult, compute_coverage
from gridkit.divisions import load_divisions
from gridkit.events import (
    EventGrids,
    EventParams,
    EventsResult,
    accumulate,
    resolve_period_end,
    summarise,
)
from gridkit.io import read_layer, read_table
from gridkit.maps import GridMap, coverage_map, events_map, findings_map, grids_map, names_lookup
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
    tables = {k: read_table(inputs[k], k) for k in (*ROSTERS, "events") if k in inputs}
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
    if "events" in tables:
        orders = tables["events"]
        prepared = EventGrids(grids, project.events_crs)
        params = EventParams(prepared.crs, project.dispatch_sla,
                             resolve_period_end(project.period_end, orders["reported_at"].max(),
                                                path=inputs["events"]))
        total = accumulate([orders], prepared, params)
        analysis.events = {level: summarise(total, prepared, params, by=level, names=names,
                                            lang=lang, path=str(inputs["events"]))
                           for level in ("grid", *TABLE_LEVELS)}
        analysis.event_points = orders[["lon", "lat"]]
    if "evaluation" in inputs:
        config = load_config(inputs["evaluation"])
        records["evaluation"] = len(config.indicators)
        metrics = dict(coverage["district"].metrics)
        if analysis.events:
            metrics.update(analysis.events["district"].metrics)
        analysis.score = score(config, metrics)
    return analysis


def project_maps(analysis: Analysis, lang: str = "zh") -> dict[str, GridMap]:
    """The report's maps: grids, validation findings, coverage and work orders."""
    project = analysis.project
    common = {"names": analysis.names, "tolerance_m": project.tolerance_m,
              "metric_crs": project.metric_crs, "lang": lang}
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

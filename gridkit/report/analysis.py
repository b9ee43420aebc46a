"""What a report shows: the project's inputs analysed with the library, and its maps."""

from __future__ import annotations

__all__ = ["TABLE_LEVELS", "Analysis", "analyse", "project_maps"]

from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from gridkit.codes import load_divisions, select_divisions
from gridkit.coverage import ROSTERS, CoverageResult, compute_coverage
from gridkit.diff import DiffResult, diff, refile_list
from gridkit.errors import InputError
from gridkit.events import EventParams, EventsResult, join_events
from gridkit.io import read_layer, read_table
from gridkit.maps import (
    GridMap,
    HeatBins,
    MapPages,
    coverage_map,
    diff_map,
    events_map,
    findings_map,
    grids_map,
    names_lookup,
    pages,
    simplify_grids,
)
from gridkit.metrics import mapped_metrics
from gridkit.report.project import Project
from gridkit.rollup import layer_codes
from gridkit.scoring import ScoreResult, load_evaluation, score
from gridkit.validate import RuleConfig, ValidationResult, load_rules, validate

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
    event_heat: HeatBins | None = None
    score: ScoreResult | None = None
    diff: DiffResult | None = None


def analyse(project: Project, lang: str = "zh") -> Analysis:
    """Load the project's inputs and run validation, coverage, work orders, scoring and,
    when the project names ``previous_grids``, the diff against last year's layer.

    Coverage and work orders are rolled up per grid (for the maps) and per
    :data:`TABLE_LEVELS` (for the tables); the events are joined once. The
    scoring config is fed with the whole-city metrics of both.
    """
    inputs = project.inputs
    # a code list given is checked and used whole by the validation; names are needed only
    # for the layer's units (the national list has 665,276 codes)
    divisions = load_divisions(inputs["codes"]) if "codes" in inputs else None
    grids = read_layer(inputs["grids"], "grids", crs=project.crs)
    layers = {k: read_layer(inputs[k], k) for k in ("communities", "reference") if k in inputs}
    tables = {k: read_table(inputs[k], k) for k in ROSTERS if k in inputs}
    records = {"grids": len(grids), **{k: len(v) for k, v in (layers | tables).items()}}
    if divisions is not None:
        records["codes"] = len(divisions)
    # a diff also names last year's units, which may have left the layer: every name then
    units = None if "previous_grids" in inputs else layer_codes(grids)
    if divisions is None:
        named = load_divisions(within=units)
    else:
        named = divisions if units is None else select_divisions(divisions, units)
    names = names_lookup(named, layers.get("communities"))
    rules = load_rules(inputs.get("validation"))
    validation = validate(grids, layers.get("communities"), layers.get("reference"),
                          divisions, rules, lang, metric_crs=project.metric_crs)
    del divisions  # not kept while the work orders are joined
    rosters = {k: tables[k] for k in ROSTERS if k in tables}
    per_grid = compute_coverage(grids, **rosters, by="grid", names=names, lang=lang)
    coverage = {level: per_grid.rolled_up(level) for level in ("grid", *TABLE_LEVELS)}
    analysis = Analysis(project=project, grids=grids, names=names, records=records,
                        validation=validation, coverage=coverage)
    if "events" in inputs:
        analysis.events, analysis.event_heat = _work_orders(project, grids, names, lang)
        records["events"] = analysis.events["grid"].metrics["events"]
    if "evaluation" in inputs:
        config = load_evaluation(inputs["evaluation"])
        records["evaluation"] = len(config.indicators)
        metrics = dict(coverage["district"].metrics)
        if analysis.events:
            metrics.update(analysis.events["district"].metrics)
        analysis.score = score(config, metrics)
    if "previous_grids" in inputs:
        analysis.diff = _grid_changes(project, grids, rules, tables.get("filings"))
        records["previous_grids"] = analysis.diff.old
    return analysis


def _work_orders(project: Project, grids: gpd.GeoDataFrame, names: dict[str, str],
                 lang: str) -> tuple[dict[str, EventsResult], HeatBins]:
    """The work orders joined chunk by chunk (:func:`gridkit.events.join_events`, as
    ``gridkit events`` does), rolled up per grid and per :data:`TABLE_LEVELS`, and
    binned for the heat map.

    The events file is never loaded whole: each chunk is joined and counted,
    and its coordinates are binned (:class:`~gridkit.maps.HeatBins`) and dropped.
    """
    heat = HeatBins(project.events_crs, metric_crs=project.metric_crs)
    params = EventParams(crs=project.events_crs, dispatch_sla_hours=project.dispatch_sla,
                         period_end=project.period_end, by="grid")
    joined = join_events(grids, project.inputs["events"], params, names=names,
                         each_chunk=lambda chunk: heat.add(chunk["lon"], chunk["lat"])
                         ).in_language(lang)
    return {level: joined.rolled_up(level) for level in ("grid", *TABLE_LEVELS)}, heat


def _grid_changes(project: Project, grids: gpd.GeoDataFrame, rules: RuleConfig,
                  filings: pd.DataFrame | None) -> DiffResult:
    """The diff from the project's ``previous_grids`` to ``grids``, with the re-filing list
    when the filings and ``changed_on`` are known; a bad layer is refused naming the key."""
    path = project.inputs["previous_grids"]
    try:
        previous = read_layer(path, "grids", crs=project.crs)
        result = diff(previous, grids, rules, metric_crs=project.metric_crs)
    except InputError as exc:
        raise InputError(f"previous_grids: {exc.message}", path=exc.path or path,
                         column=exc.column, row=exc.row) from None
    if filings is not None and project.changed_on is not None:
        result.refile = refile_list(result, filings, project.changed_on)
    return result


def project_maps(analysis: Analysis, lang: str = "zh", *,
                 pages_folder: str | None = None,
                 overview_href: str | None = None) -> dict[str, GridMap | MapPages]:
    """The report's maps: grids, validation findings, coverage, work orders, grid changes.

    The grids are simplified once (:func:`~gridkit.maps.simplify_grids`, the
    costliest step) and the simplified layer is shared by the maps of the layer.
    A layer of more than :data:`~gridkit.maps.pages.MAX_GRIDS_PER_PAGE` grids
    is too large for one browser page: its grids, coverage and work-order maps
    are then overviews of communities, each with one grid-level page per
    district (:class:`~gridkit.maps.pages.MapPages`) in
    ``pages_folder/<kind>/`` (relative to the report; ``overview_href`` is the
    report as seen from a page); without ``pages_folder`` only the overviews.
    """
    project = analysis.project
    grids = analysis.grids
    simplified = simplify_grids(grids, project.tolerance_m, project.metric_crs)
    options = {"names": analysis.names, "tolerance_m": project.tolerance_m,
               "metric_crs": project.metric_crs, "lang": lang}
    common = {**options, "simplified": simplified}
    split = len(grids) > pages.MAX_GRIDS_PER_PAGE
    overview = {**options, "level": "community",
                "unit_tolerance_m": pages.OVERVIEW_TOLERANCE_FACTOR * project.tolerance_m}

    def drawn(kind: str, whole: Callable[..., GridMap],
              part: Callable[..., GridMap]) -> GridMap | MapPages:
        """The grid-level map, or, for a large layer, the overview and district pages."""
        if not split:
            return part(grids, simplified)
        if pages_folder is None:
            return whole(simplified)
        return pages.paged_map(grids, simplified, f"{pages_folder}/{kind}",
                               lambda: whole(simplified), part, names=analysis.names,
                               lang=lang, overview_href=overview_href)

    maps: dict[str, GridMap | MapPages] = {"grids": drawn(
        "grids", lambda d: grids_map(grids, simplified=d, **overview),
        lambda g, d: grids_map(g, simplified=d, **options))}
    if analysis.validation is not None:
        maps["findings"] = findings_map(grids, analysis.validation.findings, **common)
    coverage = analysis.coverage["grid"]
    rows = coverage.rows
    if any(m in rows and rows[m].notna().any() for m in mapped_metrics("coverage")):
        maps["coverage"] = drawn(
            "coverage",
            lambda d: coverage_map(grids, coverage.rolled_up("community").rows,
                                   simplified=d, **overview),
            lambda g, d: coverage_map(g, rows, level="grid", simplified=d, **options))
    if analysis.events:
        work = analysis.events["grid"]
        maps["events"] = drawn(
            "events",
            lambda d: events_map(grids, work.rolled_up("community").rows,
                                 heat=analysis.event_heat, simplified=d, **overview),
            lambda g, d: events_map(g, work.rows, heat=None if split else analysis.event_heat,
                                    simplified=d, **options))
    if analysis.diff is not None:
        maps["diff"] = diff_map(analysis.diff.changes, names=analysis.names,
                                tolerance_m=project.tolerance_m,
                                metric_crs=project.metric_crs, lang=lang)
    return maps

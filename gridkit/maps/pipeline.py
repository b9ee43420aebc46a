"""From input files to a map: what ``gridkit map KIND`` computes before drawing.

Each function reads the files a kind of map needs, runs the library
(validation, coverage, the work-order join) when no earlier output is given,
and returns the :class:`~gridkit.maps.model.GridMap` of the builder. Errors
are :class:`~gridkit.errors.InputError` naming the file.

Examples
--------
>>> from gridkit.data import SAMPLE_DIR
>>> grids, _, names = read_map_grids(SAMPLE_DIR / "grids.gpkg")
>>> gmap = coverage_map_from_files(grids, MapSettings(names),
...                                rosters={"party": SAMPLE_DIR / "party.csv"}, by="street")
>>> gmap.kind
'coverage'
"""

from __future__ import annotations

__all__ = [
    "MapSettings",
    "coverage_map_from_files",
    "grids_map_from_files",
    "one_or_paged",
    "diff_map_from_files",
    "events_map_from_files",
    "findings_map_from_files",
    "read_map_grids",
]

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from gridkit.codes import load_divisions
from gridkit.coverage import ROSTERS, compute_coverage
from gridkit.crs import DEFAULT_METRIC_CRS
from gridkit.diff import diff
from gridkit.errors import InputError
from gridkit.events import DEFAULT_SLA_HOURS, EventParams, join_events
from gridkit.io import read_layer, read_table
from gridkit.io.findings import read_findings
from gridkit.maps.builders import (
    coverage_map,
    diff_map,
    events_map,
    findings_map,
    grids_map,
    names_lookup,
    simplify_grids,
    unit_rows,
)
from gridkit.maps.heat import HeatBins
from gridkit.maps.model import DEFAULT_TOLERANCE_M, GridMap
from gridkit.maps.pages import OVERVIEW_TOLERANCE_FACTOR, MapPages, paged_map, roll_up_rows
from gridkit.rollup import layer_codes
from gridkit.validate import load_rules, validate

PathLike = str | os.PathLike


@dataclass(frozen=True)
class MapSettings:
    """What every kind of map shares: unit names, simplification, metric CRS, language.

    ``max_grids_per_page``: a grids, coverage or events map of more grids is
    an overview of communities and one page per district
    (:mod:`gridkit.maps.pages`), in the folder ``pages_folder`` next to it
    (relative to the overview's folder); ``None``: always one page.
    ``overview_href``: the overview as seen from a district page (a report
    that embeds the overview: ``../../report.html``); default
    ``../<pages_folder>.html``.
    """

    names: Mapping[str, str] = field(default_factory=dict)
    tolerance_m: float = DEFAULT_TOLERANCE_M
    metric_crs: str = DEFAULT_METRIC_CRS
    lang: str = "zh"
    max_grids_per_page: int | None = None
    pages_folder: str = "map"
    overview_href: str | None = None

    def overview_options(self) -> dict[str, Any]:
        """:meth:`builder_options` of an overview: communities, simplified more."""
        return {**self.builder_options(), "level": "community",
                "unit_tolerance_m": OVERVIEW_TOLERANCE_FACTOR * self.tolerance_m}

    def builder_options(self) -> dict[str, Any]:
        """Keyword arguments of the builders (:func:`~gridkit.maps.builders.grids_map` ...)."""
        return {"names": self.names, "tolerance_m": self.tolerance_m,
                "metric_crs": self.metric_crs, "lang": self.lang}


def one_or_paged(grids: gpd.GeoDataFrame, settings: MapSettings,
                  overview: Callable[[gpd.GeoDataFrame], GridMap],
                  page: Callable[[gpd.GeoDataFrame, gpd.GeoDataFrame], GridMap],
                  ) -> GridMap | MapPages:
    """One grid-level map, or an overview and district pages above ``max_grids_per_page``.

    ``overview(simplified)`` builds the community-level map (with
    :meth:`MapSettings.overview_options`), ``page(grids, simplified)`` the
    grid-level map of some grids; the layer is simplified once. A report
    calls it for each of its maps and writes the district pages with
    :func:`~gridkit.maps.pages.write_district_pages`.
    """
    simplified = simplify_grids(grids, settings.tolerance_m, settings.metric_crs)
    limit = settings.max_grids_per_page
    if limit is None or len(simplified) <= limit:
        return page(grids, simplified)
    return paged_map(grids, simplified, settings.pages_folder, lambda: overview(simplified),
                     page, names=settings.names, lang=settings.lang,
                     overview_href=settings.overview_href)


def grids_map_from_files(grids: gpd.GeoDataFrame, settings: MapSettings) -> GridMap | MapPages:
    """The grid layer coloured by district (communities and district pages when it is large)."""
    options = settings.builder_options()
    return one_or_paged(
        grids, settings,
        lambda drawn: grids_map(grids, simplified=drawn, **settings.overview_options()),
        lambda part, drawn: grids_map(part, simplified=drawn, **options))


def read_map_grids(path: PathLike, *, columns: Mapping[str, str] | None = None,
                   crs: str | None = None, communities: PathLike | None = None,
                   codes: PathLike | None = None, every_name: bool = False,
                   ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, dict[str, str]]:
    """The grid layer, the communities layer (if given) and the unit names of a map.

    Names come from the code list ``codes`` (default: the shipped one), those
    of the layer's units only unless ``every_name`` (a diff map also names the
    units of a second layer), overridden by the communities' ``community_name``.
    """
    layer = read_layer(path, "grids", columns=columns, crs=crs)
    communities_layer = read_layer(communities, "communities") if communities else None
    within = None if every_name else layer_codes(layer)
    return layer, communities_layer, names_lookup(load_divisions(codes, within=within),
                                                  communities_layer)


def findings_map_from_files(grids: gpd.GeoDataFrame, settings: MapSettings, *,
                            findings: PathLike | None = None,
                            communities: gpd.GeoDataFrame | None = None,
                            reference: PathLike | None = None, codes: PathLike | None = None,
                            rules: PathLike | None = None) -> GridMap:
    """Validation findings over the grids: read from ``findings`` or found by validating here.

    Parameters
    ----------
    findings : JSON or GeoPackage written by ``gridkit validate``; when
        ``None``, the grids are validated (against ``communities``,
        ``reference``, the code list ``codes``, with the rules file ``rules``).
    """
    if findings is not None:
        found = read_findings(findings)
    else:
        reference_layer = read_layer(reference, "reference") if reference else None
        divisions = load_divisions(codes) if codes else None
        found = validate(grids, communities, reference_layer, divisions, load_rules(rules),
                         settings.lang, metric_crs=settings.metric_crs).findings
    return findings_map(grids, found, **settings.builder_options())


def _read_coverage_json(path: PathLike) -> dict:
    """The JSON of ``gridkit coverage --format json``, refused with the file named."""
    try:
        coverage = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("coverage file not found", path=path) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not the JSON of gridkit coverage: {exc}", path=path) from None
    if not isinstance(coverage, dict):
        raise InputError("not the JSON of gridkit coverage: not an object", path=path)
    return coverage


def coverage_map_from_files(grids: gpd.GeoDataFrame, settings: MapSettings, *,
                            coverage: PathLike | None = None,
                            rosters: Mapping[str, PathLike | None] | None = None,
                            metrics: Sequence[str] | None = None,
                            by: str | None = None) -> GridMap | MapPages:
    """Coverage metrics over the grids: from a coverage JSON, or computed from roster files.

    Parameters
    ----------
    coverage : JSON of ``gridkit coverage --format json`` (its ``by`` is the
        level unless ``by`` is given).
    rosters : roster kind (``filings``, ``party``, ``cadres``, ``workers``) →
        file; used when ``coverage`` is ``None``.
    metrics : the metric layers (default: every coverage metric with data).
    by : ``grid`` (default for rosters) or a level to roll up to.

    A grid-level map over ``settings.max_grids_per_page`` grids is an overview
    of communities (rates of the communities from the rosters; from a JSON,
    rolled up with :func:`~gridkit.maps.pages.roll_up_rows`) and district pages.
    """
    options = settings.builder_options()
    if coverage is not None:
        result = _read_coverage_json(coverage)
        try:
            level = by or result.get("by", "grid")
            if level != "grid":
                return coverage_map(grids, result, metrics, level=level, **options)
            rows = unit_rows(result).reset_index()
            return one_or_paged(
                grids, settings,
                lambda drawn: coverage_map(grids, roll_up_rows(rows, grids), metrics,
                                           simplified=drawn, **settings.overview_options()),
                lambda part, drawn: coverage_map(part, rows, metrics, level="grid",
                                                 simplified=drawn, **options))
        except InputError as exc:
            if exc.path is not None:
                raise
            raise InputError(exc.message, path=coverage) from None
    tables = {kind: read_table(path, kind) for kind, path in (rosters or {}).items()
              if kind in ROSTERS and path}
    if not tables:
        raise InputError("a coverage map needs a coverage JSON or roster files "
                         "(filings, party, cadres, workers)")

    def rows_by(level: str) -> pd.DataFrame:
        return compute_coverage(grids, **tables, by=level, names=settings.names,
                                lang=settings.lang).rows

    if by not in (None, "grid"):
        return coverage_map(grids, rows_by(by), metrics, level=by, **options)
    rows = rows_by("grid")
    return one_or_paged(
        grids, settings,
        lambda drawn: coverage_map(grids, rows_by("community"), metrics, simplified=drawn,
                                   **settings.overview_options()),
        lambda part, drawn: coverage_map(part, rows, metrics, level="grid", simplified=drawn,
                                         **options))


def events_map_from_files(grids: gpd.GeoDataFrame, settings: MapSettings, events: PathLike, *,
                          events_crs: str = "wgs84",
                          dispatch_sla_hours: float = DEFAULT_SLA_HOURS,
                          period_end: str | dt.date | None = None,
                          columns: Mapping[str, str] | None = None) -> GridMap | MapPages:
    """Work orders per grid, dispatch accuracy and a heat map, joined from an events file.

    Parameters
    ----------
    events : the work-order table (CSV, Excel, Parquet).
    events_crs : CRS spec of its lon/lat (GCJ-02/BD-09 are converted).
    columns : canonical → source column of the events file.
    """
    options = settings.builder_options()
    heat = HeatBins(events_crs, metric_crs=options["metric_crs"])
    params = EventParams(crs=events_crs, dispatch_sla_hours=dispatch_sla_hours,
                         period_end=period_end, by="grid", columns=dict(columns or {}))
    # streamed as by gridkit events: a year of work orders is never loaded whole
    result = join_events(grids, events, params, names=settings.names,
                         each_chunk=lambda chunk: heat.add(chunk["lon"], chunk["lat"])
                         ).in_language(settings.lang)
    # Over max_grids_per_page: the heat map is drawn on the overview only.
    return one_or_paged(
        grids, settings,
        lambda drawn: events_map(grids, roll_up_rows(result.rows, grids), heat=heat,
                                 simplified=drawn, **settings.overview_options()),
        lambda part, drawn: events_map(part, result.rows,
                                       heat=heat if len(part) == len(grids) else None,
                                       simplified=drawn, **options))


def diff_map_from_files(old: gpd.GeoDataFrame, new: PathLike, settings: MapSettings, *,
                        columns: Mapping[str, str] | None = None, crs: str | None = None,
                        rules: PathLike | None = None, show_unchanged: bool = False) -> GridMap:
    """The changes between last year's layer ``old`` and the layer file ``new`` (网格调整).

    Parameters
    ----------
    old : the earlier layer, already read (:func:`read_map_grids`).
    new : the later layer's file, read with the same ``columns`` and ``crs``.
    rules : validation rules YAML: its ``iou_threshold`` and tolerances
        classify the changes, as ``gridkit diff --config``.
    show_unchanged : show the faint layer of unchanged grids when the map opens.
    """
    layer = read_layer(new, "grids", columns=columns, crs=crs)
    result = diff(old, layer, load_rules(rules), metric_crs=settings.metric_crs)
    return diff_map(result.changes, show_unchanged=show_unchanged, **settings.builder_options())

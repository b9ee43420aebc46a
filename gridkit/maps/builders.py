"""Map builders: grid layers and SPEC §7 results → a :class:`~gridkit.maps.model.GridMap`.

:func:`grids_map`, :func:`findings_map`, :func:`coverage_map`,
:func:`events_map` and :func:`diff_map` (the changes of :func:`gridkit.diff.diff`)
simplify the grids as a coverage (neighbours keep their shared edges),
dissolve communities, streets and districts from them, and prepare escaped
tooltip columns and class indices for each layer.
"""

from __future__ import annotations

__all__ = ["CONTEXT_BUFFER_M", "PARALLEL_SIMPLIFY_GRIDS", "coverage_map", "diff_map",
           "events_map", "findings_map", "grids_map", "names_lookup", "simplify_grids",
           "unit_rows"]

import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridkit.codes import code_names, load_divisions
from gridkit.crs import DEFAULT_METRIC_CRS, to_metric
from gridkit.diff import CHANGE_KINDS, change_name
from gridkit.errors import InputError
from gridkit.i18n import pick
from gridkit.io.findings import findings_frame
from gridkit.maps.classification import (
    CHANGE_COLORS,
    RULE_FAMILIES,
    RULE_FAMILY_NAMES,
    UNIT_COLORS,
    classify,
    rule_colors,
)
from gridkit.maps.heat import HeatBins
from gridkit.maps.model import (
    DEFAULT_TOLERANCE_M,
    GRID_OUTLINE_ZOOM,
    LEVEL_NAMES,
    MAP_LEVELS,
    SEVERITY_NAMES,
    GridMap,
    HeatTheme,
    Theme,
)
from gridkit.metrics import METRICS, format_value, map_scheme, mapped_metrics
from gridkit.metrics import label as metric_label
from gridkit.rollup import layer_codes, unit_codes
from gridkit.validate.config import RULE_NAMES_ZH, RULES

#: Grids from which :func:`simplify_grids` simplifies districts in parallel chunks.
PARALLEL_SIMPLIFY_GRIDS = 5_000
#: At most this many threads simplify (each chunk's outline stays unsimplified).
_MAX_SIMPLIFY_THREADS = 4
#: Grids around validation findings drawn as context, metres.
CONTEXT_BUFFER_M = 300.0
#: Metres in a degree of latitude (the longest a degree gets on the map: a degree of
#: longitude is shorter), to turn the tolerance into degrees.
_METRES_PER_DEGREE = 111_320.0
#: Order of the rule families in the findings map's panel.
_FAMILY_ORDER = ("division", "coding", "publication", "other")


def names_lookup(divisions: pd.DataFrame | None = None,
                 communities: gpd.GeoDataFrame | None = None, *,
                 within: gpd.GeoDataFrame | None = None) -> dict[str, str]:
    """Names of districts, streets and communities by code.

    From the official code list (default: the shipped national 2023 list;
    with ``within``, a grid layer, only the codes of its units are read),
    overridden by ``community_name`` of a communities layer.

    Examples
    --------
    >>> names_lookup()["440104"]
    '越秀区'
    """
    if divisions is None:
        divisions = load_divisions(within=None if within is None else layer_codes(within))
    names = code_names(divisions)
    if communities is not None and "community_name" in communities.columns:
        known = communities.dropna(subset=["community_code", "community_name"])
        names.update(zip(known["community_code"].astype(str), known["community_name"].astype(str)))
    return names


def _escaped(values: pd.Series | pd.Index | Sequence[Any]) -> np.ndarray:
    """HTML-escaped text of values for tooltips, by position; missing stays ``None`` ("-").

    Escapes as :func:`html.escape` does, with vectorised string replacements
    (20,000 grids have as many names).

    Examples
    --------
    >>> _escaped(["<b>", None, 3]).tolist()
    ['&lt;b&gt;', None, '3']
    """
    series = pd.Series(np.asarray(values, dtype=object), dtype=object)
    missing = series.isna().to_numpy()
    text = series.where(~missing, "").astype(str)
    # "&" first: the entities written for the other characters start with "&".
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"),
                         ("'", "&#x27;")):
        text = text.str.replace(char, entity, regex=False)
    out = text.to_numpy(dtype=object)
    out[missing] = None
    return out


def simplify_grids(grids: gpd.GeoDataFrame, tolerance_m: float = DEFAULT_TOLERANCE_M,
                   metric_crs: str = DEFAULT_METRIC_CRS) -> gpd.GeoDataFrame:
    """Drop grids without polygon geometry and simplify the rest as a coverage.

    The simplification is :func:`shapely.coverage_simplify` (shared edges
    stay shared, no gaps or overlaps appear between neighbours), run in the
    layer's own CRS when that is geographic (tolerance in degrees of
    latitude, :data:`_METRES_PER_DEGREE`: a vertex moves at most
    ``tolerance_m`` in any direction, less east–west) or projected in metres,
    else in ``metric_crs``; the result is in EPSG:4326. Simplifying before
    reprojecting spares a reprojection of every vertex (a third of the
    build of a 20,000-grid map). Grids with a missing, empty or non-polygonal
    geometry are not drawn (``gridkit validate`` reports them).

    Examples
    --------
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"grid_code": ["a", "b"]},
    ...                      geometry=[box(113.30, 23.10, 113.31, 23.11), None], crs=4326)
    >>> simplify_grids(g, 5).grid_code.tolist()
    ['a']
    """
    geoms = grids.geometry.values
    drawable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & np.isin(
        shapely.get_type_id(geoms), (3, 6))
    kept = grids.loc[drawable]
    crs = kept.crs
    if crs is not None and crs.is_geographic:
        tolerance = tolerance_m / _METRES_PER_DEGREE
    elif crs is not None and crs.is_projected and crs.axis_info[0].unit_name in ("metre", "meter"):
        tolerance = tolerance_m
    else:
        kept, tolerance = to_metric(kept, metric_crs), tolerance_m
    if tolerance > 0 and len(kept):
        kept = kept.set_geometry(_coverage_simplify(kept, tolerance))
    return kept.to_crs(4326)


def _coverage_simplify(grids: gpd.GeoDataFrame, tolerance: float) -> np.ndarray:
    """:func:`shapely.coverage_simplify` of the grids, in parallel chunks of whole districts.

    A layer of :data:`PARALLEL_SIMPLIFY_GRIDS` grids or more with two or more
    districts is cut into one chunk per core (whole districts, balanced by
    vertices), simplified on threads (GEOS releases the GIL). Shared edges stay
    shared only within one call, so each chunk keeps its outline as it is
    (``simplify_boundary=False``): both sides of a border between chunks keep
    the same original vertices and no gap or overlap opens there; the outline
    of the layer is then not simplified either (a few percent more vertices).
    """
    geoms = grids.geometry.values
    workers = min(len(os.sched_getaffinity(0)), _MAX_SIMPLIFY_THREADS)
    if workers < 2 or len(grids) < PARALLEL_SIMPLIFY_GRIDS or "grid_code" not in grids.columns:
        return shapely.coverage_simplify(geoms, tolerance)
    keyed = grids if "community_code" in grids.columns else grids.assign(community_code=None)
    districts = unit_codes(keyed, "district").fillna("").to_numpy(dtype=str)
    names, index = np.unique(districts, return_inverse=True)
    if len(names) < 2:
        return shapely.coverage_simplify(geoms, tolerance)
    weight = np.bincount(index.ravel(), weights=shapely.get_num_coordinates(geoms))
    # Whole districts in code order, cut where the running vertex count passes each share.
    chunk = np.minimum((np.cumsum(weight) - weight / 2) * workers // weight.sum(),
                       workers - 1).astype(int)[index.ravel()]
    parts = [np.flatnonzero(chunk == c) for c in np.unique(chunk)]
    out = np.empty(len(geoms), dtype=object)
    with ThreadPoolExecutor(len(parts)) as pool:
        for rows, simplified in zip(parts, pool.map(lambda rows: shapely.coverage_simplify(
                geoms[rows], tolerance, simplify_boundary=False), parts)):
            out[rows] = simplified
    return out


def _grid_table(grids: gpd.GeoDataFrame, names: Mapping[str, str]) -> gpd.GeoDataFrame:
    """Grid codes, the codes of their community/street/district, names, households."""
    keyed = grids if "community_code" in grids.columns else grids.assign(community_code=None)
    out = gpd.GeoDataFrame({
        "grid_code": grids["grid_code"].astype(str),
        "grid_name": grids["grid_name"] if "grid_name" in grids.columns else None,
        **{f"{level}_code": unit_codes(keyed, level) for level in MAP_LEVELS[1:]},
    }, geometry=grids.geometry, crs=grids.crs)
    out["households"] = grids["households"] if "households" in grids.columns else np.nan
    out["community_name"] = _named(out["community_code"], names).fillna(out["community_code"])
    return out


def _named(codes: pd.Series, names: Mapping[str, str]) -> pd.Series:
    """The name of each code (missing where ``names`` has none).

    Looks up each distinct code once: ``Series.map`` of a whole code list
    (650,000 names) would first turn the dict into a Series.

    >>> _named(pd.Series(["440104", None, "x"]), names_lookup()).tolist()
    ['越秀区', nan, nan]
    """
    known = {c: names[c] for c in codes.dropna().unique() if c in names}
    return codes.map(known).astype(object)


def _grid_tooltip(table: gpd.GeoDataFrame, lang: str) -> tuple[gpd.GeoDataFrame, tuple]:
    """Escaped tooltip columns for grids and their ``(column, label)`` pairs."""
    shown = table[["geometry"]].copy()
    shown["t_code"] = _escaped(table["grid_code"])
    shown["t_name"] = _escaped(table["grid_name"])
    shown["t_community"] = _escaped(table["community_name"])
    shown["t_households"] = _escaped(_format(table["households"], "count"))
    labels = (("t_code", pick(lang, "网格编码", "Grid code")),
              ("t_name", pick(lang, "网格名称", "Grid name")),
              ("t_community", pick(lang, "所属社区", "Community")),
              ("t_households", pick(lang, "户数", "Households")))
    return shown, labels


def _format(values: pd.Series, kind: str) -> pd.Series:
    """Tooltip text of values of a metric kind: ``95.0%``, ``1,234`` or ``412.5``; missing → None.

    The text is :func:`gridkit.metrics.format_value` (compact: rates to one decimal).

    Each distinct value is formatted once (rates of single grids are mostly 0 or
    1, counts repeat): the Python-level work follows the number of distinct
    values, not of grids.

    Examples
    --------
    >>> _format(pd.Series([1.0, 0.5, None, 1.0]), "rate").tolist()
    ['100.0%', '50.0%', None, '100.0%']
    """
    v = pd.to_numeric(values, errors="coerce").astype(float)
    codes, uniques = pd.factorize(v, use_na_sentinel=True)
    texts = np.array([format_value(float(x), kind, compact=True) for x in uniques] + [None],
                     dtype=object)
    return pd.Series(texts[codes], index=values.index, dtype=object)


def _units(display: gpd.GeoDataFrame, level: str,
           finer: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Dissolve display grids to communities, streets or districts (``code``, geometry).

    ``finer``: units of a finer level already dissolved (``code`` and
    ``parent``, the code of the unit of ``level`` each lies in); dissolving
    them instead of the grids is much quicker (a district of 2,000 grids is
    some 20 streets). Grids without a unit code are left out.
    """
    if finer is not None:
        codes, geoms = finer["parent"].to_numpy(dtype=object), finer.geometry.values
    else:
        codes = display[f"{level}_code"].to_numpy(dtype=object)
        geoms = display.geometry.values
    known = pd.notna(codes)
    codes, geoms = codes[known].astype(str), np.asarray(geoms[known])
    order = np.argsort(codes, kind="stable")
    unique, starts = np.unique(codes[order], return_index=True)
    merged = np.array([_union(part) for part in np.split(geoms[order], starts[1:])]
                      if len(unique) else [], dtype=object)
    return gpd.GeoDataFrame({"code": unique}, geometry=_polygonal(merged), crs=display.crs)


def _union(geoms: np.ndarray) -> Any:
    """Union of one unit's polygons, a coverage union when they form a clean partition.

    A coverage union takes linear time; on overlapping or invalid polygons it
    gives an invalid result (or raises), and only then is the full union run,
    so a layer with a few defects pays for them in the units that have them.
    """
    try:
        merged = shapely.coverage_union_all(geoms)
        if shapely.is_valid(merged):
            return merged
    except shapely.errors.GEOSException:
        pass
    return shapely.union_all(shapely.make_valid(geoms))


def _unit_layers(display: gpd.GeoDataFrame, levels: Sequence[str],
                 tolerance_m: float = 0.0) -> dict[str, gpd.GeoDataFrame]:
    """Units of several levels, each coarser level dissolved from the finer one when it nests.

    A finer unit nests when all its grids carry one code of the coarser level
    (always true for codes derived from the grid code; not for messy layers,
    which are then dissolved from the grids). ``tolerance_m``: the finest
    level is simplified again as a coverage (an overview of communities needs
    less detail than the grids), the coarser ones then dissolved from it.
    """
    out: dict[str, gpd.GeoDataFrame] = {}
    previous = None
    for level in sorted(levels, key=MAP_LEVELS.index):
        finer = None
        if previous is not None:
            pairs = display[[f"{previous}_code", f"{level}_code"]].dropna().drop_duplicates()
            parents = pairs.set_index(f"{previous}_code")[f"{level}_code"]
            if parents.index.is_unique:
                finer = out[previous].assign(parent=out[previous]["code"].map(parents))
        out[level] = _units(display, level, finer)
        if previous is None and tolerance_m > 0 and len(out[level]):
            out[level] = out[level].set_geometry(_polygonal(shapely.coverage_simplify(
                out[level].geometry.values, tolerance_m / _METRES_PER_DEGREE)))
        previous = level
    return out


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """The polygons of each geometry as a MultiPolygon (lines and points dropped).

    >>> from shapely import GeometryCollection, LineString, box
    >>> _polygonal(np.array([GeometryCollection([box(0, 0, 1, 1), LineString([(0, 0), (2, 2)])])]))
    array([<MULTIPOLYGON (((1 0, 1 1, 0 1, 0 0, 1 0)))>], dtype=object)
    """
    parts, index = shapely.get_parts(geoms, return_index=True)
    keep = shapely.get_type_id(parts) == 3
    out = np.array([shapely.MultiPolygon()] * len(geoms), dtype=object)
    return shapely.multipolygons(parts[keep], indices=index[keep], out=out)


def _outline_themes(sources: dict[str, gpd.GeoDataFrame], display: gpd.GeoDataFrame,
                    lang: str, levels: Sequence[str] = ("district",),
                    units: Mapping[str, gpd.GeoDataFrame] | None = None) -> list[Theme]:
    """District (and street) boundaries without fill, above the coloured layers.

    ``units``: units already dissolved (by :func:`_unit_layers`), reused.
    """
    units = dict(units or {})
    missing = [level for level in levels if level not in units]
    if missing:
        units.update(_unit_layers(display, missing))
    themes = []
    for level in levels:
        key = f"{level}_outline"
        sources[key] = units[level][["geometry"]]
        themes.append(Theme(
            name=pick(lang, f"{LEVEL_NAMES[level][0]}界", f"{level} boundaries"), source=key,
            palette=("#333333",), stroke=None, weight=2.0 if level == "district" else 1.0,
            fill_opacity=0.0, group=pick(lang, "边界", "Boundaries")))
    return themes


def _base(grids: gpd.GeoDataFrame, tolerance_m: float, metric_crs: str,
          names: Mapping[str, str] | None, lang: str,
          simplified: gpd.GeoDataFrame | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Simplified display grids with codes and names, and the notes about dropped grids.

    ``simplified``: ``simplify_grids(grids, tolerance_m, metric_crs)`` already
    computed (the maps of a report share it), else it is computed here.
    """
    if "grid_code" not in grids.columns:
        raise InputError("the grid layer has no grid_code column",
                         path=grids.attrs.get("source_path"))
    names = names_lookup(within=grids) if names is None else names
    if simplified is None:
        simplified = simplify_grids(grids, tolerance_m, metric_crs)
    display = _grid_table(simplified, names)
    notes = []
    dropped = len(grids) - len(display)
    if dropped:
        notes.append(pick(lang, f"{dropped} 个网格无有效面几何，未绘制",
                          f"{dropped} grid(s) without polygon geometry not drawn"))
    return display, notes


def grids_map(grids: gpd.GeoDataFrame, *, names: Mapping[str, str] | None = None,
              tolerance_m: float = DEFAULT_TOLERANCE_M, metric_crs: str = DEFAULT_METRIC_CRS,
              lang: str = "zh", simplified: gpd.GeoDataFrame | None = None,
              level: str = "grid", unit_tolerance_m: float = 0.0) -> GridMap:
    """The grid layer coloured by district (by street when it covers one district).

    Tooltips show grid code, name, community and households; street and
    district boundaries are drawn on top. With ``level="community"`` the
    features are the communities dissolved from the grids (code and name in
    the tooltips), coloured the same way: the overview of a layer too large
    for one page (:mod:`gridkit.maps.pages`).

    Parameters
    ----------
    grids : the grid layer (``gridkit.io.read_layer(path, "grids")``).
    names : code → name of communities, streets, districts (:func:`names_lookup`).
    tolerance_m : coverage-simplification tolerance in metres (0: none).
    metric_crs : CRS in metres for the simplification.
    lang : ``zh`` or ``en``.
    simplified : ``simplify_grids(grids, tolerance_m, metric_crs)`` when
        already computed: the maps of one layer can share it.
    level : ``grid`` or ``community`` (what a feature is).
    unit_tolerance_m : the dissolved communities (and the outlines dissolved
        from them) simplified again with this tolerance, metres: the overview
        of a large layer (0: not again).

    Examples
    --------
    >>> from gridkit.data import SAMPLE_DIR
    >>> from gridkit.io import read_layer
    >>> from gridkit.maps import render_map
    >>> html_text = render_map(grids_map(read_layer(SAMPLE_DIR / "grids.gpkg")), offline=True)
    >>> html_text.startswith("<!DOCTYPE html>")
    True
    """
    names = names_lookup(within=grids) if names is None else names
    display, notes = _base(grids, tolerance_m, metric_crs, names, lang, simplified)
    if level not in ("grid", "community"):
        raise InputError(f"a grids map draws grids or communities, not {level!r}")
    by = "district" if display["district_code"].nunique() > 1 else "street"
    outlines = ("street", "district") if by == "district" else ("street",)
    colours = sorted(display[f"{by}_code"].unique())
    dissolved = None
    if level == "grid":
        shown, tooltip = _grid_tooltip(display, lang)
        unit = display[f"{by}_code"]
    else:
        dissolved = _unit_layers(display, ["community", *outlines], unit_tolerance_m)
        shown, tooltip = _metric_source(display, pd.DataFrame(), level, names, lang, dissolved)
        parents = display.drop_duplicates("community_code").set_index("community_code")
        unit = shown.index.to_series().map(parents[f"{by}_code"])
        shown = shown.reset_index(drop=True)
        unit = unit.reset_index(drop=True)
        notes.append(pick(lang, "按社区汇总", "rolled up by community"))
    shown["unit"] = unit.map({u: i for i, u in enumerate(colours)}).to_numpy()
    sources = {"grids": shown}
    palette = tuple(UNIT_COLORS[i % len(UNIT_COLORS)] for i in range(len(colours)))
    themes: list[Theme | HeatTheme] = [Theme(
        name=pick(lang, *(("网格", "Grids") if level == "grid" else ("社区", "Communities"))),
        source="grids", palette=palette, labels=tuple(names.get(u, u) for u in colours),
        classes="unit", tooltip=tooltip, stroke="#666666", weight=0.4, fill_opacity=0.6,
        outline_zoom=GRID_OUTLINE_ZOOM if level == "grid" else 0)]
    themes += _outline_themes(sources, display, lang, outlines, dissolved)
    return GridMap(kind="grids", title=pick(lang, "综合网格分布图", "Grids"), lang=lang,
                   sources=sources, themes=themes,
                   tolerance_m=max(tolerance_m, unit_tolerance_m if dissolved else 0),
                   features=len(shown), level=level, notes=notes)


def _code_list(codes: Any) -> list[str]:
    """A finding's grid codes as a list, whatever form the findings file gave them in."""
    if codes is None or (isinstance(codes, float) and math.isnan(codes)):
        return []
    if isinstance(codes, str):  # one code, or codes joined with ";" as in findings.gpkg
        return [c for c in codes.split(";") if c]
    return [str(c) for c in codes]


def _codes_text(codes: Any, limit: int = 8) -> str:
    codes = _code_list(codes)
    shown = "、".join(str(c) for c in codes[:limit])
    return shown + (f" …(+{len(codes) - limit})" if len(codes) > limit else "")


def findings_map(grids: gpd.GeoDataFrame, findings: gpd.GeoDataFrame | Mapping[str, Any], *,
                 names: Mapping[str, str] | None = None,
                 rule_names: Mapping[str, str] | None = None,
                 tolerance_m: float = DEFAULT_TOLERANCE_M, metric_crs: str = DEFAULT_METRIC_CRS,
                 lang: str = "zh", simplified: gpd.GeoDataFrame | None = None) -> GridMap:
    """Validation findings, one toggleable layer per rule, over the grids around them.

    Each finding is drawn as its geometry (overlap, gap, grid, ...) plus a
    marker at a point on it, so that tiny slivers remain visible when zoomed
    out. Context: the grids a finding names and the grids within
    :data:`CONTEXT_BUFFER_M` of one (all grids when no finding has a place).

    Parameters
    ----------
    grids : the grid layer.
    findings : ``ValidationResult.findings`` or the JSON of ``gridkit validate``.
    rule_names : rule id → display name (default: the Chinese rule names of
        :mod:`gridkit.validate.config` in Chinese, the rule ids in English).
    Other parameters as :func:`grids_map`.
    """
    display, notes = _base(grids, tolerance_m, metric_crs, names, lang, simplified)
    found = findings_frame(findings)
    if found.crs is None:
        raise InputError("the findings have no CRS")
    found = found.to_crs(4326).reset_index(drop=True)
    placed = found.loc[~(shapely.is_missing(found.geometry.values)
                         | shapely.is_empty(found.geometry.values))]
    unplaced = len(found) - len(placed)
    if unplaced:
        notes.append(pick(lang, f"另有 {unplaced} 条问题无位置（见报告表格）",
                          f"{unplaced} finding(s) without a location (see the report tables)"))

    named = {c for codes in found["grid_codes"] for c in _code_list(codes)}
    if len(placed):
        zone = to_metric(placed[["geometry"]], metric_crs).buffer(CONTEXT_BUFFER_M).to_crs(4326)
        near = display.sindex.query(zone.values, predicate="intersects")[1]
        context = display["grid_code"].isin(named).to_numpy().copy()
        context[near] = True
    else:
        context = np.ones(len(display), bool)
    shown, tooltip = _grid_tooltip(display.loc[context], lang)
    sources: dict[str, gpd.GeoDataFrame] = {"grids": shown}
    themes: list[Theme | HeatTheme] = [Theme(
        name=pick(lang, "问题周边网格", "Grids around findings"), source="grids",
        palette=("#ffffff",), tooltip=tooltip, stroke="#888888", weight=0.6, fill_opacity=0.3)]
    themes += _outline_themes(sources, display, lang)

    labels = (("t_rule", pick(lang, "规则", "Rule")),
              ("t_severity", pick(lang, "级别", "Severity")),
              ("t_codes", pick(lang, "网格编码", "Grid codes")),
              ("t_area", pick(lang, "面积(m²)", "Area (m²)")),
              ("t_message", pick(lang, "说明", "Message")))
    if rule_names is None:
        rule_names = RULE_NAMES_ZH if lang == "zh" else {}
    groups = dict(list(placed.groupby("rule", sort=True)))
    order = sorted(groups, key=lambda r: (_FAMILY_ORDER.index(RULE_FAMILIES.get(r, "other")),
                                          RULES.index(r) if r in RULES else len(RULES), r))
    colors = rule_colors(order)
    for i, rule in enumerate(order):
        group = groups[rule]
        title = rule_names.get(rule, rule)
        marks = gpd.GeoDataFrame(geometry=shapely.point_on_surface(group.geometry.values),
                                 crs=4326, index=group.index)
        both = pd.concat([group[["geometry"]], marks])
        src = both.join(pd.DataFrame({
            "t_rule": _escaped([title] * len(group)),
            "t_severity": _escaped([pick(lang, *SEVERITY_NAMES.get(s, (s, s)))
                                    for s in group["severity"]]),
            "t_codes": _escaped([_codes_text(c) for c in group["grid_codes"]]),
            "t_area": _escaped(_format(group["area_m2"], "ratio")),
            "t_message": _escaped(group["message"]),
        }, index=group.index))
        key = f"rule_{i}"
        sources[key] = gpd.GeoDataFrame(src, geometry="geometry", crs=4326)
        family, color = colors[rule]
        # Dashed only when every finding of the rule is a warning: errors must stand out.
        warning = bool((group["severity"] == "warning").all())
        themes.append(Theme(
            name=title, source=key, palette=(color,),
            labels=(pick(lang, *SEVERITY_NAMES["warning" if warning else "error"]),),
            tooltip=labels, stroke=None, weight=2.0, fill_opacity=0.35,
            group=pick(lang, *RULE_FAMILY_NAMES[family]), count=len(group), dashed=warning))
    if not len(found):
        notes.append(pick(lang, "未发现问题", "no findings"))
    return GridMap(kind="findings", title=pick(lang, "数据质量问题分布图", "Validation findings"),
                   lang=lang, sources=sources, themes=themes, tolerance_m=tolerance_m,
                   features=int(context.sum()), notes=notes)


def unit_rows(result: Mapping[str, Any] | pd.DataFrame) -> pd.DataFrame:
    """The per-unit rows of a coverage/events JSON (or a table) keyed by ``code``."""
    if isinstance(result, pd.DataFrame):
        rows = result
    else:
        listed = result.get("rows") if isinstance(result, Mapping) else None
        if not isinstance(listed, list) or not all(isinstance(r, Mapping) for r in listed):
            raise InputError("not the JSON of gridkit coverage/events: 'rows' must be a list of "
                             "objects (one per unit, each with 'code')")
        rows = pd.DataFrame(listed, columns=None if listed else ["code"])
    if "code" not in rows.columns:
        raise InputError(f"the per-unit rows have no 'code' column; they have "
                         f"{', '.join(map(str, rows.columns))}")
    rows = rows.loc[rows["code"].notna()]
    return rows.assign(code=rows["code"].astype(str)).drop_duplicates("code").set_index("code")


def _metric_source(display: gpd.GeoDataFrame, rows: pd.DataFrame, level: str,
                   names: Mapping[str, str], lang: str,
                   units: Mapping[str, gpd.GeoDataFrame] | None = None,
                   ) -> tuple[gpd.GeoDataFrame, tuple]:
    """Grid or unit geometries joined to metric rows, with code/name tooltip columns.

    Unit names: the rows' ``name``, else ``names``, else the code.
    """
    if level == "grid":
        shown, tooltip = _grid_tooltip(display, lang)
        shown.index = display["grid_code"]
        return shown, tooltip[:3]
    units = (units or _unit_layers(display, [level]))[level].set_index("code")
    unit_names = rows["name"] if "name" in rows.columns else pd.Series(dtype=object)
    fallback = pd.Series(units.index, index=units.index)
    label = pick(lang, *LEVEL_NAMES[level])
    shown = units[["geometry"]].copy()
    shown["t_code"] = _escaped(units.index)
    shown["t_name"] = _escaped(unit_names.reindex(units.index).fillna(
        _named(fallback, names)).fillna(fallback))
    return shown, (("t_code", pick(lang, f"{label}编码", f"{label} code")),
                   ("t_name", pick(lang, f"{label}名称", f"{label} name")))


def _metric_themes(shown: gpd.GeoDataFrame, rows: pd.DataFrame, metrics: Sequence[str],
                   tooltip: tuple, lang: str, missing: Mapping[str, str] | None = None,
                   outline_zoom: int = 0) -> tuple[gpd.GeoDataFrame, list[Theme]]:
    """One choropleth theme per metric over ``shown`` (indexed by code); all in each tooltip."""
    mappable = mapped_metrics()
    unknown = [m for m in metrics if m not in mappable]
    if unknown:
        raise InputError(f"unknown metric {unknown[0]!r}; known: {', '.join(mappable)}")
    absent = [m for m in metrics if m not in rows.columns]
    if absent:
        raise InputError(f"metric {absent[0]!r} is not in the per-unit rows; they have "
                         f"{', '.join(map(str, rows.columns))}")
    in_tooltip = [m for m in mappable if m in rows.columns]
    joined = rows.reindex(shown.index)
    themes = []
    for m in in_tooltip:
        shown[f"t_{m}"] = _escaped(_format(joined[m], METRICS[m].kind))
    tooltip = tooltip + tuple((f"t_{m}", metric_label(m, lang))
                              for m in in_tooltip)
    for i, m in enumerate(metrics):
        k, palette, labels = classify(joined[m], map_scheme(m), lang,
                                      (missing or {}).get(m))
        shown[f"k_{m}"] = k
        themes.append(Theme(name=metric_label(m, lang), source="units",
                            palette=palette, labels=labels, classes=f"k_{m}", tooltip=tooltip,
                            show=i == 0, stroke="#777777", weight=0.4, fill_opacity=0.75,
                            outline_zoom=outline_zoom, group=pick(lang, "指标", "Metrics"),
                            exclusive=True))
    return shown.reset_index(drop=True), themes


def coverage_map(grids: gpd.GeoDataFrame, coverage: Mapping[str, Any] | pd.DataFrame,
                 metrics: Sequence[str] | None = None, *, level: str | None = None,
                 names: Mapping[str, str] | None = None,
                 tolerance_m: float = DEFAULT_TOLERANCE_M, metric_crs: str = DEFAULT_METRIC_CRS,
                 lang: str = "zh", simplified: gpd.GeoDataFrame | None = None,
                 unit_tolerance_m: float = 0.0) -> GridMap:
    """Choropleth of coverage metrics per grid or per community/street/district.

    Each metric is a layer with its own legend (the first one shown); every
    tooltip lists all metrics of the unit. At grid level a rate is 0 or 100 %:
    red grids are the ones without a filing, Party organisation, cadre or
    full-time worker.

    Parameters
    ----------
    grids : the grid layer (the unit outlines are dissolved from it).
    coverage : the JSON of ``gridkit coverage --by LEVEL`` (``by`` and
        ``rows``, each row with ``code``), or such rows as a DataFrame.
    metrics : keys of :data:`METRICS` present in the rows; default: those of
        :func:`gridkit.metrics.mapped_metrics` of coverage that have a value in some row.
    level : ``grid``, ``community``, ``street`` or ``district``; default the
        JSON's ``by`` (``grid`` for a DataFrame).
    unit_tolerance_m : units drawn (not grids) simplified again, metres (see
        :func:`grids_map`).
    Other parameters as :func:`grids_map`.

    Examples
    --------
    >>> gmap = coverage_map(grids, coverage_json, ["party_coverage"])  # doctest: +SKIP
    """
    level = level or (coverage.get("by", "grid") if isinstance(coverage, Mapping) else "grid")
    if level not in MAP_LEVELS:
        raise InputError(f"unknown level {level!r}; use one of {', '.join(MAP_LEVELS)}")
    names = names_lookup(within=grids) if names is None else names
    display, notes = _base(grids, tolerance_m, metric_crs, names, lang, simplified)
    rows = unit_rows(coverage)
    if metrics is None:
        metrics = [m for m in mapped_metrics("coverage", by_rank=True)
                   if m in rows and rows[m].notna().any()]
    if not metrics:
        raise InputError("no coverage metric to map: give the roster files (--filings, --party, "
                         "--cadres, --workers) or a coverage JSON with rates")
    outlines = ("street", "district") if level in ("grid", "community") else ("district",)
    # Every level drawn is dissolved once, the coarser from the finer.
    units = _unit_layers(display, sorted({level, *outlines} - {"grid"}, key=MAP_LEVELS.index),
                         unit_tolerance_m if level != "grid" else 0.0)
    shown, tooltip = _metric_source(display, rows, level, names, lang, units)
    missing = {"households_per_fulltime_worker": pick(lang, "无专职网格员", "no full-time worker")}
    shown, themes = _metric_themes(shown, rows, list(metrics), tooltip, lang, missing,
                                   GRID_OUTLINE_ZOOM if level == "grid" else 0)
    sources: dict[str, gpd.GeoDataFrame] = {"units": shown}
    themes += _outline_themes(sources, display, lang, outlines, units)
    if level != "grid":
        notes.append(pick(lang, f"按{LEVEL_NAMES[level][0]}汇总", f"rolled up by {level}"))
    return GridMap(kind="coverage", title=pick(lang, "网格覆盖情况图", "Coverage"), lang=lang,
                   sources=sources, themes=themes,
                   tolerance_m=max(tolerance_m, unit_tolerance_m if level != "grid" else 0),
                   features=len(shown), level=level, notes=notes)


def events_map(grids: gpd.GeoDataFrame, events: Mapping[str, Any] | pd.DataFrame, *,
               points: pd.DataFrame | None = None, points_crs: str = "wgs84",
               heat: HeatBins | None = None, count: str = "events",
               names: Mapping[str, str] | None = None,
               tolerance_m: float = DEFAULT_TOLERANCE_M, metric_crs: str = DEFAULT_METRIC_CRS,
               lang: str = "zh", simplified: gpd.GeoDataFrame | None = None,
               level: str = "grid", unit_tolerance_m: float = 0.0) -> GridMap:
    """Work orders per grid, dispatch accuracy per grid and an event heat map.

    Layers: the number of work orders per grid (shown), dispatch accuracy
    (转派准确率: red grids are where orders were dispatched to the wrong grid),
    and — when ``points`` are given — a heat map of all work orders with valid
    coordinates, including those outside every grid.

    Parameters
    ----------
    grids : the grid layer.
    events : the per-grid rows of ``gridkit events`` (JSON with ``rows`` of
        ``code``, ``events``, ``dispatch_accuracy``, ...) or such a DataFrame.
    points : work orders (``lon``, ``lat`` in ``points_crs``) for the heat map.
    points_crs : ``--crs`` spec of the points (GCJ-02/BD-09 are converted).
    heat : the work orders binned already, chunk by chunk (instead of ``points``).
    count : the row column counted per grid (``events`` or ``located``).
    level : ``grid``, or ``community`` with ``events`` rows of communities
        (the overview of a layer split into district pages).
    Other parameters as :func:`grids_map`.
    """
    if level not in ("grid", "community"):
        raise InputError(f"an events map draws grids or communities, not {level!r}")
    names = names_lookup(within=grids) if names is None else names
    display, notes = _base(grids, tolerance_m, metric_crs, names, lang, simplified)
    rows = unit_rows(events)
    units = _unit_layers(display, ["community", "street", "district"] if level == "community"
                         else ["street", "district"],
                         unit_tolerance_m if level == "community" else 0.0)
    shown, tooltip = _metric_source(display, rows, level, names, lang, units)
    metrics = [count] + [m for m in ("dispatch_accuracy",) if m in rows.columns]
    missing = {"dispatch_accuracy": pick(lang, "无已转派工单", "no dispatched orders")}
    shown, themes = _metric_themes(shown, rows.fillna({count: 0}), metrics, tooltip, lang,
                                   missing, GRID_OUTLINE_ZOOM if level == "grid" else 0)
    sources: dict[str, gpd.GeoDataFrame] = {"units": shown}
    themes += _outline_themes(sources, display, lang, ("street", "district"), units)
    if level != "grid":
        notes.append(pick(lang, "按社区汇总", "rolled up by community"))
    if points is not None:
        if heat is not None:
            raise ValueError("give the work orders as points or as heat, not both")
        heat = HeatBins(points_crs, metric_crs=metric_crs)
        heat.add(points["lon"].to_numpy(dtype=float), points["lat"].to_numpy(dtype=float))
    if heat is not None:
        binned = heat.points()
        themes.append(HeatTheme(name=pick(lang, "工单热力图", "Work-order heat map"),
                                points=binned))
        side = binned.attrs["bin_m"]
        notes.append(pick(lang, f"热力图：{side:.0f} m 方格汇总",
                          f"heat map binned on {side:.0f} m squares"))
    return GridMap(kind="events", title=pick(lang, "工单分布图", "Work orders"), lang=lang,
                   sources=sources, themes=themes,
                   tolerance_m=max(tolerance_m, unit_tolerance_m if level != "grid" else 0),
                   features=len(shown), level=level, notes=notes)


def _change_codes(old: Sequence[str], new: Sequence[str]) -> str:
    """``old → new`` codes of a change, ``-`` for a side without grids.

    >>> _change_codes(["1"], ["2", "3"]), _change_codes(["1"], [])
    ('1 → 2、3', '1 → -')
    """
    return f"{_codes_text(list(old)) or '-'} → {_codes_text(list(new)) or '-'}"


def diff_map(changes: gpd.GeoDataFrame, *, names: Mapping[str, str] | None = None,
             show_unchanged: bool = False, tolerance_m: float = DEFAULT_TOLERANCE_M,
             metric_crs: str = DEFAULT_METRIC_CRS, lang: str = "zh") -> GridMap:
    """The changes of ``gridkit diff`` (网格调整), one toggleable layer per kind of change.

    Each change is drawn as its new grids (its old ones when removed), in the
    colour of its kind; the layer name and the legend give the number of
    changes and of old and new grids. Unchanged grids are a faint grey layer,
    hidden unless ``show_unchanged``. Tooltips: the change, ``old → new``
    codes, area and community.

    Parameters
    ----------
    changes : :attr:`gridkit.diff.DiffResult.changes` (``change``,
        ``old_codes``, ``new_codes``, ``area_m2``, ``community_code``, geometry).
    show_unchanged : show the unchanged grids when the map opens.
    Other parameters as :func:`grids_map`.

    Examples
    --------
    >>> gmap = diff_map(diff(old, new).changes)  # doctest: +SKIP
    """
    names = names_lookup() if names is None else names
    # The removed grids are last year's and may overlap this year's: simplified apart, so
    # that each set stays a coverage.
    removed = changes["change"].eq("removed").to_numpy()
    parts = [simplify_grids(changes.loc[mask], tolerance_m, metric_crs)
             for mask in (~removed, removed)]
    display = pd.concat([p for p in parts if len(p)] or parts[:1])
    notes = []
    dropped = len(changes) - len(display)
    if dropped:
        notes.append(pick(lang, f"{dropped} 处变化无面几何，未绘制",
                          f"{dropped} change(s) without polygon geometry not drawn"))
    # a change's first code stands for it in the unit outlines (its community's)
    first = [(list(n) or list(o) or [""])[0]
             for o, n in zip(display["old_codes"], display["new_codes"])]
    units = _grid_table(gpd.GeoDataFrame({"grid_code": first,
                                          "community_code": display["community_code"]},
                                         geometry=display.geometry.values, crs=display.crs),
                        names)
    shown = gpd.GeoDataFrame({
        "t_change": _escaped([change_name(k, lang) for k in display["change"]]),
        "t_codes": _escaped([_change_codes(o, n) for o, n in
                             zip(display["old_codes"], display["new_codes"])]),
        "t_area": _escaped(_format(display["area_m2"], "ratio")),
        "t_community": _escaped(units["community_name"]),
    }, geometry=display.geometry.values, crs=display.crs)
    tooltip = (("t_change", pick(lang, "变化", "Change")),
               ("t_codes", pick(lang, "原编码 → 新编码", "Old → new codes")),
               ("t_area", pick(lang, "面积(m²)", "Area (m²)")),
               ("t_community", pick(lang, "所属社区", "Community")))
    sources: dict[str, gpd.GeoDataFrame] = {}
    themes: list[Theme | HeatTheme] = []
    kinds = display["change"].to_numpy()
    for kind in CHANGE_KINDS:
        # names and legends count every change of the kind, drawn or not (see the notes)
        of_kind = changes.loc[changes["change"] == kind]
        if not len(of_kind):
            continue
        sources[kind] = shown.loc[kinds == kind]
        n_old = int(of_kind["old_codes"].map(len).sum())
        n_new = int(of_kind["new_codes"].map(len).sum())
        faint = kind == "unchanged"
        themes.append(Theme(
            name=change_name(kind, lang), source=kind, count=len(of_kind),
            group=pick(lang, "网格调整", "Grid changes"), palette=(CHANGE_COLORS[kind],),
            labels=(pick(lang, f"原 {n_old} 个网格 → 新 {n_new} 个网格",
                         f"{n_old} old → {n_new} new grids"),),
            tooltip=tooltip, show=show_unchanged or not faint,
            stroke="#999999" if faint else "#333333", weight=0.4 if faint else 1.0,
            fill_opacity=0.25 if faint else 0.7,
            outline_zoom=GRID_OUTLINE_ZOOM if faint else 0))
    themes += _outline_themes(sources, units, lang, ("street", "district"))
    if not (kinds != "unchanged").any():
        notes.append(pick(lang, "两版图层无变化", "no change between the layers"))
    # the footer counts grids: those of each change drawn, the old ones when removed
    grids = np.where(kinds == "removed", display["old_codes"].map(len),
                     display["new_codes"].map(len))
    return GridMap(kind="diff", title=pick(lang, "网格调整图", "Grid changes"), lang=lang,
                   sources=sources, themes=themes, tolerance_m=tolerance_m,
                   features=int(grids.sum()), notes=notes)

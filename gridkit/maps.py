"""Folium maps of grids, validation findings, coverage and work orders (``gridkit map``).

A map is built in two steps. A builder — :func:`grids_map`,
:func:`findings_map`, :func:`coverage_map` or :func:`events_map` — turns
GeoDataFrames and the SPEC §7 JSON dicts into a :class:`GridMap`: display
*sources* (simplified EPSG:4326 geometries with pre-formatted, HTML-escaped
tooltip columns and class indices), *themes* (the toggleable layers, each a
palette and a legend over one source) and footer notes. :func:`render_html`
then draws it with folium and :func:`render_png` with matplotlib.

City scale (20,000 grids in at most 10 MB, open in seconds):

- grids are simplified as a coverage (:func:`shapely.coverage_simplify`, in the
  metric CRS, ``tolerance_m`` metres), so neighbours keep their shared edges;
- coordinates are quantised to 1e-5 degree (about 1 m) and written as integer
  deltas per ring (decoded in the browser), each source once however many
  layers draw it; properties are only what tooltips and colours need;
- Leaflet draws on a canvas (``prefer_canvas``), builds a layer's features only
  when the layer is first shown, and shares one tooltip per layer.

``offline=True`` inlines the vendored Leaflet (``gridkit/static``) and loads no
tiles; an Amap or Tencent basemap (GCJ-02) shifts every overlay to GCJ-02 so
that it lines up with the tiles.

Examples
--------
>>> gmap = grids_map(grids)                                  # doctest: +SKIP
>>> write_map(gmap, "maps/grids.html", offline=True, png=True)  # doctest: +SKIP
MapOutput(path=PosixPath('maps/grids.html'), bytes=..., ...)
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from branca.element import Element
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.plugins import HeatMap
from folium.template import Template

from gridkit import __version__
from gridkit.cli._metrics import HEADERS
from gridkit.crs import (
    AUTO_METRIC_CRS,
    DEFAULT_METRIC_CRS,
    auto_metric_crs,
    convert_coordinates,
    convert_geometries,
    parse_crs,
    to_metric,
    valid_coordinate_mask,
)
from gridkit.divisions import code_names, load_divisions
from gridkit.errors import InputError
from gridkit.i18n import pick
from gridkit.io.write import atomic_output, check_writable
from gridkit.rollup import unit_codes
from gridkit.validate.config import RULE_NAMES_ZH

KINDS = ("grids", "findings", "coverage", "events")
BASEMAPS = ("none", "osm", "amap", "tencent")
LEVELS = ("grid", "community", "street", "district")
DEFAULT_TOLERANCE_M = 5.0
#: Coordinates are written as integers in units of 1e-5 degree (about 1.1 m).
COORD_SCALE = 100_000
#: Side of the square bins of the event heat map, metres (doubled until at most
#: :data:`HEAT_MAX_POINTS` bins are occupied: a city's 10 million work orders in 250 m
#: bins are some 130,000 points, 4 MB of the page).
HEAT_BIN_M = 250.0
HEAT_MAX_POINTS = 20_000
#: Zoom from which the outlines of individual grids are drawn (a grid is ~20 px wide there).
GRID_OUTLINE_ZOOM = 12
#: Grids around validation findings drawn as context, metres.
CONTEXT_BUFFER_M = 300.0
STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class Basemap:
    """A tile layer: URL template, attribution, subdomains, coordinate system."""

    url: str
    attribution: str
    subdomains: str
    system: str  # "wgs84" or "gcj02": what the overlays are shifted to


BASEMAP_TILES = {
    "osm": Basemap("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                   "&copy; OpenStreetMap contributors", "abc", "wgs84"),
    "amap": Basemap("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                    "&style=8&x={x}&y={y}&z={z}", "&copy; 高德地图 AutoNavi", "1234", "gcj02"),
    "tencent": Basemap("https://rt{s}.map.gtimg.com/tile?z={z}&x={x}&y={-y}&type=vector"
                       "&styleid=3", "&copy; 腾讯地图 Tencent", "0123", "gcj02"),
}
_BASEMAP_NAMES = {"none": ("无底图", "no basemap"), "osm": ("OpenStreetMap", "OpenStreetMap"),
                  "amap": ("高德地图", "Amap"), "tencent": ("腾讯地图", "Tencent Maps")}
#: CDN of the online maps; the same versions are vendored in gridkit/static for --offline.
_CDN = {"leaflet": "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js",
        "leaflet_css": "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css",
        "leaflet-heat.js": "https://cdn.jsdelivr.net/npm/leaflet.heat@0.2.0/dist/leaflet-heat.js"}
_VENDORED = {"leaflet": "leaflet.js", "leaflet_css": "leaflet.css",
             "leaflet-heat.js": "leaflet-heat.js"}


#: How the values of each mappable metric are classed: ``rate`` (a fraction, fixed breaks,
#: higher is better), ``count`` (quantile classes) or ``load`` (quantile classes, higher is
#: worse, e.g. households per full-time worker). Labels: ``gridkit.cli._metrics.HEADERS``.
METRICS = {
    "filing_rate": "rate", "party_coverage": "rate", "cadre_coverage": "rate",
    "fulltime_worker_coverage": "rate", "households_per_fulltime_worker": "load",
    "events": "count", "located": "count", "dispatched": "count",
    "dispatch_accuracy": "rate", "dispatch_timeliness": "rate", "closure_rate": "rate",
    "valid_complaints": "count",
}


#: Coverage metrics a coverage map draws by default, when the rows have values (first shown).
COVERAGE_METRICS = ("party_coverage", "fulltime_worker_coverage", "filing_rate",
                    "cadre_coverage", "households_per_fulltime_worker")


def metric_label(metric: str, lang: str) -> str:
    """Display name of a metric.

    >>> metric_label("dispatch_accuracy", "zh")
    '转派准确率'
    """
    return pick(lang, *HEADERS[metric])


# ColorBrewer palettes (RdYlGn 6, YlOrRd 5, Set3 12, Set1 9 + Dark2).
_RATE_BREAKS = (0.6, 0.8, 0.9, 0.95, 1.0)
_RATE_COLORS = ("#d73027", "#fc8d59", "#fee08b", "#d9ef8b", "#91cf60", "#1a9850")
_COUNT_COLORS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
_LOAD_COLORS = ("#1a9850", "#a6d96a", "#fee08b", "#fc8d59", "#d73027")
_ZERO_COLOR = "#f7f7f7"
_MISSING_COLOR = "#bdbdbd"
_UNIT_COLORS = ("#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
                "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f")
_RULE_COLORS = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628",
                "#f781bf", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")
_LEVEL_NAMES = {"grid": ("网格", "grid"), "community": ("社区", "community"),
                "street": ("街道", "street"), "district": ("区", "district")}
_SEVERITY_NAMES = {"error": ("错误", "error"), "warning": ("警告", "warning")}


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Theme:
    """One toggleable layer: the features of a source, coloured by a class column.

    Attributes
    ----------
    name : layer name in the layer control (plain text, escaped when drawn).
    source : key of :attr:`GridMap.sources`.
    palette : fill colour of each class.
    labels : legend label of each class (plain text); empty: no legend.
    classes : column of the source holding each feature's class (an index
        into ``palette``); ``None``: every feature has class 0.
    tooltip : ``(column, label)`` pairs shown on hover; the columns hold
        HTML-escaped text.
    show : shown when the map opens.
    stroke : outline colour; ``None``: the fill colour.
    weight, fill_opacity : outline width (px) and fill opacity.
    outline_zoom : zoom level from which outlines are drawn; below it a
        layer of thousands of grids shows as fill only, under the street and
        district boundaries (a roll-up for the eye, and a faster redraw).
    """

    name: str
    source: str
    palette: tuple[str, ...]
    labels: tuple[str, ...] = ()
    classes: str | None = None
    tooltip: tuple[tuple[str, str], ...] = ()
    show: bool = True
    stroke: str | None = "#555555"
    weight: float = 0.5
    fill_opacity: float = 0.7
    outline_zoom: int = 0


@dataclass(frozen=True)
class HeatTheme:
    """A heat-map layer of weighted points (WGS84 ``lon``, ``lat``, ``weight`` in 0–1)."""

    name: str
    points: pd.DataFrame
    show: bool = False


@dataclass
class GridMap:
    """What a map shows, independent of how it is drawn (see :func:`render_html`).

    Attributes
    ----------
    kind : one of :data:`KINDS`.
    title : map title (plain text).
    lang : ``zh`` or ``en``.
    sources : display layers in EPSG:4326 (WGS84), tooltip columns escaped.
    themes : layers, drawn in order.
    tolerance_m : coverage-simplification tolerance used, metres.
    features : number of grids (or units) drawn.
    level : what a feature is: ``grid``, ``community``, ``street`` or ``district``.
    notes : extra footer lines (plain text).
    """

    kind: str
    title: str
    lang: str
    sources: dict[str, gpd.GeoDataFrame]
    themes: list[Theme | HeatTheme]
    tolerance_m: float
    features: int
    level: str = "grid"
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MapOutput:
    """A written map: the HTML path and size, the PNG path when asked for."""

    path: Path
    bytes: int
    features: int
    tolerance_m: float
    basemap: str
    offline: bool
    png: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form printed by ``gridkit map --format json``."""
        return {"path": str(self.path), "bytes": self.bytes, "features": self.features,
                "tolerance_m": self.tolerance_m, "basemap": self.basemap,
                "offline": self.offline, "png": None if self.png is None else str(self.png)}


# --------------------------------------------------------------------------- preparation


def names_lookup(divisions: pd.DataFrame | None = None,
                 communities: gpd.GeoDataFrame | None = None) -> dict[str, str]:
    """Names of districts, streets and communities by code.

    From the official code list (default: the shipped Guangzhou 2023 list),
    overridden by ``community_name`` of a communities layer.

    Examples
    --------
    >>> names_lookup()["440104"]
    '越秀区'
    """
    names = code_names(load_divisions() if divisions is None else divisions)
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

    The simplification runs in ``metric_crs`` with
    :func:`shapely.coverage_simplify` (shared edges stay shared, no gaps or
    overlaps appear between neighbours); the result is in EPSG:4326.
    Grids with a missing, empty or non-polygonal geometry are not drawn
    (``gridkit validate`` reports them).

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
    kept = to_metric(grids.loc[drawable], metric_crs)
    if tolerance_m > 0 and len(kept):
        kept = kept.set_geometry(shapely.coverage_simplify(kept.geometry.values, tolerance_m))
    return kept.to_crs(4326)


def _grid_table(grids: gpd.GeoDataFrame, names: Mapping[str, str]) -> gpd.GeoDataFrame:
    """Grid codes, the codes of their community/street/district, names, households."""
    keyed = grids if "community_code" in grids.columns else grids.assign(community_code=None)
    out = gpd.GeoDataFrame({
        "grid_code": grids["grid_code"].astype(str),
        "grid_name": grids["grid_name"] if "grid_name" in grids.columns else None,
        **{f"{level}_code": unit_codes(keyed, level) for level in LEVELS[1:]},
    }, geometry=grids.geometry, crs=grids.crs)
    out["households"] = grids["households"] if "households" in grids.columns else np.nan
    out["community_name"] = out["community_code"].map(names).fillna(out["community_code"])
    return out


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


def _format(values: pd.Series, scheme: str) -> pd.Series:
    """Tooltip text of metric values: ``95.0%``, ``1,234`` or ``412.5``; missing → None.

    Each distinct value is formatted once (rates of single grids are mostly 0 or
    1, counts repeat): the Python-level work follows the number of distinct
    values, not of grids.

    Examples
    --------
    >>> _format(pd.Series([1.0, 0.5, None, 1.0]), "rate").tolist()
    ['100.0%', '50.0%', None, '100.0%']
    """
    v = pd.to_numeric(values, errors="coerce").astype(float)
    fmt = {"rate": "{:.1%}", "count": "{:,.0f}", "load": "{:,.1f}"}[scheme]
    codes, uniques = pd.factorize(v, use_na_sentinel=True)
    texts = np.array([fmt.format(x) for x in uniques] + [None], dtype=object)
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


def _unit_layers(display: gpd.GeoDataFrame, levels: Sequence[str]) -> dict[str, gpd.GeoDataFrame]:
    """Units of several levels, each coarser level dissolved from the finer one when it nests.

    A finer unit nests when all its grids carry one code of the coarser level
    (always true for codes derived from the grid code; not for messy layers,
    which are then dissolved from the grids).
    """
    out: dict[str, gpd.GeoDataFrame] = {}
    previous = None
    for level in sorted(levels, key=LEVELS.index):
        finer = None
        if previous is not None:
            pairs = display[[f"{previous}_code", f"{level}_code"]].dropna().drop_duplicates()
            parents = pairs.set_index(f"{previous}_code")[f"{level}_code"]
            if parents.index.is_unique:
                finer = out[previous].assign(parent=out[previous]["code"].map(parents))
        out[level] = _units(display, level, finer)
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
            name=pick(lang, f"{_LEVEL_NAMES[level][0]}界", f"{level} boundaries"), source=key,
            palette=("#333333",), stroke=None, weight=2.0 if level == "district" else 1.0,
            fill_opacity=0.0))
    return themes


# --------------------------------------------------------------------------- classes


def _quantile_breaks(values: np.ndarray, integer: bool) -> np.ndarray:
    """Up to four increasing class limits at the quintiles of ``values``."""
    if not len(values):
        return np.array([])
    q = np.quantile(values, (0.2, 0.4, 0.6, 0.8))
    q = np.ceil(q) if integer else np.round(q, -int(math.floor(math.log10(max(q.max(), 1)))) + 1)
    return np.unique(q[q < values.max()])


def classify(values: pd.Series, scheme: str, lang: str,
             missing: str | None = None) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """Class index, palette and legend labels for metric values.

    ``rate``: fixed breaks at 60, 80, 90, 95 and 100 %; ``count``: 0 and
    quintiles of the positive counts; ``load``: quintiles, green to red.
    Missing values get a grey last class labelled ``missing`` (default 无数据).

    Examples
    --------
    >>> k, pal, lab = classify(pd.Series([1.0, 0.5, None]), "rate", "en")
    >>> k.tolist(), lab[k[0]], lab[k[1]], lab[k[2]]
    ([5, 0, 6], '100%', '<60%', 'no data')
    """
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    known = ~np.isnan(v)
    if scheme == "rate":
        edges = np.array(_RATE_BREAKS)
        palette = _RATE_COLORS
        labels = ("<60%", "60%–80%", "80%–90%", "90%–95%", "95%–99.9%", "100%")
        k = np.searchsorted(edges, np.where(known, v, 0.0), side="right")
    elif scheme == "count":
        positive = v[known & (v > 0)]
        edges = _quantile_breaks(positive, integer=True)
        lows = np.concatenate([[1], edges + 1])
        labels = ("0", *(f"{lo:,.0f}–{hi:,.0f}" if hi > lo else f"{lo:,.0f}"
                         for lo, hi in zip(lows, edges)))
        labels += (f"≥{lows[-1]:,.0f}",) if len(positive) else ()
        palette = (_ZERO_COLOR, *_COUNT_COLORS[-(len(labels) - 1):]) if len(labels) > 1 else (
            _ZERO_COLOR,)
        k = np.where(np.where(known, v, 0) > 0,
                     1 + np.searchsorted(edges, np.where(known, v, 0), side="left"), 0)
    elif scheme == "load":
        edges = _quantile_breaks(v[known], integer=False)
        bounds = [f"{e:,.0f}" for e in edges]
        labels = tuple(
            [f"≤{bounds[0]}"] + [f"{a}–{b}" for a, b in zip(bounds, bounds[1:])]
            + [f">{bounds[-1]}"] if len(edges) else ["–"])
        palette = _LOAD_COLORS[:len(labels)] if len(labels) > 1 else _LOAD_COLORS[:1]
        k = np.searchsorted(edges, np.where(known, v, 0.0), side="left")
    else:
        raise ValueError(f"unknown scheme {scheme!r}")
    missing = missing or pick(lang, "无数据", "no data")
    k = np.where(known, k, len(palette)).astype(int)
    return k, (*palette, _MISSING_COLOR), (*labels, missing)


# --------------------------------------------------------------------------- builders


def _base(grids: gpd.GeoDataFrame, tolerance_m: float, metric_crs: str,
          names: Mapping[str, str] | None, lang: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Simplified display grids with codes and names, and the notes about dropped grids."""
    if "grid_code" not in grids.columns:
        raise InputError("the grid layer has no grid_code column",
                         path=grids.attrs.get("source_path"))
    names = names_lookup() if names is None else names
    display = _grid_table(simplify_grids(grids, tolerance_m, metric_crs), names)
    notes = []
    dropped = len(grids) - len(display)
    if dropped:
        notes.append(pick(lang, f"{dropped} 个网格无有效面几何，未绘制",
                          f"{dropped} grid(s) without polygon geometry not drawn"))
    return display, notes


def grids_map(grids: gpd.GeoDataFrame, *, names: Mapping[str, str] | None = None,
              tolerance_m: float = DEFAULT_TOLERANCE_M, metric_crs: str = DEFAULT_METRIC_CRS,
              lang: str = "zh") -> GridMap:
    """The grid layer coloured by district (by street when it covers one district).

    Tooltips show grid code, name, community and households; street and
    district boundaries are drawn on top.

    Parameters
    ----------
    grids : the grid layer (``gridkit.io.read_layer(path, "grids")``).
    names : code → name of communities, streets, districts (:func:`names_lookup`).
    tolerance_m : coverage-simplification tolerance in metres (0: none).
    metric_crs : CRS in metres for the simplification.
    lang : ``zh`` or ``en``.

    Examples
    --------
    >>> html_text = render_html(grids_map(grids), offline=True)  # doctest: +SKIP
    """
    display, notes = _base(grids, tolerance_m, metric_crs, names, lang)
    names = names_lookup() if names is None else names
    level = "district" if display["district_code"].nunique() > 1 else "street"
    units = sorted(display[f"{level}_code"].unique())
    shown, tooltip = _grid_tooltip(display, lang)
    shown["unit"] = display[f"{level}_code"].map({u: i for i, u in enumerate(units)})
    sources = {"grids": shown}
    palette = tuple(_UNIT_COLORS[i % len(_UNIT_COLORS)] for i in range(len(units)))
    themes: list[Theme | HeatTheme] = [Theme(
        name=pick(lang, "网格", "Grids"), source="grids", palette=palette,
        labels=tuple(names.get(u, u) for u in units), classes="unit", tooltip=tooltip,
        stroke="#666666", weight=0.4, fill_opacity=0.6, outline_zoom=GRID_OUTLINE_ZOOM)]
    themes += _outline_themes(sources, display, lang,
                              ("street", "district") if level == "district" else ("street",))
    return GridMap(kind="grids", title=pick(lang, "综合网格分布图", "Grids"), lang=lang,
                   sources=sources, themes=themes, tolerance_m=tolerance_m,
                   features=len(display), notes=notes)


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
    return gpd.GeoDataFrame(table.drop(columns="wkt"), geometry=geometry, crs="EPSG:4490")


def read_findings(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Read the findings written by ``gridkit validate``: its JSON, or its GeoPackage.

    The GeoPackage (``--out findings.gpkg``) has one layer per rule, grid codes
    joined with ``;``; its ``summary`` table is skipped.

    Raises
    ------
    InputError
        The file is missing or is neither form.
    """
    import pyogrio

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
            frame = gpd.GeoDataFrame(frame, geometry=[None] * len(frame), crs="EPSG:4490")
        frames.append(frame.to_crs("EPSG:4490"))
    if not frames:
        return findings_frame({"findings": []})
    found = pd.concat(frames, ignore_index=True)
    missing = [c for c in ("rule", "severity", "message") if c not in found.columns]
    if missing:
        raise InputError(f"not a findings layer: no column {missing[0]!r}", path=path)
    found["grid_codes"] = [[] if not isinstance(c, str) or not c else c.split(";")
                           for c in found.get("grid_codes", pd.Series([None] * len(found)))]
    return gpd.GeoDataFrame(found, geometry="geometry", crs="EPSG:4490")


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
                 lang: str = "zh") -> GridMap:
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
    display, notes = _base(grids, tolerance_m, metric_crs, names, lang)
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
    for i, (rule, group) in enumerate(placed.groupby("rule", sort=True)):
        title = rule_names.get(rule, rule)
        severities = sorted(set(group["severity"]))
        marks = gpd.GeoDataFrame(geometry=shapely.point_on_surface(group.geometry.values),
                                 crs=4326, index=group.index)
        both = pd.concat([group[["geometry"]], marks])
        src = both.join(pd.DataFrame({
            "t_rule": _escaped([title] * len(group)),
            "t_severity": _escaped([pick(lang, *_SEVERITY_NAMES.get(s, (s, s)))
                                    for s in group["severity"]]),
            "t_codes": _escaped([_codes_text(c) for c in group["grid_codes"]]),
            "t_area": _escaped(_format(group["area_m2"], "load")),
            "t_message": _escaped(group["message"]),
        }, index=group.index))
        key = f"rule_{i}"
        sources[key] = gpd.GeoDataFrame(src, geometry="geometry", crs=4326)
        severity = "/".join(pick(lang, *_SEVERITY_NAMES.get(s, (s, s))) for s in severities)
        color = _RULE_COLORS[i % len(_RULE_COLORS)]
        themes.append(Theme(
            name=f"{title} ({len(group)})", source=key, palette=(color,),
            labels=(severity,), tooltip=labels, stroke=None,
            weight=2.0, fill_opacity=0.35))
    if not len(found):
        notes.append(pick(lang, "未发现问题", "no findings"))
    return GridMap(kind="findings", title=pick(lang, "数据质量问题分布图", "Validation findings"),
                   lang=lang, sources=sources, themes=themes, tolerance_m=tolerance_m,
                   features=int(context.sum()), notes=notes)


def _rows(result: Mapping[str, Any] | pd.DataFrame) -> pd.DataFrame:
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
    label = pick(lang, *_LEVEL_NAMES[level])
    shown = units[["geometry"]].copy()
    shown["t_code"] = _escaped(units.index)
    shown["t_name"] = _escaped(unit_names.reindex(units.index).fillna(
        fallback.map(names)).fillna(fallback))
    return shown, (("t_code", pick(lang, f"{label}编码", f"{label} code")),
                   ("t_name", pick(lang, f"{label}名称", f"{label} name")))


def _metric_themes(shown: gpd.GeoDataFrame, rows: pd.DataFrame, metrics: Sequence[str],
                   tooltip: tuple, lang: str, missing: Mapping[str, str] | None = None,
                   outline_zoom: int = 0) -> tuple[gpd.GeoDataFrame, list[Theme]]:
    """One choropleth theme per metric over ``shown`` (indexed by code); all in each tooltip."""
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise InputError(f"unknown metric {unknown[0]!r}; known: {', '.join(METRICS)}")
    absent = [m for m in metrics if m not in rows.columns]
    if absent:
        raise InputError(f"metric {absent[0]!r} is not in the per-unit rows; they have "
                         f"{', '.join(map(str, rows.columns))}")
    in_tooltip = [m for m in METRICS if m in rows.columns]
    joined = rows.reindex(shown.index)
    themes = []
    for m in in_tooltip:
        shown[f"t_{m}"] = _escaped(_format(joined[m], METRICS[m]))
    tooltip = tooltip + tuple((f"t_{m}", metric_label(m, lang))
                              for m in in_tooltip)
    for i, m in enumerate(metrics):
        k, palette, labels = classify(joined[m], METRICS[m], lang,
                                      (missing or {}).get(m))
        shown[f"k_{m}"] = k
        themes.append(Theme(name=metric_label(m, lang), source="units",
                            palette=palette, labels=labels, classes=f"k_{m}", tooltip=tooltip,
                            show=i == 0, stroke="#777777", weight=0.4, fill_opacity=0.75,
                            outline_zoom=outline_zoom))
    return shown.reset_index(drop=True), themes


def coverage_map(grids: gpd.GeoDataFrame, coverage: Mapping[str, Any] | pd.DataFrame,
                 metrics: Sequence[str] | None = None, *, level: str | None = None,
                 names: Mapping[str, str] | None = None,
                 tolerance_m: float = DEFAULT_TOLERANCE_M, metric_crs: str = DEFAULT_METRIC_CRS,
                 lang: str = "zh") -> GridMap:
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
        :data:`COVERAGE_METRICS` that have a value in some row.
    level : ``grid``, ``community``, ``street`` or ``district``; default the
        JSON's ``by`` (``grid`` for a DataFrame).
    Other parameters as :func:`grids_map`.

    Examples
    --------
    >>> gmap = coverage_map(grids, coverage_json, ["party_coverage"])  # doctest: +SKIP
    """
    level = level or (coverage.get("by", "grid") if isinstance(coverage, Mapping) else "grid")
    if level not in LEVELS:
        raise InputError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    display, notes = _base(grids, tolerance_m, metric_crs, names, lang)
    names = names_lookup() if names is None else names
    rows = _rows(coverage)
    if metrics is None:
        metrics = [m for m in COVERAGE_METRICS if m in rows and rows[m].notna().any()]
    if not metrics:
        raise InputError("no coverage metric to map: give the roster files (--filings, --party, "
                         "--cadres, --workers) or a coverage JSON with rates")
    outlines = ("street", "district") if level in ("grid", "community") else ("district",)
    # Every level drawn is dissolved once, the coarser from the finer.
    units = _unit_layers(display, sorted({level, *outlines} - {"grid"}, key=LEVELS.index))
    shown, tooltip = _metric_source(display, rows, level, names, lang, units)
    missing = {"households_per_fulltime_worker": pick(lang, "无专职网格员", "no full-time worker")}
    shown, themes = _metric_themes(shown, rows, list(metrics), tooltip, lang, missing,
                                   GRID_OUTLINE_ZOOM if level == "grid" else 0)
    sources: dict[str, gpd.GeoDataFrame] = {"units": shown}
    themes += _outline_themes(sources, display, lang, outlines, units)
    if level != "grid":
        notes.append(pick(lang, f"按{_LEVEL_NAMES[level][0]}汇总", f"rolled up by {level}"))
    return GridMap(kind="coverage", title=pick(lang, "网格覆盖情况图", "Coverage"), lang=lang,
                   sources=sources, themes=themes, tolerance_m=tolerance_m,
                   features=len(shown), level=level, notes=notes)


def heat_points(x: np.ndarray, y: np.ndarray, crs: str = "wgs84", *, bin_m: float = HEAT_BIN_M,
                metric_crs: str = DEFAULT_METRIC_CRS,
                max_points: int | None = HEAT_MAX_POINTS) -> pd.DataFrame:
    """Bin event coordinates on a square grid of ``bin_m`` metres for a heat map.

    Millions of work orders become at most ``max_points`` weighted points
    (WGS84 bin centres, weight = count ÷ largest count): when more bins are
    occupied, the bin side is doubled until they are few enough. The side used
    is ``result.attrs["bin_m"]``. Coordinates are in ``crs`` (a ``--crs``
    spec: GCJ-02/BD-09 are converted); missing or impossible ones
    (:func:`gridkit.crs.valid_coordinate_mask`) are left out.

    Examples
    --------
    >>> p = heat_points(np.array([113.3, 113.3, 113.5, 0]), np.array([23.1, 23.1, 23.2, 0]))
    >>> sorted(p.weight.tolist()), p.attrs["bin_m"]
    ([0.5, 1.0], 250.0)
    >>> p = heat_points(np.array([113.3, 113.31]), np.array([23.1, 23.1]), max_points=1)
    >>> len(p), p.attrs["bin_m"] > 250
    (1, True)
    """
    spec = parse_crs(crs)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = valid_coordinate_mask(x, y, spec)
    x, y = x[ok], y[ok]
    if spec.offset:
        x, y = convert_coordinates(x, y, spec.offset, "wgs84")
    # Plain coordinate arrays through pyproj, one integer key per cell: ten million
    # work orders never become shapely points.
    if str(metric_crs).lower() == AUTO_METRIC_CRS and len(x):
        to_lonlat = pyproj.Transformer.from_crs(spec.crs, 4326, always_xy=True)
        metric_crs = auto_metric_crs(*to_lonlat.transform(np.median(x), np.median(y)))
    mx, my = pyproj.Transformer.from_crs(spec.crs, metric_crs, always_xy=True).transform(x, y)
    i, j = np.floor(mx / bin_m).astype(np.int64), np.floor(my / bin_m).astype(np.int64)
    i, j, counts = _cells(i, j)
    while max_points and len(i) > max_points:
        # floor(v / 2b) == floor(floor(v / b) / 2): coarser cells from the occupied ones only.
        bin_m *= 2
        i, j, counts = _cells(i // 2, j // 2, counts)
    lon, lat = pyproj.Transformer.from_crs(metric_crs, 4326, always_xy=True).transform(
        (i + 0.5) * bin_m, (j + 0.5) * bin_m)
    heat = pd.DataFrame({"lon": lon, "lat": lat,
                         "weight": counts / counts.max() if len(counts) else counts})
    heat.attrs["bin_m"] = float(bin_m)
    return heat


def _cells(i: np.ndarray, j: np.ndarray, weights: np.ndarray | None = None,
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct cells ``(i, j)`` sorted by ``i`` then ``j``, with their summed weights.

    ``weights=None``: each entry counts 1 (the first pass over millions of points
    then skips the inverse index).
    """
    if not len(i):
        return i, j, np.zeros(0)
    rows = j.max() - j.min() + 1
    key = (i - i.min()) * rows + (j - j.min())
    if weights is None:
        keys, sums = np.unique(key, return_counts=True)
    else:
        keys, inverse = np.unique(key, return_inverse=True)
        sums = np.bincount(inverse, weights=weights, minlength=len(keys))
    return keys // rows + i.min(), keys % rows + j.min(), sums.astype(float)


def events_map(grids: gpd.GeoDataFrame, events: Mapping[str, Any] | pd.DataFrame, *,
               points: pd.DataFrame | None = None, points_crs: str = "wgs84",
               count: str = "events",
               names: Mapping[str, str] | None = None,
               tolerance_m: float = DEFAULT_TOLERANCE_M, metric_crs: str = DEFAULT_METRIC_CRS,
               lang: str = "zh") -> GridMap:
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
    count : the row column counted per grid (``events`` or ``located``).
    Other parameters as :func:`grids_map`.
    """
    display, notes = _base(grids, tolerance_m, metric_crs, names, lang)
    rows = _rows(events)
    shown, tooltip = _metric_source(display, rows, "grid", {}, lang)
    metrics = [count] + [m for m in ("dispatch_accuracy",) if m in rows.columns]
    missing = {"dispatch_accuracy": pick(lang, "无已转派工单", "no dispatched orders")}
    shown, themes = _metric_themes(shown, rows.fillna({count: 0}), metrics, tooltip, lang,
                                   missing, GRID_OUTLINE_ZOOM)
    sources: dict[str, gpd.GeoDataFrame] = {"units": shown}
    themes += _outline_themes(sources, display, lang, ("street", "district"))
    if points is not None:
        heat = heat_points(points["lon"].to_numpy(dtype=float),
                           points["lat"].to_numpy(dtype=float), points_crs,
                           metric_crs=metric_crs)
        themes.append(HeatTheme(name=pick(lang, "工单热力图", "Work-order heat map"),
                                points=heat))
        side = heat.attrs["bin_m"]
        notes.append(pick(lang, f"热力图：{side:.0f} m 方格汇总",
                          f"heat map binned on {side:.0f} m squares"))
    return GridMap(kind="events", title=pick(lang, "工单分布图", "Work orders"), lang=lang,
                   sources=sources, themes=themes, tolerance_m=tolerance_m,
                   features=len(shown), notes=notes)


# --------------------------------------------------------------------------- encoding


def _script_json(obj: Any) -> str:
    """Compact JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


#: Characters of the coordinate text: each carries 5 bits of a number and a continuation bit.
ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ALPHABET = np.frombuffer(ALPHABET, np.uint8)


def varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Encode integers as text: zigzag, then 5 bits per character, least significant first.

    Returns the text and the number of characters of each value. Small
    numbers (the deltas between neighbouring vertices) take one or two
    characters, against four or five as decimal JSON.

    Examples
    --------
    >>> varints(np.array([0, -1, 1, 16, 1000]))
    (b'ABCgBw-B', array([1, 1, 1, 2, 3]))
    """
    z = ((values.astype(np.int64) << 1) ^ (values.astype(np.int64) >> 63)).astype(np.uint64)
    chunks = np.ones(len(z), np.int64)
    rest = z >> np.uint64(5)
    while rest.any():
        chunks += rest > 0
        rest >>= np.uint64(5)
    width = int(chunks.max(initial=1))
    position = np.arange(width)
    digits = (z[:, None] >> (np.uint64(5) * position.astype(np.uint64))) & np.uint64(31)
    more = (position[None, :] < chunks[:, None] - 1).astype(np.uint64) << np.uint64(5)
    text = _ALPHABET[(digits | more).astype(np.intp)][position[None, :] < chunks[:, None]]
    return text.tobytes(), chunks


def _delta_rings(coords: np.ndarray, offsets: np.ndarray, closed: bool) -> list[str]:
    """Quantise coordinates and write each ring/line as the text of ``x0 y0 dx1 dy1 ...``.

    Coordinates are integers in 1e-5 degree; the first vertex of a ring is
    absolute, the others are deltas (:func:`varints`). Repeated vertices
    (after quantising) and, for closed rings, the closing vertex are dropped;
    the browser restores the closure.
    """
    q = np.rint(coords * COORD_SCALE).astype(np.int64)
    sizes = np.diff(offsets)
    ring_id = np.repeat(np.arange(len(sizes)), sizes)
    first = np.zeros(len(q), bool)
    first[offsets[:-1][sizes > 0]] = True
    delta = q.copy()
    delta[1:] -= q[:-1]
    delta[first] = q[first]
    keep = first | (delta != 0).any(axis=1)
    if closed:
        keep[offsets[1:][sizes > 0] - 1] = False
    text, chunks = varints(delta[keep].ravel())
    vertex_chars = chunks.reshape(-1, 2).sum(axis=1)
    chars = np.bincount(ring_id[keep], weights=vertex_chars, minlength=len(sizes))
    ends = np.cumsum(chars).astype(np.int64).tolist()
    decoded = text.decode("ascii")
    return [decoded[a:b] for a, b in zip([0, *ends[:-1]], ends)]


def _nest(items: list, offsets: np.ndarray) -> list[list]:
    bounds = offsets.tolist()
    return [items[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def encode_geometries(geoms: np.ndarray) -> list[tuple[str, list | str]]:
    """Compact form of each geometry: ``("P"|"L"|"X", nested coordinate texts)``.

    ``P``: a (multi)polygon as polygons → ring texts; ``L``: (multi)lines as
    line texts; ``X``: (multi)points as one text (see :func:`_delta_rings`).
    Geometry collections are not accepted (explode them first).

    Examples
    --------
    >>> from shapely import Point, box
    >>> encode_geometries(np.array([box(113.3, 23.1, 113.30002, 23.10001), Point(0, 0)]))
    [('P', [['k9wzVg3_sEACDAAB']]), ('X', 'AA')]
    """
    type_ids = shapely.get_type_id(geoms)
    families = {"P": (3, 6), "L": (1, 5), "X": (0, 4)}
    out: list[tuple[str, list | str]] = [("X", "")] * len(geoms)
    for family, ids in families.items():
        idx = np.flatnonzero(np.isin(type_ids, ids))
        if not len(idx):
            continue
        _, coords, offsets = shapely.to_ragged_array(geoms[idx])
        if family == "X":
            parts = _delta_rings(coords, offsets[0] if offsets else np.arange(len(idx) + 1),
                                 False)
        elif family == "L":
            lines = _delta_rings(coords, offsets[0], False)
            parts = _nest(lines, offsets[1]) if len(offsets) > 1 else [[p] for p in lines]
        else:
            rings = _delta_rings(coords, offsets[0], True)
            polygons = _nest(rings, offsets[1])
            parts = _nest(polygons, offsets[2]) if len(offsets) > 2 else [[p] for p in polygons]
        for i, part in zip(idx, parts):
            out[i] = (family, part)
    if np.isin(type_ids, (2, 7)).any():
        raise ValueError("explode geometry collections and rings before encoding")
    return out


def _key(i: int) -> str:
    """Short property keys: a, b, ..., z, ba, bb, ..."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[i] if i < 26 else _key(i // 26) + letters[i % 26]


def encode_source(gdf: gpd.GeoDataFrame, columns: Sequence[str], system: str = "wgs84",
                  ) -> tuple[str, dict[str, str]]:
    """The JavaScript literal of a source and the short key of each column.

    ``{"scale": 100000, "alphabet": ..., "keys": [key, ...], "dicts": {key:
    [text, ...]}, "features": [[[value, ...], family, geometry], ...]}`` (see
    :func:`encode_geometries`). Properties are positional, in the order of
    ``keys`` (``null``: missing), so that 20,000 features do not each repeat
    every key. A text column with many repeated values (community names,
    formatted rates) is written once in ``dicts`` and referenced by position.
    ``gk.decode`` in the page turns it into GeoJSON.

    Examples
    --------
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame({"name": ["a", "a", "b", None]}, geometry=[Point(0, 0)] * 4)
    >>> text, keys = encode_source(g, ["name"])
    >>> data = json.loads(text)
    >>> keys, data["dicts"], data["features"][2][0], data["features"][3][0]
    ({'name': 'a'}, {'a': ['a', 'b']}, [1], [None])
    """
    geoms = gdf.geometry.values
    if system != "wgs84":
        geoms = convert_geometries(np.asarray(geoms), "wgs84", system)
    keys = {c: _key(i) for i, c in enumerate(columns)}
    dicts: dict[str, list] = {}
    values = []
    for column in columns:
        col = gdf[column]
        if not pd.api.types.is_numeric_dtype(col) and col.nunique() * 2 <= len(col):
            positions, uniques = pd.factorize(col)
            dicts[keys[column]] = list(uniques)
            refs = positions.astype(object)
            refs[positions < 0] = None
            values.append(refs.tolist())
        else:
            values.append(col.astype(object).where(col.notna(), None).tolist())
    encoded = encode_geometries(np.asarray(geoms))
    rows = zip(*values) if columns else ([] for _ in encoded)
    features = [(row, *g) for row, g in zip(rows, encoded)]
    return _script_json({"scale": COORD_SCALE, "alphabet": ALPHABET.decode("ascii"),
                         "keys": list(keys.values()), "dicts": dicts,
                         "features": features}), keys


# --------------------------------------------------------------------------- folium elements


_HELPERS = """
var gk = {
  decode: function (src) {
    if (src.fc) { return src.fc; }
    var s = src.scale, code = new Int8Array(128);
    for (var c = 0; c < 64; c++) { code[src.alphabet.charCodeAt(c)] = c; }
    function line(r) {
      var out = [], x = 0, y = 0, i = 0;
      function next() {
        var v = 0, shift = 0, b;
        do { b = code[r.charCodeAt(i++)]; v |= (b & 31) << shift; shift += 5; } while (b & 32);
        return (v >>> 1) ^ -(v & 1);
      }
      while (i < r.length) { x += next(); y += next(); out.push([x / s, y / s]); }
      return out;
    }
    var geometry = {
      P: function (g) {
        return {type: 'MultiPolygon', coordinates: g.map(function (p) { return p.map(line); })};
      },
      L: function (g) { return {type: 'MultiLineString', coordinates: g.map(line)}; },
      X: function (g) { return {type: 'MultiPoint', coordinates: line(g)}; }
    };
    src.fc = {type: 'FeatureCollection', features: src.features.map(function (f) {
      var p = {};
      src.keys.forEach(function (k, j) {
        var v = f[0][j];
        if (v !== null) { p[k] = k in src.dicts ? src.dicts[k][v] : v; }
      });
      return {type: 'Feature', properties: p, geometry: geometry[f[1]](f[2])};
    })};
    return src.fc;
  },
  layer: function (src, spec) {
    var layer = L.geoJson(null, {
      interactive: spec.tip.length > 0,
      style: function (f) {
        var c = spec.pal[spec.k === null ? 0 : f.properties[spec.k]];
        var thin = layer._map && layer._map.getZoom() < spec.z;
        return {color: spec.stroke || c, weight: thin ? 0 : spec.w, opacity: 0.9, fillColor: c,
                fillOpacity: spec.fo};
      },
      pointToLayer: function (f, ll) { return L.circleMarker(ll, {radius: 5}); }
    });
    if (spec.tip.length) {
      layer.bindTooltip(function (l) {
        var p = l.feature.properties;
        return '<table class="gk-tip">' + spec.tip.map(function (t) {
          return '<tr><th>' + t[1] + '</th><td>' + (p[t[0]] === undefined ? '-' : p[t[0]]) +
            '</td></tr>';
        }).join('') + '</table>';
      }, {sticky: true});
    }
    var thin = null;
    function restyle() {
      if (layer._map && (layer._map.getZoom() < spec.z) !== thin) {
        thin = !thin;
        layer.resetStyle();
      }
    }
    layer.on('add', function () {
      if (thin === null) {
        thin = layer._map.getZoom() < spec.z;
        layer.addData(gk.decode(src));
        layer._map.on('zoomend', restyle);
      }
      restyle();
    });
    return layer;
  }
};
"""

_CSS = """
.folium-map { background: #eef0f2; }
.gk-panel { position: absolute; z-index: 1000; background: rgba(255,255,255,0.92);
  padding: 6px 9px; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,0.3);
  font: 12px/1.45 "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; }
.gk-title { top: 10px; left: 52px; font-size: 15px; font-weight: bold; }
.gk-legend { bottom: 34px; right: 10px; max-height: 45%; overflow-y: auto; }
.gk-legend-title { font-weight: bold; margin-top: 3px; }
.gk-legend i { display: inline-block; width: 14px; height: 10px; margin-right: 6px;
  border: 1px solid #777; vertical-align: middle; }
.gk-footer { bottom: 0; left: 50%; transform: translateX(-50%); font-size: 11px;
  border-radius: 4px 4px 0 0; color: #333; max-width: 70%; }
.gk-tip th { text-align: left; font-weight: normal; color: #555; padding-right: 8px; }
.gk-tip td { max-width: 360px; white-space: normal; }
"""

SIZE_PLACEHOLDER = "@@GRIDKIT_MAP_SIZE@@"


class _Raw(Element):
    """Text written as is (an inlined asset), never passed through a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


class _Source(folium.MacroElement):
    """``var <name> = {...};``: one encoded source, shared by the layers that draw it."""

    _template = Template("{% macro script(this, kwargs) %}"
                         "var {{ this.get_name() }} = {{ this.payload }};"
                         "{% endmacro %}")

    def __init__(self, payload: str) -> None:
        super().__init__()
        self._name = "GkSource"
        self.payload = payload


class _ThemeLayer(Layer):
    """A :class:`Theme` as a Leaflet GeoJSON layer built by ``gk.layer``."""

    _template = Template("{% macro script(this, kwargs) %}"
                         "var {{ this.get_name() }} = gk.layer({{ this.source.get_name() }}, "
                         "{{ this.spec }});"
                         "{% endmacro %}")

    def __init__(self, theme: Theme, source: _Source, keys: Mapping[str, str]) -> None:
        super().__init__(name=html.escape(theme.name), overlay=True, control=True,
                         show=theme.show)
        self._name = "GkLayer"
        self.source = source
        self.spec = _script_json({
            "k": None if theme.classes is None else keys[theme.classes],
            "pal": list(theme.palette), "stroke": theme.stroke, "w": theme.weight,
            "fo": theme.fill_opacity, "z": theme.outline_zoom,
            "tip": [[keys[c], html.escape(label)] for c, label in theme.tooltip]})


class _Page(folium.MacroElement):
    """Styles and helper script, title, legend (following the visible layers) and footer."""

    _template = Template("""
{% macro header(this, kwargs) %}<style>{{ this.css }}</style><script>{{ this.helpers }}</script>
{% endmacro %}
{% macro html(this, kwargs) %}
<div class="gk-panel gk-title">{{ this.title }}</div>
{%- if this.legends %}
<div class="gk-panel gk-legend">
{%- for layer, title, items in this.legends %}
<div class="gk-legend-block" id="{{ layer.get_name() }}_legend">
<div class="gk-legend-title">{{ title }}</div>
{%- for color, label in items %}
<div><i style="background:{{ color }}"></i>{{ label }}</div>
{%- endfor %}
</div>
{%- endfor %}
</div>
{%- endif %}
<div class="gk-panel gk-footer">{{ this.footer }}</div>
{% endmacro %}
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var legends = [
  {%- for layer, title, items in this.legends %}
    [{{ layer.get_name() }}, document.getElementById("{{ layer.get_name() }}_legend")],
  {%- endfor %}
  ];
  function sync() {
    legends.forEach(function (l) { l[1].style.display = map.hasLayer(l[0]) ? "" : "none"; });
  }
  map.on("overlayadd overlayremove", sync);
  sync();
})();
{% endmacro %}
""")

    def __init__(self, title: str, footer: str,
                 legends: list[tuple[Layer, str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self._name = "GkPage"
        self.css = _CSS
        self.helpers = _HELPERS
        self.title = html.escape(title)
        self.footer = footer
        self.legends = [(layer, html.escape(name), [(c, html.escape(t)) for c, t in items])
                        for layer, name, items in legends]


@cache
def _asset(name: str) -> str:
    """An inlined asset: ``<script>`` or ``<style>`` with the vendored file."""
    text = (STATIC_DIR / _VENDORED[name]).read_text(encoding="utf-8")
    if name.endswith("css"):
        for image in ("layers.png", "layers-2x.png"):
            data = base64.b64encode((STATIC_DIR / image).read_bytes()).decode("ascii")
            text = text.replace(f"url(images/{image})", f"url(data:image/png;base64,{data})")
        return f"<style>{text}</style>"
    text = re.sub(r"//# sourceMappingURL=\S+\s*$", "", text)
    return f"<script>{text}</script>"


#: CDN assets of folium's default template that gridkit maps never use.
_UNUSED_ASSETS = {"jquery", "bootstrap", "awesome_markers", "bootstrap_css", "glyphicons_css",
                  "awesome_markers_font_css", "awesome_markers_css", "awesome_rotate_css"}


def _walk(element: Element):
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def _use_assets(m: folium.Map, offline: bool) -> None:
    """Keep only the JS/CSS the map needs: inlined when offline, else from the CDN."""
    figure = m.get_root()
    for element in _walk(m):
        if not isinstance(element, JSCSSMixin):
            continue
        names = [n for n, _ in [*element.default_js, *element.default_css]
                 if n not in _UNUSED_ASSETS]
        unknown = [n for n in names if n not in _VENDORED]
        if unknown:
            raise RuntimeError(f"no vendored copy of the asset {unknown[0]!r}")
        element.default_js = [(n, _CDN[n]) for n in names if not offline and n in _CDN
                              and not n.endswith("css")]
        element.default_css = [(n, _CDN[n]) for n in names if not offline and n.endswith("css")]
        if offline:
            for n in names:
                figure.header.add_child(_Raw(_asset(n)), name=n)


def _number_elements(m: folium.Map) -> None:
    """Replace folium's random element ids by sequence numbers: same input, same file."""
    for i, element in enumerate(_walk(m.get_root())):
        element._id = f"{i:04d}"


_EXTERNAL = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE)


def resolve_basemap(basemap: str | None, offline: bool) -> str:
    """The basemap to draw: ``none`` offline, ``osm`` online unless one is chosen.

    Raises
    ------
    InputError
        a tile basemap was asked for with ``offline``, or the name is unknown.
    """
    if basemap is None:
        return "none" if offline else "osm"
    if basemap not in BASEMAPS:
        raise InputError(f"unknown basemap {basemap!r}; use one of {', '.join(BASEMAPS)}")
    if offline and basemap != "none":
        raise InputError(f"--offline loads no tiles: use --basemap none, not {basemap}")
    return basemap


def human_size(n: int) -> str:
    """``1.5 MB`` (10^6 bytes) or ``820 KB`` (10^3 bytes).

    >>> human_size(2_345_678), human_size(820_400)
    ('2.3 MB', '820 KB')
    """
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


def _footer(gmap: GridMap, basemap: str) -> str:
    lang = gmap.lang
    unit = _LEVEL_NAMES[gmap.level]
    parts = [pick(lang, f"{gmap.features:,} 个{unit[0]}", f"{gmap.features:,} {unit[1]} units"),
             pick(lang, f"简化容差 {gmap.tolerance_m:g} m（coverage_simplify）",
                  f"simplification tolerance {gmap.tolerance_m:g} m (coverage_simplify)"),
             pick(lang, "坐标精度约 1 m", "coordinates to about 1 m"),
             pick(lang, f"文件大小 {SIZE_PLACEHOLDER}", f"file size {SIZE_PLACEHOLDER}"),
             pick(lang, f"底图：{_BASEMAP_NAMES[basemap][0]}",
                  f"basemap: {_BASEMAP_NAMES[basemap][1]}")]
    if basemap in BASEMAP_TILES and BASEMAP_TILES[basemap].system == "gcj02":
        parts.append(pick(lang, "叠加图层已转为 GCJ-02", "overlays shifted to GCJ-02"))
    parts += gmap.notes
    parts.append(f"gridkit {__version__}")
    return " · ".join(html.escape(p) for p in parts)


def render_html(gmap: GridMap, *, basemap: str | None = None, offline: bool = False) -> str:
    """Draw a map as one HTML page with folium.

    Parameters
    ----------
    gmap : from a builder (:func:`grids_map`, ...).
    basemap : ``none``, ``osm``, ``amap`` or ``tencent``; default ``osm``
        online, ``none`` offline. Amap and Tencent tiles are GCJ-02, so the
        overlays are shifted to GCJ-02 to line up with them.
    offline : inline Leaflet (and leaflet.heat) from ``gridkit/static`` and
        load nothing from the network.

    Returns
    -------
    The page; its footer states the file size (UTF-8 bytes).
    """
    basemap = resolve_basemap(basemap, offline)
    system = BASEMAP_TILES[basemap].system if basemap in BASEMAP_TILES else "wgs84"
    m = folium.Map(location=None, tiles=None, prefer_canvas=True, control_scale=True)
    m.get_root().title = html.escape(gmap.title)
    if basemap in BASEMAP_TILES:
        tiles = BASEMAP_TILES[basemap]
        folium.TileLayer(tiles.url, attr=tiles.attribution, subdomains=tiles.subdomains,
                         max_zoom=18, name=_BASEMAP_NAMES[basemap][0], control=False).add_to(m)

    used = [t.source for t in gmap.themes if isinstance(t, Theme)]
    sources: dict[str, tuple[_Source, dict[str, str]]] = {}
    bounds = []
    for key in dict.fromkeys(used):
        gdf = gmap.sources[key]
        columns = list(dict.fromkeys(
            c for t in gmap.themes if isinstance(t, Theme) and t.source == key
            for c in ([t.classes] if t.classes else []) + [c for c, _ in t.tooltip]))
        payload, keys = encode_source(gdf, columns, system)
        sources[key] = (_Source(payload).add_to(m), keys)
        if len(gdf):
            bounds.append(gdf.total_bounds)
    legends = []
    for theme in gmap.themes:
        if isinstance(theme, HeatTheme):
            lon, lat = convert_coordinates(theme.points["lon"].to_numpy(),
                                           theme.points["lat"].to_numpy(), "wgs84", system)
            HeatMap(np.column_stack([np.round(lat, 5), np.round(lon, 5),
                                     np.round(theme.points["weight"].to_numpy(), 3)]),
                    name=html.escape(theme.name), show=theme.show, min_opacity=0.3, radius=12,
                    blur=15, max_zoom=15).add_to(m)
            continue
        source, keys = sources[theme.source]
        layer = _ThemeLayer(theme, source, keys).add_to(m)
        if theme.labels:
            legends.append((layer, theme.name, list(zip(theme.palette, theme.labels))))
    if bounds:
        b = np.array(bounds)
        lon, lat = convert_coordinates([b[:, 0].min(), b[:, 2].max()],
                                       [b[:, 1].min(), b[:, 3].max()], "wgs84", system)
        m.fit_bounds(np.round([[lat[0], lon[0]], [lat[1], lon[1]]], 6).tolist())
    folium.LayerControl(collapsed=False).add_to(m)
    _Page(gmap.title, _footer(gmap, basemap), legends).add_to(m)
    _use_assets(m, offline)
    _number_elements(m)
    text = m.get_root().render()
    if offline and _EXTERNAL.search(text):
        raise RuntimeError("an offline map references an external resource: "
                           + _EXTERNAL.search(text).group(0))
    size = len(text.encode("utf-8")) - len(SIZE_PLACEHOLDER)
    size += len(human_size(size))
    return text.replace(SIZE_PLACEHOLDER, human_size(size))


# --------------------------------------------------------------------------- PNG

#: CJK fonts tried for the PNG, first found wins (Debian: fonts-noto-cjk).
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "Microsoft YaHei", "SimHei", "PingFang SC")
#: Above this many features a layer is drawn without outlines in the PNG (as when zoomed out).
_PNG_OUTLINE_LIMIT = 2000


def cjk_font() -> str | None:
    """The first installed font of :data:`CJK_FONTS`, or ``None``."""
    from matplotlib import font_manager

    for name in CJK_FONTS:
        try:
            font_manager.findfont(name, fallback_to_default=False)
        except ValueError:
            continue
        return name
    return None


def render_png(gmap: GridMap, path: str | os.PathLike, *, dpi: int = 150) -> None:
    """Draw the layers shown on opening as a static PNG for print (matplotlib).

    Same colours, legend and title as the HTML map; WGS84, no basemap. Chinese
    text needs a CJK font (:data:`CJK_FONTS`); without one a warning is issued
    and the text may show as boxes.

    Examples
    --------
    >>> render_png(grids_map(grids), "maps/grids.png")  # doctest: +SKIP
    """
    import matplotlib
    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    font = cjk_font()
    if font is None and gmap.lang == "zh":
        warnings.warn("no CJK font found (install fonts-noto-cjk): Chinese text in the PNG "
                      "may show as boxes", stacklevel=2)
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": families}):
        fig = Figure(figsize=(10, 10), layout="constrained")
        ax = fig.add_subplot()
        handles = []
        for theme in gmap.themes:
            if not theme.show:
                continue
            if isinstance(theme, HeatTheme):
                pts = theme.points
                ax.scatter(pts["lon"], pts["lat"], c=pts["weight"], cmap="YlOrRd", s=4,
                           alpha=0.6, linewidths=0)
                continue
            gdf = gmap.sources[theme.source]
            classes = (np.zeros(len(gdf), int) if theme.classes is None
                       else gdf[theme.classes].to_numpy(dtype=int))
            # RGBA per class, then per feature by indexing: no Python loop over features.
            fill = np.array([to_rgba(c, theme.fill_opacity) for c in theme.palette])
            edge = np.array([to_rgba(theme.stroke or c, 0.9) for c in theme.palette])
            thin = theme.outline_zoom and len(gdf) > _PNG_OUTLINE_LIMIT
            gdf.plot(ax=ax, color=fill[classes], edgecolor=edge[classes], markersize=12,
                     linewidth=0 if thin else theme.weight * 0.75)
            if len(theme.labels) == 1:  # a findings rule: one line, "rule (n) · severity"
                handles.append(Patch(facecolor=theme.palette[0], edgecolor="#777777",
                                     label=f"{theme.name} · {theme.labels[0]}"))
            elif theme.labels:
                handles.append(Patch(color="none", label=theme.name))
                handles += [Patch(facecolor=c, edgecolor="#777777", label=t)
                            for c, t in zip(theme.palette, theme.labels)]
        if handles:  # beside the map, never over it
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8,
                      framealpha=0.9)
        ax.set_title(gmap.title, fontsize=14)
        ax.set_axis_off()
        footer = _footer(gmap, "none").split(" · ")
        fig.text(0.5, 0.005, " · ".join(html.unescape(p) for p in footer
                                       if SIZE_PLACEHOLDER not in p), ha="center",
                 fontsize=7, color="#444444")
        fig.savefig(path, dpi=dpi, format="png")


# --------------------------------------------------------------------------- writing


def write_map(gmap: GridMap, path: str | os.PathLike, *, basemap: str | None = None,
              offline: bool = False, png: bool = False, force: bool = False,
              page: str | None = None) -> MapOutput:
    """Write the HTML map (and with ``png`` the PNG next to it, same name).

    Both outputs are checked before any work and written atomically.
    ``page``: the map's HTML when already rendered (by :func:`render_html`
    with the same ``basemap`` and ``offline``).

    Examples
    --------
    >>> out = write_map(grids_map(grids), "maps/grids.html", offline=True)  # doctest: +SKIP
    >>> out.bytes < 10_000_000  # doctest: +SKIP
    True
    """
    path = Path(path)
    png_path = path.with_suffix(".png") if png else None
    for target in (path, png_path):
        if target is not None:
            check_writable(target, force)
    basemap = resolve_basemap(basemap, offline)
    if page is None:
        page = render_html(gmap, basemap=basemap, offline=offline)
    text = page.encode("utf-8")
    with atomic_output(path, force) as tmp:
        tmp.write_bytes(text)
    if png_path is not None:
        with atomic_output(png_path, force) as tmp:
            render_png(gmap, tmp)
    return MapOutput(path=path, bytes=len(text), features=gmap.features,
                     tolerance_m=gmap.tolerance_m, basemap=basemap, offline=offline,
                     png=png_path)

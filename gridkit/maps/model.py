"""What a map shows, independent of how it is drawn: layers, themes, basemaps, footer."""

from __future__ import annotations

__all__ = [
    "BASEMAPS",
    "BASEMAP_NAMES",
    "BASEMAP_TILES",
    "DEFAULT_TOLERANCE_M",
    "GRID_OUTLINE_ZOOM",
    "MAP_KINDS",
    "LEVEL_NAMES",
    "MAP_LEVELS",
    "SEVERITY_NAMES",
    "SIZE_PLACEHOLDER",
    "Basemap",
    "GridMap",
    "HeatTheme",
    "MapOutput",
    "Theme",
    "footer_parts",
    "human_size",
    "resolve_basemap",
]

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from gridkit import __version__
from gridkit.errors import InputError
from gridkit.i18n import LEVEL_NAMES, SEVERITY_NAMES, pick

MAP_KINDS = ("grids", "findings", "coverage", "events", "diff")
BASEMAPS = ("none", "osm", "amap", "tencent")
#: What a map feature can be: a grid, or a community, street or district dissolved from grids.
MAP_LEVELS = ("grid", "community", "street", "district")
#: Coverage-simplification tolerance of the maps, metres.
DEFAULT_TOLERANCE_M = 5.0
#: Zoom from which the outlines of individual grids are drawn (a grid is ~20 px wide there).
GRID_OUTLINE_ZOOM = 12


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
BASEMAP_NAMES = {"none": ("无底图", "no basemap"), "osm": ("OpenStreetMap", "OpenStreetMap"),
                  "amap": ("高德地图", "Amap"), "tencent": ("腾讯地图", "Tencent Maps")}


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
    group : heading of the section of the layer panel the layer is listed
        under (plain text); ``""``: the unnamed first section.
    count : number shown beside the name in the panel (e.g. findings of a
        rule); ``None``: none.
    dashed : dashed outline (a warning), else solid (an error, or any other layer).
    exclusive : one at a time among the exclusive layers of its group (the
        panel shows radio buttons): choropleths of one area hide each other.
    link : column of the source holding a relative URL that a click on the
        feature opens (the overview of a layer split into district pages);
        ``None``: no link.
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
    group: str = ""
    count: int | None = None
    dashed: bool = False
    exclusive: bool = False
    link: str | None = None


@dataclass(frozen=True)
class HeatTheme:
    """A heat-map layer of weighted points (WGS84 ``lon``, ``lat``, ``weight`` in 0–1)."""

    name: str
    points: pd.DataFrame
    show: bool = False
    group: str = ""


@dataclass
class GridMap:
    """What a map shows, independent of how it is drawn (see :func:`render_map`).

    Attributes
    ----------
    kind : one of :data:`MAP_KINDS`.
    title : map title (plain text).
    lang : ``zh`` or ``en``.
    sources : display layers in EPSG:4326 (WGS84), tooltip columns escaped.
    themes : layers, drawn in order.
    tolerance_m : coverage-simplification tolerance used, metres.
    features : number of grids (or units) drawn.
    level : what a feature is: ``grid``, ``community``, ``street`` or ``district``.
    notes : extra footer lines (plain text).
    links : ``(label, relative URL)`` listed in the panel under ``links_title``
        (plain text): an overview's district pages, a district page's overview.
    links_title : heading of ``links``.
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
    links: list[tuple[str, str]] = field(default_factory=list)
    links_title: str = ""


@dataclass(frozen=True)
class MapOutput:
    """A written map: the HTML path and size, the PNG path when asked for.

    ``pages``: the district pages of a layer too large for one page (the map
    at ``path`` is then their overview, see :mod:`gridkit.maps.pages`).
    """

    path: Path
    bytes: int
    features: int
    tolerance_m: float
    basemap: str
    offline: bool
    png: Path | None = None
    pages: tuple[Path, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form printed by ``gridkit map --format json``."""
        return {"path": str(self.path), "bytes": self.bytes, "features": self.features,
                "tolerance_m": self.tolerance_m, "basemap": self.basemap,
                "offline": self.offline, "png": None if self.png is None else str(self.png),
                "pages": [str(p) for p in self.pages]}


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
        raise InputError(f"an offline map loads no tiles: basemap {basemap} needs an online map")
    return basemap


def human_size(n: int) -> str:
    """``1.5 MB`` (10^6 bytes) or ``820 KB`` (10^3 bytes).

    >>> human_size(2_345_678), human_size(820_400)
    ('2.3 MB', '820 KB')
    """
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


#: Stands for the page size in the footer until the page is complete.
SIZE_PLACEHOLDER = "@@GRIDKIT_MAP_SIZE@@"


def footer_parts(gmap: GridMap, basemap: str) -> list[str]:
    """The footer lines of a map (plain text): units, tolerance, size, basemap, notes, version.

    The size is :data:`SIZE_PLACEHOLDER`, filled in once the page is rendered.
    """
    lang = gmap.lang
    unit = LEVEL_NAMES[gmap.level]
    parts = [pick(lang, f"{gmap.features:,} 个{unit[0]}", f"{gmap.features:,} {unit[1]} units"),
             pick(lang, f"简化容差 {gmap.tolerance_m:g} m（coverage_simplify）",
                  f"simplification tolerance {gmap.tolerance_m:g} m (coverage_simplify)"),
             pick(lang, "坐标精度约 1 m", "coordinates to about 1 m"),
             pick(lang, f"文件大小 {SIZE_PLACEHOLDER}", f"file size {SIZE_PLACEHOLDER}"),
             pick(lang, f"底图：{BASEMAP_NAMES[basemap][0]}",
                  f"basemap: {BASEMAP_NAMES[basemap][1]}")]
    if basemap in BASEMAP_TILES and BASEMAP_TILES[basemap].system == "gcj02":
        parts.append(pick(lang, "叠加图层已转为 GCJ-02", "overlays shifted to GCJ-02"))
    parts += gmap.notes
    parts.append(f"gridkit {__version__}")
    return parts

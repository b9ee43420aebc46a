"""Layers too large for one browser page: an overview of communities and one page per district.

A page of more than :data:`MAX_GRIDS_PER_PAGE` grids takes too long to open
(a province of 200,000 grids never does). Such a map is written as an
*overview* — the communities, coloured by the same metric rolled up to them
(:func:`roll_up_rows`), with street and district outlines — and one grid-level
page per district in a folder next to it (``coverage.html`` and
``coverage/440104.html``, ...). A click on a community opens its district's
page, and the panel lists every district page; each district page links back
to the overview. Every page is self-contained, as a single map is.

Examples
--------
>>> from gridkit.data import SAMPLE_DIR
>>> from gridkit.io import read_layer
>>> from gridkit.maps import grids_map, simplify_grids
>>> grids = read_layer(SAMPLE_DIR / "grids.gpkg")
>>> simplified = simplify_grids(grids)
>>> pages = paged_map(grids, simplified, "grids",
...                   lambda: grids_map(grids, simplified=simplified, level="community"),
...                   lambda part, drawn: grids_map(part, simplified=drawn))
>>> pages.overview.level, [p.href for p in pages.districts]
('community', ['grids/440103.html', 'grids/440104.html'])
"""

from __future__ import annotations

__all__ = ["MAX_GRIDS_PER_PAGE", "OVERVIEW_TOLERANCE_FACTOR", "DistrictPage", "MapPages",
           "page_name", "paged_map", "roll_up_rows", "write_district_pages", "write_map_pages"]

import html
import os
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gridkit.coverage import RATES as COVERAGE_RATES
from gridkit.errors import InputError
from gridkit.events.core import RATES as EVENT_RATES
from gridkit.i18n import pick
from gridkit.io.write import atomic_output, check_writable
from gridkit.maps.builders import names_lookup
from gridkit.maps.html import render_map
from gridkit.maps.model import GridMap, MapOutput, Theme, resolve_basemap
from gridkit.rollup import ratio, unit_codes

#: Grids drawn on one page at most; a larger layer is split into district pages.
MAX_GRIDS_PER_PAGE = 50_000
#: The communities of an overview are simplified with this multiple of the map's tolerance
#: (a province on one screen: a pixel is some hundreds of metres).
OVERVIEW_TOLERANCE_FACTOR = 5
#: A district code that can name a file as it is.
_SAFE_NAME = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


@dataclass
class DistrictPage:
    """One district's grid-level map: its code, name, grids drawn and path from the overview."""

    code: str
    name: str
    grids: int
    href: str
    gmap: GridMap


@dataclass
class MapPages:
    """An overview map and the district pages it links to."""

    overview: GridMap
    districts: list[DistrictPage]


def page_name(code: str, position: int) -> str:
    """File name of a district page: the code when it is a safe file name, else by position.

    >>> page_name("440104", 0), page_name("../x", 3)
    ('440104.html', 'district-4.html')
    """
    return f"{code}.html" if _SAFE_NAME.match(code) else f"district-{position + 1}.html"


def _unit_of(layer: gpd.GeoDataFrame, level: str) -> np.ndarray:
    """The code of the unit of ``level`` of each grid of a layer (``""`` when unknown)."""
    keyed = layer if "community_code" in layer.columns else layer.assign(community_code=None)
    return unit_codes(keyed, level).fillna("").to_numpy(dtype=str)


def paged_map(grids: gpd.GeoDataFrame, simplified: gpd.GeoDataFrame, folder: str,
              overview: Callable[[], GridMap],
              district: Callable[[gpd.GeoDataFrame, gpd.GeoDataFrame], GridMap], *,
              names: Mapping[str, str] | None = None, lang: str = "zh",
              overview_href: str | None = None) -> MapPages:
    """An overview and one grid-level map per district, linked to each other.

    Parameters
    ----------
    grids : the grid layer.
    simplified : ``simplify_grids(grids, ...)``: simplified once, shared by every page.
    folder : the folder of the district pages, relative to the overview's
        folder (``gridkit map``: the overview's file name without ``.html``; a
        report: e.g. ``report-maps/coverage``).
    overview : builds the community-level map (e.g. ``coverage_map(...,
        level="community", simplified=simplified)``).
    district : builds the map of one district from its grids and their
        simplified geometry (e.g. ``coverage_map(part, rows, simplified=drawn)``).
    names : code → name of the districts (:func:`~gridkit.maps.names_lookup`).
    lang : ``zh`` or ``en``.
    overview_href : the overview (or the document embedding it) as seen from
        a district page; default ``../<folder>.html``.
    """
    names = names_lookup(within=grids) if names is None else names
    if overview_href is None:
        overview_href = "../" * (folder.count("/") + 1) + _url(
            f"{folder.rsplit('/', 1)[-1]}.html")
    top = overview()
    drawn_codes = _unit_of(simplified, "district")
    layer_codes = _unit_of(grids, "district")
    pages = []
    for position, code in enumerate(sorted(set(drawn_codes))):
        gmap = district(grids.loc[layer_codes == code], simplified.loc[drawn_codes == code])
        name = names.get(code) or code or pick(lang, "未知区", "unknown district")
        gmap.title = f"{gmap.title} · {name}"
        gmap.links = [(pick(lang, "返回全域概览", "back to the overview"),
                       overview_href)]
        gmap.links_title = pick(lang, "概览", "Overview")
        pages.append(DistrictPage(code, name, gmap.features,
                                  f"{folder}/{page_name(code, position)}", gmap))
    _link_overview(top, pages, drawn_codes, simplified, lang)
    return MapPages(top, pages)


def _link_overview(top: GridMap, pages: list[DistrictPage], drawn_codes: np.ndarray,
                   simplified: gpd.GeoDataFrame, lang: str) -> None:
    """Each community of the overview opens its district's page; the panel lists them all."""
    href = {p.code: _url(p.href) for p in pages}
    community_district = pd.Series(drawn_codes, index=_unit_of(simplified, "community"))
    community_district = community_district[~community_district.index.duplicated()]
    for key, source in top.sources.items():
        if "t_code" not in source.columns:
            continue
        # t_code is escaped for the page: the raw code keys the districts
        codes = pd.Series([None if c is None else html.unescape(c)
                           for c in source["t_code"].to_numpy(dtype=object)], dtype=object)
        source["href"] = codes.map(community_district).map(href).to_numpy(dtype=object)
        top.themes = [replace(t, link="href") if isinstance(t, Theme) and t.source == key
                      else t for t in top.themes]
    top.links = [(f"{p.name}（{p.grids:,} 个网格）" if lang == "zh" else
                  f"{p.name} ({p.grids:,} grids)", _url(p.href)) for p in pages]
    top.links_title = pick(lang, "各区网格图", "District grid maps")
    top.notes.append(pick(lang, "网格过多，逐区分页绘制：点击社区打开所在区的网格图",
                          "too many grids for one page: click a community to open its "
                          "district's grid map"))


def _url(path: str) -> str:
    """A relative file path as a link: ``#``, ``?``, ``%`` and spaces percent-encoded.

    >>> _url("年报#1 a-maps/grids/440104.html")
    '%E5%B9%B4%E6%8A%A5%231%20a-maps/grids/440104.html'
    """
    return urllib.parse.quote(path)


def roll_up_rows(rows: pd.DataFrame, grids: gpd.GeoDataFrame,
                 level: str = "community") -> pd.DataFrame:
    """Per-grid rows of ``gridkit coverage``/``events`` summed to ``level``, rates recomputed.

    Counts are added up and each rate is its numerator's sum over its
    denominator's (never a mean of rates). Distinct counts (Party
    organisations, workers) are sums of the per-grid counts: a worker of two
    grids counts twice, so a unit's households per full-time worker can come
    out lower than ``gridkit coverage --by community`` gives.

    Parameters
    ----------
    rows : per-grid rows indexed by grid code, or with a ``code`` column.
    grids : the grid layer (``grid_code``, ``community_code``).
    level : ``community``, ``street`` or ``district``.

    Examples
    --------
    >>> g = pd.DataFrame({"grid_code": ["440104001001001", "440104001001002"],
    ...                   "community_code": ["440104001001"] * 2})
    >>> r = pd.DataFrame({"code": g.grid_code, "grids": [1, 1], "filed": [1, 0],
    ...                   "filing_rate": [1.0, 0.0]})
    >>> roll_up_rows(r, g).to_dict("records")
    [{'code': '440104001001', 'grids': 2, 'filed': 1, 'filing_rate': 0.5}]
    """
    table = rows.set_index("code") if "code" in rows.columns else rows
    table = table.loc[:, ~table.columns.isin(["name"])]
    rates = {**{k: v[:2] for k, v in COVERAGE_RATES.items()}, **EVENT_RATES}
    keyed = grids if "community_code" in grids.columns else grids.assign(community_code=None)
    unit = pd.Series(unit_codes(keyed, level).to_numpy(), index=keyed["grid_code"].astype(str))
    unit = unit[~unit.index.duplicated()].reindex(table.index.astype(str)).to_numpy()
    counts = [c for c in table.columns if c not in rates
              and pd.api.types.is_numeric_dtype(table[c])]
    known = pd.notna(unit)
    summed = table.loc[known, counts].groupby(unit[known], sort=True).sum(min_count=1)
    for rate, (num, den) in rates.items():
        if rate in table.columns and num in summed.columns and den in summed.columns:
            summed[rate] = ratio(summed[num], summed[den]).to_numpy()
    summed.index.name = "code"
    return summed.reset_index()


def write_district_pages(pages: MapPages, base: str | os.PathLike, *,
                         basemap: str | None = None, offline: bool = False,
                         force: bool = False,
                         inputs: Iterable[str | os.PathLike | None] = ()) -> list[Path]:
    """Write every district page at ``base / page.href``; the paths written.

    ``base`` is the folder of the overview (or of the report embedding it).
    Every page is checked before any is written (an existing page needs
    ``force``; ``inputs`` are never overwritten) and written atomically.
    """
    targets = [Path(base) / p.href for p in pages.districts]
    for folder in dict.fromkeys(t.parent for t in targets):
        if folder.exists() and not folder.is_dir():
            raise InputError("is a file, not a folder: the district pages cannot go inside it",
                             path=folder)
    for target in targets:
        if target.parent.is_dir():
            check_writable(target, force, inputs=inputs, folder=False)
    basemap = resolve_basemap(basemap, offline)
    for page, target in zip(pages.districts, targets):
        target.parent.mkdir(parents=True, exist_ok=True)
        text = render_map(page.gmap, basemap=basemap, offline=offline).encode("utf-8")
        with atomic_output(target, force) as tmp:
            tmp.write_bytes(text)
    return targets


def write_map_pages(pages: MapPages, path: str | os.PathLike, *, basemap: str | None = None,
                    offline: bool = False, force: bool = False,
                    inputs: Iterable[str | os.PathLike | None] = ()) -> MapOutput:
    """Write the overview at ``path`` and each district page in the folder beside it.

    Every output is checked before any is written (see
    :func:`write_district_pages`); the overview is written last, so that its
    links never point at pages that are not there.
    """
    path = Path(path)
    check_writable(path, force, inputs=inputs, folder=False)
    basemap = resolve_basemap(basemap, offline)
    targets = write_district_pages(pages, path.parent, basemap=basemap, offline=offline,
                                   force=force, inputs=inputs)
    text = render_map(pages.overview, basemap=basemap, offline=offline).encode("utf-8")
    with atomic_output(path, force) as tmp:
        tmp.write_bytes(text)
    return MapOutput(path=path, bytes=len(text), features=pages.overview.features,
                     tolerance_m=pages.overview.tolerance_m, basemap=basemap,
                     offline=offline, pages=tuple(targets))

"""Folium maps of grids, validation findings, coverage and work orders (``gridkit map``).

A map is built in two steps. A builder — :func:`grids_map`,
:func:`findings_map`, :func:`coverage_map`, :func:`events_map` or :func:`diff_map` — turns
GeoDataFrames and the SPEC §7 JSON dicts into a :class:`GridMap`: display
*sources* (simplified EPSG:4326 geometries with pre-formatted, HTML-escaped
tooltip columns and class indices), *themes* (the toggleable layers, each a
palette and a legend over one source) and footer notes. :func:`render_map`
then draws it with folium and :func:`render_png` with matplotlib.

City scale (20,000 grids in at most 10 MB, open in seconds):

- grids are simplified as a coverage (:func:`shapely.coverage_simplify`, in the
  metric CRS, ``tolerance_m`` metres), so neighbours keep their shared edges;
- coordinates are quantised to 1e-5 degree (about 1 m) and written as integer
  deltas per ring (decoded in the browser), each source once however many
  layers draw it; properties are only what tooltips and colours need;
- Leaflet draws on a canvas (``prefer_canvas``), builds a layer's features only
  when the layer is first shown, and shares one tooltip per layer.

Modules: :mod:`~gridkit.maps.model` (what a map shows),
:mod:`~gridkit.maps.classification` (classes and palettes),
:mod:`~gridkit.maps.builders` (the five kinds), :mod:`~gridkit.maps.heat`,
:mod:`~gridkit.maps.encoding` (the geometry codec), :mod:`~gridkit.maps.html`
(folium; the page's JS/CSS are ``gridkit/static/gridkit-map.*``),
:mod:`~gridkit.maps.png`, :mod:`~gridkit.maps.output` (writing),
:mod:`~gridkit.maps.pages` (a layer over :data:`MAX_GRIDS_PER_PAGE` grids: an
overview of communities and one page per district) and
:mod:`~gridkit.maps.pipeline` (from input files to a map, as ``gridkit map``).

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

__all__ = [
    "BASEMAPS",
    "DEFAULT_TOLERANCE_M",
    "MAP_KINDS",
    "MAP_LEVELS",
    "MAX_GRIDS_PER_PAGE",
    "GridMap",
    "HeatTheme",
    "MapOutput",
    "MapPages",
    "Theme",
    "classify",
    "coverage_map",
    "diff_map",
    "encode_geometries",
    "encode_source",
    "events_map",
    "findings_map",
    "grids_map",
    "HeatBins",
    "heat_points",
    "human_size",
    "names_lookup",
    "paged_map",
    "render_map",
    "roll_up_rows",
    "share_geometry",
    "render_png",
    "resolve_basemap",
    "simplify_grids",
    "write_district_pages",
    "write_map",
    "write_map_pages",
]

from gridkit.maps.builders import (
    coverage_map,
    diff_map,
    events_map,
    findings_map,
    grids_map,
    names_lookup,
    simplify_grids,
)
from gridkit.maps.classification import classify
from gridkit.maps.encoding import encode_geometries, encode_source
from gridkit.maps.heat import HeatBins, heat_points
from gridkit.maps.html import render_map, share_geometry
from gridkit.maps.model import (
    BASEMAPS,
    DEFAULT_TOLERANCE_M,
    MAP_KINDS,
    MAP_LEVELS,
    GridMap,
    HeatTheme,
    MapOutput,
    Theme,
    human_size,
    resolve_basemap,
)
from gridkit.maps.output import write_map
from gridkit.maps.pages import (
    MAX_GRIDS_PER_PAGE,
    MapPages,
    paged_map,
    roll_up_rows,
    write_district_pages,
    write_map_pages,
)
from gridkit.maps.png import render_png

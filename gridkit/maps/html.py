"""Drawing a :class:`~gridkit.maps.model.GridMap` as one HTML page with folium.

The page's own script and styles (``gk.decode``, ``gk.layer``, the panels)
are ``gridkit/static/gridkit-map.js`` and ``gridkit-map.css``; offline, the
vendored Leaflet of ``gridkit/static`` is inlined too and nothing is loaded
from the network.
"""

from __future__ import annotations

__all__ = ["render_map", "share_geometry"]

import base64
import html
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

import folium
import numpy as np
from branca.element import Element
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.plugins import HeatMap
from folium.template import Template

from gridkit.crs import convert_coordinates
from gridkit.i18n import pick
from gridkit.maps.encoding import encode_source, script_json
from gridkit.maps.model import (
    BASEMAP_NAMES,
    BASEMAP_TILES,
    SEVERITY_NAMES,
    SIZE_PLACEHOLDER,
    GridMap,
    HeatTheme,
    Theme,
    footer_parts,
    human_size,
    resolve_basemap,
)

#: Package data: the vendored Leaflet and the page's own script and styles.
_STATIC = resources.files("gridkit").joinpath("static")
#: CDN of the online maps; the same versions are vendored in gridkit/static for --offline.
_CDN = {"leaflet": "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js",
        "leaflet_css": "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css",
        "leaflet-heat.js": "https://cdn.jsdelivr.net/npm/leaflet.heat@0.2.0/dist/leaflet-heat.js"}
_VENDORED = {"leaflet": "leaflet.js", "leaflet_css": "leaflet.css",
             "leaflet-heat.js": "leaflet-heat.js"}


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
        self.spec = script_json({
            "k": None if theme.classes is None else keys[theme.classes],
            "pal": list(theme.palette), "stroke": theme.stroke, "w": theme.weight,
            "fo": theme.fill_opacity, "z": theme.outline_zoom, "d": theme.dashed,
            "tip": [[keys[c], html.escape(label)] for c, label in theme.tooltip],
            "href": None if theme.link is None else keys[theme.link]})


@dataclass(frozen=True)
class _Row:
    """One layer in the panel: switch, swatch, name, count and its classes (escaped text)."""

    layer: Layer
    name: str
    group: str
    swatch: str
    count: int | None = None
    classes: tuple[tuple[str, str], ...] = ()
    radio: bool = False


class _Page(folium.MacroElement):
    """Styles and helper script, title, the layer panel (switch and legend in one) and footer.

    The panel and the footer are Leaflet controls (``gk.panel``), so Leaflet
    stacks them in their corners with the zoom, scale and attribution
    controls instead of drawing them over one another.
    """

    _template = Template("""
{% macro header(this, kwargs) %}<style>{{ this.css }}</style><script>{{ this.helpers }}</script>
{% endmacro %}
{% macro html(this, kwargs) %}
<div class="gk-panel gk-title">{{ this.title }}</div>
<div class="gk-panel gk-layers" role="group" aria-label="{{ this.panel_name }}">
{%- for group, rows in this.groups %}{% set group_number = loop.index %}
<div class="gk-group">
{%- if group %}<div class="gk-group-title">{{ group }}</div>{% endif %}
{%- for row in rows %}
<div class="gk-row" data-layer="{{ row.layer.get_name() }}"><label>\
<input type="{{ 'radio' if row.radio else 'checkbox' }}"\
{% if row.radio %} name="gk-group-{{ group_number }}"{% endif %}\
{% if row.layer.show %} checked{% endif %}>\
{% if row.swatch %}<i class="gk-sw" style="{{ row.swatch }}"></i>{% endif %}\
<span class="gk-name">{{ row.name }}</span>\
{% if row.count is not none %}<span class="gk-n">{{ "{:,}".format(row.count) }}</span>{% endif %}\
</label>
{%- if row.classes %}
<div class="gk-classes">
{%- for color, label in row.classes %}
<div><i class="gk-sw" style="background:{{ color }}"></i>{{ label }}</div>
{%- endfor %}
</div>
{%- endif %}
</div>
{%- endfor %}
</div>
{%- endfor %}
{%- if this.links %}
<div class="gk-group gk-links"><div class="gk-group-title">{{ this.links_title }}</div>
{%- for label, href in this.links %}
<a href="{{ href }}" target="_top">{{ label }}</a>
{%- endfor %}
</div>
{%- endif %}
{%- if this.key %}
<div class="gk-key">{% for style, label in this.key %}<span><i class="gk-sw" \
style="{{ style }}"></i>{{ label }}</span>{% endfor %}</div>
{%- endif %}
</div>
<div class="gk-panel gk-footer">{{ this.footer }}</div>
{% endmacro %}
{% macro script(this, kwargs) %}
gk.panel({{ this._parent.get_name() }}, {
{%- for group, rows in this.groups %}{% for row in rows %}
  "{{ row.layer.get_name() }}": {{ row.layer.get_name() }},
{%- endfor %}{% endfor %}
});
{% endmacro %}
""")

    def __init__(self, title: str, footer: str, rows: list[_Row], lang: str,
                 key: list[tuple[str, str]], links: list[tuple[str, str]] = (),
                 links_title: str = "") -> None:
        super().__init__()
        self._name = "GkPage"
        self.css = _static_text("gridkit-map.css")
        self.helpers = _static_text("gridkit-map.js")
        self.title = html.escape(title)
        self.footer = footer
        self.panel_name = pick(lang, "图层与图例", "Layers and legend")
        groups: dict[str, list[_Row]] = {}
        for row in rows:
            groups.setdefault(row.group, []).append(replace(
                row, name=html.escape(row.name), group=html.escape(row.group),
                classes=tuple((c, html.escape(t)) for c, t in row.classes)))
        self.groups = [(html.escape(g), r) for g, r in groups.items()]
        self.key = [(style, html.escape(label)) for style, label in key]
        self.links = [(html.escape(label), html.escape(href)) for label, href in links]
        self.links_title = html.escape(links_title)


def _swatch(theme: Theme) -> str:
    """CSS of a layer's swatch: its fill and its outline (width, colour, solid or dashed)."""
    if len(theme.labels) > 1:  # a classed layer: the classes carry the swatches
        return ""
    color = theme.palette[0]
    line = "dashed" if theme.dashed else "solid"
    if theme.fill_opacity == 0:
        return f"background:transparent;border:{max(theme.weight, 1):g}px {line} {color}"
    alpha = f"{round(theme.fill_opacity * 255):02x}"
    stroke = theme.stroke or color
    return f"background:{color}{alpha};border:{2 if theme.dashed else 1}px {line} {stroke}"


def _line_key(gmap: GridMap) -> list[tuple[str, str]]:
    """The key of the outline styles of the findings rules: solid error, dashed warning."""
    if gmap.kind != "findings" or not any(isinstance(t, Theme) and t.count is not None
                                          for t in gmap.themes):
        return []
    return [(f"background:transparent;border:2px {line} #555555",
             pick(gmap.lang, *SEVERITY_NAMES[severity]))
            for line, severity in (("solid", "error"), ("dashed", "warning"))]


#: Swatch of the heat-map layer: leaflet.heat's default gradient.
_HEAT_SWATCH = "background:linear-gradient(90deg,#0000ff,#00ffff,#00ff00,#ffff00,#ff0000)"


def _row(layer: Layer, theme: Theme | HeatTheme) -> _Row:
    """The panel row of a layer."""
    if isinstance(theme, HeatTheme):
        return _Row(layer, theme.name, theme.group, _HEAT_SWATCH)
    classes = tuple(zip(theme.palette, theme.labels)) if len(theme.labels) > 1 else ()
    return _Row(layer, theme.name, theme.group, _swatch(theme), theme.count, classes,
                theme.exclusive)


@cache
def _static_text(name: str) -> str:
    """A text file of ``gridkit/static`` (package data)."""
    return _STATIC.joinpath(name).read_text(encoding="utf-8")


@cache
def _asset(name: str) -> str:
    """An inlined asset: ``<script>`` or ``<style>`` with the vendored file."""
    text = _static_text(_VENDORED[name])
    if name.endswith("css"):
        for image in ("layers.png", "layers-2x.png"):
            data = base64.b64encode(_STATIC.joinpath(image).read_bytes()).decode("ascii")
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


def render_map(gmap: GridMap, *, basemap: str | None = None, offline: bool = False) -> str:
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
                         max_zoom=18, name=BASEMAP_NAMES[basemap][0], control=False).add_to(m)

    used = [t.source for t in gmap.themes if isinstance(t, Theme)]
    sources: dict[str, tuple[_Source, dict[str, str]]] = {}
    bounds = []
    for key in dict.fromkeys(used):
        gdf = gmap.sources[key]
        columns = list(dict.fromkeys(
            c for t in gmap.themes if isinstance(t, Theme) and t.source == key
            for c in ([t.classes] if t.classes else []) + [c for c, _ in t.tooltip]
            + ([t.link] if t.link else [])))
        payload, keys = encode_source(gdf, columns, system)
        sources[key] = (_Source(payload).add_to(m), keys)
        if len(gdf):
            bounds.append(gdf.total_bounds)
    rows = []
    for theme in gmap.themes:
        if isinstance(theme, HeatTheme):
            lon, lat = convert_coordinates(theme.points["lon"].to_numpy(),
                                           theme.points["lat"].to_numpy(), "wgs84", system)
            layer = HeatMap(np.column_stack([np.round(lat, 5), np.round(lon, 5),
                                             np.round(theme.points["weight"].to_numpy(), 3)]),
                            name=html.escape(theme.name), show=theme.show, min_opacity=0.3,
                            radius=12, blur=15, max_zoom=15).add_to(m)
        else:
            source, keys = sources[theme.source]
            layer = _ThemeLayer(theme, source, keys).add_to(m)
        rows.append(_row(layer, theme))
    if bounds:
        b = np.array(bounds)
        lon, lat = convert_coordinates([b[:, 0].min(), b[:, 2].max()],
                                       [b[:, 1].min(), b[:, 3].max()], "wgs84", system)
        m.fit_bounds(np.round([[lat[0], lon[0]], [lat[1], lon[1]]], 6).tolist())
    footer = " · ".join(html.escape(p) for p in footer_parts(gmap, basemap))
    _Page(gmap.title, footer, rows, gmap.lang, _line_key(gmap), gmap.links,
          gmap.links_title).add_to(m)
    _use_assets(m, offline)
    _number_elements(m)
    text = m.get_root().render()
    if offline and _EXTERNAL.search(text):
        raise RuntimeError("an offline map references an external resource: "
                           + _EXTERNAL.search(text).group(0))
    size = len(text.encode("utf-8")) - len(SIZE_PLACEHOLDER)
    size += len(human_size(size))
    return text.replace(SIZE_PLACEHOLDER, human_size(size))


#: A source line of a map page (:class:`_Source`).
_SOURCE_LINE = re.compile(r"^(\s*var gk_source_\w+ = )(\{.*\});$", re.M)


def share_geometry(pages: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """Write the geometry that several map pages of one document draw only once.

    The maps of a report draw the same simplified grids (coloured by
    district, by coverage, by work orders); each page embedded in its own
    ``<iframe srcdoc>`` would repeat the arcs and rings. A geometry found in
    more than one page moves to the parent document (``var gkShared = [...]``,
    to be written there before the frames), and each page's source refers to
    it (``gk.share(parent.gkShared[i], {...})``) with only its properties.

    Returns
    -------
    The script text for the parent document (empty when nothing is shared),
    and the pages, rewritten where they share.
    """
    def split(match: re.Match) -> tuple[dict, str]:
        data = json.loads(match.group(2))
        return data, script_json({"arcs": data["arcs"],
                                  "geoms": [f[1:] for f in data["features"]]})

    seen = Counter(split(m)[1] for page in pages.values() for m in _SOURCE_LINE.finditer(page))
    shared = [shapes for shapes, n in seen.items() if n > 1]
    index = {shapes: i for i, shapes in enumerate(shared)}

    def refer(match: re.Match) -> str:
        data, shapes = split(match)
        if shapes not in index:
            return match.group(0)
        rest = dict(data, arcs=[], features=[[f[0]] for f in data["features"]])
        return f"{match.group(1)}gk.share(parent.gkShared[{index[shapes]}], {script_json(rest)});"

    if not shared:
        return "", dict(pages)
    return (f"var gkShared = [{','.join(shared)}];",
            {kind: _SOURCE_LINE.sub(refer, page) for kind, page in pages.items()})


"""Read back what a gridkit map page contains: layers, legends, tooltips, decoded features.

The tests check a map's content, not merely that a file was written, so
this module parses the HTML that :func:`gridkit.maps.render_map` writes
(independently of gridkit's own encoder): the encoded sources (``var
gk_source_N = {...}``), the theme layers (``gk.layer(source, spec)``), the
layer control, the legend blocks, the footer, heat-map points, and it
decodes the coordinate text (zigzag varints of 1e-5-degree deltas) back to
shapely geometries. Used by ``tests/test_maps.py`` and ``tests/test_report.py``.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field

import numpy as np
import shapely


def decode_line(text: str, alphabet: str, scale: int) -> np.ndarray:
    """Coordinates (n × 2, degrees) of one encoded ring, line or point set."""
    code = {c: i for i, c in enumerate(alphabet)}
    values, value, shift = [], 0, 0
    for char in text:
        bits = code[char]
        value |= (bits & 31) << shift
        shift += 5
        if not bits & 32:
            values.append((value >> 1) ^ -(value & 1))
            value, shift = 0, 0
    return np.cumsum(np.array(values, dtype=np.int64).reshape(-1, 2), axis=0) / scale


def decode_geometry(family: str, parts, alphabet: str, scale: int):
    """A shapely geometry from the ``[family, parts]`` of an encoded feature."""
    if family == "P":
        return shapely.MultiPolygon([
            shapely.Polygon(*(lambda rings: (rings[0], rings[1:]))(
                [decode_line(r, alphabet, scale) for r in polygon]))
            for polygon in parts])
    if family == "L":
        return shapely.MultiLineString([decode_line(p, alphabet, scale) for p in parts])
    return shapely.MultiPoint(decode_line(parts, alphabet, scale))


@dataclass
class Layer:
    """A theme layer: its name in the layer control, spec, source and legend."""

    var: str
    name: str
    source: str
    spec: dict
    shown: bool
    legend_title: str | None = None
    legend: list[tuple[str, str]] = field(default_factory=list)

    @property
    def tooltip(self) -> list[str]:
        """Tooltip labels, in order."""
        return [html.unescape(label) for _, label in self.spec["tip"]]


@dataclass
class MapPage:
    """A parsed map page."""

    text: str
    title: str
    footer: str
    sources: dict[str, dict]
    layers: list[Layer]
    heat: dict[str, list[list[float]]]
    overlays: list[str]
    fit_bounds: list[list[float]] | None

    def layer(self, name: str) -> Layer:
        """The layer shown as ``name`` in the layer control."""
        found = [layer for layer in self.layers if layer.name == name]
        assert found, f"no layer {name!r}; layers: {[x.name for x in self.layers]}"
        return found[0]

    def features(self, layer: Layer | str) -> list[dict]:
        """Decoded features of a layer: ``{"properties": {label or key: text}, "geometry"}``.

        Properties are keyed by tooltip label where the layer shows them, else
        by the short key; dictionary-encoded values are resolved.
        """
        layer = self.layer(layer) if isinstance(layer, str) else layer
        src = self.sources[layer.source]
        labels = {key: html.unescape(label) for key, label in layer.spec["tip"]}
        out = []
        for values, family, parts in src["features"]:
            props = {}
            for key, value in zip(src["keys"], values):
                if value is None:
                    continue
                if key in src["dicts"]:
                    value = src["dicts"][key][value]
                props[labels.get(key, key)] = value
            out.append({"properties": props,
                        "geometry": decode_geometry(family, parts, src["alphabet"],
                                                    src["scale"])})
        return out

    def classes(self, layer: Layer | str) -> list[int]:
        """Class index (into the palette) of each feature of a layer."""
        layer = self.layer(layer) if isinstance(layer, str) else layer
        key = layer.spec["k"]
        if key is None:
            return [0] * len(self.sources[layer.source]["features"])
        src = self.sources[layer.source]
        position = src["keys"].index(key)
        return [values[position] for values, _, _ in src["features"]]


def _after(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text, re.S)
    return None if match is None else match.group(1)


def parse_map(text: str) -> MapPage:
    """Parse a page written by :func:`gridkit.maps.render_map`."""
    sources = {name: json.loads(payload) for name, payload in
               re.findall(r"^\s*var (gk_source_\w+) = (.*);$", text, re.M)}
    shown = set(re.findall(r"^\s*(\w+)\.addTo\(map_\w+\);", text, re.M))
    block = _after(r"overlays\s*:\s*\{(.*?)\},\s*\};", text) or ""
    control = {var: html.unescape(json.loads(name))
               for name, var in re.findall(r'^\s*("(?:[^"\\]|\\.)*")\s*:\s*(\w+),$', block, re.M)}
    legends = {}
    for var, body in re.findall(
            r'<div class="gk-legend-block" id="(\w+)_legend">(.*?)\n</div>', text, re.S):
        title = html.unescape(_after(r'<div class="gk-legend-title">(.*?)</div>', body))
        items = [(color, html.unescape(label)) for color, label in
                 re.findall(r'<div><i style="background:([^"]+)"></i>(.*?)</div>', body)]
        legends[var] = (title, items)
    layers = []
    for var, source, spec in re.findall(
            r"^\s*var (gk_layer_\w+) = gk\.layer\((gk_source_\w+), (.*)\);$", text, re.M):
        title, items = legends.get(var, (None, []))
        layers.append(Layer(var=var, name=control.get(var, ""), source=source,
                            spec=json.loads(spec), shown=var in shown, legend_title=title,
                            legend=items))
    heat = {var: json.loads(points) for var, points in
            re.findall(r"var (heat_map_\w+) = L\.heatLayer\(\s*(\[\[.*?\]\]),", text, re.S)}
    for var in heat:
        layers.append(Layer(var=var, name=control.get(var, ""), source="", spec={"tip": []},
                            shown=var in shown))
    bounds = _after(r"map_\w+\.fitBounds\(\s*(\[\[.*?\]\])", text)
    return MapPage(
        text=text,
        title=html.unescape(_after(r'<div class="gk-panel gk-title">(.*?)</div>', text) or ""),
        footer=html.unescape(_after(r'<div class="gk-panel gk-footer">(.*?)</div>', text) or ""),
        sources=sources, layers=layers, heat=heat, overlays=list(control.values()),
        fit_bounds=None if bounds is None else json.loads(bounds))

"""Read back what a gridkit map page contains: layers, legends, tooltips, decoded features.

The tests check a map's content, not merely that a file was written, so
this module parses the HTML that :func:`gridkit.maps.render_map` writes
(independently of gridkit's own encoder): the encoded sources (``var
gk_source_N = {...}``), the theme layers (``gk.layer(source, spec)``), the
layer panel (switch and legend in one: sections, counts, classes), the
footer, heat-map points, and it decodes the coordinate text (zigzag varints
of 1e-5-degree deltas) back to shapely geometries. Used by
``tests/test_maps.py`` and ``tests/test_report.py``.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field

import numpy as np
import shapely


def _values(text: str, alphabet: str) -> list[int]:
    """The zigzag varints of a text (5 bits a character, a continuation bit)."""
    code = {c: i for i, c in enumerate(alphabet)}
    values, value, shift = [], 0, 0
    for char in text:
        bits = code[char]
        value |= (bits & 31) << shift
        shift += 5
        if not bits & 32:
            values.append((value >> 1) ^ -(value & 1))
            value, shift = 0, 0
    return values


def decode_line(text: str, alphabet: str, scale: int) -> np.ndarray:
    """Coordinates (n × 2, degrees) of one encoded ring, line or point set."""
    values = _values(text, alphabet)
    return np.cumsum(np.array(values, dtype=np.int64).reshape(-1, 2), axis=0) / scale


def decode_geometry(family: str, parts, alphabet: str, scale: int):
    """A shapely geometry from the ``[family, parts]`` of an encoded feature (not ``T``)."""
    if family == "P":
        return shapely.MultiPolygon([
            shapely.Polygon(*(lambda rings: (rings[0], rings[1:]))(
                [decode_line(r, alphabet, scale) for r in polygon]))
            for polygon in parts])
    if family == "L":
        return shapely.MultiLineString([decode_line(p, alphabet, scale) for p in parts])
    return shapely.MultiPoint(decode_line(parts, alphabet, scale))


def decode_source(src: dict) -> list:
    """The shapely geometry of every feature of an encoded source, in order.

    Polygons of family ``T`` are rings of arc references: the arcs are one
    chain of deltas, and the references (``2 × arc + reversed``) one chain of
    steps over all rings in feature order, as the page decodes them.
    """
    alphabet, scale = src["alphabet"], src["scale"]
    chained = np.array(_values("".join(src.get("arcs", [])), alphabet), dtype=np.int64)
    points = np.cumsum(chained.reshape(-1, 2), axis=0) / scale
    sizes = [len(_values(a, alphabet)) // 2 for a in src.get("arcs", [])]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    arcs = [points[a:b] for a, b in zip(starts[:-1], starts[1:])]
    ref = 0

    def ring(text: str) -> np.ndarray:
        nonlocal ref
        out = []
        for step in _values(text, alphabet):
            ref += step
            arc = arcs[ref >> 1][::-1] if ref & 1 else arcs[ref >> 1]
            out.extend(arc if not out else arc[1:])
        return np.array(out)

    geoms = []
    for _, family, parts in src["features"]:
        if family == "T":
            geoms.append(shapely.MultiPolygon([
                shapely.Polygon(rings[0], rings[1:])
                for rings in ([ring(r) for r in polygon] for polygon in parts)]))
        else:
            geoms.append(decode_geometry(family, parts, alphabet, scale))
    return geoms


@dataclass
class Layer:
    """A theme layer: its name in the layer panel, spec, source and legend."""

    var: str
    name: str
    source: str
    spec: dict
    shown: bool
    legend_title: str | None = None
    legend: list[tuple[str, str]] = field(default_factory=list)
    #: Section of the layer panel, count beside the name, CSS of its swatch, radio button.
    group: str = ""
    count: int | None = None
    swatch: str = ""
    radio: bool = False

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
        """The layer shown as ``name`` in the layer panel."""
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
        code = {c: i for i, c in enumerate(src["alphabet"])}
        previous = dict.fromkeys(src.get("fronts", []), "")
        for (values, _, _), geometry in zip(src["features"], decode_source(src)):
            props = {}
            for key, value in zip(src["keys"], values):
                if value is None:
                    continue
                if key in previous:  # front-coded; the prefix length counts UTF-16 units
                    units = previous[key].encode("utf-16-le")[:2 * code[value[0]]]
                    value = previous[key] = units.decode("utf-16-le") + value[1:]
                if key in src["dicts"]:
                    value = src["dicts"][key][value]
                props[labels.get(key, key)] = value
            out.append({"properties": props, "geometry": geometry})
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


def unshare(page: str, shared: list[dict]) -> str:
    """A map page of a report with the geometry it shares (``gkShared``) written back in.

    Gives the page exactly as :func:`gridkit.maps.render_map` wrote it (the
    same JSON, key order and escaping), so it parses and compares as a
    standalone page.
    """
    def inline(match: re.Match) -> str:
        shapes, data = shared[int(match.group(2))], json.loads(match.group(3))
        data = dict(data, arcs=shapes["arcs"],
                    features=[[values[0], *geom] for values, geom in
                              zip(data["features"], shapes["geoms"])])
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                             ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
            text = text.replace(char, escape)
        return f"{match.group(1)}{text};"

    return re.sub(r"^(\s*var gk_source_\w+ = )gk\.share\(parent\.gkShared\[(\d+)\], "
                  r"(\{.*\})\);$", inline, page, flags=re.M)


def parse_map(text: str) -> MapPage:
    """Parse a page written by :func:`gridkit.maps.render_map`."""
    sources = {name: json.loads(payload) for name, payload in
               re.findall(r"^\s*var (gk_source_\w+) = (.*);$", text, re.M)}
    shown = set(re.findall(r"^\s*(\w+)\.addTo\(map_\w+\);", text, re.M))
    panel = {}
    group = ""
    for title, var, body in re.findall(
            r'<div class="gk-group-title">(.*?)</div>|<div class="gk-row" data-layer="(\w+)">'
            r'(.*?)\n</div>', text, re.S):
        if title:
            group = html.unescape(title)
            continue
        name = html.unescape(_after(r'<span class="gk-name">(.*?)</span>', body))
        count = _after(r'<span class="gk-n">([\d,]+)</span>', body)
        swatch = _after(r'<label>.*?<i class="gk-sw" style="([^"]*)"></i>', body) or ""
        items = [(color, html.unescape(label)) for color, label in re.findall(
            r'<div><i class="gk-sw" style="background:([^"]+)"></i>(.*?)</div>', body)]
        panel[var] = (name, group, None if count is None else int(count.replace(",", "")),
                      swatch, items, 'type="radio"' in body)
    control = {var: row[0] for var, row in panel.items()}
    layers = []
    for var, source, spec in re.findall(
            r"^\s*var (gk_layer_\w+) = gk\.layer\((gk_source_\w+), (.*)\);$", text, re.M):
        name, group, count, swatch, items, radio = panel.get(var, ("", "", None, "", [], False))
        layers.append(Layer(var=var, name=name, source=source, spec=json.loads(spec),
                            shown=var in shown, legend_title=name if items else None,
                            legend=items, group=group, count=count, swatch=swatch,
                            radio=radio))
    heat = {var: json.loads(points) for var, points in
            re.findall(r"var (heat_map_\w+) = L\.heatLayer\(\s*(\[\[.*?\]\]),", text, re.S)}
    for var in heat:
        name, group, count, swatch, _, _ = panel.get(var, ("", "", None, "", [], False))
        layers.append(Layer(var=var, name=name, source="", spec={"tip": []},
                            shown=var in shown, group=group, swatch=swatch))
    bounds = _after(r"map_\w+\.fitBounds\(\s*(\[\[.*?\]\])", text)
    return MapPage(
        text=text,
        title=html.unescape(_after(r'<div class="gk-panel gk-title">(.*?)</div>', text) or ""),
        footer=html.unescape(_after(r'<div class="gk-panel gk-footer">(.*?)</div>', text) or ""),
        sources=sources, layers=layers, heat=heat, overlays=list(control.values()),
        fit_bounds=None if bounds is None else json.loads(bounds))

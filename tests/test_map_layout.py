"""The map pages read at a glance: no control covers another, on screen and on A4.

Opens each kind of map of the sample (grids, findings, coverage, events) in
headless Chromium at 1280×800, 1920×1080 and as a printed A4 page (print
media, 718×1047 CSS px: A4 minus the default margins), waits until the grids
are painted on the canvas and checks that the bounding boxes of the Leaflet
controls (zoom, scale, attribution, the layer panel), the title and the
footer lie inside the page and do not intersect. Skipped without Chromium
unless ``GRIDKIT_REQUIRE_CHROMIUM=1`` (then it fails).
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest
import shapely
from helpers.chromium import Chromium, chromium_or_skip
from helpers.cli import run_cli
from helpers.mappage import parse_map

from gridkit.data import data_path

SAMPLE = data_path("sample")

#: Visible boxes of the controls, the title and the footer, and the painted pixels of the grids.
LAYOUT_JS = """
(() => {
  const boxes = Array.from(document.querySelectorAll('.leaflet-control, .gk-title'))
    .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().width > 0)
    .map((e) => { const r = e.getBoundingClientRect();
      return {name: e.className.split(' ').filter((c) => c.startsWith('gk-') ||
                c.startsWith('leaflet-control-')).join(' ') || e.className,
              left: r.left, top: r.top, right: r.right, bottom: r.bottom}; });
  let painted = 0;
  document.querySelectorAll('.leaflet-overlay-pane canvas').forEach((c) => {
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < px.length; i += 4 * 13) { if (px[i]) { painted += 1; } } });
  return {boxes: boxes, painted: painted, width: innerWidth, height: innerHeight,
          rows: document.querySelectorAll('.gk-layers .gk-row').length};
})()
"""

SIZES = {"1280x800": (1280, 800, "screen"), "1920x1080": (1920, 1080, "screen"),
         "A4 print": (718, 1047, "print")}


def _maps(folder: Path) -> dict[str, Path]:
    """Every kind of map of the sample, written with ``gridkit map``."""
    grids = str(SAMPLE / "grids.gpkg")
    rosters = [a for k in ("filings", "party", "cadres", "workers")
               for a in (f"--{k}", str(SAMPLE / f"{k}.csv"))]
    args = {"grids": [grids], "findings": [grids, "--communities",
                                           str(SAMPLE / "communities.gpkg")],
            "coverage": [grids, *rosters], "events": [grids, str(SAMPLE / "events.parquet")],
            "diff": [str(SAMPLE / "last-year.gpkg"), grids]}
    out = {}
    for kind, extra in args.items():
        path = folder / f"{kind}.html"
        result = run_cli("map", kind, *extra, "--out", path)
        assert result.exit_code == 0, result.output
        out[kind] = path
    return out


def _overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    return [(a["name"], b["name"]) for a, b in combinations(boxes, 2)
            if a["left"] < b["right"] and b["left"] < a["right"]
            and a["top"] < b["bottom"] and b["top"] < a["bottom"]]


def _outside(state: dict) -> list[str]:
    return [b["name"] for b in state["boxes"] if b["left"] < 0 or b["top"] < 0
            or b["right"] > state["width"] + 0.5 or b["bottom"] > state["height"] + 0.5]


@pytest.fixture(scope="module")
def maps(tmp_path_factory):
    return _maps(tmp_path_factory.mktemp("maps"))


@pytest.mark.parametrize("size", SIZES)
def test_controls_legend_and_footer_do_not_overlap(maps, size):
    width, height, media = SIZES[size]
    with Chromium(chromium_or_skip(), width=width, height=height) as browser:
        for kind, path in maps.items():
            page = browser.open(path.as_uri())
            if media == "print":
                page.send("Emulation.setEmulatedMedia", {"media": "print"})
            state = page.wait_for(f"(() => {{ const s = {LAYOUT_JS.strip()}; "
                                  "return s.painted > 0 && s; })()")
            assert state, f"{kind} at {size}: grids not painted ({page.errors})"
            assert not page.errors, page.errors
            names = {b["name"] for b in state["boxes"]}
            assert {"gk-title", "gk-layers", "gk-footer"} <= {
                n for name in names for n in name.split()}, names
            assert state["rows"] >= 2
            assert not _overlaps(state["boxes"]), (kind, size, _overlaps(state["boxes"]))
            assert not _outside(state), (kind, size, _outside(state), state)


#: Property values of each feature of the page's first source as the browser decodes them.
DECODED_JS = """
(() => { const src = window[Object.keys(window).filter((k) => /^gk_source_/.test(k)).sort()[0]];
  return gk.decode(src).features.map((f) => [src.keys.map((k) => f.properties[k])
    .filter((v) => v !== undefined), f.geometry.coordinates]); })()
"""


def test_browser_decodes_the_properties_the_page_encodes(maps):
    """Front-coded texts, dictionary references, rings of shared arcs: the browser decodes
    what the page encodes."""
    browser_path = chromium_or_skip()
    p = parse_map(maps["grids"].read_text(encoding="utf-8"))
    first = next(x for x in p.layers if x.source == min(p.sources))
    expected = p.features(first)
    with Chromium(browser_path) as browser:
        page = browser.open(maps["grids"].as_uri())
        decoded = page.evaluate(DECODED_JS)
        assert not page.errors, page.errors
    assert [values for values, _ in decoded] == [list(f["properties"].values())
                                                 for f in expected]
    # Rings rebuilt from the shared arcs: the same polygons as the independent decoder's.
    for (_, coordinates), feature in zip(decoded, expected):
        got = shapely.MultiPolygon([shapely.Polygon(rings[0], rings[1:])
                                    for rings in coordinates])
        assert got.equals(feature["geometry"]), feature["properties"]


def test_overlap_check_catches_overlapping_boxes():
    a = {"name": "a", "left": 0, "top": 0, "right": 10, "bottom": 10}
    b = {"name": "b", "left": 5, "top": 5, "right": 20, "bottom": 20}
    c = {"name": "c", "left": 10, "top": 0, "right": 20, "bottom": 5}
    assert _overlaps([a, b, c]) == [("a", "b")]
    assert _outside({"boxes": [b], "width": 15, "height": 30}) == ["b"]

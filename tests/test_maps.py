"""gridkit.maps and ``gridkit map``: what each map contains, read back from the HTML.

The layer is 12 grids of 0.005° in three real communities (3 columns × 4 rows,
serials north→south), in two districts::

    col 0: 440103001101 翠洲社区 (沙面街道, 荔湾区)     grids g0..g3
    col 1: 440103002103 故衣街社区 (岭南街道, 荔湾区)   grids g4..g7
    col 2: 440104001007 三眼井社区 (洪桥街道, 越秀区)   grids g8..g11

g5 is named ``<img src=x onerror=alert(1)>`` (it must only ever appear
escaped); g6 has no households. Every map is parsed with ``tests/mappage.py``:
layer names, which layers show on opening, legends, tooltip labels, the
decoded features and their properties and coordinates.
"""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from mappage import decode_geometry, decode_line, parse_map
from shapely import box

import gridkit.maps.html
from gridkit.cli import cli
from gridkit.crs import wgs84_to_gcj02
from gridkit.errors import InputError
from gridkit.io.findings import read_findings
from gridkit.maps import (
    classify,
    coverage_map,
    encode_source,
    events_map,
    findings_map,
    grids_map,
    heat_points,
    human_size,
    render_map,
    write_map,
)
from gridkit.maps.pipeline import MapSettings, coverage_map_from_files

X0, Y0, STEP = 113.26, 23.12, 0.005
COMMUNITIES = ("440103001101", "440103002103", "440104001007")
CODES = [f"{c}{row + 1:03d}" for c in COMMUNITIES for row in range(4)]
EVIL = "<img src=x onerror=alert(1)>"
EVIL_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


def cell(i: int) -> shapely.Polygon:
    col, row = divmod(i, 4)
    return box(X0 + col * STEP, Y0 - (row + 1) * STEP, X0 + (col + 1) * STEP, Y0 - row * STEP)


def layer() -> gpd.GeoDataFrame:
    names = [f"第{i % 4 + 1}网格" for i in range(12)]
    names[5] = EVIL
    households = [100.0 * (i + 1) for i in range(12)]
    households[6] = np.nan
    return gpd.GeoDataFrame({"grid_code": CODES, "grid_name": names,
                             "community_code": [c[:12] for c in CODES],
                             "households": households},
                            geometry=[cell(i) for i in range(12)], crs=4490)


def page(gmap, **kwargs):
    return parse_map(render_map(gmap, **kwargs))


def coverage_rows() -> pd.DataFrame:
    """Per grid: party in g0..g8, a full-time worker everywhere but g2, all filed."""
    return pd.DataFrame({
        "code": CODES, "filing_rate": 1.0,
        "party_coverage": [1.0] * 9 + [0.0] * 3,
        "fulltime_worker_coverage": [0.0 if i == 2 else 1.0 for i in range(12)],
        "households_per_fulltime_worker": [np.nan if i == 2 else 100.0 * (i + 1)
                                           for i in range(12)]})


def events_rows() -> pd.DataFrame:
    """Per grid: i × 10 work orders, dispatch accuracy 0.5 in g1, none dispatched in g0."""
    return pd.DataFrame({"code": CODES, "events": [10 * i for i in range(12)],
                         "dispatch_accuracy": [np.nan, 0.5] + [1.0] * 10})


# ------------------------------------------------------------------------------ grids map


def test_grids_map_layers_legend_tooltips_and_features():
    text = render_map(grids_map(layer()), offline=True)
    p = parse_map(text)
    assert p.title == "综合网格分布图"
    assert p.overlays == ["网格", "街道界", "区界"]
    grids = p.layer("网格")
    assert grids.shown and grids.legend_title == "网格"
    assert [label for _, label in grids.legend] == ["荔湾区", "越秀区"]
    assert grids.tooltip == ["网格编码", "网格名称", "所属社区", "户数"]
    features = p.features(grids)
    assert [f["properties"]["网格编码"] for f in features] == CODES
    assert features[0]["properties"]["所属社区"] == "翠洲社区居民委员会"
    assert features[8]["properties"]["所属社区"] == "三眼井社区居委会"
    assert features[11]["properties"]["户数"] == "1,200"
    assert "户数" not in features[6]["properties"]  # missing: the tooltip shows "-"
    assert p.classes(grids) == [0] * 8 + [1] * 4  # coloured by district
    assert len(p.features("街道界")) == 3 and len(p.features("区界")) == 2
    # Coordinates survive the encoding to 1e-5 degree (the boxes need no simplifying).
    for feature, i in zip(features, range(12)):
        assert shapely.hausdorff_distance(feature["geometry"], cell(i)) < 1e-5
    district = shapely.union_all([cell(i) for i in range(8)])
    assert shapely.hausdorff_distance(p.features("区界")[0]["geometry"], district) < 1e-5
    assert p.fit_bounds == [[Y0 - 4 * STEP, X0], [Y0, X0 + 3 * STEP]]
    assert "12 个网格" in p.footer and "简化容差 5 m" in p.footer and "坐标精度约 1 m" in p.footer
    assert f"文件大小 {human_size(len(text.encode('utf-8')))}" in p.footer


def test_one_district_is_coloured_by_street():
    p = page(grids_map(layer().iloc[:8]))
    assert p.overlays == ["网格", "街道界"]
    assert [label for _, label in p.layer("网格").legend] == ["沙面街道", "岭南街道"]


def test_english_labels():
    p = page(grids_map(layer(), lang="en"))
    assert p.title == "Grids"
    assert p.overlays == ["Grids", "street boundaries", "district boundaries"]
    assert p.layer("Grids").tooltip == ["Grid code", "Grid name", "Community", "Households"]
    assert "12 grid units" in p.footer and "simplification tolerance 5 m" in p.footer
    assert "个网格" not in p.footer


def test_grids_without_polygons_are_counted_in_the_footer():
    broken = layer()
    broken.loc[3, "geometry"] = None
    broken.loc[4, "geometry"] = shapely.Point(X0, Y0)
    p = page(grids_map(broken))
    assert len(p.features("网格")) == 10
    assert "10 个网格" in p.footer and "2 个网格无有效面几何，未绘制" in p.footer


def test_tolerance_simplifies_and_is_reported():
    wiggly = layer()
    ring = np.array(cell(0).exterior.coords)
    dense = shapely.segmentize(shapely.Polygon(ring), 0.0005)
    wiggly.loc[0, "geometry"] = dense
    exact = page(grids_map(wiggly, tolerance_m=0)).features("网格")[0]["geometry"]
    simple = page(grids_map(wiggly, tolerance_m=20)).features("网格")[0]["geometry"]
    assert shapely.get_num_coordinates(simple) < shapely.get_num_coordinates(exact)
    assert "简化容差 20 m" in page(grids_map(wiggly, tolerance_m=20)).footer


# ----------------------------------------------------------------------- offline, basemaps


def test_offline_inlines_leaflet_and_loads_nothing():
    text = render_map(events_map(layer(), events_rows(),
                                  points=pd.DataFrame({"lon": [X0 + 0.001], "lat": [Y0 - 0.001]})),
                       offline=True)
    assert not re.search(r"<script[^>]*\bsrc=", text)
    assert not re.search(r"<link\b", text)
    assert not re.search(r"<(img|iframe)[^>]*\bsrc=[\"']?(https?:)?//", text)
    assert "tileLayer(" not in text and "{z}" not in text
    assert "Leaflet 1.9.4" in text  # the vendored library, inline
    assert "L.HeatLayer=" in text  # leaflet.heat, inline
    assert "url(data:image/png;base64," in text  # layer-control icons of leaflet.css
    for name in ("jquery", "bootstrap", "awesome"):
        assert name not in text.lower()
    assert "底图：无底图" in parse_map(text).footer


def test_online_uses_the_cdn_and_osm_tiles():
    text = render_map(grids_map(layer()))
    scripts = re.findall(r'<script[^>]*\bsrc="([^"]+)"', text)
    assert scripts == ["https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js"]
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css" in text
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in text
    assert "Leaflet 1.9.4" not in text


@pytest.mark.parametrize("basemap", ["amap", "tencent"])
def test_gcj02_basemap_shifts_every_overlay(basemap):
    points = pd.DataFrame({"lon": [X0 + 0.0012], "lat": [Y0 - 0.0012]})
    gmap = events_map(layer(), events_rows(), points=points)
    shifted, plain = page(gmap, basemap=basemap), page(gmap, basemap="osm")
    corners = np.array(cell(0).exterior.coords)[:-1]
    lon, lat = wgs84_to_gcj02(corners[:, 0], corners[:, 1])
    got = np.array(shifted.features("事件数")[0]["geometry"].geoms[0].exterior.coords)[:-1]
    wgs = np.array(plain.features("事件数")[0]["geometry"].geoms[0].exterior.coords)[:-1]
    key = np.lexsort  # compare the corner sets whatever the ring's start
    np.testing.assert_allclose(got[key(got.T)], np.column_stack([lon, lat])[key((lon, lat))],
                               atol=1.1e-5)
    np.testing.assert_allclose(wgs[key(wgs.T)], corners[key(corners.T)], atol=1.1e-5)
    assert np.abs(got[key(got.T)] - wgs[key(wgs.T)]).max() > 0.002  # 300-600 m in Guangzhou
    # Outlines, the heat map and the initial view move with the tiles.
    outline = shifted.features("区界")[0]["geometry"]
    assert outline.bounds[0] == pytest.approx(float(wgs84_to_gcj02(X0, Y0)[0]), abs=1e-4)
    heat = next(iter(shifted.heat.values()))
    centre = heat_points(points["lon"].to_numpy(), points["lat"].to_numpy())
    glon, glat = wgs84_to_gcj02(centre["lon"].to_numpy(), centre["lat"].to_numpy())
    assert heat[0][:2] == pytest.approx([glat[0], glon[0]], abs=1e-5)
    assert shifted.fit_bounds[0] != plain.fit_bounds[0]
    assert "叠加图层已转为 GCJ-02" in shifted.footer
    assert "GCJ-02" not in plain.footer
    assert {"amap": "autonavi.com", "tencent": "map.gtimg.com"}[basemap] in shifted.text


def test_offline_refuses_a_tile_basemap():
    with pytest.raises(InputError, match="offline"):
        render_map(grids_map(layer()), basemap="osm", offline=True)


# --------------------------------------------------------------------------- findings map


def findings_json() -> dict:
    """Overlap on the g0/g1 edge, a warning on g4, a code error with no place."""
    middle = Y0 - STEP
    return {"findings": [
        {"rule": "overlap", "severity": "error", "grid_codes": [CODES[0], CODES[1]],
         "area_m2": 12.345, "message": f"重叠 {EVIL}",
         "wkt": box(X0 + 0.002, middle - 0.0001, X0 + 0.003, middle + 0.0001).wkt},
        {"rule": "code_serial_order", "severity": "warning", "grid_codes": [CODES[4]],
         "area_m2": None, "message": "序号", "wkt": cell(4).wkt},
        {"rule": "code_format", "severity": "error", "grid_codes": [CODES[5]],
         "area_m2": None, "message": "格式", "wkt": None},
    ]}


def test_findings_map_one_layer_per_rule():
    p = page(findings_map(layer(), findings_json()))
    assert p.title == "数据质量问题分布图"
    assert p.overlays == ["问题周边网格", "区界", "序号顺序 (1)", "网格重叠 (1)"]
    overlap = p.layer("网格重叠 (1)")
    assert overlap.shown and overlap.legend_title == "网格重叠 (1)"
    assert [label for _, label in overlap.legend] == ["错误"]
    assert [label for _, label in p.layer("序号顺序 (1)").legend] == ["警告"]
    assert overlap.tooltip == ["规则", "级别", "网格编码", "面积(m²)", "说明"]
    drawn = p.features(overlap)
    assert len(drawn) == 2  # the overlap itself and a marker on it (visible when zoomed out)
    assert [f["geometry"].geom_type for f in drawn] == ["MultiPolygon", "MultiPoint"]
    props = drawn[0]["properties"]
    assert props == {"规则": "网格重叠", "级别": "错误", "网格编码": f"{CODES[0]}、{CODES[1]}",
                     "面积(m²)": "12.3", "说明": f"重叠 {EVIL_ESCAPED}"}
    assert p.layer("网格重叠 (1)").spec["pal"] != p.layer("序号顺序 (1)").spec["pal"]
    # Context: the named grids and those within 300 m of a finding, not the far ones.
    context = {f["properties"]["网格编码"] for f in p.features("问题周边网格")}
    assert {CODES[i] for i in (0, 1, 4, 5)} <= context
    assert not context & {CODES[i] for i in (3, 7, 10, 11)}
    assert f"{len(context)} 个网格" in p.footer
    assert "另有 1 条问题无位置（见报告表格）" in p.footer
    assert EVIL not in p.text


@pytest.mark.parametrize("codes", [f"{CODES[0]};{CODES[1]}", [CODES[0], CODES[1]]])
def test_findings_grid_codes_as_text_or_list(codes):
    """Hand-edited findings JSON may give the codes as "a;b" (the GeoPackage form)."""
    data = findings_json()
    data["findings"][0]["grid_codes"] = codes
    p = page(findings_map(layer(), data))
    assert p.features("网格重叠 (1)")[0]["properties"]["网格编码"] == f"{CODES[0]}、{CODES[1]}"


def test_findings_map_in_english_uses_rule_ids():
    p = page(findings_map(layer(), findings_json(), lang="en"))
    assert p.overlays == ["Grids around findings", "district boundaries",
                          "code_serial_order (1)", "overlap (1)"]
    assert [label for _, label in p.layer("overlap (1)").legend] == ["error"]
    assert "1 finding(s) without a location" in p.footer


def test_no_findings_draws_every_grid():
    p = page(findings_map(layer(), {"findings": []}))
    assert p.overlays == ["问题周边网格", "区界"]
    assert len(p.features("问题周边网格")) == 12 and "未发现问题" in p.footer


def test_findings_from_the_validator(tmp_path):
    from gridkit.validate import validate

    overlapping = layer()
    overlapping.loc[0, "geometry"] = box(X0, Y0 - STEP - 0.001, X0 + STEP, Y0)
    result = validate(overlapping)
    p = page(findings_map(overlapping, result.findings))
    rules = [name for name in p.overlays if "(" in name]
    assert "网格重叠 (1)" in rules
    (tmp_path / "f.json").write_text(json.dumps(result.to_dict()), encoding="utf-8")
    again = page(findings_map(overlapping, read_findings(tmp_path / "f.json")))
    assert again.overlays == p.overlays


# --------------------------------------------------------------------------- coverage map


RATE_LABELS = ["<60%", "60%–80%", "80%–90%", "90%–95%", "95%–99.9%", "100%"]


def test_coverage_map_per_grid():
    p = page(coverage_map(layer(), coverage_rows()))
    assert p.title == "网格覆盖情况图"
    assert p.overlays == ["党组织覆盖率", "专职网格员覆盖率", "备案率", "每名专职网格员服务户数",
                          "街道界", "区界"]
    assert [x.shown for x in p.layers] == [True, False, False, False, True, True]
    party = p.layer("党组织覆盖率")
    assert party.legend_title == "党组织覆盖率"
    assert [label for _, label in party.legend] == [*RATE_LABELS, "无数据"]
    assert p.classes(party) == [5] * 9 + [0] * 3
    assert party.spec["pal"][0] == "#d73027" and party.spec["pal"][5] == "#1a9850"
    load = p.layer("每名专职网格员服务户数")
    assert load.legend[-1][1] == "无专职网格员"
    assert p.classes(load)[2] == len(load.spec["pal"]) - 1
    assert party.tooltip == ["网格编码", "网格名称", "所属社区", "备案率", "党组织覆盖率",
                             "专职网格员覆盖率", "每名专职网格员服务户数"]
    props = p.features(party)[2]["properties"]
    assert props["党组织覆盖率"] == "100.0%" and props["专职网格员覆盖率"] == "0.0%"
    assert "每名专职网格员服务户数" not in props
    assert p.features(party)[11]["properties"]["每名专职网格员服务户数"] == "1,200.0"
    assert len(p.features(party)) == 12 and "12 个网格" in p.footer
    # One source for the five metric layers: the geometry is written once.
    assert len({x.source for x in p.layers[:4]}) == 1


def test_coverage_map_of_chosen_metric():
    p = page(coverage_map(layer(), coverage_rows(), ["fulltime_worker_coverage"]))
    assert p.overlays == ["专职网格员覆盖率", "街道界", "区界"]
    with pytest.raises(InputError, match="unknown metric 'nope'"):
        coverage_map(layer(), coverage_rows(), ["nope"])
    with pytest.raises(InputError, match="'cadre_coverage' is not in the per-unit rows"):
        coverage_map(layer(), coverage_rows(), ["cadre_coverage"])


@pytest.mark.parametrize(("by", "units", "names"), [
    ("street", 3, ["沙面街道", "岭南街道", "洪桥街道"]),
    ("district", 2, ["荔湾区", "越秀区"]),
    ("community", 3, ["翠洲社区居民委员会", "故衣街社区居民委员会", "三眼井社区居委会"]),
])
def test_coverage_map_rolled_up_from_the_coverage_json(by, units, names):
    from gridkit.coverage import compute_coverage

    party = pd.DataFrame({"org_id": ["o1", "o2"], "org_name": ["甲", "乙"],
                          "org_type": ["党支部"] * 2, "grid_code": [CODES[0], CODES[8]]})
    result = compute_coverage(layer(), party=party, by=by).to_dict()
    p = page(coverage_map(layer(), json.loads(json.dumps(result))))
    assert p.overlays[0] == "党组织覆盖率"
    label = {"street": "街道", "district": "区", "community": "社区"}[by]
    features = p.features("党组织覆盖率")
    assert len(features) == units and f"{units} 个{label}" in p.footer
    assert p.layer("党组织覆盖率").tooltip[:2] == [f"{label}编码", f"{label}名称"]
    assert sorted(f["properties"][f"{label}名称"] for f in features) == sorted(names)
    assert f"按{label}汇总" in p.footer
    rates = {f["properties"][f"{label}名称"]: f["properties"]["党组织覆盖率"] for f in features}
    if by == "district":
        assert rates == {"荔湾区": "12.5%", "越秀区": "25.0%"}


def test_coverage_map_without_metrics_is_refused():
    with pytest.raises(InputError, match="no coverage metric"):
        coverage_map(layer(), pd.DataFrame({"code": CODES}))


# ----------------------------------------------------------------------------- events map


def test_events_map_counts_accuracy_and_heat():
    points = pd.DataFrame({"lon": [X0 + 0.001, X0 + 0.0011, X0 + 0.012, 0.0, np.nan],
                           "lat": [Y0 - 0.001, Y0 - 0.0011, Y0 - 0.012, 0.0, np.nan]})
    p = page(events_map(layer(), events_rows(), points=points))
    assert p.title == "工单分布图"
    assert p.overlays == ["事件数", "转派准确率", "街道界", "区界", "工单热力图"]
    assert [x.shown for x in p.layers] == [True, False, True, True, False]
    counts = p.layer("事件数")
    labels = [label for _, label in counts.legend]
    assert labels[0] == "0" and labels[-1] == "无数据" and labels[-2].startswith("≥")
    assert p.classes(counts)[0] == 0 and p.classes(counts)[11] == len(labels) - 2
    accuracy = p.layer("转派准确率")
    assert accuracy.legend[-1][1] == "无已转派工单"
    assert p.classes(accuracy)[:3] == [len(accuracy.spec["pal"]) - 1, 0, 5]
    assert p.features(counts)[11]["properties"]["事件数"] == "110"
    # Two points share a 250 m bin; 0,0 and NaN are left out.
    heat = next(iter(p.heat.values()))
    assert len(heat) == 2 and sorted(w for _, _, w in heat) == [0.5, 1.0]
    assert "热力图：250 m 方格汇总" in p.footer


def test_heat_bins_grow_until_few_enough():
    rng = np.random.default_rng(1)
    x, y = X0 + rng.random(5000) * 0.05, Y0 - rng.random(5000) * 0.05
    fine = heat_points(x, y)
    coarse = heat_points(x, y, max_points=len(fine) // 10)
    assert fine.attrs["bin_m"] == 250 and len(fine) > 100
    assert len(coarse) <= len(fine) // 10 and coarse.attrs["bin_m"] in (1000, 2000, 4000)
    assert coarse["weight"].max() == 1.0
    # Same bins whether doubled from the fine cells or binned directly at the coarse size.
    direct = heat_points(x, y, bin_m=coarse.attrs["bin_m"], max_points=None)
    pd.testing.assert_frame_equal(coarse, direct)
    empty = heat_points(np.array([np.nan]), np.array([np.nan]))
    assert len(empty) == 0 and empty.attrs["bin_m"] == 250


def test_classify_breaks():
    k, palette, labels = classify(pd.Series([1.0, 0.95, 0.9, 0.8, 0.6, 0.59, None]), "rate", "zh")
    assert k.tolist() == [5, 4, 3, 2, 1, 0, 6] and labels == (*RATE_LABELS, "无数据")
    assert len(palette) == len(labels)
    k, palette, labels = classify(pd.Series(range(11)), "count", "en")
    assert labels == ("0", "1–3", "4–5", "6–7", "8–9", "≥10", "no data")
    assert k.tolist() == [0, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5]
    k, palette, labels = classify(pd.Series([100.0, 200, 300, 400, 500, 600]), "load", "zh",
                                  missing="无专职网格员")
    assert labels[0].startswith("≤") and labels[-2].startswith(">") and labels[-1] == "无专职网格员"
    assert k.tolist() == sorted(k.tolist()) and palette[0] == "#1a9850"


# -------------------------------------------------------------------- encoding, escaping


def test_encoding_round_trip_of_every_geometry_family():
    ring = box(113.3, 23.1, 113.31, 23.11)
    holed = shapely.Polygon(ring.exterior.coords,
                            [box(113.302, 23.102, 113.304, 23.104).exterior.coords])
    geoms = [shapely.MultiPolygon([holed, box(113.32, 23.1, 113.33, 23.11)]),
             shapely.LineString([(113.3, 23.1), (113.35, 23.15)]),
             shapely.MultiPoint([(113.3, 23.1), (113.29999, 23.10001)])]
    gdf = gpd.GeoDataFrame({"v": [1, 2, None]}, geometry=geoms, crs=4326)
    data = json.loads(encode_source(gdf, ["v"])[0])
    for (_, family, parts), original in zip(data["features"], geoms):
        decoded = decode_geometry(family, parts, data["alphabet"], data["scale"])
        assert shapely.hausdorff_distance(decoded, original) < 1e-5
    assert [f[0] for f in data["features"]] == [[1], [2], [None]]
    assert decode_line("AA", data["alphabet"], 1).tolist() == [[0, 0]]


def test_contractor_strings_are_escaped_everywhere():
    names = {"440103001101": "<b>翠洲</b>", "440103": "<i>荔湾</i>"}
    for gmap in (grids_map(layer(), names=names),
                 coverage_map(layer(), coverage_rows(), names=names),
                 events_map(layer(), events_rows(), names=names)):
        text = render_map(gmap, offline=True)
        assert EVIL not in text and "<b>翠洲" not in text and "<i>荔湾" not in text
        p = parse_map(text)
        props = p.features(p.layers[0])
        assert props[5]["properties"]["网格名称"] == EVIL_ESCAPED
        assert props[0]["properties"]["所属社区"] == "&lt;b&gt;翠洲&lt;/b&gt;"
    legend = parse_map(render_map(grids_map(layer(), names=names))).layer("网格").legend
    assert legend[0][1] == "<i>荔湾</i>"  # unescaped by the parser: it was &lt;i&gt; in HTML


def test_every_text_of_a_map_is_escaped_when_drawn():
    """A rule id of a findings JSON, and the plain-text title, notes and labels of a GridMap."""
    data = findings_json()
    data["findings"][0]["rule"] = EVIL
    gmap = findings_map(layer(), data, lang="en")
    gmap.title = EVIL
    gmap.notes.append(EVIL)
    context = gmap.themes[0]
    gmap.themes[0] = dataclasses.replace(context, tooltip=((context.tooltip[0][0], EVIL),
                                                           *context.tooltip[1:]))
    text = render_map(gmap, offline=True)
    assert EVIL not in text
    # Leaflet writes layer names and tooltip labels as HTML: they must arrive escaped.
    names = [json.loads(name) for name in
             re.findall(r'^\s*("(?:[^"\\]|\\.)*")\s*:\s*gk_layer_\w+,$', text, re.M)]
    assert f"{EVIL_ESCAPED} (1)" in names
    p = parse_map(text)
    assert p.layers[0].spec["tip"][0][1] == EVIL_ESCAPED
    assert f"<title>{EVIL_ESCAPED}</title>" in text
    assert p.title == EVIL and p.footer.endswith(f"{EVIL} · gridkit {gridkit.__version__}")


def test_offline_page_with_an_external_resource_is_refused(monkeypatch):
    """The last guard of --offline: a page still loading something from the network."""
    monkeypatch.setattr(gridkit.maps.html, "_use_assets", lambda m, offline: None)  # CDN kept
    with pytest.raises(RuntimeError, match="external resource"):
        render_map(grids_map(layer()), offline=True)


# ------------------------------------------------------------------------------ PNG, files


def test_write_map_with_png(tmp_path):
    out = write_map(coverage_map(layer(), coverage_rows()), tmp_path / "c.html", png=True)
    assert out.path.read_bytes()[:15] == b"<!DOCTYPE html>"
    assert out.bytes == out.path.stat().st_size and out.features == 12
    assert out.png == tmp_path / "c.png"
    assert out.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from matplotlib.image import imread

    image = imread(out.png)
    assert image.shape[:2] == (1500, 1500)
    assert (image[..., :3] < 0.95).any(axis=2).mean() > 0.05  # something was drawn
    assert out.to_dict()["png"] == str(out.png)


def test_write_map_refuses_to_overwrite(tmp_path):
    target = tmp_path / "g.html"
    target.write_text("keep", encoding="utf-8")
    with pytest.raises(InputError, match="use --force"):
        write_map(grids_map(layer()), target)
    assert target.read_text(encoding="utf-8") == "keep"
    write_map(grids_map(layer()), target, force=True)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_same_input_same_file():
    """Element ids are numbered, not random: a map can be diffed and cached."""
    assert render_map(coverage_map(layer(), coverage_rows())) == render_map(
        coverage_map(layer(), coverage_rows()))


@pytest.mark.parametrize("module", [
    "gridkit.maps.builders", "gridkit.maps.classification", "gridkit.maps.encoding",
    "gridkit.maps.heat", "gridkit.maps.model", "gridkit.io.findings"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module),
                             optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# ------------------------------------------------------------------------------------ CLI


@pytest.fixture
def files(tmp_path):
    layer().to_file(tmp_path / "grids.gpkg")
    pd.DataFrame({"org_id": ["o1", "o2"], "org_name": ["甲", "乙"], "org_type": ["党支部"] * 2,
                  "grid_code": [CODES[0], CODES[8]]}).to_csv(tmp_path / "party.csv",
                                                             index=False)
    t = pd.Timestamp("2023-05-01 08:00")
    pd.DataFrame({"event_id": ["e1", "e2", "e3"], "lon": [X0 + 0.001, X0 + 0.012, 0.0],
                  "lat": [Y0 - 0.001, Y0 - 0.012, 0.0], "reported_at": [t] * 3,
                  "assigned_grid_code": [CODES[0], CODES[0], None],
                  "dispatched_at": [t, t, pd.NaT], "closed_at": [t, pd.NaT, pd.NaT],
                  "valid_complaint": [False] * 3}).to_parquet(tmp_path / "events.parquet")
    return tmp_path


def run_map(*args):
    return CliRunner().invoke(cli, ["map", *map(str, args)])


def test_cli_every_kind(files):
    cases = {
        "grids": [],
        "findings": [],
        "coverage": ["--party", files / "party.csv", "--by", "street"],
        "events": [files / "events.parquet"],
    }
    for kind, extra in cases.items():
        out = files / f"{kind}.html"
        events = extra[:1] if kind == "events" else []
        options = extra[1:] if kind == "events" else extra
        result = run_map(kind, files / "grids.gpkg", *events, "--out", out, "--offline",
                         "--format", "json", *options)
        assert result.exit_code == 0, (kind, result.output)
        info = json.loads(result.stdout)
        assert info["path"] == str(out) and info["bytes"] == out.stat().st_size
        assert info["offline"] is True and info["basemap"] == "none"
        p = parse_map(out.read_text(encoding="utf-8"))
        assert p.layers and p.sources, kind
    p = parse_map((files / "coverage.html").read_text(encoding="utf-8"))
    assert p.overlays == ["党组织覆盖率", "区界"] and "3 个街道" in p.footer
    p = parse_map((files / "events.html").read_text(encoding="utf-8"))
    assert p.features("事件数")[0]["properties"]["事件数"] == "1"
    assert len(next(iter(p.heat.values()))) == 2


def test_cli_table_png_lang_and_amap(files):
    out = files / "g.html"
    result = run_map("grids", files / "grids.gpkg", "--out", out, "--png", "--lang", "en",
                     "--online", "--basemap", "amap")
    assert result.exit_code == 0, result.output
    assert "size" in result.output and "amap" in result.output and "PNG" in result.output
    assert (files / "g.png").read_bytes()[:4] == b"\x89PNG"
    p = parse_map(out.read_text(encoding="utf-8"))
    assert p.overlays[0] == "Grids" and "overlays shifted to GCJ-02" in p.footer


def test_cli_refuses_to_overwrite_without_force(files):
    out = files / "g.html"
    out.write_text("keep", encoding="utf-8")
    png = files / "g.png"
    result = run_map("grids", files / "grids.gpkg", "--out", out, "--png")
    assert result.exit_code == 2 and "use --force" in result.output
    assert out.read_text(encoding="utf-8") == "keep" and not png.exists()
    assert run_map("grids", files / "grids.gpkg", "--out", out, "--force").exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(("args", "needle"), [
    (["grids", "{g}", "--party", "{d}/party.csv"], "--party applies to `gridkit map coverage`"),
    (["events", "{g}"], "needs the EVENTS file"),
    (["coverage", "{g}"], "needs --coverage or roster files"),
    (["grids", "{g}", "--offline", "--basemap", "osm"], "--offline loads no tiles"),
    (["grids", "{d}/missing.gpkg"], "missing.gpkg"),
    (["coverage", "{g}", "--coverage", "{d}/nope.json"], "nope.json: coverage file not found"),
])
def test_cli_bad_input_exit_2(files, args, needle):
    args = [a.format(g=files / "grids.gpkg", d=files) for a in args]
    result = run_map(*args, "--out", files / "x.html")
    assert result.exit_code == 2, result.output
    assert needle in result.output and len(result.output.strip().splitlines()) == 1
    assert not (files / "x.html").exists()


def test_cli_reads_validate_and_coverage_outputs(files):
    """``--findings`` (GeoPackage of gridkit validate) and ``--coverage`` (its JSON)."""
    overlapping = layer()
    overlapping.loc[0, "geometry"] = box(X0, Y0 - STEP - 0.001, X0 + STEP, Y0)
    overlapping.to_file(files / "bad.gpkg")
    result = CliRunner().invoke(cli, ["validate", str(files / "bad.gpkg"),
                                      "--out", str(files / "findings.gpkg")])
    assert result.exit_code == 1, result.output
    out = files / "f.html"
    result = run_map("findings", files / "bad.gpkg", "--findings", files / "findings.gpkg",
                     "--out", out)
    assert result.exit_code == 0, result.output
    p = parse_map(out.read_text(encoding="utf-8"))
    overlap = p.layer("网格重叠 (1)")
    assert p.features(overlap)[0]["properties"]["网格编码"] == f"{CODES[0]}、{CODES[1]}"
    result = CliRunner().invoke(cli, ["coverage", str(files / "grids.gpkg"), "--party",
                                      str(files / "party.csv"), "--by", "district",
                                      "--format", "json"])
    (files / "coverage.json").write_text(result.stdout, encoding="utf-8")
    out = files / "c.html"
    result = run_map("coverage", files / "grids.gpkg", "--coverage", files / "coverage.json",
                     "--out", out, "--lang", "en")
    assert result.exit_code == 0, result.output
    p = parse_map(out.read_text(encoding="utf-8"))
    assert p.overlays == ["Party coverage", "district boundaries"]
    assert "2 district units" in p.footer and "rolled up by district" in p.footer
    (files / "broken.json").write_text("{", encoding="utf-8")
    result = run_map("coverage", files / "grids.gpkg", "--coverage", files / "broken.json",
                     "--out", files / "x.html")
    assert result.exit_code == 2 and "broken.json" in result.output


def test_cli_never_overwrites_an_input_even_with_force(files):
    for kind, source, extra in (("grids", "grids.gpkg", []),
                                ("events", "events.parquet", ["{d}/events.parquet"]),
                                ("coverage", "party.csv", ["--party", "{d}/party.csv"])):
        before = (files / source).read_bytes()
        args = [a.format(d=files) for a in extra]
        events = args[:1] if kind == "events" else []
        options = [] if kind == "events" else args
        result = run_map(kind, files / "grids.gpkg", *events, *options,
                         "--out", files / source, "--force")
        assert result.exit_code == 2 and "overwrite the input" in result.output, result.output
        assert (files / source).read_bytes() == before


@pytest.mark.parametrize(("kind", "content"), [
    ("findings", '{"findings": "x"}'),
    ("findings", "[1, 2]"),
    ("findings", '{"findings": [1]}'),
    ("coverage", "{}"),
    ("coverage", "[]"),
    ("coverage", '{"rows": "x"}'),
    ("coverage", '{"rows": [1]}'),
])
def test_cli_malformed_json_inputs_exit_2(files, kind, content):
    """A JSON of the wrong shape: one line naming the file, no traceback, nothing written."""
    (files / "bad.json").write_text(content, encoding="utf-8")
    option = "--findings" if kind == "findings" else "--coverage"
    result = run_map(kind, files / "grids.gpkg", option, files / "bad.json",
                     "--out", files / "x.html")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "bad.json" in lines[0], lines
    assert not (files / "x.html").exists()


def test_cli_maps_are_offline_by_default_as_reports(files):
    """Same default as ``gridkit report``: self-contained for intranets; --online for tiles."""
    out = files / "g.html"
    info = json.loads(run_map("grids", files / "grids.gpkg", "--out", out,
                              "--format", "json").stdout)
    assert info["offline"] is True and info["basemap"] == "none"
    assert not re.search(r"<script[^>]+src=", out.read_text(encoding="utf-8"))
    info = json.loads(run_map("grids", files / "grids.gpkg", "--out", out, "--online",
                              "--force", "--format", "json").stdout)
    assert info["offline"] is False and info["basemap"] == "osm"


def test_cli_kinds_are_subcommands_with_their_own_options(files):
    overview = run_map("--help")
    assert overview.exit_code == 0
    assert all(kind in overview.output for kind in ("grids", "findings", "coverage", "events"))
    coverage_help = run_map("coverage", "--help").output
    grids_help = run_map("grids", "--help").output
    assert "--party" in coverage_help and "--party" not in grids_help
    assert "--event-column" in run_map("events", "--help").output
    assert "--offline / --online" in grids_help


def test_cli_events_map_with_event_columns(files):
    """``--event-column CANONICAL=SOURCE`` maps the event file's columns as ``events --column``."""
    orders = pd.read_parquet(files / "events.parquet").rename(
        columns={"event_id": "GDBH", "lon": "X", "lat": "Y"})
    orders.to_csv(files / "orders.csv", index=False)
    out = files / "e.html"
    result = run_map("events", files / "grids.gpkg", files / "orders.csv", "--out", out)
    assert result.exit_code == 2 and "orders.csv" in result.output, result.output
    assert not out.exists()
    result = run_map("events", files / "grids.gpkg", files / "orders.csv", "--out", out,
                     "--event-column", "event_id=GDBH", "--event-column", "lon=X",
                     "--event-column", "lat=Y")
    assert result.exit_code == 0, result.output
    p = parse_map(out.read_text(encoding="utf-8"))
    assert p.features("事件数")[0]["properties"]["事件数"] == "1"
    result = run_map("events", files / "grids.gpkg", files / "orders.csv", "--out", out,
                     "--force", "--event-column", "lon")
    assert result.exit_code == 2
    assert result.output.strip() == ("gridkit: error: --event-column expects CANONICAL=SOURCE, "
                                     "got 'lon'")


def test_pipeline_refuses_a_coverage_map_without_data():
    with pytest.raises(InputError, match="needs a coverage JSON or roster files"):
        coverage_map_from_files(layer(), MapSettings(), rosters={"party": None})

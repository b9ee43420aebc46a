"""gridkit.validate: every rule on small hand-built layers (EPSG:4547), and a clean layer.

Layout (metres, EPSG:4547 near Guangzhou): two real communities side by
side, A = 440104001007 (west) and B = 440104001101 (east), each 200 m × 240 m
and cut into 2 × 2 grids of 100 m × 120 m numbered in reading order:

    A001 A002 | B001 B002
    A003 A004 | B003 B004

The layers are built by tests/helpers/validate_data.py.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from helpers.validate_data import (
    X0,
    Y0,
    A,
    B,
    H,
    W,
    add,
    cell,
    code,
    communities,
    grids,
    new_grid,
    reference,
)
from shapely import MultiPolygon, Polygon, box

from gridkit.crs import convert_geometries
from gridkit.errors import InputError
from gridkit.validate import RULES, RuleConfig, load_rules, validate


def run(layer: gpd.GeoDataFrame, *, comm: gpd.GeoDataFrame | None | bool = True,
        ref: gpd.GeoDataFrame | None | bool = True, **kwargs):
    """validate() in English with the default communities / reference unless given."""
    comm = communities() if comm is True else None if comm is False else comm
    ref = reference() if ref is True else None if ref is False else ref
    return validate(layer, comm, ref, lang="en", **kwargs)


def found(result, rule: str) -> list[list[str]]:
    """Grid codes of each finding of ``rule``."""
    return [list(c) for c in result.findings.loc[result.findings["rule"] == rule, "grid_codes"]]


def errors_by_rule(result) -> dict[str, int]:
    errors = result.findings[result.findings["severity"] == "error"]
    return errors["rule"].value_counts().to_dict()


# ----------------------------------------------------------------------------- clean


def test_clean_layer_has_no_findings():
    result = run(grids())
    assert result.findings.empty
    assert result.skipped == {}
    assert set(result.by_rule) == set(RULES) and not any(result.by_rule.values())
    assert result.exit_code == 0 and result.errors == 0 and result.warnings == 0


def test_clean_layer_in_lonlat_has_no_findings():
    layer = grids().to_crs(4490)
    result = validate(layer, communities().to_crs(4490), reference().to_crs(4490))
    assert result.findings.empty


def test_digitising_noise_below_tolerance_is_not_reported():
    layer = grids()
    layer.loc[0, "geometry"] = cell(0, 0, grow=(0, 0, 0.2, 0))  # 0.2 m × 120 m into A002
    layer.loc[2, "geometry"] = cell(0, 1, grow=(0, 0, -0.3, 0))  # 0.3 m gap to A004
    speck = box(X0 + 2 * W + 50, Y0 + H + 50, X0 + 2 * W + 50.8, Y0 + H + 50.8)  # 0.64 m²
    layer.loc[4, "geometry"] = shapely.difference(cell(2, 0), speck)  # hole in B001
    layer.loc[5, "geometry"] = shapely.union(cell(3, 0), shapely.affinity.translate(speck, 49.2))
    # both pieces are wider than the snapping tolerance: only the area tolerance drops them
    assert run(layer, ref=False).findings.empty
    tiny = run(layer, ref=False, config=RuleConfig(area_tolerance_m2=0.5))
    assert found(tiny, "gap") == [[code(B, 1)]]
    assert found(tiny, "overlap") == [[code(B, 1), code(B, 2)]]
    strict = run(layer, ref=False, config=RuleConfig(snap_tolerance_m=0.1))
    assert found(strict, "overlap") == [[code(A, 1), code(A, 2)]]
    assert {code(A, 3), code(A, 4)} <= set(found(strict, "gap")[0])


# ----------------------------------------------------------------------------- geometry


def test_invalid_geometry_is_reported_with_reason_and_repaired():
    layer = grids()
    x, y = X0, Y0 + H
    layer.loc[0, "geometry"] = Polygon([(x, y), (x + W, y + H), (x + W, y), (x, y + H)])  # bow tie
    result = run(layer)
    rows = result.findings[result.findings["rule"] == "invalid_geometry"]
    assert rows["grid_codes"].tolist() == [[code(A, 1)]]
    assert "Self-intersection" in rows["message"].iloc[0]
    assert result.repaired == 1 and any("make_valid" in n for n in result.notes)
    # the other rules ran on the repaired bow tie: two triangles, the rest is gap
    assert found(result, "multipart") == [[code(A, 1)]]
    assert all(code(A, 1) in c for c in found(result, "gap"))
    assert result.to_dict()["repaired_geometries"] == 1


def test_non_polygon_geometry_is_invalid():
    layer = grids()
    layer.loc[3, "geometry"] = shapely.LineString([(X0, Y0), (X0 + 10, Y0)])
    result = run(layer, ref=False)
    assert found(result, "invalid_geometry") == [[code(A, 4)]]
    assert "LINESTRING" in result.findings["message"].iloc[0]


def test_empty_geometry():
    layer = grids()
    layer.loc[1, "geometry"] = None
    layer.loc[2, "geometry"] = Polygon()
    result = run(layer)
    assert found(result, "empty_geometry") == [[code(A, 2)], [code(A, 3)]]
    assert result.findings.loc[result.findings["rule"] == "empty_geometry"].geometry.isna().all()


def test_multipart_is_a_warning_unless_configured():
    layer = grids()
    island = box(X0 + 250, Y0 + 50, X0 + 260, Y0 + 60)  # inside B003, given to B001
    layer.loc[4, "geometry"] = MultiPolygon([cell(2, 0), island])
    layer.loc[6, "geometry"] = shapely.difference(cell(2, 1), island)
    result = run(layer, ref=False)
    rows = result.findings[result.findings["rule"] == "multipart"]
    assert rows["grid_codes"].tolist() == [[code(B, 1)]]
    assert rows["severity"].tolist() == ["warning"]
    config = RuleConfig.from_mapping({"severity": {"multipart": "error"}})
    strict = run(layer, ref=False, config=config)
    assert errors_by_rule(strict) == {"multipart": 1}


# ----------------------------------------------------------------------------- division


def test_overlap_names_both_grids_with_area_and_polygon():
    layer = grids()
    layer.loc[0, "geometry"] = cell(0, 0, grow=(0, 0, 10, 0))  # 10 m into A002
    result = run(layer, ref=False)
    rows = result.findings[result.findings["rule"] == "overlap"]
    assert rows["grid_codes"].tolist() == [[code(A, 1), code(A, 2)]]
    assert rows["area_m2"].iloc[0] == pytest.approx(10 * H)
    assert rows.geometry.iloc[0].equals(box(X0 + W, Y0 + H, X0 + W + 10, Y0 + 2 * H))


def test_overlap_of_a_grid_inside_another_and_of_duplicates():
    layer = grids()
    layer = add(layer, new_grid(A, 5, box(X0 + 20, Y0 + H + 20, X0 + 60, Y0 + H + 60)),
                new_grid(B, 5, cell(3, 1)))
    result = run(layer, ref=False)
    assert found(result, "overlap") == [[code(A, 1), code(A, 5)], [code(B, 4), code(B, 5)]]
    assert result.findings.loc[result.findings["rule"] == "overlap", "area_m2"].tolist() == \
        pytest.approx([1600, W * H])


def test_gap_inside_community_names_the_grids_around_it():
    layer = grids()
    layer.loc[0, "geometry"] = cell(0, 0, grow=(0, 0, -10, 0))  # 10 m gap to A002
    result = run(layer, ref=False)
    rows = result.findings[result.findings["rule"] == "gap"]
    assert len(rows) == 1
    assert {code(A, 1), code(A, 2)} <= set(rows["grid_codes"].iloc[0])
    assert rows["area_m2"].iloc[0] == pytest.approx(10 * H)
    assert A in rows["message"].iloc[0]
    assert rows["severity"].iloc[0] == "error"


@pytest.mark.parametrize("owner", [B, "440104001999"])
def test_hole_covered_by_a_grid_of_another_or_an_unknown_community_is_no_gap(owner):
    """The grids' union is taken per community first: grids of other communities count too."""
    layer = grids()
    layer.loc[0, "geometry"] = cell(0, 0, grow=(0, 0, -10, 0))  # 10 m gap to A002 ...
    strip = box(X0 + W - 10, Y0 + H, X0 + W, Y0 + 2 * H)  # ... filled by another's grid
    assert {code(A, 1), code(A, 2)} <= set(*found(run(layer, ref=False), "gap"))
    assert found(run(add(layer, new_grid(owner, 9, strip)), ref=False), "gap") == []


def test_gap_at_the_community_edge_needs_the_communities_layer():
    layer = grids()
    layer.loc[0, "geometry"] = cell(0, 0, grow=(0, 0, 0, -10))  # notch open to the north
    assert found(run(layer, ref=False), "gap") == [[code(A, 1), code(A, 2)]]
    assert found(run(layer, comm=False, ref=False), "gap") == []


def test_gap_without_communities_is_a_hole_of_the_layer():
    layer = grids()
    hole = box(X0 + 30, Y0 + H + 30, X0 + 60, Y0 + H + 70)
    layer.loc[0, "geometry"] = shapely.difference(cell(0, 0), hole)
    # an island grid inside the hole is not a gap
    layer = add(layer, new_grid(A, 5, box(X0 + 40, Y0 + H + 40, X0 + 50, Y0 + H + 50)))
    result = run(layer, comm=False, ref=False)
    rows = result.findings[result.findings["rule"] == "gap"]
    assert rows["grid_codes"].tolist() == [[code(A, 1), code(A, 5)]]
    assert rows["area_m2"].iloc[0] == pytest.approx(30 * 40 - 100)


def test_outside_community_outside_every_community():
    layer = grids()
    layer.loc[0, "geometry"] = cell(0, 0, grow=(0, 0, 0, 20))  # 20 m north of the communities
    rows = run(layer, ref=False).findings
    rows = rows[rows["rule"] == "outside_community"]
    assert rows["grid_codes"].tolist() == [[code(A, 1)]]
    assert rows["area_m2"].iloc[0] == pytest.approx(20 * W)
    assert "outside every community" in rows["message"].iloc[0]


def test_outside_community_into_the_neighbour():
    layer = grids()
    layer.loc[1, "geometry"] = cell(1, 0, grow=(0, 0, 20, 0))  # 20 m into community B
    result = run(layer, ref=False)
    assert found(result, "outside_community") == [[code(A, 2)]]
    assert found(result, "overlap") == [[code(A, 2), code(B, 1)]]
    assert found(result, "code_community_mismatch") == []  # most of it is still in A


def test_outside_community_when_named_community_is_not_in_the_layer():
    comm = communities().iloc[[0]]
    result = run(grids(), comm=comm, ref=False)
    assert found(result, "outside_community") == [[code(B, s)] for s in range(1, 5)]
    rows = result.findings[result.findings["rule"] == "outside_community"]
    assert "not in the communities layer" in rows["message"].iloc[0]
    assert rows["area_m2"].tolist() == pytest.approx([W * H] * 4)


def test_sliver_grid_and_sliver_gap_are_warnings():
    layer = grids()
    layer.loc[6, "geometry"] = cell(2, 1, grow=(0, -6, 0, 0))
    layer.loc[7, "geometry"] = cell(3, 1, grow=(0, -6, 0, 0))
    layer = add(layer, new_grid(B, 5, box(X0 + 2 * W, Y0, X0 + 4 * W, Y0 + 5)))  # 200 m × 5 m
    result = run(layer, ref=False)
    rows = result.findings[result.findings["rule"] == "sliver"]
    around = [code(A, 4), code(B, 3), code(B, 4), code(B, 5)]  # of the 1 m strip left as gap
    # the thin gap is reported once, as a gap; as a sliver only when the gap rule is off
    assert rows["grid_codes"].tolist() == [[code(B, 5)]]
    assert set(rows["severity"]) == {"warning"}
    assert found(result, "gap") == [around]
    no_gap = run(layer, ref=False, config=RuleConfig.from_mapping({"severity": {"gap": "off"}}))
    assert found(no_gap, "sliver") == [around, [code(B, 5)]]
    # a thin grid lying wholly on another is one overlap, not also a sliver
    on_top = add(grids(), new_grid(B, 5, box(X0 + 2 * W, Y0 + 50, X0 + 4 * W, Y0 + 55)))
    assert found(run(on_top, ref=False), "sliver") == []
    assert found(run(on_top, ref=False), "overlap") == [[code(B, 3), code(B, 5)],
                                                        [code(B, 4), code(B, 5)]]
    east = X0 + 1000  # apart from the others: thin but 40 m wide, narrow but compact
    apart = add(grids(), new_grid(B, 5, box(east, Y0, east + 2000, Y0 + 40)),
                new_grid(B, 6, box(east, Y0 + 100, east + 20, Y0 + 120)))
    assert found(run(apart, comm=False, ref=False), "sliver") == []


def test_area_out_of_range():
    layer = grids()
    layer.loc[3, "geometry"] = cell(1, 1, grow=(0, 0, -10, 0))
    layer = add(layer, new_grid(A, 5, box(X0 + 2 * W - 10, Y0, X0 + 2 * W, Y0 + H)))
    result = run(layer, ref=False, config=RuleConfig(area_min_m2=2000))
    rows = result.findings[result.findings["rule"] == "area_out_of_range"]
    assert rows["grid_codes"].tolist() == [[code(A, 5)]]
    assert rows["severity"].tolist() == ["warning"] and rows["area_m2"].iloc[0] == 1200
    too_big = run(grids(), ref=False, config=RuleConfig(area_max_m2=10_000))
    assert len(found(too_big, "area_out_of_range")) == 8


def test_households_out_of_range_and_skipped_without_the_column():
    layer = grids()
    layer.loc[1, "households"] = 10
    layer.loc[2, "households"] = 5000
    layer.loc[3, "households"] = np.nan  # not given: not a finding
    layer["households"] = layer["households"].astype(object)
    layer.loc[4, "households"] = "约300户"
    layer.loc[5, "households"] = " "  # blank: not given either
    result = run(layer, ref=False)
    assert found(result, "households_out_of_range") == [[code(A, 2)], [code(A, 3)], [code(B, 1)]]
    rows = result.findings[result.findings["rule"] == "households_out_of_range"]
    assert "'约300户' is not a number" in rows["message"].iloc[2]
    assert "households_out_of_range" in run(grids().drop(columns="households")).skipped


def test_missing_attribute():
    layer = grids()
    layer.loc[1, "grid_name"] = None
    layer.loc[2, "community_code"] = "  "
    layer.loc[5, "grid_code"] = None
    result = run(layer, ref=False)
    rows = result.findings[result.findings["rule"] == "missing_attribute"]
    assert rows["grid_codes"].tolist() == [[], [code(A, 2)], [code(A, 3)]]
    assert "row 6" in rows["message"].iloc[0] and "grid_name" in rows["message"].iloc[1]


def test_required_attributes_are_configurable():
    layer = grids()
    layer["grid_type"] = ["综合网格"] * 7 + [None]
    config = RuleConfig.from_mapping({"required_attributes": ["grid_code", "grid_type"]})
    assert found(run(layer, ref=False, config=config), "missing_attribute") == [[code(B, 4)]]
    with pytest.raises(InputError, match="population"):
        run(layer, config=RuleConfig(required_attributes=("population",)))
    none = run(layer, ref=False, config=RuleConfig.from_mapping({"required_attributes": []}))
    assert none.by_rule["missing_attribute"] == 0  # was ValueError


# ----------------------------------------------------------------------------- coding


def test_code_format():
    layer = grids()
    layer.loc[1, "grid_code"] = "44010400100700X"
    layer.loc[2, "grid_code"] = code(A, 0)  # serial 000
    result = run(layer, ref=False)
    assert found(result, "code_format") == [[code(A, 0)], ["44010400100700X"]]


def test_code_pattern_is_configurable():
    layer = grids()
    layer["grid_code"] = layer["grid_code"].str.slice(0, 12) + "-" + layer["grid_code"].str[-2:]
    config = RuleConfig.from_mapping({"code_pattern": r"(?P<community>\d{12})-(?P<serial>\d{2})"})
    result = run(layer, ref=False, config=config)
    assert result.findings.empty


def test_code_duplicate():
    layer = grids()
    layer.loc[1, "grid_code"] = code(A, 1)
    rows = run(layer, ref=False).findings
    rows = rows[rows["rule"] == "code_duplicate"]
    assert rows["grid_codes"].tolist() == [[code(A, 1)]]
    assert "rows 1, 2" in rows["message"].iloc[0]
    assert rows["area_m2"].iloc[0] == pytest.approx(2 * W * H)


def test_code_community_mismatch_by_column_and_by_location():
    layer = grids()
    layer.loc[1, "community_code"] = B  # column disagrees with the code
    layer.loc[2, ["grid_code", "community_code"]] = [code(B, 5), B]  # lies in A
    result = run(layer, ref=False)
    assert found(result, "code_community_mismatch") == [[code(A, 2)], [code(B, 5)]]
    messages = result.findings.loc[result.findings["rule"] == "code_community_mismatch", "message"]
    assert "100% of its area lies in community 440104001007" in messages.iloc[1]
    assert "community_code column says 440104001101" in messages.iloc[0]
    assert found(result, "outside_community") == []  # reported once, as a mismatch
    part = grids()
    part.loc[3, ["grid_code", "community_code"]] = [code(B, 5), B]
    part.loc[3, "geometry"] = cell(1, 1, grow=(0, 0, 20, 0))  # 100 m in A, 20 m in B
    rows = run(part, ref=False).findings
    rows = rows[rows["rule"] == "code_community_mismatch"]
    assert rows["grid_codes"].tolist() == [[code(B, 5)]]
    assert "83% of its area lies in community 440104001007" in rows["message"].iloc[0]


def test_code_unknown_community():
    unknown = "440104001999"
    layer, comm = grids(), communities()
    layer[["grid_code", "community_code"]] = layer[["grid_code", "community_code"]].apply(
        lambda s: s.str.replace(A, unknown))
    comm["community_code"] = comm["community_code"].str.replace(A, unknown)
    result = run(layer, comm=comm, ref=False)
    assert found(result, "code_unknown_community") == [[code(unknown, s)] for s in range(1, 5)]
    assert errors_by_rule(result) == {"code_unknown_community": 4}


def test_code_unknown_community_uses_the_national_list_by_default():
    layer = grids()
    layer["grid_code"] = layer["grid_code"].str.replace("4401", "1101", n=1, regex=False)
    result = run(layer, comm=False, ref=False)
    # 110104001007 is not a Beijing community; the default national list knows it
    assert len(found(result, "code_unknown_community")) == 8
    assert "national 2023" in result.notes[0]
    beijing = grids()
    beijing["grid_code"] = "110101001001" + beijing["grid_code"].str.slice(12)  # 多福巷社区
    assert found(run(beijing, comm=False, ref=False), "code_unknown_community") == []
    codes = pd.DataFrame({"code": ["110104001007"], "level": ["community"], "name": ["x"],
                          "parent_code": ["110104001"]})
    given = validate(layer, codes=codes, lang="en")
    assert found(given, "code_unknown_community") == [[c] for c in sorted(
        layer["grid_code"][layer["grid_code"].str.startswith("110104001101")])]


def test_code_serial_order():
    layer = grids()
    layer.loc[[0, 1], "geometry"] = layer.loc[[1, 0], "geometry"].to_numpy()
    result = run(layer, ref=False)
    rows = result.findings[result.findings["rule"] == "code_serial_order"]
    # A001 now lies east of A002: A002 is the one grid whose serial must move
    assert rows["grid_codes"].tolist() == [[code(A, 2)]]
    assert rows["severity"].tolist() == ["warning"] and result.exit_code == 0


# ----------------------------------------------------------------------------- publication


def test_not_published_and_missing_from_layer():
    ref = reference().drop(index=1)
    assert found(run(grids(), ref=ref), "not_published") == [[code(A, 2)]]
    result = run(grids().drop(index=5))
    assert found(result, "missing_from_layer") == [[code(B, 2)]]
    missing = result.findings[result.findings["rule"] == "missing_from_layer"]
    assert missing.geometry.iloc[0].equals(cell(3, 0))
    blank = grids()
    blank.loc[1, "grid_code"] = ""  # missing_attribute, not not_published
    assert found(run(blank), "not_published") == []
    twice = pd.concat([reference(), reference().iloc[[5]]], ignore_index=True)
    assert found(run(grids().drop(index=5), ref=twice), "missing_from_layer") == [[code(B, 2)]]


def test_geometry_mismatch_with_iou_and_hausdorff():
    ref = reference()
    ref.loc[2, "geometry"] = shapely.affinity.translate(ref.loc[2, "geometry"], 30, 0)
    result = run(grids(), ref=ref)
    rows = result.findings[result.findings["rule"] == "geometry_mismatch"]
    assert rows["grid_codes"].tolist() == [[code(A, 3)]]
    assert rows["iou"].iloc[0] == pytest.approx(70 / 130, abs=1e-4)
    assert rows["hausdorff_m"].iloc[0] == pytest.approx(30)
    record = next(r for r in result.records() if r["rule"] == "geometry_mismatch")
    assert record["iou"] == pytest.approx(0.5385) and record["hausdorff_m"] == 30.0
    lenient = run(grids(), ref=ref, config=RuleConfig(iou_threshold=0.5))
    assert found(lenient, "geometry_mismatch") == []


def test_attribute_mismatch():
    ref = reference()
    ref.loc[3, "grid_name"] = "另一个名称"
    ref.loc[4, "community_code"] = A
    result = run(grids(), ref=ref)
    rows = result.findings[result.findings["rule"] == "attribute_mismatch"]
    assert rows["grid_codes"].tolist() == [[code(A, 4)], [code(B, 1)]]
    assert "另一个名称" in rows["message"].iloc[0]
    assert "community code" in rows["message"].iloc[1]


def test_layer_offset_by_a_plain_shift():
    layer = grids()
    layer["geometry"] = layer.geometry.translate(40, -25)
    result = run(layer)
    assert errors_by_rule(result) == {"layer_offset": 1}
    record = next(r for r in result.records() if r["rule"] == "layer_offset")
    assert record["grid_codes"] == [] and record["offset_crs"] is None
    assert (record["dx_m"], record["dy_m"]) == pytest.approx((40, -25))
    assert record["shift_m"] == pytest.approx(47.2)


def test_small_shift_is_not_a_layer_offset():
    layer = grids()
    layer["geometry"] = layer.geometry.translate(2, 0)
    assert found(run(layer), "layer_offset") == []


def test_shift_of_too_few_grids_is_not_a_layer_offset():
    layer = grids()
    moved = [0, 1, 2, 4, 5]  # 5 of 8 grids (62 %, below offset_min_share 0.7), median 40 m
    layer.loc[moved, "geometry"] = layer.loc[moved].geometry.translate(40, -25)
    result = run(layer, comm=False)
    assert found(result, "layer_offset") == []
    assert found(result, "geometry_mismatch") == [[layer.loc[i, "grid_code"]] for i in moved]
    lenient = run(layer, comm=False, config=RuleConfig(offset_min_share=0.6))
    assert len(found(lenient, "layer_offset")) == 1


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_layer_delivered_in_web_map_coordinates_names_the_offset(system):
    layer = grids().to_crs(4490)
    layer["geometry"] = convert_geometries(layer.geometry, "wgs84", system)
    result = validate(layer, communities().to_crs(4490), reference().to_crs(4490), lang="en")
    assert errors_by_rule(result) == {"layer_offset": 1}  # nothing else: the layer was corrected
    record = next(r for r in result.records() if r["rule"] == "layer_offset")
    assert record["offset_crs"] == system
    assert f"--crs {system}" in record["message"]
    assert 500 < record["shift_m"] < 1400


# ----------------------------------------------------------------------------- result, config


def test_findings_are_sorted_by_rule_then_codes_and_json_has_the_spec_shape():
    layer = grids()
    layer.loc[0, "geometry"] = cell(0, 0, grow=(0, 0, 10, 0))
    layer.loc[5, "grid_code"] = "bad"
    layer.loc[7, "households"] = 1
    result = run(layer)
    doc = result.to_dict()
    assert list(doc)[:5] == ["grids", "errors", "warnings", "by_rule", "findings"]
    assert doc["grids"] == 8 and doc["errors"] == result.errors
    assert sum(doc["by_rule"].values()) == len(doc["findings"])
    order = [RULES.index(f["rule"]) for f in doc["findings"]]
    assert order == sorted(order)
    for f in doc["findings"]:
        assert {"rule", "severity", "grid_codes", "area_m2", "message", "wkt"} <= set(f)
        assert f["severity"] in ("error", "warning")
    overlap = doc["findings"][0]
    assert overlap["rule"] == "overlap" and overlap["wkt"].startswith("MULTIPOLYGON (((114.")
    lon = float(overlap["wkt"].split("(((")[1].split()[0])
    assert 113 < lon < 115 and len(str(lon).split(".")[1]) <= 7
    assert run(layer).to_dict() == doc  # deterministic


def test_messages_are_chinese_by_default():
    layer = grids()
    layer.loc[0, "geometry"] = cell(0, 0, grow=(0, 0, 10, 0))
    result = validate(layer, communities())
    assert "重叠" in result.findings["message"].iloc[0]


def test_severity_off_removes_a_rule():
    layer = grids()
    layer.loc[0, "geometry"] = cell(0, 0, grow=(0, 0, 10, 0))
    config = RuleConfig.from_mapping({"severity": {"overlap": False, "code_serial_order": "off"}})
    result = run(layer, ref=False, config=config)
    assert "overlap" not in result.by_rule and found(result, "overlap") == []


def test_config_file(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("snap_tolerance_m: 1\narea_min_m2: 10\nseverity:\n  sliver: off\n"
                    "  multipart: error\n", encoding="utf-8")
    config = load_rules(path)
    assert config.snap_tolerance_m == 1.0 and config.area_min_m2 == 10.0
    assert config.severity["sliver"] == "off" and config.severity["multipart"] == "error"
    assert load_rules(None) == RuleConfig()


@pytest.mark.parametrize("text, message", [
    ("snap_tolerence_m: 1\n", "unknown key 'snap_tolerence_m'.*did you mean 'snap_tolerance_m'"),
    ("severity:\n  overlapp: error\n", "unknown rule 'overlapp'"),
    ("severity:\n  overlap: fatal\n", "error, warning or off"),
    ("iou_threshold: 2\n", "iou_threshold"),
    ("area_min_m2: 10\narea_max_m2: 5\n", "larger than"),
    ("area_min_m2: ten\n", "must be a number"),
    ("code_pattern: '('\n", "regular expression"),
    ("- a\n- b\n", "mapping"),
    ("a: [\n", "not valid YAML"),
])
def test_bad_config_is_an_input_error(tmp_path, text, message):
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_rules(path)


def test_unusable_layers_are_input_errors():
    with pytest.raises(InputError, match="community_code"):
        validate(grids().drop(columns="community_code"))
    with pytest.raises(InputError, match="missing column.*grid_code; the reference layer has"):
        validate(grids(), reference=reference().drop(columns="grid_code"))
    with pytest.raises(InputError, match="CRS"):
        validate(grids().set_crs(None, allow_override=True))
    with pytest.raises(InputError, match="no polygon"):
        validate(grids(), communities().assign(geometry=None))
    with pytest.raises(InputError, match="community_code.*no polygon .* has a community code"):
        validate(grids(), communities().assign(community_code=" "))  # was IndexError


def test_layer_without_any_polygon_does_not_crash_the_gap_rule():
    """The union of no polygons is empty: the hole search must find none (was IndexError)."""
    layer = grids()
    layer["geometry"] = layer.geometry.centroid
    result = validate(layer)
    assert len(found(result, "invalid_geometry")) == len(layer)
    assert found(result, "gap") == []
    nulls = grids()
    nulls["geometry"] = None
    assert len(found(validate(nulls), "empty_geometry")) == len(nulls)

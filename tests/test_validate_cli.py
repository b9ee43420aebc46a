"""``gridkit validate`` on files: exit codes, table/JSON/CSV, --out GeoPackage, --force, --lang."""

from __future__ import annotations

import csv
import io
import json
from functools import partial

import pyogrio
import pytest
from helpers.cli import run_cli
from helpers.validate_data import A, B, cell, code, communities, grids, reference

from gridkit.crs import convert_geometries
from gridkit.validate import RULES


def write(layer, path):
    layer.to_crs(4490).to_file(path, driver="GPKG")
    return str(path)


@pytest.fixture
def files(tmp_path):
    """A clean grid layer with its communities and reference, as GeoPackages in EPSG:4490."""
    return {
        "grids": write(grids(), tmp_path / "grids.gpkg"),
        "communities": write(communities(), tmp_path / "communities.gpkg"),
        "reference": write(reference(), tmp_path / "reference.gpkg"),
    }


@pytest.fixture
def defective(tmp_path):
    """An overlap (A001/A002) and a serial-order warning."""
    layer = grids()
    layer.loc[0, "geometry"] = cell(0, 0, grow=(0, 0, 10, 0))
    layer.loc[[4, 5], "geometry"] = layer.loc[[5, 4], "geometry"].to_numpy()
    return write(layer, tmp_path / "defective.gpkg")


invoke = partial(run_cli, "validate")


def test_clean_layer_exits_0_with_a_chinese_table(files):
    result = invoke(files["grids"], "--communities", files["communities"],
                    "--reference", files["reference"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("网格 8 个：错误 0 个，警告 0 个")


def test_errors_exit_1_and_the_table_groups_by_rule(files, defective):
    result = invoke(defective, "--communities", files["communities"], "--lang", "en")
    assert result.exit_code == 1
    assert result.output.startswith("8 grids: 1 errors, 1 warnings")
    assert "overlap" in result.output and "code_serial_order" in result.output
    assert f"{code(A, 1)}, {code(A, 2)}" in result.output
    assert "not checked not_published: no published reference layer (--reference)" in result.output


def test_json_has_the_spec_shape(files, defective):
    result = invoke(defective, "--communities", files["communities"], "--reference",
                    files["reference"], "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert {"grids", "errors", "warnings", "by_rule", "findings"} <= set(doc)
    assert doc["grids"] == 8 and doc["errors"] == 4 and doc["warnings"] == 1
    assert list(doc["by_rule"]) == list(RULES)
    # A001 grew; B001 and B002 swapped places against the reference
    assert doc["by_rule"]["overlap"] == 1 and doc["by_rule"]["geometry_mismatch"] == 3
    mismatch = [f for f in doc["findings"] if f["rule"] == "geometry_mismatch"]
    assert [f["grid_codes"] for f in mismatch] == [[code(A, 1)], [code(B, 1)], [code(B, 2)]]
    assert mismatch[1]["iou"] == 0 and mismatch[1]["hausdorff_m"] == pytest.approx(100)
    overlap = doc["findings"][0]
    assert overlap["rule"] == "overlap" and overlap["severity"] == "error"
    assert overlap["grid_codes"] == [code(A, 1), code(A, 2)]
    assert overlap["area_m2"] == pytest.approx(1200, rel=1e-3)
    assert overlap["wkt"].startswith("MULTIPOLYGON (((114.")
    assert "重叠" in overlap["message"]


def test_table_shows_the_first_findings_of_a_rule_and_counts_the_rest(files, tmp_path):
    config = tmp_path / "rules.yaml"
    config.write_text("area_max_m2: 10000\n", encoding="utf-8")  # every 12,000 m² grid
    result = invoke(files["grids"], "--config", str(config), "--lang", "en")
    assert result.exit_code == 0 and "8 grids: 0 errors, 8 warnings" in result.output
    assert all(c in result.output for c in [code(A, s) for s in range(1, 5)] + [code(B, 1)])
    assert code(B, 2) not in result.output  # 6th finding and later: only counted
    assert "... 3 more" in result.output


def test_csv_one_row_per_finding(files, defective):
    result = invoke(defective, "--communities", files["communities"], "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["rule"] for r in rows] == ["overlap", "code_serial_order"]
    assert rows[0]["grid_codes"] == f"{code(A, 1)};{code(A, 2)}"
    assert rows[0]["wkt"].startswith("MULTIPOLYGON")
    assert rows[1]["grid_codes"] == code(B, 2)  # B001 and B002 swapped: B002 must move


def test_out_writes_one_layer_per_rule_and_refuses_to_overwrite(files, defective, tmp_path):
    out = tmp_path / "findings.gpkg"
    result = invoke(defective, "--communities", files["communities"], "--reference",
                    files["reference"], "--out", str(out))
    assert result.exit_code == 1
    layers = dict(pyogrio.list_layers(out))
    assert layers == {"summary": None, "overlap": "MultiPolygon",
                      "code_serial_order": "MultiPolygon", "geometry_mismatch": "MultiPolygon"}
    overlap = pyogrio.read_dataframe(out, layer="overlap")
    assert overlap.crs.to_epsg() == 4490
    assert overlap["grid_codes"].tolist() == [f"{code(A, 1)};{code(A, 2)}"]
    assert {"rule", "severity", "area_m2", "message"} <= set(overlap.columns)
    assert not {"iou", "shift_m"} & set(overlap.columns)  # other rules' keys are left out
    mismatch = pyogrio.read_dataframe(out, layer="geometry_mismatch")
    assert {"iou", "hausdorff_m"} <= set(mismatch.columns)
    summary = pyogrio.read_dataframe(out, layer="summary")
    assert summary.set_index("rule")["findings"].to_dict()["overlap"] == 1

    before = out.read_bytes()
    again = invoke(defective, "--out", str(out))
    assert again.exit_code == 2 and "--force" in again.output
    assert out.read_bytes() == before
    forced = invoke(files["grids"], "--out", str(out), "--force")
    assert forced.exit_code == 0
    assert dict(pyogrio.list_layers(out)) == {"summary": None}


def test_out_is_checked_before_any_work(files, tmp_path):
    result = invoke(files["grids"], "--out", str(tmp_path / "no" / "f.gpkg"))
    assert result.exit_code == 2 and "output folder does not exist" in result.output
    # a missing input is what to fix first
    result = invoke(str(tmp_path / "missing.gpkg"), "--out", str(tmp_path / "no" / "f.gpkg"))
    assert result.exit_code == 2 and "missing.gpkg: file not found" in result.output


@pytest.mark.parametrize("args, message", [
    (["missing.gpkg"], "file not found"),
    (["GRIDS", "--config", "CONFIG"], "unknown key 'tolerance'"),
    (["GRIDS", "--communities", "GRIDS"], "community_name"),
    (["GRIDS", "--crs", "nonsense"], "unknown CRS"),
])
def test_unusable_input_exits_2_with_one_line(files, tmp_path, args, message):
    config = tmp_path / "rules.yaml"
    config.write_text("tolerance: 1\n", encoding="utf-8")
    args = [a.replace("GRIDS", files["grids"]).replace("CONFIG", str(config)) for a in args]
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output and result.output.count("\n") == 1


def test_config_and_column_options(files, tmp_path, defective):
    config = tmp_path / "rules.yaml"
    config.write_text("severity:\n  overlap: warning\n  code_serial_order: off\n", encoding="utf-8")
    result = invoke(defective, "--config", str(config), "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["warnings"] == 1 and "code_serial_order" not in doc["by_rule"]

    layer = grids().rename(columns={"grid_code": "WG_ID"})
    renamed = write(layer, tmp_path / "renamed.gpkg")
    assert invoke(renamed, "--column", "grid_code=WG_ID").exit_code == 0


def test_gcj02_layer_against_wgs84_reference_names_gcj02(files, tmp_path):
    layer = grids().to_crs(4490)
    layer["geometry"] = convert_geometries(layer.geometry, "wgs84", "gcj02")
    path = tmp_path / "grids-gcj02.gpkg"
    layer.to_file(path, driver="GPKG")  # labelled EPSG:4490, coordinates in GCJ-02
    result = invoke(str(path), "--communities", files["communities"], "--reference",
                    files["reference"], "--format", "json", "--lang", "en")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert [f["rule"] for f in doc["findings"]] == ["layer_offset"]
    offset = doc["findings"][0]
    assert offset["offset_crs"] == "gcj02" and "--crs gcj02" in offset["message"]
    fixed = invoke(str(path), "--crs", "gcj02", "--communities", files["communities"],
                   "--reference", files["reference"])
    assert fixed.exit_code == 0, fixed.output


# ----- hostile files (review) ---------------------------------------------------------


def test_out_never_overwrites_an_input_nor_deletes_a_folder(files, tmp_path):
    grids_file = tmp_path / "grids.gpkg"
    before = grids_file.read_bytes()
    result = invoke(files["grids"], "--out", files["grids"], "--force")
    assert result.exit_code == 2 and "would overwrite the input" in result.output
    folder = tmp_path / "out.gpkg"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    result = invoke(files["grids"], "--out", str(folder), "--force")
    assert result.exit_code == 2 and "is a folder" in result.output
    data = tmp_path / "data.gpkg"  # a folder holding the input: --force would delete it
    data.mkdir()
    inner = write(grids(), data / "grids.gpkg")
    result = invoke(inner, "--out", str(data), "--force")
    assert result.exit_code == 2 and "would overwrite the input" in result.output
    assert (data / "grids.gpkg").exists()
    assert grids_file.read_bytes() == before and (folder / "keep.txt").exists()
    result = invoke(files["grids"], "--out", str(tmp_path / "findings.csv"))
    assert result.exit_code == 2 and ".gpkg" in result.output
    assert not (tmp_path / "findings.csv").exists()
    assert len(result.output.strip().splitlines()) == 1


def test_layer_option_and_empty_geometry_layer_has_a_crs(tmp_path):
    gpkg = tmp_path / "many.gpkg"
    layer = grids()
    layer.loc[1, "geometry"] = None
    layer.to_crs(4490).to_file(gpkg, layer="grids")
    grids().iloc[:2].to_crs(4490).to_file(gpkg, layer="old")
    assert "--layer" in invoke(str(gpkg)).output
    out = tmp_path / "findings.gpkg"
    result = invoke(str(gpkg), "--layer", "grids", "--out", str(out), "--format", "json")
    assert result.exit_code == 1 and json.loads(result.output)["grids"] == 8
    empty = pyogrio.read_dataframe(out, layer="empty_geometry")
    assert empty.crs.to_epsg() == 4490 and empty["grid_codes"].tolist() == [code(A, 2)]


def test_layer_of_points_and_empty_layer_exit_2(tmp_path):
    points = grids()
    points["geometry"] = points.geometry.centroid
    points = points.to_crs(4490)
    points.to_file(tmp_path / "points.geojson")
    result = invoke(str(tmp_path / "points.geojson"))
    assert result.exit_code == 2 and "not polygons" in result.output
    grids().iloc[:0].to_crs(4490).to_file(tmp_path / "empty.gpkg")
    result = invoke(str(tmp_path / "empty.gpkg"))
    assert result.exit_code == 2 and "no features" in result.output


def test_code_list_with_bom_gbk_or_bad_rows(files, tmp_path):
    from gridkit.codes import load_divisions
    from gridkit.data import data_path

    # Guangzhou's list (3,000 rows): re-encoding the national one (665,000) adds only time
    codes = load_divisions(data_path("guangzhou-divisions-2023.csv"))
    codes.to_csv(tmp_path / "bom.csv", index=False, encoding="utf-8-sig")
    codes.to_csv(tmp_path / "gbk.csv", index=False, encoding="gb18030")
    for name in ("bom.csv", "gbk.csv"):
        result = invoke(files["grids"], "--codes", str(tmp_path / name), "--format", "json")
        assert result.exit_code == 0, result.output
    (tmp_path / "bad.csv").write_text("code,level,name,parent_code\n440104,district,x,4401\n"
                                      "440105,district,y,4401,9\n")
    (tmp_path / "empty.csv").write_text("")
    for name, why in (("bad.csv", "cannot read the code list"), ("empty.csv", "empty")):
        result = invoke(files["grids"], "--codes", str(tmp_path / name))
        assert result.exit_code == 2 and why in result.output

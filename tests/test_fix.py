"""``gridkit fix``: the repaired layer passes the division rules, keeps each community's area,
and leaves grids away from any finding byte for byte as they were."""

from __future__ import annotations

import hashlib
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from shapely import box

from gridkit.cli import cli
from gridkit.codes import serial_order
from gridkit.data import data_path
from gridkit.errors import InputError
from gridkit.fix import fix
from gridkit.io import read_layer
from gridkit.synth import synthesize
from gridkit.validate import validate

DIVISION_RULES = ("invalid_geometry", "overlap", "gap", "outside_community", "sliver",
                  "multipart")
SAMPLE = data_path("sample")


@pytest.fixture(scope="module")
def synth_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fix") / "synth"
    synthesize(folder, seed=3, defects=True, grids=300, events=0, districts=["440104"])
    return folder


@pytest.fixture(scope="module", params=["synth", "sample", "synth --merge-slivers"])
def fixed(request, synth_folder, tmp_path_factory):
    """(input folder, output folder, CLI JSON) of ``gridkit fix`` on a defective layer."""
    folder = synth_folder if request.param.startswith("synth") else SAMPLE
    merge = ["--merge-slivers"] if request.param.endswith("--merge-slivers") else []
    out = tmp_path_factory.mktemp("fixed")
    before = hashlib.sha256((folder / "grids.gpkg").read_bytes()).hexdigest()
    result = CliRunner().invoke(cli, [
        "fix", str(folder / "grids.gpkg"), "--communities", str(folder / "communities.gpkg"),
        "--out", str(out / "fixed.gpkg"), "--format", "json", "--lang", "en", *merge])
    assert result.exit_code == 0, result.output
    assert hashlib.sha256((folder / "grids.gpkg").read_bytes()).hexdigest() == before
    return folder, out, json.loads(result.output)


def test_no_division_error_left(fixed):
    folder, out, data = fixed
    grids = read_layer(folder / "grids.gpkg")
    communities = read_layer(folder / "communities.gpkg", "communities")
    before = validate(grids, communities, lang="en").by_rule
    assert all(before[rule] > 0 for rule in DIVISION_RULES)  # the layer had every defect
    after = validate(read_layer(out / "fixed.gpkg"), communities, lang="en")
    repaired = [rule for rule in DIVISION_RULES if rule != "sliver"]
    assert {rule: after.by_rule[rule] for rule in repaired} == dict.fromkeys(repaired, 0)
    # the sliver grids left are exactly those listed for review by hand
    slivers = after.findings[after.findings["rule"] == "sliver"]
    assert sorted(c for codes in slivers["grid_codes"] for c in codes) == sorted(data["slivers"])
    assert len(data["unresolved"]) >= len(data["slivers"])
    for code in data["slivers"]:
        assert f"grid {code} is a sliver grid, review by hand" in data["unresolved"]


def test_each_community_keeps_its_area(fixed):
    folder, out, _ = fixed
    grids = read_layer(out / "fixed.gpkg").to_crs(4547)
    communities = read_layer(folder / "communities.gpkg", "communities").to_crs(4547)
    outline = communities.dissolve("community_code").area
    # a grid belongs to the community it lies in (its code may name another one)
    where = gpd.sjoin(grids.set_geometry(grids.representative_point()),
                      communities[["community_code", "geometry"]], predicate="within")
    assert len(where) == len(grids) - grids.geometry.is_empty.sum() - grids.geometry.isna().sum()
    total = grids.area.groupby(where["community_code_right"]).sum()
    assert len(total) > 10
    error = (total - outline[total.index]).abs() / outline[total.index]
    assert error.max() < 1e-4, error.sort_values().tail()


def test_grids_away_from_findings_keep_their_bytes(fixed):
    folder, out, data = fixed
    changed = {c["grid_code"] for c in data["changes"]}
    before = pyogrio.read_dataframe(folder / "grids.gpkg")
    after = pyogrio.read_dataframe(out / "fixed.gpkg")
    assert list(after.columns) == list(before.columns)
    assert after.crs == before.crs
    old = dict(zip(before["grid_code"], shapely.to_wkb(before.geometry.values)))
    new = dict(zip(after["grid_code"], shapely.to_wkb(after.geometry.values)))
    kept = [c for c in old if c not in changed]
    assert len(kept) > 0.8 * len(old)
    assert [c for c in kept if old[c] != new.get(c)] == []
    moved = [c for c in changed if c in new and new[c] != old[c]]
    assert len(moved) >= 5
    # every grid is kept, except slivers merged into a neighbour with --merge-slivers
    # (the log names the receiver)
    merged = {c["grid_code"] for c in data["changes"] if c["merged_into"]}
    assert set(new) == set(old) - merged and data["removed"] == len(merged)
    assert bool(merged) != bool(data["slivers"])  # merged (--merge-slivers) or listed


def test_only_grids_at_a_finding_change(fixed):
    folder, _, data = fixed
    grids = read_layer(folder / "grids.gpkg")
    result = validate(grids, read_layer(folder / "communities.gpkg", "communities"), lang="en")
    findings = result.findings[result.findings["rule"].isin(DIVISION_RULES)]
    named = set(findings["grid_codes"].sum())
    metric = grids.to_crs(result.findings.crs)
    spots = findings.geometry.dropna().to_numpy()
    left, right = shapely.STRtree(spots).query(metric.geometry.to_numpy(), predicate="dwithin",
                                               distance=1.0)
    near = named | set(metric["grid_code"].to_numpy()[np.unique(left)])
    changed = {c["grid_code"] for c in data["changes"]}
    assert changed - near == set()
    assert len(near) < 0.2 * len(grids)


def test_change_log_files(fixed):
    _, out, data = fixed
    log = pd.read_csv(out / "fixed-changes.csv", dtype={"grid_code": str, "merged_into": str})
    assert len(log) == data["changed"] > 0
    assert np.allclose(log["area_after_m2"] - log["area_before_m2"], log["delta_m2"], atol=0.02)
    layer = gpd.read_file(out / "fixed-changes.gpkg", layer="changes")
    assert sorted(layer["grid_code"]) == sorted(log["grid_code"])
    assert data["by_change"]["gap_filled"] > 0 and data["by_change"]["overlap_resolved"] > 0


def test_dry_run_writes_only_the_log(synth_folder, tmp_path):
    args = ["fix", str(synth_folder / "grids.gpkg"), "--communities",
            str(synth_folder / "communities.gpkg"), "--out", str(tmp_path / "fixed.gpkg")]
    result = CliRunner().invoke(cli, [*args, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "填补缝隙" in result.output  # Chinese summary table by default
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fixed-changes.csv",
                                                          "fixed-changes.gpkg"]
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 2 and "--force" in again.output
    assert not (tmp_path / "fixed.gpkg").exists()


@pytest.mark.parametrize("extra, message", [
    (["--overlap-rule", "reference"], "--reference"),
    (["--out", "fixed.shp"], ".gpkg"),
])
def test_bad_options_exit_2(synth_folder, tmp_path, extra, message):
    result = CliRunner().invoke(cli, [
        "fix", str(synth_folder / "grids.gpkg"), "--communities",
        str(synth_folder / "communities.gpkg"), "--out", str(tmp_path / "fixed.gpkg"), *extra])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output and not list(tmp_path.iterdir())


def test_output_never_overwrites_the_input(synth_folder):
    result = CliRunner().invoke(cli, [
        "fix", str(synth_folder / "grids.gpkg"), "--communities",
        str(synth_folder / "communities.gpkg"), "--out", str(synth_folder / "grids.gpkg"),
        "--force", "--dry-run"])
    assert result.exit_code == 0  # --dry-run does not write --out ...
    result = CliRunner().invoke(cli, [
        "fix", str(synth_folder / "grids.gpkg"), "--communities",
        str(synth_folder / "communities.gpkg"), "--out", str(synth_folder / "grids.gpkg"),
        "--force"])
    assert result.exit_code == 2 and "overwrite the input" in result.output


# ----- small hand-made cases --------------------------------------------------------------

X0, Y0 = 430_000.0, 2_560_000.0
COMM = "440104001001"


def _grids(boxes, codes=None):
    codes = codes or [f"{COMM}{k + 1:03d}" for k in range(len(boxes))]
    return gpd.GeoDataFrame({"grid_code": codes, "grid_name": codes,
                             "community_code": [COMM] * len(boxes)},
                            geometry=[box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in boxes],
                            crs=4547)


OUTLINE = gpd.GeoDataFrame({"community_code": [COMM], "community_name": ["示例社区"]},
                           geometry=[box(X0, Y0, X0 + 200, Y0 + 100)], crs=4547)


@pytest.mark.parametrize("rule, winner", [("lowest-code", 0), ("reference", 1)])
def test_overlap_rule_decides_who_keeps_the_piece(rule, winner):
    # grid 1 reaches 20 m into grid 2; the reference gives the strip to grid 2
    grids = _grids([(0, 0, 120, 100), (100, 0, 200, 100)])
    reference = _grids([(0, 0, 100, 100), (100, 0, 200, 100)])
    result = fix(grids, OUTLINE, reference, overlap_rule=rule)
    area = result.fixed.area.round(3).tolist()
    assert area == ([12_000.0, 8_000.0] if winner == 0 else [10_000.0, 10_000.0])


def test_gap_goes_to_the_longest_border_and_rows_stay_in_order():
    # the notch x 100-140, y 0-20 borders grid 1 along 20 m, grid 2 along 40 m, grid 3 along 20 m
    grids = _grids([(0, 0, 100, 100), (100, 20, 200, 100), (140, 0, 200, 20)])
    result = fix(grids, OUTLINE)
    assert result.fixed.area.round(3).tolist() == [10_000.0, 8_800.0, 1_200.0]
    assert result.fixed["grid_code"].tolist() == grids["grid_code"].tolist()
    # grid 1 gains the vertex at (100, 20) so that the shared edges match exactly
    assert result.log["grid_code"].tolist() == [f"{COMM}001", f"{COMM}002"]
    assert result.log["changes"].str.contains("gap_filled").tolist() == [False, True]
    assert result.log["delta_m2"].round(3).tolist() == [0.0, 800.0]
    assert shapely.coverage_is_valid(result.fixed.geometry.values)


def test_a_clean_community_is_left_alone():
    grids = _grids([(0, 0, 100, 100), (100, 0, 200, 100)])
    result = fix(grids, OUTLINE)
    assert result.communities == 0 and result.log.empty
    assert result.to_dict()["changed"] == 0 and sum(result.by_change.values()) == 0
    assert shapely.equals_exact(result.fixed.geometry.values, grids.geometry.values, 0).all()


@pytest.mark.parametrize("rule", ["reference", "lowest-code"])
def test_every_overlap_rule_leaves_no_division_error(synth_folder, rule):
    grids = read_layer(synth_folder / "grids.gpkg")
    communities = read_layer(synth_folder / "communities.gpkg", "communities")
    reference = read_layer(synth_folder / "reference.gpkg", "reference")
    result = fix(grids, communities, reference, overlap_rule=rule, merge_slivers=True)
    after = validate(result.fixed, communities, lang="en").by_rule
    assert {r: after[r] for r in DIVISION_RULES} == dict.fromkeys(DIVISION_RULES, 0)
    assert result.by_change["overlap_resolved"] > 0


def test_row_order_does_not_change_the_result(synth_folder):
    grids = read_layer(synth_folder / "grids.gpkg")
    communities = read_layer(synth_folder / "communities.gpkg", "communities")
    first = fix(grids, communities)
    shuffled = fix(grids.sample(frac=1, random_state=4).reset_index(drop=True),
                   communities.sample(frac=1, random_state=5).reset_index(drop=True))

    def by_code(frame):
        frame = frame.assign(wkb=shapely.to_wkb(shapely.normalize(frame.geometry.values)))
        return sorted(zip(frame["grid_code"], frame["wkb"]))

    assert by_code(first.fixed) == by_code(shuffled.fixed)
    assert first.to_dict() == shuffled.to_dict()


def test_renumber_follows_reading_order(tmp_path):
    # numbered east to west: renumbering gives west to east
    grids = _grids([(100, 0, 200, 100), (0, 0, 100, 100)])
    result = fix(grids, OUTLINE, renumber=True)
    assert result.fixed["grid_code"].tolist() == [f"{COMM}002", f"{COMM}001"]
    table = result.renumbered
    assert table[["old_code", "new_code"]].values.tolist() == [
        [f"{COMM}002", f"{COMM}001"], [f"{COMM}001", f"{COMM}002"]]
    assert serial_order(result.fixed.geometry, [COMM] * 2).tolist() == [2, 1]
    path = tmp_path / "g.gpkg"
    grids.to_file(path)
    OUTLINE.to_file(tmp_path / "c.gpkg")
    out = CliRunner().invoke(cli, ["fix", str(path), "--communities", str(tmp_path / "c.gpkg"),
                                   "--out", str(tmp_path / "f.gpkg"), "--renumber"])
    assert out.exit_code == 0, out.output
    written = pd.read_csv(tmp_path / "f-renumber.csv", dtype=str)
    assert written["new_code"].tolist() == [f"{COMM}001", f"{COMM}002"]


def test_renumbered_layer_passes_the_serial_order_rule():
    """One 1 km block beside twenty 100 m grids: the mean grid side (240 m) is beyond the row
    heights code_serial_order accepts (0.5-2x the median side), the median side is not."""
    x0, y0 = X0 - 1000, Y0
    geoms = [box(x0 + 200, y0, x0 + 1200, y0 + 1000)] + [
        box(x0 + j * 100, y0 + i * 100, x0 + (j + 1) * 100, y0 + (i + 1) * 100)
        for i in range(10) for j in range(2)]
    codes = [f"{COMM}{k + 1:03d}" for k in range(len(geoms))]
    grids = gpd.GeoDataFrame({"grid_code": codes, "grid_name": codes,
                              "community_code": [COMM] * len(geoms)}, geometry=geoms, crs=4547)
    outline = gpd.GeoDataFrame({"community_code": [COMM]},
                               geometry=[shapely.union_all(geoms)], crs=4547)
    assert validate(grids, outline).by_rule["code_serial_order"] == 1
    fixed = fix(grids, outline, renumber=True).fixed
    assert validate(fixed, outline).by_rule["code_serial_order"] == 0


def test_reference_rule_needs_a_reference():
    with pytest.raises(InputError, match="needs the published layer") as err:
        fix(_grids([(0, 0, 100, 100)]), OUTLINE, overlap_rule="reference")
    assert "--reference" in err.value.cli_message()


def test_docstring_examples_hold():
    import doctest

    import gridkit.fix

    result = doctest.testmod(gridkit.fix, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_fixed_layer_keeps_the_file_column_names(tmp_path):
    grids = _grids([(0, 0, 120, 100), (100, 0, 200, 100)]).rename(
        columns={"grid_code": "网格编码", "grid_name": "网格名称",
                 "community_code": "所属社区编码"})
    grids.to_parquet(tmp_path / "g.parquet")
    OUTLINE.to_file(tmp_path / "c.gpkg")
    out = CliRunner().invoke(cli, ["fix", str(tmp_path / "g.parquet"), "--communities",
                                   str(tmp_path / "c.gpkg"), "--out", str(tmp_path / "f.gpkg")])
    assert out.exit_code == 0, out.output
    fixed = gpd.read_file(tmp_path / "f.gpkg")
    assert list(fixed.columns) == ["网格编码", "网格名称", "所属社区编码", "geometry"]
    assert sorted(fixed.area.round(3).tolist()) == [8_000.0, 12_000.0]  # no overlap left


def test_communities_without_codes_exit_2(synth_folder, tmp_path):
    bad = tmp_path / "c.gpkg"
    OUTLINE.drop(columns="community_code").to_file(bad)
    out = CliRunner().invoke(cli, ["fix", str(synth_folder / "grids.gpkg"), "--communities",
                                   str(bad), "--out", str(tmp_path / "f.gpkg")])
    assert out.exit_code == 2 and "community_code" in out.output and str(bad) in out.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.gpkg"]


def test_a_sliver_grid_stays_unless_merge_slivers_is_asked(tmp_path):
    # grid 3 is a 2 m strip with its own code along the community's east edge
    grids = _grids([(0, 0, 100, 100), (100, 0, 198, 100), (198, 0, 200, 100)])
    kept = fix(grids, OUTLINE, lang="en")
    assert kept.fixed["grid_code"].tolist() == grids["grid_code"].tolist()
    assert kept.slivers == [f"{COMM}003"]
    assert kept.unresolved == [f"grid {COMM}003 is a sliver grid, review by hand"]
    assert kept.to_dict()["removed"] == 0
    merged = fix(grids, OUTLINE, merge_slivers=True)
    assert merged.fixed["grid_code"].tolist() == [f"{COMM}001", f"{COMM}002"]
    assert merged.slivers == [] and merged.unresolved == []
    row = merged.log.set_index("grid_code").loc[f"{COMM}003"]
    assert row["merged_into"] == f"{COMM}002" and row["changes"] == "sliver_merged"
    # the CLI: listed in the summary with the option that merges it
    path = tmp_path / "g.gpkg"
    grids.to_file(path)
    OUTLINE.to_file(tmp_path / "c.gpkg")
    args = ["fix", str(path), "--communities", str(tmp_path / "c.gpkg"),
            "--out", str(tmp_path / "f.gpkg")]
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 0, out.output
    assert f"网格 {COMM}003 为细长网格，需人工确认" in out.output
    assert "--merge-slivers" in out.output
    assert len(gpd.read_file(tmp_path / "f.gpkg")) == 3
    out = CliRunner().invoke(cli, [*args, "--merge-slivers", "--force", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["removed"] == 1
    assert len(gpd.read_file(tmp_path / "f.gpkg")) == 2

"""Coverage metrics on a hand-built layer and rosters, every number computed by hand."""

import json
from functools import partial

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from helpers.cli import run_cli
from shapely import box

from gridkit.codes import code_names, load_divisions
from gridkit.coverage import compute_coverage
from gridkit.errors import InputError

G1, G2, G3, G4, G5 = ("440104001001001", "440104001001002", "440104001002001",
                      "440104002001001", "440105001001001")
UNKNOWN = "440199001001001"
NAMES = code_names(load_divisions())


def layer():
    """G1, G2: community 440104001001 (G2 has no households); G3: 440104001002;
    G4: street 440104002; G5: district 440105."""
    return gpd.GeoDataFrame(
        {"grid_code": [G1, G2, G3, G4, G5], "grid_name": ["一", "二", "三", "四", "五"],
         "community_code": [c[:12] for c in (G1, G2, G3, G4, G5)],
         "households": [300.0, np.nan, 400.0, 100.0, 200.0]},
        geometry=[box(113 + i * 0.01, 23.0, 113.01 + i * 0.01, 23.01) for i in range(5)],
        crs=4490)


def rosters():
    filings = pd.DataFrame({
        "grid_code": [G1, G1, G2, G3, G3, G4, UNKNOWN],
        "filed_on": pd.to_datetime(["2023-01-01", "2023-01-01", "2023-02-01", "2023-01-05",
                                    "2023-03-01", "2023-01-01", "2023-01-01"]),
        "status": ["filed", "filed", "pending", "rejected", "filed", "rejected", "filed"]})
    party = pd.DataFrame({"org_id": ["o1", "o1", "o2", "o2", "o3", "o4"],
                          "org_name": list("aabbcd"), "org_type": ["党支部"] * 6,
                          "grid_code": [G1, G2, G1, G1, UNKNOWN, G5]})
    cadres = pd.DataFrame({"person_id": ["c1", "c1", "c2", "c3"], "name": list("甲甲乙丙"),
                           "role": ["科室干部"] * 4, "grid_code": [G1, G3, G4, None]})
    workers = pd.DataFrame({
        "person_id": ["w1", "w1", "w2", "w3", "w4", "w5", "w6"], "name": list("ABCDEFG"),
        "kind": ["full_time"] * 3 + ["part_time"] + ["full_time"] * 3,
        "grid_code": [G1, G2, G3, G4, G5, G5, UNKNOWN]})
    return {"filings": filings, "party": party, "cadres": cadres, "workers": workers}


def test_per_grid_values():
    grid = compute_coverage(layer(), **rosters()).per_grid.set_index("grid_code")
    assert grid["filing_status"].tolist()[:4] == ["filed", "pending", "filed", "rejected"]
    assert pd.isna(grid.loc[G5, "filing_status"])
    assert grid["filed"].tolist() == [True, False, True, False, False]
    assert grid["party_orgs"].tolist() == [2, 1, 0, 0, 1]  # duplicate o2 row counted once
    assert grid["cadres"].tolist() == [1, 0, 1, 1, 0]
    assert grid["full_time_workers"].tolist() == [1, 1, 1, 0, 2]
    assert grid["part_time_workers"].tolist() == [0, 0, 0, 1, 0]
    hpw = grid["households_per_fulltime_worker"]
    assert hpw[G1] == 300 and hpw[G3] == 400 and hpw[G5] == 100
    assert np.isnan(hpw[G2]) and np.isnan(hpw[G4])  # no households; no full-time worker


def test_whole_layer_metrics():
    result = compute_coverage(layer(), **rosters())
    m = result.metrics
    assert m["grids"] == 5
    assert m["filing_rate"] == pytest.approx(2 / 5)
    assert m["party_coverage"] == pytest.approx(3 / 5)
    assert m["cadre_coverage"] == pytest.approx(3 / 5)
    assert m["fulltime_worker_coverage"] == pytest.approx(4 / 5)
    # households of grids that have a value (300+400+100+200) / distinct full-time w1 w2 w4 w5
    assert m["households_per_fulltime_worker"] == pytest.approx(1000 / 4)
    assert m["grids_without_households"] == 1
    assert m["roster_rows_excluded"] == 6


@pytest.mark.parametrize("by, expected", [
    ("community", {"440104001001": (2, 0.5, 1.0, 0.5, 1.0, 300.0),
                   "440104001002": (1, 1.0, 0.0, 1.0, 1.0, 400.0),
                   "440104002001": (1, 0.0, 0.0, 1.0, 0.0, None),
                   "440105001001": (1, 0.0, 1.0, 0.0, 1.0, 100.0)}),
    ("street", {"440104001": (3, 2 / 3, 2 / 3, 2 / 3, 1.0, 700 / 2),
                "440104002": (1, 0.0, 0.0, 1.0, 0.0, None),
                "440105001": (1, 0.0, 1.0, 0.0, 1.0, 100.0)}),
    ("district", {"440104": (4, 0.5, 0.5, 0.75, 0.75, 800 / 2),
                  "440105": (1, 0.0, 1.0, 0.0, 1.0, 100.0)}),
    ("city", {"4401": (5, 0.4, 0.6, 0.6, 0.8, 250.0)}),
])
def test_rollups(by, expected):
    rows = compute_coverage(layer(), **rosters(), by=by, names=NAMES).to_dict()["rows"]
    got = {r["code"]: (r["grids"], r["filing_rate"], r["party_coverage"], r["cadre_coverage"],
                       r["fulltime_worker_coverage"], r["households_per_fulltime_worker"])
           for r in rows}
    assert got.keys() == expected.keys()
    for code, values in expected.items():
        assert got[code] == pytest.approx(values, nan_ok=True), code
    names = {r["code"]: r["name"] for r in rows}
    if by == "district":
        assert names == {"440104": "越秀区", "440105": "海珠区"}
        assert [r["party_orgs"] for r in rows] == [2, 1]  # o1, o2 once each in 越秀区
        assert [r["full_time_workers"] for r in rows] == [2, 2]
    if by == "city":
        assert names == {"4401": "广州市"}  # from the national code list


def test_rollup_follows_community_code_and_falls_back_to_the_grid_code():
    """A grid counts for its community_code, not its code's prefix; a missing or malformed
    community code falls back to the first 12 digits of the grid code."""
    from gridkit.rollup import rollup

    table = pd.DataFrame({"grid_code": [G1, G2, G3], "community_code": [G5[:12], None, "4401"],
                          "n": [1, 2, 4]})
    rows = rollup(table, "community", ["n"], names={})
    assert dict(zip(rows["code"], rows["n"])) == {G1[:12]: 2, G3[:12]: 4, G5[:12]: 1}
    rows = rollup(table, "district", ["n"], names=NAMES)
    assert rows[["code", "name", "grids", "n"]].values.tolist() == [["440104", "越秀区", 2, 6],
                                                                    ["440105", "海珠区", 1, 1]]


def test_grid_rollup_has_grid_names():
    rows = compute_coverage(layer(), **rosters(), by="grid").to_dict()["rows"]
    assert [r["name"] for r in rows] == ["一", "二", "三", "四", "五"]


def test_findings_unknown_codes_duplicates_missing_households():
    findings = compute_coverage(layer(), **rosters(), lang="en").findings
    got = {(f["kind"], f["table"]): (f["count"], [e["row"] for e in f["examples"]])
           for f in findings}
    assert got == {
        ("missing_households", "grids"): (1, [2]),
        ("unknown_grid_code", "filings"): (1, [7]),
        ("duplicate_rows", "filings"): (1, [2]),
        ("unknown_grid_code", "party"): (1, [5]),
        ("duplicate_rows", "party"): (1, [4]),
        ("missing_grid_code", "cadres"): (1, [4]),
        ("unknown_grid_code", "workers"): (1, [7]),
    }
    unknown = next(f for f in findings if f["kind"] == "unknown_grid_code")
    assert unknown["examples"][0]["grid_code"] == UNKNOWN
    assert "not in the grid layer" in unknown["message"]
    strangers = pd.DataFrame({"person_id": [f"x{i}" for i in range(8)], "kind": "part_time",
                              "grid_code": UNKNOWN})
    (many,) = compute_coverage(layer().fillna(1), workers=strangers).findings
    assert many["count"] == 8 and [e["row"] for e in many["examples"]] == [1, 2, 3, 4, 5]


def test_missing_rosters_and_empty_layer_give_null_not_nan():
    result = compute_coverage(layer().iloc[:0])
    assert result.metrics["grids"] == 0
    assert all(result.metrics[k] is None for k in
               ("filing_rate", "party_coverage", "cadre_coverage", "fulltime_worker_coverage",
                "households_per_fulltime_worker"))
    only_workers = compute_coverage(layer(), workers=rosters()["workers"])
    assert only_workers.metrics["filing_rate"] is None
    assert only_workers.metrics["fulltime_worker_coverage"] == pytest.approx(0.8)
    assert "filing_rate" not in only_workers.rows


def test_library_bad_input():
    bad = rosters()["workers"].assign(kind=["full_time", "保洁"] + ["full_time"] * 5)
    with pytest.raises(InputError, match=r"column 'kind', row 2"):
        compute_coverage(layer(), workers=bad)
    with pytest.raises(InputError, match="missing column.*org_id"):
        compute_coverage(layer(), party=rosters()["party"].drop(columns="org_id"))
    text_households = layer().astype({"households": object})
    text_households.loc[3, "households"] = "很多"
    with pytest.raises(InputError, match=r"column 'households', row 4"):
        compute_coverage(text_households)


# ------------------------------------------------------------------------------- CLI


@pytest.fixture
def files(tmp_path):
    """The same data as files with Chinese column names, in three formats."""
    grids = layer().rename(columns={"grid_code": "网格编码", "grid_name": "网格名称",
                                    "community_code": "所属社区编码", "households": "户数"})
    grids.to_file(tmp_path / "grids.gpkg")
    data = rosters()
    filings = data["filings"].assign(filed_on=data["filings"]["filed_on"].dt.strftime("%Y/%-m/%-d"),
                                     status=data["filings"]["status"].map(
                                         {"filed": "已备案", "pending": "待审核",
                                          "rejected": "退回"}))
    filings.rename(columns={"grid_code": "网格编码", "filed_on": "备案日期",
                            "status": "备案状态"}).to_csv(tmp_path / "filings.csv", index=False)
    data["party"].to_parquet(tmp_path / "party.parquet")
    data["cadres"].to_csv(tmp_path / "cadres.csv", index=False)
    workers = data["workers"].assign(kind=data["workers"]["kind"].map(
        {"full_time": "专职", "part_time": "兼职"}))
    workers.to_excel(tmp_path / "workers.xlsx", index=False)
    return tmp_path


run = partial(run_cli, "coverage")


def test_cli_json_matches_library_and_score_reads_it(files):
    args = [files / "grids.gpkg", "--filings", files / "filings.csv", "--party",
            files / "party.parquet", "--cadres", files / "cadres.csv", "--workers",
            files / "workers.xlsx"]
    result = run(*args, "--format", "json", "--by", "street")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["by"] == "street"
    assert data["grids"] == 5 and data["filing_rate"] == pytest.approx(0.4)
    assert data["households_per_fulltime_worker"] == pytest.approx(250.0)
    assert [r["code"] for r in data["rows"]] == ["440104001", "440104002", "440105001"]
    assert data["rows"][1]["households_per_fulltime_worker"] is None
    assert len(data["findings"]) == 7
    path = files / "coverage.json"
    path.write_text(result.stdout, encoding="utf-8")
    from gridkit.scoring import load_metrics

    metrics = load_metrics([path])
    assert metrics["filing_rate"] == pytest.approx(0.4)

    table = run(*args)
    assert table.exit_code == 0
    assert "备案率" in table.stdout and "越秀区" in table.stdout and "40.00%" in table.stdout
    english = run(*args, "--lang", "en", "--format", "csv")
    assert english.stdout.splitlines()[0].startswith("code,name,grids,filed,filing_rate")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".gpkg"])
def test_cli_writes_per_grid_table(files, suffix):
    out = files / f"per_grid{suffix}"
    result = run(files / "grids.gpkg", "--workers", files / "workers.xlsx", "--out", out)
    assert result.exit_code == 0, result.output
    if suffix == ".csv":
        table = pd.read_csv(out, dtype={"grid_code": str}, encoding="utf-8-sig")
    elif suffix == ".parquet":
        table = pd.read_parquet(out)
    else:
        table = gpd.read_file(out)
        assert table.geometry.notna().all()
    assert table["grid_code"].tolist() == [G1, G2, G3, G4, G5]
    assert table["full_time_workers"].tolist() == [1, 1, 1, 0, 2]
    again = run(files / "grids.gpkg", "--workers", files / "workers.xlsx", "--out", out)
    assert again.exit_code == 2 and "--force" in again.output


def test_cli_float_codes_missing_column_bad_out(files):
    workers = pd.read_excel(files / "workers.xlsx", dtype=str)
    workers.loc[2, "grid_code"] = "4.40104E+14"
    workers.to_csv(files / "float_codes.csv", index=False)
    result = run(files / "grids.gpkg", "--workers", files / "float_codes.csv")
    assert result.exit_code == 2
    assert "float_codes.csv: column 'grid_code', row 3" in result.output
    workers.drop(columns="kind").to_csv(files / "no_kind.csv", index=False)
    result = run(files / "grids.gpkg", "--workers", files / "no_kind.csv")
    assert result.exit_code == 2
    assert "no_kind.csv" in result.output and "kind" in result.output
    result = run(files / "grids.gpkg", "--out", files / "x.txt")
    assert result.exit_code == 2 and ".gpkg" in result.output


def test_cli_out_never_overwrites_an_input_and_takes_a_layer(files):
    """--out naming a roster (or the grid layer) is refused even with --force."""
    before = (files / "cadres.csv").read_bytes()
    result = run(files / "grids.gpkg", "--cadres", files / "cadres.csv",
                 "--out", files / "cadres.csv", "--force")
    assert result.exit_code == 2 and "would overwrite the input" in result.output
    assert (files / "cadres.csv").read_bytes() == before
    result = run(files / "grids.gpkg", "--out", files / "grids.gpkg", "--force")
    assert result.exit_code == 2 and "would overwrite the input" in result.output
    layer().iloc[:1].to_file(files / "grids.gpkg", layer="old")
    result = run(files / "grids.gpkg", "--cadres", files / "cadres.csv", "--format", "json")
    assert result.exit_code == 2 and "--layer" in result.output
    result = run(files / "grids.gpkg", "--layer", "old", "--cadres", files / "cadres.csv",
                 "--format", "json")
    assert result.exit_code == 0 and json.loads(result.output)["grids"] == 1


def test_rolled_up_equals_computing_at_that_level():
    """The report computes coverage once and rolls it up per level (CoverageResult.rolled_up)."""
    from gridkit.data import SAMPLE_DIR
    from gridkit.io import read_layer, read_table
    from gridkit.rollup import BY_LEVELS

    grids = read_layer(SAMPLE_DIR / "grids.gpkg")
    rosters = {kind: read_table(SAMPLE_DIR / f"{kind}.csv", kind)
               for kind in ("filings", "party", "cadres", "workers")}
    names = code_names(load_divisions())
    once = compute_coverage(grids, **rosters, by="grid", names=names, lang="en")
    for by in BY_LEVELS:
        direct = compute_coverage(grids, **rosters, by=by, names=names, lang="en")
        again = once.rolled_up(by)
        pd.testing.assert_frame_equal(again.rows, direct.rows)
        assert (again.by, again.metrics, again.findings) == (by, direct.metrics, direct.findings)

"""``gridkit synth``: exact partitions, real codes, consistent truth, defects, CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from helpers.cli import run_cli
from shapely import box

from gridkit.codes import load_divisions, serial_order
from gridkit.data import DISTRICT_OUTLINES
from gridkit.errors import InputError
from gridkit.synth import synthesize
from gridkit.synth.city import allocate, short_community_name
from gridkit.synth.defects import bowtie, serial_upsets
from gridkit.synth.partition import partition, wiggle

METRIC = "EPSG:4547"
RULES = {
    "invalid_geometry", "empty_geometry", "overlap", "gap", "outside_community", "sliver",
    "multipart", "area_out_of_range", "households_out_of_range", "missing_attribute",
    "code_format", "code_duplicate", "code_community_mismatch", "code_unknown_community",
    "code_serial_order", "not_published", "missing_from_layer", "geometry_mismatch",
    "attribute_mismatch", "layer_offset",
}
COLUMNS = {
    "grids.gpkg": ["grid_code", "grid_name", "community_code", "street_code", "district_code",
                   "grid_type", "households", "population", "geometry"],
    "communities.gpkg": ["community_code", "community_name", "street_code", "district_code",
                         "geometry"],
    "reference.gpkg": ["grid_code", "grid_name", "community_code", "geometry"],
    "filings.csv": ["grid_code", "filed_on", "status"],
    "party.csv": ["org_id", "org_name", "org_type", "grid_code"],
    "cadres.csv": ["person_id", "name", "role", "grid_code"],
    "workers.csv": ["person_id", "name", "kind", "grid_code"],
    "events.parquet": ["event_id", "lon", "lat", "reported_at", "assigned_grid_code",
                       "dispatched_at", "closed_at", "valid_complaint", "category"],
}


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth") / "clean"
    return out, synthesize(out, grids=120, events=3000, seed=3, districts=["440104"])


@pytest.fixture(scope="module")
def defected(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth") / "defects"
    return out, synthesize(out, grids=200, events=3000, seed=5, districts=["440104"],
                           defects=True)


def _layer(folder: Path, name: str, metric: bool = True) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(folder / name)
    return gdf.to_crs(METRIC) if metric else gdf


def _table(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def _present(gdf: gpd.GeoDataFrame) -> np.ndarray:
    geoms = gdf.geometry.values
    return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))


# ---------------------------------------------------------------------- units


def test_serial_order_reads_rows_north_to_south_west_to_east():
    cells = [box(x, y, x + 100, y + 100) for y in (100, 0) for x in (0, 100, 200)]
    order = np.array([4, 0, 5, 2, 1, 3])  # shuffled input
    got = serial_order([cells[i] for i in order], ["c"] * 6)
    assert got.tolist() == (order + 1).tolist()
    assert serial_order([None, box(0, 0, 1, 1)], ["a", "a"]).tolist() == [0, 1]


def test_small_helpers():
    assert short_community_name("茭东村民委员会") == "茭东村"
    assert short_community_name("芳和花园第一社区居委会") == "芳和花园第一社区"
    bad = bowtie(box(0, 0, 100, 100))
    assert not bad.is_valid and abs(bad.area - 10_000) < 100
    line = shapely.segmentize(np.array([shapely.LineString([(0, 0), (300, 0)])]), 10)
    bent = wiggle(line, 0.05, np.random.default_rng(1))
    xy = shapely.get_coordinates(bent)
    assert xy[0].tolist() == [0, 0] and xy[-1].tolist() == [300, 0] and np.abs(xy[:, 1]).max() > 0


def test_partition_is_exact_on_a_concave_parent():
    parent = shapely.difference(box(0, 0, 2000, 2000), box(500, 500, 2000, 1500))
    parents = np.array([parent, box(2000, 0, 3000, 2000)])
    kids, owner = partition(parents, np.array([9, 4]), np.array([40.0, 40.0]),
                            shapely.boundary(parents), np.random.default_rng(4))
    assert len(kids) == 13 and (shapely.get_type_id(kids) == 3).all()
    assert shapely.coverage_is_valid(kids)
    for k, geom in enumerate(parents):
        union = shapely.coverage_union_all(kids[owner == k])
        assert shapely.area(shapely.symmetric_difference(union, geom)) < 1e-3


def test_allocation_dense_districts_get_more_grids():
    divisions = load_divisions()
    streets, comms = allocate(2000, ["440104", "440117"], divisions, np.random.default_rng(0))
    per = streets.groupby("parent_code")["grids"].sum()
    assert per["440104"] > per["440117"] and per.sum() == 2000
    assert (streets["communities"] >= 1).all()
    assert set(comms["parent_code"]) == set(streets["code"])
    assert 3 <= comms["grids"].mean() <= 8
    with pytest.raises(InputError, match="fewer than the streets"):
        allocate(5, ["440104"], divisions, np.random.default_rng(0))


# ---------------------------------------------------------------------- files


def test_files_have_contract_columns_and_crs(clean):
    folder, truth = clean
    for name, columns in COLUMNS.items():
        if name.endswith(".gpkg"):
            gdf = gpd.read_file(folder / name)
            assert gdf.crs.to_epsg() == 4490, name
            got = gdf.columns.tolist()
        elif name.endswith(".csv"):
            got = _table(folder, name).columns.tolist()
        else:
            got = pq.read_schema(folder / name).names
        assert got == columns, name
    assert not (folder / "grids-gcj02.gpkg").exists()
    assert set(truth) >= {"seed", "grids", "events", "districts", "parameters", "defects",
                          "metrics"}
    assert truth["defects"] == [] and truth["districts"] == ["440104"]
    assert json.loads((folder / "truth.json").read_text(encoding="utf-8")) == truth


def test_grids_lie_in_their_district_and_use_real_codes(clean):
    folder, _ = clean
    grids = _layer(folder, "grids.gpkg")
    outline = gpd.read_file(DISTRICT_OUTLINES).to_crs(METRIC)
    district = outline.loc[outline["code"] == "440104", "geometry"].item()
    assert shapely.area(shapely.difference(grids.geometry.values, district)).max() < 1e-3
    divisions = load_divisions()
    real = set(divisions.loc[divisions["level"] == "community", "code"])
    codes = grids["grid_code"]
    assert codes.str.fullmatch(r"\d{15}").all() and codes.is_unique
    assert codes.str.slice(0, 12).isin(real).all()
    assert (codes.str.slice(0, 12) == grids["community_code"]).all()
    assert (grids["street_code"] == codes.str.slice(0, 9)).all()
    assert (grids["district_code"] == "440104").all()
    assert grids["grid_name"].str.fullmatch(r"越秀区\w+(街道|镇)\w+第\d+网格").all()


def test_every_level_is_an_exact_partition(clean):
    folder, _ = clean
    grids = _layer(folder, "grids.gpkg")
    comms = _layer(folder, "communities.gpkg")
    assert (grids.geom_type == "Polygon").all() and shapely.is_valid(grids.geometry.values).all()
    assert shapely.coverage_is_valid(grids.geometry.values)
    assert shapely.coverage_is_valid(comms.geometry.values)
    assert set(comms["community_code"]) == set(grids["community_code"])
    for code, geom in zip(comms["community_code"], comms.geometry):
        members = grids.geometry.values[(grids["community_code"] == code).to_numpy()]
        union = shapely.coverage_union_all(members)
        assert shapely.area(shapely.symmetric_difference(union, geom)) < 1.0, code
    streets = comms.dissolve("street_code")
    assert (streets.geom_type == "Polygon").all()
    assert shapely.coverage_is_valid(streets.geometry.values)
    outline = gpd.read_file(DISTRICT_OUTLINES).to_crs(METRIC)
    district = outline.loc[outline["code"] == "440104", "geometry"].item()
    everything = shapely.coverage_union_all(comms.geometry.values)
    assert shapely.area(shapely.symmetric_difference(everything, district)) < 1.0


def test_grids_are_numbered_in_reading_order_and_look_real(clean):
    folder, truth = clean
    grids = _layer(folder, "grids.gpkg")
    serial = grids["grid_code"].str.slice(12).astype(int).to_numpy()
    assert (serial_order(grids.geometry, grids["community_code"]) == serial).all()
    assert serial_upsets(grids) == []
    per_comm = grids.groupby("community_code").size()
    assert 3 <= per_comm.mean() <= 8
    assert grids["households"].between(150, 800).all()
    ratio = grids["population"] / grids["households"]
    assert ratio.between(2.59, 3.21).all()
    assert grids["grid_type"].isin(["综合网格", "专属网格"]).all()
    assert (grids["grid_type"] == "综合网格").mean() > 0.9
    assert grids.geometry.count_coordinates().mean() >= 50
    stats = truth["parameters"]["clean_grids"]
    assert stats["min_area_m2"] == pytest.approx(grids.area.min(), rel=1e-3)


def _expected(folder: Path) -> dict:
    """The truth metrics recomputed from the files with plain (geo)pandas."""
    grids = gpd.read_file(folder / "grids.gpkg")
    codes = grids["grid_code"]
    filings, party = _table(folder, "filings.csv"), _table(folder, "party.csv")
    cadres, workers = _table(folder, "cadres.csv"), _table(folder, "workers.csv")
    full = workers[(workers["kind"] == "full_time") & workers["grid_code"].isin(codes)]
    out = {
        "grids": len(grids),
        "filing_rate": codes.isin(filings.loc[filings["status"] == "filed", "grid_code"]).mean(),
        "party_coverage": codes.isin(party["grid_code"]).mean(),
        "cadre_coverage": codes.isin(cadres["grid_code"]).mean(),
        "fulltime_worker_coverage": codes.isin(full["grid_code"]).mean(),
        "households_per_fulltime_worker": grids["households"].sum() / full["person_id"].nunique(),
    }
    events = pd.read_parquet(folder / "events.parquet")
    lon, lat = events["lon"], events["lat"]
    valid = lon.between(-180, 180) & lat.between(-90, 90) & ~((lon == 0) & (lat == 0))
    points = gpd.GeoDataFrame(events[valid], crs="EPSG:4326",
                              geometry=gpd.points_from_xy(lon[valid], lat[valid])).to_crs(4490)
    usable = grids[_present(grids)].assign(geometry=lambda g: g.geometry.make_valid())
    hits = gpd.sjoin(points, usable[["grid_code", "geometry"]], predicate="within")
    hit_count = hits.index.value_counts()
    assert (hit_count == 1).all(), "an event lies in two grids"
    located = hits[hits.index.isin(hit_count.index)]
    sent = located["dispatched_at"].notna()
    dispatched = events["dispatched_at"].notna()
    delay = events["dispatched_at"] - events["reported_at"]
    out |= {
        "events": len(events), "located": len(located),
        "outside": int(valid.sum()) - len(located), "unlocatable": int((~valid).sum()),
        "dispatched": int(dispatched.sum()),
        "dispatch_accuracy": (located["assigned_grid_code"] == located["grid_code"])[sent].mean(),
        "dispatch_timeliness": (delay[dispatched] <= pd.Timedelta(hours=2)).mean(),
        "closure_rate": (events["closed_at"] < pd.Timestamp("2024-01-01")).mean(),
        "valid_complaints": int(events["valid_complaint"].sum()),
    }
    return out


def _check_truth(folder: Path, truth: dict) -> None:
    expected = _expected(folder)
    assert set(truth["metrics"]) == set(expected)
    for key, value in expected.items():
        assert truth["metrics"][key] == pytest.approx(value, rel=1e-12), key
    m = truth["metrics"]
    assert m["located"] + m["outside"] + m["unlocatable"] == m["events"]


def test_truth_metrics_match_the_files(clean):
    folder, truth = clean
    _check_truth(folder, truth)
    m = truth["metrics"]
    for key in ("filing_rate", "party_coverage", "cadre_coverage", "fulltime_worker_coverage",
                "dispatch_accuracy", "dispatch_timeliness", "closure_rate"):
        assert 0.9 < m[key] < 1.0, key
    assert m["outside"] > 0 and m["unlocatable"] > 0
    assert 150 < m["households_per_fulltime_worker"] < 800


def test_rosters_and_events_look_real(clean):
    folder, truth = clean
    codes = set(gpd.read_file(folder / "grids.gpkg")["grid_code"])
    party = _table(folder, "party.csv")
    assert set(party["org_type"]) == {"党支部", "党小组"}
    assert party.groupby("org_id")["grid_code"].nunique().max() >= 2
    assert set(_table(folder, "cadres.csv")["role"]) == {"镇街领导", "科室干部", "两委成员"}
    workers = _table(folder, "workers.csv")
    assert set(workers["kind"]) == {"full_time", "part_time"}
    assert workers["name"].str.fullmatch(r"[\u4e00-\u9fff]{2,4}").all()
    filings = _table(folder, "filings.csv")
    assert set(filings["status"]) <= {"filed", "pending", "rejected"}
    assert filings.duplicated().sum() == truth["rosters"]["filings"]["duplicate_rows"] >= 1
    stray = set(filings["grid_code"]) - codes
    assert stray == set(truth["rosters"]["filings"]["unknown_grid_codes"])

    events = pd.read_parquet(folder / "events.parquet")
    assert events["event_id"].is_unique and events["lon"].dtype == np.float64
    assert events["reported_at"].dt.year.eq(2023).all()
    sent = events["dispatched_at"].notna()
    assert (events.loc[sent, "dispatched_at"] >= events.loc[sent, "reported_at"]).all()
    assert events.loc[sent, "assigned_grid_code"].isin(codes).all()
    assert events.loc[~sent, "assigned_grid_code"].isna().all()
    assert events["category"].isin(["治安隐患", "环境卫生", "消防安全", "矛盾纠纷", "出租屋管理",
                                     "市容环境", "安全生产", "城市管理", "道路交通", "特殊人群服务",
                                     "劳动保障", "食品药品安全", "其他"]).all()


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    kwargs = {"grids": 40, "events": 500, "districts": ["440104"]}
    synthesize(tmp_path / "a", seed=11, **kwargs)
    synthesize(tmp_path / "b", seed=11, **kwargs)
    synthesize(tmp_path / "c", seed=12, **kwargs)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    a, c = _layer(tmp_path / "a", "grids.gpkg"), _layer(tmp_path / "c", "grids.gpkg")
    assert not a.geometry.geom_equals(c.geometry).all()
    assert not pd.read_parquet(tmp_path / "a" / "events.parquet")["lon"].equals(
        pd.read_parquet(tmp_path / "c" / "events.parquet")["lon"])


# ---------------------------------------------------------------------- defects


def test_every_rule_has_a_defect(defected):
    _, truth = defected
    assert {d["rule"] for d in truth["defects"]} == RULES
    for defect in truth["defects"]:
        assert set(defect["also"]) <= RULES
        assert defect["rule"] == "layer_offset" or defect["grid_codes"]
    offset = next(d for d in truth["defects"] if d["rule"] == "layer_offset")
    assert offset == {"rule": "layer_offset", "file": "grids-gcj02.gpkg", "crs": "gcj02",
                      "grid_codes": [], "also": [], "note": offset["note"]}


def _codes(truth: dict, rule: str) -> set[str]:
    return {c for d in truth["defects"] if d["rule"] == rule for c in d["grid_codes"]}


def test_defects_are_where_truth_says(defected):
    folder, truth = defected
    grids = _layer(folder, "grids.gpkg")
    ref = _layer(folder, "reference.gpkg")
    present = _present(grids)
    geoms = grids.geometry.values
    code = grids["grid_code"]
    assert set(code[present & ~shapely.is_valid(geoms)]) == _codes(truth, "invalid_geometry")
    assert set(code[~present]) == _codes(truth, "empty_geometry")
    assert set(code[shapely.get_num_geometries(geoms) > 1]) == _codes(truth, "multipart")
    assert set(code[grids["households"] > 800]) == _codes(truth, "households_out_of_range")
    assert set(code[grids["grid_name"].fillna("") == ""]) == _codes(truth, "missing_attribute")
    assert set(code[~code.str.fullmatch(r"\d{15}")]) == _codes(truth, "code_format")
    assert set(code[code.duplicated()]) == _codes(truth, "code_duplicate")
    divisions = load_divisions()
    known = set(divisions["code"])
    well_formed = code.str.fullmatch(r"\d{15}")
    unknown = set(code[well_formed & ~code.str.slice(0, 12).isin(known)])
    assert unknown == _codes(truth, "code_unknown_community")
    assert set(code) - set(ref["grid_code"]) == _codes(truth, "not_published")
    assert set(ref["grid_code"]) - set(code) == _codes(truth, "missing_from_layer")
    area = shapely.area(geoms)
    assert _codes(truth, "area_out_of_range") <= set(code[present & (area < 100)])
    thin = 4 * np.pi * area / np.where(present, shapely.length(geoms), 1.0) ** 2
    assert set(code[present & (thin < 0.1)]) == _codes(truth, "sliver")
    prefix_of = grids.set_index("grid_code")["community_code"]
    for c in _codes(truth, "code_community_mismatch"):
        assert c[:12] in known and c[:12] != prefix_of[c]
    upset = set(serial_upsets(grids[present]))
    assert {c[:12] for c in _codes(truth, "code_serial_order")} <= upset
    for rule in ("geometry_mismatch", "attribute_mismatch"):
        (c,) = _codes(truth, rule)
        mine = grids[code == c].iloc[0]
        theirs = ref[ref["grid_code"] == c].iloc[0]
        iou = mine.geometry.intersection(theirs.geometry).area / \
            mine.geometry.union(theirs.geometry).area
        assert (iou < 0.8) == (rule == "geometry_mismatch")
        assert (mine.grid_name != theirs.grid_name) == (rule == "attribute_mismatch")


def test_spatial_errors_always_involve_a_defect_grid(defected):
    folder, truth = defected
    grids = _layer(folder, "grids.gpkg")
    comms = _layer(folder, "communities.gpkg").set_index("community_code").geometry
    marked = {c for d in truth["defects"] for c in d["grid_codes"]}
    present = _present(grids)
    geoms = np.where(present, shapely.make_valid(grids.geometry.values), None)
    code = grids["grid_code"].to_numpy()
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    a, b = a[a < b], b[a < b]
    overlap = shapely.area(shapely.intersection(geoms[a], geoms[b])) > 0.01
    pairs = {(code[i], code[j]) for i, j in zip(a[overlap], b[overlap])}
    assert pairs and all(x in marked or y in marked for x, y in pairs)
    overlapping = {c for pair in pairs for c in pair}
    assert _codes(truth, "overlap") <= overlapping
    assert _codes(truth, "outside_community") <= overlapping
    outside = {c for c, g, comm in zip(code, geoms, grids["community_code"])
               if g is not None and shapely.area(shapely.difference(g, comms[comm])) > 1}
    assert outside == _codes(truth, "outside_community")
    for comm, geom in comms.items():
        mine = geoms[(grids["community_code"] == comm).to_numpy() & present]
        for hole in shapely.get_parts(shapely.difference(geom, shapely.union_all(mine))):
            if hole.area > 1:
                near = set(code[shapely.intersects(geoms, shapely.buffer(hole, 0.01))])
                assert near & marked, comm
    gap = _codes(truth, "gap").pop()
    assert shapely.area(comms[gap[:12]]) - sum(
        shapely.area(geoms[(grids["community_code"] == gap[:12]).to_numpy() & present])) > 100


def test_events_avoid_defects_and_truth_holds(defected):
    folder, truth = defected
    _check_truth(folder, truth)
    marked = {c for d in truth["defects"] for c in d["grid_codes"]}
    events = pd.read_parquet(folder / "events.parquet")
    grids = gpd.read_file(folder / "grids.gpkg")
    ok = grids[_present(grids) & shapely.is_valid(grids.geometry.values)]
    points = gpd.GeoDataFrame(events, crs="EPSG:4326",
                              geometry=gpd.points_from_xy(events["lon"], events["lat"]))
    hits = gpd.sjoin(points.dropna(subset=["lon"]).to_crs(4490), ok[["grid_code", "geometry"]])
    assert not set(hits["grid_code"]) & marked


def test_layer_offset_file_is_gcj02_labelled_cgcs2000(defected):
    folder, _ = defected
    plain = gpd.read_file(folder / "grids.gpkg")
    shifted = gpd.read_file(folder / "grids-gcj02.gpkg")
    assert shifted.crs.to_epsg() == 4490 and shifted.columns.tolist() == plain.columns.tolist()
    keep = _present(plain)
    move = shapely.centroid(shifted.geometry.values[keep]), shapely.centroid(
        plain.geometry.values[keep])
    dist = gpd.GeoSeries(move[0], crs=4490).to_crs(METRIC).distance(
        gpd.GeoSeries(move[1], crs=4490).to_crs(METRIC))
    assert dist.between(300, 700).all()
    from gridkit.crs import convert_geometries

    back = convert_geometries(shifted.geometry.values[keep], "gcj02", "wgs84")
    err = gpd.GeoSeries(shapely.centroid(back), crs=4490).to_crs(METRIC).distance(
        gpd.GeoSeries(move[1], crs=4490).to_crs(METRIC))
    assert err.max() < 1.0


# ---------------------------------------------------------------------- output and CLI


def test_output_folder_rules(tmp_path):
    small = {"grids": 20, "events": 50, "districts": ["440104"]}
    out = tmp_path / "out"
    out.mkdir()
    synthesize(out, **small)  # an empty folder is fine
    (out / "stale.txt").write_text("old")
    with pytest.raises(InputError, match="not empty; use force=True"):
        synthesize(out, **small)
    (out / "notes").mkdir()
    (out / "notes" / "README.md").write_text("mine")
    (out / "truth.json").write_text("edited")
    synthesize(out, force=True, **small)
    # --force replaces synth's own files and keeps the user's files beside them.
    assert json.loads((out / "truth.json").read_text())["grids"] > 0
    assert (out / "stale.txt").read_text() == "old"
    assert (out / "notes" / "README.md").read_text() == "mine"
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        synthesize(tmp_path / "file", force=True, **small)
    with pytest.raises(InputError, match="does not exist"):
        synthesize(tmp_path / "missing" / "out", **small)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "out"]


def test_cli_formats_and_exit_codes(tmp_path):
    base = ["synth", "--districts", "440104", "--grids", "20", "--events", "100"]
    result = run_cli(*[*base, "--out", str(tmp_path / "a"), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["metrics"]["grids"] == 20 and "events.parquet" in data["files"]
    result = run_cli(*[*base, "--out", str(tmp_path / "b"), "--format", "csv"])
    assert result.exit_code == 0 and result.output.startswith("key,value\ngrids,20\n")
    result = run_cli(*[*base, "--out", str(tmp_path / "a")])
    assert result.exit_code == 2 and "--force" in result.output
    result = run_cli(*[*base, "--out", str(tmp_path / "a"), "--force", "--lang", "en"])
    assert result.exit_code == 0 and "dispatch accuracy" in result.output
    bad = run_cli(*["synth", "--out", str(tmp_path / "c"), "--districts", "440199"])
    assert bad.exit_code == 2 and "440199" in bad.output
    few = run_cli(*["synth", "--out", str(tmp_path / "d"), "--grids", "5"])
    assert few.exit_code == 2 and "streets" in few.output
    assert "Example" in run_cli(*["synth", "--help"]).output


def test_done_when_city_of_2000_grids(tmp_path):
    out = tmp_path / "X"
    result = run_cli(*["synth", "--out", str(out), "--grids", "2000",
                                      "--events", "20000", "--seed", "7", "--format", "json"])
    assert result.exit_code == 0, result.output
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert truth["metrics"]["grids"] == 2000 and truth["metrics"]["events"] == 20000
    grids = gpd.read_file(out / "grids.gpkg")
    per_district = grids.groupby("district_code").size()
    assert len(per_district) == 11 and per_district["440106"] > per_district["440117"]
    assert shapely.coverage_is_valid(grids.to_crs(METRIC).geometry.values)

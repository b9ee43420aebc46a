"""Work-order metrics on hand-built grids and events, every number computed by hand."""

import json
from functools import partial

import numpy as np
import pandas as pd
import pytest
from helpers.cli import run_cli
from helpers.events_data import A, B, C, H, T, events, layer

from gridkit.crs import wgs84_to_bd09, wgs84_to_gcj02
from gridkit.errors import InputError
from gridkit.events import (
    EventCounts,
    EventGrids,
    EventParams,
    accumulate,
    compute_events,
    join_chunk,
    resolve_period_end,
    summarise,
)


def compute(grids, data, lang="zh", **params):
    """:func:`compute_events` with the parameters as keywords, names in ``lang``."""
    return compute_events(grids, data, EventParams(**params)).in_language(lang)


def test_metrics_by_hand():
    result = compute(layer(), events(), period_end="2023-12-31")
    m = result.metrics
    assert (m["events"], m["located"], m["outside"], m["unlocatable"]) == (9, 5, 1, 3)
    assert m["located"] + m["outside"] + m["unlocatable"] == m["events"]
    assert m["dispatched"] == 6  # e1 e2 e3 e5 e7 e9
    # located dispatched: e1 e2 e3 e9; correct: e1 e3
    assert m["dispatch_accuracy"] == pytest.approx(2 / 4)
    # timely (≤ 2 h) among the 6 dispatched: e1 e3 e5 e9
    assert m["dispatch_timeliness"] == pytest.approx(4 / 6)
    # closed by 2023-12-31 23:59:59.999: e1 e3 e5 e9 of 9
    assert m["closure_rate"] == pytest.approx(4 / 9)
    assert m["valid_complaints"] == 2
    joined = result.joined.set_index("event_id")
    assert joined["grid_code"].tolist()[:4] == [A, A, B, C]
    assert joined.loc["e9", "grid_code"] == C
    assert joined["grid_code"].isna().tolist() == [False] * 4 + [True] * 4 + [False]
    assert joined["status"].tolist() == ["located"] * 4 + ["outside"] + ["unlocatable"] * 3 \
        + ["located"]
    assert joined["dispatch_correct"].tolist() == [True, False, True] + [False] * 6
    assert joined["timely"].tolist() == [True, False, True, False, True, False, False, False,
                                         True]
    assert joined["closed_in_period"].tolist() == [True, False, True, False, True, False, False,
                                                   False, True]


def test_rollup_rows_add_up():
    result = compute(layer(), events(), period_end="2023-12-31", by="district",
                            lang="en")
    rows = {r["code"]: r for r in result.to_dict()["rows"]}
    assert list(rows) == ["440104", "440105", None]
    yuexiu, haizhu, nowhere = rows["440104"], rows["440105"], rows[None]
    assert (yuexiu["events"], yuexiu["dispatch_accuracy"], yuexiu["dispatch_timeliness"],
            yuexiu["closure_rate"]) == (3, pytest.approx(2 / 3), pytest.approx(2 / 3),
                                        pytest.approx(2 / 3))
    assert (haizhu["events"], haizhu["dispatch_accuracy"], haizhu["closure_rate"]) == \
        (2, 0.0, 0.5)
    assert nowhere["name"] == "in no grid" and nowhere["grids"] == 0
    assert (nowhere["outside"], nowhere["unlocatable"], nowhere["dispatch_accuracy"]) == \
        (1, 3, None)
    for key in ("events", "located", "outside", "unlocatable", "dispatched",
                "valid_complaints"):
        assert sum(r[key] for r in rows.values()) == result.metrics[key], key
    grid_rows = compute(layer(), events(), by="grid").to_dict()["rows"]
    assert [(r["code"], r["name"], r["events"]) for r in grid_rows] == \
        [(A, "甲", 2), (B, "乙", 1), (C, "丙", 2), (None, "不在任何网格", 4)]


def test_shared_edge_is_deterministic_whatever_the_layer_order():
    shuffled = layer().iloc[[2, 0, 1]]
    for grids in (layer(), shuffled, layer().iloc[::-1]):
        joined = compute(grids, events()).joined
        assert joined["grid_code"].iloc[:3].tolist() == [A, A, B]


def test_findings_list_outside_and_unlocatable_rows():
    findings = compute(layer(), events(), lang="en").findings
    got = {f["kind"]: (f["count"], [e["row"] for e in f["examples"]]) for f in findings}
    assert got == {"outside": (1, [5]), "unlocatable": (3, [6, 7, 8])}
    unlocatable = next(f for f in findings if f["kind"] == "unlocatable")
    assert unlocatable["examples"][0]["lon"] is None  # NaN never reaches the JSON


def test_default_period_end_and_parameters():
    assert resolve_period_end(None, pd.Timestamp("2023-05-01")) == \
        pd.Timestamp("2023-12-31 23:59:59.999999999")
    assert resolve_period_end("2023-06-30 18:00") == pd.Timestamp("2023-06-30 18:00")
    with pytest.raises(InputError, match="period_end"):
        resolve_period_end(None, None)
    result = compute(layer(), events())  # latest report 2023 → 2023-12-31
    assert result.metrics["closure_rate"] == pytest.approx(4 / 9)
    assert result.to_dict()["parameters"] == {"crs": "EPSG:4326", "dispatch_sla_hours": 2.0,
                                              "period_end": "2023-12-31"}
    later = compute(layer(), events(), period_end="2024-01-01", dispatch_sla_hours=3)
    assert later.metrics["closure_rate"] == pytest.approx(5 / 9)
    assert later.metrics["dispatch_timeliness"] == pytest.approx(6 / 6)
    assert later.to_dict()["parameters"]["period_end"] == "2024-01-01"
    # the period end is inclusive: e3 closed at 17:00 sharp counts (with e1 and e5)
    instant = compute(layer(), events(), period_end="2023-05-01 17:00")
    assert instant.metrics["closure_rate"] == pytest.approx(3 / 9)


def test_zero_denominators_are_null():
    quiet = events().assign(dispatched_at=pd.NaT).drop(columns="closed_at")
    result = compute(layer(), quiet)
    assert result.metrics["dispatch_accuracy"] is None
    assert result.metrics["dispatch_timeliness"] is None
    # no closed_at column: the closure rate is unknown, not 0 (issue 12)
    assert result.metrics["closure_rate"] is None
    assert result.unavailable["closure_rate"] == ["closed_at"]
    assert result.metrics["dispatched"] == 0  # the column is there, every value empty
    assert "NaN" not in json.dumps(result.to_dict(), default=str)
    empty = compute(layer(), events().iloc[:0], period_end="2023-12-31")
    assert empty.metrics["events"] == 0 and empty.metrics["closure_rate"] is None
    assert empty.to_dict()["rows"][0]["events"] == 0


@pytest.mark.parametrize("system, convert", [("gcj02", wgs84_to_gcj02),
                                             ("bd09", wgs84_to_bd09)])
def test_offset_coordinates_are_converted(system, convert):
    shifted = events()
    shifted["lon"], shifted["lat"] = convert(shifted["lon"].to_numpy(),
                                             shifted["lat"].to_numpy())
    inside = events().iloc[[0, 3]]  # well inside A and C
    moved = shifted.iloc[[0, 3]]
    assert compute(layer(), moved, crs=system).joined["grid_code"].tolist() == [A, C]
    assert compute(layer(), inside, crs=system).joined["grid_code"].tolist() != [A, C]


def test_projected_grids_and_projected_events():
    metric = layer().to_crs(4547)
    result = compute(metric, events().iloc[[0, 3]], crs="wgs84")
    assert result.joined["grid_code"].tolist() == [A, C]
    xs, ys = metric.geometry.centroid.x.to_numpy(), metric.geometry.centroid.y.to_numpy()
    projected = events().iloc[:3].assign(lon=xs, lat=ys)
    result = compute(layer(), projected, crs="4547")
    assert result.joined["grid_code"].tolist() == [B, C, A]


def test_chunks_add_up_to_the_whole():
    grids = EventGrids(layer())
    params = EventParams(grids.crs, 2.0, resolve_period_end("2023-12-31"))
    data = events()
    whole = accumulate([data], grids, params)
    parts = accumulate([data.iloc[i:i + 2] for i in range(0, 9, 2)], grids, params)
    np.testing.assert_array_equal(whole.counts, parts.counts)
    manual = sum((join_chunk(data.iloc[i:i + 4], grids, params)[1] for i in (0, 4, 8)),
                 EventCounts.zeros(len(grids)))
    assert summarise(manual, grids, params).metrics == summarise(whole, grids, params).metrics
    assert manual.findings["unlocatable"][0] == 3


def test_findings_for_dispatch_without_report_time_and_unknown_assigned_grid():
    data = events()
    data.loc[0, "reported_at"] = pd.NaT  # e1, dispatched
    data.loc[[4, 6], "assigned_grid_code"] = "440199001001001"  # e5 and e7, dispatched
    data.loc[5, "assigned_grid_code"] = "440199001001001"  # e6: not dispatched, not listed
    result = compute(layer(), data, period_end="2023-12-31", lang="en")
    got = {f["kind"]: (f["count"], [e["row"] for e in f["examples"]]) for f in result.findings}
    assert got["dispatched_without_report_time"] == (1, [1])
    assert got["assigned_grid_unknown"] == (2, [5, 7])
    assert result.metrics["dispatch_timeliness"] == pytest.approx(3 / 6)  # e1 no longer timely


def test_mostly_swapped_coordinates_are_refused_half_are_counted():
    """More than half of the usable coordinates swapped: bad input; half: unlocatable."""
    data = events().iloc[[0, 2, 3, 4]].copy()
    half = data.copy()
    half.loc[[0, 2], ["lon", "lat"]] = half.loc[[0, 2], ["lat", "lon"]].to_numpy()
    assert compute(layer(), half).metrics["unlocatable"] == 2
    most = data.copy()
    most.loc[[0, 2, 3], ["lon", "lat"]] = most.loc[[0, 2, 3], ["lat", "lon"]].to_numpy()
    with pytest.raises(InputError, match=r"row 1: lon/lat look swapped \(3 of 4"):
        compute(layer(), most)


def test_library_bad_input_names_column_and_row():
    bad = events()
    bad.loc[4, "dispatched_at"] = T - H
    with pytest.raises(InputError, match=r"column 'dispatched_at', row 5: .*before"):
        compute(layer(), bad)
    bad = events()
    bad.loc[1, "closed_at"] = T - H
    with pytest.raises(InputError, match=r"column 'closed_at', row 2"):
        compute(layer(), bad)
    with pytest.raises(InputError, match="lat"):
        compute(layer(), events().drop(columns="lat"))


def test_text_columns_count_as_the_typed_ones():
    """An in-memory table of text, as typed into a notebook: blank lon/lat are
    unlocatable (and listed as null), 否 is not a valid complaint."""
    data = events()
    text = data.assign(
        lon=data["lon"].map(lambda v: "" if np.isnan(v) else repr(v)),
        lat=data["lat"].map(lambda v: "" if np.isnan(v) else repr(v)),
        valid_complaint=data["valid_complaint"].map({True: "是", False: "否"}))
    got = compute(layer(), text, period_end="2023-12-31", lang="en")
    want = compute(layer(), data, period_end="2023-12-31", lang="en")
    assert got.metrics["valid_complaints"] == 2
    assert got.to_dict() == want.to_dict()


# ------------------------------------------------------------------------------- CLI


@pytest.fixture
def files(tmp_path):
    """Layer as GeoPackage; events as CSV with Chinese headers and Chinese time formats."""
    layer().to_file(tmp_path / "grids.gpkg")
    data = events()
    text = pd.DataFrame({
        "工单编号": data["event_id"],
        "经度": data["lon"].map(lambda v: "" if np.isnan(v) else repr(v)),
        "纬度": data["lat"].map(lambda v: "" if np.isnan(v) else repr(v)),
        "上报时间": ["2023/5/1 8:00", "2023-05-01 08:00:00", "45047.3333333333"] * 3,
        "转派网格": data["assigned_grid_code"],
        "转派时间": data["dispatched_at"].dt.strftime("%Y-%m-%d %H:%M:%S"),
        "办结时间": data["closed_at"].dt.strftime("%Y/%m/%d %H:%M:%S"),
        "有效投诉": data["valid_complaint"].map({True: "是", False: "否"}),
    })
    text.to_csv(tmp_path / "events.csv", index=False)
    data.to_parquet(tmp_path / "events.parquet", row_group_size=4)
    return tmp_path


run = partial(run_cli, "events")


@pytest.mark.parametrize("name", ["events.csv", "events.parquet"])
def test_cli_json_and_joined_output(files, name):
    out = files / "joined.parquet"
    result = run(files / "grids.gpkg", files / name, "--period-end", "2023-12-31",
                 "--format", "json", "--out", out, "--chunk-rows", "4")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = compute(layer(), events(), period_end="2023-12-31").metrics
    assert {k: data[k] for k in expected} == pytest.approx(expected)
    assert data["by"] == "district" and data["parameters"]["period_end"] == "2023-12-31"
    joined = pd.read_parquet(out)
    assert joined.columns.tolist() == ["event_id", "grid_code", "status", "dispatched",
                                       "dispatch_correct", "timely", "closed_in_period",
                                       "valid_complaint"]
    assert len(joined) == 9 and joined["event_id"].tolist()[:2] == ["e1", "e2"]
    assert joined["status"].value_counts().to_dict() == {"located": 5, "unlocatable": 3,
                                                         "outside": 1}


@pytest.mark.parametrize("name", ["events.csv", "events.parquet"])
def test_cli_default_period_end(files, name):
    """From the Parquet statistics, or a first pass over a CSV: 31 Dec of the latest report."""
    result = run(files / "grids.gpkg", files / name, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["parameters"]["period_end"] == "2023-12-31"
    assert data["closure_rate"] == pytest.approx(4 / 9)


def test_cli_table_and_score_reads_json(files):
    result = run(files / "grids.gpkg", files / "events.csv")
    assert result.exit_code == 0, result.output
    assert "转派准确率" in result.stdout and "越秀区" in result.stdout
    assert "50.00%" in result.stdout
    as_json = run(files / "grids.gpkg", files / "events.csv", "--format", "json")
    (files / "events.json").write_text(as_json.stdout, encoding="utf-8")
    from gridkit.scoring import load_metrics

    metrics = load_metrics([files / "events.json"])
    assert metrics["dispatch_accuracy"] == pytest.approx(0.5)
    assert metrics["valid_complaints"] == 2


def test_cli_bad_input_exit_2(files):
    table = pd.read_csv(files / "events.csv", dtype=str, keep_default_na=False)
    cases = {
        "no_lat.csv": (table.drop(columns="纬度"), ["no_lat.csv", "lat"]),
        "text_lon.csv": (table.assign(经度=["113.0", "东经113"] + table["经度"].tolist()[2:]),
                         ["text_lon.csv: column 'lon', row 2"]),
        "early.csv": (table.assign(转派时间=["2023-04-30 08:00"] + table["转派时间"].tolist()[1:]),
                      ["early.csv: column 'dispatched_at', row 1", "before"]),
        "bad_time.csv": (table.assign(上报时间=table["上报时间"].tolist()[:3] + ["昨天"]
                                      + table["上报时间"].tolist()[4:]),
                         ["bad_time.csv: column 'reported_at', row 4"]),
    }
    for name, (frame, needles) in cases.items():
        frame.to_csv(files / name, index=False)
        result = run(files / "grids.gpkg", files / name, "--period-end", "2023-12-31")
        assert result.exit_code == 2, (name, result.output)
        for needle in needles:
            assert needle in result.output, (name, result.output)
    result = run(files / "grids.gpkg", files / "events.csv", "--out", files / "x.csv")
    assert result.exit_code == 2 and ".parquet" in result.output


@pytest.mark.parametrize("defects", [False, True])
def test_synth_truth(tmp_path, defects):
    """On gridkit synth output, both commands give the metrics recorded in truth.json."""
    synth = pytest.importorskip("gridkit.synth")
    synth.synthesize(tmp_path, grids=300, events=3000, seed=7, defects=defects,
                     districts=["440104", "440105"])
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    expected = truth["metrics"]
    params = truth["parameters"]
    coverage = run_cli(*[
        "coverage", str(tmp_path / "grids.gpkg"), "--filings", str(tmp_path / "filings.csv"),
        "--party", str(tmp_path / "party.csv"), "--cadres", str(tmp_path / "cadres.csv"),
        "--workers", str(tmp_path / "workers.csv"), "--format", "json"])
    assert coverage.exit_code == 0, coverage.output
    events_run = run_cli(*[
        "events", str(tmp_path / "grids.gpkg"), str(tmp_path / "events.parquet"),
        "--dispatch-sla", str(params["dispatch_sla_hours"]),
        "--period-end", params["period_end"], "--format", "json"])
    assert events_run.exit_code == 0, events_run.output
    got = {**json.loads(coverage.stdout), **json.loads(events_run.stdout)}
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key


# ---------------------------------------------------------------- hostile-input regressions


def test_cli_out_never_overwrites_an_input(files):
    """--out naming the events file is refused even with --force; input intact."""
    events_file = files / "events.parquet"
    before = events_file.read_bytes()
    result = run(files / "grids.gpkg", events_file, "--out", events_file, "--force",
                 "--period-end", "2023-12-31")
    assert result.exit_code == 2, result.output
    assert "overwrite the input" in result.output
    assert events_file.read_bytes() == before


@pytest.mark.parametrize("chunk_rows", ["3", "100"])
def test_cli_swapped_or_projected_file_is_refused_whatever_the_chunks(files, chunk_rows):
    """A file whose lon/lat are all swapped, or in metres, is bad input (exit 2 naming the
    row), not 100 % unlocatable; one such row among good ones is still just unlocatable."""
    table = pd.read_csv(files / "events.csv", dtype=str, keep_default_na=False)
    swapped = table.assign(经度=table["纬度"], 纬度=table["经度"])
    swapped.to_csv(files / "swapped.csv", index=False)
    metres = table.assign(经度=["423220.5"] * 9, 纬度=["2557258.1"] * 9)
    metres.to_csv(files / "metres.csv", index=False)
    for name, needle in (("swapped.csv", "look swapped"), ("metres.csv", "pass --crs 4547")):
        out = files / f"{name}.parquet"
        result = run(files / "grids.gpkg", files / name, "--period-end", "2023-12-31",
                     "--chunk-rows", chunk_rows, "--out", out)
        assert result.exit_code == 2, (name, result.output)
        assert f"{name}: row 1:" in result.output and needle in result.output
        assert len(result.output.strip().splitlines()) == 1
        assert not out.exists()
    # the hand-built file has one lat-95 row among nine: counted, whatever the chunking
    result = run(files / "grids.gpkg", files / "events.csv", "--period-end", "2023-12-31",
                 "--chunk-rows", chunk_rows, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["unlocatable"] == 3


def test_cli_header_only_file_names_the_file(files):
    (files / "header.csv").write_text("工单编号,经度,纬度,上报时间\n", encoding="utf-8")
    result = run(files / "grids.gpkg", files / "header.csv")
    assert result.exit_code == 2
    assert "header.csv: column 'reported_at'" in result.output and "--period-end" in result.output
    result = run(files / "grids.gpkg", files / "header.csv", "--period-end", "2023-12-31",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["events"] == 0


def test_period_end_datetime_keeps_its_time():
    """A datetime (YAML ``period_end: 2023-06-30 12:00``) is an instant, a date a whole day."""
    import datetime as dt

    assert resolve_period_end(dt.datetime(2023, 6, 30, 12)) == pd.Timestamp("2023-06-30 12:00")
    assert resolve_period_end(dt.date(2023, 6, 30)) == pd.Timestamp("2023-06-30 23:59:59.999999999")

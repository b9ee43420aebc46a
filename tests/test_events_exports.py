"""Work-order exports from other systems (issue 12, point 7) and grids with non-finite
vertices (point 8): date formats, time zones, bad rows, absent columns, extents.

Every fixture is built here: two 0.01° grids side by side in Guangzhou and small
hotline exports in the spelling of other systems.
"""

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely import Polygon, box

from gridkit.cli import cli
from gridkit.errors import InputError
from gridkit.events import EventGrids, EventParams, compute_events, join_events, type_events

A, B = "440104001001001", "440104001001002"
US = "%m/%d/%Y %I:%M:%S %p"
# NYC-311-like column names, mapped with --event-column
MAPPING = ["--event-column", "event_id=Unique Key", "--event-column", "reported_at=Created Date",
           "--event-column", "dispatched_at=Assigned Date", "--event-column",
           "closed_at=Closed Date", "--event-column", "lon=Longitude",
           "--event-column", "lat=Latitude"]


@pytest.fixture
def files(tmp_path):
    """``grids.gpkg``: only a code column (WGBM) and the geometry; events: none yet."""
    gpd.GeoDataFrame({"WGBM": [A, B]},
                     geometry=[box(113.0, 23.0, 113.01, 23.01), box(113.01, 23.0, 113.02, 23.01)],
                     crs=4490).to_file(tmp_path / "grids.gpkg")
    return tmp_path


def hotline(rows):
    """A US-style export: (key, created, assigned, closed, lon, lat) per row."""
    return pd.DataFrame(rows, columns=["Unique Key", "Created Date", "Assigned Date",
                                       "Closed Date", "Longitude", "Latitude"])


def run(files, events, *args):
    return CliRunner().invoke(cli, ["events", str(files / "grids.gpkg"), str(files / events),
                                    "--column", "grid_code=WGBM", "--column", "grid_name=WGBM",
                                    *MAPPING, "--format", "json", *map(str, args)])


def adds_up(data):
    """Every count adds up: per row and in total."""
    assert data["located"] + data["outside"] + data["unlocatable"] == data["events"]
    for row in data["rows"]:
        assert row["located"] + row["outside"] + row["unlocatable"] == row["events"]
    assert sum(r["events"] for r in data["rows"]) == data["events"]


def test_us_format_export_with_date_format(files):
    hotline([
        (1, "03/01/2011 02:27:57 PM", "03/01/2011 03:00:00 PM", "03/02/2011 09:00:00 AM",
         113.005, 23.005),  # A, dispatched in 33 min, closed
        (2, "03/01/2011 11:50:00 PM", "03/02/2011 03:00:00 AM", "", 113.015, 23.005),  # B, late
        (3, "12/31/2011 11:00:00 PM", "", "", 113.5, 23.5),  # outside
        (4, "06/15/2011 08:00:00 AM", "", "06/16/2011 08:00:00 AM", "", ""),  # unlocatable
    ]).to_csv(files / "hotline.csv", index=False)
    refused = run(files, "hotline.csv")
    assert refused.exit_code == 2
    assert "Created Date" not in refused.output and "reported_at" in refused.output
    assert "--date-format" in refused.output  # the message says how to fix it
    result = run(files, "hotline.csv", "--date-format", US)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    adds_up(data)
    assert (data["events"], data["located"], data["outside"], data["unlocatable"]) == (4, 2, 1, 1)
    assert data["dispatched"] == 2 and data["dispatch_timeliness"] == 0.5
    assert data["closure_rate"] == 0.5  # rows 1 and 4, by the end of 2011 (latest report)
    assert data["parameters"]["period_end"] == "2011-12-31"
    assert data["rejected"] == 0 and data["warnings"] == []
    # one source column filled two roles of the grids: the grid names are the codes
    by_grid = json.loads(run(files, "hotline.csv", "--date-format", US, "--by", "grid").stdout)
    assert [(r["code"], r["name"]) for r in by_grid["rows"][:2]] == [(A, A), (B, B)]
    # formats are tried in order: a second one reads the ISO rows of a mixed export
    mixed = hotline([(1, "2011-03-01 14:27:57", "", "", 113.005, 23.005),
                     (2, "03/01/2011 02:27:57 PM", "", "", 113.015, 23.005)])
    mixed.to_csv(files / "mixed.csv", index=False)
    both = run(files, "mixed.csv", "--date-format", US, "--date-format", "%Y-%m-%d %H:%M:%S")
    assert both.exit_code == 0, both.output
    assert json.loads(both.stdout)["located"] == 2


def test_placeholder_date_under_bad_rows_skip(files):
    hotline([
        (1, "03/01/2011 02:27:57 PM", "03/01/2011 03:00:00 PM", "03/02/2011 09:00:00 AM",
         113.005, 23.005),
        # closed before reported: a 1900-01-01 placeholder
        (2, "03/01/2011 03:00:00 PM", "03/01/2011 04:00:00 PM", "01/01/1900 12:00:00 AM",
         113.015, 23.005),
        # dispatched before reported, and a longitude that is not a number
        (3, "03/02/2011 08:00:00 AM", "03/01/2011 08:00:00 AM", "", "113,015", 23.005),
        (4, "03/03/2011 08:00:00 AM", "", "", 113.005, 23.005),
    ]).to_csv(files / "hotline.csv", index=False)
    refused = run(files, "hotline.csv", "--date-format", US)
    assert refused.exit_code == 2
    assert "column 'lon', row 3: '113,015' is not a number" in refused.output  # one line
    hotline([(2, "03/01/2011 03:00:00 PM", "03/01/2011 04:00:00 PM", "01/01/1900 12:00:00 AM",
              113.015, 23.005)]).to_csv(files / "placeholder.csv", index=False)
    placeholder = run(files, "placeholder.csv", "--date-format", US)
    assert placeholder.exit_code == 2
    assert "column 'closed_at', row 1: 1900-01-01 00:00:00 is before the report time" \
        in placeholder.output
    rejects = files / "rejects.csv"
    result = run(files, "hotline.csv", "--date-format", US, "--bad-rows", "skip",
                 "--rejects", rejects, "--lang", "en")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    adds_up(data)
    # nothing is lost: every row counted, rows 2 and 3 rejected
    assert (data["events"], data["located"], data["unlocatable"], data["rejected"]) == (4, 3, 1, 2)
    # row 2 keeps its dispatch (timely), loses only its closure; row 3 loses its dispatch
    assert data["dispatched"] == 2 and data["dispatch_timeliness"] == 1.0
    assert data["closure_rate"] == 0.25
    raw = rejects.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads it
    table = pd.read_csv(rejects, encoding="utf-8-sig", dtype=str)
    assert table.to_dict("list") == {
        "row": ["2", "3", "3"], "column": ["closed_at", "dispatched_at", "lon"],
        "value": ["01/01/1900 12:00:00 AM", "03/01/2011 08:00:00 AM", "113,015"],
        "reason": ["before the report time (reported_at)", "before the report time (reported_at)",
                   "not a number"]}
    again = run(files, "hotline.csv", "--date-format", US, "--bad-rows", "skip",
                "--rejects", rejects)
    assert again.exit_code == 2 and "--force" in again.output  # an output is not overwritten


def test_offset_timestamps_under_tz(files):
    """-05:00 times: in New York time with --tz, in Beijing time by default (13 h apart)."""
    pd.DataFrame({
        "Unique Key": [1, 2],
        "Created Date": ["2011-03-01T14:27:57-05:00", "2011-03-01T20:00:00-05:00"],
        "Assigned Date": ["2011-03-01T20:00:00+00:00", "2011-03-01T21:00:00-05:00"],
        "Closed Date": ["2011-03-01T23:30:00-05:00", "2011-03-02T01:00:00-05:00"],
        "Longitude": [113.005, 113.015], "Latitude": [23.005, 23.005],
    }).to_csv(files / "offsets.csv", index=False)
    local = json.loads(run(files, "offsets.csv", "--tz", "America/New_York",
                           "--period-end", "2011-03-01").stdout)
    adds_up(local)
    assert local["dispatch_timeliness"] == 1.0  # 20:00 UTC is 15:00 in New York
    assert local["closure_rate"] == 0.5  # closed by the end of 1 March, New York time
    beijing = json.loads(run(files, "offsets.csv", "--period-end", "2011-03-01").stdout)
    assert beijing["dispatch_timeliness"] == 1.0  # durations do not depend on the zone
    assert beijing["closure_rate"] == 0.0  # 23:30 in New York is 2 March in Beijing
    bad = run(files, "offsets.csv", "--tz", "Mars/Olympus")
    assert bad.exit_code == 2 and "Mars/Olympus" in bad.output


def test_type_events_naive_times_are_in_the_zone_offsets_converted():
    chunk = pd.DataFrame({"reported_at": ["2011-03-01 14:00", "2011-03-01T14:00:00Z"]})
    typed = type_events(chunk, EventParams(tz="America/New_York"))
    assert typed["reported_at"].dt.strftime("%H:%M").tolist() == ["14:00", "09:00"]
    with pytest.raises(InputError, match=r"column 'reported_at', row 2: cannot read"):
        type_events(pd.DataFrame({"reported_at": ["03/01/2011 02:27:57 PM", "yesterday"]}),
                    EventParams(date_formats=[US]))


def test_absent_optional_column_is_null_not_zero(files):
    pd.DataFrame({"Unique Key": [1, 2], "Created Date": ["2011-03-01 14:00"] * 2,
                  "Longitude": [113.005, 113.015], "Latitude": [23.005, 23.005]}
                 ).to_csv(files / "bare.csv", index=False)
    mapping = ["--event-column", "event_id=Unique Key", "--event-column",
               "reported_at=Created Date", "--column", "grid_code=WGBM"]
    args = ["events", str(files / "grids.gpkg"), str(files / "bare.csv"), *mapping]
    data = json.loads(CliRunner().invoke(cli, [*args, "--format", "json"]).stdout)
    adds_up(data)
    for key in ("dispatched", "dispatch_accuracy", "dispatch_timeliness", "closure_rate",
                "valid_complaints"):
        assert data[key] is None, key
        assert all(row[key] is None for row in data["rows"]), key
    assert data["unavailable"]["closure_rate"] == ["closed_at"]
    assert data["unavailable"]["dispatch_accuracy"] == ["assigned_grid_code", "dispatched_at"]
    assert data["located"] == 2  # the join itself needs none of them
    table = CliRunner().invoke(cli, [*args, "--lang", "en"])
    assert table.exit_code == 0, table.output
    assert "closure rate —" in table.stdout
    assert "Note: closure rate cannot be computed: the events file has no column closed_at" \
        in table.stdout


def test_layers_that_do_not_overlap_exit_2_and_write_nothing(files):
    events = pd.DataFrame({"event_id": ["e1", "e2"], "lon": [116.40, 116.41],
                           "lat": [39.90, 39.91], "reported_at": ["2023-05-01 08:00"] * 2})
    events.to_csv(files / "beijing.csv", index=False)
    out = files / "joined.parquet"
    result = CliRunner().invoke(cli, ["events", str(files / "grids.gpkg"),
                                      str(files / "beijing.csv"), "--column", "grid_code=WGBM",
                                      "--out", str(out)])
    assert result.exit_code == 2
    assert "do not overlap" in result.output and "116.4" in result.output \
        and "113" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_fewer_than_one_percent_located_warns_naming_both_extents(files):
    # 1 of 200 located; the others in a cluster that touches the grids' extent
    lon = np.r_[113.005, np.full(199, 113.0199)]
    lat = np.r_[23.005, np.linspace(23.0101, 23.02, 199)]
    pd.DataFrame({"event_id": range(200), "lon": lon, "lat": lat,
                  "reported_at": "2023-05-01 08:00"}).to_csv(files / "few.csv", index=False)
    args = ["events", str(files / "grids.gpkg"), str(files / "few.csv"),
            "--column", "grid_code=WGBM", "--lang", "en"]
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["located"], data["outside"]) == (1, 199)
    (warning,) = data["warnings"]
    assert "only 1 of the 200 events" in warning
    assert "the events span x 113.005–113.02" in warning and "the grids x 113–113.02" in warning
    assert "Warning: only 1 of the 200" in result.stderr
    enough = pd.DataFrame({"event_id": range(2), "lon": [113.005, 113.5], "lat": [23.005] * 2,
                           "reported_at": "2023-05-01 08:00"})
    enough.to_csv(files / "half.csv", index=False)
    quiet = CliRunner().invoke(cli, ["events", str(files / "grids.gpkg"), str(files / "half.csv"),
                                     "--column", "grid_code=WGBM", "--format", "json"])
    assert json.loads(quiet.stdout)["warnings"] == []


def non_finite_layer():
    nan, inf = float("nan"), float("inf")
    return gpd.GeoDataFrame(
        {"grid_code": [A, B, "440104001001003"]},
        geometry=[box(113.0, 23.0, 113.01, 23.01),
                  Polygon([(113.01, 23.0), (113.02, 23.0), (nan, 23.01), (113.01, 23.01)]),
                  Polygon([(113.02, 23.0), (113.03, 23.0), (inf, 23.01), (113.02, 23.01)])],
        crs=4490)


def test_grid_with_non_finite_vertices_is_left_out_with_a_warning(files):
    layer = non_finite_layer()
    events = pd.DataFrame({"event_id": ["e1", "e2", "e3"], "lon": [113.005, 113.015, 113.025],
                           "lat": [23.005] * 3,
                           "reported_at": pd.to_datetime(["2023-05-01"] * 3)})
    grids = EventGrids(layer, method="raster")  # the lookup raster is built at once
    assert grids.non_finite == [B, "440104001001003"]
    result = compute_events(layer, events, EventParams(method="raster", by="grid"))
    assert (result.metrics["located"], result.metrics["outside"]) == (1, 2)
    assert result.in_language("en").warnings == [
        f"grid(s) {B}, 440104001001003 have NaN or infinite coordinates and were left out "
        "of the join"]
    with warnings.catch_warnings():  # GEOS may warn about the NaN; the file holds it as is
        warnings.simplefilter("ignore", RuntimeWarning)
        layer.to_file(files / "nan.gpkg")
    events.to_parquet(files / "e.parquet")
    cli_run = CliRunner().invoke(cli, ["events", str(files / "nan.gpkg"),
                                       str(files / "e.parquet"), "--lang", "en"])
    assert cli_run.exit_code == 0, cli_run.output
    assert f"Warning: grid(s) {B}, 440104001001003" in cli_run.stderr


def test_library_entry_point_takes_the_same_options(files):
    hotline([(1, "03/01/2011 02:27:57 PM", "", "01/01/1900 12:00:00 AM", 113.005, 23.005)]
            ).to_csv(files / "hotline.csv", index=False)
    layer = gpd.read_file(files / "grids.gpkg").rename(columns={"WGBM": "grid_code"})
    columns = dict(pair.split("=") for pair in MAPPING[1::2])
    params = EventParams(columns=columns, date_formats=[US], bad_rows="skip")
    result = join_events(layer, files / "hotline.csv", params)
    assert result.metrics["rejected"] == 1 and result.metrics["located"] == 1
    assert result.rejects[["row", "column", "reason"]].values.tolist() == \
        [[1, "closed_at", "before_reported_at"]]
    with pytest.raises(InputError, match="bad-rows"):
        EventParams(bad_rows="ignore")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_one_events_column_fills_two_roles(files, suffix):
    """A system that records one time for report and dispatch: both roles from one column
    (Parquet reads only the selected columns: the shared source must be among them)."""
    data = pd.DataFrame({"id": ["e1", "e2"], "x": [113.005, 113.015], "y": [23.005] * 2,
                         "t": ["2023-05-01 08:00", "2023-05-01 09:00"], "other": [1, 2]})
    path = files / f"one{suffix}"
    data.to_csv(path, index=False) if suffix == ".csv" else data.to_parquet(path)
    result = CliRunner().invoke(cli, [
        "events", str(files / "grids.gpkg"), str(path), "--column", "grid_code=WGBM",
        "--event-column", "event_id=id", "--event-column", "lon=x", "--event-column", "lat=y",
        "--event-column", "reported_at=t", "--event-column", "dispatched_at=t",
        "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["located"], data["dispatched"], data["dispatch_timeliness"]) == (2, 2, 1.0)
    assert data["parameters"]["period_end"] == "2023-12-31"

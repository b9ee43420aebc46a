"""The metric catalogue: one place for labels, kinds and formatting, read by every consumer."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely import box

from gridkit.cli import cli
from gridkit.coverage import compute_coverage
from gridkit.errors import InputError
from gridkit.maps import coverage_map
from gridkit.metrics import (
    METRIC_GROUPS,
    METRIC_KINDS,
    METRICS,
    Metric,
    format_value,
    label,
    map_scheme,
    mapped_metrics,
    table_columns,
)
from gridkit.report import table
from gridkit.scoring import parse_config, score

CODES = ["440104001001001", "440104001001002", "440104001002001"]


def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"grid_code": CODES, "grid_name": ["甲", "乙", "丙"],
         "community_code": [c[:12] for c in CODES], "households": [100.0, 250.0, 300.0]},
        geometry=[box(113.30 + i * 0.01, 23.10, 113.31 + i * 0.01, 23.11) for i in range(3)],
        crs=4490)


def workers() -> pd.DataFrame:
    return pd.DataFrame({"person_id": ["p1", "p2"], "name": ["张三", "李四"],
                         "kind": ["full_time", "part_time"], "grid_code": CODES[:2]})


def test_catalogue_entries_are_complete_and_distinct():
    assert all(m.kind in METRIC_KINDS and m.group in METRIC_GROUPS and m.zh and m.en
               for m in METRICS.values())
    assert all(key == m.key for key, m in METRICS.items())
    assert len({m.zh for m in METRICS.values()}) == len(METRICS)
    assert len({m.en for m in METRICS.values()}) == len(METRICS)
    # Every rate a map can draw is classed as a rate; a lower-is-better ratio as a load.
    assert {map_scheme(k) for k in mapped_metrics() if METRICS[k].kind == "rate"} == {"rate"}
    assert map_scheme("households_per_fulltime_worker") == "load"


@pytest.mark.parametrize(("value", "key", "compact", "text"), [
    (0.98765, "filing_rate", False, "98.77%"),
    (0.98765, "filing_rate", True, "98.8%"),
    (1.0, "closure_rate", False, "100.00%"),
    (12345, "events", False, "12,345"),
    (np.int64(7), "valid_complaints", False, "7"),
    (1234.56, "households_per_fulltime_worker", False, "1,234.6"),
    (None, "filing_rate", False, "-"),
    (math.nan, "events", False, "-"),
    ("越秀区", "name", False, "越秀区"),
    (3, "code", False, "3"),
    (True, "rate", False, "True"),
])
def test_one_formatter(value, key, compact, text):
    assert format_value(value, key, compact=compact) == text


def test_missing_text_is_the_callers():
    assert format_value(None, "rate", missing=None) is None
    assert format_value(float("nan"), "count", missing="无数据") == "无数据"


def test_labels_and_columns():
    assert label("filing_rate", "zh") == "备案率" and label("filing_rate", "en") == "filing rate"
    assert label("code", "zh") == "编码" and label("not_a_metric", "zh") == "not_a_metric"
    assert table_columns("events", summary=True) == (
        "code", "name", "grids", "events", "located", "outside", "unlocatable", "dispatched",
        "dispatch_accuracy", "dispatch_timeliness", "closure_rate", "valid_complaints")
    with pytest.raises(ValueError, match="unknown metric group"):
        table_columns("roster")


def test_a_metric_added_to_the_catalogue_reaches_tables_maps_and_report(tmp_path, monkeypatch):
    """Adding a metric is one catalogue entry: the CLI table, the map and the report show it.

    ``households`` is a column the coverage computation already yields but the
    catalogue does not list; once listed, every consumer labels and formats it.
    """
    layer = grids()
    layer.to_file(tmp_path / "grids.gpkg", driver="GPKG")
    workers().to_csv(tmp_path / "workers.csv", index=False)
    args = ["coverage", str(tmp_path / "grids.gpkg"), "--workers", str(tmp_path / "workers.csv"),
            "--by", "grid"]
    before = CliRunner().invoke(cli, args)
    assert before.exit_code == 0, before.output
    assert "服务户数合计" not in before.stdout

    monkeypatch.setitem(METRICS, "households", Metric(
        "households", "服务户数合计", "households served", "count", "coverage", map_rank=9))
    after = CliRunner().invoke(cli, args)
    assert after.exit_code == 0, after.output
    header = after.stdout.splitlines()[0]
    assert "服务户数合计" in header and "250" in after.stdout

    rows = compute_coverage(layer, workers=workers(), by="grid").rows
    gmap = coverage_map(layer, rows, ["households"], names={CODES[0][:12]: "一社区"})
    theme = gmap.themes[0]
    assert theme.name == "服务户数合计"
    assert ("t_households", "服务户数合计") in theme.tooltip
    shown = gmap.sources[theme.source]
    assert sorted(shown["t_households"].dropna()) == ["100", "250", "300"]

    html = str(table(rows.to_dict("records"), table_columns("coverage"), "en"))
    assert '<th class="num">households served</th>' in html and ">250<" in html


def test_scorer_names_the_metric_meant():
    indicator = {"id": "f", "name": "备案率", "points": 100, "method": "positive",
                 "target": 0.9, "metric": "filing_rat"}
    config = parse_config({"title": "t", "parts": [{"name": "p", "weight": 1.0, "groups": [
        {"name": "g", "indicators": [indicator]}]}]})
    with pytest.raises(InputError, match="did you mean 'filing_rate'"):
        score(config, {"filing_rate": 0.95})

"""Severity and level names come from one table (``gridkit.i18n``): the validate table, the
Excel sheets, the maps and the report all show what it says."""

from __future__ import annotations

import geopandas as gpd
from shapely import box

import gridkit.i18n
import gridkit.maps.model
from gridkit.cli.validate_cmd import render_text
from gridkit.i18n import LEVEL_NAMES, SEVERITY_NAMES, level_name, severity_name
from gridkit.validate import validate
from gridkit.workbook import metrics_tables, validation_tables

COMM = "440104001001"


def _overlapping():
    return gpd.GeoDataFrame(
        {"grid_code": [f"{COMM}001", f"{COMM}002"], "grid_name": ["一", "二"],
         "community_code": [COMM] * 2},
        geometry=[box(430_000, 2_560_000, 430_120, 2_560_100),
                  box(430_100, 2_560_000, 430_200, 2_560_100)], crs=4547)


def test_one_table_names_severities_everywhere(monkeypatch):
    monkeypatch.setitem(SEVERITY_NAMES, "error", ("严重错误", "severe"))
    result = validate(_overlapping(), lang="zh")
    assert result.by_rule["overlap"] == 1
    assert "严重错误" in render_text(result, "zh")
    sheets = validation_tables(result.to_dict(), "zh")
    shown = {row.get("severity") for table in sheets for row in table.rows}
    assert "严重错误" in shown and "错误" not in shown
    assert severity_name("error", "en") == "severe" and severity_name(None, "zh") == "-"
    # the maps read the same table (not a copy)
    assert gridkit.maps.model.SEVERITY_NAMES is gridkit.i18n.SEVERITY_NAMES


def test_one_table_names_levels_everywhere(monkeypatch):
    monkeypatch.setitem(LEVEL_NAMES, "street", ("街道（镇）", "street or town"))
    sheets = metrics_tables({"by": "street", "rows": [{"code": "440104001", "name": "北京街"}]},
                            "coverage", "en")
    assert sheets[0].title == "By street or town"
    assert level_name("street", "zh") == "街道（镇）" and level_name("zone", "en") == "zone"
    assert gridkit.maps.model.LEVEL_NAMES is gridkit.i18n.LEVEL_NAMES

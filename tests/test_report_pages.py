"""A report of a layer too large for one browser page: overviews and district pages."""

from __future__ import annotations

import re

from helpers.mappage import parse_map

from gridkit.data import data_path
from gridkit.io import read_layer
from gridkit.maps import pages, simplify_grids
from gridkit.report import write_report

SAMPLE = data_path("sample")
_HREF = re.compile(r'<a href="([^"]+)" target="_top">')


def test_large_layer_report_embeds_overviews_linking_district_pages(tmp_path, monkeypatch):
    monkeypatch.setattr(pages, "MAX_GRIDS_PER_PAGE", 10)
    out = tmp_path / "report.html"
    result = write_report(SAMPLE / "project.yaml", out)
    drawn = simplify_grids(read_layer(SAMPLE / "grids.gpkg"))
    districts = sorted(drawn["grid_code"].str.slice(0, 6).unique())
    folder = tmp_path / "report-maps"
    split = ("grids", "coverage", "events")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in result.district_pages) == sorted(
        f"report-maps/{kind}/{d}.html" for kind in split for d in districts)
    report = out.read_text(encoding="utf-8")
    for kind in split:
        # each district page draws its district's grids and links back to the report
        for district in districts:
            text = (folder / kind / f"{district}.html").read_text(encoding="utf-8")
            page = parse_map(text)
            assert len(page.features(page.layers[0])) == int(
                drawn["grid_code"].str.startswith(district).sum())
            assert _HREF.findall(text) == ["../../report.html"]
        # the report's overview links each of them (from the report's folder)
        for district in districts:
            assert f"report-maps/{kind}/{district}.html" in report
    assert not (folder / "findings").exists()  # findings and changes are never split


def test_small_layer_report_writes_no_pages(tmp_path):
    result = write_report(SAMPLE / "project.yaml", tmp_path / "report.html")
    assert result.district_pages == [] and not (tmp_path / "report-maps").exists()

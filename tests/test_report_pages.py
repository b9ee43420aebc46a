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


def test_links_work_whatever_the_report_is_called(tmp_path, monkeypatch):
    """'#', '?', '%', '&' and spaces in the report's name are percent-encoded in links."""
    import html
    import urllib.parse

    monkeypatch.setattr(pages, "MAX_GRIDS_PER_PAGE", 10)
    out = tmp_path / "年报#1 a&b%.html"
    result = write_report(SAMPLE / "project.yaml", out)
    assert result.district_pages
    for page in result.district_pages:
        (back,) = _HREF.findall(page.read_text(encoding="utf-8"))
        assert (page.parent / urllib.parse.unquote(html.unescape(back))).resolve() == out
    report = out.read_text(encoding="utf-8")
    linked = {urllib.parse.unquote(html.unescape(h)) for h in _HREF.findall(report)}
    assert linked and all((tmp_path / h).is_file() for h in linked)


def test_grid_changes_name_the_communities_that_left_the_layer(tmp_path):
    """A removed grid's community is named although no grid of the layer is in it."""
    from gridkit.report import analyse, load_project

    grids = read_layer(SAMPLE / "grids.gpkg")
    gone = grids["community_code"].iloc[0]
    grids[grids["community_code"] != gone].to_file(tmp_path / "grids.gpkg")
    (tmp_path / "project.yaml").write_text(
        f"grids: grids.gpkg\nprevious_grids: {SAMPLE / 'grids.gpkg'}\n"
        f"codes: {data_path('guangzhou-divisions-2023.csv')}\nchanged_on: 2023-07-01\n",
        encoding="utf-8")
    analysis = analyse(load_project(tmp_path / "project.yaml"))
    assert analysis.names.get(gone)

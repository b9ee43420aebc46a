"""Layers too large for one page: an overview of communities and one grid page per district.

``gridkit map grids|coverage|events --max-grids-per-page N`` with a tiny N on
the packaged sample (2 districts, 67 communities): the pages exist, every
link resolves to a file, each district page holds only its district's grids,
the overview draws communities only; names are escaped; outputs are checked
before anything is written. Also the parallel, district-chunked coverage
simplification of large layers (:func:`gridkit.maps.simplify_grids`): still
a coverage, no gap opened between chunks.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest
import shapely
from helpers.chromium import Chromium, chromium_or_skip
from helpers.cli import run_cli
from helpers.mappage import parse_map

import gridkit.maps.builders
from gridkit.data import data_path
from gridkit.io import read_layer
from gridkit.maps import (
    grids_map,
    names_lookup,
    paged_map,
    render_map,
    roll_up_rows,
    simplify_grids,
    write_district_pages,
)
from gridkit.maps.pipeline import MapSettings, one_or_paged

SAMPLE = data_path("sample")
ROSTERS = [a for k in ("filings", "party", "workers") for a in (f"--{k}", str(SAMPLE / f"{k}.csv"))]
ARGS = {"grids": [], "coverage": ROSTERS, "events": [str(SAMPLE / "events.parquet")]}
_HREF = re.compile(r'<a href="([^"]+)" target="_top">')


def _write(kind: str, folder: Path, *extra: str):
    out = folder / f"{kind}.html"
    result = run_cli("map", kind, str(SAMPLE / "grids.gpkg"), *ARGS[kind], "--out", out,
                     "--max-grids-per-page", "10", *extra)
    return out, result


def _codes(page, layer) -> list[str]:
    label = next(label for key, label in page.layers[0].spec["tip"])
    return [html.unescape(f["properties"][html.unescape(label)]) for f in page.features(layer)]


@pytest.fixture(scope="module")
def grids():
    return read_layer(SAMPLE / "grids.gpkg")


@pytest.fixture(scope="module")
def drawn(grids):
    """The grids a map draws (the sample has grids without a polygon: not drawn)."""
    return simplify_grids(grids)


@pytest.mark.parametrize("kind", ["grids", "coverage", "events"])
def test_overview_links_district_pages_of_their_grids_only(kind, tmp_path, drawn):
    out, result = _write(kind, tmp_path, "--format", "json")
    assert result.exit_code == 0, result.output
    folder = tmp_path / kind
    districts = sorted(drawn["grid_code"].str.slice(0, 6).unique())
    assert sorted(p.name for p in folder.iterdir()) == [f"{d}.html" for d in districts]
    overview_text = out.read_text(encoding="utf-8")
    overview = parse_map(overview_text)
    # The panel links every district page, and each link resolves to a file.
    links = _HREF.findall(overview_text)
    assert sorted(links) == [f"{kind}/{d}.html" for d in districts]
    assert all((tmp_path / href).is_file() for href in links)
    # The overview draws communities, never a grid; a click on one opens its district.
    shown = overview.layers[0]
    features = overview.features(shown)
    communities = set(drawn["community_code"])
    assert len(features) == len(communities)
    href_key = shown.spec["href"]
    for feature in features:
        code = next(v for k, v in feature["properties"].items() if v in communities)
        assert feature["properties"][href_key] == f"{kind}/{code[:6]}.html"
    assert "按社区汇总" in overview.footer
    assert "简化容差 25 m" in overview.footer  # communities simplified 5× the grids' 5 m
    for district in districts:
        page_text = (folder / f"{district}.html").read_text(encoding="utf-8")
        page = parse_map(page_text)
        codes = _codes(page, page.layers[0])
        assert sorted(codes) == sorted(drawn.loc[drawn["grid_code"].str.startswith(district),
                                                 "grid_code"])
        assert _HREF.findall(page_text) == [f"../{kind}.html"]


def test_coverage_overview_rates_are_the_communities_own(tmp_path, grids):
    """The overview's rate of a community is its numerator over its denominator."""
    out, result = _write("coverage", tmp_path)
    assert result.exit_code == 0, result.output
    overview = parse_map(out.read_text(encoding="utf-8"))
    party = pd.read_csv(SAMPLE / "party.csv", dtype=str)
    with_party = set(party["grid_code"]) & set(grids["grid_code"])
    per_community = grids.assign(p=grids["grid_code"].isin(with_party)).groupby(
        "community_code")["p"].mean()
    layer = next(x for x in overview.layers if x.name == "党组织覆盖率")
    for feature in overview.features(layer):
        props = feature["properties"]
        code = props["社区编码"]
        assert props["党组织覆盖率"] == f"{per_community[code]:.1%}", code


def test_no_pages_under_the_limit(tmp_path):
    out = tmp_path / "grids.html"
    result = run_cli("map", "grids", str(SAMPLE / "grids.gpkg"), "--out", out,
                     "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"pages": []' in result.output
    assert not (tmp_path / "grids").exists()
    assert not _HREF.findall(out.read_text(encoding="utf-8"))


def test_existing_page_needs_force_and_nothing_is_written(tmp_path):
    (tmp_path / "grids").mkdir()
    (tmp_path / "grids" / "440104.html").write_text("old", encoding="utf-8")
    out, result = _write("grids", tmp_path)
    assert result.exit_code == 2, result.output
    assert "440104.html" in result.output and "--force" in result.output
    assert not out.exists()
    assert (tmp_path / "grids" / "440104.html").read_text(encoding="utf-8") == "old"
    out, result = _write("grids", tmp_path, "--force")
    assert result.exit_code == 0, result.output
    assert "gk_source" in (tmp_path / "grids" / "440104.html").read_text(encoding="utf-8")


def test_png_of_a_split_layer_is_refused(tmp_path):
    out, result = _write("grids", tmp_path, "--png")
    assert result.exit_code == 2
    assert "--max-grids-per-page" in result.output
    assert not out.exists() and not (tmp_path / "grids").exists()


def test_district_names_and_page_names_are_escaped(grids):
    evil = "<img src=x onerror=alert(1)>区"
    simplified = simplify_grids(grids)
    codes = grids["grid_code"].str.slice(0, 6)
    # A non-statistical district code: the page is named by position, not by the code.
    odd = grids.assign(district_code=codes.replace("440103", "../x"),
                       community_code=grids["community_code"].str.slice(6),
                       grid_code=grids["grid_code"].str.slice(6))
    drawn = simplified.assign(district_code=odd["district_code"].reindex(simplified.index),
                              community_code=odd["community_code"].reindex(simplified.index),
                              grid_code=odd["grid_code"].reindex(simplified.index))
    names = {"../x": evil, "440104": evil}
    pages = paged_map(odd, drawn, "m",
                      lambda: grids_map(odd, simplified=drawn, level="community", names=names),
                      lambda part, d: grids_map(part, simplified=d, names=names), names=names)
    assert sorted(p.href for p in pages.districts) == ["m/440104.html", "m/district-1.html"]
    for gmap in (pages.overview, *(p.gmap for p in pages.districts)):
        text = render_map(gmap, offline=True)
        assert evil not in text
        assert html.escape(evil) in text or "\\u003cimg" in text


def test_pages_of_an_embedded_overview_link_back_to_the_document(tmp_path, grids):
    """A report embeds the overview and writes the district pages in a folder of its own."""
    settings = MapSettings(names_lookup(), max_grids_per_page=10,
                           pages_folder="report-maps/grids", overview_href="../../report.html")
    pages = one_or_paged(grids, settings,
                         lambda d: grids_map(grids, simplified=d, **settings.overview_options()),
                         lambda part, d: grids_map(part, simplified=d,
                                                   **settings.builder_options()))
    written = write_district_pages(pages, tmp_path, offline=True)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "report-maps/grids/440103.html", "report-maps/grids/440104.html"]
    for path in written:
        assert _HREF.findall(path.read_text(encoding="utf-8")) == ["../../report.html"]
    assert _HREF.findall(render_map(pages.overview, offline=True)) == [
        "report-maps/grids/440103.html", "report-maps/grids/440104.html"]


def test_roll_up_sums_counts_and_recomputes_rates(grids):
    rows = pd.DataFrame({"code": grids["grid_code"], "grids": 1,
                         "events": range(len(grids)),
                         "dispatch_correct": 1, "located_dispatched": 2,
                         "dispatch_accuracy": 0.5})
    rolled = roll_up_rows(rows, grids).set_index("code")
    expected = rows.assign(c=grids["community_code"]).groupby("c")["events"].sum()
    assert rolled["events"].to_dict() == expected.to_dict()
    assert (rolled["dispatch_accuracy"] == 0.5).all()
    assert rolled["grids"].sum() == len(grids)


def test_parallel_simplification_keeps_a_coverage(monkeypatch, grids):
    """District chunks simplified apart: no overlap, no gap between chunks."""
    # The sample's defects (overlaps, slivers) left out: the rest is a valid coverage.
    clean = grids.loc[shapely.is_empty(shapely.coverage_invalid_edges(grids.geometry.values))
                      & shapely.is_valid(grids.geometry.values)]
    grids = clean.loc[shapely.get_type_id(clean.geometry.values) == 3]
    assert shapely.coverage_is_valid(grids.geometry.values)
    single = simplify_grids(grids)
    monkeypatch.setattr(gridkit.maps.builders, "PARALLEL_SIMPLIFY_GRIDS", 1)
    monkeypatch.setattr(gridkit.maps.builders.os, "sched_getaffinity", lambda _: {0, 1})
    chunked = simplify_grids(grids)
    geoms = chunked.geometry.values
    assert not shapely.equals(geoms, single.geometry.values).all()  # the borders stayed
    assert shapely.coverage_is_valid(geoms)
    union = shapely.coverage_union_all(geoms)
    original = shapely.coverage_union_all(grids.to_crs(4326).geometry.values)
    assert shapely.get_num_geometries(union) == shapely.get_num_geometries(original)
    holes = sum(shapely.get_num_interior_rings(p) for p in shapely.get_parts(union))
    assert holes == sum(shapely.get_num_interior_rings(p)
                        for p in shapely.get_parts(original))
    # The border between the two districts is the original one on both sides.
    districts = chunked["grid_code"].str.slice(0, 6).to_numpy()
    a = shapely.coverage_union_all(geoms[districts == "440103"])
    b = shapely.coverage_union_all(geoms[districts == "440104"])
    assert shapely.area(shapely.intersection(a, b)) == pytest.approx(0, abs=1e-12)


#: Non-transparent pixels sampled on the overlay canvas (0 until something is drawn).
PAINTED_JS = """
(() => { let n = 0;
  document.querySelectorAll('.leaflet-overlay-pane canvas').forEach((c) => {
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < px.length; i += 4 * 13) { if (px[i]) { n += 1; } } });
  return n > 0 && {n: n, links: document.querySelectorAll('.gk-links a').length}; })()
"""


def test_overview_and_a_district_page_draw_in_chromium(tmp_path):
    browser = chromium_or_skip()
    out, result = _write("coverage", tmp_path)
    assert result.exit_code == 0, result.output
    with Chromium(browser) as chromium:
        for path, links in ((out, 2), (tmp_path / "coverage" / "440104.html", 1)):
            page = chromium.open(path.as_uri())
            state = page.wait_for(PAINTED_JS)
            assert state, f"{path.name} not drawn ({page.errors})"
            assert not page.errors, page.errors
            assert state["links"] == links

"""gridkit.report, ``gridkit report`` and ``gridkit demo``.

``gridkit demo`` runs once per module on the packaged sample (gridkit/data/sample,
353 grids, 30,000 work orders, injected defects); the tests read its
report back: summary cards against the generator's own expected metrics
(``truth.json``), the 99.2 / 优 score of the seed, validation counts, the
coverage and work-order tables, the five embedded maps (parsed like in
tests/test_maps.py) and the data sources. A second, small project built in
code (English, hostile names) covers escaping and optional inputs. When
Chromium is installed the report is opened headless: no console error and
every map drawn (without a browser the test skips, or fails under
``GRIDKIT_REQUIRE_CHROMIUM=1``, as ``.ci/run`` sets).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil

import geopandas as gpd
import pandas as pd
import pytest
from helpers.chromium import ALL_MAPS_DRAWN_JS, MAPS_STATE_JS, Chromium, chromium_or_skip
from helpers.cli import run_cli
from helpers.mappage import parse_map, unshare
from helpers.maps_data import CODES, EVIL, EVIL_ESCAPED, X0, Y0, layer
from shapely import box

import gridkit.report
from gridkit.data import SAMPLE_DIR, data_path
from gridkit.errors import InputError
from gridkit.report import load_project
from gridkit.report.pdf import find_chromium

SAMPLE = SAMPLE_DIR
TRUTH = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))


run = run_cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """``gridkit demo --format json`` on the sample: (folder, its JSON, the report's text)."""
    folder = tmp_path_factory.mktemp("demo")
    result = run_cli("demo", "--out", folder, "--format", "json")
    assert result.exit_code == 0, result.output
    return folder, json.loads(result.stdout), (folder / "report.html").read_text("utf-8")


def section(text: str, name: str) -> str:
    """The HTML of one report section, map iframes left out."""
    body = re.search(rf'<section id="{name}">(.*?)\n</section>', text, re.S).group(1)
    return re.sub(r"srcdoc='[^']*'", "srcdoc=''", body)


def cells(fragment: str) -> list[list[str]]:
    """Text of each table row's cells (header rows included)."""
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)) for c in
             re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", fragment)]


def embedded_maps(text: str) -> dict[str, str]:
    """Caption → the map page of each ``<iframe srcdoc>``, the geometry it shares
    with the others (written once in the report) put back in."""
    found = re.search(r"<script>var gkShared = (\[.*?\]);</script>", text)
    shared = json.loads(found.group(1)) if found else []
    return {html.unescape(title): unshare(html.unescape(doc), shared) for title, doc in
            re.findall(r"""<iframe title="([^"]*)" srcdoc='([^']*)'></iframe>""", text)}


# ---------------------------------------------------------------------------- gridkit demo


def test_demo_writes_the_report_and_every_map(demo):
    folder, info, _ = demo
    assert info["path"] == str(folder / "report.html")
    assert info["maps"] == ["grids", "findings", "coverage", "events", "diff"]
    assert info["total"] == 99.2 and info["grade"] == "优"
    assert info["bytes"] == (folder / "report.html").stat().st_size
    for kind in info["maps"]:
        assert info["map_files"][kind] == str(folder / f"{kind}.html")
    # Word always (python-docx is a dependency), PDF only when Chromium is found.
    documents = ["report.docx", *(["report.pdf"] if find_chromium() else [])]
    assert sorted(p.name for p in folder.iterdir()) == sorted([
        "coverage.html", "diff.html", "events.html", "findings.html", "grids.html",
        "report.html", *documents])
    assert info["docx"] == str(folder / "report.docx")


def test_report_summary_and_score(demo):
    _, info, text = demo
    title = "广州市城市社区网格化服务管理项目绩效评价（示例数据）"
    assert f"<title>{title}</title>" in text and f"<h1>{title}</h1>" in text
    assert "2023 年度 · 项目文件 project.yaml" in text
    cards = dict((label, value) for value, label in re.findall(
        r'<div class="card"><b>(.*?)</b><span>(.*?)</span></div>', text))
    m = TRUTH["metrics"]  # what the generator made, computed apart from gridkit
    assert cards["综合网格"] == f"{m['grids']:,}" and cards["区"] == "2"
    assert cards["备案率"] == f"{m['filing_rate']:.2%}"
    assert cards["党组织覆盖率"] == f"{m['party_coverage']:.2%}"
    assert cards["专职网格员覆盖率"] == f"{m['fulltime_worker_coverage']:.2%}"
    assert cards["工单"] == f"{m['events']:,}"
    assert cards["转派准确率"] == f"{m['dispatch_accuracy']:.2%}"
    assert cards["数据质量错误 / 警告"] == f"{info['errors']} / {info['warnings']}"
    assert cards["综合得分 / 等级"] == "99.2 / 优"
    score = section(text, "score")
    assert "总分 99.2，等级 优" in score
    parts = cells(score[score.index("gridkit-score-parts"):])
    assert parts[1:] == [["项目管理", "0.4", "98", "100", "39.2"],
                         ["项目结果", "0.6", "100", "100", "60"]]
    indicators = cells(score[:score.index("gridkit-score-parts")])
    assert len(indicators) == 1 + 17
    filing = next(r for r in indicators if r[2] == "综合网格备案率")
    assert filing[5] == f"{round(m['filing_rate'] * 100, 2):g}%" and filing[6] == "20"


def test_report_validation_section(demo):
    _, info, text = demo
    body = section(text, "validation")
    assert f"共检查网格 {TRUTH['metrics']['grids']:,} 个" in body
    assert f"错误 {info['errors']} 条，警告 {info['warnings']} 条。" in body
    rows = cells(body[:body.index("</table>")])
    assert rows[0] == ["规则", "检查项", "级别", "问题数"]
    by_rule = {r[0]: r for r in rows[1:]}
    assert by_rule["overlap"][1:3] == ["网格重叠", "错误"]
    assert by_rule["layer_offset"][2:] == ["-", "0"]
    errors = sum(int(r[3]) for r in rows[1:] if r[2] == "错误")
    warnings = sum(int(r[3]) for r in rows[1:] if r[2] == "警告")
    assert (errors, warnings) == (info["errors"], info["warnings"])
    for defect in TRUTH["defects"]:
        if defect["rule"] != "layer_offset":
            assert int(by_rule[defect["rule"]][3]) >= 1, defect
    listed = cells(body[body.index("<details>"):])
    assert len(listed) - 1 == info["errors"] + info["warnings"]
    area = next(r for r in listed if r[0] == "网格重叠")[3]
    assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d", area), area  # formatted, not 17593.92092…


def test_report_coverage_and_events_tables(demo):
    _, _, text = demo
    coverage = section(text, "coverage")
    rows = cells(coverage[:coverage.index("</table>")])
    assert rows[0] == ["编码", "名称", "网格数", "备案率", "党组织覆盖率", "包联干部覆盖率",
                       "专职网格员覆盖率", "每名专职网格员服务户数"]
    assert [r[:2] for r in rows[1:]] == [["440103", "荔湾区"], ["440104", "越秀区"]]
    assert sum(int(r[2]) for r in rows[1:]) == 353
    assert all(re.fullmatch(r"\d+\.\d\d%", v) for r in rows[1:] for v in r[3:7])
    streets = cells(coverage[coverage.index("<details>"):coverage.index("</details>")])
    assert len(streets) - 1 == 40 and "按街道（40 个）" in coverage
    problems = cells(coverage[coverage.index("</details>"):])
    assert problems[0] == ["数据", "说明", "条数", "示例"]
    assert any(r[0] == "网格备案" and "不在网格图层中" in r[1] and "第 " in r[3]
               for r in problems[1:])
    events = section(text, "events")
    assert "转派时限 2 小时；办结统计截至 2023-12-31" in events
    rows = cells(events[:events.index("</table>")])
    assert rows[0][:4] == ["编码", "名称", "网格数", "事件数"]
    assert "转派准确率" in rows[0] and "办结率" in rows[0]
    header = rows[0]
    total = {name: sum(int(r[header.index(name)].replace(",", "")) for r in rows[1:])
             for name in ("事件数", "已定位", "网格外", "无法定位")}
    m = TRUTH["metrics"]
    assert total == {"事件数": m["events"], "已定位": m["located"], "网格外": m["outside"],
                     "无法定位": m["unlocatable"]}
    assert rows[-1][:2] == ["-", "不在任何网格"]


def test_report_embeds_every_map(demo):
    folder, _, text = demo
    maps = embedded_maps(text)
    assert len(maps) == 5
    pages = {kind: parse_map(doc) for kind, doc in zip(("grids", "findings", "diff", "coverage",
                                                        "events"), maps.values())}
    for kind, page in pages.items():  # the same pages as the files the demo wrote
        assert page.text == (folder / f"{kind}.html").read_text(encoding="utf-8")
        assert "Leaflet 1.9.4" in page.text and "简化容差 5 m" in page.footer
    assert pages["grids"].overlays == ["网格", "街道界", "区界"]
    assert len(pages["grids"].features("网格")) == 351  # two defects have no polygon
    rules = [x for x in pages["findings"].layers if x.count is not None]
    assert len(rules) >= 15 and {x.group for x in rules} == {"划分", "编码", "上图"}
    overlaps = pages["findings"].layer("网格重叠")
    # Each overlap is drawn with a marker on it; the panel gives their number.
    assert len(pages["findings"].features(overlaps)) == 2 * overlaps.count > 0
    assert pages["coverage"].overlays[0] == "党组织覆盖率"
    assert pages["events"].overlays == ["事件数", "转派准确率", "街道界", "区界", "工单热力图"]


#: Changes of gridkit/data/sample/last-year.gpkg → grids.gpkg (see tools/make_last_year.py).
SAMPLE_CHANGES = {"unchanged": 337, "recoded": 2, "reshaped": 2, "split": 3, "merged": 2,
                  "redrawn": 1, "added": 2, "removed": 1}


def test_report_grid_changes_section(demo):
    _, info, text = demo
    assert info["changes"] == SAMPLE_CHANGES
    body = section(text, "changes")
    assert "<h2>四、网格调整（与上年度图层比较）</h2>" in body
    assert "上年度图层网格 351 个，本年度 353 个；调整 13 处，未变 337 个。" in body
    rows = cells(body[:body.index("</table>")])
    assert rows[0] == ["变化", "名称", "数量"]
    assert {r[0]: int(r[2]) for r in rows[1:]} == SAMPLE_CHANGES
    assert dict(r[:2] for r in rows[1:])["split"] == "拆分"
    listed = cells(body[body.index("<details>"):body.index("</details>")])
    assert "调整清单（13 处）" in body and len(listed) - 1 == 13
    assert [r[0] for r in listed[1:]].count("拆分") == 3
    # the re-filing list agrees with gridkit diff run on the same files
    result = run_cli("diff", SAMPLE / "last-year.gpkg", SAMPLE / "grids.gpkg", "--filings",
                     SAMPLE / "filings.csv", "--changed-on", "2023-07-01", "--format", "json")
    refile = json.loads(result.stdout)["refile"]
    assert f"需重新备案的网格 {len(refile)} 个（调整的网格中，2023-07-01 以后无备案的）" in body
    work = cells(body[body.rindex("<details>"):])
    assert [r[0] for r in work[1:]] == [r["grid_code"] for r in refile] and refile
    caption = "图：网格调整（按变化类型分图层，悬停查看原编码 → 新编码）"
    page = parse_map(embedded_maps(text)[caption])
    assert [(n, page.layer(n).count) for n in page.overlays[:8]] == list(zip(
        ("未变", "改编码", "调整边界", "拆分", "合并", "重新划分", "新增", "撤销"),
        SAMPLE_CHANGES.values()))
    assert len(page.features("拆分")) == 3


def test_long_change_lists_are_capped(monkeypatch, tmp_path):
    monkeypatch.setattr(gridkit.report.rendering, "MAX_LISTED_CHANGES", 5)
    out = gridkit.report.write_report(SAMPLE / "project.yaml", tmp_path / "r.html")
    body = section(out.path.read_text(encoding="utf-8"), "changes")
    assert "调整清单（列出 5 处，等 13 处）" in body
    assert "重新备案清单（列出 5 个，等 7 个）" in body
    lists = re.findall(r"<details>(.*?)</details>", body, re.S)
    assert [len(cells(fragment)) - 1 for fragment in lists] == [5, 5]


def test_report_is_self_contained(demo):
    _, _, text = demo
    outside = re.sub(r"srcdoc='[^']*'", "srcdoc=''", text)
    # The one script outside the maps is the data of the grids they share, written once.
    shared = re.findall(r"<script>var gkShared = \[.*?\];</script>", outside)
    assert len(shared) == 1 and text.count("gk.share(parent.gkShared[0]") == 3
    outside = outside.replace(shared[0], "")
    assert "<script" not in outside and "<link" not in outside
    for doc in embedded_maps(text).values():
        assert not re.search(r"<script[^>]*\bsrc=|<link\b", doc)
        assert "tileLayer(" not in doc


def test_demo_default_folder_is_replaced_on_a_new_run(demo, tmp_path, monkeypatch):
    """``gridkit demo`` twice just works: maps/ is the demo's own folder, not a user path."""
    folder, _, _ = demo
    shutil.copytree(folder, tmp_path / "maps")
    (tmp_path / "maps" / "report.html").write_text("old", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_cli("demo", "--format", "json")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "maps" / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE")


def test_report_data_sources(demo):
    _, _, text = demo
    rows = cells(section(text, "sources"))
    assert rows[0] == ["数据", "文件", "记录数", "大小", "修改时间"]
    files = {r[1]: r for r in rows[1:]}
    assert files["grids.gpkg"][0] == "综合网格图层" and files["grids.gpkg"][2] == "353"
    assert files["events.parquet"][2] == "30,000"
    assert files["../evaluation-template.yaml"][2] == "17"
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", r[4]) for r in rows[1:])


def test_demo_refuses_to_overwrite(demo):
    folder, _, text = demo
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    result = run_cli("demo", "--out", folder)
    assert result.exit_code == 2 and "use --force" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    assert (folder / "report.html").read_text(encoding="utf-8") == text


# ------------------------------------------------------------------ a small hostile project


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The 12-grid layer of test_maps (g5 named ``<img …>``) with rosters and work orders."""
    folder = tmp_path_factory.mktemp("small")
    layer().to_file(folder / "grids.gpkg")
    pd.DataFrame({"grid_code": CODES, "filed_on": "2023-01-01",
                  "status": ["filed"] * 11 + ["pending"]}).to_csv(folder / "filings.csv",
                                                                  index=False)
    for kind, columns in (("party", {"org_id": "o", "org_name": EVIL, "org_type": "党支部"}),
                          ("cadres", {"person_id": "c", "name": "甲", "role": "干部"}),
                          ("workers", {"person_id": "w", "name": "乙", "kind": "full_time"})):
        pd.DataFrame({**{k: [f"{v}{i}" if k.endswith("id") else v for i in range(10)]
                         for k, v in columns.items()},
                      "grid_code": CODES[:10]}).to_csv(folder / f"{kind}.csv", index=False)
    t = pd.Timestamp("2023-05-01 08:00")
    pd.DataFrame({"event_id": ["e1", "e2", "e3", "e4"],
                  "lon": [X0 + 0.001, X0 + 0.0012, X0 + 0.012, 0.0],
                  "lat": [Y0 - 0.001, Y0 - 0.0012, Y0 - 0.012, 0.0], "reported_at": [t] * 4,
                  "assigned_grid_code": [CODES[0], CODES[1], CODES[10], None],
                  "dispatched_at": [t, t, t, pd.NaT], "closed_at": [t, t, pd.NaT, pd.NaT],
                  "valid_complaint": [False] * 4}).to_parquet(folder / "events.parquet")
    evaluation = os.path.relpath(data_path("evaluation-template.yaml"), folder)
    (folder / "project.yaml").write_text(
        f"title: 'Grid report {EVIL}'\nperiod: '2023'\ngrids: grids.gpkg\n"
        "filings: filings.csv\nparty: party.csv\ncadres: cadres.csv\nworkers: workers.csv\n"
        f"events: events.parquet\nevaluation: {evaluation}\ncrs: 4490\ntolerance_m: 2\n",
        encoding="utf-8")
    out = folder / "report.html"
    result = run_cli("report", folder / "project.yaml", "--out", out, "--lang", "en")
    assert result.exit_code == 0, result.output
    return folder, result.output, out.read_text(encoding="utf-8")


def test_english_report_of_a_small_project(small):
    _, output, text = small
    assert "total / grade: " in output and "report: " in output
    assert '<html lang="en">' in text
    assert "<h2>1. Summary</h2>" in text and "<h2>2. Evaluation score</h2>" in text
    cards = dict((label, value) for value, label in re.findall(
        r'<div class="card"><b>(.*?)</b><span>(.*?)</span></div>', text))
    assert cards["grids"] == "12" and cards["filing rate"] == f"{11 / 12:.2%}"
    assert cards["work orders"] == "4" and cards["dispatch accuracy"] == "66.67%"
    assert re.fullmatch(r"[\d.]+ / [优良中差]", cards["total / grade"])
    maps = [parse_map(doc) for doc in embedded_maps(text).values()]
    assert [m.title for m in maps] == ["Grids", "Validation findings", "Coverage",
                                      "Work orders"]
    assert all("simplification tolerance 2 m" in m.footer for m in maps)
    assert "1. Summary" in text and "Data sources" in text
    assert '<section id="changes">' not in text  # no previous_grids: no grid-changes section


def test_hostile_strings_are_escaped_in_the_report(small):
    _, _, text = small
    assert EVIL not in text  # not in the page, not in any srcdoc (escaped twice there)
    assert f"<title>Grid report {EVIL_ESCAPED}</title>" in text
    grids = parse_map(next(iter(embedded_maps(text).values())))
    assert EVIL not in grids.text
    assert grids.features("Grids")[5]["properties"]["Grid name"] == EVIL_ESCAPED


# ------------------------------------------------------------------------ project files


@pytest.mark.parametrize(("content", "needle"), [
    ("grids: grids.gpkg\ncolour: red\n", "unknown key 'colour'"),
    ("title: x\n", "names no 'grids' layer"),
    ("grids: nowhere.gpkg\n", "grids: nowhere.gpkg not found"),
    ("grids: [grids.gpkg\n", "not valid YAML"),
    ("- grids.gpkg\n", "must be a YAML mapping"),
    ("grids: grids.gpkg\ndispatch_sla: soon\n", "'dispatch_sla' must be a number"),
    # hostile values: refused at once, naming the key, never a traceback
    ("grids: grids.gpkg\ndispatch_sla: -5\n", "'dispatch_sla' must be a number ≥ 0"),
    ("grids: grids.gpkg\ndispatch_sla: .nan\n", "'dispatch_sla' must be a number ≥ 0"),
    ("grids: grids.gpkg\ndispatch_sla: .inf\n", "'dispatch_sla' must be a number ≥ 0"),
    ("grids: grids.gpkg\ntolerance_m: -1\n", "'tolerance_m' must be a number ≥ 0"),
    ("grids: grids.gpkg\nperiod_end: 2023-13-45\n", "month must be in 1..12"),
    ("grids: grids.gpkg\nperiod_end: soon\n", "period_end: cannot read 'soon'"),
    ("grids: grids.gpkg\nevents_crs: gcj03\n", "events_crs: unknown CRS 'gcj03'"),
    ("grids: grids.gpkg\nmetric_crs: metres\n", "metric_crs: unknown CRS"),
    ("grids: grids.gpkg\nprevious_grids: 2022.gpkg\n", "previous_grids: 2022.gpkg not found"),
    ("grids: grids.gpkg\nchanged_on: soon\n", "changed_on: 'soon' is not a date"),
    ("grids: !!python/object/apply:os.system ['echo pwned']\n", "not valid YAML"),
])
def test_bad_project_file_exit_2(tmp_path, content, needle):
    project = tmp_path / "project.yaml"
    project.write_text(content, encoding="utf-8")
    (tmp_path / "grids.gpkg").write_bytes(b"")
    out = tmp_path / "report.html"
    result = run_cli("report", project, "--out", out)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(project) in lines[0] and needle in lines[0], lines
    assert not out.exists()


@pytest.mark.parametrize(("layer", "needle"), [
    (None, "previous_grids: "),  # not a layer at all
    ("no_codes", "previous_grids: missing"),  # no grid_code column
])
def test_unusable_previous_layer_exit_2(small, tmp_path, layer, needle):
    folder, _, _ = small
    previous = tmp_path / "last-year.gpkg"
    if layer is None:
        previous.write_bytes(b"not a GeoPackage")
    else:
        gpd.GeoDataFrame({"name": ["a"]}, geometry=[box(X0, Y0 - 0.01, X0 + 0.01, Y0)],
                         crs=4490).to_file(previous)
    project = tmp_path / "project.yaml"
    project.write_text(f"grids: {folder / 'grids.gpkg'}\nprevious_grids: last-year.gpkg\n"
                       "changed_on: 2023-07-01\n", encoding="utf-8")
    out = tmp_path / "report.html"
    result = run_cli("report", project, "--out", out)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and str(previous) in lines[0], lines
    assert not out.exists()


def test_missing_project_file_and_binary_project_file(tmp_path):
    result = run_cli("report", tmp_path / "none.yaml")
    assert result.exit_code == 2 and "project file not found" in result.output
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00grids")
    result = run_cli("report", tmp_path / "bin.yaml", "--out", tmp_path / "r.html")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1


def test_report_refuses_to_overwrite(small):
    folder, _, text = small
    result = run_cli("report", folder / "project.yaml", "--out", folder / "report.html")
    assert result.exit_code == 2 and "use --force" in result.output
    assert (folder / "report.html").read_text(encoding="utf-8") == text


def test_report_never_overwrites_an_input_even_with_force(small):
    """--out naming the project file or one of its inputs is refused; both stay intact."""
    folder, _, _ = small
    for name in ("project.yaml", "grids.gpkg", "party.csv"):
        before = (folder / name).read_bytes()
        result = run_cli("report", folder / "project.yaml", "--out", folder / name, "--force")
        assert result.exit_code == 2 and "overwrite the input" in result.output, result.output
        assert (folder / name).read_bytes() == before


def test_project_period_end_with_a_time_is_kept(tmp_path):
    """YAML reads ``2023-06-30 12:00:00`` as a datetime: an instant, not the whole day."""
    (tmp_path / "grids.gpkg").write_bytes(b"")
    project = tmp_path / "project.yaml"
    project.write_text("grids: grids.gpkg\nperiod_end: 2023-06-30 12:00:00\n", encoding="utf-8")
    from gridkit.events import resolve_period_end

    end = resolve_period_end(load_project(project).period_end)
    assert end == pd.Timestamp("2023-06-30 12:00")
    project.write_text("grids: grids.gpkg\nperiod_end: 2023-06-30\n", encoding="utf-8")
    end = resolve_period_end(load_project(project).period_end)
    assert end == pd.Timestamp("2023-06-30 23:59:59.999999999")


def test_load_project_resolves_paths_and_settings(tmp_path):
    shutil.copy(SAMPLE / "project.yaml", tmp_path / "project.yaml")
    with pytest.raises(InputError, match="not found"):
        load_project(tmp_path / "project.yaml")  # the inputs are next to the original
    project = load_project(SAMPLE / "project.yaml")
    assert project.inputs["grids"] == (SAMPLE / "grids.gpkg").resolve()
    assert project.inputs["codes"] == data_path("guangzhou-divisions-2023.csv").resolve()
    assert project.dispatch_sla == 2.0 and project.tolerance_m == 5.0
    assert str(project.period_end) == "2023-12-31" and project.crs is None


# ------------------------------------------------------------------- headless Chromium


def test_report_in_headless_chromium(demo, tmp_path):
    folder, _, _ = demo
    with Chromium(chromium_or_skip()) as browser:
        page = browser.open((folder / "report.html").as_uri())
        # Maps draw on their canvas in animation frames after the load event.
        state = page.wait_for(ALL_MAPS_DRAWN_JS)
        assert page.errors == []
        assert state and len(state) == 5, page.evaluate(MAPS_STATE_JS)
        for frame in state:
            assert frame["leaflet"] and frame["map"], frame
            assert frame["features"] > 0 and frame["painted"] > 100, frame
            assert "简化容差" in frame["footer"]
        grids, findings, changes, coverage, events = state
        assert grids["overlays"] == ["网格", "街道界", "区界"]
        assert grids["features"] == 351 + 40 + 2
        assert grids["legends"] == ["网格"]
        assert coverage["legends"] == ["党组织覆盖率"]  # only the layer shown on opening
        assert events["legends"] == ["事件数"] and "工单热力图" in events["overlays"]
        assert findings["groups"] == ["边界", "划分", "编码", "上图"]
        assert len(findings["overlays"]) >= 17 and findings["legends"] == []
        assert changes["groups"] == ["网格调整", "边界"]
        assert changes["legends"] == []
        shot = page.screenshot(tmp_path / "report.png", width=1280, height=1800)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_online_report_with_a_gcj02_basemap(small, tmp_path):
    folder, _, _ = small
    out = gridkit.report.write_report(folder / "project.yaml", tmp_path / "r.html",
                                      offline=False, basemap="amap")
    docs = embedded_maps(out.path.read_text(encoding="utf-8"))
    assert len(docs) == 4 and out.maps == ["grids", "findings", "coverage", "events"]
    for doc in docs.values():
        assert '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js">' in doc
        assert "autonavi.com" in doc and "叠加图层已转为 GCJ-02" in parse_map(doc).footer
    with pytest.raises(InputError, match="offline"):
        gridkit.report.write_report(folder / "project.yaml", tmp_path / "x.html",
                                    basemap="osm")

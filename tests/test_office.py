"""Office outputs: Excel workbooks (validate, coverage, events, score) and CSV with a BOM.

Every workbook is opened again with openpyxl: sheet names and headers in
Chinese (English with ``--lang en``), codes stored as text, rates as numbers
with a percent format, one findings row per JSON finding, a frozen header,
an autofilter, and input strings that look like formulas stored as text.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import openpyxl
import pytest
from helpers.chromium import chromium_or_skip
from helpers.cli import run_cli

from gridkit.data import data_path
from gridkit.io.xlsx import Column, Table, Typed, excel_text, write_workbook

SAMPLE = data_path("sample")
SEED = data_path("evaluation-2023.yaml")
GRIDKIT = (sys.executable, "-c", "from gridkit.cli import main; main()")
ROSTERS = ("--filings", SAMPLE / "filings.csv", "--party", SAMPLE / "party.csv",
           "--cadres", SAMPLE / "cadres.csv", "--workers", SAMPLE / "workers.csv")


def header(sheet) -> list:
    return [c.value for c in sheet[1]]


def column(sheet, name: str) -> list:
    """The cells of the column headed ``name``, header excluded."""
    j = header(sheet).index(name)
    return [row[j] for row in sheet.iter_rows(min_row=2)]


def check_layout(sheet) -> None:
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref.startswith("A1:")
    assert all(c.font.bold for c in sheet[1])


# ---------------------------------------------------------------------------- validate


@pytest.fixture(scope="module")
def validation(tmp_path_factory):
    """``gridkit validate`` on the sample: the workbook and the JSON of the same run."""
    folder = tmp_path_factory.mktemp("validate")
    args = (SAMPLE / "grids.gpkg", "--communities", SAMPLE / "communities.gpkg",
            "--reference", SAMPLE / "reference.gpkg")
    out = folder / "校验.xlsx"
    result = run_cli("validate", *args, "--format", "xlsx", "--out", out)
    assert result.exit_code == 1, result.output  # the sample has injected errors
    assert "几何无效" in result.output  # the human table is printed
    data = json.loads(run_cli("validate", *args, "--format", "json").stdout)
    return openpyxl.load_workbook(out), data


def test_validate_workbook_summary_by_rule(validation):
    book, data = validation
    assert book.sheetnames == ["汇总", "问题清单"]
    summary = book["汇总"]
    check_layout(summary)
    assert header(summary) == ["规则", "规则名称", "级别", "问题数", "说明"]
    counts = {r: c.value for r, c in zip((c.value for c in column(summary, "规则")),
                                         column(summary, "问题数"))}
    assert counts == data["by_rule"]
    assert column(summary, "规则名称")[0].value == "几何无效"


def test_validate_workbook_one_row_per_finding(validation):
    book, data = validation
    sheet = book["问题清单"]
    check_layout(sheet)
    assert header(sheet)[:6] == ["规则", "规则名称", "级别", "网格编码", "面积(平方米)", "说明"]
    assert sheet.max_row - 1 == len(data["findings"]) > 0
    assert [c.value for c in column(sheet, "规则")] == [f["rule"] for f in data["findings"]]
    codes = column(sheet, "网格编码")
    first = next(c for c, f in zip(codes, data["findings"]) if f["grid_codes"])
    assert first.data_type == "s" and first.number_format == "@"
    assert first.value.split("; ")[0] == data["findings"][codes.index(first)]["grid_codes"][0]
    assert {c.value for c in column(sheet, "级别")} == {"错误", "警告"}
    # The WKT is there for GIS users but hidden: it is long and unreadable.
    wkt = header(sheet).index("几何(WKT, EPSG:4490)")
    letter = openpyxl.utils.get_column_letter(wkt + 1)
    assert sheet.column_dimensions[letter].hidden
    assert any(str(c.value).startswith(("POLYGON", "MULTIPOLYGON"))
               for c in column(sheet, "几何(WKT, EPSG:4490)"))


def test_validate_format_xlsx_needs_an_xlsx_out(tmp_path):
    result = run_cli("validate", SAMPLE / "grids.gpkg", "--format", "xlsx")
    assert result.exit_code == 2 and "--out FILE.xlsx" in result.output
    result = run_cli("validate", SAMPLE / "grids.gpkg", "--format", "xlsx",
                 "--out", tmp_path / "x.gpkg")
    assert result.exit_code == 2 and not (tmp_path / "x.gpkg").exists()
    result = run_cli("validate", SAMPLE / "grids.gpkg", "--out", tmp_path / "x.txt")
    assert result.exit_code == 2 and ".xlsx" in result.output


# ---------------------------------------------------------------------------- coverage, events


def test_coverage_workbook(tmp_path):
    out = tmp_path / "覆盖.xlsx"
    result = run_cli("coverage", SAMPLE / "grids.gpkg", *ROSTERS, "--by", "street", "--out", out)
    assert result.exit_code == 0, result.output
    data = json.loads(run_cli("coverage", SAMPLE / "grids.gpkg", *ROSTERS, "--by", "street",
                          "--format", "json").stdout)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["按街道", "合计", "数据问题"]
    units = book["按街道"]
    check_layout(units)
    assert header(units)[:5] == ["编码", "名称", "网格数", "已备案网格", "备案率"]
    codes = column(units, "编码")
    assert [c.value for c in codes] == [r["code"] for r in data["rows"]]
    assert all(c.data_type == "s" and len(c.value) == 9 for c in codes)
    rates = column(units, "备案率")
    assert all(isinstance(c.value, float | int) and c.number_format.endswith("%") for c in rates)
    assert [c.value for c in rates] == pytest.approx([r["filing_rate"] for r in data["rows"]])
    totals = book["合计"]
    assert totals.max_row == 2
    assert column(totals, "备案率")[0].value == pytest.approx(data["filing_rate"])
    assert column(totals, "备案率")[0].number_format == "0.00%"
    problems = book["数据问题"]
    assert problems.max_row - 1 == len(data["findings"])
    assert column(problems, "数据")[0].value == "网格备案"


def test_events_workbook_in_english(tmp_path):
    out = tmp_path / "events.xlsx"
    result = run_cli("events", SAMPLE / "grids.gpkg", SAMPLE / "events.parquet", "--lang", "en",
                 "--format", "xlsx", "--out", out)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["By district", "Totals", "Data problems"]
    totals = book["Totals"]
    assert header(totals)[:4] == ["events", "located", "outside", "unlocatable"]
    (row,) = totals.iter_rows(min_row=2, values_only=True)
    located, outside, unlocatable = row[1:4]
    assert located + outside + unlocatable == row[0] == 30_000
    accuracy = column(totals, "dispatch accuracy")[0]
    assert 0.9 < accuracy.value < 1 and accuracy.number_format == "0.00%"
    assert column(totals, "period end")[0].value == "2023-12-31"
    units = book["By district"]
    assert sum(c.value for c in column(units, "events")) == row[0]


def test_events_xlsx_out_never_replaces_an_input(tmp_path):
    target = tmp_path / "events.xlsx"
    target.write_bytes(b"not a workbook")
    result = run_cli("events", SAMPLE / "grids.gpkg", SAMPLE / "events.parquet", "--out", target)
    assert result.exit_code == 2 and "--force" in result.output
    assert target.read_bytes() == b"not a workbook"


# ---------------------------------------------------------------------------- score


def test_score_workbook_of_the_seed(tmp_path):
    out = tmp_path / "评分.xlsx"
    result = run_cli("score", SEED, "--out", out)
    assert result.exit_code == 0 and "99.2" in result.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["指标得分", "汇总"]
    indicators = book["指标得分"]
    check_layout(indicators)
    assert indicators.max_row - 1 == 17
    assert sum(c.value for c in column(indicators, "得分")) == pytest.approx(198)
    targets = [c for c in column(indicators, "目标值") if c.value is not None]
    assert any(c.number_format == "0.00%" and c.value == pytest.approx(0.9) for c in targets)
    deducted = [c.value for c in column(indicators, "扣分原因") if c.value]
    assert any("政策调整" in text for text in deducted)
    summary = book["汇总"]
    assert [c.value for c in column(summary, "部分")] == ["项目管理", "项目结果", "总分"]
    assert column(summary, "加权得分")[-1].value == pytest.approx(99.2)
    assert column(summary, "等级")[-1].value == "优"


def test_score_workbook_neutralises_formulas(tmp_path):
    config = tmp_path / "evil.yaml"
    config.write_text(
        "title: t\nparts:\n  - name: '=HYPERLINK(\"http://x\",\"y\")'\n    weight: 1\n"
        "    groups:\n      - name: '+1+1'\n        indicators:\n"
        "          - {id: a, name: '@SUM(A1)', points: 100, method: manual, score: 90, "
        "reason: \"-2+3\\x07bell\"}\n", encoding="utf-8")
    out = tmp_path / "evil.xlsx"
    result = run_cli("score", config, "--format", "xlsx", "--out", out)
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out)["指标得分"]
    cells = {c.value: c for c in sheet[2] if isinstance(c.value, str)}
    for text in ('=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)", "-2+3bell"):
        assert cells[text].data_type == "s" and cells[text].quotePrefix, text
    assert "<f>" not in _sheet_xml(out, 1)


def _sheet_xml(path, n: int) -> str:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return archive.read(f"xl/worksheets/sheet{n}.xml").decode("utf-8")


# ---------------------------------------------------------------------------- the writer


def test_writer_types_widths_and_escaping(tmp_path):
    columns = [Column("code", "网格编码", "code"), Column("name", "名称"),
               Column("rate", "备案率", "percent"), Column("mixed", "值", "number"),
               Column("wkt", "WKT", hidden=True)]
    rows = [{"code": 440104001001001, "name": "=cmd|' /C calc'!A0", "rate": 0.5,
             "mixed": Typed(0.25, "percent"), "wkt": "x" * 40_000},
            {"code": "440104001001002", "name": "越秀区\x00\x1f", "rate": float("nan"),
             "mixed": 3}]
    path = write_workbook(tmp_path / "t.xlsx", [Table("a/b:c*" + "长" * 40, columns, rows)])
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert sheet.title == ("a_b_c_" + "长" * 40)[:31]
    assert sheet["A2"].value == "440104001001001" and sheet["A2"].data_type == "s"
    assert sheet["B2"].data_type == "s" and sheet["B2"].quotePrefix
    assert sheet["B3"].value == "越秀区"
    assert sheet["C2"].value == 0.5 and sheet["C2"].number_format == "0.00%"
    assert sheet["C3"].value is None  # NaN: empty, not an error value
    assert sheet["D2"].number_format == "0.00%" and sheet["D3"].number_format == "General"
    assert len(sheet["E2"].value) == 32_767  # Excel's cell limit
    assert sheet.column_dimensions["E"].hidden
    # CJK text counts double: the name column is wider than its 8 ASCII-width header.
    assert sheet.column_dimensions["A"].width >= 17
    assert write_workbook  # the function is exported
    with pytest.raises(Exception, match="force"):
        write_workbook(path, [])


def test_excel_text_keeps_newlines_and_tabs():
    assert excel_text("a\tb\nc\x0b") == "a\tb\nc"


# ---------------------------------------------------------------------------- CSV BOM


def test_csv_into_a_file_starts_with_a_bom(tmp_path):
    out = tmp_path / "score.csv"
    with out.open("wb") as stdout:
        subprocess.run([*GRIDKIT, "score", str(SEED),
                        "--format", "csv"], stdout=stdout, check=True)
    assert out.read_bytes().startswith(b"\xef\xbb\xbfkind,part,")
    piped = subprocess.run([*GRIDKIT, "score", str(SEED),
                            "--format", "csv"], capture_output=True, check=True)
    assert piped.stdout.startswith(b"kind,part,")
    coverage = tmp_path / "coverage.csv"
    with coverage.open("wb") as stdout:
        subprocess.run([*GRIDKIT, "coverage", str(SAMPLE / "grids.gpkg"), "--workers",
                        str(SAMPLE / "workers.csv"), "--format", "csv"], stdout=stdout,
                       check=True)
    assert coverage.read_text(encoding="utf-8-sig").startswith("code,name,grids,")
    assert coverage.read_bytes().startswith(b"\xef\xbb\xbf")
    result = run_cli("score", SEED, "--format", "csv", "--out", tmp_path / "s.csv")
    assert result.exit_code == 0
    assert (tmp_path / "s.csv").read_bytes().startswith(b"\xef\xbb\xbfkind,")


# ---------------------------------------------------------------------------- Word


@pytest.fixture(scope="module")
def seed_project(tmp_path_factory):
    """The sample's inputs scored with the seed's own tree (data/evaluation-2023.yaml)."""
    folder = tmp_path_factory.mktemp("project")
    text = (SAMPLE / "project.yaml").read_text(encoding="utf-8")
    lines = [f"{key}: {SAMPLE / value.strip()}" if key in (
        "grids", "communities", "reference", "filings", "party", "cadres", "workers", "events",
        "previous_grids")
             else line for line in text.splitlines()
             for key, _, value in [line.partition(": ")]]
    lines = [line for line in lines if not line.startswith(("codes:", "evaluation:", "title:"))]
    lines += [f"evaluation: {SEED}", 'title: "评价报告 <b>&amp;\\x01"']  # YAML escape
    project = folder / "project.yaml"
    project.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return project


@pytest.fixture(scope="module")
def word(seed_project, tmp_path_factory):
    """``gridkit report --docx`` alone: (the document, the command's JSON)."""
    import docx

    out = tmp_path_factory.mktemp("word") / "报告.docx"
    result = run_cli("report", seed_project, "--docx", out, "--format", "json")
    assert result.exit_code == 0, result.output
    return docx.Document(str(out)), json.loads(result.stdout)


def test_docx_alone_writes_no_html(word, seed_project):
    _, info = word
    assert info["path"] is None and info["docx"].endswith("报告.docx") and info["pdf"] is None
    assert not (seed_project.parent / "report.html").exists()


def test_docx_section_headings_as_in_the_seed(word):
    document, _ = word
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["一、项目概况", "二、绩效评价得分",
                        "三、数据质量检查（划分、编码、上图）",
                        "四、网格调整（与上年度图层比较）",
                        "五、网格备案、党建引领与网格员覆盖情况", "六、工单办理情况",
                        "七、数据来源"]
    subs = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert subs[:2] == ["（一）按区", "（二）按街道"]
    title = document.paragraphs[0]
    assert title.style.name == "Title" and title.text == "评价报告 <b>&amp;"  # as text


def _tables_by_header(document) -> dict[str, list[list[str]]]:
    return {"|".join(c.text for c in t.rows[0].cells):
            [[c.text for c in row.cells] for row in t.rows] for t in document.tables}


def test_docx_score_table_total_and_deductions(word):
    document, info = word
    assert info["total"] == 99.2 and info["grade"] == "优"
    tables = _tables_by_header(document)
    indicators = tables["部分|类别|指标|分值|目标值|实际值|得分|扣分原因"]
    assert len(indicators) == 1 + 17
    assert ["项目管理", "组织实施", "支出计划完成性", "8", "-", "-", "6"] == indicators[8][:7]
    parts = tables["部分|权重|得分|满分|加权得分"]
    assert [r[-1] for r in parts[1:]] == ["39.2", "60"]
    text = [p.text for p in document.paragraphs]
    assert "总分 99.2，等级 优" in text
    assert any(t.startswith("1. 支出计划完成性：扣 2 分。因政策调整") for t in text)


def test_docx_metric_tables_and_sources(word):
    document, _ = word
    tables = _tables_by_header(document)
    district, street = [[[c.text for c in row.cells] for row in t.rows]
                        for t in document.tables
                        if len(t.columns) > 3 and t.rows[0].cells[3].text == "备案率"]
    assert [r[1] for r in district[1:]] == ["荔湾区", "越秀区"]
    assert all(r[3].endswith("%") for r in district[1:])
    assert len(street) == 1 + 40 and all(len(r[0]) == 9 for r in street[1:])
    sources = tables["数据|文件|记录数|大小|修改时间"]
    assert {r[0] for r in sources[1:]} >= {"综合网格图层", "工单", "绩效评价指标体系"}
    # Header rows repeat on every page.
    for table in document.tables:
        assert table.rows[0]._tr.trPr.xpath("./w:tblHeader"), table.rows[0].cells[0].text


def test_docx_maps_with_captions(word):
    document, _ = word
    assert len(document.inline_shapes) == 5  # grids, findings, changes, coverage, work orders
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert [c.split("　")[0] for c in captions] == ["图 1", "图 2", "图 3", "图 4", "图 5"]


def test_docx_grid_changes_as_gridkit_diff_counts_them(word):
    document, _ = word
    changes = _tables_by_header(document)["变化|数量"]
    counts = {name: int(n) for name, n in changes[1:]}
    assert counts == {"未变": 337, "改编码": 2, "调整边界": 2, "拆分": 3, "合并": 2,
                      "重新划分": 1, "新增": 2, "撤销": 1}
    text = [p.text for p in document.paragraphs]
    assert "上年度图层网格 351 个，本年度 353 个；调整 13 处，未变 337 个。" in text


def test_docx_a4_and_chinese_fonts_in_the_styles(word):
    from docx.oxml.ns import qn
    from docx.shared import Cm

    document, _ = word
    section = document.sections[0]
    assert abs(section.page_width - Cm(21)) < Cm(0.01)
    assert abs(section.page_height - Cm(29.7)) < Cm(0.01)

    def fonts(style_name):
        element = document.styles[style_name].element.rPr.rFonts
        return {k.split("}")[1]: v for k, v in element.attrib.items()}

    for name, east_asian in (("Normal", "宋体"), ("Title", "黑体"), ("Heading 1", "黑体"),
                             ("Heading 2", "黑体"), ("Table Text", "宋体"), ("Caption", "宋体")):
        found = fonts(name)
        assert found["eastAsia"] == east_asian, name
        assert not any(k.endswith("Theme") for k in found), (name, found)  # no theme override
    defaults = document.styles.element.find(qn("w:docDefaults"))
    assert defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}").get(
        qn("w:eastAsia")) == "宋体"


def test_docx_refuses_to_overwrite_and_same_names(seed_project, tmp_path):
    out = tmp_path / "r.docx"
    out.write_bytes(b"mine")
    result = run_cli("report", seed_project, "--docx", out)
    assert result.exit_code == 2 and "--force" in result.output
    assert out.read_bytes() == b"mine"
    result = run_cli("report", seed_project, "--out", tmp_path / "a.html", "--docx",
                 tmp_path / "a.html")
    assert result.exit_code == 2 and not (tmp_path / "a.html").exists()


# ---------------------------------------------------------------------------- PDF


def test_pdf_without_chromium_is_a_one_line_error(seed_project, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDKIT_CHROMIUM", str(tmp_path / "no-such-browser"))
    out = tmp_path / "r.pdf"
    result = run_cli("report", seed_project, "--pdf", out, "--docx", tmp_path / "r.docx")
    assert result.exit_code == 2
    assert "apt-get install chromium" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists() and not (tmp_path / "r.docx").exists()
    monkeypatch.delenv("GRIDKIT_CHROMIUM")
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run_cli("report", seed_project, "--pdf", out)
    assert result.exit_code == 2 and "none found" in result.output and not out.exists()


def test_pdf_has_pages_text_and_a_drawn_map(seed_project, tmp_path):
    chromium_or_skip()  # fails instead of skipping when $GRIDKIT_REQUIRE_CHROMIUM is set
    import io

    import numpy as np
    import pypdf
    from PIL import Image

    html, out = tmp_path / "r.html", tmp_path / "r.pdf"
    result = run_cli("report", seed_project, "--out", html, "--pdf", out)
    assert result.exit_code == 0, result.output
    assert html.exists()
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) >= 5
    assert abs(float(reader.pages[0].mediabox.width) - 595) < 2  # A4 portrait
    text = "".join(page.extract_text() for page in reader.pages)
    assert "绩效评价得分" in text and "99.2" in text
    # Collapsed tables are printed: the street table lists every street.
    assert text.count("街道") > 20
    # The grid map is drawn below the summary cards of page 1: coloured fills, not an empty
    # frame (an unpainted canvas prints white).
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) needed to look at the page")
    png = subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "1", str(out)],
                         capture_output=True, check=True).stdout
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    lower = pixels[pixels.shape[0] * 2 // 5:]
    r, g, b = lower[..., 0], lower[..., 1], lower[..., 2]
    coloured = (abs(r - g) + abs(g - b) + abs(r - b) > 40) & ~((r > g + 40) & (r > b + 40))
    assert coloured.mean() > 0.05


def test_docx_in_english(seed_project, tmp_path):
    import docx

    out = tmp_path / "report.docx"
    result = run_cli("report", seed_project, "--docx", out, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Word report" in result.output
    document = docx.Document(str(out))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings[:3] == ["1. Summary", "2. Evaluation score",
                            "3. Data quality (division, coding, publication)"]
    assert "Total 99.2, grade 优" in [p.text for p in document.paragraphs]
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert captions[0].startswith("Figure 1. ")

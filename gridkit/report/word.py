"""The evaluation report as a Word document (``gridkit report --docx``).

The same sections as the HTML report, in a document a bureau accepts: A4,
numbered section headings ``一、二、三、`` as in the seed report, body text
in 宋体, headings in 黑体 (set in the document's styles with the East Asian
font name, ``w:eastAsia``, so that Word does not fall back to a Western
font), tables whose header row repeats on every page, and the four maps as
images (:func:`gridkit.maps.render_png`) with numbered captions.

The document is built from the report's analysis (:class:`gridkit.report.Analysis`)
and its maps (:class:`gridkit.maps.GridMap`), not from the HTML, with the
tables of :mod:`gridkit.workbook` (the ones of the Excel outputs). Every
string is inserted as text: Word has no markup to inject.

Examples
--------
>>> analysis = analyse(load_project("data/sample/project.yaml"))  # doctest: +SKIP
>>> write_docx(analysis, project_maps(analysis), "report.docx")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridkit import __version__
from gridkit.diff import change_name
from gridkit.i18n import display_width, pick
from gridkit.io.write import atomic_output, check_writable
from gridkit.io.xlsx import Column, Table, xml_text
from gridkit.maps import GridMap, render_png
from gridkit.report.headline import headline_figures
from gridkit.scoring import INDICATOR_COLUMNS, PART_COLUMNS, indicator_rows, part_rows
from gridkit.scoring import headers as score_headers
from gridkit.scoring import summary_line as score_summary
from gridkit.workbook import metrics_tables, validation_tables

if TYPE_CHECKING:  # the report imports this module: no cycle at run time
    from docx.document import Document

    from gridkit.report.analysis import Analysis

__all__ = ["BODY_FONT", "HEADING_FONT", "MAX_LISTED_FINDINGS", "build_docx", "cell_text",
           "chinese_number", "write_docx"]

#: East Asian font of body text and tables (宋体 = SimSun, in every Chinese Windows/Word).
BODY_FONT = "宋体"
#: East Asian font of the title and headings (黑体 = SimHei).
HEADING_FONT = "黑体"
#: Font of Latin text and digits.
LATIN_FONT = "Times New Roman"
#: Findings (and grids to file again) listed in the document (all are counted in its tables).
MAX_LISTED_FINDINGS = 100
#: Width of the text block (A4 minus 2 × 2.5 cm margins).
_TEXT_WIDTH_CM = 16.0
#: Width of the (square) map images: the grid map fits on page one under the summary.
_MAP_WIDTH_CM = 14.0
_COVERAGE_COLUMNS = ("code", "name", "grids", "filing_rate", "party_coverage", "cadre_coverage",
                     "fulltime_worker_coverage", "households_per_fulltime_worker")
#: Columns of the work-order tables in Word (the full set is too wide for A4 portrait).
_EVENT_COLUMNS = ("code", "name", "grids", "events", "located", "dispatched",
                  "dispatch_accuracy", "dispatch_timeliness", "closure_rate", "valid_complaints")
_LISTED_COLUMNS = ("name", "severity", "grid_codes", "area_m2", "message")
_DIGITS = "零一二三四五六七八九"
#: Table text (9 pt): width of one display unit (half an em) and the cell padding, in cm.
_CM_PER_UNIT, _PAD_CM = 0.17, 0.4
_WORD = re.compile(r"[^\s\u2E80-\u9FFF\uFF00-\uFFEF]+")
#: Text of a number by column kind, as Excel shows it with the kind's number format.
_NUMBER_FORMATS = {"percent": "{:.2%}", "count": "{:,.0f}", "decimal": "{:,.1f}"}


def chinese_number(n: int) -> str:
    """``1`` → ``一``, ``10`` → ``十``, ``12`` → ``十二``, ``25`` → ``二十五`` (1–99).

    >>> [chinese_number(n) for n in (1, 7, 10, 12, 20, 25)]
    ['一', '七', '十', '十二', '二十', '二十五']
    """
    if not 1 <= n <= 99:
        raise ValueError(f"{n} is outside 1–99")
    tens, units = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return head + (_DIGITS[units] if units else "")


def cell_text(value: Any, kind: str) -> str:
    """Text of a table cell by column kind (see :data:`gridkit.io.xlsx.KINDS`); ``-`` if missing.

    >>> cell_text(0.98765, "percent"), cell_text(12345, "count"), cell_text(None, "text")
    ('98.77%', '12,345', '-')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, (list, tuple)):
        return "、".join(map(str, value))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return _NUMBER_FORMATS.get(kind, "{:g}" if isinstance(value, float) else "{}").format(value)


# --------------------------------------------------------------------------- styles


def _set_fonts(style: Any, east_asian: str, size_pt: float, *, bold: bool = False) -> None:
    """Latin and East Asian font of a style; theme fonts removed (they would win in Word)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    style.font.name = LATIN_FONT
    style.font.size = Pt(size_pt)
    style.font.bold = bold
    style.font.color.rgb = RGBColor(0, 0, 0)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:eastAsia"), east_asian)


def _setup(document: Document, lang: str) -> None:
    """A4 page, margins, fonts of the styles, document language, page numbers."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(2.54), Cm(2.54)
    styles = document.styles
    # Defaults first: any run without a style of its own still gets the Chinese font.
    defaults = styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = rpr.find(qn("w:rFonts"))
    for attr in list(fonts.attrib):
        fonts.attrib.pop(attr)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), BODY_FONT)
    language = rpr.find(qn("w:lang"))
    if language is None:
        language = OxmlElement("w:lang")
        rpr.append(language)
    language.set(qn("w:val"), "zh-CN" if lang == "zh" else "en-GB")
    language.set(qn("w:eastAsia"), "zh-CN")

    _set_fonts(styles["Normal"], BODY_FONT, 12)
    styles["Normal"].paragraph_format.line_spacing = 1.5
    _set_fonts(styles["Title"], HEADING_FONT, 22, bold=True)
    styles["Title"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # The template draws a rule under the title: a plain centred title instead.
    border = styles["Title"].element.get_or_add_pPr().find(qn("w:pBdr"))
    if border is not None:
        border.getparent().remove(border)
    for name, size in (("Heading 1", 16), ("Heading 2", 14)):
        _set_fonts(styles[name], HEADING_FONT, size, bold=name == "Heading 2")
        styles[name].paragraph_format.space_before = Pt(12)
        styles[name].paragraph_format.space_after = Pt(6)
    _set_fonts(styles["Caption"], BODY_FONT, 10.5)
    styles["Caption"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    table_text = styles.add_style("Table Text", styles["Normal"].type)
    table_text.base_style = styles["Normal"]
    _set_fonts(table_text, BODY_FONT, 9)
    table_text.paragraph_format.line_spacing = 1.0
    table_text.paragraph_format.space_after = Pt(0)

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    footer._p.append(field)


# --------------------------------------------------------------------------- blocks


def _repeat_header(row: Any) -> None:
    """Mark a table row as a header row, repeated at the top of every page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _shade(cell: Any, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _table(document: Document, table: Table, *, highlight: Sequence[bool] = ()) -> None:
    """A bordered table: bold shaded header row repeated on each page, numbers right-aligned.

    Rows whose ``highlight`` flag is set are shaded (deducted indicators).
    """
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    texts = [[cell_text(row.get(c.key), c.kind) for c in table.columns] for row in table.rows]
    widths = _column_widths([c.header for c in table.columns], texts)
    grid = document.add_table(rows=1, cols=len(table.columns))
    grid.style = document.styles["Table Grid"]
    grid.autofit = False
    for column, width in zip(grid.columns, widths):
        column.width = Cm(width)
    head = grid.rows[0]
    _repeat_header(head)
    for cell, column, width in zip(head.cells, table.columns, widths):
        cell.width = Cm(width)
        paragraph = cell.paragraphs[0]
        paragraph.style = document.styles["Table Text"]
        paragraph.add_run(xml_text(column.header)).bold = True
        _shade(cell, "E7ECF2")
    for n, row in enumerate(texts):
        cells = grid.add_row().cells
        for cell, column, text, width in zip(cells, table.columns, row, widths):
            cell.width = Cm(width)  # Word reads the cells' widths, LibreOffice the grid's
            paragraph = cell.paragraphs[0]
            paragraph.style = document.styles["Table Text"]
            paragraph.add_run(xml_text(text))
            if column.kind in ("count", "decimal", "number", "percent"):
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            if n < len(highlight) and highlight[n]:
                _shade(cell, "FFF4E5")


def _unbreakable(text: str) -> int:
    """Display width of the longest part of ``text`` a line cannot break inside.

    Latin words and numbers do not break; Chinese text breaks between any
    two characters.

    >>> _unbreakable("99.43%"), _unbreakable("网格重叠 overlap"), _unbreakable("越秀区")
    (6, 7, 2)
    """
    return max([display_width(w) for w in _WORD.findall(text)] + [2 if text else 0])


def _column_widths(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[float]:
    """Column widths (cm) filling the text width.

    Every column first gets room for its longest unbreakable word (numbers,
    codes, Latin words; up to 16 characters), then the rest of the width is shared by the length of
    each column's longest text, capped so that one long message cannot squeeze
    the others.

    >>> [round(w, 1) for w in _column_widths(["编码", "名称"], [["440104", "越秀区"]])]
    [8.3, 7.7]
    """
    cells = [[h, *(r[j] for r in rows)] for j, h in enumerate(headers)]
    # A word longer than a 15-digit code is broken by Word rather than widen its column.
    least = [_PAD_CM + _CM_PER_UNIT * min(16, max(_unbreakable(t) for t in column))
             for column in cells]
    want = [_PAD_CM + _CM_PER_UNIT * min(40, max(display_width(t) for t in column))
            for column in cells]
    spare = _TEXT_WIDTH_CM - sum(least)
    if spare <= 0:  # no room to share: proportional to the least
        return [_TEXT_WIDTH_CM * m / sum(least) for m in least]
    return [m + spare * w / sum(want) for m, w in zip(least, want)]


def _paragraph(document: Document, text: str, *, bold: bool = False) -> None:
    """A paragraph of plain text (names and notes may come from contractor files)."""
    document.add_paragraph().add_run(xml_text(text)).bold = bold


class _Figures:
    """Numbered map figures: the PNG of a map, then its caption ``图 n ...``."""

    def __init__(self, document: Document, maps: Mapping[str, GridMap], lang: str,
                 dpi: int) -> None:
        self.document, self.maps, self.lang, self.dpi = document, maps, lang, dpi
        self.count = 0

    def add(self, kind: str, caption: str) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Cm

        if kind not in self.maps:
            return
        image = io.BytesIO()
        render_png(self.maps[kind], image, dpi=self.dpi)
        image.seek(0)
        self.document.add_picture(image, width=Cm(_MAP_WIDTH_CM))
        self.document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.count += 1
        self.document.add_paragraph(pick(self.lang, f"图 {self.count}　{caption}",
                                         f"Figure {self.count}. {caption}"), style="Caption")


class _Headings:
    """Section headings ``一、…`` / ``1. …`` and sub-headings ``（一）…``."""

    def __init__(self, document: Document, lang: str) -> None:
        self.document, self.lang = document, lang
        self.section = self.sub = 0

    def section_heading(self, title: str) -> None:
        self.section += 1
        self.sub = 0
        self.document.add_heading(pick(self.lang, f"{chinese_number(self.section)}、{title}",
                                       f"{self.section}. {title}"), level=1)

    def sub_heading(self, title: str) -> None:
        self.sub += 1
        self.document.add_heading(pick(self.lang, f"（{chinese_number(self.sub)}）{title}",
                                       f"{self.section}.{self.sub} {title}"), level=2)


def _score(document: Document, analysis: Analysis, lang: str) -> None:
    result = analysis.score
    if result is None:
        _paragraph(document, pick(lang, "项目文件未指定 evaluation（评价指标体系），未计分。",
                                  "The project names no evaluation config; not scored."))
        return
    if result.title:
        _paragraph(document, result.title, bold=True)
    numeric = {"points", "target", "actual", "score", "weight", "max", "weighted_score"}

    def text_table(rows: Sequence[Mapping[str, str]], columns: Sequence[str]) -> Table:
        return Table("", [Column(c, h, "number" if c in numeric else "text")
                          for c, h in zip(columns, score_headers(columns, lang))], rows)

    _table(document, text_table(indicator_rows(result, lang), INDICATOR_COLUMNS),
           highlight=[ind.deducted for ind in result.indicators])
    document.add_paragraph()
    _table(document, text_table(part_rows(result, lang), PART_COLUMNS))
    _paragraph(document, score_summary(result, lang), bold=True)
    reasons = [ind for ind in result.indicators if ind.deducted]
    if reasons:
        _paragraph(document, pick(lang, "扣分说明：", "Deductions:"), bold=True)
        for n, ind in enumerate(reasons, start=1):
            lost = f"{ind.points - ind.score:g}"
            name = ind.name_en if lang == "en" and ind.name_en else ind.name
            why = ind.reason or pick(lang, "未说明原因", "no reason given")
            _paragraph(document, pick(lang, f"{n}. {name}：扣 {lost} 分。{why}",
                                      f"{n}. {name}: {lost} points deducted. {why}"))


def _validation(document: Document, analysis: Analysis, lang: str, figures: _Figures) -> None:
    result = analysis.validation
    _paragraph(document, pick(
        lang, f"共检查网格 {result.grids:,} 个：错误 {result.errors} 条，"
              f"警告 {result.warnings} 条。",
        f"{result.grids:,} grids checked: {result.errors} errors, {result.warnings} warnings."))
    summary, findings = validation_tables(result.to_dict(), lang)
    _table(document, Table(summary.title, summary.columns,
                           [r for r in summary.rows if r.get("count") or r.get("note")]))
    for note in result.notes:
        _paragraph(document, note)
    figures.add("findings", pick(lang, "数据质量问题分布", "Validation findings"))
    if findings.rows:
        listed = findings.rows[:MAX_LISTED_FINDINGS]
        more = len(findings.rows) - len(listed)
        _paragraph(document, pick(
            lang, f"问题清单（前 {len(listed)} 条" + (f"，另有 {more} 条见 gridkit validate 输出）"
                                                     if more else "）"),
            f"Findings (first {len(listed)}" + (f"; {more} more in gridkit validate)"
                                                if more else ")")), bold=True)
        columns = [c for c in findings.columns if c.key in _LISTED_COLUMNS]
        _table(document, Table(findings.title, columns, listed))


def _changes(document: Document, analysis: Analysis, lang: str, figures: _Figures) -> None:
    """网格调整: the changes since last year's layer by kind, the map, the grids to file again."""
    result = analysis.diff
    by_change = result.by_change
    changed = sum(n for kind, n in by_change.items() if kind != "unchanged")
    _paragraph(document, pick(
        lang, f"上年度图层网格 {result.old:,} 个，本年度 {result.new:,} 个；"
              f"调整 {changed:,} 处，未变 {by_change.get('unchanged', 0):,} 个。",
        f"Last year {result.old:,} grids, this year {result.new:,}: {changed:,} changes, "
        f"{by_change.get('unchanged', 0):,} unchanged."))
    _table(document, Table("", [Column("name", pick(lang, "变化", "change")),
                                Column("count", pick(lang, "数量", "count"), "count")],
                           [{"name": change_name(kind, lang), "count": n}
                            for kind, n in by_change.items()]))
    figures.add("diff", pick(lang, "网格调整（按变化类型）", "Grid changes by kind"))
    if result.refile is None:
        return
    work = result.refile_records()
    since = analysis.project.changed_on
    _paragraph(document, pick(
        lang, f"需重新备案的网格 {len(work):,} 个（调整的网格中，{since} 以后无备案的）。",
        f"{len(work):,} grids to file again (changed, no filing since {since})."))
    if work:
        _table(document, Table("", [Column("grid_code", pick(lang, "网格编码", "grid code"),
                                           "code"),
                                    Column("change", pick(lang, "变化", "change"))],
                               [{"grid_code": r["grid_code"],
                                 "change": change_name(r["change"], lang)}
                                for r in work[:MAX_LISTED_FINDINGS]]))


def _levels(document: Document, results: Mapping[str, Any], group: str,
            columns: Sequence[str], lang: str, headings: _Headings) -> None:
    """The district and street tables of coverage or work orders, then their data problems.

    ``metrics_tables`` gives the unit table, the totals (already in the
    summary) and, when rows were left out, the data problems.
    """
    district, _, *problems = metrics_tables(results["district"].to_dict(), group, lang,
                                            columns=columns)
    street = metrics_tables(results["street"].to_dict(), group, lang, columns=columns)[0]
    for table in (district, street, *problems):
        headings.sub_heading(table.title)
        _table(document, table)


def build_docx(analysis: Analysis, maps: Mapping[str, GridMap], lang: str = "zh", *,
               sources: Sequence[Mapping[str, Any]] = (),
               generated_at: dt.datetime | None = None, dpi: int = 120) -> Document:
    """The Word document of a report.

    Parameters
    ----------
    analysis : :func:`gridkit.report.analyse`'s result.
    maps : map kind → :class:`GridMap` (:func:`gridkit.report.project_maps`); drawn as PNG.
    sources : rows of the data-source table (``data``, ``file``, ``records``, ``size``,
        ``modified``), as the HTML report shows them.
    generated_at : time stamp of the subtitle (default: now).
    dpi : resolution of the map images.
    """
    import docx

    generated_at = generated_at or dt.datetime.now()
    project = analysis.project
    document = docx.Document()
    _setup(document, lang)
    title = xml_text(project.title)
    document.core_properties.title = title
    document.core_properties.author = f"gridkit {__version__}"
    document.add_paragraph(title, style="Title")
    subtitle = " · ".join(p for p in (
        project.period, pick(lang, f"项目文件 {project.path.name}", f"project {project.path.name}"),
        pick(lang, f"生成于 {generated_at:%Y-%m-%d %H:%M}",
             f"generated {generated_at:%Y-%m-%d %H:%M}")) if p)
    document.add_paragraph(xml_text(subtitle)).alignment = 1  # centred
    headings = _Headings(document, lang)
    figures = _Figures(document, maps, lang, dpi)

    headings.section_heading(pick(lang, "项目概况", "Summary"))
    item, value = pick(lang, "项目", "item"), pick(lang, "数值", "value")
    _table(document, Table("", [Column("item", item), Column("value", value),
                                Column("item2", item), Column("value2", value)],
                           _summary_rows(analysis, lang)))
    figures.add("grids", pick(lang, "综合网格分布（按区/街道着色）", "Grids by district/street"))

    headings.section_heading(pick(lang, "绩效评价得分", "Evaluation score"))
    _score(document, analysis, lang)

    if analysis.validation is not None:
        headings.section_heading(pick(lang, "数据质量检查（划分、编码、上图）",
                                      "Data quality (division, coding, publication)"))
        _validation(document, analysis, lang, figures)

    if analysis.diff is not None:
        headings.section_heading(pick(lang, "网格调整（与上年度图层比较）",
                                      "Grid changes since last year's layer"))
        _changes(document, analysis, lang, figures)

    headings.section_heading(pick(lang, "网格备案、党建引领与网格员覆盖情况",
                                  "Filing, Party, cadre and worker coverage"))
    _levels(document, analysis.coverage, "coverage", _COVERAGE_COLUMNS, lang, headings)
    figures.add("coverage", pick(lang, "覆盖情况（按网格）", "Coverage per grid"))

    if analysis.events:
        headings.section_heading(pick(lang, "工单办理情况", "Work orders"))
        params = analysis.events["district"].params.to_dict()
        _paragraph(document, pick(
            lang, f"转派时限 {params['dispatch_sla_hours']:g} 小时；办结统计截至 "
                  f"{params['period_end']}；坐标系 {params['crs']}。",
            f"Dispatch SLA {params['dispatch_sla_hours']:g} h; closed by "
            f"{params['period_end']}; coordinates {params['crs']}."))
        _levels(document, analysis.events, "events", _EVENT_COLUMNS, lang, headings)
        figures.add("events", pick(lang, "工单分布与转派准确率", "Work orders per grid"))

    headings.section_heading(pick(lang, "数据来源", "Data sources"))
    labels = {"data": ("数据", "data"), "file": ("文件", "file"), "records": ("记录数", "records"),
              "size": ("大小", "size"), "modified": ("修改时间", "modified")}
    _table(document, Table("", [Column(k, pick(lang, *v), "count" if k == "records" else "text")
                                for k, v in labels.items()], list(sources)))
    _paragraph(document, pick(lang, f"由 gridkit {__version__} 生成于 "
                                    f"{generated_at:%Y-%m-%d %H:%M}。"
                                    "地图为静态图，交互地图见 HTML 报告。",
                              f"Generated by gridkit {__version__} on "
                              f"{generated_at:%Y-%m-%d %H:%M}. The maps are static; the HTML "
                              "report has the interactive ones."))
    return document


def _summary_rows(analysis: Analysis, lang: str) -> list[dict[str, str]]:
    """The report's headline figures (:func:`headline_figures`), two (label, value) pairs
    a row."""
    rows = headline_figures(analysis, lang)
    # Two figures a row: the table stays short enough for the map to follow on page one.
    return [{"item": item, "value": value,
             "item2": rows[n + 1][0] if n + 1 < len(rows) else "",
             "value2": rows[n + 1][1] if n + 1 < len(rows) else ""}
            for n, (item, value) in enumerate(rows) if n % 2 == 0]


def write_docx(analysis: Analysis, maps: Mapping[str, GridMap], path: str | os.PathLike, *,
               lang: str = "zh", force: bool = False, sources: Sequence[Mapping] = (),
               generated_at: dt.datetime | None = None) -> Path:
    """Build the document (:func:`build_docx`) and write it to ``path`` atomically."""
    path = check_writable(path, force, folder=False)
    document = build_docx(analysis, maps, lang, sources=sources, generated_at=generated_at)
    with atomic_output(path, force) as tmp:
        document.save(tmp)
    return path

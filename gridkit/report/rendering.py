"""The report page: HTML blocks (tables, cards, figures) and the Jinja template.

Every contractor string is escaped (autoescaping template, :class:`Markup`
blocks built with ``format``). The template is ``report/templates/report.html.j2``
(package data).
"""

from __future__ import annotations

__all__ = ["MAX_LISTED_CHANGES", "MAX_LISTED_FINDINGS", "figure", "render_report", "source_rows",
           "table"]

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from gridkit import __version__
from gridkit.diff import DiffResult, change_name
from gridkit.i18n import pick, severity_name
from gridkit.io.postgis import is_postgis_uri, source_name
from gridkit.maps import human_size, share_geometry
from gridkit.metrics import METRICS, format_value, label, table_columns
from gridkit.report.analysis import Analysis
from gridkit.report.headline import headline_figures
from gridkit.scoring import render_score_html as score_html
from gridkit.validate import ValidationResult
from gridkit.validate.config import RULE_NAMES_ZH

_INPUT_NAMES = {
    "grids": ("综合网格图层", "grid layer"), "communities": ("社区图层", "communities layer"),
    "reference": ("已发布网格图层（市规自局）", "published layer (reference)"),
    "codes": ("统计用区划代码表", "official code list"), "filings": ("网格备案", "filings"),
    "party": ("党组织", "Party organisations"), "cadres": ("包联干部", "cadres"),
    "workers": ("网格员", "grid workers"), "events": ("工单", "work orders"),
    "evaluation": ("绩效评价指标体系", "evaluation indicator tree"),
    "validation": ("校验规则配置", "validation rules"),
    "previous_grids": ("上年度网格图层", "last year's grid layer"),
}
#: Findings listed in the report (all are counted in the by-rule table and drawn on the map).
MAX_LISTED_FINDINGS = 300
#: Grid changes and grids to file again listed in the report (all are counted and drawn).
MAX_LISTED_CHANGES = 300
#: Codes shown in one cell of the list of changes (a redrawn group may hold dozens).
_CODES_PER_CELL = 10
_NUMERALS = "一二三四五六七八九十"


# --------------------------------------------------------------------------- HTML blocks


#: Report columns that are numbers but not metrics (formatted and right-aligned).
_NUMBER_COLUMNS = {"count": "count", "records": "count", "area_m2": "ratio"}


def _kind(column: str) -> str:
    """The metric kind of a column (``text`` when it is not a number)."""
    return METRICS[column].kind if column in METRICS else _NUMBER_COLUMNS.get(column, "text")


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], lang: str, *,
          labels: Mapping[str, str] | None = None, caption: str | None = None,
          row_class: str | None = None) -> Markup:
    """An HTML table; every cell is escaped, numbers right-aligned and formatted.

    Examples
    --------
    >>> str(table([{"name": "<b>", "filing_rate": 0.5}], ["name", "filing_rate"], "zh"))
    '<table><thead><tr><th>名称</th><th class="num">备案率</th></tr></thead><tbody><tr><td>&lt;b&gt;</td><td class="num">50.00%</td></tr></tbody></table>'
    """  # noqa: E501
    labels = labels or {}
    head = Markup("").join(
        Markup('<th class="num">{}</th>' if _kind(c) != "text" else "<th>{}</th>").format(
            labels.get(c) or label(c, lang)) for c in columns)
    body = Markup("").join(
        Markup("<tr{}>{}</tr>").format(
            Markup(' class="{}"').format(row[row_class]) if row_class else "",
            Markup("").join(
                Markup('<td class="num">{}</td>' if _kind(c) != "text" else "<td>{}</td>").format(
                    format_value(row.get(c), _kind(c))) for c in columns))
        for row in rows)
    cap = Markup("<caption>{}</caption>").format(caption) if caption else Markup("")
    return Markup("<table>{}<thead><tr>{}</tr></thead><tbody>{}</tbody></table>").format(
        cap, head, body)


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict]:
    present = [c for c in columns if c in frame.columns]
    return frame[present].astype(object).where(frame[present].notna(), None).to_dict("records")


def _cards(items: Sequence[tuple[str, str]]) -> Markup:
    return Markup('<div class="cards">{}</div>').format(Markup("").join(
        Markup('<div class="card"><b>{}</b><span>{}</span></div>').format(value, text)
        for text, value in items))


def _paragraph(text: str, cls: str = "note") -> Markup:
    """A paragraph of plain text (validation notes may quote contractor values).

    >>> str(_paragraph("<b>"))
    '<p class="note">&lt;b&gt;</p>'
    """
    return Markup('<p class="{}">{}</p>').format(cls, text)


def figure(map_html: str, caption: str) -> Markup:
    """A map in an ``<iframe srcdoc>``: its page escaped into the attribute, scripts isolated.

    The attribute is single-quoted, so only ``&`` and ``'`` need escaping: a
    map's data is JSON, full of double quotes, and escaping each as ``&#34;``
    made a city report a third larger. The browser decodes the attribute back
    to the exact page (contractor strings inside it are already escaped).

    Examples
    --------
    >>> print(figure("<b>it's &amp;</b>", "图").split("<figcaption>")[0])
    <figure><iframe title="图" srcdoc='<b>it&#39;s &amp;amp;</b>'></iframe>
    """
    srcdoc = Markup(map_html.replace("&", "&amp;").replace("'", "&#39;"))
    return Markup('<figure><iframe title="{}" srcdoc=\'{}\'></iframe>'
                  '<figcaption>{}</figcaption></figure>').format(caption, srcdoc, caption)


def _details(summary: str, content: Markup) -> Markup:
    return Markup("<details><summary>{}</summary>{}</details>").format(summary, content)


@dataclass
class _Section:
    id: str
    title: str
    blocks: list[Markup] = field(default_factory=list)


def _rule_name(rule: str, lang: str) -> str:
    return RULE_NAMES_ZH.get(rule, rule) if lang == "zh" else rule


def _validation_section(result: ValidationResult, lang: str, maps: Mapping[str, str],
                        ) -> _Section:
    section = _Section("validation", pick(lang, "数据质量检查（划分、编码、上图）",
                                          "Data quality (division, coding, publication)"))
    section.blocks.append(_paragraph(pick(
        lang, f"共检查网格 {result.grids:,} 个：错误 {result.errors} 条，"
              f"警告 {result.warnings} 条。",
        f"{result.grids:,} grids checked: {result.errors} errors, {result.warnings} warnings."),
        "summary"))
    found = result.findings
    severity = found.groupby("rule")["severity"].first() if len(found) else pd.Series(dtype=str)
    rows = [{"rule": rule, "name": _rule_name(rule, lang), "count": n,
             "severity": severity_name(severity.get(rule), lang) if n else "-",
             "class": severity.get(rule, "") if n else ""}
            for rule, n in result.by_rule.items()]
    labels = {"rule": pick(lang, "规则", "rule"), "name": pick(lang, "检查项", "check"),
              "severity": pick(lang, "级别", "severity"), "count": pick(lang, "问题数", "findings")}
    section.blocks.append(table(rows, ["rule", "name", "severity", "count"], lang,
                                labels=labels, row_class="class"))
    for rule, why in result.skipped.items():
        section.blocks.append(_paragraph(pick(lang, f"未运行 {_rule_name(rule, lang)}：{why}",
                                              f"not run: {rule}: {why}")))
    for note in result.notes:
        section.blocks.append(_paragraph(note))
    if "findings" in maps:
        section.blocks.append(figure(maps["findings"], pick(
            lang, "图：数据质量问题分布（按规则分图层，可在右上角切换）",
            "Map: validation findings, one layer per rule")))
    if len(found):
        listed = [{"rule": _rule_name(r.rule, lang), "severity": severity_name(r.severity, lang),
                   "grid_codes": "、".join(map(str, r.grid_codes)),
                   "area_m2": None if pd.isna(r.area_m2) else float(r.area_m2),
                   "message": r.message, "class": r.severity}
                  for r in found.head(MAX_LISTED_FINDINGS).itertuples()]
        labels = {"rule": pick(lang, "检查项", "check"), "severity": pick(lang, "级别", "severity"),
                  "grid_codes": pick(lang, "网格编码", "grid codes"),
                  "area_m2": pick(lang, "面积(m²)", "area (m²)"),
                  "message": pick(lang, "说明", "message")}
        more = len(found) - len(listed)
        rest = pick(lang, f"，另有 {more} 条见 gridkit validate 输出", f"; {more} more in "
                    "gridkit validate") if more else ""
        section.blocks.append(_details(
            pick(lang, f"问题清单（{len(listed)} 条{rest}）", f"Findings ({len(listed)}{rest})"),
            table(listed, ["rule", "severity", "grid_codes", "area_m2", "message"], lang,
                  labels=labels, row_class="class")))
    return section


def _codes_cell(codes: Sequence[str], lang: str) -> str:
    """The codes of one side of a change, ``-`` when none, capped with ``等 N 个``.

    >>> _codes_cell([str(i) for i in range(12)], "zh")
    '0、1、2、3、4、5、6、7、8、9 等 12 个'
    """
    if not codes:
        return "-"
    shown = pick(lang, "、", ", ").join(codes[:_CODES_PER_CELL])
    if len(codes) > _CODES_PER_CELL:
        shown += pick(lang, f" 等 {len(codes)} 个", f" ({len(codes)} in all)")
    return shown


def _capped_table(title: str, rows: Sequence[Mapping[str, Any]], total: int,
                  labels: Mapping[str, str], unit: tuple[str, str], lang: str) -> Markup:
    """A folded table of ``rows`` (the first of ``total``; columns: ``labels``' keys),
    titled ``标题（300 处，等 1,234 处）`` when capped."""
    zh, en = unit
    if len(rows) == total:
        count = pick(lang, f"（{total:,} {zh}）", f" ({total:,})")
    else:
        count = pick(lang, f"（列出 {len(rows):,} {zh}，等 {total:,} {zh}）",
                     f" ({len(rows):,} of {total:,} {en} listed)")
    return _details(title + count, table(rows, list(labels), lang, labels=labels))


def _diff_section(result: DiffResult, changed_on: dt.date | None, lang: str,
                  maps: Mapping[str, str]) -> _Section:
    """网格调整: changes since last year's layer, the map, and the grids to file again."""
    section = _Section("changes", pick(lang, "网格调整（与上年度图层比较）",
                                       "Grid changes since last year's layer"))
    by_change = result.by_change
    changed = sum(n for kind, n in by_change.items() if kind != "unchanged")
    section.blocks.append(_paragraph(pick(
        lang, f"上年度图层网格 {result.old:,} 个，本年度 {result.new:,} 个；"
              f"调整 {changed:,} 处，未变 {by_change['unchanged']:,} 个。",
        f"Last year {result.old:,} grids, this year {result.new:,}: {changed:,} changes, "
        f"{by_change['unchanged']:,} unchanged."), "summary"))
    rows = [{"change": kind, "name": change_name(kind, lang), "count": n}
            for kind, n in by_change.items()]
    labels = {"change": pick(lang, "变化", "change"), "name": pick(lang, "名称", "name"),
              "count": pick(lang, "数量", "count")}
    # in English the name is the kind itself
    columns = ["change", "name", "count"] if lang == "zh" else ["change", "count"]
    section.blocks.append(table(rows, columns, lang, labels=labels))
    if "diff" in maps:
        section.blocks.append(figure(maps["diff"], pick(
            lang, "图：网格调整（按变化类型分图层，悬停查看原编码 → 新编码）",
            "Map: grid changes, one layer per kind (hover for old → new codes)")))
    changes = result.changes[result.changes["change"] != "unchanged"]
    if len(changes):
        listed = [{"name": change_name(r.change, lang), "old": _codes_cell(r.old_codes, lang),
                   "new": _codes_cell(r.new_codes, lang), "area_m2": float(r.area_m2),
                   "community": r.community_code}
                  for r in changes.head(MAX_LISTED_CHANGES).itertuples()]
        labels = {"name": pick(lang, "变化", "change"), "old": pick(lang, "原编码", "old codes"),
                  "new": pick(lang, "新编码", "new codes"),
                  "area_m2": pick(lang, "面积(m²)", "area (m²)"),
                  "community": pick(lang, "社区编码", "community")}
        section.blocks.append(_capped_table(pick(lang, "调整清单", "Changes"), listed,
                                            len(changes), labels, ("处", "changes"), lang))
    if result.refile is None:
        section.blocks.append(_paragraph(pick(
            lang, "项目文件未指定 filings 与 changed_on，未列出需重新备案的网格。",
            "The project names no filings and changed_on: no re-filing list.")))
        return section
    work = result.refile_records()
    since = changed_on.isoformat() if changed_on else "-"
    section.blocks.append(_paragraph(pick(
        lang, f"需重新备案的网格 {len(work):,} 个（调整的网格中，{since} 以后无备案的）。",
        f"{len(work):,} grids to file again (changed, no filing since {since}).")))
    if work:
        listed = [{**r, "change": change_name(r["change"], lang),
                   "last_filed_on": r["last_filed_on"] or "-"}
                  for r in work[:MAX_LISTED_CHANGES]]
        labels = {"grid_code": pick(lang, "网格编码", "grid code"),
                  "change": pick(lang, "变化", "change"),
                  "community_code": pick(lang, "社区编码", "community"),
                  "last_filed_on": pick(lang, "最近备案日期", "last filed")}
        section.blocks.append(_capped_table(pick(lang, "重新备案清单", "Re-filing list"), listed,
                                            len(work), labels, ("个", "grids"), lang))
    return section


def _examples(examples: Sequence[Mapping], lang: str) -> str:
    """``第 3 行 440104001001001；…`` from the examples of a roster or events finding."""
    parts = []
    for example in examples:
        row, code = example.get("row"), example.get("grid_code") or example.get("event_id")
        where = pick(lang, f"第 {row} 行", f"row {row}") if row is not None else ""
        parts.append(" ".join(str(p) for p in (where, code) if p))
    return pick(lang, "；", "; ").join(p for p in parts if p)


def _findings_list(findings: Sequence[Mapping], lang: str) -> Markup:
    """Roster and work-order problems: which table, what, how many rows, examples."""
    def source(name: str | None) -> str:
        return pick(lang, *_INPUT_NAMES[name]) if name in _INPUT_NAMES else (name or "-")

    rows = [{"data": source(f.get("table")), "message": f.get("message"), "count": f.get("count"),
             "examples": _examples(f.get("examples") or [], lang)} for f in findings]
    labels = {"data": pick(lang, "数据", "data"), "message": pick(lang, "说明", "message"),
              "count": pick(lang, "条数", "rows"), "examples": pick(lang, "示例", "examples")}
    return (table(rows, ["data", "message", "count", "examples"], lang, labels=labels)
            if rows else Markup(""))


def _level_tables(results: Mapping[str, Any], columns: Sequence[str], lang: str) -> list[Markup]:
    district = results["district"]
    blocks = [table(_records(district.rows, columns), columns, lang,
                    caption=pick(lang, "按区", "By district"))]
    street = results["street"]
    blocks.append(_details(pick(lang, f"按街道（{len(street.rows)} 个）",
                                f"By street ({len(street.rows)})"),
                           table(_records(street.rows, columns), columns, lang)))
    return blocks


def _metric_blocks(results: Mapping[str, Any], group: str, lang: str, maps: Mapping[str, str],
                   caption: str) -> list[Markup]:
    """Tables of a metric group by district and street, its input problems and its map.

    ``group``: ``coverage`` or ``events``, also the kind of the map shown with ``caption``.
    """
    blocks = _level_tables(results, table_columns(group, summary=True), lang)
    blocks.append(_findings_list(results["district"].findings, lang))
    if group in maps:
        blocks.append(figure(maps[group], caption))
    return blocks


def source_rows(analysis: Analysis, lang: str) -> list[dict[str, Any]]:
    """Rows of the data-source table: data, file (relative to the project), records, size,
    modified; shared by the HTML and the Word report."""
    base = analysis.project.path.parent
    rows = []
    for key, path in analysis.project.inputs.items():
        row = {"data": pick(lang, *_INPUT_NAMES[key]), "records": analysis.records.get(key)}
        if is_postgis_uri(path):  # a database table has no file size or date
            row.update(file=source_name(path), size=None, modified=None)
        else:
            stat = path.stat()
            row.update(file=os.path.relpath(path, base), size=human_size(stat.st_size),
                       modified=dt.datetime.fromtimestamp(stat.st_mtime)
                       .strftime("%Y-%m-%d %H:%M"))
        rows.append(row)
    return rows


def _sources_table(analysis: Analysis, lang: str) -> Markup:
    rows = source_rows(analysis, lang)
    labels = {"data": pick(lang, "数据", "data"), "file": pick(lang, "文件", "file"),
              "records": pick(lang, "记录数", "records"), "size": pick(lang, "大小", "size"),
              "modified": pick(lang, "修改时间", "modified")}
    return table(rows, ["data", "file", "records", "size", "modified"], lang, labels=labels)


def render_report(analysis: Analysis, maps: Mapping[str, str], lang: str = "zh", *,
                  generated_at: dt.datetime | None = None) -> str:
    """The report page.

    Parameters
    ----------
    analysis : from :func:`analyse`.
    maps : map kind (``grids``, ``findings``, ``coverage``, ``events``, ``diff``) → the
        map's HTML page (:func:`gridkit.maps.render_map`); each is embedded
        with ``<iframe srcdoc>``.
    lang : ``zh`` or ``en``.
    generated_at : time stamp of the footer (default: now).
    """
    project = analysis.project
    generated_at = generated_at or dt.datetime.now()
    # The grids the maps share are written once, in this page, for all their frames.
    shared, maps = share_geometry(maps)
    summary = _Section("summary", pick(lang, "项目概况", "Summary"),
                       [_cards(headline_figures(analysis, lang))])
    if "grids" in maps:
        summary.blocks.append(figure(maps["grids"], pick(
            lang, "图：综合网格分布（按区/街道着色，悬停查看网格编码、名称、社区、户数）",
            "Map: grids by district/street (hover for code, name, community, households)")))
    sections = [summary]
    score_section = _Section("score", pick(lang, "绩效评价得分", "Evaluation score"))
    if analysis.score is not None:
        score_section.blocks.append(Markup(score_html(analysis.score, lang)))
    else:
        score_section.blocks.append(_paragraph(pick(
            lang, "项目文件未指定 evaluation（评价指标体系），未计分。",
            "The project names no evaluation config; not scored.")))
    sections.append(score_section)
    if analysis.validation is not None:
        sections.append(_validation_section(analysis.validation, lang, maps))
    if analysis.diff is not None:
        sections.append(_diff_section(analysis.diff, project.changed_on, lang, maps))

    coverage = _Section("coverage", pick(lang, "网格备案、党建引领与网格员覆盖情况",
                                         "Filing, Party, cadre and worker coverage"))
    coverage.blocks += _metric_blocks(analysis.coverage, "coverage", lang, maps, pick(
        lang, "图：覆盖情况（红色网格缺党组织/专职网格员等；右上角切换指标）",
        "Map: coverage per grid (red: no Party organisation / full-time worker ...)"))
    sections.append(coverage)

    if analysis.events:
        events = _Section("events", pick(lang, "工单办理情况", "Work orders"))
        params = analysis.events["district"].params.to_dict()
        events.blocks.append(_paragraph(pick(
            lang, f"转派时限 {params['dispatch_sla_hours']:g} 小时；办结统计截至 "
                  f"{params['period_end']}；坐标系 {params['crs']}。",
            f"Dispatch SLA {params['dispatch_sla_hours']:g} h; closed by {params['period_end']}; "
            f"coordinates {params['crs']}.")))
        events.blocks += _metric_blocks(analysis.events, "events", lang, maps, pick(
            lang, "图：工单分布与转派准确率（右上角切换：工单量、转派准确率、热力图）",
            "Map: work orders per grid, dispatch accuracy, heat map"))
        sections.append(events)

    sections.append(_Section("sources", pick(lang, "数据来源", "Data sources"),
                             [_sources_table(analysis, lang)]))
    for number, section in enumerate(sections):
        section.title = pick(lang, f"{_NUMERALS[number]}、{section.title}",
                             f"{number + 1}. {section.title}")

    subtitle = " · ".join(p for p in (
        project.period, pick(lang, f"项目文件 {project.path.name}", f"project {project.path.name}"),
        pick(lang, f"生成于 {generated_at:%Y-%m-%d %H:%M}",
             f"generated {generated_at:%Y-%m-%d %H:%M}")) if p)
    footer = pick(lang, f"由 gridkit {__version__} 生成于 {generated_at:%Y-%m-%d %H:%M}。"
                        "地图为离线自包含页面（Leaflet 内嵌）或在线底图，见各图脚注。",
                  f"Generated by gridkit {__version__} on {generated_at:%Y-%m-%d %H:%M}. "
                  "Each map's footer states its size, simplification and basemap.")
    env = jinja2.Environment(loader=jinja2.PackageLoader("gridkit.report", "templates"),
                             autoescape=True, keep_trailing_newline=True)
    return env.get_template("report.html.j2").render(
        lang=lang, title=project.title, subtitle=subtitle, sections=sections, footer=footer,
        version=__version__, shared=Markup(shared))

"""The HTML evaluation report (``gridkit report``, ``gridkit demo``) and its project file.

A project file (YAML) names the inputs, with paths relative to the file, so
that one command rebuilds the whole report::

    title: 广州市城市社区网格化服务管理项目绩效评价
    period: 2023 年度
    grids: grids.gpkg              # required; the others are optional
    communities: communities.gpkg
    reference: reference.gpkg
    codes: ../guangzhou-divisions-2023.csv
    filings: filings.csv
    party: party.csv
    cadres: cadres.csv
    workers: workers.csv
    events: events.parquet
    evaluation: ../evaluation-template.yaml
    dispatch_sla: 2                # hours
    period_end: 2023-12-31

:func:`analyse` runs validation, coverage, the work-order join and the
scoring with the library modules; :func:`project_maps` builds the maps;
:func:`render_report` writes one self-contained HTML page: summary, score
table, validation summary, coverage and work-order tables by district and
street, the maps (each in an ``<iframe srcdoc>`` so that its scripts stay
apart) and the data sources with their dates. Every contractor string is
escaped (the page is built with autoescaping templates).

Examples
--------
>>> out = write_report("data/sample/project.yaml", "report.html", force=True)  # doctest: +SKIP
>>> out.path, out.maps  # doctest: +SKIP
(PosixPath('report.html'), ['grids', 'findings', 'coverage', 'events'])
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import jinja2
import pandas as pd
from markupsafe import Markup

from gridkit import __version__
from gridkit.cli._metrics import HEADERS
from gridkit.coverage import ROSTERS, CoverageResult, compute_coverage
from gridkit.crs import DEFAULT_METRIC_CRS, parse_crs
from gridkit.divisions import load_divisions
from gridkit.errors import InputError
from gridkit.events import (
    DEFAULT_SLA_HOURS,
    EventGrids,
    EventParams,
    EventsResult,
    accumulate,
    resolve_period_end,
    summarise,
)
from gridkit.i18n import pick
from gridkit.io import atomic_output, check_writable, read_layer, read_table
from gridkit.io.yamlfile import read_yaml
from gridkit.maps import (
    COVERAGE_METRICS,
    DEFAULT_TOLERANCE_M,
    METRICS,
    STATIC_DIR,
    GridMap,
    coverage_map,
    events_map,
    findings_map,
    grids_map,
    human_size,
    names_lookup,
    render_html,
    resolve_basemap,
    write_map,
)
from gridkit.pdf import print_pdf, require_chromium
from gridkit.report_docx import write_docx
from gridkit.scoring import ScoreResult, load_config, score
from gridkit.scoring import render_html as score_html
from gridkit.validate import ValidationResult, validate
from gridkit.validate import load_config as load_rules
from gridkit.validate.config import RULE_NAMES_ZH

#: Input files a project may name, in the order of the data-source table.
INPUTS = ("grids", "communities", "reference", "codes", "filings", "party", "cadres", "workers",
          "events", "evaluation", "validation")
#: Other keys of a project file and their meaning.
SETTINGS = {"title": "report title", "period": "evaluation period (text)",
            "crs": "CRS of the grid layer when the file has none (--crs)",
            "events_crs": "CRS of the work orders' lon/lat (default wgs84)",
            "dispatch_sla": "hours (default 2)", "period_end": "date (default: end of year)",
            "metric_crs": "metric CRS (default EPSG:4547)",
            "tolerance_m": "map simplification tolerance in metres (default 5)"}
_INPUT_NAMES = {
    "grids": ("综合网格图层", "grid layer"), "communities": ("社区图层", "communities layer"),
    "reference": ("已发布网格图层（市规自局）", "published layer (reference)"),
    "codes": ("统计用区划代码表", "official code list"), "filings": ("网格备案", "filings"),
    "party": ("党组织", "Party organisations"), "cadres": ("包联干部", "cadres"),
    "workers": ("网格员", "grid workers"), "events": ("工单", "work orders"),
    "evaluation": ("绩效评价指标体系", "evaluation indicator tree"),
    "validation": ("校验规则配置", "validation rules"),
}
#: Report levels of the coverage and work-order tables.
TABLE_LEVELS = ("district", "street")
COVERAGE_COLUMNS = ("code", "name", "grids", "filing_rate", "party_coverage", "cadre_coverage",
                    "fulltime_worker_coverage", "households_per_fulltime_worker")
EVENT_COLUMNS = ("code", "name", "grids", "events", "located", "outside", "unlocatable",
                 "dispatched", "dispatch_accuracy", "dispatch_timeliness", "closure_rate",
                 "valid_complaints")
#: Findings listed in the report (all are counted in the by-rule table and drawn on the map).
MAX_LISTED_FINDINGS = 300
MAP_KINDS = ("grids", "findings", "coverage", "events")
_NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class Project:
    """A parsed project file: absolute input paths and settings."""

    path: Path
    title: str
    period: str | None
    inputs: dict[str, Path]
    crs: str | None = None
    events_crs: str = "wgs84"
    dispatch_sla: float = DEFAULT_SLA_HOURS
    period_end: str | dt.date | None = None
    metric_crs: str = DEFAULT_METRIC_CRS
    tolerance_m: float = DEFAULT_TOLERANCE_M


def load_project(path: str | os.PathLike) -> Project:
    """Read a project file (YAML, ``yaml.safe_load``); paths are relative to it.

    Raises
    ------
    InputError
        The file is missing or not YAML, a key is unknown, ``grids`` is
        missing, a named input does not exist, a number is not a number.

    Examples
    --------
    >>> p = load_project("data/sample/project.yaml")  # doctest: +SKIP
    >>> sorted(p.inputs)[:3]  # doctest: +SKIP
    ['cadres', 'codes', 'communities']
    """
    path = Path(path)
    data = read_yaml(path, "project file")
    if not isinstance(data, dict):
        raise InputError("a project file must be a YAML mapping (key: value)", path=path)
    unknown = [k for k in data if k not in INPUTS and k not in SETTINGS]
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r}; known: {', '.join([*INPUTS, *SETTINGS])}",
                         path=path)
    if not data.get("grids"):
        raise InputError("the project names no 'grids' layer", path=path)
    inputs = {}
    for key in INPUTS:
        if data.get(key):
            target = (path.parent / str(data[key])).resolve()
            if not target.exists():
                raise InputError(f"{key}: {data[key]} not found (paths are relative to the "
                                 f"project file)", path=path)
            inputs[key] = target
    numbers = {}
    for key, default in (("dispatch_sla", DEFAULT_SLA_HOURS), ("tolerance_m", DEFAULT_TOLERANCE_M)):
        value = data.get(key, default)
        try:
            numbers[key] = float(value)
        except (TypeError, ValueError):
            numbers[key] = math.nan
        if isinstance(value, bool) or not math.isfinite(numbers[key]) or numbers[key] < 0:
            raise InputError(f"{key} must be a number ≥ 0, got {value!r}", path=path)
    period_end = data.get("period_end")
    if isinstance(period_end, dt.datetime):  # YAML's own timestamp: read as the CLI reads it
        period_end = period_end.isoformat(sep=" ")
    settings = {"crs": None if data.get("crs") is None else str(data["crs"]),
                "events_crs": str(data.get("events_crs") or "wgs84"),
                "metric_crs": str(data.get("metric_crs") or DEFAULT_METRIC_CRS)}
    checks = {key: (parse_crs, spec) for key, spec in settings.items() if spec is not None}
    if period_end is not None:
        checks["period_end"] = (resolve_period_end, period_end if isinstance(
            period_end, dt.date) else str(period_end))
    for key, (check, value) in checks.items():
        try:  # refused here, naming the project file and the key, not halfway through
            check(value)
        except InputError as exc:
            raise InputError(f"{key}: {exc.message}", path=path) from None
    return Project(path=path.resolve(), title=str(data.get("title") or path.stem),
                   period=None if data.get("period") is None else str(data["period"]),
                   inputs=inputs, period_end=period_end, **settings, **numbers)


@dataclass
class Analysis:
    """Everything the report shows, computed by :func:`analyse`."""

    project: Project
    grids: gpd.GeoDataFrame
    names: dict[str, str]
    records: dict[str, int]
    validation: ValidationResult | None
    coverage: dict[str, CoverageResult]
    events: dict[str, EventsResult] = field(default_factory=dict)
    event_points: pd.DataFrame | None = None
    score: ScoreResult | None = None


def analyse(project: Project, lang: str = "zh") -> Analysis:
    """Load the project's inputs and run validation, coverage, work orders and scoring.

    Coverage and work orders are rolled up per grid (for the maps) and per
    :data:`TABLE_LEVELS` (for the tables); the events are joined once. The
    scoring config is fed with the whole-city metrics of both.
    """
    inputs = project.inputs
    divisions = load_divisions(inputs.get("codes"))
    grids = read_layer(inputs["grids"], "grids", crs=project.crs)
    layers = {k: read_layer(inputs[k], k) for k in ("communities", "reference") if k in inputs}
    tables = {k: read_table(inputs[k], k) for k in (*ROSTERS, "events") if k in inputs}
    records = {"grids": len(grids), **{k: len(v) for k, v in (layers | tables).items()},
               "codes": len(divisions)}
    names = names_lookup(divisions, layers.get("communities"))
    validation = validate(grids, layers.get("communities"), layers.get("reference"),
                          divisions if "codes" in inputs else None,
                          load_rules(inputs.get("validation")), lang,
                          metric_crs=project.metric_crs)
    rosters = {k: tables[k] for k in ROSTERS if k in tables}
    coverage = {level: compute_coverage(grids, **rosters, by=level, names=names, lang=lang)
                for level in ("grid", *TABLE_LEVELS)}
    analysis = Analysis(project=project, grids=grids, names=names, records=records,
                        validation=validation, coverage=coverage)
    if "events" in tables:
        orders = tables["events"]
        prepared = EventGrids(grids, project.events_crs)
        params = EventParams(prepared.crs, project.dispatch_sla,
                             resolve_period_end(project.period_end, orders["reported_at"].max(),
                                                path=inputs["events"]))
        total = accumulate([orders], prepared, params)
        analysis.events = {level: summarise(total, prepared, params, by=level, names=names,
                                            lang=lang, path=str(inputs["events"]))
                           for level in ("grid", *TABLE_LEVELS)}
        analysis.event_points = orders[["lon", "lat"]]
    if "evaluation" in inputs:
        config = load_config(inputs["evaluation"])
        records["evaluation"] = len(config.indicators)
        metrics = dict(coverage["district"].metrics)
        if analysis.events:
            metrics.update(analysis.events["district"].metrics)
        analysis.score = score(config, metrics)
    return analysis


def project_maps(analysis: Analysis, lang: str = "zh") -> dict[str, GridMap]:
    """The report's maps: grids, validation findings, coverage and work orders."""
    project = analysis.project
    common = {"names": analysis.names, "tolerance_m": project.tolerance_m,
              "metric_crs": project.metric_crs, "lang": lang}
    maps = {"grids": grids_map(analysis.grids, **common)}
    if analysis.validation is not None:
        maps["findings"] = findings_map(analysis.grids, analysis.validation.findings, **common)
    rows = analysis.coverage["grid"].rows
    if any(m in rows and rows[m].notna().any() for m in COVERAGE_METRICS):
        maps["coverage"] = coverage_map(analysis.grids, rows, level="grid", **common)
    if analysis.events:
        maps["events"] = events_map(analysis.grids, analysis.events["grid"].rows,
                                    points=analysis.event_points,
                                    points_crs=project.events_crs, **common)
    return maps


# --------------------------------------------------------------------------- HTML blocks


def _number(value: Any, kind: str) -> str:
    """Table text of a value: ``98.50%``, ``1,234``, ``412.5``; missing → ``-``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if kind == "rate":
        return f"{value:.2%}"
    if kind == "load":
        return f"{value:,.1f}"
    if kind == "count":
        return f"{value:,.0f}"
    return str(value)


#: Report columns that are numbers but not metrics (formatted and right-aligned).
_NUMBER_COLUMNS = {"grids": "count", "outside": "count", "unlocatable": "count",
                   "count": "count", "records": "count", "area_m2": "load"}


def _kind(column: str) -> str:
    return METRICS.get(column) or _NUMBER_COLUMNS.get(column, "text")


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
            labels.get(c) or pick(lang, *HEADERS.get(c, (c, c)))) for c in columns)
    body = Markup("").join(
        Markup("<tr{}>{}</tr>").format(
            Markup(' class="{}"').format(row[row_class]) if row_class else "",
            Markup("").join(
                Markup('<td class="num">{}</td>' if _kind(c) != "text" else "<td>{}</td>").format(
                    _number(row.get(c), _kind(c))) for c in columns))
        for row in rows)
    cap = Markup("<caption>{}</caption>").format(caption) if caption else Markup("")
    return Markup("<table>{}<thead><tr>{}</tr></thead><tbody>{}</tbody></table>").format(
        cap, head, body)


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict]:
    present = [c for c in columns if c in frame.columns]
    return frame[present].astype(object).where(frame[present].notna(), None).to_dict("records")


def _cards(items: Sequence[tuple[str, str]]) -> Markup:
    return Markup('<div class="cards">{}</div>').format(Markup("").join(
        Markup('<div class="card"><b>{}</b><span>{}</span></div>').format(value, label)
        for label, value in items))


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


def _severity(severity: str, lang: str) -> str:
    return {"error": pick(lang, "错误", "error"), "warning": pick(lang, "警告", "warning")}.get(
        severity, severity)


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
             "severity": _severity(severity.get(rule, ""), lang) if n else "-",
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
        listed = [{"rule": _rule_name(r.rule, lang), "severity": _severity(r.severity, lang),
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


def source_rows(analysis: Analysis, lang: str) -> list[dict[str, Any]]:
    """Rows of the data-source table: data, file (relative to the project), records, size,
    modified; shared by the HTML and the Word report."""
    base = analysis.project.path.parent
    rows = []
    for key, path in analysis.project.inputs.items():
        stat = path.stat()
        rows.append({
            "data": pick(lang, *_INPUT_NAMES[key]),
            "file": os.path.relpath(path, base),
            "records": analysis.records.get(key),
            "size": human_size(stat.st_size),
            "modified": dt.datetime.fromtimestamp(stat.st_mtime).strftime("%Y-%m-%d %H:%M"),
        })
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
    maps : map kind (``grids``, ``findings``, ``coverage``, ``events``) → the
        map's HTML page (:func:`gridkit.maps.render_html`); each is embedded
        with ``<iframe srcdoc>``.
    lang : ``zh`` or ``en``.
    generated_at : time stamp of the footer (default: now).
    """
    project = analysis.project
    generated_at = generated_at or dt.datetime.now()
    cov = analysis.coverage["district"].metrics
    ev = analysis.events["district"].metrics if analysis.events else {}
    cards = [(pick(lang, "综合网格", "grids"), f"{len(analysis.grids):,}"),
             (pick(lang, "街道（镇）", "streets"), f"{len(analysis.coverage['street'].rows):,}"),
             (pick(lang, "区", "districts"), f"{len(analysis.coverage['district'].rows):,}")]
    if analysis.validation is not None:
        cards.append((pick(lang, "数据质量错误 / 警告", "errors / warnings"),
                      f"{analysis.validation.errors} / {analysis.validation.warnings}"))
    for key in ("filing_rate", "party_coverage", "fulltime_worker_coverage"):
        if cov.get(key) is not None:
            cards.append((pick(lang, *HEADERS[key]), _number(cov[key], "rate")))
    if ev:
        cards.append((pick(lang, "工单", "work orders"), f"{ev['events']:,}"))
        cards.append((pick(lang, *HEADERS["dispatch_accuracy"]),
                      _number(ev.get("dispatch_accuracy"), "rate")))
    if analysis.score is not None:
        cards.append((pick(lang, "综合得分 / 等级", "total / grade"),
                      f"{analysis.score.total:g} / {analysis.score.grade}"))

    summary = _Section("summary", pick(lang, "项目概况", "Summary"), [_cards(cards)])
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

    coverage = _Section("coverage", pick(lang, "网格备案、党建引领与网格员覆盖情况",
                                         "Filing, Party, cadre and worker coverage"))
    coverage.blocks += _level_tables(analysis.coverage, COVERAGE_COLUMNS, lang)
    coverage.blocks.append(_findings_list(analysis.coverage["district"].findings, lang))
    if "coverage" in maps:
        coverage.blocks.append(figure(maps["coverage"], pick(
            lang, "图：覆盖情况（红色网格缺党组织/专职网格员等；右上角切换指标）",
            "Map: coverage per grid (red: no Party organisation / full-time worker ...)")))
    sections.append(coverage)

    if analysis.events:
        events = _Section("events", pick(lang, "工单办理情况", "Work orders"))
        params = analysis.events["district"].params.to_dict()
        events.blocks.append(_paragraph(pick(
            lang, f"转派时限 {params['dispatch_sla_hours']:g} 小时；办结统计截至 "
                  f"{params['period_end']}；坐标系 {params['crs']}。",
            f"Dispatch SLA {params['dispatch_sla_hours']:g} h; closed by {params['period_end']}; "
            f"coordinates {params['crs']}.")))
        events.blocks += _level_tables(analysis.events, EVENT_COLUMNS, lang)
        events.blocks.append(_findings_list(analysis.events["district"].findings, lang))
        if "events" in maps:
            events.blocks.append(figure(maps["events"], pick(
                lang, "图：工单分布与转派准确率（右上角切换：工单量、转派准确率、热力图）",
                "Map: work orders per grid, dispatch accuracy, heat map")))
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
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(STATIC_DIR), autoescape=True,
                             keep_trailing_newline=True)
    return env.get_template("report.html.j2").render(
        lang=lang, title=project.title, subtitle=subtitle, sections=sections, footer=footer,
        version=__version__)


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class ReportOutput:
    """A written report: its path and size, the maps it embeds, any maps written beside it,
    the Word and PDF documents when asked for (``path`` is None when only those were)."""

    path: Path | None
    bytes: int
    maps: list[str]
    map_files: dict[str, Path]
    analysis: Analysis
    docx: Path | None = None
    pdf: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form printed by ``gridkit report/demo --format json``."""
        validation = self.analysis.validation
        result = {"path": None if self.path is None else str(self.path), "bytes": self.bytes,
                  "maps": self.maps, "map_files": {k: str(v) for k, v in self.map_files.items()},
                  "docx": None if self.docx is None else str(self.docx),
                  "pdf": None if self.pdf is None else str(self.pdf)}
        if validation is not None:
            result.update(errors=validation.errors, warnings=validation.warnings)
        if self.analysis.score is not None:
            result.update(total=self.analysis.score.total, grade=self.analysis.score.grade)
        return result


def write_report(project: str | os.PathLike | Project, out: str | os.PathLike | None, *,
                 offline: bool = True, basemap: str | None = None, lang: str = "zh",
                 force: bool = False, maps_dir: str | os.PathLike | None = None,
                 png: bool = False, docx: str | os.PathLike | None = None,
                 pdf: str | os.PathLike | None = None) -> ReportOutput:
    """Analyse a project and write its report (and, with ``maps_dir``, each map as a file).

    Parameters
    ----------
    project : a project file or a :class:`Project`.
    out : the report's path (None: no HTML file, e.g. only ``docx`` or ``pdf``).
    offline : inline Leaflet in the embedded maps and load no tiles (default:
        the report is handed upward and opened on intranets).
    basemap : tile basemap of the maps when online (see :func:`gridkit.maps.render_html`).
    maps_dir : also write ``<kind>.html`` for every map there (``gridkit demo``).
    png : with ``maps_dir``, also a PNG of every map.
    docx : also the report as a Word document (:mod:`gridkit.report_docx`).
    pdf : also the HTML report printed to PDF with headless Chromium (:mod:`gridkit.pdf`).

    Every output is checked (and Chromium found) before any work starts.
    """
    project = project if isinstance(project, Project) else load_project(project)
    basemap = resolve_basemap(basemap, offline)
    inputs = (project.path, *project.inputs.values())  # never overwritten, even with force
    documents = [p for p in (out, docx, pdf) if p is not None]
    if not documents:
        raise InputError("nothing to write: give the HTML report, --docx or --pdf")
    out, docx, pdf = (None if p is None else check_writable(p, force, inputs=inputs,
                                                             folder=False)
                      for p in (out, docx, pdf))
    if len({Path(p).resolve() for p in documents}) < len(documents):
        raise InputError("the HTML, Word and PDF outputs must be different files")
    browser = require_chromium() if pdf is not None else None
    map_targets = {}
    if maps_dir is not None:
        map_targets = {kind: Path(maps_dir) / f"{kind}.html" for kind in MAP_KINDS}
        for target in map_targets.values():
            check_writable(target, force, inputs=inputs, folder=False)
            if png:
                check_writable(target.with_suffix(".png"), force, inputs=inputs, folder=False)
    analysis = analyse(project, lang)
    maps = project_maps(analysis, lang)
    pages = {kind: render_html(m, basemap=basemap, offline=offline) for kind, m in maps.items()}
    written = {kind: write_map(maps[kind], map_targets[kind], basemap=basemap, offline=offline,
                              png=png, force=force, page=pages[kind]).path
               for kind in maps if kind in map_targets}
    text = render_report(analysis, pages, lang).encode("utf-8")
    if out is not None:
        with atomic_output(out, force) as tmp:
            tmp.write_bytes(text)
    if docx is not None:
        write_docx(analysis, maps, docx, lang=lang, force=force,
                   sources=source_rows(analysis, lang))
    if pdf is not None:
        with tempfile.TemporaryDirectory(prefix="gridkit-report-") as folder:
            page = Path(folder) / "report.html"
            page.write_bytes(text)
            print_pdf(page, pdf, force=force, binary=browser)
    return ReportOutput(path=out, bytes=len(text), maps=list(maps), map_files=written,
                        analysis=analysis, docx=docx, pdf=pdf)

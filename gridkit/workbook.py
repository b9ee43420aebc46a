"""The tables of ``validate``, ``coverage``, ``events`` and ``score`` as sheets.

Each function takes a command's JSON result (the stable form of SPEC §7, so
the tables match ``--format json`` exactly) and returns the
:class:`~gridkit.io.xlsx.Table` s of its workbook: Chinese headers and sheet
names by default, English with ``lang="en"``, every column typed (codes as
text, rates as fractions shown as percentages).
:func:`gridkit.io.xlsx.write_workbook` writes them; the Word report reuses
the same tables.

Examples
--------
>>> from gridkit.scoring import parse_evaluation, score
>>> config = parse_evaluation({"parts": [{"name": "结果", "weight": 1, "groups": [{"name": "产出",
...     "indicators": [{"id": "f", "name": "备案率", "points": 100, "method": "positive",
...                     "target": 0.9, "actual": 0.95, "unit": "%"}]}]}]})
>>> [t.title for t in score_tables(score(config).to_dict())]
['指标得分', '汇总']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gridkit.i18n import level_name, pick, severity_name
from gridkit.io.xlsx import Column, Table, Typed
from gridkit.metrics import METRICS, label, table_columns
from gridkit.scoring import headers as score_headers
from gridkit.validate.config import RULE_NAMES_ZH

__all__ = ["metric_column", "metrics_tables", "score_tables", "validation_tables"]

#: Catalogue kind of a metric → column kind.
_METRIC_KINDS = {"rate": "percent", "ratio": "decimal", "count": "count"}
_TABLE_NAMES = {"grids": ("综合网格图层", "grids"), "filings": ("网格备案", "filings"),
                "party": ("党组织", "Party organisations"), "cadres": ("包联干部", "cadres"),
                "workers": ("网格员", "grid workers"), "events": ("工单", "work orders")}
_METHOD_NAMES = {"manual": ("直接评分", "manual"), "positive": ("正向指标", "positive"),
                 "reverse": ("反向指标", "reverse"), "qualitative": ("定性评价", "qualitative"),
                 "equal": ("等于目标", "equal")}


def metric_column(key: str, lang: str) -> Column:
    """The column of a per-unit metric table: its header and kind.

    >>> metric_column("filing_rate", "zh")
    Column(key='filing_rate', header='备案率', kind='percent', hidden=False)
    >>> metric_column("code", "en").kind
    'code'
    """
    if key == "code":
        kind = "code"
    elif key == "name":
        kind = "text"
    else:  # metrics by the catalogue; other columns of the tables are counts
        kind = _METRIC_KINDS[METRICS[key].kind] if key in METRICS else "count"
    return Column(key, label(key, lang), kind)


def _problems_table(findings: Sequence[Mapping[str, Any]], lang: str) -> Table:
    """Rows of a coverage or events result that were left out, and why."""
    rows = [{"table": pick(lang, *_TABLE_NAMES.get(f.get("table"), (f.get("table"),) * 2)),
             "message": f.get("message"), "count": f.get("count"),
             "examples": "; ".join(
                 " ".join(str(e[k]) for k in ("row", "grid_code", "event_id") if e.get(k))
                 for e in f.get("examples") or [])}
            for f in findings]
    columns = [Column("table", pick(lang, "数据", "data")),
               Column("message", pick(lang, "说明", "message")),
               Column("count", pick(lang, "条数", "rows"), "count"),
               Column("examples", pick(lang, "示例（行号 编码）", "examples (row code)"))]
    return Table(pick(lang, "数据问题", "Data problems"), columns, rows)


def metrics_tables(result: Mapping[str, Any], group: str, lang: str = "zh", *,
                   columns: Sequence[str] | None = None) -> list[Table]:
    """Sheets of ``gridkit coverage`` / ``gridkit events``: per unit, totals, data problems.

    Parameters
    ----------
    result : the command's JSON form (``rows``, ``by``, the whole-layer metrics, ``findings``).
    group : ``coverage`` or ``events``: the per-unit columns are the catalogue's
        (:func:`gridkit.metrics.table_columns`), those no row has left out
        (``code`` and ``name`` always kept); the totals sheet (one row) has
        every catalogue metric of the result.
    columns : other per-unit columns, in order (the Word report's narrower tables).
    """
    rows = result.get("rows") or []
    columns = table_columns(group) if columns is None else columns
    summary = [k for k in METRICS if k in result]
    present = [c for c in columns if c in ("code", "name") or any(c in r for r in rows)]
    level = level_name(result.get("by"), lang)
    tables = [Table(pick(lang, f"按{level}", f"By {level}"),
                    [metric_column(c, lang) for c in present], rows)]
    totals = [metric_column(k, lang) for k in summary]
    parameters = result.get("parameters") or {}
    labels = {"dispatch_sla_hours": pick(lang, "转派时限（小时）", "dispatch SLA (hours)"),
              "period_end": pick(lang, "统计截止日期", "period end"),
              "crs": pick(lang, "坐标系", "CRS")}
    totals += [Column(k, labels.get(k, k), "number" if k == "dispatch_sla_hours" else "text")
               for k in parameters]
    tables.append(Table(pick(lang, "合计", "Totals"), totals, [{**result, **parameters}]))
    if result.get("findings"):
        tables.append(_problems_table(result["findings"], lang))
    return tables


def validation_tables(result: Mapping[str, Any], lang: str = "zh") -> list[Table]:
    """Sheets of ``gridkit validate``: findings per rule, then one row per finding.

    The findings sheet has rule, 规则名称, severity, grid codes, area, message,
    the per-rule extra keys present (IoU, offset, ...) and the WKT (EPSG:4490),
    hidden by default; it has as many rows as the JSON has findings.
    """
    findings = result.get("findings") or []
    severity = {}
    for finding in findings:
        severity.setdefault(finding["rule"], finding["severity"])
    skipped = result.get("skipped") or {}
    summary = [{"rule": rule, "name": RULE_NAMES_ZH.get(rule, rule),
                "severity": severity_name(severity.get(rule), lang), "count": n, "note": ""}
               for rule, n in (result.get("by_rule") or {}).items()]
    summary += [{"rule": rule, "name": RULE_NAMES_ZH.get(rule, rule), "severity": "-",
                 "note": pick(lang, f"未检查：{why}", f"not checked: {why}")}
                for rule, why in skipped.items()]
    rule, name = Column("rule", pick(lang, "规则", "rule")), Column("name", "规则名称")
    level = Column("severity", pick(lang, "级别", "severity"))
    summary_columns = [rule, name, level, Column("count", pick(lang, "问题数", "findings"),
                                                 "count"),
                       Column("note", pick(lang, "说明", "note"))]
    extras = {"iou": ("IoU", "IoU", "number"),
              "hausdorff_m": ("豪斯多夫距离(m)", "Hausdorff (m)", "decimal"),
              "shift_m": ("整体偏移(m)", "shift (m)", "decimal"),
              "dx_m": ("东向偏移(m)", "dx (m)", "decimal"),
              "dy_m": ("北向偏移(m)", "dy (m)", "decimal"),
              "offset_crs": ("疑似坐标系", "offset CRS", "text")}
    present = [k for k in extras if any(f.get(k) is not None for f in findings)]
    codes = Column("grid_codes", pick(lang, "网格编码", "grid codes"), "code")
    columns = [rule, name, level, codes,
               Column("area_m2", pick(lang, "面积(平方米)", "area (m²)"), "decimal"),
               Column("message", pick(lang, "说明", "message")),
               *[Column(k, pick(lang, *extras[k][:2]), extras[k][2]) for k in present],
               Column("wkt", pick(lang, "几何(WKT, EPSG:4490)", "geometry (WKT, EPSG:4490)"),
                      hidden=True)]
    rows = [{**f, "name": RULE_NAMES_ZH.get(f["rule"], f["rule"]),
             "severity": severity_name(f["severity"], lang)} for f in findings]
    return [Table(pick(lang, "汇总", "Summary"), summary_columns, summary),
            Table(pick(lang, "问题清单", "Findings"), columns, rows)]


def _score_value(value: float | None, unit: str | None) -> Any:
    if value is None:
        return None
    return Typed(value, "percent") if unit == "%" else value


def score_tables(result: Mapping[str, Any], lang: str = "zh") -> list[Table]:
    """Sheets of ``gridkit score``: the indicators, then the parts with the total and grade.

    Targets and actuals are numbers (percentages for ``unit: "%"``) with the
    unit in its own column; a qualitative indicator's actual is its level.
    """
    def name(item: Mapping[str, Any]) -> str:
        return (item.get("name_en") or item["name"]) if lang == "en" else item["name"]

    parts = {p["name"]: name(p) for p in result["parts"]}
    indicators = [{
        "part": parts.get(i["part"], i["part"]),
        "group": (i.get("group_en") or i["group"]) if lang == "en" else i["group"],
        "id": i["id"], "name": name(i),
        "method": pick(lang, *_METHOD_NAMES.get(i["method"], (i["method"],) * 2)),
        "points": i["points"],
        "target": _score_value(i.get("target"), i.get("unit")),
        "actual": (pick(lang, f"{i['level']} 级", f"level {i['level']}") if i.get("level")
                   else _score_value(i.get("actual"), i.get("unit"))),
        "unit": i.get("unit") if i.get("unit") != "%" else None,
        "score": i["score"], "reason": i.get("reason")} for i in result["indicators"]]
    label = dict(zip(("part", "group", "name", "points", "target", "actual", "score", "reason",
                      "weight", "max", "weighted_score"),
                     score_headers(("part", "group", "name", "points", "target", "actual",
                                    "score", "reason", "weight", "max", "weighted_score"),
                                   lang)))
    indicator_columns = [
        Column("part", label["part"]), Column("group", label["group"]),
        Column("id", pick(lang, "编号", "id")), Column("name", label["name"]),
        Column("method", pick(lang, "计分方法", "method")),
        Column("points", label["points"], "number"), Column("target", label["target"], "number"),
        Column("actual", label["actual"], "number"), Column("unit", pick(lang, "单位", "unit")),
        Column("score", label["score"], "number"), Column("reason", label["reason"])]
    part_rows: list[dict[str, Any]] = [
        {"part": name(p), "weight": p["weight"], "score": p["score"], "max": p["max"],
         "weighted_score": p["weighted_score"]} for p in result["parts"]]
    part_rows.append({"part": pick(lang, "总分", "Total"), "weighted_score": result["total"],
                      "grade": result["grade"]})
    part_columns = [Column("part", label["part"]), Column("weight", label["weight"], "number"),
                    Column("score", label["score"], "number"),
                    Column("max", label["max"], "number"),
                    Column("weighted_score", label["weighted_score"], "number"),
                    Column("grade", pick(lang, "等级", "grade"))]
    return [Table(pick(lang, "指标得分", "Indicators"), indicator_columns, indicators),
            Table(pick(lang, "汇总", "Summary"), part_columns, part_rows)]


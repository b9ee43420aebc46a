"""The score as rows, Markdown and HTML, in Chinese or English.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence

from gridkit.i18n import pick
from gridkit.scoring.model import ScoreResult

__all__ = [
    "INDICATOR_COLUMNS", "PART_COLUMNS", "format_number", "format_value", "headers",
    "indicator_rows", "part_rows", "render_score_html", "render_score_markdown", "summary_line",
]

_HEADERS = {
    "part": ("部分", "Part"),
    "group": ("类别", "Group"),
    "name": ("指标", "Indicator"),
    "points": ("分值", "Points"),
    "target": ("目标值", "Target"),
    "actual": ("实际值", "Actual"),
    "score": ("得分", "Score"),
    "reason": ("扣分原因", "Reason"),
    "weight": ("权重", "Weight"),
    "max": ("满分", "Max"),
    "weighted_score": ("加权得分", "Weighted"),
}
INDICATOR_COLUMNS = ("part", "group", "name", "points", "target", "actual", "score", "reason")
PART_COLUMNS = ("part", "weight", "score", "max", "weighted_score")
_COMPARATORS = {"positive": "≥ ", "reverse": "≤ ", "equal": "= "}


def headers(columns: Sequence[str], lang: str = "zh") -> list[str]:
    """Localised headers of :data:`INDICATOR_COLUMNS` / :data:`PART_COLUMNS`.

    >>> headers(["part", "score"], "en")
    ['Part', 'Score']
    """
    return [pick(lang, *_HEADERS[c]) for c in columns]


def format_number(value: float | None, places: int = 4) -> str:
    """A number with at most ``places`` decimals, trailing zeros dropped; ``-`` for None.

    >>> format_number(9.0), format_number(18.89), format_number(None)
    ('9', '18.89', '-')
    """
    if value is None:
        return "-"
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_value(value: float | None, unit: str | None) -> str:
    """A target or actual for display: fractions as percentages (2 decimals) with ``unit: "%"``.

    >>> format_value(0.9639, "%"), format_value(0.969589, "%"), format_value(10, "件")
    ('96.39%', '96.96%', '10 件')
    """
    if value is None:
        return "-"
    if unit == "%":
        return f"{format_number(value * 100, 2)}%"
    return f"{format_number(value)} {unit}" if unit else format_number(value)


def _name(name: str, name_en: str | None, lang: str) -> str:
    return name_en if lang == "en" and name_en else name


def indicator_rows(result: ScoreResult, lang: str = "zh") -> list[dict[str, str]]:
    """Display rows (strings) of :data:`INDICATOR_COLUMNS`, one per indicator.

    Parts, groups and indicators are shown by their English name with
    ``lang="en"`` when the config gives ``name_en``; targets carry the
    comparison of the method (``≥ 90%``, ``≤ 10 件``, ``= 1``).

    Examples
    --------
    >>> from gridkit.scoring import parse_evaluation, score
    >>> cfg = parse_evaluation({"parts": [{"name": "P", "weight": 1, "groups": [{"name": "G",
    ...     "indicators": [{"id": "c", "name": "有效投诉量", "points": 100,
    ...                     "method": "reverse", "target": 10, "actual": 12, "unit": "件"}]}]}]})
    >>> row = indicator_rows(score(cfg))[0]
    >>> row["target"], row["actual"], row["score"]
    ('≤ 10 件', '12 件', '80')
    """
    part_names = {p.name: _name(p.name, p.name_en, lang) for p in result.parts}
    rows = []
    for ind in result.indicators:
        target = format_value(ind.target, ind.unit)
        if ind.target is not None:
            target = _COMPARATORS[ind.method] + target
        actual = format_value(ind.actual, ind.unit)
        if ind.level is not None:
            actual = pick(lang, f"{ind.level} 级", f"level {ind.level}")
        rows.append({
            "part": part_names[ind.part], "group": _name(ind.group, ind.group_en, lang),
            "name": _name(ind.name, ind.name_en, lang), "points": format_number(ind.points),
            "target": target, "actual": actual, "score": format_number(ind.score),
            "reason": ind.reason or "",
        })
    return rows


def part_rows(result: ScoreResult, lang: str = "zh") -> list[dict[str, str]]:
    """Display rows (strings) of :data:`PART_COLUMNS`, one per part."""
    return [{"part": _name(p.name, p.name_en, lang), "weight": format_number(p.weight),
             "score": format_number(p.score), "max": format_number(p.max),
             "weighted_score": format_number(p.weighted_score)} for p in result.parts]


def summary_line(result: ScoreResult, lang: str = "zh") -> str:
    """The closing line of every rendering.

    >>> result = ScoreResult(total=99.2, grade="优", parts=(), indicators=())
    >>> summary_line(result), summary_line(result, "en")
    ('总分 99.2，等级 优', 'Total 99.2, grade 优')
    """
    total = format_number(result.total)
    return pick(lang, f"总分 {total}，等级 {result.grade}",
                f"Total {total}, grade {result.grade}")


def _md_cell(text: str) -> str:
    text = html.escape(text, quote=False).replace("\\", "\\\\").replace("|", "\\|")
    return " ".join(text.split())


def _md_table(rows: Sequence[Mapping[str, str]], columns: Sequence[str], lang: str,
              numeric: Iterable[str]) -> list[str]:
    numeric = set(numeric)
    lines = ["| " + " | ".join(headers(columns, lang)) + " |",
             "|" + "|".join("---:" if c in numeric else "---" for c in columns) + "|"]
    lines += ["| " + " | ".join(_md_cell(r[c]) for c in columns) + " |" for r in rows]
    return lines


def render_score_markdown(result: ScoreResult, lang: str = "zh") -> str:
    """A Markdown fragment: the indicator table, the part table and the total.

    Config strings are HTML-escaped and ``|`` is escaped, so a name cannot
    break the table or inject markup.
    """
    lines = []
    if result.title:
        lines += [f"**{_md_cell(result.title)}**", ""]
    lines += _md_table(indicator_rows(result, lang), INDICATOR_COLUMNS, lang,
                       ("points", "score"))
    lines.append("")
    lines += _md_table(part_rows(result, lang), PART_COLUMNS, lang,
                       ("weight", "score", "max", "weighted_score"))
    lines += ["", f"**{_md_cell(summary_line(result, lang))}**", ""]
    return "\n".join(lines)


def _html_table(rows: Sequence[Mapping[str, str]], columns: Sequence[str], lang: str,
                numeric: Iterable[str], css: str, caption: str | None = None,
                row_class: Sequence[str] | None = None) -> list[str]:
    numeric = set(numeric)
    esc = html.escape
    out = [f'<table class="{css}">']
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in headers(columns, lang))
               + "</tr></thead>")
    out.append("<tbody>")
    for n, row in enumerate(rows):
        cls = f' class="{row_class[n]}"' if row_class and row_class[n] else ""
        cells = "".join(
            f'<td class="num">{esc(row[c])}</td>' if c in numeric else f"<td>{esc(row[c])}</td>"
            for c in columns)
        out.append(f"<tr{cls}>{cells}</tr>")
    out += ["</tbody>", "</table>"]
    return out


def render_score_html(result: ScoreResult, lang: str = "zh") -> str:
    """An HTML fragment (``<section class="gridkit-score">``) for the report.

    Every config-provided string (title, names, reasons, grade names) is
    escaped with :func:`html.escape`. Deducted indicators carry
    ``class="deducted"``.
    """
    deducted = ["deducted" if i.deducted else "" for i in result.indicators]
    lines = ['<section class="gridkit-score">']
    lines += _html_table(indicator_rows(result, lang), INDICATOR_COLUMNS, lang,
                         ("points", "target", "actual", "score"), "gridkit-score-indicators",
                         caption=result.title, row_class=deducted)
    lines += _html_table(part_rows(result, lang), PART_COLUMNS, lang,
                         ("weight", "score", "max", "weighted_score"), "gridkit-score-parts")
    lines.append(f'<p class="gridkit-score-total">{html.escape(summary_line(result, lang))}</p>')
    lines.append("</section>")
    return "\n".join(lines) + "\n"

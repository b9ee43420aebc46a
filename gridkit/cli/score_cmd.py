"""``gridkit score``: score and grade the performance evaluation from an indicator tree."""

from __future__ import annotations

import click

from gridkit.cli._common import (
    force_option,
    lang_option,
    render_table,
    stdout_is_file,
    to_csv,
    to_json,
    wants_xlsx,
)
from gridkit.i18n import pick
from gridkit.io.write import atomic_output, check_writable
from gridkit.io.xlsx import write_workbook
from gridkit.scoring import (
    INDICATOR_COLUMNS,
    PART_COLUMNS,
    ScoreResult,
    headers,
    indicator_rows,
    load_evaluation,
    load_metrics,
    part_rows,
    render_score_html,
    render_score_markdown,
    score,
    summary_line,
)
from gridkit.workbook import score_tables

__all__ = ["CSV_COLUMNS", "FORMATS", "command", "csv_rows", "render", "render_text"]

FORMATS = ("table", "json", "csv", "markdown", "html", "xlsx")
#: Columns of ``--format csv``: one row per indicator, then one per part
#: (``kind=part``: ``points`` is the part's max) and the total (``kind=total``).
CSV_COLUMNS = ("kind", "part", "group", "id", "name", "method", "points", "target", "actual",
               "unit", "level", "score", "reason", "weight", "weighted_score", "grade")


def render_text(result: ScoreResult, lang: str = "zh") -> str:
    """The human table: indicators, then part scores, then total and grade."""
    lines = [result.title, ""] if result.title else []
    lines.append(render_table(indicator_rows(result, lang), INDICATOR_COLUMNS,
                              headers(INDICATOR_COLUMNS, lang)))
    lines.append("")
    lines.append(render_table(part_rows(result, lang), PART_COLUMNS, headers(PART_COLUMNS, lang)))
    lines += ["", summary_line(result, lang)]
    return "\n".join(lines) + "\n"


def csv_rows(result: ScoreResult) -> list[dict]:
    """Rows of ``--format csv`` (raw values, rates as fractions)."""
    rows: list[dict] = [
        {"kind": "indicator", "part": i.part, "group": i.group, "id": i.id, "name": i.name,
         "method": i.method, "points": i.points, "target": i.target, "actual": i.actual,
         "unit": i.unit, "level": i.level, "score": i.score, "reason": i.reason}
        for i in result.indicators
    ]
    rows += [{"kind": "part", "part": p.name, "name": p.name, "points": p.max, "score": p.score,
              "weight": p.weight, "weighted_score": p.weighted_score} for p in result.parts]
    rows.append({"kind": "total", "name": result.title, "points": 100, "score": result.total,
                 "grade": result.grade})
    return rows


def render(result: ScoreResult, fmt: str, lang: str, *, bom: bool = False) -> str:
    """The output text of ``--format fmt`` (``bom``: of CSV, see :func:`to_csv`)."""
    if fmt == "json":
        return to_json(result.to_dict()) + "\n"
    if fmt == "csv":
        return to_csv(csv_rows(result), CSV_COLUMNS, bom=bom)
    if fmt == "markdown":
        return render_score_markdown(result, lang)
    if fmt == "html":
        return render_score_html(result, lang)
    return render_text(result, lang)


@click.command(name="score")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--metrics", "metrics_paths", multiple=True, type=click.Path(dir_okay=False),
              metavar="FILE",
              help="JSON of gridkit coverage / events (repeatable); `metric:` indicators read "
                   "their actual value from its top-level keys.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Output format: a table, JSON, CSV, a Markdown / HTML fragment, or an Excel "
                   "workbook (xlsx, with --out FILE.xlsx).")
@lang_option
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the output to this file instead of stdout (.xlsx: a workbook; CSV "
                   "files start with a UTF-8 BOM for Excel).")
@force_option
def command(config: str, metrics_paths: tuple[str, ...], fmt: str, lang: str, out: str | None,
            force: bool) -> None:
    """Score and grade the performance evaluation (绩效评价) from an indicator tree.

    CONFIG is a YAML indicator tree (see gridkit/data/evaluation-2023.yaml):
    parts with a weight, groups, indicators scored manual, positive,
    reverse, qualitative or equal. Indicators with `metric:` take their
    actual value from the --metrics JSON files.

    \b
    Example:
      gridkit score gridkit/data/evaluation-2023.yaml            # 99.2, 优
      gridkit score gridkit/data/evaluation-template.yaml \\
        --metrics coverage.json --metrics events.json --format json
      gridkit score data/evaluation-2023.yaml --out 评分.xlsx
    """
    xlsx = wants_xlsx(fmt, out)
    if out is not None:
        check_writable(out, force, inputs=(config, *metrics_paths), folder=False)
    result = score(load_evaluation(config), load_metrics(metrics_paths))
    if xlsx:
        write_workbook(out, score_tables(result.to_dict(), lang), force=force)
    elif out is None:
        click.echo(render(result, fmt, lang, bom=stdout_is_file()), nl=False)
        return
    else:
        with atomic_output(out, force) as tmp:
            tmp.write_text(render(result, fmt, lang, bom=True), encoding="utf-8")
    click.echo(pick(lang, f"已写入 {out}：{summary_line(result, lang)}",
                    f"Wrote {out}: {summary_line(result, lang)}"), err=True)

"""``gridkit report``: the HTML evaluation report of a project file."""

from __future__ import annotations

__all__ = ["command", "echo_result"]

import click

from gridkit.cli._common import force_option, format_option, lang_option, to_csv, to_json
from gridkit.cli._maps import basemap_option, check_basemap, offline_option
from gridkit.i18n import pick
from gridkit.maps import human_size
from gridkit.metrics import format_value, label
from gridkit.report import ReportOutput, write_report


def echo_result(out: ReportOutput, fmt: str, lang: str) -> None:
    """Print what the report found and where it is (shared with ``gridkit demo``)."""
    info = out.to_dict()
    if fmt == "json":
        click.echo(to_json(info))
        return
    if fmt == "csv":
        click.echo(to_csv([info], ("path", "bytes", "errors", "warnings", "total", "grade")),
                   nl=False)
        return
    analysis = out.analysis
    sep = pick(lang, "，", ", ")
    lines = []
    if analysis.validation is not None:
        v = analysis.validation
        lines.append(pick(lang, f"校验：网格 {v.grids:,} 个，错误 {v.errors} 条，"
                                f"警告 {v.warnings} 条",
                          f"validation: {v.grids:,} grids, {v.errors} errors, "
                          f"{v.warnings} warnings"))
    cov = analysis.coverage["district"].metrics
    lines.append(pick(lang, "覆盖：", "coverage: ") + sep.join(
        f"{label(k, lang)} {format_value(cov.get(k), k)}"
        for k in ("filing_rate", "party_coverage", "cadre_coverage", "fulltime_worker_coverage")))
    if analysis.events:
        ev = analysis.events["district"].metrics
        lines.append(pick(lang, f"工单：{ev['events']:,} 条，", f"work orders: {ev['events']:,}, ")
                     + sep.join(f"{label(k, lang)} {format_value(ev.get(k), k)}"
                                for k in ("dispatch_accuracy", "dispatch_timeliness",
                                          "closure_rate")))
    if analysis.score is not None:
        lines.append(pick(lang, f"评分：{analysis.score.total:g}（{analysis.score.grade}）",
                          f"score: {analysis.score.total:g} ({analysis.score.grade})"))
    lines += [pick(lang, f"地图 {kind}：{path}", f"map {kind}: {path}")
              for kind, path in out.map_files.items()]
    lines.append(pick(lang, f"报告：{out.path}（{human_size(out.bytes)}）",
                      f"report: {out.path} ({human_size(out.bytes)})"))
    click.echo("\n".join(lines))


@click.command(name="report")
@click.argument("project", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), default="report.html", show_default=True,
              help="The report's HTML file.")
@offline_option
@basemap_option
@lang_option
@force_option
@format_option
def command(project: str, out: str, offline: bool, basemap: str | None, lang: str, force: bool,
            fmt: str) -> None:
    """Write the HTML evaluation report (绩效评价报告) of a project.

    PROJECT is a YAML file naming the inputs, paths relative to it: title,
    period, grids, communities, reference, codes, filings, party, cadres,
    workers, events, evaluation (scoring config), validation (rules), and
    optional crs, events_crs, dispatch_sla, period_end, metric_crs,
    tolerance_m (see data/sample/project.yaml). The report is one
    self-contained page: summary, score table, validation summary, coverage
    and work-order tables by district and street, the maps, the data sources
    with their dates. Validation errors are reported, not fatal (exit 0).

    \b
    Example:
      gridkit report data/sample/project.yaml --out report.html
      gridkit report project.yaml --online --basemap amap --lang en
    """
    check_basemap(basemap, offline)
    echo_result(write_report(project, out, offline=offline, basemap=basemap, lang=lang,
                             force=force), fmt, lang)

"""``gridkit report``: the HTML evaluation report of a project file."""

from __future__ import annotations

__all__ = ["command", "echo_result"]

import click

from gridkit.cli._common import force_option, format_option, lang_option, to_csv, to_json
from gridkit.cli._maps import basemap_option, check_basemap, offline_option
from gridkit.i18n import pick
from gridkit.maps import human_size
from gridkit.report import ReportOutput, headline_figures, write_report


def echo_result(out: ReportOutput, fmt: str, lang: str) -> None:
    """Print what the report found and where it is (shared with ``gridkit demo``)."""
    info = out.to_dict()
    if fmt == "json":
        click.echo(to_json(info))
        return
    if fmt == "csv":
        click.echo(to_csv([info], ("path", "bytes", "docx", "pdf", "errors", "warnings", "total",
                                   "grade")),
                   nl=False)
        return
    colon = pick(lang, "：", ": ")
    lines = [f"{name}{colon}{value}" for name, value in headline_figures(out.analysis, lang)]
    lines += [pick(lang, f"地图 {kind}：{path}", f"map {kind}: {path}")
              for kind, path in out.map_files.items()]
    if out.path is not None:
        lines.append(pick(lang, f"报告：{out.path}（{human_size(out.bytes)}）",
                          f"report: {out.path} ({human_size(out.bytes)})"))
    for name, path in ((pick(lang, "Word 报告", "Word report"), out.docx),
                       (pick(lang, "PDF 报告", "PDF report"), out.pdf)):
        if path is not None:
            size = human_size(path.stat().st_size)
            lines.append(pick(lang, f"{name}：{path}（{size}）", f"{name}: {path} ({size})"))
    click.echo("\n".join(lines))


@click.command(name="report")
@click.argument("project", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), default="report.html", show_default=True,
              help="The report's HTML file (not written when only --docx/--pdf are given).")
@click.option("--docx", type=click.Path(dir_okay=False), default=None,
              help="Also (or only) the report as a Word document (A4, 宋体/黑体, maps as images).")
@click.option("--pdf", type=click.Path(dir_okay=False), default=None,
              help="Also (or only) the HTML report printed to PDF by headless Chromium "
                   "($GRIDKIT_CHROMIUM or chromium on PATH).")
@offline_option
@basemap_option
@lang_option
@force_option
@format_option
def command(project: str, out: str, docx: str | None, pdf: str | None, offline: bool,
            basemap: str | None, lang: str, force: bool, fmt: str) -> None:
    """Write the HTML evaluation report (绩效评价报告) of a project.

    PROJECT is a YAML file naming the inputs, paths relative to it: title,
    period, grids, communities, reference, codes, filings, party, cadres,
    workers, events, evaluation (scoring config), validation (rules), and
    optional crs, events_crs, dispatch_sla, period_end, metric_crs,
    tolerance_m (see gridkit/data/sample/project.yaml). With previous_grids (last
    year's layer) and changed_on (a date), a section 网格调整 shows the
    changes, their map and the grids to file again. The report is one
    self-contained page: summary, score table, validation summary, coverage
    and work-order tables by district and street, the maps, the data sources
    with their dates. Validation errors are reported, not fatal (exit 0).
    --docx writes the same report as a Word document, --pdf prints it to PDF;
    given without --out, no HTML file is written.

    \b
    Example:
      gridkit report gridkit/data/sample/project.yaml --out report.html
      gridkit report project.yaml --online --basemap amap --lang en
      gridkit report project.yaml --out report.html --docx report.docx --pdf report.pdf
    """
    check_basemap(basemap, offline)
    source = click.get_current_context().get_parameter_source("out")
    if (docx or pdf) and source is click.core.ParameterSource.DEFAULT:
        out = None
    echo_result(write_report(project, out, offline=offline, basemap=basemap, lang=lang,
                             force=force, docx=docx, pdf=pdf), fmt, lang)

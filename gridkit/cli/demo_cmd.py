"""``gridkit demo``: the whole pipeline on the shipped sample (gridkit/data/sample)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from gridkit.cli._common import force_option, format_option, lang_option
from gridkit.cli._maps import basemap_option, check_basemap, offline_option
from gridkit.cli.report_cmd import echo_result
from gridkit.data import SAMPLE_DIR
from gridkit.errors import InputError
from gridkit.i18n import pick
from gridkit.report import write_report
from gridkit.report.pdf import find_chromium

__all__ = ["DEFAULT_OUT", "SAMPLE_PROJECT", "command"]

SAMPLE_PROJECT = SAMPLE_DIR / "project.yaml"
DEFAULT_OUT = "maps"


@click.command(name="demo")
@click.option("--out", type=click.Path(file_okay=False), default=DEFAULT_OUT, show_default=True,
              help="Folder for the report and the maps (created if missing). The default "
                   "folder is the demo's own: a new run replaces its files; a folder you "
                   "name is not overwritten without --force.")
@offline_option
@basemap_option
@click.option("--png", is_flag=True, help="Also write a PNG of every map.")
@lang_option
@force_option
@format_option
def command(out: str, offline: bool, basemap: str | None, png: bool, lang: str, force: bool,
            fmt: str) -> None:
    """Run validate, coverage, events, score, maps and report on the packaged sample.

    The sample is a synthetic part of Guangzhou (gridkit synth) with injected
    defects: the validation errors it finds are the point of the demo, not a
    failure. Writes OUT/report.html and OUT/{grids,findings,coverage,events,diff}.html,
    offline by default (self-contained, for intranets), and beside them
    OUT/report.docx (Word) and, when Chromium is found, OUT/report.pdf.

    \b
    Example:
      gridkit demo                      # then open maps/report.html
      gridkit demo --out /tmp/demo --online --basemap amap --png
    """
    check_basemap(basemap, offline)
    # maps/ is where the demo writes by default: running it again must just work.
    source = click.get_current_context().get_parameter_source("out")
    force = force or source is click.core.ParameterSource.DEFAULT
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, a read-only place
        raise InputError(f"cannot create the output folder: {exc.strerror}", path=folder,
                         hint="choose another {option}", option=("out", None)) from None
    docx = folder / "report.docx" if importlib.util.find_spec("docx") else None
    pdf = folder / "report.pdf" if find_chromium() else None
    echo_result(write_report(SAMPLE_PROJECT, folder / "report.html", offline=offline,
                             basemap=basemap, lang=lang, force=force, maps_dir=folder, png=png,
                             docx=docx, pdf=pdf), fmt, lang)
    missing = [what for what, path in ((pick(lang, "Word（需要 python-docx）",
                                             "Word (needs python-docx)"), docx),
                                       (pick(lang, "PDF（未找到 Chromium）",
                                             "PDF (no Chromium found)"), pdf)) if path is None]
    if missing:
        click.echo(pick(lang, "未生成：", "not written: ") + pick(lang, "、", ", ").join(missing),
                   err=True)

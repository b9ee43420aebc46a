"""``gridkit demo``: the whole pipeline on the shipped sample (data/sample)."""

from __future__ import annotations

__all__ = ["command"]

from pathlib import Path

import click

from gridkit.cli._common import force_option, format_option, lang_option
from gridkit.cli._maps import basemap_option, check_basemap, offline_option
from gridkit.cli.report_cmd import echo_result
from gridkit.divisions import DATA_DIR
from gridkit.errors import InputError
from gridkit.report import write_report

SAMPLE_PROJECT = DATA_DIR / "sample" / "project.yaml"
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
    """Run validate, coverage, events, score, maps and report on data/sample.

    The sample is a synthetic part of Guangzhou (gridkit synth) with injected
    defects: the validation errors it finds are the point of the demo, not a
    failure. Writes OUT/report.html and OUT/{grids,findings,coverage,events}.html,
    offline by default (self-contained, for intranets).

    \b
    Example:
      gridkit demo                      # then open maps/report.html
      gridkit demo --out /tmp/demo --online --basemap amap --png
    """
    if not SAMPLE_PROJECT.exists():
        raise InputError("the sample project is missing (a source checkout has it)",
                         path=SAMPLE_PROJECT)
    check_basemap(basemap, offline)
    # maps/ is where the demo writes by default: running it again must just work.
    source = click.get_current_context().get_parameter_source("out")
    force = force or source is click.core.ParameterSource.DEFAULT
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    echo_result(write_report(SAMPLE_PROJECT, folder / "report.html", offline=offline,
                             basemap=basemap, lang=lang, force=force, maps_dir=folder, png=png),
                fmt, lang)

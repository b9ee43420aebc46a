"""``gridkit synth``: build a synthetic Guangzhou-like data set with known defects."""

from __future__ import annotations

from pathlib import Path

import click

from gridkit.cli._common import (
    force_option,
    format_option,
    lang_option,
    progress_enabled,
    render_table,
    to_csv,
    to_json,
)
from gridkit.i18n import pick
from gridkit.metrics import label

__all__ = ["SUMMARY_KEYS", "command", "summary_rows"]

#: Summary rows: the grid count, the injected defects and the metrics of the truth.
SUMMARY_KEYS = ("grids", "defects", "filing_rate", "party_coverage", "cadre_coverage",
                "fulltime_worker_coverage", "households_per_fulltime_worker", "events",
                "located", "outside", "unlocatable", "dispatched", "dispatch_accuracy",
                "dispatch_timeliness", "closure_rate", "valid_complaints")


def summary_rows(truth: dict, lang: str) -> list[dict]:
    """One row per headline number of the truth: ``key``, ``item`` (label), ``value``."""
    values = {**truth["metrics"], "defects": len(truth["defects"])}
    return [{"key": key, "item": (pick(lang, zh="注入缺陷", en="injected defects")
                                  if key == "defects" else label(key, lang)),
             "value": values.get(key)} for key in SUMMARY_KEYS]


@click.command("synth")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (created; an existing non-empty folder needs --force, which "
                   "replaces the data files and keeps any other file in it).")
@click.option("--grids", default=2000, show_default=True, type=click.IntRange(min=1),
              help="Number of grids (at least the number of streets of the districts).")
@click.option("--events", default=20000, show_default=True, type=click.IntRange(min=0),
              help="Number of work orders in events.parquet.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Random seed: the same options give identical files.")
@click.option("--defects", is_flag=True,
              help="Inject defects of every validation rule and write grids-gcj02.gpkg.")
@click.option("--districts", default=None, metavar="CODES",
              help="Comma-separated 6-digit district codes, e.g. 440103,440104 (default: all 11).")
@force_option
@format_option
@lang_option
def command(out: Path, grids: int, events: int, seed: int, defects: bool, districts: str | None,
            force: bool, fmt: str, lang: str) -> None:
    """Build a synthetic Guangzhou-like data set with known defects (合成数据).

    Real district outlines and real street/community codes; grids, rosters
    (filings, Party organisations, cadres, grid workers) and work orders are
    fictitious. truth.json lists the injected defects and the expected metrics.

    \b
    Example:
      gridkit synth --out demo --grids 2000 --events 20000 --seed 7 --defects
      gridkit synth --out sample --districts 440103,440104 --grids 350 --events 30000
    """
    from gridkit.synth import FILES, OFFSET_FILE, synthesize

    codes = None if districts is None else districts.split(",")
    truth = synthesize(out, grids=grids, events=events, seed=seed, defects=defects,
                       districts=codes, force=force, progress=progress_enabled())
    files = [*FILES, *([OFFSET_FILE] if defects else [])]
    rows = summary_rows(truth, lang)
    if fmt == "json":
        click.echo(to_json({"out": str(out), "files": files, **truth}))
    elif fmt == "csv":
        click.echo(to_csv(rows, ["key", "value"]), nl=False)
    else:
        click.echo(pick(lang, zh=f"已写入 {out}：{', '.join(files)}",
                        en=f"wrote {out}: {', '.join(files)}"))
        headers = [pick(lang, zh="项目", en="item"), pick(lang, zh="数值", en="value")]
        click.echo(render_table(rows, ["item", "value"], headers))

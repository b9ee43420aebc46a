"""``gridkit diff``: what changed between two versions of a grid layer (网格调整)."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from gridkit.cli._common import (
    config_option,
    force_option,
    format_option,
    lang_option,
    metric_crs_option,
    render_table,
    to_csv,
    to_json,
)
from gridkit.diff import CHANGE_NAMES_ZH, DiffResult, diff, refile_list
from gridkit.errors import InputError
from gridkit.i18n import pick
from gridkit.io import check_writable, parse_datetimes, read_layer, read_table
from gridkit.validate import load_config

__all__ = ["CSV_COLUMNS", "command", "render", "render_text"]

#: Columns of ``--format csv``: one row per change (codes joined with ``;``).
CSV_COLUMNS = ("change", "old_codes", "new_codes", "area_m2", "community_code")
#: Changes listed per kind in the table.
EXAMPLES = 10


def render_text(result: DiffResult, lang: str) -> str:
    """Counts per change kind, the changes themselves (not the unchanged), the work list."""
    head = pick(lang, zh=f"原图层 {result.old} 个网格，新图层 {result.new} 个网格",
                en=f"old layer {result.old} grids, new layer {result.new} grids")
    summary = [{"change": k, "name": CHANGE_NAMES_ZH[k], "count": n}
               for k, n in result.by_change.items() if n]
    columns = ("change", "name", "count") if lang == "zh" else ("change", "count")
    titles = {"change": pick(lang, zh="变化", en="change"), "name": "名称",
              "count": pick(lang, zh="数量", en="count")}
    lines = [head, "", render_table(summary, columns, [titles[c] for c in columns]), ""]
    rows = []
    for kind in (k for k, n in result.by_change.items() if n and k != "unchanged"):
        records = [r for r in result.records() if r["change"] == kind]
        for r in records[:EXAMPLES]:
            rows.append({"change": kind, "old": ", ".join(r["old_codes"]) or "-",
                         "new": ", ".join(r["new_codes"]) or "-", "area": r["area_m2"]})
        if len(records) > EXAMPLES:
            more = len(records) - EXAMPLES
            rows.append({"change": kind, "old": pick(lang, zh=f"…… 另有 {more} 条",
                                                     en=f"... {more} more")})
    if rows:
        heads = [pick(lang, zh="变化", en="change"), pick(lang, zh="原编码", en="old codes"),
                 pick(lang, zh="新编码", en="new codes"), pick(lang, zh="面积(平方米)",
                                                               en="area (m²)")]
        lines += [render_table(rows, ("change", "old", "new", "area"), heads), ""]
    if result.refile is not None:
        lines.append(pick(lang, zh=f"需重新备案的网格 {len(result.refile)} 个",
                          en=f"{len(result.refile)} grids to file again"))
        work = [{**r, "last_filed_on": r["last_filed_on"] or "-"}
                for r in result.refile_records()]
        if work:
            keys = ("grid_code", "change", "community_code", "last_filed_on")
            heads = [pick(lang, zh="网格编码", en="grid code"), pick(lang, zh="变化", en="change"),
                     pick(lang, zh="社区编码", en="community"),
                     pick(lang, zh="最近备案日期", en="last filed")]
            lines += ["", render_table(work, keys, heads)]
    return "\n".join(lines).rstrip() + "\n"


def render(result: DiffResult, fmt: str, lang: str) -> str:
    """The output text of ``--format fmt``."""
    if fmt == "json":
        return to_json(result.to_dict()) + "\n"
    if fmt == "csv":
        return to_csv([{**r, "old_codes": ";".join(r["old_codes"]),
                        "new_codes": ";".join(r["new_codes"])} for r in result.records()],
                      CSV_COLUMNS)
    return render_text(result, lang)


def _date(value: str) -> pd.Timestamp:
    try:
        parsed = parse_datetimes(pd.Series([value])).iloc[0]
    except InputError:
        parsed = pd.NaT
    if pd.isna(parsed):
        raise InputError(f"--changed-on: {value!r} is not a date (e.g. 2024-01-01)")
    return parsed


@click.command(name="diff")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.option("--filings", "filings_path", metavar="FILE",
              help="Filings table (grid_code, filed_on, status): list the changed grids "
                   "without a filing since --changed-on.")
@click.option("--changed-on", metavar="DATE",
              help="Date the new layer took effect (with --filings), e.g. 2024-01-01.")
@click.option("--out", metavar="changes.gpkg|.csv",
              help="Write the changes: a GeoPackage (layer changes, EPSG:4490) or a CSV.")
@metric_crs_option
@config_option
@force_option
@format_option
@lang_option
def command(old: str, new: str, filings_path: str | None, changed_on: str | None,
            out: str | None, metric_crs: str, config_path: str | None, force: bool, fmt: str,
            lang: str) -> None:
    """Classify every grid between two layer versions (网格调整).

    unchanged, reshaped, split, merged, recoded, added, removed, or redrawn
    (a split-and-merge across several grids).

    \b
    Example:
      gridkit diff grids-2023.gpkg grids-2024.gpkg --out changes.gpkg
      gridkit diff grids-2023.gpkg grids-2024.gpkg --filings filings.csv \\
          --changed-on 2024-01-01
    """
    if (filings_path is None) != (changed_on is None):
        raise InputError("--filings and --changed-on go together")
    if out:
        if Path(out).suffix.lower() not in (".gpkg", ".csv"):
            raise InputError("--out must be a .gpkg or .csv file", path=out)
        check_writable(out, force, inputs=(old, new, filings_path, config_path), folder=False)
    since = _date(changed_on) if changed_on else None
    config = load_config(config_path)
    result = diff(read_layer(old, "grids"), read_layer(new, "grids"), config,
                  metric_crs=metric_crs)
    if filings_path:
        result.refile = refile_list(result, read_table(filings_path, "filings"), since)
    if out:
        result.write(out, force)
    click.echo(render(result, fmt, lang), nl=False)

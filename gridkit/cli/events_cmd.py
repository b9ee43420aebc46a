"""``gridkit events``: join work orders to grids; dispatch and closure metrics."""

from __future__ import annotations

__all__ = ["command"]

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from gridkit.cli._common import (
    column_option,
    force_option,
    lang_option,
    parse_column_overrides,
    progress_enabled,
    wants_xlsx,
    xlsx_format_option,
)
from gridkit.cli._rollup import by_option, codes_option, column_overrides, render
from gridkit.codes import code_names, load_divisions
from gridkit.errors import InputError
from gridkit.events import (
    BAD_ROWS,
    CHUNK_ROWS,
    DEFAULT_SLA_HOURS,
    DEFAULT_TZ,
    ENGINES,
    METRIC_KEYS,
    REJECT_COLUMNS,
    EventParams,
    EventsResult,
    Progress,
    join_events,
)
from gridkit.i18n import pick
from gridkit.io import atomic_output, check_writable, read_layer
from gridkit.metrics import label
from gridkit.rollup import layer_codes

#: Shown in tables for a metric whose input column is absent (never 0).
UNAVAILABLE = "—"
#: Reason codes of the rejects CSV in words.
REASONS = {"not_a_time": ("无法识别的时间", "cannot be read as a date/time"),
           "not_a_number": ("不是数字", "not a number"),
           "before_reported_at": ("早于上报时间", "before the report time (reported_at)")}

@click.command(name="events")
@click.argument("grids", type=click.Path(dir_okay=False))
@click.argument("events", type=click.Path(dir_okay=False))
@click.option("--crs", "crs_spec", default=None,
              help="Coordinate system of the events' lon/lat: an EPSG code (4490, 4326, 4547, "
                   "...) or wgs84, cgcs2000, gcj02, bd09. Default: wgs84.")
@click.option("--grids-crs", default=None,
              help="CRS of the grid layer when the file has none (same values as --crs).")
@click.option("--dispatch-sla", "dispatch_sla_hours", type=click.FloatRange(min=0),
              default=DEFAULT_SLA_HOURS, show_default=True,
              help="Dispatch within this many hours of the report is timely.")
@click.option("--period-end", default=None, metavar="DATE",
              help="Closed by the end of this day counts as closed (default: 31 December of "
                   "the year of the latest report).")
@by_option
@codes_option
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the joined events (event_id, grid_code, status, flags) as Parquet; "
                   ".xlsx: an Excel workbook of the --by table, the totals and data problems.")
@force_option
@xlsx_format_option
@lang_option
@column_option
@click.option("--event-column", "event_columns", multiple=True, metavar="CANONICAL=SOURCE",
              help="Map a column of the events file, e.g. --event-column reported_at=CreatedDate "
                   "(repeatable; --column does the same for both files).")
@click.option("--date-format", "date_formats", multiple=True, metavar="FORMAT",
              help="strptime format of the events' times, e.g. '%m/%d/%Y %I:%M:%S %p' "
                   "(repeatable, tried in order; %z reads an offset). Default: the usual "
                   "Chinese and ISO spellings, Excel dates.")
@click.option("--tz", default=DEFAULT_TZ, show_default=True, metavar="ZONE",
              help="IANA time zone: times without an offset are in it, times with one are "
                   "converted to it, and --period-end is a day in it.")
@click.option("--bad-rows", type=click.Choice(BAD_ROWS), default="error", show_default=True,
              help="A row with an impossible value (unreadable time or lon/lat, dispatched "
                   "or closed before reported): error stops; skip treats the value as "
                   "missing, still joins and counts the row, and reports it as rejected.")
@click.option("--rejects", type=click.Path(dir_okay=False), default=None, metavar="FILE.csv",
              help="Write the rejected values (row, column, value, reason) to this CSV "
                   "(UTF-8 with BOM, opens in Excel).")
@click.option("--chunk-rows", type=click.IntRange(min=1), default=CHUNK_ROWS, show_default=True,
              help="Events read and joined per chunk, or per dask partition (bounds memory).")
@click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
              help="local: chunked join on this machine (threads); dask: the same join on "
                   "dask-geopandas partitions, on a local cluster or --scheduler.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="With --engine dask: address of a running dask scheduler "
                   "(tcp://host:8786). Default: start a local cluster.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="With --engine dask and no --scheduler: worker processes of the local "
                   "cluster.")
@click.option("--spatial-shuffle/--no-spatial-shuffle", default=True, show_default=True,
              help="With --engine dask: shuffle the events into spatial partitions (Hilbert "
                   "curve) before the join; --no-spatial-shuffle joins them in file order "
                   "(no shuffle; same results).")
@click.option("--index-cache", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Folder keeping built lookup rasters, keyed by the grid layer's content: a "
                   "later run on the same layer skips building it (local engine).")
def command(grids: str, events: str, crs_spec: str | None, grids_crs: str | None,
            dispatch_sla_hours: float,
            period_end: str | None, by: str, codes: str | None, out: str | None, force: bool,
            fmt: str, lang: str, columns: tuple[str, ...], event_columns: tuple[str, ...],
            date_formats: tuple[str, ...], tz: str, bad_rows: str, rejects: str | None,
            chunk_rows: int, engine: str, scheduler: str | None, workers: int,
            spatial_shuffle: bool, index_cache: str | None) -> None:
    """Join work orders to grids; dispatch accuracy, timeliness, closure (工单).

    GRIDS is the grid layer; EVENTS a CSV, Excel or Parquet table with lon/lat
    in the CRS given by --crs (default WGS84; gcj02 and bd09 are converted).
    Each event goes to the grid that contains it; a point on a shared edge to
    the grid with the lowest code. Events outside every grid or with missing
    or impossible coordinates are counted, reported and written out.

    \b
    Example:
      gridkit events grids.gpkg events.parquet --crs gcj02 --period-end 2023-12-31 \\
        --by street --out joined.parquet
      gridkit events grids.gpkg events.csv --format json > events.json
      gridkit events grids.gpkg hotline.csv --date-format '%m/%d/%Y %I:%M:%S %p' \
        --tz America/New_York --bad-rows skip --rejects rejects.csv
      gridkit events grids.gpkg /shared/events.parquet --engine dask \\
        --scheduler tcp://10.0.0.5:8786 --out /shared/joined.parquet
      gridkit events grids.gpkg events.parquet --by street --out 工单情况.xlsx
    """
    if engine != "dask" and scheduler is not None:
        raise InputError("--scheduler needs --engine dask")
    xlsx = wants_xlsx(fmt, out)
    if out is not None:
        if Path(out).suffix.lower() != ".parquet" and not xlsx:
            raise InputError("--out must be a .parquet file or an .xlsx workbook", path=out)
        check_writable(out, force, inputs=(grids, events, codes), folder=False)
    if rejects is not None:
        check_writable(rejects, force, inputs=(grids, events, codes, out), folder=False)
    # the join needs only the codes and the shapes of the grids
    layer = read_layer(grids, "grids", columns=column_overrides(columns, "grids"), crs=grids_crs,
                       required=("grid_code",))
    names = code_names(load_divisions(codes, within=layer_codes(layer)))
    event_overrides = {**column_overrides(columns, "events"),
                       **parse_column_overrides(event_columns)}
    params = EventParams(crs=crs_spec or "wgs84", dispatch_sla_hours=dispatch_sla_hours,
                         period_end=period_end, date_formats=date_formats, tz=tz,
                         bad_rows=bad_rows, by=by, columns=event_overrides,
                         chunk_rows=chunk_rows, engine=engine, scheduler=scheduler,
                         workers=workers, spatial=spatial_shuffle,
                         index_cache=index_cache)
    with progress_bar(lang) as progress:
        result = join_events(layer, events, params, names=names, out=None if xlsx else out,
                             progress=progress)
    result = result.in_language(lang)
    if xlsx:
        # imported here: the workbook pulls in openpyxl, scoring and validation (0.2 s)
        from gridkit.io.xlsx import write_workbook
        from gridkit.workbook import metrics_tables

        write_workbook(out, metrics_tables(result.to_dict(), "events", lang), force=force,
                       inputs=(grids, events, codes))
    if rejects is not None:
        write_rejects(result, rejects, lang, force)
    for path in (out, rejects):
        if path is not None:
            click.echo(pick(lang, zh=f"已写入 {path}", en=f"Wrote {path}"), err=True)
    for warning in result.warnings:
        click.echo(pick(lang, zh="警告：", en="Warning: ") + warning, err=True)
    click.echo(_text(result, "table" if fmt == "xlsx" else fmt, lang), nl=False)


def _text(result: EventsResult, fmt: str, lang: str) -> str:
    """The output; in a table a metric that could not be computed reads "—", with a
    note, and rejected values are counted."""
    data = result.to_dict()
    if fmt != "table":
        return render(data, "events", fmt, lang)
    for record in (data, *data["rows"]):
        record.update({key: UNAVAILABLE for key in result.unavailable})
    notes = [pick(lang, zh=f"注：{label(key, lang)}无法计算，事件文件缺少列 {', '.join(columns)}",
                  en=f"Note: {label(key, lang)} cannot be computed: the events file has no "
                     f"column {', '.join(columns)}")
             for key, columns in result.unavailable.items() if key in METRIC_KEYS]
    if data["rejected"]:
        notes.append(pick(lang, zh=f"注：{data['rejected']} 行含无效值，按缺失处理（仍计入）",
                          en=f"Note: {data['rejected']} row(s) have impossible values, "
                             "treated as missing (the rows are still counted)"))
    return render(data, "events", fmt, lang) + "".join(f"{note}\n" for note in notes)


def write_rejects(result: EventsResult, path: str, lang: str, force: bool) -> None:
    """The rejected values as CSV (UTF-8 with BOM for Excel), reasons in ``lang``."""
    table = result.rejects.copy()
    table["reason"] = [pick(lang, *REASONS.get(r, (r, r))) for r in table["reason"]]
    with atomic_output(path, force) as tmp:
        table[list(REJECT_COLUMNS)].to_csv(tmp, index=False, encoding="utf-8-sig")


@contextmanager
def progress_bar(lang: str) -> Iterator[Progress | None]:
    """A tqdm bar on stderr fed by the library's progress callback (None when piped).

    The bar is opened on the first report, when the total and the unit are known.
    """
    if not progress_enabled():
        yield None
        return
    from tqdm import tqdm

    bars: list = []

    def report(done: int, total: int | None, unit: str) -> None:
        if not bars:
            label = pick(lang, zh="条", en=" events") if unit == "events" else \
                pick(lang, zh=" 分区", en=" partitions")
            bars.append(tqdm(total=total, unit=label, unit_scale=unit == "events",
                             leave=False, desc=pick(lang, zh="工单", en="events")))
        bars[0].update(done - bars[0].n)

    try:
        yield report
    finally:
        for bar in bars:
            bar.close()

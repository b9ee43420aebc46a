"""``gridkit events``: join work orders to grids; dispatch and closure metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pandas as pd

from gridkit.cli._common import (
    column_option,
    force_option,
    format_option,
    lang_option,
    progress_enabled,
)
from gridkit.cli._metrics import by_option, codes_option, column_overrides, render
from gridkit.divisions import code_names, load_divisions
from gridkit.errors import InputError
from gridkit.events import (
    DEFAULT_SLA_HOURS,
    JOINED_SCHEMA,
    EventGrids,
    EventParams,
    accumulate,
    resolve_period_end,
    summarise,
)
from gridkit.i18n import pick
from gridkit.io import (
    atomic_output,
    check_writable,
    parse_datetimes,
    read_events_chunks,
    read_layer,
    resolve_columns,
)

COLUMNS = ("code", "name", "grids", "events", "located", "outside", "unlocatable",
           "dispatched", "dispatch_accuracy", "dispatch_timeliness", "closure_rate",
           "valid_complaints")
SUMMARY = ("events", "located", "outside", "unlocatable", "dispatched", "dispatch_accuracy",
           "dispatch_timeliness", "closure_rate", "valid_complaints")
CHUNK_ROWS = 1_000_000


def _progress(chunks: Iterator[pd.DataFrame], lang: str) -> Iterator[pd.DataFrame]:
    """Pass chunks through, with a progress bar on a terminal."""
    if not progress_enabled():
        yield from chunks
        return
    from tqdm import tqdm

    with tqdm(unit=pick(lang, zh="条", en=" events"), unit_scale=True, leave=False) as bar:
        for chunk in chunks:
            yield chunk
            bar.update(len(chunk))


def latest_report(path: str, columns: dict[str, str], chunk_rows: int) -> pd.Timestamp | None:
    """The latest ``reported_at`` in the file, for the default period end.

    From the Parquet row-group statistics when ``reported_at`` is stored as a
    timestamp (no data read); otherwise a first pass over the file.
    """
    if Path(path).suffix.lower() == ".parquet":
        found, latest = _parquet_latest(path, columns)
        if found:
            return latest
    latest = [c["reported_at"].max() for c in read_events_chunks(path, columns=columns,
                                                                  chunk_rows=chunk_rows)]
    latest = [t for t in latest if pd.notna(t)]
    return max(latest) if latest else None


def _parquet_latest(path: str, columns: dict[str, str]) -> tuple[bool, pd.Timestamp | None]:
    """(True, max) from the statistics of a timestamp ``reported_at``; (False, None) if unusable."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except (OSError, ValueError):
        return False, None  # the reader proper reports the problem
    schema = meta.schema.to_arrow_schema()
    mapping = resolve_columns(schema.names, "events", columns, path=path)
    source = next((s for s, c in mapping.items() if c == "reported_at"), None)
    if source is None or not pa.types.is_timestamp(schema.field(source).type):
        return False, None
    column = meta.schema.names.index(source)
    maxima = []
    for group in range(meta.num_row_groups):
        chunk = meta.row_group(group).column(column)
        stats = chunk.statistics
        if stats is None or (not stats.has_min_max and stats.null_count != chunk.num_values):
            return False, None
        if stats.has_min_max:
            maxima.append(stats.max)
    if not maxima:
        return True, None
    latest = parse_datetimes(pd.Series(maxima), path=path, column="reported_at")
    return True, latest.max()


@click.command(name="events")
@click.argument("grids", type=click.Path(dir_okay=False))
@click.argument("events", type=click.Path(dir_okay=False))
@click.option("--crs", "crs_spec", default=None,
              help="Coordinate system of the events' lon/lat: an EPSG code (4490, 4326, 4547, "
                   "...) or wgs84, cgcs2000, gcj02, bd09. Default: wgs84.")
@click.option("--grids-crs", default=None,
              help="CRS of the grid layer when the file has none (same values as --crs).")
@click.option("--dispatch-sla", "sla", type=click.FloatRange(min=0), default=DEFAULT_SLA_HOURS,
              show_default=True, help="Dispatch within this many hours of the report is timely.")
@click.option("--period-end", default=None, metavar="DATE",
              help="Closed by the end of this day counts as closed (default: 31 December of "
                   "the year of the latest report).")
@by_option
@codes_option
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the joined events (event_id, grid_code, status, flags) as Parquet.")
@force_option
@format_option
@lang_option
@column_option
@click.option("--chunk-rows", type=click.IntRange(min=1), default=CHUNK_ROWS, show_default=True,
              help="Events read and joined per chunk (bounds memory).")
def command(grids: str, events: str, crs_spec: str | None, grids_crs: str | None, sla: float,
            period_end: str | None, by: str, codes: str | None, out: str | None, force: bool,
            fmt: str, lang: str, columns: tuple[str, ...], chunk_rows: int) -> None:
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
    """
    if out is not None:
        if Path(out).suffix.lower() != ".parquet":
            raise InputError("--out must be a .parquet file", path=out)
        check_writable(out, force)
    names = code_names(load_divisions(codes))
    overrides = column_overrides(columns, "events")
    layer = read_layer(grids, "grids", columns=column_overrides(columns, "grids"), crs=grids_crs)
    prepared = EventGrids(layer, crs_spec or "wgs84")
    latest = None if period_end is not None else latest_report(events, overrides, chunk_rows)
    params = EventParams(prepared.crs, sla, resolve_period_end(period_end, latest))
    chunks = _progress(read_events_chunks(events, columns=overrides, chunk_rows=chunk_rows), lang)
    if out is None:
        total = accumulate(chunks, prepared, params)
    else:
        import pyarrow.parquet as pq

        with atomic_output(out, force) as tmp, pq.ParquetWriter(tmp, JOINED_SCHEMA) as writer:
            total = accumulate(chunks, prepared, params, sink=writer.write_table)
        click.echo(pick(lang, zh=f"已写入 {out}", en=f"Wrote {out}"), err=True)
    result = summarise(total, prepared, params, by=by, names=names, lang=lang, path=events)
    click.echo(render(result.to_dict(), COLUMNS, fmt, lang, SUMMARY), nl=False)

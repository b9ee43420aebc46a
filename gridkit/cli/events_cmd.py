"""``gridkit events``: join work orders to grids; dispatch and closure metrics."""

from __future__ import annotations

from pathlib import Path

import click

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
from gridkit.events import CHUNK_ROWS, DEFAULT_SLA_HOURS, ENGINES, join_events_file
from gridkit.i18n import pick
from gridkit.io import check_writable, read_layer

COLUMNS = ("code", "name", "grids", "events", "located", "outside", "unlocatable",
           "dispatched", "dispatch_accuracy", "dispatch_timeliness", "closure_rate",
           "valid_complaints")
SUMMARY = ("events", "located", "outside", "unlocatable", "dispatched", "dispatch_accuracy",
           "dispatch_timeliness", "closure_rate", "valid_complaints")


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
def command(grids: str, events: str, crs_spec: str | None, grids_crs: str | None, sla: float,
            period_end: str | None, by: str, codes: str | None, out: str | None, force: bool,
            fmt: str, lang: str, columns: tuple[str, ...], chunk_rows: int, engine: str,
            scheduler: str | None, workers: int, spatial_shuffle: bool,
            index_cache: str | None) -> None:
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
      gridkit events grids.gpkg /shared/events.parquet --engine dask \\
        --scheduler tcp://10.0.0.5:8786 --out /shared/joined.parquet
    """
    if engine != "dask" and scheduler is not None:
        raise InputError("--scheduler needs --engine dask")
    if out is not None:
        if Path(out).suffix.lower() != ".parquet":
            raise InputError("--out must be a .parquet file", path=out)
        check_writable(out, force, inputs=(grids, events, codes), folder=False)
    names = code_names(load_divisions(codes))
    layer = read_layer(grids, "grids", columns=column_overrides(columns, "grids"), crs=grids_crs)
    dask_options = ({"scheduler": scheduler, "workers": workers, "spatial": spatial_shuffle}
                    if engine == "dask" else {})
    result = join_events_file(layer, events, crs=crs_spec or "wgs84", sla_hours=sla,
                              period_end=period_end, by=by, names=names, lang=lang,
                              columns=column_overrides(columns, "events"), out=out,
                              force=force, chunk_rows=chunk_rows,
                              progress=progress_enabled(), engine=engine,
                              index_cache=index_cache, **dask_options)
    if out is not None:
        click.echo(pick(lang, zh=f"已写入 {out}", en=f"Wrote {out}"), err=True)
    click.echo(render(result.to_dict(), COLUMNS, fmt, lang, SUMMARY), nl=False)

"""``gridkit map``: folium maps of grids, validation findings, coverage and work orders.

A click group with one subcommand per kind (``gridkit map grids|findings|
coverage|events GRIDS ...``); each has the shared options and its own. The
inputs are read and computed by :mod:`gridkit.maps.pipeline`.
"""

from __future__ import annotations

__all__ = ["command"]

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

import click

from gridkit.cli._common import (
    column_option,
    crs_option,
    force_option,
    format_option,
    lang_option,
    metric_crs_option,
    parse_column_overrides,
    render_table,
    to_csv,
    to_json,
)
from gridkit.cli._maps import basemap_option, check_basemap, offline_option
from gridkit.coverage import ROSTERS
from gridkit.errors import InputError
from gridkit.events import DEFAULT_SLA_HOURS
from gridkit.i18n import pick
from gridkit.io import check_writable
from gridkit.maps import (
    DEFAULT_TOLERANCE_M,
    MAP_LEVELS,
    MAX_GRIDS_PER_PAGE,
    GridMap,
    MapOutput,
    MapPages,
    human_size,
    write_map,
    write_map_pages,
)
from gridkit.maps.pipeline import (
    MapSettings,
    coverage_map_from_files,
    diff_map_from_files,
    events_map_from_files,
    findings_map_from_files,
    grids_map_from_files,
    read_map_grids,
)
from gridkit.metrics import mapped_metrics

#: Kinds drawn as an overview and district pages above --max-grids-per-page.
_PAGED_KINDS = ("grids", "coverage", "events")
_ROWS = ("path", "bytes", "features", "tolerance_m", "basemap", "offline", "png")


class _KindCommand(click.Command):
    """A kind of map: an option of another kind is refused in one line naming that kind."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            group = ctx.parent.command if ctx.parent is not None else None
            for name, other in getattr(group, "commands", {}).items():
                if name != self.name and any(exc.option_name in p.opts for p in other.params):
                    raise InputError(f"{exc.option_name} applies to `gridkit map {name}`, "
                                     f"not `gridkit map {self.name}`") from None
            raise


def _shared_options(f: Callable, grids_metavar: str = "GRIDS") -> Callable:
    """GRIDS (shown as ``grids_metavar``) and the options of every kind of map."""
    for option in reversed((
        click.argument("grids", type=click.Path(dir_okay=False), metavar=grids_metavar),
        click.option("--out", type=click.Path(dir_okay=False), default=None,
                     help="HTML file to write (default: maps/KIND.html; the folder maps/ is "
                          "created)."),
        offline_option,
        basemap_option,
        click.option("--png", is_flag=True,
                     help="Also write a static PNG for print (same name, .png)."),
        click.option("--tolerance", type=click.FloatRange(min=0), default=DEFAULT_TOLERANCE_M,
                     show_default=True, metavar="METRES",
                     help="Coverage-simplification tolerance (shared edges stay shared); "
                          "0: none."),
        click.option("--max-grids-per-page", type=click.IntRange(min=1),
                     default=MAX_GRIDS_PER_PAGE, show_default=True, metavar="N",
                     help="grids, coverage, events: a layer of more grids is drawn as an "
                          "overview of communities (OUT) and one grid-level page per "
                          "district in the folder next to it (OUT without .html)."),
        click.option("--communities", type=click.Path(dir_okay=False), default=None,
                     help="Communities layer: community names in tooltips; findings: "
                          "validation input."),
        click.option("--codes", type=click.Path(dir_okay=False), default=None,
                     help="Official code list (CSV or Parquet) for names (default: the "
                          "packaged national 2023 list)."),
        crs_option,
        metric_crs_option,
        column_option,
        lang_option,
        force_option,
        format_option,
    )):
        f = option(f)
    return f


def _summary(out: MapOutput, lang: str) -> str:
    rows = [
        {"item": pick(lang, "地图", "map"), "value": str(out.path)},
        {"item": pick(lang, "大小", "size"),
         "value": f"{human_size(out.bytes)} ({out.bytes:,} {pick(lang, '字节', 'bytes')})"},
        {"item": pick(lang, "要素", "features"), "value": f"{out.features:,}"},
        {"item": pick(lang, "简化容差", "tolerance"), "value": f"{out.tolerance_m:g} m"},
        {"item": pick(lang, "底图", "basemap"),
         "value": out.basemap + (pick(lang, "（离线，Leaflet 内嵌）", " (offline, Leaflet inlined)")
                                 if out.offline else "")},
    ]
    if out.png is not None:
        rows.append({"item": "PNG", "value": str(out.png)})
    if out.pages:
        rows.append({"item": pick(lang, "分区网格图", "district pages"),
                     "value": pick(lang, f"{len(out.pages)} 页，位于 {out.pages[0].parent}",
                                   f"{len(out.pages)} in {out.pages[0].parent}")})
    return render_table(rows, ("item", "value"), (pick(lang, "项目", "item"),
                                                   pick(lang, "值", "value"))) + "\n"


def _draw(kind: str, shared: dict[str, Any], inputs: Iterable[str | None],
          build: Callable[[Any, Any, MapSettings], GridMap | MapPages]) -> None:
    """Check the outputs, read the grids, build the map with ``build``, write it and print.

    ``build(grids, communities, settings)`` returns the :class:`GridMap`, or
    the overview and district pages of a layer over ``--max-grids-per-page``.
    """
    check_basemap(shared["basemap"], shared["offline"])
    out = shared["out"]
    target = Path(out) if out else Path("maps") / f"{kind}.html"
    if out is None:
        target.parent.mkdir(exist_ok=True)
    inputs = (shared["grids"], shared["communities"], shared["codes"], *inputs)
    check_writable(target, shared["force"], inputs=inputs, folder=False)
    if shared["png"]:
        check_writable(target.with_suffix(".png"), shared["force"], inputs=inputs, folder=False)
    grids, communities, names = read_map_grids(
        shared["grids"], columns=parse_column_overrides(shared["columns"]),
        crs=shared["crs_spec"], communities=shared["communities"], codes=shared["codes"],
        every_name=kind == "diff")
    settings = MapSettings(names=names, tolerance_m=shared["tolerance"],
                           metric_crs=shared["metric_crs"], lang=shared["lang"],
                           max_grids_per_page=shared["max_grids_per_page"],
                           pages_folder=target.stem)
    if shared["png"] and kind in _PAGED_KINDS and len(grids) > shared["max_grids_per_page"]:
        raise InputError(f"--png draws one page, and {len(grids):,} grids are over "
                         f"--max-grids-per-page {shared['max_grids_per_page']:,}: raise it")
    built = build(grids, communities, settings)
    if isinstance(built, MapPages):
        result = write_map_pages(built, target, basemap=shared["basemap"],
                                 offline=shared["offline"], force=shared["force"],
                                 inputs=inputs)
    else:
        result = write_map(built, target, basemap=shared["basemap"],
                           offline=shared["offline"], png=shared["png"], force=shared["force"])
    if shared["fmt"] == "json":
        click.echo(to_json(result.to_dict()))
    elif shared["fmt"] == "csv":
        click.echo(to_csv([result.to_dict()], _ROWS), nl=False)
    else:
        click.echo(_summary(result, shared["lang"]), nl=False)


@click.group(name="map")
def command() -> None:
    """Write a folium map of KIND: grids, findings, coverage, events or diff.

    \b
    grids     the layer coloured by district/street; tooltips: code, name,
              community, households
    findings  validation findings, one toggleable layer per rule, over the
              grids around them (validates GRIDS, or reads --findings)
    coverage  choropleth of coverage metrics per grid or unit (from rosters
              or a gridkit coverage JSON), with a legend per metric
    events    work orders per grid, dispatch accuracy per grid, heat map
              (needs EVENTS)
    diff      grid changes between last year's layer and this year's
              (gridkit diff OLD NEW), one layer per kind of change

    Large layers stay small: coverage simplification (--tolerance metres),
    ~1 m coordinates, canvas rendering; the footer states size and tolerance.
    Maps are offline (self-contained, for intranets) unless --online.
    --crs and --column apply to GRIDS. `gridkit map KIND --help` lists the
    options of each kind.

    \b
    Example:
      gridkit map grids grids.gpkg --png
      gridkit map findings grids.gpkg --communities communities.gpkg --reference reference.gpkg
      gridkit map coverage grids.gpkg --party party.csv --workers workers.csv --by street
      gridkit map events grids.gpkg events.parquet --online --basemap amap
      gridkit map diff grids-2023.gpkg grids-2024.gpkg --out maps/diff.html
    """


@command.command(name="grids", cls=_KindCommand)
@_shared_options
def grids_command(**shared: Any) -> None:
    """The grid layer coloured by district (by street in one district).

    Tooltips show grid code, name, community and households.

    \b
    Example:
      gridkit map grids grids.gpkg --communities communities.gpkg --png
    """
    _draw("grids", shared, (), lambda grids, _, settings: grids_map_from_files(
        grids, settings))


@command.command(name="findings", cls=_KindCommand)
@_shared_options
@click.option("--findings", "findings_path", type=click.Path(dir_okay=False), default=None,
              help="JSON or GeoPackage written by gridkit validate, instead of validating here.")
@click.option("--reference", type=click.Path(dir_okay=False), default=None,
              help="The published layer to validate against.")
@click.option("--rules", type=click.Path(dir_okay=False), default=None,
              help="Validation rules YAML (as gridkit validate --config).")
def findings_command(findings_path: str | None, reference: str | None, rules: str | None,
                     **shared: Any) -> None:
    """Validation findings, one toggleable layer per rule, over the grids around them.

    \b
    Example:
      gridkit map findings grids.gpkg --communities communities.gpkg --reference reference.gpkg
      gridkit map findings grids.gpkg --findings findings.gpkg --out maps/findings.html
    """
    _draw("findings", shared, (findings_path, reference, rules),
          lambda grids, communities, settings: findings_map_from_files(
              grids, settings, findings=findings_path, communities=communities,
              reference=reference, codes=shared["codes"], rules=rules))


@command.command(name="coverage", cls=_KindCommand)
@_shared_options
@click.option("--coverage", "coverage_path", type=click.Path(dir_okay=False), default=None,
              help="JSON of gridkit coverage --format json, instead of rosters.")
@click.option("--filings", type=click.Path(dir_okay=False), help="Filings table.")
@click.option("--party", type=click.Path(dir_okay=False), help="Party organisations.")
@click.option("--cadres", type=click.Path(dir_okay=False), help="Cadres.")
@click.option("--workers", type=click.Path(dir_okay=False), help="Grid workers.")
@click.option("--metric", "metrics", multiple=True,
              type=click.Choice(mapped_metrics("coverage", by_rank=True)),
              help="Metric layer(s), the first shown (repeatable; default: every coverage "
                   "metric with data).")
@click.option("--by", type=click.Choice(MAP_LEVELS), default=None,
              help="grid (default) or roll up to community, street, district.")
def coverage_command(coverage_path: str | None, filings: str | None, party: str | None,
                     cadres: str | None, workers: str | None, metrics: tuple[str, ...],
                     by: str | None, **shared: Any) -> None:
    """Choropleth of coverage metrics per grid or community/street/district.

    \b
    Example:
      gridkit map coverage grids.gpkg --party party.csv --workers workers.csv --by street
      gridkit map coverage grids.gpkg --coverage coverage.json --metric filing_rate
    """
    rosters = dict(zip(ROSTERS, (filings, party, cadres, workers)))
    if coverage_path is None and not any(rosters.values()):
        raise InputError("a coverage map needs --coverage or roster files "
                         "(--filings, --party, --cadres, --workers)")
    _draw("coverage", shared, (coverage_path, *rosters.values()),
          lambda grids, _, settings: coverage_map_from_files(
              grids, settings, coverage=coverage_path, rosters=rosters,
              metrics=list(metrics) or None, by=by))


@command.command(name="events", cls=_KindCommand)
@_shared_options
@click.argument("events", type=click.Path(dir_okay=False), required=False)
@click.option("--events-crs", default="wgs84", show_default=True,
              help="CRS of the work orders' lon/lat (gcj02 and bd09 are converted).")
@click.option("--dispatch-sla", "dispatch_sla_hours", type=click.FloatRange(min=0),
              default=DEFAULT_SLA_HOURS, show_default=True,
              help="Dispatch within this many hours is timely.")
@click.option("--period-end", default=None, metavar="DATE",
              help="Closed by the end of this day counts as closed.")
@click.option("--event-column", "event_columns", multiple=True, metavar="CANONICAL=SOURCE",
              help="Map a column of EVENTS to a canonical one, e.g. --event-column "
                   "event_id=GDBH (repeatable; as gridkit events --column).")
def events_command(events: str | None, events_crs: str, dispatch_sla_hours: float,
                   period_end: str | None, event_columns: tuple[str, ...],
                   **shared: Any) -> None:
    """Work orders per grid, dispatch accuracy per grid and a heat map (needs EVENTS).

    \b
    Example:
      gridkit map events grids.gpkg events.parquet --events-crs gcj02
      gridkit map events grids.gpkg events.csv --event-column event_id=GDBH --online
    """
    if not events:
        raise InputError("an events map needs the EVENTS file: gridkit map events GRIDS EVENTS")
    columns = parse_column_overrides(event_columns, option="--event-column")
    _draw("events", shared, (events,),
          lambda grids, _, settings: events_map_from_files(
              grids, settings, events, events_crs=events_crs,
              dispatch_sla_hours=dispatch_sla_hours, period_end=period_end, columns=columns))


@command.command(name="diff", cls=_KindCommand)
@partial(_shared_options, grids_metavar="OLD")
@click.argument("new", type=click.Path(dir_okay=False), metavar="NEW", required=False)
@click.option("--rules", "diff_rules", type=click.Path(dir_okay=False), default=None,
              help="Validation rules YAML: its iou_threshold and tolerances classify the "
                   "changes (as gridkit diff --config).")
@click.option("--unchanged", "show_unchanged", is_flag=True,
              help="Show the unchanged grids (a faint layer, hidden by default).")
def diff_command(new: str | None, diff_rules: str | None, show_unchanged: bool,
                 **shared: Any) -> None:
    """Grid changes (网格调整) from last year's layer OLD to this year's NEW.

    One toggleable layer per kind of change (split, merged, recoded,
    reshaped, added, removed, redrawn) in its own colour, with the number of
    changes and grids in the legend; tooltips give old → new codes. The
    changes are those of `gridkit diff OLD NEW`; --crs and --column apply to
    both layers.

    \b
    Example:
      gridkit map diff grids-2023.gpkg grids-2024.gpkg --out maps/diff.html
      gridkit map diff grids-2023.gpkg grids-2024.gpkg --lang en --png
    """
    if not new:
        raise InputError("a diff map needs both layers: gridkit map diff OLD NEW")
    _draw("diff", shared, (new, diff_rules),
          lambda old, _, settings: diff_map_from_files(
              old, new, settings, columns=parse_column_overrides(shared["columns"]),
              crs=shared["crs_spec"], rules=diff_rules, show_unchanged=show_unchanged))

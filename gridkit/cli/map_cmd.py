"""``gridkit map``: folium maps of grids, validation findings, coverage and work orders."""

from __future__ import annotations

import json
from pathlib import Path

import click
from click.core import ParameterSource

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
from gridkit.codes import load_divisions
from gridkit.coverage import ROSTERS, compute_coverage
from gridkit.errors import InputError
from gridkit.events import DEFAULT_SLA_HOURS, compute_events
from gridkit.i18n import pick
from gridkit.io import check_writable, read_layer, read_table
from gridkit.maps import (
    BASEMAPS,
    COVERAGE_METRICS,
    DEFAULT_TOLERANCE_M,
    KINDS,
    LEVELS,
    GridMap,
    MapOutput,
    coverage_map,
    events_map,
    findings_map,
    grids_map,
    human_size,
    names_lookup,
    read_findings,
    resolve_basemap,
    write_map,
)
from gridkit.validate import load_rules, validate

#: Parameters that only one kind of map reads.
KIND_OPTIONS = {
    "findings": ("findings_path", "reference", "rules"),
    "coverage": ("coverage_path", "filings", "party", "cadres", "workers", "metrics", "by"),
    "events": ("events", "events_crs", "sla", "period_end"),
}
ROWS = ("path", "bytes", "features", "tolerance_m", "basemap", "offline", "png")


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
    return render_table(rows, ("item", "value"), (pick(lang, "项目", "item"),
                                                   pick(lang, "值", "value"))) + "\n"


def _check_kind_options(ctx: click.Context, kind: str) -> None:
    """Refuse parameters of another kind of map given on the command line (else ignored)."""
    params = {p.name: p for p in ctx.command.params}
    for other, names in KIND_OPTIONS.items():
        used = [n for n in names if other != kind
                and ctx.get_parameter_source(n) is ParameterSource.COMMANDLINE]
        if used:
            what = params[used[0]].opts[0] if params[used[0]].opts[0].startswith("--") else (
                used[0].upper())
            raise InputError(f"{what} applies to `gridkit map {other}`, not `gridkit map {kind}`")


def build(kind: str, layer, names: dict, options: dict, common: dict) -> GridMap:
    """Compute what the map of ``kind`` needs from the input files and build it."""
    lang = common["lang"]
    if kind == "grids":
        return grids_map(layer, **common)
    if kind == "findings":
        if options["findings_path"]:
            findings = read_findings(options["findings_path"])
        else:
            reference = (read_layer(options["reference"], "reference")
                         if options["reference"] else None)
            codes = load_divisions(options["codes"]) if options["codes"] else None
            findings = validate(layer, options["communities_layer"], reference, codes,
                                load_rules(options["rules"]), lang,
                                metric_crs=common["metric_crs"]).findings
        return findings_map(layer, findings, **common)
    if kind == "coverage":
        metrics = list(options["metrics"]) or None
        if options["coverage_path"]:
            try:
                coverage = json.loads(Path(options["coverage_path"]).read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise InputError("coverage file not found", path=options["coverage_path"]) from None
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise InputError(f"not the JSON of gridkit coverage: {exc}",
                                 path=options["coverage_path"]) from None
            if not isinstance(coverage, dict):
                raise InputError("not the JSON of gridkit coverage: not an object",
                                 path=options["coverage_path"])
            try:
                return coverage_map(layer, coverage, metrics, level=options["by"], **common)
            except InputError as exc:
                if exc.path is not None:
                    raise
                raise InputError(exc.message, path=options["coverage_path"]) from None
        rosters = {k: read_table(options[k], k) for k in ROSTERS if options[k]}
        if not rosters:
            raise InputError("a coverage map needs --coverage or roster files "
                             "(--filings, --party, --cadres, --workers)")
        result = compute_coverage(layer, **rosters, by=options["by"] or "grid", names=names,
                                  lang=lang)
        return coverage_map(layer, result.rows, metrics, level=result.by, **common)
    if not options["events"]:
        raise InputError("an events map needs the EVENTS file: gridkit map events GRIDS EVENTS")
    orders = read_table(options["events"], "events")
    result = compute_events(layer, orders, crs=options["events_crs"],
                            sla_hours=options["sla"], period_end=options["period_end"],
                            by="grid", names=names, lang=lang)
    return events_map(layer, result.rows, points=orders, points_crs=options["events_crs"],
                      **common)


@click.command(name="map")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("grids", type=click.Path(dir_okay=False))
@click.argument("events", type=click.Path(dir_okay=False), required=False)
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="HTML file to write (default: maps/KIND.html; the folder maps/ is created).")
@click.option("--offline", is_flag=True,
              help="Self-contained page for intranets: Leaflet inlined, no tiles, no network.")
@click.option("--basemap", type=click.Choice(BASEMAPS), default=None,
              help="Tiles under the map (default: osm online, none with --offline). amap and "
                   "tencent are GCJ-02: the overlays are shifted to GCJ-02 to line up.")
@click.option("--png", is_flag=True, help="Also write a static PNG for print (same name, .png).")
@click.option("--tolerance", type=click.FloatRange(min=0), default=DEFAULT_TOLERANCE_M,
              show_default=True, metavar="METRES",
              help="Coverage-simplification tolerance (shared edges stay shared); 0: none.")
@click.option("--communities", type=click.Path(dir_okay=False), default=None,
              help="Communities layer: community names in tooltips; findings: validation input.")
@click.option("--codes", type=click.Path(dir_okay=False), default=None,
              help="Official code list CSV for names (default: the Guangzhou 2023 list).")
@click.option("--findings", "findings_path", type=click.Path(dir_okay=False), default=None,
              help="findings: JSON or GeoPackage written by gridkit validate, instead of "
                   "validating here.")
@click.option("--reference", type=click.Path(dir_okay=False), default=None,
              help="findings: the published layer to validate against.")
@click.option("--rules", type=click.Path(dir_okay=False), default=None,
              help="findings: validation rules YAML (as gridkit validate --config).")
@click.option("--coverage", "coverage_path", type=click.Path(dir_okay=False), default=None,
              help="coverage: JSON of gridkit coverage --format json, instead of rosters.")
@click.option("--filings", type=click.Path(dir_okay=False), help="coverage: filings table.")
@click.option("--party", type=click.Path(dir_okay=False), help="coverage: Party organisations.")
@click.option("--cadres", type=click.Path(dir_okay=False), help="coverage: cadres.")
@click.option("--workers", type=click.Path(dir_okay=False), help="coverage: grid workers.")
@click.option("--metric", "metrics", multiple=True,
              type=click.Choice(COVERAGE_METRICS),
              help="coverage: metric layer(s), the first shown (repeatable; default: every "
                   "coverage metric with data).")
@click.option("--by", type=click.Choice(LEVELS), default=None,
              help="coverage: grid (default) or roll up to community, street, district.")
@click.option("--events-crs", default="wgs84", show_default=True,
              help="events: CRS of the work orders' lon/lat (gcj02 and bd09 are converted).")
@click.option("--dispatch-sla", "sla", type=click.FloatRange(min=0), default=DEFAULT_SLA_HOURS,
              show_default=True, help="events: dispatch within this many hours is timely.")
@click.option("--period-end", default=None, metavar="DATE",
              help="events: closed by the end of this day counts as closed.")
@crs_option
@metric_crs_option
@column_option
@lang_option
@force_option
@format_option
def command(kind: str, grids: str, events: str | None, out: str | None, offline: bool,
            basemap: str | None, png: bool, tolerance: float, communities: str | None,
            codes: str | None, crs_spec: str | None, metric_crs: str,
            columns: tuple[str, ...], lang: str, force: bool, fmt: str, **options) -> None:
    """Write a folium map of KIND: grids, findings, coverage or events.

    \b
    grids     the layer coloured by district/street; tooltips: code, name,
              community, households
    findings  validation findings, one toggleable layer per rule, over the
              grids around them (validates GRIDS, or reads --findings)
    coverage  choropleth of coverage metrics per grid or unit (from rosters
              or a gridkit coverage JSON), with a legend per metric
    events    work orders per grid, dispatch accuracy per grid, heat map
              (needs EVENTS)

    Large layers stay small: coverage simplification (--tolerance metres),
    ~1 m coordinates, canvas rendering; the footer states size and tolerance.
    --crs and --column apply to GRIDS.

    \b
    Example:
      gridkit map grids grids.gpkg --offline --png
      gridkit map findings grids.gpkg --communities communities.gpkg --reference reference.gpkg
      gridkit map coverage grids.gpkg --party party.csv --workers workers.csv --by street
      gridkit map events grids.gpkg events.parquet --basemap amap --out maps/events.html
    """
    options.update(events=events)
    _check_kind_options(click.get_current_context(), kind)
    resolve_basemap(basemap, offline)
    target = Path(out) if out else Path("maps") / f"{kind}.html"
    if out is None:
        target.parent.mkdir(exist_ok=True)
    inputs = (grids, events, communities, codes, *(options[k] for k in (
        "findings_path", "reference", "rules", "coverage_path", *ROSTERS)))
    check_writable(target, force, inputs=inputs, folder=False)
    if png:
        check_writable(target.with_suffix(".png"), force, inputs=inputs, folder=False)

    layer = read_layer(grids, "grids", columns=parse_column_overrides(columns), crs=crs_spec)
    communities_layer = read_layer(communities, "communities") if communities else None
    names = names_lookup(load_divisions(codes), communities_layer)
    options.update(communities_layer=communities_layer, codes=codes)
    common = {"names": names, "tolerance_m": tolerance, "metric_crs": metric_crs, "lang": lang}
    gmap = build(kind, layer, names, options, common)
    result = write_map(gmap, target, basemap=basemap, offline=offline, png=png, force=force)
    if fmt == "json":
        click.echo(to_json(result.to_dict()))
    elif fmt == "csv":
        click.echo(to_csv([result.to_dict()], ROWS), nl=False)
    else:
        click.echo(_summary(result, lang), nl=False)

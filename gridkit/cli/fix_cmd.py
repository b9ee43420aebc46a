"""``gridkit fix``: repair a grid layer's division findings (修复划分问题)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pyarrow.parquet
import pyogrio

from gridkit.cli._common import (
    column_option,
    config_option,
    crs_option,
    force_option,
    format_option,
    lang_option,
    layer_option,
    metric_crs_option,
    parse_column_overrides,
    render_table,
    to_csv,
    to_json,
)
from gridkit.errors import InputError
from gridkit.fix import CHANGE_NAMES_ZH, CHANGES, OVERLAP_RULES, FixResult, fix
from gridkit.i18n import pick
from gridkit.io import atomic_output, check_writable, read_layer, resolve_columns
from gridkit.validate import load_rules

#: Columns of the change log CSV and of ``--format csv``.
LOG_COLUMNS = ("grid_code", "community_code", "changes", "merged_into", "area_before_m2",
               "area_after_m2", "delta_m2")


def log_paths(out: str) -> dict[str, Path]:
    """Where the change log (layer and CSV) and the renumbering table go, next to ``out``."""
    base = Path(out)
    stem = base.with_suffix("")
    return {"log": Path(f"{stem}-changes.gpkg"), "csv": Path(f"{stem}-changes.csv"),
            "renumber": Path(f"{stem}-renumber.csv")}


def render_text(result: FixResult, lang: str) -> str:
    """Summary table: grids per change kind, then notes on what could not be repaired."""
    head = pick(lang, zh=f"网格 {result.grids} 个，修改 {len(result.log)} 个（{result.communities} "
                         f"个社区）",
                en=f"{result.grids} grids, {len(result.log)} changed in {result.communities} "
                   "communities")
    rows = [{"change": k, "name": CHANGE_NAMES_ZH[k], "grids": n}
            for k, n in result.by_change.items() if n]
    columns = ("change", "name", "grids") if lang == "zh" else ("change", "grids")
    titles = {"change": pick(lang, zh="修改", en="change"), "name": "名称",
              "grids": pick(lang, zh="网格数", en="grids")}
    lines = [head, ""]
    if rows:
        lines += [render_table(rows, columns, [titles[c] for c in columns]), ""]
    lines += [pick(lang, zh=f"未修复：{n}", en=f"not repaired: {n}") for n in result.unresolved]
    if result.slivers:
        lines += ["", pick(lang, zh=f"细长网格 {len(result.slivers)} 个已保留；确认后可用 "
                                    "--merge-slivers 并入相邻网格",
                           en=f"{len(result.slivers)} sliver grid(s) kept; once reviewed, "
                              "--merge-slivers merges them into their neighbour")]
    return "\n".join(lines).rstrip() + "\n"


def _source_names(path: str, layer: str | None, overrides: dict[str, str]) -> dict[str, str]:
    """``{canonical: column name in the file}``, to write the fixed layer with the file's names."""
    geometry: list[str] = []
    if Path(path).suffix.lower() in (".parquet", ".geoparquet"):
        schema = pyarrow.parquet.read_schema(path)
        geometry = list(json.loads(schema.metadata[b"geo"])["columns"])
        fields = schema.names
    else:
        fields = pyogrio.read_info(path, layer=layer)["fields"]
    mapping = resolve_columns(fields, "grids", overrides, path=path, ignore=geometry,
                              dbf=Path(path).suffix.lower() == ".shp")
    return {canonical: source for source, canonical in mapping.items()}


@click.command(name="fix")
@click.argument("grids", metavar="GRIDS")
@click.option("--communities", "communities_path", metavar="FILE", required=True,
              help="Communities layer (community_code): the outline each community's grids "
                   "must cover exactly.")
@click.option("--out", metavar="fixed.gpkg", required=True,
              help="The repaired layer (GeoPackage); the change log goes next to it as "
                   "<name>-changes.gpkg and <name>-changes.csv.")
@click.option("--reference", "reference_path", metavar="FILE",
              help="The published layer, for --overlap-rule reference.")
@click.option("--overlap-rule", type=click.Choice(OVERLAP_RULES), default="longest-border",
              show_default=True,
              help="Which grid keeps an overlapping piece: the one with the longest shared "
                   "border, the one the published layer gives it to, or the lowest code.")
@click.option("--renumber", is_flag=True,
              help="Renumber serials west→east, north→south inside each community and write "
                   "the old → new code table (<name>-renumber.csv).")
@click.option("--merge-slivers", is_flag=True,
              help="Merge each sliver grid (a thin strip with its own code, the sliver "
                   "rule's limits) into its longest-border neighbour: the row leaves the "
                   "layer and the log names the receiver. By default sliver grids stay and "
                   "are listed for review by hand.")
@click.option("--dry-run", is_flag=True, help="Write only the change log, not the fixed layer.")
@crs_option
@layer_option
@metric_crs_option
@config_option
@force_option
@format_option
@lang_option
@column_option
def command(grids: str, communities_path: str, out: str, reference_path: str | None,
            overlap_rule: str, renumber: bool, merge_slivers: bool, dry_run: bool,
            crs_spec: str | None, layer: str | None, metric_crs: str, config_path: str | None,
            force: bool, fmt: str, lang: str, columns: tuple[str, ...]) -> None:
    """Repair overlaps, gaps, spills, slivers, multipart and invalid grids (修复).

    Community by community: the grids end up covering each community outline
    exactly; grids without a problem keep their geometry byte for byte. The
    input is never modified. --crs, --layer and --column apply to GRIDS.

    \b
    Example:
      gridkit fix grids.gpkg --communities communities.gpkg --out fixed.gpkg
      gridkit validate fixed.gpkg --communities communities.gpkg
    """
    if Path(out).suffix.lower() != ".gpkg":
        raise InputError("--out must be a .gpkg file (a GeoPackage)", path=out)
    paths = log_paths(out)
    inputs = (grids, communities_path, reference_path, config_path)
    targets = [paths["log"], paths["csv"]] + ([] if dry_run else [Path(out)]) \
        + ([paths["renumber"]] if renumber else [])
    for target in targets:
        check_writable(target, force, inputs=inputs, folder=False)
    config = load_rules(config_path)
    overrides = parse_column_overrides(columns)
    layer_gdf = read_layer(grids, "grids", columns=overrides, crs=crs_spec, layer=layer)
    communities = read_layer(communities_path, "communities")
    reference = read_layer(reference_path, "reference") if reference_path else None
    result = fix(layer_gdf, communities, reference, config, overlap_rule=overlap_rule,
                 renumber=renumber, merge_slivers=merge_slivers, metric_crs=metric_crs,
                 lang=lang)
    if not dry_run:
        names = _source_names(grids, layer, overrides)
        fixed = result.fixed.rename(columns={k: v for k, v in names.items() if k != v})
        with atomic_output(out, force) as tmp:
            fixed.to_file(tmp, layer=Path(out).stem, driver="GPKG")
    log = result.log.to_crs(layer_gdf.crs)
    with atomic_output(paths["log"], force) as tmp:
        log.to_file(tmp, layer="changes", driver="GPKG")
    with atomic_output(paths["csv"], force) as tmp:
        tmp.write_text(to_csv(result.to_dict()["changes"], LOG_COLUMNS), encoding="utf-8-sig")
    if result.renumbered is not None:
        with atomic_output(paths["renumber"], force) as tmp:
            result.renumbered.to_csv(tmp, index=False, encoding="utf-8-sig")
    if fmt == "json":
        click.echo(to_json(result.to_dict()))
    elif fmt == "csv":
        click.echo(to_csv(result.to_dict()["changes"], LOG_COLUMNS), nl=False)
    else:
        click.echo(render_text(result, lang), nl=False)


__all__ = ["CHANGES", "LOG_COLUMNS", "command", "log_paths", "render_text"]

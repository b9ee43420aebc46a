"""``gridkit coverage``: filing rate and Party / cadre / grid-worker coverage."""

from __future__ import annotations

__all__ = ["command", "write_per_grid"]

from pathlib import Path

import click

from gridkit.cli._common import (
    column_option,
    crs_option,
    force_option,
    lang_option,
    layer_option,
    wants_xlsx,
    xlsx_format_option,
)
from gridkit.cli._rollup import by_option, codes_option, column_overrides, render
from gridkit.codes import code_names, load_divisions
from gridkit.coverage import ROSTERS, compute_coverage
from gridkit.errors import InputError
from gridkit.i18n import pick
from gridkit.io import atomic_output, check_writable, read_layer, read_table
from gridkit.rollup import layer_codes

#: Columns of the per-grid output (``--out``), when present.
GRID_COLUMNS = ("grid_code", "grid_name", "community_code", "households", "filing_status",
                "filed", "party_orgs", "cadres", "full_time_workers", "part_time_workers",
                "households_per_fulltime_worker")
OUT_SUFFIXES = (".csv", ".parquet", ".gpkg", ".xlsx")


def write_per_grid(per_grid, path: str | Path, force: bool) -> None:
    """Write the per-grid table: CSV (UTF-8 with BOM, for Excel), Parquet, or GeoPackage."""
    suffix = Path(path).suffix.lower()
    columns = [c for c in GRID_COLUMNS if c in per_grid]
    with atomic_output(path, force) as tmp:
        if suffix == ".gpkg":
            per_grid[[*columns, "geometry"]].to_file(tmp, layer="coverage", driver="GPKG")
        elif suffix == ".parquet":
            per_grid[columns].to_parquet(tmp, index=False)
        else:
            per_grid[columns].to_csv(tmp, index=False, encoding="utf-8-sig")


@click.command(name="coverage")
@click.argument("grids", type=click.Path(dir_okay=False))
@click.option("--filings", type=click.Path(dir_okay=False), help="Filings table (备案).")
@click.option("--party", type=click.Path(dir_okay=False),
              help="Party organisations per grid (党支部/党小组).")
@click.option("--cadres", type=click.Path(dir_okay=False), help="Cadres per grid (包联干部).")
@click.option("--workers", type=click.Path(dir_okay=False), help="Grid workers (专职/兼职网格员).")
@by_option
@codes_option
@crs_option
@layer_option
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the per-grid table: .csv, .parquet, or .gpkg (with geometry, for maps); "
                   ".xlsx: an Excel workbook of the --by table, the totals and data problems.")
@force_option
@xlsx_format_option
@lang_option
@column_option
def command(grids: str, filings: str | None, party: str | None, cadres: str | None,
            workers: str | None, by: str, codes: str | None, crs_spec: str | None,
            layer: str | None, out: str | None, force: bool, fmt: str, lang: str,
            columns: tuple[str, ...]) -> None:
    """Filing rate and Party / cadre / grid-worker coverage (备案率、覆盖率) per grid.

    GRIDS is the grid layer; rosters are CSV, Excel or Parquet with Chinese or
    English column names. Roster rows whose grid code is not in the layer, and
    duplicate rows, are left out of every rate and reported; so are grids
    without a households value. --column takes CANONICAL=SOURCE, or
    KIND:CANONICAL=SOURCE for one input (kinds: grids, filings, party, cadres,
    workers).

    \b
    Example:
      gridkit coverage grids.gpkg --filings filings.csv --party party.csv \\
        --cadres cadres.csv --workers workers.xlsx --by street --out coverage.gpkg
      gridkit coverage grids.gpkg --workers workers.csv --format json > coverage.json
      gridkit coverage grids.gpkg --filings filings.csv --by street --out 覆盖情况.xlsx
    """
    xlsx = wants_xlsx(fmt, out)
    if out is not None:
        if Path(out).suffix.lower() not in OUT_SUFFIXES:
            raise InputError(f"--out must end in {', '.join(OUT_SUFFIXES)}", path=out)
        check_writable(out, force, inputs=(grids, filings, party, cadres, workers, codes),
                       folder=False)
    layer = read_layer(grids, "grids", columns=column_overrides(columns, "grids"), crs=crs_spec,
                       layer=layer)
    names = code_names(load_divisions(codes, within=layer_codes(layer)))
    paths = dict(zip(ROSTERS, (filings, party, cadres, workers)))
    tables = {kind: read_table(path, kind, columns=column_overrides(columns, kind))
              for kind, path in paths.items() if path is not None}
    result = compute_coverage(layer, **tables, by=by, names=names, lang=lang)
    if xlsx:
        # imported here: the workbook pulls in openpyxl, scoring and validation (0.2 s)
        from gridkit.io.xlsx import write_workbook
        from gridkit.workbook import metrics_tables

        write_workbook(out, metrics_tables(result.to_dict(), "coverage", lang), force=force)
    elif out is not None:
        write_per_grid(result.per_grid, out, force)
    if out is not None:
        click.echo(pick(lang, zh=f"已写入 {out}", en=f"Wrote {out}"), err=True)
    click.echo(render(result.to_dict(), "coverage", "table" if fmt == "xlsx" else fmt, lang),
               nl=False)

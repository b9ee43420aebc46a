"""``gridkit validate``: check grid division, coding and publication (划分、编码、上图)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from gridkit.cli._common import (
    column_option,
    crs_option,
    force_option,
    lang_option,
    layer_option,
    metric_crs_option,
    parse_column_overrides,
    progress_enabled,
    render_table,
    stdout_is_file,
    to_csv,
    to_json,
    wants_xlsx,
    xlsx_format_option,
)
from gridkit.codes import load_divisions
from gridkit.errors import InputError
from gridkit.i18n import pick, severity_name
from gridkit.io import check_writable, read_layer
from gridkit.io.postgis import (
    DEFAULT_OUT_SCHEMA,
    check_findings_target,
    is_postgis_uri,
    write_findings_postgis,
)
from gridkit.io.xlsx import write_workbook
from gridkit.validate import ValidationResult, load_rules, validate
from gridkit.validate.config import RULE_NAMES_ZH, RULES
from gridkit.validate.core import EXTRA_KEYS
from gridkit.workbook import validation_tables

__all__ = ["CSV_COLUMNS", "EXAMPLES", "command", "csv_rows", "render", "render_text"]

#: Columns of ``--format csv``: one row per finding (grid codes joined with ``;``).
CSV_COLUMNS = ("rule", "severity", "grid_codes", "area_m2", "message", "wkt", *EXTRA_KEYS)
#: Findings shown per rule in the table.
EXAMPLES = 5


def render_text(result: ValidationResult, lang: str = "zh") -> str:
    """The human table: counts per rule, then the first findings of each rule, notes."""
    counts = result.by_rule
    findings = result.findings
    severity = findings.groupby("rule")["severity"].first()
    summary = [
        {"rule": rule, "name": RULE_NAMES_ZH[rule] if lang == "zh" else "",
         "severity": severity_name(severity.get(rule), lang),
         "count": n}
        for rule, n in counts.items() if n
    ]
    head = pick(lang,
                zh=f"网格 {result.grids} 个：错误 {result.errors} 个，警告 {result.warnings} 个",
                en=f"{result.grids} grids: {result.errors} errors, {result.warnings} warnings")
    lines = [head, ""]
    if summary:
        columns = ("rule", "name", "severity", "count") if lang == "zh" else (
            "rule", "severity", "count")
        headers = {"rule": pick(lang, zh="规则", en="rule"), "name": "名称",
                   "severity": pick(lang, zh="级别", en="severity"),
                   "count": pick(lang, zh="数量", en="findings")}
        lines += [render_table(summary, columns, [headers[c] for c in columns]), ""]
        examples = []
        for rule in (r for r, n in counts.items() if n):
            rows = findings[findings["rule"] == rule]
            for row in rows.head(EXAMPLES).itertuples(index=False):
                codes = list(row.grid_codes)
                shown = ", ".join(codes[:3]) + (" …" if len(codes) > 3 else "")
                examples.append({"rule": rule, "codes": shown, "area": round(row.area_m2, 1),
                                 "message": row.message})
            more = len(rows) - EXAMPLES
            if more > 0:
                examples.append({"rule": rule, "message": pick(lang, zh=f"…… 另有 {more} 条",
                                                                en=f"... {more} more")})
        titles = [pick(lang, zh="规则", en="rule"), pick(lang, zh="网格编码", en="grid codes"),
                  pick(lang, zh="面积(平方米)", en="area (m²)"),
                  pick(lang, zh="说明", en="message")]
        lines += [render_table(examples, ("rule", "codes", "area", "message"), titles), ""]
    for rule, why in result.skipped.items():
        lines.append(pick(lang, zh=f"未检查 {rule}：{why}", en=f"not checked {rule}: {why}"))
    lines += [pick(lang, zh=f"注：{n}", en=f"note: {n}") for n in result.notes]
    return "\n".join(lines).rstrip() + "\n"


def csv_rows(result: ValidationResult) -> list[dict]:
    """Rows of ``--format csv``: the JSON findings with grid codes joined by ``;``."""
    return [{**r, "grid_codes": ";".join(r["grid_codes"])} for r in result.records()]


def render(result: ValidationResult, fmt: str, lang: str) -> str:
    """The output text of ``--format fmt``."""
    if fmt == "json":
        return to_json(result.to_dict()) + "\n"
    if fmt == "csv":
        return to_csv(csv_rows(result), CSV_COLUMNS, bom=stdout_is_file())
    return render_text(result, lang)


def _progress(lang: str) -> Callable[[str], None] | None:
    if not progress_enabled():
        return None

    def show(rule: str) -> None:
        click.echo(f"\r{pick(lang, zh='检查', en='checking')} {rule:<26}", err=True, nl=False)

    return show


@click.command(name="validate")
@click.argument("grids", metavar="GRIDS")
@click.option("--communities", "communities_path", metavar="FILE",
              help="Communities layer (community_code): gaps inside communities, grids outside "
                   "their community, community by location.")
@click.option("--reference", "reference_path", metavar="FILE",
              help="The published layer of the planning bureau: not published, missing, "
                   "geometry/attribute mismatch, layer offset (GCJ-02/BD-09).")
@click.option("--codes", "codes_path", metavar="CSV",
              help="Official code list, CSV or Parquet (code,level,name,parent_code). "
                   "Default: the packaged national 2023 list.")
@crs_option
@layer_option
@metric_crs_option
@click.option("--config", "config_path", metavar="rules.yaml",
              help="Tolerances, bounds and per-rule severity (error/warning/off), YAML.")
@click.option("--out", metavar="findings.gpkg",
              help="Write the findings to a GeoPackage, one layer per rule (EPSG:4490), to "
                   "a PostGIS database (postgresql://user@host/db): one table per rule in "
                   "--out-schema, or to an Excel workbook (.xlsx: summary by rule, one row "
                   "per finding).")
@click.option("--out-schema", default=DEFAULT_OUT_SCHEMA, show_default=True,
              help="With --out postgresql://…: the schema of the findings tables (created if "
                   "missing; only tables gridkit wrote are replaced, with --force).")
@force_option
@xlsx_format_option
@lang_option
@column_option
def command(grids: str, communities_path: str | None, reference_path: str | None,
            codes_path: str | None, crs_spec: str | None, layer: str | None, metric_crs: str,
            config_path: str | None, out: str | None, out_schema: str, force: bool, fmt: str,
            lang: str, columns: tuple[str, ...]) -> None:
    """Check a grid layer before publication: division, coding, publication (上图).

    --crs, --layer and --column apply to GRIDS; the other layers carry their own CRS.
    Exit status: 0 no errors, 1 errors found, 2 unusable input.

    \b
    Example:
      gridkit validate grids.gpkg --communities communities.gpkg \\
          --reference reference.gpkg --out findings.gpkg --format json
      gridkit validate grids.gpkg --communities communities.gpkg --out 校验结果.xlsx
      gridkit validate postgresql://gk@db.example/city --layer grid.grids \
          --communities "postgresql://gk@db.example/city?table=grid.communities" \
          --out postgresql://gk@db.example/city --out-schema gridkit_check
    """
    inputs = (grids, communities_path, reference_path, codes_path, config_path)
    xlsx = wants_xlsx(fmt, out)
    if out and is_postgis_uri(out):
        check_findings_target(out, out_schema, RULES, force)
    elif out:
        if Path(out).suffix.lower() != ".gpkg" and not xlsx:
            raise InputError("--out must be a .gpkg file (a GeoPackage, one layer per rule) "
                             "or an .xlsx workbook", path=out)
        check_writable(out, force, inputs=inputs, folder=False)
    config = load_rules(config_path)
    layer = read_layer(grids, "grids", columns=parse_column_overrides(columns), crs=crs_spec,
                       layer=layer)
    communities = read_layer(communities_path, "communities") if communities_path else None
    reference = read_layer(reference_path, "reference") if reference_path else None
    codes = load_divisions(codes_path) if codes_path else None
    progress = _progress(lang)
    result = validate(layer, communities, reference, codes, config, lang,
                      metric_crs=metric_crs, progress=progress)
    if progress:
        click.echo("", err=True)
    if xlsx:
        write_workbook(out, validation_tables(result.to_dict(), lang), force=force, inputs=inputs)
    elif out and is_postgis_uri(out):
        write_findings_postgis(result.findings, out, rules=result.rules, by_rule=result.by_rule,
                               skipped=result.skipped, out_schema=out_schema, force=force)
    elif out:
        result.write_gpkg(out, force)
    click.echo(render(result, "table" if fmt == "xlsx" else fmt, lang), nl=False)
    click.get_current_context().exit(result.exit_code)

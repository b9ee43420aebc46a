"""Options and output shared by ``gridkit coverage`` and ``gridkit events`` (per-unit roll-ups)."""

from __future__ import annotations

__all__ = ["by_option", "codes_option", "column_overrides", "render"]

from collections.abc import Iterable, Mapping

import click

from gridkit.cli._common import (
    parse_column_overrides,
    render_table,
    stdout_is_file,
    to_csv,
    to_json,
)
from gridkit.i18n import pick
from gridkit.io import ALIASES
from gridkit.metrics import METRICS, format_value, label, table_columns
from gridkit.rollup import BY_LEVELS

by_option = click.option(
    "--by", type=click.Choice(BY_LEVELS), default="district", show_default=True,
    help="Roll the metrics up to this level (grid, community 社区, street 街道, district 区, "
         "city 市).")
codes_option = click.option(
    "--codes", type=click.Path(dir_okay=False), default=None,
    help="Official code list, CSV or Parquet (code, level, name, parent_code), for unit "
         "names; default: the packaged national 2023 list.")

def column_overrides(values: Iterable[str], kind: str) -> dict[str, str]:
    """The ``--column`` overrides that apply to an input of ``kind``.

    ``KIND:CANONICAL=SOURCE`` applies to that kind only; ``CANONICAL=SOURCE``
    to every input that has the canonical column.

    >>> column_overrides(["grid_code=WGBM", "workers:person_id=GH"], "workers")
    {'grid_code': 'WGBM', 'person_id': 'GH'}
    >>> column_overrides(["workers:person_id=GH"], "party")
    {}
    """
    out = {}
    for canonical, source in parse_column_overrides(values).items():
        prefix, sep, name = canonical.rpartition(":")
        if (prefix == kind if sep else name in ALIASES[kind]):
            out[name] = source
    return out


def render(result: Mapping, group: str, fmt: str, lang: str) -> str:
    """The text of ``--format fmt`` for a coverage or events result dict.

    The columns are those of the metric catalogue for ``group`` (``coverage``
    or ``events``, :func:`gridkit.metrics.table_columns`); the total line
    lists the result's whole-layer metrics.
    """
    if fmt == "json":
        return to_json(result) + "\n"
    rows = result["rows"]
    columns = table_columns(group)
    summary_keys = [k for k in METRICS if k in result]
    present = [c for c in columns if any(c in r for r in rows) or c in ("code", "name")]
    if fmt == "csv":
        return to_csv(rows, present, bom=stdout_is_file())
    headers = [label(c, lang) for c in present]
    lines = [render_table([{c: format_value(r.get(c), c, missing=None) for c in present}
                           for r in rows], present, headers), ""]
    lines.append(pick(lang, zh="合计：", en="Total: ") + "; ".join(
        f"{label(k, lang)} {format_value(result.get(k), k)}" for k in summary_keys))
    for item in result.get("findings", []):
        examples = ", ".join(_example(e) for e in item["examples"])
        where = f"{item['path']}: " if item.get("path") else ""
        lines.append(f"! {where}{item['message']}" + (f" ({examples})" if examples else ""))
    return "\n".join(lines) + "\n"


def _example(example: Mapping) -> str:
    name = example.get("event_id") or example.get("grid_code")
    return f"row {example['row']}" + (f" {name}" if name else "")

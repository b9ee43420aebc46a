"""Options and output shared by ``gridkit coverage`` and ``gridkit events``."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

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
from gridkit.rollup import BY_LEVELS

by_option = click.option(
    "--by", type=click.Choice(BY_LEVELS), default="district", show_default=True,
    help="Roll the metrics up to this level (grid, community 社区, street 街道, district 区, "
         "city 市).")
codes_option = click.option(
    "--codes", type=click.Path(dir_okay=False), default=None,
    help="Official code list CSV (code, level, name, parent_code) for unit names; "
         "default: the Guangzhou 2023 list in data/.")

#: Column → (Chinese, English) header.
HEADERS = {
    "code": ("编码", "code"), "name": ("名称", "name"), "grids": ("网格数", "grids"),
    "filed": ("已备案网格", "filed grids"), "filing_rate": ("备案率", "filing rate"),
    "party_orgs": ("党组织数", "Party orgs"),
    "party_coverage": ("党组织覆盖率", "Party coverage"),
    "cadres": ("包联干部数", "cadres"), "cadre_coverage": ("包联干部覆盖率", "cadre coverage"),
    "full_time_workers": ("专职网格员", "full-time workers"),
    "part_time_workers": ("兼职网格员", "part-time workers"),
    "fulltime_worker_coverage": ("专职网格员覆盖率", "full-time worker coverage"),
    "households_per_fulltime_worker": ("每名专职网格员服务户数", "households per full-time worker"),
    "grids_without_households": ("缺户数网格", "grids without households"),
    "events": ("事件数", "events"), "located": ("已定位", "located"),
    "outside": ("网格外", "outside"), "unlocatable": ("无法定位", "unlocatable"),
    "dispatched": ("已转派", "dispatched"),
    "dispatch_accuracy": ("转派准确率", "dispatch accuracy"),
    "dispatch_timeliness": ("转派及时率", "dispatch timeliness"),
    "closure_rate": ("办结率", "closure rate"),
    "valid_complaints": ("有效投诉量", "valid complaints"),
}
RATE_COLUMNS = frozenset({"filing_rate", "party_coverage", "cadre_coverage",
                          "fulltime_worker_coverage", "dispatch_accuracy",
                          "dispatch_timeliness", "closure_rate"})


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


def _cell(column: str, value):
    if column in RATE_COLUMNS and isinstance(value, float) and math.isfinite(value):
        return f"{value:.2%}"
    if isinstance(value, float) and math.isfinite(value) and column.startswith("households_per"):
        return f"{value:.1f}"
    return value


def render(result: Mapping, columns: Sequence[str], fmt: str, lang: str,
           summary_keys: Sequence[str]) -> str:
    """The text of ``--format fmt`` for a coverage or events result dict."""
    if fmt == "json":
        return to_json(result) + "\n"
    rows = result["rows"]
    present = [c for c in columns if any(c in r for r in rows) or c in ("code", "name")]
    if fmt == "csv":
        return to_csv(rows, present, bom=stdout_is_file())
    headers = [pick(lang, *HEADERS.get(c, (c, c))) for c in present]
    lines = [render_table([{c: _cell(c, r.get(c)) for c in present} for r in rows],
                          present, headers), ""]
    whole = [(pick(lang, *HEADERS.get(k, (k, k))), _cell(k, result.get(k))) for k in summary_keys]
    lines.append(pick(lang, zh="合计：", en="Total: ") + "; ".join(
        f"{label} {'-' if value is None else value}" for label, value in whole))
    for item in result.get("findings", []):
        examples = ", ".join(_example(e) for e in item["examples"])
        where = f"{item['path']}: " if item.get("path") else ""
        lines.append(f"! {where}{item['message']}" + (f" ({examples})" if examples else ""))
    return "\n".join(lines) + "\n"


def _example(example: Mapping) -> str:
    label = example.get("event_id") or example.get("grid_code")
    return f"row {example['row']}" + (f" {label}" if label else "")

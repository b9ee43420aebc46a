"""Coverage metrics (SPEC §3, §2.5): filing rate and Party / cadre / grid-worker coverage.

Per grid of the layer: filed or not (with the filing status), Party
organisations, cadres, full-time and part-time grid workers, households per
full-time worker; rolled up by community, street, district or city
(:mod:`gridkit.rollup`).

Roster rows are checked before they count:

- a grid code a spreadsheet turned into a number is repaired when it is a
  whole number, else (``4.40104E+14``: digits lost) it is bad input
  (:class:`InputError` with the row; :func:`gridkit.io.normalise_codes`);
- rows without a grid code, rows whose grid code is not in the layer and
  duplicate rows (same grid and same organisation/person; for filings the same
  grid, date and status) are left out of every rate and reported as findings;
- a grid without a households value is reported, never taken as zero.

Examples
--------
>>> import pandas as pd
>>> grids = pd.DataFrame({"grid_code": ["440104001001001", "440104001001002"],
...                       "grid_name": ["一网格", "二网格"],
...                       "community_code": ["440104001001"] * 2, "households": [300, 500]})
>>> workers = pd.DataFrame({"person_id": ["p1", "p2"], "name": ["甲", "乙"],
...                         "kind": ["full_time", "part_time"],
...                         "grid_code": ["440104001001001", "440104001001002"]})
>>> result = compute_coverage(grids, workers=workers, by="community")
>>> result.metrics["fulltime_worker_coverage"], result.metrics["households_per_fulltime_worker"]
(0.5, 800.0)
"""

from __future__ import annotations

__all__ = ["DISTINCT", "DUPLICATE_KEYS", "FILING_STATUSES", "ID_COLUMNS", "MAX_EXAMPLES",
           "METRIC_KEYS", "RATES", "ROSTER_COLUMNS", "ROSTERS", "WORKER_KINDS", "CoverageResult",
           "compute_coverage"]

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from gridkit.errors import InputError
from gridkit.i18n import pick
from gridkit.io import normalise_codes, parse_numbers, require_columns
from gridkit.metrics import metric_keys
from gridkit.rollup import finding, group_sum, ratio, records, rollup, unit_codes

__all__ = [
    "CoverageResult", "DISTINCT", "DUPLICATE_KEYS", "FILING_STATUSES", "ID_COLUMNS",
    "MAX_EXAMPLES", "METRIC_KEYS", "RATES", "ROSTERS", "ROSTER_COLUMNS", "WORKER_KINDS",
    "compute_coverage",
]

ROSTERS = ("filings", "party", "cadres", "workers")
#: Columns a roster must have for the metrics (the loader asks for more).
ROSTER_COLUMNS = {"filings": ("grid_code", "status"), "party": ("org_id", "grid_code"),
            "cadres": ("person_id", "grid_code"), "workers": ("person_id", "kind", "grid_code")}
#: Columns that make two roster rows the same row.
DUPLICATE_KEYS = {"filings": ("grid_code", "filed_on", "status"),
                  "party": ("org_id", "grid_code"), "cadres": ("person_id", "grid_code"),
                  "workers": ("person_id", "grid_code")}
#: The id counted as one organisation / person when rolling up.
ID_COLUMNS = {"party": "org_id", "cadres": "person_id", "workers": "person_id"}
FILING_STATUSES = ("filed", "pending", "rejected")  # priority order per grid
WORKER_KINDS = ("full_time", "part_time")
#: Top-level keys of the JSON read by ``gridkit score --metrics``.
METRIC_KEYS = ("grids", *metric_keys("coverage", summary=True))
#: Rate column → (numerator column, denominator column, roster it needs).
RATES = {
    "filing_rate": ("filed", "grids", "filings"),
    "party_coverage": ("party_grids", "grids", "party"),
    "cadre_coverage": ("cadre_grids", "grids", "cadres"),
    "fulltime_worker_coverage": ("fulltime_grids", "grids", "workers"),
    "households_per_fulltime_worker": ("households", "full_time_workers", "workers"),
}
#: Examples listed per finding.
MAX_EXAMPLES = 5
#: Internal column: 1-based row of a roster record in its file.
_ROW = "\0row"
#: (roster, column, worker kind): distinct organisations / persons per unit.
DISTINCT = (("party", "party_orgs", None), ("cadres", "cadres", None),
            ("workers", "full_time_workers", "full_time"),
            ("workers", "part_time_workers", "part_time"))


@dataclass
class CoverageResult:
    """What :func:`compute_coverage` returns.

    Attributes
    ----------
    per_grid : one row per grid of the layer (in layer order), with the layer's
        geometry when it had one.
    rows : one row per unit of level ``by``.
    metrics : the whole-layer values (keys :data:`METRIC_KEYS`, ``None`` for a
        rate whose roster was not given or whose denominator is 0).
    findings : roster problems (see :func:`gridkit.rollup.finding`).
    """

    per_grid: pd.DataFrame
    rows: pd.DataFrame
    metrics: dict
    by: str
    findings: list[dict] = field(default_factory=list)
    # The cleaned rosters, names and language, to roll up again at another level.
    _source: tuple | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """The SPEC §7 JSON: flat metrics, ``by``, ``rows`` and ``findings``."""
        return {**self.metrics, "by": self.by, "rows": records(self.rows),
                "findings": self.findings}

    def rolled_up(self, by: str) -> CoverageResult:
        """The same coverage rolled up to level ``by`` (the rosters are not read or
        checked again; the metrics and findings are the same).

        >>> from gridkit.data import SAMPLE_DIR
        >>> from gridkit.io import read_layer, read_table
        >>> result = compute_coverage(read_layer(SAMPLE_DIR / "grids.gpkg"),
        ...                           filings=read_table(SAMPLE_DIR / "filings.csv", "filings"))
        >>> len(result.rows), len(result.rolled_up("street").rows) > len(result.rows)
        (2, True)
        """
        if by == self.by:
            return self
        rosters, names, lang = self._source
        return replace(self, rows=_unit_rows(self.per_grid, rosters, by, names, lang), by=by)


def compute_coverage(
    grids: pd.DataFrame,
    *,
    filings: pd.DataFrame | None = None,
    party: pd.DataFrame | None = None,
    cadres: pd.DataFrame | None = None,
    workers: pd.DataFrame | None = None,
    by: str = "district",
    names: Mapping[str, str] | None = None,
    lang: str = "zh",
) -> CoverageResult:
    """Coverage metrics per grid and per unit of level ``by``.

    Parameters
    ----------
    grids : the grid layer (``grid_code``, ``grid_name``, ``community_code``,
        optional ``households``, optional geometry); one grid per row.
    filings, party, cadres, workers : roster tables with canonical columns
        (as :func:`gridkit.io.read_table` returns them); ``None`` when not
        given (their metrics are then ``None``). ``attrs["source_path"]``
        names the file in messages.
    by : ``grid``, ``community``, ``street``, ``district`` or ``city``.
    names : code → name from the official code list.
    lang : language of finding messages.

    Returns
    -------
    CoverageResult

    Raises
    ------
    InputError
        A required column is missing, a grid code is a number that lost
        digits, a filing status or worker kind is unknown, a households value
        is not a number.
    """
    names = names or {}
    tables = {"filings": filings, "party": party, "cadres": cadres, "workers": workers}
    per_grid = _grid_table(grids)
    findings = _missing_households(per_grid, grids, lang)
    layer_codes = pd.Index(per_grid["grid_code"].unique())
    rosters: dict[str, pd.DataFrame] = {}
    for kind, table in tables.items():
        if table is not None:
            rosters[kind], problems = _clean_roster(kind, table, layer_codes, lang)
            findings.extend(problems)
    _add_grid_counts(per_grid, rosters)

    table, sums = _summable(per_grid)
    whole = group_sum(table, np.zeros(len(table), dtype=int), sums)
    whole = whole.set_index("code").reindex(["0"], fill_value=0).reset_index()  # empty layer
    whole = _finish(whole, rosters, pd.Series("0", index=per_grid["grid_code"]))
    metrics = {key: None for key in METRIC_KEYS}
    metrics.update({k: v.item() if hasattr(v, "item") else v
                    for k, v in whole.iloc[0].items() if k in METRIC_KEYS})
    metrics["grids"] = len(per_grid)
    metrics["grids_without_households"] = int(whole["grids_without_households"].iloc[0])
    metrics["roster_rows_excluded"] = sum(f["count"] for f in findings
                                          if f["kind"] != "missing_households")
    metrics = {k: (None if isinstance(v, float) and np.isnan(v) else v)
               for k, v in metrics.items()}
    return CoverageResult(per_grid=per_grid, rows=_unit_rows(per_grid, rosters, by, names, lang),
                          metrics=metrics, by=by, findings=findings,
                          _source=(rosters, names, lang))


def _summable(per_grid: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The per-grid counts to add up (and the layer's unit columns), and their names."""
    counts = [c for c in ("filed", "party_grids", "cadre_grids", "fulltime_grids")
              if c in per_grid]
    layer_columns = [c for c in ("grid_code", "grid_name", "community_code", "street_code",
                                 "district_code") if c in per_grid]
    table = per_grid[[*counts, *layer_columns]].assign(
        households=per_grid["households"].fillna(0).round().astype("int64"),
        grids_without_households=per_grid["households"].isna())
    return table, [*counts, "households", "grids_without_households"]


def _unit_rows(per_grid: pd.DataFrame, rosters: Mapping[str, pd.DataFrame], by: str,
               names: Mapping[str, str], lang: str) -> pd.DataFrame:
    """One row per unit of level ``by``: sums, distinct counts, rates."""
    table, sums = _summable(per_grid)
    units = unit_codes(per_grid, by)
    return _finish(rollup(table, by, sums, names=names, lang=lang), rosters,
                   pd.Series(units.to_numpy(), index=per_grid["grid_code"]))


def _finish(table: pd.DataFrame, rosters: Mapping[str, pd.DataFrame],
            unit_of_code: pd.Series) -> pd.DataFrame:
    """Add distinct organisation / person counts and the rates to a unit table."""
    unit_of_code = unit_of_code[~unit_of_code.index.duplicated()]
    for kind, column, subset in DISTINCT:
        if kind in rosters:
            roster = rosters[kind]
            if subset is not None:
                roster = roster[roster["kind"] == subset]
            distinct = _distinct_ids(roster, ID_COLUMNS[kind], unit_of_code)
            table[column] = table["code"].map(distinct).fillna(0).astype("int64")
    for rate, (num, den, kind) in RATES.items():
        if kind in rosters:
            table[rate] = ratio(table[num], table[den]).to_numpy()
    return table


def _grid_table(grids: pd.DataFrame) -> pd.DataFrame:
    """The per-grid frame: layer columns we report, households as float."""
    path = grids.attrs.get("source_path")
    require_columns(grids, ("grid_code", "community_code"), path=path)
    keep = [c for c in ("grid_code", "grid_name", "community_code", "street_code",
                        "district_code") if c in grids]
    out = grids[keep].copy()
    out["grid_code"] = normalise_codes(grids["grid_code"], path=path, column="grid_code")
    if "households" in grids:  # rows numbered by position, whatever the index
        out["households"] = parse_numbers(grids["households"].reset_index(drop=True), path=path,
                                          column="households").to_numpy()
    else:
        out["households"] = np.nan
    if "geometry" in grids:
        out["geometry"] = grids.geometry.to_numpy()
        out = out.set_geometry("geometry", crs=grids.crs) if hasattr(grids, "crs") else out
    return out.reset_index(drop=True)


def _missing_households(per_grid: pd.DataFrame, grids: pd.DataFrame, lang: str) -> list[dict]:
    missing = per_grid["households"].isna().to_numpy()
    if not missing.any():
        return []
    examples = [{"row": int(i) + 1, "grid_code": per_grid["grid_code"].iloc[i]}
                for i in np.flatnonzero(missing)[:MAX_EXAMPLES]]
    return [finding(
        "missing_households",
        pick(lang, zh=f"{missing.sum()} 个网格没有户数，不按 0 计入每名专职网格员服务户数",
             en=f"{missing.sum()} grid(s) have no households value; left out of households "
                "per full-time worker, not counted as 0"),
        int(missing.sum()), examples, table="grids", path=grids.attrs.get("source_path"))]


def _clean_roster(kind: str, table: pd.DataFrame, layer_codes: pd.Index,
                  lang: str) -> tuple[pd.DataFrame, list[dict]]:
    """Drop rows that must not count, returning the kept rows and the findings."""
    path = table.attrs.get("source_path")
    require_columns(table, ROSTER_COLUMNS[kind], path=path)
    table = table.reset_index(drop=True).copy()
    table[_ROW] = np.arange(1, len(table) + 1)
    table["grid_code"] = normalise_codes(table["grid_code"], path=path, column="grid_code")
    if kind == "filings":
        _check_values(table, "status", FILING_STATUSES, path)
    if kind == "workers":
        _check_values(table, "kind", WORKER_KINDS, path)
    findings = []

    def report(mask: pd.Series, what: str, zh: str, en: str) -> None:
        if mask.any():
            bad = table[mask].head(MAX_EXAMPLES)
            examples = [{"row": int(r), "grid_code": None if pd.isna(c) else c}
                        for r, c in zip(bad[_ROW], bad["grid_code"])]
            findings.append(finding(what, pick(lang, zh=zh.format(n=int(mask.sum())),
                                               en=en.format(n=int(mask.sum()))),
                                    int(mask.sum()), examples, table=kind, path=path))

    no_code = table["grid_code"].isna()
    report(no_code, "missing_grid_code", "{n} 行没有网格编码，不计入",
           "{n} row(s) without a grid code, not counted")
    # as objects: pandas' isin on Arrow strings boxes every value of the set (0.2 s a roster)
    unknown = ~no_code & ~table["grid_code"].astype(object).isin(layer_codes.astype(object))
    report(unknown, "unknown_grid_code", "{n} 行的网格编码不在网格图层中，不计入",
           "{n} row(s) with a grid code not in the grid layer, not counted")
    key = [c for c in DUPLICATE_KEYS[kind] if c in table]
    duplicate = ~no_code & ~unknown & table.duplicated(key)
    report(duplicate, "duplicate_rows", "{n} 行与前面的行重复，不重复计入",
           "{n} row(s) repeat an earlier row, counted once")
    return table[~(no_code | unknown | duplicate)], findings


def _check_values(table: pd.DataFrame, column: str, allowed, path) -> None:
    bad = ~table[column].isin(allowed)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"value {table[column].iloc[row]!r} is not one of "
                         f"{', '.join(allowed)}", path=path, column=column, row=row + 1)


def _add_grid_counts(per_grid: pd.DataFrame, rosters: Mapping[str, pd.DataFrame]) -> None:
    """Per-grid columns from the cleaned rosters (in place)."""
    codes = per_grid["grid_code"]

    def count(table: pd.DataFrame) -> pd.Series:
        return codes.map(table.groupby("grid_code").size()).fillna(0).astype("int64")

    if "filings" in rosters:
        filings = rosters["filings"]
        rank = filings["status"].map({s: i for i, s in enumerate(FILING_STATUSES)})
        best = rank.groupby(filings["grid_code"]).min()
        per_grid["filing_status"] = codes.map(best).map(dict(enumerate(FILING_STATUSES)))
        per_grid["filed"] = per_grid["filing_status"].eq("filed").fillna(False).astype(bool)
    if "party" in rosters:
        per_grid["party_orgs"] = count(rosters["party"])
        per_grid["party_grids"] = per_grid["party_orgs"] > 0
    if "cadres" in rosters:
        per_grid["cadres"] = count(rosters["cadres"])
        per_grid["cadre_grids"] = per_grid["cadres"] > 0
    if "workers" in rosters:
        workers = rosters["workers"]
        per_grid["full_time_workers"] = count(workers[workers["kind"] == "full_time"])
        per_grid["part_time_workers"] = count(workers[workers["kind"] == "part_time"])
        per_grid["fulltime_grids"] = per_grid["full_time_workers"] > 0
        per_grid["households_per_fulltime_worker"] = ratio(
            per_grid["households"], per_grid["full_time_workers"]).to_numpy()


def _distinct_ids(roster: pd.DataFrame, id_column: str,
                  unit_of_code: pd.Series | None) -> pd.Series:
    """Distinct ids per unit (one unit for all when ``unit_of_code`` is None).

    A row without an id counts as a person / organisation of its own.
    """
    ids = roster[id_column].astype("str")
    ids = ids.where(ids.notna(), "\0row" + roster[_ROW].astype(str))
    units = (roster["grid_code"].map(unit_of_code) if unit_of_code is not None
             else pd.Series("all", index=roster.index))
    return ids.groupby(units.to_numpy()).nunique()

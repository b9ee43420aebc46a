"""Roll per-grid counts up the code hierarchy: grid → community → street → district → city.

Shared by :mod:`gridkit.coverage` and :mod:`gridkit.events`: both compute
additive counts per grid (numerators and denominators), sum them per unit with
:func:`rollup` and only then divide with :func:`ratio`, so a rate of a unit is
always its own numerator over its own denominator (never a mean of rates).

The unit of a grid comes from the code hierarchy when its codes follow the
statistical scheme, else from the layer's columns (:func:`unit_codes`). Names
come from the official code list (:func:`gridkit.codes.load_divisions`,
the national list by default), grid names from the layer; an unknown code is
its own name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from gridkit.codes import CODE_LENGTHS, parent_code
from gridkit.i18n import pick

__all__ = [
    "BY_LEVELS", "CITY_CODE_LENGTH", "finding", "group_sum", "layer_codes", "ratio", "records",
    "rollup", "unit_codes", "unit_names",
]

#: Values of ``--by``, finest first.
BY_LEVELS = ("grid", "community", "street", "district", "city")
CITY_CODE_LENGTH = 4


#: The layer's columns that hold codes of its grids' units (:func:`unit_codes`).
UNIT_CODE_COLUMNS = ("grid_code", "community_code", "street_code", "district_code")


def layer_codes(grids: pd.DataFrame) -> np.ndarray:
    """Every code a roll-up of ``grids`` can name: the grid codes and the layer's
    community/street/district codes (``within`` of :func:`gridkit.codes.load_divisions`).

    >>> layer_codes(pd.DataFrame({"grid_code": ["440104001001001"], "district_code": ["D7"]}))
    array(['440104001001001', 'D7'], dtype=object)
    """
    columns = [grids[c] for c in UNIT_CODE_COLUMNS if c in grids]
    if not columns:
        return np.array([], dtype=object)
    return pd.unique(pd.concat(columns).dropna().astype(str).to_numpy(dtype=object))


def unit_codes(grids: pd.DataFrame, by: str) -> pd.Series:
    """Code of the unit of level ``by`` that each grid belongs to.

    A grid follows the statistical scheme when its ``community_code`` has 12
    digits or its grid code 15: its street, district and city are then the 9-,
    6- and 4-digit prefixes. Any other grid takes the unit from the layer's
    column of that level (``community_code``, ``street_code``,
    ``district_code``; their Chinese aliases are mapped by the loader); when the
    layer has no such column, all such grids form one unit with the code ``""``
    (named 未知/"unknown"); ``--by city`` gives them one unit ``""`` (全市).

    Parameters
    ----------
    grids : table with ``grid_code`` and ``community_code`` (optionally
        ``street_code``, ``district_code``).
    by : one of :data:`BY_LEVELS`.

    Returns
    -------
    Series of ``str`` aligned with ``grids``.

    Examples
    --------
    >>> g = pd.DataFrame({"grid_code": ["440104001001001", "440104001002001", "D7-N-03"],
    ...                   "community_code": ["440104001001", None, "N"],
    ...                   "district_code": [None, None, "D7"]})
    >>> unit_codes(g, "community").tolist()
    ['440104001001', '440104001002', 'N']
    >>> unit_codes(g, "district").tolist(), unit_codes(g, "city").tolist()
    (['440104', '440104', 'D7'], ['4401', '4401', ''])
    """
    if by not in BY_LEVELS:
        raise ValueError(f"by must be one of {', '.join(BY_LEVELS)}, not {by!r}")
    grid = grids["grid_code"].astype(str)
    if by == "grid":
        return grid
    column = _text(grids["community_code"])
    usable = column.str.fullmatch(r"\d{12}")
    statistical = usable | grid.str.fullmatch(r"\d{15}")
    community = column.where(usable, grid.str.slice(0, CODE_LENGTHS["community"]))
    if by == "city":
        hierarchy = community.str.slice(0, CITY_CODE_LENGTH)
        own = pd.Series("", index=grids.index)
    elif by == "community":
        hierarchy, own = community, column
    else:
        hierarchy = parent_code(community, by)
        own = _text(grids[f"{by}_code"]) if f"{by}_code" in grids else pd.Series(
            "", index=grids.index)
    return hierarchy.where(statistical, own).astype(str)


def _text(values: pd.Series) -> pd.Series:
    """Codes as stripped ``str``, ``""`` when missing."""
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


def unit_names(codes: pd.Series, by: str, names: Mapping[str, str],
               grid_names: pd.Series | None = None, lang: str = "zh") -> pd.Series:
    """Name of each unit code: the grid name for grids, else from the code list.

    A code of another scheme the list does not know is its own name (an
    unknown statistical code gets ``None``); the unit ``""`` is
    全市 / "whole city" for ``by="city"`` and 未知 / "unknown" otherwise.
    """
    if by == "grid" and grid_names is not None:
        return pd.Series(grid_names.to_numpy(), index=codes.index, dtype=object)
    out = codes.map(lambda c: names.get(c)).astype(object)
    # A statistical code missing from the list stays unnamed (a caller may know it);
    # a code of another scheme is its own name.
    other = ~codes.astype(str).str.fullmatch(r"\d{2}|\d{4}|\d{6}|\d{9}|\d{12}")
    out = out.where(out.notna() | ~other, codes.astype(object))
    blank = pick(lang, zh="全市", en="whole city") if by == "city" else pick(
        lang, zh="未知", en="unknown")
    out = out.where(codes != "", blank)
    return out.where(out.notna(), None)


def rollup(per_grid: pd.DataFrame, by: str, sums: Sequence[str], *,
           names: Mapping[str, str], lang: str = "zh") -> pd.DataFrame:
    """Sum the ``sums`` columns of a per-grid table per unit of level ``by``.

    Parameters
    ----------
    per_grid : one row per grid with ``grid_code``, ``community_code``,
        optionally ``grid_name`` and the count columns.
    by : unit level (:data:`BY_LEVELS`).
    sums : additive columns to add up (booleans count as 0/1).
    names : code → name (:func:`gridkit.codes.code_names`).

    Returns
    -------
    DataFrame with ``code``, ``name``, ``grids`` (number of grids) and the
    ``sums`` columns, one row per unit, sorted by code.

    Examples
    --------
    >>> g = pd.DataFrame({"grid_code": ["440104001001001", "440104001001002", "440105001001001"],
    ...                   "community_code": ["440104001001", "440104001001", "440105001001"],
    ...                   "filed": [True, False, True]})
    >>> rollup(g, "district", ["filed"], names={"440104": "越秀区"}).to_dict("list")
    {'code': ['440104', '440105'], 'name': ['越秀区', None], 'grids': [2, 1], 'filed': [1, 1]}
    """
    codes = unit_codes(per_grid, by)
    table = group_sum(per_grid, codes, sums)
    grid_names = None
    if by == "grid" and "grid_name" in per_grid:
        grid_names = per_grid.set_index(codes.to_numpy())["grid_name"]
        grid_names = grid_names[~grid_names.index.duplicated()].reindex(table["code"])
    table.insert(1, "name", unit_names(table["code"], by, names, grid_names, lang))
    return table


def group_sum(table: pd.DataFrame, units: pd.Series | np.ndarray,
              sums: Sequence[str]) -> pd.DataFrame:
    """Sum ``sums`` columns of ``table`` per unit code: ``code``, ``grids``, sums.

    >>> group_sum(pd.DataFrame({"x": [1, 2, 3]}), pd.Series(["b", "a", "b"]), ["x"]).to_dict("list")
    {'code': ['a', 'b'], 'grids': [1, 2], 'x': [2, 4]}
    """
    values = table[list(sums)].astype("int64")
    grouped = values.groupby(np.asarray(units), sort=True)
    out = grouped.sum()
    out.insert(0, "grids", grouped.size().astype("int64"))
    out.index.name = "code"
    out = out.reset_index()
    out["code"] = out["code"].astype(str)
    return out


def finding(kind: str, message: str, count: int, examples: Sequence[Mapping] = (), *,
            table: str | None = None, path: str | None = None,
            max_examples: int = 5) -> dict:
    """One entry of the ``findings`` list of the coverage and events JSON.

    >>> finding("unknown_grid_code", "…", 3, [{"row": 2}], table="party")["count"]
    3
    """
    return {"kind": kind, "table": table, "path": None if path is None else str(path),
            "count": int(count), "examples": [dict(e) for e in list(examples)[:max_examples]],
            "message": message}


def ratio(numerator, denominator) -> pd.Series | float | None:
    """``numerator / denominator``, NaN (``None`` for scalars) where the denominator is 0.

    >>> ratio(pd.Series([1, 0]), pd.Series([2, 0])).tolist()
    [0.5, nan]
    >>> ratio(3, 0) is None
    True
    """
    if np.isscalar(numerator) and np.isscalar(denominator):
        return float(numerator) / float(denominator) if denominator else None
    num = pd.Series(numerator, dtype="float64")
    den = pd.Series(denominator, dtype="float64")
    return (num / den.where(den != 0)).astype("float64")


def records(table: pd.DataFrame) -> list[dict]:
    """The rows of a roll-up table as dicts of plain Python values, ``None`` where
    missing (the ``rows`` of the JSON results).

    Column by column: ``DataFrame.to_dict("records")`` boxes every cell and
    takes three times as long for a city's 20,000 grids.

    >>> records(pd.DataFrame({"code": ["a", "b"], "rate": [0.5, np.nan], "n": [1, 2]}))
    [{'code': 'a', 'rate': 0.5, 'n': 1}, {'code': 'b', 'rate': None, 'n': 2}]
    """
    columns = []
    for name in table.columns:
        values = table[name].tolist()
        if table[name].hasnans:
            missing = table[name].isna().to_numpy()
            values = [None if gap else value for value, gap in zip(values, missing)]
        columns.append(values)
    keys = [str(name) for name in table.columns]
    return [dict(zip(keys, row)) for row in zip(*columns)]

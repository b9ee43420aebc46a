"""The official administrative code list (统计用区划代码) and the code hierarchy.

Codes: province 2 digits (44), city 4 (4401), district 6 (440104), street/town
9 (440104001), community or village 12 (440104001001); a grid code is the
community code + a 3-digit serial, numbered in reading order inside the
community (:func:`serial_order`). The packaged default is the national 2023
list (665,276 codes, ``gridkit/data/china-divisions-2023.parquet``, see
``gridkit/data/README.md``).
"""

from __future__ import annotations

import functools
import operator
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import shapely

from gridkit.data import NATIONAL_CODES
from gridkit.errors import InputError
from gridkit.io.columns import require_columns

__all__ = ["CODE_LENGTHS", "code_names", "load_divisions", "parent_code",
           "select_divisions", "serial_order"]

#: Length of each level's code in the national scheme, from the province to the grid.
CODE_LENGTHS = {"province": 2, "city": 4, "district": 6, "street": 9, "community": 12,
                "grid": 15}


def load_divisions(path: str | os.PathLike | None = None, *,
                   within: Iterable[str] | None = None) -> pd.DataFrame:
    """Read a code list with columns ``code, level, name, parent_code``.

    Parameters
    ----------
    path : a CSV (UTF-8 or GBK) or Parquet file; default the national 2023
        list packaged with gridkit. Codes may be 2, 4, 6, 9 or 12 digits
        (province, city, district, street, community in the national scheme).
    within : codes whose units will be looked up (a layer's grid codes and its
        community/street/district codes, :func:`gridkit.rollup.layer_codes`):
        only those codes and their ancestors (their first 2, 4, 6, 9 and 12
        digits) are kept. The national list has 665,276 codes; read whole it
        costs about 0.3 s and 120 MB, the provinces of a city's layer
        (row groups of the packaged file, found by their code ranges) a few
        milliseconds. A user's list is checked whole first.

    Returns
    -------
    DataFrame indexed by nothing, codes as ``str``, in the file's order.

    Raises
    ------
    InputError
        Unreadable file, missing column, a code that is not 2/4/6/9/12 digits,
        or a code listed twice (naming both rows).

    Examples
    --------
    >>> d = load_divisions()
    >>> d.loc[d.code == "440104", "name"].item(), d.loc[d.code == "110101", "name"].item()
    ('越秀区', '东城区')
    >>> load_divisions(within=["440104001007003"])[["code", "name"]].to_numpy().tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [['44', '广东省'], ['4401', '广州市'], ['440104', '越秀区'], ['440104001', '洪桥街道'],
     ['440104001007', '三眼井社区居委会']]
    """
    if path is None:
        return _national(None if within is None else _with_ancestors(within))
    path = Path(path)
    if not path.is_file():
        raise InputError("code list not found" if not path.exists() else
                         "code list is a folder, not a file", path=path)
    table = _read_parquet(path) if path.suffix.lower() == ".parquet" else _read_csv(path)
    require_columns(table, ("code", "level", "name", "parent_code"), what="code list",
                    path=path)
    table["code"] = table["code"].str.strip()
    bad = ~table["code"].str.fullmatch(r"\d{2}|\d{4}|\d{6}|\d{9}|\d{12}")
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0]) + 1
        raise InputError(
            f"code {table['code'].iloc[row - 1]!r} is not 2, 4, 6, 9 or 12 digits",
            path=path, column="code", row=row,
        )
    twice = table["code"].duplicated(keep=False).to_numpy().nonzero()[0]
    if len(twice):
        code = table["code"].iloc[twice[0]]
        first, second = (table["code"].to_numpy() == code).nonzero()[0][:2] + 1
        raise InputError(
            f"code {code} is listed twice: rows {first} ({table['name'].iloc[first - 1]}) and "
            f"{second} ({table['name'].iloc[second - 1]})",
            path=path, column="code", row=int(second),
        )
    return table if within is None else select_divisions(table, within)


def select_divisions(divisions: pd.DataFrame, within: Iterable[str]) -> pd.DataFrame:
    """The rows of a code list that name ``within`` codes or their ancestors (see
    ``within`` of :func:`load_divisions`), in the list's order.

    >>> d = load_divisions(within=["440104001007003", "440105001001001"])
    >>> select_divisions(d, ["440104001007003"])["code"].tolist()
    ['44', '4401', '440104', '440104001', '440104001007']
    """
    keep = pc.is_in(pa.array(divisions["code"].to_numpy(dtype=object), type=pa.string()),
                    value_set=_with_ancestors(within))
    return divisions[keep.to_numpy(zero_copy_only=False)].reset_index(drop=True)


def _with_ancestors(codes: Iterable[str]) -> pa.Array:
    """The distinct codes and their first 2, 4, 6, 9 and 12 digits."""
    wanted = pc.unique(pa.array(pd.Series(list(codes), dtype=object).dropna().astype(str)
                                .to_numpy(dtype=object), type=pa.string()))
    return pc.unique(pa.concat_arrays([wanted, *(
        pc.utf8_slice_codeunits(wanted, 0, n) for n in (2, 4, 6, 9, 12))]))


def _national(wanted: pa.Array | None) -> pd.DataFrame:
    """The packaged list, whole or the ``wanted`` codes (read from their provinces'
    row groups: the file is sorted by code)."""
    if wanted is None:
        return pd.read_parquet(NATIONAL_CODES).astype(str)
    code = pads.field("code")
    provinces = pc.unique(pc.utf8_slice_codeunits(
        wanted.filter(pc.greater_equal(pc.utf8_length(wanted), 2)), 0, 2)).to_pylist()
    if not provinces:
        return pd.read_parquet(NATIONAL_CODES).astype(str).iloc[:0]
    rows = functools.reduce(operator.or_, ((code >= p) & (code < _next_prefix(p))
                                           for p in provinces))
    table = pads.dataset(NATIONAL_CODES).to_table(filter=rows & code.isin(wanted))
    return table.to_pandas().astype(str)


def _next_prefix(prefix: str) -> str:
    """The smallest string after every string starting with ``prefix`` (digits)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path).astype(str)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise InputError(f"cannot read the code list as Parquet: {exc}", path=path) from None


def _read_csv(path: Path) -> pd.DataFrame:
    for encoding in ("utf-8-sig", "gb18030"):  # UTF-8 with or without BOM, else GBK
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise InputError("code list is empty", path=path) from None
        except pd.errors.ParserError as exc:
            raise InputError(f"cannot read the code list as CSV: {exc}", path=path) from None
    raise InputError("code list is neither UTF-8 nor GBK/GB18030 text; save it as UTF-8",
                     path=path)


def code_names(divisions: pd.DataFrame) -> dict[str, str]:
    """Map every code of the list to its name (restrict the list with
    ``load_divisions(within=...)`` when only a layer's units are needed)."""
    return dict(zip(divisions["code"].tolist(), divisions["name"].tolist()))


def parent_code(codes: pd.Series, level: str) -> pd.Series:
    """Truncate grid or community codes to the code of ``level`` (district/street/community).

    >>> parent_code(pd.Series(["440104001001001"]), "street").tolist()
    ['440104001']
    """
    return codes.astype(str).str.slice(0, CODE_LENGTHS[level])


def serial_order(geometry: Sequence | gpd.GeoSeries, community_code: Sequence[str], *,
                 row_height: str = "mean") -> np.ndarray:
    """Position (1-based) of each grid in the numbering convention of its community.

    Grid serials run west→east, north→south inside a community, like reading
    text: rows from north to south, west to east inside a row. Exactly:

    1. each grid is represented by its centroid ``(x, y)`` in a metric CRS
       (pass geometries in EPSG:4547 or another metric CRS);
    2. the row height of a community is the side of its mean grid,
       ``h = sqrt(sum of its grids' areas / number of its grids)`` (``row_height="mean"``,
       how ``gridkit synth`` numbers), or of its median grid (``"median"``: the
       middle of the row heights ``code_serial_order`` accepts,
       :mod:`gridkit.validate.serial`, so that ``gridkit fix --renumber`` passes it
       whatever the spread of grid sizes);
    3. a grid's row is ``floor((y_max - y) / h)`` with ``y_max`` the northernmost
       centroid of the community;
    4. grids are sorted by (row, x) and numbered 1, 2, ... (ties: y descending,
       then input order).

    Null or empty geometries get 0 and are left out of the numbering. A layer
    is numbered correctly when, inside each community, ordering its grids by
    serial gives positions 1..n.

    Parameters
    ----------
    geometry : polygons in a metric CRS (GeoSeries or array-like of shapely geometries).
    community_code : the group of each grid (the 12-digit code prefix for a layer).
    row_height : ``"mean"`` or ``"median"`` (see 2.).

    Returns
    -------
    numpy int64 array, one position per grid.

    Examples
    --------
    >>> from shapely import box
    >>> serial_order([box(100, 0, 200, 100), box(0, 0, 100, 100), box(0, 100, 100, 200)],
    ...              ["c", "c", "c"]).tolist()
    [3, 2, 1]
    """
    geoms = np.asarray(geometry.values if isinstance(geometry, gpd.GeoSeries) else geometry,
                       dtype=object)
    groups = pd.Series(np.asarray(community_code, dtype=object)).astype(str).to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out = np.zeros(len(geoms), dtype=np.int64)
    if not present.any():
        return out
    idx = np.flatnonzero(present)
    centre = shapely.centroid(geoms[idx])
    frame = pd.DataFrame({
        "g": groups[idx], "x": shapely.get_x(centre), "y": shapely.get_y(centre),
        "a": shapely.area(geoms[idx]), "i": np.arange(len(idx)),
    })
    by = frame.groupby("g", sort=False)
    if row_height not in ("mean", "median"):
        raise ValueError(f"row_height must be 'mean' or 'median', not {row_height!r}")
    height = np.sqrt(by["a"].transform("median") if row_height == "median"
                     else by["a"].transform("sum") / by["a"].transform("size"))
    height = height.where(height > 0, 1.0)
    frame["row"] = np.floor((by["y"].transform("max") - frame["y"]) / height)
    frame = frame.sort_values(["g", "row", "x", "y", "i"],
                              ascending=[True, True, True, False, True])
    frame["rank"] = frame.groupby("g", sort=False).cumcount() + 1
    out[idx[frame["i"].to_numpy()]] = frame["rank"].to_numpy()
    return out

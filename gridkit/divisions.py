"""The official administrative code list (统计用区划代码) and the code hierarchy.

Codes: province 2 digits (44), city 4 (4401), district 6 (440104), street/town
9 (440104001), community or village 12 (440104001001); a grid code is the
community code + a 3-digit serial. The packaged default is the national 2023
list (665,276 codes, ``gridkit/data/china-divisions-2023.parquet``, see
``data/README.md``).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pandas as pd

from gridkit.errors import InputError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
#: The national 2023 statistical division codes (province to community/village), packaged.
NATIONAL_CODES = Path(__file__).resolve().parent / "data" / "china-divisions-2023.parquet"
DEFAULT_CODES = NATIONAL_CODES
#: Guangzhou's part of the national list (synth's city, and a small test fixture).
GUANGZHOU_CODES = DATA_DIR / "guangzhou-divisions-2023.csv"
DISTRICT_OUTLINES = DATA_DIR / "guangzhou-districts.geojson"

#: Length of each level's code in the national scheme, from the province to the grid.
CODE_LENGTHS = {"province": 2, "city": 4, "district": 6, "street": 9, "community": 12,
                "grid": 15}
LEVELS = ("district", "street", "community")


def load_divisions(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read a code list with columns ``code, level, name, parent_code``.

    Parameters
    ----------
    path : a CSV (UTF-8 or GBK) or Parquet file; default the national 2023
        list packaged with gridkit. Codes may be 2, 4, 6, 9 or 12 digits
        (province, city, district, street, community in the national scheme).

    Returns
    -------
    DataFrame indexed by nothing, codes as ``str``.

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
    """
    if path is None:
        return _national().copy()
    path = Path(path)
    if not path.is_file():
        raise InputError("code list not found" if not path.exists() else
                         "code list is a folder, not a CSV file", path=path)
    table = _read_parquet(path) if path.suffix.lower() == ".parquet" else _read_csv(path)
    missing = [c for c in ("code", "level", "name", "parent_code") if c not in table.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; the file has {', '.join(table.columns)}",
            path=path,
        )
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
    return table


@lru_cache(maxsize=1)
def _national() -> pd.DataFrame:
    return pd.read_parquet(NATIONAL_CODES).astype(str)


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
    """Map every code of the list to its name."""
    return dict(zip(divisions["code"], divisions["name"]))


def parent_code(codes: pd.Series, level: str) -> pd.Series:
    """Truncate grid or community codes to the code of ``level`` (district/street/community).

    >>> parent_code(pd.Series(["440104001001001"]), "street").tolist()
    ['440104001']
    """
    return codes.astype(str).str.slice(0, CODE_LENGTHS[level])

"""The official administrative code list (统计用区划代码) and the code hierarchy.

Codes: district 6 digits (440104), street/town 9 (440104001), community or
village 12 (440104001001); a grid code is the community code + a 3-digit serial.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from gridkit.data import DEFAULT_CODES
from gridkit.errors import InputError

#: Length of each level's code, from the grid code down to the district.
CODE_LENGTHS = {"district": 6, "street": 9, "community": 12, "grid": 15}
LEVELS = ("district", "street", "community")


def load_divisions(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read a code list with columns ``code, level, name, parent_code``.

    Parameters
    ----------
    path : the CSV; default the Guangzhou 2023 list shipped in ``gridkit/data/``.

    Returns
    -------
    DataFrame indexed by nothing, codes as ``str``.

    Examples
    --------
    >>> d = load_divisions()
    >>> d.loc[d.code == "440104", "name"].item()
    '越秀区'
    """
    path = Path(path) if path is not None else DEFAULT_CODES
    if not path.is_file():
        raise InputError("code list not found" if not path.exists() else
                         "code list is a folder, not a CSV file", path=path)
    table = None
    for encoding in ("utf-8-sig", "gb18030"):  # UTF-8 with or without BOM, else GBK
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise InputError("code list is empty", path=path) from None
        except pd.errors.ParserError as exc:
            raise InputError(f"cannot read the code list as CSV: {exc}", path=path) from None
    if table is None:
        raise InputError("code list is neither UTF-8 nor GBK/GB18030 text; save it as UTF-8",
                         path=path)
    missing = [c for c in ("code", "level", "name", "parent_code") if c not in table.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; the file has {', '.join(table.columns)}",
            path=path,
        )
    table["code"] = table["code"].str.strip()
    bad = ~table["code"].str.fullmatch(r"\d{6}|\d{9}|\d{12}")
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0]) + 1
        raise InputError(
            f"code {table['code'].iloc[row - 1]!r} is not 6, 9 or 12 digits",
            path=path, column="code", row=row,
        )
    return table


def code_names(divisions: pd.DataFrame) -> dict[str, str]:
    """Map every code of the list to its name."""
    return dict(zip(divisions["code"], divisions["name"]))


def parent_code(codes: pd.Series, level: str) -> pd.Series:
    """Truncate grid or community codes to the code of ``level`` (district/street/community).

    >>> parent_code(pd.Series(["440104001001001"]), "street").tolist()
    ['440104001']
    """
    return codes.astype(str).str.slice(0, CODE_LENGTHS[level])

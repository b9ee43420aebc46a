"""The one check that a table or layer has the columns a step needs."""

from __future__ import annotations

import os
from collections.abc import Iterable

import pandas as pd

from gridkit.errors import InputError

__all__ = ["require_columns"]


def require_columns(table: pd.DataFrame, columns: Iterable[str], *, what: str = "table",
                    path: str | os.PathLike | None = None) -> None:
    """Raise :class:`InputError` unless ``table`` has every one of ``columns``.

    Parameters
    ----------
    table : a DataFrame or GeoDataFrame (columns already canonical, see
        :func:`gridkit.io.resolve_columns`).
    columns : the columns needed.
    what : what the table is, for the message (``"grid layer"``, ``"code list"``).
    path : the file, for the message; default ``table.attrs["source_path"]``.

    Raises
    ------
    InputError
        Naming the file and the first missing column, listing all missing ones and the
        columns the table has.

    Examples
    --------
    >>> t = pd.DataFrame({"grid_code": ["440104001001001"], "名称": ["x"]})
    >>> require_columns(t, ["grid_code"])
    >>> require_columns(t, ["grid_code", "status", "filed_on"], path="f.csv")
    Traceback (most recent call last):
    ...
    gridkit.errors.InputError: f.csv: column 'status': missing column(s) status, filed_on; \
the table has grid_code, 名称
    """
    missing = [c for c in columns if c not in table.columns]
    if missing:
        has = ", ".join(map(str, table.columns)) or "(none)"
        raise InputError(f"missing column(s) {', '.join(missing)}; the {what} has {has}",
                         path=path if path is not None else table.attrs.get("source_path"),
                         column=missing[0])

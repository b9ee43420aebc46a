"""Errors that gridkit reports to the user as a one-line message with exit code 2."""

from __future__ import annotations

import re
from os import PathLike

#: ``scheme://user:password@`` of a PostgreSQL URI: what :func:`redact` blanks out.
_PASSWORD_IN_URI = re.compile(r"(postgres(?:ql)?://[^:/@\s]*):[^@\s]*@", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with the password of every PostgreSQL URI in it removed.

    Examples
    --------
    >>> redact("cannot open postgresql://gk:pa%40ss@h/db")
    'cannot open postgresql://gk@h/db'
    """
    return _PASSWORD_IN_URI.sub(r"\1@", text)


class InputError(Exception):
    """Unusable input: a missing column, a bad CRS, an unparseable value, ...

    The message names the file and, where known, the column and the row
    (1-based data record number: the first record after a CSV header is row 1).

    Examples
    --------
    >>> str(InputError("not a 15-digit code", path="grids.gpkg", column="grid_code", row=3))
    "grids.gpkg: column 'grid_code', row 3: not a 15-digit code"
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike | None = None,
        column: str | None = None,
        row: int | None = None,
    ) -> None:
        # One line always: library messages (pandas, GDAL) may carry newlines. A database
        # URI given as a path may hold a password: never shown.
        self.message = redact(" ".join(str(message).split()))
        self.path = None if path is None else redact(str(path))
        self.column = column
        self.row = row
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        prefix = self.path or ""
        if where:
            prefix = f"{prefix}: {', '.join(where)}" if prefix else ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message

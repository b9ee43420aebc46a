"""Errors that gridkit reports to the user as a one-line message with exit code 2."""

from __future__ import annotations

import re
from os import PathLike
from typing import Any

__all__ = ["InputError", "redact"]

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

    The library says what to do without naming command-line flags: ``hint`` holds
    ``{option}`` where the setting goes, ``option`` is the parameter and its value.
    A library caller reads the Python spelling; the command line, the flag.

    >>> err = InputError("output exists", path="out.gpkg", hint="use {option} to overwrite it",
    ...                  option=("force", True))
    >>> str(err)
    'out.gpkg: output exists; use force=True to overwrite it'
    >>> err.cli_message()
    'out.gpkg: output exists; use --force to overwrite it'
    >>> InputError("no CRS", hint="pass {option}", option=("metric_crs", 4547)).cli_message()
    'no CRS; pass --metric-crs 4547'

    A mapping is the repeatable ``KEY=VALUE`` flag, named in the singular:

    >>> err = InputError("no grid code", hint="map it with {option}",
    ...                  option=("columns", {"grid_code": "NAME"}))
    >>> str(err)
    "no grid code; map it with columns={'grid_code': 'NAME'}"
    >>> err.cli_message()
    'no grid code; map it with --column grid_code=NAME'
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike | None = None,
        column: str | None = None,
        row: int | None = None,
        hint: str | None = None,
        option: tuple[str, Any] | None = None,
    ) -> None:
        """``hint``: what to do, ``{option}`` marking the setting; ``option``: the
        parameter's name and the value to give it (``None``: any value, ``True``: a flag)."""
        # One line always: library messages (pandas, GDAL) may carry newlines. A database
        # URI given as a path may hold a password: never shown.
        self.message = redact(" ".join(str(message).split()))
        self.path = None if path is None else redact(str(path))
        self.column = column
        self.row = row
        self.hint = hint
        self.option = option
        super().__init__(str(self))

    def _with_hint(self, option_text: str) -> str:
        where = self._located()
        if not self.hint:
            return where
        return f"{where}; {self.hint.replace('{option}', option_text)}"

    def __str__(self) -> str:
        if self.option is None:
            return self._with_hint("")
        name, value = self.option
        return self._with_hint(name if value is None else f"{name}={value!r}")

    def cli_message(self) -> str:
        """The message as the command line prints it: the option spelled as its flag."""
        if self.option is None:
            return str(self)
        name, value = self.option
        flag = "--" + name.replace("_", "-")
        if isinstance(value, dict):  # ``columns={...}`` is ``--column KEY=VALUE``, repeated
            flag = flag.removesuffix("s")
            return self._with_hint(" ".join(f"{flag} {k}={v}" for k, v in value.items()) or flag)
        return self._with_hint(flag if value is True or value is None else f"{flag} {value}")

    def _located(self) -> str:
        where = []
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        prefix = self.path or ""
        if where:
            prefix = f"{prefix}: {', '.join(where)}" if prefix else ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message

"""Excel workbooks (``--format xlsx``): tables written as sheets staff can sort and sum.

One generic writer for every command: a :class:`Table` (sheet name, typed
:class:`Column` s, rows of dicts) becomes a sheet with a bold, frozen header
row, an autofilter, column widths that fit the text (CJK characters count
double) and a number format per column kind:

========  =====================  ==========================================
kind      stored as              shown
========  =====================  ==========================================
text      text                   as is
code      text (``@`` format)    ``440104001001001``, never ``4.40104E+14``
count     number                 ``12,345``
decimal   number                 ``412.5``
number    number                 general
percent   number (a fraction)    ``98.50%`` (Excel can still sum and sort)
========  =====================  ==========================================

A cell whose kind differs from its column's (a score table's target is a
rate on one row and a count on the next) is given as :class:`Typed`.

Every string comes from input data and is made safe for Excel
(:func:`excel_text`): control characters are removed, and a string starting
with ``=``, ``+``, ``-`` or ``@`` is stored as text with Excel's quote
prefix, never as a formula (formula injection).

Examples
--------
>>> table = Table("按区", [Column("code", "编码", "code"), Column("rate", "备案率", "percent")],
...               [{"code": "440104", "rate": 0.985}])
>>> write_workbook("coverage.xlsx", [table], force=True)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from gridkit.i18n import display_width
from gridkit.io.write import atomic_output, check_writable

__all__ = ["KINDS", "Column", "Table", "Typed", "excel_text", "write_sheet", "write_workbook",
           "xml_text"]

#: Number format of each column kind.
KINDS = {"text": "@", "code": "@", "count": "#,##0", "decimal": "#,##0.0",
         "number": "General", "percent": "0.00%"}
#: Excel's limit on the characters of one cell.
MAX_CELL_CHARS = 32_767
_FORMULA_START = ("=", "+", "-", "@")
# Characters XML 1.0 (and so .xlsx) cannot hold: C0 controls but tab, newline, carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_MIN_WIDTH, _MAX_WIDTH = 6, 60


@dataclass(frozen=True)
class Column:
    """A column of a :class:`Table`: row key, header text, kind (:data:`KINDS`), hidden."""

    key: str
    header: str
    kind: str = "text"
    hidden: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}; known: {', '.join(KINDS)}")


class Typed(NamedTuple):
    """A cell value with its own kind, e.g. ``Typed(0.9, "percent")`` in a mixed column."""

    value: Any
    kind: str


@dataclass(frozen=True)
class Table:
    """A sheet: its name (``title``), columns and rows (dicts keyed by :attr:`Column.key`)."""

    title: str
    columns: Sequence[Column]
    rows: Sequence[Mapping[str, Any]]


def xml_text(value: str) -> str:
    """``value`` without the control characters XML (xlsx, docx) cannot hold.

    >>> xml_text("a\\x00b\\x1bc\\td")
    'abc\\td'
    """
    return _CONTROL.sub("", value)


def excel_text(value: str) -> str:
    """A string safe for a cell: control characters removed, cut to Excel's cell limit.

    Whether it is stored as text (not a formula) is decided by the writer; see
    :func:`write_sheet`.

    >>> excel_text("a\\x00b\\x1bc")
    'abc'
    """
    text = xml_text(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text


def _plain(value: Any) -> Any:
    """A value openpyxl can store: numpy scalars unwrapped, NaN and inf as empty."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _cell_value(value: Any, kind: str) -> Any:
    value = _plain(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (list, tuple)):
        value = "; ".join(map(str, value))
    if kind in ("text", "code") or not isinstance(value, (int, float)):
        return excel_text(str(value))
    return value


def _shown_width(value: Any, kind: str) -> int:
    """Approximate characters Excel shows for a value (for the column width)."""
    if value is None:
        return 0
    if isinstance(value, str):
        return max((display_width(line) for line in value.splitlines()), default=0)
    if kind == "percent":
        return len(f"{value:.2%}")
    if kind in ("count", "decimal"):
        return len(f"{value:,.1f}")
    return len(str(value))


def _sheet_title(title: str, taken: Iterable[str]) -> str:
    """A valid, unique sheet name: at most 31 characters, none of ``[]:*?/\\``."""
    base = _SHEET_NAME_BAD.sub("_", excel_text(title)).strip("'") or "Sheet"
    base = base[:31]
    taken = {t.lower() for t in taken}
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        name = f"{base[:31 - len(str(n)) - 1]}_{n}"
    return name


def write_sheet(sheet: Any, table: Table) -> None:
    """Write ``table`` into an empty openpyxl worksheet.

    Header row bold and frozen, an autofilter over the table, a number format
    per column kind, widths that fit the longest text (capped), hidden columns
    hidden. Strings are passed through :func:`excel_text` and always stored as
    strings; those starting with ``= + - @`` also get the quote prefix, so
    that Excel keeps them as text even when the cell is edited.
    """
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    widths = []
    for j, column in enumerate(table.columns, start=1):
        cell = sheet.cell(row=1, column=j, value=excel_text(column.header))
        cell.font = bold
        cell.data_type = "s"
        widths.append(display_width(column.header))
    for i, row in enumerate(table.rows, start=2):
        for j, column in enumerate(table.columns, start=1):
            raw = row.get(column.key)
            kind = column.kind
            if isinstance(raw, Typed):
                raw, kind = raw.value, raw.kind
            value = _cell_value(raw, kind)
            if value is None:
                continue
            cell = sheet.cell(row=i, column=j, value=value)
            cell.number_format = KINDS[kind]
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would make "=..." a formula
                if value.startswith(_FORMULA_START):
                    cell.quotePrefix = True
                if "\n" in value:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            widths[j - 1] = max(widths[j - 1], _shown_width(value, kind))
    for j, (column, width) in enumerate(zip(table.columns, widths), start=1):
        dimension = sheet.column_dimensions[get_column_letter(j)]
        dimension.width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)
        dimension.hidden = column.hidden
    sheet.freeze_panes = "A2"
    if table.columns:
        last = get_column_letter(len(table.columns))
        sheet.auto_filter.ref = f"A1:{last}{max(len(table.rows) + 1, 1)}"


def write_workbook(path: str | os.PathLike, tables: Sequence[Table], *, force: bool = False,
                   inputs: Iterable[str | os.PathLike | None] = ()) -> Path:
    """Write one sheet per table to ``path`` (``.xlsx``), atomically.

    Parameters
    ----------
    path : the workbook; an existing file only with ``force``, never one of ``inputs``.
    tables : the sheets in order; names are made valid and unique.

    Returns
    -------
    Path
        ``path``.
    """
    from openpyxl import Workbook

    path = check_writable(path, force, inputs=inputs, folder=False)
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(_sheet_title(table.title, book.sheetnames))
        write_sheet(sheet, table)
    with atomic_output(path, force) as tmp:
        book.save(tmp)
    return path

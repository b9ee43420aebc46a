"""Cell values: codes as text, dates and times, numbers, yes/no and enumerations.

Every function is vectorised (millions of work orders) and raises
:class:`~gridkit.errors.InputError` naming the file, the column and the first
offending row. Rows are 1-based record numbers: when the series has an
integer index (as the loaders return: 0-based record numbers, global across
chunks) the row is ``index + 1``, otherwise the position + 1.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api import types

from gridkit.errors import InputError
from gridkit.io.aliases import (
    ALIASES,
    BOOL_COLUMNS,
    BOOL_VALUES,
    CODE_COLUMNS,
    DATETIME_COLUMNS,
    NUMBER_COLUMNS,
    VALUE_MAPS,
    ValueMap,
    match_key,
)

__all__ = ["EXCEL_SERIAL_RANGE", "LOCAL_TZ", "convert_columns", "map_values", "normalise_codes",
    "parse_bools", "parse_datetimes", "parse_numbers", "PathLike"]

#: Local time zone: timestamps with an offset are converted to it, then made naive.
LOCAL_TZ = "Asia/Shanghai"
#: Numbers accepted as Excel serial days (1900 date system): 1970-01-01 … 2100-01-01.
EXCEL_SERIAL_RANGE = (25569.0, 73051.0)
_EXCEL_EPOCH = "1899-12-30"
_DATE_EXAMPLES = "e.g. 2023-05-01 08:00:00, 2023/5/1 8:00, 2023年5月1日 8:00 or an Excel date"
_COMPACT_FORMATS = ("%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y%m%d")
_TZ_SUFFIX = r"(?:Z|[+-]\d\d:?\d\d)$"
# Rewrites that turn Chinese and other local spellings into ISO-like text.
_NORMALISE = (
    (r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?", r"\1-\2-\3 "),
    (r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})", r"\1-\2-\3"),
    (r"(\d{1,2})\s*[时点]\s*(\d{1,2})\s*分\s*(\d{1,2})\s*秒", r"\1:\2:\3"),
    (r"(\d{1,2})\s*[时点]\s*(\d{1,2})\s*分?", r"\1:\2"),
    (r"(\d{1,2})\s*[时点]$", r"\1:00"),
    (r"\s+", " "),
)

PathLike = str | os.PathLike | None


def _fail(series: pd.Series, bad: np.ndarray | pd.Series, message: str, *,
          path: PathLike, column: str | None) -> InputError:
    """An InputError for the first row flagged in ``bad``; ``{value!r}`` in message."""
    pos = int(np.flatnonzero(np.asarray(bad, dtype=bool))[0])
    label = series.index[pos]
    row = int(label) + 1 if types.is_integer_dtype(series.index.dtype) else pos + 1
    value = series.iloc[pos]
    value = value.item() if isinstance(value, np.generic) else value
    return InputError(message.format(value=value), path=path, column=column, row=row)


def _text(series: pd.Series) -> pd.Series:
    """Stripped text; empty cells become missing."""
    text = series.astype("str")
    # Stripping a million clean codes costs more than reading them: skip it when a
    # scan of the raw bytes shows plain ASCII without any whitespace.
    if not _plain_ascii(text):
        text = text.str.strip()
    return text.where(text != "")


def _text_bytes(text: pd.Series) -> list[bytes] | None:
    """The raw UTF-8 bytes of a text series (Arrow data buffers); None if unavailable.

    The buffers of a sliced array may hold bytes of values outside the slice.
    """
    try:
        data = pa.array(text, type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None
    chunks = data.chunks if isinstance(data, pa.ChunkedArray) else [data]
    return [b.to_pybytes() for c in chunks if (b := c.buffers()[2]) is not None]


def _may_contain(text: pd.Series, chars: bytes) -> bool:
    """Whether some value of a text series may contain one of the bytes ``chars``.

    A scan of the raw bytes (memchr speed); False is certain, True may come from
    bytes outside a sliced array, so callers then check the values exactly.
    """
    return _any_byte(_text_bytes(text), chars)


def _any_byte(raws: list[bytes] | None, chars: bytes) -> bool:
    return raws is None or any(raw.find(bytes([c])) >= 0 for raw in raws for c in chars)


def _plain_ascii(text: pd.Series) -> bool:
    """True when every value is ASCII without whitespace (nothing to strip); see above."""
    raws = _text_bytes(text)
    return raws is not None and all(raw.isascii() for raw in raws) \
        and not _any_byte(raws, b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f")


def normalise_codes(series: pd.Series, *, path: PathLike = None,
                    column: str | None = None) -> pd.Series:
    """Codes as ``str`` with leading zeros intact.

    Integers become their digits; floats and text like ``440104001001001.0``
    (a spreadsheet's doing) are repaired when they are whole numbers.
    Surrounding whitespace is removed and empty cells become missing.

    Raises
    ------
    InputError
        Scientific notation (``4.40104E+14``: the spreadsheet kept only a few
        digits) or a non-integer float, naming the row.

    Examples
    --------
    >>> normalise_codes(pd.Series(["0440", " 440104001001001.0", None, 12])).tolist()
    ['0440', '440104001001001', nan, '12']
    """
    if types.is_float_dtype(series.dtype):
        bad = series.notna() & ~(np.isfinite(series) & (series % 1 == 0))
        if bad.any():
            raise _fail(series, bad, "code {value!r} is not a whole number", path=path,
                        column=column)
        series = series.astype("Int64")
    text = _text(series)
    # Only a value with a dot or an e/E can need repair or be scientific. Work-order
    # files have millions of codes and usually none of those: one scan of the raw
    # bytes rules them out before any per-value regex runs.
    if not _may_contain(text, b".eE"):
        return text
    suspect = text.str.contains(r"[.eE]", regex=True, na=False).to_numpy(dtype=bool)
    if not suspect.any():
        return text
    scientific = np.zeros(len(text), dtype=bool)
    scientific[suspect] = text[suspect].str.fullmatch(
        r"[+-]?\d+(?:\.\d+)?[eE][+-]?\d+").fillna(False).to_numpy(dtype=bool)
    if scientific.any():
        raise _fail(text, scientific,
                    "code {value!r} is in scientific notation: a spreadsheet has rounded it and "
                    "its digits are lost; format the column as text in the source and export "
                    "again", path=path, column=column)
    text = text.copy()
    text[suspect] = text[suspect].str.replace(r"^(\d+)\.0*$", r"\1", regex=True)
    return text


def _excel_serial(days: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(days, unit="D", origin=_EXCEL_EPOCH)
    return stamps.dt.round("s")


def _iso(text: pd.Series, *, path: PathLike, column: str | None,
         tz: str = LOCAL_TZ) -> pd.Series:
    """ISO-like text → naive datetimes in ``tz`` (NaT where it does not parse)."""
    aware = text.str.slice(-6).str.contains(_TZ_SUFFIX, regex=True).fillna(False)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    try:
        out[~aware] = pd.to_datetime(text[~aware], format="ISO8601", errors="coerce")
    except ValueError:  # pandas: "Mixed timezones detected"
        raise InputError(
            "mixes time zone offsets that cannot be read; write them as +08:00 or leave "
            f"them out ({tz} is assumed)", path=path, column=column) from None
    if aware.any():
        utc = pd.to_datetime(text[aware], format="ISO8601", errors="coerce", utc=True)
        out[aware] = utc.dt.tz_convert(tz).dt.tz_localize(None)
    return out


def _strptime(text: pd.Series, formats: Sequence[str], tz: str) -> pd.Series:
    """Text → naive datetimes in ``tz`` by the first of ``formats`` that reads each value.

    A format with ``%z`` reads an offset: such values are converted to ``tz``.
    """
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    todo = text.notna().to_numpy()
    for fmt in formats:
        if not todo.any():
            break
        if "%z" in fmt:
            parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce", utc=True)
            parsed = parsed.dt.tz_convert(tz).dt.tz_localize(None)
        else:
            parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        out[todo] = parsed.astype("datetime64[ns]")
        todo = todo & out.isna().to_numpy()
    return out


def _normalise(text: pd.Series) -> pd.Series:
    text = text.str.normalize("NFKC")
    for pattern, repl in _NORMALISE:
        text = text.str.replace(pattern, repl, regex=True)
    return text.str.strip()


def parse_datetimes(series: pd.Series, *, path: PathLike = None,
                    column: str | None = None, formats: Sequence[str] = (),
                    tz: str = LOCAL_TZ, errors: str = "raise") -> pd.Series:
    """Parse timestamps as written in Chinese work-order and roster exports.

    Accepted: ``2023-05-01 08:00:00``, ``2023/5/1 8:00``, ``2023年5月1日 8时30分``,
    ``2023.05.01``, ISO 8601 (``2023-05-01T08:00:00``; with an offset or ``Z``
    converted to Beijing time), ``20230501``, ``20230501080000``, Excel serial
    days (numbers or text, 25569–73051, i.e. 1970–2100, rounded to the second)
    and datetime cells. Already-parsed datetimes pass through (time-zone aware
    ones converted to Beijing time). Works in a few vectorised passes: the
    common formats first, the rarer spellings only on what is left.

    Parameters
    ----------
    series : text, numbers or datetimes.
    path, column : for messages.
    formats : strptime formats (``--date-format``) tried in order instead of the
        automatic spellings above, e.g. ``"%m/%d/%Y %I:%M:%S %p"``; a format
        with ``%z`` reads an offset. Datetime cells are taken as they are.
    tz : IANA time zone (``--tz``): naive values are in it, values with an
        offset are converted to it.
    errors : ``"raise"``; ``"coerce"`` gives NaT for a value that cannot be read
        (the caller tells them from empty cells).

    Returns
    -------
    ``datetime64[ns]`` series (naive, in ``tz``: Beijing time by default), same
    index; empty → NaT.

    Raises
    ------
    InputError
        Naming the column and the first row that is not a date.

    Examples
    --------
    >>> s = pd.Series(["2023-05-01 08:00:00", "2023/5/1 8:00", "2023年5月1日 8:00",
    ...                "45047.3333333", "", None])
    >>> parse_datetimes(s).dt.strftime("%Y-%m-%d %H:%M").tolist()
    ['2023-05-01 08:00', '2023-05-01 08:00', '2023-05-01 08:00', '2023-05-01 08:00', nan, nan]
    """
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert(tz).dt.tz_localize(None).astype("datetime64[ns]")
    if types.is_datetime64_dtype(series.dtype):
        return series.astype("datetime64[ns]")
    if types.is_numeric_dtype(series.dtype) and not types.is_bool_dtype(series.dtype):
        days = series.astype("float64")
        low, high = EXCEL_SERIAL_RANGE
        bad = days.notna() & ~days.between(low, high)
        if bad.any() and errors == "raise":
            raise _fail(series, bad, f"{{value!r}} is not a date: as an Excel serial day it "
                        f"must lie between {low:.0f} (1970) and {high:.0f} (2100)",
                        path=path, column=column)
        return _excel_serial(days.where(~bad)).astype("datetime64[ns]")

    text = _text(series)
    if formats:
        out = _strptime(text, formats, tz)
        todo = text.notna().to_numpy() & out.isna().to_numpy()
        if todo.any() and errors == "raise":
            raise _fail(series, todo, f"cannot read {{value!r}} as a date/time with "
                        f"{' or '.join(formats)}", path=path, column=column)
        return out
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    todo = text.notna().to_numpy()
    out[todo] = _iso(text[todo], path=path, column=column, tz=tz)
    todo = todo & out.isna().to_numpy()
    if todo.any():
        out[todo] = _iso(_normalise(text[todo]), path=path, column=column, tz=tz)
        todo = todo & out.isna().to_numpy()
    for fmt in _COMPACT_FORMATS:
        if todo.any():
            digits = text[todo].where(text[todo].str.fullmatch(r"\d{8,14}").fillna(False))
            out[todo] = pd.to_datetime(digits, format=fmt, errors="coerce")
            todo = todo & out.isna().to_numpy()
    if todo.any():
        days = pd.to_numeric(text[todo], errors="coerce")
        days = days.where(days.between(*EXCEL_SERIAL_RANGE))
        out[todo] = _excel_serial(days)
        todo = todo & out.isna().to_numpy()
    if todo.any() and errors == "raise":
        raise _fail(series, todo, f"cannot read {{value!r}} as a date/time ({_DATE_EXAMPLES})",
                    path=path, column=column)
    return out


def parse_numbers(series: pd.Series, *, path: PathLike = None,
                  column: str | None = None, errors: str = "raise") -> pd.Series:
    """Numbers as float64; empty → NaN (also what cannot be read, with ``errors="coerce"``).

    Raises
    ------
    InputError
        A non-empty cell that is not a number, naming the row.

    Examples
    --------
    >>> parse_numbers(pd.Series([" 113.26", "", None, "23"])).tolist()
    [113.26, nan, nan, 23.0]
    """
    if types.is_numeric_dtype(series.dtype) and not types.is_bool_dtype(series.dtype):
        return series.astype("float64")
    text = _text(series)
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    bad = numbers.isna() & text.notna()
    if bad.any() and errors == "raise":
        raise _fail(series, bad, "{value!r} is not a number", path=path, column=column)
    return numbers


def map_values(series: pd.Series, value_map: ValueMap, *, missing: object = None,
               path: PathLike = None, column: str | None = None) -> pd.Series:
    """Map the spellings of an enumeration to canonical values.

    Each distinct value is looked up once (``pd.factorize``), so this is cheap
    on millions of rows.

    Parameters
    ----------
    series : the column.
    value_map : accepted spellings (see :data:`gridkit.io.aliases.VALUE_MAPS`).
    missing : the result for empty cells.
    path, column : for messages.

    Returns
    -------
    Object series of canonical values; unknown values kept when the map is not strict.

    Raises
    ------
    InputError
        An unknown value of a strict map, naming the row and the accepted values.

    Examples
    --------
    >>> from gridkit.io.aliases import VALUE_MAPS
    >>> map_values(pd.Series(["专职", " 兼职", None]), VALUE_MAPS["workers", "kind"]).tolist()
    ['full_time', 'part_time', None]
    """
    lookup = {match_key(s): value for value, spellings in value_map.values.items()
              for s in spellings}
    codes, uniques = pd.factorize(series)
    keys = [match_key(u) for u in uniques]
    unknown = np.array([k not in lookup and k != "" for k in keys] + [False])
    if value_map.strict and unknown.any():
        accepted = "; ".join(f"{value}: {', '.join(spellings)}"
                             for value, spellings in value_map.values.items())
        raise _fail(series, unknown[codes], f"unknown value {{value!r}} (accepted: {accepted})",
                    path=path, column=column)
    mapped = [lookup.get(k, missing if k == "" else u) for k, u in zip(keys, uniques)]
    result = np.array([*mapped, missing], dtype=object)[codes]
    return pd.Series(result, index=series.index, name=series.name, dtype=object)


def parse_bools(series: pd.Series, *, path: PathLike = None,
                column: str | None = None) -> pd.Series:
    """Yes/no as bool: true/false, 1/0, 是/否, Y/N, yes/no, 有效/无效; empty → False.

    Raises
    ------
    InputError
        Any other value, naming the row.

    Examples
    --------
    >>> parse_bools(pd.Series(["是", "否", "Y", "0", "", None, "TRUE"])).tolist()
    [True, False, True, False, False, False, True]
    """
    if types.is_bool_dtype(series.dtype):
        return series.fillna(False).astype(bool)
    return map_values(series, BOOL_VALUES, missing=False, path=path,
                      column=column).astype(bool)


def convert_columns(frame: pd.DataFrame, kind: str, *, path: PathLike = None) -> pd.DataFrame:
    """Give a frame's canonical columns their types (codes, dates, numbers, ...).

    Parameters
    ----------
    frame : columns already renamed to canonical names.
    kind : the table or layer kind (decides the value maps).
    path : for messages.

    Returns
    -------
    A new frame (the input is not modified).

    Examples
    --------
    >>> df = pd.DataFrame({"grid_code": ["440104001001001.0"], "status": ["已备案"],
    ...                    "filed_on": ["2023/5/1"]})
    >>> convert_columns(df, "filings").iloc[0].tolist()
    ['440104001001001', 'filed', Timestamp('2023-05-01 00:00:00')]
    """
    out = frame.copy(deep=False)
    for column in ALIASES[kind]:
        if column not in frame.columns:
            continue
        values = frame[column]
        if column in CODE_COLUMNS:
            out[column] = normalise_codes(values, path=path, column=column)
        elif column in DATETIME_COLUMNS:
            out[column] = parse_datetimes(values, path=path, column=column)
        elif column in NUMBER_COLUMNS:
            out[column] = parse_numbers(values, path=path, column=column)
        elif column in BOOL_COLUMNS:
            out[column] = parse_bools(values, path=path, column=column)
        elif (kind, column) in VALUE_MAPS:
            mapped = map_values(values, VALUE_MAPS[kind, column], path=path, column=column)
            out[column] = mapped.astype("str")
    return out

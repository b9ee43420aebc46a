"""Loaders: layers (GeoPackage, Shapefile, GeoJSON, GeoParquet) and tables (CSV,
Excel, Parquet), renamed to canonical columns and typed (docs/architecture.md).

Input files are only ever opened for reading.
"""

from __future__ import annotations

import codecs
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

from gridkit.crs import CrsSpec, assign_crs
from gridkit.errors import InputError
from gridkit.io.aliases import (
    LAYER_KINDS,
    TABLE_KINDS,
    rename_columns,
    resolve_columns,
    selected_columns,
)
from gridkit.io.postgis import is_postgis_uri
from gridkit.io.values import convert_columns

__all__ = [
    "LAYER_SUFFIXES", "TABLE_SUFFIXES", "TEXT_ENCODINGS", "parquet_row_ranges",
    "read_events_chunks", "read_events_rows", "read_layer", "read_table", "sniff_text_encoding",
]

LAYER_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".parquet", ".geoparquet")
TABLE_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xlsm", ".parquet")
#: Tried in order for text without a declared encoding (UTF-8 with or without BOM, then
#: GB18030, the superset of GBK and GB2312 used by Chinese Windows).
TEXT_ENCODINGS = ("utf-8-sig", "gb18030")
#: Encodings read as GB18030 (its superset) so rare characters do not fail.
_GB_FAMILY = {"gbk", "gb2312", "cp936", "gb18030"}
_ENCODING_NAMES = {"utf-8-sig": "UTF-8", "gb18030": "GBK/GB18030"}
_SNIFF_BYTES = 1 << 20
_NO_CRS = "has no coordinate reference system"
_NO_CRS_HINT = "pass {option} (CGCS2000), 4326, 4547 or gcj02/bd09"


def _existing(path: str | os.PathLike, suffixes: tuple[str, ...], what: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=path)
    if path.is_dir():
        raise InputError(f"is a folder, not a {what} file", path=path)
    if path.suffix.lower() not in suffixes:
        raise InputError(
            f"unsupported file type {path.suffix or '(none)'!r} for a {what}; "
            f"use one of {', '.join(suffixes)}", path=path)
    return path


def _check_kind(kind: str, kinds: tuple[str, ...]) -> None:
    if kind not in kinds:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(kinds)}")


# --------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------


def _codec(name: str) -> str | None:
    """Python codec for an encoding name as found in a .cpg (``936``, ``GBK``, ``UTF-8``)."""
    name = name.strip()
    digits = re.fullmatch(r"(?:ANSI\s*|CP)?(\d{3,5})", name, flags=re.IGNORECASE)
    if digits:
        name = f"cp{digits.group(1)}"
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return "gb18030" if codec in _GB_FAMILY else codec


def _declared_encoding(shp: Path) -> str | None:
    """The encoding named by the shapefile's .cpg, if any and known."""
    cpg = next((p for p in (shp.with_suffix(".cpg"), shp.with_suffix(".CPG")) if p.exists()),
               None)
    if cpg is None:
        return None
    return _codec(cpg.read_bytes().decode("ascii", errors="ignore"))


def sniff_text_encoding(path: str | os.PathLike) -> str:
    """Guess a text file's encoding from its first megabyte.

    Returns ``"utf-8-sig"`` for UTF-8 (with or without BOM), ``"gb18030"``
    otherwise (GBK/GB2312 files from Chinese Windows).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as f:
    ...     _ = f.write("网格编码\\n".encode("gbk"))
    >>> sniff_text_encoding(f.name)
    'gb18030'
    """
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < _SNIFF_BYTES)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


# --------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------


def _choose_layer(path: Path, layer: str | int | None) -> str | int | None:
    """The layer to read: ``layer`` when the file has it, else its only layer of features."""
    if path.suffix.lower() in (".shp", ".parquet", ".geoparquet"):
        return layer
    listed = pyogrio.list_layers(path)
    names = [str(name) for name, _ in listed]
    # Attribute tables (QGIS keeps styles in a ``layer_styles`` table) are not candidates.
    layers = [str(name) for name, geom_type in listed if geom_type]
    if layer is not None:
        if str(layer) in names or (isinstance(layer, int) and 0 <= layer < len(names)):
            return layer
        raise InputError(f"has no layer {layer!r} (its layers: "
                         f"{', '.join(layers or names) or 'none'})", path=path,
                         hint="choose one with {option}", option=("layer", None))
    if len(layers) == 1:
        return layers[0]
    if len(layers) > 1:
        raise InputError(f"has {len(layers)} layers ({', '.join(layers)})", path=path,
                         hint="choose one with {option}", option=("layer", None))
    return None


def _read_shapefile_bytes(path: Path, encoding: str) -> gpd.GeoDataFrame:
    """Read a shapefile's text undecoded, then decode it here: field names leniently
    (writers cut long names to 10 bytes, which can split a UTF-8 or GBK character:
    ``网格编码`` becomes ``网格编`` plus a stray byte), values strictly."""
    previous = pyogrio.get_gdal_config_option("SHAPE_ENCODING")
    pyogrio.set_gdal_config_options({"SHAPE_ENCODING": ""})
    try:  # no recoding by GDAL: pyogrio gives every byte as one ISO-8859-1 character
        gdf = gpd.read_file(path, engine="pyogrio")
    finally:
        pyogrio.set_gdal_config_options({"SHAPE_ENCODING": previous})
    geometry = gdf.geometry.name
    for column in gdf.columns.drop(geometry):
        values = gdf[column]
        if pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
            text = values.where(values.notna())
            gdf[column] = text.str.encode("latin-1").str.decode(encoding)
    names = {c: c.encode("latin-1").decode(encoding, "ignore").strip()
             for c in gdf.columns.drop(geometry)}
    return gdf.rename(columns=names)


def _read_features(path: Path, layer: str | int | None) -> gpd.GeoDataFrame:
    """Read the file as it is (no renaming), honouring shapefile encodings."""
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        try:
            return gpd.read_parquet(path)
        except (ValueError, OSError) as exc:
            raise InputError(f"cannot read as GeoParquet: {exc}", path=path) from None

    # Shapefile text: the .cpg's encoding, else UTF-8, else GB18030 (pyogrio decodes);
    # other formats are UTF-8 by definition (GDAL decides).
    encodings: list[str | None] = [None]
    if path.suffix.lower() == ".shp":
        encodings = [e for e in dict.fromkeys([_declared_encoding(path), "utf-8", "gb18030"]) if e]
    try:
        layer = _choose_layer(path, layer)
        for encoding in encodings:
            try:
                return gpd.read_file(path, layer=layer, encoding=encoding, engine="pyogrio")
            except UnicodeDecodeError:
                pass
            if encoding is not None:
                try:
                    return _read_shapefile_bytes(path, encoding)
                except UnicodeDecodeError:
                    continue
    except (DataSourceError, DataLayerError, FieldError, GeometryError) as exc:
        raise InputError(f"cannot read: {exc}", path=path) from None
    tried = " nor ".join((e or "utf-8").upper() for e in encodings)
    raise InputError(f"text is neither {tried}; add a .cpg file naming the encoding", path=path)


def _check_polygons(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """A layer without features, or whose geometries are all points or lines, is not a
    layer of grids: refuse it at once (a few stray non-polygons are findings instead)."""
    if not len(gdf):
        raise InputError("has no features; a layer of polygons is expected", path=path)
    geoms = np.asarray(gdf.geometry.values)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))  # Polygon, MultiPolygon
    if present.any() and not (present & polygonal).any():
        first = int(np.flatnonzero(present)[0])
        raise InputError(f"holds {geoms[first].geom_type} geometries, not polygons; a layer of "
                         "grid polygons is expected", path=path, row=first + 1)


def read_layer(
    path: str | os.PathLike,
    kind: str = "grids",
    *,
    columns: Mapping[str, str] | None = None,
    crs: str | int | pyproj.CRS | CrsSpec | None = None,
    layer: str | int | None = None,
    required: Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read a grid, community or reference layer with canonical columns.

    Parameters
    ----------
    path : GeoPackage (``.gpkg``), Shapefile (``.shp``; encoding from ``.cpg``,
        else UTF-8, else GBK/GB18030), GeoJSON (``.geojson``/``.json``),
        GeoParquet (``.parquet``/``.geoparquet``), or a PostGIS table:
        ``postgresql://[user[:password]@]host[:port]/dbname`` with ``layer``
        or ``?table=[schema.]table`` (:mod:`gridkit.io.postgis`).
    kind : ``grids``, ``communities`` or ``reference`` (decides the aliases and
        the required columns, see ``docs/aliases.md``).
    columns : overrides ``{canonical: source}`` (``--column grid_code=WGBM``).
    crs : ``--crs`` spec (``gridkit.crs.parse_crs``). Required when the file has
        none; ``gcj02``/``bd09`` convert the geometries to WGS84 (labelled
        EPSG:4326); anything else overrides the file's label.
    layer : the layer of a multi-layer GeoPackage (required when it has several);
        the ``[schema.]table`` of a database.
    required : canonical columns the caller needs; default those of ``kind``
        (``gridkit events`` needs only ``grid_code``).

    Returns
    -------
    GeoDataFrame with a RangeIndex in file order (empty and null geometries
    kept), canonical columns typed (codes ``str``, households/population
    float64), the geometry column named ``geometry``, other columns unchanged;
    ``attrs["source_path"]`` and ``attrs["source_crs"]`` (the CRS spec name).

    Raises
    ------
    InputError
        File missing, unreadable or of an unknown type; missing or ambiguous
        columns; bad codes; no CRS; implausible coordinates.

    Examples
    --------
    >>> from gridkit.data import SAMPLE_DIR
    >>> grids = read_layer(SAMPLE_DIR / "grids.gpkg", crs="4490")
    >>> grids[["grid_code", "grid_name", "community_code"]].dtypes.tolist()
    [<StringDtype(na_value=nan)>, <StringDtype(na_value=nan)>, <StringDtype(na_value=nan)>]
    """
    _check_kind(kind, LAYER_KINDS)
    if is_postgis_uri(path):  # a PostGIS table (gridkit.io.postgis), named by --layer
        from gridkit.io.postgis import read_postgis_layer

        gdf, path = read_postgis_layer(str(path), layer)
    else:
        path = _existing(path, LAYER_SUFFIXES, "layer")
        gdf = _read_features(path, layer)
    if getattr(gdf, "active_geometry_name", None) is None:
        raise InputError("has no geometry column; a layer of polygons is expected", path=path)
    gdf = gdf.reset_index(drop=True)
    if gdf.geometry.name != "geometry":
        if "geometry" in gdf.columns:
            raise InputError(
                f"has a non-geometry column named 'geometry' besides the geometry "
                f"{gdf.geometry.name!r}", path=path)
        gdf = gdf.rename_geometry("geometry")
    mapping = resolve_columns(gdf.columns, kind, columns, path=path, ignore=["geometry"],
                              dbf=str(path).lower().endswith(".shp"), required=required)
    gdf = convert_columns(rename_columns(gdf, mapping), kind, path=path)
    if crs is None and gdf.crs is None:
        raise InputError(_NO_CRS, path=path, hint=_NO_CRS_HINT, option=("crs", 4490))
    gdf = assign_crs(gdf, crs, path=path)
    _check_polygons(gdf, path)
    gdf.attrs["source_path"] = str(path)
    return gdf


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------


def _csv_options(path: Path) -> dict:
    return {"sep": "\t" if path.suffix.lower() == ".tsv" else ",", "dtype": str}


def _read_csv(path: Path) -> pd.DataFrame:
    encoding = sniff_text_encoding(path)
    for candidate in dict.fromkeys([encoding, *TEXT_ENCODINGS]):
        try:
            return pd.read_csv(path, encoding=candidate, **_csv_options(path))
        except UnicodeDecodeError:
            continue
    raise InputError("text is neither UTF-8 nor GBK/GB18030; save it as UTF-8", path=path)


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            names = book.sheet_names
            if isinstance(sheet, str) and sheet not in names:
                raise InputError(f"has no sheet {sheet!r}; its sheets are {', '.join(names)}",
                                 path=path)
            if isinstance(sheet, int) and not 0 <= sheet < len(names):
                raise InputError(f"has no sheet number {sheet}; its sheets are "
                                 f"{', '.join(names)}", path=path)
            return pd.read_excel(book, sheet_name=0 if sheet is None else sheet, dtype=str)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, InvalidFileException) as exc:
        raise InputError(f"cannot read as an Excel workbook: {exc}", path=path) from None


def _read_raw_table(path: Path, sheet: str | int | None) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in (".xlsx", ".xlsm"):
            return _read_excel(path, sheet)
        return _read_csv(path)
    except pd.errors.EmptyDataError:
        raise InputError("file is empty", path=path) from None
    except pd.errors.ParserError as exc:
        raise InputError(f"cannot read as CSV: {exc}", path=path) from None
    except (OSError, ValueError) as exc:
        # pyarrow.ArrowInvalid is a ValueError: not a Parquet file.
        raise InputError(f"cannot read: {exc}", path=path) from None


def _canonical_table(frame: pd.DataFrame, kind: str, columns: Mapping[str, str] | None,
                     path: Path | str, convert: bool = True) -> pd.DataFrame:
    mapping = resolve_columns(frame.columns, kind, columns, path=path)
    frame = rename_columns(frame, mapping).reset_index(drop=True)  # index = record number
    out = convert_columns(frame, kind, path=path) if convert else frame
    out.attrs["source_path"] = str(path)
    return out


def read_table(
    path: str | os.PathLike,
    kind: str,
    *,
    columns: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """Read a roster or work-order table with canonical columns.

    Parameters
    ----------
    path : CSV (``.csv``; ``.tsv`` tab-separated; UTF-8 with or without BOM,
        else GBK/GB18030), Excel (``.xlsx``/``.xlsm``; all cells read as text so
        codes keep their digits), Parquet, or a database table
        ``postgresql://…/dbname?table=[schema.]table``.
    kind : ``filings``, ``party``, ``cadres``, ``workers`` or ``events``
        (decides the aliases and the required columns, see ``docs/aliases.md``).
    columns : overrides ``{canonical: source}`` (``--column grid_code=WGBM``).
    sheet : Excel sheet name or 0-based number; default the first.

    Returns
    -------
    DataFrame with a RangeIndex (0-based record number), canonical columns typed:
    codes ``str``; ``filed_on``, ``reported_at``, ``dispatched_at``,
    ``closed_at`` ``datetime64[ns]`` (see :func:`gridkit.io.parse_datetimes`);
    ``lon``/``lat`` float64; ``valid_complaint`` bool; ``status``
    filed/pending/rejected; ``kind`` full_time/part_time; ``org_type``
    党支部/党小组 (other values kept). Other columns unchanged.
    ``attrs["source_path"]`` is the path.

    Raises
    ------
    InputError
        File missing, unreadable or of an unknown type; missing or ambiguous
        columns; a bad value (naming column and row).

    Examples
    --------
    >>> from gridkit.data import SAMPLE_DIR
    >>> workers = read_table(SAMPLE_DIR / "workers.csv", "workers")
    >>> sorted(workers["kind"].unique().tolist())
    ['full_time', 'part_time']
    """
    _check_kind(kind, TABLE_KINDS)
    if is_postgis_uri(path):
        from gridkit.io.postgis import read_postgis_table

        frame, source = read_postgis_table(str(path))
        return _canonical_table(frame, kind, columns, source)
    path = _existing(path, TABLE_SUFFIXES, "table")
    return _canonical_table(_read_raw_table(path, sheet), kind, columns, path)


def _open_parquet(path: Path, columns: Mapping[str, str] | None,
                  wanted: frozenset[str] | None):
    """(ParquetFile, {source: canonical}, source columns to read or None for all)."""
    import pyarrow.parquet as pq

    try:
        # pre_buffer (Arrow's default) keeps the raw bytes of every row group read
        # until the file is closed: memory would grow with the file (34 MB per
        # million events); it only helps on high-latency object stores.
        parquet = pq.ParquetFile(path, pre_buffer=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read as Parquet: {exc}", path=path) from None
    names = parquet.schema_arrow.names
    mapping = resolve_columns(names, "events", columns, path=path)
    return parquet, mapping, selected_columns(mapping, names, wanted)


def _canonical_events(frame: pd.DataFrame, start: int, mapping: Mapping[object, str],
                      path: Path | str, convert: bool = True) -> pd.DataFrame:
    """Raw events as a canonical frame indexed by record number from ``start``."""
    frame.index = pd.RangeIndex(start, start + len(frame))
    out = rename_columns(frame, mapping)
    out = convert_columns(out, "events", path=path) if convert else out
    out.attrs["source_path"] = str(path)
    return out


def _parquet_chunks(path: Path, columns: Mapping[str, str] | None,
                    chunk_rows: int, wanted: frozenset[str] | None = None,
                    convert: bool = True) -> Iterator[pd.DataFrame]:
    parquet, mapping, selected = _open_parquet(path, columns, wanted)
    with parquet:
        batches = parquet.iter_batches(batch_size=chunk_rows, columns=selected)
        if parquet.metadata.num_rows == 0:
            empty = parquet.schema_arrow.empty_table()
            batches = [empty.select(selected) if selected is not None else empty]
        start = 0
        for batch in batches:
            yield _canonical_events(batch.to_pandas(), start, mapping, path, convert)
            start += len(batch)


def parquet_row_ranges(path: str | os.PathLike, rows_per_part: int) -> list[tuple[int, int]]:
    """Split a Parquet file into row ranges ``(start, stop)`` of at most ``rows_per_part`` rows.

    Ranges follow the row groups (a group is split evenly when bigger, small
    neighbouring groups are merged), so each can be read on its own with
    :func:`read_events_rows`, e.g. by a dask worker. A file without rows
    gives one empty range.

    Examples
    --------
    >>> from gridkit.data import SAMPLE_DIR
    >>> parquet_row_ranges(SAMPLE_DIR / "events.parquet", 10_000)
    [(0, 10000), (10000, 20000), (20000, 30000)]
    """
    path = _existing(path, (".parquet",), "Parquet file")
    parquet, _, _ = _open_parquet(path, None, None)
    with parquet:
        sizes = [parquet.metadata.row_group(i).num_rows
                 for i in range(parquet.metadata.num_row_groups)]
    ranges: list[tuple[int, int]] = []
    start = 0
    for size in sizes:
        pieces = max(1, -(-size // rows_per_part))
        cuts = [start + size * k // pieces for k in range(pieces + 1)]
        for a, b in zip(cuts[:-1], cuts[1:]):
            if ranges and b - ranges[-1][0] <= rows_per_part:
                ranges[-1] = (ranges[-1][0], b)
            else:
                ranges.append((a, b))
        start += size
    return [r for r in ranges if r[1] > r[0]] or [(0, 0)]


def read_events_rows(
    path: str | os.PathLike,
    start: int,
    stop: int,
    *,
    columns: Mapping[str, str] | None = None,
    select: Iterable[str] | None = None,
    convert: bool = True,
) -> pd.DataFrame:
    """Rows ``start`` … ``stop - 1`` (0-based) of a Parquet events file.

    Reads only the row groups holding them; canonical, typed and indexed by
    record number exactly as :func:`read_events_chunks` gives them.

    Examples
    --------
    >>> from gridkit.data import SAMPLE_DIR
    >>> part = read_events_rows(SAMPLE_DIR / "events.parquet", 20_000, 20_005)
    >>> part.index.tolist()
    [20000, 20001, 20002, 20003, 20004]
    """
    path = _existing(path, (".parquet",), "Parquet file")
    wanted = None if select is None else frozenset(select)
    parquet, mapping, selected = _open_parquet(path, columns, wanted)
    with parquet:
        meta = parquet.metadata
        first = 0
        groups, offset = [], None
        for i in range(meta.num_row_groups):
            size = meta.row_group(i).num_rows
            if first < stop and first + size > start:
                groups.append(i)
                offset = first if offset is None else offset
            first += size
        if groups:
            table = parquet.read_row_groups(groups, columns=selected)
            table = table.slice(start - offset, stop - start)
        else:
            table = parquet.schema_arrow.empty_table()
            table = table.select(selected) if selected is not None else table
    return _canonical_events(table.to_pandas(), start, mapping, path, convert)


def _csv_chunks(path: Path, columns: Mapping[str, str] | None,
                chunk_rows: int, wanted: frozenset[str] | None = None,
                convert: bool = True) -> Iterator[pd.DataFrame]:
    encoding = sniff_text_encoding(path)
    options = {**_csv_options(path), "encoding": encoding}
    try:
        header = pd.read_csv(path, nrows=0, **options)
        mapping = resolve_columns(header.columns, "events", columns, path=path)
        selected = selected_columns(mapping, header.columns, wanted)
        if selected is not None:
            options["usecols"] = selected
        with pd.read_csv(path, chunksize=chunk_rows, **options) as reader:
            for frame in reader:  # the index runs on across chunks: global record numbers
                out = rename_columns(frame, mapping)
                out = convert_columns(out, "events", path=path) if convert else out
                out.attrs["source_path"] = str(path)
                yield out
    except pd.errors.EmptyDataError:
        raise InputError("file is empty", path=path) from None
    except pd.errors.ParserError as exc:
        raise InputError(f"cannot read as CSV: {exc}", path=path) from None
    except UnicodeDecodeError:
        raise InputError(
            f"text is not valid {_ENCODING_NAMES[encoding]} throughout (the start of the file "
            "is); save the whole file in one encoding, preferably UTF-8", path=path) from None


def read_events_chunks(
    path: str | os.PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    chunk_rows: int = 1_000_000,
    select: Iterable[str] | None = None,
    convert: bool = True,
) -> Iterator[pd.DataFrame]:
    """Read a work-order table in chunks of at most ``chunk_rows`` rows.

    For 10-million-row files in bounded memory: Parquet is read batch by batch
    (``pyarrow.parquet.ParquetFile.iter_batches``), CSV with pandas'
    ``chunksize``; Excel (at most about a million rows anyway) is read whole
    and sliced. The header is checked before any rows are read, so a missing
    column fails at once.

    Parameters
    ----------
    path : as :func:`read_table`.
    columns : overrides ``{canonical: source}``.
    chunk_rows : rows per chunk.
    select : canonical columns to read (those the file has; the required ones
        are checked all the same); default every column. Parquet and CSV then
        skip the other columns' bytes (``gridkit events`` does not read
        ``category``).
    convert : type the values; False leaves them as read (canonical names
        only), for a caller that types them itself (its own date formats, time
        zone or treatment of bad values: :mod:`gridkit.events.core`).

    Yields
    ------
    DataFrame
        Canonical and typed as ``read_table(path, "events")``; the index holds
        the global 0-based record number (so chunk 2 starts at ``chunk_rows``)
        and error messages name global rows. A file without rows yields one
        empty (typed) chunk.

    Examples
    --------
    >>> from gridkit.data import SAMPLE_DIR
    >>> sum(len(c) for c in read_events_chunks(SAMPLE_DIR / "events.parquet", chunk_rows=7_000))
    30000
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    wanted = None if select is None else frozenset(select)
    if is_postgis_uri(path):  # streamed from a server-side cursor
        from gridkit.io.postgis import read_postgis_chunks

        source, mapping, frames = read_postgis_chunks(str(path), chunk_rows, wanted, columns)
        for frame in frames:
            yield _canonical_events(frame, frame.index.start, mapping, source, convert)
        return
    path = _existing(path, TABLE_SUFFIXES, "table")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield from _parquet_chunks(path, columns, chunk_rows, wanted, convert)
    elif suffix in (".csv", ".tsv"):
        yield from _csv_chunks(path, columns, chunk_rows, wanted, convert)
    else:
        table = _canonical_table(_read_raw_table(path, None), "events", columns, path, convert)
        if wanted is not None:
            table = table[[c for c in table.columns if c in wanted]]
        for start in range(0, max(len(table), 1), chunk_rows):
            yield table.iloc[start:start + chunk_rows]

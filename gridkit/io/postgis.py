"""Layers and tables from PostgreSQL/PostGIS, and validation findings written back.

A database input is a libpq connection URI in place of a file::

    postgresql://[user[:password]@]host[:port]/dbname[?table=[schema.]table]

The table is named by ``?table=`` (any input), or for the grid layer by
``--layer [schema.]table``. The URI is parsed by libpq itself
(:func:`psycopg.conninfo.conninfo_to_dict`, so every libpq parameter such as
``sslmode`` works); only ``table`` is taken out first. Without a password in
the URI, libpq takes it from ``PGPASSWORD`` or ``~/.pgpass``. Reading goes
through SQLAlchemy + psycopg and :func:`geopandas.read_postgis` (pyogrio's
wheels have no PostgreSQL driver); identifiers are quoted by
:class:`psycopg.sql.Identifier`.

The password never leaves this module: every message, ``attrs["source_path"]``
and JSON field names the source by :func:`source_name`
(``postgresql://user@host:port/dbname?table=schema.table``), and driver
errors are re-raised as :class:`~gridkit.errors.InputError` with the
password blanked out.

Examples
--------
>>> source_name("postgresql://gk:secret@db.example:5433/city?table=grid.grids")
'postgresql://gk@db.example:5433/city?table=grid.grids'
>>> is_postgis_uri("grids.gpkg"), is_postgis_uri("postgres://db/city")
(False, True)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import pandas as pd
import shapely

from gridkit.errors import InputError, redact

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = [
    "DEFAULT_OUT_SCHEMA",
    "FINDINGS_MARK",
    "check_findings_target",
    "is_postgis_uri",
    "read_postgis_chunks",
    "read_postgis_layer",
    "read_postgis_table",
    "source_name",
    "write_findings_postgis",
]

SCHEMES = ("postgresql://", "postgres://")
#: Schema that ``gridkit validate --out postgresql://…`` writes to by default.
DEFAULT_OUT_SCHEMA = "gridkit"
#: Start of the comment gridkit puts on each findings table; only tables bearing it are
#: ever replaced (with ``--force``).
FINDINGS_MARK = "gridkit validate findings"
_SUMMARY = "summary"
_CONNECT_TIMEOUT = 10


def is_postgis_uri(value: object) -> bool:
    """Whether an input names a PostgreSQL database instead of a file."""
    return isinstance(value, str) and value.lower().startswith(SCHEMES)


@dataclass(frozen=True)
class _Target:
    """A parsed database input: libpq parameters and the table (``(schema, name)``)."""

    params: dict[str, str] = field(repr=False)
    table: tuple[str | None, str] | None

    @property
    def database(self) -> str:
        """``postgresql://user@host:port/dbname``: names the database, never the password."""
        p = self.params
        host = p.get("host") or os.environ.get("PGHOST") or "localhost"
        port = p.get("port") or os.environ.get("PGPORT")
        user = p.get("user") or os.environ.get("PGUSER")
        dbname = p.get("dbname") or os.environ.get("PGDATABASE") or user or ""
        return (f"postgresql://{f'{user}@' if user else ''}{host}{f':{port}' if port else ''}"
                f"/{dbname}")

    def __str__(self) -> str:
        if self.table is None:
            return self.database
        return f"{self.database}?table={_dotted(self.table)}"

    def scrub(self, text: str) -> str:
        """``text`` without the password (driver messages may quote connection strings)."""
        return _scrub(text, self.params.get("password"))


def _scrub(text: str, password: str | None) -> str:
    text = redact(str(text))
    # Defence in depth (libpq does not quote passwords); a very short one would blank
    # out ordinary words instead.
    return text.replace(password, "***") if password and len(password) >= 4 else text


def _dotted(table: tuple[str | None, str]) -> str:
    return ".".join(p for p in table if p)


def _split_table(name: str) -> tuple[str | None, str]:
    """``schema.table`` or ``table`` (the first dot separates the schema)."""
    schema, dot, table = name.strip().partition(".")
    if not dot:
        return None, schema
    if not schema or not table:
        raise InputError(f"bad table name {name!r}; expected [schema.]table")
    return schema, table


def _parse(uri: str, layer: str | None = None) -> _Target:
    """Split ``?table=`` off the URI and let libpq parse the rest."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    tables = [v for k, v in query if k == "table"]
    rest = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query
                                                      if k != "table"])))
    try:
        params = {k: str(v) for k, v in conninfo_to_dict(rest).items()}
    except ProgrammingError as exc:
        raise InputError(f"not a valid PostgreSQL URI ({_scrub(exc, parts.password)}); expected "
                         "postgresql://user@host:port/dbname (password: PGPASSWORD or ~/.pgpass)",
                         path=redact(uri)) from None
    named = {t for t in (*tables, layer) if t}
    if len(named) > 1:
        raise InputError(f"names the table twice ({' and '.join(sorted(named))})",
                         path=redact(uri), hint="give it either as ?table= or with {option}",
                         option=("layer", None))
    return _Target(params, _split_table(named.pop()) if named else None)


@contextmanager
def _connection(target: _Target) -> Iterator[Connection]:
    """A SQLAlchemy connection inside a transaction (committed on success)."""
    try:
        import psycopg
        import sqlalchemy
        from sqlalchemy.pool import NullPool
    except ImportError as exc:  # pragma: no cover - both are dependencies
        raise InputError(f"reading PostgreSQL needs psycopg and SQLAlchemy ({exc})",
                         path=str(target)) from None

    def connect() -> psycopg.Connection:
        return psycopg.connect(**{"connect_timeout": _CONNECT_TIMEOUT, **target.params})

    engine = sqlalchemy.create_engine("postgresql+psycopg://", creator=connect,
                                      poolclass=NullPool)
    try:
        with engine.begin() as conn:
            # Rows in storage order when no primary key orders them (stable while the
            # table is unchanged): no parallel scan, no scan joining another half-way.
            conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
            conn.exec_driver_sql("SET LOCAL synchronize_seqscans = off")
            yield conn
    except InputError:
        raise
    except sqlalchemy.exc.DBAPIError as exc:
        if exc.connection_invalidated or isinstance(exc.orig, psycopg.OperationalError):
            text = str(exc.orig).strip().splitlines()
            raise InputError(f"cannot connect to {target.database}: "
                             f"{target.scrub(' '.join(text))}") from None
        raise InputError(f"database error: {target.scrub(str(exc.orig).strip())}",
                         path=str(target)) from None
    finally:
        engine.dispose()


def _sql(conn: Connection, query: Any, params: Mapping | None = None) -> list[tuple]:
    """Rows of a query composed with :mod:`psycopg.sql` (identifiers quoted by psycopg)."""
    raw = conn.connection.driver_connection
    text = query if isinstance(query, str) else query.as_string(raw)
    return [tuple(r) for r in conn.exec_driver_sql(text, params or {}).fetchall()]


def _quoted(conn: Connection, table: tuple[str | None, str]) -> str:
    """``"schema"."table"`` quoted by psycopg, for ``to_regclass``."""
    from psycopg import sql

    return sql.Identifier(*(p for p in table if p)).as_string(conn.connection.driver_connection)


def _resolve_table(conn: Connection, target: _Target) -> tuple[str, str]:
    """(schema, table) of the input's table, looked up along ``search_path``."""

    if target.table is None:
        raise InputError(f"{target.database}: no table named",
                         hint="name it with ?table=[schema.]table in the URI (or {option} "
                              "for the grid layer)", option=("layer", None))
    found = _sql(conn, "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n "
                       "ON n.oid = c.relnamespace WHERE c.oid = to_regclass(%(name)s)",
                 {"name": _quoted(conn, target.table)})
    if not found:
        raise InputError(f"{target.database}: no table {_dotted(target.table)!r} in database "
                         f"{target.params.get('dbname', '')!r}")
    return found[0]


def _geometry_column(conn: Connection, target: _Target, table: tuple[str, str]
                     ) -> tuple[str, int]:
    """(column, SRID) of the table's geometry; refuses none and an unknown SRID."""
    from psycopg import sql

    columns = _sql(conn, "SELECT f_geometry_column, srid FROM geometry_columns WHERE "
                         "f_table_schema = %(s)s AND f_table_name = %(t)s ORDER BY 1",
                   {"s": table[0], "t": table[1]}) if _has_postgis(conn) else []
    if not columns:
        raise InputError("has no geometry column; a PostGIS layer of polygons is expected",
                         path=str(target))
    column, srid = columns[0]
    if not srid:  # an unconstrained column: the SRID of the values, if they agree
        srids = _sql(conn, sql.SQL("SELECT DISTINCT ST_SRID({c}) FROM {t} WHERE {c} IS NOT "
                                   "NULL LIMIT 2").format(c=sql.Identifier(column),
                                                          t=sql.Identifier(*table)))
        if len(srids) > 1:
            raise InputError(f"geometry column {column!r} mixes SRIDs "
                             f"{', '.join(str(s[0]) for s in srids)}", path=str(target))
        srid = srids[0][0] if srids else 0
    if not srid:
        raise InputError(f"geometry column {column!r} has no SRID; set it, e.g. SELECT "
                         f"UpdateGeometrySRID('{table[0]}', '{table[1]}', '{column}', 4490)",
                         path=str(target))
    return column, int(srid)


def _has_postgis(conn: Connection) -> bool:
    return bool(_sql(conn, "SELECT 1 FROM pg_extension WHERE extname = 'postgis'"))


def _select(conn: Connection, table: tuple[str, str], columns: Iterable[str] | None = None
            ) -> str:
    """``SELECT … FROM schema.table`` ordered by the primary key when there is one
    (else in storage order, the order the rows were loaded)."""
    from psycopg import sql

    keys = _sql(conn, "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                      "i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indisprimary AND "
                      "i.indrelid = to_regclass(%(name)s) ORDER BY a.attnum",
                {"name": _quoted(conn, table)})
    what = (sql.SQL(", ").join(map(sql.Identifier, columns)) if columns is not None
            else sql.SQL("*"))
    query = sql.SQL("SELECT {} FROM {}").format(what, sql.Identifier(*table))
    if keys:
        query += sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(
            sql.Identifier(k[0]) for k in keys))
    return query.as_string(conn.connection.driver_connection)


def source_name(source: str | os.PathLike, layer: str | None = None) -> str:
    """How messages and outputs name an input: a path as given, a database URI
    without its password (``postgresql://user@host:port/db?table=schema.table``)."""
    if not is_postgis_uri(source):
        return str(source)
    try:
        return str(_parse(str(source), layer))
    except InputError:
        return redact(str(source))


def read_postgis_layer(uri: str, layer: str | None = None) -> tuple[gpd.GeoDataFrame, str]:
    """Read a PostGIS table as it is (no renaming), with its SRID as the CRS.

    Parameters
    ----------
    uri : ``postgresql://…`` (``?table=`` optional when ``layer`` is given).
    layer : ``[schema.]table`` (``--layer``).

    Returns
    -------
    (GeoDataFrame, the source's name for messages)
    """
    target = _parse(uri, layer)
    with _connection(target) as conn:
        table = _resolve_table(conn, target)
        column, srid = _geometry_column(conn, target, table)
        gdf = gpd.read_postgis(_select(conn, table), conn, geom_col=column,
                               crs=f"EPSG:{srid}")
    return gdf, str(target)


def read_postgis_table(uri: str, layer: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read a table (roster or work orders) as it is; returns (frame, source name)."""
    target = _parse(uri, layer)
    with _connection(target) as conn:
        frame = pd.read_sql(_select(conn, _resolve_table(conn, target)), conn)
    return frame, str(target)


def read_postgis_chunks(uri: str, chunk_rows: int, wanted: Iterable[str] | None,
                        columns: Mapping[str, str] | None = None
                        ) -> tuple[str, dict, Iterator[pd.DataFrame]]:
    """Stream a work-order table in chunks (a server-side cursor: bounded memory).

    Parameters
    ----------
    uri : ``postgresql://…?table=…``.
    chunk_rows : rows per chunk.
    wanted : canonical columns to read (None: all).
    columns : overrides ``{canonical: source}``.

    Returns
    -------
    (source name, ``{source: canonical}``, chunks of raw rows). The header is
    checked here, before any rows are read; chunks are indexed by record number.
    """
    from gridkit.io.aliases import resolve_columns, selected_columns

    target = _parse(uri)
    with _connection(target) as conn:
        table = _resolve_table(conn, target)
        names = [r[0] for r in _sql(conn, "SELECT attname FROM pg_attribute WHERE attrelid = "
                                          "to_regclass(%(name)s) AND attnum > 0 AND NOT "
                                          "attisdropped ORDER BY attnum",
                                    {"name": _quoted(conn, table)})]
    mapping = resolve_columns(names, "events", columns, path=str(target))
    selected = selected_columns(mapping, names, None if wanted is None else frozenset(wanted))

    def chunks() -> Iterator[pd.DataFrame]:
        with _connection(target) as conn:
            query = _select(conn, table, selected)
            stream = conn.execution_options(stream_results=True, max_row_buffer=chunk_rows)
            start, empty = 0, True
            for frame in pd.read_sql(query, stream, chunksize=chunk_rows):
                frame.index = pd.RangeIndex(start, start + len(frame))
                start += len(frame)
                empty = False
                yield frame
            if empty:
                yield pd.read_sql(query + " LIMIT 0", conn)

    return str(target), mapping, chunks()


# --------------------------------------------------------------------------------------
# Findings written back
# --------------------------------------------------------------------------------------


def _findings_tables(conn: Connection, schema: str) -> dict[str, bool]:
    """Tables of ``schema`` → whether gridkit wrote them (their comment bears the mark)."""
    rows = _sql(conn, "SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), '') "
                      "LIKE %(mark)s FROM pg_class c JOIN pg_namespace n ON n.oid = "
                      "c.relnamespace WHERE n.nspname = %(schema)s AND c.relkind IN "
                      "('r', 'p', 'v', 'm', 'f')",
                {"mark": FINDINGS_MARK + "%", "schema": schema})
    return dict(rows)


def _check_tables(conn: Connection, target: _Target, schema: str, names: Iterable[str],
                  force: bool) -> list[str]:
    """Refuse foreign tables and (without ``force``) earlier findings; return gridkit's."""
    existing = _findings_tables(conn, schema)
    for name in names:
        if name in existing and not existing[name]:
            raise InputError(f"table {schema}.{name} exists and was not written by gridkit",
                             path=target.database, hint="choose another {option}",
                             option=("out_schema", None))
    ours = sorted(name for name, mark in existing.items() if mark)
    if ours and not force:
        raise InputError(f"schema {schema!r} holds findings of an earlier run "
                         f"({', '.join(ours)})", path=target.database,
                         hint="use {option} to replace them", option=("force", True))
    return ours


def check_findings_target(uri: str, out_schema: str, rules: Iterable[str],
                          force: bool) -> None:
    """Fail early (before validating) when ``--out`` could not be written.

    Connects, and refuses a schema ``out_schema`` holding tables named after ``rules``
    (or the summary) that gridkit did not write, or earlier findings without ``force``.
    """
    target = _parse(uri)
    with _connection(target) as conn:
        _check_tables(conn, target, out_schema, (*rules, _SUMMARY), force)


def _write_layer(conn: Connection, layer: gpd.GeoDataFrame, schema: str, name: str) -> None:
    """One findings layer as a table with a ``geometry(Geometry, SRID)`` column and a GiST
    index. Through ``to_sql`` and WKB rather than ``to_postgis``, which refuses a layer
    whose geometries are all missing (``empty_geometry``) and turns '' into NULL."""
    from psycopg import sql

    srid = layer.crs.to_epsg()
    plain = pd.DataFrame(layer.drop(columns="geometry"))
    plain["geometry"] = shapely.to_wkb(layer.geometry.to_numpy(), hex=True)
    plain.to_sql(name, conn, schema=schema, index=False)
    table = sql.Identifier(schema, name)
    for statement in (
        sql.SQL("ALTER TABLE {t} ALTER COLUMN geometry TYPE geometry(Geometry, {srid}) USING "
                "ST_SetSRID(geometry::geometry, {srid})").format(t=table, srid=sql.Literal(srid)),
        sql.SQL("CREATE INDEX {i} ON {t} USING GIST (geometry)").format(
            i=sql.Identifier(f"{name}_geometry_idx"), t=table),
    ):
        conn.exec_driver_sql(statement.as_string(conn.connection.driver_connection))


def write_findings_postgis(findings: gpd.GeoDataFrame, uri: str, *, rules: Iterable[str],
                           by_rule: Mapping[str, int], skipped: Mapping[str, str],
                           out_schema: str = DEFAULT_OUT_SCHEMA,
                           force: bool = False) -> list[str]:
    """Write validation findings to the schema ``out_schema``: one table per rule with
    findings, and ``summary`` (:func:`gridkit.io.findings.findings_layers`); all in one
    transaction (nothing is left half-written).

    Each rule table (``geometry(Geometry, 4490)``) gets a GiST spatial index and a
    comment starting with :data:`FINDINGS_MARK`; with ``force`` the tables bearing
    that mark are replaced, tables without it are never touched (the write is refused).

    Returns
    -------
    The tables written, ``schema.table``.
    """
    from psycopg import sql

    from gridkit.io.findings import findings_layers

    target, schema = _parse(uri), out_schema
    summary, layers = findings_layers(findings, rules=rules, by_rule=by_rule, skipped=skipped)
    written = []
    with _connection(target) as conn:
        raw = conn.connection.driver_connection
        _sql_exec = conn.exec_driver_sql
        _sql_exec(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
            sql.Identifier(schema)).as_string(raw))
        for name in _check_tables(conn, target, schema, (*layers, _SUMMARY), force):
            _sql_exec(sql.SQL("DROP TABLE {}").format(sql.Identifier(schema, name)).as_string(raw))
        summary.to_sql(_SUMMARY, conn, schema=schema, index=False)
        for rule, layer in layers.items():
            _write_layer(conn, layer, schema, rule)
        for name in (_SUMMARY, *layers):
            _sql_exec(sql.SQL("COMMENT ON TABLE {} IS {}").format(
                sql.Identifier(schema, name),
                sql.Literal(f"{FINDINGS_MARK} ({name}); replaced by gridkit validate --force"),
            ).as_string(raw))
            written.append(f"{schema}.{name}")
    return written

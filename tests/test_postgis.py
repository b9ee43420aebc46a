"""PostGIS input and output (gridkit.io.postgis) against a real PostgreSQL + PostGIS.

The server is given by ``GRIDKIT_TEST_PG`` (a URI with a role that may create
schemas in a database with the ``postgis`` extension; ``.ci/pg-cluster start``
makes one). The sample (gridkit/data/sample) is loaded into a schema of its own; every
command's JSON from the database must equal its JSON from the files (the
source names aside), findings written back are checked table by table, and
each bad connection must give a one-line error without the password.

Without a server the tests skip, saying why; under ``CI=true`` they fail.
"""

from __future__ import annotations

import json
import os
import re
import socket
import uuid
from urllib.parse import urlsplit

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from gridkit.cli import cli
from gridkit.data import data_path
from gridkit.io import read_layer, read_table
from gridkit.io.postgis import FINDINGS_MARK, source_name

SAMPLE = data_path("sample")
CODES = data_path("guangzhou-divisions-2023.csv")
ENV = "GRIDKIT_TEST_PG"
LAYERS = ("grids", "communities", "reference")
TABLES = ("filings", "party", "cadres", "workers")


def run(*args, env=None):
    return CliRunner(env=env).invoke(cli, [*map(str, args)])


def _unavailable(reason: str):
    """Skip locally; under CI a missing database is a failure, not a skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the PostGIS tests must run)", pytrace=False)
    pytest.skip(reason)


class Database:
    """The test server: its URI, a SQLAlchemy engine, and the sample's schema."""

    def __init__(self, uri: str, engine, schema: str) -> None:
        self.uri, self.engine, self.schema = uri, engine, schema
        parts = urlsplit(uri)
        self.password = parts.password
        self.host, self.port, self.dbname = parts.hostname, parts.port, parts.path.lstrip("/")

    def table(self, name: str, schema: str | None = None) -> str:
        """URI of one table (``?table=schema.name``)."""
        return f"{self.uri}?table={schema or self.schema}.{name}"

    def query(self, text: str, **params) -> list[tuple]:
        from sqlalchemy import text as sql

        with self.engine.begin() as conn:
            result = conn.execute(sql(text), params)
            return [tuple(r) for r in result.fetchall()] if result.returns_rows else []


def _load_layer(frame: gpd.GeoDataFrame, name: str, db: Database) -> None:
    """A layer as a PostGIS table with a ``fid`` primary key in file order. Written with
    ``to_sql`` (not ``to_postgis``: its COPY turns empty strings into NULL)."""
    srid = frame.crs.to_epsg()
    column = frame.geometry.name
    plain = pd.DataFrame(frame.drop(columns=column))
    plain.insert(0, "fid", range(1, len(plain) + 1))
    plain["geom"] = frame.geometry.to_wkb(hex=True).to_numpy()
    plain.to_sql(name, db.engine, schema=db.schema, index=False)
    db.query(f'ALTER TABLE {db.schema}."{name}" ADD PRIMARY KEY (fid), ALTER COLUMN geom '
             f"TYPE geometry(Geometry, {srid}) USING ST_SetSRID(geom::geometry, {srid})")


def _load_table(frame: pd.DataFrame, name: str, db: Database) -> None:
    frame = frame.copy()
    frame.insert(0, "fid", range(1, len(frame) + 1))
    frame.to_sql(name, db.engine, schema=db.schema, index=False)
    db.query(f'ALTER TABLE {db.schema}."{name}" ADD PRIMARY KEY (fid)')


@pytest.fixture(scope="session")
def db():
    """The sample loaded into a fresh schema of the server named by $GRIDKIT_TEST_PG."""
    uri = os.environ.get(ENV)
    if not uri:
        _unavailable(f"no PostgreSQL server: set {ENV}=postgresql://user:pw@host:port/db "
                     "(.ci/pg-cluster start DIR PORT starts one)")
    try:
        import sqlalchemy

        engine = sqlalchemy.create_engine(uri.replace("postgresql://", "postgresql+psycopg://",
                                                      1), poolclass=sqlalchemy.pool.NullPool)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    except Exception as exc:  # noqa: BLE001 - any failure means: no usable server
        _unavailable(f"PostgreSQL + PostGIS at {source_name(uri)} unusable: "
                     f"{str(exc).splitlines()[0]}")
    database = Database(uri, engine, f"gk_sample_{uuid.uuid4().hex[:8]}")
    database.query(f"CREATE SCHEMA {database.schema}")
    try:
        for name in LAYERS:
            _load_layer(gpd.read_file(SAMPLE / f"{name}.gpkg"), name, database)
        for name in TABLES:  # as text, as gridkit reads CSV
            _load_table(pd.read_csv(SAMPLE / f"{name}.csv", dtype=str), name, database)
        _load_table(pd.read_parquet(SAMPLE / "events.parquet"), "events", database)
        yield database
    finally:
        database.query(f"DROP SCHEMA {database.schema} CASCADE")
        engine.dispose()


@pytest.fixture
def out_schema(db):
    """A schema name for findings, dropped afterwards."""
    name = f"gk_out_{uuid.uuid4().hex[:8]}"
    yield name
    db.query(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def _same_json(db: Database, from_db, from_files, sources: dict[str, str]) -> None:
    """Both runs succeeded alike and their JSON is identical once the database tables'
    names are replaced by the files they were loaded from."""
    assert from_db.exit_code == from_files.exit_code, from_db.output
    assert from_files.exit_code in (0, 1), from_files.output
    text = from_db.stdout
    assert db.password not in text
    for table, path in sources.items():
        text = text.replace(json.dumps(source_name(db.table(table)))[1:-1], str(path))
    assert json.loads(text) == json.loads(from_files.stdout)


# ----------------------------------------------------------------- every command, same JSON


def test_validate_from_postgis_equals_files(db):
    from_db = run("validate", db.uri, "--layer", f"{db.schema}.grids",
                  "--communities", db.table("communities"), "--reference", db.table("reference"),
                  "--codes", CODES, "--format", "json")
    from_files = run("validate", SAMPLE / "grids.gpkg", "--communities",
                     SAMPLE / "communities.gpkg", "--reference", SAMPLE / "reference.gpkg",
                     "--codes", CODES, "--format", "json")
    _same_json(db, from_db, from_files, {})
    result = json.loads(from_files.stdout)
    assert result["grids"] == 353 and result["errors"] > 0  # the sample's defects were found


def test_coverage_from_postgis_equals_files(db):
    tables = [a for kind in TABLES for a in (f"--{kind}", db.table(kind))]
    files = [a for kind in TABLES for a in (f"--{kind}", SAMPLE / f"{kind}.csv")]
    from_db = run("coverage", db.uri, "--layer", f"{db.schema}.grids", *tables,
                  "--by", "street", "--format", "json")
    from_files = run("coverage", SAMPLE / "grids.gpkg", *files, "--by", "street",
                     "--format", "json")
    _same_json(db, from_db, from_files, {k: SAMPLE / f"{k}.csv" for k in TABLES})
    assert '"path"' in from_files.stdout  # the roster problems name their source


@pytest.mark.parametrize("chunk_rows, engine", [(7_000, []), (1_000_000, []),
                                               (12_000, ["--engine", "dask", "--workers", "1"])])
def test_events_from_postgis_equal_files(db, chunk_rows, engine):
    from_db = run("events", db.table("grids"), db.table("events"), "--by", "district",
                  "--chunk-rows", chunk_rows, *engine, "--format", "json")
    from_files = run("events", SAMPLE / "grids.gpkg", SAMPLE / "events.parquet",
                     "--by", "district", "--chunk-rows", chunk_rows, "--format", "json")
    _same_json(db, from_db, from_files, {"events": SAMPLE / "events.parquet"})
    assert json.loads(from_files.stdout)["events"] == 30_000


def _normalised_map(path) -> str:
    return re.sub(r"[0-9a-f]{32}", "ID", path.read_text(encoding="utf-8"))  # folium's ids


def test_maps_from_postgis_equal_files(db, tmp_path):
    for kind, extra_db, extra_files in [
        ("events", [db.table("events")], [SAMPLE / "events.parquet"]),
        ("coverage", ["--party", db.table("party"), "--workers", db.table("workers")],
         ["--party", SAMPLE / "party.csv", "--workers", SAMPLE / "workers.csv"]),
    ]:
        a, b = tmp_path / f"{kind}-db.html", tmp_path / f"{kind}-files.html"
        from_db = run("map", kind, db.table("grids"), *extra_db, "--offline", "--out", a,
                      "--format", "json")
        from_files = run("map", kind, SAMPLE / "grids.gpkg", *extra_files, "--offline",
                         "--out", b, "--format", "json")
        assert from_db.exit_code == from_files.exit_code == 0, from_db.output
        info_db, info_files = json.loads(from_db.stdout), json.loads(from_files.stdout)
        assert info_db["features"] == info_files["features"] == 351  # two grids are empty
        assert _normalised_map(a) == _normalised_map(b)


def test_report_project_file_with_tables(db, tmp_path):
    """A project file naming database tables: the same report as from the files, and the
    data-source table names each table without the password."""
    project = (SAMPLE / "project.yaml").read_text(encoding="utf-8")
    for key in (*LAYERS, *TABLES, "events"):
        project = re.sub(rf"^{key}: .*$", f"{key}: {db.table(key)}", project, flags=re.M)
    for key in ("codes", "evaluation"):  # files still, relative to the new project file
        project = re.sub(rf"^({key}): \.\./(.*)$", lambda m: f"{m[1]}: {data_path(m[2])}",
                         project, flags=re.M)
    project = re.sub(r"^previous_grids: (.*)$", lambda m: f"previous_grids: {SAMPLE / m[1]}",
                     project, flags=re.M)
    (tmp_path / "project.yaml").write_text(project, encoding="utf-8")
    from_db = run("report", tmp_path / "project.yaml", "--out", tmp_path / "db.html",
                  "--format", "json")
    from_files = run("report", SAMPLE / "project.yaml", "--out", tmp_path / "files.html",
                     "--format", "json")
    assert from_db.exit_code == from_files.exit_code == 0, from_db.output
    info_db, info_files = json.loads(from_db.stdout), json.loads(from_files.stdout)
    for key in ("errors", "warnings", "total", "grade", "maps"):
        assert info_db[key] == info_files[key]
    page = (tmp_path / "db.html").read_text(encoding="utf-8")
    files_page = (tmp_path / "files.html").read_text(encoding="utf-8")
    for name in ("score", "validation", "coverage"):
        pattern = rf'<section id="{name}">(.*?)\n</section>'
        assert re.search(pattern, page, re.S)[1] == re.search(pattern, files_page, re.S)[1]
    assert db.password not in page
    assert source_name(db.table("events")) in page


def test_loaders_keep_canonical_types(db):
    grids = read_layer(db.uri, "grids", layer=f"{db.schema}.grids")
    assert grids.crs.to_epsg() == 4490 and len(grids) == 353
    assert grids.attrs["source_path"] == source_name(db.table("grids"))
    files = read_layer(SAMPLE / "grids.gpkg", "grids")
    assert grids["grid_code"].tolist() == files["grid_code"].tolist()  # primary-key order
    workers = read_table(db.table("workers"), "workers")
    pd.testing.assert_frame_equal(workers.drop(columns="fid"),
                                  read_table(SAMPLE / "workers.csv", "workers"),
                                  check_dtype=False)


# ------------------------------------------------------------------------ findings written


def _findings_tables(db, schema):
    return dict(db.query("SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
                         "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s "
                         "AND c.relkind = 'r'", s=schema))


def _validate_out(db, schema, *extra):
    return run("validate", db.table("grids"), "--communities", db.table("communities"),
               "--reference", db.table("reference"), "--codes", CODES,
               "--out", db.uri, "--out-schema", schema, "--format", "json", *extra)


def test_findings_written_to_postgis(db, out_schema):
    result = _validate_out(db, out_schema)
    assert result.exit_code == 1, result.output
    by_rule = json.loads(result.stdout)["by_rule"]
    tables = _findings_tables(db, out_schema)
    rules = {r for r, n in by_rule.items() if n}
    assert set(tables) == rules | {"summary"} and len(rules) > 10
    assert all(comment.startswith(FINDINGS_MARK) for comment in tables.values())
    for rule in rules:
        assert db.query(f'SELECT count(*) FROM {out_schema}."{rule}"') == [(by_rule[rule],)]
    summary = dict(db.query(f"SELECT rule, findings FROM {out_schema}.summary"))
    assert {r: n for r, n in summary.items() if r in by_rule} == by_rule
    geometry = dict(db.query("SELECT f_table_name, srid FROM geometry_columns WHERE "
                             "f_table_schema = :s", s=out_schema))
    assert geometry == {rule: 4490 for rule in rules}
    indexed = {t for t, in db.query("SELECT tablename FROM pg_indexes WHERE schemaname = :s "
                                    "AND indexdef ILIKE '%USING gist%'", s=out_schema)}
    assert indexed == rules
    overlap = db.query(f"SELECT grid_codes, ST_Area(geometry::geography) > 0 "
                       f"FROM {out_schema}.overlap")
    assert all(";" in codes and positive for codes, positive in overlap)


def test_findings_replaced_only_with_force_and_only_gridkit_tables(db, out_schema):
    assert _validate_out(db, out_schema).exit_code == 1
    again = _validate_out(db, out_schema)
    assert again.exit_code == 2 and "--force" in again.output
    assert again.output.count("\n") == 1 and "Traceback" not in again.output
    db.query(f"INSERT INTO {out_schema}.summary (rule, findings, skipped) VALUES ('x', 0, '')")
    db.query(f"CREATE TABLE {out_schema}.notes AS SELECT 'kept' AS note")  # someone else's
    forced = _validate_out(db, out_schema, "--force")
    assert forced.exit_code == 1, forced.output
    assert db.query(f"SELECT count(*) FROM {out_schema}.summary WHERE rule = 'x'") == [(0,)]
    assert db.query(f"SELECT note FROM {out_schema}.notes") == [("kept",)]

    # A table gridkit did not write is never replaced, not even with --force.
    db.query(f'DROP TABLE {out_schema}."overlap"')
    db.query(f"CREATE TABLE {out_schema}.overlap (note text); "
             f"INSERT INTO {out_schema}.overlap VALUES ('mine')")
    refused = _validate_out(db, out_schema, "--force")
    assert refused.exit_code == 2
    assert f"{out_schema}.overlap" in refused.output and "not written by gridkit" in refused.output
    assert db.query(f"SELECT note FROM {out_schema}.overlap") == [("mine",)]
    assert "summary" in _findings_tables(db, out_schema)  # the earlier findings are kept


# ------------------------------------------------------------------------ bad connections


def _one_line_error(result, *names, secret=None):
    assert result.exit_code == 2, result.output
    assert result.output.startswith("gridkit: error: ") and result.output.count("\n") == 1
    assert "Traceback" not in result.output
    for name in names:
        assert name in result.output, result.output
    if secret:
        assert secret not in result.output
    return result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_connection(db):
    uri = f"postgresql://gk:hunter2secret@127.0.0.1:{_free_port()}/city"
    out = _one_line_error(run("validate", uri, "--layer", "grids"), "127.0.0.1", "city",
                          secret="hunter2secret")
    assert "refused" in out.lower()


def test_authentication_failure(db):
    uri = db.uri.replace(f":{db.password}@", ":wrong-pw-9f3a@")
    out = _one_line_error(run("coverage", uri, "--layer", f"{db.schema}.grids"),
                          db.host, db.dbname, secret="wrong-pw-9f3a")
    assert "password authentication failed" in out


def test_missing_table(db):
    _one_line_error(run("validate", db.table("no_such_table")), "no_such_table", db.dbname,
                    db.host, secret=db.password)
    _one_line_error(run("validate", db.uri), "?table=", secret=db.password)


def test_table_without_geometry(db):
    out = _one_line_error(run("validate", db.table("workers")), f"{db.schema}.workers",
                          secret=db.password)
    assert "no geometry column" in out


def test_geometry_without_srid(db):
    db.query(f"CREATE TABLE {db.schema}.no_srid AS SELECT grid_code, grid_name, "
             f"community_code, ST_SetSRID(geom, 0)::geometry AS geom FROM {db.schema}.grids")
    out = _one_line_error(run("validate", db.table("no_srid")), f"{db.schema}.no_srid",
                          secret=db.password)
    assert "has no SRID" in out


def test_table_named_twice(db):
    out = _one_line_error(run("validate", db.table("grids"), "--layer", "other.grids"),
                          secret=db.password)
    assert "either as ?table= or with --layer" in out


def test_password_from_pgpassword_and_pgpass(db, tmp_path):
    bare = db.uri.replace(f":{db.password}@", "@")
    assert db.password not in bare
    denied = run("validate", bare, "--layer", f"{db.schema}.grids", "--format", "json",
                 env={"PGPASSWORD": None, "PGPASSFILE": str(tmp_path / "none")})
    _one_line_error(denied, db.host)
    by_env = run("validate", bare, "--layer", f"{db.schema}.grids", "--format", "json",
                 env={"PGPASSWORD": db.password})
    assert by_env.exit_code == 1, by_env.output
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"{db.host}:{db.port}:{db.dbname}:*:{db.password}\n", encoding="utf-8")
    pgpass.chmod(0o600)
    by_file = run("validate", bare, "--layer", f"{db.schema}.grids", "--format", "json",
                  env={"PGPASSWORD": None, "PGPASSFILE": str(pgpass)})
    assert by_file.exit_code == 1, by_file.output
    assert by_file.stdout == by_env.stdout

"""Loaders: formats, encodings, aliases, codes, dates, CRS and error messages."""

import hashlib
import warnings
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from shapely import Point, box

from gridkit.errors import InputError
from gridkit.io import (
    ALIASES,
    parse_bools,
    parse_datetimes,
    read_events_chunks,
    read_layer,
    read_table,
    read_yaml,
)
from gridkit.io.aliases import KINDS, REQUIRED, VALUE_MAPS, aliases_markdown, match_key

ROOT = Path(__file__).resolve().parent.parent
CODES = ["440104001001001", "440104001001002", "440104001002001"]


def grid_frame(**names) -> gpd.GeoDataFrame:
    """Three grids in Guangzhou (EPSG:4490), the middle one with a null geometry."""
    columns = {"grid_code": "网格编码", "grid_name": "网格名称",
               "community_code": "所属社区编码", "households": "户数"} | names
    return gpd.GeoDataFrame(
        {columns["grid_code"]: CODES,
         columns["grid_name"]: ["东山一网格", "东山二网格", "农林一网格"],
         columns["community_code"]: [c[:12] for c in CODES],
         columns["households"]: [300, 420, 515]},
        geometry=[box(113.28, 23.12, 113.29, 23.13), None, box(113.29, 23.12, 113.30, 23.13)],
        crs="EPSG:4490",
    )


def write_shapefile(gdf: gpd.GeoDataFrame, path: Path, encoding: str,
                    cpg: str | None = None) -> Path:
    """Write a shapefile as a contractor would: ``cpg=None`` leaves no .cpg."""
    with warnings.catch_warnings():  # GDAL notes field names cut to 10 bytes
        warnings.simplefilter("ignore")
        pyogrio.write_dataframe(gdf, path, encoding=encoding)
    path.with_suffix(".cpg").unlink(missing_ok=True)
    if cpg is not None:
        path.with_suffix(".cpg").write_text(cpg)
    return path


def write_xlsx(path: Path, rows: list[list], sheet: str = "Sheet1") -> Path:
    book = Workbook()
    book.active.title = sheet
    for row in rows:
        book.active.append(row)
    book.create_sheet("说明").append(["本表为网格员花名册"])
    book.save(path)
    return path


def digest(*paths: Path) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


# --------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------


def test_gbk_shapefile_without_cpg_has_chinese_names_and_codes(tmp_path):
    shp = write_shapefile(grid_frame(), tmp_path / "网格.shp", "GBK")
    assert not shp.with_suffix(".cpg").exists()
    dbf = shp.with_suffix(".dbf").read_bytes()
    assert "网格名称".encode("gbk") in dbf and "所属社区编".encode("gbk") in dbf  # cut to 10 bytes

    grids = read_layer(shp)
    assert list(grids.columns) == ["grid_code", "grid_name", "community_code", "households",
                                   "geometry"]
    assert grids["grid_code"].tolist() == CODES
    assert grids["grid_name"].tolist() == ["东山一网格", "东山二网格", "农林一网格"]
    assert grids["community_code"].tolist() == [c[:12] for c in CODES]
    assert grids["households"].tolist() == [300.0, 420.0, 515.0]
    assert grids.geometry.isna().tolist() == [False, True, False]  # null geometry kept
    assert isinstance(grids.index, pd.RangeIndex)
    assert grids.attrs["source_path"] == str(shp)
    assert grids.crs.to_epsg() == 4490


def test_utf8_shapefile_without_cpg(tmp_path):
    gdf = grid_frame(grid_code="WGBM", grid_name="网格名", community_code="SQBM",
                     households="HS")
    grids = read_layer(write_shapefile(gdf, tmp_path / "g.shp", "UTF-8"))
    assert grids["grid_name"].tolist() == ["东山一网格", "东山二网格", "农林一网格"]
    assert grids["grid_code"].tolist() == CODES


@pytest.mark.parametrize("cpg", ["GBK", "936", "ANSI 936", "CP936", "gb2312"])
def test_cpg_naming_gbk_is_honoured(tmp_path, cpg):
    grids = read_layer(write_shapefile(grid_frame(), tmp_path / "g.shp", "GBK", cpg=cpg))
    assert grids["grid_name"].iloc[0] == "东山一网格"


def test_cpg_is_honoured_over_detection(tmp_path):
    # Latin-1 bytes are not UTF-8; without the .cpg they would be read as GB18030.
    gdf = grid_frame(grid_code="code", grid_name="name", community_code="SQBM",
                     households="HS")
    gdf["name"] = ["Café", "Crème", "Déjà"]
    grids = read_layer(write_shapefile(gdf, tmp_path / "g.shp", "latin1", cpg="1252"))
    assert grids["grid_name"].tolist() == ["Café", "Crème", "Déjà"]


def test_canonical_names_cut_by_shapefile_are_recognised(tmp_path):
    gdf = grid_frame(grid_code="grid_code", grid_name="grid_name",
                     community_code="community_code", households="households")
    shp = write_shapefile(gdf, tmp_path / "g.shp", "UTF-8")
    assert "community_" in pyogrio.read_info(shp)["fields"]
    assert read_layer(shp)["community_code"].tolist() == [c[:12] for c in CODES]


def test_layer_without_crs_asks_for_crs(tmp_path):
    shp = write_shapefile(grid_frame(), tmp_path / "g.shp", "GBK")
    shp.with_suffix(".prj").unlink()
    with pytest.raises(InputError, match=r"g\.shp: has no coordinate reference system; "
                                         r"pass crs=4490 \(CGCS2000\), 4326, 4547"):
        read_layer(shp)
    assert read_layer(shp, crs="4490").crs.to_epsg() == 4490


def test_crs_override_and_gcj02_conversion(tmp_path):
    gpkg = tmp_path / "g.gpkg"
    grid_frame().to_file(gpkg)
    relabelled = read_layer(gpkg, crs="EPSG:4326")
    assert relabelled.crs.to_epsg() == 4326
    assert relabelled.geometry.iloc[0].equals(box(113.28, 23.12, 113.29, 23.13))

    shifted = read_layer(gpkg, crs="gcj02")
    assert shifted.crs.to_epsg() == 4326 and shifted.attrs["source_crs"] == "gcj02"
    # GCJ-02 lies ~0.005° east of WGS84 in Guangzhou: converting moves points west.
    assert 0.004 < 113.28 - shifted.geometry.iloc[0].bounds[0] < 0.007
    assert shifted.geometry.iloc[1] is None


def test_projected_coordinates_labelled_degrees_are_rejected(tmp_path):
    gdf = gpd.GeoDataFrame({"grid_code": CODES[:1], "grid_name": ["a"],
                            "community_code": ["440104001001"]},
                           geometry=[Point(512_000, 2_560_000)], crs="EPSG:4490")
    gdf.to_file(tmp_path / "g.gpkg")
    with pytest.raises(InputError, match="look projected"):
        read_layer(tmp_path / "g.gpkg")


def test_geojson_and_geoparquet(tmp_path):
    gdf = grid_frame(grid_code="GRID_CODE", grid_name="WGMC", community_code="村居编码",
                     households="总户数")
    gdf.to_file(tmp_path / "g.geojson")
    gdf.rename_geometry("geom").to_parquet(tmp_path / "g.parquet")
    for name in ("g.geojson", "g.parquet"):
        grids = read_layer(tmp_path / name)
        assert grids["grid_code"].tolist() == CODES
        assert grids.geometry.name == "geometry"
        assert grids.geometry.isna().tolist() == [False, True, False]


def test_reference_and_communities_kinds(tmp_path):
    ref = gpd.GeoDataFrame({"code": CODES}, geometry=[box(113.3, 23.1, 113.31, 23.11)] * 3,
                           crs=4490)
    ref.to_file(tmp_path / "ref.gpkg")
    assert read_layer(tmp_path / "ref.gpkg", "reference")["grid_code"].tolist() == CODES
    comm = gpd.GeoDataFrame({"社区编码": ["440104001001"], "社区名称": ["东山社区"]},
                            geometry=[box(113.3, 23.1, 113.31, 23.11)], crs=4490)
    comm.to_file(tmp_path / "comm.gpkg")
    out = read_layer(tmp_path / "comm.gpkg", "communities")
    assert out[["community_code", "community_name"]].iloc[0].tolist() == ["440104001001",
                                                                         "东山社区"]


def test_multilayer_geopackage_needs_a_layer(tmp_path):
    gpkg = tmp_path / "many.gpkg"
    grid_frame().to_file(gpkg, layer="grids")
    grid_frame().iloc[:1].to_file(gpkg, layer="old")
    with pytest.raises(InputError, match=r"has 2 layers \(grids, old\)"):
        read_layer(gpkg)
    assert len(read_layer(gpkg, layer="old")) == 1
    assert len(read_layer(gpkg, layer=1)) == 1  # by position
    # a layer the file lacks: the layers it has, in the one-line error
    with pytest.raises(InputError) as err:
        read_layer(gpkg, layer="nope")
    assert err.value.cli_message() == (f"{gpkg}: has no layer 'nope' (its layers: grids, old); "
                                       "choose one with --layer")


def test_layer_codes_stored_as_numbers_become_text(tmp_path):
    gdf = grid_frame()
    gdf["网格编码"] = [float(c) for c in CODES]
    gdf["所属社区编码"] = [int(c[:12]) for c in CODES]
    gdf.to_file(tmp_path / "g.gpkg")
    grids = read_layer(tmp_path / "g.gpkg")
    assert grids["grid_code"].tolist() == CODES
    assert grids["community_code"].tolist() == [c[:12] for c in CODES]


@pytest.mark.parametrize("name, content, message", [
    ("missing.gpkg", None, "file not found"),
    ("grids.txt", b"x", "unsupported file type '.txt'"),
    ("broken.gpkg", b"not a geopackage", "cannot read"),
    ("broken.shp", b"\x00" * 10, "cannot read"),
    ("broken.parquet", b"PAR", "cannot read as GeoParquet"),
    ("folder.gpkg", "dir", "is a folder"),
    ("table.gpkg", pd.DataFrame({"网格编码": CODES}), "has no geometry column"),
])
def test_unreadable_layers_are_input_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, pd.DataFrame):
        pyogrio.write_dataframe(content, path)
    elif content == "dir":
        path.mkdir()
    with pytest.raises(InputError, match=message) as err:
        read_layer(path)
    assert str(err.value).startswith(str(path))


# --------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------


def test_missing_column_names_file_column_and_columns(tmp_path):
    gdf = grid_frame().drop(columns="所属社区编码")
    gdf.to_file(tmp_path / "g.gpkg")
    with pytest.raises(InputError) as err:
        read_layer(tmp_path / "g.gpkg")
    message = str(err.value)
    assert message.startswith(str(tmp_path / "g.gpkg"))
    assert "missing required column community_code" in message
    assert "the file has columns 网格编码, 网格名称, 户数" in message
    assert "--column community_code=" in err.value.cli_message()


def test_column_override(tmp_path):
    gdf = grid_frame(grid_code="编号", community_code="社区")
    gdf.to_file(tmp_path / "g.gpkg")
    grids = read_layer(tmp_path / "g.gpkg",
                       columns={"grid_code": "编号", "community_code": " 社区 "})
    assert grids["grid_code"].tolist() == CODES
    assert grids["community_code"].tolist() == [c[:12] for c in CODES]

    with pytest.raises(InputError, match="the file has no column 'WGBM'; its columns are 编号"):
        read_layer(tmp_path / "g.gpkg", columns={"grid_code": "WGBM"})
    with pytest.raises(InputError, match="'street' is not a column of grids"):
        read_layer(tmp_path / "g.gpkg", columns={"street": "编号"})


def test_override_wins_over_alias_and_clash_is_reported(tmp_path):
    table = pd.DataFrame({"网格编码": ["x"], "WGBM2": [CODES[0]], "备案状态": ["已备案"],
                          "备案日期": ["2023-05-01"]})
    table.to_csv(tmp_path / "f.csv", index=False)
    out = read_table(tmp_path / "f.csv", "filings", columns={"grid_code": "WGBM2"})
    assert out["grid_code"].tolist() == [CODES[0]] and out["网格编码"].tolist() == ["x"]

    table.rename(columns={"网格编码": "grid_code"}).to_csv(tmp_path / "f.csv", index=False)
    with pytest.raises(InputError, match="column grid_code would appear twice"):
        read_table(tmp_path / "f.csv", "filings", columns={"grid_code": "WGBM2"})


def test_two_columns_for_one_canonical_is_an_error(tmp_path):
    table = pd.DataFrame({"网格编码": CODES, "WGBM": CODES, "备案状态": "已备案",
                          "备案日期": "2023-05-01"})
    table.to_csv(tmp_path / "f.csv", index=False)
    with pytest.raises(InputError) as err:
        read_table(tmp_path / "f.csv", "filings")
    assert err.value.cli_message().endswith("columns '网格编码', 'WGBM' all mean grid_code; "
                                            "choose one with --column grid_code=NAME")


def test_alias_table_is_consistent_and_documented():
    doc = (ROOT / "docs" / "aliases.md").read_text(encoding="utf-8")
    assert doc == aliases_markdown(), "regenerate it: see gridkit/io/aliases.py"
    for kind in KINDS:
        keys = [match_key(a) for c, aliases in ALIASES[kind].items() for a in (c, *aliases)]
        assert len(keys) == len(set(keys)), f"an alias of {kind} maps to two columns"
        assert set(REQUIRED[kind]) <= set(ALIASES[kind])
        for aliases in ALIASES[kind].values():
            assert all(alias in doc for alias in aliases)
    for value_map in VALUE_MAPS.values():
        keys = [match_key(s) for spellings in value_map.values.values() for s in spellings]
        assert len(keys) == len(set(keys))


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------


def test_excel_roster_with_chinese_headers_and_codes(tmp_path):
    xlsx = write_xlsx(tmp_path / "网格员.xlsx", [
        ["人员编号", "姓名", "专兼职", "网格编码", "备注"],
        ["0012", "张三", "专职", 440104001001001, "组长"],
        ["0013", "李四", " 兼职 ", "440104001001002", None],
        ["0014", "王五", "专职网格员", 440104001002001.0, None],
    ], sheet="花名册")
    workers = read_table(xlsx, "workers")
    assert list(workers.columns) == ["person_id", "name", "kind", "grid_code", "备注"]
    assert workers["person_id"].tolist() == ["0012", "0013", "0014"]
    assert workers["grid_code"].tolist() == CODES
    assert workers["kind"].tolist() == ["full_time", "part_time", "full_time"]
    assert workers.attrs["source_path"] == str(xlsx)
    assert read_table(xlsx, "workers", sheet="花名册").equals(workers)
    with pytest.raises(InputError, match="has no sheet '网格员'; its sheets are 花名册, 说明"):
        read_table(xlsx, "workers", sheet="网格员")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_keep_15_digit_codes_as_text(tmp_path, encoding):
    text = ("网格编码,备案日期,备案状态\n"
            f"{CODES[0]},2023-05-01,已备案\n{CODES[1]},2023/5/2,待备案\n"
            f"{CODES[2]},,退回\n")
    (tmp_path / "f.csv").write_bytes(text.encode(encoding))
    filings = read_table(tmp_path / "f.csv", "filings")
    assert filings["grid_code"].tolist() == CODES
    assert filings["status"].tolist() == ["filed", "pending", "rejected"]
    assert filings["filed_on"].tolist()[:2] == [pd.Timestamp("2023-05-01"),
                                               pd.Timestamp("2023-05-02")]
    assert filings["filed_on"].isna().tolist() == [False, False, True]


def test_unknown_status_names_row_and_accepted_values(tmp_path):
    (tmp_path / "f.csv").write_text(
        f"网格编码,备案日期,备案状态\n{CODES[0]},2023-05-01,已备案\n{CODES[1]},2023-05-01,作废\n")
    with pytest.raises(InputError, match=r"f\.csv: column 'status', row 2: unknown value "
                                         r"'作废' \(accepted: filed: filed, 已备案"):
        read_table(tmp_path / "f.csv", "filings")


def test_party_org_types(tmp_path):
    (tmp_path / "p.csv").write_text(
        "党组织编码,党组织名称,党组织类型,网格编码\n"
        f"001,东山第一党支部,党支部,{CODES[0]}\n002,东山党小组,party group,{CODES[1]}\n"
        f"003,东山党总支,党总支,{CODES[2]}\n")
    party = read_table(tmp_path / "p.csv", "party")
    assert party["org_id"].tolist() == ["001", "002", "003"]
    assert party["org_type"].tolist() == ["党支部", "党小组", "党总支"]


def test_float_mangled_codes_are_repaired(tmp_path):
    (tmp_path / "c.csv").write_text(
        f"人员编号,姓名,职务,网格编码\n7.0,张三,书记,{CODES[0]}.0\n8,李四,委员, {CODES[1]} \n")
    cadres = read_table(tmp_path / "c.csv", "cadres")
    assert cadres["grid_code"].tolist() == CODES[:2]
    assert cadres["person_id"].tolist() == ["7", "8"]

    pd.DataFrame({"person_id": [1.0, 2.5], "name": "x", "role": "y",
                  "grid_code": [float(CODES[0])] * 2}).to_parquet(tmp_path / "c.parquet")
    with pytest.raises(InputError, match=r"column 'person_id', row 2: code 2\.5 is not a whole"):
        read_table(tmp_path / "c.parquet", "cadres")


def test_codes_lose_non_ascii_spaces(tmp_path):
    # Excel exports pad cells with no-break (U+00A0) or ideographic (U+3000) spaces.
    (tmp_path / "c.csv").write_text(
        f"人员编号,姓名,职务,网格编码\n1,张三,书记,{CODES[0]}\u00a0\n2,李四,委员,\u3000{CODES[1]}\n",
        encoding="utf-8")
    assert read_table(tmp_path / "c.csv", "cadres")["grid_code"].tolist() == CODES[:2]


def test_scientific_notation_codes_name_row_and_fix(tmp_path):
    (tmp_path / "c.csv").write_text(
        f"人员编号,姓名,职务,网格编码\n1,张三,书记,{CODES[0]}\n2,李四,委员,4.40104E+14\n")
    with pytest.raises(InputError) as err:
        read_table(tmp_path / "c.csv", "cadres")
    assert err.value.row == 2 and err.value.column == "grid_code"
    assert str(err.value).startswith(f"{tmp_path / 'c.csv'}: column 'grid_code', row 2: code "
                                     "'4.40104E+14' is in scientific notation")
    assert "format the column as text" in str(err.value)


@pytest.mark.parametrize("name, content, message", [
    ("missing.csv", None, "file not found"),
    ("t.xls", b"\xd0\xcf\x11\xe0", "unsupported file type '.xls'"),
    ("empty.csv", b"", "file is empty"),
    ("broken.xlsx", b"not a zip", "cannot read as an Excel workbook"),
    ("broken.parquet", b"PAR1", "cannot read"),
])
def test_unreadable_tables_are_input_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_table(path, "filings")


def test_inputs_are_not_modified(tmp_path):
    shp = write_shapefile(grid_frame(), tmp_path / "g.shp", "GBK")
    shp_files = sorted(tmp_path.glob("g.*"))
    gpkg = tmp_path / "g.gpkg"
    grid_frame().to_file(gpkg)
    csv = tmp_path / "f.csv"
    csv.write_bytes(f"网格编码,备案日期,备案状态\n{CODES[0]}.0,2023/5/1,已备案\n".encode("gbk"))
    xlsx = write_xlsx(tmp_path / "w.xlsx", [["人员编号", "姓名", "专兼职", "网格编码"],
                                            ["1", "张三", "专职", CODES[0]]])
    inputs = [*shp_files, gpkg, csv, xlsx]
    before = digest(*inputs)
    read_layer(shp, crs="gcj02")
    read_layer(gpkg)
    read_table(csv, "filings")
    read_table(xlsx, "workers")
    assert digest(*inputs) == before
    assert sorted(tmp_path.iterdir()) == sorted(inputs)


# --------------------------------------------------------------------------------------
# Dates, events
# --------------------------------------------------------------------------------------


def test_datetime_formats():
    values = pd.Series([
        "2023-05-01 08:00:00", "2023/5/1 8:00", "2023年5月1日 8:00", "2023年5月1日8时0分",
        "2023-05-01T08:00:00", "2023-05-01T00:00:00Z", "2023-05-01T08:00:00+08:00",
        "2023.05.01 08:00", "20230501080000", "45047.3333333", " 2023-05-01 08:00 ", "",
        None,
    ])
    parsed = parse_datetimes(values, path="e.csv", column="reported_at")
    assert parsed.dtype == "datetime64[ns]"
    assert parsed.iloc[:-2].tolist() == [pd.Timestamp("2023-05-01 08:00")] * 11
    assert parsed.iloc[-2:].isna().all()


def test_datetime_excel_serials_and_cells(tmp_path):
    serials = pd.Series([45047.3333333, np.nan, 45047.0])
    assert parse_datetimes(serials).tolist()[::2] == [pd.Timestamp("2023-05-01 08:00"),
                                                     pd.Timestamp("2023-05-01")]
    with pytest.raises(InputError, match=r"row 2: 1682899200\.0 is not a date"):
        parse_datetimes(pd.Series([45047.0, 1682899200.0]))

    xlsx = write_xlsx(tmp_path / "e.xlsx", [
        ["工单编号", "经度", "纬度", "上报时间", "办结时间"],
        ["A1", 113.3, 23.1, datetime(2023, 5, 1, 8, 0), 45047.5],
        ["A2", "113.3", "23.1", "2023/5/1 8:00", None],
    ])
    events = read_table(xlsx, "events")
    assert events["reported_at"].tolist() == [pd.Timestamp("2023-05-01 08:00")] * 2
    assert events["closed_at"].iloc[0] == pd.Timestamp("2023-05-01 12:00")
    assert pd.isna(events["closed_at"].iloc[1])


def test_datetime_passthrough_converts_time_zones():
    aware = pd.Series(pd.to_datetime(["2023-05-01 00:00"]).tz_localize("UTC"))
    assert parse_datetimes(aware).tolist() == [pd.Timestamp("2023-05-01 08:00")]


def test_bad_datetime_names_column_and_row():
    with pytest.raises(InputError) as err:
        parse_datetimes(pd.Series(["2023-05-01 08:00", "", "明天上午"]),
                        path="e.csv", column="reported_at")
    assert str(err.value).startswith("e.csv: column 'reported_at', row 3: cannot read '明天上午'")


@settings(max_examples=40, deadline=None)
@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31)),
       st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y年%m月%d日 %H:%M:%S",
                        "%Y-%m-%dT%H:%M:%S", "%Y%m%d%H%M%S"]))
def test_datetime_formats_round_trip(moment, fmt):
    moment = moment.replace(microsecond=0)
    assert parse_datetimes(pd.Series([moment.strftime(fmt)])).iloc[0] == moment


def test_events_types(tmp_path):
    (tmp_path / "e.csv").write_text(
        "工单编号,经度,纬度,上报时间,转派网格,转派时间,有效投诉,事件类型\n"
        f"0001,113.30,23.10,2023-05-01 08:00,{CODES[0]},2023-05-01 09:00,是,噪音\n"
        f"0002,,,2023-05-01 08:00,,,,市容\n"
        f"0003,113.31,23.11,2023-05-01 08:00,{CODES[1]}.0,2023-05-01 12:00,N,占道\n")
    events = read_table(tmp_path / "e.csv", "events")
    assert events["event_id"].tolist() == ["0001", "0002", "0003"]
    assert events["lon"].dtype == "float64" and events["lat"].dtype == "float64"
    assert np.isnan(events["lon"].iloc[1])
    assert events["valid_complaint"].dtype == bool
    assert events["valid_complaint"].tolist() == [True, False, False]
    assert events["assigned_grid_code"].tolist()[::2] == CODES[:2]
    assert events["dispatched_at"].isna().tolist() == [False, True, False]


def test_event_bools():
    values = pd.Series(["true", "FALSE", "1", "0", "是", "否", "Y", "n", "", None, " yes "])
    assert parse_bools(values).tolist() == [True, False, True, False, True, False, True, False,
                                            False, False, True]
    assert parse_bools(pd.Series([1, 0, 1])).tolist() == [True, False, True]
    with pytest.raises(InputError, match=r"column 'valid_complaint', row 2: unknown value '待定'"):
        parse_bools(pd.Series(["是", "待定"]), column="valid_complaint")


def test_non_numeric_coordinate_names_row(tmp_path):
    (tmp_path / "e.csv").write_text(
        "工单编号,经度,纬度,上报时间\nA1,113.3,23.1,2023-05-01\nA2,113.3,北纬23度,2023-05-01\n")
    with pytest.raises(InputError, match=r"column 'lat', row 2: '北纬23度' is not a number"):
        read_table(tmp_path / "e.csv", "events")


def test_events_chunks_parquet_and_csv_have_global_rows(tmp_path):
    n = 25
    events = pd.DataFrame({
        "event_id": [f"E{i:03d}" for i in range(n)],
        "lon": 113.3, "lat": 23.1,
        "reported_at": pd.date_range("2023-05-01", periods=n, freq="h"),
        "valid_complaint": [i % 2 == 0 for i in range(n)],
    })
    pq.write_table(pa.Table.from_pandas(events, preserve_index=False),
                   tmp_path / "e.parquet", row_group_size=7)
    events.to_csv(tmp_path / "e.csv", index=False)
    for name in ("e.parquet", "e.csv"):
        chunks = list(read_events_chunks(tmp_path / name, chunk_rows=10))
        assert [len(c) for c in chunks] == [10, 10, 5]
        assert chunks[2].index.tolist() == list(range(20, 25))
        whole = pd.concat(chunks)
        assert whole["event_id"].tolist() == events["event_id"].tolist()
        assert whole["reported_at"].tolist() == events["reported_at"].tolist()
        assert whole["valid_complaint"].tolist() == events["valid_complaint"].tolist()
    assert read_table(tmp_path / "e.parquet", "events").equals(
        pd.concat(read_events_chunks(tmp_path / "e.parquet", chunk_rows=10)))

    events["reported_at"] = events["reported_at"].astype(str)
    events.loc[23, "reported_at"] = "坏日期"
    events.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(InputError, match=r"column 'reported_at', row 24: cannot read '坏日期'"):
        list(read_events_chunks(tmp_path / "bad.csv", chunk_rows=10))
    pq.write_table(pa.Table.from_pandas(events, preserve_index=False), tmp_path / "bad.parquet",
                   row_group_size=7)
    with pytest.raises(InputError, match="row 24: cannot read"):
        list(read_events_chunks(tmp_path / "bad.parquet", chunk_rows=10))


def test_events_chunks_check_header_first(tmp_path):
    (tmp_path / "e.csv").write_text("工单编号,经度,纬度\nA1,113.3,23.1\n")
    chunks = read_events_chunks(tmp_path / "e.csv")
    with pytest.raises(InputError, match="missing required column reported_at"):
        next(chunks)


def test_header_only_table_is_empty_and_typed(tmp_path):
    (tmp_path / "e.csv").write_text("工单编号,经度,纬度,上报时间,有效投诉\n")
    events = read_table(tmp_path / "e.csv", "events")
    assert len(events) == 0
    assert events.dtypes[["lon", "reported_at", "valid_complaint"]].tolist() == [
        "float64", "datetime64[ns]", "bool"]
    events.to_parquet(tmp_path / "e.parquet")
    write_xlsx(tmp_path / "e.xlsx", [["工单编号", "经度", "纬度", "上报时间", "有效投诉"]])
    for name in ("e.csv", "e.parquet", "e.xlsx"):
        chunks = list(read_events_chunks(tmp_path / name))
        assert len(chunks) == 1 and len(chunks[0]) == 0
        assert chunks[0].dtypes.equals(events.dtypes)


def test_gbk_after_a_utf8_start(tmp_path, monkeypatch):
    monkeypatch.setattr("gridkit.io.read._SNIFF_BYTES", 64)  # the sniffed start is ASCII
    rows = "".join(f"E{i},113.3,23.1,2023-05-01\n" for i in range(10))
    (tmp_path / "e.csv").write_bytes(
        f"event_id,lon,lat,reported_at\n{rows}E99,113.3,23.1,2023年5月1日\n".encode("gbk"))
    assert read_table(tmp_path / "e.csv", "events")["reported_at"].iloc[-1] == pd.Timestamp(
        "2023-05-01")
    with pytest.raises(InputError, match="text is not valid UTF-8 throughout"):
        list(read_events_chunks(tmp_path / "e.csv", chunk_rows=4))


# ----- hostile files (review) ---------------------------------------------------------


def test_layer_of_points_or_without_features_is_refused(tmp_path):
    points = grid_frame()
    points["geometry"] = [Point(113.3, 23.1), None, Point(113.31, 23.1)]
    points.to_file(tmp_path / "points.geojson")
    with pytest.raises(InputError, match=r"points.geojson: row 1: holds Point geometries, not "):
        read_layer(tmp_path / "points.geojson")
    grid_frame().iloc[:0].to_file(tmp_path / "empty.gpkg")
    with pytest.raises(InputError, match="has no features"):
        read_layer(tmp_path / "empty.gpkg")
    mixed = grid_frame()
    mixed.loc[2, "geometry"] = Point(113.3, 23.1)  # a stray point is a finding, not a refusal
    mixed.to_file(tmp_path / "mixed.geojson")
    assert read_layer(tmp_path / "mixed.geojson").geom_type.tolist()[2] == "Point"


def test_geopackage_attribute_table_is_not_a_layer(tmp_path):
    """QGIS stores styles in a ``layer_styles`` table: the only spatial layer is taken."""
    gpkg = tmp_path / "styled.gpkg"
    grid_frame().to_file(gpkg, layer="grids")
    pyogrio.write_dataframe(pd.DataFrame({"f_table_name": ["grids"], "styleQML": ["<qgis/>"]}),
                            gpkg, layer="layer_styles", driver="GPKG")
    assert read_layer(gpkg)["grid_code"].tolist() == CODES


def test_utf8_shapefile_with_chinese_field_names_cut_mid_character(tmp_path):
    """GDAL/QGIS cut a UTF-8 name to 10 bytes: 网格编码 → 网格编 + a stray byte."""
    shp = tmp_path / "utf8.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid_frame(community_code="社区编码").to_file(shp, encoding="utf-8")
    assert (tmp_path / "utf8.cpg").read_text().upper().startswith("UTF")
    out = read_layer(shp)
    assert out["grid_code"].tolist() == CODES
    assert out["community_code"].tolist()[0] == "440104001001"
    assert out["grid_name"].tolist()[0] == grid_frame()["网格名称"].iloc[0]


def test_input_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("网格编码,状态\n440104001001001,已备案\n1,2,3,4\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_table(bad, "filings")
    assert "\n" not in str(error.value) and "line 3" in str(error.value)


@pytest.mark.parametrize("text, message", [
    ("a: [\n", "not valid YAML at line 2"),
    ("day: 2023-13-45\n", "not valid YAML: month must be in 1..12"),
    ("a: " + "[" * 20000 + "]" * 20000 + "\n", "not valid YAML"),
    ("x: !!python/object/apply:os.system ['echo pwned']\n", "not valid YAML at line 1"),
])
def test_read_yaml_refuses_bad_and_unsafe_yaml_in_one_line(tmp_path, text, message):
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_yaml(path, "rules file")
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_read_yaml_missing_file_and_bad_encoding(tmp_path):
    with pytest.raises(InputError, match="rules file not found"):
        read_yaml(tmp_path / "missing.yaml", "rules file")
    path = tmp_path / "gbk.yaml"
    path.write_bytes("名称: 网格".encode("gbk"))
    with pytest.raises(InputError, match="cannot read the rules file"):
        read_yaml(path, "rules file")

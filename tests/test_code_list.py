"""The packaged national code list and user code lists (issue 12, points 4 and 8)."""

from __future__ import annotations

import pytest

from gridkit.codes import load_divisions
from gridkit.data import GUANGZHOU_CODES, NATIONAL_CODES
from gridkit.errors import InputError


def test_national_list_covers_every_level_and_contains_guangzhou():
    table = load_divisions()
    assert NATIONAL_CODES.stat().st_size < 6_000_000  # packed: a few MB
    counts = table["code"].str.len().value_counts().to_dict()
    assert counts == {2: 31, 4: 342, 6: 2978, 9: 41352, 12: 620573}
    assert not table["code"].duplicated().any()
    guangzhou = load_divisions(GUANGZHOU_CODES)
    merged = guangzhou.merge(table, on="code", suffixes=("", "_national"))
    assert len(merged) == len(guangzhou)
    assert (merged["name"] == merged["name_national"]).all()
    assert (merged["parent_code"] == merged["parent_code_national"]).all()
    shenzhen = table[table["code"].str.startswith("4403") & (table["level"] == "street")]
    assert "440304001" in set(shenzhen["code"])  # 福田区园岭街道


def test_code_list_accepts_every_level_length(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("code,level,name,parent_code\n44,province,广东省,\n4401,city,广州市,44\n"
                    "440104,district,越秀区,4401\n", encoding="utf-8")
    assert load_divisions(path)["code"].tolist() == ["44", "4401", "440104"]


def test_a_code_listed_twice_is_an_error_naming_both_rows(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("code,level,name,parent_code\n440104,district,越秀区,4401\n"
                    "440105,district,海珠区,4401\n440104,district,重名区,4401\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_divisions(path)
    assert "440104 is listed twice: rows 1 (越秀区) and 3 (重名区)" in str(err.value)
    assert err.value.row == 3


def test_a_code_of_another_length_is_refused(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("code,level,name,parent_code\n44010,district,x,4401\n", encoding="utf-8")
    with pytest.raises(InputError, match="not 2, 4, 6, 9 or 12 digits"):
        load_divisions(path)


def test_within_keeps_the_units_of_the_given_codes_and_checks_the_whole_file(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("code,level,name,parent_code\n44,province,广东省,\n4401,city,广州市,44\n"
                    "440104,district,越秀区,4401\n440105,district,海珠区,4401\n",
                    encoding="utf-8")
    kept = load_divisions(path, within=["440104001001001", None])
    assert kept["code"].tolist() == ["44", "4401", "440104"]
    national = load_divisions(within=["440104001001001", "110101001001001"])
    assert set(national["code"]) >= {"11", "1101", "110101", "44", "4401", "440104"}
    assert len(national) < 20
    path.write_text(path.read_text(encoding="utf-8") + "440105,district,重名区,4401\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match="listed twice"):
        load_divisions(path, within=["440104001001001"])

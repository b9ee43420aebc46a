"""Errors, safe output, the command group and the official code list."""

import subprocess
import sys
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers.cli import run_cli

from gridkit.cli import COMMANDS, LazyGroup, cli
from gridkit.cli._common import parse_column_overrides, render_table, to_csv, to_json
from gridkit.codes import load_divisions, parent_code
from gridkit.data import GUANGZHOU_CODES
from gridkit.errors import InputError
from gridkit.io.write import atomic_output, check_writable

ROOT = Path(__file__).resolve().parent.parent


def test_input_error_names_file_column_row():
    err = InputError("not 15 digits", path="g.gpkg", column="grid_code", row=7)
    assert str(err) == "g.gpkg: column 'grid_code', row 7: not 15 digits"
    assert str(InputError("bad", path="x.csv")) == "x.csv: bad"
    assert str(InputError("bad")) == "bad"


def test_check_writable_refuses_existing_without_force(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("keep me")
    with pytest.raises(InputError, match="output exists; use force=True") as err:
        check_writable(target)
    assert err.value.cli_message().endswith("output exists; use --force to overwrite it")
    assert check_writable(target, force=True) == target
    with pytest.raises(InputError, match="folder does not exist"):
        check_writable(tmp_path / "missing" / "out.csv")


def test_check_writable_never_touches_inputs(tmp_path):
    shp = tmp_path / "data" / "grids.shp"
    shp.parent.mkdir()
    shp.touch()  # a missing input would be reported first
    for target in (shp, shp.with_suffix(".dbf"), tmp_path / "data", tmp_path):
        with pytest.raises(InputError, match="would overwrite the input"):
            check_writable(target, force=True, inputs=[None, shp])
    assert check_writable(tmp_path / "data" / "other.dbf", inputs=[shp]).name == "other.dbf"
    with pytest.raises(InputError, match="output is a folder"):
        check_writable(tmp_path / "data", force=True, folder=False)


def test_atomic_output_never_replaces_a_folder_by_a_file(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "keep").write_text("x")
    with pytest.raises(InputError, match="output is a folder"), \
            atomic_output(folder, force=True) as tmp:
        tmp.write_text("file")
    assert (folder / "keep").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(ZeroDivisionError), atomic_output(target, force=True) as tmp:
        tmp.write_text("half")
        1 / 0  # noqa: B018
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_output_replaces_file_and_folder(tmp_path):
    target = tmp_path / "out.txt"
    with atomic_output(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / "stale").write_text("x")
    with atomic_output(folder, force=True) as tmp:
        tmp.mkdir()
        (tmp / "fresh").write_text("y")
    assert sorted(p.name for p in folder.iterdir()) == ["fresh"]


def test_group_turns_input_error_into_exit_2():
    @click.group(cls=LazyGroup)
    def group():
        pass

    @group.command()
    def boom():
        raise InputError("no such column", path="a.csv", column="grid_code")

    group.list_commands = lambda ctx: ["boom"]
    group.get_command = lambda ctx, name: boom if name == "boom" else None
    result = CliRunner().invoke(group, ["boom"])
    assert result.exit_code == 2
    assert result.output.strip() == "gridkit: error: a.csv: column 'grid_code': no such column"


def test_help_lists_every_implemented_command():
    result = run_cli(*["--help"])
    assert result.exit_code == 0
    listed = LazyGroup.list_commands(cli, None)
    for name in listed:
        assert name in result.output
        sub = run_cli(*[name, "--help"])
        assert sub.exit_code == 0, sub.output
        assert "Example" in sub.output or "example" in sub.output
    assert set(listed) <= set(COMMANDS)


def test_cli_py_launcher_matches_console_script():
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--help"], capture_output=True,
                         text=True, cwd=ROOT, check=True)
    assert "gridkit" in out.stdout
    assert out.stdout == run_cli(*["--help"]).output


def test_python_dash_m_gridkit_is_the_cli(tmp_path):
    out = subprocess.run([sys.executable, "-m", "gridkit", "--help"], capture_output=True,
                         text=True, cwd=tmp_path, check=True)
    assert out.stdout == run_cli(*["--help"]).output


def test_official_code_list_counts():
    codes = load_divisions(GUANGZHOU_CODES)
    assert codes["level"].value_counts().to_dict() == {
        "community": 2851, "street": 178, "district": 11}
    assert codes["code"].str.len().isin([6, 9, 12]).all()
    child = codes[codes.level == "community"]
    assert child["parent_code"].isin(codes.loc[codes.level == "street", "code"]).all()


def test_code_list_errors_name_the_file(tmp_path):
    bad = tmp_path / "codes.csv"
    bad.write_text("code,level,name\n440104,district,越秀区\n", encoding="utf-8")
    with pytest.raises(InputError, match="parent_code"):
        load_divisions(bad)
    bad.write_text("code,level,name,parent_code\n44010,district,x,4401\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 1"):
        load_divisions(bad)


def test_code_list_codes_are_stripped(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("code,level,name,parent_code\n 440104 ,district,越秀区,4401\n",
                    encoding="utf-8")
    assert load_divisions(path)["code"].tolist() == ["440104"]


@pytest.mark.parametrize("value", ["grid_code", "=WGBM", "grid_code=", " = "])
def test_column_override_needs_both_names(value):
    assert parse_column_overrides([" grid_code = WGBM "]) == {"grid_code": "WGBM"}
    with pytest.raises(InputError, match="CANONICAL=SOURCE"):
        parse_column_overrides([value])


def test_output_helpers():
    rows = [{"code": "440104", "name": "越秀区", "rate": 0.98765}, {"code": "x", "rate": None}]
    assert render_table(rows, ["code", "name", "rate"]).splitlines() == [
        "code    name    rate",
        "------  ------  ------",
        "440104  越秀区  0.9877",
        "x       -       -",
    ]
    assert to_csv(rows, ["code", "rate"]) == "code,rate\n440104,0.98765\nx,\n"
    assert to_json({"a": float("nan"), "b": ["网格", float("inf")]}) == \
        '{\n  "a": null,\n  "b": [\n    "网格",\n    null\n  ]\n}'


def test_parent_code_truncates_to_level():
    codes = pd.Series(["440104001001001", "440106002003004"])
    assert parent_code(codes, "community").tolist() == ["440104001001", "440106002003"]
    assert parent_code(codes, "district").tolist() == ["440104", "440106"]

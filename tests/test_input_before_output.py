"""A missing input is reported before an existing output: the user fixes what is wrong
first (``check_writable`` looks at the inputs before the output)."""

from __future__ import annotations

import pytest
from helpers.cli import run_cli

from gridkit.data import SAMPLE_DIR
from gridkit.errors import InputError
from gridkit.io import check_writable

S = SAMPLE_DIR
COMMANDS = {
    "map diff": (["map", "diff", "{missing}.gpkg", S / "grids.gpkg"], "html"),
    "map grids": (["map", "grids", "{missing}.gpkg"], "html"),
    "fix": (["fix", "{missing}.gpkg", "--communities", S / "communities.gpkg"], "gpkg"),
    "validate": (["validate", "{missing}.gpkg"], "gpkg"),
    "diff": (["diff", S / "grids.gpkg", "{missing}.gpkg"], "csv"),
    "score": (["score", "{missing}.yaml"], "json"),
    "events": (["events", S / "grids.gpkg", "{missing}.parquet"], "parquet"),
    "report": (["report", "{missing}.yaml"], "html"),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_missing_input_is_reported_before_an_existing_output(command, tmp_path):
    args, suffix = COMMANDS[command]
    out = tmp_path / f"out.{suffix}"
    out.write_text("earlier run", encoding="utf-8")
    missing = str(tmp_path / "missing")
    result = run_cli(*[str(a).replace("{missing}", missing) for a in args], "--out", out)
    assert result.exit_code == 2
    assert f"{missing}." in result.output and "not found" in result.output, result.output
    assert "output exists" not in result.output
    assert out.read_text(encoding="utf-8") == "earlier run"


def test_check_writable_names_the_missing_input(tmp_path):
    out = tmp_path / "out.csv"
    out.touch()
    with pytest.raises(InputError, match=r"missing\.csv: file not found"):
        check_writable(out, inputs=(tmp_path / "missing.csv",))
    # a database URI is no local file; None is an input not given
    with pytest.raises(InputError, match="output exists"):
        check_writable(out, inputs=("postgresql://gk@db/city?table=grids", None))

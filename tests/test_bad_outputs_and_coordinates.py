"""Non-finite coordinates and unwritable outputs: findings or one-line errors (issue 12, 8)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from helpers.validate_data import grids

from gridkit.cli import cli
from gridkit.errors import InputError
from gridkit.io import atomic_output

#: Building a polygon with a NaN vertex makes numpy warn; that is the point of the fixture.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")


@pytest.fixture
def nan_layer(tmp_path):
    layer = grids()
    layer.loc[1, "geometry"] = shapely.Polygon(
        [(500100, 2560120), (500200, 2560120), (np.nan, 2560240), (500100, 2560240)])
    layer.loc[2, "geometry"] = shapely.Polygon(
        [(500000, 2560000), (500100, 2560000), (np.inf, 2560120), (500000, 2560120)])
    path = tmp_path / "nan.gpkg"
    layer.to_file(path)
    return path


def test_non_finite_vertices_are_reported_by_validate(nan_layer):
    result = CliRunner().invoke(cli, ["validate", str(nan_layer), "--lang", "en",
                                      "--format", "json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    rows = [f for f in doc["findings"] if f["rule"] == "invalid_geometry"]
    assert [r["grid_codes"] for r in rows] == [["440104001007002"], ["440104001007003"]]
    assert all("non-finite coordinates" in r["message"] and r["wkt"] is None for r in rows)
    assert doc["repaired_geometries"] == 0


def test_out_inside_a_file_is_a_one_line_error(nan_layer, tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(nan_layer), "--out",
                                      str(target / "findings.gpkg")])
    assert result.exit_code == 2
    assert "is a file, not a folder" in result.output and "Traceback" not in result.output
    assert target.read_text(encoding="utf-8") == "x"


def test_out_in_a_read_only_place_is_a_one_line_error(nan_layer, tmp_path, monkeypatch):
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(tmp_path)
                        else real(p, mode))  # root ignores chmod: simulate the refusal
    result = CliRunner().invoke(cli, ["validate", str(nan_layer), "--out",
                                      str(tmp_path / "findings.gpkg")])
    assert result.exit_code == 2 and "not writable" in result.output
    assert not (tmp_path / "findings.gpkg").exists()


def test_a_temporary_file_that_cannot_be_made_is_an_input_error(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkdtemp", refuse)
    with pytest.raises(InputError, match="cannot write in the output folder: Permission denied"):
        with atomic_output(tmp_path / "x.gpkg"):
            pass

"""The library never names a command-line flag: its errors say what to set in Python terms
(``str``) and the command line prints the flag (``InputError.cli_message``)."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import box

from gridkit.codes import load_divisions
from gridkit.data import GUANGZHOU_CODES
from gridkit.errors import InputError
from gridkit.fix import fix
from gridkit.io import read_layer, resolve_columns
from gridkit.io.postgis import read_postgis_layer
from gridkit.scoring import parse_evaluation, score
from gridkit.synth import synthesize
from gridkit.synth.city import allocate, select_districts

COMM = "440104001001"
GRIDS = gpd.GeoDataFrame({"grid_code": [f"{COMM}001"], "grid_name": ["一"],
                          "community_code": [COMM]}, geometry=[box(0, 0, 100, 100)], crs=4547)
OUTLINE = gpd.GeoDataFrame({"community_code": [COMM]}, geometry=[box(0, 0, 100, 100)],
                           crs=4547)
INDICATOR = {"id": "f", "name": "F", "points": 20, "method": "positive", "target": 0.9,
             "metric": "filing_rate"}
EVALUATION = {"parts": [{"name": "P", "weight": 1, "max": 20,
                         "groups": [{"name": "G", "indicators": [INDICATOR]}]}]}


def _two_layers(tmp_path):
    path = tmp_path / "two.gpkg"
    GRIDS.to_file(path, layer="grids")
    OUTLINE.to_file(path, layer="communities")
    return path


CASES = {
    "fix reference rule": (lambda tmp: fix(GRIDS, OUTLINE, overlap_rule="reference"),
                           "give it with reference", "give it with --reference"),
    "fix unknown rule": (lambda tmp: fix(GRIDS, OUTLINE, overlap_rule="nearest"),
                         "give overlap_rule one of", "give --overlap-rule one of"),
    "column not in file": (lambda tmp: resolve_columns(["WGBM"], "grids", {"grid_code": "BM"}),
                           "columns={'grid_code': 'BM'}", "--column grid_code=BM"),
    "unknown canonical": (lambda tmp: resolve_columns(["WGBM"], "grids", {"code": "WGBM"}),
                          "columns={'code': 'WGBM'}", "--column code=WGBM"),
    "missing column": (lambda tmp: resolve_columns(["名称"], "grids"),
                       "map one with columns={'grid_code': 'NAME'}",
                       "map one with --column grid_code=NAME"),
    "two columns mean one": (lambda tmp: resolve_columns(["WGBM", "网格编码"], "grids"),
                             "columns={'grid_code': 'NAME'}", "--column grid_code=NAME"),
    "unknown district": (lambda tmp: select_districts(["440199"], load_divisions(
        GUANGZHOU_CODES)), "districts takes codes among", "--districts takes codes among"),
    "too few grids": (lambda tmp: allocate(2, ["440104"], load_divisions(GUANGZHOU_CODES), None),
                      "give grids at least", "give --grids at least"),
    "negative size": (lambda tmp: synthesize(tmp / "s", grids=-1), "give another grids",
                      "give another --grids"),
    "table named twice": (lambda tmp: read_postgis_layer("postgresql://gk@h/db?table=a", "b"),
                          "either as ?table= or with layer", "either as ?table= or with --layer"),
    "several layers": (lambda tmp: read_layer(_two_layers(tmp)), "choose one with layer",
                       "choose one with --layer"),
    "no metrics": (lambda tmp: score(parse_evaluation(EVALUATION)),
                   "JSON with metrics", "JSON with --metrics"),
}


@pytest.mark.parametrize("case", CASES)
def test_library_errors_name_parameters_and_the_cli_prints_flags(case, tmp_path):
    call, python, cli = CASES[case]
    with pytest.raises(InputError) as err:
        call(tmp_path)
    assert python in str(err.value) and "--" not in str(err.value)
    assert cli in err.value.cli_message()

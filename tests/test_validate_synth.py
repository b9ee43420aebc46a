"""``gridkit validate`` against ``gridkit synth`` output and its truth.json.

For every injected defect some finding has its rule and contains its grid
codes; every error names a grid of some defect; a layer without defects has
no error; the GCJ-02 copy of the layer is reported as ``layer_offset`` gcj02.
"""

from __future__ import annotations

import json

import pytest
from helpers.cli import run_cli

from gridkit.io import read_layer
from gridkit.synth import synthesize
from gridkit.validate import validate

SIZE = {"grids": 300, "events": 0, "districts": ["440104"]}


@pytest.fixture(scope="module")
def defective(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synth") / "defects"
    truth = synthesize(folder, seed=11, defects=True, **SIZE)
    return folder, truth


def validate_json(folder, layer: str) -> dict:
    result = run_cli(*[
        "validate", str(folder / layer), "--communities", str(folder / "communities.gpkg"),
        "--reference", str(folder / "reference.gpkg"), "--format", "json", "--lang", "en"])
    assert result.exit_code == 1, result.output
    return json.loads(result.output)


def test_every_defect_is_found_and_no_error_on_clean_grids(defective):
    folder, truth = defective
    findings = validate_json(folder, "grids.gpkg")["findings"]
    defects = [d for d in truth["defects"] if d["rule"] != "layer_offset"]
    assert len({d["rule"] for d in defects}) == 19  # every rule but layer_offset
    missed = [d for d in defects
              if not any(f["rule"] == d["rule"] and set(d["grid_codes"]) <= set(f["grid_codes"])
                         for f in findings)]
    assert missed == []
    touched = {c for d in truth["defects"] for c in d["grid_codes"]}
    stray = [f for f in findings if f["severity"] == "error" and not set(f["grid_codes"]) & touched]
    assert stray == []


def test_gcj02_copy_is_a_layer_offset(defective):
    folder, truth = defective
    (entry,) = [d for d in truth["defects"] if d["rule"] == "layer_offset"]
    findings = validate_json(folder, entry["file"])["findings"]
    offsets = [f for f in findings if f["rule"] == "layer_offset"]
    assert len(offsets) == 1 and offsets[0]["offset_crs"] == entry["crs"] == "gcj02"
    touched = {c for d in truth["defects"] for c in d["grid_codes"]}
    stray = [f for f in findings if f["severity"] == "error" and f["rule"] != "layer_offset"
             and not set(f["grid_codes"]) & touched]
    assert stray == []


def test_layer_without_defects_has_no_error(tmp_path):
    folder = tmp_path / "clean"
    synthesize(folder, seed=12, **SIZE)
    result = validate(read_layer(folder / "grids.gpkg"),
                      read_layer(folder / "communities.gpkg", "communities"),
                      read_layer(folder / "reference.gpkg", "reference"))
    assert result.errors == 0, result.findings[["rule", "grid_codes", "message"]]

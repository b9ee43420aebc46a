"""Any Chinese city out of the box (issue 12, points 4 and 6).

The packaged sample (Guangzhou, synth-made, with injected defects) is moved in
metres to Beijing's Dongcheng/Xicheng and every code is recoded with real
Beijing community codes of the national list (streets to streets,
communities to communities). ``gridkit validate`` with nothing but the files
must pick Beijing's metric CRS itself, raise no false code_unknown_community,
and find the same defects; ``gridkit coverage --by street`` names Beijing streets.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from click.testing import CliRunner

from gridkit.cli import cli
from gridkit.codes import load_divisions
from gridkit.data import SAMPLE_DIR

SAMPLE = SAMPLE_DIR
TARGET_CENTRE = (116.40, 39.92)  # lon, lat: central Beijing
TARGET_CRS = "EPSG:4548"  # CGCS2000 3-degree GK, CM 117E


def _mapping(codes: pd.Series) -> dict[str, str]:
    """Guangzhou community code → a real Beijing community code, street by street."""
    national = load_divisions()
    beijing = national[(national["level"] == "community")
                       & national["code"].str.startswith("1101")]
    by_street = beijing.groupby("parent_code")["code"].apply(sorted)
    wanted = pd.Series(sorted(set(codes))).groupby(lambda i: sorted(set(codes))[i][:9]).apply(
        list)
    streets = iter([s for s, c in by_street.items() if len(c) >= wanted.map(len).max()])
    return {old: new for olds in wanted for old, new in zip(olds, by_street[next(streets)])}


def _recode(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """Replace a known 12-digit community prefix, keep everything else (defects included)."""
    text = values.astype(object).where(values.notna(), None)
    return text.map(lambda v: mapping[v[:12]] + v[12:]
                    if isinstance(v, str) and v[:12] in mapping else v)


def _move(layer: gpd.GeoDataFrame, dx: float, dy: float) -> gpd.GeoDataFrame:
    """The layer in EPSG:4547 metres shifted by dx, dy and read as EPSG:4548, then lon/lat."""
    metric = layer.to_crs(4547)
    moved = metric.geometry.translate(dx, dy).set_crs(TARGET_CRS, allow_override=True)
    return metric.set_geometry(moved).to_crs(4490)


@pytest.fixture(scope="module")
def cities(tmp_path_factory):
    folder = tmp_path_factory.mktemp("beijing")
    grids = gpd.read_file(SAMPLE / "grids.gpkg")
    communities = gpd.read_file(SAMPLE / "communities.gpkg")
    reference = gpd.read_file(SAMPLE / "reference.gpkg")
    real = set(load_divisions()["code"])
    mapping = _mapping(communities["community_code"][communities["community_code"].isin(real)])
    centre = np.array(grids.to_crs(4547).total_bounds).reshape(2, 2).mean(axis=0)
    target = pyproj.Transformer.from_crs(4490, TARGET_CRS, always_xy=True).transform(
        *TARGET_CENTRE)
    dx, dy = np.array(target) - centre
    out = {}
    for name, layer in (("grids", grids), ("communities", communities),
                        ("reference", reference)):
        layer = _move(layer, dx, dy)
        for column in ("grid_code", "community_code"):
            if column in layer:
                layer[column] = _recode(layer[column], mapping)
        for column, length in (("street_code", 9), ("district_code", 6)):
            if column in layer:
                layer[column] = layer["community_code"].str.slice(0, length)
        out[name] = folder / f"{name}.gpkg"
        layer.to_file(out[name])
    for table in ("filings", "party", "cadres", "workers"):
        frame = pd.read_csv(SAMPLE / f"{table}.csv", dtype=str)
        frame["grid_code"] = _recode(frame["grid_code"], mapping)
        out[table] = folder / f"{table}.csv"
        frame.to_csv(out[table], index=False)
    return out, mapping


def _validate(grids, communities, reference) -> dict:
    result = CliRunner().invoke(cli, ["validate", str(grids), "--communities", str(communities),
                                      "--reference", str(reference), "--format", "json"])
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)


def test_beijing_layer_validates_like_the_original_with_only_the_files(cities):
    files, mapping = cities
    original = _validate(SAMPLE / "grids.gpkg", SAMPLE / "communities.gpkg",
                         SAMPLE / "reference.gpkg")
    moved = _validate(files["grids"], files["communities"], files["reference"])
    assert original["metric_crs"] == "EPSG:4547" and moved["metric_crs"] == TARGET_CRS
    assert moved["by_rule"] == original["by_rule"]
    # the one unknown community is the sample's injected fake code, as in Guangzhou
    unknown = [f["grid_codes"] for f in moved["findings"]
               if f["rule"] == "code_unknown_community"]
    assert unknown == [f["grid_codes"] for f in original["findings"]
                       if f["rule"] == "code_unknown_community"]
    recode = _recode(pd.Series([c for f in original["findings"] for c in f["grid_codes"]]),
                     mapping)
    expected = iter(recode.tolist())
    want = sorted((f["rule"], tuple(sorted(next(expected) for _ in f["grid_codes"])),
                   f["area_m2"] or 0.0) for f in original["findings"])
    got = sorted((f["rule"], tuple(f["grid_codes"]), f["area_m2"] or 0.0)
                 for f in moved["findings"])
    assert [w[:2] for w in want] == [g[:2] for g in got]
    assert np.allclose([w[2] for w in want], [g[2] for g in got], rtol=2e-3, atol=1.0)
    assert not any("4547" in f["message"] for f in moved["findings"])


def test_beijing_coverage_by_street_names_beijing_streets(cities):
    files, _ = cities
    result = CliRunner().invoke(cli, [
        "coverage", str(files["grids"]), "--filings", str(files["filings"]),
        "--party", str(files["party"]), "--cadres", str(files["cadres"]),
        "--workers", str(files["workers"]), "--by", "street", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    names = dict(zip(load_divisions()["code"], load_divisions()["name"]))
    known = [r for r in rows if r["code"] in names]
    assert len(known) >= len(rows) - 1 and all(r["code"].startswith("1101") for r in known)
    assert all(r["name"] == names[r["code"]] for r in known)

"""Maintainer tools live in tools/ (not installed): the package data holds no scripts, and
tools/make_last_year.py still makes the sample's last-year.gpkg."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import shapely

from gridkit.data import SAMPLE_DIR, data_path

ROOT = Path(__file__).resolve().parent.parent


def test_package_data_holds_no_scripts():
    data = Path(data_path("sample")).parent
    scripts = [p.relative_to(data) for p in data.rglob("*.py") if p.name != "__init__.py"]
    assert scripts == []


def test_make_last_year_reproduces_the_packaged_layer(tmp_path):
    out = tmp_path / "last-year.gpkg"
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_last_year.py"), "--out", str(out)],
                   check=True, capture_output=True)
    made = gpd.read_file(out)
    packaged = gpd.read_file(SAMPLE_DIR / "last-year.gpkg")
    assert made.drop(columns="geometry").equals(packaged.drop(columns="geometry"))
    assert list(shapely.to_wkb(made.geometry.values)) == list(
        shapely.to_wkb(packaged.geometry.values))  # empty geometries (None) included

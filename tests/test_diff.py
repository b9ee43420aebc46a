"""``gridkit diff``: every kind of change classified right, with exact areas, in any row order."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from shapely import box

from gridkit.cli import cli
from gridkit.diff import CHANGE_KINDS, diff, refile_list

X0, Y0 = 430_000.0, 2_560_000.0  # EPSG:4547, Guangzhou
COMM = "440104001001"


def _code(n: int) -> str:
    return f"{COMM}{n:03d}"


def _cell(col: int, row: int, width: float = 100.0) -> shapely.Polygon:
    return box(X0 + col * 100, Y0 - (row + 1) * 100, X0 + col * 100 + width, Y0 - row * 100)


def _jitter(geom: shapely.Polygon, rng: np.random.Generator, amount: float) -> shapely.Polygon:
    """Digitising noise: vertices every 10 m, each moved by up to ``amount`` metres."""
    ring = shapely.get_coordinates(shapely.segmentize(geom, 10.0).exterior)[:-1]
    return shapely.Polygon(ring + rng.uniform(-amount, amount, ring.shape))


def _layer(rows: list[tuple[str, shapely.Geometry]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"grid_code": [c for c, _ in rows],
                             "grid_name": [f"网格{c[-3:]}" for c, _ in rows],
                             "community_code": [COMM] * len(rows)},
                            geometry=[g for _, g in rows], crs=4547)


@pytest.fixture(scope="module")
def layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A 6 × 4 block of 100 m grids and its next version with one change of every kind.

    Old cells (col, row) → serial 1 + row * 6 + col. Changes:
    split 1 → 1 + 31; merged 2, 3 → 2; recoded 4 → 41; reshaped 7 (+10 m) and 8 (−10 m);
    removed 24; added 50 (east of the block); redrawn 13, 14 → 13, 42, 43 (three strips);
    every other grid unchanged but with ±0.1 m vertex jitter.
    """
    rng = np.random.default_rng(5)
    old = [(_code(1 + r * 6 + c), _cell(c, r)) for r in range(4) for c in range(6)]
    geom = dict(old)
    new = [
        (_code(1), _cell(0, 0, 40)),
        (_code(31), box(X0 + 40, Y0 - 100, X0 + 100, Y0)),
        (_code(2), shapely.union(geom[_code(2)], geom[_code(3)])),
        (_code(41), geom[_code(4)]),
        (_code(7), box(X0, Y0 - 200, X0 + 110, Y0 - 100)),
        (_code(8), box(X0 + 110, Y0 - 200, X0 + 200, Y0 - 100)),
        (_code(50), box(X0 + 600, Y0 - 100, X0 + 700, Y0)),
        (_code(13), box(X0, Y0 - 300, X0 + 200 / 3, Y0 - 200)),
        (_code(42), box(X0 + 200 / 3, Y0 - 300, X0 + 400 / 3, Y0 - 200)),
        (_code(43), box(X0 + 400 / 3, Y0 - 300, X0 + 200, Y0 - 200)),
    ]
    changed = {1, 2, 3, 4, 7, 8, 13, 14, 24}
    new += [(c, _jitter(g, rng, 0.1)) for c, g in old if int(c[-3:]) not in changed]
    return _layer(old), _layer(new)


EXPECTED = {
    ("split", (_code(1),), (_code(1), _code(31)), 10_000.0),
    ("merged", (_code(2), _code(3)), (_code(2),), 20_000.0),
    ("recoded", (_code(4),), (_code(41),), 10_000.0),
    ("reshaped", (_code(7),), (_code(7),), 11_000.0),
    ("reshaped", (_code(8),), (_code(8),), 9_000.0),
    ("removed", (_code(24),), (), 10_000.0),
    ("added", (), (_code(50),), 10_000.0),
    ("redrawn", (_code(13), _code(14)), (_code(13), _code(42), _code(43)), 20_000.0),
}


def test_every_change_classified_with_exact_areas(layers):
    old, new = layers
    result = diff(old, new).to_dict()
    assert result["old"] == 24 and result["new"] == 25
    changed = {(c["change"], tuple(c["old_codes"]), tuple(c["new_codes"]), c["area_m2"])
               for c in result["changes"] if c["change"] != "unchanged"}
    assert changed == EXPECTED
    unchanged = [c for c in result["changes"] if c["change"] == "unchanged"]
    assert len(unchanged) == 15  # the jittered grids: noise is absorbed
    assert all(c["old_codes"] == c["new_codes"] for c in unchanged)
    assert all(c["community_code"] == COMM for c in result["changes"])
    assert result["by_change"] == {"unchanged": 15, "recoded": 1, "reshaped": 2, "split": 1,
                                   "merged": 1, "redrawn": 1, "added": 1, "removed": 1}
    assert list(result["by_change"]) == list(CHANGE_KINDS)
    assert set(result) == {"old", "new", "by_change", "changes"}
    assert set(result["changes"][0]) == {"change", "old_codes", "new_codes", "area_m2",
                                         "community_code"}


def test_every_grid_is_in_exactly_one_change(layers):
    old, new = layers
    changes = diff(old, new).changes
    assert sorted(changes["old_codes"].sum()) == sorted(old["grid_code"])
    assert sorted(changes["new_codes"].sum()) == sorted(new["grid_code"])


def test_row_order_does_not_change_the_result(layers):
    old, new = layers
    expected = diff(old, new).to_dict()
    for seed in (1, 2):
        shuffled = diff(old.sample(frac=1, random_state=seed).reset_index(drop=True),
                        new.sample(frac=1, random_state=seed + 10).reset_index(drop=True))
        assert shuffled.to_dict() == expected


def test_a_layer_against_itself_in_another_crs_is_unchanged(layers):
    old, _ = layers
    result = diff(old, old.to_crs(4490)).to_dict()
    assert result["by_change"]["unchanged"] == 24


def test_a_larger_jitter_is_a_reshape_not_noise(layers):
    old, _ = layers
    moved = old.copy()
    moved.loc[0, "geometry"] = shapely.affinity.translate(moved.geometry[0], 8, 0)
    result = diff(old, moved).to_dict()
    assert [c["old_codes"] for c in result["changes"] if c["change"] == "reshaped"] \
        == [[_code(1)]]


def test_refile_list_names_changed_grids_without_a_later_filing(layers):
    old, new = layers
    result = diff(old, new)
    filings = pd.DataFrame({
        "grid_code": [_code(31), _code(41), _code(2), _code(9)],
        "filed_on": pd.to_datetime(["2024-02-01", "2023-06-01", "2024-01-01", "2023-01-01"]),
        "status": ["filed", "filed", "pending", "filed"],
    })
    work = refile_list(result, filings, pd.Timestamp("2024-01-01"))
    expected = {_code(n) for n in (1, 2, 7, 8, 13, 41, 42, 43, 50)}  # 31 filed after the change
    assert set(work["grid_code"]) == expected
    assert work.set_index("grid_code").loc[_code(41), "last_filed_on"] == pd.Timestamp(
        "2023-06-01")
    assert work["grid_code"].is_monotonic_increasing


def _write(tmp_path, layers):
    old, new = layers
    old.to_file(tmp_path / "old.gpkg")
    new.to_file(tmp_path / "new.gpkg")
    return str(tmp_path / "old.gpkg"), str(tmp_path / "new.gpkg")


def test_cli_json_csv_gpkg_and_filings(tmp_path, layers):
    old, new = _write(tmp_path, layers)
    filings = tmp_path / "filings.csv"
    filings.write_text(f"grid_code,filed_on,status\n{_code(31)},2024-02-01,filed\n",
                       encoding="utf-8")
    runner = CliRunner()
    out = runner.invoke(cli, ["diff", old, new, "--format", "json", "--out",
                              str(tmp_path / "changes.gpkg"), "--filings", str(filings),
                              "--changed-on", "2024-01-01"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["by_change"]["split"] == 1
    assert _code(31) not in {r["grid_code"] for r in data["refile"]}
    layer = gpd.read_file(tmp_path / "changes.gpkg", layer="changes")
    assert len(layer) == len(data["changes"]) and layer.crs.to_epsg() == 4490
    written = runner.invoke(cli, ["diff", old, new, "--out", str(tmp_path / "changes.csv")])
    assert written.exit_code == 0, written.output
    rows = pd.read_csv(tmp_path / "changes.csv", dtype=str)
    assert (rows["change"] == "redrawn").sum() == 1
    assert rows.loc[rows["change"] == "merged", "old_codes"].tolist() == [
        f"{_code(2)};{_code(3)}"]
    csv = runner.invoke(cli, ["diff", old, new, "--format", "csv"])
    assert csv.output.splitlines()[0] == "change,old_codes,new_codes,area_m2,community_code"
    table = runner.invoke(cli, ["diff", old, new])
    assert "拆分" in table.output and "合并" in table.output


@pytest.mark.parametrize("args, message", [
    (["--filings", "f.csv"], "--changed-on"),
    (["--out", "changes.txt"], ".gpkg or .csv"),
])
def test_cli_bad_options_exit_2(tmp_path, layers, args, message):
    old, new = _write(tmp_path, layers)
    out = CliRunner().invoke(cli, ["diff", old, new, *args])
    assert out.exit_code == 2 and message in out.output and "Traceback" not in out.output


def test_cli_bad_date_and_existing_output(tmp_path, layers):
    old, new = _write(tmp_path, layers)
    filings = tmp_path / "filings.csv"
    filings.write_text("grid_code,filed_on,status\n", encoding="utf-8")
    out = CliRunner().invoke(cli, ["diff", old, new, "--filings", str(filings),
                                   "--changed-on", "next year"])
    assert out.exit_code == 2 and "--changed-on" in out.output
    (tmp_path / "changes.csv").write_text("keep", encoding="utf-8")
    out = CliRunner().invoke(cli, ["diff", old, new, "--out", str(tmp_path / "changes.csv")])
    assert out.exit_code == 2 and "--force" in out.output
    assert (tmp_path / "changes.csv").read_text(encoding="utf-8") == "keep"


def test_docstring_examples_hold():
    import doctest

    import gridkit.diff

    result = doctest.testmod(gridkit.diff, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0

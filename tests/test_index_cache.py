"""The on-disk cache of lookup rasters: hit, miss after the layer changes, corrupt file rebuilt."""

import json

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from helpers.events_data import layer
from shapely import box

from gridkit import index_cache
from gridkit.cli import cli
from gridkit.errors import InputError
from gridkit.join import GridIndex


def squares(n=4, shift=0.0):
    return [box(i + shift, j, i + 1 + shift, j + 1) for j in range(n) for i in range(n)]


def points(seed=0, m=5000):
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.5, 4.5, m), rng.uniform(-0.5, 4.5, m)


def built(monkeypatch) -> list[int]:
    """Count the raster builds from now on."""
    calls = []
    original = GridIndex._build_raster

    def counting(self, *args):
        calls.append(1)
        return original(self, *args)

    monkeypatch.setattr(GridIndex, "_build_raster", counting)
    return calls


def test_hit_loads_the_stored_raster_instead_of_building(tmp_path, monkeypatch):
    calls = built(monkeypatch)
    x, y = points()
    first = GridIndex(squares(), method="raster", cache=tmp_path)
    assert len(calls) == 1 and len(list(tmp_path.glob("gridindex-*.bin"))) == 1
    second = GridIndex(squares(), method="raster", cache=tmp_path)
    assert len(calls) == 1  # loaded, not built
    np.testing.assert_array_equal(second._raster, first._raster)
    np.testing.assert_array_equal(second.locate(x, y), first.locate(x, y))
    np.testing.assert_array_equal(second.locate(x, y),
                                  GridIndex(squares(), method="strtree").locate(x, y))


def test_changed_layer_or_options_miss(tmp_path, monkeypatch):
    calls = built(monkeypatch)
    GridIndex(squares(), method="raster", cache=tmp_path)
    moved = GridIndex(squares(shift=0.25), method="raster", cache=tmp_path)
    assert len(calls) == 2
    x, y = points(1)
    np.testing.assert_array_equal(moved.locate(x, y),
                                  GridIndex(squares(shift=0.25), method="strtree").locate(x, y))
    GridIndex(squares()[::-1], method="raster", cache=tmp_path)  # other order: other positions
    GridIndex(squares(), method="raster", cells_per_grid=16, cache=tmp_path)
    assert len(calls) == 4
    assert len(list(tmp_path.glob("gridindex-*.bin"))) == 4


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_cache_file_is_rebuilt_not_a_crash(tmp_path, monkeypatch, damage):
    GridIndex(squares(), method="raster", cache=tmp_path)
    (path,) = tmp_path.glob("gridindex-*.bin")
    data = path.read_bytes()
    path.write_bytes({"garbage": b"\x93NUMPY garbage" * 10, "truncated": data[: len(data) // 2],
                      "empty": b""}[damage])
    calls = built(monkeypatch)
    index = GridIndex(squares(), method="raster", cache=tmp_path)
    assert len(calls) == 1
    x, y = points(2)
    np.testing.assert_array_equal(index.locate(x, y),
                                  GridIndex(squares(), method="strtree").locate(x, y))
    GridIndex(squares(), method="raster", cache=tmp_path)  # the file was replaced: a hit
    assert len(calls) == 1


def test_stored_arrays_that_do_not_fit_the_layer_are_rebuilt(tmp_path, monkeypatch):
    key = index_cache.index_key(np.array(squares(), dtype=object), (256, 1 << 24))
    index_cache.store_index(tmp_path, key, {"_origin": np.zeros(2), "_cell": np.float64(1.0),
                                            "_shape": np.array([1, 1]),
                                            "_raster": np.array([[99]], np.int32),
                                            "_candidates": np.zeros(0, np.int64),
                                            "_cand_ptr": np.zeros(1, np.int64)})
    calls = built(monkeypatch)
    index = GridIndex(squares(), method="raster", cache=tmp_path)
    assert len(calls) == 1 and index.locate([0.5], [0.5]).tolist() == [0]


def test_key_depends_on_vertices_order_and_options():
    geoms = np.array(squares(), dtype=object)
    key = index_cache.index_key(geoms, (256,))
    assert key == index_cache.index_key(np.array(squares(), dtype=object), (256,))
    moved = geoms.copy()
    moved[5] = shapely.box(1, 1, 2, 2.000001)
    assert index_cache.index_key(moved, (256,)) != key
    assert index_cache.index_key(geoms[::-1], (256,)) != key
    assert index_cache.index_key(geoms, (64,)) != key
    with_missing = geoms.copy()
    with_missing[0] = None
    assert index_cache.index_key(with_missing, (256,)) != key


def test_unwritable_cache_folder_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="index cache: cannot write"):
        GridIndex(squares(), method="raster", cache=blocker / "sub")


def test_cli_index_cache_gives_the_same_result(tmp_path):
    grids, events = tmp_path / "grids.gpkg", tmp_path / "events.parquet"
    layer().to_file(grids)
    rng = np.random.default_rng(3)
    m = 2000  # enough events per grid for the raster (the row count is in the footer)
    pd.DataFrame({"event_id": [f"e{k}" for k in range(m)],
                  "lon": rng.uniform(112.995, 113.035, m), "lat": rng.uniform(22.995, 23.015, m),
                  "reported_at": pd.Timestamp("2023-05-01 08:00")}).to_parquet(events)
    runner = CliRunner()
    args = ["events", str(grids), str(events), "--by", "grid", "--format", "json"]
    plain = runner.invoke(cli, args)
    assert plain.exit_code == 0, plain.output
    cache = tmp_path / "cache"
    for stored in (0, 1):  # miss (built and stored), then hit
        assert len(list(cache.glob("gridindex-*.bin"))) == stored
        cached = runner.invoke(cli, [*args, "--index-cache", str(cache)])
        assert cached.exit_code == 0, cached.output
        assert json.loads(cached.output) == json.loads(plain.output)
    assert json.loads(plain.output)["located"] > 0
    bad = runner.invoke(cli, [*args, "--index-cache", str(cache), "--engine", "dask"])
    assert bad.exit_code == 2 and "--index-cache" in bad.output

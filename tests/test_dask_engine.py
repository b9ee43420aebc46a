"""The dask engine gives exactly the local engine's results: per-grid counts, metrics,
roll-up rows, findings and the joined-events file (in event order).

One local cluster (two worker processes) serves the module; the tests are
skipped, with the reason, when distributed cannot start one here.
"""

import json
import logging
import pickle

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

pytest.importorskip("dask_geopandas")
pytest.importorskip("distributed")

from gridkit.cli import cli  # noqa: E402
from gridkit.errors import InputError  # noqa: E402
from gridkit.events import EventParams, join_events  # noqa: E402
from gridkit.events.dask_engine import dask_client, join_events_dask  # noqa: E402
from gridkit.io import read_layer  # noqa: E402
from gridkit.join import GridIndex  # noqa: E402

PARTITION_ROWS = 700  # 3,000 events: five partitions, so the sums and the merge are exercised


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """A small synthetic city with defects (overlaps, invalid and multipart grids)."""
    from gridkit.synth import synthesize

    folder = tmp_path_factory.mktemp("city")
    synthesize(folder, grids=300, events=3000, seed=7, defects=True,
               districts=["440104", "440105"])
    return folder


@pytest.fixture(scope="module")
def client():
    try:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.CRITICAL,
                               scheduler_kwargs={"dashboard_address": ":0"})
    except Exception as exc:  # no processes, no sockets, ...: the engine cannot run here
        pytest.skip(f"distributed cannot start a local cluster here: {exc}")
    with cluster, Client(cluster) as connected:
        yield connected


def assert_same(local, dask):
    assert dask.metrics == local.metrics
    pd.testing.assert_frame_equal(dask.per_grid, local.per_grid)
    pd.testing.assert_frame_equal(dask.rows, local.rows)
    assert dask.findings == local.findings
    assert dask.to_dict() == local.to_dict()


@pytest.mark.parametrize("spatial", [True, False])
def test_same_counts_metrics_and_joined_file(city, client, tmp_path, spatial):
    layer = read_layer(city / "grids.gpkg")
    params = EventParams(chunk_rows=PARTITION_ROWS, by="street", spatial=spatial)
    local = join_events(layer, city / "events.parquet", params, out=tmp_path / "local.parquet")
    dask = join_events_dask(layer, city / "events.parquet", params,
                            out=tmp_path / "dask.parquet", client=client)
    assert_same(local, dask)
    assert local.metrics["outside"] and local.metrics["unlocatable"]  # findings exercised
    joined = pd.read_parquet(tmp_path / "dask.parquet")
    pd.testing.assert_frame_equal(joined, pd.read_parquet(tmp_path / "local.parquet"))
    events = pd.read_parquet(city / "events.parquet", columns=["event_id"])
    assert joined["event_id"].tolist() == events["event_id"].tolist()  # event order


def test_spatial_partitions_are_compact_and_mixed_in_time(city, client):
    from gridkit.events import prepare_events
    from gridkit.events.dask_engine import event_partitions, spatially_partitioned

    layer = read_layer(city / "grids.gpkg")
    prepared, _, _ = prepare_events(layer, city / "events.parquet", EventParams())
    frame, rows = event_partitions(client, city / "events.parquet",
                                   partition_rows=PARTITION_ROWS)
    assert rows == 3000 and frame.npartitions == 5
    parts = [f.result() for f in client.compute(
        spatially_partitioned(frame, prepared, frame.npartitions).to_delayed())]
    assert sorted(np.concatenate([p["_row"].to_numpy() for p in parts]).tolist()) == \
        list(range(3000))
    spans = [p["_row"].max() - p["_row"].min() for p in parts if len(p)]
    assert min(spans) > 2000  # each partition holds events from all over the file
    hilbert = [(p.index.min(), p.index.max()) for p in parts if len(p)]
    assert all(a[1] <= b[0] for a, b in zip(hilbert, hilbert[1:]))  # curve ranges in order


def test_csv_events_and_errors_raised_on_workers(city, client, tmp_path):
    layer = read_layer(city / "grids.gpkg")
    events = pd.read_parquet(city / "events.parquet")
    events.to_csv(tmp_path / "events.csv", index=False)
    params = EventParams(chunk_rows=PARTITION_ROWS)
    local = join_events(layer, tmp_path / "events.csv", params)
    dask = join_events_dask(layer, tmp_path / "events.csv", params, client=client)
    assert_same(local, dask)

    bad = events.copy()
    bad.loc[2500, "dispatched_at"] = bad.loc[2500, "reported_at"] - pd.Timedelta(hours=1)
    bad.to_parquet(tmp_path / "bad.parquet", row_group_size=1000)
    with pytest.raises(InputError, match=r"bad.parquet: column 'dispatched_at', row 2501"):
        join_events_dask(layer, tmp_path / "bad.parquet", params, client=client)


def test_export_options_give_the_same_numbers_on_dask(city, client, tmp_path):
    """US dates, a time zone and bad rows skipped: the dask engine types each partition
    on its worker exactly as the local engine types each chunk."""
    fmt = "%m/%d/%Y %I:%M:%S %p"
    events = pd.read_parquet(city / "events.parquet")
    for column in ("reported_at", "dispatched_at", "closed_at"):
        events[column] = events[column].dt.strftime(fmt)
    events.loc[[5, 1234], "closed_at"] = "01/01/1900 12:00:00 AM"  # placeholders
    events.loc[2999, "dispatched_at"] = "soon"
    events.to_csv(tmp_path / "export.csv", index=False)
    params = EventParams(chunk_rows=PARTITION_ROWS, date_formats=[fmt], tz="Asia/Urumqi",
                         bad_rows="skip")
    local = join_events(layer := read_layer(city / "grids.gpkg"), tmp_path / "export.csv", params)
    dask = join_events_dask(layer, tmp_path / "export.csv", params, client=client)
    assert_same(local, dask)
    assert local.metrics["rejected"] == 3
    pd.testing.assert_frame_equal(dask.rejects, local.rejects)


def test_cli_engine_dask_matches_local(city, tmp_path):
    """As the user runs it: its own local cluster (one worker here, to stay quick)."""
    common = [str(city / "grids.gpkg"), str(city / "events.parquet"), "--format", "json",
              "--chunk-rows", str(PARTITION_ROWS)]
    local = CliRunner().invoke(cli, ["events", *common, "--out", str(tmp_path / "a.parquet")])
    assert local.exit_code == 0, local.output
    dask = CliRunner().invoke(cli, ["events", *common, "--engine", "dask", "--workers", "1",
                                    "--out", str(tmp_path / "b.parquet")])
    if dask.exit_code != 0 and "cluster" in str(dask.exception or ""):
        pytest.skip(f"distributed cannot start a local cluster here: {dask.exception}")
    assert dask.exit_code == 0, dask.output
    assert json.loads(dask.stdout) == json.loads(local.stdout)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "b.parquet"),
                                  pd.read_parquet(tmp_path / "a.parquet"))


def test_bad_scheduler_and_options_are_input_errors(city):
    with pytest.raises(InputError, match="cannot connect to the dask scheduler at tcp://"):
        with dask_client("tcp://127.0.0.1:9", timeout=0.5):
            pass
    result = CliRunner().invoke(cli, ["events", str(city / "grids.gpkg"),
                                      str(city / "events.parquet"),
                                      "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2 and "--scheduler needs --engine dask" in result.output
    with pytest.raises(InputError, match="unknown engine"):
        EventParams(engine="spark")
    with pytest.raises(InputError, match=r"\.parquet"):  # refused before any cluster starts
        join_events_dask(read_layer(city / "grids.gpkg"), city / "events.parquet",
                         EventParams(engine="dask"), out=city / "joined.csv")


def test_index_and_errors_survive_pickling(city):
    """What dask sends to workers and back: the prepared index and InputError."""
    layer = read_layer(city / "grids.gpkg")
    index = GridIndex(layer.geometry.to_numpy(), method="raster")
    copy = pickle.loads(pickle.dumps(index))
    rng = np.random.default_rng(1)
    x0, y0, x1, y1 = layer.total_bounds
    x, y = rng.uniform(x0, x1, 20_000), rng.uniform(y0, y1, 20_000)
    np.testing.assert_array_equal(copy.locate(x, y), index.locate(x, y))
    assert copy.has_raster
    error = pickle.loads(pickle.dumps(InputError("bad", path="e.csv", column="lon", row=3)))
    assert (str(error), error.row, error.column) == ("e.csv: column 'lon', row 3: bad", 3, "lon")

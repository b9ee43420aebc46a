"""Pieces of the scalable events path: column selection, Parquet row ranges, fast code
cleaning, order-independent counts, the file-level engine entry point and its progress bar."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_events import A, B, C, T, events, layer

from gridkit.errors import InputError
from gridkit.events import (
    EVENT_COLUMNS,
    EventCounts,
    EventGrids,
    EventParams,
    accumulate,
    compute_events,
    event_rows,
    join_chunk,
    join_events,
    latest_report,
    resolve_period_end,
    summarise,
)
from gridkit.io import parquet_row_ranges, read_events_chunks, read_events_rows
from gridkit.io.values import normalise_codes
from gridkit.join import RASTER_AFTER_POINTS_PER_GRID, GridIndex


@pytest.fixture
def stored(tmp_path):
    """The nine events of test_events with an extra column, as Parquet (row groups of 4),
    CSV and Excel."""
    data = events().assign(category="环境卫生")
    pq.write_table(pa.Table.from_pandas(data, preserve_index=False), tmp_path / "e.parquet",
                   row_group_size=4)
    data.to_csv(tmp_path / "e.csv", index=False)
    data.to_excel(tmp_path / "e.xlsx", index=False)
    return tmp_path


@pytest.mark.parametrize("name", ["e.parquet", "e.csv", "e.xlsx"])
def test_select_reads_only_the_metric_columns(stored, name):
    chunks = list(read_events_chunks(stored / name, chunk_rows=4, select=EVENT_COLUMNS))
    assert [len(c) for c in chunks] == [4, 4, 1]
    assert set(chunks[0].columns) == set(EVENT_COLUMNS)  # no category
    whole = pd.concat(chunks)
    assert whole["assigned_grid_code"].tolist()[:3] == [A, B, B]
    assert whole.index.tolist() == list(range(9))


def test_select_still_checks_required_columns(stored):
    events().drop(columns="lat").to_csv(stored / "no_lat.csv", index=False)
    with pytest.raises(InputError, match="lat"):
        next(read_events_chunks(stored / "no_lat.csv", select=EVENT_COLUMNS))


def test_parquet_row_ranges_and_rows(stored):
    ranges = parquet_row_ranges(stored / "e.parquet", 3)  # row groups of 4, 4, 1
    assert ranges == [(0, 2), (2, 4), (4, 6), (6, 9)]  # the last group joins its neighbour
    assert parquet_row_ranges(stored / "e.parquet", 9) == [(0, 9)]
    whole = pd.concat(read_events_chunks(stored / "e.parquet"))
    for start, stop in [*ranges, (3, 7), (0, 9)]:
        part = read_events_rows(stored / "e.parquet", start, stop)
        pd.testing.assert_frame_equal(part, whole.iloc[start:stop])
    empty = read_events_rows(stored / "e.parquet", 0, 0, select=EVENT_COLUMNS)
    assert len(empty) == 0 and empty["reported_at"].dtype == "datetime64[ns]"
    events().iloc[:0].to_parquet(stored / "none.parquet")
    assert parquet_row_ranges(stored / "none.parquet", 5) == [(0, 0)]
    assert event_rows(stored / "e.parquet") == 9 and event_rows(stored / "e.csv") is None
    with pytest.raises(InputError, match="Parquet"):
        parquet_row_ranges(stored / "e.csv", 5)


def test_code_cleaning_fast_path_and_slow_path_agree():
    clean = pd.Series([f"4401040{i:08d}" for i in range(50_000)], dtype="str")
    assert normalise_codes(clean).equals(clean)
    messy = clean.copy()
    messy.iloc[[7, 40_000, 49_999]] = [" 440104000000007 ", "440104000040000.0",
                                       "440104000049999\u3000"]
    messy.iloc[123] = ""
    got = normalise_codes(messy)
    assert got.iloc[[7, 40_000, 49_999]].tolist() == clean.iloc[[7, 40_000, 49_999]].tolist()
    assert pd.isna(got.iloc[123])
    messy.iloc[45_000] = "4.40104E+14"
    with pytest.raises(InputError, match=r"row 45001: code '4.40104E\+14'"):
        normalise_codes(messy)


def test_counts_and_examples_do_not_depend_on_chunk_order():
    grids = EventGrids(layer())
    params = EventParams(grids.crs, 2.0, resolve_period_end("2023-12-31"))
    data = events()
    in_order = accumulate([data.iloc[i:i + 2] for i in range(0, 9, 2)], grids, params)
    shuffled = data.iloc[[8, 2, 6, 0, 4, 7, 1, 5, 3]]  # as a spatial partition may hold them
    # parts added in an order that brings the unlocatable rows 8, 7, 6
    parts = [join_chunk(shuffled.iloc[i:i + 3], grids, params)[1] for i in (3, 0, 6)]
    total = sum(parts, EventCounts.zeros(len(grids)))
    np.testing.assert_array_equal(total.counts, in_order.counts)
    assert total.findings == in_order.findings
    assert [e["row"] for e in total.findings["unlocatable"][1]] == [6, 7, 8]
    reversed_chunk = join_chunk(data.iloc[::-1], grids, params)[1]
    assert reversed_chunk.findings == in_order.findings
    assert summarise(total, grids, params).to_dict() == summarise(in_order, grids,
                                                                  params).to_dict()


def test_first_bad_row_is_the_lowest_whatever_the_order():
    bad = events()
    bad.loc[[2, 6], "dispatched_at"] = T - pd.Timedelta(hours=1)
    grids = EventGrids(layer())
    params = EventParams(grids.crs, 2.0, resolve_period_end("2023-12-31"))
    with pytest.raises(InputError, match="row 3:"):
        join_chunk(bad.iloc[::-1], grids, params)


def test_join_events_equals_compute_events_and_writes_file_order(stored):
    expected = compute_events(layer(), events(), EventParams(period_end="2023-12-31"))
    for name in ("e.parquet", "e.csv"):
        out = stored / f"joined-{name}.parquet"
        reports = []
        result = join_events(layer(), stored / name,
                             EventParams(period_end="2023-12-31", chunk_rows=4),
                             out=out, progress=lambda *a, seen=reports: seen.append(a))
        got, want = result.to_dict(), expected.to_dict()
        assert [f.pop("path") for f in got["findings"]] == [str(stored / name)] * 2
        assert got == {**want, "findings": [{k: v for k, v in f.items() if k != "path"}
                                            for f in want["findings"]]}
        pd.testing.assert_frame_equal(pd.read_parquet(out), expected.joined)
        # Parquet: the total is known before reading; CSV: not
        total = 9 if name == "e.parquet" else None
        assert reports == [(4, total, "events"), (8, total, "events"), (9, total, "events")]
    with pytest.raises(InputError, match="overwrite the input"):
        join_events(layer(), stored / "e.parquet", out=stored / "e.parquet")
    with pytest.raises(InputError, match=r"\.parquet"):
        join_events(layer(), stored / "e.csv", out=stored / "joined.csv")
    assert latest_report(stored / "e.csv") == latest_report(stored / "e.parquet") == T


def test_latest_report_is_the_latest_in_every_format(tmp_path):
    """Parquet statistics (row groups of 4) and a pass over a CSV agree, whatever the row."""
    data = events().assign(reported_at=[T - pd.Timedelta(days=400)] * 9)
    data.loc[5, "reported_at"] = T
    data.to_parquet(tmp_path / "e.parquet", row_group_size=4)
    data.to_csv(tmp_path / "e.csv", index=False)
    assert latest_report(tmp_path / "e.parquet") == T
    assert latest_report(tmp_path / "e.csv", EventParams(chunk_rows=4)) == T


def test_expect_builds_the_raster_before_the_first_points():
    index = GridIndex([layer().geometry.iloc[i] for i in range(3)])
    index.locate([113.005], [23.005])
    assert not index.has_raster  # one point: the STRtree does
    index.expect(RASTER_AFTER_POINTS_PER_GRID * len(index))
    assert index.locate([113.005, 113.015], [23.005, 23.005]).tolist() == [2, 0]
    assert index.has_raster
    assert [C, A] == [layer()["grid_code"].iloc[1], layer()["grid_code"].iloc[2]]


def test_reading_a_parquet_file_does_not_accumulate_memory(tmp_path):
    """Arrow's pre-buffering (its default) kept the bytes of every row group read until
    the file was closed: 33 MB more after four groups of a million events here."""
    import pyarrow.compute as pc

    rows = 1_000_000  # big column chunks: small ones are not kept
    rng = np.random.default_rng(0)
    table = pa.table({"event_id": pc.cast(pa.array(np.arange(rows)), pa.string()),
                      "lon": 113 + rng.random(rows), "lat": 23 + rng.random(rows),
                      "reported_at": pa.array(np.full(rows, np.datetime64("2023-05-01", "ms")))})
    with pq.ParquetWriter(tmp_path / "e.parquet", table.schema) as writer:
        for _ in range(4):
            writer.write_table(table)
    allocated = []
    for chunk in read_events_chunks(tmp_path / "e.parquet", chunk_rows=rows):
        del chunk
        allocated.append(pa.total_allocated_bytes())
    assert len(allocated) == 4
    assert allocated[-1] - allocated[0] < 4_000_000

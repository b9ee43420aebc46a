"""The dask engine of ``gridkit events`` (``--engine dask``): the join on a cluster.

Same inputs, same numbers as the local engine (:func:`gridkit.events.local.join_events_local`),
computed on dask-geopandas partitions, on a local cluster (default: two worker
processes) or on an existing one (``scheduler="tcp://host:8786"``):

1. **Grids, broadcast.** The layer is prepared once here
   (:class:`gridkit.events.core.EventGrids`: sorted by code, in the events' CRS) and
   sent to every worker (``Client.scatter(..., broadcast=True)``); each worker
   builds the lookup raster of its copy on first use.
2. **Events, partitioned.** Parquet row ranges (about ``partition_rows`` each,
   along the row groups) are read by the workers themselves
   (:func:`gridkit.io.read_events_rows`); CSV and Excel are read here in chunks
   and scattered. Every partition is canonical and typed as in the local
   engine, and keeps each event's record number (``_row``).
3. **Spatially.** The partitions become a dask-geopandas GeoDataFrame of
   points (:func:`dask_geopandas.points_from_xy`) that is shuffled along a
   Hilbert curve over the layer's extent (what ``spatial_shuffle`` does, with
   the extent known in advance), so that each partition covers a compact area.
   Events without usable coordinates get a stand-in point for the curve only.
4. **Join and metrics per partition.** :func:`gridkit.events.core.join_chunk` --
   the very function the local engine runs on its chunks -- joins each
   partition and returns its additive counts per grid; the workers add them up
   in a tree and :func:`gridkit.events.core.summarise` turns the sum into the
   metrics. Counts add exactly and examples are chosen by lowest record number,
   so the result does not depend on partitioning or order.
5. **Joined events back in file order** (``out``). Each partition's joined rows
   are sorted by record number on its worker; the file is written range by
   range of record numbers, each range gathered from every partition by binary
   search and merged on a worker: memory stays bounded by one range.

Workers need gridkit installed and, for Parquet, the events file at the same
path (a shared file system). Scripts that start the local cluster must guard
their entry point with ``if __name__ == "__main__":`` (workers are spawned).

Examples
--------
>>> from gridkit.io import read_layer
>>> layer = read_layer("grids.gpkg")  # doctest: +SKIP
>>> params = EventParams(engine="dask", scheduler="tcp://10.0.0.5:8786")
>>> result = join_events_dask(layer, "events.parquet", params, out="joined.parquet")
... # doctest: +SKIP
>>> result.metrics["located"]  # doctest: +SKIP
9979000
"""

from __future__ import annotations

import functools
import logging
import operator
import os
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from gridkit.crs import CrsSpec, valid_coordinate_mask
from gridkit.errors import InputError
from gridkit.events.core import (
    CHUNK_ROWS,
    DEFAULT_WORKERS,
    EVENT_COLUMNS,
    JOINED_SCHEMA,
    EventCounts,
    EventGrids,
    EventParams,
    EventsResult,
    Progress,
    check_joined_out,
    check_totals,
    join_chunk,
    prepare_events,
    summarise,
)
from gridkit.io import (
    atomic_output,
    parquet_row_ranges,
    read_events_chunks,
    read_events_rows,
)

__all__ = ["FAN_IN", "HILBERT_LEVEL", "WRITE_AHEAD", "dask_client", "event_partitions",
           "join_events_dask", "join_partition", "spatially_partitioned"]

#: Precision of the Hilbert curve of the spatial shuffle (dask-geopandas' default).
HILBERT_LEVEL = 16
#: Partial sums added per task in the tree reduction of the counts.
FAN_IN = 8
#: Output ranges gathered ahead of the one being written.
WRITE_AHEAD = 2


@contextmanager
def dask_client(scheduler: str | None = None, *, workers: int = DEFAULT_WORKERS,
                timeout: float = 10.0) -> Iterator:
    """A ``distributed.Client`` for the engine, closed on exit.

    Parameters
    ----------
    scheduler : address of a running scheduler (``tcp://host:8786``); None starts
        a ``distributed.LocalCluster`` of ``workers`` processes (one thread each),
        without dashboard, stopped on exit.
    workers : worker processes of the local cluster.
    timeout : seconds to wait for the scheduler.

    Raises
    ------
    InputError
        The scheduler cannot be reached.

    Examples
    --------
    >>> with dask_client() as client:  # doctest: +SKIP
    ...     print(len(client.scheduler_info()["workers"]))
    2
    """
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"cannot connect to the dask scheduler at {scheduler}: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                             ) from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
                      silence_logs=logging.CRITICAL) as cluster, \
            Client(cluster) as client:
        yield client


def event_partitions(client, events: str | os.PathLike, *,
                     columns: Mapping[str, str] | None = None,
                     partition_rows: int = CHUNK_ROWS):
    """The events as a dask DataFrame of canonical partitions indexed by record number.

    Parquet: the workers read row ranges themselves. Other formats are read
    here in chunks and scattered to the workers. Values are as read: each
    partition is typed where it is joined (:func:`gridkit.events.core.type_events`).

    Returns
    -------
    (dask DataFrame, number of events)
    """
    import dask.dataframe as dd

    path = Path(events)
    if path.suffix.lower() == ".parquet":
        ranges = parquet_row_ranges(path, partition_rows)
        meta = read_events_rows(path, 0, 0, columns=columns, select=EVENT_COLUMNS,
                                convert=False)
        read = functools.partial(_read_range, path=str(path), overrides=dict(columns or {}))
        frame = dd.from_map(read, ranges, meta=meta, label="gridkit-read-events",
                            divisions=(*[a for a, _ in ranges], max(ranges[-1][1] - 1, 0)))
        return frame, ranges[-1][1]
    futures, divisions, meta, rows = [], [], None, 0
    for chunk in read_events_chunks(path, columns=columns, chunk_rows=partition_rows,
                                    select=EVENT_COLUMNS, convert=False):
        meta = chunk.iloc[:0] if meta is None else meta
        futures.append(client.scatter(chunk))
        divisions.append(rows)
        rows += len(chunk)
    frame = dd.from_delayed(futures, meta=meta, divisions=(*divisions, max(rows - 1, 0)),
                            verify_meta=False)
    return frame, rows


def _read_range(bounds: tuple[int, int], path: str, overrides: dict) -> pd.DataFrame:
    return read_events_rows(path, bounds[0], bounds[1], columns=overrides or None,
                            select=EVENT_COLUMNS, convert=False)


def spatially_partitioned(frame, grids: EventGrids, npartitions: int):
    """Shuffle event partitions along a Hilbert curve over the layer's extent.

    Returns a dask-geopandas GeoDataFrame (index: Hilbert distance) with the
    record number in column ``_row`` and a point geometry per event.
    """
    import dask_geopandas  # noqa: F401  (registers GeoDataFrame partitions with dask)

    geoms = grids.index.geometries
    usable = geoms[~shapely.is_missing(geoms)]
    bounds = shapely.total_bounds(usable) if len(usable) else np.array([0.0, 0.0, 1.0, 1.0])
    points = frame.map_partitions(_with_points, grids.crs, (bounds[0], bounds[1]),
                                  meta=_with_points(frame._meta, grids.crs,
                                                    (bounds[0], bounds[1])))
    key = points.hilbert_distance(total_bounds=bounds, level=HILBERT_LEVEL)
    return points.set_index(key, npartitions=npartitions, sorted=False,
                            shuffle_method="tasks")


def _with_points(frame: pd.DataFrame, crs: CrsSpec,
                 stand_in: tuple[float, float]) -> gpd.GeoDataFrame:
    """The partition with ``_row`` (record number) and a point per event.

    Unlocatable events (no usable lon/lat) stand at ``stand_in``: the Hilbert
    curve needs a point for every row; :func:`join_chunk` decides what they are.
    """
    # values as read (typed by join_chunk on the worker): bad ones only stand in here
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=np.float64)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=np.float64)
    ok = valid_coordinate_mask(lon, lat, crs)
    out = frame.assign(_row=np.asarray(frame.index, dtype=np.int64))
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(np.where(ok, lon, stand_in[0]),
                                                             np.where(ok, lat, stand_in[1])))


def join_partition(part: pd.DataFrame, grids: EventGrids, params: EventParams, *,
                   with_joined: bool, path: str | None = None
                   ) -> tuple[EventCounts, tuple[np.ndarray, pa.Table] | None]:
    """Run :func:`gridkit.events.core.join_chunk` on one partition (on a worker).

    Parameters
    ----------
    part : a partition: canonical columns, record numbers in ``_row`` (or as the
        index when there is no ``_row``), any order; a geometry column is ignored.
    grids, params : broadcast layer and parameters.
    with_joined : also return the joined rows.
    path : the events file, for messages.

    Returns
    -------
    (counts, joined)
        ``joined``: (record numbers ascending, joined Arrow table in that order) or None.
    """
    frame = pd.DataFrame(part.drop(columns=["geometry"], errors="ignore"))
    if "_row" in frame:
        frame.index = pd.Index(frame.pop("_row").to_numpy(dtype=np.int64))
    frame.attrs["source_path"] = path
    joined, counts = join_chunk(frame, grids, params, with_joined=with_joined)
    if joined is None:
        return counts, None
    rows = np.asarray(frame.index, dtype=np.int64)
    order = np.argsort(rows, kind="stable")
    return counts, (rows[order], joined.take(pa.array(order)))


def _rows_between(pack: tuple[np.ndarray, pa.Table], start: int, stop: int
                  ) -> tuple[np.ndarray, pa.Table]:
    rows, table = pack
    a, b = np.searchsorted(rows, [start, stop])
    return rows[a:b], table.slice(a, b - a)


def _merge_rows(start: int, stop: int, *slices: tuple[np.ndarray, pa.Table]) -> pa.Table:
    rows = np.concatenate([np.zeros(0, np.int64), *(s[0] for s in slices)])
    if len(rows) != stop - start:
        raise RuntimeError(f"joined events {start}-{stop - 1}: {len(rows)} rows instead of "
                           f"{stop - start}")
    table = pa.concat_tables([JOINED_SCHEMA.empty_table(), *(s[1] for s in slices)])
    return table.take(pa.array(np.argsort(rows, kind="stable")))


def _add_counts(*parts: EventCounts) -> EventCounts:
    return functools.reduce(operator.add, parts)


def _tree_sum(client, futures: list) -> EventCounts:
    """Sum futures of EventCounts on the cluster, FAN_IN at a time."""
    while len(futures) > 1:
        futures = [client.submit(_add_counts, *futures[i:i + FAN_IN], pure=False)
                   for i in range(0, len(futures), FAN_IN)]
    return futures[0].result()


def join_events_dask(grids, events: str | os.PathLike, params: EventParams, *,
                     names: Mapping[str, str] | None = None,
                     out: str | os.PathLike | None = None,
                     progress: Progress | None = None, client=None) -> EventsResult:
    """Join an events file to a grid layer on dask; same result as the local engine.

    Parameters
    ----------
    grids, events, params, names, out, progress : as :func:`gridkit.events.join_events`;
        ``params.chunk_rows`` is the number of events per input partition,
        ``params.scheduler``, ``params.workers`` and ``params.spatial`` choose the
        cluster and whether the events are shuffled into spatial partitions
        (Hilbert curve; without, the partitions are joined in file order: cheaper,
        same result). ``progress`` counts partitions joined.
    client : an existing ``distributed.Client`` to use instead (not closed).

    Returns
    -------
    EventsResult

    Raises
    ------
    InputError
        Bad input, raised on a worker or here; an unreachable scheduler.

    Examples
    --------
    >>> result = join_events_dask(layer, "events.parquet", EventParams(engine="dask"))
    ... # doctest: +SKIP
    >>> result.metrics == join_events_local(layer, "events.parquet", EventParams()).metrics
    ... # doctest: +SKIP
    True
    """
    check_joined_out(out, events, grids)
    prepared, params, _ = prepare_events(grids, events, params)
    # dask runs partitions in parallel: one thread per partition is enough.
    prepared.index.threads = 1
    connect = (dask_client(params.scheduler, workers=params.workers) if client is None
               else nullcontext(client))
    with connect as client:
        frame, rows = event_partitions(client, events, columns=params.column_map,
                                       partition_rows=params.chunk_rows)
        prepared.index.expect(rows)
        if params.spatial and rows:
            frame = spatially_partitioned(frame, prepared, frame.npartitions)
        shared = client.scatter(prepared, broadcast=True, hash=False)
        task = functools.partial(join_partition, with_joined=out is not None, path=str(events))
        import dask

        joins = client.compute([dask.delayed(task)(part, shared, params)
                                for part in frame.to_delayed()])
        if progress is not None:
            _report_progress(joins, progress)
        total = _tree_sum(client, [client.submit(operator.itemgetter(0), f) for f in joins])
        check_totals(total, prepared, params.crs, str(events))
        if out is not None:
            packs = [client.submit(operator.itemgetter(1), f) for f in joins]
            del joins
            _write_in_order(client, packs, rows, params.chunk_rows, out)
    return summarise(total, prepared, params, names=names, path=str(events))


def _report_progress(futures: list, progress: Progress) -> None:
    from distributed import as_completed

    for done, _ in enumerate(as_completed(futures), start=1):
        progress(done, len(futures), "partitions")


def _write_in_order(client, packs: list, rows: int, range_rows: int,
                    out: str | os.PathLike) -> None:
    """Write the joined events in file order, one range of record numbers at a time."""
    import pyarrow.parquet as pq

    ranges = [(a, min(a + range_rows, rows)) for a in range(0, rows, range_rows)]
    pending: deque = deque()
    with atomic_output(out, force=True) as tmp, pq.ParquetWriter(tmp, JOINED_SCHEMA) as writer:
        for k in range(len(ranges)):
            while len(pending) <= WRITE_AHEAD and len(pending) + k < len(ranges):
                a, b = ranges[k + len(pending)]
                slices = [client.submit(_rows_between, p, a, b, pure=False) for p in packs]
                pending.append(client.submit(_merge_rows, a, b, *slices, pure=False))
            writer.write_table(pending.popleft().result())
        if not ranges:
            writer.write_table(JOINED_SCHEMA.empty_table())

"""The local engine of the events join: chunks read ahead in a thread, joined here.

The file is read chunk by chunk (:func:`gridkit.io.read_events_chunks`), each
chunk joined with :func:`gridkit.events.core.join_chunk` and the counts added
up; memory stays at a few chunks whatever the file's size.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor

import pandas as pd
import pyarrow as pa

from gridkit.events import core
from gridkit.events.core import EventCounts, EventGrids, EventParams, EventsResult
from gridkit.io import atomic_output, parse_datetimes, read_events_chunks
from gridkit.io.postgis import source_name

__all__ = ["PREFETCH", "accumulate", "compute_events", "join_events_local"]

#: Chunks :func:`accumulate` reads ahead (one: reading overlaps the join; each more costs
#: a chunk of memory while the lookup raster is built, the peak of a run).
PREFETCH = 1


def accumulate(chunks: Iterable[pd.DataFrame], grids: EventGrids, params: EventParams,
               sink: Callable[[pa.Table], object] | None = None, *,
               prefetch: int = PREFETCH,
               on_chunk: Callable[[int], object] | None = None) -> EventCounts:
    """Join every chunk and add up the counts (the local engine).

    Up to ``prefetch`` chunks are read ahead in a background thread while the
    current one is joined (reading and decoding overlap the join; the first
    reads overlap building the lookup raster). ``sink(joined)`` is called with
    each chunk's joined events, in order, when given (to write them out).

    Parameters
    ----------
    chunks : canonical event chunks (:func:`gridkit.io.read_events_chunks`).
    grids, params : see :func:`gridkit.events.core.join_chunk`.
    sink : receives each chunk's joined Arrow table.
    prefetch : chunks read ahead (memory: about ``prefetch + 1`` chunks).
    on_chunk : called with the number of events of each chunk once it is joined
        (a progress bar's ``update``).

    Returns
    -------
    EventCounts, the sum over all chunks.

    Examples
    --------
    >>> total = accumulate(read_events_chunks("events.parquet"), grids, params)  # doctest: +SKIP
    >>> result = core.summarise(total, grids, params)  # doctest: +SKIP
    """
    total = EventCounts.zeros(len(grids))
    path = None
    iterator = iter(chunks)
    pending: deque[Future] = deque()
    with ThreadPoolExecutor(1) as reader:
        try:
            while True:
                while len(pending) < max(prefetch, 1):
                    pending.append(reader.submit(next, iterator, None))
                chunk = pending.popleft().result()
                if chunk is None:
                    break
                joined, counts = core.join_chunk(chunk, grids, params, with_joined=sink is not None)
                total = total + counts
                path = chunk.attrs.get("source_path", path)
                if sink is not None:
                    sink(joined)
                if on_chunk is not None:
                    on_chunk(len(chunk))
        finally:
            for future in pending:
                future.cancel()
    core.check_totals(total, grids, params.crs, path)  # before a sink's output is committed
    return total



def compute_events(grids, events: pd.DataFrame, params: EventParams | None = None, *,
                   names: Mapping[str, str] | None = None) -> EventsResult:
    """Join an in-memory events table to a grid layer and compute the metrics.

    Parameters
    ----------
    grids : the grid layer (GeoDataFrame).
    events : events with canonical columns (see :func:`gridkit.events.core.join_chunk`).
    params : the parameters (default :class:`EventParams`; ``period_end`` default:
        31 December of the latest report's year); ``columns``, ``chunk_rows`` and
        the engine are not used.
    names : code → name from the official code list.

    Returns
    -------
    EventsResult, with ``joined`` set.

    Examples
    --------
    >>> from gridkit.data import SAMPLE_DIR
    >>> from gridkit.io import read_layer, read_table
    >>> orders = read_table(SAMPLE_DIR / "events.parquet", "events")
    >>> result = compute_events(read_layer(SAMPLE_DIR / "grids.gpkg"), orders.head(1000),
    ...                         EventParams(by="grid"))
    >>> result.metrics["events"], len(result.joined)
    (1000, 1000)
    """
    params = EventParams() if params is None else params
    path = events.attrs.get("source_path")
    prepared = EventGrids(grids, params.crs, method=params.method)
    latest = None
    if params.period_end is None and "reported_at" in events:
        latest = parse_datetimes(events["reported_at"], path=path, column="reported_at").max()
    params = params.resolved(prepared.crs, latest, path=path)
    parts: list[pa.Table] = []
    total = accumulate([events], prepared, params, sink=parts.append)
    result = core.summarise(total, prepared, params, names=names, path=path)
    result.joined = pa.concat_tables(parts or [core.JOINED_SCHEMA.empty_table()]).to_pandas()
    return result


def join_events_local(grids, events: str | os.PathLike, params: EventParams, *,
                      names: Mapping[str, str] | None = None,
                      out: str | os.PathLike | None = None,
                      progress: core.Progress | None = None,
                      each_chunk: Callable[[pd.DataFrame], object] | None = None
                      ) -> EventsResult:
    """The local engine of :func:`gridkit.events.join_events` (same parameters)."""
    core.check_joined_out(out, events, grids)
    prepared, params, rows = core.prepare_events(grids, events, params)
    # read raw and typed in the reader thread (with the run's formats, zone, bad rows)
    raw = read_events_chunks(events, columns=params.column_map, chunk_rows=params.chunk_rows,
                             select=core.EVENT_COLUMNS, convert=False)
    chunks = (_seen(core.type_events(chunk, params), each_chunk) for chunk in raw)
    done = 0

    def on_chunk(size: int) -> None:
        nonlocal done
        done += size
        progress(done, rows, "events")

    update = None if progress is None else on_chunk
    if out is None:
        total = accumulate(chunks, prepared, params, on_chunk=update)
    else:
        import pyarrow.parquet as pq

        with atomic_output(out, force=True) as tmp, \
                pq.ParquetWriter(tmp, core.JOINED_SCHEMA) as writer:
            total = accumulate(chunks, prepared, params, sink=writer.write_table,
                               on_chunk=update)
    return core.summarise(total, prepared, params, names=names, path=source_name(events))


def _seen(chunk: pd.DataFrame, each_chunk: Callable[[pd.DataFrame], object] | None
          ) -> pd.DataFrame:
    """``chunk``, after ``each_chunk`` saw it (in the reader thread, in file order)."""
    if each_chunk is not None:
        each_chunk(chunk)
    return chunk

"""Work orders (工单): join events to grids; dispatch and closure metrics (SPEC §3).

The package is three layers (see ``docs/architecture.md``):

- :mod:`gridkit.events.core`: the parameters (:class:`EventParams`), the
  prepared layer, the chunk join and its additive counts, the metrics;
- :mod:`gridkit.events.local`: the local engine (chunks read ahead in a thread);
- :mod:`gridkit.events.dask_engine`: the same chunk join on dask partitions
  (imports the core only).

:func:`join_events` is the entry point: ``gridkit events`` in a function.

Definitions (SPEC §3 and docs/architecture.md): an event is *unlocatable*
when lon/lat is missing, non-finite or impossible for its CRS
(:func:`gridkit.crs.valid_coordinate_mask`), *outside* when no grid covers
it, *located* otherwise. dispatch_accuracy = located dispatched events whose
``assigned_grid_code`` is the containing grid ÷ located dispatched events;
dispatch_timeliness = dispatched events dispatched within the SLA ÷ dispatched
events (located or not); closure_rate = events closed by the period end ÷
events; valid_complaints = events with ``valid_complaint`` true.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import pandas as pd

from gridkit.events.core import (
    BAD_ROWS,
    CHUNK_ROWS,
    COUNT_FIELDS,
    DEFAULT_SLA_HOURS,
    DEFAULT_TZ,
    ENGINES,
    EVENT_COLUMNS,
    JOINED_SCHEMA,
    METRIC_KEYS,
    REJECT_COLUMNS,
    EventCounts,
    EventGrids,
    EventParams,
    EventsResult,
    Progress,
    event_rows,
    join_chunk,
    latest_report,
    prepare_events,
    resolve_period_end,
    summarise,
    type_events,
)
from gridkit.events.local import accumulate, compute_events, join_events_local

__all__ = [
    "BAD_ROWS",
    "CHUNK_ROWS",
    "COUNT_FIELDS",
    "DEFAULT_SLA_HOURS",
    "DEFAULT_TZ",
    "ENGINES",
    "EVENT_COLUMNS",
    "JOINED_SCHEMA",
    "METRIC_KEYS",
    "REJECT_COLUMNS",
    "EventCounts",
    "EventGrids",
    "EventParams",
    "EventsResult",
    "Progress",
    "accumulate",
    "compute_events",
    "event_rows",
    "join_chunk",
    "join_events",
    "latest_report",
    "prepare_events",
    "resolve_period_end",
    "summarise",
    "type_events",
]


def join_events(grids, events: str | os.PathLike, params: EventParams | None = None, *,
                names: Mapping[str, str] | None = None,
                out: str | os.PathLike | None = None,
                progress: Progress | None = None,
                each_chunk: Callable[[pd.DataFrame], object] | None = None) -> EventsResult:
    """Join an events file to a grid layer and compute the metrics, in bounded memory.

    ``gridkit events`` in a function. The local engine reads the file in
    chunks of ``params.chunk_rows`` events (Parquet batches, CSV chunks), joins
    each with :func:`gridkit.events.core.join_chunk` and adds up the counts;
    ``params.engine == "dask"`` runs the same chunk join on dask partitions
    (:func:`gridkit.events.dask_engine.join_events_dask`), with the same results.

    Parameters
    ----------
    grids : the grid layer (GeoDataFrame, e.g. from :func:`gridkit.io.read_layer`).
    events : CSV, Excel or Parquet work-order file.
    params : every parameter of the run (default :class:`EventParams`).
    names : code → name from the official code list (names of the roll-up units).
    out : write the joined events (:data:`JOINED_SCHEMA`, in file order) to
        this Parquet file, atomically; an existing file is replaced (an input
        never is).
    progress : called as work is done (:data:`gridkit.events.core.Progress`).
    each_chunk : called with every chunk of typed events before it is joined
        (e.g. to bin their coordinates for a heat map, :class:`gridkit.maps.HeatBins`);
        local engine only.

    Returns
    -------
    EventsResult (``joined`` not set: see ``out``), names and messages in
    Chinese; :meth:`EventsResult.in_language` gives them in English.

    Raises
    ------
    InputError
        Bad input (missing column, bad value, an input as ``out``, ...).

    Examples
    --------
    On the packaged sample:

    >>> from gridkit.data import SAMPLE_DIR
    >>> from gridkit.io import read_layer
    >>> layer = read_layer(SAMPLE_DIR / "grids.gpkg")
    >>> result = join_events(layer, SAMPLE_DIR / "events.parquet",
    ...                      EventParams(period_end="2023-12-31"))
    >>> m = result.metrics
    >>> m["events"] == m["located"] + m["outside"] + m["unlocatable"], m["events"]
    (True, 30000)
    """
    params = EventParams() if params is None else params
    if params.engine == "dask":
        if each_chunk is not None:
            raise ValueError("each_chunk needs the local engine")
        from gridkit.events.dask_engine import join_events_dask

        return join_events_dask(grids, events, params, names=names, out=out, progress=progress)
    return join_events_local(grids, events, params, names=names, out=out, progress=progress,
                             each_chunk=each_chunk)

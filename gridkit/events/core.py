"""The core of the events join: parameters, additive counts, the chunk join, the metrics.

Both engines (:mod:`gridkit.events.local`, :mod:`gridkit.events.dask_engine`)
import this module and nothing of each other. The work is split so that it
runs chunk by chunk in bounded memory and maps onto dask partitions unchanged:

1. :class:`EventGrids` prepares the layer once: sorted by grid code (so the
   lowest code wins on a shared edge, see :mod:`gridkit.join`), put in the
   events' coordinate system and indexed (:class:`gridkit.join.GridIndex`).
2. :func:`join_chunk` takes one chunk of events and returns the per-event
   flags and a :class:`EventCounts` of additive counts per grid;
3. counts of all chunks are added (``sum(counts)``) and :func:`summarise`
   turns them into the metrics, rolled up with :mod:`gridkit.rollup`.

:func:`gridkit.events.join_events` runs this over a file: the local engine
reads it in chunks (:func:`gridkit.events.local.accumulate`, bounded memory);
``engine="dask"`` runs the same :func:`join_chunk` on dask partitions
(:mod:`gridkit.events.dask_engine`). See ``docs/scale.md``.

The definitions of the metrics are in :mod:`gridkit.events`.

Examples
--------
>>> import geopandas as gpd, pandas as pd
>>> from shapely import box
>>> grids = gpd.GeoDataFrame({"grid_code": ["440104001001001", "440104001001002"],
...                           "community_code": ["440104001001"] * 2},
...                          geometry=[box(113.0, 23.0, 113.01, 23.01),
...                                    box(113.01, 23.0, 113.02, 23.01)], crs=4490)
>>> t = pd.Timestamp("2023-05-01 08:00")
>>> events = pd.DataFrame({"event_id": ["e1", "e2"], "lon": [113.005, 113.01],
...                        "lat": [23.005, 23.005], "reported_at": [t, t],
...                        "assigned_grid_code": ["440104001001001", "440104001001002"],
...                        "dispatched_at": [t + pd.Timedelta(hours=1), pd.NaT],
...                        "closed_at": [t, pd.NaT], "valid_complaint": [False, True]})
>>> from gridkit.events.local import accumulate
>>> prepared = EventGrids(grids)
>>> params = EventParams(period_end="2023-12-31").resolved(prepared.crs)
>>> result = summarise(accumulate([events], prepared, params), prepared, params)
>>> result.metrics["located"], result.metrics["dispatch_accuracy"], result.metrics["closure_rate"]
(2, 1.0, 0.5)
"""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from gridkit.crs import (
    CoordinateTally,
    CrsSpec,
    check_coordinates,
    convert_coordinates,
    coordinate_masks,
    majority_problem,
    parse_crs,
    valid_coordinate_mask,
)
from gridkit.errors import InputError
from gridkit.i18n import pick
from gridkit.io import (
    check_writable,
    parse_datetimes,
    parse_numbers,
    read_events_chunks,
    resolve_columns,
)
from gridkit.io.postgis import source_name
from gridkit.io.values import LOCAL_TZ, convert_columns
from gridkit.join import GridIndex
from gridkit.metrics import metric_keys
from gridkit.rollup import finding, ratio, records, rollup

__all__ = [
    "BAD_ROWS", "CHUNK_ROWS", "COUNT_FIELDS", "DEFAULT_SLA_HOURS", "DEFAULT_TZ",
    "DEFAULT_WORKERS", "ENGINES", "EVENT_COLUMNS", "JOINED_COLUMNS", "JOINED_SCHEMA",
    "LENIENT_COLUMNS", "LOW_LOCATED_SHARE", "MAX_EXAMPLES", "METRIC_KEYS", "NEEDS", "RATES",
    "REJECT_COLUMNS", "STATUSES", "EventCounts", "EventGrids", "EventParams", "EventsResult",
    "Progress", "check_joined_out", "check_totals", "event_rows", "join_chunk", "latest_report",
    "prepare_events", "resolve_period_end", "summarise", "type_events",
]

#: Additive counts kept per grid (and for the two no-grid slots).
COUNT_FIELDS = ("events", "located", "outside", "unlocatable", "dispatched",
                "located_dispatched", "dispatch_correct", "timely", "closed_in_period",
                "valid_complaints")
#: Rate → (numerator, denominator).
RATES = {"dispatch_accuracy": ("dispatch_correct", "located_dispatched"),
         "dispatch_timeliness": ("timely", "dispatched"),
         "closure_rate": ("closed_in_period", "events")}
#: Top-level keys of the JSON read by ``gridkit score --metrics`` (SPEC §7).
METRIC_KEYS = metric_keys("events", summary=True)
#: Columns of the joined output (``--out``).
JOINED_COLUMNS = ("event_id", "grid_code", "status", "dispatched", "dispatch_correct", "timely",
                  "closed_in_period", "valid_complaint")
JOINED_SCHEMA = pa.schema([(c, pa.string() if c in ("event_id", "grid_code", "status")
                            else pa.bool_()) for c in JOINED_COLUMNS])
STATUSES = ("located", "outside", "unlocatable")
DEFAULT_SLA_HOURS = 2.0
MAX_EXAMPLES = 5
#: Events read and joined per chunk by default (bounds memory: ~60 MB a chunk; smaller
#: chunks cost more per-chunk overhead, larger ones more memory than the lookup raster).
CHUNK_ROWS = 500_000
#: Canonical columns the metrics use: only these are read from an events file.
EVENT_COLUMNS = ("event_id", "lon", "lat", "reported_at", "assigned_grid_code",
                 "dispatched_at", "closed_at", "valid_complaint")


#: Ways to treat a row with an impossible value (``--bad-rows``).
BAD_ROWS = ("error", "skip")
#: Time zone of naive timestamps and of the period end by default.
DEFAULT_TZ = LOCAL_TZ
#: Below this share of the events with usable coordinates located, the run warns.
LOW_LOCATED_SHARE = 0.01
#: Columns typed leniently under ``bad_rows="skip"`` (bad value → missing, row rejected).
LENIENT_COLUMNS = {"reported_at": "not_a_time", "dispatched_at": "not_a_time",
                   "closed_at": "not_a_time", "lon": "not_a_number", "lat": "not_a_number"}
#: Optional input columns → the counts and metrics that need them (null when absent).
NEEDS = {
    "dispatched_at": ("dispatched", "located_dispatched", "dispatch_correct", "timely",
                      "dispatch_accuracy", "dispatch_timeliness"),
    "assigned_grid_code": ("dispatch_correct", "dispatch_accuracy"),
    "closed_at": ("closed_in_period", "closure_rate"),
    "valid_complaint": ("valid_complaints",),
}
#: Columns of :attr:`EventsResult.rejects` (and of the ``--rejects`` CSV).
REJECT_COLUMNS = ("row", "column", "value", "reason")
ENGINES = ("local", "dask")
#: Worker processes of the dask engine's local cluster when no scheduler is given.
DEFAULT_WORKERS = 2

#: ``progress(done, total, unit)``: ``done`` of ``total`` (None when unknown)
#: ``unit`` (``"events"`` or ``"partitions"``) processed so far.
Progress = Callable[[int, "int | None", str], object]


@dataclass(frozen=True)
class EventParams:
    """Everything that decides how an events file is joined and counted.

    One object for both engines and every entry point
    (:func:`gridkit.events.join_events`, :func:`gridkit.events.local.compute_events`);
    :meth:`resolved` fixes the values that depend on the data (the CRS parsed,
    the period end from the latest report) before :func:`join_chunk` runs.

    Attributes
    ----------
    crs : coordinate system of the events' lon/lat (GCJ-02/BD-09 are converted).
    dispatch_sla_hours : dispatch within this many hours of the report is timely.
    period_end : last instant counted as closed in the period (inclusive); a
        date means the end of that day (in ``tz``); None: 31 December of the
        year of the latest report.
    date_formats : strptime formats of the timestamps, tried in order; empty:
        the automatic spellings of :func:`gridkit.io.parse_datetimes`.
    tz : IANA time zone: naive timestamps are in it, timestamps with an offset
        are converted to it.
    bad_rows : ``"error"``: a row with an impossible value (a time or lon/lat
        that cannot be read, a dispatch or closure before the report) is bad
        input; ``"skip"``: the value is treated as missing and the row counted as
        rejected (:attr:`EventsResult.rejects`), still joined and counted.
    by : roll-up level of the rows (:data:`gridkit.rollup.BY_LEVELS`).
    columns : column overrides ``{canonical: source}`` for the events file
        (stored as sorted pairs; a mapping is accepted).
    chunk_rows : events per chunk (local engine) or per partition (dask).
    method : :class:`gridkit.join.GridIndex` method.
    engine : ``"local"`` or ``"dask"``.
    scheduler : dask: address of a running scheduler; None starts a local cluster.
    workers : dask: worker processes of the local cluster.
    spatial : dask: shuffle the events into spatial partitions (Hilbert curve).
    index_cache : local engine: folder of built lookup rasters (:mod:`gridkit.index_cache`);
        a raster built before for the same grids is reused.

    Examples
    --------
    >>> params = EventParams(period_end="2023-12-31", columns={"lon": "X"})
    >>> params.columns, params.resolved().period_end
    ((('lon', 'X'),), Timestamp('2023-12-31 23:59:59.999999999'))
    """

    crs: str | int | CrsSpec = "wgs84"
    dispatch_sla_hours: float = DEFAULT_SLA_HOURS
    period_end: str | dt.date | None = None
    date_formats: tuple[str, ...] = ()
    tz: str = DEFAULT_TZ
    bad_rows: str = "error"
    by: str = "district"
    columns: tuple[tuple[str, str], ...] | Mapping[str, str] = ()
    chunk_rows: int = CHUNK_ROWS
    method: str = "auto"
    engine: str = "local"
    scheduler: str | None = None
    workers: int = DEFAULT_WORKERS
    spatial: bool = True
    index_cache: str | os.PathLike | None = None

    def __post_init__(self) -> None:
        columns = self.columns
        if isinstance(columns, Mapping):
            object.__setattr__(self, "columns", tuple(sorted(columns.items())))
        object.__setattr__(self, "date_formats", tuple(self.date_formats))
        if self.bad_rows not in BAD_ROWS:
            raise InputError(f"unknown bad-rows mode {self.bad_rows!r}; use one of "
                             f"{', '.join(BAD_ROWS)}")
        try:
            zoneinfo.ZoneInfo(self.tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise InputError(f"unknown time zone {self.tz!r}: use an IANA name such as "
                             f"{DEFAULT_TZ}, Asia/Hong_Kong or America/New_York") from None
        if self.engine not in ENGINES:
            raise InputError(f"unknown engine {self.engine!r}; use one of {', '.join(ENGINES)}")
        if self.index_cache is not None and self.engine != "local":
            raise InputError("the index cache works with the local engine only",
                             hint="drop {option} or use the local engine",
                             option=("index_cache", None))
        if self.chunk_rows < 1:
            raise ValueError("chunk_rows must be at least 1")

    @property
    def column_map(self) -> dict[str, str]:
        """The column overrides as a dict (None when there are none)."""
        return dict(self.columns) or None

    def resolved(self, crs: CrsSpec | None = None, latest_report: pd.Timestamp | None = None,
                 *, path: str | os.PathLike | None = None) -> EventParams:
        """These parameters with ``crs`` parsed and ``period_end`` an inclusive timestamp."""
        return replace(self, crs=parse_crs(self.crs if crs is None else crs),
                       period_end=resolve_period_end(self.period_end, latest_report, path=path,
                                                     tz=self.tz))

    def to_dict(self) -> dict:
        """The ``parameters`` of the JSON (resolved parameters only)."""
        end = self.period_end
        is_day_end = end == end.normalize() + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
        return {"crs": parse_crs(self.crs).name, "dispatch_sla_hours": self.dispatch_sla_hours,
                "period_end": end.date().isoformat() if is_day_end else end.isoformat()}


def resolve_period_end(value: str | dt.date | None, latest_report: pd.Timestamp | None = None,
                       *, path: str | os.PathLike | None = None,
                       tz: str = LOCAL_TZ) -> pd.Timestamp:
    """The inclusive end of the period.

    A date (``2023-12-31``, ``2023/12/31``) means the end of that day; a
    date with a time is taken as is. Without a value: 31 December of the year
    of the latest report. Times are naive, in ``tz`` (a value with an offset is
    converted to it).

    Examples
    --------
    >>> resolve_period_end("2023/12/31")
    Timestamp('2023-12-31 23:59:59.999999999')
    >>> resolve_period_end(None, pd.Timestamp("2023-05-01 08:00"))
    Timestamp('2023-12-31 23:59:59.999999999')
    """
    day_end = pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
    if value is None:
        if latest_report is None or pd.isna(latest_report):
            raise InputError("no event has a report time to take the period end from "
                             "(an empty file?): pass --period-end", path=path,
                             column="reported_at")
        return pd.Timestamp(year=latest_report.year, month=12, day=31) + day_end
    if isinstance(value, dt.datetime) and pd.Timestamp(value) != pd.Timestamp(value).normalize():
        return pd.Timestamp(value)  # a date with a time (e.g. YAML 2023-06-30 12:00): as is
    if isinstance(value, dt.date):
        return pd.Timestamp(value).normalize() + day_end
    stamp = parse_datetimes(pd.Series([value]), column="--period-end", tz=tz).iloc[0]
    if pd.isna(stamp):
        raise InputError(f"--period-end: {value!r} is not a date")
    has_time = any(ch in str(value) for ch in ":时点") or stamp != stamp.normalize()
    return stamp if has_time else stamp + day_end


class EventGrids:
    """The grid layer prepared for joining events given in ``crs``.

    Parameters
    ----------
    grids : GeoDataFrame with ``grid_code`` (optional ``grid_name`` and
        ``community_code``: without it, units are derived from the grid code);
        any CRS (a layer without one is taken to be in ``crs``). A grid with a
        NaN or infinite vertex is left out of the join (:attr:`non_finite`).
    crs : the events' coordinate system (``--crs``; default WGS84).
    method : :class:`gridkit.join.GridIndex` method.
    index_options : other :class:`gridkit.join.GridIndex` options, e.g.
        ``{"max_cells": 1 << 26}`` for a province-wide layer (a finer raster).

    Attributes
    ----------
    table : the layer's attributes sorted by grid code (position = index answer).
    code_array : ``grid_code`` in that order, as an Arrow array (for the joined output).
    position_ids : id of each position's code, then -1 (for the no-grid slots).
    non_finite : codes of the grids left out because a vertex is not finite.
    bounds : (minx, miny, maxx, maxy) of the usable grids, in the events' CRS
        (NaN without any).
    """

    def __init__(self, grids, crs: str | CrsSpec = "wgs84", *, method: str = "auto",
                 index_options: Mapping | None = None) -> None:
        self.crs = parse_crs(crs)
        path = grids.attrs.get("source_path")
        if "grid_code" not in grids:
            raise InputError("missing column grid_code", path=path, column="grid_code")
        order = np.argsort(grids["grid_code"].astype(str).to_numpy(), kind="stable")
        layer = grids.iloc[order].reset_index(drop=True)
        if layer.crs is not None and not _same_lonlat(layer.crs, self.crs.crs):
            layer = layer.to_crs(self.crs.crs)
        keep = [c for c in ("grid_code", "grid_name", "community_code") if c in layer]
        self.table = pd.DataFrame(layer[keep])
        if "community_code" not in self.table:  # roll-ups fall back on the grid code
            self.table["community_code"] = pd.Series(pd.NA, index=self.table.index,
                                                     dtype=object)
        codes = layer["grid_code"].astype("str")
        self.code_array = pa.array(codes, type=pa.string())
        unique = pd.Index(codes.dropna().unique())
        # Arrow's hash lookup: several times faster than pandas' on millions of codes.
        self._code_values = pa.array(unique, type=pa.string())
        # id of each position's code (equal codes share one id), then -1 for no grid
        self.position_ids = np.append(unique.get_indexer(codes), -1)
        self.index = GridIndex(layer.geometry.to_numpy(), method=method,
                               **dict(index_options or {}))
        self.non_finite = codes.iloc[self.index.non_finite].tolist()
        usable = self.index.geometries[~shapely.is_missing(self.index.geometries)]
        self.bounds = (tuple(shapely.total_bounds(usable)) if len(usable)
                       else (np.nan,) * 4)

    def code_ids(self, codes: pd.Series) -> np.ndarray:
        """Id of each code (as in :attr:`position_ids`); -1 when not in the layer."""
        ids = pc.index_in(pa.array(codes.astype("str"), type=pa.string()),
                          value_set=self._code_values)
        return ids.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)

    def __len__(self) -> int:
        return len(self.table)


@dataclass
class EventCounts:
    """Additive counts: one row per grid position, then *outside* and *unlocatable*.

    ``counts`` has shape ``(grids + 2, len(COUNT_FIELDS))``; findings hold a
    count and up to :data:`MAX_EXAMPLES` examples per kind; ``rejects`` the
    rejected values (:data:`REJECT_COLUMNS`); ``absent`` the optional input
    columns the file lacks; ``extent`` (minx, miny, maxx, maxy) of the usable
    event coordinates in the grids' CRS. Two of them add up with ``+`` (so
    ``sum(chunks, EventCounts.zeros(n))`` merges a whole run).
    """

    counts: np.ndarray
    findings: dict[str, tuple[int, list[dict]]] = field(default_factory=dict)
    rejects: pd.DataFrame = field(default_factory=lambda: _rejects([]))
    absent: frozenset[str] = frozenset()
    extent: tuple[float, float, float, float] = (np.inf, np.inf, -np.inf, -np.inf)

    @classmethod
    def zeros(cls, grids: int) -> EventCounts:
        return cls(np.zeros((grids + 2, len(COUNT_FIELDS)), dtype=np.int64))

    def __add__(self, other: EventCounts) -> EventCounts:
        # Examples: the lowest rows of both, so that the sum does not depend on the
        # order the chunks are added in (dask adds partitions in any order).
        merged = dict(self.findings)
        for kind, (count, examples) in other.findings.items():
            had, seen = merged.get(kind, (0, []))
            merged[kind] = (had + count,
                            sorted(seen + examples, key=lambda e: e["row"])[:MAX_EXAMPLES])
        rejects = (other.rejects if self.rejects.empty else self.rejects if other.rejects.empty
                   else pd.concat([self.rejects, other.rejects], ignore_index=True))
        extent = (*np.minimum(self.extent[:2], other.extent[:2]),
                  *np.maximum(self.extent[2:], other.extent[2:]))
        return EventCounts(self.counts + other.counts, merged, rejects,
                           self.absent | other.absent, tuple(float(v) for v in extent))


def join_chunk(chunk: pd.DataFrame, grids: EventGrids, params: EventParams, *,
               with_joined: bool = True) -> tuple[pa.Table | None, EventCounts]:
    """Join one chunk of events and count it.

    The one place where events become numbers: the local engine
    (:func:`accumulate`) runs it on the chunks of a file, the dask engine
    (:mod:`gridkit.events.dask_engine`) on every partition.

    Parameters
    ----------
    chunk : canonical event columns (:func:`gridkit.io.read_events_chunks`),
        typed by :func:`type_events` (done here when it is not yet); its index is
        the 0-based record number in the file (for messages and examples; any order).
    grids : the prepared layer.
    params : metric parameters.
    with_joined : build the per-event table (False saves its cost when the
        joined events are not written out).

    Returns
    -------
    (joined, counts)
        ``joined``: an Arrow table of :data:`JOINED_SCHEMA`, one row per event, in
        the chunk's order (None without ``with_joined``); ``counts`` the chunk's
        :class:`EventCounts`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> layer = gpd.GeoDataFrame({"grid_code": ["440104001001001"],
    ...                           "community_code": ["440104001001"]},
    ...                          geometry=[box(113.0, 23.0, 113.01, 23.01)], crs=4490)
    >>> grids = EventGrids(layer)
    >>> params = EventParams(period_end="2023-12-31").resolved(grids.crs)
    >>> chunk = pd.DataFrame({"event_id": ["e1", "e2"], "lon": [113.005, 114.0],
    ...                       "lat": [23.005, 23.0],
    ...                       "reported_at": pd.to_datetime(["2023-05-01"] * 2)})
    >>> joined, counts = join_chunk(chunk, grids, params)
    >>> joined["status"].to_pylist(), counts.counts[:, 0].tolist()
    (['located', 'outside'], [1, 1, 0])

    Raises
    ------
    InputError
        A missing column, or (``bad_rows="error"``) a bad value (see :func:`type_events`).
    """
    path = chunk.attrs.get("source_path")
    for column in ("event_id", "lon", "lat", "reported_at"):
        if column not in chunk:
            raise InputError(f"missing column {column}; the table has "
                             f"{', '.join(map(str, chunk.columns))}", path=path, column=column)
    if "rejects" not in chunk.attrs:
        chunk = type_events(chunk, params)
    rows = np.asarray(chunk.index, dtype=np.int64) + 1
    reported = _times(chunk, "reported_at")
    dispatched_at = _times(chunk, "dispatched_at")
    closed_at = _times(chunk, "closed_at")

    lon = chunk["lon"].to_numpy(dtype=np.float64)
    lat = chunk["lat"].to_numpy(dtype=np.float64)
    slot, extent = _locate(lon, lat, grids, params.crs, rows, path)
    n = len(grids)
    located = slot < n
    assigned = (grids.code_ids(chunk["assigned_grid_code"]) if "assigned_grid_code" in chunk
                else np.full(len(chunk), -1, dtype=np.int64))
    is_dispatched = dispatched_at.notna().to_numpy()
    delay = (dispatched_at - reported).to_numpy()
    flags = {
        "events": np.ones(len(chunk), dtype=bool),
        "located": located,
        "outside": slot == n,
        "unlocatable": slot == n + 1,
        "dispatched": is_dispatched,
        "located_dispatched": located & is_dispatched,
        "dispatch_correct": located & is_dispatched & (assigned >= 0)
        & (assigned == grids.position_ids[np.minimum(slot, n)]),
        "timely": is_dispatched & (delay <= np.timedelta64(_sla_ns(params), "ns")),
        "closed_in_period": (closed_at <= params.period_end).to_numpy(),
        "valid_complaints": (chunk["valid_complaint"].to_numpy(dtype=bool)
                             if "valid_complaint" in chunk else np.zeros(len(chunk), bool)),
    }
    counts = np.stack([np.bincount(slot[flags[f]], minlength=n + 2) for f in COUNT_FIELDS],
                      axis=1)
    event_ids = chunk["event_id"].astype("str")
    joined = None
    if with_joined:
        joined = pa.table({
            "event_id": pa.array(event_ids, type=pa.string()),
            "grid_code": grids.code_array.take(pa.array(np.where(located, slot, 0),
                                                        mask=~located)),
            "status": pa.array(STATUSES).take(np.clip(slot - n + 1, 0, 2)),
            "dispatched": is_dispatched,
            "dispatch_correct": flags["dispatch_correct"],
            "timely": flags["timely"],
            "closed_in_period": flags["closed_in_period"],
            "valid_complaint": flags["valid_complaints"],
        }, schema=JOINED_SCHEMA)
    unknown_assigned = is_dispatched & (assigned < 0)
    if "assigned_grid_code" in chunk:
        unknown_assigned &= chunk["assigned_grid_code"].notna().to_numpy()
    problems = {"outside": flags["outside"], "unlocatable": flags["unlocatable"],
                "dispatched_without_report_time": is_dispatched & reported.isna().to_numpy(),
                "assigned_grid_unknown": unknown_assigned}
    problems.update({f"_{kind}": mask
                     for kind, mask in coordinate_masks(lon, lat, params.crs).items()})
    chunk_findings = {}
    for kind, mask in problems.items():
        if kind == "_usable":  # a count only
            chunk_findings[kind] = (int(mask.sum()), [])
        elif mask.any():
            candidates = np.flatnonzero(mask)  # the lowest rows, whatever the chunk's order
            picked = candidates[np.argsort(rows[candidates], kind="stable")[:MAX_EXAMPLES]]
            chunk_findings[kind] = (int(mask.sum()), [
                {"row": int(rows[i]), "event_id": event_ids.iloc[i],
                 "lon": _number(lon[i]), "lat": _number(lat[i])} for i in picked])
    absent = frozenset(c for c in NEEDS if c not in chunk)
    return joined, EventCounts(counts, chunk_findings, chunk.attrs["rejects"], absent, extent)


def type_events(chunk: pd.DataFrame, params: EventParams) -> pd.DataFrame:
    """Type a chunk of events read without conversion, and check the times' order.

    Timestamps are read with ``params.date_formats`` in ``params.tz``; codes,
    numbers and yes/no as :func:`gridkit.io.values.convert_columns` does. A
    dispatch or closure before the report time is impossible too. With
    ``params.bad_rows == "skip"`` every such value becomes missing and is
    listed in ``attrs["rejects"]`` (:data:`REJECT_COLUMNS`; reasons
    ``not_a_time``, ``not_a_number``, ``before_reported_at``); otherwise the
    first one (lowest row) raises. Values already typed pass through.

    Examples
    --------
    >>> chunk = pd.DataFrame({"reported_at": ["03/01/2011 02:27:57 PM", "1900-01-01"],
    ...                       "closed_at": ["03/02/2011 09:00:00 AM", "oops"]})
    >>> params = EventParams(date_formats=["%m/%d/%Y %I:%M:%S %p", "%Y-%m-%d"],
    ...                      bad_rows="skip")
    >>> typed = type_events(chunk, params)
    >>> typed["reported_at"].dt.strftime("%Y-%m-%d %H:%M").tolist()
    ['2011-03-01 14:27', '1900-01-01 00:00']
    >>> typed.attrs["rejects"].to_dict("records")
    [{'row': 2, 'column': 'closed_at', 'value': 'oops', 'reason': 'not_a_time'}]

    Raises
    ------
    InputError
        With ``bad_rows == "error"``, naming the column and the first bad row.
    """
    path = chunk.attrs.get("source_path")
    coerce = params.bad_rows == "skip"
    errors = "coerce" if coerce else "raise"
    out = convert_columns(chunk.drop(columns=[c for c in LENIENT_COLUMNS if c in chunk]),
                          "events", path=path)
    rejects: list[pd.DataFrame] = []
    for column, reason in LENIENT_COLUMNS.items():
        if column not in chunk:
            continue
        raw = chunk[column]
        if reason == "not_a_time":
            typed = _parse_times(raw, column, params, path)
        else:
            typed = parse_numbers(raw, path=path, column=column, errors=errors)
        if coerce:
            rejects.append(_rejected(raw, _filled(raw) & typed.isna(), column, reason))
        out[column] = typed
    order = {column: (out[column] < out["reported_at"]).to_numpy()
             for column in ("dispatched_at", "closed_at") if column in out}
    order = {column: early for column, early in order.items() if early.any()}
    if order and not coerce:  # the lowest row of all, whatever the column
        rows = np.asarray(out.index, dtype=np.int64)
        column = min(order, key=lambda c: rows[order[c]].min())
        _raise_early(out["reported_at"], out[column], order[column], column, path)
    for column, early in order.items():
        rejects.append(_rejected(chunk[column], early, column, "before_reported_at"))
        out.loc[early, column] = pd.NaT
    out = out[list(chunk.columns)]
    out.attrs["source_path"] = path
    out.attrs["rejects"] = _rejects(rejects)
    return out


def _parse_times(raw: pd.Series, column: str, params: EventParams, path) -> pd.Series:
    """A time column read with the run's formats, zone and treatment of bad values."""
    try:
        return parse_datetimes(raw, path=path, column=column, formats=params.date_formats,
                               tz=params.tz,
                               errors="coerce" if params.bad_rows == "skip" else "raise")
    except InputError as exc:  # say how a work-order export can still be read
        raise InputError(f"{exc.message}; give the format with --date-format, or "
                         "--bad-rows skip to treat such values as missing",
                         path=exc.path, column=exc.column, row=exc.row) from None


def _filled(raw: pd.Series) -> pd.Series:
    """Cells that hold something (not missing, not blank)."""
    if raw.dtype != object and not pd.api.types.is_string_dtype(raw.dtype):
        return raw.notna()
    return raw.notna() & (raw.astype(str).str.strip() != "")


def _rejected(values: pd.Series, mask, column: str, reason: str) -> pd.DataFrame:
    mask = np.asarray(mask, dtype=bool)
    return pd.DataFrame({"row": np.asarray(values.index, dtype=np.int64)[mask] + 1,
                         "column": column, "value": values[mask].astype(str).to_numpy(),
                         "reason": reason})


def _rejects(parts: list[pd.DataFrame]) -> pd.DataFrame:
    empty = pd.DataFrame({"row": pd.Series(dtype=np.int64), "column": pd.Series(dtype=object),
                          "value": pd.Series(dtype=object), "reason": pd.Series(dtype=object)})
    return pd.concat([empty, *parts], ignore_index=True) if parts else empty


def check_totals(total: EventCounts, grids: EventGrids, crs: CrsSpec, path=None) -> None:
    """Refuse a file whose coordinates are mostly swapped or projected (not degrees),
    or whose events lie nowhere near the grids.

    Such events would otherwise all be counted as unlocatable or outside; a few
    of them are (an outlier is not a wrong CRS). Decided on the counts of the
    whole file (by :func:`gridkit.crs.majority_problem`, the check layers
    get too), before an output is committed.

    Raises
    ------
    InputError
        Naming the first such row, or both extents when they do not overlap.
    """
    found = {kind[1:]: value for kind, value in total.findings.items()
             if kind.startswith("_")}
    usable = found.pop("usable", (0, []))[0]
    tally = CoordinateTally(
        usable, {kind: count for kind, (count, _) in found.items()},
        {kind: (e[0]["row"], e[0]["lon"], e[0]["lat"]) for kind, (_, e) in found.items() if e})
    problem = majority_problem(tally, crs, axes=("lon", "lat"))
    if problem is not None:
        raise problem.error(path)
    if usable and not _overlap(total.extent, grids.bounds):
        raise InputError(f"the events and the grids do not overlap: "
                         f"{_extents(total, grids, 'en')}; are both in the coordinate system "
                         "they are read in?", path=path)


def _overlap(a, b) -> bool:
    return bool(a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3])


def _extents(total: EventCounts, grids: EventGrids, lang: str) -> str:
    def span(box) -> str:
        return f"x {box[0]:.6g}–{box[2]:.6g}, y {box[1]:.6g}–{box[3]:.6g}"

    return pick(lang, zh=f"事件范围 {span(total.extent)}，网格范围 {span(grids.bounds)}",
                en=f"the events span {span(total.extent)}, the grids {span(grids.bounds)}")


@dataclass
class EventsResult:
    """What :func:`summarise` returns.

    Attributes
    ----------
    metrics : whole-set counts and rates (keys :data:`METRIC_KEYS` and the
        other counts of :data:`COUNT_FIELDS`, then ``rejected``); a rate with a
        zero denominator is ``None``, so is a metric whose input column is absent
        (:attr:`unavailable`).
    rows : one row per unit of level ``by``, plus a row with ``code`` None for
        the events in no grid (outside or unlocatable) when there are any, so
        that every column adds up to the whole.
    per_grid : counts and rates per grid of the layer (sorted by grid code).
    findings : outside, unlocatable and inconsistent events (count and examples).
    joined : the joined events (:func:`gridkit.events.local.compute_events` only).
    lang : language of the names and messages (see :meth:`in_language`).
    rejects : the values rejected under ``bad_rows="skip"`` (:data:`REJECT_COLUMNS`),
        sorted by row; ``metrics["rejected"]`` is the number of rows.
    unavailable : metric → the absent input columns it needs (its value is None).
    warnings : messages about the run as a whole (few events located, grids
        left out); the numbers stand.
    """

    metrics: dict
    rows: pd.DataFrame
    per_grid: pd.DataFrame
    findings: list[dict]
    params: EventParams
    by: str
    joined: pd.DataFrame | None = None
    lang: str = "zh"
    rejects: pd.DataFrame | None = None
    unavailable: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # What the result was summarised from, to render it again in another language.
    _source: tuple | None = field(default=None, repr=False)

    def in_language(self, lang: str) -> EventsResult:
        """The same result with names and messages in ``lang`` (computation and
        presentation apart: the numbers are summarised once more from the counts)."""
        if lang == self.lang:
            return self
        return self._again(self.by, lang)

    def rolled_up(self, by: str) -> EventsResult:
        """The same join rolled up to level ``by`` (summarised again from the counts,
        the events are not read again).

        >>> from gridkit.data import SAMPLE_DIR
        >>> from gridkit.io import read_layer, read_table
        >>> orders = read_table(SAMPLE_DIR / "events.parquet", "events").head(100)
        >>> from gridkit.events.local import compute_events
        >>> result = compute_events(read_layer(SAMPLE_DIR / "grids.gpkg"), orders)
        >>> result.by, int(result.rolled_up("city").rows["events"].sum())
        ('district', 100)
        """
        return self if by == self.by else self._again(by, self.lang)

    def _again(self, by: str, lang: str) -> EventsResult:
        if self._source is None:
            raise ValueError("this result keeps no counts to summarise again")
        total, grids, names, path = self._source
        result = summarise(total, grids, self.params, by=by, names=names, lang=lang,
                           path=path)
        result.joined = self.joined
        return result

    def to_dict(self) -> dict:
        """The SPEC §7 JSON: flat metrics (with ``rejected``), ``by``, ``parameters``,
        ``rows``, ``findings``, ``unavailable`` and ``warnings``."""
        return {**self.metrics, "by": self.by, "parameters": self.params.to_dict(),
                "rows": records(self.rows), "findings": self.findings,
                "unavailable": self.unavailable, "warnings": self.warnings}


_MESSAGES = {
    "outside": ("{n} 个事件不在任何网格内（已计数并输出，未丢弃）",
                "{n} event(s) lie in no grid (counted and written out, not dropped)"),
    "unlocatable": ("{n} 个事件坐标缺失或无效，无法定位",
                    "{n} event(s) have missing or impossible coordinates"),
    "dispatched_without_report_time": ("{n} 个已转派事件没有上报时间，按未及时转派计",
                                       "{n} dispatched event(s) have no report time; "
                                       "counted as not dispatched in time"),
    "assigned_grid_unknown": ("{n} 个已转派事件的转派网格编码不在网格图层中",
                              "{n} dispatched event(s) name an assigned grid code that is "
                              "not in the grid layer"),
}


def summarise(total: EventCounts, grids: EventGrids, params: EventParams, *,
              by: str | None = None, names: Mapping[str, str] | None = None,
              lang: str = "zh", path: str | None = None) -> EventsResult:
    """Metrics from the added-up counts of all chunks.

    Parameters
    ----------
    total : the sum of the chunks' :class:`EventCounts`.
    grids : the prepared layer the counts refer to.
    params : the parameters used.
    by : roll-up level (:data:`gridkit.rollup.BY_LEVELS`); default ``params.by``.
    names : code → name from the official code list.
    lang : language of names and messages.
    path : the events file, named in the findings.
    """
    by = params.by if by is None else by
    n = len(grids)
    counts = pd.DataFrame(total.counts, columns=list(COUNT_FIELDS))
    per_grid = pd.concat([grids.table, counts.iloc[:n]], axis=1)
    rows = rollup(per_grid, by, COUNT_FIELDS, names=names or {}, lang=lang)
    no_grid = counts.iloc[n:].sum()
    if no_grid["events"]:
        extra = {"code": None, "name": pick(lang, zh="不在任何网格", en="in no grid"),
                 "grids": 0, **no_grid.to_dict()}
        rows = pd.concat([rows, pd.DataFrame([extra])], ignore_index=True)
    whole = counts.sum()
    metrics = {f: int(whole[f]) for f in COUNT_FIELDS}
    for table in (per_grid, rows):
        for rate, (num, den) in RATES.items():
            table[rate] = ratio(table[num], table[den]).to_numpy()
    for rate, (num, den) in RATES.items():
        metrics[rate] = ratio(metrics[num], metrics[den])
    metrics = {key: metrics[key] for key in (*METRIC_KEYS, *COUNT_FIELDS)}
    unavailable: dict[str, list[str]] = {}
    for column in sorted(total.absent):
        for key in NEEDS[column]:
            unavailable.setdefault(key, []).append(column)
    for key in unavailable:  # never 0 for a number that could not be computed
        metrics[key] = None
        for table in (per_grid, rows):
            table[key] = pd.Series(None, index=table.index, dtype=object)
    rejects = total.rejects.sort_values(["row", "column"], kind="stable", ignore_index=True)
    metrics["rejected"] = int(rejects["row"].nunique())
    findings = [finding(kind, pick(lang, zh=zh, en=en).format(n=total.findings[kind][0]),
                        total.findings[kind][0], total.findings[kind][1], table="events",
                        path=path)
                for kind, (zh, en) in _MESSAGES.items() if kind in total.findings]
    return EventsResult(metrics=metrics, rows=rows, per_grid=per_grid, findings=findings,
                        params=params, by=by, lang=lang, rejects=rejects,
                        unavailable=unavailable, warnings=_warnings(total, grids, lang),
                        _source=(total, grids, names, path))


def _warnings(total: EventCounts, grids: EventGrids, lang: str) -> list[str]:
    """Few events located (a CRS mix-up?) and grids left out of the join."""
    out = []
    if grids.non_finite:
        codes = ", ".join(map(str, grids.non_finite[:MAX_EXAMPLES]))
        more = len(grids.non_finite) - MAX_EXAMPLES
        codes += pick(lang, zh=f" 等 {len(grids.non_finite)} 个", en=f" and {more} more") \
            if more > 0 else ""
        out.append(pick(lang, zh=f"网格 {codes} 的坐标含 NaN 或无穷值，未参与匹配",
                        en=f"grid(s) {codes} have NaN or infinite coordinates and were left "
                           "out of the join"))
    whole = total.counts.sum(axis=0)
    located, outside = (int(whole[COUNT_FIELDS.index(k)]) for k in ("located", "outside"))
    usable = located + outside
    if usable and located < LOW_LOCATED_SHARE * usable:
        out.append(pick(
            lang,
            zh=f"坐标可用的 {usable} 个事件中只有 {located} 个（{located / usable:.1%}）"
               f"落在网格内：{_extents(total, grids, lang)}；请检查两者的坐标系",
            en=f"only {located} of the {usable} events with usable coordinates "
               f"({located / usable:.1%}) lie in a grid: {_extents(total, grids, lang)}; "
               "check the coordinate systems of both"))
    return out


def event_rows(path: str | os.PathLike) -> int | None:
    """Number of events in a Parquet file from its footer (no data read); None otherwise.

    Examples
    --------
    >>> event_rows("events.csv") is None
    True
    """
    if Path(path).suffix.lower() != ".parquet":
        return None
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).metadata.num_rows
    except (OSError, ValueError):
        return None  # the reader proper reports the problem


def latest_report(path: str | os.PathLike, params: EventParams | None = None
                  ) -> pd.Timestamp | None:
    """The latest ``reported_at`` in an events file, for the default period end.

    From the Parquet row-group statistics when ``reported_at`` is stored as a
    timestamp (no data read); otherwise a first pass over the file (that
    column only), read as ``params`` says (formats, time zone, bad rows).

    Examples
    --------
    >>> from gridkit.data import SAMPLE_DIR
    >>> latest_report(SAMPLE_DIR / "events.parquet").year
    2023
    """
    params = EventParams() if params is None else params
    if Path(path).suffix.lower() == ".parquet":
        found, latest = _parquet_latest(path, params)
        if found:
            return latest
    maxima = [_parse_times(c["reported_at"], "reported_at", params, path).max()
              for c in read_events_chunks(path, columns=params.column_map,
                                          chunk_rows=params.chunk_rows,
                                          select=("reported_at",), convert=False)]
    maxima = [t for t in maxima if pd.notna(t)]
    return max(maxima) if maxima else None


def _parquet_latest(path, params: EventParams) -> tuple[bool, pd.Timestamp | None]:
    """(True, max) from the statistics of a timestamp ``reported_at``; (False, None) if unusable."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except (OSError, ValueError):
        return False, None  # the reader proper reports the problem
    schema = meta.schema.to_arrow_schema()
    mapping = resolve_columns(schema.names, "events", params.column_map, path=path)
    role = mapping.copies.get("reported_at", "reported_at")  # a source in several roles
    source = next((s for s, c in mapping.items() if c == role), None)
    if source is None or not pa.types.is_timestamp(schema.field(source).type):
        return False, None
    column = meta.schema.names.index(source)
    maxima = []
    for group in range(meta.num_row_groups):
        chunk = meta.row_group(group).column(column)
        stats = chunk.statistics
        if stats is None or (not stats.has_min_max and stats.null_count != chunk.num_values):
            return False, None
        if stats.has_min_max:
            maxima.append(stats.max)
    if not maxima:
        return True, None
    latest = parse_datetimes(pd.Series(maxima), path=path, column="reported_at", tz=params.tz)
    return True, latest.max()


def prepare_events(grids, events: str | os.PathLike, params: EventParams
                   ) -> tuple[EventGrids, EventParams, int | None]:
    """What both engines need before the first event is joined.

    The layer prepared (:class:`EventGrids`), the parameters resolved (the
    period end from the Parquet statistics or a first pass over the file when
    not given), and the raster planned when the file's row count shows it pays.

    Parameters
    ----------
    grids : the grid layer.
    events : the events file.
    params : the run's parameters.

    Returns
    -------
    (prepared layer, resolved parameters, number of events or None when unknown before reading)

    Examples
    --------
    >>> grids, params, rows = prepare_events(layer, "events.parquet", EventParams())
    ... # doctest: +SKIP
    >>> rows  # doctest: +SKIP
    10000000
    """
    prepared = EventGrids(grids, params.crs, method=params.method,
                          index_options={"cache": params.index_cache} if params.index_cache
                          else None)
    latest = None if params.period_end is not None else latest_report(events, params)
    resolved = params.resolved(prepared.crs, latest, path=source_name(events))
    rows = event_rows(events)
    if rows is not None:
        prepared.index.expect(rows)  # build the raster at once for a big file
    return prepared, resolved, rows


def check_joined_out(out: str | os.PathLike | None, events, grids) -> None:
    """Refuse an ``out`` that is not ``.parquet`` or is one of the inputs.

    An existing ``out`` is replaced: refusing it (``--force``) is the caller's policy.
    """
    if out is None:
        return
    if Path(out).suffix.lower() != ".parquet":
        raise InputError("the joined-events output must be a .parquet file", path=out)
    check_writable(out, True, inputs=(events, grids.attrs.get("source_path")), folder=False)


def _times(chunk: pd.DataFrame, column: str) -> pd.Series:
    """A typed timestamp column; all NaT when absent."""
    if column not in chunk:
        return pd.Series(pd.NaT, index=chunk.index, dtype="datetime64[ns]")
    return chunk[column]


def _raise_early(reported: pd.Series, stamps: pd.Series, early: np.ndarray, column: str,
                 path) -> None:
    """Raise for the lowest row whose ``stamps`` precede the report time."""
    rows = np.asarray(stamps.index, dtype=np.int64) + 1
    flagged = np.flatnonzero(early)
    i = int(flagged[np.argmin(rows[flagged])])  # the lowest row, whatever the order
    raise InputError(
        f"{stamps.iloc[i]} is before the report time reported_at {reported.iloc[i]} "
        f"({int(early.sum())} such row(s) in this part of the file; --bad-rows skip "
        "treats such values as missing)", path=path, column=column, row=int(rows[i]))


def _locate(lon: np.ndarray, lat: np.ndarray, grids: EventGrids, crs: CrsSpec,
            rows: np.ndarray, path) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Slot of each event (grid position, ``n`` outside, ``n + 1`` unlocatable) and
    the extent of the usable points in the grids' CRS."""
    ok = valid_coordinate_mask(lon, lat, crs)
    x, y = lon[ok], lat[ok]
    check_coordinates(x, y, crs, path=path, rows=rows[ok], strict=False)
    if crs.offset:
        x, y = convert_coordinates(x, y, crs.offset, "wgs84")
    n = len(grids)
    slot = np.full(len(lon), n + 1, dtype=np.int64)
    position = grids.index.locate(x, y)
    slot[ok] = np.where(position >= 0, position, n)
    extent = ((float(x.min()), float(y.min()), float(x.max()), float(y.max())) if len(x)
              else (np.inf, np.inf, -np.inf, -np.inf))
    return slot, extent


#: Lon/lat systems treated as one (CGCS2000 and WGS84 differ by centimetres; PROJ's
#: transformation between them is a no-op that would still cost a pass over the layer).
_WGS84_LIKE = frozenset({4326, 4490})


def _same_lonlat(a, b) -> bool:
    return a.equals(b) or (a.to_epsg() in _WGS84_LIKE and b.to_epsg() in _WGS84_LIKE)


def _sla_ns(params: EventParams) -> int:
    return int(round(params.dispatch_sla_hours * 3600 * 1e9))


def _number(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None

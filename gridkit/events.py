"""Work orders (工单): join events to grids; dispatch and closure metrics (SPEC §3).

The work is split so that it runs chunk by chunk in bounded memory and maps
onto dask partitions unchanged:

1. :class:`EventGrids` prepares the layer once: sorted by grid code (so the
   lowest code wins on a shared edge, see :mod:`gridkit.join`), put in the
   events' coordinate system and indexed (:class:`gridkit.join.GridIndex`).
2. :func:`join_chunk` takes one chunk of events and returns the per-event
   flags and a :class:`EventCounts` of additive counts per grid;
3. counts of all chunks are added (``sum(counts)``) and :func:`summarise`
   turns them into the metrics, rolled up with :mod:`gridkit.rollup`.

:func:`join_events_file` runs this over a file: the local engine reads it
in chunks (:func:`accumulate`, bounded memory); ``engine="dask"`` runs the
same :func:`join_chunk` on dask partitions (:mod:`gridkit.dask_engine`).
See ``docs/scale.md``.

Definitions (SPEC §3 and docs/architecture.md): an event is *unlocatable*
when lon/lat is missing, non-finite or impossible for its CRS
(:func:`gridkit.crs.valid_coordinate_mask`), *outside* when no grid covers
it, *located* otherwise. dispatch_accuracy = located dispatched events whose
``assigned_grid_code`` is the containing grid ÷ located dispatched events;
dispatch_timeliness = dispatched events dispatched within the SLA ÷ dispatched
events (located or not); closure_rate = events closed by the period end ÷
events; valid_complaints = events with ``valid_complaint`` true.

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
>>> result = compute_events(grids, events, period_end="2023-12-31")
>>> result.metrics["located"], result.metrics["dispatch_accuracy"], result.metrics["closure_rate"]
(2, 1.0, 0.5)
"""

from __future__ import annotations

import datetime as dt
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gridkit.crs import (
    CrsSpec,
    check_coordinates,
    convert_coordinates,
    guess_projected_crs,
    parse_crs,
    valid_coordinate_mask,
)
from gridkit.errors import InputError
from gridkit.i18n import pick
from gridkit.io import (
    atomic_output,
    check_writable,
    parse_bools,
    parse_datetimes,
    parse_numbers,
    read_events_chunks,
    resolve_columns,
)
from gridkit.join import GridIndex
from gridkit.rollup import finding, ratio, rollup

#: Additive counts kept per grid (and for the two no-grid slots).
COUNT_FIELDS = ("events", "located", "outside", "unlocatable", "dispatched",
                "located_dispatched", "dispatch_correct", "timely", "closed_in_period",
                "valid_complaints")
#: Rate → (numerator, denominator).
RATES = {"dispatch_accuracy": ("dispatch_correct", "located_dispatched"),
         "dispatch_timeliness": ("timely", "dispatched"),
         "closure_rate": ("closed_in_period", "events")}
#: Top-level keys of the JSON read by ``gridkit score --metrics`` (SPEC §7).
METRIC_KEYS = ("events", "located", "outside", "unlocatable", "dispatched",
               "dispatch_accuracy", "dispatch_timeliness", "closure_rate", "valid_complaints")
#: Columns of the joined output (``--out``).
JOINED_COLUMNS = ("event_id", "grid_code", "status", "dispatched", "dispatch_correct", "timely",
                  "closed_in_period", "valid_complaint")
JOINED_SCHEMA = pa.schema([(c, pa.string() if c in ("event_id", "grid_code", "status")
                            else pa.bool_()) for c in JOINED_COLUMNS])
STATUSES = ("located", "outside", "unlocatable")
DEFAULT_SLA_HOURS = 2.0
MAX_EXAMPLES = 5
#: Chunks :func:`accumulate` reads ahead.
PREFETCH = 2
#: Events read and joined per chunk by default (bounds memory: ~100 MB a chunk).
CHUNK_ROWS = 1_000_000
#: Canonical columns the metrics use: only these are read from an events file.
EVENT_COLUMNS = ("event_id", "lon", "lat", "reported_at", "assigned_grid_code",
                 "dispatched_at", "closed_at", "valid_complaint")


@dataclass(frozen=True)
class EventParams:
    """Parameters of the metrics.

    Attributes
    ----------
    crs : coordinate system of the events' lon/lat (GCJ-02/BD-09 are converted).
    sla_hours : dispatch within this many hours of the report is timely.
    period_end : last instant counted as closed in the period (inclusive).
    """

    crs: CrsSpec
    sla_hours: float
    period_end: pd.Timestamp

    def to_dict(self) -> dict:
        end = self.period_end
        is_day_end = end == end.normalize() + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
        return {"crs": self.crs.name, "dispatch_sla_hours": self.sla_hours,
                "period_end": end.date().isoformat() if is_day_end else end.isoformat()}


def resolve_period_end(value: str | dt.date | None, latest_report: pd.Timestamp | None = None,
                       *, path: str | os.PathLike | None = None) -> pd.Timestamp:
    """The inclusive end of the period.

    A date (``2023-12-31``, ``2023/12/31``) means the end of that day; a
    date with a time is taken as is. Without a value: 31 December of the year
    of the latest report.

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
    stamp = parse_datetimes(pd.Series([value]), column="--period-end").iloc[0]
    if pd.isna(stamp):
        raise InputError(f"--period-end: {value!r} is not a date")
    has_time = any(ch in str(value) for ch in ":时点") or stamp != stamp.normalize()
    return stamp if has_time else stamp + day_end


class EventGrids:
    """The grid layer prepared for joining events given in ``crs``.

    Parameters
    ----------
    grids : GeoDataFrame with ``grid_code``, ``community_code`` (optional
        ``grid_name``); any CRS (a layer without one is taken to be in ``crs``).
    crs : the events' coordinate system (``--crs``; default WGS84).
    method : :class:`gridkit.join.GridIndex` method.
    index_options : other :class:`gridkit.join.GridIndex` options, e.g.
        ``{"max_cells": 1 << 26}`` for a province-wide layer (a finer raster).

    Attributes
    ----------
    table : the layer's attributes sorted by grid code (position = index answer).
    code_array : ``grid_code`` in that order, as an Arrow array (for the joined output).
    position_ids : id of each position's code, then -1 (for the no-grid slots).
    """

    def __init__(self, grids, crs: str | CrsSpec = "wgs84", *, method: str = "auto",
                 index_options: Mapping | None = None) -> None:
        self.crs = parse_crs(crs)
        path = grids.attrs.get("source_path")
        missing = [c for c in ("grid_code", "community_code") if c not in grids]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}", path=path,
                             column=missing[0])
        order = np.argsort(grids["grid_code"].astype(str).to_numpy(), kind="stable")
        layer = grids.iloc[order].reset_index(drop=True)
        if layer.crs is not None and not _same_lonlat(layer.crs, self.crs.crs):
            layer = layer.to_crs(self.crs.crs)
        keep = [c for c in ("grid_code", "grid_name", "community_code") if c in layer]
        self.table = pd.DataFrame(layer[keep])
        codes = layer["grid_code"].astype("str")
        self.code_array = pa.array(codes, type=pa.string())
        unique = pd.Index(codes.dropna().unique())
        # Arrow's hash lookup: several times faster than pandas' on millions of codes.
        self._code_values = pa.array(unique, type=pa.string())
        # id of each position's code (equal codes share one id), then -1 for no grid
        self.position_ids = np.append(unique.get_indexer(codes), -1)
        self.index = GridIndex(layer.geometry.to_numpy(), method=method,
                               **dict(index_options or {}))

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
    count and up to :data:`MAX_EXAMPLES` examples per kind. Two of them add up
    with ``+`` (so ``sum(chunks, EventCounts.zeros(n))`` merges a whole run).
    """

    counts: np.ndarray
    findings: dict[str, tuple[int, list[dict]]] = field(default_factory=dict)

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
        return EventCounts(self.counts + other.counts, merged)


def join_chunk(chunk: pd.DataFrame, grids: EventGrids, params: EventParams, *,
               with_joined: bool = True) -> tuple[pa.Table | None, EventCounts]:
    """Join one chunk of events and count it.

    The one place where events become numbers: the local engine
    (:func:`accumulate`) runs it on the chunks of a file, the dask engine
    (:mod:`gridkit.dask_engine`) on every partition.

    Parameters
    ----------
    chunk : canonical event columns (:func:`gridkit.io.read_events_chunks`);
        its index is the 0-based record number in the file (for messages and
        examples; any order).
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
    >>> params = EventParams(grids.crs, 2.0, resolve_period_end("2023-12-31"))
    >>> chunk = pd.DataFrame({"event_id": ["e1", "e2"], "lon": [113.005, 114.0],
    ...                       "lat": [23.005, 23.0],
    ...                       "reported_at": pd.to_datetime(["2023-05-01"] * 2)})
    >>> joined, counts = join_chunk(chunk, grids, params)
    >>> joined["status"].to_pylist(), counts.counts[:, 0].tolist()
    (['located', 'outside'], [1, 1, 0])

    Raises
    ------
    InputError
        A missing column, or a dispatch or closure time before the report time.
    """
    path = chunk.attrs.get("source_path")
    for column in ("event_id", "lon", "lat", "reported_at"):
        if column not in chunk:
            raise InputError(f"missing column {column}; the table has "
                             f"{', '.join(map(str, chunk.columns))}", path=path, column=column)
    rows = np.asarray(chunk.index, dtype=np.int64) + 1
    reported = _times(chunk, "reported_at", path)
    dispatched_at = _times(chunk, "dispatched_at", path)
    closed_at = _times(chunk, "closed_at", path)
    for column, stamps in (("dispatched_at", dispatched_at), ("closed_at", closed_at)):
        _check_order(reported, stamps, column, rows, path)

    lon = parse_numbers(chunk["lon"], path=path, column="lon").to_numpy()
    lat = parse_numbers(chunk["lat"], path=path, column="lat").to_numpy()
    slot = _locate(lon, lat, grids, params.crs, rows, path)
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
        "valid_complaints": (parse_bools(chunk["valid_complaint"], path=path,
                                         column="valid_complaint").to_numpy()
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
    problems.update(_coordinate_problems(lon, lat, params.crs))
    chunk_findings = {}
    for kind, mask in problems.items():
        if kind == "_coordinates":  # a count only
            chunk_findings[kind] = (int(mask.sum()), [])
        elif mask.any():
            candidates = np.flatnonzero(mask)  # the lowest rows, whatever the chunk's order
            picked = candidates[np.argsort(rows[candidates], kind="stable")[:MAX_EXAMPLES]]
            chunk_findings[kind] = (int(mask.sum()), [
                {"row": int(rows[i]), "event_id": event_ids.iloc[i],
                 "lon": _number(lon[i]), "lat": _number(lat[i])} for i in picked])
    return joined, EventCounts(counts, chunk_findings)


def _coordinate_problems(lon: np.ndarray, lat: np.ndarray, crs: CrsSpec
                         ) -> dict[str, np.ndarray]:
    """Masks of the whole-file coordinate checks of :func:`check_majority` (geographic CRS).

    ``_coordinates``: finite points other than 0,0; ``_swapped``: lat/lon read backwards
    (China: x 0–56, y 70–140); ``_projected``: out of ±180/±90 (metres, not degrees).
    Counted per chunk and added up, so the decision does not depend on the chunking.
    """
    if not crs.crs.is_geographic:
        return {}
    usable = np.isfinite(lon) & np.isfinite(lat) & ~((lon == 0) & (lat == 0))
    return {"_coordinates": usable,
            "_swapped": usable & (lon >= 0) & (lon <= 56) & (lat >= 70) & (lat <= 140),
            "_projected": usable & ((np.abs(lon) > 180) | (np.abs(lat) > 90))}


def check_majority(total: EventCounts, crs: CrsSpec, path=None) -> None:
    """Refuse a file whose coordinates are mostly swapped or projected (not degrees).

    Such events would otherwise all be counted as unlocatable; a few of them are
    (an outlier is not a wrong CRS). Decided on the counts of the whole file.

    Raises
    ------
    InputError
        Naming the first such row.
    """
    usable = total.findings.get("_coordinates", (0, []))[0]
    for kind in ("_swapped", "_projected"):
        count, examples = total.findings.get(kind, (0, []))
        if not usable or 2 * count <= usable:
            continue
        first = examples[0]
        share = f"{count} of {usable} coordinates"
        where = "e.g. " + ", ".join(f"{axis}={first[axis]:,.0f}" if abs(first[axis]) >= 1000
                                    else f"{axis}={first[axis]:g}" for axis in ("lon", "lat"))
        if kind == "_swapped":
            raise InputError(f"lon/lat look swapped ({share} have a latitude-like lon and a "
                             f"longitude-like lat, {where}); map the columns the other way "
                             f"round (--column lon=... --column lat=...)", path=path,
                             row=first["row"])
        codes = guess_projected_crs(first["lon"], first["lat"])
        hint = (f"pass --crs {codes[0]}" if codes
                else "pass --crs with their projected EPSG code")
        raise InputError(f"coordinates look projected (metres), not degrees of {crs.name} "
                         f"({share} outside ±180/±90, {where}); {hint}", path=path,
                         row=first["row"])


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
    grids, params : see :func:`join_chunk`.
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
    >>> result = summarise(total, grids, params)  # doctest: +SKIP
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
                joined, counts = join_chunk(chunk, grids, params, with_joined=sink is not None)
                total = total + counts
                path = chunk.attrs.get("source_path", path)
                if sink is not None:
                    sink(joined)
                if on_chunk is not None:
                    on_chunk(len(chunk))
        finally:
            for future in pending:
                future.cancel()
    check_majority(total, params.crs, path)  # before a sink's output is committed
    return total


@dataclass
class EventsResult:
    """What :func:`summarise` returns.

    Attributes
    ----------
    metrics : whole-set counts and rates (keys :data:`METRIC_KEYS` and the
        other counts of :data:`COUNT_FIELDS`); a rate with a zero denominator is ``None``.
    rows : one row per unit of level ``by``, plus a row with ``code`` None for
        the events in no grid (outside or unlocatable) when there are any, so
        that every column adds up to the whole.
    per_grid : counts and rates per grid of the layer (sorted by grid code).
    findings : outside, unlocatable and inconsistent events (count and examples).
    joined : the joined events (:func:`compute_events` only).
    """

    metrics: dict
    rows: pd.DataFrame
    per_grid: pd.DataFrame
    findings: list[dict]
    params: EventParams
    by: str
    joined: pd.DataFrame | None = None

    def to_dict(self) -> dict:
        """The SPEC §7 JSON: flat metrics, ``by``, ``parameters``, ``rows``, ``findings``."""
        rows = self.rows.astype(object).where(self.rows.notna(), None)
        return {**self.metrics, "by": self.by, "parameters": self.params.to_dict(),
                "rows": rows.to_dict("records"), "findings": self.findings}


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
              by: str = "district", names: Mapping[str, str] | None = None,
              lang: str = "zh", path: str | None = None) -> EventsResult:
    """Metrics from the added-up counts of all chunks.

    Parameters
    ----------
    total : the sum of the chunks' :class:`EventCounts`.
    grids : the prepared layer the counts refer to.
    params : the parameters used.
    by : roll-up level (:data:`gridkit.rollup.BY_LEVELS`).
    names : code → name from the official code list.
    lang : language of names and messages.
    path : the events file, named in the findings.
    """
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
    findings = [finding(kind, pick(lang, zh=zh, en=en).format(n=total.findings[kind][0]),
                        total.findings[kind][0], total.findings[kind][1], table="events",
                        path=path)
                for kind, (zh, en) in _MESSAGES.items() if kind in total.findings]
    return EventsResult(metrics=metrics, rows=rows, per_grid=per_grid, findings=findings,
                        params=params, by=by)


def compute_events(grids, events: pd.DataFrame, *, crs: str | CrsSpec = "wgs84",
                   sla_hours: float = DEFAULT_SLA_HOURS,
                   period_end: str | dt.date | None = None, by: str = "district",
                   names: Mapping[str, str] | None = None, lang: str = "zh",
                   method: str = "auto") -> EventsResult:
    """Join an in-memory events table to a grid layer and compute the metrics.

    Parameters
    ----------
    grids : the grid layer (GeoDataFrame).
    events : events with canonical columns (see :func:`join_chunk`).
    crs : the events' coordinate system (``--crs``).
    sla_hours : ``--dispatch-sla``.
    period_end : ``--period-end``; default 31 December of the latest report's year.
    by, names, lang : see :func:`summarise`.
    method : :class:`gridkit.join.GridIndex` method.

    Returns
    -------
    EventsResult, with ``joined`` set.
    """
    prepared = EventGrids(grids, crs, method=method)
    reported = _times(events, "reported_at", events.attrs.get("source_path"))
    params = EventParams(prepared.crs, float(sla_hours),
                         resolve_period_end(period_end, reported.max(),
                                            path=events.attrs.get("source_path")))
    parts: list[pd.DataFrame] = []
    total = accumulate([events], prepared, params, sink=parts.append)
    result = summarise(total, prepared, params, by=by, names=names, lang=lang,
                       path=events.attrs.get("source_path"))
    result.joined = pa.concat_tables(parts or [JOINED_SCHEMA.empty_table()]).to_pandas()
    return result


ENGINES = ("local", "dask")


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


def latest_report(path: str | os.PathLike, columns: Mapping[str, str] | None = None,
                  chunk_rows: int = CHUNK_ROWS) -> pd.Timestamp | None:
    """The latest ``reported_at`` in an events file, for the default period end.

    From the Parquet row-group statistics when ``reported_at`` is stored as a
    timestamp (no data read); otherwise a first pass over the file (that
    column only).

    Examples
    --------
    >>> latest_report("events.parquet")  # doctest: +SKIP
    Timestamp('2023-12-31 23:58:07')
    """
    if Path(path).suffix.lower() == ".parquet":
        found, latest = _parquet_latest(path, columns)
        if found:
            return latest
    maxima = [c["reported_at"].max()
              for c in read_events_chunks(path, columns=columns, chunk_rows=chunk_rows,
                                          select=("reported_at",))]
    maxima = [t for t in maxima if pd.notna(t)]
    return max(maxima) if maxima else None


def _parquet_latest(path, columns: Mapping[str, str] | None
                    ) -> tuple[bool, pd.Timestamp | None]:
    """(True, max) from the statistics of a timestamp ``reported_at``; (False, None) if unusable."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except (OSError, ValueError):
        return False, None  # the reader proper reports the problem
    schema = meta.schema.to_arrow_schema()
    mapping = resolve_columns(schema.names, "events", columns, path=path)
    source = next((s for s, c in mapping.items() if c == "reported_at"), None)
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
    latest = parse_datetimes(pd.Series(maxima), path=path, column="reported_at")
    return True, latest.max()


def prepare_events(grids, events: str | os.PathLike, *, crs: str | CrsSpec = "wgs84",
                   sla_hours: float = DEFAULT_SLA_HOURS,
                   period_end: str | dt.date | None = None,
                   columns: Mapping[str, str] | None = None,
                   chunk_rows: int = CHUNK_ROWS,
                   method: str = "auto", index_cache: str | os.PathLike | None = None,
                   ) -> tuple[EventGrids, EventParams, int | None]:
    """What both engines need before the first event is joined.

    The layer prepared (:class:`EventGrids`), the period end resolved (from
    the Parquet statistics or a first pass over the file when not given), and
    the raster planned when the file's row count shows it pays.

    Parameters
    ----------
    grids, events, crs, sla_hours, period_end, columns, chunk_rows, method, index_cache :
        as :func:`join_events_file`.

    Returns
    -------
    (prepared layer, parameters, number of events or None when unknown before reading)

    Examples
    --------
    >>> grids, params, rows = prepare_events(layer, "events.parquet")  # doctest: +SKIP
    >>> rows  # doctest: +SKIP
    10000000
    """
    prepared = EventGrids(grids, crs, method=method,
                          index_options={"cache": index_cache} if index_cache else None)
    latest = None if period_end is not None else latest_report(events, columns, chunk_rows)
    params = EventParams(prepared.crs, float(sla_hours),
                         resolve_period_end(period_end, latest, path=events))
    rows = event_rows(events)
    if rows is not None:
        prepared.index.expect(rows)  # build the raster at once for a big file
    return prepared, params, rows


@contextmanager
def progress_bar(total: int | None, lang: str = "zh", *, enabled: bool = True,
                 unit: str | None = None) -> Iterator[Callable[[int], object] | None]:
    """A tqdm progress bar on stderr; yields its ``update`` (None when not ``enabled``).

    ``total`` (known for Parquet) gives a percentage and the time left.

    Examples
    --------
    >>> with progress_bar(3, "en", enabled=False) as update:
    ...     update is None
    True
    """
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit=unit or pick(lang, zh="条", en=" events"),
              unit_scale=unit is None, leave=False, desc=pick(lang, zh="工单", en="events")) as bar:
        yield bar.update


def join_events_file(grids, events: str | os.PathLike, *, crs: str | CrsSpec = "wgs84",
                     sla_hours: float = DEFAULT_SLA_HOURS,
                     period_end: str | dt.date | None = None, by: str = "district",
                     names: Mapping[str, str] | None = None, lang: str = "zh",
                     columns: Mapping[str, str] | None = None,
                     out: str | os.PathLike | None = None, force: bool = False,
                     chunk_rows: int = CHUNK_ROWS, progress: bool = False,
                     engine: str = "local", method: str = "auto",
                     index_cache: str | os.PathLike | None = None,
                     **dask_options) -> EventsResult:
    """Join an events file to a grid layer and compute the metrics, in bounded memory.

    ``gridkit events`` in a function. The local engine reads the file in
    chunks of ``chunk_rows`` events (Parquet batches, CSV chunks), joins each
    with :func:`join_chunk` and adds up the counts; memory stays at a few
    chunks whatever the file's size. ``engine="dask"`` runs the same
    :func:`join_chunk` on dask partitions instead
    (:func:`gridkit.dask_engine.join_events_dask`), with the same results.

    Parameters
    ----------
    grids : the grid layer (GeoDataFrame, e.g. from :func:`gridkit.io.read_layer`).
    events : CSV, Excel or Parquet work-order file.
    crs : the events' coordinate system (``--crs``).
    sla_hours, period_end : ``--dispatch-sla``, ``--period-end`` (default: 31
        December of the latest report's year).
    by, names, lang : see :func:`summarise`.
    columns : column overrides ``{canonical: source}`` for the events file.
    out : write the joined events (:data:`JOINED_SCHEMA`, in file order) to
        this Parquet file (atomically; refused if it exists unless ``force``).
    chunk_rows : events per chunk (local engine) or per partition (dask).
    progress : show a progress bar on stderr.
    engine : ``"local"`` or ``"dask"``.
    method : :class:`gridkit.join.GridIndex` method.
    index_cache : folder of built lookup rasters (:mod:`gridkit.index_cache`),
        local engine only: a raster built before for the same grids is reused.
    dask_options : passed to :func:`gridkit.dask_engine.join_events_dask`
        (``scheduler``, ``client``, ``workers``, ``spatial``).

    Returns
    -------
    EventsResult (``joined`` not set: see ``out``).

    Raises
    ------
    InputError
        Bad input (missing column, bad value, existing ``out``, ...).

    Examples
    --------
    >>> from gridkit.io import read_layer
    >>> layer = read_layer("grids.gpkg")  # doctest: +SKIP
    >>> result = join_events_file(layer, "events.parquet", period_end="2023-12-31",
    ...                           out="joined.parquet")  # doctest: +SKIP
    >>> result.metrics["dispatch_accuracy"]  # doctest: +SKIP
    0.9639
    """
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if engine == "dask":
        if index_cache is not None:
            raise InputError("--index-cache works with --engine local only")
        from gridkit.dask_engine import join_events_dask

        return join_events_dask(grids, events, crs=crs, sla_hours=sla_hours,
                                period_end=period_end, by=by, names=names, lang=lang,
                                columns=columns, out=out, force=force,
                                partition_rows=chunk_rows, progress=progress, method=method,
                                **dask_options)
    if dask_options:
        raise TypeError(f"options only for engine='dask': {', '.join(dask_options)}")
    check_joined_out(out, force, events, grids)
    prepared, params, rows = prepare_events(grids, events, crs=crs, sla_hours=sla_hours,
                                            period_end=period_end, columns=columns,
                                            chunk_rows=chunk_rows, method=method,
                                            index_cache=index_cache)
    chunks = read_events_chunks(events, columns=columns, chunk_rows=chunk_rows,
                                select=EVENT_COLUMNS)
    with progress_bar(rows, lang, enabled=progress) as update:
        if out is None:
            total = accumulate(chunks, prepared, params, on_chunk=update)
        else:
            import pyarrow.parquet as pq

            with atomic_output(out, force) as tmp, \
                    pq.ParquetWriter(tmp, JOINED_SCHEMA) as writer:
                total = accumulate(chunks, prepared, params, sink=writer.write_table,
                                   on_chunk=update)
    return summarise(total, prepared, params, by=by, names=names, lang=lang, path=str(events))


def check_joined_out(out: str | os.PathLike | None, force: bool, events, grids) -> None:
    """Refuse an ``out`` that is not ``.parquet``, exists (without ``force``) or is an input."""
    if out is None:
        return
    if Path(out).suffix.lower() != ".parquet":
        raise InputError("the joined-events output must be a .parquet file", path=out)
    check_writable(out, force, inputs=(events, grids.attrs.get("source_path")), folder=False)


def _times(chunk: pd.DataFrame, column: str, path) -> pd.Series:
    """A timestamp column (parsed if it is not yet); all NaT when absent."""
    if column not in chunk:
        return pd.Series(pd.NaT, index=chunk.index, dtype="datetime64[ns]")
    return parse_datetimes(chunk[column], path=path, column=column)


def _check_order(reported: pd.Series, stamps: pd.Series, column: str, rows: np.ndarray,
                 path) -> None:
    """Raise when ``stamps`` precede the report time."""
    early = (stamps < reported).to_numpy()
    if early.any():
        flagged = np.flatnonzero(early)
        i = int(flagged[np.argmin(rows[flagged])])  # the lowest row, whatever the order
        raise InputError(
            f"{stamps.iloc[i]} is before the report time reported_at {reported.iloc[i]} "
            f"({int(early.sum())} such row(s) in this part of the file)",
            path=path, column=column, row=int(rows[i]))


def _locate(lon: np.ndarray, lat: np.ndarray, grids: EventGrids, crs: CrsSpec,
            rows: np.ndarray, path) -> np.ndarray:
    """Slot of each event: grid position, ``n`` outside, ``n + 1`` unlocatable."""
    ok = valid_coordinate_mask(lon, lat, crs)
    x, y = lon[ok], lat[ok]
    check_coordinates(x, y, crs, path=path, rows=rows[ok], strict=False)
    if crs.offset:
        x, y = convert_coordinates(x, y, crs.offset, "wgs84")
    n = len(grids)
    slot = np.full(len(lon), n + 1, dtype=np.int64)
    position = grids.index.locate(x, y)
    slot[ok] = np.where(position >= 0, position, n)
    return slot


#: Lon/lat systems treated as one (CGCS2000 and WGS84 differ by centimetres; PROJ's
#: transformation between them is a no-op that would still cost a pass over the layer).
_WGS84_LIKE = frozenset({4326, 4490})


def _same_lonlat(a, b) -> bool:
    return a.equals(b) or (a.to_epsg() in _WGS84_LIKE and b.to_epsg() in _WGS84_LIKE)


def _sla_ns(params: EventParams) -> int:
    return int(round(params.sla_hours * 3600 * 1e9))


def _number(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None

"""Work orders (``events.parquet``): planned per grid, written in row groups."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import shapely
from pyproj import Transformer
from shapely import STRtree

from gridkit.crs import WGS84
from gridkit.errors import InputError
from gridkit.synth.common import (
    DISPATCH_SLA_HOURS,
    EVENT_ROW_GROUP,
    METRIC_CRS,
    random_stream,
    ratio,
)
from gridkit.synth.partition import sample_points

__all__ = [
    "CATEGORIES", "EDGE_MARGIN_M", "EVENT_SCHEMA", "EventPlan", "plan_events", "write_events"
]

_PERIOD_START = np.datetime64("2023-01-01T00:00:00", "s")
_PERIOD_END_EXCL = np.datetime64("2024-01-01T00:00:00", "s")
_SLA_S = DISPATCH_SLA_HOURS * 3600


#: Work-order categories and their relative frequency.
CATEGORIES = {
    "环境卫生": 18, "出租屋管理": 15, "治安隐患": 14, "消防安全": 12, "矛盾纠纷": 9,
    "市容环境": 8, "安全生产": 6, "城市管理": 6, "道路交通": 4, "特殊人群服务": 3,
    "劳动保障": 2, "食品药品安全": 2, "其他": 1,
}
_HOURLY = np.array([0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 3.2, 3.0,
                    2.0, 2.2, 3.0, 3.2, 3.0, 2.5, 1.8, 1.5, 1.2, 0.9, 0.6, 0.4])
EVENT_SCHEMA = pa.schema([
    ("event_id", pa.string()), ("lon", pa.float64()), ("lat", pa.float64()),
    ("reported_at", pa.timestamp("s")), ("assigned_grid_code", pa.string()),
    ("dispatched_at", pa.timestamp("s")), ("closed_at", pa.timestamp("s")),
    ("valid_complaint", pa.bool_()), ("category", pa.string()),
])
_RATES = {"outside": 0.002, "unlocatable": 1e-4, "valid": 1e-5, "dispatched": 0.99,
          "timely": 0.988, "accurate": 0.9639, "unclosed": 2e-4}
EDGE_MARGIN_M = 5.0
_DEFECT_MARGIN_M = 30.0


@dataclass
class EventPlan:
    """Where events go: eligible grids (shrunk by 5 m), their neighbours and the outside.

    Attributes
    ----------
    codes : grid code of every row of the layer (what ``assigned_grid_code`` draws from)
    inner : eligible grids shrunk by 5 m (metric CRS)
    row : layer row of each eligible grid
    cumweight : cumulative population of the eligible grids (events ∝ population)
    nbr_start, nbr : neighbouring layer rows of each eligible grid (CSR)
    away : the area covered by grids grown by 100 m; outside events avoid it
    frame : box (minx, miny, maxx, maxy) in which outside events are drawn
    """

    codes: pa.Array
    inner: np.ndarray
    row: np.ndarray
    cumweight: np.ndarray
    nbr_start: np.ndarray
    nbr: np.ndarray
    away: shapely.Geometry
    frame: tuple[float, float, float, float]


def plan_events(layer: gpd.GeoDataFrame, covered: shapely.Geometry,
                defect_codes: set[str] = frozenset()) -> EventPlan:
    """Choose the grids that receive events: no defect within 30 m, 5 m from every edge.

    Parameters
    ----------
    layer : the grid layer as written, in the metric CRS.
    covered : the area of the districts (outside events are placed 100 m+ away from it).
    defect_codes : grid codes touched by defects.
    """
    geoms = np.asarray(layer.geometry.values, dtype=object)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    fixed = np.where(usable & ~shapely.is_valid(geoms), shapely.make_valid(geoms), geoms)
    codes = layer["grid_code"].to_numpy(dtype=str)
    bad = usable & np.isin(codes, list(defect_codes))
    ok = usable & ~bad & (shapely.get_type_id(geoms) == 3) & shapely.is_valid(geoms)
    tree = STRtree(np.where(usable, fixed, None))
    if bad.any():
        _, hit = tree.query(shapely.buffer(fixed[bad], _DEFECT_MARGIN_M), predicate="intersects")
        ok[hit] = False
    inner = shapely.buffer(geoms, -EDGE_MARGIN_M)
    ok &= ~shapely.is_empty(inner) & (shapely.area(inner) > 1.0)
    rows = np.flatnonzero(ok)
    if not len(rows):
        raise InputError("no grid can receive events", hint="use more {option}",
                         option=("grids", None))
    a, b = tree.query(geoms[rows], predicate="intersects")
    keep = rows[a] != b
    a, b = a[keep], b[keep]
    away = shapely.buffer(covered, 100.0)
    x0, y0, x1, y1 = shapely.bounds(away)
    pad = 5000.0
    return EventPlan(
        codes=pa.array(codes, pa.string()), inner=inner[rows], row=rows,
        cumweight=np.cumsum(layer["population"].to_numpy(dtype=float)[rows]),
        nbr_start=np.searchsorted(a, np.arange(len(rows) + 1)), nbr=b, away=away,
        frame=(x0 - pad, y0 - pad, x1 + pad, y1 + pad))


def _special_count(n: int, rate: float) -> int:
    """How many of ``n`` events get a rare property (at least one in 1000+ events)."""
    k = int(round(n * rate))
    return max(k, 1) if n >= 1000 else k


def _report_times(m: int, rng: np.random.Generator) -> np.ndarray:
    """Report times through 2023 (int seconds since the epoch) with weekly and daily rhythm."""
    days = np.arange(365)
    weekday = (days + 6) % 7  # 2023-01-01 was a Sunday: 0 = Monday
    weight = np.where(weekday >= 5, 0.85, 1.0)
    weight[20:27] *= 0.55    # Spring Festival
    weight[273:280] *= 0.75  # National Day holidays
    day = rng.choice(days, m, p=weight / weight.sum())
    hour = rng.choice(24, m, p=_HOURLY / _HOURLY.sum())
    start = _PERIOD_START.astype(np.int64)
    return start + day * 86400 + hour * 3600 + rng.integers(0, 3600, m)


def _dispatch_delays(m: int, rng: np.random.Generator) -> np.ndarray:
    """Seconds from report to dispatch: ~98.8 % within the 2 h SLA, mostly within minutes."""
    fast = 60 + rng.exponential(1200.0, m)
    fast = np.where(fast <= _SLA_S, fast, rng.uniform(60, _SLA_S, m))
    late = _SLA_S + 1 + rng.exponential(6 * 3600.0, m)
    return np.where(rng.random(m) < _RATES["timely"], fast, late).astype(np.int64)


def _outside_points(m: int, plan: EventPlan, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Points in ``plan.frame`` at least 100 m outside every district."""
    shapely.prepare(plan.away)
    x0, y0, x1, y1 = plan.frame
    x, y = np.empty(0), np.empty(0)
    while len(x) < m:
        tx, ty = rng.uniform(x0, x1, 2 * m + 16), rng.uniform(y0, y1, 2 * m + 16)
        out = ~shapely.contains_xy(plan.away, tx, ty)
        x, y = np.r_[x, tx[out]], np.r_[y, ty[out]]
    return x[:m], y[:m]


def _chunk(first: int, m: int, plan: EventPlan, specials: dict[str, np.ndarray],
           rng: np.random.Generator, to_lonlat: Transformer) -> tuple[pa.Table, dict[str, int]]:
    """Events ``first`` .. ``first + m - 1`` as an Arrow table, and their counts."""
    kind = np.zeros(m, np.int8)  # 0 located, 1 outside, 2 unlocatable
    local = {k: v[(v >= first) & (v < first + m)] - first for k, v in specials.items()}
    kind[local["outside"]] = 1
    kind[local["unlocatable"]] = 2
    total = plan.cumweight[-1]
    grid = np.searchsorted(plan.cumweight, rng.random(m) * total, side="right")
    x = np.full(m, np.nan)
    y = np.full(m, np.nan)
    located = kind == 0
    x[located], y[located] = sample_points(plan.inner, grid[located], rng)
    x[kind == 1], y[kind == 1] = _outside_points(int((kind == 1).sum()), plan, rng)
    lon, lat = to_lonlat.transform(x, y)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    unloc = local["unlocatable"]
    variant = (unloc + first) % 3
    lon[unloc[variant == 1]], lat[unloc[variant == 1]] = 0.0, 0.0
    swapped = unloc[variant == 2]  # lon/lat swapped: lat > 90
    lon[swapped], lat[swapped] = 23.13 + rng.random(len(swapped)) * 0.1, \
        113.26 + rng.random(len(swapped)) * 0.1

    reported = _report_times(m, rng)
    dispatched = rng.random(m) < _RATES["dispatched"]
    delay = _dispatch_delays(m, rng)
    degree = np.diff(plan.nbr_start)[grid]
    pick = plan.nbr_start[grid] + np.floor(rng.random(m) * degree).astype(np.int64)
    neighbour = np.where(degree > 0, plan.nbr[np.minimum(pick, len(plan.nbr) - 1)],
                         plan.row[grid]) if len(plan.nbr) else plan.row[grid]
    correct = rng.random(m) < _RATES["accurate"]
    assigned = np.where(correct, plan.row[grid], neighbour)
    handled = np.where(dispatched, reported + delay, reported)
    process = np.maximum(300, np.exp(rng.normal(np.log(3 * 3600), 1.0, m))).astype(np.int64)
    closed = handled + process
    open_ = rng.random(m) < _RATES["unclosed"]
    valid = np.zeros(m, bool)
    valid[local["valid"]] = True
    cats = np.array(list(CATEGORIES))
    weights = np.array(list(CATEGORIES.values()), dtype=float)
    category = rng.choice(len(cats), m, p=weights / weights.sum())

    ids = pc.utf8_lpad(pc.cast(pa.array(np.arange(first + 1, first + m + 1)), pa.string()),
                       9, "0")
    table = pa.Table.from_arrays([
        pc.binary_join_element_wise("WG2023", ids, ""),
        pa.array(lon), pa.array(lat),
        pa.array(reported, pa.timestamp("s")),
        plan.codes.take(pa.array(assigned, mask=~dispatched)),
        pa.array(reported + delay, pa.timestamp("s"), mask=~dispatched),
        pa.array(closed, pa.timestamp("s"), mask=open_),
        pa.array(valid),
        pa.array(cats, pa.string()).take(pa.array(category)),
    ], schema=EVENT_SCHEMA)
    end = _PERIOD_END_EXCL.astype(np.int64)
    counts = {
        "events": m, "located": int(located.sum()), "outside": int((kind == 1).sum()),
        "unlocatable": int((kind == 2).sum()), "dispatched": int(dispatched.sum()),
        "located_dispatched": int((located & dispatched).sum()),
        "accurate": int((located & dispatched & correct).sum()),
        "timely": int((dispatched & (delay <= _SLA_S)).sum()),
        "closed": int((~open_ & (closed < end)).sum()), "valid_complaints": int(valid.sum()),
    }
    return table, counts


def write_events(path: str | os.PathLike, plan: EventPlan, n: int, seed: int = 0,
                 tick: Callable[[], None] | None = None) -> dict[str, float | int | None]:
    """Write ``n`` work orders to a Parquet file in row groups of one million.

    Located events lie inside eligible grids (≥ 5 m from their edges) in
    proportion to population; ~0.2 % lie outside every district, ~0.01 % are
    unlocatable (NaN, 0,0 or lon/lat swapped so lat > 90). About 99 % are
    dispatched, ~98.8 % of them within the 2 h SLA, ~96.4 % of located
    dispatched events to the grid they lie in (else to a neighbour); ~99.97 %
    are closed, a few after 2023. Memory is bounded by one row group.

    Returns
    -------
    The expected event metrics (``docs/architecture.md`` definitions).
    """
    kinds = random_stream(seed, "event_kinds")
    sizes = {k: _special_count(n, _RATES[k]) for k in ("outside", "unlocatable", "valid")}
    chosen = kinds.choice(n, sum(sizes.values()), replace=False) if n else np.zeros(0, int)
    bounds = np.cumsum([0, *sizes.values()])
    specials = {k: np.sort(chosen[bounds[i]:bounds[i + 1]]) for i, k in enumerate(sizes)}
    to_lonlat = Transformer.from_crs(METRIC_CRS, WGS84, always_xy=True)
    totals: dict[str, int] = {}
    with pq.ParquetWriter(path, EVENT_SCHEMA, compression="zstd") as writer:
        for j, first in enumerate(range(0, n, EVENT_ROW_GROUP)):
            m = min(EVENT_ROW_GROUP, n - first)
            table, counts = _chunk(first, m, plan, specials,
                                   random_stream(seed, "events", j), to_lonlat)
            writer.write_table(table, row_group_size=EVENT_ROW_GROUP)
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
            if tick is not None:
                tick()
    return _event_metrics(totals, n)


def _event_metrics(t: dict[str, int], n: int) -> dict[str, float | int | None]:
    get = t.get
    return {
        "events": n, "located": get("located", 0), "outside": get("outside", 0),
        "unlocatable": get("unlocatable", 0), "dispatched": get("dispatched", 0),
        "dispatch_accuracy": ratio(get("accurate", 0), get("located_dispatched", 0)),
        "dispatch_timeliness": ratio(get("timely", 0), get("dispatched", 0)),
        "closure_rate": ratio(get("closed", 0), n),
        "valid_complaints": get("valid_complaints", 0),
    }

"""Synthetic Guangzhou (``gridkit synth``): grids, rosters, work orders and the truth.

The generator builds a realistic, fully known data set on the real district
outlines (``data/guangzhou-districts.geojson``) with the real 2023 street and
community codes (``data/guangzhou-divisions-2023.csv``):

* districts → streets → communities → grids, each level an exact partition of
  its parent: relaxed Voronoi cells of seeded points whose edges are densified
  and wiggled *once* (so neighbours share them vertex for vertex), noded
  together with the parent boundaries and polygonised. All work is done in
  EPSG:4547 and written in EPSG:4490; every shared vertex is transformed by
  the same deterministic function, so the partition stays exact.
* rosters (filings, Party organisations, cadres, grid workers) and work orders
  (``events.parquet``, written in row groups of one million);
* optional defects of every validation rule id of SPEC §7;
* ``truth.json``: the defects and the expected metrics, computed here from
  what was generated (never with gridkit's own metric code).

Numbering convention (SPEC §1): the 3-digit serial of a grid code counts the
grids of a community in reading order, see :func:`serial_order`.

Examples
--------
>>> truth = synthesize("out", grids=2000, events=20000, seed=7)  # doctest: +SKIP
>>> city = build_city(120, seed=1, districts=["440104"])          # doctest: +SKIP
>>> len(city.grids)                                               # doctest: +SKIP
120
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pyogrio
import shapely
from pyproj import Transformer
from shapely import STRtree

from gridkit.crs import convert_geometries
from gridkit.divisions import (
    DISTRICT_OUTLINES,
    GUANGZHOU_CODES,
    code_names,
    load_divisions,
    parent_code,
)
from gridkit.errors import InputError
from gridkit.io.write import atomic_output

METRIC_CRS = "EPSG:4547"
OUTPUT_CRS = "EPSG:4490"
DISPATCH_SLA_HOURS = 2
PERIOD_END = "2023-12-31"
EVENT_ROW_GROUP = 1_000_000

#: Resident population 2023 (10,000 people) per district: how many grids each gets.
DISTRICT_POPULATION = {
    "440103": 111.5, "440104": 103.9, "440105": 181.9, "440106": 224.2,
    "440111": 374.3, "440112": 129.8, "440113": 282.5, "440114": 170.9,
    "440115": 94.3, "440117": 66.7, "440118": 150.5,
}
#: Mean number of grids per community aimed at when communities are subsetted.
GRIDS_PER_COMMUNITY = 5.0
#: Grid edges get about this many vertices per side-length of a mean grid.
_VERTEX_SPACING = 0.043
_WIGGLE = 0.05

FILES = (
    "grids.gpkg", "communities.gpkg", "reference.gpkg", "filings.csv", "party.csv",
    "cadres.csv", "workers.csv", "events.parquet", "truth.json",
)
OFFSET_FILE = "grids-gcj02.gpkg"

_STREAMS = {"geometry": 1, "defects": 2, "rosters": 3, "events": 4, "event_kinds": 5}

_PERIOD_START = np.datetime64("2023-01-01T00:00:00", "s")
_PERIOD_END_EXCL = np.datetime64("2024-01-01T00:00:00", "s")
_SLA_S = DISPATCH_SLA_HOURS * 3600
_GPKG_DATE = "2024-01-01T00:00:00Z"  # gpkg_contents.last_change: byte-identical output


def _rng(seed: int, stream: str, *more: int) -> np.random.Generator:
    """Independent random stream ``stream`` of ``seed`` (same seed → same numbers)."""
    return np.random.default_rng([seed, _STREAMS[stream], *more])


# --------------------------------------------------------------------------- numbering


def serial_order(geometry: Sequence | gpd.GeoSeries, community_code: Sequence[str]) -> np.ndarray:
    """Position (1-based) of each grid in the numbering convention of its community.

    Grid serials run west→east, north→south inside a community, like reading
    text: rows from north to south, west to east inside a row. Exactly:

    1. each grid is represented by its centroid ``(x, y)`` in a metric CRS
       (pass geometries in EPSG:4547 or another metric CRS);
    2. the row height of a community is the side of its mean grid,
       ``h = sqrt(sum of its grids' areas / number of its grids)``;
    3. a grid's row is ``floor((y_max - y) / h)`` with ``y_max`` the northernmost
       centroid of the community;
    4. grids are sorted by (row, x) and numbered 1, 2, ... (ties: y descending,
       then input order).

    Null or empty geometries get 0 and are left out of the numbering. A layer
    is numbered correctly when, inside each community, ordering its grids by
    serial gives positions 1..n.

    Parameters
    ----------
    geometry : polygons in a metric CRS (GeoSeries or array-like of shapely geometries).
    community_code : the group of each grid (the 12-digit code prefix for a layer).

    Returns
    -------
    numpy int64 array, one position per grid.

    Examples
    --------
    >>> from shapely import box
    >>> serial_order([box(100, 0, 200, 100), box(0, 0, 100, 100), box(0, 100, 100, 200)],
    ...              ["c", "c", "c"]).tolist()
    [3, 2, 1]
    """
    geoms = np.asarray(geometry.values if isinstance(geometry, gpd.GeoSeries) else geometry,
                       dtype=object)
    groups = pd.Series(np.asarray(community_code, dtype=object)).astype(str).to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out = np.zeros(len(geoms), dtype=np.int64)
    if not present.any():
        return out
    idx = np.flatnonzero(present)
    centre = shapely.centroid(geoms[idx])
    frame = pd.DataFrame({
        "g": groups[idx], "x": shapely.get_x(centre), "y": shapely.get_y(centre),
        "a": shapely.area(geoms[idx]), "i": np.arange(len(idx)),
    })
    by = frame.groupby("g", sort=False)
    height = np.sqrt(by["a"].transform("sum") / by["a"].transform("size"))
    height = height.where(height > 0, 1.0)
    frame["row"] = np.floor((by["y"].transform("max") - frame["y"]) / height)
    frame = frame.sort_values(["g", "row", "x", "y", "i"],
                              ascending=[True, True, True, False, True])
    frame["rank"] = frame.groupby("g", sort=False).cumcount() + 1
    out[idx[frame["i"].to_numpy()]] = frame["rank"].to_numpy()
    return out


# --------------------------------------------------------------------------- allocation


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into non-negative integers proportional to ``weights``.

    >>> _apportion(10, np.array([1.0, 1.0, 2.0])).tolist()
    [3, 2, 5]
    """
    w = np.asarray(weights, dtype=float)
    share = total * w / w.sum()
    base = np.floor(share).astype(np.int64)
    order = np.argsort(-(share - base), kind="stable")
    base[order[: total - int(base.sum())]] += 1
    return base


def select_districts(districts: Sequence[str] | None, divisions: pd.DataFrame) -> list[str]:
    """Validate district codes (default: all districts of the code list, in list order).

    >>> select_districts(["440104", "440103"], load_divisions(GUANGZHOU_CODES))
    ['440103', '440104']
    """
    known = divisions.loc[divisions["level"] == "district", "code"].tolist()
    if districts is None:
        return known
    wanted = [str(c).strip() for c in districts if str(c).strip()]
    unknown = [c for c in wanted if c not in known]
    if unknown or not wanted:
        raise InputError(
            f"--districts: unknown district code(s) {', '.join(unknown) or '(none given)'}; "
            f"known: {', '.join(known)}")
    return [c for c in known if c in wanted]


def allocate(n_grids: int, district_codes: Sequence[str], divisions: pd.DataFrame,
             rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Decide how many grids each street and which communities get.

    Districts get grids in proportion to their population (all streets at
    least one), streets in proportion to their number of real communities.
    When there are fewer grids than about ``GRIDS_PER_COMMUNITY`` × communities,
    each street keeps a random subset of its communities (at least one) so that
    a community has about 3–8 grids.

    Returns
    -------
    streets : ``code, name, parent_code, grids, communities`` (all streets of the districts)
    communities : ``code, name, parent_code, grids`` (the communities used), sorted by code.

    Examples
    --------
    >>> s, c = allocate(120, ["440104"], load_divisions(GUANGZHOU_CODES), np.random.default_rng(0))
    >>> int(s["grids"].sum()), int(c["grids"].sum()), bool((c["grids"] >= 1).all())
    (120, 120, True)
    """
    streets = divisions[(divisions["level"] == "street")
                        & divisions["parent_code"].isin(district_codes)].sort_values("code")
    comms = divisions[(divisions["level"] == "community")
                      & divisions["parent_code"].isin(streets["code"])].sort_values("code")
    if n_grids < len(streets):
        raise InputError(f"--grids must be at least the number of streets of the districts "
                         f"({len(streets)}), got {n_grids}")
    per_street = comms.groupby("parent_code").size().reindex(streets["code"], fill_value=0)
    if (per_street == 0).any() or n_grids > 999 * len(comms):
        raise InputError(f"--grids must be at most {999 * len(comms)} for these districts")
    n_streets = streets.groupby("parent_code").size().reindex(district_codes).to_numpy()
    pop = np.array([DISTRICT_POPULATION.get(c, 100.0) for c in district_codes])
    per_district = n_streets + _apportion(n_grids - len(streets), pop)
    street_grids = np.concatenate([
        1 + _apportion(int(g - n), per_street.loc[grp["code"]].to_numpy())
        for g, n, (_, grp) in zip(per_district, n_streets,
                                  streets.groupby("parent_code", sort=False))
    ]) if len(streets) else np.zeros(0, np.int64)
    streets = streets.assign(grids=street_grids, communities=0)
    used = []
    for i, (code, grids) in enumerate(zip(streets["code"], streets["grids"])):
        options = comms[comms["parent_code"] == code]
        k = int(np.clip(round(grids / GRIDS_PER_COMMUNITY), 1, len(options)))
        pick = options.iloc[np.sort(rng.choice(len(options), size=k, replace=False))]
        used.append(pick.assign(grids=1 + _apportion(int(grids) - k, rng.gamma(4.0, size=k))))
        streets.iloc[i, streets.columns.get_loc("communities")] = k
    communities = pd.concat(used, ignore_index=True)
    if communities["grids"].max() > 999:
        raise InputError("--grids: too many grids for the communities of these districts "
                         "(at most 999 each)")
    return streets.reset_index(drop=True), communities


# --------------------------------------------------------------------------- partition


def sample_points(geoms: np.ndarray, which: np.ndarray, rng: np.random.Generator,
                  *, max_rounds: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random points, point ``k`` inside polygon ``geoms[which[k]]``.

    Vectorised rejection sampling in each polygon's bounding box with
    ``shapely.contains_xy``; points still missing after ``max_rounds`` rounds
    (very thin polygons) fall back to the polygon's representative point.

    Examples
    --------
    >>> from shapely import box
    >>> x, y = sample_points(np.array([box(0, 0, 1, 1)]), np.zeros(3, int),
    ...                      np.random.default_rng(0))
    >>> bool(((x > 0) & (x < 1) & (y > 0) & (y < 1)).all())
    True
    """
    shapely.prepare(geoms)
    bounds = shapely.bounds(geoms)[which]
    x = np.full(len(which), np.nan)
    y = np.full(len(which), np.nan)
    todo = np.arange(len(which))
    for _ in range(max_rounds):
        if not len(todo):
            break
        b = bounds[todo]
        tx = b[:, 0] + rng.random(len(todo)) * (b[:, 2] - b[:, 0])
        ty = b[:, 1] + rng.random(len(todo)) * (b[:, 3] - b[:, 1])
        ok = shapely.contains_xy(geoms[which[todo]], tx, ty)
        x[todo[ok]], y[todo[ok]] = tx[ok], ty[ok]
        todo = todo[~ok]
    if len(todo):
        fallback = shapely.point_on_surface(geoms[which[todo]])
        x[todo], y[todo] = shapely.get_x(fallback), shapely.get_y(fallback)
    return x, y


def _frames(parents: np.ndarray) -> np.ndarray:
    """Boxes well around each parent: the extent of its Voronoi diagram."""
    b = shapely.bounds(parents)
    pad = 0.2 * np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) + 100.0
    return shapely.box(b[:, 0] - pad, b[:, 1] - pad, b[:, 2] + pad, b[:, 3] + pad)


def _voronoi(x: np.ndarray, y: np.ndarray, pidx: np.ndarray, frames: np.ndarray,
             only_edges: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Voronoi cells (in seed order) or edges of the seeds of each parent (pidx sorted)."""
    groups, dense = np.unique(pidx, return_inverse=True)
    points = shapely.multipoints(np.column_stack([x, y]), indices=dense)
    out = shapely.voronoi_polygons(points, extend_to=frames[groups], only_edges=only_edges,
                                   ordered=not only_edges)
    parts, index = shapely.get_parts(out, return_index=True)
    return parts, groups[index]


def _relax(parents: np.ndarray, x: np.ndarray, y: np.ndarray, pidx: np.ndarray,
           frames: np.ndarray, rounds: int) -> None:
    """Lloyd relaxation in place: move each seed to the centre of its clipped cell."""
    for _ in range(rounds):
        cells, _ = _voronoi(x, y, pidx, frames)
        clipped = shapely.intersection(cells, parents[pidx])
        centre = shapely.centroid(clipped)
        cx, cy = shapely.get_x(centre), shapely.get_y(centre)
        bad = ~shapely.contains_xy(parents[pidx], cx, cy)
        if bad.any():
            inside = shapely.point_on_surface(clipped[bad])
            cx[bad], cy[bad] = shapely.get_x(inside), shapely.get_y(inside)
        x[:], y[:] = cx, cy


def wiggle(lines: np.ndarray, amplitude: float, rng: np.random.Generator,
           jitter: np.ndarray | None = None) -> np.ndarray:
    """Bend straight lines sideways, keeping both end points fixed.

    Each line gets ``sum_k c_k sin(k π t)`` (k = 1..4, ``t`` the relative
    position from the first to the last vertex) times its length, with random
    ``c_k`` of scale ``amplitude / k**1.5``, plus an optional per-vertex jitter
    of scale ``jitter[line]`` metres that also vanishes at the ends. Vectorised
    over all coordinates.

    Examples
    --------
    >>> from shapely import LineString
    >>> line = shapely.segmentize(np.array([LineString([(0, 0), (100, 0)])]), 10)
    >>> bent = wiggle(line, 0.05, np.random.default_rng(0))
    >>> shapely.get_coordinates(bent)[[0, -1]].tolist()
    [[0.0, 0.0], [100.0, 0.0]]
    """
    xy, idx = shapely.get_coordinates(lines, return_index=True)
    n = len(lines)
    first = np.searchsorted(idx, np.arange(n))
    last = np.r_[first[1:], len(idx)] - 1
    start, vec = xy[first], xy[last] - xy[first]
    length = np.hypot(vec[:, 0], vec[:, 1])
    unit = vec / np.where(length > 0, length, 1.0)[:, None]
    normal = np.column_stack([-unit[:, 1], unit[:, 0]])
    t = np.clip(((xy - start[idx]) * unit[idx]).sum(axis=1) / np.where(length > 0, length, 1)[idx],
                0.0, 1.0)
    k = np.arange(1, 5)
    coef = rng.normal(0.0, 1.0, (n, 4)) * amplitude / k**1.5
    offset = (coef[idx] * np.sin(np.pi * t[:, None] * k)).sum(axis=1) * length[idx]
    if jitter is not None:
        offset += rng.normal(0.0, 1.0, len(idx)) * jitter[idx] * np.sin(np.pi * t)
    moved = xy + normal[idx] * offset[:, None]
    moved[first], moved[last] = xy[first], xy[last]
    return shapely.linestrings(moved, indices=idx)


def _cut_lines(parents: np.ndarray, x: np.ndarray, y: np.ndarray, pidx: np.ndarray,
               frames: np.ndarray, spacing: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    """Voronoi edges inside each parent (1 cm beyond its boundary), densified and wiggled."""
    edges, owner = _voronoi(x, y, pidx, frames, only_edges=True)
    reach = shapely.buffer(parents, 0.01, join_style="mitre")
    pieces, j = shapely.get_parts(shapely.intersection(edges, reach[owner]), return_index=True)
    owner = owner[j]
    keep = (shapely.get_type_id(pieces) == 1) & (shapely.length(pieces) > 0)
    pieces, owner = pieces[keep], owner[keep]
    pieces = shapely.segmentize(pieces, spacing[owner])
    return wiggle(pieces, _WIGGLE, rng, jitter=0.08 * spacing[owner])


def _faces(linework: np.ndarray, parents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polygonise noded linework; keep faces inside a parent, with that parent's index."""
    noded = shapely.union_all(linework)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    inner, outer = STRtree(parents).query(shapely.point_on_surface(faces), predicate="within")
    first = np.unique(inner, return_index=True)[1]
    return faces[inner[first]], outer[first]


def _absorb_orphans(faces: np.ndarray, parent: np.ndarray, label: np.ndarray) -> None:
    """Give every unlabelled face the label of the same-parent neighbour sharing most edge."""
    tree = STRtree(faces)
    rims = shapely.boundary(faces)
    while (label < 0).any():
        orphan = np.flatnonzero(label < 0)
        o, n = tree.query(faces[orphan], predicate="touches")
        f = orphan[o]
        ok = (label[n] >= 0) & (parent[n] == parent[f])
        f, n = f[ok], n[ok]
        shared = shapely.length(shapely.intersection(rims[f], rims[n]))
        f, n, shared = f[shared > 0], n[shared > 0], shared[shared > 0]
        if not len(f):
            raise RuntimeError("synthetic partition: a face has no labelled neighbour")
        order = np.lexsort((-shared, f))
        f, n = f[order], n[order]
        first = np.r_[True, f[1:] != f[:-1]]
        label[f[first]] = label[n[first]]


def _dissolve(faces: np.ndarray, label: np.ndarray, n: int) -> np.ndarray:
    """Union the faces of each label 0..n-1 (faces are an exact coverage)."""
    order = np.argsort(label, kind="stable")
    bounds = np.searchsorted(label[order], np.arange(n + 1))
    out = np.empty(n, dtype=object)
    for k in range(n):
        members = faces[order[bounds[k]:bounds[k + 1]]]
        out[k] = members[0] if len(members) == 1 else shapely.coverage_union_all(members)
    return out


def partition(parents: np.ndarray, counts: np.ndarray, spacing: np.ndarray,
              base: np.ndarray, rng: np.random.Generator, *, relax: int = 3,
              attempts: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Split each parent polygon into ``counts[i]`` polygons, an exact partition.

    Seeds are relaxed (Lloyd) Voronoi generators; the Voronoi edges are cut to
    the parent, densified every ``spacing[i]`` metres and wiggled once, then
    noded together with ``base`` (linework containing every parent boundary)
    and polygonised. A face that holds no seed (a part of a cell cut off by a
    concave boundary) joins the neighbour it shares most boundary with, so
    every child is one polygon. Because all linework is noded together,
    children of different parents share their vertices exactly.

    Returns
    -------
    children : polygons grouped by parent (parent order), ``counts`` of each;
    parent_index : the parent of each child.

    Examples
    --------
    >>> from shapely import box
    >>> parents = np.array([box(0, 0, 1000, 1000)])
    >>> kids, who = partition(parents, np.array([4]), np.array([50.0]),
    ...                       shapely.boundary(parents), np.random.default_rng(0))
    >>> len(kids), round(float(shapely.area(shapely.union_all(kids))))
    (4, 1000000)
    """
    pidx = np.repeat(np.arange(len(parents)), counts)
    frames = _frames(parents)
    for _ in range(attempts):
        x, y = sample_points(parents, pidx, rng)
        multi = counts[pidx] >= 2
        mx, my = x[multi], y[multi]
        if multi.any():
            _relax(parents, mx, my, pidx[multi], frames, relax)
            x[multi], y[multi] = mx, my
            cuts = _cut_lines(parents, mx, my, pidx[multi], frames, spacing, rng)
        else:
            cuts = np.empty(0, dtype=object)
        single = np.flatnonzero(~multi)
        inside = shapely.point_on_surface(parents[pidx[single]])
        x[single], y[single] = shapely.get_x(inside), shapely.get_y(inside)
        faces, face_parent = _faces(np.concatenate([np.asarray(base, dtype=object), cuts]),
                                    parents)
        seed_no, face_no = STRtree(faces).query(shapely.points(x, y), predicate="within")
        label = np.full(len(faces), -1)
        order = np.lexsort((seed_no, face_no))
        seed_no, face_no = seed_no[order], face_no[order]
        first = np.r_[True, face_no[1:] != face_no[:-1]]
        label[face_no[first]] = seed_no[first]
        if len(np.unique(label[label >= 0])) == len(pidx) and \
                (face_parent[face_no[first]] == pidx[seed_no[first]]).all():
            _absorb_orphans(faces, face_parent, label)
            return _dissolve(faces, label, len(pidx)), pidx
    # A seed can place points so that no attempt gives one face per seed: the user's remedy.
    raise InputError("--seed: the synthetic partition failed for this seed; try another --seed")


# --------------------------------------------------------------------------- the city


@dataclass
class City:
    """A synthetic city in the metric CRS (EPSG:4547); codes are ``str``.

    Attributes
    ----------
    districts : ``district_code, district_name, geometry``
    streets : ``street_code, street_name, district_code, geometry``
    communities : ``community_code, community_name, street_code, district_code, geometry``
    grids : the contract columns of ``grids.gpkg`` (see ``docs/architecture.md``)
    divisions : the code list used
    """

    districts: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    divisions: pd.DataFrame = field(repr=False)


def short_community_name(name: str) -> str:
    """Everyday name of a community from its committee name (居委会/村委会 suffix dropped).

    >>> [short_community_name(n) for n in ["学院社区居委会", "沙岗村委会", "锦二村村委会",
    ...                                     "金碧社区居民委员会", "海傍农场生活区"]]
    ['学院社区', '沙岗村', '锦二村', '金碧社区', '海傍农场生活区']
    """
    village = re.match(r"(.+?)村?(?:村民委员会|村委会)$", name)
    if village:
        return village.group(1) + "村"
    urban = re.match(r"(.+?)(?:社区)?(?:居民委员会|居委会|委员会)$", name)
    return urban.group(1) + "社区" if urban else name


def _outlines(district_codes: Sequence[str]) -> gpd.GeoDataFrame:
    """The real district outlines, in the metric CRS, in the order of ``district_codes``."""
    outlines = gpd.read_file(DISTRICT_OUTLINES).to_crs(METRIC_CRS)
    outlines["code"] = outlines["code"].astype(str)
    return outlines.set_index("code").loc[list(district_codes)].reset_index()


def _spacing(areas: np.ndarray, grids: np.ndarray) -> np.ndarray:
    """Vertex spacing of new edges: a fraction of the side of the mean grid."""
    return _VERTEX_SPACING * np.sqrt(np.asarray(areas) / np.maximum(grids, 1))


def _outline_linework(outlines: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    """District boundaries as unique lines, each densified at the finer adjacent spacing."""
    lines = shapely.get_parts(shapely.line_merge(shapely.union_all(shapely.boundary(outlines))))
    mid = shapely.line_interpolate_point(lines, 0.5, normalized=True)
    line_no, district = STRtree(outlines).query(mid, predicate="dwithin", distance=1.0)
    finest = pd.Series(spacing[district]).groupby(line_no).min()
    step = finest.reindex(np.arange(len(lines))).fillna(spacing.min()).to_numpy()
    return shapely.segmentize(lines, step)


def _codes_by_position(children: np.ndarray, pidx: np.ndarray,
                       codes: pd.DataFrame) -> np.ndarray:
    """Give each child the code of its rank: codes sorted per parent, children in reading order.

    ``codes`` has ``parent_no`` (the parent's position) and ``code``, sorted by both.
    """
    rank = serial_order(children, pidx.astype(str))
    start = np.searchsorted(codes["parent_no"].to_numpy(), pidx)
    return codes["code"].to_numpy()[start + rank - 1]


def _level(parents: gpd.GeoDataFrame, parent_codes: np.ndarray, child_codes: pd.DataFrame,
           grids: np.ndarray, base: np.ndarray, rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray]:
    """Split ``parents`` into the children listed in ``child_codes`` (``code, parent_code``).

    Returns the child geometries and their codes, in reading order of codes.
    """
    geoms = np.asarray(parents.geometry.values, dtype=object)
    position = pd.Series(np.arange(len(parent_codes)), index=parent_codes)
    table = child_codes.assign(parent_no=position.loc[child_codes["parent_code"]].to_numpy())
    table = table.sort_values(["parent_no", "code"])
    counts = table.groupby("parent_no").size().reindex(position.to_numpy(), fill_value=0)
    spacing = _spacing(shapely.area(geoms), grids)
    children, pidx = partition(geoms, counts.to_numpy(), spacing, base, rng)
    return children, _codes_by_position(children, pidx, table)


def _dissolve_by(gdf: gpd.GeoDataFrame, key: str, columns: list[str]) -> gpd.GeoDataFrame:
    """Coverage-union ``gdf`` by ``key`` (first value of the other ``columns``)."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    groups, label = np.unique(gdf[key].to_numpy(dtype=str), return_inverse=True)
    first = gdf.groupby(key, sort=True)[columns].first().reindex(groups)
    return gpd.GeoDataFrame(first.reset_index(), geometry=_dissolve(geoms, label, len(groups)),
                            crs=gdf.crs)


def _grid_attributes(grids: gpd.GeoDataFrame, divisions: pd.DataFrame,
                     rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Codes, names, households and population of the grids (``community_code`` set)."""
    names = code_names(divisions)
    serial = serial_order(grids.geometry, grids["community_code"])
    comm = grids["community_code"]
    street = parent_code(comm, "street")
    district = parent_code(comm, "district")
    prefix = (district.map(names) + street.map(names)
              + comm.map(names).map(short_community_name))
    households = np.rint(rng.triangular(150, 380, 800, len(grids))).astype(np.int64)
    population = np.rint(households * rng.uniform(2.6, 3.2, len(grids))).astype(np.int64)
    kind = np.where(rng.random(len(grids)) < 0.03, "专属网格", "综合网格")
    out = gpd.GeoDataFrame({
        "grid_code": comm + pd.Series(serial, index=grids.index).map("{:03d}".format),
        "grid_name": prefix + "第" + pd.Series(serial, index=grids.index).astype(str) + "网格",
        "community_code": comm,
        "street_code": street,
        "district_code": district,
        "grid_type": kind,
        "households": households,
        "population": population,
    }, geometry=grids.geometry.values, crs=grids.crs)
    return out.sort_values("grid_code", ignore_index=True)


def build_city(grids: int = 2000, *, seed: int = 0, districts: Sequence[str] | None = None,
               divisions: pd.DataFrame | None = None) -> City:
    """Build districts → streets → communities → grids (EPSG:4547), all exact partitions.

    Parameters
    ----------
    grids : number of grids (at least the number of streets of the districts).
    seed : random seed; the same seed gives the same city.
    districts : 6-digit district codes (default: all 11 districts).
    divisions : the code list (default: the shipped Guangzhou 2023 list).

    Examples
    --------
    >>> city = build_city(120, seed=1, districts=["440104"])  # doctest: +SKIP
    >>> city.grids.columns.tolist()[:3]                       # doctest: +SKIP
    ['grid_code', 'grid_name', 'community_code']
    """
    divisions = load_divisions(GUANGZHOU_CODES) if divisions is None else divisions
    codes = select_districts(districts, divisions)
    rng = _rng(seed, "geometry")
    street_tab, comm_tab = allocate(grids, codes, divisions, rng)
    outlines = _outlines(codes)
    d_geoms = np.asarray(outlines.geometry.values, dtype=object)
    d_grids = street_tab.groupby("parent_code")["grids"].sum().reindex(codes).to_numpy()
    base = _outline_linework(d_geoms, _spacing(shapely.area(d_geoms), d_grids))

    s_geoms, s_codes = _level(outlines, np.array(codes), street_tab[["code", "parent_code"]],
                              d_grids, base, rng)
    streets = gpd.GeoDataFrame({"street_code": s_codes}, geometry=s_geoms, crs=METRIC_CRS)
    streets = streets.sort_values("street_code", ignore_index=True)
    s_grids = street_tab.set_index("code")["grids"].reindex(streets["street_code"]).to_numpy()
    c_geoms, c_codes = _level(streets, streets["street_code"].to_numpy(),
                              comm_tab[["code", "parent_code"]], s_grids,
                              shapely.boundary(np.asarray(streets.geometry.values)), rng)
    comms = gpd.GeoDataFrame({"community_code": c_codes}, geometry=c_geoms, crs=METRIC_CRS)
    comms = comms.sort_values("community_code", ignore_index=True)
    per_comm = comm_tab.set_index("code")["grids"].reindex(comms["community_code"])
    grid_rows = pd.DataFrame({
        "code": [f"{c}{k:03d}" for c, n in per_comm.items() for k in range(1, n + 1)],
        "parent_code": np.repeat(comms["community_code"].to_numpy(), per_comm.to_numpy()),
    })
    g_geoms, g_codes = _level(comms, comms["community_code"].to_numpy(), grid_rows,
                              per_comm.to_numpy(),
                              shapely.boundary(np.asarray(comms.geometry.values)), rng)
    cells = gpd.GeoDataFrame({"community_code": parent_code(pd.Series(g_codes), "community")},
                             geometry=g_geoms, crs=METRIC_CRS)
    grid_gdf = _grid_attributes(cells, divisions, rng)
    return _assemble(grid_gdf, divisions)


def _assemble(grid_gdf: gpd.GeoDataFrame, divisions: pd.DataFrame) -> City:
    """Communities, streets and districts as the unions of the grids (vertex-exact)."""
    names = code_names(divisions)
    comms = _dissolve_by(grid_gdf, "community_code", ["street_code", "district_code"])
    comms.insert(1, "community_name", comms["community_code"].map(names))
    streets = _dissolve_by(comms, "street_code", ["district_code"])
    streets.insert(1, "street_name", streets["street_code"].map(names))
    dists = _dissolve_by(streets, "district_code", [])
    dists.insert(1, "district_name", dists["district_code"].map(names))
    return City(dists, streets, comms, grid_gdf, divisions)


# --------------------------------------------------------------------------- defects

#: Rule ids of SPEC §7 that a validator may also report for a defect's grids.
DEFECT_ALSO: dict[str, list[str]] = {
    "invalid_geometry": ["gap"],
    "empty_geometry": ["area_out_of_range", "geometry_mismatch"],
    "multipart": ["area_out_of_range"],
    "overlap": [],
    "gap": [],
    "outside_community": ["overlap"],
    "sliver": ["area_out_of_range"],
    "area_out_of_range": [],
    "households_out_of_range": [],
    "missing_attribute": [],
    "code_format": [],
    "code_duplicate": ["geometry_mismatch", "attribute_mismatch"],
    "code_community_mismatch": [],
    "code_unknown_community": ["code_community_mismatch"],
    "code_serial_order": [],
    "not_published": [],
    "missing_from_layer": [],
    "geometry_mismatch": [],
    "attribute_mismatch": [],
    "layer_offset": [],
}

DEFECT_NOTES: dict[str, str] = {
    "invalid_geometry": "a bow-tie (self-crossing loop, ~50 m²) inserted at one vertex, inside the "
                        "grid; shared edges untouched; repairing it may leave a tiny hole",
    "empty_geometry": "an extra record with a new serial: geometry NULL or POLYGON EMPTY",
    "multipart": "two non-adjacent grids of one community merged into one MultiPolygon "
                 "under the first grid's code (the second code is gone from both layers)",
    "overlap": "grid buffered 20 m into its neighbours, clipped to its community; findings pair "
               "it with each overlapped neighbour",
    "gap": "grid shrunk by 15 m: an uncovered ring between it and its neighbours",
    "outside_community": "grid extended 30 m across its community boundary; it overlaps grids "
                         "of the other community",
    "sliver": "a 3 m wide strip along an edge split off the grid under a new serial",
    "area_out_of_range": "a ~40 m² half-disc split off the grid under a new serial",
    "households_out_of_range": "households set to 5000",
    "missing_attribute": "grid_name NULL (first) or empty string (second)",
    "code_format": "14-digit code (first) or the letter O in the serial (second)",
    "code_duplicate": "a second, non-adjacent grid of the community carries this code",
    "code_community_mismatch": "the code's 12-digit prefix is a neighbouring community's code; "
                               "community_code still names the true community",
    "code_unknown_community": "the code's prefix is a community (9xx) absent from the code list",
    "code_serial_order": "the first and the last grid of a community (reading order) swapped "
                         "codes and names; one entry per grid",
    "not_published": "grid absent from reference.gpkg",
    "missing_from_layer": "reference.gpkg has an extra, superseded copy of a grid's geometry "
                          "under a code absent from grids.gpkg",
    "geometry_mismatch": "the reference geometry is shifted so that IoU < 0.8",
    "attribute_mismatch": "the reference grid_name differs (old naming style)",
    "layer_offset": "the whole grid layer converted to GCJ-02 but labelled EPSG:4490",
}


def _largest(geom: shapely.Geometry) -> shapely.Geometry | None:
    """The largest polygon of ``geom`` (None when it has no area)."""
    parts = shapely.get_parts(geom)
    parts = parts[shapely.get_type_id(parts) == 3] if len(parts) else parts
    if not len(parts):
        return None
    best = parts[np.argmax(shapely.area(parts))]
    return best if shapely.area(best) > 0 else None


def bowtie(poly: shapely.Polygon, size: float = 6.0) -> shapely.Polygon | None:
    """``poly`` with a small self-crossing loop inserted at a vertex, pointing inwards.

    The ring goes from vertex ``v`` through four points 1–2 × ``size`` metres
    inside the polygon whose segments cross (a bow-tie) and back to ``v``; the
    polygon's outline and area are otherwise unchanged. None when no vertex
    has room.

    Examples
    --------
    >>> from shapely import box
    >>> bad = bowtie(box(0, 0, 100, 100))
    >>> bool(shapely.is_valid(bad)), round(abs(bad.area - 10000)) < 100
    (False, True)
    """
    ring = np.asarray(poly.exterior.coords)[:-1]
    centre = np.asarray(shapely.point_on_surface(poly).coords)[0]
    room = shapely.buffer(poly, -1.0)
    for i in np.argsort(np.hypot(*(ring - centre).T))[:25]:
        v = ring[i]
        d = centre - v
        if not np.hypot(*d):
            continue
        d = d / np.hypot(*d)
        p = np.array([-d[1], d[0]])
        loop = v + np.array([d * size + p * size * 0.7, d * size * 2 - p * size * 0.7,
                             d * size * 2 + p * size * 0.7, d * size - p * size * 0.7])
        if shapely.contains_xy(room, loop[:, 0], loop[:, 1]).all():
            new = np.vstack([ring[: i + 1], loop, ring[i:]])
            return shapely.Polygon(new, [r.coords for r in poly.interiors])
    return None


def _iou(a: shapely.Geometry, b: shapely.Geometry) -> float:
    return float(shapely.area(shapely.intersection(a, b)) / shapely.area(shapely.union(a, b)))


@dataclass
class Defected:
    """A district layer with defects, its published reference layer and the defect list."""

    grids: gpd.GeoDataFrame
    reference: gpd.GeoDataFrame
    defects: list[dict]


class _Injector:
    """Places each defect on grids far from the other defects and applies it."""

    def __init__(self, city: City, rng: np.random.Generator) -> None:
        self.city = city
        self.rng = rng
        self.g = city.grids.copy()
        self.geoms = np.asarray(city.grids.geometry.values, dtype=object)
        self.comm = city.grids["community_code"].to_numpy(dtype=str)
        self.code = city.grids["grid_code"].to_numpy(dtype=str)
        self.names = code_names(city.divisions)
        a, b = STRtree(self.geoms).query(self.geoms, predicate="touches")
        order = np.lexsort((b, a))
        self.nbr_start = np.searchsorted(a[order], np.arange(len(self.geoms) + 1))
        self.nbr = b[order]
        outer = shapely.boundary(shapely.union_all(np.asarray(city.districts.geometry.values)))
        self.interior = ~shapely.intersects(self.geoms, outer)
        self.comm_geom = dict(zip(city.communities["community_code"],
                                  city.communities.geometry.values))
        self.city_area = shapely.union_all(np.asarray(city.districts.geometry.values))
        self.near = np.zeros(len(self.geoms), bool)
        self.ring = np.zeros(len(self.geoms), bool)
        self.block = self.near
        self.used_comms: set[str] = set()
        self.new_rows: list[dict] = []
        self.dropped: list[int] = []
        self.reserved: set[str] = set()
        self.ref_drop: list[str] = []
        self.ref_set: list[tuple[str, str, object]] = []
        self.ref_add: list[dict] = []
        self.defects: list[dict] = []
        self.to_output = Transformer.from_crs(METRIC_CRS, OUTPUT_CRS, always_xy=True).transform

    # ---- bookkeeping

    def neighbours(self, row: int) -> np.ndarray:
        return self.nbr[self.nbr_start[row]:self.nbr_start[row + 1]]

    def _ball(self, rows: Sequence[int], radius: int) -> np.ndarray:
        seen = np.zeros(len(self.geoms), bool)
        seen[list(rows)] = True
        frontier = np.asarray(list(rows))
        for _ in range(radius):
            nxt = np.concatenate([self.neighbours(r) for r in frontier]) if len(frontier) else []
            nxt = np.unique(np.asarray(nxt, dtype=int))
            frontier = nxt[~seen[nxt]]
            seen[frontier] = True
        return seen

    def claim(self, rows: Sequence[int]) -> None:
        self.near |= self._ball(rows, 2)
        self.ring |= self._ball(rows, 1)
        self.used_comms.update(self.comm[list(rows)])

    def record(self, rule: str, codes: list[str]) -> None:
        self.defects.append({"rule": rule, "grid_codes": [str(c) for c in codes],
                             "also": list(DEFECT_ALSO[rule]), "note": DEFECT_NOTES[rule]})

    def place(self, rule: str, build: Callable[[int], list[int] | None],
              wanted: np.ndarray | None = None) -> None:
        """Try ``build`` on candidate grids, strictest separation first; claim what it used.

        Levels: no defect within two neighbour steps and a community without
        defects; then any community; then only not adjacent to a defect grid;
        finally also on the layer's outer border. ``self.block`` marks the
        grids a builder must not touch at the current level.
        """
        wanted = np.ones(len(self.geoms), bool) if wanted is None else wanted
        used = np.isin(self.comm, list(self.used_comms))
        levels = ((self.near, ~used & self.interior), (self.near, self.interior),
                  (self.ring, self.interior), (self.ring, wanted))
        for block, ok in levels:
            self.block = block
            for row in self.rng.permutation(np.flatnonzero(~block & ok & wanted))[:60]:
                claimed = build(int(row))
                if claimed is not None:
                    self.claim(claimed)
                    return
        raise InputError(f"--defects: the layer is too small to place a '{rule}' defect "
                         f"apart from the others; use more --grids (about 120 for one district, "
                         f"400 for the whole city)")

    def set(self, row: int, **values: object) -> None:
        for key, value in values.items():
            self.g.loc[row, key] = value

    def next_code(self, community: str) -> str:
        taken = set(self.g["grid_code"]) | {r["grid_code"] for r in self.new_rows} | self.reserved
        serials = [int(c[12:]) for c in taken
                   if c.startswith(community) and len(c) == 15 and c[12:].isdigit()]
        code = f"{community}{max(serials, default=0) + 1:03d}"
        self.reserved.add(code)
        return code

    def grid_name(self, code: str, style: str = "standard") -> str:
        comm = short_community_name(self.names[code[:12]])
        if style == "old":
            return f"{comm}{int(code[12:])}号网格"
        return f"{self.names[code[:6]]}{self.names[code[:9]]}{comm}第{int(code[12:])}网格"

    def add_row(self, like: int, code: str, geometry: object) -> None:
        row = self.g.loc[like].to_dict()
        households = int(self.rng.integers(150, 801))
        row.update(grid_code=code, grid_name=self.grid_name(code), geometry=geometry,
                   households=households, population=int(round(households * 2.9)))
        self.new_rows.append(row)

    def siblings(self, row: int) -> np.ndarray:
        nb = self.neighbours(row)
        return nb[self.comm[nb] == self.comm[row]]

    def longest_edge(self, row: int, among: np.ndarray) -> tuple[int, shapely.LineString] | None:
        """The neighbour in ``among`` sharing the longest edge with ``row``, and that edge."""
        best = None
        for other in among:
            shared = shapely.line_merge(shapely.intersection(
                shapely.boundary(self.geoms[row]), shapely.boundary(self.geoms[other])))
            for part in shapely.get_parts(shared):
                longer = best is None or part.length > best[1].length
                if shapely.get_type_id(part) == 1 and longer:
                    best = (int(other), part)
        return best

    # ---- division (划分)

    def invalid_geometry(self, row: int) -> list[int] | None:
        bad = bowtie(self.geoms[row])
        if bad is None:
            return None
        self.set(row, geometry=bad)
        self.record("invalid_geometry", [self.code[row]])
        return [row]

    def empty_geometry(self, row: int) -> list[int] | None:
        for geometry in (None, shapely.Polygon()):
            code = self.next_code(self.comm[row])
            self.add_row(row, code, geometry)
            self.record("empty_geometry", [code])
        return [row]

    def multipart(self, row: int) -> list[int] | None:
        mates = np.flatnonzero((self.comm == self.comm[row]) & ~self.block)
        mates = mates[(mates != row) & ~np.isin(mates, self.neighbours(row))]
        if not len(mates):
            return None
        other = int(mates[np.argmin(shapely.distance(self.geoms[mates], self.geoms[row]))])
        self.set(row, geometry=shapely.MultiPolygon([self.geoms[row], self.geoms[other]]))
        self.dropped.append(other)
        self.record("multipart", [self.code[row]])
        return [row, other]

    def overlap(self, row: int) -> list[int] | None:
        sibs = self.siblings(row)
        grown = _largest(shapely.intersection(shapely.buffer(self.geoms[row], 20.0),
                                              self.comm_geom[self.comm[row]]))
        if not len(sibs) or grown is None:
            return None
        if shapely.area(shapely.intersection(grown, self.geoms[sibs])).sum() < 50 \
                or not self.survives(grown):
            return None
        self.set(row, geometry=grown)
        self.record("overlap", [self.code[row]])
        return [row, *sibs.tolist()]

    def gap(self, row: int) -> list[int] | None:
        shrunk = _largest(shapely.buffer(self.geoms[row], -15.0))
        if shrunk is None or shrunk.area < 0.3 * self.geoms[row].area or not self.survives(shrunk):
            return None
        self.set(row, geometry=shrunk)
        self.record("gap", [self.code[row]])
        return [row]

    def outside_community(self, row: int) -> list[int] | None:
        nb = self.neighbours(row)
        if not (self.comm[nb] != self.comm[row]).any():
            return None
        extra = shapely.difference(shapely.buffer(self.geoms[row], 30.0),
                                   self.comm_geom[self.comm[row]])
        if shapely.area(extra) < 200 or shapely.area(shapely.difference(extra,
                                                                        self.city_area)) > 1:
            return None
        grown = _largest(shapely.union(self.geoms[row], extra))
        hit = np.flatnonzero(shapely.area(shapely.intersection(self.geoms, grown)) > 1)
        others = hit[self.comm[hit] != self.comm[row]]
        if self.block[others].any() or not self.survives(grown):
            return None
        self.set(row, geometry=grown)
        self.record("outside_community", [self.code[row]])
        return [row, *others.tolist()]

    def survives(self, *geoms: shapely.Geometry) -> bool:
        """Whether the geometries are valid polygons, also once written in EPSG:4490."""
        out = shapely.transform(np.asarray(geoms, dtype=object), self.to_output, interleaved=False)
        return bool((shapely.get_type_id(np.asarray(geoms, dtype=object)) == 3).all()
                    and shapely.is_valid(np.asarray(geoms, dtype=object)).all()
                    and shapely.is_valid(out).all())

    def _split(self, row: int, cutter: shapely.Geometry, rule: str,
               min_area: float, max_area: float) -> list[int] | None:
        """Split the part of grid ``row`` under ``cutter`` off as a new grid (next serial)."""
        grid = self.geoms[row]
        piece = _largest(shapely.intersection(grid, cutter))
        rest = shapely.difference(grid, cutter)
        if piece is None or not min_area <= piece.area <= max_area \
                or abs(grid.area - rest.area - piece.area) > 0.01 or not self.survives(piece, rest):
            return None
        code = self.next_code(self.comm[row])
        self.set(row, geometry=rest)
        self.add_row(row, code, piece)
        self.record(rule, [code])
        return [row]

    def sliver(self, row: int) -> list[int] | None:
        edge = self.longest_edge(row, self.siblings(row))
        if edge is None or edge[1].length < 120:
            return None
        cutter = shapely.buffer(edge[1], 3.0, cap_style="flat")
        claimed = self._split(row, cutter, "sliver", 200, 1e9)
        return None if claimed is None else [*claimed, edge[0]]

    def area_out_of_range(self, row: int) -> list[int] | None:
        edge = self.longest_edge(row, self.neighbours(row))
        if edge is None or edge[1].length < 40:
            return None
        centre = shapely.line_interpolate_point(edge[1], 0.5, normalized=True)
        claimed = self._split(row, shapely.buffer(centre, 5.0), "area_out_of_range", 20, 80)
        return None if claimed is None else [*claimed, edge[0]]

    # ---- attributes and coding (编码)

    def households_out_of_range(self, row: int) -> list[int] | None:
        self.set(row, households=5000, population=14500)
        self.record("households_out_of_range", [self.code[row]])
        return [row]

    def missing_attribute(self, row: int) -> list[int] | None:
        others = np.flatnonzero((self.comm == self.comm[row]) & ~self.block)
        others = others[(others != row) & ~np.isin(others, self.neighbours(row))]
        if not len(others):
            return None
        for target, value in ((row, None), (int(others[0]), "")):
            self.set(target, grid_name=value)
            self.record("missing_attribute", [self.code[target]])
        return [row, int(others[0])]

    def code_format(self, row: int) -> list[int] | None:
        others = np.flatnonzero((self.comm == self.comm[row]) & ~self.block)
        others = others[(others != row) & ~np.isin(others, self.neighbours(row))]
        if not len(others):
            return None
        other = int(others[0])
        for target, code in ((row, self.code[row][:14]),
                             (other, self.code[other][:12] + "O" + self.code[other][13:])):
            self.set(target, grid_code=code)
            self.record("code_format", [code])
        return [row, other]

    def code_duplicate(self, row: int) -> list[int] | None:
        mates = np.flatnonzero((self.comm == self.comm[row]) & ~self.block)
        mates = mates[(mates != row) & ~np.isin(mates, self.neighbours(row))]
        if not len(mates):
            return None
        other = int(mates[0])
        self.set(other, grid_code=self.code[row])
        self.record("code_duplicate", [self.code[row]])
        return [row, other]

    def code_community_mismatch(self, row: int) -> list[int] | None:
        nb = self.neighbours(row)
        foreign = nb[self.comm[nb] != self.comm[row]]
        if not len(foreign):
            return None
        code = self.next_code(self.comm[foreign[0]])
        self.set(row, grid_code=code)
        self.record("code_community_mismatch", [code])
        self.used_comms.add(self.comm[foreign[0]])
        return [row]

    def code_unknown_community(self, row: int) -> list[int] | None:
        street = self.comm[row][:9]
        fake = next(f"{street}{n}" for n in range(999, 900, -1) if f"{street}{n}" not in self.names)
        code = fake + self.code[row][12:]
        self.set(row, grid_code=code)
        self.record("code_unknown_community", [code])
        return [row]

    def code_serial_order(self, row: int) -> list[int] | None:
        members = np.flatnonzero(self.comm == self.comm[row])
        if len(members) < 4 or self.block[members].any() or self.comm[row] in self.used_comms:
            return None
        first, last = members[0], members[-1]  # rows are sorted by code = reading order
        self.set(int(first), grid_code=self.code[last], grid_name=self.g.loc[last, "grid_name"])
        self.set(int(last), grid_code=self.code[first], grid_name=self.g.loc[first, "grid_name"])
        for target in (first, last):
            self.record("code_serial_order", [self.code[target]])
        return [int(first), int(last)]

    # ---- publication (上图)

    def not_published(self, row: int) -> list[int] | None:
        self.ref_drop.append(self.code[row])
        self.record("not_published", [self.code[row]])
        return [row]

    def missing_from_layer(self, row: int) -> list[int] | None:
        code = self.next_code(self.comm[row])
        self.ref_add.append({"grid_code": code, "grid_name": self.grid_name(code),
                             "community_code": self.comm[row], "geometry": self.geoms[row]})
        self.record("missing_from_layer", [code])
        return [row]

    def geometry_mismatch(self, row: int) -> list[int] | None:
        geom = self.geoms[row]
        shift = 0.35 * np.sqrt(geom.area)
        moved = shapely.affinity.translate(geom, shift, shift / 3)
        while _iou(geom, moved) >= 0.8:
            shift *= 1.5
            moved = shapely.affinity.translate(geom, shift, shift / 3)
        self.ref_set.append((self.code[row], "geometry", moved))
        self.record("geometry_mismatch", [self.code[row]])
        return [row]

    def attribute_mismatch(self, row: int) -> list[int] | None:
        self.ref_set.append((self.code[row], "grid_name", self.grid_name(self.code[row], "old")))
        self.record("attribute_mismatch", [self.code[row]])
        return [row]

    # ---- assembly

    def run(self) -> Defected:
        for rule in ("code_serial_order", "multipart", "outside_community", "overlap", "gap",
                     "sliver", "area_out_of_range", "invalid_geometry", "code_duplicate",
                     "missing_attribute", "code_format", "empty_geometry",
                     "households_out_of_range", "code_community_mismatch",
                     "code_unknown_community", "not_published", "missing_from_layer",
                     "geometry_mismatch", "attribute_mismatch"):
            self.place(rule, getattr(self, rule))
        layer = self.g.drop(index=self.dropped)
        if self.new_rows:
            extra = gpd.GeoDataFrame(self.new_rows, geometry="geometry", crs=self.g.crs)
            layer = pd.concat([layer, extra.astype(layer.dtypes.to_dict())], ignore_index=True)
        layer = layer.sort_values("grid_code", kind="stable", ignore_index=True)
        reference = self._reference(layer)
        self._serial_also(layer)
        return Defected(layer, reference, self.defects)

    def _reference(self, layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        ref = layer[["grid_code", "grid_name", "community_code", "geometry"]].copy()
        ref = ref[~ref["grid_code"].isin(self.ref_drop)]
        for code, column, value in self.ref_set:
            ref.loc[ref["grid_code"] == code, column] = value
        if self.ref_add:
            ref = pd.concat([ref, gpd.GeoDataFrame(self.ref_add, geometry="geometry",
                                                   crs=ref.crs)], ignore_index=True)
        return ref.sort_values("grid_code", kind="stable", ignore_index=True)

    def _serial_also(self, layer: gpd.GeoDataFrame) -> None:
        """Note ``code_serial_order`` on defects whose community's numbering they upset."""
        upset = set(serial_upsets(layer))
        for defect in self.defects:
            comms = {c[:12] for c in defect["grid_codes"]}
            if defect["rule"] != "code_serial_order" and comms & upset:
                defect["also"] = sorted({*defect["also"], "code_serial_order"})


def serial_upsets(layer: gpd.GeoDataFrame) -> list[str]:
    """Communities (12-digit prefixes) whose well-formed codes break :func:`serial_order`.

    ``layer`` is in a metric CRS with ``grid_code`` and geometry.

    Examples
    --------
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"grid_code": ["440104001001002", "440104001001001"]},
    ...                      geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)])
    >>> serial_upsets(g)
    ['440104001001']
    """
    ok = layer["grid_code"].str.fullmatch(r"\d{15}").fillna(False).to_numpy(dtype=bool)
    sub = layer[ok]
    prefix = parent_code(sub["grid_code"], "community")
    expected = serial_order(sub.geometry, prefix)
    actual = sub["grid_code"].groupby(prefix.to_numpy()).rank(method="first").to_numpy()
    placed = expected > 0
    bad = prefix.to_numpy()[placed & (expected != actual)]
    return sorted(set(bad))


def inject_defects(city: City, seed: int = 0) -> Defected:
    """Inject one defect (or a pair) of every validation rule id into a copy of ``city``.

    Defects sit on interior grids, as far from each other as the layer allows
    (no shared neighbours, different communities when possible). Each defect
    is ``{"rule", "grid_codes", "also", "note"}``: a validator should report a
    finding of ``rule`` whose grid codes contain ``grid_codes``; ``also`` lists
    other rules it may legitimately report for these grids.
    ``layer_offset`` is added by :func:`synthesize` (it is a separate file).

    Examples
    --------
    >>> city = build_city(300, seed=1, districts=["440104"])  # doctest: +SKIP
    >>> bad = inject_defects(city, seed=1)  # doctest: +SKIP
    >>> sorted({d["rule"] for d in bad.defects})[:3]                               # doctest: +SKIP
    ['area_out_of_range', 'attribute_mismatch', 'code_community_mismatch']
    """
    return _Injector(city, _rng(seed, "defects")).run()


# --------------------------------------------------------------------------- rosters

_SURNAMES = {
    "陈": 9.0, "李": 7.0, "黄": 6.5, "张": 5.0, "梁": 4.5, "林": 4.0, "刘": 4.0, "吴": 3.5,
    "罗": 3.0, "何": 3.0, "郑": 2.5, "杨": 2.5, "谢": 2.2, "周": 2.0, "朱": 2.0, "冯": 1.8,
    "邓": 1.8, "曾": 1.8, "彭": 1.5, "叶": 1.5, "许": 1.4, "苏": 1.4, "蔡": 1.4, "潘": 1.3,
    "卢": 1.3, "钟": 1.3, "赖": 1.2, "胡": 1.2, "王": 1.5, "徐": 1.0, "郭": 1.0, "江": 1.0,
    "余": 1.0, "温": 0.9, "方": 0.9, "邱": 0.9, "莫": 0.8, "廖": 0.8, "欧阳": 0.5, "司徒": 0.3,
    "麦": 0.6, "区": 0.4, "骆": 0.4, "伍": 0.6, "关": 0.6, "汤": 0.5, "韦": 0.5, "谭": 0.9,
}
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玲文斌辉晓燕思颖嘉"
              "欣俊浩宇轩梓涵诗琪彤家豪健少惠萍淑仪永康锦耀荣培炜婷倩雯慧凯峰锋泽鹏晖瑶怡"
              "卓峻昊珊蕾妍洁凤莲冬雪振海")
_CN_DIGITS = "零一二三四五六七八九"
_CADRE_ROLES = ("镇街领导", "科室干部", "两委成员")


def _cn_number(n: int) -> str:
    """Chinese numeral for 1–99.

    >>> [_cn_number(n) for n in (1, 10, 12, 20, 35)]
    ['一', '十', '十二', '二十', '三十五']
    """
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return head + (_CN_DIGITS[ones] if ones else "")


def person_names(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` realistic Cantonese-region person names (surname + 1–2 given characters)."""
    surnames = np.array(list(_SURNAMES))
    weights = np.array(list(_SURNAMES.values()))
    family = rng.choice(surnames, n, p=weights / weights.sum())
    given = np.array(_GIVEN)
    first = rng.choice(given, n)
    second = np.where(rng.random(n) < 0.75, rng.choice(given, n), "")
    return np.char.add(np.char.add(family, first), second).astype(object)


def _uncovered(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """A mask of about ``share`` × n grids (at least one when n ≥ 50) left without coverage."""
    mask = rng.random(n) < share
    if n >= 50 and not mask.any():
        mask[rng.integers(n)] = True
    return mask


def _foreign_codes(layer_codes: set[str], communities: np.ndarray, k: int,
                   rng: np.random.Generator) -> list[str]:
    """``k`` plausible grid codes that are not in the layer (superseded serials 9xx)."""
    out: list[str] = []
    while len(out) < k:
        code = f"{rng.choice(communities)}{rng.integers(900, 1000)}"
        if code not in layer_codes and code not in out:
            out.append(code)
    return out


def _filings(grids: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(grids)
    day = np.datetime64("2023-01-03") + rng.integers(0, 330, n).astype("timedelta64[D]")
    u = rng.random(n)
    status = np.where(u < 0.006, "pending", np.where(u < 0.010, "rejected", "filed"))
    status[_uncovered(n, 0.004, rng) & (status == "filed")] = "missing"
    rows = pd.DataFrame({"grid_code": grids["grid_code"].to_numpy(), "filed_on": day,
                         "status": status})
    refiled = rows[(rows["status"] == "rejected") & (rng.random(n) < 0.4)].assign(
        status="filed", filed_on=lambda t: t["filed_on"] + np.timedelta64(21, "D"))
    return pd.concat([rows[rows["status"] != "missing"], refiled], ignore_index=True)


def _party(grids: pd.DataFrame, names: dict[str, str], rng: np.random.Generator) -> pd.DataFrame:
    keep = grids[~_uncovered(len(grids), 0.025, rng)]
    rows: list[tuple[str, str, str, str]] = []
    for comm, group in keep.groupby("community_code", sort=True):
        short = short_community_name(names[comm])
        street = names[comm[:6]] + names[comm[:9]]
        codes = group["grid_code"].tolist()
        k = i = 0
        while i < len(codes):
            size = int(rng.choice([1, 1, 1, 2, 2, 3]))
            members = codes[i:i + size]
            k += 1
            if len(members) == 1 and rng.random() < 0.4:
                kind, name = "党小组", f"{short}第{_cn_number(k)}网格党小组"
            else:
                kind, name = "党支部", f"中共广州市{street}{short}第{_cn_number(k)}网格党支部"
            rows.extend((f"DZ{comm}{k:02d}", name, kind, code) for code in members)
            i += size
    return pd.DataFrame(rows, columns=["org_id", "org_name", "org_type", "grid_code"])


def _cadres(grids: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    keep = grids[~_uncovered(len(grids), 0.01, rng)].reset_index(drop=True)
    codes = keep["grid_code"].to_numpy()
    # 两委成员: each covers one or two consecutive grids of their community
    pairs = (keep["community_code"].shift(-1) == keep["community_code"]).to_numpy()
    start = np.flatnonzero(np.r_[True, ~pairs[:-1] | (np.arange(1, len(keep)) % 2 == 0)])
    member = np.repeat(np.arange(len(start)), np.diff(np.r_[start, len(keep)]))
    parts = [pd.DataFrame({"who": member, "role": "两委成员", "grid_code": codes})]
    # 科室干部: one per ten grids of a street, one or two random grids each
    for street, group in keep.groupby("street_code", sort=True):
        n_staff = int(np.ceil(len(group) / 10))
        picks = rng.choice(group["grid_code"].to_numpy(), size=min(len(group), 2 * n_staff),
                           replace=False)
        parts.append(pd.DataFrame({"who": f"S{street}-" + (np.arange(len(picks)) % n_staff)
                                   .astype(str).astype(object), "role": "科室干部",
                                   "grid_code": picks}))
        lead = group.groupby("community_code", sort=True)["grid_code"].first().to_numpy()
        parts.append(pd.DataFrame({"who": f"L{street}-" + (np.arange(len(lead)) % 2)
                                   .astype(str).astype(object), "role": "镇街领导",
                                   "grid_code": lead}))
    rows = pd.concat(parts, ignore_index=True)
    return _people(rows, "GB", rng)[["person_id", "name", "role", "grid_code"]]


def _workers(grids: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(grids)
    keep = np.flatnonzero(~_uncovered(n, 0.03, rng))
    codes = grids["grid_code"].to_numpy()
    comm = grids["community_code"].to_numpy()
    who = keep.copy()
    # a few full-time workers serve two neighbouring grids of one community
    share = (rng.random(len(keep)) < 0.03) & np.r_[False, comm[keep[1:]] == comm[keep[:-1]]]
    share[1:] &= ~share[:-1]
    who[share] = who[np.flatnonzero(share) - 1]
    full = pd.DataFrame({"who": "F" + who.astype(str).astype(object), "kind": "full_time",
                         "grid_code": codes[keep]})
    second = keep[rng.random(len(keep)) < 0.02]
    extra = pd.DataFrame({"who": "G" + second.astype(str).astype(object), "kind": "full_time",
                          "grid_code": codes[second]})
    helper = rng.integers(0, n, int(0.9 * n))
    part = pd.DataFrame({"who": "P" + np.arange(len(helper)).astype(str).astype(object),
                         "kind": "part_time", "grid_code": codes[helper]})
    rows = pd.concat([full, extra, part], ignore_index=True)
    return _people(rows, "WG", rng)[["person_id", "name", "kind", "grid_code"]]


def _people(rows: pd.DataFrame, prefix: str, rng: np.random.Generator) -> pd.DataFrame:
    """Give each distinct ``who`` a person id (``prefix`` + 7 digits) and a name."""
    number, key = pd.factorize(rows["who"])
    names = person_names(len(key), rng)
    serial = np.char.zfill((number + 1).astype(str), 7)
    return rows.assign(person_id=np.char.add(prefix, serial).astype(object), name=names[number])


def _add_roster_issues(table: pd.DataFrame, foreign: list[str], duplicates: int,
                       rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """Append rows whose grid code is not in the layer, and exact duplicate rows."""
    strays = table.iloc[rng.integers(0, len(table), len(foreign))].assign(grid_code=foreign)
    dups = table.iloc[rng.integers(0, len(table), duplicates)]
    out = pd.concat([table, strays, dups], ignore_index=True)
    return out, {"unknown_grid_code_rows": len(foreign), "unknown_grid_codes": foreign,
                 "duplicate_rows": duplicates}


def build_rosters(grids: pd.DataFrame, divisions: pd.DataFrame, seed: int = 0
                  ) -> tuple[dict[str, pd.DataFrame], dict[str, dict]]:
    """Filings, Party organisations, cadres and grid workers for the grids of a layer.

    Most grids are filed and covered; about 1.5 % are not filed, 2.5 % have no
    Party organisation, 1 % no cadre and 3 % no full-time worker (at least one
    each on layers of 50+ grids). Each table also gets rows whose grid code is
    not in the layer and some exact duplicate rows, as real rosters do.

    Returns
    -------
    tables : ``{"filings", "party", "cadres", "workers"}`` with the contract columns;
    issues : per table, the stray codes and duplicate rows that were added.

    Examples
    --------
    >>> city = build_city(120, seed=1, districts=["440104"])          # doctest: +SKIP
    >>> tables, issues = build_rosters(city.grids, city.divisions)    # doctest: +SKIP
    >>> tables["party"].columns.tolist()                              # doctest: +SKIP
    ['org_id', 'org_name', 'org_type', 'grid_code']
    """
    rng = _rng(seed, "rosters")
    names = code_names(divisions)
    layer = pd.DataFrame(grids.drop(columns="geometry", errors="ignore"))
    layer = layer.drop_duplicates("grid_code").reset_index(drop=True)
    codes = set(layer["grid_code"])
    comms = layer["community_code"].unique()
    made = {"filings": _filings(layer, rng), "party": _party(layer, names, rng),
            "cadres": _cadres(layer, rng), "workers": _workers(layer, rng)}
    tables, issues = {}, {}
    for key, (strays, dups) in {"filings": (2, 1), "party": (1, 0), "cadres": (1, 1),
                                "workers": (1, 1)}.items():
        table, issues[key] = _add_roster_issues(
            made[key], _foreign_codes(codes, comms, strays, rng), dups, rng)
        tables[key] = table.sort_values("grid_code", kind="stable", ignore_index=True)
    tables["filings"]["filed_on"] = pd.to_datetime(tables["filings"]["filed_on"]).dt.strftime(
        "%Y-%m-%d")
    return tables, issues


def roster_metrics(grids: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Filing rate, coverages and households per full-time worker (SPEC §3 definitions).

    Grids are the rows of the layer; roster rows whose grid code is not in
    the layer are ignored.

    Examples
    --------
    >>> g = pd.DataFrame({"grid_code": ["a", "b"], "households": [300, 500]})
    >>> t = {"filings": pd.DataFrame({"grid_code": ["a"], "status": ["filed"]}),
    ...      "party": pd.DataFrame({"grid_code": ["a", "b"]}),
    ...      "cadres": pd.DataFrame({"grid_code": ["b"]}),
    ...      "workers": pd.DataFrame({"grid_code": ["a", "x"], "kind": ["full_time"] * 2,
    ...                               "person_id": ["p1", "p2"]})}
    >>> roster_metrics(g, t)["households_per_fulltime_worker"]
    800.0
    """
    codes = grids["grid_code"]
    filings, workers = tables["filings"], tables["workers"]
    full = workers[(workers["kind"] == "full_time") & workers["grid_code"].isin(codes)]
    n_full = full["person_id"].nunique()
    n = len(codes)
    return {
        "grids": n,
        "filing_rate": _ratio(codes.isin(filings.loc[filings["status"] == "filed",
                                                     "grid_code"]).sum(), n),
        "party_coverage": _ratio(codes.isin(tables["party"]["grid_code"]).sum(), n),
        "cadre_coverage": _ratio(codes.isin(tables["cadres"]["grid_code"]).sum(), n),
        "fulltime_worker_coverage": _ratio(codes.isin(full["grid_code"]).sum(), n),
        "households_per_fulltime_worker": _ratio(grids["households"].sum(), n_full),
    }


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


# --------------------------------------------------------------------------- events

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
_EDGE_MARGIN_M = 5.0
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
    inner = shapely.buffer(geoms, -_EDGE_MARGIN_M)
    ok &= ~shapely.is_empty(inner) & (shapely.area(inner) > 1.0)
    rows = np.flatnonzero(ok)
    if not len(rows):
        raise InputError("no grid can receive events; use more --grids")
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
    kinds = _rng(seed, "event_kinds")
    sizes = {k: _special_count(n, _RATES[k]) for k in ("outside", "unlocatable", "valid")}
    chosen = kinds.choice(n, sum(sizes.values()), replace=False) if n else np.zeros(0, int)
    bounds = np.cumsum([0, *sizes.values()])
    specials = {k: np.sort(chosen[bounds[i]:bounds[i + 1]]) for i, k in enumerate(sizes)}
    to_lonlat = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
    totals: dict[str, int] = {}
    with pq.ParquetWriter(path, EVENT_SCHEMA, compression="zstd") as writer:
        for j, first in enumerate(range(0, n, EVENT_ROW_GROUP)):
            m = min(EVENT_ROW_GROUP, n - first)
            table, counts = _chunk(first, m, plan, specials, _rng(seed, "events", j), to_lonlat)
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
        "dispatch_accuracy": _ratio(get("accurate", 0), get("located_dispatched", 0)),
        "dispatch_timeliness": _ratio(get("timely", 0), get("dispatched", 0)),
        "closure_rate": _ratio(get("closed", 0), n),
        "valid_complaints": get("valid_complaints", 0),
    }


# --------------------------------------------------------------------------- output

_GRID_COLUMNS = ["grid_code", "grid_name", "community_code", "street_code", "district_code",
                 "grid_type", "households", "population", "geometry"]
_COMMUNITY_COLUMNS = ["community_code", "community_name", "street_code", "district_code",
                      "geometry"]
_REFERENCE_COLUMNS = ["grid_code", "grid_name", "community_code", "geometry"]


def write_layer(gdf: gpd.GeoDataFrame, path: str | os.PathLike, layer: str) -> None:
    """Write a GeoPackage layer byte-reproducibly (fixed ``last_change`` date).

    Geometry types are kept as they are: a layer mixing polygons and
    multipolygons is written with the generic geometry type.
    """
    types = set(gdf.geom_type.dropna())
    options = {} if len(types) <= 1 else {"promote_to_multi": False, "geometry_type": "Unknown"}
    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _GPKG_DATE})
    try:
        gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio", **options)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def _check_out_dir(out: Path, force: bool) -> bool:
    """Refuse a non-empty folder without ``force``; True when ``out`` is to be replaced."""
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise InputError("output exists and is not a folder", path=out)
        if any(out.iterdir()) and not force:
            raise InputError("output folder is not empty; use --force to replace it", path=out)
        return True
    if not out.parent.exists():
        raise InputError("output folder does not exist", path=out.parent)
    return False


def _keep_other_files(old: Path, new: Path) -> None:
    """Copy into ``new`` what ``old`` holds besides synth's own files (a README, a project
    file): ``--force`` replaces the data set, not the user's notes beside it."""
    for entry in old.iterdir():
        target = new / entry.name
        if target.exists():
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, target, symlinks=True)
        else:
            shutil.copy2(entry, target, follow_symlinks=False)


def _check_sizes(grids: int, events: int, seed: int) -> None:
    for name, value, low in (("--grids", grids, 1), ("--events", events, 0), ("--seed", seed, 0)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise InputError(f"{name} must be an integer ≥ {low}, got {value!r}")


def _write_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    for key, table in tables.items():
        table.to_csv(folder / f"{key}.csv", index=False, encoding="utf-8", lineterminator="\n")


def _clean_stats(grids: gpd.GeoDataFrame) -> dict[str, float]:
    """Shape statistics of a clean layer: validators' thresholds must not flag them."""
    area = shapely.area(np.asarray(grids.geometry.values))
    perimeter = shapely.length(np.asarray(grids.geometry.values))
    return {
        "min_area_m2": round(float(area.min()), 1),
        "max_area_m2": round(float(area.max()), 1),
        "min_thinness": round(float((4 * np.pi * area / perimeter**2).min()), 4),
        "min_mean_width_m": round(float((2 * area / perimeter).min()), 2),
        "min_households": int(grids["households"].min()),
        "max_households": int(grids["households"].max()),
    }


class _Steps:
    """A progress bar over the generation steps (only when ``enabled``)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="synth", unit="step", file=sys.stderr)

    def __call__(self, label: str | None = None) -> None:
        if self.bar is not None:
            if label:
                self.bar.set_description(label)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def synthesize(out_dir: str | os.PathLike, *, grids: int = 2000, events: int = 20000,
               seed: int = 0, defects: bool = False, districts: Sequence[str] | None = None,
               force: bool = False, progress: bool = False) -> dict:
    """Write a synthetic data set to the folder ``out_dir`` and return its truth.

    The folder is built next to ``out_dir`` and moved into place at the end;
    an existing non-empty folder is replaced only with ``force``.

    Parameters
    ----------
    out_dir : output folder (its parent must exist).
    grids : number of grids (before defects).
    events : number of work orders.
    seed : random seed; the same arguments give byte-identical files.
    defects : inject defects of every validation rule (and write ``grids-gcj02.gpkg``).
    districts : 6-digit district codes (default: all 11).
    force : replace a non-empty ``out_dir``.
    progress : show a progress bar on stderr.

    Returns
    -------
    The content of ``truth.json``.

    Examples
    --------
    >>> truth = synthesize("demo", grids=300, events=5000, seed=7,   # doctest: +SKIP
    ...                    districts=["440104"], defects=True)
    >>> truth["metrics"]["events"]                                  # doctest: +SKIP
    5000
    """
    _check_sizes(grids, events, seed)
    out = Path(out_dir)
    replace = _check_out_dir(out, force)
    divisions = load_divisions(GUANGZHOU_CODES)
    codes = select_districts(districts, divisions)
    steps = _Steps(7 + -(-events // EVENT_ROW_GROUP), progress)
    try:
        with atomic_output(out, force=replace) as tmp:
            tmp.mkdir()
            truth = _generate(tmp, grids=grids, events=events, seed=seed, defects=defects,
                              districts=codes, divisions=divisions, step=steps)
            if replace:
                _keep_other_files(out, tmp)
    finally:
        steps.close()
    return truth


def _generate(folder: Path, *, grids: int, events: int, seed: int, defects: bool,
              districts: list[str], divisions: pd.DataFrame, step: _Steps) -> dict:
    """Generate every file into ``folder``; return the truth."""
    step("city")
    city = build_city(grids, seed=seed, districts=districts, divisions=divisions)
    step("defects")
    if defects:
        bad = inject_defects(city, seed)
        layer, reference, defect_list = bad.grids, bad.reference, bad.defects
    else:
        layer, reference, defect_list = city.grids, city.grids[_REFERENCE_COLUMNS], []
    step("rosters")
    tables, issues = build_rosters(layer, divisions, seed)
    step("layers")
    write_layer(layer[_GRID_COLUMNS].to_crs(OUTPUT_CRS), folder / "grids.gpkg", "grids")
    write_layer(city.communities[_COMMUNITY_COLUMNS].to_crs(OUTPUT_CRS),
                folder / "communities.gpkg", "communities")
    write_layer(reference[_REFERENCE_COLUMNS].to_crs(OUTPUT_CRS), folder / "reference.gpkg",
                "reference")
    if defects:
        shifted = layer[_GRID_COLUMNS].to_crs(OUTPUT_CRS)
        shifted = shifted.set_geometry(convert_geometries(shifted.geometry, "wgs84", "gcj02"))
        write_layer(shifted, folder / OFFSET_FILE, "grids")
        defect_list.append({"rule": "layer_offset", "file": OFFSET_FILE, "crs": "gcj02",
                            "grid_codes": [], "also": [], "note": DEFECT_NOTES["layer_offset"]})
    _write_tables(folder, tables)
    step("events")
    touched = {c for d in defect_list for c in d["grid_codes"]}
    covered = shapely.union_all(np.asarray(city.districts.geometry.values))
    event_metrics = write_events(folder / "events.parquet", plan_events(layer, covered, touched),
                                 events, seed, tick=lambda: step("events"))
    truth = {
        "seed": seed, "grids": grids, "events": events, "districts": districts,
        "parameters": {
            "dispatch_sla_hours": DISPATCH_SLA_HOURS, "period_end": PERIOD_END,
            "metric_crs": METRIC_CRS, "grid_count": "rows of grids.gpkg",
            "serial_order": "gridkit.synth.serial_order",
            "event_edge_margin_m": _EDGE_MARGIN_M,
            "clean_grids": _clean_stats(city.grids),
        },
        "defects": defect_list,
        "rosters": issues,
        "metrics": {**roster_metrics(layer, tables), **event_metrics},
    }
    (folder / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n",
                                       encoding="utf-8")
    step("done")
    return truth

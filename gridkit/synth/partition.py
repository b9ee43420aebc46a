"""Exact partitions of polygons.

Relaxed Voronoi cells of seeded points whose edges are densified and wiggled once (so
neighbours share them vertex for vertex), noded with the parent boundaries and polygonised.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely import STRtree

from gridkit.errors import InputError

__all__ = ["dissolve", "partition", "sample_points", "wiggle"]

_WIGGLE = 0.05


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


def dissolve(faces: np.ndarray, label: np.ndarray, n: int) -> np.ndarray:
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
            return dissolve(faces, label, len(pidx)), pidx
    # A seed can place points so that no attempt gives one face per seed: the user's remedy.
    raise InputError("the synthetic partition failed for this seed", hint="try another {option}",
                     option=("seed", None))

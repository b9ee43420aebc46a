"""The compact geometry codec of the map pages (decoded in the browser by ``gk.decode``).

Coordinates are quantised to 1e-5 degree (about 1 m) and written as integer
deltas per ring, 5 bits per character (:func:`varints`); the edges that
neighbouring polygons share are written once (:func:`_polygon_arcs`); each
source is written once however many layers draw it.
"""

from __future__ import annotations

__all__ = ["ALPHABET", "COORD_SCALE", "encode_geometries", "encode_source", "script_json",
           "varints"]

import hashlib
import json
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridkit.crs import convert_geometries

#: Coordinates are written as integers in units of 1e-5 degree (about 1.1 m).
COORD_SCALE = 100_000


def script_json(obj: Any) -> str:
    """Compact JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


#: Characters of the coordinate text: each carries 5 bits of a number and a continuation bit.
ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ALPHABET = np.frombuffer(ALPHABET, np.uint8)


def varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Encode integers as text: zigzag, then 5 bits per character, least significant first.

    Returns the text and the number of characters of each value. Small
    numbers (the deltas between neighbouring vertices) take one or two
    characters, against four or five as decimal JSON.

    Examples
    --------
    >>> varints(np.array([0, -1, 1, 16, 1000]))
    (b'ABCgBw-B', array([1, 1, 1, 2, 3]))
    """
    z = ((values.astype(np.int64) << 1) ^ (values.astype(np.int64) >> 63)).astype(np.uint64)
    chunks = np.ones(len(z), np.int64)
    rest = z >> np.uint64(5)
    while rest.any():
        chunks += rest > 0
        rest >>= np.uint64(5)
    width = int(chunks.max(initial=1))
    position = np.arange(width)
    digits = (z[:, None] >> (np.uint64(5) * position.astype(np.uint64))) & np.uint64(31)
    more = (position[None, :] < chunks[:, None] - 1).astype(np.uint64) << np.uint64(5)
    text = _ALPHABET[(digits | more).astype(np.intp)][position[None, :] < chunks[:, None]]
    return text.tobytes(), chunks


def _delta_rings(coords: np.ndarray, offsets: np.ndarray, closed: bool) -> list[str]:
    """Quantise coordinates and write each ring/line as the text of ``x0 y0 dx1 dy1 ...``.

    Coordinates are integers in 1e-5 degree; the first vertex of a ring is
    absolute, the others are deltas (:func:`varints`). Repeated vertices
    (after quantising) and, for closed rings, the closing vertex are dropped;
    the browser restores the closure.
    """
    q = np.rint(coords * COORD_SCALE).astype(np.int64)
    sizes = np.diff(offsets)
    ring_id = np.repeat(np.arange(len(sizes)), sizes)
    first = np.zeros(len(q), bool)
    first[offsets[:-1][sizes > 0]] = True
    delta = q.copy()
    delta[1:] -= q[:-1]
    delta[first] = q[first]
    keep = first | (delta != 0).any(axis=1)
    if closed:
        keep[offsets[1:][sizes > 0] - 1] = False
    text, chunks = varints(delta[keep].ravel())
    vertex_chars = chunks.reshape(-1, 2).sum(axis=1)
    chars = np.bincount(ring_id[keep], weights=vertex_chars, minlength=len(sizes))
    ends = np.cumsum(chars).astype(np.int64).tolist()
    decoded = text.decode("ascii")
    return [decoded[a:b] for a, b in zip([0, *ends[:-1]], ends)]


def _split_text(text: bytes, chunks: np.ndarray, group: np.ndarray, n: int) -> list[str]:
    """The varint text cut into ``n`` pieces: value ``k`` (``chunks[k]`` characters) is in
    piece ``group[k]``."""
    ends = np.cumsum(np.bincount(group, weights=chunks, minlength=n)).astype(np.int64).tolist()
    decoded = text.decode("ascii")
    return [decoded[a:b] for a, b in zip([0, *ends[:-1]], ends)]


def _polygon_arcs(coords: np.ndarray, offsets: np.ndarray) -> tuple[list[str], list[str]]:
    """Rings written once per shared edge: the arcs of a coverage and each ring's arc list.

    Neighbouring grids share their edges, so writing every ring repeats most
    vertices twice. Rings are cut at the nodes (vertices where more or fewer
    than two distinct segments meet) into arcs; an arc is written once, and
    a ring is the list of its arcs, each possibly reversed (TopoJSON's idea).
    Coordinates are quantised as in :func:`_delta_rings`.

    Returns
    -------
    arcs : the text of all arcs (one per arc, as :func:`_delta_rings`, but each
        arc's first vertex is a delta from the previous arc's last one, so
        arcs that continue one another cost two characters to start).
    rings : per ring, the text of ``2 × arc + reversed`` of its arcs, each a
        delta from the previous one (over all rings, in order), as varints.
    """
    q = np.rint(coords * COORD_SCALE).astype(np.int64)
    sizes = np.diff(offsets)
    n_rings = len(sizes)
    ring_id = np.repeat(np.arange(n_rings), sizes)
    repeated = np.zeros(len(q), bool)
    repeated[1:] = (q[1:] == q[:-1]).all(axis=1) & (ring_id[1:] == ring_id[:-1])
    q, ring_id = q[~repeated], ring_id[~repeated]
    counts = np.bincount(ring_id, minlength=n_rings)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    # Vertex ids; coordinates are below 2^25 in magnitude (1e-5 degree units).
    _, vid = np.unique((q[:, 0] + (1 << 25)) * (1 << 27) + (q[:, 1] + (1 << 25)),
                       return_inverse=True)
    vid = vid.ravel()
    n = int(vid.max()) + 1 if len(vid) else 0
    same = ring_id[:-1] == ring_id[1:]
    a, b = vid[:-1][same], vid[1:][same]
    segments = np.unique(np.minimum(a, b) * n + np.maximum(a, b))
    node = (np.bincount(segments // n, minlength=n) + np.bincount(segments % n, minlength=n)) != 2
    # Each ring without its closing vertex, turned to start at its first node (a ring
    # without nodes, an island or a hole, at its lowest vertex id, so that the same ring in
    # two polygons (a hole and the grid filling it) matches), then closed again.
    length = np.maximum(counts - 1, 0)
    rings = np.flatnonzero(length)
    length, base = length[rings], bounds[:-1][rings]
    owner = np.repeat(np.arange(len(rings)), length)
    position = np.arange(len(owner)) - np.repeat(np.cumsum(length) - length, length)
    open_v = vid[base[owner] + position]
    first = np.cumsum(length) - length
    big = np.iinfo(np.int64).max
    first_node = np.minimum.reduceat(np.where(node[open_v], position, big), first)
    lowest = np.minimum.reduceat(open_v, first)
    at_lowest = np.minimum.reduceat(np.where(open_v == lowest[owner], position, big), first)
    has_nodes = first_node < big
    start = np.where(has_nodes, first_node, at_lowest)
    closed_len = length + 1
    closed_owner = np.repeat(np.arange(len(rings)), closed_len)
    closed_pos = np.arange(len(closed_owner)) - np.repeat(np.cumsum(closed_len) - closed_len,
                                                          closed_len)
    source = base[closed_owner] + (closed_pos + start[closed_owner]) % length[closed_owner]
    ring_v, ring_q = vid[source], q[source]
    # Arcs run from node to node (a ring without nodes is one arc): each vertex but a
    # ring's closing one that is a node (a node-less ring's first) starts one, and an arc
    # ends at the next arc's start, or at the closing vertex of its ring.
    closing = np.cumsum(closed_len) - 1
    starts_arc = np.where(has_nodes[closed_owner], node[ring_v], closed_pos == 0)
    starts_arc[closing] = False
    arc_start = np.flatnonzero(starts_arc)
    following = np.append(arc_start[1:], len(ring_v))
    arc_ring = closed_owner[arc_start]
    arc_end = np.where(np.append(arc_ring[1:] == arc_ring[:-1], False), following + 1,
                       following)
    # Between nodes every vertex has two neighbours, so an arc's first two vertices fix
    # it: the same arc drawn backwards has them as its last two.
    forward = ring_v[arc_start] * n + ring_v[arc_start + 1]
    backward = ring_v[arc_end - 1] * n + ring_v[arc_end - 2]
    canonical = np.minimum(forward, backward)
    _, first_seen, which = np.unique(canonical, return_index=True, return_inverse=True)
    which = which.ravel()
    number = np.empty(len(first_seen), np.int64)
    number[np.argsort(first_seen, kind="stable")] = np.arange(len(first_seen))
    refs = 2 * number[which] + (forward != forward[first_seen][which])
    new_arcs = np.sort(first_seen)
    arc_sizes = arc_end[new_arcs] - arc_start[new_arcs]
    take = np.repeat(arc_start[new_arcs], arc_sizes) + (
        np.arange(arc_sizes.sum()) - np.repeat(np.cumsum(arc_sizes) - arc_sizes, arc_sizes))
    points = ring_q[take] if len(take) else np.zeros((0, 2), np.int64)
    delta = points.copy()
    delta[1:] -= points[:-1]
    text, chunks = varints(delta.ravel())
    arcs = _split_text(text, chunks.reshape(-1, 2).sum(axis=1),
                       np.repeat(np.arange(len(new_arcs)), arc_sizes), len(new_arcs))
    steps = refs.astype(np.int64)
    steps[1:] -= refs[:-1]
    text, chunks = varints(steps)
    arcs_per_ring = np.zeros(n_rings, np.int64)
    arcs_per_ring[rings] = np.bincount(arc_ring, minlength=len(rings))
    rings_text = _split_text(text, chunks, np.repeat(np.arange(n_rings), arcs_per_ring),
                             n_rings)
    return arcs, rings_text


def _nest(items: list, offsets: np.ndarray) -> list[list]:
    bounds = offsets.tolist()
    return [items[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def encode_geometries(geoms: np.ndarray, arcs: list[str] | None = None,
                      ) -> list[tuple[str, list | str]]:
    """Compact form of each geometry: ``("P"|"T"|"L"|"X", nested coordinate texts)``.

    ``P``: a (multi)polygon as polygons → ring texts; ``L``: (multi)lines as
    line texts; ``X``: (multi)points as one text (see :func:`_delta_rings`).
    With ``arcs`` (a list, filled here), polygons are ``T``: polygons → ring
    texts of arc references, their shared edges written once into ``arcs``
    (:func:`_polygon_arcs`). Geometry collections are not accepted (explode
    them first).

    Examples
    --------
    >>> from shapely import Point, box
    >>> encode_geometries(np.array([box(113.3, 23.1, 113.30002, 23.10001), Point(0, 0)]))
    [('P', [['k9wzVg3_sEACDAAB']]), ('X', 'AA')]
    """
    type_ids = shapely.get_type_id(geoms)
    families = {"P": (3, 6), "L": (1, 5), "X": (0, 4)}
    out: list[tuple[str, list | str]] = [("X", "")] * len(geoms)
    for family, ids in families.items():
        idx = np.flatnonzero(np.isin(type_ids, ids))
        if not len(idx):
            continue
        _, coords, offsets = shapely.to_ragged_array(geoms[idx])
        if family == "X":
            parts = _delta_rings(coords, offsets[0] if offsets else np.arange(len(idx) + 1),
                                 False)
        elif family == "L":
            lines = _delta_rings(coords, offsets[0], False)
            parts = _nest(lines, offsets[1]) if len(offsets) > 1 else [[p] for p in lines]
        else:
            if arcs is None:
                rings = _delta_rings(coords, offsets[0], True)
            else:
                if arcs:
                    raise ValueError("arcs must start empty: ring references count from 0")
                texts, rings = _polygon_arcs(coords, offsets[0])
                arcs.extend(texts)
                family = "T"
            polygons = _nest(rings, offsets[1])
            parts = _nest(polygons, offsets[2]) if len(offsets) > 2 else [[p] for p in polygons]
        for i, part in zip(idx, parts):
            out[i] = (family, part)
    if np.isin(type_ids, (2, 7)).any():
        raise ValueError("explode geometry collections and rings before encoding")
    return out


def _front_coded(texts: list[str | None]) -> list[str | None]:
    """Each text as its prefix shared with the previous text, and the rest ("front coding").

    The first character gives the length of the shared prefix in UTF-16 code
    units (as JavaScript counts; at most 63) as a character of
    :data:`ALPHABET`, the rest is the text after it. Grids come in code order,
    so neighbours share most of their code and name (``440103001101001``,
    ``440103001101002``; ``…社区第1网格``, ``…社区第2网格``). ``None`` stays
    ``None`` and does not interrupt the chain.

    Examples
    --------
    >>> _front_coded(["440103001101001", "440103001101002", None, "4401"])
    ['A440103001101001', 'O2', None, 'E']
    """
    out: list[str | None] = []
    previous = ""
    for text in texts:
        if text is None:
            out.append(None)
            continue
        n = 0
        for a, b in zip(previous, text):
            if a != b:
                break
            n += 1
        units = len(text[:n].encode("utf-16-le")) // 2
        while units > 63:  # the length must fit one character
            n -= 1
            units = len(text[:n].encode("utf-16-le")) // 2
        out.append(chr(ALPHABET[units]) + text[n:])
        previous = text
    return out


#: Geometry arrays encoded lately, by content (:func:`_encoded_polygons`).
_ENCODED: OrderedDict[bytes, tuple[list, list[str]]] = OrderedDict()
_ENCODED_KEPT = 4


def _encoded_polygons(geoms: np.ndarray) -> tuple[list, list[str]]:
    """:func:`encode_geometries` with shared arcs, once per distinct geometry array.

    A report draws the same simplified grids and outlines in four maps: their
    encoding (the costliest part of rendering a map) is done once and reused,
    recognised by a digest of the geometries' WKB.
    """
    # WKB is self-delimiting; a missing geometry is 0xff, which no WKB starts with
    wkb = b"".join(w if w is not None else b"\xff" for w in shapely.to_wkb(geoms).tolist())
    key = hashlib.blake2b(wkb, digest_size=16).digest()
    if key not in _ENCODED:
        arcs: list[str] = []
        _ENCODED[key] = (encode_geometries(geoms, arcs), arcs)
        while len(_ENCODED) > _ENCODED_KEPT:
            _ENCODED.popitem(last=False)
    _ENCODED.move_to_end(key)
    return _ENCODED[key]


def _key(i: int) -> str:
    """Short property keys: a, b, ..., z, ba, bb, ..."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[i] if i < 26 else _key(i // 26) + letters[i % 26]


def encode_source(gdf: gpd.GeoDataFrame, columns: Sequence[str], system: str = "wgs84",
                  ) -> tuple[str, dict[str, str]]:
    """The JavaScript literal of a source and the short key of each column.

    ``{"scale": 100000, "alphabet": ..., "keys": [key, ...], "dicts": {key:
    [text, ...]}, "fronts": [key, ...], "arcs": [text, ...], "features":
    [[[value, ...], family, geometry], ...]}`` (see :func:`encode_geometries`;
    polygons are ``T``, their shared edges written once in ``arcs``). Properties are
    positional, in the order of ``keys`` (``null``: missing), so that 20,000
    features do not each repeat every key. A text column with many repeated
    values (community names, formatted rates) is written once in ``dicts``
    and referenced by position; the other text columns (grid codes and names)
    are front-coded (``fronts``, :func:`_front_coded`). ``gk.decode`` in the
    page turns it into GeoJSON.

    Examples
    --------
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame({"name": ["a", "a", "b", None]}, geometry=[Point(0, 0)] * 4)
    >>> text, keys = encode_source(g, ["name"])
    >>> data = json.loads(text)
    >>> keys, data["dicts"], data["features"][2][0], data["features"][3][0]
    ({'name': 'a'}, {'a': ['a', 'b']}, [1], [None])
    """
    geoms = gdf.geometry.values
    if system != "wgs84":
        geoms = convert_geometries(np.asarray(geoms), "wgs84", system)
    keys = {c: _key(i) for i, c in enumerate(columns)}
    dicts: dict[str, list] = {}
    fronts: list[str] = []
    values = []
    for column in columns:
        col = gdf[column]
        plain = col.astype(object).where(col.notna(), None).tolist()
        if pd.api.types.is_numeric_dtype(col):
            values.append(plain)
        elif col.nunique() * 2 <= len(col):
            positions, uniques = pd.factorize(col)
            dicts[keys[column]] = list(uniques)
            refs = positions.astype(object)
            refs[positions < 0] = None
            values.append(refs.tolist())
        else:
            fronts.append(keys[column])
            values.append(_front_coded([None if v is None else str(v) for v in plain]))
    encoded, arcs = _encoded_polygons(np.asarray(geoms))
    rows = zip(*values) if columns else ([] for _ in encoded)
    features = [(row, *g) for row, g in zip(rows, encoded)]
    return script_json({"scale": COORD_SCALE, "alphabet": ALPHABET.decode("ascii"),
                         "keys": list(keys.values()), "dicts": dicts, "fronts": fronts,
                         "arcs": arcs, "features": features}), keys

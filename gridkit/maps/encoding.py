"""The compact geometry codec of the map pages (decoded in the browser by ``gk.decode``).

Coordinates are quantised to 1e-5 degree (about 1 m) and written as integer
deltas per ring, 5 bits per character (:func:`varints`); each source is
written once however many layers draw it.
"""

from __future__ import annotations

__all__ = ["ALPHABET", "COORD_SCALE", "encode_geometries", "encode_source", "script_json",
           "varints"]

import json
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


def _nest(items: list, offsets: np.ndarray) -> list[list]:
    bounds = offsets.tolist()
    return [items[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def encode_geometries(geoms: np.ndarray) -> list[tuple[str, list | str]]:
    """Compact form of each geometry: ``("P"|"L"|"X", nested coordinate texts)``.

    ``P``: a (multi)polygon as polygons → ring texts; ``L``: (multi)lines as
    line texts; ``X``: (multi)points as one text (see :func:`_delta_rings`).
    Geometry collections are not accepted (explode them first).

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
            rings = _delta_rings(coords, offsets[0], True)
            polygons = _nest(rings, offsets[1])
            parts = _nest(polygons, offsets[2]) if len(offsets) > 2 else [[p] for p in polygons]
        for i, part in zip(idx, parts):
            out[i] = (family, part)
    if np.isin(type_ids, (2, 7)).any():
        raise ValueError("explode geometry collections and rings before encoding")
    return out


def _key(i: int) -> str:
    """Short property keys: a, b, ..., z, ba, bb, ..."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[i] if i < 26 else _key(i // 26) + letters[i % 26]


def encode_source(gdf: gpd.GeoDataFrame, columns: Sequence[str], system: str = "wgs84",
                  ) -> tuple[str, dict[str, str]]:
    """The JavaScript literal of a source and the short key of each column.

    ``{"scale": 100000, "alphabet": ..., "keys": [key, ...], "dicts": {key:
    [text, ...]}, "features": [[[value, ...], family, geometry], ...]}`` (see
    :func:`encode_geometries`). Properties are positional, in the order of
    ``keys`` (``null``: missing), so that 20,000 features do not each repeat
    every key. A text column with many repeated values (community names,
    formatted rates) is written once in ``dicts`` and referenced by position.
    ``gk.decode`` in the page turns it into GeoJSON.

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
    values = []
    for column in columns:
        col = gdf[column]
        if not pd.api.types.is_numeric_dtype(col) and col.nunique() * 2 <= len(col):
            positions, uniques = pd.factorize(col)
            dicts[keys[column]] = list(uniques)
            refs = positions.astype(object)
            refs[positions < 0] = None
            values.append(refs.tolist())
        else:
            values.append(col.astype(object).where(col.notna(), None).tolist())
    encoded = encode_geometries(np.asarray(geoms))
    rows = zip(*values) if columns else ([] for _ in encoded)
    features = [(row, *g) for row, g in zip(rows, encoded)]
    return script_json({"scale": COORD_SCALE, "alphabet": ALPHABET.decode("ascii"),
                         "keys": list(keys.values()), "dicts": dicts,
                         "features": features}), keys

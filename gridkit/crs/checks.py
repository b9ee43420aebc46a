"""Coordinate sanity checks on plain x/y (lon/lat) arrays: usable points, swapped axes,
projected numbers in a geographic CRS, degrees or a misplaced zone in a projected one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyproj
from numpy.typing import ArrayLike, NDArray

from gridkit.crs.offsets import float_arrays
from gridkit.crs.spec import CrsLike, CrsSpec, parse_crs
from gridkit.errors import InputError

__all__ = [
    "CoordinateProblem", "CoordinateTally", "check_coordinates", "coordinate_masks",
    "find_coordinate_problem",
    "guess_projected_crs", "majority_problem", "tally_coordinates", "valid_coordinate_mask",
]

# Area-of-use margin (degrees) before a projected layer is reported as misplaced.
_AREA_MARGIN_DEG = 2.0


def _out_of_range(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
    return (np.abs(x) > 180.0) | (np.abs(y) > 90.0)


def valid_coordinate_mask(x: ArrayLike, y: ArrayLike, crs: CrsLike) -> NDArray[np.bool_]:
    """Which points have usable coordinates: finite, not the 0,0 placeholder,
    and, for a geographic CRS (incl. GCJ-02/BD-09), |lon| ≤ 180 and |lat| ≤ 90.

    For events: the others are *unlocatable* (see docs/architecture.md).

    Examples
    --------
    >>> valid_coordinate_mask([113.3, 0, 200, float("nan")], [23.1, 0, 23, 23], "wgs84").tolist()
    [True, False, False, False]
    """
    x, y = float_arrays(x, y)
    ok = np.isfinite(x) & np.isfinite(y) & ~((x == 0) & (y == 0))
    if parse_crs(crs).crs.is_geographic:
        ok &= ~_out_of_range(x, y)
    return ok


def _fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return np.format_float_positional(value, precision=6, trim="-")


def _example(
    x: NDArray[np.float64], y: NDArray[np.float64], rows: NDArray, mask: NDArray[np.bool_]
) -> tuple[int, str]:
    """First row (smallest row number) among ``mask`` and its coordinates."""
    i = np.flatnonzero(mask)[np.argmin(rows[mask])]
    return int(rows[i]), f"x={_fmt(x[i])}, y={_fmt(y[i])}"


def _epsg_label(code: int) -> str:
    return f"EPSG:{code} ({pyproj.CRS.from_epsg(code).name})"


def guess_projected_crs(x: float, y: float) -> list[int]:
    """EPSG codes of projected CRSs (China) that metre values ``x, y`` may be in.

    - x 25–45 million: CGCS2000 3-degree Gauss-Krüger with the zone number
      prefixed (zone = the millions, EPSG:4513–4533; Guangzhou zone 38 = 4526);
    - x 13–23 million: 6-degree Gauss-Krüger with zone prefix (EPSG:4491–4501);
    - x 8–15.2 million, y 0–8 million: Web Mercator (EPSG:3857);
    - x 0.2–0.8 million, y 2.2–3.0 million: EPSG:4547 (3-degree CM 114E,
      no zone prefix; Guangzhou itself is x 0.4–0.6 M, y 2.4–2.7 M).

    Other unprefixed values (any Gauss-Krüger CM zone or UTM) give no guess.

    Examples
    --------
    >>> guess_projected_crs(38_512_000, 2_560_000)
    [4526]
    >>> guess_projected_crs(512_000, 2_560_000)
    [4547]
    """
    zone = int(x // 1_000_000) if np.isfinite(x) else -1
    codes = []
    if 25 <= zone <= 45:
        codes.append(4513 + zone - 25)
    if 13 <= zone <= 23:
        codes.append(4491 + zone - 13)
    if 8e6 <= x <= 15.2e6 and 0 <= y <= 8e6:
        codes.append(3857)
    if 2e5 <= x <= 8e5 and 2.2e6 <= y <= 3e6:
        codes.append(4547)
    return codes


@dataclass(frozen=True)
class CoordinateTally:
    """Counts of the geographic coordinate checks, addable across chunks of one file.

    Attributes
    ----------
    usable : finite points other than the 0,0 placeholder.
    counts : usable points per problem: ``swapped`` (China read backwards: x 0–56,
        y 70–140) and ``out_of_range`` (|x| > 180 or |y| > 90: metres, not degrees).
    first : per problem, ``(row, x, y)`` of its lowest row.
    """

    usable: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    first: Mapping[str, tuple[int, float, float]] = field(default_factory=dict)

    def __add__(self, other: CoordinateTally) -> CoordinateTally:
        counts = {k: self.counts.get(k, 0) + other.counts.get(k, 0)
                  for k in {*self.counts, *other.counts}}
        first = dict(self.first)
        for kind, example in other.first.items():
            if kind not in first or example[0] < first[kind][0]:
                first[kind] = example
        return CoordinateTally(self.usable + other.usable, counts, first)


@dataclass(frozen=True)
class CoordinateProblem:
    """Coordinates that do not fit their declared CRS.

    Attributes
    ----------
    kind : ``swapped``, ``projected`` (metres in a geographic CRS), ``out_of_range``
        (isolated points beyond ±180/±90), ``degrees`` (degrees in a projected CRS)
        or ``outside_area`` (a projected layer far from its CRS's area of use).
    row : 1-based row of the first point concerned.
    message : what is wrong, one line.
    hint : what to do; ``{option}`` marks the setting that does it (see
        :class:`~gridkit.errors.InputError`).
    option : that setting's name and value (``("crs", 4547)``), or None.
    """

    kind: str
    row: int
    message: str
    hint: str
    option: tuple[str, Any] | None = None

    def error(self, path: str | os.PathLike | None = None) -> InputError:
        """The problem as an :class:`InputError` about ``path``."""
        return InputError(self.message, path=path, row=self.row, hint=self.hint,
                          option=self.option)

    def __str__(self) -> str:
        return str(InputError(self.message, hint=self.hint, option=self.option))


def coordinate_masks(x: ArrayLike, y: ArrayLike, crs: CrsLike = "wgs84"
                     ) -> dict[str, NDArray[np.bool_]]:
    """Point-by-point masks of the majority checks.

    ``usable``: finite and not the 0,0 placeholder; among those, for a
    geographic CRS (incl. GCJ-02/BD-09) ``swapped`` (x 0–56 and y 70–140: China
    read backwards) and ``out_of_range`` (|x| > 180 or |y| > 90: metres, not
    degrees); for a projected CRS ``degrees`` (|x| ≤ 180 and |y| ≤ 90).

    Examples
    --------
    >>> masks = coordinate_masks([23.1, 113.3, 0], [113.3, 23.1, 0], "wgs84")
    >>> {k: v.tolist() for k, v in masks.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'usable': [True, True, False], 'swapped': [True, False, False],
     'out_of_range': [True, False, False]}
    """
    x, y = (np.ravel(a) for a in float_arrays(x, y))
    usable = np.isfinite(x) & np.isfinite(y) & ~((x == 0) & (y == 0))
    if parse_crs(crs).crs.is_geographic:
        return {"usable": usable,
                "swapped": usable & (x >= 0) & (x <= 56) & (y >= 70) & (y <= 140),
                "out_of_range": usable & _out_of_range(x, y)}
    return {"usable": usable, "degrees": usable & ~_out_of_range(x, y)}


def tally_coordinates(x: ArrayLike, y: ArrayLike, rows: ArrayLike | None = None,
                      crs: CrsLike = "wgs84") -> CoordinateTally:
    """Count usable points and each problem of :func:`coordinate_masks`.

    Parameters
    ----------
    x, y : coordinates (any shape; flattened).
    rows : 1-based row number of each point (default: position + 1).
    crs : the declared CRS (default geographic).

    Examples
    --------
    >>> t = tally_coordinates([23.1, 113.3, 0], [113.2, 23.1, 0])
    >>> t.usable, t.counts["swapped"], t.first["swapped"]
    (2, 1, (1, 23.1, 113.2))
    """
    x, y = (np.ravel(a) for a in float_arrays(x, y))
    rows = np.arange(1, x.size + 1) if rows is None else np.ravel(np.asarray(rows))
    masks = coordinate_masks(x, y, crs)
    usable = masks.pop("usable")
    first = {}
    for kind, mask in masks.items():
        if mask.any():
            i = np.flatnonzero(mask)[np.argmin(rows[mask])]
            first[kind] = (int(rows[i]), float(x[i]), float(y[i]))
    return CoordinateTally(int(usable.sum()), {k: int(m.sum()) for k, m in masks.items()},
                           first)


def majority_problem(tally: CoordinateTally, crs: CrsLike, *,
                     axes: tuple[str, str] = ("x", "y")) -> CoordinateProblem | None:
    """The layer-wide problem of geographic coordinates, decided by majority.

    More than half of the usable points swapped, or out of ±180/±90 (projected
    numbers, naming the projected CRSs they may be, :func:`guess_projected_crs`).
    One outlier is not taken for a wrong CRS. Works on a whole file's tally
    (chunks added up), so the decision does not depend on the chunking.

    Parameters
    ----------
    tally : from :func:`tally_coordinates` (summed over chunks).
    crs : the declared CRS (geographic; GCJ-02/BD-09 included).
    axes : how the message names the two coordinates (``("lon", "lat")`` for tables).

    Examples
    --------
    >>> p = majority_problem(tally_coordinates([23.1, 23.2], [113.2, 113.3]), "wgs84")
    >>> p.kind, p.row
    ('swapped', 1)
    >>> majority_problem(tally_coordinates([113.2], [23.1]), "wgs84") is None
    True
    """
    spec = parse_crs(crs)
    ax, ay = axes
    for kind in ("swapped", "out_of_range", "degrees"):
        count = tally.counts.get(kind, 0)
        if not tally.usable or 2 * count <= tally.usable:
            continue
        row, x, y = tally.first[kind]
        share = f"{count} of {tally.usable} coordinates"
        example = f"{ax}={_fmt(x)}, {ay}={_fmt(y)}"
        if kind == "swapped":
            return CoordinateProblem(
                "swapped", row,
                f"lon/lat look swapped ({share} have a latitude-like {ax} and a "
                f"longitude-like {ay}, e.g. {example})",
                f"put longitude in {ax} and latitude in {ay}")
        if kind == "degrees":
            return CoordinateProblem(
                "degrees", row,
                f"coordinates look like degrees, not metres of {spec.name} "
                f"({share}, e.g. {example})",
                "pass {option} (or wgs84, gcj02, bd09 for web-map coordinates)", ("crs", 4490))
        return CoordinateProblem(
            "projected", row,
            f"coordinates look projected (metres), not degrees of {spec.name} "
            f"({share} outside ±180/±90, e.g. {example})",
            *_projected_hint(guess_projected_crs(x, y)))
    return None


def find_coordinate_problem(
    x: ArrayLike,
    y: ArrayLike,
    crs: CrsLike,
    *,
    rows: ArrayLike | None = None,
    strict: bool = True,
    axes: tuple[str, str] = ("x", "y"),
) -> CoordinateProblem | None:
    """The first way coordinates do not fit their declared CRS, or ``None``.

    Checks, on the finite points other than the 0,0 placeholder (NaN and 0,0
    are the caller's business), deciding layer-wide problems by majority (more
    than half of the points) so that one outlier is not taken for a wrong CRS:

    geographic CRS (incl. GCJ-02/BD-09)
        - lon/lat swapped: x in 0–56 and y in 70–140 (China read backwards);
        - projected-looking numbers (|x| > 180 or |y| > 90), naming the
          projected CRSs they may be (:func:`guess_projected_crs`);
        - with ``strict``, any single point out of range (|lon| > 180, |lat| > 90);
    projected CRS
        - degree-looking numbers (|x| ≤ 180 and |y| ≤ 90);
        - the median point falls outside the CRS's area of use (+2°), e.g. a
          zone-prefixed EPSG:4526 layer labelled EPSG:4547.

    One check for layers (:func:`~gridkit.crs.layers.check_layer_coordinates`)
    and tables of points alike.

    Parameters
    ----------
    x, y : coordinates (any shape; flattened).
    crs : the declared CRS (anything :func:`parse_crs` takes, or ``gdf.crs``).
    rows : 1-based row number of each point (default: position + 1).
    strict : report isolated out-of-range points; False for event tables,
        where such rows are counted as unlocatable instead.
    axes : how messages name the two coordinates.

    Examples
    --------
    >>> find_coordinate_problem([113.26, 113.30], [23.13, 23.10], "EPSG:4490") is None
    True
    >>> print(find_coordinate_problem([23.13, 23.10], [113.26, 113.30], 4490, axes=("lon", "lat")))
    ... # doctest: +ELLIPSIS
    lon/lat look swapped (2 of 2 coordinates have a latitude-like lon ...
    """
    spec = parse_crs(crs)
    x, y = (np.ravel(a) for a in float_arrays(x, y))
    rows = np.arange(1, x.size + 1) if rows is None else np.ravel(np.asarray(rows))
    keep = np.isfinite(x) & np.isfinite(y) & ~((x == 0) & (y == 0))
    x, y, rows = x[keep], y[keep], rows[keep]
    if not x.size:
        return None
    problem = majority_problem(tally_coordinates(x, y, rows, spec), spec, axes=axes)
    if not spec.crs.is_geographic:
        return problem or _area_of_use_problem(x, y, rows, spec)
    outside = _out_of_range(x, y)
    if problem is None and strict and outside.any():
        row, example = _example(x, y, rows, outside)
        problem = CoordinateProblem(
            "out_of_range", row, f"coordinate out of range for {spec.name} ({example})",
            "longitude must be within ±180 and latitude within ±90")
    return problem


def check_coordinates(
    x: ArrayLike,
    y: ArrayLike,
    crs: CrsLike,
    *,
    path: str | os.PathLike | None = None,
    rows: ArrayLike | None = None,
    strict: bool = True,
) -> None:
    """Raise :class:`InputError` for the problem :func:`find_coordinate_problem` finds.

    Raises
    ------
    InputError
        With ``path`` and the row of the first offending point.

    Examples
    --------
    >>> check_coordinates([113.26, 113.30], [23.13, 23.10], "EPSG:4490")
    >>> check_coordinates([23.13, 23.10], [113.26, 113.30], 4490, path="g.gpkg")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gridkit.errors.InputError: g.gpkg: row 1: lon/lat look swapped ...
    """
    problem = find_coordinate_problem(x, y, crs, rows=rows, strict=strict)
    if problem is not None:
        raise problem.error(path)


def _projected_hint(codes: list[int]) -> tuple[str, tuple[str, Any]]:
    """The hint and the option for coordinates in an unknown projected CRS."""
    if not codes:
        return ("pass {option} with the layer's projected EPSG code (e.g. a CGCS2000 "
                "Gauss-Kruger CM zone, EPSG:4534-4554)", ("crs", None))
    return (f"they may be {' or '.join(_epsg_label(c) for c in codes)}; pass {{option}}",
            ("crs", codes[0]))


def _area_of_use_problem(
    x: NDArray[np.float64], y: NDArray[np.float64], rows: NDArray, spec: CrsSpec
) -> CoordinateProblem | None:
    area = spec.crs.area_of_use
    if area is None:
        return None
    mx, my = float(np.median(x)), float(np.median(y))
    to_geo = pyproj.Transformer.from_crs(spec.crs, spec.crs.geodetic_crs, always_xy=True)
    lon, lat = to_geo.transform(mx, my)
    west, south, east, north = area.bounds
    m = _AREA_MARGIN_DEG
    placed = bool(np.isfinite(lon) and np.isfinite(lat))
    if placed and west - m <= lon <= east + m and south - m <= lat <= north + m:
        return None
    where = f"lies at lon {lon:.2f}, lat {lat:.2f}" if placed else "maps to no place on earth"
    codes = [c for c in guess_projected_crs(mx, my) if f"EPSG:{c}" != spec.name]
    epsg = spec.crs.to_epsg()
    return CoordinateProblem(
        "outside_area", int(rows.min()),
        f"coordinates fall outside the area of use of {_epsg_label(epsg) if epsg else spec.name}: "
        f"their median x={_fmt(mx)}, y={_fmt(my)} {where}",
        *_projected_hint(codes))

"""What the rule families share: the validation context, finding rows and geometry helpers.

Every rule is a function ``rule(ctx: Context) -> pandas.DataFrame`` returning
rows made by :func:`make_findings`; it raises :class:`Skipped` when its input
is missing (no communities layer, no households column, ...). The context
holds the layers in the metric CRS and caches what several rules need (the
union of the grids, the overlap pairs, where each grid lies among the
communities, the gaps), so each is computed once and only when a rule asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridkit.i18n import pick
from gridkit.validate.config import COMMUNITY_CODE_LENGTH, RuleConfig

__all__ = ["clean_pieces", "Context", "coverage_breaks", "dissolve_layer", "fmt_m", "Gaps",
    "group_codes", "group_union", "isin", "Location", "make_findings", "Offset", "polsby_popper",
    "polygon_parts", "regroup", "significant", "Skipped", "text_column"]

#: Pieces of less area than this (m²) are the rounding residue of overlay operations.
_TINY_AREA = 1e-6
#: Layers of at least this many polygons get their coverage checked on two threads.
_PARALLEL_COVERAGE = 4000
#: Width (m) of the opening that strips overlay spikes from gaps before finding the grids around.
_OPENING_M = 1e-3
#: A message names at most this many grids (the finding's grid_codes keep all).
_MAX_NAMED = 5


class Skipped(Exception):
    """A rule could not run on this input; the message (user language) says why."""


@dataclass(frozen=True)
class Offset:
    """A systematic displacement of the grid layer against the reference layer.

    ``dx``, ``dy``: median shift of matched grids (layer minus reference), metres.
    ``system``: ``"gcj02"``/``"bd09"`` when the shift is that of a Chinese web-map
    offset system (the layer was then converted back to WGS84), else ``None``
    (the layer was translated back by the median shift). ``shifted``: matched
    grids displaced by about the median; ``matched``: grids matched by code.
    """

    dx: float
    dy: float
    system: str | None
    shifted: int
    matched: int

    @property
    def shift(self) -> float:
        """Length of the median shift in metres."""
        return float(np.hypot(self.dx, self.dy))


@dataclass(frozen=True)
class Location:
    """Where each grid lies among the communities (arrays aligned with the grids).

    ``majority``: code of the community holding most of the grid's area (``""``
    when none); ``share``: the share of the grid's area in it; ``outside``:
    the part of the grid outside the community its code names (outside every
    community when that community is not in the layer), ``None`` when nothing
    lies outside; ``outside_all_area``: area of the grid outside every community.
    """

    majority: np.ndarray
    share: np.ndarray
    outside: np.ndarray
    outside_all_area: np.ndarray


@dataclass(frozen=True)
class Gaps:
    """Holes no grid covers: polygons, the community each lies in, the grids around it."""

    geoms: np.ndarray
    community: np.ndarray
    around: list[list[str]]


def make_findings(
    rule: str,
    grid_codes: Sequence[Sequence[str]],
    message: Sequence[str],
    geometry: Sequence[Any] | np.ndarray | None = None,
    area_m2: Sequence[float] | np.ndarray | None = None,
    **extra: Sequence[Any] | np.ndarray,
) -> pd.DataFrame:
    """Rows of findings of one rule (severity is added by :func:`gridkit.validate.validate`).

    Examples
    --------
    >>> make_findings("overlap", [["440104001001001", "440104001001002"]], ["..."],
    ...               area_m2=[12.5]).loc[0, "grid_codes"]
    ['440104001001001', '440104001001002']
    """
    n = len(message)
    frame = pd.DataFrame(
        {
            "rule": pd.Series([rule] * n, dtype=object),
            "grid_codes": pd.Series([sorted({str(x) for x in c}) for c in grid_codes],
                                    dtype=object),
            "area_m2": np.full(n, np.nan) if area_m2 is None else np.asarray(area_m2, float),
            "message": pd.Series(list(message), dtype=object),
            "geometry": pd.Series(
                [None] * n if geometry is None else list(geometry), dtype=object
            ),
        }
    )
    for key, values in extra.items():
        frame[key] = pd.Series(list(values), dtype=object)
    return frame


def isin(values: np.ndarray, pool: Sequence[str] | np.ndarray | pd.Series) -> np.ndarray:
    """Mask of ``values`` found in ``pool`` (hash lookup; ``np.isin`` on strings is quadratic).

    >>> isin(np.array(["a", "b"], dtype=object), ["b", "c"]).tolist()
    [False, True]
    """
    return pd.Series(values, dtype=object).isin(pd.Series(pool, dtype=object)).to_numpy()


def polygon_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The polygons inside each geometry (collections and multipolygons exploded).

    Returns the parts and, for each, the position of the geometry it came from.

    >>> parts, index = polygon_parts(np.array([shapely.MultiPolygon(
    ...     [shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)]), shapely.box(0, 0, 1, 1)]))
    >>> index.tolist()
    [0, 0, 1]
    """
    parts, index = shapely.get_parts(geoms, return_index=True)
    inner, inner_index = shapely.get_parts(parts, return_index=True)
    index = index[inner_index]
    keep = shapely.get_type_id(inner) == shapely.GeometryType.POLYGON
    return inner[keep], index[keep]


def regroup(parts: np.ndarray, index: np.ndarray, size: int) -> np.ndarray:
    """Multipolygons of ``parts`` grouped by ``index``; ``None`` where a position got none.

    ``index`` need not be sorted (``shapely.multipolygons`` requires it, so the
    parts are put in order first; a stable sort keeps each group's parts in order).

    >>> regroup(np.array([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)]),
    ...         np.array([1, 0]), 3)[[0, 2]].tolist()[1] is None
    True
    """
    out = np.full(size, None, dtype=object)
    if len(parts):
        order = np.argsort(index, kind="stable")
        shapely.multipolygons(parts[order], indices=index[order], out=out)
    return out


def significant(parts: np.ndarray, config: RuleConfig) -> np.ndarray:
    """Mask of polygons wider than the snapping tolerance (digitising noise is not).

    A polygon is wider than ``snap_tolerance_m`` when a disc of that diameter
    fits inside it, i.e. a negative buffer of half the tolerance leaves something.
    """
    keep = shapely.area(parts) > _TINY_AREA
    if config.snap_tolerance_m > 0 and keep.any():
        shrunk = shapely.buffer(parts[keep], -config.snap_tolerance_m / 2, quad_segs=2)
        keep[keep] = ~shapely.is_empty(shrunk)
    return keep


def clean_pieces(geoms: np.ndarray, config: RuleConfig) -> np.ndarray:
    """The significant polygonal parts of each geometry (``None`` when nothing is left)."""
    parts, index = polygon_parts(geoms)
    keep = significant(parts, config)
    return regroup(parts[keep], index[keep], len(geoms))


def coverage_breaks(geoms: np.ndarray) -> np.ndarray:
    """Mask of polygons with an edge that does not match its neighbours exactly.

    Uses ``shapely.coverage_invalid_edges``: only such polygons can overlap
    another one, and only they can make a coverage union go wrong.
    """
    out = np.zeros(len(geoms), bool)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if present.any():
        edges = _invalid_edges(geoms[present])
        out[present] = ~shapely.is_empty(edges)
    return out


def _invalid_edges(geoms: np.ndarray) -> np.ndarray:
    """``shapely.coverage_invalid_edges``, on two threads for a big layer.

    GEOS checks each polygon against the polygons whose bounding box meets its
    own, so the layer is cut at the median x into two halves, and each half is
    checked, together with those neighbours, on its own thread (GEOS releases
    the GIL): the same edges as one call, in about half the time on two cores.
    """
    if len(geoms) < _PARALLEL_COVERAGE:
        return shapely.coverage_invalid_edges(geoms)
    bounds = shapely.bounds(geoms)
    halves = np.array_split(np.argsort(bounds[:, 0] + bounds[:, 2], kind="stable"), 2)
    tree = shapely.STRtree(geoms)

    def check(own: np.ndarray) -> np.ndarray:
        _, near = tree.query(shapely.box(*bounds[own].T))  # bounding boxes that meet
        subset = np.union1d(own, near)  # in layer order, as one call would see them
        return shapely.coverage_invalid_edges(geoms[subset])[np.searchsorted(subset, own)]

    out = np.empty(len(geoms), dtype=object)
    with ThreadPoolExecutor(2) as pool:
        for own, edges in zip(halves, pool.map(check, halves)):
            out[own] = edges
    return out


def group_union(
    geoms: np.ndarray, groups: np.ndarray, size: int, breaks: np.ndarray | None = None
) -> np.ndarray:
    """Union of the polygons of each group ``0 .. size-1`` (a vectorised dissolve).

    Polygons that match their neighbours exactly are merged with the fast
    coverage union; the others (``breaks``) with a full overlay union. Groups
    with no polygon get an empty geometry.

    >>> group_union(np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)]),
    ...             np.array([0, 0]), 1)[0].area
    2.0
    """
    breaks = coverage_breaks(geoms) if breaks is None else breaks
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    counts = np.bincount(sorted_groups, minlength=size)
    column = np.arange(len(order)) - (np.cumsum(counts) - counts)[sorted_groups]
    clean = np.full((size, max(int(counts.max(initial=0)), 1)), None, dtype=object)
    broken = clean.copy()
    is_break = breaks[order]
    clean[sorted_groups[~is_break], column[~is_break]] = geoms[order][~is_break]
    broken[sorted_groups[is_break], column[is_break]] = geoms[order][is_break]
    out = shapely.coverage_union_all(clean, axis=1)
    has_break = np.bincount(sorted_groups[is_break], minlength=size) > 0
    if has_break.any():
        out[has_break] = shapely.union(out[has_break], shapely.union_all(broken[has_break], axis=1))
    wrong = ~shapely.is_valid(out)
    if wrong.any():  # not a coverage after all: fall back to the full overlay
        both = np.where(clean[wrong] == None, broken[wrong], clean[wrong])  # noqa: E711
        out[wrong] = shapely.union_all(both, axis=1)
    return out


def dissolve_layer(geoms: np.ndarray, breaks: np.ndarray | None = None) -> shapely.Geometry:
    """Union of a whole layer (see :func:`group_union`)."""
    return group_union(geoms, np.zeros(len(geoms), np.intp), 1, breaks)[0]


def polsby_popper(geoms: np.ndarray) -> np.ndarray:
    """Compactness 4πA/P² (1 for a disc, near 0 for a long thin strip)."""
    perimeter = shapely.length(geoms)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 4 * np.pi * shapely.area(geoms) / perimeter**2


def fmt_m(value: float) -> str:
    """Format a length or area in metres with sensible precision (plain text)."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


@dataclass
class Context:
    """The layers being validated (metric CRS, repaired geometry) and shared intermediate results.

    ``grids`` has the canonical columns and a RangeIndex in file order (row
    number = position + 1); its geometry is already repaired (polygonal parts
    of ``make_valid``) and, when a layer offset was found, corrected.
    """

    grids: gpd.GeoDataFrame
    config: RuleConfig
    lang: str = "zh"
    communities: gpd.GeoDataFrame | None = None
    reference: gpd.GeoDataFrame | None = None
    codes: pd.DataFrame | None = None
    offset: Offset | None = None

    def text(self, zh: str, en: str) -> str:
        """The message in the user's language."""
        return pick(self.lang, zh=zh, en=en)

    # ----- grids -------------------------------------------------------------------------
    @cached_property
    def geoms(self) -> np.ndarray:
        """Grid geometries; ``None`` where empty or not polygonal."""
        geoms = self.grids.geometry.to_numpy().copy()
        geoms[~self.usable] = None
        return geoms

    @cached_property
    def usable(self) -> np.ndarray:
        """Mask of grids with a non-empty polygonal geometry (the spatial rules use only these)."""
        geoms = self.grids.geometry.to_numpy()
        kind = shapely.get_type_id(geoms)
        polygonal = (kind == shapely.GeometryType.POLYGON) | (
            kind == shapely.GeometryType.MULTIPOLYGON
        )
        return polygonal & ~shapely.is_empty(geoms)

    @cached_property
    def codes_arr(self) -> np.ndarray:
        """Grid codes as ``str`` (``""`` when missing)."""
        return text_column(self.grids["grid_code"])

    @cached_property
    def area(self) -> np.ndarray:
        """Grid areas in m² (NaN for unusable grids)."""
        return shapely.area(self.geoms)

    @cached_property
    def centres(self) -> np.ndarray:
        """Grid centroids (``None`` for unusable grids); several rules order or match by them."""
        return shapely.centroid(self.geoms)

    @cached_property
    def tree(self) -> shapely.STRtree:
        """Spatial index of the grids (positions = grid rows - 1; unusable grids left out)."""
        return shapely.STRtree(self.geoms)

    def join(self, codes: Sequence[str]) -> str:
        """A list of codes for a message: at most five, then "等 N 个" / "and N more".

        The finding's ``grid_codes`` keep them all; ``"none"`` when empty.
        """
        codes = list(codes)
        shown, more = codes[:_MAX_NAMED], len(codes) - _MAX_NAMED
        return self.text("、".join(shown) + (f" 等 {len(codes)} 个" if more > 0 else "") or "无",
                         ", ".join(shown) + (f" and {more} more" if more > 0 else "") or "none")

    def label(self, i: int) -> str:
        """How a message names grid ``i``: its code, or its row when it has none."""
        return self.codes_arr[i] or self.text(f"第 {i + 1} 行", f"row {i + 1}")

    def canonical_order(self, rows: np.ndarray) -> np.ndarray:
        """Order of grids ``rows`` by code, then centroid (west first, then north): never by row.

        Findings that merge several grids' polygons list them in this order.
        """
        centre = self.centres[rows]
        x = np.nan_to_num(shapely.get_x(centre), nan=np.inf)
        y = np.nan_to_num(shapely.get_y(centre), nan=np.inf)
        return np.lexsort((-y, x, self.codes_arr[rows].astype(str)))

    def code_lists(self, *columns: np.ndarray) -> list[list[str]]:
        """For each finding ``n``, the codes of grids ``columns[0][n], columns[1][n], ...``.

        Grids without a code are left out.
        """
        return [[c for c in self.codes_arr[list(ix)] if c] for ix in zip(*columns)]

    @cached_property
    def code_match(self) -> pd.DataFrame:
        """Per grid: ``ok`` (code matches the pattern), ``community`` and ``serial`` parts."""
        regex = self.config.code_regex
        found = [regex.fullmatch(c) for c in self.codes_arr]
        ok = np.array([m is not None for m in found], bool)

        def part(name: str, start: int, stop: int | None) -> np.ndarray:
            if name in regex.groupindex:
                return np.array([m.group(name) or "" if m else "" for m in found], dtype=object)
            return np.array([c[start:stop] if m else "" for c, m in zip(self.codes_arr, found)],
                            dtype=object)

        return pd.DataFrame({"ok": ok,
                             "community": part("community", 0, COMMUNITY_CODE_LENGTH),
                             "serial": part("serial", COMMUNITY_CODE_LENGTH, None)})

    @cached_property
    def named(self) -> np.ndarray:
        """The community each grid's code names.

        The ``community_code`` column stands in when the code is malformed.
        """
        match = self.code_match
        column = text_column(self.grids["community_code"])
        return np.where(match["ok"], match["community"], column)

    @cached_property
    def breaks(self) -> np.ndarray:
        """Grids with edges not matching their neighbours' (see :func:`coverage_breaks`)."""
        return coverage_breaks(self.geoms)

    @cached_property
    def union(self) -> shapely.Geometry:
        """Union of all grids."""
        return dissolve_layer(self.geoms[self.usable], self.breaks[self.usable])

    @cached_property
    def overlaps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pairs ``i < j`` of grids whose interiors intersect, and the intersection of each.

        Only grids with unmatched edges can overlap another grid, so only
        their pairs (found with the STRtree) are intersected.
        """
        candidates = np.flatnonzero(self.breaks)
        left, right = self.tree.query(self.geoms[candidates], predicate="intersects")
        left = candidates[left]
        i, j = np.minimum(left, right), np.maximum(left, right)
        pairs = np.unique(np.stack([i, j], axis=1)[i != j], axis=0).reshape(-1, 2)
        i, j = pairs[:, 0], pairs[:, 1]
        pieces = shapely.intersection(self.geoms[i], self.geoms[j])
        inside = shapely.area(pieces) > _TINY_AREA
        return i[inside], j[inside], pieces[inside]

    # ----- communities -------------------------------------------------------------------
    def require_communities(self) -> None:
        """Raise :class:`Skipped` when no communities layer was given."""
        if self.communities is None:
            raise Skipped(self.text("未提供社区图层（--communities）",
                                    "no communities layer (--communities)"))

    @cached_property
    def community_codes(self) -> np.ndarray:
        """Distinct community codes of the communities layer (rows with one code are dissolved)."""
        codes = text_column(self.communities["community_code"])
        return np.unique(codes[(codes != "") & self._community_usable])

    @cached_property
    def _community_usable(self) -> np.ndarray:
        geoms = self.communities.geometry.to_numpy()
        return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))

    @cached_property
    def community_geoms(self) -> np.ndarray:
        """One polygon per code of :attr:`community_codes` (rows sharing a code are dissolved)."""
        codes = text_column(self.communities["community_code"])
        keep = (codes != "") & self._community_usable
        groups = np.searchsorted(self.community_codes, codes[keep])
        geoms = self.communities.geometry.to_numpy()[keep]
        if len(groups) == len(self.community_codes):
            out = np.empty(len(groups), dtype=object)
            out[groups] = geoms
            return out
        return group_union(geoms, groups, len(self.community_codes))

    @cached_property
    def community_union(self) -> shapely.Geometry:
        """Union of all communities."""
        return dissolve_layer(self.community_geoms)

    @cached_property
    def by_community(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The grids dissolved by the community their code names.

        Returns the mask of usable grids naming a community of the layer, the
        position of that community in :attr:`community_codes` (0 for the
        others) and the union of each community's grids (empty when none).
        """
        comm_codes, named = self.community_codes, self.named
        k = np.searchsorted(comm_codes, named)
        present = self.usable & (k < len(comm_codes))
        present[present] = comm_codes[k[present]] == named[present]
        k = np.where(present, k, 0)
        return present, k, group_union(self.geoms[present], k[present], len(comm_codes),
                                       self.breaks[present])

    @cached_property
    def _normal_by_community(self) -> tuple[np.ndarray, np.ndarray]:
        """:attr:`by_community` unions and :attr:`community_geoms`, ``normalize``-d."""
        return shapely.normalize(self.by_community[2]), shapely.normalize(self.community_geoms)

    def _union_by_community(self) -> shapely.Geometry:
        """Union of all grids from :attr:`by_community` (a few thousand polygons, not all grids).

        The same area as :attr:`union`, drawn differently (other ring starts):
        a community's union counts as unmatched when one of its grids does.
        """
        present, k, dissolved = self.by_community
        broken = np.bincount(k[present & self.breaks], minlength=len(dissolved)) > 0
        filled = ~shapely.is_empty(dissolved)
        rest = self.usable & ~present
        return dissolve_layer(np.concatenate([dissolved[filled], self.geoms[rest]]),
                              np.concatenate([broken[filled], self.breaks[rest]]))

    def _community_holes(self, union: shapely.Geometry) -> np.ndarray:
        """Significant parts of the communities outside ``union``."""
        holes = shapely.get_parts(shapely.difference(self.community_union, union))
        return holes[significant(holes, self.config)]

    @cached_property
    def location(self) -> Location:
        """Where each grid lies among the communities (see :class:`Location`).

        Grids are dissolved by the community their code names and each union
        is compared with that community; only grids of communities whose grids
        reach outside it (and grids naming a community not in the layer) are
        overlaid with the communities one by one, in a single vectorised call.
        """
        n = len(self.grids)
        comm_codes, comm_geoms, named = self.community_codes, self.community_geoms, self.named
        present, k, dissolved = self.by_community
        spill = _spills(dissolved, comm_geoms, *self._normal_by_community, self.config)
        candidate = self.usable & ~(present & ~spill[k])
        majority = np.where(present, named, "").astype(object)
        share = np.where(present, 1.0, np.nan)
        outside = np.full(n, None, dtype=object)
        outside_all = np.zeros(n)
        rows = np.flatnonzero(candidate)
        if len(rows):
            tree = shapely.STRtree(comm_geoms)
            gi, ci = tree.query(self.geoms[rows], predicate="intersects")
            gi = rows[gi]
            inter = shapely.area(shapely.intersection(self.geoms[gi], comm_geoms[ci]))
            order = np.lexsort((-inter, gi))
            first = order[np.unique(gi[order], return_index=True)[1]]
            best = first[inter[first] > _TINY_AREA]
            majority[rows] = ""
            share[rows] = 0.0
            majority[gi[best]] = comm_codes[ci[best]]
            share[gi[best]] = inter[best] / self.area[gi[best]]
            covered = np.bincount(gi, weights=inter, minlength=n)
            outside_all[rows] = np.maximum(self.area[rows] - covered[rows], 0.0)
            own = rows[present[rows]]
            outside[own] = shapely.difference(self.geoms[own], comm_geoms[k[own]])
            lost = rows[~present[rows]]
            outside[lost] = shapely.difference(self.geoms[lost], self.community_union)
        return Location(majority.astype(str), share, outside, outside_all)

    # ----- reference ---------------------------------------------------------------------
    def require_reference(self) -> None:
        """Raise :class:`Skipped` when no reference layer was given."""
        if self.reference is None:
            raise Skipped(self.text("未提供已发布的参考图层（--reference）",
                                    "no published reference layer (--reference)"))

    @cached_property
    def reference_codes(self) -> np.ndarray:
        """Grid codes of the reference layer (``""`` when missing)."""
        return text_column(self.reference["grid_code"])

    @cached_property
    def matched(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions in the layer and in the reference of the grids matched by code.

        When several grids share a code (``code_duplicate``), the one that
        overlaps the published grid most is matched (ties: the westernmost,
        then northernmost centroid), so the choice never depends on row order.
        The first reference row of a code is used.
        """
        ref = pd.Series(np.arange(len(self.reference_codes)), index=self.reference_codes)
        ref = ref[~ref.index.duplicated() & (ref.index != "")]
        present = (self.codes_arr != "") & isin(self.codes_arr, ref.index)
        i = np.flatnonzero(present)
        j = ref[self.codes_arr[i]].to_numpy()
        dup = pd.Series(self.codes_arr[i]).duplicated(keep=False).to_numpy()
        if dup.any():
            ref_geoms = self.reference.geometry.to_numpy()
            shared = np.zeros(len(i))
            shared[dup] = shapely.area(shapely.intersection(self.geoms[i[dup]],
                                                            ref_geoms[j[dup]]))
            centre = self.centres[i]
            x = np.nan_to_num(shapely.get_x(centre), nan=np.inf)
            y = np.nan_to_num(shapely.get_y(centre), nan=-np.inf)
            best = np.lexsort((-y, x, -np.nan_to_num(shared), self.codes_arr[i].astype(str)))
            first = np.unique(self.codes_arr[i][best].astype(str), return_index=True)[1]
            keep = np.sort(best[first])
            i, j = i[keep], j[keep]
        return i, j

    # ----- gaps --------------------------------------------------------------------------
    @cached_property
    def gaps(self) -> Gaps:
        """Holes no grid covers, wider than the snapping tolerance.

        With communities: the parts of each community outside the union of
        the grids. Without: the holes of the union of the grids (minus any
        grid lying inside a hole).
        """
        if self.communities is not None:
            # The location rules dissolve the grids by community anyway, and the union of
            # those unions is quick; only when it leaves a hole are the grids unioned as a
            # whole, so that the holes reported are drawn from that union as they always were.
            # When every community is exactly the union of its grids nothing is left to find.
            if shapely.equals_identical(*self._normal_by_community).all():
                holes = np.empty(0, dtype=object)
            else:
                holes = self._community_holes(self._union_by_community())
            if len(holes):
                holes = self._community_holes(self.union)
        else:
            union = self.union
            rings, index = shapely.get_rings(shapely.get_parts(union), return_index=True)
            interior = np.zeros(len(index), bool)  # the first ring of each part is its shell
            interior[1:] = index[1:] == index[:-1]
            holes = shapely.polygons(rings[interior])
            holes = holes[significant(holes, self.config)]
        if self.communities is not None:
            hi, ci = shapely.STRtree(self.community_geoms).query(holes, predicate="intersects")
            holes = shapely.intersection(holes[hi], self.community_geoms[ci])
            community = self.community_codes[ci]
        else:
            holes = shapely.difference(holes, self.union)
            community = np.full(len(holes), "", dtype=object)
        parts, index = polygon_parts(holes)
        keep = significant(parts, self.config)
        parts, index = parts[keep], index[keep]
        distance = max(self.config.snap_tolerance_m, 1e-6)
        # Overlay noise can leave hair-thin spikes (1e-9 m wide) on a hole's ring; an
        # opening by 1 mm removes them so they never put far-away grids "around" it.
        opened = shapely.buffer(shapely.buffer(parts, -_OPENING_M, join_style="mitre"),
                                _OPENING_M, join_style="mitre")
        opened = np.where(shapely.is_empty(opened), parts, opened)
        hole, grid = self.tree.query(opened, predicate="dwithin", distance=distance)
        return Gaps(parts, community[index].astype(str), group_codes(self.codes_arr[grid], hole,
                                                                      len(parts)))


def _spills(inner: np.ndarray, outer: np.ndarray, normal_inner: np.ndarray,
            normal_outer: np.ndarray, config: RuleConfig) -> np.ndarray:
    """Mask of ``inner`` geometries reaching outside ``outer`` by more than the tolerances.

    Fast paths first: vertex-wise equal shapes (``normal_inner``, ``normal_outer``:
    both ``normalize``-d), then a prepared ``covers``; only the rest are overlaid.
    """
    tolerance = max(config.snap_tolerance_m, 1e-6)
    same = shapely.equals_exact(normal_inner, normal_outer, tolerance)
    rest = np.flatnonzero(~same)
    shapely.prepare(outer[rest])
    rest = rest[~shapely.covers(outer[rest], inner[rest])]
    out = np.zeros(len(inner), bool)
    pieces = clean_pieces(shapely.difference(inner[rest], outer[rest]), config)
    out[rest] = shapely.area(pieces) > config.area_tolerance_m2
    return out


def group_codes(codes: np.ndarray, groups: np.ndarray, size: int) -> list[list[str]]:
    """Sorted distinct non-empty ``codes`` of each group ``0 .. size-1``.

    >>> group_codes(np.array(["b", "a", "c", ""], dtype=object), np.array([0, 0, 2, 2]), 3)
    [['a', 'b'], [], ['c']]
    """
    order = np.lexsort((codes.astype(str), groups))
    bounds = np.searchsorted(groups[order], np.arange(size + 1))
    sorted_codes = codes[order]
    return [sorted({c for c in sorted_codes[a:b] if c}) for a, b in zip(bounds[:-1], bounds[1:])]


def text_column(values: pd.Series) -> np.ndarray:
    """A code/name column as a numpy array of stripped ``str`` (``""`` for missing)."""
    return values.astype(object).where(values.notna(), "").astype(str).str.strip().to_numpy(object)

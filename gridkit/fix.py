"""``fix()``: repair the division findings of ``gridkit validate`` community by community.

The repair works in the metric CRS on the communities where
:func:`gridkit.validate.validate` (with only :data:`REPAIRED_RULES` on) finds
something, one community at a time, on top of GEOS's coverage cleaner
(``shapely.coverage_clean``, shapely ≥ 2.2 / GEOS ≥ 3.14). A grid belongs to
the community holding most of its area:

1. invalid geometries are made valid (:func:`gridkit.validate.geometry.repair`);
2. grids are clipped to their community;
3. overlaps are resolved by the overlap rule (``longest-border``, ``lowest-code``,
   or ``reference``: a piece goes to the grid whose published shape holds more of it),
   vertex mismatches and pieces below the snapping tolerance are snapped;
4. detached parts of multipart grids (all but the largest) are merged into the
   grid of the same community with the longest shared border; so are sliver grids
   (a thin strip with its own code) when ``merge_slivers=True``;
5. gaps inside the community are given to the grid of that community with the
   longest shared border, so the grids cover the community outline exactly.

A sliver grid is a grid in its own right until a person decides otherwise: by
default it stays (repaired like any other grid) and is listed under
``unresolved`` (and in :attr:`FixResult.slivers`) for review by hand.

Grids farther than ``snap_tolerance_m`` from every finding keep their
geometry byte for byte (the input CRS geometry, not a reprojected copy; the
cleaner's sub-tolerance snapping of such grids is undone), and so does any
grid whose shape the repair did not change. A grid is never deleted and its code
never changes, except that ``merge_slivers=True`` merges a sliver grid into its
neighbour (the log says into which) and ``renumber=True`` proposes new serials.

Change-log schema (:attr:`FixResult.log`, one row per changed grid)::

    grid_code, community_code, changes ("clipped;gap_filled"), merged_into,
    area_before_m2, area_after_m2, delta_m2, geometry (the fixed grid)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridkit.codes import serial_order
from gridkit.crs import DEFAULT_METRIC_CRS, to_metric
from gridkit.errors import InputError
from gridkit.i18n import pick
from gridkit.validate.base import (
    Context,
    clean_pieces,
    polsby_popper,
    polygon_parts,
    regroup,
    significant,
    text_column,
)
from gridkit.validate.config import RULES, RuleConfig
from gridkit.validate.core import validate
from gridkit.validate.geometry import repair

__all__ = ["CHANGES", "CHANGE_NAMES_ZH", "OVERLAP_RULES", "REPAIRED_RULES", "FixResult", "fix",
           "reading_order"]

#: The findings of ``gridkit validate`` that the fix repairs.
REPAIRED_RULES = ("invalid_geometry", "overlap", "gap", "outside_community", "sliver",
                  "multipart")
#: How ``overlap_rule`` gives an overlapping piece to one grid.
OVERLAP_RULES = ("longest-border", "reference", "lowest-code")
#: Change kinds of the log, in the order they are applied.
CHANGES = ("made_valid", "clipped", "overlap_resolved", "snapped", "part_moved",
           "part_received", "sliver_merged", "sliver_received", "gap_filled", "renumbered")
#: Relative area change below which a change is bookkeeping noise of the overlay (m² per m²).
_NOISE = 1e-9
#: Chinese names of the change kinds (log and summary table).
CHANGE_NAMES_ZH = {
    "made_valid": "修复无效几何", "clipped": "裁剪至社区内", "overlap_resolved": "消除重叠",
    "snapped": "节点吸附", "part_moved": "分离部分并入邻格", "part_received": "接收分离部分",
    "sliver_merged": "细长碎片并入邻格", "sliver_received": "接收细长碎片",
    "gap_filled": "填补缝隙", "renumbered": "重新编号",
}


@dataclass
class FixResult:
    """What :func:`fix` produced.

    Attributes
    ----------
    fixed : the repaired layer: the input's columns and CRS, rows in input order
        (with ``merge_slivers``, sliver grids merged into a neighbour are left out,
        see ``log``).
    log : one row per changed grid (see the module docstring), metric CRS.
    renumbered : ``old_code``, ``new_code``, ``community_code`` of every grid
        when ``renumber`` was asked, else ``None``.
    grids : grids in the input.
    communities : communities with a changed grid.
    unresolved : what could not be repaired (plain text, user's language).
    slivers : codes of the sliver grids kept for review by hand (``merge_slivers=False``).
    """

    fixed: gpd.GeoDataFrame
    log: gpd.GeoDataFrame
    renumbered: pd.DataFrame | None
    grids: int
    communities: int
    unresolved: list[str] = field(default_factory=list)
    slivers: list[str] = field(default_factory=list)

    @property
    def by_change(self) -> dict[str, int]:
        """Grids per change kind (every kind, 0 when none)."""
        kinds = self.log["changes"].str.split(";").explode()
        counts = kinds.value_counts()
        return {kind: int(counts.get(kind, 0)) for kind in CHANGES}

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"grids", "changed", "removed", "communities", "by_change",
        "changes": [log rows without geometry], "renumbered": [...] | null, "unresolved",
        "slivers"}``."""
        rows = self.log.drop(columns="geometry")
        return {
            "grids": self.grids,
            "changed": len(self.log),
            "removed": int((self.log["merged_into"] != "").sum()),
            "communities": self.communities,
            "by_change": self.by_change,
            "changes": [{**r, **{k: round(float(r[k]), 2) for k in _AREA_KEYS}}
                        for r in rows.to_dict("records")],
            "renumbered": None if self.renumbered is None
            else self.renumbered.to_dict("records"),
            "unresolved": list(self.unresolved),
            "slivers": list(self.slivers),
        }


_AREA_KEYS = ("area_before_m2", "area_after_m2", "delta_m2")


def reading_order(geoms: np.ndarray, community: np.ndarray) -> np.ndarray:
    """Position (1-based) of each grid in the reading order of its community.

    :func:`gridkit.codes.serial_order` with rows one median grid high, the
    middle of the row heights ``code_serial_order`` accepts
    (:func:`gridkit.validate.serial.reading_order_breaks`), so a renumbered
    layer passes that rule.
    """
    return serial_order(geoms, community, row_height="median")


def fix(
    grids: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    reference: gpd.GeoDataFrame | None = None,
    config: RuleConfig | None = None,
    *,
    overlap_rule: str = "longest-border",
    renumber: bool = False,
    merge_slivers: bool = False,
    metric_crs: str = DEFAULT_METRIC_CRS,
    lang: str = "zh",
) -> FixResult:
    """Repair overlaps, gaps, spills, slivers, multipart and invalid grids.

    Parameters
    ----------
    grids : grid layer with the columns :func:`gridkit.validate.validate` needs
        (``grid_code``, ``grid_name``, ``community_code``), any CRS.
    communities : community outlines (``community_code``); the authority for
        where each community's grids must lie.
    reference : the published layer (``grid_code``), needed by ``overlap_rule="reference"``.
    config : tolerances (``snap_tolerance_m``, ``area_tolerance_m2``, the sliver
        limits) and ``code_pattern`` of :class:`~gridkit.validate.RuleConfig`.
    overlap_rule : ``longest-border`` (default), ``reference`` or ``lowest-code``.
    renumber : propose serials in reading order (west→east, north→south).
    merge_slivers : merge each sliver grid (the ``sliver`` rule's limits) into the grid
        of its community with the longest shared border; the row leaves the layer.
        Otherwise (default) it stays and is listed in ``unresolved`` and ``slivers``.
    metric_crs : CRS for the geometry work (areas in m²).
    lang : language of ``unresolved``.

    Returns
    -------
    FixResult

    Raises
    ------
    InputError
        Unknown overlap rule, ``reference`` rule without a reference layer,
        a missing column, or a community needing more than 999 serials.

    Examples
    --------
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"grid_code": ["440104001001001", "440104001001002"],
    ...                       "grid_name": ["一", "二"], "community_code": ["440104001001"] * 2},
    ...                      geometry=[box(0, 0, 60, 100), box(50, 0, 100, 90)], crs=4547)
    >>> c = gpd.GeoDataFrame({"community_code": ["440104001001"]},
    ...                      geometry=[box(0, 0, 100, 100)], crs=4547)
    >>> out = fix(g, c)
    >>> sorted(out.fixed.area.round(6).tolist()), float(out.fixed.area.sum())
    ([4000.0, 6000.0], 10000.0)
    """
    config = config or RuleConfig()
    if overlap_rule not in OVERLAP_RULES:
        raise InputError(f"unknown overlap rule {overlap_rule!r}",
                         hint=f"give {{option}} one of {', '.join(OVERLAP_RULES)}",
                         option=("overlap_rule", None))
    if overlap_rule == "reference" and reference is None:
        raise InputError("the overlap rule 'reference' needs the published layer",
                         hint="give it with {option}", option=("reference", None))
    for layer, columns, what in ((grids, ("grid_code", "grid_name", "community_code"), "grid"),
                                 (communities, ("community_code",), "communities"),
                                 (reference, ("grid_code",), "reference")):
        missing = [] if layer is None else [c for c in columns if c not in layer.columns]
        if missing:
            raise InputError(f"the {what} layer lacks column(s) {', '.join(missing)}",
                             path=layer.attrs.get("source_path"))
    metric = to_metric(grids, metric_crs)
    metric_crs = metric.crs  # ``auto`` resolved once, from the grids, for every layer
    before = metric.geometry.to_numpy()
    geoms, broken = repair(before)
    codes = text_column(grids["grid_code"])
    named = Context(metric, config).named  # the community each grid's code names
    comm_codes, comm_geoms = _outlines(to_metric(communities, metric_crs))
    home = _home(geoms, named, comm_codes, comm_geoms)
    at = _at_findings(grids, communities, geoms, config, metric_crs)
    ref = None
    if reference is not None:
        ref_metric = to_metric(reference, metric_crs)
        ref = dict(zip(text_column(ref_metric["grid_code"]), repair(
            ref_metric.geometry.to_numpy())[0]))
    tags = [set() for _ in range(len(geoms))]
    for i in np.flatnonzero(broken):
        tags[i].add("made_valid")
    merged_into = np.full(len(geoms), "", dtype=object)
    unresolved: list[str] = []
    work = _Work(geoms.copy(), codes, tags, merged_into, config, overlap_rule, ref, lang,
                 unresolved, merge_slivers)
    position = {c: k for k, c in enumerate(comm_codes)}
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    for code in codes[~present]:  # nothing to repair: the shape must be drawn again
        unresolved.append(pick(lang, f"网格 {code} 没有几何，需重新绘制",
                               f"grid {code} has no geometry; it must be drawn again"))
    for community in np.unique(home[present & at]):
        rows = np.flatnonzero(present & (home == community))
        if community not in position:
            unresolved.append(pick(lang, f"社区 {community} 不在社区图层中，其网格未修复",
                                    f"community {community} is not in the communities layer; "
                                    "its grids were not repaired"))
            continue
        work.community(rows[np.lexsort((rows, codes[rows]))], comm_geoms[position[community]],
                       community)
    _restore_bystanders(geoms, work.geoms, ~at & (merged_into == ""), tags, config)
    changed = _changed(before, work.geoms, tags)
    out_geoms = grids.geometry.to_numpy().copy()
    if changed.any():
        back = gpd.GeoSeries(work.geoms[changed], crs=metric.crs).to_crs(grids.crs)
        out_geoms[changed] = back.to_numpy()
    fixed = grids.copy()
    fixed = fixed.set_geometry(gpd.GeoSeries(out_geoms, index=grids.index, crs=grids.crs))
    renumbered = None
    if renumber:
        new_codes, renumbered = _renumber(work.geoms, codes, named, merged_into == "", tags)
        fixed["grid_code"] = pd.Series(new_codes, index=grids.index).astype(
            grids["grid_code"].dtype)
        changed |= new_codes != codes
    fixed = fixed[merged_into == ""]
    log = _log(codes, home, before, work.geoms, tags, merged_into, changed, metric.crs)
    communities_changed = len(np.unique(log["community_code"]))
    return FixResult(fixed, log, renumbered, len(grids), communities_changed, unresolved,
                     work.slivers)


def _home(geoms: np.ndarray, named: np.ndarray, comm_codes: np.ndarray,
          comm_geoms: np.ndarray) -> np.ndarray:
    """The community each grid is repaired in: the one holding most of its area.

    A grid whose code names another community (``code_community_mismatch``) is
    a coding error, not a reason to move the grid; a grid in no community keeps
    the community its code names.
    """
    home = named.copy()
    # fast path: a grid inside the community its code names lives there
    k = np.minimum(np.searchsorted(comm_codes, named), max(len(comm_codes) - 1, 0))
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    known = present & (comm_codes[k] == named) if len(comm_codes) else present & False
    shapely.prepare(comm_geoms)
    inside = np.zeros(len(geoms), bool)
    inside[known] = shapely.covers(comm_geoms[k[known]], geoms[known])
    rest = np.flatnonzero(present & ~inside)
    gi, ci = shapely.STRtree(comm_geoms).query(geoms[rest], predicate="intersects")
    gi = rest[gi]
    if len(gi):
        inter = shapely.area(shapely.intersection(geoms[gi], comm_geoms[ci]))
        own = comm_codes[ci] == named[gi]
        # most area first; a tie goes to the community the code names, then the lowest code
        order = np.lexsort((comm_codes[ci], ~own, -inter, gi))
        first = order[np.unique(gi[order], return_index=True)[1]]
        first = first[inter[first] > 0]
        home[gi[first]] = comm_codes[ci[first]]
    return home


def _outlines(communities: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Distinct community codes and one valid outline each (rows sharing a code dissolved)."""
    codes = text_column(communities["community_code"])
    geoms, _ = repair(communities.geometry.to_numpy())
    keep = (codes != "") & ~shapely.is_missing(geoms)
    distinct, group = np.unique(codes[keep], return_inverse=True)
    outlines = np.array([shapely.union_all(geoms[keep][group == k])
                         for k in range(len(distinct))], dtype=object)
    return distinct, outlines


def _at_findings(grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, geoms: np.ndarray,
                 config: RuleConfig, metric_crs: str) -> np.ndarray:
    """Mask of grids at a finding of a rule the fix repairs (within the snapping tolerance).

    The findings are those of :func:`gridkit.validate.validate` with only those
    rules on, so the fix works exactly where validate reports a problem.
    """
    severity = {rule: config.severity[rule] if rule in REPAIRED_RULES else "off"
                for rule in RULES}
    result = validate(grids, communities, None, pd.DataFrame({"code": []}, dtype=str),
                      replace(config, severity=severity), metric_crs=metric_crs)
    spots = result.findings.geometry.to_numpy()
    spots = spots[~(shapely.is_missing(spots) | shapely.is_empty(spots))]
    _, grid = shapely.STRtree(geoms).query(spots, predicate="dwithin",
                                           distance=max(config.snap_tolerance_m, 1e-6))
    at = np.zeros(len(geoms), bool)
    at[grid] = True
    return at


def _restore_bystanders(before: np.ndarray, after: np.ndarray, away: np.ndarray,
                        tags: list[set[str]], config: RuleConfig) -> None:
    """Grids away from every finding that moved by no more than noise get their shape back.

    The coverage cleaner snaps a whole community; a grid no finding touches keeps
    its geometry: its sub-tolerance mismatches with its neighbours (pieces
    narrower than ``snap_tolerance_m`` or smaller than ``area_tolerance_m2``)
    are no finding of validate either.
    """
    rows = np.flatnonzero(away & np.array([bool(t) for t in tags]))
    moved = shapely.area(clean_pieces(shapely.symmetric_difference(before[rows], after[rows]),
                                      config))
    for i in rows[np.nan_to_num(moved) <= config.area_tolerance_m2]:
        after[i] = before[i]
        tags[i].clear()


def _slivers(geoms: np.ndarray, config: RuleConfig) -> np.ndarray:
    """Mask of long thin grids (the thresholds of the ``sliver`` rule)."""
    area = shapely.area(geoms)
    with np.errstate(divide="ignore", invalid="ignore"):
        width = 2 * area / shapely.length(geoms)
    return ((polsby_popper(geoms) < config.sliver_max_compactness)
            & (width < config.sliver_max_width_m) & (area > config.area_tolerance_m2))


@dataclass
class _Work:
    """The geometries being repaired (metric CRS) and what happened to each grid."""

    geoms: np.ndarray
    codes: np.ndarray
    tags: list[set[str]]
    merged_into: np.ndarray
    config: RuleConfig
    overlap_rule: str
    reference: dict[str, Any] | None
    lang: str
    unresolved: list[str]
    merge_slivers: bool
    slivers: list[str] = field(default_factory=list)

    def stage(self, rows: np.ndarray, new: np.ndarray, tag: str | Callable[[float], str]) -> None:
        """Replace the geometries of ``rows`` and tag the grids the step changed."""
        old = self.geoms[rows]
        diff = ~shapely.equals_exact(shapely.normalize(old), shapely.normalize(new), 0.0)
        for k in np.flatnonzero(diff):
            delta = shapely.area(new[k]) - shapely.area(old[k])
            self.tags[rows[k]].add(tag if isinstance(tag, str) else tag(delta))
        self.geoms[rows] = new

    def community(self, rows: np.ndarray, outline: shapely.Geometry, community: str) -> None:
        """Repair the grids ``rows`` (sorted by code) of one community."""
        cfg = self.config
        clipped = shapely.intersection(self.geoms[rows], outline)
        kept = _significant_area(clipped, cfg)
        if not kept.all():
            lost = ", ".join(self.codes[rows[~kept]])
            self.unresolved.append(pick(
                self.lang, f"网格 {lost} 几乎全部位于其所属社区 {community} 之外，未裁剪",
                f"grids {lost} lie (almost) wholly outside their community {community}; "
                "not clipped"))
            rows = rows[kept]
            clipped = clipped[kept]
        self.stage(rows, _polygonal(clipped), "clipped")
        if self.overlap_rule == "reference":
            self.stage(rows, self._by_reference(rows), "overlap_resolved")
        strategy = "min_index" if self.overlap_rule == "lowest-code" else "longest_border"
        cleaned = shapely.coverage_clean(self.geoms[rows], gap_width=cfg.snap_tolerance_m,
                                         snapping_distance=cfg.snap_tolerance_m,
                                         merge_strategy=strategy)
        self.stage(rows, _polygonal(cleaned),
                   _by_delta(cfg.area_tolerance_m2, "overlap_resolved", "gap_filled"))
        self._merge_parts(rows)
        if self.merge_slivers:
            rows = self._merge_slivers(rows)
        self._fill_gaps(rows, outline)
        final = shapely.coverage_clean(self.geoms[rows], snapping_distance=0.0)
        self.stage(rows, _polygonal(final), "snapped")
        if not self.merge_slivers:
            self._keep_slivers(rows)

    def _by_reference(self, rows: np.ndarray) -> np.ndarray:
        """Each overlap goes to the grid whose published shape holds more of it."""
        geoms = self.geoms[rows].copy()
        tree = shapely.STRtree(geoms)
        i, j = tree.query(geoms, predicate="intersects")
        keep = i < j
        i, j = i[keep], j[keep]
        pieces = shapely.intersection(geoms[i], geoms[j])
        areal = shapely.area(pieces) > self.config.area_tolerance_m2
        i, j, pieces = i[areal], j[areal], pieces[areal]
        ref = self.reference or {}
        ref_i = np.array([ref.get(c) for c in self.codes[rows[i]]], dtype=object)
        ref_j = np.array([ref.get(c) for c in self.codes[rows[j]]], dtype=object)
        held_i = np.nan_to_num(shapely.area(shapely.intersection(pieces, ref_i)))
        held_j = np.nan_to_num(shapely.area(shapely.intersection(pieces, ref_j)))
        decided = held_i != held_j  # otherwise the coverage cleaner's longest border decides
        loser = np.where(held_i > held_j, j, i)[decided]
        for k in np.unique(loser):
            geoms[k] = shapely.difference(geoms[k], shapely.union_all(pieces[decided][loser == k]))
        return _polygonal(geoms)

    def _neighbour(self, piece: shapely.Geometry, rows: np.ndarray, exclude: int) -> int | None:
        """The grid of ``rows`` (not ``exclude``) sharing the longest border with ``piece``.

        Ties go to the lowest code; a piece touching no grid goes to the nearest one.
        """
        candidates = rows[rows != exclude]
        if not len(candidates):
            return None
        others = self.geoms[candidates]
        border = shapely.length(shapely.intersection(
            shapely.boundary(piece), shapely.buffer(others, self.config.snap_tolerance_m / 2,
                                                    quad_segs=2)))
        border = np.nan_to_num(border)
        if border.max(initial=0) <= 0:
            border = -np.nan_to_num(shapely.distance(others, piece), nan=np.inf)
        best = np.flatnonzero(border == border.max())
        return int(candidates[best[np.argmin(self.codes[candidates[best]])]])

    def _merge_parts(self, rows: np.ndarray) -> None:
        """Detached parts of multipart grids (all but the largest) go to their neighbour."""
        for row in rows[shapely.get_num_geometries(self.geoms[rows]) > 1]:
            parts = shapely.get_parts(self.geoms[row])
            order = np.argsort(-shapely.area(parts), kind="stable")
            keep, moved = parts[order[0]], []
            for part in parts[order[1:]]:
                target = self._neighbour(part, rows, row)
                if target is None:
                    keep = shapely.union(keep, part)
                    self.unresolved.append(pick(
                        self.lang, f"网格 {self.codes[row]} 的分离部分没有相邻网格，保留",
                        f"a detached part of grid {self.codes[row]} has no neighbour; kept"))
                    continue
                self.stage(np.array([target]),
                           _polygonal(np.array([shapely.union(self.geoms[target], part)])),
                           "part_received")
                moved.append(part)
            if moved:
                self.stage(np.array([row]), np.array([keep]), "part_moved")

    def _merge_slivers(self, rows: np.ndarray) -> np.ndarray:
        """Sliver grids are merged into their neighbour; returns the grids left."""
        for row in rows[_slivers(self.geoms[rows], self.config)]:
            live = rows[self.merged_into[rows] == ""]
            target = self._neighbour(self.geoms[row], live, row)
            if target is None:
                continue
            self.stage(np.array([target]), _polygonal(np.array(
                [shapely.union(self.geoms[target], self.geoms[row])])), "sliver_received")
            # its area now lies in the receiver (so the log keeps the row as changed)
            self.stage(np.array([row]), np.array([shapely.Polygon()]), "sliver_merged")
            self.merged_into[row] = self.codes[target]
        return rows[self.merged_into[rows] == ""]

    def _keep_slivers(self, rows: np.ndarray) -> None:
        """Sliver grids left after the repair: listed for review, never removed."""
        for row in rows[_slivers(self.geoms[rows], self.config)]:
            code = self.codes[row]
            self.slivers.append(str(code))
            self.unresolved.append(pick(self.lang, f"网格 {code} 为细长网格，需人工确认",
                                        f"grid {code} is a sliver grid, review by hand"))

    def _fill_gaps(self, rows: np.ndarray, outline: shapely.Geometry) -> None:
        """Each part of the community no grid covers goes to its longest-border grid."""
        holes = shapely.get_parts(shapely.difference(outline, shapely.union_all(
            self.geoms[rows])))
        holes = holes[shapely.area(holes) > _NOISE * shapely.area(outline)]
        targets = np.array([self._neighbour(h, rows, -1) for h in holes], dtype=np.intp)
        tag = _by_delta(self.config.area_tolerance_m2, "snapped", "gap_filled")  # crumbs: snapped
        for target in np.unique(targets):
            grown = shapely.union_all(np.r_[[self.geoms[target]], holes[targets == target]])
            self.stage(np.array([target]), _polygonal(np.array([grown])), tag)


def _by_delta(tolerance: float, shrank: str, grew: str) -> Callable[[float], str]:
    """The change kind of a step by the area it moved: ``snapped`` within the tolerance."""
    def tag(delta: float) -> str:
        return shrank if delta < -tolerance else grew if delta > tolerance else "snapped"
    return tag


def _significant_area(geoms: np.ndarray, config: RuleConfig) -> np.ndarray:
    """Mask of geometries with a part wider than the snapping tolerance."""
    parts, index = polygon_parts(geoms)
    keep = significant(parts, config)
    return np.isin(np.arange(len(geoms)), index[keep])


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """The polygonal part of each geometry (overlay results may carry lines and points)."""
    geoms = np.asarray(geoms, dtype=object)
    parts, index = polygon_parts(geoms)
    areal = shapely.area(parts) > 0
    out = regroup(parts[areal], index[areal], len(geoms))
    single = shapely.get_num_geometries(out) == 1
    out[single] = shapely.get_geometry(out[single], 0)
    out[shapely.is_missing(out)] = shapely.Polygon()
    return out


def _changed(before: np.ndarray, after: np.ndarray, tags: list[set[str]]) -> np.ndarray:
    """Grids whose geometry the repair changed (others keep their input geometry)."""
    tagged = np.array([bool(t) for t in tags])
    same = np.zeros(len(before), bool)
    rows = np.flatnonzero(tagged)
    same[rows] = shapely.equals_exact(shapely.normalize(before[rows]),
                                      shapely.normalize(after[rows]), 0.0)
    for i in rows[same[rows]]:
        tags[i].clear()
    return tagged & ~same


def _renumber(geoms: np.ndarray, codes: np.ndarray, named: np.ndarray, live: np.ndarray,
              tags: list[set[str]]) -> tuple[np.ndarray, pd.DataFrame]:
    """New serials in reading order inside each community, and the old → new code table.

    Grids without geometry come after the others (in code order) so that no
    two grids share a serial; grids with no community keep their code.
    """
    rows = np.flatnonzero(live & (named != ""))
    present = ~(shapely.is_missing(geoms[rows]) | shapely.is_empty(geoms[rows]))
    position = reading_order(geoms[rows], named[rows]).astype(np.int64)
    frame = pd.DataFrame({"community": named[rows], "present": present, "position": position,
                          "code": codes[rows]})
    # empty grids: ranked after the located ones of their community, by code then row
    frame["rank"] = frame.sort_values(["community", "present", "position", "code"],
                                      ascending=[True, False, True, True], kind="stable"
                                      ).groupby("community").cumcount() + 1
    too_many = frame["rank"] > 999
    if too_many.any():
        raise InputError(f"community {frame.loc[too_many, 'community'].iloc[0]} has more than "
                         "999 grids; 3-digit serials cannot number it")
    new = codes.copy()
    new[rows] = [f"{c}{r:03d}" for c, r in zip(frame["community"], frame["rank"])]
    for i in rows[new[rows] != codes[rows]]:
        tags[i].add("renumbered")
    table = pd.DataFrame({"old_code": codes[rows], "new_code": new[rows],
                          "community_code": named[rows]})
    table = table.sort_values(["community_code", "new_code"], kind="stable")
    return new, table.reset_index(drop=True)


def _log(codes: np.ndarray, named: np.ndarray, before: np.ndarray, after: np.ndarray,
         tags: list[set[str]], merged_into: np.ndarray, changed: np.ndarray,
         crs: Any) -> gpd.GeoDataFrame:
    rows = np.flatnonzero(changed | (merged_into != ""))
    area_before = np.nan_to_num(shapely.area(before[rows]))
    area_after = np.where(merged_into[rows] != "", 0.0, np.nan_to_num(shapely.area(after[rows])))
    log = gpd.GeoDataFrame({
        "grid_code": codes[rows].astype(str),
        "community_code": named[rows].astype(str),
        # typed: an empty log's column must still be text for ``by_change``
        "changes": np.array([";".join(k for k in CHANGES if k in tags[i]) for i in rows],
                            dtype=str),
        "merged_into": merged_into[rows].astype(str),
        "area_before_m2": area_before,
        "area_after_m2": area_after,
        "delta_m2": area_after - area_before,
    }, geometry=np.where(merged_into[rows] != "", None, after[rows]), crs=crs)
    return log.sort_values(["community_code", "grid_code"], kind="stable").reset_index(drop=True)

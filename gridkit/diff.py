"""``diff()``: classify the changes between two versions of a grid layer (网格调整).

Old and new grids are the nodes of an overlap graph (STRtree pairs, their
intersections in one vectorised call, in the metric CRS). An old and a new grid
are linked when their overlap, without the pieces narrower than the snapping
tolerance (digitising noise), holds at least ``link_share`` of the smaller of
the two, or when they share their code and overlap at all. Each connected
component is one change:

===========  ==========================================================
unchanged    one old, one new, same code, IoU ≥ ``iou_threshold``
recoded      one old, one new, other code, IoU ≥ ``iou_threshold``
reshaped     one old, one new, IoU below the threshold (codes may differ)
split        one old → several new
merged       several old → one new
redrawn      several old ↔ several new (a split-and-merge)
added        a new grid overlapping no old one
removed      an old grid overlapping no new one
===========  ==========================================================

JSON schema of :meth:`DiffResult.to_dict` (stable)::

    {"old": 300, "new": 302,                 # grids in each layer
     "by_change": {"unchanged": 290, "reshaped": 2, "split": 1, ...},   # every kind
     "changes": [{"change": "split", "old_codes": ["…"], "new_codes": ["…", "…"],
                  "area_m2": 123456.78,      # area of the new grids (old ones when removed)
                  "community_code": "…"}],   # community named by most of those grids
     "refile": [{"grid_code": "…", "change": "split", "community_code": "…",
                 "last_filed_on": "2023-01-05" | null}]}   # only with filings

Changes are ordered by kind (the order above), then codes. The result is a
GeoDataFrame of changes (geometry: the new grids of the change, the old ones
when removed) plus the summary, so a map layer and a report table can be built
from it directly.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gridkit.crs import CGCS2000, DEFAULT_METRIC_CRS, to_metric
from gridkit.errors import InputError
from gridkit.i18n import pick
from gridkit.io.write import atomic_output
from gridkit.validate.base import clean_pieces, polygon_parts, regroup, text_column
from gridkit.validate.config import RuleConfig
from gridkit.validate.geometry import repair

__all__ = ["CHANGE_KINDS", "CHANGE_NAMES", "DiffResult", "change_name", "diff",
           "refile_list"]

#: Change kinds, in output order.
CHANGE_KINDS = ("unchanged", "recoded", "reshaped", "split", "merged", "redrawn", "added",
                "removed")
#: Display name of each change kind (Chinese, English): the one place the diff command's
#: table, ``gridkit map diff`` and the report's 网格调整 section take them from.
CHANGE_NAMES = {"unchanged": ("未变", "unchanged"), "recoded": ("改编码", "recoded"),
                "reshaped": ("调整边界", "reshaped"), "split": ("拆分", "split"),
                "merged": ("合并", "merged"), "redrawn": ("重新划分", "redrawn"),
                "added": ("新增", "added"), "removed": ("撤销", "removed")}
#: Default share of the smaller grid an overlap must hold to link an old and a new grid.
LINK_SHARE = 0.25


def change_name(kind: str, lang: str = "zh") -> str:
    """The display name of a change kind in ``lang`` (the kind itself when unknown).

    >>> change_name("split"), change_name("split", "en")
    ('拆分', 'split')
    """
    return pick(lang, *CHANGE_NAMES.get(kind, (kind, kind)))


@dataclass
class DiffResult:
    """The changes between two layers.

    Attributes
    ----------
    changes : one row per change: ``change``, ``old_codes``, ``new_codes``
        (sorted lists), ``area_m2``, ``community_code``, geometry (metric CRS).
    old, new : grids in each layer.
    refile : grids needing a new filing (``grid_code``, ``change``,
        ``community_code``, ``last_filed_on``), ``None`` without filings.
    """

    changes: gpd.GeoDataFrame
    old: int
    new: int
    refile: pd.DataFrame | None = None

    @property
    def by_change(self) -> dict[str, int]:
        """Changes per kind (every kind, 0 when none)."""
        counts = self.changes["change"].value_counts()
        return {kind: int(counts.get(kind, 0)) for kind in CHANGE_KINDS}

    def records(self) -> list[dict[str, Any]]:
        """The changes as JSON-ready dicts (areas rounded to 0.01 m²)."""
        return [{"change": r.change, "old_codes": list(r.old_codes),
                 "new_codes": list(r.new_codes), "area_m2": round(float(r.area_m2), 2),
                 "community_code": r.community_code}
                for r in self.changes.itertuples(index=False)]

    def refile_records(self) -> list[dict[str, Any]]:
        """The re-filing work list as JSON-ready dicts (dates ISO, ``None`` when never filed)."""
        if self.refile is None:
            return []
        return [{**r, "last_filed_on": None if pd.isna(r["last_filed_on"])
                 else pd.Timestamp(r["last_filed_on"]).date().isoformat()}
                for r in self.refile.to_dict("records")]

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (see the module docstring)."""
        out: dict[str, Any] = {"old": self.old, "new": self.new, "by_change": self.by_change,
                               "changes": self.records()}
        if self.refile is not None:
            out["refile"] = self.refile_records()
        return out

    def write(self, path: str | os.PathLike, force: bool = False) -> None:
        """Write the changes: ``.gpkg`` (layer ``changes`` in EPSG:4490, codes joined
        with ``;``, tables ``summary`` and ``refile``) or ``.csv`` (no geometry)."""
        frame = self.changes.copy()
        for key in ("old_codes", "new_codes"):
            frame[key] = frame[key].map(";".join)
        suffix = os.fspath(path).lower().rsplit(".", 1)[-1]
        with atomic_output(path, force=force) as tmp:
            if suffix == "csv":
                frame.drop(columns="geometry").to_csv(tmp, index=False, encoding="utf-8-sig")
                return
            frame.to_crs(CGCS2000).to_file(tmp, layer="changes", driver="GPKG",
                                       promote_to_multi=True)
            summary = pd.DataFrame({"change": list(self.by_change),
                                    "count": list(self.by_change.values())})
            pyogrio.write_dataframe(summary, tmp, layer="summary", driver="GPKG")
            if self.refile is not None:
                table = pd.DataFrame(self.refile_records(),
                                     columns=["grid_code", "change", "community_code",
                                              "last_filed_on"])
                pyogrio.write_dataframe(table, tmp, layer="refile", driver="GPKG")


@dataclass
class _Side:
    """One layer in the metric CRS: repaired geometry, codes, communities, areas."""

    geoms: np.ndarray
    codes: np.ndarray
    community: np.ndarray
    area: np.ndarray
    crs: Any

    @cached_property
    def normal(self) -> np.ndarray:
        """The geometries in normal form, to find identical shapes."""
        return shapely.normalize(self.geoms)

    @classmethod
    def of(cls, layer: gpd.GeoDataFrame, metric_crs: str, what: str) -> _Side:
        missing = [c for c in ("grid_code", "community_code") if c not in layer.columns]
        if missing:
            raise InputError(f"the {what} layer lacks column(s) {', '.join(missing)}",
                             path=layer.attrs.get("source_path"))
        metric = to_metric(layer, metric_crs)
        geoms = repair(metric.geometry.to_numpy())[0]
        return cls(geoms, text_column(layer["grid_code"]), text_column(layer["community_code"]),
                   np.nan_to_num(shapely.area(geoms)), metric.crs)


def diff(
    old: gpd.GeoDataFrame,
    new: gpd.GeoDataFrame,
    config: RuleConfig | None = None,
    *,
    link_share: float = LINK_SHARE,
    metric_crs: str = DEFAULT_METRIC_CRS,
) -> DiffResult:
    """Classify every grid of two versions of a layer as one of :data:`CHANGE_KINDS`.

    Parameters
    ----------
    old, new : grid layers (``grid_code``, ``community_code``), any CRS.
    config : ``iou_threshold`` (of ``geometry_mismatch``), ``snap_tolerance_m`` and
        ``area_tolerance_m2`` (digitising noise) of :class:`~gridkit.validate.RuleConfig`.
    link_share : share of the smaller grid an overlap must hold to link two grids.
    metric_crs : CRS for the overlaps and areas.

    Returns
    -------
    DiffResult

    Examples
    --------
    >>> from shapely import box
    >>> def layer(codes, boxes):
    ...     return gpd.GeoDataFrame({"grid_code": codes, "community_code": ["c"] * len(codes)},
    ...                             geometry=boxes, crs=4547)
    >>> old = layer(["1", "2"], [box(0, 0, 100, 100), box(100, 0, 200, 100)])
    >>> new = layer(["1", "3", "4"], [box(0, 0, 100, 100), box(100, 0, 150, 100),
    ...                               box(150, 0, 200, 100)])
    >>> diff(old, new).to_dict()["by_change"]["split"]
    1
    """
    config = config or RuleConfig()
    if not 0 < link_share <= 1:
        raise InputError(f"the link share must be in (0, 1], got {link_share}")
    a, b = _Side.of(old, metric_crs, "old"), _Side.of(new, metric_crs, "new")
    i, j, inter = _overlaps(a, b, config)
    # grids without geometry can only be matched by code
    empty_i, empty_j = _empty_pairs(a, b)
    i, j, inter = np.r_[i, empty_i], np.r_[j, empty_j], np.r_[inter, np.zeros(len(empty_i))]
    smaller = np.minimum(a.area[i], b.area[j])
    linked = (inter >= link_share * smaller) | ((a.codes[i] == b.codes[j]) & (inter > 0))
    n_old, n_new = len(a.codes), len(b.codes)
    label = _components(n_old + n_new, i[linked], n_old + j[linked])
    changes = _classify(a, b, label, i[linked], j[linked], inter[linked], config)
    return DiffResult(changes, n_old, n_new)


def _overlaps(a: _Side, b: _Side, config: RuleConfig) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray]:
    """Pairs (old, new) overlapping by more than noise, and the area of each overlap."""
    i, j = shapely.STRtree(b.geoms).query(a.geoms, predicate="intersects")
    # fast paths before the overlay: the same shape (most grids from one year to the
    # next), and neighbours that only touch
    same = shapely.equals_exact(a.normal[i], b.normal[j], 0.0)
    rest = np.flatnonzero(~same)
    shapely.prepare(a.geoms)
    rest = rest[~shapely.touches(a.geoms[i[rest]], b.geoms[j[rest]])]
    area = np.zeros(len(i))
    area[same] = a.area[i[same]]
    pieces = clean_pieces(shapely.intersection(a.geoms[i[rest]], b.geoms[j[rest]]), config)
    area[rest] = np.nan_to_num(shapely.area(pieces))
    keep = area > config.area_tolerance_m2
    return i[keep], j[keep], area[keep]


def _empty_pairs(a: _Side, b: _Side) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (old, new) of grids without geometry sharing a code."""
    old = pd.DataFrame({"code": a.codes, "i": np.arange(len(a.codes))})[a.area == 0]
    new = pd.DataFrame({"code": b.codes, "j": np.arange(len(b.codes))})[b.area == 0]
    pairs = old[old["code"] != ""].merge(new, on="code")
    return pairs["i"].to_numpy(np.intp), pairs["j"].to_numpy(np.intp)


def _components(size: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected components of a graph given by its edges: the smallest node of each.

    Min-label propagation with pointer jumping (no Python loop over nodes).

    >>> _components(5, np.array([0, 3]), np.array([2, 4])).tolist()
    [0, 1, 0, 3, 3]
    """
    label = np.arange(size)
    while True:
        low = np.minimum(label[left], label[right])
        new = label.copy()
        np.minimum.at(new, left, low)
        np.minimum.at(new, right, low)
        np.minimum.at(new, label[left], low)
        np.minimum.at(new, label[right], low)
        while not np.array_equal(new, new[new]):
            new = new[new]
        if np.array_equal(new, label):
            return label
        label = new


def _classify(a: _Side, b: _Side, label: np.ndarray, i: np.ndarray, j: np.ndarray,
              inter: np.ndarray, config: RuleConfig) -> gpd.GeoDataFrame:
    n_old = len(a.codes)
    nodes = pd.DataFrame({
        "group": label,
        "side": np.r_[np.zeros(n_old, int), np.ones(len(b.codes), int)],
        "code": np.r_[a.codes, b.codes],
        "community": np.r_[a.community, b.community],
        "area": np.r_[a.area, b.area],
    })
    counts = nodes.groupby(["group", "side"]).size().unstack(fill_value=0).reindex(
        columns=[0, 1], fill_value=0)
    n_o, n_n = counts[0], counts[1]
    kind = pd.Series("redrawn", index=counts.index, dtype=object)
    kind[(n_o == 1) & (n_n > 1)] = "split"
    kind[(n_o > 1) & (n_n == 1)] = "merged"
    kind[n_n == 0] = "removed"
    kind[n_o == 0] = "added"
    one = (n_o == 1) & (n_n == 1)
    if one.any():
        # a one-to-one change has exactly one linked pair: its IoU decides
        union = a.area[i] + b.area[j] - inter
        with np.errstate(divide="ignore", invalid="ignore"):  # two empty grids: the same
            iou = pd.Series(np.where(union > 0, inter / union, 1.0), index=label[i])
        groups = counts.index[one]
        codes = nodes.set_index(["group", "side"])["code"]
        same_code = (codes.loc[list(zip(groups, [0] * len(groups)))].to_numpy()
                     == codes.loc[list(zip(groups, [1] * len(groups)))].to_numpy())
        close = iou.loc[groups].to_numpy() >= config.iou_threshold
        kind[groups] = np.where(close, np.where(same_code, "unchanged", "recoded"), "reshaped")
    # the side that describes the change: the new grids, the old ones when removed
    described = nodes[(nodes["side"] == 1) | nodes["group"].map(kind).eq("removed")]
    geoms = np.r_[a.geoms, b.geoms][described.index]
    parts, index = polygon_parts(geoms)
    group_ids, position = np.unique(described["group"].to_numpy(), return_inverse=True)
    order = np.argsort(position[index], kind="stable")
    shapes = regroup(parts[order], position[index][order], len(group_ids))
    rows = pd.DataFrame({
        "change": kind[group_ids].to_numpy(),
        "old_codes": _codes(nodes, 0, group_ids),
        "new_codes": _codes(nodes, 1, group_ids),
        "area_m2": _sorted_sums(described["group"].to_numpy(), described["area"].to_numpy()),
        "community_code": _community(described, group_ids),
    })
    order = pd.DataFrame({"k": rows["change"].map({c: n for n, c in enumerate(CHANGE_KINDS)}),
                          "o": rows["old_codes"].map("\x1f".join),
                          "n": rows["new_codes"].map("\x1f".join)})
    order = order.sort_values(["k", "o", "n"], kind="stable").index
    frame = gpd.GeoDataFrame(rows, geometry=shapes, crs=a.crs)
    frame = frame.iloc[order].reset_index(drop=True)
    return frame


def _codes(nodes: pd.DataFrame, side: int, groups: np.ndarray) -> list[list[str]]:
    """The sorted codes of ``side`` in each group (``groups`` sorted)."""
    mine = nodes[nodes["side"] == side]
    group, code = mine["group"].to_numpy(), mine["code"].to_numpy().astype(str)
    order = np.lexsort((code, group))
    group, code = group[order], code[order].tolist()
    bounds = np.searchsorted(group, np.r_[groups, np.iinfo(np.int64).max])
    return [code[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]


def _sorted_sums(group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Sum of ``value`` per group (groups in sorted order), added smallest first so the
    total does not depend on row order."""
    order = np.lexsort((value, group))
    starts = np.flatnonzero(np.r_[True, group[order][1:] != group[order][:-1]])
    return np.add.reduceat(value[order], starts) if len(order) else np.zeros(0)


def _community(described: pd.DataFrame, groups: np.ndarray) -> list[str]:
    """The community named by most grids of each change (ties: the lowest code)."""
    counts = described.groupby(["group", "community"]).size().reset_index(name="n")
    counts = counts.sort_values(["group", "n", "community"], ascending=[True, False, True])
    best = counts.drop_duplicates("group").set_index("group")["community"]
    return [str(best.get(g, "")) for g in groups]


def refile_list(result: DiffResult, filings: pd.DataFrame, changed_on: dt.date) -> pd.DataFrame:
    """The re-filing work list: grids of a change without a filing since ``changed_on``.

    Grids of every change but ``unchanged`` and ``removed`` count; a filing
    dated on or after ``changed_on`` with status ``filed`` clears a grid.

    Parameters
    ----------
    result : a :func:`diff` result.
    filings : filings table (``grid_code``, ``filed_on``, ``status``); only
        ``filed`` filings count.
    changed_on : the date the change took effect.

    Returns
    -------
    DataFrame ``grid_code``, ``change``, ``community_code``, ``last_filed_on``
    (the latest ``filed`` filing of the code, any date; NaT when none), by code.
    """
    changed = result.changes[~result.changes["change"].isin(("unchanged", "removed"))]
    grids = changed[["new_codes", "change", "community_code"]].explode("new_codes")
    grids = grids.rename(columns={"new_codes": "grid_code"}).dropna(subset=["grid_code"])
    filed = filings[filings["status"] == "filed"]
    latest = filed.groupby(text_column(filed["grid_code"]))["filed_on"].max()
    grids["last_filed_on"] = grids["grid_code"].map(latest)
    since = pd.Timestamp(changed_on)
    missing = grids["last_filed_on"].isna() | (grids["last_filed_on"] < since)
    out = grids[missing].sort_values("grid_code", kind="stable").reset_index(drop=True)
    return out[["grid_code", "change", "community_code", "last_filed_on"]]

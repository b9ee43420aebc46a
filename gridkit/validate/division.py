"""Division rules (划分): overlaps, gaps, outside the community, slivers, bounds, attributes.

All measures are in the metric CRS. Pieces narrower than ``snap_tolerance_m``
(no disc of that diameter fits inside) or smaller than ``area_tolerance_m2``
are digitising noise and are not reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from gridkit.validate.base import (
    Context,
    Skipped,
    clean_pieces,
    fmt_m,
    make_findings,
    polsby_popper,
    text_column,
)

__all__ = ["RULES", "area_out_of_range", "gap", "households_out_of_range", "missing_attribute",
    "outside_community", "overlap", "sliver"]

#: A thin grid is "the same piece" as the overlaps covering at least this share of its area.
_SAME_PIECE = 0.9


def overlap(ctx: Context) -> pd.DataFrame:
    """Every pair of grids whose interiors overlap by more than the area tolerance.

    The pairs come from :attr:`Context.overlaps` (STRtree pairs of the grids
    whose edges do not match their neighbours, intersected in one vectorised
    call); the finding geometry is the overlap, without its noise parts.
    """
    i, j, pieces = ctx.overlaps
    pieces = clean_pieces(pieces, ctx.config)
    area = shapely.area(pieces)
    keep = area > ctx.config.area_tolerance_m2
    i, j, pieces, area = i[keep], j[keep], pieces[keep], area[keep]
    return make_findings(
        "overlap",
        ctx.code_lists(i, j),
        [ctx.text(f"网格 {ctx.label(a)} 与 {ctx.label(b)} 重叠 {fmt_m(s)} 平方米",
                  f"grids {ctx.label(a)} and {ctx.label(b)} overlap by {fmt_m(s)} m²")
         for a, b, s in zip(i, j, area)],
        geometry=pieces,
        area_m2=area,
    )


def gap(ctx: Context) -> pd.DataFrame:
    """Every hole no grid covers, wider than the snapping tolerance, with the grids around it."""
    gaps = ctx.gaps
    area = shapely.area(gaps.geoms)
    keep = np.flatnonzero(area > ctx.config.area_tolerance_m2)

    def message(k: int) -> str:
        size, comm, around = fmt_m(area[k]), gaps.community[k], ctx.join(gaps.around[k])
        return ctx.text(
            (f"社区 {comm} 内" if comm else "网格之间") + f"有 {size} 平方米未被任何网格覆盖；"
            f"周边网格：{around}",
            f"{size} m² " + (f"inside community {comm}" if comm else "between grids")
            + f" not covered by any grid; grids around: {around}",
        )

    return make_findings(
        "gap",
        [gaps.around[k] for k in keep],
        [message(k) for k in keep],
        geometry=gaps.geoms[keep],
        area_m2=area[keep],
    )


def outside_community(ctx: Context) -> pd.DataFrame:
    """Grid area outside the community its code names (or outside every community).

    Grids most of whose area lies in another community are reported by
    ``code_community_mismatch`` instead, once.
    """
    ctx.require_communities()
    loc = ctx.location
    pieces = clean_pieces(loc.outside, ctx.config)
    area = shapely.area(pieces)
    named = ctx.named
    own = (loc.majority == named) | (loc.majority == "")
    rows = np.flatnonzero(own & (area > ctx.config.area_tolerance_m2))
    known = set(ctx.community_codes)

    def message(i: int) -> str:
        size, beyond = fmt_m(area[i]), fmt_m(loc.outside_all_area[i])
        if named[i] not in known:
            return ctx.text(
                f"网格 {ctx.label(i)} 所属社区 {named[i] or '（空）'} 不在社区图层中，"
                f"有 {size} 平方米在所有社区之外",
                f"grid {ctx.label(i)} names community {named[i] or '(empty)'}, which is not in "
                f"the communities layer; {size} m² lie outside every community",
            )
        far = loc.outside_all_area[i] > ctx.config.area_tolerance_m2
        return ctx.text(
            f"网格 {ctx.label(i)} 有 {size} 平方米超出其所属社区 {named[i]}"
            + (f"（其中 {beyond} 平方米在所有社区之外）" if far else ""),
            f"grid {ctx.label(i)} reaches {size} m² outside its community {named[i]}"
            + (f" ({beyond} m² of it outside every community)" if far else ""),
        )

    return make_findings(
        "outside_community",
        ctx.code_lists(rows),
        [message(i) for i in rows],
        geometry=pieces[rows],
        area_m2=area[rows],
    )


def sliver(ctx: Context) -> pd.DataFrame:
    """Long, thin grids and gaps: Polsby-Popper and mean width 2A/P both below the limits.

    One place, one finding: a thin gap is already a ``gap`` finding and a thin
    grid lying (almost) wholly in an overlap is already an ``overlap`` finding,
    so they are reported here only when that rule is off.
    """
    cfg, gaps = ctx.config, ctx.gaps
    gap_on = cfg.severity["gap"] != "off"
    geoms = np.concatenate([ctx.geoms, gaps.geoms[:0] if gap_on else gaps.geoms])
    area = shapely.area(geoms)
    compact = polsby_popper(geoms)
    width = 2 * area / shapely.length(geoms)
    thin = (compact < cfg.sliver_max_compactness) & (width < cfg.sliver_max_width_m) & (
        area > cfg.area_tolerance_m2)
    n = len(ctx.geoms)
    if cfg.severity["overlap"] != "off" and thin[:n].any():
        i, j, pieces = ctx.overlaps
        overlapped = np.zeros(len(geoms))
        np.add.at(overlapped, np.r_[i, j], np.tile(shapely.area(pieces), 2))
        thin &= overlapped < _SAME_PIECE * np.nan_to_num(area)
    thin = np.flatnonzero(thin)

    def message(k: int) -> str:
        shape_zh = f"紧凑度 {compact[k]:.3f}，平均宽度 {fmt_m(width[k])} 米"
        shape_en = f"compactness {compact[k]:.3f}, mean width {fmt_m(width[k])} m"
        if k < n:
            return ctx.text(f"网格 {ctx.label(k)} 细长（{shape_zh}）",
                            f"grid {ctx.label(k)} is long and thin ({shape_en})")
        around = ctx.join(gaps.around[k - n])
        return ctx.text(f"细长缝隙（{shape_zh}），周边网格：{around}",
                        f"long thin gap ({shape_en}); grids around: {around}")

    return make_findings(
        "sliver",
        [ctx.code_lists([k])[0] if k < n else gaps.around[k - n] for k in thin],
        [message(k) for k in thin],
        geometry=geoms[thin],
        area_m2=area[thin],
    )


def area_out_of_range(ctx: Context) -> pd.DataFrame:
    """Grids whose area (m², metric CRS) is outside ``[area_min_m2, area_max_m2]``."""
    low, high = ctx.config.area_min_m2, ctx.config.area_max_m2
    area = ctx.area
    rows = np.flatnonzero(ctx.usable & ((area < low) | (area > high)))
    return make_findings(
        "area_out_of_range",
        ctx.code_lists(rows),
        [ctx.text(f"网格 {ctx.label(i)} 面积 {fmt_m(area[i])} 平方米，"
                  f"超出范围 {fmt_m(low)}–{fmt_m(high)}",
                  f"grid {ctx.label(i)} covers {fmt_m(area[i])} m², outside "
                  f"{fmt_m(low)}–{fmt_m(high)}")
         for i in rows],
        geometry=ctx.geoms[rows],
        area_m2=area[rows],
    )


def households_out_of_range(ctx: Context) -> pd.DataFrame:
    """Grids whose household count is not a number or outside the configured bounds."""
    if "households" not in ctx.grids.columns:
        raise Skipped(ctx.text("网格图层没有户数字段（households）",
                               "the grid layer has no households column"))
    low, high = ctx.config.households_min, ctx.config.households_max
    raw = ctx.grids["households"]
    given = raw.notna() & (raw.astype(str).str.strip() != "")
    value = pd.to_numeric(raw.where(given), errors="coerce").to_numpy(float)
    bad_number = given.to_numpy() & np.isnan(value)
    rows = np.flatnonzero(bad_number | (value < low) | (value > high))

    def message(i: int) -> str:
        if bad_number[i]:
            given_text = str(raw.iloc[i])
            return ctx.text(f"网格 {ctx.label(i)} 户数 {given_text!r} 不是数字",
                            f"grid {ctx.label(i)} households {given_text!r} is not a number")
        bounds = f"{low:g}–{high:g}"
        return ctx.text(f"网格 {ctx.label(i)} 户数 {value[i]:g}，超出范围 {bounds}",
                        f"grid {ctx.label(i)} has {value[i]:g} households, outside {bounds}")

    return make_findings(
        "households_out_of_range",
        ctx.code_lists(rows),
        [message(i) for i in rows],
        geometry=ctx.geoms[rows],
        area_m2=ctx.area[rows],
    )


def missing_attribute(ctx: Context) -> pd.DataFrame:
    """Grids with an empty required attribute (``required_attributes``)."""
    names = list(ctx.config.required_attributes)
    empty = np.zeros((len(ctx.grids), len(names)), bool)  # no column when none is required
    for k, column in enumerate(names):
        empty[:, k] = text_column(ctx.grids[column]) == ""
    rows = np.flatnonzero(empty.any(axis=1))
    return make_findings(
        "missing_attribute",
        ctx.code_lists(rows),
        [ctx.text(f"网格 {ctx.label(i)} 缺少必填属性：{'、'.join(np.array(names)[empty[i]])}",
                  f"grid {ctx.label(i)} lacks required attribute(s): "
                  f"{', '.join(np.array(names)[empty[i]])}")
         for i in rows],
        geometry=ctx.geoms[rows],
        area_m2=ctx.area[rows],
    )


RULES = {
    "overlap": overlap,
    "gap": gap,
    "outside_community": outside_community,
    "sliver": sliver,
    "area_out_of_range": area_out_of_range,
    "households_out_of_range": households_out_of_range,
    "missing_attribute": missing_attribute,
}

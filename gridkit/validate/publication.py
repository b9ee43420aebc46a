"""Publication rules (上图): the layer against the planning bureau's published reference layer.

Grids are matched by code. A systematic displacement of the whole layer
(``layer_offset``) is found first from the matched centroids; when it is the
GCJ-02 or BD-09 offset of Chinese web maps the layer is converted back to
WGS84, otherwise translated back by the median shift, and every other rule
runs on the corrected layer, so the displacement is reported once and not as
a ``geometry_mismatch`` of every grid.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gridkit.crs import convert_geometries, estimate_offset_system
from gridkit.validate.base import (
    Context,
    Offset,
    fmt_m,
    isin,
    make_findings,
    polygon_parts,
    regroup,
    text_column,
)

__all__ = ["RULES", "attribute_mismatch", "find_offset", "geometry_mismatch", "layer_offset",
    "missing_from_layer", "not_published", "undo_offset"]

#: A matched grid shares the layer's shift when within this share of its length ...
_SHIFT_REL_TOL = 0.2
#: ... or within this many metres.
_SHIFT_ABS_TOL_M = 5.0
_MIN_MATCHED = 3


def _matched_usable(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    i, j = ctx.matched
    ref = ctx.reference.geometry.to_numpy()[j]
    keep = ctx.usable[i] & ~(shapely.is_missing(ref) | shapely.is_empty(ref))
    return i[keep], j[keep]


def find_offset(ctx: Context) -> Offset | None:
    """The systematic shift of the layer against the reference, or ``None``.

    The shift of each matched grid is its centroid minus the reference
    centroid; the layer is offset when the median shift is at least
    ``offset_min_shift_m`` long and at least ``offset_min_share`` of the
    matched grids lie within ``max(5 m, 20 %)`` of it.
    :func:`gridkit.crs.estimate_offset_system` tells whether it is GCJ-02 or BD-09.
    """
    i, j = _matched_usable(ctx)
    if len(i) < _MIN_MATCHED:
        return None
    here = shapely.get_coordinates(ctx.centres[i])
    there = shapely.get_coordinates(shapely.centroid(ctx.reference.geometry.to_numpy()[j]))
    shift = here - there
    dx, dy = np.median(shift, axis=0)
    length = float(np.hypot(dx, dy))
    if length < ctx.config.offset_min_shift_m:
        return None
    close = np.hypot(*(shift - [dx, dy]).T) <= max(_SHIFT_ABS_TOL_M, _SHIFT_REL_TOL * length)
    if close.mean() < ctx.config.offset_min_share:
        return None
    to_lonlat = pyproj.Transformer.from_crs(ctx.grids.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform(*np.median(there, axis=0))
    system = estimate_offset_system(lon, lat, float(dx), float(dy))
    return Offset(float(dx), float(dy), system, int(close.sum()), len(i))


def undo_offset(grids: gpd.GeoDataFrame, offset: Offset) -> gpd.GeoDataFrame:
    """The layer (metric CRS) with ``offset`` removed: converted from its system, or translated."""
    if offset.system is None:
        moved = shapely.transform(grids.geometry.to_numpy(), lambda xy: xy - [offset.dx, offset.dy])
        return grids.set_geometry(gpd.GeoSeries(moved, index=grids.index, crs=grids.crs))
    lonlat = grids.geometry.to_crs("EPSG:4326")
    fixed = convert_geometries(lonlat, offset.system, "wgs84").to_crs(grids.crs)
    return grids.set_geometry(fixed)


def layer_offset(ctx: Context) -> pd.DataFrame:
    """One finding when :func:`find_offset` found a shift; no grid codes (the whole layer)."""
    ctx.require_reference()
    off = ctx.offset
    if off is None:
        return make_findings("layer_offset", [], [])
    size, east, north = fmt_m(off.shift), fmt_m(off.dx), fmt_m(off.dy)
    zh = [f"图层整体偏移：{off.matched} 个按编码匹配的网格中有 {off.shifted} 个",
          f"相对参考图层位移约 {size} 米（东 {east}，北 {north}）"]
    en = [f"the whole layer is displaced: {off.shifted} of {off.matched} grids matched by code",
          f" are shifted by about {size} m (east {east}, north {north}) against the reference"]
    if off.system:
        name = {"gcj02": "GCJ-02", "bd09": "BD-09"}[off.system]
        zh += [f"；与 {name} 坐标偏移一致，请使用 --crs {off.system} 重新加载该图层。",
               "其他规则已在转换回 WGS84 的图层上检查"]
        en += [f"; this is the {name} offset: reload the layer with --crs {off.system}.",
               " The other rules ran on the layer converted back to WGS84"]
    else:
        zh += ["；不是 GCJ-02 或 BD-09 偏移，请检查图层的坐标系或配准。",
               "其他规则已在平移回原位的图层上检查"]
        en += ["; it is not a GCJ-02 or BD-09 offset: check the layer's CRS or georeferencing.",
               " The other rules ran on the layer translated back"]
    zh.append("，不再逐个报告为几何不一致")
    en.append(", so the shift is not reported again as a geometry_mismatch of every grid")
    i, j = _matched_usable(ctx)
    centre = np.median(shapely.get_coordinates(
        shapely.centroid(ctx.reference.geometry.to_numpy()[j])), axis=0)
    arrow = shapely.linestrings([centre, centre + [off.dx, off.dy]])
    return make_findings(
        "layer_offset",
        [[]],
        [ctx.text("".join(zh), "".join(en))],
        geometry=[arrow],
        shift_m=[round(off.shift, 1)],
        dx_m=[round(off.dx, 1)],
        dy_m=[round(off.dy, 1)],
        offset_crs=[off.system],
    )


def not_published(ctx: Context) -> pd.DataFrame:
    """Grids of the layer whose code is not in the reference layer."""
    ctx.require_reference()
    rows = np.flatnonzero((ctx.codes_arr != "") & ~isin(ctx.codes_arr, ctx.reference_codes))
    return make_findings(
        "not_published",
        ctx.code_lists(rows),
        [ctx.text(f"网格 {ctx.codes_arr[i]} 不在已发布的参考图层中",
                  f"grid {ctx.codes_arr[i]} is not in the published reference layer")
         for i in rows],
        geometry=ctx.geoms[rows],
        area_m2=ctx.area[rows],
    )


def missing_from_layer(ctx: Context) -> pd.DataFrame:
    """Grids of the reference layer whose code is not in the layer (geometry from the reference)."""
    ctx.require_reference()
    codes = ctx.reference_codes
    rows = np.flatnonzero((codes != "") & ~isin(codes, ctx.codes_arr))
    rows = rows[~pd.Series(codes[rows]).duplicated().to_numpy()]
    geoms = ctx.reference.geometry.to_numpy()[rows]
    return make_findings(
        "missing_from_layer",
        [[codes[k]] for k in rows],
        [ctx.text(f"已发布的网格 {codes[k]} 不在本图层中",
                  f"published grid {codes[k]} is missing from the layer") for k in rows],
        geometry=geoms,
        area_m2=shapely.area(geoms),
    )


def geometry_mismatch(ctx: Context) -> pd.DataFrame:
    """Grids matched by code whose IoU with the published grid is below ``iou_threshold``.

    Pairs whose vertices agree within the snapping tolerance are equal; the
    others get their IoU (intersection over union area) in one vectorised
    overlay, and the mismatched ones their Hausdorff distance. The finding
    geometry is the symmetric difference.
    """
    ctx.require_reference()
    i, j = _matched_usable(ctx)
    a, b = ctx.geoms[i], ctx.reference.geometry.to_numpy()[j]
    same = shapely.equals_exact(a, b, tolerance=ctx.config.snap_tolerance_m)
    i, j, a, b = i[~same], j[~same], a[~same], b[~same]
    inter = shapely.area(shapely.intersection(a, b))
    area_a, area_b = shapely.area(a), shapely.area(b)
    iou = inter / (area_a + area_b - inter)
    bad = iou < ctx.config.iou_threshold
    i, a, b, iou = i[bad], a[bad], b[bad], iou[bad]
    hausdorff = shapely.hausdorff_distance(a, b)
    parts, index = polygon_parts(shapely.symmetric_difference(a, b))
    diff = regroup(parts, index, len(i))
    note_zh = "（已先消除图层整体偏移）" if ctx.offset else ""
    note_en = " (after removing the layer offset)" if ctx.offset else ""
    return make_findings(
        "geometry_mismatch",
        ctx.code_lists(i),
        [ctx.text(f"网格 {ctx.codes_arr[k]} 与已发布图形不一致{note_zh}：IoU {q:.3f}，"
                  f"Hausdorff 距离 {fmt_m(h)} 米",
                  f"grid {ctx.codes_arr[k]} differs from the published shape{note_en}: "
                  f"IoU {q:.3f}, Hausdorff distance {fmt_m(h)} m")
         for k, q, h in zip(i, iou, hausdorff)],
        geometry=diff,
        area_m2=shapely.area(diff),
        iou=np.round(iou, 4),
        hausdorff_m=np.round(hausdorff, 2),
    )


def attribute_mismatch(ctx: Context) -> pd.DataFrame:
    """Grids matched by code whose name or community code differs from the published one."""
    ctx.require_reference()
    i, j = ctx.matched
    columns = [c for c in ("grid_name", "community_code") if c in ctx.reference.columns]
    mine = {c: text_column(ctx.grids[c])[i] for c in columns}
    theirs = {c: text_column(ctx.reference[c])[j] for c in columns}
    differs = {c: mine[c] != theirs[c] for c in columns}
    hit = np.flatnonzero(np.any([differs[c] for c in columns], axis=0)) if columns else i[:0]
    label = {"grid_name": ("网格名称", "name"),
             "community_code": ("所属社区编码", "community code")}

    def message(k: int) -> str:
        wrong = [c for c in columns if differs[c][k]]
        zh = "；".join(f"{label[c][0]}为 {mine[c][k]!r}，已发布为 {theirs[c][k]!r}" for c in wrong)
        en = "; ".join(f"{label[c][1]} {mine[c][k]!r}, published {theirs[c][k]!r}" for c in wrong)
        code = ctx.codes_arr[i[k]]
        return ctx.text(f"网格 {code} 属性与已发布图层不一致：{zh}",
                        f"grid {code} attributes differ from the published layer: {en}")

    return make_findings(
        "attribute_mismatch",
        ctx.code_lists(i[hit]),
        [message(k) for k in hit],
        geometry=ctx.geoms[i[hit]],
        area_m2=ctx.area[i[hit]],
    )


RULES = {
    "not_published": not_published,
    "missing_from_layer": missing_from_layer,
    "geometry_mismatch": geometry_mismatch,
    "attribute_mismatch": attribute_mismatch,
    "layer_offset": layer_offset,
}

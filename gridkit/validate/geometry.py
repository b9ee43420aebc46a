"""Geometry rules: ``invalid_geometry``, ``empty_geometry``, ``multipart``; and the repair.

Invalid geometries never stop a run: they are reported with the reason GEOS
gives (``shapely.is_valid_reason``) and replaced by the polygonal part of
``shapely.make_valid`` for every other rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from gridkit.validate.base import Context, make_findings, polygon_parts, regroup

__all__ = ["RULES", "geometry_findings", "multipart", "non_finite", "repair"]

_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


def repair(geoms: np.ndarray, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Valid polygonal geometries for the other rules, and the mask of those that were repaired.

    Invalid polygons go through ``make_valid(method="structure")``; collections
    keep their polygons; anything without area, and any geometry with a NaN or
    infinite coordinate (nothing sensible can be made of it), becomes ``None``.
    ``valid``: ``shapely.is_valid(geoms)`` when the caller has it already.

    Examples
    --------
    >>> bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> fixed, repaired = repair(np.array([bowtie, shapely.box(0, 0, 1, 1)]))
    >>> fixed[0].geom_type, round(fixed[0].area, 3), repaired.tolist()
    ('MultiPolygon', 2.0, [True, False])
    """
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    polygonal = np.isin(shapely.get_type_id(geoms), _POLYGONAL)
    valid = shapely.is_valid(geoms) if valid is None else valid
    suspect = present & ~(polygonal & valid)
    endless = non_finite(geoms, where=suspect)  # a valid polygon has finite coordinates
    broken = suspect & ~endless
    out = np.where(present & ~endless, geoms, None)
    if broken.any():
        fixed = shapely.make_valid(geoms[broken], method="structure", keep_collapsed=False)
        parts, index = polygon_parts(fixed)
        merged = regroup(parts, index, len(fixed))
        single = shapely.get_num_geometries(merged) == 1
        merged[single] = shapely.get_geometry(merged[single], 0)
        out[broken] = merged
    return out, broken


def non_finite(geoms: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
    """Mask of geometries with a NaN or infinite coordinate.

    Only the geometries ``where`` is true are looked at (the others count as
    finite): GEOS finds every valid polygon's coordinates finite
    (``is_valid`` reports an "Invalid Coordinate" otherwise), so callers
    that know which polygons are valid need not read all the coordinates.

    >>> non_finite(np.array([shapely.box(0, 0, 1, 1), shapely.Point(float("nan"), 0), None]))
    array([False,  True, False])
    """
    rows = np.arange(len(geoms)) if where is None else np.flatnonzero(where)
    coords, index = shapely.get_coordinates(geoms[rows], return_index=True)
    out = np.zeros(len(geoms), bool)
    out[rows[index[~np.isfinite(coords).all(axis=1)]]] = True
    return out


def geometry_findings(ctx: Context, original: np.ndarray,
                      valid: np.ndarray | None = None) -> pd.DataFrame:
    """``invalid_geometry`` and ``empty_geometry`` findings for the geometries as delivered.

    ``original`` is the grid geometry before :func:`repair` (metric CRS);
    ``valid`` its ``shapely.is_valid`` when the caller has it already. The
    finding geometry of an invalid grid is the grid as delivered; its message
    carries the GEOS reason and where it is.
    """
    missing = shapely.is_missing(original) | shapely.is_empty(original)
    kind = shapely.get_type_id(original)
    wrong_type = ~missing & ~np.isin(kind, _POLYGONAL)
    valid = shapely.is_valid(original) if valid is None else valid
    invalid = ~missing & ~wrong_type & ~valid
    reasons = shapely.is_valid_reason(original[invalid])
    rows = np.flatnonzero(invalid)
    kept = ctx.usable[rows]
    crs = ctx.grids.crs.to_string()
    endless = non_finite(original, where=invalid | wrong_type)
    invalid_msgs = [
        ctx.text(f"网格 {ctx.label(i)} 含非有限坐标（NaN 或无穷大），其他规则不检查它",
                 f"grid {ctx.label(i)} has non-finite coordinates (NaN or infinite); "
                 "the other rules skip it")
        if endless[i] else ctx.text(
            f"网格 {ctx.label(i)} 几何无效（GEOS：{reason}，坐标系 {crs}）；"
            + ("其他规则使用 make_valid 修复后的几何" if ok else "修复后无面积，其他规则不检查它"),
            f"grid {ctx.label(i)} has an invalid geometry (GEOS: {reason}, coordinates in {crs}); "
            + ("the other rules use it as repaired by make_valid" if ok
               else "nothing with area is left after repair; the other rules skip it"),
        )
        for i, reason, ok in zip(rows, reasons, kept)
    ]
    types = shapely.get_type_id(original[wrong_type])
    type_rows = np.flatnonzero(wrong_type)
    type_msgs = [
        ctx.text(
            f"网格 {ctx.label(i)} 的几何类型是 {shapely.GeometryType(t).name}，不是面"
            + ("；其他规则只使用其中的面" if ok else "；其他规则不检查它"),
            f"grid {ctx.label(i)} is a {shapely.GeometryType(t).name}, not a polygon"
            + ("; the other rules use its polygons" if ok else "; the other rules skip it"),
        )
        for i, t, ok in zip(type_rows, types, ctx.usable[type_rows])
    ]
    bad = np.r_[rows, type_rows]
    shown = np.where(endless[bad], None, original[bad])  # a NaN vertex cannot be drawn
    empty = np.flatnonzero(missing)
    return pd.concat(
        [
            make_findings(
                "invalid_geometry",
                ctx.code_lists(bad),
                invalid_msgs + type_msgs,
                geometry=shown,
            ),
            make_findings(
                "empty_geometry",
                ctx.code_lists(empty),
                [ctx.text(f"网格 {ctx.label(i)} 没有几何（空或缺失）",
                          f"grid {ctx.label(i)} has no geometry (empty or missing)")
                 for i in empty],
            ),
        ],
        ignore_index=True,
    )


def multipart(ctx: Context) -> pd.DataFrame:
    """Grids made of several separate polygons (after repair)."""
    parts = shapely.get_num_geometries(ctx.geoms)
    rows = np.flatnonzero(ctx.usable & (parts > 1))
    return make_findings(
        "multipart",
        ctx.code_lists(rows),
        [ctx.text(f"网格 {ctx.label(i)} 由 {parts[i]} 个分离的面组成",
                  f"grid {ctx.label(i)} consists of {parts[i]} separate polygons") for i in rows],
        geometry=ctx.geoms[rows],
        area_m2=ctx.area[rows],
    )


RULES = {"multipart": multipart}

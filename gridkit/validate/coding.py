"""Coding rules (编码): format, duplicates, community by location, official list, serial order.

A grid code is the 12-digit code of its community and a 3-digit serial
(``code_pattern`` in the rules file for another layout).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from gridkit.validate.base import (
    Context,
    Skipped,
    group_codes,
    isin,
    make_findings,
    polygon_parts,
    regroup,
    text_column,
)
from gridkit.validate.config import COMMUNITY_CODE_LENGTH
from gridkit.validate.serial import reading_order_breaks

__all__ = ["RULES", "code_community_mismatch", "code_duplicate", "code_format",
    "code_serial_order", "code_unknown_community"]


def code_format(ctx: Context) -> pd.DataFrame:
    """Codes that do not match ``code_pattern`` (empty codes are ``missing_attribute``)."""
    rows = np.flatnonzero((ctx.codes_arr != "") & ~ctx.code_match["ok"].to_numpy())
    return make_findings(
        "code_format",
        ctx.code_lists(rows),
        [ctx.text(f"网格编码 {ctx.codes_arr[i]!r} 格式不符（应为 12 位社区编码 + 3 位序号 001–999，"
                  f"规则 {ctx.config.code_pattern}）",
                  f"grid code {ctx.codes_arr[i]!r} is malformed (expected the 12-digit community "
                  f"code + a 3-digit serial 001-999, pattern {ctx.config.code_pattern})")
         for i in rows],
        geometry=ctx.geoms[rows],
        area_m2=ctx.area[rows],
    )


def code_duplicate(ctx: Context) -> pd.DataFrame:
    """Codes used by more than one grid: one finding per code, with all its grids."""
    codes = pd.Series(ctx.codes_arr)
    dup = np.flatnonzero(codes.duplicated(keep=False).to_numpy() & (ctx.codes_arr != ""))
    dup = dup[ctx.canonical_order(dup)]
    distinct, first, counts = np.unique(ctx.codes_arr[dup].astype(str), return_index=True,
                                        return_counts=True)
    group = np.repeat(np.arange(len(distinct)), counts)
    parts, index = shapely.get_parts(ctx.geoms[dup], return_index=True)
    geometry = regroup(parts, group[index], len(distinct))
    rows_of = [np.sort(r) for r in np.split(dup + 1, first[1:])]
    return make_findings(
        "code_duplicate",
        [[c] for c in distinct],
        [ctx.text(f"网格编码 {c} 被 {len(r)} 个网格使用（第 {ctx.join(map(str, r))} 行）",
                  f"grid code {c} is used by {len(r)} grids (rows {ctx.join(map(str, r))})")
         for c, r in zip(distinct, rows_of)],
        geometry=geometry,
        area_m2=shapely.area(geometry),
    )


def code_community_mismatch(ctx: Context) -> pd.DataFrame:
    """The community in the code is not the grid's community.

    Two checks, reported as one finding per grid: the ``community_code``
    column disagrees with the code's community part; and, with a communities
    layer, most of the grid's area lies in another community than the one its
    code names (by location).
    """
    n = len(ctx.grids)
    column = text_column(ctx.grids["community_code"])
    ok = ctx.code_match["ok"].to_numpy()
    prefix = ctx.code_match["community"].to_numpy()
    by_column = ok & (column != "") & (column != prefix)
    by_place = np.zeros(n, bool)
    if ctx.communities is not None:
        loc, named = ctx.location, ctx.named
        by_place = ctx.usable & (named != "") & (loc.majority != "") & (loc.majority != named)
    rows = np.flatnonzero(by_column | by_place)

    def message(i: int) -> str:
        zh, en = [], []
        if by_column[i]:
            zh.append(f"所属社区编码字段为 {column[i]}")
            en.append(f"the community_code column says {column[i]}")
        if by_place[i]:
            share, where = f"{ctx.location.share[i]:.0%}", ctx.location.majority[i]
            zh.append(f"其 {share} 的面积位于社区 {where}")
            en.append(f"{share} of its area lies in community {where}")
        return ctx.text(f"网格 {ctx.label(i)} 的编码指向社区 {ctx.named[i]}，但" + "；".join(zh),
                        f"grid {ctx.label(i)}: the code names community {ctx.named[i]} but "
                        + " and ".join(en))

    return make_findings(
        "code_community_mismatch",
        ctx.code_lists(rows),
        [message(i) for i in rows],
        geometry=ctx.geoms[rows],
        area_m2=ctx.area[rows],
    )


def code_unknown_community(ctx: Context) -> pd.DataFrame:
    """Codes whose community part is not a community of the official code list.

    Communities of the list are its rows of level ``community`` and its
    12-digit codes (the national scheme), so a list for another scheme works
    when it labels its community rows.
    """
    if ctx.codes is None:
        raise Skipped(ctx.text("未提供官方区划代码表（--codes）",
                               "no official code list (--codes)"))
    match = ctx.code_match
    ok = match["ok"].to_numpy()
    prefix = match["community"].to_numpy()
    # The list may hold the whole country: only its rows naming a prefix of this layer are
    # looked at (hashing the few prefixes, not the list), the whole list only when none is.
    known = _communities(ctx.codes[ctx.codes["code"].isin(pd.unique(prefix[ok]))])
    if not len(known):
        lengths = set(_communities(ctx.codes).str.len())
        if not any(len(p) in lengths for p in prefix[ok]):
            # Another code scheme (code_pattern) against a list of statistical codes.
            raise Skipped(ctx.text(
                "代码表中没有与本图层社区编码同一格式的编码（请用 --codes 提供）",
                "the code list has no community code of this layer's scheme (pass --codes)"))
    rows = np.flatnonzero(ok & ~isin(prefix, known))
    return make_findings(
        "code_unknown_community",
        ctx.code_lists(rows),
        [ctx.text(f"网格 {ctx.label(i)} 的社区编码 {prefix[i]} 不在官方区划代码表中",
                  f"grid {ctx.label(i)}: community code {prefix[i]} is not in the official "
                  "code list")
         for i in rows],
        geometry=ctx.geoms[rows],
        area_m2=ctx.area[rows],
    )


def code_serial_order(ctx: Context) -> pd.DataFrame:
    """Communities whose serials contradict reading order (west→east, north→south).

    The definition is :func:`gridkit.validate.serial.reading_order_breaks`: a
    community passes when its serials are the reading order of its grid
    centroids for some row height between 0.5× and 2× its median grid side
    (rows counted from the northernmost centroid; grids less than 0.1 × the
    side apart east-west count as level). Example, 100 m grids with centroids
    A (50, 150), B (150, 130), C (50, 50), D (150, 40): A B C D and A C B D
    pass (rows one or two grids high), B A C D is flagged naming A.

    One finding per flagged community, naming the fewest grids whose serials
    must move.
    """
    match = ctx.code_match
    serial = pd.to_numeric(pd.Series(match["serial"]), errors="coerce").to_numpy()
    rows = np.flatnonzero(match["ok"].to_numpy() & ctx.usable & ~np.isnan(serial))
    community = match["community"].to_numpy()[rows].astype(str)
    centre = ctx.centres[rows]
    side = np.sqrt(pd.Series(ctx.area[rows]).groupby(community).transform("median").to_numpy())
    wrong = np.flatnonzero(reading_order_breaks(shapely.get_x(centre), shapely.get_y(centre),
                                                side, serial[rows], community))
    wrong = wrong[ctx.canonical_order(rows[wrong])]
    bad, finding = np.unique(community[wrong], return_inverse=True)
    codes = group_codes(ctx.codes_arr[rows[wrong]], finding, len(bad))
    parts, index = polygon_parts(ctx.geoms[rows[wrong]])
    return make_findings(
        "code_serial_order",
        codes,
        [ctx.text(f"社区 {c} 的网格序号与自西向东、自北向南的顺序矛盾，需调整：{ctx.join(g)}",
                  f"community {c}: serials contradict west-to-east, north-to-south order; "
                  f"to renumber: {ctx.join(g)}")
         for c, g in zip(bad, codes)],
        geometry=regroup(parts, finding[index], len(bad)),
    )


def _communities(codes: pd.DataFrame) -> pd.Series:
    """The community codes of a code list: rows of level ``community`` and 12-digit codes."""
    listed = codes["code"]
    community_level = codes["level"].astype(str).str.strip().str.lower() == "community"
    return listed[community_level | (listed.str.len() == COMMUNITY_CODE_LENGTH)]


RULES = {
    "code_format": code_format,
    "code_duplicate": code_duplicate,
    "code_community_mismatch": code_community_mismatch,
    "code_unknown_community": code_unknown_community,
    "code_serial_order": code_serial_order,
}

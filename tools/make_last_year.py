"""Derive ``last-year.gpkg``, the sample's layer of the year before, from ``grids.gpkg``.

``gridkit diff last-year.gpkg grids.gpkg`` (and the report's 网格调整 section)
then finds known changes: this year's layer is last year's with grids split,
merged, recoded, reshaped, added, removed and one pair redrawn. The grids
edited are chosen by code among clean ones (none named by ``truth.json``), a
grid and its neighbours used at most once; the rest is copied as is, so the
file is the same on every run. A maintainer's tool, not part of the package (it
is not installed); run it from the checkout::

    python tools/make_last_year.py                     # gridkit/data/sample/last-year.gpkg
    python tools/make_last_year.py --out /tmp/ly.gpkg  # anywhere else

Last year's layer, in this year's terms (the inverse of each change):

- split: two neighbours of one community were one grid (the first code);
- merged: one grid was two halves (its code and serial 9xx of its community);
- recoded: a grid had serial 95x of its community;
- reshaped: a grid was only its western half;
- added: a grid was not there;
- removed: a grid west of the layer no longer exists;
- redrawn: two neighbours were cut the other way (north and south halves).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["main"]

#: The packaged sample the layer is derived from and written to.
SAMPLE = Path(__file__).resolve().parent.parent / "gridkit" / "data" / "sample"
METRIC = "EPSG:4547"
#: How many of each change to make.
COUNTS = {"split": 3, "merged": 2, "recoded": 2, "reshaped": 2, "added": 2, "redrawn": 1}
#: A shared border this long (metres) makes two grids neighbours.
MIN_BORDER_M = 50.0


def _half(geom: shapely.Geometry, side: str) -> shapely.Geometry:
    """The part of ``geom`` west/east/south/north of its centroid."""
    x0, y0, x1, y1 = geom.bounds
    c = geom.centroid
    boxes = {"west": (x0 - 1, y0 - 1, c.x, y1 + 1), "east": (c.x, y0 - 1, x1 + 1, y1 + 1),
             "south": (x0 - 1, y0 - 1, x1 + 1, c.y), "north": (x0 - 1, c.y, x1 + 1, y1 + 1)}
    return shapely.intersection(geom, shapely.box(*boxes[side]))


def _back(geom: shapely.Geometry, crs: object) -> shapely.Geometry:
    """A metric geometry in the layer's CRS."""
    return gpd.GeoSeries([geom], crs=METRIC).to_crs(crs).iloc[0]


def main(out: str | Path = SAMPLE / "last-year.gpkg") -> Path:
    """Write last year's layer to ``out`` (default: the sample's ``last-year.gpkg``)."""
    grids = gpd.read_file(SAMPLE / "grids.gpkg")
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
    named = {c for d in truth["defects"] for c in d["grid_codes"]}
    metric = grids.to_crs(METRIC)
    geoms = metric.geometry.to_numpy()
    codes = grids["grid_code"].astype(str).to_numpy()
    clean = (shapely.is_valid(geoms) & (shapely.get_type_id(geoms) == 3)
             & ~np.isin(codes, list(named)) & ~pd.Series(codes).duplicated(keep=False).to_numpy()
             & pd.Series(codes).str.fullmatch(r"\d{15}").to_numpy())
    # neighbours: pairs sharing a border of some length, in the same community
    i, j = shapely.STRtree(geoms).query(geoms, predicate="touches")
    border = shapely.length(shapely.intersection(shapely.boundary(geoms[i]),
                                                 shapely.boundary(geoms[j])))
    same = grids["community_code"].to_numpy()[i] == grids["community_code"].to_numpy()[j]
    keep = (i < j) & (border >= MIN_BORDER_M) & same & clean[i] & clean[j]
    neighbours = {n: set(j[i == n]) | set(i[j == n]) for n in range(len(grids))}
    pairs = sorted(zip(i[keep], j[keep]), key=lambda p: (codes[p[0]], codes[p[1]]))
    singles = [n for n in np.argsort(codes, kind="stable") if clean[n]]

    used: set[int] = set()

    def take(*nodes: int) -> bool:
        """Reserve grids and their neighbours so that no two changes touch."""
        if any(n in used for n in nodes):
            return False
        for n in nodes:
            used.update({n, *neighbours[n]})
        return True

    # spread the edits over the layer: every 7th candidate
    chosen_pairs = [p for p in pairs[::7] if take(*p)]
    chosen = [n for n in singles[3::5] if take(n)]
    plan = {"split": chosen_pairs[:3], "redrawn": chosen_pairs[3:4]}
    at = 0
    for kind in ("merged", "recoded", "reshaped", "added"):
        plan[kind], at = chosen[at:at + COUNTS[kind]], at + COUNTS[kind]

    rows = grids.copy()  # the grids not edited keep their very coordinates
    drop: list[int] = []
    extra = []
    for a, b in plan["split"]:
        rows.at[a, "geometry"] = _back(shapely.union(geoms[a], geoms[b]), grids.crs)
        rows.at[a, "households"] = rows.at[a, "households"] + rows.at[b, "households"]
        drop.append(b)
    for n, serial in zip(plan["merged"], (901, 902)):
        rows.at[n, "geometry"] = _back(_half(geoms[n], "west"), grids.crs)
        half = rows.loc[n].copy()
        half["geometry"] = _back(_half(geoms[n], "east"), grids.crs)
        half["grid_code"] = f"{codes[n][:12]}{serial}"
        extra.append(half)
    for n, serial in zip(plan["recoded"], (951, 952)):
        rows.at[n, "grid_code"] = f"{codes[n][:12]}{serial}"
    for n in plan["reshaped"]:
        rows.at[n, "geometry"] = _back(_half(geoms[n], "west"), grids.crs)
    drop += plan["added"]
    for a, b in plan["redrawn"]:
        union = shapely.union(geoms[a], geoms[b])
        rows.at[a, "geometry"] = _back(_half(union, "south"), grids.crs)
        rows.at[b, "geometry"] = _back(_half(union, "north"), grids.crs)
    # removed: a square of 400 m west of the layer, in the westmost grid's community
    west = int(np.nanargmin(np.where(clean, shapely.bounds(geoms)[:, 0], np.nan)))
    x0, y0 = shapely.bounds(geoms[west])[0], geoms[west].centroid.y
    gone = rows.loc[west].copy()
    gone["geometry"] = _back(shapely.box(x0 - 500, y0 - 200, x0 - 100, y0 + 200), grids.crs)
    gone["grid_code"] = f"{codes[west][:12]}999"
    extra.append(gone)

    layer = pd.concat([rows.drop(index=drop), pd.DataFrame(extra)], ignore_index=True)
    layer = gpd.GeoDataFrame(layer, geometry="geometry", crs=grids.crs)
    target = Path(out)
    target.unlink(missing_ok=True)
    layer.to_file(target, driver="GPKG", promote_to_multi=True)
    return target


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=SAMPLE / "last-year.gpkg", type=Path,
                        help="where to write the layer (default: %(default)s)")
    main(parser.parse_args().out)

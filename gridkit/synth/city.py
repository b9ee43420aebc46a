"""The synthetic city, exact at every level.

Grid counts per street and community (apportioned by population), then districts →
streets → communities → grids as exact partitions, with real codes and names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from gridkit.codes import code_names, load_divisions, parent_code, serial_order
from gridkit.data import DISTRICT_OUTLINES, GUANGZHOU_CODES
from gridkit.errors import InputError
from gridkit.synth.common import METRIC_CRS, random_stream
from gridkit.synth.partition import dissolve, partition

__all__ = [
    "City", "DISTRICT_POPULATION", "GRIDS_PER_COMMUNITY", "allocate", "build_city",
    "select_districts", "short_community_name"
]

#: Resident population 2023 (10,000 people) per district: how many grids each gets.
DISTRICT_POPULATION = {
    "440103": 111.5, "440104": 103.9, "440105": 181.9, "440106": 224.2,
    "440111": 374.3, "440112": 129.8, "440113": 282.5, "440114": 170.9,
    "440115": 94.3, "440117": 66.7, "440118": 150.5,
}
#: Mean number of grids per community aimed at when communities are subsetted.
GRIDS_PER_COMMUNITY = 5.0
#: Grid edges get about this many vertices per side-length of a mean grid.
_VERTEX_SPACING = 0.043


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into non-negative integers proportional to ``weights``.

    >>> _apportion(10, np.array([1.0, 1.0, 2.0])).tolist()
    [3, 2, 5]
    """
    w = np.asarray(weights, dtype=float)
    share = total * w / w.sum()
    base = np.floor(share).astype(np.int64)
    order = np.argsort(-(share - base), kind="stable")
    base[order[: total - int(base.sum())]] += 1
    return base


def select_districts(districts: Sequence[str] | None, divisions: pd.DataFrame) -> list[str]:
    """Validate district codes (default: all districts of the code list, in list order).

    >>> select_districts(["440104", "440103"], load_divisions(GUANGZHOU_CODES))
    ['440103', '440104']
    """
    known = divisions.loc[divisions["level"] == "district", "code"].tolist()
    if districts is None:
        return known
    wanted = [str(c).strip() for c in districts if str(c).strip()]
    unknown = [c for c in wanted if c not in known]
    if unknown or not wanted:
        raise InputError(
            f"unknown district code(s) {', '.join(unknown) or '(none given)'}",
            hint=f"{{option}} takes codes among {', '.join(known)}", option=("districts", None))
    return [c for c in known if c in wanted]


def allocate(n_grids: int, district_codes: Sequence[str], divisions: pd.DataFrame,
             rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Decide how many grids each street and which communities get.

    Districts get grids in proportion to their population (all streets at
    least one), streets in proportion to their number of real communities.
    When there are fewer grids than about ``GRIDS_PER_COMMUNITY`` × communities,
    each street keeps a random subset of its communities (at least one) so that
    a community has about 3–8 grids.

    Returns
    -------
    streets : ``code, name, parent_code, grids, communities`` (all streets of the districts)
    communities : ``code, name, parent_code, grids`` (the communities used), sorted by code.

    Examples
    --------
    >>> s, c = allocate(120, ["440104"], load_divisions(GUANGZHOU_CODES), np.random.default_rng(0))
    >>> int(s["grids"].sum()), int(c["grids"].sum()), bool((c["grids"] >= 1).all())
    (120, 120, True)
    """
    streets = divisions[(divisions["level"] == "street")
                        & divisions["parent_code"].isin(district_codes)].sort_values("code")
    comms = divisions[(divisions["level"] == "community")
                      & divisions["parent_code"].isin(streets["code"])].sort_values("code")
    if n_grids < len(streets):
        raise InputError(f"{n_grids} grids are fewer than the streets of the districts "
                         f"({len(streets)})", hint=f"give {{option}} at least {len(streets)}",
                         option=("grids", None))
    per_street = comms.groupby("parent_code").size().reindex(streets["code"], fill_value=0)
    if (per_street == 0).any() or n_grids > 999 * len(comms):
        raise InputError(f"{n_grids} grids are too many for these districts",
                         hint=f"give {{option}} at most {999 * len(comms)}", option=("grids", None))
    n_streets = streets.groupby("parent_code").size().reindex(district_codes).to_numpy()
    pop = np.array([DISTRICT_POPULATION.get(c, 100.0) for c in district_codes])
    per_district = n_streets + _apportion(n_grids - len(streets), pop)
    street_grids = np.concatenate([
        1 + _apportion(int(g - n), per_street.loc[grp["code"]].to_numpy())
        for g, n, (_, grp) in zip(per_district, n_streets,
                                  streets.groupby("parent_code", sort=False))
    ]) if len(streets) else np.zeros(0, np.int64)
    streets = streets.assign(grids=street_grids, communities=0)
    used = []
    for i, (code, grids) in enumerate(zip(streets["code"], streets["grids"])):
        options = comms[comms["parent_code"] == code]
        k = int(np.clip(round(grids / GRIDS_PER_COMMUNITY), 1, len(options)))
        pick = options.iloc[np.sort(rng.choice(len(options), size=k, replace=False))]
        used.append(pick.assign(grids=1 + _apportion(int(grids) - k, rng.gamma(4.0, size=k))))
        streets.iloc[i, streets.columns.get_loc("communities")] = k
    communities = pd.concat(used, ignore_index=True)
    if communities["grids"].max() > 999:
        raise InputError("too many grids for the communities of these districts "
                         "(at most 999 each)", hint="give fewer {option}", option=("grids", None))
    return streets.reset_index(drop=True), communities


@dataclass
class City:
    """A synthetic city in the metric CRS (EPSG:4547); codes are ``str``.

    Attributes
    ----------
    districts : ``district_code, district_name, geometry``
    streets : ``street_code, street_name, district_code, geometry``
    communities : ``community_code, community_name, street_code, district_code, geometry``
    grids : the contract columns of ``grids.gpkg`` (see ``docs/architecture.md``)
    divisions : the code list used
    """

    districts: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    divisions: pd.DataFrame = field(repr=False)


def short_community_name(name: str) -> str:
    """Everyday name of a community from its committee name (居委会/村委会 suffix dropped).

    >>> [short_community_name(n) for n in ["学院社区居委会", "沙岗村委会", "锦二村村委会",
    ...                                     "金碧社区居民委员会", "海傍农场生活区"]]
    ['学院社区', '沙岗村', '锦二村', '金碧社区', '海傍农场生活区']
    """
    village = re.match(r"(.+?)村?(?:村民委员会|村委会)$", name)
    if village:
        return village.group(1) + "村"
    urban = re.match(r"(.+?)(?:社区)?(?:居民委员会|居委会|委员会)$", name)
    return urban.group(1) + "社区" if urban else name


def _outlines(district_codes: Sequence[str]) -> gpd.GeoDataFrame:
    """The real district outlines, in the metric CRS, in the order of ``district_codes``."""
    outlines = gpd.read_file(DISTRICT_OUTLINES).to_crs(METRIC_CRS)
    outlines["code"] = outlines["code"].astype(str)
    return outlines.set_index("code").loc[list(district_codes)].reset_index()


def _spacing(areas: np.ndarray, grids: np.ndarray) -> np.ndarray:
    """Vertex spacing of new edges: a fraction of the side of the mean grid."""
    return _VERTEX_SPACING * np.sqrt(np.asarray(areas) / np.maximum(grids, 1))


def _outline_linework(outlines: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    """District boundaries as unique lines, each densified at the finer adjacent spacing."""
    lines = shapely.get_parts(shapely.line_merge(shapely.union_all(shapely.boundary(outlines))))
    mid = shapely.line_interpolate_point(lines, 0.5, normalized=True)
    line_no, district = STRtree(outlines).query(mid, predicate="dwithin", distance=1.0)
    finest = pd.Series(spacing[district]).groupby(line_no).min()
    step = finest.reindex(np.arange(len(lines))).fillna(spacing.min()).to_numpy()
    return shapely.segmentize(lines, step)


def _codes_by_position(children: np.ndarray, pidx: np.ndarray,
                       codes: pd.DataFrame) -> np.ndarray:
    """Give each child the code of its rank: codes sorted per parent, children in reading order.

    ``codes`` has ``parent_no`` (the parent's position) and ``code``, sorted by both.
    """
    rank = serial_order(children, pidx.astype(str))
    start = np.searchsorted(codes["parent_no"].to_numpy(), pidx)
    return codes["code"].to_numpy()[start + rank - 1]


def _level(parents: gpd.GeoDataFrame, parent_codes: np.ndarray, child_codes: pd.DataFrame,
           grids: np.ndarray, base: np.ndarray, rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray]:
    """Split ``parents`` into the children listed in ``child_codes`` (``code, parent_code``).

    Returns the child geometries and their codes, in reading order of codes.
    """
    geoms = np.asarray(parents.geometry.values, dtype=object)
    position = pd.Series(np.arange(len(parent_codes)), index=parent_codes)
    table = child_codes.assign(parent_no=position.loc[child_codes["parent_code"]].to_numpy())
    table = table.sort_values(["parent_no", "code"])
    counts = table.groupby("parent_no").size().reindex(position.to_numpy(), fill_value=0)
    spacing = _spacing(shapely.area(geoms), grids)
    children, pidx = partition(geoms, counts.to_numpy(), spacing, base, rng)
    return children, _codes_by_position(children, pidx, table)


def _dissolve_by(gdf: gpd.GeoDataFrame, key: str, columns: list[str]) -> gpd.GeoDataFrame:
    """Coverage-union ``gdf`` by ``key`` (first value of the other ``columns``)."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    groups, label = np.unique(gdf[key].to_numpy(dtype=str), return_inverse=True)
    first = gdf.groupby(key, sort=True)[columns].first().reindex(groups)
    return gpd.GeoDataFrame(first.reset_index(), geometry=dissolve(geoms, label, len(groups)),
                            crs=gdf.crs)


def _grid_attributes(grids: gpd.GeoDataFrame, divisions: pd.DataFrame,
                     rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Codes, names, households and population of the grids (``community_code`` set)."""
    names = code_names(divisions)
    serial = serial_order(grids.geometry, grids["community_code"])
    comm = grids["community_code"]
    street = parent_code(comm, "street")
    district = parent_code(comm, "district")
    prefix = (district.map(names) + street.map(names)
              + comm.map(names).map(short_community_name))
    households = np.rint(rng.triangular(150, 380, 800, len(grids))).astype(np.int64)
    population = np.rint(households * rng.uniform(2.6, 3.2, len(grids))).astype(np.int64)
    kind = np.where(rng.random(len(grids)) < 0.03, "专属网格", "综合网格")
    out = gpd.GeoDataFrame({
        "grid_code": comm + pd.Series(serial, index=grids.index).map("{:03d}".format),
        "grid_name": prefix + "第" + pd.Series(serial, index=grids.index).astype(str) + "网格",
        "community_code": comm,
        "street_code": street,
        "district_code": district,
        "grid_type": kind,
        "households": households,
        "population": population,
    }, geometry=grids.geometry.values, crs=grids.crs)
    return out.sort_values("grid_code", ignore_index=True)


def build_city(grids: int = 2000, *, seed: int = 0, districts: Sequence[str] | None = None,
               divisions: pd.DataFrame | None = None) -> City:
    """Build districts → streets → communities → grids (EPSG:4547), all exact partitions.

    Parameters
    ----------
    grids : number of grids (at least the number of streets of the districts).
    seed : random seed; the same seed gives the same city.
    districts : 6-digit district codes (default: all 11 districts).
    divisions : the code list (default: the shipped Guangzhou 2023 list).

    Examples
    --------
    >>> city = build_city(120, seed=1, districts=["440104"])
    >>> city.grids.columns.tolist()[:3]
    ['grid_code', 'grid_name', 'community_code']
    """
    divisions = load_divisions(GUANGZHOU_CODES) if divisions is None else divisions
    codes = select_districts(districts, divisions)
    rng = random_stream(seed, "geometry")
    street_tab, comm_tab = allocate(grids, codes, divisions, rng)
    outlines = _outlines(codes)
    d_geoms = np.asarray(outlines.geometry.values, dtype=object)
    d_grids = street_tab.groupby("parent_code")["grids"].sum().reindex(codes).to_numpy()
    base = _outline_linework(d_geoms, _spacing(shapely.area(d_geoms), d_grids))

    s_geoms, s_codes = _level(outlines, np.array(codes), street_tab[["code", "parent_code"]],
                              d_grids, base, rng)
    streets = gpd.GeoDataFrame({"street_code": s_codes}, geometry=s_geoms, crs=METRIC_CRS)
    streets = streets.sort_values("street_code", ignore_index=True)
    s_grids = street_tab.set_index("code")["grids"].reindex(streets["street_code"]).to_numpy()
    c_geoms, c_codes = _level(streets, streets["street_code"].to_numpy(),
                              comm_tab[["code", "parent_code"]], s_grids,
                              shapely.boundary(np.asarray(streets.geometry.values)), rng)
    comms = gpd.GeoDataFrame({"community_code": c_codes}, geometry=c_geoms, crs=METRIC_CRS)
    comms = comms.sort_values("community_code", ignore_index=True)
    per_comm = comm_tab.set_index("code")["grids"].reindex(comms["community_code"])
    grid_rows = pd.DataFrame({
        "code": [f"{c}{k:03d}" for c, n in per_comm.items() for k in range(1, n + 1)],
        "parent_code": np.repeat(comms["community_code"].to_numpy(), per_comm.to_numpy()),
    })
    g_geoms, g_codes = _level(comms, comms["community_code"].to_numpy(), grid_rows,
                              per_comm.to_numpy(),
                              shapely.boundary(np.asarray(comms.geometry.values)), rng)
    cells = gpd.GeoDataFrame({"community_code": parent_code(pd.Series(g_codes), "community")},
                             geometry=g_geoms, crs=METRIC_CRS)
    grid_gdf = _grid_attributes(cells, divisions, rng)
    return _assemble(grid_gdf, divisions)


def _assemble(grid_gdf: gpd.GeoDataFrame, divisions: pd.DataFrame) -> City:
    """Communities, streets and districts as the unions of the grids (vertex-exact)."""
    names = code_names(divisions)
    comms = _dissolve_by(grid_gdf, "community_code", ["street_code", "district_code"])
    comms.insert(1, "community_name", comms["community_code"].map(names))
    streets = _dissolve_by(comms, "street_code", ["district_code"])
    streets.insert(1, "street_name", streets["street_code"].map(names))
    dists = _dissolve_by(streets, "district_code", [])
    dists.insert(1, "district_name", dists["district_code"].map(names))
    return City(dists, streets, comms, grid_gdf, divisions)

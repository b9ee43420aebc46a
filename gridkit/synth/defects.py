"""Defects of every validation rule id (SPEC §7) injected into a clean city, with their record."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely import STRtree

from gridkit.codes import code_names, parent_code, serial_order
from gridkit.errors import InputError
from gridkit.synth.city import City, short_community_name
from gridkit.synth.common import METRIC_CRS, OUTPUT_CRS, random_stream

__all__ = ["DEFECT_ALSO", "DEFECT_NOTES", "Defected", "bowtie", "inject_defects", "serial_upsets"]

#: Rule ids of SPEC §7 that a validator may also report for a defect's grids.
DEFECT_ALSO: dict[str, list[str]] = {
    "invalid_geometry": ["gap"],
    "empty_geometry": ["area_out_of_range", "geometry_mismatch"],
    "multipart": ["area_out_of_range"],
    "overlap": [],
    "gap": [],
    "outside_community": ["overlap"],
    "sliver": ["area_out_of_range"],
    "area_out_of_range": [],
    "households_out_of_range": [],
    "missing_attribute": [],
    "code_format": [],
    "code_duplicate": ["geometry_mismatch", "attribute_mismatch"],
    "code_community_mismatch": [],
    "code_unknown_community": ["code_community_mismatch"],
    "code_serial_order": [],
    "not_published": [],
    "missing_from_layer": [],
    "geometry_mismatch": [],
    "attribute_mismatch": [],
    "layer_offset": [],
}

DEFECT_NOTES: dict[str, str] = {
    "invalid_geometry": "a bow-tie (self-crossing loop, ~50 m²) inserted at one vertex, inside the "
                        "grid; shared edges untouched; repairing it may leave a tiny hole",
    "empty_geometry": "an extra record with a new serial: geometry NULL or POLYGON EMPTY",
    "multipart": "two non-adjacent grids of one community merged into one MultiPolygon "
                 "under the first grid's code (the second code is gone from both layers)",
    "overlap": "grid buffered 20 m into its neighbours, clipped to its community; findings pair "
               "it with each overlapped neighbour",
    "gap": "grid shrunk by 15 m: an uncovered ring between it and its neighbours",
    "outside_community": "grid extended 30 m across its community boundary; it overlaps grids "
                         "of the other community",
    "sliver": "a 3 m wide strip along an edge split off the grid under a new serial",
    "area_out_of_range": "a ~40 m² half-disc split off the grid under a new serial",
    "households_out_of_range": "households set to 5000",
    "missing_attribute": "grid_name NULL (first) or empty string (second)",
    "code_format": "14-digit code (first) or the letter O in the serial (second)",
    "code_duplicate": "a second, non-adjacent grid of the community carries this code",
    "code_community_mismatch": "the code's 12-digit prefix is a neighbouring community's code; "
                               "community_code still names the true community",
    "code_unknown_community": "the code's prefix is a community (9xx) absent from the code list",
    "code_serial_order": "the first and the last grid of a community (reading order) swapped "
                         "codes and names; one entry per grid",
    "not_published": "grid absent from reference.gpkg",
    "missing_from_layer": "reference.gpkg has an extra, superseded copy of a grid's geometry "
                          "under a code absent from grids.gpkg",
    "geometry_mismatch": "the reference geometry is shifted so that IoU < 0.8",
    "attribute_mismatch": "the reference grid_name differs (old naming style)",
    "layer_offset": "the whole grid layer converted to GCJ-02 but labelled EPSG:4490",
}


def _largest(geom: shapely.Geometry) -> shapely.Geometry | None:
    """The largest polygon of ``geom`` (None when it has no area)."""
    parts = shapely.get_parts(geom)
    parts = parts[shapely.get_type_id(parts) == 3] if len(parts) else parts
    if not len(parts):
        return None
    best = parts[np.argmax(shapely.area(parts))]
    return best if shapely.area(best) > 0 else None


def bowtie(poly: shapely.Polygon, size: float = 6.0) -> shapely.Polygon | None:
    """``poly`` with a small self-crossing loop inserted at a vertex, pointing inwards.

    The ring goes from vertex ``v`` through four points 1–2 × ``size`` metres
    inside the polygon whose segments cross (a bow-tie) and back to ``v``; the
    polygon's outline and area are otherwise unchanged. None when no vertex
    has room.

    Examples
    --------
    >>> from shapely import box
    >>> bad = bowtie(box(0, 0, 100, 100))
    >>> bool(shapely.is_valid(bad)), round(abs(bad.area - 10000)) < 100
    (False, True)
    """
    ring = np.asarray(poly.exterior.coords)[:-1]
    centre = np.asarray(shapely.point_on_surface(poly).coords)[0]
    room = shapely.buffer(poly, -1.0)
    for i in np.argsort(np.hypot(*(ring - centre).T))[:25]:
        v = ring[i]
        d = centre - v
        if not np.hypot(*d):
            continue
        d = d / np.hypot(*d)
        p = np.array([-d[1], d[0]])
        loop = v + np.array([d * size + p * size * 0.7, d * size * 2 - p * size * 0.7,
                             d * size * 2 + p * size * 0.7, d * size - p * size * 0.7])
        if shapely.contains_xy(room, loop[:, 0], loop[:, 1]).all():
            new = np.vstack([ring[: i + 1], loop, ring[i:]])
            return shapely.Polygon(new, [r.coords for r in poly.interiors])
    return None


def _iou(a: shapely.Geometry, b: shapely.Geometry) -> float:
    return float(shapely.area(shapely.intersection(a, b)) / shapely.area(shapely.union(a, b)))


@dataclass
class Defected:
    """A district layer with defects, its published reference layer and the defect list."""

    grids: gpd.GeoDataFrame
    reference: gpd.GeoDataFrame
    defects: list[dict]


class _Injector:
    """Places each defect on grids far from the other defects and applies it."""

    def __init__(self, city: City, rng: np.random.Generator) -> None:
        self.city = city
        self.rng = rng
        self.g = city.grids.copy()
        self.geoms = np.asarray(city.grids.geometry.values, dtype=object)
        self.comm = city.grids["community_code"].to_numpy(dtype=str)
        self.code = city.grids["grid_code"].to_numpy(dtype=str)
        self.names = code_names(city.divisions)
        a, b = STRtree(self.geoms).query(self.geoms, predicate="touches")
        order = np.lexsort((b, a))
        self.nbr_start = np.searchsorted(a[order], np.arange(len(self.geoms) + 1))
        self.nbr = b[order]
        outer = shapely.boundary(shapely.union_all(np.asarray(city.districts.geometry.values)))
        self.interior = ~shapely.intersects(self.geoms, outer)
        self.comm_geom = dict(zip(city.communities["community_code"],
                                  city.communities.geometry.values))
        self.city_area = shapely.union_all(np.asarray(city.districts.geometry.values))
        self.near = np.zeros(len(self.geoms), bool)
        self.ring = np.zeros(len(self.geoms), bool)
        self.block = self.near
        self.used_comms: set[str] = set()
        self.new_rows: list[dict] = []
        self.dropped: list[int] = []
        self.reserved: set[str] = set()
        self.ref_drop: list[str] = []
        self.ref_set: list[tuple[str, str, object]] = []
        self.ref_add: list[dict] = []
        self.defects: list[dict] = []
        self.to_output = Transformer.from_crs(METRIC_CRS, OUTPUT_CRS, always_xy=True).transform

    # ---- bookkeeping

    def neighbours(self, row: int) -> np.ndarray:
        return self.nbr[self.nbr_start[row]:self.nbr_start[row + 1]]

    def _ball(self, rows: Sequence[int], radius: int) -> np.ndarray:
        seen = np.zeros(len(self.geoms), bool)
        seen[list(rows)] = True
        frontier = np.asarray(list(rows))
        for _ in range(radius):
            nxt = np.concatenate([self.neighbours(r) for r in frontier]) if len(frontier) else []
            nxt = np.unique(np.asarray(nxt, dtype=int))
            frontier = nxt[~seen[nxt]]
            seen[frontier] = True
        return seen

    def claim(self, rows: Sequence[int]) -> None:
        self.near |= self._ball(rows, 2)
        self.ring |= self._ball(rows, 1)
        self.used_comms.update(self.comm[list(rows)])

    def record(self, rule: str, codes: list[str]) -> None:
        self.defects.append({"rule": rule, "grid_codes": [str(c) for c in codes],
                             "also": list(DEFECT_ALSO[rule]), "note": DEFECT_NOTES[rule]})

    def place(self, rule: str, build: Callable[[int], list[int] | None],
              wanted: np.ndarray | None = None) -> None:
        """Try ``build`` on candidate grids, strictest separation first; claim what it used.

        Levels: no defect within two neighbour steps and a community without
        defects; then any community; then only not adjacent to a defect grid;
        finally also on the layer's outer border. ``self.block`` marks the
        grids a builder must not touch at the current level.
        """
        wanted = np.ones(len(self.geoms), bool) if wanted is None else wanted
        used = np.isin(self.comm, list(self.used_comms))
        levels = ((self.near, ~used & self.interior), (self.near, self.interior),
                  (self.ring, self.interior), (self.ring, wanted))
        for block, ok in levels:
            self.block = block
            for row in self.rng.permutation(np.flatnonzero(~block & ok & wanted))[:60]:
                claimed = build(int(row))
                if claimed is not None:
                    self.claim(claimed)
                    return
        raise InputError(f"the layer is too small to place a '{rule}' defect apart from the "
                         "others", hint="use more {option} (about 120 for one district, 400 for "
                         "the whole city)", option=("grids", None))

    def set(self, row: int, **values: object) -> None:
        for key, value in values.items():
            self.g.loc[row, key] = value

    def next_code(self, community: str) -> str:
        taken = set(self.g["grid_code"]) | {r["grid_code"] for r in self.new_rows} | self.reserved
        serials = [int(c[12:]) for c in taken
                   if c.startswith(community) and len(c) == 15 and c[12:].isdigit()]
        code = f"{community}{max(serials, default=0) + 1:03d}"
        self.reserved.add(code)
        return code

    def grid_name(self, code: str, style: str = "standard") -> str:
        comm = short_community_name(self.names[code[:12]])
        if style == "old":
            return f"{comm}{int(code[12:])}号网格"
        return f"{self.names[code[:6]]}{self.names[code[:9]]}{comm}第{int(code[12:])}网格"

    def add_row(self, like: int, code: str, geometry: object) -> None:
        row = self.g.loc[like].to_dict()
        households = int(self.rng.integers(150, 801))
        row.update(grid_code=code, grid_name=self.grid_name(code), geometry=geometry,
                   households=households, population=int(round(households * 2.9)))
        self.new_rows.append(row)

    def siblings(self, row: int) -> np.ndarray:
        nb = self.neighbours(row)
        return nb[self.comm[nb] == self.comm[row]]

    def longest_edge(self, row: int, among: np.ndarray) -> tuple[int, shapely.LineString] | None:
        """The neighbour in ``among`` sharing the longest edge with ``row``, and that edge."""
        best = None
        for other in among:
            shared = shapely.line_merge(shapely.intersection(
                shapely.boundary(self.geoms[row]), shapely.boundary(self.geoms[other])))
            for part in shapely.get_parts(shared):
                longer = best is None or part.length > best[1].length
                if shapely.get_type_id(part) == 1 and longer:
                    best = (int(other), part)
        return best

    # ---- division (划分)

    def invalid_geometry(self, row: int) -> list[int] | None:
        bad = bowtie(self.geoms[row])
        if bad is None:
            return None
        self.set(row, geometry=bad)
        self.record("invalid_geometry", [self.code[row]])
        return [row]

    def empty_geometry(self, row: int) -> list[int] | None:
        for geometry in (None, shapely.Polygon()):
            code = self.next_code(self.comm[row])
            self.add_row(row, code, geometry)
            self.record("empty_geometry", [code])
        return [row]

    def multipart(self, row: int) -> list[int] | None:
        mates = np.flatnonzero((self.comm == self.comm[row]) & ~self.block)
        mates = mates[(mates != row) & ~np.isin(mates, self.neighbours(row))]
        if not len(mates):
            return None
        other = int(mates[np.argmin(shapely.distance(self.geoms[mates], self.geoms[row]))])
        self.set(row, geometry=shapely.MultiPolygon([self.geoms[row], self.geoms[other]]))
        self.dropped.append(other)
        self.record("multipart", [self.code[row]])
        return [row, other]

    def overlap(self, row: int) -> list[int] | None:
        sibs = self.siblings(row)
        grown = _largest(shapely.intersection(shapely.buffer(self.geoms[row], 20.0),
                                              self.comm_geom[self.comm[row]]))
        if not len(sibs) or grown is None:
            return None
        if shapely.area(shapely.intersection(grown, self.geoms[sibs])).sum() < 50 \
                or not self.survives(grown):
            return None
        self.set(row, geometry=grown)
        self.record("overlap", [self.code[row]])
        return [row, *sibs.tolist()]

    def gap(self, row: int) -> list[int] | None:
        shrunk = _largest(shapely.buffer(self.geoms[row], -15.0))
        if shrunk is None or shrunk.area < 0.3 * self.geoms[row].area or not self.survives(shrunk):
            return None
        self.set(row, geometry=shrunk)
        self.record("gap", [self.code[row]])
        return [row]

    def outside_community(self, row: int) -> list[int] | None:
        nb = self.neighbours(row)
        if not (self.comm[nb] != self.comm[row]).any():
            return None
        extra = shapely.difference(shapely.buffer(self.geoms[row], 30.0),
                                   self.comm_geom[self.comm[row]])
        if shapely.area(extra) < 200 or shapely.area(shapely.difference(extra,
                                                                        self.city_area)) > 1:
            return None
        grown = _largest(shapely.union(self.geoms[row], extra))
        hit = np.flatnonzero(shapely.area(shapely.intersection(self.geoms, grown)) > 1)
        others = hit[self.comm[hit] != self.comm[row]]
        if self.block[others].any() or not self.survives(grown):
            return None
        self.set(row, geometry=grown)
        self.record("outside_community", [self.code[row]])
        return [row, *others.tolist()]

    def survives(self, *geoms: shapely.Geometry) -> bool:
        """Whether the geometries are valid polygons, also once written in EPSG:4490."""
        out = shapely.transform(np.asarray(geoms, dtype=object), self.to_output, interleaved=False)
        return bool((shapely.get_type_id(np.asarray(geoms, dtype=object)) == 3).all()
                    and shapely.is_valid(np.asarray(geoms, dtype=object)).all()
                    and shapely.is_valid(out).all())

    def _split(self, row: int, cutter: shapely.Geometry, rule: str,
               min_area: float, max_area: float) -> list[int] | None:
        """Split the part of grid ``row`` under ``cutter`` off as a new grid (next serial)."""
        grid = self.geoms[row]
        piece = _largest(shapely.intersection(grid, cutter))
        rest = shapely.difference(grid, cutter)
        if piece is None or not min_area <= piece.area <= max_area \
                or abs(grid.area - rest.area - piece.area) > 0.01 or not self.survives(piece, rest):
            return None
        code = self.next_code(self.comm[row])
        self.set(row, geometry=rest)
        self.add_row(row, code, piece)
        self.record(rule, [code])
        return [row]

    def sliver(self, row: int) -> list[int] | None:
        edge = self.longest_edge(row, self.siblings(row))
        if edge is None or edge[1].length < 120:
            return None
        cutter = shapely.buffer(edge[1], 3.0, cap_style="flat")
        claimed = self._split(row, cutter, "sliver", 200, 1e9)
        return None if claimed is None else [*claimed, edge[0]]

    def area_out_of_range(self, row: int) -> list[int] | None:
        edge = self.longest_edge(row, self.neighbours(row))
        if edge is None or edge[1].length < 40:
            return None
        centre = shapely.line_interpolate_point(edge[1], 0.5, normalized=True)
        claimed = self._split(row, shapely.buffer(centre, 5.0), "area_out_of_range", 20, 80)
        return None if claimed is None else [*claimed, edge[0]]

    # ---- attributes and coding (编码)

    def households_out_of_range(self, row: int) -> list[int] | None:
        self.set(row, households=5000, population=14500)
        self.record("households_out_of_range", [self.code[row]])
        return [row]

    def missing_attribute(self, row: int) -> list[int] | None:
        others = np.flatnonzero((self.comm == self.comm[row]) & ~self.block)
        others = others[(others != row) & ~np.isin(others, self.neighbours(row))]
        if not len(others):
            return None
        for target, value in ((row, None), (int(others[0]), "")):
            self.set(target, grid_name=value)
            self.record("missing_attribute", [self.code[target]])
        return [row, int(others[0])]

    def code_format(self, row: int) -> list[int] | None:
        others = np.flatnonzero((self.comm == self.comm[row]) & ~self.block)
        others = others[(others != row) & ~np.isin(others, self.neighbours(row))]
        if not len(others):
            return None
        other = int(others[0])
        for target, code in ((row, self.code[row][:14]),
                             (other, self.code[other][:12] + "O" + self.code[other][13:])):
            self.set(target, grid_code=code)
            self.record("code_format", [code])
        return [row, other]

    def code_duplicate(self, row: int) -> list[int] | None:
        mates = np.flatnonzero((self.comm == self.comm[row]) & ~self.block)
        mates = mates[(mates != row) & ~np.isin(mates, self.neighbours(row))]
        if not len(mates):
            return None
        other = int(mates[0])
        self.set(other, grid_code=self.code[row])
        self.record("code_duplicate", [self.code[row]])
        return [row, other]

    def code_community_mismatch(self, row: int) -> list[int] | None:
        nb = self.neighbours(row)
        foreign = nb[self.comm[nb] != self.comm[row]]
        if not len(foreign):
            return None
        code = self.next_code(self.comm[foreign[0]])
        self.set(row, grid_code=code)
        self.record("code_community_mismatch", [code])
        self.used_comms.add(self.comm[foreign[0]])
        return [row]

    def code_unknown_community(self, row: int) -> list[int] | None:
        street = self.comm[row][:9]
        fake = next(f"{street}{n}" for n in range(999, 900, -1) if f"{street}{n}" not in self.names)
        code = fake + self.code[row][12:]
        self.set(row, grid_code=code)
        self.record("code_unknown_community", [code])
        return [row]

    def code_serial_order(self, row: int) -> list[int] | None:
        members = np.flatnonzero(self.comm == self.comm[row])
        if len(members) < 4 or self.block[members].any() or self.comm[row] in self.used_comms:
            return None
        first, last = members[0], members[-1]  # rows are sorted by code = reading order
        self.set(int(first), grid_code=self.code[last], grid_name=self.g.loc[last, "grid_name"])
        self.set(int(last), grid_code=self.code[first], grid_name=self.g.loc[first, "grid_name"])
        for target in (first, last):
            self.record("code_serial_order", [self.code[target]])
        return [int(first), int(last)]

    # ---- publication (上图)

    def not_published(self, row: int) -> list[int] | None:
        self.ref_drop.append(self.code[row])
        self.record("not_published", [self.code[row]])
        return [row]

    def missing_from_layer(self, row: int) -> list[int] | None:
        code = self.next_code(self.comm[row])
        self.ref_add.append({"grid_code": code, "grid_name": self.grid_name(code),
                             "community_code": self.comm[row], "geometry": self.geoms[row]})
        self.record("missing_from_layer", [code])
        return [row]

    def geometry_mismatch(self, row: int) -> list[int] | None:
        geom = self.geoms[row]
        shift = 0.35 * np.sqrt(geom.area)
        moved = shapely.affinity.translate(geom, shift, shift / 3)
        while _iou(geom, moved) >= 0.8:
            shift *= 1.5
            moved = shapely.affinity.translate(geom, shift, shift / 3)
        self.ref_set.append((self.code[row], "geometry", moved))
        self.record("geometry_mismatch", [self.code[row]])
        return [row]

    def attribute_mismatch(self, row: int) -> list[int] | None:
        self.ref_set.append((self.code[row], "grid_name", self.grid_name(self.code[row], "old")))
        self.record("attribute_mismatch", [self.code[row]])
        return [row]

    # ---- assembly

    def run(self) -> Defected:
        for rule in ("code_serial_order", "multipart", "outside_community", "overlap", "gap",
                     "sliver", "area_out_of_range", "invalid_geometry", "code_duplicate",
                     "missing_attribute", "code_format", "empty_geometry",
                     "households_out_of_range", "code_community_mismatch",
                     "code_unknown_community", "not_published", "missing_from_layer",
                     "geometry_mismatch", "attribute_mismatch"):
            self.place(rule, getattr(self, rule))
        layer = self.g.drop(index=self.dropped)
        if self.new_rows:
            extra = gpd.GeoDataFrame(self.new_rows, geometry="geometry", crs=self.g.crs)
            layer = pd.concat([layer, extra.astype(layer.dtypes.to_dict())], ignore_index=True)
        layer = layer.sort_values("grid_code", kind="stable", ignore_index=True)
        reference = self._reference(layer)
        self._serial_also(layer)
        return Defected(layer, reference, self.defects)

    def _reference(self, layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        ref = layer[["grid_code", "grid_name", "community_code", "geometry"]].copy()
        ref = ref[~ref["grid_code"].isin(self.ref_drop)]
        for code, column, value in self.ref_set:
            ref.loc[ref["grid_code"] == code, column] = value
        if self.ref_add:
            ref = pd.concat([ref, gpd.GeoDataFrame(self.ref_add, geometry="geometry",
                                                   crs=ref.crs)], ignore_index=True)
        return ref.sort_values("grid_code", kind="stable", ignore_index=True)

    def _serial_also(self, layer: gpd.GeoDataFrame) -> None:
        """Note ``code_serial_order`` on defects whose community's numbering they upset."""
        upset = set(serial_upsets(layer))
        for defect in self.defects:
            comms = {c[:12] for c in defect["grid_codes"]}
            if defect["rule"] != "code_serial_order" and comms & upset:
                defect["also"] = sorted({*defect["also"], "code_serial_order"})


def serial_upsets(layer: gpd.GeoDataFrame) -> list[str]:
    """Communities (12-digit prefixes) whose well-formed codes break :func:`serial_order`.

    ``layer`` is in a metric CRS with ``grid_code`` and geometry.

    Examples
    --------
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"grid_code": ["440104001001002", "440104001001001"]},
    ...                      geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)])
    >>> serial_upsets(g)
    ['440104001001']
    """
    ok = layer["grid_code"].str.fullmatch(r"\d{15}").fillna(False).to_numpy(dtype=bool)
    sub = layer[ok]
    prefix = parent_code(sub["grid_code"], "community")
    expected = serial_order(sub.geometry, prefix)
    actual = sub["grid_code"].groupby(prefix.to_numpy()).rank(method="first").to_numpy()
    placed = expected > 0
    bad = prefix.to_numpy()[placed & (expected != actual)]
    return sorted(set(bad))


def inject_defects(city: City, seed: int = 0) -> Defected:
    """Inject one defect (or a pair) of every validation rule id into a copy of ``city``.

    Defects sit on interior grids, as far from each other as the layer allows
    (no shared neighbours, different communities when possible). Each defect
    is ``{"rule", "grid_codes", "also", "note"}``: a validator should report a
    finding of ``rule`` whose grid codes contain ``grid_codes``; ``also`` lists
    other rules it may legitimately report for these grids.
    ``layer_offset`` is added by :func:`synthesize` (it is a separate file).

    Examples
    --------
    >>> from gridkit.synth import build_city
    >>> city = build_city(300, seed=1, districts=["440104"])
    >>> bad = inject_defects(city, seed=1)
    >>> sorted({d["rule"] for d in bad.defects})[:3]
    ['area_out_of_range', 'attribute_mismatch', 'code_community_mismatch']
    """
    return _Injector(city, random_stream(seed, "defects")).run()

"""``validate()``: run every rule on a grid layer and collect the findings.

JSON schema of :meth:`ValidationResult.to_dict` (SPEC §7, stable)::

    {"grids": 20000,                      # grids in the layer
     "errors": 31, "warnings": 4,         # findings by severity
     "by_rule": {"overlap": 12, ...},     # every rule that ran, 0 when nothing found
     "findings": [
        {"rule": "overlap", "severity": "error",
         "grid_codes": ["440104001001001", "440104001001002"],   # sorted; [] for layer_offset
         "area_m2": 12.3,                 # area of the finding's polygon, null when not areal
         "message": "…",                  # plain text, --lang
         "wkt": "POLYGON ((…))",          # EPSG:4490 lon/lat, 7 decimals; null when none
         # geometry_mismatch only: IoU with the published grid, Hausdorff distance (m)
         "iou": 0.82, "hausdorff_m": 35.2,
         # layer_offset only: median shift (m, east/north, layer minus reference) and the
         # --crs value that fixes it ("gcj02", "bd09"; null when neither explains it)
         "shift_m": 615.0, "dx_m": 540.1, "dy_m": -295.3, "offset_crs": "gcj02"}],
     "repaired_geometries": 2,            # invalid grids repaired with make_valid
     "skipped": {"outside_community": "no communities layer (--communities)"},
     "notes": ["…"],                      # what was assumed or corrected
     "metric_crs": "EPSG:4547"}

Findings are ordered by rule (SPEC §7 order), then grid codes, then position.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridkit.codes import load_divisions
from gridkit.crs import (
    CGCS2000,
    DEFAULT_METRIC_CRS,
    layer_centre,
    metric_crs_for,
    metric_crs_warning,
)
from gridkit.errors import InputError
from gridkit.i18n import pick
from gridkit.io.columns import require_columns
from gridkit.io.findings import write_findings
from gridkit.rollup import layer_codes
from gridkit.validate import coding, division, geometry, publication
from gridkit.validate.base import Context, Skipped, make_findings, text_column
from gridkit.validate.config import DEFAULT_CODE_PATTERN, RULES, RuleConfig

__all__ = ["COLUMNS", "EXTRA_KEYS", "RULE_EXTRAS", "validate", "ValidationResult"]

#: Per-finding keys beyond the SPEC's, present in the findings of these rules only.
RULE_EXTRAS = {
    "geometry_mismatch": ("iou", "hausdorff_m"),
    "layer_offset": ("shift_m", "dx_m", "dy_m", "offset_crs"),
}
EXTRA_KEYS = tuple(k for keys in RULE_EXTRAS.values() for k in keys)
COLUMNS = ("rule", "severity", "grid_codes", "area_m2", "message", *EXTRA_KEYS)

_RULE_FUNCTIONS: dict[str, Callable[[Context], pd.DataFrame]] = {
    **geometry.RULES, **division.RULES, **coding.RULES, **publication.RULES,
}
_GEOMETRY_RULES = ("invalid_geometry", "empty_geometry")


@dataclass
class ValidationResult:
    """Findings of :func:`validate` (GeoDataFrame in the metric CRS) and what the run did.

    Attributes
    ----------
    findings : columns ``rule``, ``severity``, ``grid_codes`` (list of str),
        ``area_m2``, ``message``, the extra keys (``iou``, ...) and geometry.
    grids : number of grids in the layer.
    rules : rules that ran, in SPEC order.
    skipped : rule → why it did not run (in the user's language).
    notes : what was assumed or corrected (repairs, layer offset, code list).
    repaired : number of grid geometries repaired with ``make_valid``.
    """

    findings: gpd.GeoDataFrame
    grids: int
    rules: tuple[str, ...]
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    repaired: int = 0

    @property
    def errors(self) -> int:
        """Number of findings of severity ``error``."""
        return int((self.findings["severity"] == "error").sum())

    @property
    def warnings(self) -> int:
        """Number of findings of severity ``warning``."""
        return int((self.findings["severity"] == "warning").sum())

    @property
    def by_rule(self) -> dict[str, int]:
        """Findings per rule that ran (0 when nothing was found), in SPEC order."""
        counts = self.findings["rule"].value_counts()
        return {rule: int(counts.get(rule, 0)) for rule in self.rules}

    @property
    def exit_code(self) -> int:
        """0 when no errors were found, 1 otherwise."""
        return 1 if self.errors else 0

    def records(self) -> list[dict[str, Any]]:
        """Findings as JSON-ready dicts (``wkt`` in EPSG:4490 lon/lat, extra keys per rule)."""
        wkt = _wkt(self.findings)
        out = []
        for row, text in zip(self.findings.itertuples(index=False), wkt):
            item = {
                "rule": row.rule,
                "severity": row.severity,
                "grid_codes": list(row.grid_codes),
                "area_m2": None if pd.isna(row.area_m2) else round(float(row.area_m2), 2),
                "message": row.message,
                "wkt": text,
            }
            item.update({k: _plain(getattr(row, k)) for k in RULE_EXTRAS.get(row.rule, ())})
            out.append(item)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (see the module docstring)."""
        return {
            "grids": self.grids,
            "errors": self.errors,
            "warnings": self.warnings,
            "by_rule": self.by_rule,
            "findings": self.records(),
            "repaired_geometries": self.repaired,
            "skipped": dict(self.skipped),
            "notes": list(self.notes),
            "metric_crs": self.findings.crs.to_string(),
        }

    def write_gpkg(self, path: str | os.PathLike, force: bool = False) -> None:
        """Write the findings to a GeoPackage that opens in QGIS (EPSG:4490).

        One layer per rule with findings and a ``summary`` table; see
        :func:`gridkit.io.findings.write_findings`.
        """
        write_findings(self.findings, path, rules=self.rules, by_rule=self.by_rule,
                       skipped=self.skipped, force=force)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value; NaN as ``None``."""
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and np.isnan(value) else value


def _wkt(findings: gpd.GeoDataFrame) -> list[str | None]:
    lonlat = findings.geometry.to_crs(CGCS2000).to_numpy()
    text = shapely.to_wkt(lonlat, rounding_precision=7)
    return [None if t is None else str(t) for t in text]


def _metric(layer: gpd.GeoDataFrame, metric_crs: Any, twins: tuple[gpd.GeoDataFrame, Future]
            | None = None) -> tuple[gpd.GeoDataFrame, np.ndarray, int, np.ndarray]:
    """The layer in the metric CRS with repaired geometry, its geometry as delivered, repairs
    and the validity of that geometry (``shapely.is_valid``).

    ``twins``: the grid layer and the future of its own ``_metric`` (see :func:`_reproject`).
    """
    _has_crs(layer)
    if twins is None:
        metric, reused, known = layer.to_crs(metric_crs), np.zeros(0, np.intp), np.zeros(0, bool)
    else:
        metric, reused, source = _reproject(layer, metric_crs, *twins)
        known = twins[1].result()[3][source]  # the validity of the grids reused
    original = metric.geometry.to_numpy()
    valid = np.empty(len(original), bool)
    valid[reused] = known
    rest = np.ones(len(original), bool)
    rest[reused] = False
    valid[rest] = shapely.is_valid(original[rest])
    fixed, broken = geometry.repair(original, valid)
    fixed = gpd.GeoSeries(fixed, index=metric.index, crs=metric.crs)
    return metric.set_geometry(fixed), original, int(broken.sum()), valid


def _reproject(layer: gpd.GeoDataFrame, metric_crs: Any, grids: gpd.GeoDataFrame,
               grids_metric: Future) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """The published layer in the metric CRS, reusing the grid layer's reprojection.

    Returns the layer, its rows that reused a grid's geometry and those grids' positions.

    A published layer is mostly the grid layer as delivered: a row whose
    geometry is identical (``equals_identical``: same coordinates bit for bit,
    Z included, same CRS) to that of the grid with its code takes that grid's
    reprojected geometry (``grids_metric``, the future of the grids'
    ``_metric``) instead of projecting the same coordinates again; PROJ
    transforms each coordinate alone, so the result is the same.
    """
    if layer.crs != grids.crs or "grid_code" not in layer.columns:
        return layer.to_crs(metric_crs), np.zeros(0, np.intp), np.zeros(0, np.intp)
    first = pd.Series(np.arange(len(grids)), index=text_column(grids["grid_code"]))
    twin = first[~first.index.duplicated()].reindex(text_column(layer["grid_code"])).to_numpy()
    rows = np.flatnonzero(~np.isnan(twin))
    twin = twin[rows].astype(np.intp)
    geoms = layer.geometry.to_numpy()
    same = shapely.equals_identical(geoms[rows], grids.geometry.to_numpy()[twin])
    out = np.empty(len(geoms), dtype=object)
    rest = np.ones(len(geoms), bool)
    rest[rows[same]] = False
    out[rows[same]] = grids_metric.result()[1][twin[same]]
    out[rest] = layer.geometry[rest].to_crs(metric_crs).to_numpy()
    return (layer.set_geometry(gpd.GeoSeries(out, index=layer.index, crs=metric_crs)),
            rows[same], twin[same])


def _has_crs(layer: gpd.GeoDataFrame) -> None:
    if layer.crs is None:
        raise InputError("the layer has no CRS (coordinate reference system)",
                         path=layer.attrs.get("source_path"), hint="pass {option}",
                         option=("crs", None))


def _default_codes(grids: pd.DataFrame, config: RuleConfig, lang: str
                   ) -> tuple[pd.DataFrame, str]:
    """The packaged national 2023 code list, and the note saying it was used.

    With the national code pattern, only the rows of the layer's units are read
    (``within``: a community is its grid code's first 12 digits), unless none
    of them is a community: the rules then see the whole list, as they would
    (a layer of unknown communities only is told apart by it). Another
    ``code_pattern`` may put the community anywhere in the code: whole list.
    """
    if config.code_pattern != DEFAULT_CODE_PATTERN:
        units = load_divisions()
    else:
        units = load_divisions(within=layer_codes(grids))
        community = units["level"].astype(str).str.strip().str.lower().eq("community")
        units = units if community.any() else load_divisions()
    return units, pick(
        lang,
        zh="未提供 --codes：使用随附的全国 2023 年统计用区划代码表",
        en="no --codes given: used the packaged national 2023 statistical division codes",
    )


def validate(
    grids: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame | None = None,
    reference: gpd.GeoDataFrame | None = None,
    codes: pd.DataFrame | None = None,
    config: RuleConfig | None = None,
    lang: str = "zh",
    *,
    metric_crs: str = DEFAULT_METRIC_CRS,
    progress: Callable[[str], None] | None = None,
) -> ValidationResult:
    """Check a grid layer's division, coding and publication.

    Parameters
    ----------
    grids : the grid layer with the canonical columns (``grid_code``,
        ``grid_name``, ``community_code``; ``households`` optional), any CRS.
    communities : the communities layer (``community_code``), optional:
        gaps are then holes inside communities, and ``outside_community``
        and the location check of ``code_community_mismatch`` run.
    reference : the published layer (``grid_code``, optional ``grid_name``,
        ``community_code``), optional: the publication rules run.
    codes : the official code list (:func:`gridkit.codes.load_divisions`);
        when ``None``, the packaged national 2023 list.
    config : tolerances, bounds and severities (:class:`RuleConfig`).
    lang : ``"zh"`` (default) or ``"en"`` for the messages.
    metric_crs : CRS for areas and distances (metres), or ``auto`` (default):
        the zone of the grid layer's centre (:func:`gridkit.crs.auto_metric_crs`).
    progress : called with each rule id before it runs.

    Returns
    -------
    ValidationResult

    Raises
    ------
    InputError
        A layer without a CRS or without a required column, or a communities
        layer without any polygon that has a community code.

    Examples
    --------
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"grid_code": ["440104001001001", "440104001001002"],
    ...                       "grid_name": ["a", "b"], "community_code": ["440104001001"] * 2},
    ...                      geometry=[box(0, 0, 100, 100), box(90, 0, 190, 100)], crs=4547)
    >>> validate(g, lang="en").by_rule["overlap"]
    1
    """
    config = config or RuleConfig()
    require_columns(grids, dict.fromkeys(
        ("grid_code", "grid_name", "community_code", *config.required_attributes)),
        what="grid layer")
    notes: list[str] = []
    _has_crs(grids)
    # One metric CRS for every layer, chosen from (or checked against) the grid layer.
    centre = layer_centre(grids)
    metric_crs = metric_crs_for(grids, metric_crs, centre=centre)
    warning = metric_crs_warning(grids, metric_crs, lang, centre=centre)
    if warning:
        notes.append(warning)
    # The three layers are reprojected and repaired at once (PROJ and GEOS release
    # the GIL); errors still surface in the order of the checks below.
    pool = ThreadPoolExecutor(3)
    jobs = {name: pool.submit(_metric, layer, metric_crs)
            for name, layer in (("grids", grids), ("communities", communities))
            if layer is not None}
    if reference is not None:
        jobs["reference"] = pool.submit(_metric, reference, metric_crs, (grids, jobs["grids"]))
    pool.shutdown(wait=False)
    # Read while the layers are reprojected (the note comes in its place below).
    codes, codes_note = (codes, None) if codes is not None else _default_codes(grids, config, lang)
    metric, original, repaired, valid = jobs["grids"].result()
    if repaired:
        notes.append(pick(lang, zh=f"{repaired} 个无效几何已用 make_valid 修复后参与其他规则",
                          en=f"{repaired} invalid geometries were repaired with make_valid for "
                             "the other rules"))
    layers: dict[str, gpd.GeoDataFrame | None] = {"communities": None, "reference": None}
    for name, layer, column, title in (
        ("communities", communities, "community_code", "社区"),
        ("reference", reference, "grid_code", "参考"),
    ):
        if layer is None:
            continue
        require_columns(layer, (column,), what=f"{name} layer")
        layers[name], _, count, _ = jobs[name].result()
        if count:
            notes.append(pick(lang, zh=f"{title}图层中 {count} 个无效几何已修复",
                              en=f"{count} invalid geometries of the {name} layer were repaired"))
    comm = layers["communities"]
    if comm is not None:
        source = communities.attrs.get("source_path")
        polygon = (comm.geometry.notna() & ~comm.geometry.is_empty).to_numpy()
        if not polygon.any():
            raise InputError("the communities layer has no polygon", path=source)
        if not (polygon & (text_column(comm["community_code"]) != "")).any():
            raise InputError("no polygon of the communities layer has a community code",
                             path=source, column="community_code")
    if codes_note:
        notes.append(codes_note)
    ctx = Context(metric, config, lang, comm, layers["reference"], codes)
    frames = [geometry.geometry_findings(ctx, original, valid)]
    if ctx.reference is not None:
        offset = publication.find_offset(ctx)
        if offset is not None:
            ctx = Context(publication.undo_offset(metric, offset), config, lang, comm,
                          ctx.reference, codes, offset)
            notes.append(pick(lang, zh="图层存在整体偏移，其他规则在校正后的图层上检查",
                              en="the layer is offset; the other rules ran on the corrected layer"))
    ran, skipped = list(_GEOMETRY_RULES), {}
    for rule, function in _RULE_FUNCTIONS.items():
        if config.severity[rule] == "off":
            continue
        if progress:
            progress(rule)
        try:
            frames.append(function(ctx))
            ran.append(rule)
        except Skipped as why:
            skipped[rule] = str(why)
    rules = tuple(r for r in RULES if r in ran and config.severity[r] != "off")
    findings = _assemble(frames, config, rules, metric.crs)
    return ValidationResult(findings, len(grids), rules, skipped, notes, repaired)


def _assemble(frames: list[pd.DataFrame], config: RuleConfig, rules: tuple[str, ...],
              crs: Any) -> gpd.GeoDataFrame:
    """Concatenate, set severities, drop rules turned off and sort deterministically."""
    frames = [f for f in frames if len(f)] or [make_findings("", [], [])]  # the columns
    table = pd.concat(frames, ignore_index=True)
    table = table[table["rule"].isin(rules)]
    for key in EXTRA_KEYS:
        if key not in table.columns:
            table[key] = None
    table["severity"] = table["rule"].map(config.severity)
    point = _anchor(table["geometry"].to_numpy())
    keys = pd.DataFrame({
        "rule": table["rule"].map({r: k for k, r in enumerate(RULES)}).to_numpy(),
        "codes": table["grid_codes"].map("\x1f".join).to_numpy(),
        "x": point[:, 0], "y": point[:, 1],
        "message": table["message"].to_numpy(),
    })
    order = keys.sort_values(["rule", "codes", "x", "y", "message"], kind="stable",
                             na_position="first").index
    table = table.iloc[order].reset_index(drop=True)
    columns = [*COLUMNS, "geometry"]
    return gpd.GeoDataFrame(table[columns], geometry="geometry", crs=crs)


def _anchor(geoms: np.ndarray) -> np.ndarray:
    """A representative x, y of each geometry (NaN when none), for ordering."""
    out = np.full((len(geoms), 2), np.nan)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if present.any():
        b = shapely.bounds(geoms[present])
        out[present] = np.column_stack([b[:, 0], -b[:, 3]])
    return out

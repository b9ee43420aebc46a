"""Coordinate reference systems: ``--crs`` specs, GCJ-02 / BD-09 ⇄ WGS84, sanity checks.

Chinese web maps publish coordinates in two offset ("encrypted") systems that
PROJ does not know:

- **GCJ-02** (国测局坐标, Amap/Gaode, Tencent, Google China): WGS84 plus a
  smooth, position-dependent shift, applied only inside China's bounding box;
  in Guangzhou about 500–570 m east and 270–340 m south (590–640 m);
- **BD-09** (百度坐标, Baidu): GCJ-02 plus a further shift (1.2–1.3 km from
  WGS84 in Guangzhou).

This module implements the standard public algorithm ("eviltransform" /
"coordtransform") vectorised with numpy, and iterative inverses accurate to
about 0.2 mm. CGCS2000 (EPSG:4490) and WGS84 (EPSG:4326) differ by a few
centimetres and are treated as the same datum, as PROJ does.

Convention for layers (see ``docs/architecture.md``): the loader converts
GCJ-02/BD-09 geometries to WGS84 once (:func:`assign_crs`), labels them
EPSG:4326 and records the user's spec in ``gdf.attrs["source_crs"]``. After
that the geometries always agree with ``gdf.crs``; ``source_crs`` is
informational and never triggers a second conversion.

Modules: :mod:`~gridkit.crs.spec` (``--crs`` values, constants),
:mod:`~gridkit.crs.offsets` (GCJ-02/BD-09 maths), :mod:`~gridkit.crs.layers` (layer CRS
handling) and :mod:`~gridkit.crs.checks` (coordinate sanity checks on arrays).
"""

from __future__ import annotations

from gridkit.crs.checks import (
    CoordinateProblem,
    CoordinateTally,
    check_coordinates,
    coordinate_masks,
    find_coordinate_problem,
    guess_projected_crs,
    majority_problem,
    tally_coordinates,
    valid_coordinate_mask,
)
from gridkit.crs.layers import assign_crs, check_layer_coordinates, to_metric, to_wgs84
from gridkit.crs.metric import (
    AUTO_METRIC_CRS,
    auto_metric_crs,
    layer_centre,
    metric_crs_for,
    metric_crs_warning,
)
from gridkit.crs.offsets import (
    Coords,
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert_coordinates,
    convert_geometries,
    estimate_offset_system,
    expected_offset_m,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from gridkit.crs.spec import (
    CGCS2000,
    DEFAULT_METRIC_CRS,
    NAMED_CRS,
    SYSTEMS,
    WGS84,
    CrsLike,
    CrsSpec,
    parse_crs,
)

__all__ = [
    "AUTO_METRIC_CRS", "auto_metric_crs", "layer_centre", "metric_crs_for", "metric_crs_warning",
    "CGCS2000", "CoordinateProblem", "CoordinateTally", "Coords", "CrsLike", "CrsSpec",
    "DEFAULT_METRIC_CRS", "NAMED_CRS", "SYSTEMS", "WGS84", "assign_crs", "bd09_to_gcj02",
    "bd09_to_wgs84", "check_coordinates", "check_layer_coordinates", "convert_coordinates",
    "coordinate_masks",
    "convert_geometries", "estimate_offset_system", "expected_offset_m",
    "find_coordinate_problem", "gcj02_to_bd09", "gcj02_to_wgs84", "guess_projected_crs",
    "majority_problem", "out_of_china", "parse_crs", "tally_coordinates", "to_metric",
    "to_wgs84", "valid_coordinate_mask", "wgs84_to_bd09", "wgs84_to_gcj02",
]

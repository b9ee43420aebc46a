"""CRS specs: ``--crs`` values parsed into a :class:`CrsSpec`, and the CRS constants."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from numbers import Integral

import pyproj

from gridkit.errors import InputError

__all__ = [
    "ACCEPTED_SPECS", "CGCS2000", "CrsLike", "CrsSpec", "DEFAULT_METRIC_CRS", "NAMED_CRS",
    "SYSTEMS", "WGS84", "parse_crs",
]

#: CGCS2000 geographic (the national datum; within centimetres of WGS84). Outputs in lon/lat
#: (findings, synth layers) use it.
CGCS2000 = "EPSG:4490"
#: WGS84 geographic: what GCJ-02/BD-09 coordinates are converted to.
WGS84 = "EPSG:4326"
#: The metric CRS of areas and distances by default: CGCS2000 3-degree Gauss-Kruger
#: CM 114E (Guangzhou), no zone prefix.
#: ``--metric-crs`` default: chosen from where the data is (:mod:`gridkit.crs.metric`).
DEFAULT_METRIC_CRS = "auto"

#: The ``--crs`` names besides EPSG codes, and what they stand for.
NAMED_CRS = {"wgs84": WGS84, "cgcs2000": CGCS2000, "gcj02": "gcj02", "bd09": "bd09"}
#: Systems :func:`convert_coordinates` and :func:`convert_geometries` know.
SYSTEMS = ("wgs84", "gcj02", "bd09")

#: How the accepted ``--crs`` values are described in messages.
ACCEPTED_SPECS = "an EPSG code (e.g. 4490, EPSG:4547) or one of wgs84, cgcs2000, gcj02, bd09"



@dataclass(frozen=True)
class CrsSpec:
    """A parsed ``--crs`` value.

    Attributes
    ----------
    name : canonical spelling: ``"EPSG:4490"`` (any EPSG code), ``"gcj02"`` or
        ``"bd09"``; for a CRS without an EPSG code, its PROJ string.
    crs : the pyproj CRS the coordinates are expressed in; EPSG:4326 for the
        offset systems.
    offset : ``None``, ``"gcj02"`` or ``"bd09"``.
    """

    name: str
    crs: pyproj.CRS
    offset: str | None = None


#: What the functions taking a CRS accept (see :func:`parse_crs`).
CrsLike = str | int | pyproj.CRS | CrsSpec


def parse_crs(spec: CrsLike) -> CrsSpec:
    """Parse a ``--crs`` value (SPEC §7).

    Parameters
    ----------
    spec : an EPSG code as ``int`` or string (``4490``, ``"4490"``,
        ``"EPSG:4490"``, ``"epsg:4547"``), or a name: ``wgs84`` (EPSG:4326),
        ``cgcs2000`` (EPSG:4490), ``gcj02``/``gcj-02``, ``bd09``/``bd-09``
        (case-insensitive). A ``pyproj.CRS`` (e.g. ``gdf.crs``) or a
        :class:`CrsSpec` is accepted as well.

    Returns
    -------
    CrsSpec

    Raises
    ------
    InputError
        For anything else, listing the accepted values.

    Examples
    --------
    >>> spec = parse_crs("GCJ-02")
    >>> spec.name, spec.crs.to_epsg(), spec.offset
    ('gcj02', 4326, 'gcj02')
    >>> parse_crs(4547).name
    'EPSG:4547'
    """
    if isinstance(spec, CrsSpec):
        return spec
    if isinstance(spec, pyproj.CRS):
        epsg = spec.to_epsg()
        return CrsSpec(f"EPSG:{epsg}" if epsg else spec.to_string(), spec)
    if isinstance(spec, Integral) and not isinstance(spec, bool):
        return _parse_key(str(int(spec)), str(spec))
    if isinstance(spec, str):
        return _parse_key(re.sub(r"[\s_\-]", "", spec.lower()), spec)
    raise InputError(f"unknown CRS {spec!r}: use {ACCEPTED_SPECS}")


@functools.lru_cache(maxsize=64)
def _parse_key(key: str, original: str) -> CrsSpec:
    key = NAMED_CRS.get(key, key).lower()
    if key in ("gcj02", "bd09"):
        return CrsSpec(key, pyproj.CRS.from_epsg(4326), key)
    match = re.fullmatch(r"(?:epsg:)?(\d{4,6})", key)
    if not match:
        raise InputError(f"unknown CRS {original!r}: use {ACCEPTED_SPECS}")
    try:
        crs = pyproj.CRS.from_epsg(int(match.group(1)))
    except pyproj.exceptions.CRSError:
        raise InputError(f"unknown EPSG code {original!r}: use {ACCEPTED_SPECS}") from None
    if not (crs.is_geographic or crs.is_projected):
        raise InputError(
            f"{original!r} ({crs.name}) is not a horizontal CRS: use {ACCEPTED_SPECS}"
        )
    return CrsSpec(f"EPSG:{match.group(1)}", crs)

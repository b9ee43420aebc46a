"""Writing a map: the HTML page and, on request, the PNG beside it."""

from __future__ import annotations

__all__ = ["write_map"]

import os
from pathlib import Path

from gridkit.io.write import atomic_output, check_writable
from gridkit.maps.html import render_map
from gridkit.maps.model import GridMap, MapOutput, resolve_basemap
from gridkit.maps.png import render_png


def write_map(gmap: GridMap, path: str | os.PathLike, *, basemap: str | None = None,
              offline: bool = False, png: bool = False, force: bool = False,
              page: str | None = None) -> MapOutput:
    """Write the HTML map (and with ``png`` the PNG next to it, same name).

    Both outputs are checked before any work and written atomically.
    ``page``: the map's HTML when already rendered (by :func:`render_map`
    with the same ``basemap`` and ``offline``).

    Examples
    --------
    >>> out = write_map(grids_map(grids), "maps/grids.html", offline=True)  # doctest: +SKIP
    >>> out.bytes < 10_000_000  # doctest: +SKIP
    True
    """
    path = Path(path)
    png_path = path.with_suffix(".png") if png else None
    for target in (path, png_path):
        if target is not None:
            check_writable(target, force)
    basemap = resolve_basemap(basemap, offline)
    if page is None:
        page = render_map(gmap, basemap=basemap, offline=offline)
    text = page.encode("utf-8")
    with atomic_output(path, force) as tmp:
        tmp.write_bytes(text)
    if png_path is not None:
        with atomic_output(png_path, force) as tmp:
            render_png(gmap, tmp)
    return MapOutput(path=path, bytes=len(text), features=gmap.features,
                     tolerance_m=gmap.tolerance_m, basemap=basemap, offline=offline,
                     png=png_path)

"""Options shared by the commands that draw maps: ``gridkit map``, ``report`` and ``demo``.

``--offline`` is the default everywhere (the pages are opened on government
intranets); ``--online`` loads Leaflet from a CDN and draws a tile basemap.
"""

from __future__ import annotations

__all__ = ["basemap_option", "check_basemap", "offline_option"]

import click

from gridkit.errors import InputError
from gridkit.maps import BASEMAPS

offline_option = click.option(
    "--offline/--online", default=True, show_default=True,
    help="Offline: maps self-contained (Leaflet inlined, no tiles) for intranets; online: "
         "Leaflet from a CDN and a tile basemap.")
basemap_option = click.option(
    "--basemap", type=click.Choice(BASEMAPS), default=None,
    help="Tiles under the maps when --online (default osm; amap/tencent are GCJ-02: the "
         "overlays are shifted to GCJ-02 to line up).")


def check_basemap(basemap: str | None, offline: bool) -> None:
    """Refuse a tile basemap on an offline map, naming the flag that draws one."""
    if offline and basemap not in (None, "none"):
        raise InputError(f"--offline loads no tiles: add --online for --basemap {basemap}, "
                         "or use --basemap none")

"""Drawing a :class:`~gridkit.maps.model.GridMap` as a static PNG for print (matplotlib)."""

from __future__ import annotations

__all__ = ["CJK_FONTS", "cjk_font", "render_png"]

import os
import warnings

import numpy as np

from gridkit.maps.model import SIZE_PLACEHOLDER, GridMap, HeatTheme, footer_parts

#: CJK fonts tried for the PNG, first found wins (Debian: fonts-noto-cjk).
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "Microsoft YaHei", "SimHei", "PingFang SC")
#: Above this many features a layer is drawn without outlines in the PNG (as when zoomed out).
_PNG_OUTLINE_LIMIT = 2000


def cjk_font() -> str | None:
    """The first installed font of :data:`CJK_FONTS`, or ``None``."""
    from matplotlib import font_manager

    for name in CJK_FONTS:
        try:
            font_manager.findfont(name, fallback_to_default=False)
        except ValueError:
            continue
        return name
    return None


def render_png(gmap: GridMap, path: str | os.PathLike, *, dpi: int = 150) -> None:
    """Draw the layers shown on opening as a static PNG for print (matplotlib).

    Same colours, legend and title as the HTML map; WGS84, no basemap. Chinese
    text needs a CJK font (:data:`CJK_FONTS`); without one a warning is issued
    and the text may show as boxes.

    Examples
    --------
    >>> render_png(grids_map(grids), "maps/grids.png")  # doctest: +SKIP
    """
    import matplotlib
    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    font = cjk_font()
    if font is None and gmap.lang == "zh":
        warnings.warn("no CJK font found (install fonts-noto-cjk): Chinese text in the PNG "
                      "may show as boxes", stacklevel=2)
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": families}):
        fig = Figure(figsize=(10, 10), layout="constrained")
        ax = fig.add_subplot()
        handles = []
        for theme in gmap.themes:
            if not theme.show:
                continue
            if isinstance(theme, HeatTheme):
                pts = theme.points
                ax.scatter(pts["lon"], pts["lat"], c=pts["weight"], cmap="YlOrRd", s=4,
                           alpha=0.6, linewidths=0)
                continue
            gdf = gmap.sources[theme.source]
            classes = (np.zeros(len(gdf), int) if theme.classes is None
                       else gdf[theme.classes].to_numpy(dtype=int))
            # RGBA per class, then per feature by indexing: no Python loop over features.
            fill = np.array([to_rgba(c, theme.fill_opacity) for c in theme.palette])
            edge = np.array([to_rgba(theme.stroke or c, 0.9) for c in theme.palette])
            thin = theme.outline_zoom and len(gdf) > _PNG_OUTLINE_LIMIT
            gdf.plot(ax=ax, color=fill[classes], edgecolor=edge[classes], markersize=12,
                     linewidth=0 if thin else theme.weight * 0.75)
            if len(theme.labels) == 1:  # a findings rule: one line, "rule (n) · severity"
                handles.append(Patch(facecolor=theme.palette[0], edgecolor="#777777",
                                     label=f"{theme.name} · {theme.labels[0]}"))
            elif theme.labels:
                handles.append(Patch(color="none", label=theme.name))
                handles += [Patch(facecolor=c, edgecolor="#777777", label=t)
                            for c, t in zip(theme.palette, theme.labels)]
        if handles:  # beside the map, never over it
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8,
                      framealpha=0.9)
        ax.set_title(gmap.title, fontsize=14)
        ax.set_axis_off()
        footer = [p for p in footer_parts(gmap, "none") if SIZE_PLACEHOLDER not in p]
        fig.text(0.5, 0.005, " · ".join(footer), ha="center", fontsize=7, color="#444444")
        fig.savefig(path, dpi=dpi, format="png")

"""Classes of metric values on a map: breaks, palettes and legend labels."""

from __future__ import annotations

__all__ = ["RULE_COLORS", "UNIT_COLORS", "classify"]

import math

import numpy as np
import pandas as pd

from gridkit.i18n import pick

# ColorBrewer palettes (RdYlGn 6, YlOrRd 5, Set3 12, Set1 9 + Dark2).
_RATE_BREAKS = (0.6, 0.8, 0.9, 0.95, 1.0)
_RATE_COLORS = ("#d73027", "#fc8d59", "#fee08b", "#d9ef8b", "#91cf60", "#1a9850")
_COUNT_COLORS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
_LOAD_COLORS = ("#1a9850", "#a6d96a", "#fee08b", "#fc8d59", "#d73027")
_ZERO_COLOR = "#f7f7f7"
_MISSING_COLOR = "#bdbdbd"
UNIT_COLORS = ("#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
                "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f")
RULE_COLORS = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628",
                "#f781bf", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")


def _quantile_breaks(values: np.ndarray, integer: bool) -> np.ndarray:
    """Up to four increasing class limits at the quintiles of ``values``."""
    if not len(values):
        return np.array([])
    q = np.quantile(values, (0.2, 0.4, 0.6, 0.8))
    q = np.ceil(q) if integer else np.round(q, -int(math.floor(math.log10(max(q.max(), 1)))) + 1)
    return np.unique(q[q < values.max()])


def classify(values: pd.Series, scheme: str, lang: str,
             missing: str | None = None) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """Class index, palette and legend labels for metric values.

    ``rate``: fixed breaks at 60, 80, 90, 95 and 100 %; ``count``: 0 and
    quintiles of the positive counts; ``load``: quintiles, green to red.
    Missing values get a grey last class labelled ``missing`` (default 无数据).

    Examples
    --------
    >>> k, pal, lab = classify(pd.Series([1.0, 0.5, None]), "rate", "en")
    >>> k.tolist(), lab[k[0]], lab[k[1]], lab[k[2]]
    ([5, 0, 6], '100%', '<60%', 'no data')
    """
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    known = ~np.isnan(v)
    if scheme == "rate":
        edges = np.array(_RATE_BREAKS)
        palette = _RATE_COLORS
        labels = ("<60%", "60%–80%", "80%–90%", "90%–95%", "95%–99.9%", "100%")
        k = np.searchsorted(edges, np.where(known, v, 0.0), side="right")
    elif scheme == "count":
        positive = v[known & (v > 0)]
        edges = _quantile_breaks(positive, integer=True)
        lows = np.concatenate([[1], edges + 1])
        labels = ("0", *(f"{lo:,.0f}–{hi:,.0f}" if hi > lo else f"{lo:,.0f}"
                         for lo, hi in zip(lows, edges)))
        labels += (f"≥{lows[-1]:,.0f}",) if len(positive) else ()
        palette = (_ZERO_COLOR, *_COUNT_COLORS[-(len(labels) - 1):]) if len(labels) > 1 else (
            _ZERO_COLOR,)
        k = np.where(np.where(known, v, 0) > 0,
                     1 + np.searchsorted(edges, np.where(known, v, 0), side="left"), 0)
    elif scheme == "load":
        edges = _quantile_breaks(v[known], integer=False)
        bounds = [f"{e:,.0f}" for e in edges]
        labels = tuple(
            [f"≤{bounds[0]}"] + [f"{a}–{b}" for a, b in zip(bounds, bounds[1:])]
            + [f">{bounds[-1]}"] if len(edges) else ["–"])
        palette = _LOAD_COLORS[:len(labels)] if len(labels) > 1 else _LOAD_COLORS[:1]
        k = np.searchsorted(edges, np.where(known, v, 0.0), side="left")
    else:
        raise ValueError(f"unknown scheme {scheme!r}")
    missing = missing or pick(lang, "无数据", "no data")
    k = np.where(known, k, len(palette)).astype(int)
    return k, (*palette, _MISSING_COLOR), (*labels, missing)

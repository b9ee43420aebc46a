"""Parameters and helpers shared by the generator's modules.

CRSs, the SLA, the period, the event row-group size and independent random streams.
"""

from __future__ import annotations

import numpy as np

from gridkit.crs import CGCS2000, auto_metric_crs

__all__ = [
    "DISPATCH_SLA_HOURS", "EVENT_ROW_GROUP", "METRIC_CRS", "OUTPUT_CRS", "PERIOD_END",
    "random_stream", "ratio"
]

#: The city is built in Guangzhou's metric CRS (the zone ``--metric-crs auto`` picks there,
#: EPSG:4547) and written in CGCS2000 lon/lat.
METRIC_CRS = auto_metric_crs(113.3, 23.1)
OUTPUT_CRS = CGCS2000
DISPATCH_SLA_HOURS = 2
PERIOD_END = "2023-12-31"
EVENT_ROW_GROUP = 1_000_000
_STREAMS = {"geometry": 1, "defects": 2, "rosters": 3, "events": 4, "event_kinds": 5}


def random_stream(seed: int, stream: str, *more: int) -> np.random.Generator:
    """Independent random stream ``stream`` of ``seed`` (same seed → same numbers)."""
    return np.random.default_rng([seed, _STREAMS[stream], *more])


def ratio(num: float, den: float) -> float | None:
    """``num / den``, or ``None`` when ``den`` is 0 (a metric with nothing to count)."""
    return float(num) / float(den) if den else None

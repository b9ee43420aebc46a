"""The project file of ``gridkit report``: which inputs, with which settings.

A project file (YAML) names the inputs, with paths relative to the file, so
that one command rebuilds the whole report::

    title: 广州市城市社区网格化服务管理项目绩效评价
    period: 2023 年度
    grids: grids.gpkg              # required; the others are optional
    communities: communities.gpkg
    reference: reference.gpkg
    codes: ../guangzhou-divisions-2023.csv
    filings: filings.csv
    party: party.csv
    cadres: cadres.csv
    workers: workers.csv
    events: events.parquet
    evaluation: ../evaluation-template.yaml
    dispatch_sla: 2                # hours
    period_end: 2023-12-31

:func:`load_project` is the one parser of this file.
"""

from __future__ import annotations

__all__ = ["INPUTS", "SETTINGS", "Project", "load_project"]

import datetime as dt
import math
import os
from dataclasses import dataclass
from pathlib import Path

from gridkit.crs import DEFAULT_METRIC_CRS, parse_crs
from gridkit.errors import InputError
from gridkit.events import DEFAULT_SLA_HOURS, resolve_period_end
from gridkit.io.yamlfile import read_yaml
from gridkit.maps import DEFAULT_TOLERANCE_M

#: Input files a project may name, in the order of the data-source table.
INPUTS = ("grids", "communities", "reference", "codes", "filings", "party", "cadres", "workers",
          "events", "evaluation", "validation")
#: Other keys of a project file and their meaning.
SETTINGS = {"title": "report title", "period": "evaluation period (text)",
            "crs": "CRS of the grid layer when the file has none (--crs)",
            "events_crs": "CRS of the work orders' lon/lat (default wgs84)",
            "dispatch_sla": "hours (default 2)", "period_end": "date (default: end of year)",
            "metric_crs": "metric CRS (default auto: the zone of the data, EPSG:4547 in Guangzhou)",
            "tolerance_m": "map simplification tolerance in metres (default 5)"}


@dataclass(frozen=True)
class Project:
    """A parsed project file: absolute input paths and settings."""

    path: Path
    title: str
    period: str | None
    inputs: dict[str, Path]
    crs: str | None = None
    events_crs: str = "wgs84"
    dispatch_sla: float = DEFAULT_SLA_HOURS
    period_end: str | dt.date | None = None
    metric_crs: str = DEFAULT_METRIC_CRS
    tolerance_m: float = DEFAULT_TOLERANCE_M


def load_project(path: str | os.PathLike) -> Project:
    """Read a project file (YAML, ``yaml.safe_load``); paths are relative to it.

    Raises
    ------
    InputError
        The file is missing or not YAML, a key is unknown, ``grids`` is
        missing, a named input does not exist, a number is not a number.

    Examples
    --------
    >>> p = load_project("data/sample/project.yaml")  # doctest: +SKIP
    >>> sorted(p.inputs)[:3]  # doctest: +SKIP
    ['cadres', 'codes', 'communities']
    """
    path = Path(path)
    data = read_yaml(path, "project file")
    if not isinstance(data, dict):
        raise InputError("a project file must be a YAML mapping (key: value)", path=path)
    unknown = [k for k in data if k not in INPUTS and k not in SETTINGS]
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r}; known: {', '.join([*INPUTS, *SETTINGS])}",
                         path=path)
    if not data.get("grids"):
        raise InputError("the project names no 'grids' layer", path=path)
    inputs = {}
    for key in INPUTS:
        if data.get(key):
            target = (path.parent / str(data[key])).resolve()
            if not target.exists():
                raise InputError(f"{key}: {data[key]} not found (paths are relative to the "
                                 f"project file)", path=path)
            inputs[key] = target
    numbers = {}
    for key, default in (("dispatch_sla", DEFAULT_SLA_HOURS), ("tolerance_m", DEFAULT_TOLERANCE_M)):
        value = data.get(key, default)
        try:
            numbers[key] = float(value)
        except (TypeError, ValueError):
            numbers[key] = math.nan
        if isinstance(value, bool) or not math.isfinite(numbers[key]) or numbers[key] < 0:
            raise InputError(f"{key} must be a number ≥ 0, got {value!r}", path=path)
    period_end = data.get("period_end")
    if isinstance(period_end, dt.datetime):  # YAML's own timestamp: read as the CLI reads it
        period_end = period_end.isoformat(sep=" ")
    settings = {"crs": None if data.get("crs") is None else str(data["crs"]),
                "events_crs": str(data.get("events_crs") or "wgs84"),
                "metric_crs": str(data.get("metric_crs") or DEFAULT_METRIC_CRS)}
    checks = {key: (parse_crs, spec) for key, spec in settings.items()
              if spec is not None and spec.lower() != "auto"}
    if period_end is not None:
        checks["period_end"] = (resolve_period_end, period_end if isinstance(
            period_end, dt.date) else str(period_end))
    for key, (check, value) in checks.items():
        try:  # refused here, naming the project file and the key, not halfway through
            check(value)
        except InputError as exc:
            raise InputError(f"{key}: {exc.message}", path=path) from None
    return Project(path=path.resolve(), title=str(data.get("title") or path.stem),
                   period=None if data.get("period") is None else str(data["period"]),
                   inputs=inputs, period_end=period_end, **settings, **numbers)

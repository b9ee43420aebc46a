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
    previous_grids: last-year.gpkg # last year's layer: the 网格调整 section (gridkit diff)
    changed_on: 2023-01-01         # the date this year's layer took effect (re-filing list)

:func:`load_project` is the one parser of this file.
"""

from __future__ import annotations

__all__ = ["INPUTS", "SETTINGS", "Project", "load_project"]

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from gridkit.config import load_config_file
from gridkit.crs import DEFAULT_METRIC_CRS, parse_crs
from gridkit.errors import InputError
from gridkit.events import DEFAULT_SLA_HOURS, resolve_period_end
from gridkit.io.postgis import is_postgis_uri
from gridkit.maps import DEFAULT_TOLERANCE_M

#: Input files a project may name, in the order of the data-source table.
INPUTS = ("grids", "communities", "reference", "codes", "filings", "party", "cadres", "workers",
          "events", "evaluation", "validation", "previous_grids")
#: Other keys of a project file and their meaning.
SETTINGS = {"title": "report title", "period": "evaluation period (text)",
            "crs": "CRS of the grid layer when the file has none (EPSG code, gcj02, bd09, …)",
            "events_crs": "CRS of the work orders' lon/lat (default wgs84)",
            "dispatch_sla": "hours (default 2)", "period_end": "date (default: end of year)",
            "metric_crs": "metric CRS (default auto: the zone of the data, EPSG:4547 in Guangzhou)",
            "tolerance_m": "map simplification tolerance in metres (default 5)",
            "changed_on": "date this year's layer took effect (with previous_grids and filings: "
                          "the re-filing list)"}


@dataclass(frozen=True)
class Project:
    """A parsed project file: absolute input paths (or database URIs) and settings."""

    path: Path
    title: str
    period: str | None
    inputs: dict[str, Path | str]
    crs: str | None = None
    events_crs: str = "wgs84"
    dispatch_sla: float = DEFAULT_SLA_HOURS
    period_end: str | dt.date | None = None
    metric_crs: str = DEFAULT_METRIC_CRS
    tolerance_m: float = DEFAULT_TOLERANCE_M
    changed_on: dt.date | None = None


def load_project(path: str | os.PathLike) -> Project:
    """Read a project file (YAML, ``yaml.safe_load``); paths are relative to it.

    Raises
    ------
    InputError
        The file is missing or not YAML, a key is unknown, ``grids`` is
        missing, a named input does not exist, a number is not a number.

    Examples
    --------
    >>> from gridkit.data import data_path
    >>> p = load_project(data_path("sample", "project.yaml"))
    >>> sorted(p.inputs)[:3]
    ['cadres', 'codes', 'communities']
    """
    path = Path(path)
    top = load_config_file(path, "project file")
    top.check_keys([*INPUTS, *SETTINGS])
    data = top.data
    if not data.get("grids"):
        raise InputError("the project names no 'grids' layer", path=path)
    inputs = {}
    for key in INPUTS:
        if is_postgis_uri(data.get(key)):  # a database table: postgresql://…?table=…
            inputs[key] = data[key]
        elif data.get(key):
            target = (path.parent / str(data[key])).resolve()
            if not target.exists():
                raise InputError(f"{key}: {data[key]} not found (paths are relative to the "
                                 f"project file)", path=path)
            inputs[key] = target
    numbers = {key: float(top.number(key, default=default, minimum=0)) for key, default in
               (("dispatch_sla", DEFAULT_SLA_HOURS), ("tolerance_m", DEFAULT_TOLERANCE_M))}
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
                   inputs=inputs, period_end=period_end, **settings, **numbers,
                   changed_on=_changed_on(data.get("changed_on"), path))


# --- issue 14 (网格调整): ``previous_grids`` (in INPUTS) and ``changed_on``; kept apart so
# that the port onto the shared config loader can move them as one piece.
def _changed_on(value: object, path: Path) -> dt.date | None:
    """The ``changed_on`` date of a project file (YAML date or ISO text), ``None`` when absent.

    >>> _changed_on("2024-01-01", Path("p.yaml"))
    datetime.date(2024, 1, 1)
    """
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"changed_on: {value!r} is not a date (e.g. 2024-01-01)",
                         path=path) from None

"""The metric catalogue: every metric gridkit computes, its labels, kind and format.

One entry per metric (SPEC §3): its key (the column of per-unit rows and the
key of the ``gridkit coverage/events --format json`` output), its Chinese and
English label, its *kind* and how it is shown. Everything that names or shows
a metric reads this module: the CLI tables, the report tables and cards, the
map layers and tooltips, the scorer's ``metric:`` lookup. Adding a metric
means one :class:`Metric` here and the function that computes it.

Kinds
-----
``rate``
    a fraction (0.95 for 95 %), shown as a percentage; higher is better.
``count``
    a whole number, shown with thousands separators.
``ratio``
    a quotient of two counts (households per full-time worker), one decimal.

Values are formatted by one function, :func:`format_value`.

Examples
--------
>>> METRICS["filing_rate"].label("zh"), METRICS["filing_rate"].kind
('备案率', 'rate')
>>> format_value(0.98765, "filing_rate"), format_value(12345, "events")
('98.77%', '12,345')
"""

from __future__ import annotations

__all__ = [
    "METRIC_GROUPS",
    "METRIC_KINDS",
    "METRICS",
    "Metric",
    "format_value",
    "label",
    "map_scheme",
    "mapped_metrics",
    "metric_keys",
    "table_columns",
]

import math
from dataclasses import dataclass
from numbers import Real
from typing import Any

from gridkit.i18n import pick

#: Metric kinds (how a value is formatted and classed on a map).
METRIC_KINDS = ("rate", "count", "ratio")
#: Which computation yields a metric: ``unit`` (the size of a unit, in every
#: table), ``coverage`` (:mod:`gridkit.coverage`) or ``events`` (the work-order join).
METRIC_GROUPS = ("unit", "coverage", "events")


@dataclass(frozen=True)
class Metric:
    """One metric of the catalogue.

    Attributes
    ----------
    key : column / JSON key, e.g. ``filing_rate``.
    zh, en : table header and display name in Chinese and English.
    kind : ``rate``, ``count`` or ``ratio`` (:data:`METRIC_KINDS`).
    group : ``unit``, ``coverage`` or ``events`` (:data:`METRIC_GROUPS`).
    summary : a whole-layer value: a top-level key of the JSON output (read
        by ``gridkit score --metrics``), a report table column and a total of
        the CLI table.
    higher_is_better : colours of a map run green → red along this sense.
    map_rank : drawn as a map layer (tooltips too) when not ``None``; the
        default layers of a coverage map in increasing rank, the first shown.
    """

    key: str
    zh: str
    en: str
    kind: str
    group: str
    summary: bool = False
    higher_is_better: bool = True
    map_rank: int | None = None

    def label(self, lang: str) -> str:
        """The header in ``lang`` (``zh`` or ``en``)."""
        return pick(lang, self.zh, self.en)


_CATALOGUE = (  # display order: table columns, tooltips
    Metric("grids", "网格数", "grids", "count", "unit"),
    Metric("filed", "已备案网格", "filed grids", "count", "coverage"),
    Metric("filing_rate", "备案率", "filing rate", "rate", "coverage", True, map_rank=3),
    Metric("party_orgs", "党组织数", "Party orgs", "count", "coverage"),
    Metric("party_coverage", "党组织覆盖率", "Party coverage", "rate", "coverage", True,
           map_rank=1),
    Metric("cadres", "包联干部数", "cadres", "count", "coverage"),
    Metric("cadre_coverage", "包联干部覆盖率", "cadre coverage", "rate", "coverage", True,
           map_rank=4),
    Metric("full_time_workers", "专职网格员", "full-time workers", "count", "coverage"),
    Metric("part_time_workers", "兼职网格员", "part-time workers", "count", "coverage"),
    Metric("fulltime_worker_coverage", "专职网格员覆盖率", "full-time worker coverage", "rate",
           "coverage", True, map_rank=2),
    Metric("households_per_fulltime_worker", "每名专职网格员服务户数",
           "households per full-time worker", "ratio", "coverage", True,
           higher_is_better=False, map_rank=5),
    Metric("grids_without_households", "缺户数网格", "grids without households", "count",
           "coverage"),
    Metric("events", "事件数", "events", "count", "events", True, map_rank=0),
    Metric("located", "已定位", "located", "count", "events", True, map_rank=0),
    Metric("outside", "网格外", "outside", "count", "events", True),
    Metric("unlocatable", "无法定位", "unlocatable", "count", "events", True),
    Metric("dispatched", "已转派", "dispatched", "count", "events", True, map_rank=0),
    Metric("dispatch_accuracy", "转派准确率", "dispatch accuracy", "rate", "events", True,
           map_rank=0),
    Metric("dispatch_timeliness", "转派及时率", "dispatch timeliness", "rate", "events", True,
           map_rank=0),
    Metric("closure_rate", "办结率", "closure rate", "rate", "events", True, map_rank=0),
    Metric("valid_complaints", "有效投诉量", "valid complaints", "count", "events", True,
           map_rank=0),
)
#: The catalogue by key, in display order (table columns, tooltips). Every function
#: here reads it when called, so an entry added to it is shown everywhere.
METRICS: dict[str, Metric] = {m.key: m for m in _CATALOGUE}
del _CATALOGUE

#: Labels of the identifying columns of every per-unit table.
_UNIT_LABELS = {"code": ("编码", "code"), "name": ("名称", "name")}


def label(key: str, lang: str) -> str:
    """Header of a table column: a metric's label, ``code``/``name``, else the key itself.

    >>> label("dispatch_accuracy", "zh"), label("code", "en"), label("other", "zh")
    ('转派准确率', 'code', 'other')
    """
    if key in METRICS:
        return METRICS[key].label(lang)
    return pick(lang, *_UNIT_LABELS.get(key, (key, key)))


def metric_keys(group: str, *, summary: bool = False) -> tuple[str, ...]:
    """Keys of the metrics of ``group``, in catalogue order; ``summary``: whole-layer ones only.

    >>> metric_keys("events", summary=True)[:3]
    ('events', 'located', 'outside')
    """
    if group not in METRIC_GROUPS:
        raise ValueError(f"unknown metric group {group!r}")
    return tuple(m.key for m in METRICS.values() if m.group == group and (m.summary or not summary))


def table_columns(group: str, *, summary: bool = False) -> tuple[str, ...]:
    """Columns of a per-unit table of ``group``: code, name, grids, then its metrics.

    >>> table_columns("coverage", summary=True)
    ('code', 'name', 'grids', 'filing_rate', 'party_coverage', 'cadre_coverage', \
'fulltime_worker_coverage', 'households_per_fulltime_worker')
    """
    return ("code", "name", *metric_keys("unit"), *metric_keys(group, summary=summary))


def mapped_metrics(group: str | None = None, *, by_rank: bool = False) -> tuple[str, ...]:
    """Keys of the metrics a map can draw (of ``group``), in catalogue order.

    ``by_rank``: in the order of :attr:`Metric.map_rank` instead (the default
    layers of a map, the first one shown).

    >>> mapped_metrics("coverage")[:2], mapped_metrics("coverage", by_rank=True)[:2]
    (('filing_rate', 'party_coverage'), ('party_coverage', 'fulltime_worker_coverage'))
    """
    keys = [m.key for m in METRICS.values() if m.map_rank is not None
            and (group is None or m.group == group)]
    if by_rank:
        keys.sort(key=lambda k: METRICS[k].map_rank)  # stable: ties keep catalogue order
    return tuple(keys)


def map_scheme(key: str) -> str:
    """How a map classes a metric: ``rate`` (fixed breaks), ``count`` or ``load`` (quantiles).

    ``load`` is a quantity where more is worse (green → red).

    >>> [map_scheme(k) for k in ("closure_rate", "events", "households_per_fulltime_worker")]
    ['rate', 'count', 'load']
    """
    metric = METRICS[key]
    if metric.kind == "rate":
        return "rate"
    return "count" if metric.higher_is_better and metric.kind == "count" else "load"


#: Decimals of each kind; ``compact`` (map tooltips) shows rates to one decimal.
_DECIMALS = {"rate": 2, "count": 0, "ratio": 1}


def format_value(value: Any, key_or_kind: str, *, compact: bool = False,
                 missing: str | None = "-") -> str | None:
    """The display text of a metric value, the one formatting of every table and map.

    Parameters
    ----------
    value : the number (``None``/NaN: missing).
    key_or_kind : a metric key of :data:`METRICS`, or a kind of :data:`METRIC_KINDS`.
        Any other key is a plain value: ``str(value)``.
    compact : one decimal fewer for rates (map tooltips: ``95.0%``).
    missing : text of a missing value.

    Examples
    --------
    >>> format_value(0.5, "rate"), format_value(0.5, "rate", compact=True)
    ('50.00%', '50.0%')
    >>> format_value(1234.56, "ratio"), format_value(None, "count"), format_value("a", "name")
    ('1,234.6', '-', 'a')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    kind = METRICS[key_or_kind].kind if key_or_kind in METRICS else key_or_kind
    if kind not in _DECIMALS or isinstance(value, bool) or not isinstance(value, Real):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if kind == "rate":
        return f"{value:.{_DECIMALS[kind] - compact}%}"
    return f"{value:,.{_DECIMALS[kind]}f}"


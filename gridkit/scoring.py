"""Performance-evaluation scoring (绩效评价): an indicator tree in YAML, scored and graded.

The tree has *parts* (e.g. 项目管理 and 项目结果), each with a ``weight`` and
*groups* of *indicators*. Quantitative indicators take their actual value from
the config (``actual:``) or from a metrics JSON written by ``gridkit coverage``
or ``gridkit events`` (``metric: filing_rate``). Rules (SPEC §4):

``manual``
    the ``score`` is given, 0 ≤ score ≤ points.
``positive`` (higher is better)
    full marks when actual ≥ target, else points × actual / target.
    A target of 0 gives full marks to every actual ≥ 0.
``reverse`` (lower is better)
    full marks when actual ≤ target; points × (1 − (actual − target) / target)
    when target < actual < 2 × target; 0 at 2 × target or more.
    A target of 0 gives full marks only at 0, else 0.
``qualitative``
    a ``level`` and a ``score`` inside the level's band of points:
    A [80 %, 100 %], B [60 %, 80 %), C [0 %, 60 %) — a band edge belongs to the
    higher level (80 % is A, 60 % is B).
``equal``
    full marks only when actual equals target, else 0.

Comparisons (actual vs target, band edges, sums of points and weights) allow
a tolerance of ``TOLERANCE × max(1, |reference|)`` so that binary floating point
(0.8 × 9 = 7.200000000000001) does not decide a score. Indicator scores, part
scores and the total are rounded half up (四舍五入) to 2 decimals. The total is
Σ weight × part score / part max × 100; the grade is the first grade whose lower
bound the rounded total reaches, else ``差``.

Rates are fractions (0.9 for 90 %), as in the metrics JSON; ``unit: "%"`` only
changes how they are displayed.

Examples
--------
>>> cfg = parse_config({"parts": [{"name": "结果", "weight": 1, "groups": [
...     {"name": "产出", "indicators": [
...         {"id": "filing", "name": "备案率", "points": 60, "method": "positive",
...          "target": 0.9, "metric": "filing_rate", "unit": "%"},
...         {"id": "complaints", "name": "有效投诉量", "points": 40, "method": "reverse",
...          "target": 10, "actual": 12}]}]}]})
>>> result = score(cfg, {"filing_rate": 0.81})
>>> [i.score for i in result.indicators], result.total, result.grade
([54.0, 32.0], 86.0, '良')
"""

from __future__ import annotations

import difflib
import html
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from gridkit.errors import InputError
from gridkit.i18n import pick
from gridkit.io.yamlfile import read_yaml
from gridkit.metrics import METRICS

METHODS = ("manual", "positive", "reverse", "qualitative", "equal")
QUANTITATIVE = ("positive", "reverse", "equal")
#: Qualitative level → (lower, upper) fraction of points; the lower edge is inclusive,
#: the upper edge is inclusive only for A.
LEVELS = {"A": (0.8, 1.0), "B": (0.6, 0.8), "C": (0.0, 0.6)}
DEFAULT_GRADES = {"优": 90.0, "良": 80.0, "中": 60.0}
#: Grade of a total below every lower bound of ``grades``.
FALLBACK_GRADE = "差"
#: Default maximum of a part (the sum its indicators' points must reach).
DEFAULT_PART_MAX = 100.0
TOLERANCE = 1e-9

_TOP_KEYS = ("title", "grades", "parts")
_PART_KEYS = ("name", "name_en", "weight", "max", "groups")
_GROUP_KEYS = ("name", "name_en", "indicators")
_COMMON_KEYS = ("id", "name", "name_en", "points", "method", "reason")
_METHOD_KEYS = {
    "manual": ("score",),
    "qualitative": ("level", "score"),
    "positive": ("target", "actual", "metric", "unit"),
    "reverse": ("target", "actual", "metric", "unit"),
    "equal": ("target", "actual", "metric", "unit"),
}


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Indicator:
    """A third-level indicator of the tree, as configured."""

    id: str
    name: str
    points: float
    method: str
    part: str
    group: str
    where: str
    name_en: str | None = None
    group_en: str | None = None
    score: float | None = None
    level: str | None = None
    target: float | None = None
    actual: float | None = None
    metric: str | None = None
    unit: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Group:
    """A group of indicators inside a part (e.g. 绩效目标设置, 产出指标)."""

    name: str
    indicators: tuple[Indicator, ...]
    name_en: str | None = None


@dataclass(frozen=True)
class Part:
    """A weighted part of the tree (e.g. 项目管理 × 0.4)."""

    name: str
    weight: float
    max: float
    groups: tuple[Group, ...]
    name_en: str | None = None

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        """The part's indicators in config order."""
        return tuple(i for g in self.groups for i in g.indicators)


@dataclass(frozen=True)
class EvaluationConfig:
    """A parsed, validated scoring config (see :func:`parse_config`)."""

    parts: tuple[Part, ...]
    grades: tuple[tuple[str, float], ...]
    title: str | None = None
    path: str | None = None

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        """Every indicator in config order."""
        return tuple(i for p in self.parts for i in p.indicators)


@dataclass(frozen=True)
class IndicatorResult:
    """The score of one indicator, with what it was computed from."""

    id: str
    name: str
    part: str
    group: str
    points: float
    score: float
    method: str
    target: float | None
    actual: float | None
    metric: str | None
    unit: str | None
    level: str | None
    reason: str | None
    name_en: str | None = None
    group_en: str | None = None

    @property
    def deducted(self) -> bool:
        """True when the indicator lost points."""
        return self.score < self.points


@dataclass(frozen=True)
class PartResult:
    """A part's score: the sum of its indicators, and its weighted contribution."""

    name: str
    weight: float
    score: float
    max: float
    weighted_score: float
    name_en: str | None = None


@dataclass(frozen=True)
class ScoreResult:
    """Total, grade, part scores and indicator scores of an evaluation."""

    total: float
    grade: str
    parts: tuple[PartResult, ...]
    indicators: tuple[IndicatorResult, ...]
    title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of SPEC §7 (``gridkit score --format json``).

        Examples
        --------
        >>> cfg = parse_config({"parts": [{"name": "P", "weight": 1, "groups": [{"name": "G",
        ...     "indicators": [{"id": "a", "name": "A", "points": 100, "method": "manual",
        ...                     "score": 95}]}]}]})
        >>> d = score(cfg).to_dict()
        >>> d["total"], d["grade"], d["parts"][0]["score"], d["indicators"][0]["score"]
        (95.0, '优', 95.0, 95.0)
        """
        return {
            "title": self.title,
            "total": self.total,
            "grade": self.grade,
            "parts": [
                {"name": p.name, "name_en": p.name_en, "weight": p.weight, "score": p.score,
                 "max": p.max, "weighted_score": p.weighted_score}
                for p in self.parts
            ],
            "indicators": [
                {"id": i.id, "name": i.name, "name_en": i.name_en, "part": i.part,
                 "group": i.group, "group_en": i.group_en, "points": i.points,
                 "score": i.score, "method": i.method,
                 "target": i.target, "actual": i.actual, "metric": i.metric, "unit": i.unit,
                 "level": i.level, "reason": i.reason}
                for i in self.indicators
            ],
        }


class Metrics(dict[str, Any]):
    """Metric values by key, merged from several JSON files (see :func:`load_metrics`).

    Attributes
    ----------
    files : the files read, in order.
    sources : key → the files that hold it.
    conflicts : key → {file: value} for keys whose files disagree; such keys
        are left out of the mapping, and scoring an indicator that needs one
        is an error.
    """

    def __init__(self) -> None:
        super().__init__()
        self.files: list[str] = []
        self.sources: dict[str, list[str]] = {}
        self.conflicts: dict[str, dict[str, Any]] = {}


# --------------------------------------------------------------------------- helpers


def round_half_up(value: float, places: int = 2) -> float:
    """Round half up (四舍五入) on the shortest decimal form of ``value``.

    Examples
    --------
    >>> round_half_up(2.675), round(2.675, 2)
    (2.68, 2.67)
    >>> round_half_up(98 * 0.4 + 100 * 0.6)
    99.2
    """
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def _tol(reference: float) -> float:
    return TOLERANCE * max(1.0, abs(reference))


def _ge(a: float, b: float) -> bool:
    return a >= b - _tol(b)


def _le(a: float, b: float) -> bool:
    return a <= b + _tol(b)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --------------------------------------------------------------------------- config


class _Site:
    """Where a config element is, for error messages."""

    def __init__(self, path: str | None) -> None:
        self.path = path

    def error(self, where: str, message: str) -> InputError:
        return InputError(f"{where}: {message}", path=self.path)


def _label(kind: str, name: Any, where: str) -> str:
    return f"{kind} {name!r} at {where}" if isinstance(name, str) and name else where


def _check_keys(site: _Site, where: str, mapping: Mapping, allowed: Sequence[str],
                context: str = "") -> None:
    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise site.error(where, f"unknown key {key!r}{context} "
                                    f"(allowed: {', '.join(allowed)}){hint}")


def _mapping(site: _Site, where: str, value: Any, what: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise site.error(where, f"{what} must be a mapping, got {type(value).__name__}")
    return value


def _text(site: _Site, where: str, mapping: Mapping, key: str, *,
          required: bool = True) -> str | None:
    value = mapping.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        state = "is missing" if value is None else "must be a non-empty string"
        raise site.error(where, f"{key!r} {state}")
    return value


def _number(site: _Site, where: str, mapping: Mapping, key: str, *,
            required: bool = True) -> float | None:
    value = mapping.get(key)
    if value is None:
        if required:
            raise site.error(where, f"{key!r} is missing")
        return None
    if not _is_number(value) or not math.isfinite(value):
        hint = ""
        if isinstance(value, str) and value.strip().endswith("%"):
            hint = " (write rates as fractions: 0.9 for 90%)"
        raise site.error(where, f"{key!r} must be a number, got {value!r}{hint}")
    return value


def parse_config(data: Any, path: str | os.PathLike | None = None) -> EvaluationConfig:
    """Validate a scoring config given as parsed YAML and build the indicator tree.

    Parameters
    ----------
    data : the YAML document (a mapping with ``title``, ``grades``, ``parts``).
    path : the file it came from, named in error messages.

    Returns
    -------
    EvaluationConfig

    Raises
    ------
    InputError
        naming the file and the part, group or indicator (its id and position
        ``parts[i].groups[j].indicators[k]``): unknown key, missing or mistyped
        value, duplicate id, points of a part not summing to its ``max``,
        weights not summing to 1, a missing ``target`` for a quantitative
        method, a ``score`` outside ``0..points`` or outside its level's band.

    Examples
    --------
    >>> parse_config({"parts": [{"name": "P", "weight": 0.5, "groups": []}]})
    Traceback (most recent call last):
    ...
    gridkit.errors.InputError: part 'P' at parts[0]: 'groups' must be a non-empty list
    """
    site = _Site(None if path is None else str(path))
    top = _mapping(site, "config", data, "the config")
    _check_keys(site, "config", top, _TOP_KEYS)
    title = _text(site, "config", top, "title", required=False)
    grades = _parse_grades(site, top.get("grades", DEFAULT_GRADES))
    raw_parts = top.get("parts")
    if not isinstance(raw_parts, list) or not raw_parts:
        raise site.error("config", "'parts' must be a non-empty list")
    parts = tuple(_parse_part(site, raw, f"parts[{n}]") for n, raw in enumerate(raw_parts))

    seen_parts: set[str] = set()
    seen_ids: dict[str, str] = {}
    for part in parts:
        if part.name in seen_parts:
            raise site.error(f"part {part.name!r}", "duplicate part name")
        seen_parts.add(part.name)
        for ind in part.indicators:
            if ind.id in seen_ids:
                raise site.error(f"indicator {ind.id!r} at {ind.where}",
                                 f"duplicate id (first used at {seen_ids[ind.id]})")
            seen_ids[ind.id] = ind.where
    weights = sum(p.weight for p in parts)
    if not math.isclose(weights, 1.0, abs_tol=TOLERANCE):
        listed = ", ".join(f"{p.name} {p.weight:g}" for p in parts)
        raise site.error("config", f"part weights sum to {weights:g}, not 1 ({listed})")
    return EvaluationConfig(parts=parts, grades=grades, title=title, path=site.path)


def _parse_grades(site: _Site, raw: Any) -> tuple[tuple[str, float], ...]:
    grades = _mapping(site, "grades", raw, "'grades'")
    if not grades:
        raise site.error("grades", "at least one grade is needed, e.g. {优: 90, 良: 80, 中: 60}")
    out: list[tuple[str, float]] = []
    for name, bound in grades.items():
        if not isinstance(name, str) or not name.strip():
            raise site.error("grades", f"grade name {name!r} must be a non-empty string")
        if not _is_number(bound) or not 0 <= bound <= 100:
            raise site.error(f"grades: {name}", f"lower bound {bound!r} must be a number "
                                                "from 0 to 100")
        out.append((name, float(bound)))
    bounds = [b for _, b in out]
    if len(set(bounds)) != len(bounds):
        raise site.error("grades", "two grades have the same lower bound")
    return tuple(sorted(out, key=lambda g: -g[1]))


def _parse_part(site: _Site, raw: Any, pos: str) -> Part:
    raw = _mapping(site, pos, raw, "a part")
    where = _label("part", raw.get("name"), pos)
    _check_keys(site, where, raw, _PART_KEYS)
    name = _text(site, where, raw, "name")
    weight = _number(site, where, raw, "weight")
    if not 0 < weight <= 1:
        raise site.error(where, f"weight {weight:g} must be in (0, 1]")
    part_max = _number(site, where, raw, "max", required=False)
    part_max = DEFAULT_PART_MAX if part_max is None else float(part_max)
    if part_max <= 0:
        raise site.error(where, f"max {part_max:g} must be positive")
    raw_groups = raw.get("groups")
    if not isinstance(raw_groups, list) or not raw_groups:
        raise site.error(where, "'groups' must be a non-empty list")
    groups = tuple(_parse_group(site, g, f"{pos}.groups[{n}]", name)
                   for n, g in enumerate(raw_groups))
    part = Part(name=name, weight=float(weight), max=part_max, groups=groups,
                name_en=_text(site, where, raw, "name_en", required=False))
    total = sum(i.points for i in part.indicators)
    if not math.isclose(total, part_max, abs_tol=_tol(part_max)):
        by_group = ", ".join(f"{g.name} {sum(i.points for i in g.indicators):g}" for g in groups)
        raise site.error(where, f"points of its indicators sum to {total:g}, not its maximum "
                                f"{part_max:g} (by group: {by_group}; declare 'max: {total:g}' "
                                "if that is intended)")
    return part


def _parse_group(site: _Site, raw: Any, pos: str, part: str) -> Group:
    raw = _mapping(site, pos, raw, "a group")
    where = _label("group", raw.get("name"), pos)
    _check_keys(site, where, raw, _GROUP_KEYS)
    name = _text(site, where, raw, "name")
    raw_inds = raw.get("indicators")
    if not isinstance(raw_inds, list) or not raw_inds:
        raise site.error(where, "'indicators' must be a non-empty list")
    name_en = _text(site, where, raw, "name_en", required=False)
    inds = tuple(_parse_indicator(site, i, f"{pos}.indicators[{n}]", part, (name, name_en))
                 for n, i in enumerate(raw_inds))
    return Group(name=name, indicators=inds, name_en=name_en)


def _parse_indicator(site: _Site, raw: Any, pos: str, part: str,
                     group: tuple[str, str | None]) -> Indicator:
    raw = _mapping(site, pos, raw, "an indicator")
    ident = raw.get("id")
    where = _label("indicator", ident, pos)
    if not isinstance(ident, str) or not ident.strip():
        raise site.error(where, f"'id' must be a non-empty string, got {ident!r}")
    method = raw.get("method")
    if method not in METHODS:
        raise site.error(where, f"method {method!r} is not one of {', '.join(METHODS)}")
    _check_keys(site, where, raw, _COMMON_KEYS + _METHOD_KEYS[method],
                context=f" for method {method!r}")
    points = _number(site, where, raw, "points")
    if points <= 0:
        raise site.error(where, f"points {points:g} must be positive")
    common = {"id": ident, "name": _text(site, where, raw, "name"), "points": points,
              "method": method, "part": part, "group": group[0], "group_en": group[1],
              "where": pos,
              "name_en": _text(site, where, raw, "name_en", required=False),
              "reason": _text(site, where, raw, "reason", required=False)}

    if method in QUANTITATIVE:
        target = _number(site, where, raw, "target", required=False)
        if target is None:
            raise site.error(where, f"'target' is missing (required for method {method!r})")
        actual = _number(site, where, raw, "actual", required=False)
        metric = _text(site, where, raw, "metric", required=False)
        if (actual is None) == (metric is None):
            raise site.error(where, "give exactly one of 'actual' (a value) or 'metric' "
                                    "(a key of a --metrics JSON)")
        unit = _text(site, where, raw, "unit", required=False)
        if method != "equal":
            for key, value in (("target", target), ("actual", actual)):
                if value is not None and value < 0:
                    raise site.error(where, f"{key} {value:g} must not be negative")
        if unit == "%":
            for key, value in (("target", target), ("actual", actual)):
                if value is not None and abs(value) > 1:
                    raise site.error(where, f"{key} {value:g} with unit '%' must be a "
                                            f"fraction ({value / 100:g} for {value:g}%)")
        return Indicator(**common, target=target, actual=actual, metric=metric, unit=unit)

    given = _number(site, where, raw, "score")
    if method == "manual":
        if not (_ge(given, 0) and _le(given, points)):
            raise site.error(where, f"score {given:g} is outside 0..{points:g}")
        return Indicator(**common, score=float(given))
    level = raw.get("level")
    if not isinstance(level, str) or level not in LEVELS:
        raise site.error(where, f"level {level!r} is not one of {', '.join(LEVELS)}")
    low, high = LEVELS[level]
    ratio = given / points
    inside = _ge(ratio, low) and (_le(ratio, high) if level == "A" else not _ge(ratio, high))
    if not inside:
        closing = "]" if level == "A" else ")"
        raise site.error(where, f"score {given:g} is outside level {level}'s band "
                                f"[{low * points:g}, {high * points:g}{closing} of {points:g} "
                                f"points ({low:.0%}–{high:.0%})")
    return Indicator(**common, score=float(given), level=level)


def load_config(path: str | os.PathLike) -> EvaluationConfig:
    """Read and validate a scoring config (YAML, ``yaml.safe_load``).

    Examples
    --------
    >>> cfg = load_config("data/evaluation-2023.yaml")  # doctest: +SKIP
    >>> len(cfg.indicators)  # doctest: +SKIP
    17
    """
    path = Path(path)
    data = read_yaml(path, "config")
    return parse_config(data, path)


# --------------------------------------------------------------------------- metrics


def load_metrics(paths: Iterable[str | os.PathLike]) -> Metrics:
    """Merge the top-level keys of metrics JSON files (``gridkit coverage/events --format json``).

    A key present in several files with different values is recorded in
    ``Metrics.conflicts`` rather than picking one; scoring an indicator that
    uses it is then an error naming the files.

    Examples
    --------
    >>> m = load_metrics(["coverage.json", "events.json"])  # doctest: +SKIP
    >>> m["filing_rate"], m.sources["filing_rate"]  # doctest: +SKIP
    (1.0, ['coverage.json'])
    """
    merged = Metrics()
    for raw_path in paths:
        path = str(raw_path)
        merged.files.append(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError("metrics file not found", path=path) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the metrics file: {exc}", path=path) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON at line {exc.lineno}: {exc.msg}",
                             path=path) from None
        if not isinstance(data, dict):
            raise InputError(f"a metrics file must hold a JSON object, got "
                             f"{type(data).__name__}", path=path)
        for key, value in data.items():
            holders = merged.sources.setdefault(key, [])
            if path not in holders:
                holders.append(path)
            if key in merged.conflicts:
                merged.conflicts[key][path] = value
            elif key in merged and merged[key] != value:
                first = merged.sources[key][0]
                merged.conflicts[key] = {first: merged.pop(key), path: value}
            else:
                merged[key] = value
    return merged


def _metric_value(config: EvaluationConfig, ind: Indicator, metrics: Mapping[str, Any]) -> float:
    where = f"indicator {ind.id!r} at {ind.where}"
    key = ind.metric
    files = metrics.sources.get(key, []) if isinstance(metrics, Metrics) else []
    source = f" in {', '.join(files)}" if files else ""
    if isinstance(metrics, Metrics) and key in metrics.conflicts:
        found = "; ".join(f"{p}: {v!r}" for p, v in metrics.conflicts[key].items())
        raise InputError(f"{where}: metric {key!r} differs between metrics files ({found})",
                         path=config.path)
    if key not in metrics:
        if isinstance(metrics, Metrics) and metrics.files:
            given = f"not found in any metrics file ({', '.join(metrics.files)})"
        elif metrics:
            given = "not found in the metrics given"
        else:
            given = "no metrics given (pass gridkit coverage/events JSON with --metrics)"
        known = [k for k, m in METRICS.items() if m.summary or m.group == "unit"]
        if key not in METRICS:  # a typo, not a metric the files lack: name the catalogue's
            close = difflib.get_close_matches(str(key), known, n=1)
            given += (f"; not a gridkit metric (did you mean {close[0]!r}?)" if close else
                      f"; gridkit metrics: {', '.join(known)}")
        raise InputError(f"{where}: metric {key!r}: {given}", path=config.path)
    value = metrics[key]
    if value is None:
        raise InputError(f"{where}: metric {key!r} is null{source} (nothing to compute it "
                         "from, e.g. no dispatched events)", path=config.path)
    if not _is_number(value) or not math.isfinite(value):
        raise InputError(f"{where}: metric {key!r}{source} is {value!r}, not a number",
                         path=config.path)
    if ind.method != "equal" and value < 0:
        raise InputError(f"{where}: metric {key!r}{source} is negative ({value!r})",
                         path=config.path)
    return value


# --------------------------------------------------------------------------- scoring


def score_value(method: str, points: float, target: float, actual: float) -> float:
    """Score a quantitative indicator (``positive``, ``reverse`` or ``equal``).

    Examples
    --------
    >>> score_value("positive", 20, 0.9, 0.85)
    18.89
    >>> score_value("reverse", 20, 10, 15), score_value("reverse", 20, 10, 20)
    (10.0, 0.0)
    >>> score_value("reverse", 20, 0, 0), score_value("reverse", 20, 0, 1)
    (20.0, 0.0)
    >>> score_value("equal", 5, 1, 1.0)
    5.0
    """
    full = float(points)
    if method == "positive":
        if _ge(actual, target):
            return full
        return round_half_up(points * actual / target)
    if method == "reverse":
        if _le(actual, target):
            return full
        if target == 0 or _ge(actual, 2 * target):
            return 0.0
        return round_half_up(points * (1 - (actual - target) / target))
    if method == "equal":
        return full if _ge(actual, target) and _le(actual, target) else 0.0
    raise ValueError(f"not a quantitative method: {method!r}")


def grade_of(total: float, grades: Sequence[tuple[str, float]]) -> str:
    """The first grade (highest bound first) whose lower bound ``total`` reaches.

    Examples
    --------
    >>> g = tuple(DEFAULT_GRADES.items())
    >>> grade_of(90, g), grade_of(89.99, g), grade_of(59.99, g)
    ('优', '良', '差')
    """
    for name, bound in sorted(grades, key=lambda g: -g[1]):
        if total >= bound:
            return name
    return FALLBACK_GRADE


def score(config: EvaluationConfig, metrics: Mapping[str, Any] | None = None) -> ScoreResult:
    """Score every indicator, sum the parts, weight them and grade the total.

    Parameters
    ----------
    config : from :func:`load_config` or :func:`parse_config`.
    metrics : metric values for ``metric:`` indicators: a plain mapping or
        the :class:`Metrics` of :func:`load_metrics` (whose errors then name
        the files).

    Raises
    ------
    InputError
        a metric missing, null, not a number, negative, or differing
        between files, naming the indicator.
    """
    metrics = {} if metrics is None else metrics
    results: list[IndicatorResult] = []
    parts: list[PartResult] = []
    for part in config.parts:
        part_scores = []
        for ind in part.indicators:
            actual = ind.actual
            if ind.method in QUANTITATIVE:
                if ind.metric is not None:
                    actual = _metric_value(config, ind, metrics)
                value = score_value(ind.method, ind.points, ind.target, actual)
            else:
                value = ind.score
            part_scores.append(value)
            results.append(IndicatorResult(
                id=ind.id, name=ind.name, name_en=ind.name_en, part=ind.part, group=ind.group,
                group_en=ind.group_en,
                points=ind.points, score=value, method=ind.method, target=ind.target,
                actual=actual, metric=ind.metric, unit=ind.unit, level=ind.level,
                reason=ind.reason))
        part_score = round_half_up(sum(part_scores))
        parts.append(PartResult(
            name=part.name, name_en=part.name_en, weight=part.weight, score=part_score,
            max=part.max, weighted_score=round_half_up(part.weight * part_score / part.max * 100)))
    total = round_half_up(sum(p.weight * p.score / p.max * 100 for p in parts))
    return ScoreResult(total=total, grade=grade_of(total, config.grades), parts=tuple(parts),
                       indicators=tuple(results), title=config.title)


# --------------------------------------------------------------------------- rendering

_HEADERS = {
    "part": ("部分", "Part"),
    "group": ("类别", "Group"),
    "name": ("指标", "Indicator"),
    "points": ("分值", "Points"),
    "target": ("目标值", "Target"),
    "actual": ("实际值", "Actual"),
    "score": ("得分", "Score"),
    "reason": ("扣分原因", "Reason"),
    "weight": ("权重", "Weight"),
    "max": ("满分", "Max"),
    "weighted_score": ("加权得分", "Weighted"),
}
INDICATOR_COLUMNS = ("part", "group", "name", "points", "target", "actual", "score", "reason")
PART_COLUMNS = ("part", "weight", "score", "max", "weighted_score")
_COMPARATORS = {"positive": "≥ ", "reverse": "≤ ", "equal": "= "}


def headers(columns: Sequence[str], lang: str = "zh") -> list[str]:
    """Localised headers of :data:`INDICATOR_COLUMNS` / :data:`PART_COLUMNS`.

    >>> headers(["part", "score"], "en")
    ['Part', 'Score']
    """
    return [pick(lang, *_HEADERS[c]) for c in columns]


def format_number(value: float | None, places: int = 4) -> str:
    """A number with at most ``places`` decimals, trailing zeros dropped; ``-`` for None.

    >>> format_number(9.0), format_number(18.89), format_number(None)
    ('9', '18.89', '-')
    """
    if value is None:
        return "-"
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_value(value: float | None, unit: str | None) -> str:
    """A target or actual for display: fractions as percentages (2 decimals) with ``unit: "%"``.

    >>> format_value(0.9639, "%"), format_value(0.969589, "%"), format_value(10, "件")
    ('96.39%', '96.96%', '10 件')
    """
    if value is None:
        return "-"
    if unit == "%":
        return f"{format_number(value * 100, 2)}%"
    return f"{format_number(value)} {unit}" if unit else format_number(value)


def _name(name: str, name_en: str | None, lang: str) -> str:
    return name_en if lang == "en" and name_en else name


def indicator_rows(result: ScoreResult, lang: str = "zh") -> list[dict[str, str]]:
    """Display rows (strings) of :data:`INDICATOR_COLUMNS`, one per indicator.

    Parts, groups and indicators are shown by their English name with
    ``lang="en"`` when the config gives ``name_en``; targets carry the
    comparison of the method (``≥ 90%``, ``≤ 10 件``, ``= 1``).

    Examples
    --------
    >>> cfg = parse_config({"parts": [{"name": "P", "weight": 1, "groups": [{"name": "G",
    ...     "indicators": [{"id": "c", "name": "有效投诉量", "points": 100,
    ...                     "method": "reverse", "target": 10, "actual": 12, "unit": "件"}]}]}]})
    >>> row = indicator_rows(score(cfg))[0]
    >>> row["target"], row["actual"], row["score"]
    ('≤ 10 件', '12 件', '80')
    """
    part_names = {p.name: _name(p.name, p.name_en, lang) for p in result.parts}
    rows = []
    for ind in result.indicators:
        target = format_value(ind.target, ind.unit)
        if ind.target is not None:
            target = _COMPARATORS[ind.method] + target
        actual = format_value(ind.actual, ind.unit)
        if ind.level is not None:
            actual = pick(lang, f"{ind.level} 级", f"level {ind.level}")
        rows.append({
            "part": part_names[ind.part], "group": _name(ind.group, ind.group_en, lang),
            "name": _name(ind.name, ind.name_en, lang), "points": format_number(ind.points),
            "target": target, "actual": actual, "score": format_number(ind.score),
            "reason": ind.reason or "",
        })
    return rows


def part_rows(result: ScoreResult, lang: str = "zh") -> list[dict[str, str]]:
    """Display rows (strings) of :data:`PART_COLUMNS`, one per part."""
    return [{"part": _name(p.name, p.name_en, lang), "weight": format_number(p.weight),
             "score": format_number(p.score), "max": format_number(p.max),
             "weighted_score": format_number(p.weighted_score)} for p in result.parts]


def summary_line(result: ScoreResult, lang: str = "zh") -> str:
    """The closing line of every rendering.

    >>> result = ScoreResult(total=99.2, grade="优", parts=(), indicators=())
    >>> summary_line(result), summary_line(result, "en")
    ('总分 99.2，等级 优', 'Total 99.2, grade 优')
    """
    total = format_number(result.total)
    return pick(lang, f"总分 {total}，等级 {result.grade}",
                f"Total {total}, grade {result.grade}")


def _md_cell(text: str) -> str:
    text = html.escape(text, quote=False).replace("\\", "\\\\").replace("|", "\\|")
    return " ".join(text.split())


def _md_table(rows: Sequence[Mapping[str, str]], columns: Sequence[str], lang: str,
              numeric: Iterable[str]) -> list[str]:
    numeric = set(numeric)
    lines = ["| " + " | ".join(headers(columns, lang)) + " |",
             "|" + "|".join("---:" if c in numeric else "---" for c in columns) + "|"]
    lines += ["| " + " | ".join(_md_cell(r[c]) for c in columns) + " |" for r in rows]
    return lines


def render_markdown(result: ScoreResult, lang: str = "zh") -> str:
    """A Markdown fragment: the indicator table, the part table and the total.

    Config strings are HTML-escaped and ``|`` is escaped, so a name cannot
    break the table or inject markup.
    """
    lines = []
    if result.title:
        lines += [f"**{_md_cell(result.title)}**", ""]
    lines += _md_table(indicator_rows(result, lang), INDICATOR_COLUMNS, lang,
                       ("points", "score"))
    lines.append("")
    lines += _md_table(part_rows(result, lang), PART_COLUMNS, lang,
                       ("weight", "score", "max", "weighted_score"))
    lines += ["", f"**{_md_cell(summary_line(result, lang))}**", ""]
    return "\n".join(lines)


def _html_table(rows: Sequence[Mapping[str, str]], columns: Sequence[str], lang: str,
                numeric: Iterable[str], css: str, caption: str | None = None,
                row_class: Sequence[str] | None = None) -> list[str]:
    numeric = set(numeric)
    esc = html.escape
    out = [f'<table class="{css}">']
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in headers(columns, lang))
               + "</tr></thead>")
    out.append("<tbody>")
    for n, row in enumerate(rows):
        cls = f' class="{row_class[n]}"' if row_class and row_class[n] else ""
        cells = "".join(
            f'<td class="num">{esc(row[c])}</td>' if c in numeric else f"<td>{esc(row[c])}</td>"
            for c in columns)
        out.append(f"<tr{cls}>{cells}</tr>")
    out += ["</tbody>", "</table>"]
    return out


def render_html(result: ScoreResult, lang: str = "zh") -> str:
    """An HTML fragment (``<section class="gridkit-score">``) for the report.

    Every config-provided string (title, names, reasons, grade names) is
    escaped with :func:`html.escape`. Deducted indicators carry
    ``class="deducted"``.
    """
    deducted = ["deducted" if i.deducted else "" for i in result.indicators]
    lines = ['<section class="gridkit-score">']
    lines += _html_table(indicator_rows(result, lang), INDICATOR_COLUMNS, lang,
                         ("points", "target", "actual", "score"), "gridkit-score-indicators",
                         caption=result.title, row_class=deducted)
    lines += _html_table(part_rows(result, lang), PART_COLUMNS, lang,
                         ("weight", "score", "max", "weighted_score"), "gridkit-score-parts")
    lines.append(f'<p class="gridkit-score-total">{html.escape(summary_line(result, lang))}</p>')
    lines.append("</section>")
    return "\n".join(lines) + "\n"


__all__ = [
    "DEFAULT_GRADES", "EvaluationConfig", "Group", "Indicator", "IndicatorResult",
    "INDICATOR_COLUMNS", "LEVELS", "METHODS", "Metrics", "PART_COLUMNS", "Part", "PartResult",
    "ScoreResult", "format_number", "format_value", "grade_of", "headers", "indicator_rows",
    "load_config", "load_metrics", "parse_config", "part_rows", "render_html",
    "render_markdown", "round_half_up", "score", "score_value", "summary_line",
]

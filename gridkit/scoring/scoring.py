"""Scoring: metrics JSON files merged, each indicator scored by its method, parts
weighted, the total graded.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gridkit.config import is_number
from gridkit.errors import InputError
from gridkit.metrics import METRICS
from gridkit.scoring.model import (
    FALLBACK_GRADE,
    QUANTITATIVE,
    EvaluationConfig,
    Indicator,
    IndicatorResult,
    Metrics,
    PartResult,
    ScoreResult,
    at_least,
    at_most,
    round_half_up,
)

__all__ = ["grade_of", "load_metrics", "score", "score_value"]

def load_metrics(paths: Iterable[str | os.PathLike]) -> Metrics:
    """Merge the top-level keys of metrics JSON files (``gridkit coverage/events --format json``).

    A key present in several files with different values is recorded in
    ``Metrics.conflicts`` rather than picking one; scoring an indicator that
    uses it is then an error naming the files.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "coverage.json").write_text(json.dumps({"grids": 9, "filing_rate": 1.0}))
    >>> _ = (folder / "events.json").write_text(json.dumps({"grids": 8, "closure_rate": 0.9}))
    >>> m = load_metrics([folder / "coverage.json", folder / "events.json"])
    >>> m["filing_rate"], m["closure_rate"], "grids" in m, sorted(m.conflicts["grids"].values())
    (1.0, 0.9, False, [8, 9])
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
        hint = option = None
        if isinstance(metrics, Metrics) and metrics.files:
            given = f"not found in any metrics file ({', '.join(metrics.files)})"
        elif metrics:
            given = "not found in the metrics given"
        else:
            given = "no metrics given"
            hint, option = "pass gridkit coverage/events JSON with {option}", ("metrics", None)
        known = [k for k, m in METRICS.items() if m.summary or m.group == "unit"]
        if key not in METRICS:  # a typo, not a metric the files lack: name the catalogue's
            close = difflib.get_close_matches(str(key), known, n=1)
            given += (f"; not a gridkit metric (did you mean {close[0]!r}?)" if close else
                      f"; gridkit metrics: {', '.join(known)}")
        raise InputError(f"{where}: metric {key!r}: {given}", path=config.path, hint=hint,
                         option=option)
    value = metrics[key]
    if value is None:
        raise InputError(f"{where}: metric {key!r} is null{source} (nothing to compute it "
                         "from, e.g. no dispatched events)", path=config.path)
    if not is_number(value) or not math.isfinite(value):
        raise InputError(f"{where}: metric {key!r}{source} is {value!r}, not a number",
                         path=config.path)
    if ind.method != "equal" and value < 0:
        raise InputError(f"{where}: metric {key!r}{source} is negative ({value!r})",
                         path=config.path)
    return value


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
        if at_least(actual, target):
            return full
        return round_half_up(points * actual / target)
    if method == "reverse":
        if at_most(actual, target):
            return full
        if target == 0 or at_least(actual, 2 * target):
            return 0.0
        return round_half_up(points * (1 - (actual - target) / target))
    if method == "equal":
        return full if at_least(actual, target) and at_most(actual, target) else 0.0
    raise ValueError(f"not a quantitative method: {method!r}")


def grade_of(total: float, grades: Sequence[tuple[str, float]]) -> str:
    """The first grade (highest bound first) whose lower bound ``total`` reaches.

    Examples
    --------
    >>> from gridkit.scoring import DEFAULT_GRADES
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
    config : from :func:`load_evaluation` or :func:`parse_evaluation`.
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

"""The indicator tree and its results: configured indicators, groups, parts; scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = [
    "DEFAULT_GRADES", "DEFAULT_PART_MAX", "EvaluationConfig", "FALLBACK_GRADE", "Group",
    "Indicator", "IndicatorResult", "Metrics", "Part", "PartResult", "QUALITATIVE_LEVELS",
    "QUANTITATIVE", "SCORING_METHODS", "ScoreResult", "TOLERANCE", "at_least", "at_most",
    "round_half_up", "tolerance_of",
]

SCORING_METHODS = ("manual", "positive", "reverse", "qualitative", "equal")
QUANTITATIVE = ("positive", "reverse", "equal")
#: Qualitative level → (lower, upper) fraction of points; the lower edge is inclusive,
#: the upper edge is inclusive only for A.
QUALITATIVE_LEVELS = {"A": (0.8, 1.0), "B": (0.6, 0.8), "C": (0.0, 0.6)}
DEFAULT_GRADES = {"优": 90.0, "良": 80.0, "中": 60.0}
#: Grade of a total below every lower bound of ``grades``.
FALLBACK_GRADE = "差"
#: Default maximum of a part (the sum its indicators' points must reach).
DEFAULT_PART_MAX = 100.0
TOLERANCE = 1e-9


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
    """A parsed, validated scoring config (see :func:`parse_evaluation`)."""

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
        >>> from gridkit.scoring import parse_evaluation, score
        >>> cfg = parse_evaluation({"parts": [{"name": "P", "weight": 1, "groups": [{"name": "G",
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


def tolerance_of(reference: float) -> float:
    return TOLERANCE * max(1.0, abs(reference))


def at_least(a: float, b: float) -> bool:
    return a >= b - tolerance_of(b)


def at_most(a: float, b: float) -> bool:
    return a <= b + tolerance_of(b)



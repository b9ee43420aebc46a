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
>>> cfg = parse_evaluation({"parts": [{"name": "结果", "weight": 1, "groups": [
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

from gridkit.scoring.config import load_evaluation, parse_evaluation
from gridkit.scoring.model import (
    DEFAULT_GRADES,
    DEFAULT_PART_MAX,
    FALLBACK_GRADE,
    QUALITATIVE_LEVELS,
    QUANTITATIVE,
    SCORING_METHODS,
    TOLERANCE,
    EvaluationConfig,
    Group,
    Indicator,
    IndicatorResult,
    Metrics,
    Part,
    PartResult,
    ScoreResult,
    round_half_up,
)
from gridkit.scoring.rendering import (
    INDICATOR_COLUMNS,
    PART_COLUMNS,
    format_number,
    format_value,
    headers,
    indicator_rows,
    part_rows,
    render_score_html,
    render_score_markdown,
    summary_line,
)
from gridkit.scoring.scoring import grade_of, load_metrics, score, score_value

__all__ = [
    "DEFAULT_GRADES", "DEFAULT_PART_MAX", "EvaluationConfig", "FALLBACK_GRADE", "Group",
    "INDICATOR_COLUMNS", "Indicator", "IndicatorResult", "Metrics", "PART_COLUMNS", "Part",
    "PartResult", "QUALITATIVE_LEVELS", "QUANTITATIVE", "SCORING_METHODS", "ScoreResult",
    "TOLERANCE", "format_number", "format_value", "grade_of", "headers", "indicator_rows",
    "load_evaluation", "load_metrics", "parse_evaluation", "part_rows", "render_score_html",
    "render_score_markdown", "round_half_up", "score", "score_value", "summary_line",
]

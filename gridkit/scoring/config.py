"""The scoring config (YAML): read and checked into an :class:`EvaluationConfig`.

Read with :mod:`gridkit.config`; every error names the file and the part, group or
indicator (its id and position ``parts[i].groups[j].indicators[k]``).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from gridkit.config import ConfigSection, as_section, is_number, load_config_file
from gridkit.scoring.model import (
    DEFAULT_GRADES,
    DEFAULT_PART_MAX,
    QUALITATIVE_LEVELS,
    QUANTITATIVE,
    SCORING_METHODS,
    TOLERANCE,
    EvaluationConfig,
    Group,
    Indicator,
    Part,
    at_least,
    at_most,
    tolerance_of,
)

__all__ = ["load_evaluation", "parse_evaluation"]

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


def _label(kind: str, name: Any, where: str) -> str:
    return f"{kind} {name!r} at {where}" if isinstance(name, str) and name else where


def parse_evaluation(data: Any, path: str | os.PathLike | None = None) -> EvaluationConfig:
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
    >>> parse_evaluation({"parts": [{"name": "P", "weight": 0.5, "groups": []}]})
    Traceback (most recent call last):
    ...
    gridkit.errors.InputError: part 'P' at parts[0]: 'groups' must be a non-empty list
    """
    return _evaluation(as_section(data, path=path, where="config", what="the config"))


def _evaluation(top: ConfigSection) -> EvaluationConfig:
    """The indicator tree of the config's top mapping (see :func:`parse_evaluation`)."""
    top.check_keys(_TOP_KEYS)
    title = top.text("title", required=False)
    grades = _parse_grades(top, top.get("grades", DEFAULT_GRADES))
    parts = tuple(_parse_part(top, raw, f"parts[{n}]")
                  for n, raw in enumerate(top.sections("parts")))

    seen_parts: set[str] = set()
    seen_ids: dict[str, str] = {}
    for part in parts:
        if part.name in seen_parts:
            raise top.error("duplicate part name", f"part {part.name!r}")
        seen_parts.add(part.name)
        for ind in part.indicators:
            if ind.id in seen_ids:
                raise top.error(f"duplicate id (first used at {seen_ids[ind.id]})",
                                f"indicator {ind.id!r} at {ind.where}")
            seen_ids[ind.id] = ind.where
    weights = sum(p.weight for p in parts)
    if not math.isclose(weights, 1.0, abs_tol=TOLERANCE):
        listed = ", ".join(f"{p.name} {p.weight:g}" for p in parts)
        raise top.error(f"part weights sum to {weights:g}, not 1 ({listed})")
    return EvaluationConfig(parts=parts, grades=grades, title=title, path=top.path)


def _parse_grades(top: ConfigSection, raw: Any) -> tuple[tuple[str, float], ...]:
    grades = top.section(raw, "grades", "'grades'")
    if not grades.data:
        raise grades.error("at least one grade is needed, e.g. {优: 90, 良: 80, 中: 60}")
    out: list[tuple[str, float]] = []
    for name, bound in grades.data.items():
        if not isinstance(name, str) or not name.strip():
            raise grades.error(f"grade name {name!r} must be a non-empty string")
        if not is_number(bound) or not 0 <= bound <= 100:
            raise grades.error(f"lower bound {bound!r} must be a number from 0 to 100",
                               f"grades: {name}")
        out.append((name, float(bound)))
    bounds = [b for _, b in out]
    if len(set(bounds)) != len(bounds):
        raise grades.error("two grades have the same lower bound")
    return tuple(sorted(out, key=lambda g: -g[1]))


def _parse_part(top: ConfigSection, raw: Any, pos: str) -> Part:
    raw = top.section(raw, pos, "a part")
    raw.where = _label("part", raw.get("name"), pos)
    raw.check_keys(_PART_KEYS)
    name = raw.text("name")
    weight = raw.number("weight")
    if not 0 < weight <= 1:
        raise raw.error(f"weight {weight:g} must be in (0, 1]")
    part_max = float(raw.number("max", default=DEFAULT_PART_MAX))
    if part_max <= 0:
        raise raw.error(f"max {part_max:g} must be positive")
    groups = tuple(_parse_group(raw, g, f"{pos}.groups[{n}]", name)
                   for n, g in enumerate(raw.sections("groups")))
    part = Part(name=name, weight=float(weight), max=part_max, groups=groups,
                name_en=raw.text("name_en", required=False))
    total = sum(i.points for i in part.indicators)
    if not math.isclose(total, part_max, abs_tol=tolerance_of(part_max)):
        by_group = ", ".join(f"{g.name} {sum(i.points for i in g.indicators):g}" for g in groups)
        raise raw.error(f"points of its indicators sum to {total:g}, not its maximum "
                        f"{part_max:g} (by group: {by_group}; declare 'max: {total:g}' "
                        "if that is intended)")
    return part


def _parse_group(part_section: ConfigSection, raw: Any, pos: str, part: str) -> Group:
    raw = part_section.section(raw, pos, "a group")
    raw.where = _label("group", raw.get("name"), pos)
    raw.check_keys(_GROUP_KEYS)
    name = raw.text("name")
    raw_inds = raw.sections("indicators")
    name_en = raw.text("name_en", required=False)
    inds = tuple(_parse_indicator(raw, i, f"{pos}.indicators[{n}]", part, (name, name_en))
                 for n, i in enumerate(raw_inds))
    return Group(name=name, indicators=inds, name_en=name_en)


def _parse_indicator(group_section: ConfigSection, raw: Any, pos: str, part: str,
                     group: tuple[str, str | None]) -> Indicator:
    raw = group_section.section(raw, pos, "an indicator")
    ident = raw.get("id")
    raw.where = _label("indicator", ident, pos)
    if not isinstance(ident, str) or not ident.strip():
        raise raw.error(f"'id' must be a non-empty string, got {ident!r}")
    method = raw.get("method")
    if method not in SCORING_METHODS:
        raise raw.error(f"method {method!r} is not one of {', '.join(SCORING_METHODS)}")
    raw.check_keys(_COMMON_KEYS + _METHOD_KEYS[method], context=f" for method {method!r}")
    points = raw.number("points")
    if points <= 0:
        raise raw.error(f"points {points:g} must be positive")
    common = {"id": ident, "name": raw.text("name"), "points": points,
              "method": method, "part": part, "group": group[0], "group_en": group[1],
              "where": pos,
              "name_en": raw.text("name_en", required=False),
              "reason": raw.text("reason", required=False)}

    if method in QUANTITATIVE:
        target = raw.number("target", required=False)
        if target is None:
            raise raw.error(f"'target' is missing (required for method {method!r})")
        actual = raw.number("actual", required=False)
        metric = raw.text("metric", required=False)
        if (actual is None) == (metric is None):
            raise raw.error("give exactly one of 'actual' (a value) or 'metric' "
                            "(a key of a metrics JSON file)")
        unit = raw.text("unit", required=False)
        if method != "equal":
            for key, value in (("target", target), ("actual", actual)):
                if value is not None and value < 0:
                    raise raw.error(f"{key} {value:g} must not be negative")
        if unit == "%":
            for key, value in (("target", target), ("actual", actual)):
                if value is not None and abs(value) > 1:
                    raise raw.error(f"{key} {value:g} with unit '%' must be a "
                                    f"fraction ({value / 100:g} for {value:g}%)")
        return Indicator(**common, target=target, actual=actual, metric=metric, unit=unit)

    given = raw.number("score")
    if method == "manual":
        if not (at_least(given, 0) and at_most(given, points)):
            raise raw.error(f"score {given:g} is outside 0..{points:g}")
        return Indicator(**common, score=float(given))
    level = raw.get("level")
    if not isinstance(level, str) or level not in QUALITATIVE_LEVELS:
        raise raw.error(f"level {level!r} is not one of {', '.join(QUALITATIVE_LEVELS)}")
    low, high = QUALITATIVE_LEVELS[level]
    ratio = given / points
    inside = at_least(ratio, low) and (at_most(ratio, high) if level == "A"
                                       else not at_least(ratio, high))
    if not inside:
        closing = "]" if level == "A" else ")"
        raise raw.error(f"score {given:g} is outside level {level}'s band "
                        f"[{low * points:g}, {high * points:g}{closing} of {points:g} "
                        f"points ({low:.0%}–{high:.0%})")
    return Indicator(**common, score=float(given), level=level)


def load_evaluation(path: str | os.PathLike) -> EvaluationConfig:
    """Read and validate a scoring config (YAML, ``yaml.safe_load``) with the one config
    loader, :func:`gridkit.config.load_config_file`, like the rules and project files.

    Examples
    --------
    >>> from gridkit.data import data_path
    >>> cfg = load_evaluation(data_path("evaluation-2023.yaml"))
    >>> len(cfg.indicators)
    17
    """
    return _evaluation(load_config_file(Path(path), "scoring config", where="config"))

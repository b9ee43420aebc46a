"""Rule ids, default severities and the tolerances of ``gridkit validate``.

A rules file (``--config rules.yaml``, read with ``yaml.safe_load``) overrides
any of the defaults below; unknown keys are refused so that a typo never
silently leaves a default in force::

    snap_tolerance_m: 0.5        # pieces narrower than this are digitising noise
    area_tolerance_m2: 1         # pieces smaller than this are digitising noise
    sliver_max_compactness: 0.1  # Polsby-Popper 4*pi*A/P^2 below this ...
    sliver_max_width_m: 30       # ... and mean width 2*A/P below this: a sliver
    area_min_m2: 1000
    area_max_m2: 50000000
    households_min: 50
    households_max: 1500
    iou_threshold: 0.95
    offset_min_shift_m: 5        # layer_offset: smallest systematic shift reported
    offset_min_share: 0.7        # ... shared by at least this share of matched grids
    code_pattern: '^(?P<community>\\d{12})(?P<serial>(?!000)\\d{3})$'
    required_attributes: [grid_code, grid_name, community_code]
    severity:                    # per rule: error, warning or off
      multipart: error
      code_serial_order: off

``code_pattern`` may name the groups ``community`` (the community code the
grid belongs to; default the first 12 characters) and ``serial`` (the serial
number used by ``code_serial_order``; default the characters after the
community part).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from gridkit.config import ConfigSection, load_config_file
from gridkit.errors import InputError

__all__ = ["COMMUNITY_CODE_LENGTH", "DEFAULT_CODE_PATTERN", "RULE_NAMES_ZH", "RULES",
    "SEVERITIES", "WARNING_RULES", "load_rules", "RuleConfig"]

#: Rule ids in the order of SPEC §7 (findings are sorted in this order).
RULES: tuple[str, ...] = (
    "invalid_geometry",
    "empty_geometry",
    "overlap",
    "gap",
    "outside_community",
    "sliver",
    "multipart",
    "area_out_of_range",
    "households_out_of_range",
    "missing_attribute",
    "code_format",
    "code_duplicate",
    "code_community_mismatch",
    "code_unknown_community",
    "code_serial_order",
    "not_published",
    "missing_from_layer",
    "geometry_mismatch",
    "attribute_mismatch",
    "layer_offset",
)

#: Chinese names of the rules, for tables and maps.
RULE_NAMES_ZH = {
    "invalid_geometry": "几何无效",
    "empty_geometry": "几何为空",
    "overlap": "网格重叠",
    "gap": "网格缝隙",
    "outside_community": "超出社区",
    "sliver": "细长碎片",
    "multipart": "多部件",
    "area_out_of_range": "面积超限",
    "households_out_of_range": "户数超限",
    "missing_attribute": "属性缺失",
    "code_format": "编码格式",
    "code_duplicate": "编码重复",
    "code_community_mismatch": "编码与社区不符",
    "code_unknown_community": "社区编码不在代码表",
    "code_serial_order": "序号顺序",
    "not_published": "未上图",
    "missing_from_layer": "图层缺失",
    "geometry_mismatch": "图形不一致",
    "attribute_mismatch": "属性不一致",
    "layer_offset": "图层整体偏移",
}

#: Rules that are warnings unless the configuration says otherwise.
WARNING_RULES = frozenset(
    {"sliver", "multipart", "area_out_of_range", "households_out_of_range", "code_serial_order"}
)
SEVERITIES = ("error", "warning", "off")

DEFAULT_CODE_PATTERN = r"^(?P<community>\d{12})(?P<serial>(?!000)\d{3})$"
COMMUNITY_CODE_LENGTH = 12


def _default_severity() -> dict[str, str]:
    return {rule: "warning" if rule in WARNING_RULES else "error" for rule in RULES}


@dataclass(frozen=True)
class RuleConfig:
    """Tolerances, bounds and severities of the validation rules (all in metres / m²).

    Examples
    --------
    >>> cfg = RuleConfig.from_mapping({"iou_threshold": 0.9, "severity": {"multipart": "error"}})
    >>> cfg.iou_threshold, cfg.severity["multipart"], cfg.severity["sliver"]
    (0.9, 'error', 'warning')
    >>> RuleConfig.from_mapping({"iou_treshold": 0.9})
    Traceback (most recent call last):
    ...
    gridkit.errors.InputError: unknown key 'iou_treshold' (allowed: ...); did you mean 'iou_thr...'?
    """

    snap_tolerance_m: float = 0.5
    area_tolerance_m2: float = 1.0
    sliver_max_compactness: float = 0.1
    sliver_max_width_m: float = 30.0
    area_min_m2: float = 1_000.0
    area_max_m2: float = 50_000_000.0
    households_min: float = 50.0
    households_max: float = 1_500.0
    iou_threshold: float = 0.95
    offset_min_shift_m: float = 5.0
    offset_min_share: float = 0.7
    code_pattern: str = DEFAULT_CODE_PATTERN
    required_attributes: tuple[str, ...] = ("grid_code", "grid_name", "community_code")
    severity: dict[str, str] = field(default_factory=_default_severity)

    @property
    def code_regex(self) -> re.Pattern[str]:
        """The compiled ``code_pattern``."""
        return re.compile(self.code_pattern)

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None, *, path: str | None = None) -> RuleConfig:
        """Defaults overridden by ``values`` (the parsed rules file); ``InputError`` when wrong."""
        values = dict(values or {})
        section = ConfigSection(values, path=path)
        section.check_keys([f.name for f in fields(cls)])
        config = cls()
        updates: dict[str, Any] = {}
        for key, value in values.items():
            if key == "severity":
                updates[key] = _severity(value, config.severity, path)
            elif key == "code_pattern":
                updates[key] = _pattern(value, path)
            elif key == "required_attributes":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise InputError(f"{key} must be a list of column names", path=path)
                updates[key] = tuple(value)
            else:
                updates[key] = float(section.number(key, minimum=0))
        config = replace(config, **updates)
        for low, high in (("area_min_m2", "area_max_m2"), ("households_min", "households_max")):
            if getattr(config, low) > getattr(config, high):
                raise InputError(f"{low} is larger than {high}", path=path)
        for key in ("iou_threshold", "offset_min_share"):
            if not 0 < getattr(config, key) <= 1:
                raise InputError(f"{key} must be in (0, 1]", path=path)
        return config


def _pattern(value: Any, path: str | None) -> str:
    if not isinstance(value, str):
        raise InputError(f"code_pattern must be a regular expression, got {value!r}", path=path)
    try:
        re.compile(value)
    except re.error as exc:
        raise InputError(f"code_pattern is not a valid regular expression: {exc}",
                         path=path) from None
    return value


def _severity(value: Any, defaults: dict[str, str], path: str | None) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InputError("severity must map rule ids to error, warning or off", path=path)
    out = dict(defaults)
    for rule, level in value.items():
        if rule not in RULES:
            raise InputError(f"severity: unknown rule {rule!r}; rules: {', '.join(RULES)}",
                             path=path)
        level = "off" if level is False else level  # YAML 1.1 reads a bare `off` as false
        if level not in SEVERITIES:
            raise InputError(
                f"severity of {rule} must be error, warning or off, got {level!r}", path=path
            )
        out[rule] = level
    return out


def load_rules(path: str | os.PathLike | None = None) -> RuleConfig:
    """Read a rules file (YAML, ``yaml.safe_load``); ``None`` gives the defaults.

    Examples
    --------
    >>> load_rules().iou_threshold
    0.95
    """
    if path is None:
        return RuleConfig()
    top = load_config_file(path, "rules file", allow_empty=True)
    return RuleConfig.from_mapping(dict(top.data), path=str(path))

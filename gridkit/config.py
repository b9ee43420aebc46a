"""One typed loader for gridkit's YAML configuration files.

The rules file of ``gridkit validate``, the scoring config of ``gridkit score``
and the project file of ``gridkit report`` are all read the same way: the file
through :func:`gridkit.io.read_yaml` (``yaml.safe_load``), then each mapping
through a :class:`ConfigSection` that hands out typed values and refuses
unknown keys with a suggestion. Every error is one line naming the file and
where in it (``part '项目管理' at parts[0]: 'weight' is missing``).

Examples
--------
>>> section = ConfigSection({"iou_threshold": 0.9, "snap_tolerance": 1}, path="rules.yaml")
>>> section.number("iou_threshold")
0.9
>>> section.check_keys(["iou_threshold", "snap_tolerance_m"])
Traceback (most recent call last):
...
gridkit.errors.InputError: rules.yaml: unknown key 'snap_tolerance' (allowed: iou_threshold, \
snap_tolerance_m); did you mean 'snap_tolerance_m'?
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from gridkit.errors import InputError
from gridkit.io.yamlfile import read_yaml

__all__ = ["ConfigSection", "as_section", "is_number", "load_config_file"]


def is_number(value: Any) -> bool:
    """A YAML number (``int`` or ``float``, not a boolean).

    >>> is_number(3), is_number(2.5), is_number(True), is_number("3")
    (True, True, False, False)
    """
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class ConfigSection:
    """One mapping of a configuration file: typed values and one-line errors.

    Parameters
    ----------
    data : the mapping (a parsed YAML mapping or part of one).
    path : the file, named in errors.
    where : where the mapping is inside the file (``"config"``, ``"part 'P' at
        parts[0]"``); empty for a flat file, whose errors name only the key.
    """

    def __init__(self, data: Mapping[str, Any], *, path: str | os.PathLike | None = None,
                 where: str = "") -> None:
        self.data = data
        self.path = None if path is None else str(path)
        self.where = where

    def error(self, message: str, where: str | None = None) -> InputError:
        """An :class:`InputError` naming the file and ``where`` (default: this section's)."""
        where = self.where if where is None else where
        return InputError(f"{where}: {message}" if where else message, path=self.path)

    def get(self, key: str, default: Any = None) -> Any:
        """The raw value of ``key`` (``default`` when absent)."""
        return self.data.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def check_keys(self, allowed: Sequence[str], *, context: str = "") -> None:
        """Refuse a key not in ``allowed``, suggesting the closest allowed one.

        ``context`` follows the key in the message (e.g. ``" for method 'manual'"``).
        """
        for key in self.data:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.error(f"unknown key {key!r}{context} "
                                 f"(allowed: {', '.join(allowed)}){hint}")

    def text(self, key: str, *, required: bool = True) -> str | None:
        """A non-empty string; ``None`` when absent and not ``required``."""
        value = self.data.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            state = "is missing" if value is None else "must be a non-empty string"
            raise self.error(f"{key!r} {state}")
        return value

    def number(self, key: str, *, required: bool = True, default: float | None = None,
               minimum: float | None = None) -> float | None:
        """A finite number (≥ ``minimum`` when given); ``default`` when absent.

        A rate written as a percentage (``"90%"``) is refused with the fraction to
        write instead.
        """
        value = self.data.get(key)
        if value is None:
            if required and default is None:
                raise self.error(f"{key!r} is missing")
            return default
        if not is_number(value) or not math.isfinite(value) or (
                minimum is not None and value < minimum):
            bound = "" if minimum is None else f" ≥ {minimum:g}"
            hint = ""
            if isinstance(value, str) and value.strip().endswith("%"):
                hint = " (write rates as fractions: 0.9 for 90%)"
            raise self.error(f"{key!r} must be a number{bound}, got {value!r}{hint}")
        return value

    def section(self, value: Any, where: str, what: str) -> ConfigSection:
        """``value`` (an element of this file) as a section at ``where``; it must be a mapping."""
        return as_section(value, path=self.path, where=where, what=what)

    def sections(self, key: str) -> list[Any]:
        """The non-empty list under ``key`` (its elements become sections via :meth:`section`)."""
        value = self.data.get(key)
        if not isinstance(value, list) or not value:
            raise self.error(f"{key!r} must be a non-empty list")
        return value


def as_section(value: Any, *, path: str | os.PathLike | None, where: str, what: str
               ) -> ConfigSection:
    """``value`` as a :class:`ConfigSection`; an error unless it is a mapping.

    >>> as_section([1], path="eval.yaml", where="config", what="the config")
    Traceback (most recent call last):
    ...
    gridkit.errors.InputError: eval.yaml: config: the config must be a mapping, got list
    """
    if not isinstance(value, Mapping):
        message = f"{what} must be a mapping, got {type(value).__name__}"
        raise InputError(f"{where}: {message}" if where else message, path=path)
    return ConfigSection(value, path=path, where=where)


def load_config_file(path: str | os.PathLike, what: str, *, where: str = "",
                     allow_empty: bool = False) -> ConfigSection:
    """Read a YAML configuration file into its top :class:`ConfigSection`.

    Parameters
    ----------
    path : the file.
    what : what the file is, for messages (``"rules file"``, ``"project file"``).
    where : label of the top mapping in messages (``"config"`` for the scoring config).
    allow_empty : an empty file is an empty mapping (else: an error).

    Raises
    ------
    InputError
        Missing or unreadable file, not YAML, or not a mapping.

    Examples
    --------
    >>> from gridkit.data import data_path
    >>> top = load_config_file(data_path("sample", "project.yaml"), "project file")
    >>> top.text("grids")
    'grids.gpkg'
    """
    data = read_yaml(path, what)
    if data is None and allow_empty:
        data = {}
    if not isinstance(data, Mapping):
        raise InputError(f"the {what} must be a YAML mapping (key: value)", path=path)
    return ConfigSection(data, path=path, where=where)

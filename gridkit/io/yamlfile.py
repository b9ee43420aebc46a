"""Reading the YAML files users and contractors write (rules, scoring, projects).

Only ``yaml.safe_load``: a tag such as ``!!python/object/apply`` is refused,
never executed. Every failure is one :class:`~gridkit.errors.InputError` line
naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from gridkit.errors import InputError

__all__ = ["read_yaml"]


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def read_yaml(path: str | os.PathLike, what: str) -> object:
    """Parse a UTF-8 YAML file safely.

    Parameters
    ----------
    path : the file.
    what : what the file is, for messages ("config", "project file", "rules file").

    Returns
    -------
    The parsed document (``None`` for an empty file).

    Raises
    ------
    InputError
        Missing or unreadable file, or not valid YAML (with line and column
        where PyYAML knows them; a date-like scalar that is no date, such as
        ``2023-13-45``, and absurd nesting included).

    Examples
    --------
    >>> from gridkit.data import data_path
    >>> read_yaml(data_path("evaluation-2023.yaml"), "config")["grades"]
    {'优': 90, '良': 80, '中': 60}
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{what} not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the {what}: {_one_line(exc)}", path=path) from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        # PyYAML's message spans several lines (with a snippet); the CLI prints one line.
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(f"not valid YAML{where}: {exc.problem or exc.context}",
                         path=path) from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        # ValueError: a scalar that looks like a date but is none (2023-13-45).
        raise InputError(f"not valid YAML: {_one_line(exc)}", path=path) from None

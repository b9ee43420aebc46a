"""Language selection for user-facing text: Chinese by default, English with ``--lang en``."""

from __future__ import annotations

import unicodedata

__all__ = ["DEFAULT_LANG", "LANGS", "LEVEL_NAMES", "SEVERITY_NAMES", "display_width",
           "level_name", "pick", "severity_name"]

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
#: Administrative level (roll-up unit) → (Chinese, English) display name: the one table that
#: tables, sheets, maps and the report name levels by.
LEVEL_NAMES = {"grid": ("网格", "grid"), "community": ("社区", "community"),
               "street": ("街道", "street"), "district": ("区", "district"),
               "city": ("市", "city")}
#: Finding severity → (Chinese, English) display name.
SEVERITY_NAMES = {"error": ("错误", "error"), "warning": ("警告", "warning")}


def pick(lang: str, zh: str, en: str) -> str:
    """Return the text for ``lang``.

    >>> pick("en", zh="重叠", en="overlap")
    'overlap'
    """
    return en if lang == "en" else zh


def level_name(level: str, lang: str) -> str:
    """Display name of a level (:data:`LEVEL_NAMES`); an unknown level as given.

    >>> level_name("street", "zh"), level_name("street", "en"), level_name("zone", "zh")
    ('街道', 'street', 'zone')
    """
    return pick(lang, *LEVEL_NAMES.get(level, (level, level)))


def severity_name(severity: str | None, lang: str) -> str:
    """Display name of a severity (:data:`SEVERITY_NAMES`); ``-`` when there is none,
    an unknown value as given.

    >>> severity_name("warning", "zh"), severity_name("error", "en"), severity_name(None, "zh")
    ('警告', 'error', '-')
    """
    if not severity:
        return "-"
    return pick(lang, *SEVERITY_NAMES.get(severity, (severity, severity)))


def display_width(text: str) -> int:
    """Display width of ``text`` in a terminal or a spreadsheet: CJK characters count two.

    >>> display_width("备案率 rate")
    11
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

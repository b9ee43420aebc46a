"""Language selection for user-facing text: Chinese by default, English with ``--lang en``."""

from __future__ import annotations

import unicodedata

__all__ = ["DEFAULT_LANG", "LANGS", "display_width", "pick"]

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


def pick(lang: str, zh: str, en: str) -> str:
    """Return the text for ``lang``.

    >>> pick("en", zh="重叠", en="overlap")
    'overlap'
    """
    return en if lang == "en" else zh


def display_width(text: str) -> int:
    """Display width of ``text`` in a terminal or a spreadsheet: CJK characters count two.

    >>> display_width("备案率 rate")
    11
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

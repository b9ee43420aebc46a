"""Language selection for user-facing text: Chinese by default, English with ``--lang en``."""

from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


def pick(lang: str, zh: str, en: str) -> str:
    """Return the text for ``lang``.

    >>> pick("en", zh="重叠", en="overlap")
    'overlap'
    """
    return en if lang == "en" else zh

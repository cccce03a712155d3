"""Which language a review is written in: English or Chinese, by the share of CJK characters."""

from __future__ import annotations

import re

#: The languages the review pipelines serve.
LANGUAGES = ("en", "zh")

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")


def cjk_share(text: str) -> float:
    """The share of CJK ideographs among the text's letters (0 without letters)."""
    letters = len(_LETTER.findall(text))
    return len(_CJK.findall(text)) / letters if letters else 0.0


def detect_language(text: str, default: str = "en") -> str:
    """``zh`` when at least a fifth of the letters are CJK ideographs (a Latin brand name in a
    Chinese sentence is still Chinese), ``en`` when there are other letters, else ``default``."""
    if _CJK.search(text) is None:  # most texts: no ideograph at all
        return "en" if _LETTER.search(text) else default
    letters = len(_LETTER.findall(text))
    return "zh" if len(_CJK.findall(text)) / letters >= 0.2 else "en"

"""Computed numbering: 一、（一）1.（1）and 一是/二是 — never typed by hand."""

from __future__ import annotations

import re

__all__ = ["SELF_NUMBERED", "chinese_numeral", "item_label"]

_DIGITS = "零一二三四五六七八九"

# A lead or text that starts with a number the user typed: （五）、(5)、五、、5.、5、、（5）、五是
SELF_NUMBERED = re.compile(
    r"^\s*(?:[（(][一二三四五六七八九十]+[）)]|[一二三四五六七八九十]+[、.．]|\d+\s*[.、．]|[（(]\d+[）)]|"
    r"[一二三四五六七八九十]+是)\s*")


def chinese_numeral(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十, 99 -> 九十九."""
    if not 1 <= n <= 99:
        return str(n)
    tens, ones = divmod(n, 10)
    text = ("" if tens == 1 else _DIGITS[tens]) + "十" if tens else ""
    return text + (_DIGITS[ones] if ones else "")


def item_label(style: str, n: int) -> str:
    """The number written before the n-th (1-based) item in the given style."""
    if style == "chinese":
        return f"{chinese_numeral(n)}、"
    if style == "paren_chinese":
        return f"（{chinese_numeral(n)}）"
    if style == "arabic":
        return f"{n}."
    if style == "paren_arabic":
        return f"（{n}）"
    if style in ("ordinal_inline", "ordinal_paragraphs"):
        return f"{chinese_numeral(n)}是"
    return ""

"""Computed numbering: 一、（一）1.（1）and 一是/二是 — never typed by hand."""

from __future__ import annotations

__all__ = ["NUMBERING_STYLES", "chinese_numeral", "item_label"]

_DIGITS = "零一二三四五六七八九"

# style name -> how an item number is written; "ordinal_*" produce 一是/二是.
NUMBERING_STYLES = (
    "chinese",  # 一、
    "paren_chinese",  # （一）
    "arabic",  # 1.
    "paren_arabic",  # （1）
    "ordinal_inline",  # 一是……二是…… in one paragraph
    "ordinal_paragraphs",  # 一是…… each starting its own paragraph
    "none",  # lead phrase without a number
)


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

"""Reading typed fields out of a Tree, collecting every problem instead of stopping.

Shared by the profile, the pack manifest and the fill-in workbook, so that each reports every
problem at once, with where it is and a hint, in the same words.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Collection, Mapping
from typing import Any

from ..errors import Problem
from .yamlfile import KeyPath, Tree, describe

__all__ = ["MAX_HINTED", "MAX_TEXT", "OFF", "ON", "FieldReader", "clean_text", "read_date", "suggest"]

MAX_TEXT = 5000  # characters in one paragraph the user writes
OFF = {"false", "no", "off", "无", "不要", "没有", "否", "关"}
ON = {"true", "yes", "on", "有", "要", "是", "开"}

_WIDE = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_SPACE_BETWEEN_WIDE = re.compile(f"(?<=[{_WIDE}])[ \t]+(?=[{_WIDE}])")


_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")


def read_date(raw: Any) -> dt.date | None:
    """A date as a clerk types it (2026-01-10, 2026/1/10, 2026年1月10日) or YAML reads it; None when it
    is no date.  ValueError when it is written as one but does not exist (2026-02-30)."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    match = _DATE.fullmatch(unicodedata.normalize("NFKC", str(raw)).strip())
    return dt.date(*(int(group) for group in match.groups())) if match else None


def clean_text(value: str) -> str:
    """Text pasted from Word or folded by YAML: line breaks go, with the spaces they leave between
    Chinese characters; everything else stays literally."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    value = "".join(part.strip(" \t") for part in value.split("\n"))  # linear, whatever the spaces
    return _SPACE_BETWEEN_WIDE.sub("", value).strip()


def suggest(word: str, choices: Collection[str], labels: Mapping[str, str] | None = None) -> str:
    """A hint naming the nearest valid key (by spelling, or by its Chinese label)."""
    if labels:
        for key, label in labels.items():
            if word and key in choices and (word == label or word in label or label in word):
                return f"“{word}”应写作“{key}”"
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if close:
        return f"是不是“{close[0]}”？"
    listed = list(choices)
    return "可用的键：" + "、".join(listed[:12]) + ("……" if len(listed) > 12 else "")


MAX_HINTED = 50  # after this many problems nobody reads more hints: stop computing them


class FieldReader:
    """Reads typed fields out of a Tree, collecting every problem instead of stopping."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.problems: list[Problem] = list(tree.problems)

    def report(self, path: KeyPath, message: str, hint: str | None = None, *, at_key: bool = False) -> None:
        self.problems.append(self.tree.problem(path, message, hint, at_key=at_key))

    def value(self, path: KeyPath) -> Any:
        return self.tree.value(path)

    def typed(self, path: KeyPath, kind: type, *, required: bool = False, hint: str | None = None) -> Any:
        value = self.value(path)
        names = {str: "一段文字", int: "整数", dict: "“键: 值”映射", list: "列表（每项以“- ”开头）", bool: "true 或 false"}
        if value is None:
            if required:
                self.report(path, f"缺少必填项，应为{names.get(kind, kind.__name__)}", hint, at_key=True)
            return None
        if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if kind is int and isinstance(value, bool):
            value = None
        if not isinstance(value, kind):
            self.report(path, f"应为{names.get(kind, kind.__name__)}，实际是{describe(value)}", hint)
            return None
        return value.strip() if isinstance(value, str) else value

    def text(self, path: KeyPath, *, required: bool = False) -> str | None:
        """A paragraph the user writes: cleaned, bounded."""
        value = self.typed(path, str, required=required)
        if not value:
            return None
        cleaned = clean_text(value)
        if len(cleaned) > MAX_TEXT:
            self.report(path, f"这段文字太长（{len(cleaned)} 字）", f"一段最多 {MAX_TEXT} 字，请拆分或精简")
            return None
        return cleaned or None

    def known_keys(self, path: KeyPath, allowed: Collection[str], *, labels: Mapping[str, str] | None = None) -> None:
        """Report keys under ``path`` that are not allowed, suggesting the nearest valid one."""
        table = self.value(path) if path else self.tree.data
        if not isinstance(table, dict):
            return
        for key in table:
            if key not in allowed:
                hint = suggest(key, allowed, labels) if len(self.problems) < MAX_HINTED else None
                self.report((*path, key), f"未知的键“{key}”", hint, at_key=True)

    def switch(self, path: KeyPath) -> bool | None:
        """true/false, or what a clerk types for it (有/无、要/不要)."""
        value = self.value(path)
        if value is None or isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in OFF:
            return False
        if text in ON:
            return True
        self.report(path, f"应为 true 或 false，实际是{describe(value)}", "写 true（要）或 false（不要）")
        return None



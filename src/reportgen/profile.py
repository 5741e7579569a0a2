"""The profile (资料文件): the unit's year described in YAML, validated against a pack.

Loading keeps the line and column of every value; validation collects every problem
before giving up, so the user fixes the whole file in one go.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Problem, ProfileError, display_path
from .pack import CATALOGUE_FOR_SECTION, FactSpec, Pack
from .yamlsource import (
    FieldReader,
    KeyPath,
    YamlDocument,
    decode_text,
    describe,
    parse_yaml,
    read_source,
    suggest,
)

__all__ = [
    "META_FIELDS",
    "Choice",
    "FactValue",
    "Meta",
    "Profile",
    "Rectification",
    "load_profile_document",
    "validate_profile",
]

# key -> Chinese label; the order is the scaffold's order.
META_FIELDS: Mapping[str, str] = {
    "unit": "单位名称",
    "name": "述职人姓名",
    "position": "述职人职务",
    "year": "述职年度",
    "superior": "上级党组织",
    "basis": "述职依据（通知或会议安排）",
    "date": "报告日期",
}
TOP_LEVEL = ("pack", "meta", "facts", "work", "rectification", "problems", "causes", "measures", "overrides")
TOP_LABELS = {"pack": "模板包", "meta": "基本信息", "facts": "事实数据", "work": "履职工作", "rectification": "整改",
              "problems": "问题", "causes": "原因", "measures": "措施", "overrides": "替换段落"}
CHOICE_KEYS = ("key", "lead", "text", "add")
MAX_TEXT = 5000  # characters in one user paragraph


FactValue = int | float | str | tuple[str, ...]


@dataclass(frozen=True)
class Meta:
    unit: str | None = None
    name: str | None = None
    position: str | None = None
    year: int | None = None
    superior: str | None = None
    basis: str | None = None
    date: str | None = None  # already written the Chinese way: 2026年1月10日

    def get(self, key: str) -> str | int | None:
        value: str | int | None = getattr(self, key)
        return value


@dataclass(frozen=True)
class Choice:
    """One item the profile picks: a catalogue key, the user's own words, or both."""

    key: str | None = None  # catalogue key; None when written entirely by the user
    lead: str | None = None  # replaces the catalogue's lead phrase
    text: str | None = None  # replaces the generated paragraph body
    add: str | None = None  # appended after the generated body


@dataclass(frozen=True)
class Rectification:
    problem: str | None  # None: still to be filled in (shows as a placeholder)
    action: str | None


@dataclass(frozen=True)
class Profile:
    file: str  # as shown in messages
    digest: str  # sha256 of the file's bytes: recorded in the draft
    pack: str | None
    meta: Meta
    facts: Mapping[str, FactValue]
    work: tuple[Choice, ...]
    problems: tuple[Choice, ...]
    causes: tuple[Choice, ...]
    measures: tuple[Choice, ...] | None  # None: mirror the chosen problems
    rectifications: tuple[Rectification, ...]
    overrides: Mapping[str, str]


def load_profile_document(path: Path) -> tuple[YamlDocument, str]:
    """Read and parse a profile file; returns the document and the digest of its bytes."""
    text = read_source(path)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return parse_yaml(text, display_path(path), defer=True), digest


def parse_profile_text(text: str | bytes, file: str) -> tuple[YamlDocument, str]:
    if isinstance(text, bytes):
        text = decode_text(text, file)
    return parse_yaml(text, file, defer=True), hashlib.sha256(text.encode("utf-8")).hexdigest()


def validate_profile(doc: YamlDocument, digest: str, pack: Pack) -> Profile:
    reader = _ProfileReader(doc, pack)
    profile = reader.read(digest)
    if reader.problems:
        raise ProfileError(sorted(reader.problems, key=Problem.sort_key))
    return profile


_NUMBER_TEXT = re.compile(r"^[+-]?\d+(\.\d+)?$")
_UNIT_SUFFIX = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(\S+)$")


_WIDE = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"


@functools.cache
def _space_between_wide() -> re.Pattern[str]:
    # Compiled when first needed: its wide character classes take milliseconds to compile, and
    # most profiles never need it (see _clean_text).
    return re.compile(f"(?<=[{_WIDE}])[ \t]+(?=[{_WIDE}])")


def _clean_text(value: str) -> str:
    """Text pasted from Word or folded by YAML: drop line breaks and the spaces they leave
    between Chinese characters; keep everything else literally."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    if "\n" in value:
        value = re.sub(r"[ \t]*\n[ \t]*", "", value)
    if " " in value or "\t" in value:
        value = _space_between_wide().sub("", value)
    return value.strip()


_TOP_AND_META_LABELS = {**TOP_LABELS, **META_FIELDS}  # a misplaced meta key at the top is named by its label


class _ProfileReader(FieldReader):
    def __init__(self, doc: YamlDocument, pack: Pack) -> None:
        super().__init__(doc)
        self.pack = pack

    def read(self, digest: str) -> Profile:
        self.known_keys((), TOP_LEVEL, labels=_TOP_AND_META_LABELS)
        pack_request = self.typed(("pack",), str)
        meta = self._meta()
        facts = self._facts()
        work = self._choices("work")
        problems = self._choices("problems")
        causes = self._choices("causes")
        measures = self._choices("measures") if self.value(("measures",)) is not None else None
        rectifications = self._rectifications()
        overrides = self._overrides()
        return Profile(
            file=self.doc.file, digest=digest, pack=pack_request, meta=meta, facts=facts, work=work,
            problems=problems, causes=causes, measures=measures, rectifications=rectifications,
            overrides=overrides,
        )

    # -- meta

    def _meta(self) -> Meta:
        if self.value(("meta",)) is None:
            return Meta()
        if self.typed(("meta",), dict) is None:
            return Meta()
        self.known_keys(("meta",), META_FIELDS, labels=META_FIELDS)
        values: dict[str, Any] = {}
        for key in META_FIELDS:
            path = ("meta", key)
            raw = self.value(path)
            if raw is None or raw == "":
                continue
            if key == "year":
                values[key] = self._year(path, raw)
            elif key == "date":
                values[key] = self._date(path, raw)
            else:
                text = self.typed(path, str)
                values[key] = self._text(path, text) if text else None
        return Meta(**values)

    def _year(self, path: KeyPath, raw: Any) -> int | None:
        if isinstance(raw, str):
            digits = unicodedata.normalize("NFKC", raw).strip().removesuffix("年度").removesuffix("年")
            raw = int(digits) if digits.isdigit() else raw
        if isinstance(raw, bool) or not isinstance(raw, int):
            self.report(path, f"述职年度应为四位数的年份，实际是{describe(raw)}", "写成“year: 2025”，不要带“年”字")
            return None
        if not 1990 <= raw <= 2100:
            self.report(path, f"年份 {raw} 不合理", "写成四位数的年份，如 2025")
            return None
        return raw

    def _date(self, path: KeyPath, raw: Any) -> str | None:
        if isinstance(raw, _dt.datetime):
            raw = raw.date()
        if isinstance(raw, _dt.date):
            return f"{raw.year}年{raw.month}月{raw.day}日"
        if isinstance(raw, str):
            text = unicodedata.normalize("NFKC", raw).strip()
            match = re.match(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$", text)
            if match:
                year, month, day = (int(g) for g in match.groups())
                try:
                    _dt.date(year, month, day)
                except ValueError:
                    self.report(path, f"日期“{raw}”不存在", "检查月份和日期")
                    return None
                return f"{year}年{month}月{day}日"
        self.report(path, f"无法识别的日期{describe(raw)}", "写成“2026-01-10”或“2026年1月10日”")
        return None

    def _text(self, path: KeyPath, text: str) -> str | None:
        text = _clean_text(text)
        if len(text) > MAX_TEXT:
            self.report(path, f"这段文字太长（{len(text)} 字）", f"一段最多 {MAX_TEXT} 字，请拆分或精简")
            return None
        return text or None

    # -- facts

    def _facts(self) -> dict[str, FactValue]:
        if self.value(("facts",)) is None or self.typed(("facts",), dict) is None:
            return {}
        specs = self.pack.fact_specs
        self.known_keys(("facts",), specs, labels=self.pack.fact_labels)
        values: dict[str, FactValue] = {}
        for key, raw in self.value(("facts",)).items():
            spec = specs.get(key)
            if spec is None or raw is None or raw == "" or raw == []:
                continue
            value = self._fact(("facts", key), spec, raw)
            if value is not None:
                values[key] = value
        return values

    def _fact(self, path: KeyPath, spec: FactSpec, raw: Any) -> FactValue | None:
        unit = f"（单位：{spec.unit}）" if spec.unit and spec.type != "percent" else ""
        if spec.type == "text":
            if isinstance(raw, (dict, list, bool)):
                self.report(path, f"“{spec.label}”应为一段文字，实际是{describe(raw)}")
                return None
            return self._text(path, str(raw))
        if spec.type == "list":
            items = raw if isinstance(raw, list) else [raw]
            texts: list[str] = []
            for index, item in enumerate(items):
                if isinstance(item, (dict, list)) or item is None:
                    self.report((*path, index), f"“{spec.label}”的每一项应为一段文字，实际是{describe(item)}")
                    continue
                cleaned = self._text((*path, index), str(item))
                if cleaned:
                    texts.append(cleaned)
            return tuple(texts) or None
        number = self._number(path, spec, raw, unit)
        if number is None:
            return None
        if spec.type == "integer" and not float(number).is_integer():
            self.report(path, f"“{spec.label}”应为整数{unit}，实际是 {number}")
            return None
        if spec.minimum is not None and number < spec.minimum:
            self.report(path, f"“{spec.label}”不能小于 {_plain(spec.minimum)}，实际是 {_plain(number)}",
                        "请核对数字" + ("；负数没有意义" if spec.minimum == 0 else ""))
            return None
        maximum = spec.maximum if spec.maximum is not None else (100 if spec.type == "percent" else 1_000_000)
        if number > maximum:
            self.report(path, f"“{spec.label}”的值 {_plain(number)} 大得不合常理（上限 {_plain(maximum)}）",
                        "请核对是否多打了 0")
            return None
        return int(number) if spec.type == "integer" else number

    def _number(self, path: KeyPath, spec: FactSpec, raw: Any, unit: str) -> float | int | None:
        kind = "整数" if spec.type == "integer" else ("百分数" if spec.type == "percent" else "数字")
        if isinstance(raw, (bool, dict, list)):
            self.report(path, f"“{spec.label}”应为{kind}{unit}，实际是{describe(raw)}")
            return None
        if isinstance(raw, (int, float)):
            return raw
        text = unicodedata.normalize("NFKC", str(raw)).strip().replace(",", "")
        if spec.type == "percent":
            text = text.removesuffix("%")
        if _NUMBER_TEXT.match(text):
            return float(text) if "." in text else int(text)
        suffix = _UNIT_SUFFIX.match(text)
        if suffix:
            self.report(path, f"“{spec.label}”应为{kind}{unit}，不要带单位“{suffix.group(2)}”",
                        f"写成“{path[-1]}: {suffix.group(1)}”，单位由模板自动加上")
        else:
            self.report(path, f"“{spec.label}”应为{kind}{unit}，实际是{describe(raw)}",
                        "只写阿拉伯数字，如 12；还不知道的数字可以先空着")
        return None

    # -- choices

    def _choices(self, section: str) -> tuple[Choice, ...]:
        if self.value((section,)) is None:
            return ()
        items = self.typed((section,), list, hint="每一项单独一行，以“- ”开头")
        if items is None:
            return ()
        spec = self.pack.skeleton.section(section)
        catalogue_name = CATALOGUE_FOR_SECTION[section]
        catalogue = self.pack.catalogues.get(catalogue_name, {})
        if spec is None:
            self.report((section,), f"模板包“{self.pack.name}”的结构里没有这一部分，这些内容不会出现在稿子里",
                        "删掉这一部分，或换用包含它的模板包", at_key=True)
            return ()
        choices: list[Choice] = []
        seen: set[str] = set()
        for index, item in enumerate(items):
            path: KeyPath = (section, index)
            choice = self._choice(path, item, catalogue)
            if choice is None:
                continue
            if choice.key:
                if choice.key in seen:
                    self.report(path, f"“{choice.key}”选了两次", "删掉重复的一项")
                seen.add(choice.key)
            choices.append(choice)
        if items and not spec.min_items <= len(choices) <= spec.max_items and len(choices) == len(items):
            self.report((section,), f"这一部分选了 {len(choices)} 项，模板包要求 {spec.min_items}—{spec.max_items} 项",
                        "增删条目使数量符合要求", at_key=True)
        return tuple(choices)

    def _choice(self, path: KeyPath, item: Any, catalogue: Mapping[str, Any]) -> Choice | None:
        if isinstance(item, str):
            key = item.strip()
            if key not in catalogue:
                self._unknown_entry(path, key, catalogue)
                return None
            return Choice(key=key)
        if not isinstance(item, dict):
            self.report(path, f"应为条目名称或“key/lead/text/add”映射，实际是{describe(item)}")
            return None
        self.known_keys(path, CHOICE_KEYS)
        key = self.typed((*path, "key"), str)
        if key is not None and key not in catalogue:
            self._unknown_entry((*path, "key"), key, catalogue)
            return None
        fields = {name: self.typed((*path, name), str) for name in ("lead", "text", "add")}
        cleaned = {name: self._text((*path, name), value) if value else None for name, value in fields.items()}
        if key is None and not (cleaned["lead"] and cleaned["text"]):
            self.report(path, "自己写的条目需要同时有 lead（标题句）和 text（正文）",
                        "或者用 key: 从模板包目录中选择一项", at_key=True)
            return None
        lead = cleaned["lead"].rstrip("。") if cleaned["lead"] else None
        return Choice(key=key, lead=lead, text=cleaned["text"], add=cleaned["add"])

    def _unknown_entry(self, path: KeyPath, key: str, catalogue: Mapping[str, Any]) -> None:
        hint = None if self.crowded else suggest(key, list(catalogue), {k: e.title for k, e in catalogue.items()})
        if "，" in key or "、" in key:
            hint = "看起来用了全角逗号把几项写在一行；请每项单独一行，以“- ”开头"
        self.report(path, f"模板包“{self.pack.name}”里没有条目“{key}”", hint)

    # -- rectification and overrides

    def _rectifications(self) -> tuple[Rectification, ...]:
        if self.value(("rectification",)) is None:
            return ()
        items = self.typed(("rectification",), list, hint="每一项以“- problem: …”开头")
        if items is None:
            return ()
        if self.pack.skeleton.section("rectification") is None:
            self.report(("rectification",), f"模板包“{self.pack.name}”的结构里没有“上年问题整改情况”部分",
                        "删掉这一部分，或换用包含它的模板包（如 qiye）", at_key=True)
            return ()
        result: list[Rectification] = []
        for index, _ in enumerate(items):
            path: KeyPath = ("rectification", index)
            if self.typed(path, dict, required=True) is None:
                continue
            self.known_keys(path, ("problem", "action"))
            problem = self.typed((*path, "problem"), str)
            action = self.typed((*path, "action"), str)
            problem = self._text((*path, "problem"), problem) if problem else None
            action = self._text((*path, "action"), action) if action else None
            result.append(Rectification(problem.rstrip("。") if problem else None, action))
        return tuple(result)

    def _overrides(self) -> dict[str, str]:
        if self.value(("overrides",)) is None or self.typed(("overrides",), dict) is None:
            return {}
        from .prose import paragraph_ids

        allowed = paragraph_ids(self.pack)
        self.known_keys(("overrides",), allowed)
        result: dict[str, str] = {}
        for key in self.value(("overrides",)):
            if key not in allowed:
                continue
            text = self.typed(("overrides", key), str)
            cleaned = self._text(("overrides", key), text) if text else None
            if cleaned:
                result[key] = cleaned
        return result


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)

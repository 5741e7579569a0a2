"""A profile's facts checked against the pack's fact types: values, units, 同比 and relations.

Every problem is collected (with where it is) and returned, never raised one at a time.  A value is
kept with how it is written in a sentence ("14次", "40余场次", "98.6%"), last year's value when the
profile has one, and its change ("较上年增加2次", "提高1.5个百分点", "与上年持平").
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..errors import Problem
from ..inputs.fields import clean_text, read_date, suggest
from ..inputs.profile import FactEntry, Profile
from ..inputs.yamlfile import KeyPath, describe, path_text
from ..packs.manifest import FactSpec, Pack
from ..packs.prose import META_SLOTS, Segment, Slot, parse_user_text

__all__ = ["FactValue", "Facts", "format_number", "read_facts"]

Scalar = int | float | str | tuple[str, ...] | dt.date
DEFAULT_MAXIMUM = 1_000_000
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_APPROX = re.compile(r"(\d+(?:\.\d+)?)(余|多)")
_WITH_UNIT = re.compile(r"([+-]?\d+(?:\.\d+)?)(余|多)?\s*([\u4e00-\u9fff%‰]{1,4})")  # 12次, 40余人, 95%
BLANK_MARK = re.compile(r"([*×X]+|x{2,})(余|多)?")


def format_number(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class FactValue:
    spec: FactSpec
    value: Scalar
    path: KeyPath
    approx: str = ""  # "余" or "多" after the number
    unit: str | None = None  # the profile's own unit for this value
    last: float | None = None  # last year's value (numbers only)
    blank: bool = False  # the profile marks the number as still unknown ("XX", "*"): shown highlighted

    @property
    def unit_shown(self) -> str:
        return self.unit if self.unit is not None else self.spec.unit_shown

    def text(self) -> str:
        """The value as a sentence says it: with its unit, a list joined with 、."""
        value = self.value
        if isinstance(value, tuple):
            return "、".join(value)
        if isinstance(value, dt.date):
            return f"{value.year}年{value.month}月{value.day}日"
        if isinstance(value, str):
            return f"{value}{self.approx}{self.unit_shown}" if self.blank else value
        return f"{format_number(value)}{self.approx}{self.unit_shown}"

    def change(self) -> str | None:
        """The change against last year, when both years are known exactly."""
        if self.last is None or not isinstance(self.value, (int, float)) or self.approx or self.blank:
            return None
        difference = self.value - self.last
        if abs(difference) < 1e-9:
            return "与上年持平"
        amount = format_number(abs(difference))
        if self.spec.type == "percent":
            return f"较上年{'提高' if difference > 0 else '下降'}{amount}个百分点"
        return f"较上年{'增加' if difference > 0 else '减少'}{amount}{self.unit_shown}"


@dataclass(frozen=True)
class Facts:
    """The facts one profile states, valid ones only, and every fact it could state."""

    values: Mapping[str, FactValue]
    specs: Mapping[str, FactSpec]  # the pack's and the profile's own

    def get(self, key: str) -> FactValue | None:
        return self.values.get(key)


def read_facts(profile: Profile, pack: Pack) -> tuple[Facts, list[Problem], list[Problem]]:
    """The profile's facts, its problems and its warnings (renamed keys)."""
    reader = _FactReader(profile, pack)
    facts = reader.read()
    return facts, reader.problems, reader.warnings


class _FactReader:
    def __init__(self, profile: Profile, pack: Pack) -> None:
        self.profile = profile
        self.pack = pack
        self.tree = profile.tree
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.specs: dict[str, FactSpec] = dict(pack.facts)
        self.paths: dict[str, KeyPath] = {}

    def report(self, path: KeyPath, message: str, hint: str | None = None, *, at_key: bool = False) -> None:
        self.problems.append(self.tree.problem(path, message, hint, at_key=at_key))

    def read(self) -> Facts:
        values: dict[str, FactValue] = {}
        for entry in self.profile.facts:
            key = self._key(entry)
            if key is None:
                continue
            if key in self.paths:
                self.report(entry.path[:2], f"事实“{self.specs[key].label}”写了两次（另一处是 {path_text(self.paths[key][:2])}）",
                            "删掉其中一个", at_key=True)
                continue
            self.paths[key] = entry.path
            value = self._value(entry, self.specs[key])
            if value is not None:
                values[key] = value
        for entry in self.profile.last_year.facts:
            key = self.pack.fact_aliases.get(entry.key, entry.key)
            spec = self.specs.get(key)
            if spec is None or not spec.numeric or key not in values:
                continue
            last = self._value(entry, spec)
            if last is not None and isinstance(last.value, (int, float)) and not last.approx:
                values[key] = replace(values[key], last=float(last.value))
        facts = Facts(values, self.specs)
        self._relations(facts)
        return facts

    def _key(self, entry: FactEntry) -> str | None:
        key = entry.key
        if entry.own is not None:
            if key in self.pack.facts:
                self.report(entry.path[:2], f"“{key}”是模板包已有的事实（{self.pack.facts[key].label}），不能再自己定义",
                            f"直接写“{key}: 数值”；要自己定义就换一个键名", at_key=True)
                return None
            if key in META_SLOTS:
                self.report(entry.path[:2], f"“{key}”与基本信息同名，不能用作事实的键", "换一个键名", at_key=True)
                return None
            self.specs[key] = self._own_spec(entry)
            return key
        if key in self.pack.fact_aliases:
            new = self.pack.fact_aliases[key]
            self.warnings.append(self.tree.problem(entry.path[:2], f"事实“{key}”在模板包 {self.pack.label} 里改名为“{new}”，已按新名称读取",
                                                   f"把“{key}:”改成“{new}:”", at_key=True))
            return new
        if key not in self.pack.facts:
            by_label = self.pack.fact_by_label
            if key in by_label:  # a workbook's header, or a clerk who wrote the Chinese name
                return by_label[key]
            if self.tree.table:  # a column the committee added (备注, 联系人…): not a fact, and no error
                self.warnings.append(self.tree.problem(entry.path[:2], f"这一列不是模板包“{self.pack.name}”的事实，已忽略",
                                                       "如果它应是某个事实，请把表头改成 reportgen sheet 生成的写法",
                                                       at_key=True))
                return None
            labels = {k: spec.label for k, spec in self.pack.facts.items()}
            hint = suggest(key, self.pack.facts, labels)
            self.report(entry.path[:2], f"模板包“{self.pack.name}”里没有事实“{key}”",
                        f"{hint.rstrip('；')}{'' if hint.endswith('？') else '；'}"
                        f"模板包没有的事实，可以自己写：{key}: {{label: 这个数计的是什么, value: 数值, unit: 单位}}",
                        at_key=True)
            return None
        return key

    def _own_spec(self, entry: FactEntry) -> FactSpec:
        own = entry.own
        assert own is not None
        raw = entry.raw
        text = unicodedata.normalize("NFKC", raw).strip() if isinstance(raw, str) else None
        if text is not None and BLANK_MARK.fullmatch(text):
            kind = "number"  # a number still to be filled in ("XX"): shown with its unit
        elif isinstance(raw, bool):
            kind = "text"
        elif isinstance(raw, int):
            kind = "integer"
        elif isinstance(raw, float):
            kind = "number"
        elif isinstance(raw, list):
            kind = "list"
        elif text is not None and text.endswith("%"):
            kind = "percent"
        elif text is not None and (_NUMBER.fullmatch(text.replace(",", "")) or _APPROX.fullmatch(text)):
            kind = "number"
        else:
            kind = "text"
        phrase_text = own.phrase if own.phrase is not None else own.label + "{}"
        parts, _ = parse_user_text(phrase_text.replace("{}", "{value}"), {"value", *META_SLOTS})
        return FactSpec(key=entry.key, label=own.label, type=kind, unit=own.unit, phrases=(parts,),  # type: ignore[arg-type]
                        summary=own.summary, minimum=None, origin="profile")

    def _value(self, entry: FactEntry, spec: FactSpec) -> FactValue | None:
        raw = entry.raw
        path = entry.path
        if raw is None or raw == "" or raw == []:
            return None
        unit = entry.unit
        if isinstance(raw, str) and (blank := BLANK_MARK.fullmatch(unicodedata.normalize("NFKC", raw).strip())):
            # "XX", "*", "XX余": the unit has this fact but the number is still to be filled in
            shown = unit if unit is not None else (spec.unit_shown if spec.numeric else "")
            return FactValue(spec, blank.group(1), path, blank.group(2) or "", shown, blank=True)
        if spec.type == "text":
            if isinstance(raw, (dict, list, bool)):
                self.report(path, f"“{spec.label}”应为一段文字，实际是{describe(raw)}")
                return None
            text = clean_text(str(raw))
            return FactValue(spec, text, path) if text else None
        if spec.type == "list":
            items = raw if isinstance(raw, list) else re.split("[、；;]", str(raw))
            texts: list[str] = []
            for index, item in enumerate(items):
                if isinstance(item, (dict, list)) or item is None:
                    self.report((*path, index), f"“{spec.label}”的每一项应为一段文字，实际是{describe(item)}")
                    continue
                if cleaned := clean_text(str(item)):
                    texts.append(cleaned)
            return FactValue(spec, tuple(texts), path) if texts else None
        if spec.type == "date":
            return self._date(spec, raw, path)
        number, approx = self._number(spec, raw, path)
        if number is None:
            return None
        if spec.type == "integer" and not float(number).is_integer():
            self.report(path, f"“{spec.label}”应为整数{self._unit_note(spec)}，实际是 {format_number(number)}")
            return None
        if spec.minimum is not None and number < spec.minimum:
            self.report(path, f"“{spec.label}”不能小于 {format_number(spec.minimum)}，实际是 {format_number(number)}",
                        "请核对数字" + ("；负数没有意义" if spec.minimum == 0 else ""))
            return None
        maximum = spec.maximum if spec.maximum is not None else (100 if spec.type == "percent" else DEFAULT_MAXIMUM)
        if number > maximum:
            self.report(path, f"“{spec.label}”的值 {format_number(number)} 大得不合常理（上限 {format_number(maximum)}）",
                        "百分数不能超过 100" if spec.type == "percent" else "请核对是否多打了 0")
            return None
        value: int | float = int(number) if spec.type == "integer" else number
        return FactValue(spec, value, path, approx, unit)

    @staticmethod
    def _unit_note(spec: FactSpec) -> str:
        return f"（单位：{spec.unit}）" if spec.unit and spec.type != "percent" else ""

    def _number(self, spec: FactSpec, raw: Any, path: KeyPath) -> tuple[float | None, str]:
        kind = spec.type_word
        unit = self._unit_note(spec)
        if isinstance(raw, (bool, dict, list, dt.date)):
            what = "一个日期" if isinstance(raw, dt.date) else describe(raw)
            self.report(path, f"“{spec.label}”应为{kind}{unit}，实际是{what}", "只写阿拉伯数字，如 12")
            return None, ""
        if isinstance(raw, (int, float)):
            if isinstance(raw, float) and not math.isfinite(raw):
                self.report(path, f"“{spec.label}”应为{kind}{unit}，这里写的不是一个有限的数", "只写阿拉伯数字，如 12")
                return None, ""
            return raw, ""
        text = unicodedata.normalize("NFKC", str(raw)).strip().replace(",", "")
        if spec.type == "percent":
            text = text.removesuffix("%").strip()
        if _NUMBER.fullmatch(text):
            return float(text), ""
        approx = _APPROX.fullmatch(text)
        if approx and spec.type != "percent":
            return float(approx.group(1)), approx.group(2)
        with_unit = _WITH_UNIT.fullmatch(text)
        key = path_text(path).split(".")[-1] if path else ""
        if with_unit:
            bare = f"{with_unit.group(1)}{with_unit.group(2) or ''}"
            self.report(path, f"“{spec.label}”应为{kind}{unit}，不要带单位“{with_unit.group(3)}”",
                        f"只填“{bare}”，单位由模板自动加上" if self.tree.table else f"写成“{key}: {bare}”，单位由模板自动加上")
        else:
            self.report(path, f"“{spec.label}”应为{kind}{unit}，实际是{describe(raw)}",
                        "只写阿拉伯数字，如 12（约数可写 40余）；还不知道的数字可以先空着")
        return None, ""

    def _date(self, spec: FactSpec, raw: Any, path: KeyPath) -> FactValue | None:
        try:
            date = read_date(raw)
        except ValueError:  # 2025-02-30
            date = None
        if date is None:
            text = unicodedata.normalize("NFKC", str(raw)).strip()
            self.report(path, f"“{spec.label}”应为日期，实际是{describe(text)}", "写成“2025-06-30”或“2025年6月30日”")
            return None
        year = self.profile.meta.year
        if year is not None and date.year not in (year, year + 1):
            self.report(path, f"“{spec.label}”的日期 {date.isoformat()} 不在述职年度 {year} 年内",
                        "请核对年份（下一年度的计划可写次年的日期）")
            return None
        return FactValue(spec, date, path)

    def _relations(self, facts: Facts) -> None:
        for relation in self.pack.relations:
            found = {key: facts.get(key) for key in (*relation.left, *relation.right)}
            numbers = {key: float(v.value) for key, v in found.items()
                       if v is not None and isinstance(v.value, (int, float)) and not v.approx and not v.blank}
            if len(numbers) < len(found):
                continue
            left = sum(numbers[key] for key in relation.left)
            right = sum(numbers[key] for key in relation.right)
            holds = {"<=": left <= right, "<": left < right, "==": abs(left - right) < 1e-9}[relation.op]
            if holds:
                continue
            first = facts.values[relation.left[0]]
            other = facts.values[relation.right[0]]
            other_mark = self.tree.where(other.path)

            def named(part: tuple[str, ...]) -> str:
                return "与".join(f"“{facts.specs[key].label}”" for key in part)

            where = f"，见第 {other_mark.line} 行" if other_mark and other_mark.line else ""
            word = {"<=": "大于", "<": "不小于", "==": "不等于"}[relation.op]
            self.report(first.path, f"{named(relation.left)}（{format_number(left)}）{word}"
                        f"{named(relation.right)}（{format_number(right)}{where}）",
                        f"模板包规定 {relation.text}；请核对这两处数字")


def phrase_parts(spec: FactSpec) -> tuple[tuple[Segment, ...], ...]:
    """The ways a fact is said; a fact without a phrase is said by its label."""
    return spec.phrases or ((f"{spec.label}", Slot("value")),)

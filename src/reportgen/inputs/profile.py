"""The profile (资料文件): a unit's year as typed, read into frozen models without knowing the pack.

Reading checks the shape (which keys, which types) and collects every problem instead of stopping.
What needs the pack (fact types and units, catalogue keys, what the skeleton allows) is checked by
``content.facts`` and ``content.compose``, which locate their problems through ``Profile.tree``.
Profiles of the first format (reportgen 0.1) read unchanged: every key they used still means the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import Problem, ProfileError, display_path
from .fields import OFF, ON, FieldReader, read_date
from .source import read_text
from .yamlfile import KeyPath, Tree, describe, parse_yaml

__all__ = [
    "CHOICE_SECTIONS",
    "META_FIELDS",
    "NUMBERING_NAMES",
    "SECTION_KINDS",
    "STATUSES",
    "Choice",
    "FactEntry",
    "LastYear",
    "Meta",
    "OwnFact",
    "OwnPoint",
    "Profile",
    "Rectification",
    "SectionLayout",
    "Structure",
    "load_profile",
    "read_profile",
]

# key -> Chinese label, in the scaffold's order.
META_FIELDS: Mapping[str, str] = {
    "unit": "单位名称",
    "name": "述职人姓名",
    "position": "述职人职务",
    "year": "述职年度",
    "superior": "上级党组织",
    "basis": "述职依据（通知或会议安排）",
    "date": "报告日期",
    "committee": "本级党组织简称（如 党委、党工委、党总支、党支部；不写时从单位名称推断）",
}
SECTION_KINDS = ("opening", "work", "rectification", "problems", "causes", "measures", "closing")
CHOICE_SECTIONS = ("work", "problems", "causes", "measures")
SECTION_WORDS = {"opening": "开头", "work": "履职工作情况", "rectification": "上年问题整改情况", "problems": "存在的问题",
                 "causes": "问题原因", "measures": "下一步措施", "closing": "结束语"}
TOP_LEVEL = ("pack", "meta", "facts", "work", "rectification", "problems", "causes", "measures", "overrides",
             "structure", "wording", "last_year")
TOP_LABELS = {"pack": "模板包", "meta": "基本信息", "facts": "事实数据", "work": "履职工作", "rectification": "整改",
              "problems": "问题", "causes": "原因", "measures": "措施", "overrides": "替换段落", "structure": "结构",
              "wording": "措辞", "last_year": "上年"}
STATUSES = ("已完成", "基本完成", "持续推进")

Numbering = Literal["chinese", "paren_chinese", "arabic", "paren_arabic", "ordinal_inline", "ordinal_paragraphs", "none"]
PointStyle = Literal["sentences", "ordinal_inline"]
# What a user may type for a numbering style: the style's name, or what it looks like.
NUMBERING_NAMES: Mapping[str, Numbering] = {
    "chinese": "chinese", "一、": "chinese", "一": "chinese",
    "paren_chinese": "paren_chinese", "（一）": "paren_chinese", "(一)": "paren_chinese",
    "arabic": "arabic", "1.": "arabic", "1、": "arabic", "1": "arabic", "1．": "arabic",
    "paren_arabic": "paren_arabic", "（1）": "paren_arabic", "(1)": "paren_arabic",
    "ordinal_inline": "ordinal_inline", "一是": "ordinal_inline",
    "ordinal_paragraphs": "ordinal_paragraphs", "一是（分段）": "ordinal_paragraphs", "一是(分段)": "ordinal_paragraphs",
    "none": "none", "无": "none", "不编号": "none",
}
POINT_NAMES: Mapping[str, PointStyle] = {
    "sentences": "sentences", "连写": "sentences", "不编号": "sentences", "无": "sentences",
    "ordinal_inline": "ordinal_inline", "ordinal": "ordinal_inline", "一是": "ordinal_inline",
}


# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class Meta:
    unit: str | None = None
    name: str | None = None
    position: str | None = None
    year: int | None = None
    superior: str | None = None
    basis: str | None = None
    date: dt.date | None = None
    committee: str | None = None

    def get(self, key: str) -> str | int | dt.date | None:
        value: str | int | dt.date | None = getattr(self, key)
        return value


@dataclass(frozen=True)
class OwnFact:
    """A fact the pack does not declare, stated by the profile with its label and unit."""

    label: str
    unit: str = ""
    phrase: str | None = None  # how it is said; "{}" stands for the value with its unit
    summary: bool = False


@dataclass(frozen=True)
class FactEntry:
    """One fact as typed: validated against the pack's fact types by ``content.facts``."""

    key: str
    raw: Any  # the value as read (number, text, list); None when left blank
    path: KeyPath
    own: OwnFact | None = None  # given for a fact the profile declares itself
    unit: str | None = None  # a unit the profile writes beside a pack fact's value (“28次” for 篇)


@dataclass(frozen=True)
class OwnPoint:
    """A point the user writes: its text (may cite facts as {key}) and where it goes in the item."""

    text: str
    lead: str | None = None
    after: str | None = None  # a catalogue point's key
    before: str | None = None
    path: KeyPath = ()


@dataclass(frozen=True)
class Choice:
    """One item the profile picks: catalogue keys (one heading may gather several), the user's words, or both."""

    keys: tuple[str, ...] = ()  # catalogue keys; empty when written entirely by the user
    lead: str | None = None  # replaces the catalogue's lead phrase
    text: str | None = None  # replaces the generated body
    points: tuple[str | OwnPoint, ...] | None = None  # the points in order: catalogue point keys and own points
    add: tuple[OwnPoint, ...] = ()  # own points added (at the end, or before/after a named point)
    facts: tuple[str, ...] = ()  # more facts to say in this item
    wording: int = 0  # another wording of this item's sentences
    path: KeyPath = ()


@dataclass(frozen=True)
class Rectification:
    problem: str | None  # None: still to be filled in (shows as a placeholder)
    action: str | None
    measure: str | None = None  # what was promised for it last year
    status: str | None = None  # one of STATUSES
    source: str | None = None  # where the problem came from (述职评议、巡察反馈……), for the ledger
    path: KeyPath = ()


@dataclass(frozen=True)
class SectionLayout:
    """What the profile changes of one section (None: the pack's default)."""

    show: bool | None = None
    heading: str | None = None
    numbering: Numbering | None = None
    points: PointStyle | None = None
    intro: bool | str | None = None  # False: none; a string: the user's own intro
    path: KeyPath = ()


@dataclass(frozen=True)
class Structure:
    title: bool | str | None = None  # False: no title; a string: the user's own
    byline: bool | None = None
    sections: Mapping[str, SectionLayout] = field(default_factory=dict)
    length: tuple[int, int] | None = None  # Han characters, as the superior's notice asks


@dataclass(frozen=True)
class LastYear:
    """Last year's report, as ``reportgen next`` carries it over."""

    year: int | None = None
    facts: tuple[FactEntry, ...] = ()
    problems: tuple[str, ...] = ()  # catalogue keys (or texts) of last year's problems
    draft: str | None = None  # last year's draft, for 复制比 against this year's


@dataclass(frozen=True)
class Profile:
    file: str  # as shown in messages
    digest: str  # sha256 of the file's text: recorded in the draft
    tree: Tree  # for locating what later checks find
    pack: str | None
    meta: Meta
    facts: tuple[FactEntry, ...]
    work: tuple[Choice, ...]
    problems: tuple[Choice, ...]
    causes: tuple[Choice, ...]
    measures: tuple[Choice, ...] | None  # None: mirror the chosen problems
    rectifications: tuple[Rectification, ...]
    overrides: Mapping[str, str]
    structure: Structure = Structure()
    wording: int = 0
    last_year: LastYear = LastYear()
    given: frozenset[str] = frozenset()  # top-level keys present in the file

    def choices(self, section: str) -> tuple[Choice, ...]:
        if section == "measures":
            return self.measures or ()
        chosen: tuple[Choice, ...] = getattr(self, section)
        return chosen


# ---------------------------------------------------------------- reading


def load_profile(path: Path) -> Profile:
    """Read a profile file: ``ProfileError`` if it cannot be parsed at all; the other problems are in
    ``read_profile``'s list (raised by the caller together with the pack's checks)."""
    text = read_text(path)
    profile, problems = read_profile(parse_yaml(text, display_path(path)), hashlib.sha256(text.encode()).hexdigest())
    if problems:
        raise ProfileError(sorted(problems, key=Problem.sort_key))
    return profile


def read_profile(tree: Tree, digest: str) -> tuple[Profile, list[Problem]]:
    """The profile in ``tree`` and every problem of its shape (with the tree's own: slips, duplicates)."""
    reader = _ProfileReader(tree)
    return reader.read(digest), reader.problems


class _ProfileReader(FieldReader):
    def read(self, digest: str) -> Profile:
        self.known_keys((), TOP_LEVEL, labels={**TOP_LABELS, **META_FIELDS})
        pack = self.typed(("pack",), str)
        measures_given = self.value(("measures",)) is not None
        return Profile(
            file=self.tree.file, digest=digest, tree=self.tree, pack=pack or None, meta=self._meta(),
            facts=self._facts(("facts",)),
            work=self._choices("work"), problems=self._choices("problems"), causes=self._choices("causes"),
            measures=self._choices("measures") if measures_given else None,
            rectifications=self._rectifications(), overrides=self._overrides(), structure=self._structure(),
            wording=self._wording(("wording",)), last_year=self._last_year(),
            given=frozenset(self.tree.data),
        )

    # -- meta

    def _meta(self) -> Meta:
        if self.value(("meta",)) is None or self.typed(("meta",), dict) is None:
            return Meta()
        self.known_keys(("meta",), META_FIELDS, labels=META_FIELDS)
        values: dict[str, Any] = {}
        for key in META_FIELDS:
            path = ("meta", key)
            raw = self.value(path)
            if raw is None or raw == "":
                continue
            if key == "year":
                values[key] = self.year(path, raw)
            elif key == "date":
                values[key] = self._date(path, raw)
            else:
                values[key] = self.text(path)
        return Meta(**values)

    def year(self, path: KeyPath, raw: Any) -> int | None:
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

    def _date(self, path: KeyPath, raw: Any) -> dt.date | None:
        try:
            date = read_date(raw)
        except ValueError:
            self.report(path, f"日期“{raw}”不存在", "检查月份和日期")
            return None
        if date is None:
            self.report(path, f"无法识别的日期{describe(raw)}", "写成“2026-01-10”或“2026年1月10日”")
        return date

    # -- facts

    def _facts(self, path: KeyPath) -> tuple[FactEntry, ...]:
        table = self.value(path)
        if table is None or self.typed(path, dict) is None:
            return ()
        entries: list[FactEntry] = []
        for key, raw in table.items():
            entries.append(self._fact((*path, key), key, raw))
        return tuple(entries)

    def _fact(self, path: KeyPath, key: str, raw: Any) -> FactEntry:
        if not isinstance(raw, dict):
            return FactEntry(key, raw, path)
        # {label, value, unit, phrase, summary}: a fact of the unit's own, or a pack fact with its own unit
        self.known_keys(path, ("label", "value", "unit", "phrase", "summary"))
        label = self.text((*path, "label"))
        unit = self.typed((*path, "unit"), str)
        value = self.value((*path, "value"))
        if isinstance(value, (dict, list)) and not (isinstance(value, list) and label):
            self.report((*path, "value"), f"事实的值应为数字或文字，实际是{describe(value)}")
            value = None
        phrase = self.text((*path, "phrase"))
        if phrase is not None and "{}" not in phrase:
            self.report((*path, "phrase"), "说法（phrase）里要用“{}”标出数值的位置", f"例如“{phrase}{{}}”")
            phrase = None
        own = None
        if label is not None:
            own = OwnFact(label, unit or "", phrase, bool(self.switch((*path, "summary"))))
        elif phrase is not None or self.value((*path, "summary")) is not None:
            self.report(path, "自己补充的事实需要写 label（这个数计的是什么）", "例如 label: 开展宣讲报告", at_key=True)
        return FactEntry(key, value, (*path, "value") if "value" in raw else path, own, unit if own is None else None)

    # -- items

    def _wording(self, path: KeyPath) -> int:
        value = self.value(path)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 999:
            self.report(path, f"措辞编号应为 0—999 的整数，实际是{describe(value)}", "改这个数字可以换一种措辞，如 wording: 1")
            return 0
        return value

    def _choices(self, section: str) -> tuple[Choice, ...]:
        if self.value((section,)) is None:
            return ()
        items = self.typed((section,), list, hint="每一项单独一行，以“- ”开头")
        if items is None:
            return ()
        return tuple(choice for index, item in enumerate(items)
                     if (choice := self._choice((section, index), item)) is not None)

    def _choice(self, path: KeyPath, item: Any) -> Choice | None:
        if isinstance(item, str):
            key = item.strip()
            if "，" in key or "、" in key or "," in key:
                self.report(path, f"“{key}”看起来把几项写在了一行", "请每项单独一行，以“- ”开头")
                return None
            return Choice(keys=(key,), path=path)
        if not isinstance(item, dict):
            self.report(path, f"应为条目名称或“key/lead/text/points/add”映射，实际是{describe(item)}")
            return None
        self.known_keys(path, ("key", "lead", "text", "points", "add", "facts", "wording"))
        keys = self._keys((*path, "key"))
        lead = self.text((*path, "lead"))
        text = self.text((*path, "text"))
        points = self._points((*path, "points")) if self.value((*path, "points")) is not None else None
        add = self._additions((*path, "add"))
        facts = self._names((*path, "facts"))
        if not keys and not (lead and (text or points or add)):
            self.report(path, "自己写的条目需要 lead（标题句）和正文（text 或 points）",
                        "或者用 key: 从模板包目录中选择一项", at_key=True)
            return None
        return Choice(keys=keys, lead=lead.rstrip("。") if lead else None, text=text, points=points, add=add,
                      facts=facts, wording=self._wording((*path, "wording")), path=path)

    def _keys(self, path: KeyPath) -> tuple[str, ...]:
        value = self.value(path)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value.strip(),)
        if isinstance(value, list) and all(isinstance(v, str) for v in value) and value:
            return tuple(v.strip() for v in value)
        self.report(path, f"key 应为条目名称，或几个条目名称的列表，实际是{describe(value)}")
        return ()

    def _names(self, path: KeyPath) -> tuple[str, ...]:
        value = self.value(path)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.report(path, f"应为事实键名的列表，实际是{describe(value)}", "例如 facts: [study_sessions, own_fact]")
            return ()
        return tuple(v.strip() for v in value)

    def _point(self, path: KeyPath, item: Any) -> OwnPoint | None:
        if isinstance(item, str):
            text = self.text(path)
            return OwnPoint(text, path=path) if text else None
        if not isinstance(item, dict):
            self.report(path, f"应为一段文字，或 text/lead/after/before 映射，实际是{describe(item)}")
            return None
        self.known_keys(path, ("text", "lead", "after", "before"))
        text = self.text((*path, "text"), required=True)
        after, before = self.typed((*path, "after"), str), self.typed((*path, "before"), str)
        if after and before:
            self.report(path, "after 和 before 只能写一个", at_key=True)
        lead = self.text((*path, "lead"))
        return OwnPoint(text, lead.rstrip("。") if lead else None, after, before, path) if text else None

    def _additions(self, path: KeyPath) -> tuple[OwnPoint, ...]:
        value = self.value(path)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        found = [self._point((*path, index) if isinstance(value, list) else path, item) for index, item in enumerate(items)]
        return tuple(point for point in found if point is not None)

    def _points(self, path: KeyPath) -> tuple[str | OwnPoint, ...]:
        items = self.typed(path, list, hint="每一项单独一行：要点名，或自己写的 - text: ……")
        result: list[str | OwnPoint] = []
        for index, item in enumerate(items or []):
            if isinstance(item, str) and re.fullmatch(r"[a-z][a-z0-9_]*", item.strip()):
                result.append(item.strip())
            else:
                point = self._point((*path, index), item)
                if point is not None:
                    result.append(point)
        return tuple(result)

    # -- rectification, overrides

    def _rectifications(self) -> tuple[Rectification, ...]:
        items = self.typed(("rectification",), list, hint="每一项以“- problem: …”开头")
        result: list[Rectification] = []
        for index, _ in enumerate(items or []):
            path: KeyPath = ("rectification", index)
            if self.typed(path, dict, required=True) is None:
                continue
            self.known_keys(path, ("problem", "action", "measure", "status", "source"))
            status = self.typed((*path, "status"), str)
            if status and status not in STATUSES:
                self.report((*path, "status"), f"整改状态应为{'、'.join(STATUSES)}之一，实际是“{status}”",
                            "从这三个词中选一个，或先空着")
                status = None
            problem = self.text((*path, "problem"))
            result.append(Rectification(problem.rstrip("。") if problem else None, self.text((*path, "action")),
                                        self.text((*path, "measure")), status or None,
                                        self.text((*path, "source")), path))
        return tuple(result)

    def _overrides(self) -> dict[str, str]:
        table = self.typed(("overrides",), dict) or {}
        result: dict[str, str] = {}
        for key in table:
            text = self.text(("overrides", key))
            if text:
                result[str(key)] = text
        return result

    # -- structure, last year

    def _structure(self) -> Structure:
        path: KeyPath = ("structure",)
        if self.value(path) is None or self.typed(path, dict) is None:
            return Structure()
        self.known_keys(path, ("title", "byline", "length", *SECTION_KINDS), labels=SECTION_WORDS)
        title: bool | str | None = None
        raw_title = self.value((*path, "title"))
        if isinstance(raw_title, str) and raw_title.strip().lower() not in OFF | ON:
            title = self.text((*path, "title"))
        elif raw_title is not None:
            title = self.switch((*path, "title"))
        sections = {kind: self._layout((*path, kind)) for kind in SECTION_KINDS if self.value((*path, kind)) is not None}
        return Structure(title, self.switch((*path, "byline")), sections, self._length((*path, "length")))

    def _layout(self, path: KeyPath) -> SectionLayout:
        value = self.value(path)
        if not isinstance(value, dict):
            return SectionLayout(show=self.switch(path), path=path)
        self.known_keys(path, ("show", "heading", "numbering", "points", "intro"))
        numbering = self._named(
            (*path, "numbering"), NUMBERING_NAMES, "写成“（一）”“1.”“一、”“（1）”“一是”或“无”")
        points = self._named((*path, "points"), POINT_NAMES, "写“一是”（一是、二是……）或“连写”")
        intro: bool | str | None = None
        raw_intro = self.value((*path, "intro"))
        if isinstance(raw_intro, str) and raw_intro.strip().lower() not in OFF | ON:
            intro = self.text((*path, "intro"))
        elif raw_intro is not None:
            intro = self.switch((*path, "intro"))
        heading = self.text((*path, "heading"))
        return SectionLayout(self.switch((*path, "show")), heading, numbering, points, intro, path)

    def _named(self, path: KeyPath, names: Mapping[str, Any], hint: str) -> Any:
        value = self.value(path)
        if value is None:
            return None
        text = unicodedata.normalize("NFKC", str(value)).strip()
        for candidate in (str(value).strip(), text, text.replace("(", "（").replace(")", "）")):
            if candidate in names:
                return names[candidate]
        self.report(path, f"不认识的编号方式“{value}”", hint)
        return None

    def _length(self, path: KeyPath) -> tuple[int, int] | None:
        value = self.value(path)
        if value is None:
            return None
        text = unicodedata.normalize("NFKC", str(value)).replace("字", "").replace(" ", "")
        match = re.fullmatch(r"(\d+)?[-~—－至到](\d+)", text) or re.fullmatch(r"(?:<=|≤|不超过)?()(\d+)(?:以内|以下)?", text)
        if match:
            low, high = int(match.group(1) or 0), int(match.group(2))
            if low <= high:
                return low, high
        self.report(path, f"字数范围写法不对：{describe(value)}", "写成“2500-3000”，或只写上限“3000”")
        return None

    def _last_year(self) -> LastYear:
        path: KeyPath = ("last_year",)
        if self.value(path) is None or self.typed(path, dict) is None:
            return LastYear()
        self.known_keys(path, ("year", "facts", "problems", "draft"))
        raw_year = self.value((*path, "year"))
        problems = self.typed((*path, "problems"), list) or []
        draft = self.typed((*path, "draft"), str)
        return LastYear(self.year((*path, "year"), raw_year) if raw_year is not None else None,
                        self._facts((*path, "facts")),
                        tuple(str(p).strip() for p in problems if isinstance(p, (str, int)) and str(p).strip()),
                        draft or None)

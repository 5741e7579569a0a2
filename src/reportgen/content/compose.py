"""Composing a draft: a profile's facts and choices + a pack's skeleton and prose -> the document model.

An item is a lead and its points; a point is sentences, each said in one of its variants, and after
them the point's facts in a sentence of their own.  The variant is chosen by a hash of the pack, the
unit, the year and the profile's ``wording`` numbers, so the same profile gives the same bytes and two
units rarely get the same sentence.  A clause whose fact is missing drops out; a fact an item cannot
do without becomes a highlighted 【待补充】.  Numbering is computed here, from the skeleton as the
profile adjusts it within the pack's rules.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from .. import __version__
from ..errors import Problem
from ..inputs.fields import suggest
from ..inputs.profile import META_FIELDS, SECTION_WORDS, Choice, OwnPoint, Profile, Rectification
from ..inputs.yamlfile import KeyPath
from ..packs.manifest import (
    CATALOGUE_FOR_SECTION,
    Entry,
    FactSpec,
    Pack,
    Point,
    SectionSpec,
    Sentence,
    Variants,
    unit_kind,
)
from ..packs.prose import META_SLOTS, Group, Segment, Slot, parse_user_text, plain
from .facts import Facts, FactValue, phrase_parts
from .model import HAN, Document, Origin, Paragraph, Role, Span, SpanKind, dated_after, placeholder_text
from .numbering import SELF_NUMBERED, chinese_numeral, item_label

__all__ = ["Composition", "compose", "paragraph_ids"]

_LEAD_STYLE: Mapping[str, SpanKind] = {
    "chinese": "lead2", "paren_chinese": "lead2", "none": "lead2", "arabic": "lead3", "paren_arabic": "lead3",
}
# blanks left in pasted text: XX, **, ××, or a lone × (“×月×日”) that is not a multiplication sign
_BLANKS = re.compile(r"X{2,}|Ｘ{2,}|\*{2,}|＊{2,}|×{2,}|(?<![0-9０-９])×(?![0-9０-９])")
_COMMITTEES = ("机关党委", "党工委", "党总支", "党支部", "党委", "党组", "工委", "总支", "支部")
_FACTS_PER_SENTENCE = 4
_NOT_WORDS = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Composition:
    document: Document
    problems: tuple[Problem, ...]  # the profile cannot be drafted as it is (with the facts' problems)
    warnings: tuple[Problem, ...]  # worth knowing: facts no item states, a doubled word in the byline…
    said: frozenset[str] = frozenset()  # facts the draft states
    promises: tuple[tuple[str | None, str, str | None], ...] = ()  # (problem key, problem, the measure answering it)


def paragraph_ids(pack: Pack) -> list[str]:
    """Ids of the generated paragraphs a profile may replace through ``overrides``."""
    ids = ["title"] if pack.skeleton.title else []
    for section in pack.skeleton.sections:
        if section.kind in ("opening", "closing"):
            ids.append(section.kind)
        else:
            ids.append(f"{section.kind}.intro")
        if section.numbering == "ordinal_inline" and section.kind in ("problems", "causes"):
            ids.append(section.kind)
    return ids


def compose(profile: Profile, pack: Pack, facts: Facts, *, properties: Mapping[str, str] | None = None) -> Composition:
    return _Composer(profile, pack, facts, properties or {}).compose()


def committee_of(unit: str | None) -> str | None:
    """本级党组织简称 from the unit's name: …机关党委 -> 机关党委, …党工委 -> 党工委, the formal
    中共…第一支部委员会 -> 党支部."""
    if not unit:
        return None
    if unit.endswith("支部委员会") and not unit.endswith("总支部委员会"):
        return "党支部"
    return next((name for name in _COMMITTEES if unit.endswith(name)), None)


def created_time(profile: Profile) -> dt.datetime:
    """A fixed time (from the profile, never the clock) so rebuilds are byte-identical."""
    meta = profile.meta
    if meta.date is not None:
        return dt.datetime(meta.date.year, meta.date.month, meta.date.day, tzinfo=dt.UTC)
    return dated_after(meta.year)


@dataclass
class _Section:
    spec: SectionSpec
    heading: str | None
    numbering: str
    points: str
    intro: bool | str
    heading_label: str = ""


@dataclass
class _Item:
    lead: list[Span]
    body: list[Span]


class _Chooser:
    """Deterministic variant choice: the same unit, year and wording always pick the same variant."""

    def __init__(self, pack: Pack, profile: Profile) -> None:
        self.base = f"{pack.name}\0{profile.meta.unit or ''}\0{profile.wording}"
        self.year = profile.meta.year or 0

    def index(self, count: int, piece: str, *, extra: int = 0, year: int | None = None) -> int:
        digest = hashlib.sha256(f"{self.base}\0{year if year is not None else self.year}\0{extra}\0{piece}".encode())
        return int.from_bytes(digest.digest()[:8], "big") % count

    def pick(self, variants: Variants, piece: str, *, extra: int = 0, carried: bool = False) -> Sentence:
        """``carried``: the item was in last year's report too, so it must not read as it did then."""
        count = len(variants)
        if not carried or count < 2:
            return variants[self.index(count, piece, extra=extra)]
        # A carried item steps two variants a year from a fixed start, so two carried years differ (with four or
        # more variants); one step more when that lands on the variant an uncarried item had last year.
        start = self.index(count, piece, extra=extra, year=0)
        index = (start + (2 if count >= 4 else 1) * self.year) % count
        if index == self.index(count, piece, extra=extra, year=self.year - 1):
            index = (index + 1) % count
        return variants[index]


class _Composer:
    def __init__(self, profile: Profile, pack: Pack, facts: Facts, properties: Mapping[str, str]) -> None:
        self.profile = profile
        self.pack = pack
        self.facts = facts
        self.properties = properties
        self.choose = _Chooser(pack, profile)
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.paragraphs: list[Paragraph] = []
        self.said: set[str] = set()
        self.openers_used: collections.Counter[str] = collections.Counter()  # how often each opener began a sentence
        self.listed: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}  # section -> (keys, lead, first sentence)
        self.cited_known = {*facts.specs, *META_SLOTS}
        self.text_facts = frozenset(f"facts.{key}" for key, spec in facts.specs.items() if spec.type == "text")
        meta = profile.meta
        year = meta.year
        self.meta: dict[str, str | None] = {
            "unit": meta.unit, "name": meta.name, "position": meta.position, "superior": meta.superior,
            "basis": meta.basis, "year": str(year) if year else None,
            "last_year": str(year - 1) if year else None, "next_year": str(year + 1) if year else None,
            "committee": meta.committee or committee_of(meta.unit),
        }
        if (self.meta["committee"] or "").endswith("支部"):
            self.facts = self._without_branches(facts)

    def _without_branches(self, facts: Facts) -> Facts:
        """A 党支部 has no branches below it: “所属党支部1个” is not said of one."""
        values = dict(facts.values)
        for key, value in facts.values.items():
            if facts.specs[key].branches:
                del values[key]
                self.warn(value.path, f"本级是党支部，没有下属的党支部：“{facts.specs[key].label}”（{key}）没有写进稿子",
                          "删掉这一项；党小组的情况可以写在自己的文字里")
        return replace(facts, values=values)

    # -- reporting

    def report(self, path: KeyPath, message: str, hint: str | None = None, *, at_key: bool = False) -> None:
        self.problems.append(self.profile.tree.problem(path, message, hint, at_key=at_key))

    def warn(self, path: KeyPath, message: str, hint: str | None = None) -> None:
        self.warnings.append(self.profile.tree.problem(path, message, hint))

    # -- spans

    def _meta_span(self, key: str) -> Span | None:
        value = self.meta.get(key)
        if value is None:
            return None
        return Span(value, source=f"meta.{key}", origin="fact")

    def _placeholder(self, key: str) -> Span:
        if key in META_SLOTS or key in META_FIELDS:
            label = META_FIELDS.get(key) or META_SLOTS[key]
            source = f"meta.{'year' if key in ('last_year', 'next_year') else key}"
            return Span(placeholder_text(label), "placeholder", source)
        return Span(placeholder_text(self.facts.specs[key].label), "placeholder", f"facts.{key}")

    def _value(self, slot: Slot) -> Span | None:
        """A slot's value, or None when it has none."""
        if slot.key in META_SLOTS:
            return self._meta_span(slot.key)
        value = self.facts.get(slot.key)
        if value is None:
            return None
        if slot.attr == "change":
            change = value.change()
            return Span(change, source=f"facts.{slot.key}", origin="fact") if change else None
        return _value_span(slot.key, value)

    def _slot(self, slot: Slot) -> Span | None:
        """A slot's value (the fact counts as said), or None when it has none."""
        span = self._value(slot)
        if span is not None and slot.key not in META_SLOTS and slot.attr != "change":
            self.said.add(slot.key)
        return span

    def _filled(self, slot: Slot) -> bool:
        return self._value(slot) is not None

    def _segments(self, segments: Sequence[Segment]) -> list[Span]:
        # an optional clause [..] is kept whole when every fact in it is known, else dropped whole
        flat: list[str | Slot] = []
        for segment in segments:
            if not isinstance(segment, Group):
                flat.append(segment)
            elif all(self._filled(part) for part in segment.parts if isinstance(part, Slot)):
                flat.extend(segment.parts)
        changes_cited = {part.key for part in flat if isinstance(part, Slot) and part.attr == "change"}
        spans: list[Span] = []
        trailing: list[Span] = []  # 同比 of facts cited mid-clause, said at the end of the sentence
        for position, part in enumerate(flat):
            if isinstance(part, str):
                spans.extend(self._literal(part, "pack"))
                continue
            span = self._slot(part)
            if span is None:
                span = self._placeholder(part.key)
                if part.key not in META_SLOTS:
                    self.said.add(part.key)
            spans.append(span)
            change = self._uncited_change(part, changes_cited)
            if change:
                after = flat[position + 1] if position + 1 < len(flat) else "。"
                if isinstance(after, str) and after[:1] in "，。；：":
                    spans.append(Span(f"，{change}", source=f"facts.{part.key}", origin="fact"))
                else:
                    label = self.facts.specs[part.key].label
                    trailing.append(Span(f"，{label}{change}", source=f"facts.{part.key}", origin="fact"))
        if trailing:
            if spans and spans[-1].text.endswith("。"):
                last = spans.pop()
                if last.text[:-1]:
                    spans.append(replace(last, text=last.text[:-1]))
                trailing.append(Span("。"))
            spans.extend(trailing)
        return spans

    def _uncited_change(self, slot: Slot, changes_cited: set[str]) -> str | None:
        """The 同比 of a fact a pack sentence cites without ``{key.change}``: it is said anyway."""
        if slot.attr or slot.key in changes_cited or slot.key not in self.facts.specs:
            return None
        value = self.facts.get(slot.key)
        if value is None or not self.facts.specs[slot.key].compare:
            return None
        return value.change()

    def _literal(self, text: str, origin: Origin) -> list[Span]:
        if origin != "profile" or not _BLANKS.search(text):
            return [Span(text, origin=origin)] if text else []
        spans: list[Span] = []
        position = 0
        for match in _BLANKS.finditer(text):
            if match.start() > position:
                spans.append(Span(text[position:match.start()], origin="profile"))
            spans.append(Span(match.group(), "blank", "blank", "profile"))
            position = match.end()
        if position < len(text):
            spans.append(Span(text[position:], origin="profile"))
        return spans

    def sentence(self, variants: Variants, piece: str, *, extra: int = 0, carried: bool = False) -> list[Span]:
        if not variants:
            return []
        return self._segments(self.choose.pick(variants, piece, extra=extra, carried=carried).segments)

    def text(self, slots: Iterable[Variants], piece: str, *, extra: int = 0, carried: bool = False) -> list[Span]:
        spans: list[Span] = []
        for index, variants in enumerate(slots):
            spans.extend(self.sentence(variants, f"{piece}.{index}", extra=extra, carried=carried))
        return spans

    def user_text(self, text: str, path: KeyPath, *, strip_number: bool = True) -> list[Span]:
        """Text the user wrote: literal, except for facts cited as {key} and blanks marked XX / ** / ×."""
        if strip_number:
            text = self._strip_number(text, path)
        parts, unknown = parse_user_text(text, self.cited_known)
        for key in unknown:
            self.report(path, f"引用了不存在的事实“{{{key}}}”", suggest(key, self.facts.specs))
        spans: list[Span] = []
        for part in parts:
            if isinstance(part, str):
                spans.extend(self._literal(part, "profile"))
            else:
                span = self._slot(part)
                spans.append(span if span is not None else self._placeholder(part.key))
                if part.key not in META_SLOTS:
                    self.said.add(part.key)
        return spans

    def _strip_number(self, text: str, path: KeyPath) -> str:
        match = SELF_NUMBERED.match(text)
        if match is None or match.end() >= len(text):
            return text
        self.warn(path, f"这里自己写了编号“{match.group().strip()}”，已去掉", "编号由程序计算，增删条目后会自动重排；不要自己写")
        return text[match.end():]

    def fact_sentence(self, keys: Iterable[str], piece: str, openers: Variants, *, extra: int = 0) -> list[Span]:
        """The facts among ``keys`` not said yet, each by its phrase, in sentences of a few facts each.

        Facts keep the order the pack (or the user) lists them in: a whole before its part, a count
        before its rate.  Variety comes from each fact's phrases, chosen so that two facts in a row do
        not start with the same word.
        """
        phrases: list[tuple[FactSpec, list[Span]]] = []
        previous_start = ""
        for key in keys:
            if key in self.said or key not in self.facts.specs:
                continue
            spec = self.facts.specs[key]
            value = self.facts.get(key)
            if value is None and not (spec.required and spec.origin != "profile"):
                continue
            self.said.add(key)
            options = phrase_parts(spec)
            index = self.choose.index(len(options), f"facts.{key}", extra=extra)
            for step in range(len(options)):  # 评选…，评选…: take the next phrase that starts otherwise
                candidate = options[(index + step) % len(options)]
                if _phrase_start(candidate) != previous_start or not previous_start:
                    index = (index + step) % len(options)
                    break
            chosen = options[index]
            previous_start = _phrase_start(chosen)
            spans: list[Span] = []
            for part in chosen:
                if isinstance(part, Slot) and part.key == "value":
                    spans.append(_value_span(key, value) if value is not None else self._placeholder(key))
                elif isinstance(part, Slot):
                    spans.append(self._slot(part) or self._placeholder(part.key))
                elif isinstance(part, str):
                    spans.append(Span(part, origin="profile" if spec.origin == "profile" else "pack"))
            change = value.change() if value is not None and spec.compare else None
            if change:
                spans.append(Span(f"，{change}", origin="fact"))
            phrases.append((spec, spans))
        result: list[Span] = []
        sentences = -(-len(phrases) // _FACTS_PER_SENTENCE)
        size = max(1, -(-len(phrases) // max(sentences, 1)))  # even sentences: 5 facts as 3 + 2, not 4 + 1
        last_opener = -1
        for start in range(0, len(phrases), size):
            chunk = phrases[start:start + size]
            # “全年”“年内” only before something done in the year: not before a state (现有党员), a rate,
            # a name, or the user's own phrase (a whole statement of its own)
            if openers and _takes_opener(chunk[0][0]):
                first = self.choose.index(len(openers), f"{piece}.opener.{start}", extra=extra)
                # from the chosen one on, the opener this draft has used least (not six “过去一年”), and never
                # two sentences in a row opened alike
                index = min(((first + step) % len(openers) for step in range(len(openers))),
                            key=lambda i: (i == last_opener, self.openers_used[plain(openers[i].segments)]))
                last_opener = index
                self.openers_used[plain(openers[index].segments)] += 1
                result.extend(self._segments(openers[index].segments))
            for position, (_, spans) in enumerate(chunk):
                if position:
                    result.append(Span("，"))
                result.extend(spans)
            result.append(Span("。"))
        return result

    # -- structure

    def compose(self) -> Composition:
        sections = self._sections()
        title = self._title()
        if title:
            self._add("title", title, "title", "标题")
        if self._byline_shown():
            self._byline()
        self._check_unit_kind()
        self._check_overrides()
        headings = 0
        for section in sections:
            if section.heading is not None and self._has_content(section):
                headings += 1
                section.heading_label = item_label("chinese", headings)
            self._section(section)
        if not any(paragraph.role in ("body", "heading") for paragraph in self.paragraphs):
            self.report(("structure",), "稿子没有正文：structure 把各部分都去掉了", "至少保留一个部分", at_key=True)
        self._unused_facts()
        document = Document(
            title="".join(span.text for span in title), paragraphs=tuple(self.paragraphs),
            meta={key: str(self.profile.meta.get(key) or "") for key in ("unit", "name", "position", "year")},
            properties={"reportgen.version": __version__, "reportgen.pack": self.pack.name,
                        "reportgen.pack_version": self.pack.version, **self.properties},
            created=created_time(self.profile))
        self._length_check(document.han_count())
        return Composition(document, tuple(self.problems), tuple(self.warnings), frozenset(self.said), self._promises())

    def _promises(self) -> tuple[tuple[str | None, str, str | None], ...]:
        """Each problem with the measure that answers it: the catalogue's link, else the one in the same place."""
        problems = self.listed.get("problems", [])
        measures = self.listed.get("measures", [])
        links = self.pack.catalogues.get("problems", {})
        result: list[tuple[str | None, str, str | None]] = []
        for index, (keys, lead, _) in enumerate(problems):
            link = links[keys[0]].measure if keys and keys[0] in links else None
            answer = next((m for m in measures if link and m[0] and m[0][0] == link), None)
            if answer is None and len(measures) == len(problems):
                answer = measures[index]
            measure = f"{answer[1]}。{answer[2]}" if answer and answer[2] else (answer[1] if answer else None)
            result.append((keys[0] if keys else None, lead, measure))
        return tuple(result)

    def _add(self, role: Role, spans: list[Span], pid: str, where: str) -> None:
        spans = tidy(_undoubled(spans, self.text_facts))
        if spans:
            self.paragraphs.append(Paragraph(role, tuple(spans), pid, where))

    def _sections(self) -> list[_Section]:
        structure = self.profile.structure
        locked = self.pack.skeleton.locked
        kinds = [section.kind for section in self.pack.skeleton.sections]
        for kind, given in structure.sections.items():
            path = given.path or ("structure", kind)
            if kind not in kinds:
                self.report(path, f"模板包“{self.pack.name}”的结构里没有“{SECTION_WORDS[kind]}”这一部分，不能调整它",
                            f"这个模板包的部分有：{'、'.join(SECTION_WORDS[k] for k in kinds)}", at_key=True)
            for field_name, lock, word in (("show", "sections", "增删部分"), ("heading", "headings", "改标题"),
                                           ("numbering", "numbering", "改编号"), ("points", "numbering", "改编号"),
                                           ("intro", "intros", "改引导段")):
                if getattr(given, field_name) is not None and lock in locked:
                    self.report(path, f"模板包“{self.pack.name}”规定了统一的结构，不能{word}",
                                "这是上级党组织统一的要求；请删掉 structure 里的这一项", at_key=True)
        if self.profile.rectifications and "rectification" not in kinds:
            self.warn(("rectification",), f"模板包“{self.pack.name}”的结构里没有“上年问题整改情况”，这里写的整改情况不会写进稿子",
                      "换一个有这一部分的模板包，或把整改情况写进自己的条目（work 的 text）")
        result: list[_Section] = []
        dropped = False
        for spec in self.pack.skeleton.sections:
            layout = structure.sections.get(spec.kind)
            # a section without a heading of its own (the causes after the problems) goes with the one it follows
            follows = spec.heading is None and spec.kind not in ("opening", "closing")
            if "sections" not in locked and ((layout is not None and layout.show is False) or (follows and dropped)):
                if follows and dropped and self.profile.choices(spec.kind):
                    self.warn((spec.kind,), f"上一部分去掉了，这里选的{SECTION_WORDS[spec.kind]}也不会写进稿子",
                              f"要保留它，就不要在 structure 里去掉上一部分；不要它，就删掉 {spec.kind}")
                dropped = True
                continue
            dropped = False
            heading = spec.heading
            numbering: str = spec.numbering
            points: str = spec.points
            intro: bool | str = spec.intro
            if layout is not None:
                heading = layout.heading if layout.heading is not None and "headings" not in locked else heading
                if "numbering" not in locked:
                    numbering = layout.numbering or numbering
                    points = layout.points or points
                if layout.intro is not None and "intros" not in locked:
                    intro = layout.intro
            result.append(_Section(spec, heading, numbering, points, intro))
        return result

    def _has_content(self, section: _Section) -> bool:
        return section.spec.kind != "rectification" or bool(self.profile.rectifications)

    def _title(self) -> list[Span]:
        wanted = self.profile.structure.title
        if wanted is not None and "title" in self.pack.skeleton.locked:
            self.report(("structure", "title"), f"模板包“{self.pack.name}”规定了统一的标题，不能更改",
                        "删掉 structure 里的 title", at_key=True)
            wanted = None
        override = self.profile.overrides.get("title")
        if override:
            return self.user_text(override, ("overrides", "title"))
        if isinstance(wanted, str):
            return self.user_text(wanted, ("structure", "title"))
        if wanted is False or not self.pack.skeleton.title:
            return []
        return self._segments(self.pack.skeleton.title_segments)

    def _byline_shown(self) -> bool:
        wanted = self.profile.structure.byline
        if wanted is not None and "byline" in self.pack.skeleton.locked:
            self.report(("structure", "byline"), f"模板包“{self.pack.name}”规定要有署名，不能去掉", at_key=True)
            return self.pack.skeleton.byline
        return self.pack.skeleton.byline if wanted is None else wanted

    def _check_unit_kind(self) -> None:
        """A school's or a township's draft from a pack written for 机关 speaks of 机关 and 科室 throughout."""
        kind = unit_kind(self.profile.meta.unit)
        if self.pack.units and kind is not None and kind not in self.pack.units:
            self.warn(("meta", "unit"), f"单位“{self.profile.meta.unit}”看来是{kind}，模板包“{self.pack.name}”是按"
                      f"{'、'.join(self.pack.units)}写的，稿子里有些说法不合本单位",
                      f"逐句改成本单位的说法；有为{kind}写的模板包时换用它（reportgen packs list 列出全部）")

    def _byline(self) -> None:
        meta = self.profile.meta
        unit = self._meta_span("unit") or self._placeholder("unit")
        position = self._meta_span("position") or self._placeholder("position")
        if meta.unit and meta.position:
            overlap = next((n for n in range(min(len(meta.unit), len(meta.position)), 1, -1)
                            if meta.unit.endswith(meta.position[:n])), 0)
            if overlap:
                fixed = meta.position[overlap:] or meta.position
                self.warn(("meta", "position"), f"署名会写成“{meta.unit}{meta.position}”，“{meta.position[:overlap]}”重复了；"
                          f"已写成“{meta.unit}{fixed}”", f"把职务写成“{fixed}”")
                position = Span(fixed, source="meta.position", origin="fact")
        name = self._meta_span("name") or self._placeholder("name")
        self._add("byline", [unit, position, Span("\u3000"), name], "byline", "署名")
        date = (Span(f"{meta.date.year}年{meta.date.month}月{meta.date.day}日", source="meta.date", origin="fact")
                if meta.date else self._placeholder("date"))
        self._add("byline", [Span("（"), date, Span("）")], "byline.date", "署名（日期）")

    def _check_overrides(self) -> None:
        allowed = paragraph_ids(self.pack)
        for key in self.profile.overrides:
            if key not in allowed:
                self.report(("overrides", key), f"没有可以替换的段落“{key}”", f"可以替换的段落：{'、'.join(allowed)}", at_key=True)

    def _overridden(self, pid: str) -> list[Span] | None:
        text = self.profile.overrides.get(pid)
        return self.user_text(text, ("overrides", pid)) if text else None

    # -- sections

    def _where(self, section: _Section, label: str = "") -> str:
        if section.heading_label:
            return section.heading_label + label
        return SECTION_WORDS[section.spec.kind] + label

    def _section(self, section: _Section) -> None:
        kind = section.spec.kind
        if kind in ("opening", "closing"):
            frame = self.pack.frame.opening if kind == "opening" else self.pack.frame.closing
            spans = self._overridden(kind)
            if spans is None:
                spans = self.text(frame, kind)
            if section.spec.facts:
                subject = self._meta_span("unit") or Span("本单位")
                basics = self.fact_sentence(section.spec.facts, f"{kind}.facts", ())
                if basics:
                    spans = [*_with_period(spans), subject, *basics] if kind == "closing" else [subject, *basics, *spans]
            self._add("body", spans, kind, SECTION_WORDS[kind])
            return
        if kind == "rectification":
            if self.profile.rectifications:
                self._heading(section)
                self._intro(section)
                self._rectifications(section)
            elif self.profile.structure.sections.get(kind) is not None:
                self.report(("structure", kind), "资料文件里没有上年问题（rectification），这一部分不会出现", at_key=True)
            return
        items = self._items(section)
        self._heading(section)
        override = self._overridden(kind) if section.numbering == "ordinal_inline" else None
        intro = self._intro_spans(section)
        if override is not None:
            self._add("body", [*intro, *override], kind, self._where(section))
            return
        if not items:
            missing = Span(placeholder_text(f"{SECTION_WORDS[kind]}（请在资料文件的 {kind} 中选择条目）"), "placeholder", kind)
            self._add("body", [*intro, missing], kind, self._where(section))
            return
        numbering = section.numbering
        if numbering == "ordinal_inline":
            spans = list(intro)
            for n, item in enumerate(items, start=1):
                spans.append(Span(item_label(numbering, n)))
                spans.extend(_with_period(item.lead))
                spans.extend(item.body)
            self._add("body", spans, kind, self._where(section, "（一是、二是……）"))
            return
        self._add("body", intro, f"{kind}.intro", self._where(section))
        style = _LEAD_STYLE.get(numbering, "text")
        for n, item in enumerate(items, start=1):
            label = item_label(numbering, n)
            lead = [Span(label, style), *(_restyle(span, style) for span in _with_period(item.lead))]
            self._add("body", [*lead, *item.body], f"{kind}.{n}", self._where(section, label or f"第{chinese_numeral(n)}条"))

    def _heading(self, section: _Section) -> None:
        if section.heading is None or not section.heading_label:
            return
        spans = (self._segments(section.spec.heading_segments)
                 if section.heading == section.spec.heading else self.user_text(section.heading, ("structure", section.spec.kind, "heading")))
        self._add("heading", [Span(section.heading_label), *spans], f"{section.spec.kind}.heading", section.heading_label)

    def _intro_spans(self, section: _Section) -> list[Span]:
        kind = section.spec.kind
        override = self._overridden(f"{kind}.intro")
        if override is not None:
            return override
        if isinstance(section.intro, str):
            return self.user_text(section.intro, ("structure", kind, "intro"))
        if not section.intro:
            return []
        return self.text(self.pack.frame.intros.get(kind, ()), f"intro.{kind}")

    def _intro(self, section: _Section) -> None:
        self._add("body", self._intro_spans(section), f"{section.spec.kind}.intro", self._where(section))

    # -- items

    def _choices(self, kind: str) -> tuple[Choice, ...]:
        if kind != "measures" or self.profile.measures is not None:
            return self.profile.choices(kind)
        mirrored: list[Choice] = []
        problems = self.pack.catalogues.get("problems", {})
        for choice in self.profile.problems:
            for key in choice.keys:
                entry = _find(problems, key)
                if entry is not None and entry.measure and all(c.keys != (entry.measure,) for c in mirrored):
                    mirrored.append(Choice(keys=(entry.measure,), path=("problems",)))
        return tuple(mirrored)

    def _items(self, section: _Section) -> list[_Item]:
        kind = section.spec.kind
        catalogue = self.pack.catalogues.get(CATALOGUE_FOR_SECTION[kind], {})
        choices = self._choices(kind)
        given = self.profile.choices(kind)
        if given and not section.spec.min_items <= len(given) <= section.spec.max_items:
            self.report((kind,), f"这一部分选了 {len(given)} 项，模板包要求 {section.spec.min_items}—{section.spec.max_items} 项",
                        "增删条目使数量符合要求", at_key=True)
        items: list[_Item] = []
        seen: set[str] = set()
        for choice in choices:
            entries: list[Entry] = []
            for position, key in enumerate(choice.keys):
                where = (*choice.path, "key", position) if len(choice.keys) > 1 else (
                    (*choice.path, "key") if choice.path and isinstance(self.profile.tree.value(choice.path), dict)
                    else choice.path)
                entry = _find(catalogue, key)
                joined = [part for part in key.split(" - ") if part.strip()]
                if entry is None and len(joined) > 1 and all(_find(catalogue, part.strip()) for part in joined):
                    # “- a” then “   - b” indented one space more: YAML reads one item “a - b”
                    count = "两" if len(joined) == 2 else chinese_numeral(len(joined))
                    self.report(where, f"“{key}”是{count}项连成了一项：下一行的“- ”比上一行缩进得多",
                                "让这一部分每一项的“- ”上下对齐（缩进的空格数相同）")
                    continue
                if entry is None:
                    titles = {k: e.title for k, e in catalogue.items()}
                    self.report(where, f"模板包“{self.pack.name}”里没有条目“{key}”", suggest(key, catalogue, titles))
                    continue
                if entry.key in seen:
                    self.report(where, f"“{key}”选了两次", "删掉重复的一项")
                seen.add(entry.key)
                entries.append(entry)
            if choice.keys and not entries:
                continue
            item = self._item(kind, section, choice, entries)
            items.append(item)
            lead = "".join(span.text for span in item.lead).rstrip("。")
            first = "".join(span.text for span in item.body).split("。")[0]
            self.listed.setdefault(kind, []).append((tuple(e.key for e in entries), lead, first))
        return items

    def _item(self, kind: str, section: _Section, choice: Choice, entries: list[Entry]) -> _Item:
        catalogue = CATALOGUE_FOR_SECTION[kind]
        extra = choice.wording
        last_year = self.profile.last_year.problems
        carried = kind == "problems" and any(e.key in last_year or e.title in last_year for e in entries)
        if carried:
            self._closed_but_carried(choice, entries)
        if choice.lead:
            lead = self.user_text(choice.lead, (*choice.path, "lead"))
        elif entries:
            lead = self.sentence(entries[0].lead, f"{catalogue}.{entries[0].key}.lead", extra=extra,
                                 carried=carried)
        else:
            lead = []
        if choice.text:
            body = self.user_text(choice.text, (*choice.path, "text"))
            if choice.add:  # the user's text and the addition stay two sentences
                body = _with_period(body)
            for addition in choice.add:
                body += _with_period(self.user_text(addition.text, addition.path))
        elif kind == "work":
            body = self._points(section, choice, entries)
        else:
            body = []
            for entry in entries:
                body += self.text(entry.text, f"{catalogue}.{entry.key}", extra=extra, carried=carried)
                if entry.facts:
                    body += self.fact_sentence(entry.facts, f"{catalogue}.{entry.key}.facts",
                                               self.pack.frame.plan_openers, extra=extra)
            for addition in choice.add:
                body += _with_period(self.user_text(addition.text, addition.path))
            if carried and self.pack.frame.carried:
                body += self.sentence(self.pack.frame.carried, f"carried.{entries[0].key}", extra=extra)
        if choice.facts:
            body += self._choice_facts(choice, kind)
        return _Item(lead, _with_period(body))

    def _closed_but_carried(self, choice: Choice, entries: list[Entry]) -> None:
        """A problem chosen again whose rectification says 已完成: the draft would contradict itself."""
        leads = {_bare(variant) for entry in entries for variant in entry.lead} | {_bare(entry.title) for entry in entries}
        for item in self.profile.rectifications:
            if item.status == "已完成" and item.problem and _bare(item.problem) in leads:
                self.warn(choice.path, f"上年问题“{item.problem}”在整改情况里写的是“已完成”，今年又选了这个问题",
                          "问题确已解决，就从 problems 里去掉它；仍然存在，就把整改进度改为“基本完成”或“持续推进”")

    def _choice_facts(self, choice: Choice, kind: str) -> list[Span]:
        for position, key in enumerate(choice.facts):
            spec = self.facts.specs.get(key)
            if spec is None:
                self.report((*choice.path, "facts", position), f"没有事实“{key}”", suggest(key, self.facts.specs))
            elif spec.plan and kind != "measures":  # it would read as done this year
                self.report((*choice.path, "facts", position), f"“{spec.label}”是下一年度的计划，不能写成今年做过的事",
                            f"把 facts: [{key}] 写到措施（measures）的某一条下（还没写 measures: 时，"
                            "要把全部措施列出来：写了它就不再按问题自动配措施）")
        openers = self.pack.frame.plan_openers if kind == "measures" else self.pack.frame.fact_openers
        return self.fact_sentence([k for k in choice.facts if k in self.facts.specs], f"choice.{'.'.join(choice.keys)}",
                                  openers, extra=choice.wording)

    def _points(self, section: _Section, choice: Choice, entries: list[Entry]) -> list[Span]:
        """A work item's body: its points in order, the user's own among them, each with its facts."""
        extra = choice.wording
        catalogue_points: dict[str, tuple[Entry, Point]] = {}
        for entry in entries:  # a point is named by its key, or “item.point” where gathered items share a key
            for known in entry.points:
                catalogue_points.setdefault(known.key, (entry, known))
                catalogue_points[f"{entry.key}.{known.key}"] = (entry, known)
        order: list[tuple[Entry, Point] | OwnPoint] = []
        if choice.points is not None:
            for position, item in enumerate(choice.points):
                if isinstance(item, OwnPoint):
                    order.append(item)
                elif item in catalogue_points:
                    order.append(catalogue_points[item])
                else:
                    self.report((*choice.path, "points", position), f"条目里没有要点“{item}”",
                                suggest(item, catalogue_points))
        else:
            order.extend((entry, point) for entry in entries for point in entry.points)
        for addition in choice.add:
            anchor = addition.after or addition.before
            if anchor is None:
                order.append(addition)
                continue
            target = catalogue_points.get(anchor)
            at = next((i for i, p in enumerate(order) if not isinstance(p, OwnPoint) and p == target), None)
            if at is None:
                self.report(addition.path, f"要插在“{anchor}”{'之后' if addition.after else '之前'}，但条目里没有这个要点",
                            suggest(anchor, catalogue_points))
                order.append(addition)
            else:
                order.insert(at + 1 if addition.after else at, addition)
        ordinal = section.points == "ordinal_inline"
        counted = ordinal and len(order) > 1  # no “一是” without a “二是”
        body: list[Span] = []
        for n, placed in enumerate(order, start=1):
            if isinstance(placed, OwnPoint):
                lead = self.user_text(placed.lead, placed.path) if placed.lead else []
                text = self.user_text(placed.text, placed.path)
            else:
                entry, catalogue_point = placed
                piece = f"topics.{entry.key}.{catalogue_point.key}"
                lead = self.sentence(catalogue_point.lead, f"{piece}.lead", extra=extra) if ordinal else []
                text = self.text(catalogue_point.text, piece, extra=extra)
                text = _with_period(text) + self.fact_sentence(catalogue_point.facts, f"{piece}.facts",
                                                               self.pack.frame.fact_openers, extra=extra)
            if ordinal:
                body.extend([Span(item_label("ordinal_inline", n))] if counted else [])
                body.extend(_with_period(lead) if lead else [])
            body.extend(_with_period(text))
        for entry in entries:
            if entry.facts:
                body += self.fact_sentence(entry.facts, f"topics.{entry.key}.facts", self.pack.frame.fact_openers,
                                           extra=extra)
        return body

    def _rectifications(self, section: _Section) -> None:
        numbering = section.numbering
        style = _LEAD_STYLE.get(numbering, "text")
        inline: list[Span] = []
        for n, item in enumerate(self.profile.rectifications, start=1):
            spans = self._rectification(n, item, numbering, style)
            if numbering == "ordinal_inline":
                inline.extend(spans)
            else:
                self._add("body", spans, f"rectification.{n}", self._where(section, item_label(numbering, n)))
        if inline:
            self._add("body", inline, "rectification", self._where(section))

    def _rectification(self, n: int, item: Rectification, numbering: str, style: SpanKind) -> list[Span]:
        label = item_label(numbering, n)
        if item.problem:
            problem = [_restyle(span, style) for span in self.user_text(item.problem, (*item.path, "problem"))]
        else:
            problem = [Span(placeholder_text(f"上年度第{chinese_numeral(n)}个问题"), "placeholder",
                            f"rectification[{n}].problem")]
        spans = [Span(label, style), *problem, Span("。", style)]
        frame = self.pack.frame
        if item.measure:  # what was promised, then what was done: the pack's labels would say 措施 twice
            measure = _MEASURE_LABEL.sub("", item.measure.strip()).rstrip("；;，,、 ")
            spans += [Span("整改措施："), *_with_period(self.user_text(measure, (*item.path, "measure")))]
            if item.action or item.status is None:
                spans.append(Span("落实情况："))
        elif item.action or item.status is None:
            spans += self.sentence(frame.action_labels, f"rect.{n}.action") if frame.action_labels else [Span("整改情况：")]
        if item.action:
            spans += _with_period(self.user_text(item.action, (*item.path, "action")))
        elif item.status is None:
            spans.append(Span(placeholder_text(f"第{chinese_numeral(n)}个问题的整改情况"), "placeholder",
                              f"rectification[{n}].action"))
            spans.append(Span("。"))
        if item.status is not None and frame.statuses.get(item.status):
            spans += self.sentence(frame.statuses[item.status], f"rect.{n}.status")
        return spans

    # -- warnings

    def _unused_facts(self) -> None:
        for key, value in self.facts.values.items():
            if key in self.said:
                continue
            spec = self.facts.specs[key]
            owners = self.pack.owners(key)
            titles = "、".join(f"“{self.pack.catalogues[kind][entry].title}”" for kind, entry in owners[:4])
            where = "措施（measures）的" if spec.plan else ""
            hint = (f"选用用到它的条目（{titles}），或在{where}某一条里写 facts: [{key}] 把它放进去" if titles
                    else f"在{where}要写它的那一条里加上 facts: [{key}]")
            self.warn(value.path, f"事实“{spec.label}”（{key}）填写了，但稿子里没有写到它", hint)

    def _length_check(self, count: int) -> None:
        wanted = self.profile.structure.length or self.pack.length
        if wanted is None:
            return
        low, high = wanted
        source = "资料文件的 structure.length" if self.profile.structure.length else f"模板包 {self.pack.name}"
        if count > high:
            self.warnings.append(Problem(f"正文约 {count} 字，超过了字数上限 {high} 字（{source}）", self.profile.file,
                                         hint="减少条目或要点，或精简自己写的文字"))
        elif count < low:
            self.warnings.append(Problem(f"正文约 {count} 字，少于建议的 {low} 字（{source}）", self.profile.file,
                                         hint="多选一两个条目，或补充本单位的事实"))


def _bare(text: str | Sentence) -> str:
    """Text without punctuation or slots, for matching a problem written out against its catalogue lead."""
    if isinstance(text, Sentence):
        text = plain(text.segments)
    return _NOT_WORDS.sub("", text)


def _phrase_start(parts: Sequence[Segment]) -> str:
    """The first two characters of a phrase's own words (组织…, 评选…), to keep neighbours apart."""
    first = parts[0] if parts else ""
    return first[:2] if isinstance(first, str) else ""


def _takes_opener(spec: FactSpec) -> bool:
    return spec.origin != "profile" and spec.counted and not spec.state


def _find(catalogue: Mapping[str, Entry], key: str) -> Entry | None:
    """A catalogue entry named by its key or by its Chinese title."""
    return catalogue.get(key) or next((entry for entry in catalogue.values() if entry.title == key), None)


def _value_span(key: str, value: FactValue) -> Span:
    """A fact's value as a span: highlighted as a blank when the profile marked it still unknown ("XX次")."""
    return Span(value.text(), "blank" if value.blank else "text", f"facts.{key}", "fact")


def _with_period(spans: list[Span]) -> list[Span]:
    """A sentence's spans ending in a full stop (unless it ends in one already, or in ： ！ ？ ；)."""
    if not spans:
        return spans
    text = spans[-1].text
    if spans[-1].kind not in ("placeholder", "blank") and (
            text.endswith(("。", "！", "？", "；", "：")) or text.endswith(("。”", "！”", "？”"))):
        return spans
    return [*spans, Span("。")]


def _restyle(span: Span, style: SpanKind) -> Span:
    return span if span.missing else Span(span.text, style, span.source, span.origin)


# ---------------------------------------------------------------- punctuation left behind by dropped clauses

_MARKER = "\0"  # joins the spans; never in a span's text (XML cannot hold it: tidy drops any a text carries)
_PUNCT_FIXES = (
    (re.compile(f"([，、；])((?:{_MARKER}.)*)[，、]"), r"\1\2"),  # doubled commas (first: “，，。” is one comma)
    (re.compile(f"[，、；]((?:{_MARKER}.)*)([。！？：；])"), r"\1\2"),  # a comma before a full stop
    (re.compile(f"([。：；])((?:{_MARKER}.)*)[，、；。]"), r"\1\2"),  # a comma opening a sentence
    (re.compile(f"^((?:{_MARKER}.)*)[，、；。]+"), r"\1"),  # a paragraph opening with a comma
    (re.compile(f"(《|》|“|”)((?:{_MARKER}.)*)\\1"), r"\1\2"),  # marks the user typed too: 《《…》》
)


_HAN_WORD = re.compile(f"{HAN.pattern}+")
_MEASURE_LABEL = re.compile(r"^(整改)?措施[：:]\s*")  # typed by the user before the measure: the draft says it


def _undoubled(spans: list[Span], text_facts: frozenset[str]) -> list[Span]:
    """“保障完成” before a text fact written “完成港区保障任务” would read “保障完成完成…”: the pack's words
    the value repeats where they meet (two to four Chinese characters) are left out.  Only a text fact (a
    task, a phrase the user wrote): a list of titles (“深入学习{学习纲要}”) is named as it is."""
    result: list[Span] = []
    for span in spans:
        before = result[-1] if result else None
        if (before is not None and span.origin == "fact" and span.source in text_facts and before.origin == "pack"
                and not before.missing):
            longest = min(4, len(before.text), len(span.text))
            overlap = next((n for n in range(longest, 1, -1)
                            if before.text.endswith(span.text[:n]) and _HAN_WORD.fullmatch(span.text[:n])), 0)
            if overlap:
                result[-1] = replace(before, text=before.text[:-overlap])
        result.append(span)
    return [span for span in result if span.text]


def tidy(spans: list[Span]) -> list[Span]:
    """Mend punctuation at the joins of sentences and of dropped clauses, keeping every span's kind.

    The spans are joined with a marker and an index character before each, the fixes run over the
    whole text, and the text is cut back into the same spans.
    """
    spans = [replace(span, text=span.text.replace(_MARKER, "")) if _MARKER in span.text else span for span in spans]
    spans = [span for span in spans if span.text]
    if not spans:
        return spans
    joined = "".join(f"{_MARKER}{chr(0xE100 + i)}{span.text}" for i, span in enumerate(spans))
    fixed = joined
    for pattern, replacement in _PUNCT_FIXES:
        fixed = pattern.sub(replacement, fixed)
    if fixed == joined:
        return spans
    pieces = fixed.split(_MARKER)[1:]
    result: list[Span] = []
    for piece in pieces:
        span = spans[ord(piece[0]) - 0xE100]
        text = piece[1:]
        if text or span.missing:
            result.append(span if text == span.text else Span(text, span.kind, span.source, span.origin))
    return result

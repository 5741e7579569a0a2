"""A template pack: its manifest (pack.yaml), its prose files and the facts it can state.

A pack is a folder with ``pack.yaml``, prose in ``prose/*.yaml``, a Word template and an example
profile.  Packs come from other units, so every path must stay inside the pack and nothing in a
pack is ever executed: prose is data (``packs.prose``), the Word template is checked by ``safety``.
Every fact of reportgen's library (``content/common_facts.yaml``) is available to every pack; a
pack changes any of them or adds its own in ``facts:``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal, get_args

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from .. import __version__
from ..errors import PackError, Problem, UnsafePackError, display_path
from ..inputs.fields import FieldReader, suggest
from ..inputs.profile import NUMBERING_NAMES, POINT_NAMES, SECTION_KINDS, STATUSES, Numbering, PointStyle
from ..inputs.yamlfile import KeyPath, Tree, load_yaml
from .prose import KEY, META_SLOTS, Group, Segment, SyntaxProblem, parse_sentence, slots_in

__all__ = [
    "CATALOGUE_FOR_SECTION",
    "CATALOGUE_KINDS",
    "FACT_TYPES",
    "MANIFEST",
    "UNIT_KINDS",
    "Entry",
    "FactSpec",
    "FactType",
    "Frame",
    "Pack",
    "PackSource",
    "Point",
    "Relation",
    "SectionSpec",
    "Sentence",
    "Skeleton",
    "load_pack",
    "resolve_inside",
    "unit_kind",
]

MANIFEST = "pack.yaml"
FORMAT = 2
FactType = Literal["integer", "number", "percent", "text", "list", "date"]
FACT_TYPES: tuple[FactType, ...] = get_args(FactType)
FACT_TYPE_WORDS: Mapping[FactType, str] = {
    "integer": "整数", "number": "数字", "percent": "百分数", "text": "文字", "list": "列表", "date": "日期"}
PackSource = Literal["builtin", "user", "local"]
CATALOGUE_KINDS = ("topics", "problems", "causes", "measures")
CATALOGUE_FOR_SECTION = {"work": "topics", "problems": "problems", "causes": "causes", "measures": "measures"}
STYLE_ROLES = {
    # role -> (default style id, "paragraph" | "character")
    "title": ("ReportTitle", "paragraph"),
    "byline": ("Byline", "paragraph"),
    "heading": ("Heading1", "paragraph"),
    "body": ("Normal", "paragraph"),
    "lead2": ("Lead2", "character"),
    "lead3": ("Lead3", "character"),
    "placeholder": ("Placeholder", "character"),
}
LOCKABLE = ("title", "byline", "headings", "numbering", "sections", "intros")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
KEY_RE = re.compile(KEY)
_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
LIBRARY = Path(__file__).resolve().parent.parent / "content" / "common_facts.yaml"
# The kinds of unit a pack can be written for (pack.yaml “units”), and how a unit's name gives its kind away:
# the first that matches, and only a sure sign (a 机关党委 of a bank or a university is a 机关's; “…局党委”
# may be a 机关 or a 中建三局, so it says nothing).
UNIT_KINDS: dict[str, re.Pattern[str]] = {
    "机关": re.compile(r"机关"),
    "医院": re.compile(r"医院|卫生院|妇幼保健|医疗集团"),
    "学校": re.compile(r"学校|中学|小学|(?<!科)学院|大学|幼儿园|中专|技校|教育集团"),
    "乡镇街道": re.compile(r"(乡|镇|街道)(党委|党工委)$"),
    "村社区": re.compile(r"(?<!度假)村(党委|党总支|党支部)$|社区(党委|党总支|党支部)$|(村|居)委会?(党委|党总支|党支部)$"),
    "企业": re.compile(r"公司|集团|银行|厂(党委|党总支|党支部)$"),
}


def unit_kind(unit: str | None) -> str | None:
    """What kind of unit a name says it is (None: the name does not say)."""
    return next((kind for kind, pattern in UNIT_KINDS.items() if unit and pattern.search(unit)), None)


# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class FactSpec:
    key: str
    label: str  # a noun phrase: in 【待补充：…】, check's list, the workbook's header
    type: FactType = "integer"
    unit: str = ""
    phrases: tuple[tuple[Segment, ...], ...] = ()  # how it is said; the value stands where the phrase has "{}"
    required: bool = False  # asked for (a placeholder) when an item that uses it is chosen
    summary: bool = False  # a column of 汇总.xlsx
    compare: bool = False  # said with its change against last year when both are known
    people: bool = False  # counts people: the unit must be 名、人、人次 or 位
    state: bool = False  # how things stand (现有党员), not what was done in the year: no “全年” before it
    plan: bool = False  # a target or deadline for next year: stated only among the measures
    branches: bool = False  # counts the branches below a 党委 or 党总支: a 党支部 has none
    minimum: float | None = 0
    maximum: float | None = None
    origin: Literal["library", "pack", "profile"] = "library"

    @property
    def numeric(self) -> bool:
        return self.type in ("integer", "number", "percent")

    @property
    def counted(self) -> bool:
        """A count or an amount (not a percentage): the numbers that carry a unit."""
        return self.type in ("integer", "number")

    @property
    def unit_shown(self) -> str:
        return "%" if self.type == "percent" else self.unit

    @property
    def type_word(self) -> str:
        return FACT_TYPE_WORDS[self.type]

    @property
    def header(self) -> str:
        """The fact's column header in 填报表 and 汇总 (``inputs.workbook`` reads the label back from it)."""
        return f"{self.label}（{self.unit_shown}）" if self.unit_shown else self.label


@dataclass(frozen=True)
class Sentence:
    """One way of saying one sentence (or clause), and where it was written (for messages)."""

    segments: tuple[Segment, ...]
    file: str
    line: int | None


Variants = tuple[Sentence, ...]  # the ways of saying one sentence slot: one is chosen per unit
Text = tuple[Variants, ...]  # sentence slots in order


@dataclass(frozen=True)
class Point:
    key: str
    lead: Variants
    facts: tuple[str, ...]
    text: Text


@dataclass(frozen=True)
class Entry:
    """A catalogue entry: a work topic, a problem, a cause or a measure."""

    key: str
    title: str
    lead: Variants
    text: Text = ()  # problems, causes, measures
    points: tuple[Point, ...] = ()  # topics
    facts: tuple[str, ...] = ()  # facts said in this entry besides its points' (measures: targets)
    measure: str | None = None  # problems: the measure that answers it

    def all_facts(self) -> tuple[str, ...]:
        found = [*self.facts, *(key for point in self.points for key in point.facts)]
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class Frame:
    """The prose around the items."""

    opening: Text = ()
    intros: Mapping[str, Text] = field(default_factory=dict)
    closing: Text = ()
    fact_openers: Variants = ()
    plan_openers: Variants = ()
    action_labels: Variants = ()
    statuses: Mapping[str, Variants] = field(default_factory=dict)
    carried: Variants = ()


@dataclass(frozen=True)
class SectionSpec:
    kind: str
    heading: str | None = None  # may hold meta slots: "{last_year}年度问题整改情况"
    numbering: Numbering = "paren_chinese"
    points: PointStyle = "sentences"
    intro: bool = False
    min_items: int = 1
    max_items: int = 8
    facts: tuple[str, ...] = ()  # opening: the unit's basic figures, said after it ("…下设党支部8个，现有党员136名。")
    heading_segments: tuple[Segment, ...] = ()  # the heading parsed once, at load


@dataclass(frozen=True)
class Skeleton:
    title: str | None
    byline: bool
    sections: tuple[SectionSpec, ...]
    locked: frozenset[str] = frozenset()
    title_segments: tuple[Segment, ...] = ()

    def section(self, kind: str) -> SectionSpec | None:
        return next((s for s in self.sections if s.kind == kind), None)


@dataclass(frozen=True)
class Relation:
    """``left ≤ right`` between sums of facts, as the pack declares it (``text`` for messages)."""

    left: tuple[str, ...]
    op: Literal["<=", "<", "=="]
    right: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Pack:
    name: str
    version: str
    title: str
    description: str
    requires: str
    root: Path
    source: PackSource
    facts: Mapping[str, FactSpec]
    catalogues: Mapping[str, Mapping[str, Entry]]
    frame: Frame
    skeleton: Skeleton
    word_template: str
    example_profile: str | None
    styles: Mapping[str, str]
    length: tuple[int, int] | None = None
    units: tuple[str, ...] = ()  # the kinds of unit it is written for (UNIT_KINDS); empty: any
    relations: tuple[Relation, ...] = ()
    fact_aliases: Mapping[str, str] = field(default_factory=dict)  # old key -> new key

    def path(self, relative: str) -> Path:
        return resolve_inside(self.root, relative)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    @cached_property
    def fact_by_label(self) -> Mapping[str, str]:
        """label -> key: a workbook's column headers and clerks name facts by their Chinese label."""
        return {spec.label: key for key, spec in self.facts.items()}

    def owners(self, fact: str) -> list[tuple[str, str]]:
        """(section, entry key) of every catalogue entry that states ``fact``."""
        return [(kind, key) for kind, entries in self.catalogues.items() for key, entry in entries.items()
                if fact in entry.all_facts()]

    def basics(self) -> tuple[str, ...]:
        """The facts the skeleton says outside any item (the unit's basic figures, in the opening)."""
        return tuple(key for section in self.skeleton.sections for key in section.facts)


def resolve_inside(root: Path, relative: str) -> Path:
    """A pack-relative path, refusing anything that leaves the pack (absolute, ``..``, a drive, a link)."""
    candidate = Path(relative)
    if candidate.is_absolute() or ".." in candidate.parts or relative.startswith(("/", "\\")) or ":" in relative:
        raise UnsafePackError(Problem(f"模板包引用了包外的路径“{relative}”", display_path(root / MANIFEST),
                                      hint="模板包里的路径只能指向包内的文件，如 prose/topics.yaml"))
    base = root.resolve()
    resolved = (root / candidate).resolve()
    if not resolved.is_relative_to(base):
        raise UnsafePackError(Problem(f"路径“{relative}”经符号链接指向了包外", display_path(root / MANIFEST),
                                      hint="模板包里不能有指向包外的符号链接"))
    return resolved


# ---------------------------------------------------------------- reading


@cache
def _library_tree() -> Tree:
    return load_yaml(LIBRARY, what="通用事实库", error=PackError)


def load_pack(root: Path, source: PackSource = "local") -> Pack:
    """Load and validate ``root/pack.yaml`` and its prose; every problem is reported at once."""
    manifest = root / MANIFEST
    if not manifest.is_file():
        raise PackError(Problem("这个文件夹里没有 pack.yaml，不是模板包", display_path(root),
                                hint="模板包是一个含 pack.yaml 的文件夹；可用 reportgen packs new 新建"))
    pack, problems, unsafe = read_pack(root, source)
    if problems:
        raise (UnsafePackError if unsafe else PackError)(problems)
    assert pack is not None
    return pack


def read_pack(root: Path, source: PackSource = "local") -> tuple[Pack | None, list[Problem], bool]:
    """The pack as far as it can be read, its problems, and whether any makes it unsafe.

    ``packs check`` goes on with a pack that has problems, to report its Word template's too.
    """
    tree = load_yaml(root / MANIFEST, what="模板包清单", error=PackError)
    reader = _PackReader(tree, root, source)
    pack = reader.read()
    return pack, reader.problems, reader.unsafe


class _PackReader(FieldReader):
    def __init__(self, tree: Tree, root: Path, source: PackSource) -> None:
        super().__init__(tree)
        self.root = root
        self.source = source
        self.unsafe = False
        self.facts: dict[str, FactSpec] = {}

    def _file(self, path: KeyPath, value: str | None) -> Path | None:
        if value is None:
            return None
        try:
            target = resolve_inside(self.root, value)
        except UnsafePackError as exc:
            self.unsafe = True
            self.problems.extend(self.tree.problem(path, p.message, p.hint) for p in exc.problems)
            return None
        if not target.is_file():
            self.report(path, f"找不到文件“{value}”", "路径相对于 pack.yaml 所在的文件夹")
            return None
        return target

    def read(self) -> Pack | None:
        data = self.tree.data
        version_of_format = data.get("format")
        if version_of_format != FORMAT:
            self.report(("format",) if "format" in data else (), (
                "这是旧格式（格式 1，正文为 .j2 模板）的模板包，reportgen 0.2 起需要格式 2" if version_of_format in (None, 1)
                else f"不认识的模板包格式“{version_of_format}”"),
                "格式 2 的正文写在 prose/*.yaml 里，每句有几种说法；可用 reportgen packs new 从内置模板包复制一份再改",
                at_key=True)
            return None
        self.known_keys((), ("format", "name", "version", "title", "description", "requires", "word_template",
                             "example_profile", "styles", "facts", "aliases", "relations", "prose", "skeleton",
                             "length", "units"))
        name = self.typed(("name",), str, required=True) or ""
        if name and not NAME_RE.match(name):
            self.report(("name",), f"模板包名称“{name}”不合规", "只能用小写字母、数字、- 和 _，如 jiguan、my-pack")
        version = str(self.typed(("version",), str, required=True) or "")
        if version and not _VERSION_RE.match(version):
            self.report(("version",), f"版本号“{version}”不合规", "写成“主.次.修订”三段数字，如 1.0.0")
        requires = self.typed(("requires",), str) or ""
        if requires:
            self._check_requires(requires)
        self.facts = self._facts()
        aliases = self._aliases()
        catalogues, frame = self._prose()
        skeleton = self._skeleton(catalogues)
        word = self.typed(("word_template",), str, required=True)
        self._file(("word_template",), word)
        example = self.typed(("example_profile",), str)
        self._file(("example_profile",), example)
        pack = Pack(
            name=name, version=version, title=self.typed(("title",), str, required=True) or name,
            description=self.typed(("description",), str) or "", requires=requires, root=self.root,
            source=self.source, facts=self.facts, catalogues=catalogues, frame=frame, skeleton=skeleton,
            word_template=word or "", example_profile=example, styles=self._styles(), length=self._length(),
            units=self._units(), relations=self._relations(), fact_aliases=aliases)
        return pack

    def _check_requires(self, requires: str) -> None:
        try:
            spec = SpecifierSet(requires)
        except InvalidSpecifier:
            self.report(("requires",), f"版本要求“{requires}”写法不对", "例如“>=0.2,<1”")
            return
        if Version(__version__) not in spec:
            self.report(("requires",), f"模板包需要 reportgen {requires}，当前是 {__version__}",
                        "请升级 reportgen，或向模板包的发放单位索取适合当前版本的模板包")

    def _styles(self) -> dict[str, str]:
        styles = {role: default for role, (default, _) in STYLE_ROLES.items()}
        self.known_keys(("styles",), list(STYLE_ROLES))
        for role in self.typed(("styles",), dict) or {}:
            value = self.typed(("styles", role), str)
            if value and role in styles:
                styles[role] = value
        return styles

    def _units(self) -> tuple[str, ...]:
        units = self.typed(("units",), list) or []
        for position, kind in enumerate(units):
            if not isinstance(kind, str) or kind not in UNIT_KINDS:
                self.report(("units", position), f"不认识的单位类型“{str(kind)[:20]}”", f"可写：{'、'.join(UNIT_KINDS)}")
        return tuple(kind for kind in units if isinstance(kind, str) and kind in UNIT_KINDS)

    def _length(self) -> tuple[int, int] | None:
        if self.value(("length",)) is None:
            return None
        self.known_keys(("length",), ("min", "max"))
        low = self.typed(("length", "min"), int) or 0
        high = self.typed(("length", "max"), int)
        if high is None or low > high:
            self.report(("length",), "字数范围应写 min 和 max，且 min 不大于 max", "例如 length: {min: 2000, max: 3000}")
            return None
        return low, high

    # -- facts

    def _facts(self) -> dict[str, FactSpec]:
        library = _FactsReader(_library_tree(), "library")
        facts = library.read_all((), {})
        self.problems.extend(library.problems)
        own = _FactsReader(self.tree, "pack")
        facts = own.read_all(("facts",), facts)
        self.problems.extend(own.problems)
        return facts

    def _aliases(self) -> dict[str, str]:
        self.known_keys(("aliases",), ("facts",))
        table = self.typed(("aliases", "facts"), dict) or {}
        result: dict[str, str] = {}
        for old, new in table.items():
            if not isinstance(new, str) or new not in self.facts:
                self.report(("aliases", "facts", old), f"旧键“{old}”指向的新键“{new}”不是已有的事实",
                            suggest(str(new), self.facts))
                continue
            result[str(old)] = new
        return result

    def _relations(self) -> tuple[Relation, ...]:
        items = self.typed(("relations",), list) or []
        result: list[Relation] = []
        for index, item in enumerate(items):
            path = ("relations", index)
            # split on the operator, then on “+”: linear whatever the spacing
            sides = re.split(r"(<=|<|==)", str(item))
            keys = [tuple(part.strip() for part in side.split("+")) for side in sides[0::2]]
            if len(sides) != 3 or not all(KEY_RE.fullmatch(key) for side in keys for key in side):
                self.report(path, f"关系“{str(item)[:60]}”写法不对", "写成“standard_branches <= branch_count”或“a + b <= c”")
                continue
            left, op, right = keys[0], sides[1], keys[1]
            unknown = [key for key in (*left, *right) if key not in self.facts]
            for key in unknown:
                self.report(path, f"关系里的“{key}”不是已声明的事实", suggest(key, self.facts))
            if not unknown:
                result.append(Relation(left, op, right, str(item).strip()))  # type: ignore[arg-type]
        return tuple(result)

    # -- prose

    def _prose(self) -> tuple[dict[str, dict[str, Entry]], Frame]:
        self.typed(("prose",), dict, required=True)
        self.known_keys(("prose",), ("frame", *CATALOGUE_KINDS))
        catalogues: dict[str, dict[str, Entry]] = {}
        frame = Frame()
        for kind in ("frame", *CATALOGUE_KINDS):
            relative = self.typed(("prose", kind), str)
            path = self._file(("prose", kind), relative)
            if path is None:
                if kind != "frame":
                    catalogues[kind] = {}
                continue
            try:
                tree = load_yaml(path, what="模板包正文", error=PackError)
            except PackError as exc:
                self.problems.extend(exc.problems)
                continue
            reader = _ProseReader(tree, self.facts, plans=kind == "measures")
            if kind == "frame":
                frame = reader.frame()
            else:
                catalogues[kind] = reader.catalogue(kind)
            self.problems.extend(reader.problems)
        for key, entry in catalogues.get("problems", {}).items():
            if entry.measure and entry.measure not in catalogues.get("measures", {}):
                self.problems.append(Problem(f"问题“{key}”对应的措施“{entry.measure}”不在措施目录里",
                                             self.tree.file, hint=suggest(entry.measure, catalogues.get("measures", {}))))
        return catalogues, frame

    def _skeleton(self, catalogues: Mapping[str, Mapping[str, Entry]]) -> Skeleton:
        self.typed(("skeleton",), dict, required=True)
        self.known_keys(("skeleton",), ("title", "byline", "sections", "locked"))
        sections: list[SectionSpec] = []
        seen: list[str] = []
        for index, _ in enumerate(self.typed(("skeleton", "sections"), list, required=True) or []):
            path: KeyPath = ("skeleton", "sections", index)
            if self.typed(path, dict, required=True) is None:
                continue
            self.known_keys(path, ("kind", "heading", "numbering", "points", "intro", "min_items", "max_items", "facts"))
            kind = self.typed((*path, "kind"), str, required=True) or ""
            if kind not in SECTION_KINDS:
                self.report((*path, "kind"), f"未知的部分类型“{kind}”", suggest(kind, SECTION_KINDS))
            if kind in seen:
                self.report((*path, "kind"), f"部分“{kind}”出现了两次")
            seen.append(kind)
            numbering = self.typed((*path, "numbering"), str) or "paren_chinese"
            if numbering not in NUMBERING_NAMES.values():
                self.report((*path, "numbering"), f"未知的编号方式“{numbering}”",
                            suggest(numbering, sorted(set(NUMBERING_NAMES.values()))))
            points = self.typed((*path, "points"), str) or "sentences"
            if points not in POINT_NAMES.values():
                self.report((*path, "points"), f"未知的要点写法“{points}”", "sentences（连写）或 ordinal_inline（一是、二是）")
            catalogue = CATALOGUE_FOR_SECTION.get(kind)
            if catalogue and not catalogues.get(catalogue):
                self.report(path, f"部分“{kind}”需要 prose.{catalogue} 中至少一个条目", at_key=True)
            heading = self.typed((*path, "heading"), str)
            heading_segments = self._sentence((*path, "heading"), heading) if heading else ()
            facts = self.typed((*path, "facts"), list) or []
            for position, key in enumerate(facts):
                if key not in self.facts:
                    self.report((*path, "facts", position), f"未声明的事实“{key}”", suggest(str(key), self.facts))
            sections.append(SectionSpec(
                kind=kind, heading=heading, numbering=numbering, points=points,  # type: ignore[arg-type]
                intro=bool(self.typed((*path, "intro"), bool)),
                min_items=self.typed((*path, "min_items"), int) or 1,
                max_items=self.typed((*path, "max_items"), int) or 8,
                facts=tuple(str(key) for key in facts if key in self.facts), heading_segments=heading_segments))
        if "causes" in seen and "problems" in seen and seen.index("causes") < seen.index("problems"):
            self.report(("skeleton", "sections"), "“causes”（原因）应放在“problems”（问题）之后")
        locked = self.typed(("skeleton", "locked"), list) or []
        for index, item in enumerate(locked):
            if item not in LOCKABLE:
                self.report(("skeleton", "locked", index), f"不能锁定“{item}”", f"可锁定：{'、'.join(LOCKABLE)}")
        title = self.typed(("skeleton", "title"), str)
        title_segments = self._sentence(("skeleton", "title"), title) if title else ()
        return Skeleton(title or None, bool(self.typed(("skeleton", "byline"), bool)), tuple(sections),
                        frozenset(str(item) for item in locked), title_segments)

    def _sentence(self, path: KeyPath, text: str) -> tuple[Segment, ...]:
        try:
            segments = parse_sentence(text)
        except SyntaxProblem as exc:
            self.report(path, str(exc))
            return ()
        for slot, _ in slots_in(segments):
            if slot.key not in META_SLOTS:
                self.report(path, f"这里只能用基本信息（{'、'.join(META_SLOTS)}），不能用“{{{slot.key}}}”")
        return segments


class _FactsReader(FieldReader):
    """Fact declarations: the library's, then a pack's changes and additions on top."""

    def __init__(self, tree: Tree, origin: Literal["library", "pack"]) -> None:
        super().__init__(tree)
        self.origin = origin

    def read_all(self, path: KeyPath, base: dict[str, FactSpec]) -> dict[str, FactSpec]:
        table = self.typed(path, dict) if path else self.tree.data
        facts = dict(base)
        for key in table or {}:
            entry = (*path, key)
            if not KEY_RE.fullmatch(key) or key in META_SLOTS:
                self.report(entry, f"事实键“{key}”不合规", "只能用小写字母、数字和下划线，以字母开头，且不能与基本信息同名",
                            at_key=True)
                continue
            if self.typed(entry, dict) is None:
                continue
            facts[key] = self._fact(entry, key, base.get(key))
        return facts

    def _fact(self, path: KeyPath, key: str, base: FactSpec | None) -> FactSpec:
        self.known_keys(path, ("label", "type", "unit", "phrase", "required", "summary", "compare", "people", "state",
                               "plan", "branches", "min", "max"))
        fields: dict[str, Any] = {} if base is None else {name: getattr(base, name) for name in base.__dataclass_fields__}
        fields.update(key=key, origin=self.origin if base is None else base.origin)
        label = self.typed((*path, "label"), str, required=base is None)
        if label:
            fields["label"] = label
        kind = self.typed((*path, "type"), str)
        if kind is not None:
            if kind in FACT_TYPES:
                fields["type"] = kind
            else:
                self.report((*path, "type"), f"未知的事实类型“{kind}”", suggest(kind, FACT_TYPES))
        unit = self.typed((*path, "unit"), str)
        if unit is not None:
            fields["unit"] = unit
        for name in ("required", "summary", "compare", "people", "state", "plan", "branches"):
            value = self.typed((*path, name), bool)
            if value is not None:
                fields[name] = value
        for name, attr in (("min", "minimum"), ("max", "maximum")):
            value = self.value((*path, name))
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                fields[attr] = float(value)
        phrases = self.value((*path, "phrase"))
        if phrases is not None:
            fields["phrases"] = self._phrases((*path, "phrase"), phrases)
        fields.setdefault("label", key)
        if base is None and fields.get("type") in ("text", "list", "date"):
            fields["minimum"] = None
        spec = FactSpec(**fields)
        if spec.people and spec.unit not in ("名", "人", "人次", "位"):
            self.report(path, f"“{spec.label}”计的是人，单位应为 名、人、人次 或 位，而不是“{spec.unit}”", at_key=True)
        return spec

    def _phrases(self, path: KeyPath, raw: Any) -> tuple[tuple[Segment, ...], ...]:
        items = raw if isinstance(raw, list) else [raw]
        result: list[tuple[Segment, ...]] = []
        for index, item in enumerate(items):
            where = (*path, index) if isinstance(raw, list) else path
            if not isinstance(item, str) or item.count("{}") != 1:
                self.report(where, "说法（phrase）应是一段文字，里面用一个“{}”标出数值的位置", "例如“组织集中学习{}”")
                continue
            try:
                segments = parse_sentence(item.replace("{}", "{value}"))
            except SyntaxProblem as exc:
                self.report(where, f"说法写法不对：{exc}")
                continue
            for slot, _ in slots_in(segments):
                if slot.key != "value" and slot.key not in META_SLOTS:
                    self.report(where, f"说法里只能用“{{}}”和基本信息，不能用“{{{slot.key}}}”")
            result.append(segments)
        return tuple(result)


class _ProseReader(FieldReader):
    """A prose file: sentences with their variants, checked against the facts the pack knows."""

    def __init__(self, tree: Tree, facts: Mapping[str, FactSpec], *, plans: bool = False) -> None:
        super().__init__(tree)
        self.facts = facts
        self.plans = plans  # next year's targets may be said (the measures)

    def sentence(self, path: KeyPath, text: Any, *, slots: bool = True) -> Sentence | None:
        if not isinstance(text, str) or not text.strip():
            self.report(path, "应为一句话（文字）")
            return None
        mark = self.tree.where(path)
        try:
            segments = parse_sentence(text.strip())
        except SyntaxProblem as exc:
            self.report(path, str(exc))
            return None
        words = [part for segment in segments for part in (segment.parts if isinstance(segment, Group) else (segment,))
                 if isinstance(part, str)]  # an optional clause's own words too
        if re.search(r"[0-9０-９]", "".join(words)):
            self.report(path, "正文模板里不能写具体数字", "数字只能来自事实：写成 {事实键}，由各单位的资料文件提供")
        for slot, optional in slots_in(segments):
            if slot.key in META_SLOTS:
                if slot.attr:
                    self.report(path, f"基本信息“{slot.key}”没有“.{slot.attr}”")
            elif not slots:
                self.report(path, f"这里只能用基本信息，不能用事实“{{{slot.key}}}”")
            elif slot.key not in self.facts:
                self.report(path, f"用了未声明的事实“{{{slot.key}}}”", suggest(slot.key, self.facts))
            elif slot.attr == "change" and not optional:
                self.report(path, f"“{{{slot.key}.change}}”（同比）要放在“[ ]”里：没有上年数据时整段不写")
            else:
                self._plan_here(path, slot.key)
        return Sentence(segments, self.tree.file, mark.line if mark else None)

    def variants(self, path: KeyPath, *, required: bool = True, slots: bool = True) -> Variants:
        value = self.value(path)
        if value is None:
            if required:
                self.report(path, "缺少这一项", at_key=True)
            return ()
        items = value if isinstance(value, list) else [value]
        found = [self.sentence((*path, i) if isinstance(value, list) else path, item, slots=slots)
                 for i, item in enumerate(items)]
        return tuple(s for s in found if s is not None)

    def text(self, path: KeyPath, *, required: bool = True) -> Text:  # type: ignore[override]
        value = self.value(path)
        if value is None:
            if required:
                self.report(path, "缺少正文（text）", at_key=True)
            return ()
        if not isinstance(value, list):
            return (self.variants(path),)
        return tuple(v for i in range(len(value)) if (v := self.variants((*path, i))))

    def _fact_list(self, path: KeyPath) -> tuple[str, ...]:
        value = self.value(path)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.report(path, "facts 应为事实键名的列表")
            return ()
        for index, key in enumerate(value):
            if key not in self.facts:
                self.report((*path, index), f"未声明的事实“{key}”", suggest(key, self.facts))
            else:
                self._plan_here((*path, index), key)
        return tuple(k for k in value if k in self.facts)

    def _plan_here(self, path: KeyPath, key: str) -> None:
        """A target for next year outside the measures would read as done this year."""
        if self.facts[key].plan and not self.plans:
            self.report(path, f"“{self.facts[key].label}”是下一年度的计划，只能写在措施（measures）里",
                        "写在这里会读成今年做过的事")

    def catalogue(self, kind: str) -> dict[str, Entry]:
        entries: dict[str, Entry] = {}
        allowed = {"topics": ("title", "lead", "points", "facts"), "problems": ("title", "lead", "text", "measure"),
                   "causes": ("title", "lead", "text"), "measures": ("title", "lead", "text", "facts")}[kind]
        for key in self.tree.data:
            path: KeyPath = (key,)
            if not KEY_RE.fullmatch(key):
                self.report(path, f"条目键“{key}”不合规", "只能用小写字母、数字和下划线", at_key=True)
                continue
            if self.typed(path, dict, required=True) is None:
                continue
            self.known_keys(path, allowed)
            title = self.typed((*path, "title"), str, required=True) or key
            lead = self.variants((*path, "lead"))
            for sentence in lead:
                if sentence.segments and isinstance(sentence.segments[-1], str) and sentence.segments[-1].endswith("。"):
                    self.report((*path, "lead"), "标题句末尾不要加句号", "句号由程序加上")
            if kind == "topics":
                entries[key] = Entry(key, title, lead, points=self._points((*path, "points")),
                                     facts=self._fact_list((*path, "facts")))
            else:
                entries[key] = Entry(key, title, lead, text=self.text((*path, "text")),
                                     facts=self._fact_list((*path, "facts")), measure=self.typed((*path, "measure"), str))
        return entries

    def _points(self, path: KeyPath) -> tuple[Point, ...]:
        table = self.typed(path, dict, required=True) or {}
        points: list[Point] = []
        for key in table:
            where: KeyPath = (*path, key)
            if not KEY_RE.fullmatch(key):
                self.report(where, f"要点键“{key}”不合规", "只能用小写字母、数字和下划线", at_key=True)
                continue
            if self.typed(where, dict, required=True) is None:
                continue
            self.known_keys(where, ("lead", "facts", "text"))
            points.append(Point(key, self.variants((*where, "lead")), self._fact_list((*where, "facts")),
                                self.text((*where, "text"))))
        return tuple(points)

    def frame(self) -> Frame:
        self.known_keys((), ("opening", "intro", "closing", "facts", "rectification"))
        intros = {kind: self.text(("intro", kind)) for kind in self.typed(("intro",), dict) or {}
                  if kind in SECTION_KINDS}
        self.known_keys(("intro",), SECTION_KINDS)
        self.known_keys(("facts",), ("openers", "plan_openers"))
        self.known_keys(("rectification",), ("action", "status", "carried"))
        self.known_keys(("rectification", "status"), STATUSES)
        statuses = {status: self.variants(("rectification", "status", status), slots=False) for status in STATUSES}
        return Frame(
            opening=self.text(("opening",)), intros=intros, closing=self.text(("closing",), required=False),
            fact_openers=self.variants(("facts", "openers"), slots=False),
            plan_openers=self.variants(("facts", "plan_openers"), slots=False),
            action_labels=self.variants(("rectification", "action"), slots=False),
            statuses=statuses, carried=self.variants(("rectification", "carried"), slots=False))

"""The content layer: pack prose templates + profile facts -> document model.

Templates run in the pack sandbox with autoescape.  A fact or meta field a template
prints comes out escaped, or — when the profile lacks it — as a ``<ph>`` marker that
becomes a highlighted 【待补充：…】 span.  Numbering is computed here from the pack's
skeleton, so adding or removing an item renumbers everything.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Template, nodes
from jinja2.meta import find_undeclared_variables
from markupsafe import Markup, escape

from .errors import PackError, Problem
from .model import Document, Paragraph, Span, SpanKind, placeholder_text
from .numbering import chinese_numeral, item_label
from .pack import CATALOGUE_FOR_SECTION, CatalogueEntry, FactSpec, Pack, SectionSpec
from .profile import META_FIELDS, Choice, Meta, Profile
from .sandbox import FileLoader, PackSandbox, compile_cached, compile_checked, render_limited

__all__ = ["ProseEngine", "paragraph_ids", "template_variable_problems"]

# Names a prose template may use; anything else is an undeclared variable.
TEMPLATE_NAMES = frozenset({"f", "meta", "ordinal", "item", "count", "topics", "pack"})

_LEAD_STYLE: Mapping[str, SpanKind] = {
    "chinese": "lead2", "paren_chinese": "lead2", "none": "lead2", "arabic": "lead3", "paren_arabic": "lead3",
}
_PH_RE = re.compile(r'<ph k="([^"]*)">(.*?)</ph>', re.DOTALL)


class UndeclaredName(PackError):
    pass


# ---------------------------------------------------------------- values templates see


class Value:
    """A fact or meta field as a template sees it: prints itself, or a placeholder when missing."""

    def __init__(self, key: str, label: str, text: str | None, raw: Any = None, bare: str | None = None) -> None:
        self.key = key
        self.label = label
        self.text = text
        self.value = raw
        self._bare = bare

    @property
    def present(self) -> bool:
        return self.text is not None

    @property
    def bare(self) -> Markup:
        """The value without its unit (``24`` rather than ``24次``)."""
        return escape(self._bare) if self._bare is not None else self.__html__()

    def __bool__(self) -> bool:
        return self.present

    def __html__(self) -> Markup:
        if self.text is None:
            return Markup('<ph k="{}">{}</ph>').format(self.key, placeholder_text(self.label))
        return escape(self.text)

    __str__ = __html__

    # Arithmetic (``{{ meta.year - 1 }}``) works on the raw number; on a missing value the
    # result is the same placeholder, so a template never crashes on an absent fact.
    def _arith(self, other: Any, op: Callable[[Any, Any], Any]) -> Any:
        if isinstance(other, Value):
            if not other.present:
                return other
            other = other.value
        if not self.present or not isinstance(self.value, (int, float)):
            return self
        return op(self.value, other)

    def __add__(self, other: Any) -> Any:
        return self._arith(other, lambda a, b: a + b)

    def __radd__(self, other: Any) -> Any:
        return self._arith(other, lambda a, b: b + a)

    def __sub__(self, other: Any) -> Any:
        return self._arith(other, lambda a, b: a - b)

    def __rsub__(self, other: Any) -> Any:
        return self._arith(other, lambda a, b: b - a)


def chinese_filter(value: Any) -> Any:
    """``{{ count|chinese }}`` -> 三; a missing Value stays a placeholder."""
    if isinstance(value, Value):
        if not value.present:
            return value
        value = value.value
    return chinese_numeral(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _format_number(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:.2f}".rstrip("0").rstrip(".")


def fact_value(spec: FactSpec, raw: Any) -> Value:
    key = f"facts.{spec.key}"
    if raw is None:
        return Value(key, spec.label, None)
    if spec.type == "list":
        return Value(key, spec.label, "、".join(raw), raw, "、".join(raw))
    if spec.type == "text":
        return Value(key, spec.label, str(raw), raw, str(raw))
    bare = _format_number(raw)
    unit = "%" if spec.type == "percent" else spec.unit
    return Value(key, spec.label, bare + unit, raw, bare)


class _ValueView:
    """What a template reads as ``f.x`` or ``meta.x``: a Value per name, made on first use (a draft
    reads only some of them)."""

    def __init__(self) -> None:
        self._values: dict[str, Value] = {}

    def __getattr__(self, name: str) -> Value:
        if name.startswith("_"):
            raise AttributeError(name)
        value = self._values.get(name)
        if value is None:
            value = self._values[name] = self._make(name)
        return value

    def _make(self, name: str) -> Value:
        raise NotImplementedError


class FactsView(_ValueView):
    def __init__(self, pack: Pack, facts: Mapping[str, Any]) -> None:
        super().__init__()
        self._specs = pack.fact_specs
        self._facts = facts

    def _make(self, name: str) -> Value:
        spec = self._specs.get(name)
        if spec is None:
            raise UndeclaredName(Problem(f"模板用了模板包没有声明的事实“{name}”",
                                         hint="在 pack.yaml 的 facts 里声明它，或改正模板中的拼写"))
        return fact_value(spec, self._facts.get(name))


class MetaView(_ValueView):
    def __init__(self, meta: Meta) -> None:
        super().__init__()
        self._meta = meta

    def _make(self, name: str) -> Value:
        label = META_FIELDS.get(name)
        if label is None:
            raise UndeclaredName(Problem(f"模板用了不存在的基本信息“meta.{name}”",
                                         hint=f"可用的有：{'、'.join(META_FIELDS)}"))
        raw = self._meta.get(name)
        return Value(f"meta.{name}", label, None if raw is None else str(raw), raw)


class Ordinal:
    """``{{ ordinal() }}`` -> 一是, 二是, … within one paragraph."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return item_label("ordinal_inline", self.count)


@dataclass(frozen=True)
class ItemView:
    key: str
    title: str
    lead: str


# ---------------------------------------------------------------- the engine


def paragraph_ids(pack: Pack) -> list[str]:
    """Ids of the generated paragraphs a profile may replace through ``overrides``."""
    ids = ["title"] if pack.skeleton.title else []
    for section in pack.skeleton.sections:
        if section.kind in ("opening", "closing"):
            ids.append(section.kind)
        if section.intro:
            ids.append(f"{section.kind}.intro")
        if section.numbering == "ordinal_inline" and section.kind in ("problems", "causes"):
            ids.append(section.kind)
    return ids


class ProseEngine:
    """Compiles a pack's prose templates once and composes documents from profiles."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.env = PackSandbox(FileLoader(self._read), data_views=(FactsView, MetaView))
        self.env.filters["chinese"] = chinese_filter
        # Compiled templates are kept on disk too: a cold `reportgen build` skips Jinja's compiler.
        from .cache import PackCache

        self.cache = PackCache(f"{pack.name}\0{pack.version}\0{pack.root}")
        self.env.bytecode_cache = self.cache
        self._compiled: dict[str, Template] = {}
        self._sources: dict[str, str] = {}
        # Rendered spans by (template, the exact values it reads): in a batch, problems, causes and
        # intros come out the same for many units, so each distinct input is rendered once.
        self._dependencies: dict[str, _Dependencies | None] = {}
        self._rendered: dict[tuple[Any, ...], tuple[Span, ...]] = {}

    def _read(self, relative: str) -> str:
        """A template file's text (read once: compiling and analysing both need it)."""
        text = self._sources.get(relative)
        if text is None:
            text = self._sources[relative] = self._read_file(relative)
        return text

    def _read_file(self, relative: str) -> str:
        from .yamlsource import decode_text

        path = self.pack.path(relative)
        if not path.is_file():
            raise FileNotFoundError(relative)
        return decode_text(path.read_bytes(), path).lstrip("\ufeff")

    @staticmethod
    def _key(file: str, source: str | None) -> str:
        """One name per template: its file, or its text for the inline ones in pack.yaml."""
        return file if source is None else f"inline:{source}"

    def template(self, file: str, *, source: str | None = None) -> Template:
        cache_key = self._key(file, source)
        compiled = self._compiled.get(cache_key)
        if compiled is None:
            compiled = (compile_checked(self.env, file) if source is None
                        else compile_cached(self.env, file, source))
            self._compiled[cache_key] = compiled
        return compiled

    def _prepare(self, file: str, source: str | None) -> tuple[str, _Dependencies | None]:
        """The template's cache key and what it reads, compiling and analysing it the first time."""
        cache_key = self._key(file, source)
        if cache_key not in self._dependencies:
            self.template(file, source=source)  # refuses unsafe or broken templates before anything else
            self._dependencies[cache_key] = self._analysed(source if source is not None else self._read(file))
        return cache_key, self._dependencies[cache_key]

    def _analysed(self, text: str) -> _Dependencies | None:
        """``template_dependencies`` of a template's text, kept in the on-disk cache: a new process
        then needs neither Jinja's lexer nor a parse per template (a cold build, each batch worker)."""
        from .cache import code_digest

        def compute() -> str:
            found = template_dependencies(self.env.parse(text))
            return "null" if found is None else json.dumps([found.facts, found.meta, found.names])

        kind = "prose-dependencies-" + code_digest(template_dependencies, extra=",".join(sorted(TEMPLATE_NAMES)))
        try:
            stored = json.loads(self.cache.text(kind, text, compute))
            return None if stored is None else _Dependencies(*(tuple(str(name) for name in part) for part in stored))
        except (ValueError, TypeError):  # a damaged cache entry: analyse again
            return template_dependencies(self.env.parse(text))

    # -- composing

    def compose(self, profile: Profile) -> Document:
        return _Composer(self, profile).compose()

    def render(self, file: str, context: Mapping[str, Any], *, source: str | None = None) -> tuple[Span, ...]:
        cache_key, dependencies = self._prepare(file, source)
        # Only templates that read nothing unit-specific (no facts, no meta) repeat across units;
        # memoising the others would only grow memory with the size of a batch.
        memo_key = None if dependencies is None or dependencies.facts or dependencies.meta else (
            cache_key, dependencies.names_in(context))
        if memo_key is not None:
            spans = self._rendered.get(memo_key)
            if spans is not None:
                return spans
        spans = self._render_now(file, context, source=source)
        if memo_key is not None:
            if len(self._rendered) >= MEMO_LIMIT:  # keeps a long batch's memory flat
                self._rendered.clear()
            self._rendered[memo_key] = spans
        return spans

    def _render_now(self, file: str, context: Mapping[str, Any], *, source: str | None) -> tuple[Span, ...]:
        template = self.template(file, source=source)
        shown = file if source is None else f"{self.pack.name}/pack.yaml"
        try:
            text = render_limited(template, context, shown)
        except UndeclaredName as exc:
            raise PackError([Problem(p.message, shown, hint=p.hint) for p in exc.problems]) from None
        return markup_to_spans(text)


MEMO_LIMIT = 2_000


@dataclass(frozen=True)
class _Dependencies:
    """What a template reads from its context, when static analysis can see all of it."""

    facts: tuple[str, ...]
    meta: tuple[str, ...]
    names: tuple[str, ...]  # other context names it uses: item, count, topics (pack and ordinal are pure)

    def names_in(self, context: Mapping[str, Any]) -> tuple[Any, ...]:
        """The values of ``names`` in ``context``, hashable (lists become tuples)."""
        return tuple(tuple(value) if isinstance(value := context.get(name), list) else value for name in self.names)


def template_dependencies(ast: nodes.Template) -> _Dependencies | None:
    """The facts, meta fields and names a template reads; None when it could read more than it shows
    (``f`` or ``meta`` passed around whole, names rebound, other templates included)."""
    if any(True for _ in ast.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends))):
        return None
    direct: set[int] = set()
    facts: set[str] = set()
    meta: set[str] = set()
    for node in ast.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name in ("f", "meta"):
            direct.add(id(node.node))
            (facts if node.node.name == "f" else meta).add(node.attr)
    for name in ast.find_all(nodes.Name):
        if name.name in TEMPLATE_NAMES and name.ctx != "load":
            return None
        if name.name in ("f", "meta") and id(name) not in direct:
            return None
    used = find_undeclared_variables(ast) & {"item", "count", "topics"}
    return _Dependencies(tuple(sorted(facts)), tuple(sorted(meta)), tuple(sorted(used)))


def iter_templates(pack: Pack) -> Iterable[tuple[str, str | None]]:
    """(file, inline source) of every template a pack uses."""
    if pack.skeleton.title:
        yield "skeleton.title", pack.skeleton.title
    for section in pack.skeleton.sections:
        if section.heading:
            yield f"skeleton.{section.kind}.heading", section.heading
        for file in (section.template, section.intro):
            if file:
                yield file, None
    for entries in pack.catalogues.values():
        for entry in entries.values():
            yield entry.template, None


# A template writes 《{{ f.plan }}》 and the user typed the marks too: keep one pair.
_DOUBLED_MARKS = re.compile("(《|》|“|”|「|」)\\1")
_DOUBLED_PAIRS = ("《《", "》》", "““", "””", "「「", "」」")
_LINE_SPACE = " \t\u3000"  # stripped where a template's lines are joined


def markup_to_spans(text: str) -> tuple[Span, ...]:
    """Rendered (escaped) template output -> text and placeholder spans, line breaks removed."""
    # str methods rather than regular expressions here: three times faster on Chinese text.
    if "\n" in text:
        text = "".join(line.strip(_LINE_SPACE) for line in text.split("\n"))
    text = text.strip()
    if any(pair in text for pair in _DOUBLED_PAIRS):
        text = _DOUBLED_MARKS.sub(r"\1", text)
    if "<" not in text and "&" not in text:  # the common case: plain text, nothing to split or unescape
        return (Span(text),) if text else ()
    spans: list[Span] = []
    position = 0
    for match in _PH_RE.finditer(text):
        if match.start() > position:
            spans.append(Span(html.unescape(text[position : match.start()])))
        spans.append(Span(html.unescape(match.group(2)), "placeholder", match.group(1)))
        position = match.end()
    if position < len(text):
        spans.append(Span(html.unescape(text[position:])))
    return tuple(s for s in spans if s.text)


def _ensure_period(spans: tuple[Span, ...]) -> tuple[Span, ...]:
    if spans and spans[-1].kind != "placeholder" and not spans[-1].text.endswith(("。", "！", "？", "；", "：", "”")):
        return (*spans[:-1], Span(spans[-1].text + "。", spans[-1].kind, spans[-1].source))
    return spans


class _Composer:
    def __init__(self, engine: ProseEngine, profile: Profile) -> None:
        self.engine = engine
        self.pack = engine.pack
        self.profile = profile
        self.base: dict[str, Any] = {
            "f": FactsView(self.pack, profile.facts),
            "meta": MetaView(profile.meta),
            "pack": {"name": self.pack.name, "title": self.pack.title, "version": self.pack.version},
            "topics": [self._item_view("topics", c) for c in profile.work],
        }
        self.paragraphs: list[Paragraph] = []
        self.heading_count = 0

    def _item_view(self, catalogue: str, choice: Choice) -> ItemView:
        entry = self.pack.catalogues[catalogue].get(choice.key or "")
        lead = choice.lead or (entry.lead if entry else "")
        return ItemView(choice.key or "", entry.title if entry else lead, lead)

    def _render(self, file: str, *, source: str | None = None, **extra: Any) -> tuple[Span, ...]:
        context = {**self.base, "ordinal": Ordinal(), "count": 0, "item": None, **extra}
        return self.engine.render(file, context, source=source)

    def _add(self, role: str, spans: tuple[Span, ...], pid: str) -> None:
        if spans:
            self.paragraphs.append(Paragraph(role, spans, pid))  # type: ignore[arg-type]

    def _overridable(self, pid: str, make: Callable[[], tuple[Span, ...]]) -> tuple[Span, ...]:
        text = self.profile.overrides.get(pid)
        return (Span(text),) if text else make()

    def compose(self) -> Document:
        skeleton = self.pack.skeleton
        title_spans: tuple[Span, ...] = ()
        if skeleton.title:
            title = skeleton.title
            title_spans = self._overridable("title", lambda: self._render("skeleton.title", source=title))
            self._add("title", title_spans, "title")
        if skeleton.byline:
            self._byline()
        for section in skeleton.sections:
            self._section(section)
        return Document("".join(s.text for s in title_spans), tuple(self.paragraphs))

    def _byline(self) -> None:
        meta: MetaView = self.base["meta"]
        # Each Value's __html__ is escaped text or a placeholder's markup; an f-string joins them
        # several times faster than Markup.format.
        spans = markup_to_spans(f"{meta.unit.__html__()}{meta.position.__html__()}\u3000{meta.name.__html__()}")
        self._add("byline", spans, "byline")
        self._add("byline", markup_to_spans(f"（{meta.date.__html__()}）"), "byline.date")

    def _heading(self, section: SectionSpec) -> None:
        if not section.heading:
            return
        self.heading_count += 1
        spans = self._render(f"skeleton.{section.kind}.heading", source=section.heading)
        self._add("heading", (Span(item_label("chinese", self.heading_count)), *spans), f"{section.kind}.heading")

    def _section(self, section: SectionSpec) -> None:
        kind = section.kind
        if kind in ("opening", "closing"):
            assert section.template
            template = section.template
            self._add("body", self._overridable(kind, lambda: self._render(template)), kind)
            return
        if kind == "rectification":
            if self.profile.rectifications:
                self._rectification(section)
            return
        items = self._items(section)
        self._heading(section)
        intro: tuple[Span, ...] = ()
        if section.intro:
            intro_file = section.intro
            intro = self._overridable(f"{kind}.intro",
                                      lambda: self._render(intro_file, count=len(items)))
        if not items:
            missing = Span(placeholder_text(f"{_SECTION_NAMES[kind]}（请在资料文件的 {kind} 中选择条目）"),
                           "placeholder", kind)
            self._add("body", (*intro, missing), kind)
            return
        if section.numbering == "ordinal_inline":
            override = self.profile.overrides.get(kind)
            if override:
                self._add("body", (*intro, Span(override)), kind)
                return
            spans: list[Span] = list(intro)
            for n, (lead, body) in enumerate(items, start=1):
                spans.append(Span(f"{item_label('ordinal_inline', n)}{lead}。"))
                spans.extend(body)
            self._add("body", tuple(spans), kind)
            return
        self._add("body", intro, f"{kind}.intro")
        style = _LEAD_STYLE.get(section.numbering, "text")
        for n, (lead, body) in enumerate(items, start=1):
            label = item_label(section.numbering, n)
            self._add("body", (Span(f"{label}{lead}。", style), *body), f"{kind}.{n}")

    def _choices(self, kind: str) -> tuple[Choice, ...]:
        if kind == "work":
            return self.profile.work
        if kind == "problems":
            return self.profile.problems
        if kind == "causes":
            return self.profile.causes
        if self.profile.measures is not None:
            return self.profile.measures
        # Measures mirror the chosen problems unless the profile lists its own.
        mirrored: list[Choice] = []
        problems = self.pack.catalogues.get("problems", {})
        for choice in self.profile.problems:
            entry = problems.get(choice.key or "")
            if entry and entry.measure and all(c.key != entry.measure for c in mirrored):
                mirrored.append(Choice(key=entry.measure))
        return tuple(mirrored)

    def _items(self, section: SectionSpec) -> list[tuple[str, tuple[Span, ...]]]:
        catalogue_name = CATALOGUE_FOR_SECTION[section.kind]
        catalogue = self.pack.catalogues.get(catalogue_name, {})
        result: list[tuple[str, tuple[Span, ...]]] = []
        for choice in self._choices(section.kind):
            entry: CatalogueEntry | None = catalogue.get(choice.key or "")
            lead = choice.lead or (entry.lead if entry else "")
            if choice.text:
                body: tuple[Span, ...] = (Span(choice.text),)
            elif entry is not None:
                body = self._render(entry.template, item=ItemView(entry.key, entry.title, lead))
            else:
                body = ()
            body = _ensure_period(body)
            if choice.add:
                body = _ensure_period((*body, Span(choice.add)))
            result.append((lead.rstrip("。"), body))
        return result

    def _rectification(self, section: SectionSpec) -> None:
        self._heading(section)
        count = len(self.profile.rectifications)
        if section.intro:
            intro_file = section.intro
            self._add("body", self._overridable("rectification.intro",
                                                lambda: self._render(intro_file, count=count)), "rectification.intro")
        numbering = section.numbering
        spans_all: list[Span] = []
        for n, item in enumerate(self.profile.rectifications, start=1):
            action = (Span(item.action),) if item.action else (
                Span(placeholder_text(f"第{n}个问题的整改情况"), "placeholder", f"rectification[{n}].action"),)
            label = item_label(numbering, n)
            style = _LEAD_STYLE.get(numbering, "text")
            problem = (Span(f"{label}{item.problem}。", style),) if item.problem else (
                Span(label, style), Span(placeholder_text(f"上年度第{n}个问题"), "placeholder", f"rectification[{n}].problem"),
                Span("。", style))
            spans = (*problem, Span("整改情况："), *_ensure_period(action))
            if numbering == "ordinal_inline":
                spans_all.extend(spans)
            else:
                self._add("body", spans, f"rectification.{n}")
        if spans_all:
            self._add("body", tuple(spans_all), "rectification")


_SECTION_NAMES = {"work": "履职工作情况", "problems": "存在的主要问题", "causes": "问题原因", "measures": "下一步措施"}


# ---------------------------------------------------------------- static checks for `packs check`


def template_variable_problems(engine: ProseEngine) -> list[Problem]:
    """Every name and fact a template uses must be declared by reportgen or the pack."""
    problems: list[Problem] = []
    declared_facts = {spec.key for spec in engine.pack.facts}
    for file, source in iter_templates(engine.pack):
        text = source if source is not None else engine._read(file)
        shown = f"{engine.pack.name}/pack.yaml（{file}）" if source is not None else file
        try:
            ast = engine.env.parse(text)
        except Exception:  # syntax errors are reported when it is compiled (packs check does that first)
            continue
        for name in sorted(find_undeclared_variables(ast) - TEMPLATE_NAMES):
            problems.append(Problem(f"模板用了未声明的变量“{name}”", shown,
                                    hint=f"可用的变量：{'、'.join(sorted(TEMPLATE_NAMES))}"))
        for node in ast.find_all(nodes.Getattr):
            if isinstance(node.node, nodes.Name):
                if node.node.name == "f" and node.attr not in declared_facts:
                    problems.append(Problem(f"模板用了未声明的事实“f.{node.attr}”", shown, node.lineno,
                                            hint="在 pack.yaml 的 facts 里声明它，或改正拼写"))
                if node.node.name == "meta" and node.attr not in META_FIELDS:
                    problems.append(Problem(f"模板用了不存在的基本信息“meta.{node.attr}”", shown, node.lineno,
                                            hint=f"可用的有：{'、'.join(META_FIELDS)}"))
    return problems

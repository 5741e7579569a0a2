"""Template packs: the manifest model, loading, validation and where packs are found.

A pack is a folder (or an installed copy of one) holding ``pack.yaml``, prose templates,
a Word template and an example profile.  Packs come from other units, so every path in
a manifest must stay inside the pack and nothing in a pack is ever executed as code.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .errors import PackError, Problem, display_path
from .numbering import NUMBERING_STYLES
from .yamlsource import FieldReader, YamlDocument, load_yaml_file, suggest

__all__ = [
    "CATALOGUE_FOR_SECTION",
    "FACT_TYPES",
    "SECTION_KINDS",
    "CatalogueEntry",
    "FactSpec",
    "Pack",
    "SectionSpec",
    "Skeleton",
    "builtin_packs_dir",
    "find_pack",
    "list_packs",
    "load_pack",
    "parse_pack_requirement",
    "user_packs_dir",
]

MANIFEST = "pack.yaml"
FACT_TYPES = ("integer", "number", "percent", "text", "list")
SECTION_KINDS = ("opening", "work", "rectification", "problems", "causes", "measures", "closing")
CATALOGUE_FOR_SECTION = {"work": "topics", "problems": "problems", "causes": "causes", "measures": "measures"}
CATALOGUE_KINDS = ("topics", "problems", "causes", "measures")
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
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")


@dataclass(frozen=True)
class FactSpec:
    key: str
    label: str
    type: str = "integer"
    unit: str = ""
    required: bool = True
    minimum: float | None = 0
    maximum: float | None = None
    summary: bool = False  # shown as a column in the committee's 汇总.xlsx


@dataclass(frozen=True)
class CatalogueEntry:
    key: str
    title: str  # short name shown in lists and the scaffold
    lead: str  # the item's lead phrase, without number or final 。
    template: str  # path of the prose template inside the pack
    measure: str | None = None  # for problems: the measure that answers it


@dataclass(frozen=True)
class SectionSpec:
    kind: str
    heading: str | None = None  # inline template, e.g. "{{ meta.year }}年履职情况"
    numbering: str = "paren_chinese"
    intro: str | None = None  # path of a prose template for the paragraph before the items
    template: str | None = None  # opening / closing: path of its prose template
    min_items: int = 1
    max_items: int = 8


@dataclass(frozen=True)
class Skeleton:
    title: str | None
    byline: bool
    sections: tuple[SectionSpec, ...]

    def section(self, kind: str) -> SectionSpec | None:
        return next((s for s in self.sections if s.kind == kind), None)


@dataclass(frozen=True)
class Pack:
    name: str
    version: str
    title: str
    description: str
    requires: str
    root: Path
    source: str  # "builtin" | "user" | "local"
    facts: tuple[FactSpec, ...]
    catalogues: Mapping[str, Mapping[str, CatalogueEntry]]
    skeleton: Skeleton
    word_template: str
    example_profile: str | None
    styles: Mapping[str, str] = field(default_factory=dict)

    def fact(self, key: str) -> FactSpec | None:
        return self.fact_specs.get(key)

    @functools.cached_property
    def fact_specs(self) -> dict[str, FactSpec]:
        """Facts by key (computed once per pack)."""
        return {spec.key: spec for spec in self.facts}

    @functools.cached_property
    def fact_labels(self) -> dict[str, str]:
        """Labels by key, for hints that name a fact by its Chinese label."""
        return {spec.key: spec.label for spec in self.facts}

    def path(self, relative: str) -> Path:
        return resolve_inside(self.root, relative, resolved_root=self.resolved_root)

    @functools.cached_property
    def resolved_root(self) -> Path:
        """The pack folder with symbolic links resolved (once: every template path is checked against it)."""
        return self.root.resolve()

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


_SIMPLE_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(\d+(?:\.\d+)*)\s*$")
_PLAIN_VERSION = re.compile(r"^\d+(?:\.\d+)*$")


def simple_requirement_met(requires: str, version: str) -> bool | None:
    """Whether ``version`` meets a requirement of plain numeric clauses (``>=0.1,<1``), as PEP 440 says;
    None when the requirement (or version) needs packaging's full parser."""
    if not _PLAIN_VERSION.match(version):
        return None
    clauses = [_SIMPLE_CLAUSE.match(clause) for clause in requires.split(",")]
    if not all(clauses):
        return None
    mine = [int(part) for part in version.split(".")]
    for match in clauses:
        assert match is not None
        op, text = match.groups()
        theirs = [int(part) for part in text.split(".")]
        width = max(len(mine), len(theirs))
        a = tuple(mine + [0] * (width - len(mine)))
        b = tuple(theirs + [0] * (width - len(theirs)))
        met = {">=": a >= b, "<=": a <= b, "==": a == b, "!=": a != b, ">": a > b, "<": a < b}[op]
        if not met:
            return False
    return True


def resolve_inside(root: Path, relative: str, *, resolved_root: Path | None = None) -> Path:
    """Resolve a pack-relative path, refusing anything that leaves the pack (``resolved_root``: the
    root already resolved by the caller)."""
    from .errors import UnsafePackError

    candidate = Path(relative)
    if candidate.is_absolute() or ".." in candidate.parts or relative.startswith(("/", "\\")) or ":" in relative:
        raise UnsafePackError(Problem(f"模板包引用了包外的路径“{relative}”", display_path(root / MANIFEST),
                                      hint="模板包里的路径只能指向包内的文件，如 prose/opening.j2"))
    base = resolved_root or root.resolve()
    if os.name == "posix":  # (Windows junctions are no symlinks to is_symlink: there, always resolve)
        walked = base
        for part in candidate.parts:  # no symbolic link below the resolved root: the path is inside as it is
            walked = walked / part
            if walked.is_symlink():
                break
        else:
            return walked
    resolved = (root / candidate).resolve()
    try:
        resolved.relative_to(base)
    except ValueError:
        raise UnsafePackError(Problem(f"路径“{relative}”经符号链接指向了包外", display_path(root / MANIFEST),
                                      hint="模板包里不能有指向包外的符号链接")) from None
    return resolved


# ---------------------------------------------------------------- loading


def load_pack(root: Path, source: str = "local") -> Pack:
    """Load and validate ``root/pack.yaml``; every problem is reported at once."""
    manifest = root / MANIFEST
    if not manifest.is_file():
        raise PackError(Problem("这个文件夹里没有 pack.yaml，不是模板包", display_path(root),
                                hint="模板包是一个含 pack.yaml 的文件夹；可用 reportgen packs new 新建"))
    doc = load_yaml_file(manifest, what="模板包清单", error=PackError)
    return _PackReader(doc, root, source).read()


class _PackReader(FieldReader):
    def __init__(self, doc: YamlDocument, root: Path, source: str) -> None:
        super().__init__(doc)
        self.root = root
        self.resolved_root = root.resolve()  # once: every file the manifest names is checked against it
        self.source = source

    def _file(self, path: tuple[str | int, ...], value: str | None) -> str | None:
        if value is None:
            return None
        from .errors import UnsafePackError

        try:
            target = resolve_inside(self.root, value, resolved_root=self.resolved_root)
        except UnsafePackError as exc:
            raise UnsafePackError([self.doc.problem(path, p.message, p.hint) for p in exc.problems]) from None
        if not target.is_file():
            self.report(path, f"找不到文件“{value}”", "路径相对于 pack.yaml 所在的文件夹")
        return value

    def read(self) -> Pack:
        top = ("name", "version", "title", "description", "requires", "word_template", "example_profile",
               "styles", "facts", "catalogues", "skeleton")
        self.known_keys((), top)
        name = self.typed(("name",), str, required=True) or ""
        if name and not _NAME_RE.match(name):
            self.report(("name",), f"模板包名称“{name}”不合规", "只能用小写字母、数字、- 和 _，如 jiguan、my-pack")
        version = str(self.typed(("version",), str, required=True) or "")
        if version and not _VERSION_RE.match(version):
            self.report(("version",), f"版本号“{version}”不合规", "写成“主.次.修订”三段数字，如 1.0.0")
        requires = self.typed(("requires",), str) or ""
        if requires:
            self._check_requires(requires)
        facts = self._facts()
        catalogues = self._catalogues()
        skeleton = self._skeleton(catalogues)
        styles = self._styles()
        word = self._file(("word_template",), self.typed(("word_template",), str, required=True)) or ""
        example = self._file(("example_profile",), self.typed(("example_profile",), str))
        if self.problems:
            raise PackError(self.problems)
        return Pack(
            name=name, version=version, title=self.typed(("title",), str, required=True) or name,
            description=self.typed(("description",), str) or "", requires=requires, root=self.root,
            source=self.source, facts=facts, catalogues=catalogues, skeleton=skeleton,
            word_template=word, example_profile=example, styles=styles,
        )

    def _check_requires(self, requires: str) -> None:
        simple = simple_requirement_met(requires, __version__)
        if simple is not None:  # the usual ">=0.1" or ">=0.1,<1": no need to import packaging (~15 ms)
            if not simple:
                self.report(("requires",), f"模板包需要 reportgen {requires}，当前是 {__version__}",
                            "请升级 reportgen，或向模板包的发放单位索取适合当前版本的模板包")
            return
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
        from packaging.version import Version

        try:
            spec = SpecifierSet(requires)
        except InvalidSpecifier:
            self.report(("requires",), f"版本要求“{requires}”写法不对", "例如“>=0.1,<1”")
            return
        if Version(__version__) not in spec:
            self.report(("requires",), f"模板包需要 reportgen {requires}，当前是 {__version__}",
                        "请升级 reportgen，或向模板包的发放单位索取适合当前版本的模板包")

    def _styles(self) -> dict[str, str]:
        styles = {role: default for role, (default, _) in STYLE_ROLES.items()}
        given = self.typed(("styles",), dict) or {}
        self.known_keys(("styles",), list(STYLE_ROLES))
        for role in given:
            value = self.typed(("styles", role), str)
            if value and role in styles:
                styles[role] = value
        return styles

    def _facts(self) -> tuple[FactSpec, ...]:
        items = self.typed(("facts",), list, required=True) or []
        facts: list[FactSpec] = []
        seen: set[str] = set()
        for index, _ in enumerate(items):
            path = ("facts", index)
            if self.typed(path, dict, required=True) is None:
                continue
            self.known_keys(path, ("key", "label", "type", "unit", "required", "min", "max", "summary"))
            key = self.typed((*path, "key"), str, required=True) or ""
            if key and not re.match(r"^[a-z][a-z0-9_]*$", key):
                self.report((*path, "key"), f"事实键“{key}”不合规", "只能用小写字母、数字和下划线，以字母开头")
            if key in seen:
                self.report((*path, "key"), f"事实键“{key}”重复定义")
            seen.add(key)
            kind = self.typed((*path, "type"), str) or "integer"
            if kind not in FACT_TYPES:
                self.report((*path, "type"), f"未知的事实类型“{kind}”", suggest(kind, list(FACT_TYPES)))
            minimum = self.value((*path, "min"))
            maximum = self.value((*path, "max"))
            facts.append(FactSpec(
                key=key, label=self.typed((*path, "label"), str, required=True) or key, type=kind,
                unit=self.typed((*path, "unit"), str) or "",
                required=bool(self.typed((*path, "required"), bool) if self.value((*path, "required")) is not None
                              else True),
                minimum=float(minimum) if isinstance(minimum, (int, float)) else (0 if kind != "text" else None),
                maximum=float(maximum) if isinstance(maximum, (int, float)) else None,
                summary=bool(self.typed((*path, "summary"), bool)),
            ))
        return tuple(facts)

    def _catalogues(self) -> dict[str, dict[str, CatalogueEntry]]:
        self.typed(("catalogues",), dict, required=True)
        self.known_keys(("catalogues",), CATALOGUE_KINDS)
        result: dict[str, dict[str, CatalogueEntry]] = {}
        for kind in CATALOGUE_KINDS:
            entries = self.typed(("catalogues", kind), dict) or {}
            table: dict[str, CatalogueEntry] = {}
            for key in entries:
                path = ("catalogues", kind, key)
                if self.typed(path, dict, required=True) is None:
                    continue
                if not re.match(r"^[a-z][a-z0-9_]*$", key):
                    self.report(path, f"条目键“{key}”不合规", "只能用小写字母、数字和下划线", at_key=True)
                self.known_keys(path, ("title", "lead", "template", "measure"))
                table[key] = CatalogueEntry(
                    key=key,
                    title=self.typed((*path, "title"), str, required=True) or key,
                    lead=(self.typed((*path, "lead"), str, required=True) or "").rstrip("。"),
                    template=self._file((*path, "template"), self.typed((*path, "template"), str, required=True))
                    or "",
                    measure=self.typed((*path, "measure"), str),
                )
            result[kind] = table
        for key, entry in result.get("problems", {}).items():
            if entry.measure and entry.measure not in result.get("measures", {}):
                self.report(("catalogues", "problems", key, "measure"), f"对应的措施“{entry.measure}”不在 measures 里",
                            suggest(entry.measure, list(result.get("measures", {}))))
        return result

    def _skeleton(self, catalogues: Mapping[str, Mapping[str, CatalogueEntry]]) -> Skeleton:
        self.typed(("skeleton",), dict, required=True)
        self.known_keys(("skeleton",), ("title", "byline", "sections"))
        sections: list[SectionSpec] = []
        kinds_seen: list[str] = []
        for index, _ in enumerate(self.typed(("skeleton", "sections"), list, required=True) or []):
            path = ("skeleton", "sections", index)
            if self.typed(path, dict, required=True) is None:
                continue
            self.known_keys(path, ("kind", "heading", "numbering", "intro", "template", "min_items", "max_items"))
            kind = self.typed((*path, "kind"), str, required=True) or ""
            if kind not in SECTION_KINDS:
                self.report((*path, "kind"), f"未知的部分类型“{kind}”", suggest(kind, list(SECTION_KINDS)))
            if kind in kinds_seen:
                self.report((*path, "kind"), f"部分“{kind}”出现了两次")
            kinds_seen.append(kind)
            numbering = self.typed((*path, "numbering"), str) or "paren_chinese"
            if numbering not in NUMBERING_STYLES:
                self.report((*path, "numbering"), f"未知的编号方式“{numbering}”", suggest(numbering, list(NUMBERING_STYLES)))
            template = self._file((*path, "template"), self.typed((*path, "template"), str))
            if kind in ("opening", "closing") and template is None:
                self.report(path, f"“{kind}”部分需要 template（正文模板文件）", at_key=True)
            catalogue = CATALOGUE_FOR_SECTION.get(kind)
            if catalogue and not catalogues.get(catalogue):
                self.report(path, f"部分“{kind}”需要 catalogues.{catalogue} 中至少一个条目", at_key=True)
            sections.append(SectionSpec(
                kind=kind, heading=self.typed((*path, "heading"), str), numbering=numbering,
                intro=self._file((*path, "intro"), self.typed((*path, "intro"), str)), template=template,
                min_items=self.typed((*path, "min_items"), int) or 1,
                max_items=self.typed((*path, "max_items"), int) or 8,
            ))
        if "causes" in kinds_seen and "problems" in kinds_seen and kinds_seen.index("causes") < kinds_seen.index(
                "problems"):
            self.report(("skeleton", "sections"), "“causes”（原因）应放在“problems”（问题）之后")
        return Skeleton(
            title=self.typed(("skeleton", "title"), str),
            byline=bool(self.typed(("skeleton", "byline"), bool)),
            sections=tuple(sections),
        )


# ---------------------------------------------------------------- finding packs


def builtin_packs_dir() -> Path:
    """Packs shipped with reportgen: inside the wheel, or ``templates/`` of a source checkout."""
    here = Path(__file__).resolve().parent
    shipped = here / "templates"
    if shipped.is_dir():
        return shipped
    return here.parent.parent / "templates"


def reportgen_home() -> Path:
    configured = os.environ.get("REPORTGEN_HOME")
    if configured:
        return Path(configured).expanduser()
    from .cache import user_dir

    return user_dir("data")


def user_packs_dir() -> Path:
    return reportgen_home() / "packs"


def _candidates(profile_dir: Path | None) -> list[tuple[str, Path]]:
    places: list[tuple[str, Path]] = []
    if profile_dir is not None:
        places.append(("local", profile_dir / "packs"))
    places.append(("user", user_packs_dir()))
    places.append(("builtin", builtin_packs_dir()))
    return places


def list_packs(profile_dir: Path | None = None) -> list[Pack]:
    """Every pack that can be found, in resolution order (local, user, builtin)."""
    found: list[Pack] = []
    for source, folder in _candidates(profile_dir):
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            if (child / MANIFEST).is_file():
                try:
                    found.append(load_pack(child, source))
                except PackError:
                    continue
    return found


def parse_pack_requirement(text: str) -> tuple[str, str]:
    """``"jiguan>=1.0"`` -> ("jiguan", ">=1.0")."""
    match = re.match(r"^\s*([^<>=!~\s]+)\s*(.*?)\s*$", text)
    if not match:
        return text.strip(), ""
    return match.group(1), match.group(2)


def looks_like_pack_path(text: str) -> bool:
    return any(sep in text for sep in ("/", "\\")) or text.startswith(".") or text.endswith(MANIFEST)


def find_pack(request: str | None, *, profile_dir: Path | None = None, default: str = "jiguan") -> Pack:
    """Resolve a pack: explicit path, then ``packs/`` beside the profile, the user store, built-in."""
    # Names typed with a Chinese input method may come out full-width (ｊｉｇｕａｎ).
    request = unicodedata.normalize("NFKC", request or default).strip()
    if looks_like_pack_path(request) or (Path(request).is_dir() and (Path(request) / MANIFEST).is_file()):
        root = Path(request)
        if root.name == MANIFEST:
            root = root.parent
        if not root.is_dir():
            raise PackError(Problem(f"找不到模板包文件夹“{request}”", hint="请检查路径是否写对"))
        return load_pack(root, "local")
    name, spec_text = parse_pack_requirement(request)
    spec = None
    if spec_text:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            spec = SpecifierSet(spec_text)
        except InvalidSpecifier:
            raise PackError(Problem(f"模板包版本要求“{spec_text}”写法不对",
                                    hint="例如“jiguan>=1.0”或“jiguan==1.2.0”")) from None
    rejected: list[Pack] = []
    for source, folder in _candidates(profile_dir):
        root = folder / name
        if not (root / MANIFEST).is_file():
            continue
        pack = load_pack(root, source)
        if spec is None or spec.contains(pack.version, prereleases=True):
            return pack
        rejected.append(pack)
    if rejected:
        found = "、".join(f"{p.version}（{_SOURCE_NAMES[p.source]}）" for p in rejected)
        raise PackError(Problem(f"模板包“{name}”的版本不满足要求“{spec_text}”：找到的是 {found}",
                                hint="请安装符合要求的版本（reportgen packs install），或修改资料文件里的 pack: 版本要求"))
    available = "、".join(f"{p.name}（{p.title}）" for p in list_packs(profile_dir)) or "无"
    raise PackError(Problem(f"找不到模板包“{name}”", hint=f"可用的模板包：{available}"))


_SOURCE_NAMES = {"builtin": "内置", "user": "已安装", "local": "本地"}

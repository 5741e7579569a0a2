"""One draft, start to finish: profile -> facts -> document model -> .docx/.md -> a guarded write.

A ``Run`` is what one command (or one batch worker) keeps while it works: the packs it found and the
Word templates it compiled.  Its lifetime is the command's, so an edited template is read again by
the next command, and nothing outlives the process.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ..content.compose import committee_of, compose
from ..content.facts import Facts, read_facts
from ..content.model import Document
from ..errors import OutputError, PackError, Problem, ProfileError, ReportgenError, display_path
from ..inputs.lastyear import document_text
from ..inputs.profile import Profile, read_profile
from ..inputs.source import read_text
from ..inputs.yamlfile import Tree, parse_yaml
from ..packs.lookup import PackFinder, looks_like_pack_path
from ..packs.manifest import Pack
from ..render.markdown import to_markdown
from ..render.word import WordTemplate
from .guard import Guard, folder_lock
from .ledger import LedgerRow, apply_ledger

__all__ = ["BuildResult", "Draft", "Missing", "Run"]

DRAFT_SUFFIXES = (".docx", ".md")
LAST_YEAR_THRESHOLD = 0.5  # a new year's draft shares some sentences with last year's; half is a copy


@dataclass(frozen=True)
class Missing:
    key: str  # profile key, e.g. "facts.study_sessions"; "blank" for a blank the user marked
    label: str  # what the placeholder asks for
    where: str  # where it is in the report: "一、（三）"


@dataclass(frozen=True)
class Draft:
    profile: Profile
    pack: Pack
    facts: Facts
    document: Document
    warnings: tuple[Problem, ...]
    said: frozenset[str] = frozenset()
    promises: tuple[tuple[str | None, str, str | None], ...] = ()  # (problem key, problem, its measure)
    last_year_ratio: float | None = None  # 复制比 against last year's draft, when the profile names it

    @functools.cached_property
    def missing(self) -> tuple[Missing, ...]:
        seen: set[tuple[str, str]] = set()
        result: list[Missing] = []
        for paragraph, span in self.document.missing():
            key = span.source or ""
            if span.kind == "placeholder":
                label = span.text.removeprefix("【待补充：").removesuffix("】")
            elif key.startswith("facts.") and key[6:] in self.facts.specs:
                label = f"{self.facts.specs[key[6:]].label}（资料文件里写的是“{span.text}”）"
            else:
                label = f"自己写的文字里的空白“{span.text}”"
            if (key, paragraph.where) in seen and span.kind == "placeholder":
                continue
            seen.add((key, paragraph.where))
            result.append(Missing(key, label, paragraph.where))
        return tuple(result)


@dataclass(frozen=True)
class BuildResult:
    output: Path
    draft: Draft
    backup: Path | None = None

    @property
    def han_count(self) -> int:
        return self.draft.document.han_count()


@dataclass
class Run:
    """The packs and compiled Word templates of one command."""

    pack_request: str | None = None  # --pack: wins over every profile's own pack:
    ledger: tuple[LedgerRow, ...] = ()  # --ledger: a 整改台账's rows fill the rectification section
    ledger_path: Path | None = None
    finder: PackFinder = field(default_factory=PackFinder)
    words: dict[Path, WordTemplate] = field(default_factory=dict)
    example_names: dict[Path, tuple[str, ...]] = field(default_factory=dict)
    last_year: bool = True  # compare with last year's draft (only for commands that show warnings)

    def fresh(self) -> Run:
        """A Run with the same settings and empty caches (what a batch worker starts from)."""
        return Run(self.pack_request, self.ledger, self.ledger_path)

    # -- reading

    def pack_for(self, tree: Tree, profile_dir: Path | None) -> Pack:
        request = self.pack_request
        if request is None:
            value = tree.data.get("pack")
            request = value.strip() if isinstance(value, str) and value.strip() else None
            if request and profile_dir is not None and looks_like_pack_path(request) and not Path(request).is_absolute():
                request = str(profile_dir / request)  # a folder named in a profile is relative to the profile
        return self.finder.find(request, profile_dir=profile_dir)

    def draft_file(self, path: Path, *, pack: Pack | None = None) -> Draft:
        text = read_text(path)
        tree = parse_yaml(text, display_path(path))
        return self.draft(tree, hashlib.sha256(text.encode()).hexdigest(), path.parent, file_name=path.name, pack=pack)

    def draft(self, tree: Tree, digest: str, profile_dir: Path | None, *, file_name: str = "",
              pack: Pack | None = None, example: bool = False) -> Draft:
        """Validate and compose: every problem of the profile at once, as one ProfileError."""
        profile, problems = read_profile(tree, digest)
        ledger_warnings: list[Problem] = []
        if self.ledger_path is not None:
            profile, ledger_warnings = apply_ledger(profile, self.ledger, self.ledger_path)
        if pack is None:
            try:
                pack = self.pack_for(tree, profile_dir)
            except PackError as exc:
                if problems:
                    raise ProfileError(sorted([*problems, *exc.problems], key=Problem.sort_key)) from None
                raise
        facts, fact_problems, fact_warnings = read_facts(profile, pack)
        properties = {"reportgen.profile": file_name or profile.file, "reportgen.profile_sha256": digest,
                      "reportgen.unit": profile.meta.unit or "", "reportgen.name": profile.meta.name or ""}
        composition = compose(profile, pack, facts, properties=properties)
        problems = [*problems, *fact_problems, *composition.problems]
        if problems:
            raise ProfileError(sorted(problems, key=Problem.sort_key))
        warnings = [*ledger_warnings, *fact_warnings, *composition.warnings,
                    *self._leftovers(pack, profile, composition.document)]
        last_year_ratio, last_year_warnings = self._last_year(profile, composition.document, profile_dir)
        warnings += last_year_warnings
        shadowed = None if example else self.finder.shadowed(pack)  # a pack's own example: the pack is given
        if shadowed is not None:
            warnings.append(Problem(f"使用的是{'已安装' if pack.source == 'user' else '本地'}的模板包 {pack.label}"
                                    f"（{display_path(pack.root)}），它与内置模板包“{pack.name}”同名，内置的没有使用",
                                    hint="确认这是上级发放的模板包；如要用内置的，请删除或改名这个模板包"))
        return Draft(profile, pack, facts, composition.document, tuple(warnings), composition.said, composition.promises,
                     last_year_ratio)

    def _leftovers(self, pack: Pack, profile: Profile, document: Document) -> list[Problem]:
        """The pack example's unit or person left in a draft that is not the example's (the 平乐 mistake)."""
        names = self.example_names.get(pack.root)
        if names is None:
            names = ()
            if pack.example_profile:
                try:
                    example = parse_yaml(read_text(pack.path(pack.example_profile)), pack.example_profile)
                    found = example.data.get("meta")
                    meta: dict[str, object] = found if isinstance(found, dict) else {}
                    found_names = [str(meta[key]) for key in ("unit", "name") if isinstance(meta.get(key), str)]
                    unit = found_names[0] if isinstance(meta.get("unit"), str) else ""
                    committee = committee_of(unit)
                    if committee and len(unit) - len(committee) >= 4:  # 青山市市场监督管理局 of …机关党委
                        found_names.append(unit[: -len(committee)])
                    names = tuple(dict.fromkeys(name for name in found_names if len(name) >= 2))
                except (ProfileError, PackError, OSError):
                    names = ()
            self.example_names[pack.root] = names
        own = [name for name in (profile.meta.unit, profile.meta.name) if name]
        text = document.text
        shown = [name for name in names if name in text and not any(name in mine for mine in own)]
        shown = [name for name in shown if not any(name != longer and name in longer for longer in shown)]
        return [Problem(f"稿子里出现了模板包示例单位或人员的名称“{name}”", profile.file,
                        hint="这多半是从示例里复制来的文字，请改成本单位的情况") for name in shown]

    def _last_year(self, profile: Profile, document: Document, profile_dir: Path | None) -> tuple[float | None, list[Problem]]:
        """复制比 against last year's draft (``last_year.draft``): copying last year's report is the habit
        this tool replaces, so a draft that repeats it is pointed out."""
        if not self.last_year or not profile.last_year.draft:
            return None, []
        path = Path(profile.last_year.draft)
        if not path.is_absolute() and profile_dir is not None:
            path = profile_dir / path
        try:
            text, names = document_text(path)
        except ReportgenError as exc:
            return None, [Problem(f"上年的稿子读不出来：{exc.problems[0].message}", profile.file,
                                  hint="检查 last_year.draft 的路径")]
        from .similarity import compare, normalize, shown_ratio  # lazy: numpy adds ~70 ms to a cold build

        own = (profile.meta.unit or "", profile.meta.name or "", *names)
        ratio = compare(normalize("本稿", document.text, own), normalize(path.name, text, own)).ratio
        if ratio <= LAST_YEAR_THRESHOLD:
            return shown_ratio(ratio), []
        return shown_ratio(ratio), [Problem(f"与上年的稿子（{display_path(path)}）的复制比为 {shown_ratio(ratio):.0%}",
                                            profile.file, hint="换一种措辞（wording: 1），或多写今年的新做法")]

    # -- writing

    def word(self, pack: Pack) -> WordTemplate:
        word = self.words.get(pack.root)
        if word is None:
            word = self.words[pack.root] = WordTemplate(pack.path(pack.word_template), pack.styles,
                                                        shown=f"{pack.name}/{pack.word_template}")
        return word

    def render(self, draft: Draft, fmt: str) -> bytes:
        return self.word(draft.pack).render(draft.document) if fmt == "docx" else to_markdown(draft.document)

    def build(self, path: Path, target: Path, *, fmt: str = "docx", force: bool = False) -> BuildResult:
        """Draft ``path`` and write it to ``target``; a bad target is refused before any drafting."""
        guard = Guard(inputs=(path,))
        if target.suffix.lower() in DRAFT_SUFFIXES and target.suffix.lower() != f".{fmt}":
            raise OutputError(Problem(f"输出文件的扩展名应为 .{fmt}", display_path(target),
                                      hint=f"例如 -o {target.stem}.{fmt}，或用 --format 指定格式"))
        guard.check(target, force=force, suffixes=DRAFT_SUFFIXES, what="稿子")
        draft = self.draft_file(path)
        data = self.render(draft, fmt)
        with folder_lock(target.parent):
            backup = guard.write(target, data, force=force, suffixes=DRAFT_SUFFIXES, what="稿子")
        return BuildResult(target, draft, backup)

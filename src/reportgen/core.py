"""The core operations behind the CLI: build, check and init.

Everything here raises ``ReportgenError`` subclasses for the user's mistakes and never
imports click.  A ``DraftMaker`` holds a pack's compiled templates so that a batch
compiles once and renders many.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .errors import OutputError, Problem, ProfileError, display_path
from .model import Document
from .pack import Pack, find_pack, looks_like_pack_path
from .profile import META_FIELDS, Profile, load_profile_document, validate_profile
from .prose import ProseEngine
from .yamlsource import YamlDocument

if TYPE_CHECKING:
    from .output import ResolvedPath

__all__ = ["BuildResult", "CheckResult", "DraftMaker", "MissingFact", "build", "check", "draft_maker", "init",
           "load_profile", "write_draft"]


@dataclass(frozen=True)
class MissingFact:
    key: str  # profile key, e.g. "facts.study_sessions"
    label: str  # what the placeholder asks for
    where: str  # paragraph id where it shows


@dataclass(frozen=True)
class CheckResult:
    profile: Profile
    pack: Pack
    document: Document
    missing: tuple[MissingFact, ...]


@dataclass(frozen=True)
class BuildResult:
    output: Path
    han_count: int
    missing: tuple[MissingFact, ...]
    pack: Pack
    profile: Profile
    backup: Path | None = None


class DraftMaker:
    """A pack's prose and Word templates, compiled once; turns profiles into drafts."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.prose = ProseEngine(pack)
        self._word: object | None = None

    @property
    def word(self):  # type: ignore[no-untyped-def]  # WordTemplate, imported lazily
        if self._word is None:
            from .word import WordTemplate

            self._word = WordTemplate(self.pack.path(self.pack.word_template), self.prose.env, self.pack.styles,
                                      self.prose.cache, shown=f"{self.pack.name}/{self.pack.word_template}")
            self.save_cache()
        return self._word

    def save_cache(self) -> None:
        """Keep what was compiled or derived from the pack's templates for the next run (if anything new)."""
        self.prose.cache.save()

    def document(self, profile: Profile) -> Document:
        from .sandbox import time_limit

        with time_limit():
            return self.prose.compose(profile)

    def docx(self, profile: Profile, document: Document) -> bytes:
        from .sandbox import time_limit

        properties = {
            "reportgen.version": __version__,
            "reportgen.pack": self.pack.name,
            "reportgen.pack_version": self.pack.version,
            "reportgen.profile": Path(profile.file).name,
            "reportgen.profile_sha256": profile.digest,
        }
        with time_limit():
            data, _ = self.word.render(document, _meta_dict(profile), properties, _created(profile))
        return bytes(data)

    def markdown(self, profile: Profile, document: Document) -> bytes:
        from .markdown import to_markdown
        from .output import md_fingerprint

        text = to_markdown(document)
        return (text + f"\n<!-- reportgen:fingerprint={md_fingerprint(text)} -->\n").encode("utf-8")


_MAKERS: dict[tuple[str, str, str], DraftMaker] = {}


def draft_maker(pack: Pack) -> DraftMaker:
    """One DraftMaker per pack and process: a batch compiles its templates once."""
    key = (str(pack.root), pack.name, pack.version)
    maker = _MAKERS.get(key)
    if maker is None:
        maker = _MAKERS[key] = DraftMaker(pack)
    return maker


def _meta_dict(profile: Profile) -> dict[str, object]:
    return {key: profile.meta.get(key) for key in META_FIELDS}


def _created(profile: Profile) -> str:
    """A fixed timestamp (from the profile, not the clock) so rebuilds are byte-identical."""
    import re

    date = profile.meta.date
    match = re.match(r"(\d+)年(\d+)月(\d+)日", date or "")
    if match:
        year, month, day = (int(g) for g in match.groups())
        return f"{year:04d}-{month:02d}-{day:02d}T00:00:00Z"
    if profile.meta.year:
        return f"{profile.meta.year + 1:04d}-01-01T00:00:00Z"
    return "2000-01-01T00:00:00Z"


def load_profile(profile_path: Path, pack_request: str | None = None, *, pack: Pack | None = None,
                 packs: dict[tuple[str | None, Path], Pack] | None = None) -> tuple[Profile, Pack]:
    """Read, parse and validate a profile; the pack comes from ``--pack``, else the profile's ``pack:``.

    ``packs`` caches resolved packs by (request, profile folder) across calls (batch builds).
    """
    doc, digest = load_profile_document(profile_path)
    if pack is None:
        request = pack_request or _pack_request_from_profile(doc, profile_path)
        key = (request, profile_path.parent)
        found = packs.get(key) if packs is not None else None
        if found is None:
            found = find_pack(request, profile_dir=profile_path.parent)
            if packs is not None:
                packs[key] = found
        pack = found
    return validate_profile(doc, digest, pack), pack


def _requested_pack(doc: YamlDocument) -> str | None:
    value = doc.data.get("pack")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(doc.problem(("pack",), "pack 应为模板包名称，如“jiguan”或“jiguan>=1.0”"))
    return value


def _pack_request_from_profile(doc: YamlDocument, profile_path: Path) -> str | None:
    """The profile's ``pack:``; a relative folder path there means relative to the profile, not the cwd."""
    request = _requested_pack(doc)
    if request and looks_like_pack_path(request) and not Path(request).is_absolute():
        return str(profile_path.parent / request)
    return request


def missing_facts(document: Document) -> tuple[MissingFact, ...]:
    seen: set[tuple[str, str]] = set()
    result: list[MissingFact] = []
    for paragraph, span in document.placeholders():
        key = span.source or ""
        label = span.text.removeprefix("【待补充：").removesuffix("】")
        if (key, paragraph.id) in seen:
            continue
        seen.add((key, paragraph.id))
        result.append(MissingFact(key, label, paragraph.id))
    return tuple(result)


def check(profile_path: Path, pack_request: str | None = None) -> CheckResult:
    profile, pack = load_profile(profile_path, pack_request)
    maker = draft_maker(pack)
    document = maker.document(profile)
    maker.save_cache()
    return CheckResult(profile, pack, document, missing_facts(document))


def default_output(profile_path: Path, fmt: str) -> Path:
    return profile_path.with_suffix(f".{fmt}")


def build(profile_path: Path, output: Path | None = None, *, pack_request: str | None = None, fmt: str = "docx",
          force: bool = False, pack: Pack | None = None) -> BuildResult:
    """Build one draft; ``output`` may be a file or an existing folder."""
    profile, pack = load_profile(profile_path, pack_request, pack=pack)
    target = output if output is not None else default_output(profile_path, fmt)
    if target.is_dir():
        target = target / f"{profile_path.stem}.{fmt}"
    return write_draft(profile_path, profile, pack, target, fmt=fmt, force=force)


def protected_pack_dirs(pack: Pack) -> tuple[ResolvedPath, ...]:
    """Folders a draft may never be written into: the pack, the built-in packs, the user's pack store."""
    from .output import resolve_protected
    from .pack import builtin_packs_dir, user_packs_dir

    return resolve_protected((pack.root, builtin_packs_dir(), user_packs_dir()))


def write_draft(profile_path: Path, profile: Profile, pack: Pack, target: Path, *, fmt: str = "docx",
                force: bool = False, precheck: bool = True,
                write: Callable[[Path, bytes], None] | None = None,
                pack_dirs: Sequence[ResolvedPath] | None = None) -> BuildResult:
    """Draft a validated profile and write it to ``target`` (a file path), edit-safely.

    ``precheck`` refuses a bad target before drafting (one build: an immediate answer; a batch skips
    it, the check just before writing is the one that counts); ``write`` replaces
    ``write_atomically`` (a batch writes a group of drafts with one sync); ``pack_dirs`` are
    ``protected_pack_dirs(pack)`` resolved once by a batch.
    """
    from .output import check_target, guard_target, write_atomically

    protected: tuple[Path | ResolvedPath, ...] = (
        profile_path, *(pack_dirs if pack_dirs is not None else protected_pack_dirs(pack)))
    # Refuse an unwritable or edited target before drafting; checked again just before writing.
    if precheck:
        check_target(target, force=force, protected=protected, suffix=f".{fmt}")
    from .sandbox import time_limit

    maker = draft_maker(pack)
    with time_limit():  # one limit for the whole draft (the two steps' own add nothing inside it)
        document = maker.document(profile)
        data = maker.docx(profile, document) if fmt == "docx" else maker.markdown(profile, document)
    maker.save_cache()  # nothing to do after the first draft of a batch
    backup = guard_target(target, force=force, protected=protected, suffix=f".{fmt}")
    (write or write_atomically)(target, data)
    return BuildResult(target, document.han_count(), missing_facts(document), pack, profile, backup)


def init(path: Path, pack_request: str | None = None, *, force: bool = False) -> tuple[Path, Pack]:
    """Write a profile scaffold with Chinese comments for every field."""
    from .output import write_atomically
    from .scaffold import scaffold_text

    if path.suffix.lower() not in (".yaml", ".yml"):
        raise OutputError(Problem("资料文件应以 .yaml 结尾", display_path(path), hint=f"例如 {path.stem}.yaml"))
    if path.exists() and not force:
        raise OutputError(Problem("文件已存在，没有覆盖", display_path(path),
                                  hint="换一个文件名，或加 --force 覆盖"))
    pack = find_pack(pack_request, profile_dir=path.parent)
    write_atomically(path, scaffold_text(pack, pack_request).encode("utf-8"))
    return path, pack

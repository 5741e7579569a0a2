"""Where packs are found: a path given, ``packs/`` beside the profile, the user's store, built-in.

The user's store and reportgen's other folders are where platformdirs says (REPORTGEN_HOME moves
them).  A name may carry a version requirement (``jiguan>=2.0``), compared as PEP 440 says.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from ..errors import PackError, Problem, ReportgenError
from .manifest import MANIFEST, Pack, PackSource, load_pack

__all__ = ["SOURCE_NAMES", "PackFinder", "builtin_packs_dir", "looks_like_pack_path", "parse_requirement",
           "reportgen_home", "user_packs_dir"]

SOURCE_NAMES: dict[PackSource, str] = {"builtin": "内置", "user": "已安装", "local": "本地"}
DEFAULT_PACK = "jiguan"


def builtin_packs_dir() -> Path:
    """Packs shipped with reportgen: inside the wheel, or ``templates/`` of a source checkout."""
    here = Path(__file__).resolve().parent.parent
    shipped = here / "templates"
    return shipped if shipped.is_dir() else here.parent.parent / "templates"


def reportgen_home() -> Path:
    configured = os.environ.get("REPORTGEN_HOME", "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir("reportgen", appauthor=False))


def user_packs_dir() -> Path:
    return reportgen_home() / "packs"


def parse_requirement(text: str) -> tuple[str, str]:
    """``"jiguan>=1.0"`` -> ("jiguan", ">=1.0")."""
    match = re.match(r"^\s*([^<>=!~\s]+)\s*(.*?)\s*$", text)
    return (match.group(1), match.group(2)) if match else (text.strip(), "")


def looks_like_pack_path(text: str) -> bool:
    return any(sep in text for sep in ("/", "\\")) or text.startswith(".") or text.endswith(MANIFEST)


@dataclass(frozen=True)
class Listing:
    packs: tuple[Pack, ...]  # in resolution order
    broken: tuple[tuple[Path, str], ...]  # (folder, why) of packs that do not load


@dataclass
class PackFinder:
    """Finds and loads packs for one run, each folder once (a batch asks for the same pack a thousand times)."""

    loaded: dict[Path, Pack] = field(default_factory=dict)
    found: dict[tuple[str | None, Path | None], Pack] = field(default_factory=dict)  # request, profile folder

    def places(self, profile_dir: Path | None) -> Iterator[tuple[PackSource, Path]]:
        if profile_dir is not None:
            yield "local", profile_dir / "packs"
        yield "user", user_packs_dir()
        yield "builtin", builtin_packs_dir()

    def load(self, root: Path, source: PackSource) -> Pack:
        key = root.resolve()
        pack = self.loaded.get(key)
        if pack is None:
            pack = self.loaded[key] = load_pack(root, source)
        return pack

    def find(self, request: str | None, *, profile_dir: Path | None = None) -> Pack:
        """A pack by path, or by name (and version requirement) in the usual places."""
        key = (request, profile_dir)
        if key not in self.found:
            self.found[key] = self._find(request, profile_dir)
        return self.found[key]

    def _find(self, request: str | None, profile_dir: Path | None) -> Pack:
        request = unicodedata.normalize("NFKC", request or DEFAULT_PACK).strip()  # ｊｉｇｕａｎ from an input method
        if looks_like_pack_path(request) or (Path(request) / MANIFEST).is_file():
            root = Path(request)
            root = root.parent if root.name == MANIFEST else root
            if not root.is_dir():
                raise PackError(Problem(f"找不到模板包文件夹“{request}”", hint="请检查路径是否写对"))
            return self.load(root, "local")
        name, wanted = parse_requirement(request)
        try:
            spec = SpecifierSet(wanted) if wanted else None
        except InvalidSpecifier:
            raise PackError(Problem(f"模板包版本要求“{wanted}”写法不对", hint="例如“jiguan>=2.0”或“jiguan==2.0.0”")) from None
        rejected: list[Pack] = []
        for source, folder in self.places(profile_dir):
            root = folder / name
            if not (root / MANIFEST).is_file():
                continue
            pack = self.load(root, source)
            if spec is None or spec.contains(pack.version, prereleases=True):
                return pack
            rejected.append(pack)
        if rejected:
            found = "、".join(f"{p.version}（{SOURCE_NAMES[p.source]}）" for p in rejected)
            raise PackError(Problem(f"模板包“{name}”的版本不满足要求“{wanted}”：找到的是 {found}",
                                    hint="请安装符合要求的版本（reportgen packs install），或修改资料文件里的 pack: 版本要求"))
        available = "、".join(f"{p.name}（{p.title}）" for p in self.listing(profile_dir).packs) or "无"
        raise PackError(Problem(f"找不到模板包“{name}”", hint=f"可用的模板包：{available}"))

    def shadowed(self, pack: Pack) -> Pack | None:
        """The built-in pack of the same name that ``pack`` (local or installed) hides, if any."""
        root = builtin_packs_dir() / pack.name
        if pack.source == "builtin" or not (root / MANIFEST).is_file() or root.resolve() == pack.root.resolve():
            return None
        try:
            return self.load(root, "builtin")
        except ReportgenError:
            return None

    def listing(self, profile_dir: Path | None = None) -> Listing:
        """Every pack in every place, the same name listed once per place it is found in."""
        packs: list[Pack] = []
        broken: list[tuple[Path, str]] = []
        for source, folder in self.places(profile_dir):
            if not folder.is_dir():
                continue
            for child in sorted(folder.iterdir()):
                if child.name.startswith(".") or not (child / MANIFEST).is_file():
                    continue
                try:
                    packs.append(self.load(child, source))
                except ReportgenError as exc:
                    broken.append((child, exc.problems[0].message if exc.problems else ""))
        return Listing(tuple(packs), tuple(broken))

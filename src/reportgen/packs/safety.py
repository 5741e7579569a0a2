"""Safety checks on a pack folder: its files stay inside it and are of the kinds a pack needs, and its
Office files pass ``office_safety``.  A pack is data from another unit.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import Problem
from ..office_safety import office_problems
from ..ooxml import PackageLimits

__all__ = ["MAX_PACK_BYTES", "MAX_PACK_FILES", "PACK_LIMITS", "PACK_SUFFIXES", "PackTree", "content_problems",
           "is_junk", "is_leftover", "walk_pack"]

MAX_PACK_FILES = 500
MAX_PACK_BYTES = 50 * 1024 * 1024
# What a pack may hold: its YAML, Word templates, notes, and pictures for the Word template.
PACK_SUFFIXES = (".yaml", ".yml", ".docx", ".dotx", ".md", ".txt", ".j2", ".png", ".jpg", ".jpeg", ".gif", ".bmp")
JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", "__pycache__", ".git", "__MACOSX"})
PACK_LIMITS = PackageLimits(entries=500, total_bytes=MAX_PACK_BYTES)


# ---------------------------------------------------------------- a pack folder


@dataclass(frozen=True)
class PackTree:
    files: tuple[tuple[str, Path], ...]  # (posix path relative to the root, absolute path)
    problems: tuple[Problem, ...]  # every one of them makes the pack unsafe


def is_junk(name: str) -> bool:
    return name in JUNK_NAMES or name.startswith(("~$", "._"))


def walk_pack(root: Path, label: str) -> PackTree:
    """Every regular file of a pack folder; symlinks, special files, odd kinds and oversized trees are problems."""
    files: list[tuple[str, Path]] = []
    problems: list[Problem] = []
    total = 0
    for folder, dirs, names in os.walk(root, followlinks=False):
        base = Path(folder)
        dirs.sort()
        for name in list(dirs):
            if is_junk(name) or name.startswith("."):
                dirs.remove(name)
            elif (base / name).is_symlink():
                dirs.remove(name)
                problems.append(Problem(f"模板包里有符号链接“{(base / name).relative_to(root).as_posix()}”", label,
                                        hint="模板包里只能有普通文件和文件夹，不能有符号链接（快捷方式）"))
        for name in sorted(names):
            if is_junk(name):
                continue
            path = base / name
            rel = path.relative_to(root).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                problems.append(Problem(f"模板包里有符号链接“{rel}”", label,
                                        hint="模板包里只能有普通文件和文件夹，不能有符号链接（快捷方式）"))
                continue
            if not stat.S_ISREG(info.st_mode):
                problems.append(Problem(f"模板包里有特殊文件“{rel}”", label, hint="模板包里只能有普通文件"))
                continue
            if name.startswith("."):
                continue  # temporaries and hidden files are never part of a pack
            files.append((rel, path))
            total += info.st_size
        if len(files) > MAX_PACK_FILES:
            problems.append(Problem(f"模板包里的文件超过 {MAX_PACK_FILES} 个，可能是“压缩炸弹”", label,
                                    hint="正常的模板包只有几十个文件；请向发放单位核实"))
            break
        if total > MAX_PACK_BYTES:
            problems.append(Problem(f"模板包超过 {MAX_PACK_BYTES // (1024 * 1024)} MB，可能是“压缩炸弹”", label,
                                    hint="正常的模板包只有几百 KB；请向发放单位核实"))
            break
    return PackTree(tuple(files), tuple(problems))


# Files that end up in a pack folder while someone works in it (a summary built there, Word's temporaries).
LEFTOVER_SUFFIXES = (".xlsx", ".tmp", ".bak", ".wbk", ".asd", ".log")


def is_leftover(rel: str) -> bool:
    name = PurePosixPath(rel).name
    return name.lower().endswith(LEFTOVER_SUFFIXES) or name.startswith("~")


def content_problems(tree: PackTree, label: str, *, leftovers: bool = False) -> list[Problem]:
    """Files of kinds a pack never needs (macro or old-format Office files, programs) and unsafe Word files.

    ``leftovers``: the user's own pack folder, where a summary or a Word temporary is no threat (and is
    never exported); a pack from elsewhere may not carry them.
    """
    problems: list[Problem] = []
    for rel, path in tree.files:
        if leftovers and is_leftover(rel):
            continue
        suffix = PurePosixPath(rel).suffix.lower()
        shown = f"{label}/{rel}"
        if suffix not in PACK_SUFFIXES:
            problems.append(Problem(f"模板包里不应有“{suffix or '无扩展名'}”文件", shown,
                                    hint="模板包只能有 .yaml、.docx、.md、.txt 和图片；宏文件、旧版 .doc/.xls 和程序一律拒绝"))
        elif suffix in (".docx", ".dotx"):
            problems.extend(office_problems(path, shown))
    return problems

"""Writing drafts without ever losing the user's work.

A draft is written to a temporary file beside the target and renamed over it, so an
error never leaves a half-written file.  An existing target is replaced only when it
is an untouched earlier draft (its content still matches the fingerprint reportgen
recorded); an edited draft or a file reportgen did not make is refused unless
``--force``, which first keeps the old file as a dated backup.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from .errors import OutputError, Problem, display_path, os_error_text

__all__ = ["MD_FINGERPRINT", "check_target", "existing_state", "guard_target", "md_fingerprint",
           "write_atomically"]

MD_FINGERPRINT = re.compile(r"\n<!-- reportgen:fingerprint=([0-9a-f]{64}) -->\n?$")
DRAFT_SUFFIXES = (".docx", ".md")
MAX_DRAFT_BYTES = 64 * 1024 * 1024  # bigger than any draft: treat as somebody else's file, read nothing


def md_fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def existing_state(path: Path) -> str:
    """"absent", "untouched" (an earlier draft as generated), "edited" or "foreign"."""
    if not path.exists():
        return "absent"
    if not path.is_file():
        return "foreign"
    if path.suffix.lower() == ".md":
        try:
            if path.stat().st_size > MAX_DRAFT_BYTES:
                return "foreign"
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return "foreign"
        match = MD_FINGERPRINT.search(text)
        if not match:
            return "foreign"
        return "untouched" if md_fingerprint(text[: match.start()]) == match.group(1) else "edited"
    if not _plausible_docx(path):
        return "foreign"
    from .word import read_draft_info

    info = read_draft_info(path)
    if info is None or not info.made_by_reportgen:
        return "foreign"
    return "edited" if info.edited else "untouched"


def _plausible_docx(path: Path) -> bool:
    """A zip whose document part is of a sane size (so a foreign zip bomb is never inflated)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return zf.getinfo("word/document.xml").file_size <= MAX_DRAFT_BYTES
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return False


class ResolvedPath(NamedTuple):
    """A protected path resolved once (a batch checks the same pack folders for every draft)."""

    path: Path
    is_dir: bool


def resolve_protected(paths: Iterable[Path]) -> tuple[ResolvedPath, ...]:
    result = []
    for path in paths:
        with contextlib.suppress(OSError, ValueError):
            result.append(ResolvedPath(path.resolve(), path.is_dir()))
    return tuple(result)


def _protected_problem(target: Path, protected: Iterable[Path | ResolvedPath], *, exists: bool = True) -> Problem | None:
    """Why ``target`` may not be written, if it is a protected file or inside a protected folder.

    ``exists=False`` (the target is known to be absent) skips resolving protected files: an
    absent target cannot be one of them.  Paths are compared as text (a batch checks thousands).
    """
    resolved = os.path.normcase(os.fspath(target.resolve()))
    for path in protected:
        try:
            if isinstance(path, ResolvedPath):
                base, is_dir = path
            else:
                is_dir = path.is_dir()
                if not is_dir and not exists:
                    continue
                base = path.resolve()
            base_text = os.path.normcase(os.fspath(base))
            if not is_dir and base_text == resolved:
                return Problem("输出位置就是资料文件本身，不能覆盖", display_path(target),
                               hint="用 -o 指定另一个 .docx 文件名")
            if is_dir and (resolved == base_text or resolved.startswith(base_text.rstrip(os.sep) + os.sep)):
                return Problem("输出位置在模板包文件夹里，不能覆盖模板包的文件", display_path(target),
                               hint="用 -o 把稿子写到模板包以外的文件夹")
        except (OSError, ValueError):
            continue
    return None


def _folder_problem(target: Path) -> Problem | None:
    """The folder the draft goes into must exist and be writable."""
    folder = target.parent
    if folder.is_dir():
        if os.name == "posix" and not os.access(folder, os.W_OK | os.X_OK):
            return Problem("没有权限在这个文件夹里写文件", display_path(target), hint="用 -o 换一个可以写入的位置")
        return None
    blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        return Problem(f"“{display_path(blocker)}”是一个文件，不是文件夹", display_path(target),
                       hint="检查 -o 的路径是否写对")
    return Problem("输出文件夹不存在", display_path(target), hint=f"请先建立文件夹“{display_path(folder)}”，或换一个已有的文件夹")


def check_target(target: Path, *, force: bool, protected: Iterable[Path | ResolvedPath] = (), suffix: str | None = None) -> str:
    """Refuse a target that may not be written, without touching anything; returns its state.

    Called before any drafting work so that a refusal is immediate; ``guard_target``
    repeats it just before writing.  ``protected`` (the profile, pack folders) can never
    be overwritten, not even with ``force``.
    """
    try:
        return _check_target(target, force=force, protected=protected, suffix=suffix)
    except OSError as exc:  # e.g. a name too long for the file system
        raise OutputError(Problem(f"无法使用这个输出位置：{os_error_text(exc)}", display_path(target),
                                  hint="用 -o 换一个位置或更短的文件名")) from None


def _check_target(target: Path, *, force: bool, protected: Iterable[Path | ResolvedPath], suffix: str | None) -> str:
    try:
        mode: int | None = target.stat().st_mode  # one call for several questions (batches ask thousands)
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    problem = _protected_problem(target, protected, exists=mode is not None)
    if problem is not None:
        raise OutputError(problem)
    if target.suffix.lower() not in DRAFT_SUFFIXES:
        raise OutputError(Problem("输出文件必须以 .docx 或 .md 结尾", display_path(target), hint="例如 -o 述职报告.docx"))
    if suffix is not None and target.suffix.lower() != suffix:
        raise OutputError(Problem(f"输出文件的扩展名应为 {suffix}", display_path(target),
                                  hint=f"例如 -o {target.stem}{suffix}，或用 --format 指定格式"))
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(Problem("输出位置是一个文件夹", display_path(target), hint="用 -o 指定一个 .docx 文件名"))
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputError(Problem("输出位置不是普通文件", display_path(target), hint="用 -o 指定另一个 .docx 文件名"))
    problem = _folder_problem(target)
    if problem is not None:
        raise OutputError(problem)
    state = "absent" if mode is None else existing_state(target)
    if state in ("edited", "foreign") and not force:
        why = "这份稿子生成后已经被修改过" if state == "edited" else "这个文件不是 reportgen 生成的"
        raise OutputError(Problem(f"{why}，为避免丢失内容，没有覆盖它", display_path(target),
                                  hint="用 -o 另存为新文件；或加 --force 覆盖（旧文件会先备份在同一文件夹）"))
    return state


def guard_target(target: Path, *, force: bool, protected: Iterable[Path | ResolvedPath] = (), suffix: str | None = None) -> Path | None:
    """Check that ``target`` may be written; with ``force``, back up what is there.  Returns the backup path."""
    state = check_target(target, force=force, protected=protected, suffix=suffix)
    if state in ("absent", "untouched"):
        return None
    return make_backup(target)


def make_backup(target: Path, *, what: str = "原文件") -> Path:
    """Copy ``target`` to ``名称.备份-日期-时间.扩展名`` beside it (never over an earlier backup)."""
    shown = display_path(target)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = target.with_name(f"{target.stem}.备份-{stamp}{target.suffix}")
    counter = 1
    while backup.exists():
        counter += 1
        backup = target.with_name(f"{target.stem}.备份-{stamp}-{counter}{target.suffix}")
    try:
        shutil.copy2(target, backup)
    except OSError as exc:
        with contextlib.suppress(OSError):
            backup.unlink()
        raise OutputError(Problem(f"无法备份{what}：{os_error_text(exc)}", shown,
                                  hint="原文件没有改动；检查磁盘空间和文件夹权限，或用 -o 另存为新文件")) from None
    return backup


def new_file_mode() -> int:
    """The mode a new file gets under the current umask (mkstemp's own is 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def file_mode(target: Path, new_mode: int | None = None) -> int:
    """Keep the mode of the file being replaced; a new file gets ``new_mode`` (default: the umask's)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        return new_file_mode() if new_mode is None else new_mode


def temporary_beside(target: Path) -> tuple[int, str]:
    """A new temporary file ``.<stem>.<random>.tmp`` beside ``target`` (a rerun removes stale ones)."""
    return tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".tmp")


def write_problem(target: Path, exc: OSError) -> Problem:
    """Why a draft could not be written, and what to do."""
    shown = display_path(target)
    if isinstance(exc, PermissionError):
        return Problem("没有权限写入这个位置，或文件正在 Word/WPS 中打开", shown,
                       hint="关闭正在打开这个文件的程序，或用 -o 换一个位置")
    return Problem(f"写入失败：{os_error_text(exc)}", shown, hint="检查磁盘空间和文件夹权限，或用 -o 换一个位置")


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); best effort."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``target``, then rename it into place."""
    problem = _folder_problem(target)
    if problem is not None:
        raise OutputError(problem)
    tmp_name: str | None = None
    try:
        fd, tmp_name = temporary_beside(target)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if os.name == "posix":
            os.chmod(tmp_name, file_mode(target))
        os.replace(tmp_name, target)
        tmp_name = None
        _sync_folder(target.parent)
    except OSError as exc:
        raise OutputError(write_problem(target, exc)) from None
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)

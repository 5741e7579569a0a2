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
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .errors import OutputError, Problem, display_path

__all__ = ["MD_FINGERPRINT", "existing_state", "guard_target", "md_fingerprint", "write_atomically"]

MD_FINGERPRINT = re.compile(r"\n<!-- reportgen:fingerprint=([0-9a-f]{64}) -->\n?$")
DRAFT_SUFFIXES = (".docx", ".md")


def md_fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def existing_state(path: Path) -> str:
    """"absent", "untouched" (an earlier draft as generated), "edited" or "foreign"."""
    if not path.exists():
        return "absent"
    if path.suffix.lower() == ".md":
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return "foreign"
        match = MD_FINGERPRINT.search(text)
        if not match:
            return "foreign"
        return "untouched" if md_fingerprint(text[: match.start()]) == match.group(1) else "edited"
    from .word import read_draft_info

    info = read_draft_info(path)
    if info is None or not info.made_by_reportgen:
        return "foreign"
    return "edited" if info.edited else "untouched"


def guard_target(target: Path, *, force: bool, protected: Iterable[Path] = ()) -> Path | None:
    """Check that ``target`` may be written; with ``force``, back up what is there.  Returns the backup path."""
    shown = display_path(target)
    if target.suffix.lower() not in DRAFT_SUFFIXES:
        raise OutputError(Problem("输出文件必须以 .docx 或 .md 结尾", shown, hint="例如 -o 述职报告.docx"))
    resolved = target.resolve()
    for path in protected:
        try:
            if path.resolve() == resolved or (resolved.is_relative_to(path.resolve()) and path.is_dir()):
                raise OutputError(Problem("输出位置是资料文件或模板包本身，不能覆盖", shown,
                                          hint="用 -o 指定另一个文件名"))
        except OSError:
            continue
    if target.is_dir():
        raise OutputError(Problem("输出位置是一个文件夹", shown, hint="用 -o 指定一个 .docx 文件名"))
    state = existing_state(target)
    if state in ("absent", "untouched"):
        return None
    if not force:
        why = ("这份稿子生成后已经被修改过" if state == "edited" else "这个文件不是 reportgen 生成的")
        raise OutputError(Problem(f"{why}，为避免丢失内容，没有覆盖它", shown,
                                  hint="用 -o 另存为新文件；或加 --force 覆盖（旧文件会先备份在同一文件夹）"))
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = target.with_name(f"{target.stem}.备份-{stamp}{target.suffix}")
    counter = 1
    while backup.exists():
        counter += 1
        backup = target.with_name(f"{target.stem}.备份-{stamp}-{counter}{target.suffix}")
    try:
        shutil.copy2(target, backup)
    except OSError as exc:
        raise OutputError(Problem(f"无法备份原文件：{exc.strerror}", shown)) from None
    return backup


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``target``, then rename it into place."""
    shown = display_path(target)
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(Problem("输出文件夹不存在", shown, hint=f"请先建立文件夹“{display_path(folder)}”"))
    tmp_name: str | None = None
    try:
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{target.stem}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
        tmp_name = None
    except PermissionError:
        raise OutputError(Problem("没有权限写入这个位置，或文件正在 Word/WPS 中打开", shown,
                                  hint="关闭正在打开这个文件的程序，或用 -o 换一个位置")) from None
    except OSError as exc:
        raise OutputError(Problem(f"写入失败：{exc.strerror or exc}", shown,
                                  hint="检查磁盘空间和文件夹权限，或用 -o 换一个位置")) from None
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)

"""Errors shown to the user.

Every user-facing failure is a ``ReportgenError``: the CLI prints it and exits with code 1.  An
error carries one or more ``Problem``s so that validation reports everything it found at once,
each with where it is (file and line, or workbook row and column), the key, and a hint.  A
``Problem`` that is only worth knowing (a fact no item uses, a draft over the length budget) is
returned as a warning instead of raised.
"""

from __future__ import annotations

import errno
import os
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "OutputError",
    "PackError",
    "Problem",
    "ProfileError",
    "ReportgenError",
    "UnsafePackError",
    "display_path",
    "display_width",
    "first_few",
    "os_error_text",
    "pad",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    message: str
    file: str | None = None
    line: int | None = None  # 1-based; a workbook's row
    column: int | None = None  # 1-based
    key: str | None = None  # dotted key path ("facts.study_sessions") or the report's place ("一、（三）")
    hint: str | None = None
    cell: str | None = None  # a workbook cell's column and header: 'D列“中心组集中学习次数”'

    def location(self) -> str:
        if not self.file:
            return ""
        if self.cell is not None:
            row = f" 第{self.line}行" if self.line is not None else ""
            return f"{self.file}{row} {self.cell}"
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def render(self) -> str:
        where = self.location()
        key = f"{self.key} — " if self.key and self.cell is None else ""
        text = f"{where}：{key}{self.message}" if where else f"{key}{self.message}"
        if self.hint:
            text += f"\n    提示：{self.hint}"
        return text

    def sort_key(self) -> tuple[str, int, int]:
        return (self.file or "", self.line or 0, self.column or 0)


class ReportgenError(Exception):
    """Base class of every error caused by the user's input or environment."""

    title = "出错了"

    def __init__(self, problems: Problem | str | Iterable[Problem], *, title: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: tuple[Problem, ...] = tuple(problems)
        if title is not None:
            self.title = title
        super().__init__(self.render())

    def render(self, limit: int | None = None, rest: str = "") -> str:
        """The message; with ``limit``, only the first ``limit`` problems and a line saying how many are
        left out, ending with ``rest`` (what to do about them)."""
        if len(self.problems) == 1 and not self.problems[0].file:
            return self.problems[0].render()
        total = len(self.problems)
        shown = self.problems if limit is None else self.problems[:limit]
        count = f"共 {total} 处" if len(shown) == total else f"共 {total} 处，下面列出前 {len(shown)} 处"
        lines = [f"{self.title}（{count}）："]
        lines += [f"  {p.render()}".replace("\n", "\n  ") for p in shown]
        if len(shown) < total:
            lines.append(f"  ……其余 {total - len(shown)} 处没有列出；{rest}")
        return "\n".join(lines)


class ProfileError(ReportgenError):
    """The profile (资料文件) or a fill-in workbook cannot be read or is invalid."""

    title = "资料文件有问题"


class PackError(ReportgenError):
    """A template pack is missing, invalid or does not match the request."""

    title = "模板包有问题"


class UnsafePackError(PackError):
    """A template pack (or a workbook, or a Word file) tried something it must never do."""

    title = "模板包不安全，已拒绝"


class OutputError(ReportgenError):
    """The file cannot be written where asked, or writing would lose the user's work."""

    title = "无法写出文件"


def display_path(path: str | Path) -> str:
    """A path as the user typed it, or relative to the working directory when it lies below it."""
    text = os.fspath(path)
    if not os.path.isabs(text):
        return str(Path(text))
    try:
        return str(Path(text).relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(Path(text))


_OS_REASONS = {
    errno.ENOSPC: "磁盘空间不足",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.ENAMETOOLONG: "文件名或路径太长",
    errno.EROFS: "磁盘是只读的",
    errno.ENOENT: "文件或文件夹不存在",
    errno.ENOTDIR: "路径中有一段不是文件夹",
    errno.EISDIR: "这是一个文件夹",
    errno.ELOOP: "快捷方式（符号链接）循环引用",
    errno.EIO: "磁盘读写出错",
    errno.EBUSY: "文件正被其他程序占用",
    getattr(errno, "EDQUOT", -1): "超出磁盘配额",
}


def os_error_text(exc: OSError) -> str:
    """An operating-system error in Chinese, keeping the system's own words for whoever helps the user."""
    reason = _OS_REASONS.get(exc.errno or 0, "操作系统报告了错误")
    original = exc.strerror or str(exc)
    return f"{reason}（{original}）"


def display_width(text: str) -> int:
    """Columns a string takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def first_few(items: Sequence[str], count: int = 5) -> str:
    """“甲、乙、丙等”: the first ``count`` items, and 等 when there are more."""
    return "、".join(items[:count]) + ("等" if len(items) > count else "")


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` terminal columns (on the left when ``right``)."""
    space = " " * max(0, width - display_width(text))
    return space + text if right else text + space

"""Reading a user's text file the way Windows saves it: bounded in size, any of the usual encodings."""

from __future__ import annotations

import re
import stat
from collections.abc import Sequence
from pathlib import Path

from ..errors import Problem, ProfileError, display_path, os_error_text

__all__ = ["INVISIBLE", "MAX_FILE_BYTES", "PROFILE_SUFFIXES", "XML_INVALID", "decode_text", "folder_files", "profile_files", "read_bytes",
           "read_text"]

PROFILE_SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 1024 * 1024  # a real profile is a few KB; refuse anything this big unread

# Characters XML 1.0 forbids (Word puts some in copied text) and lone surrogates (which UTF-8 cannot
# encode): never part of a document.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
# Invisible characters text pasted from Word or a web page carries: zero-width spaces and joiners, a
# stray BOM, and the line and paragraph separators (YAML would take them for line breaks).
INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u2028\u2029\x85]")


def folder_files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """The files in ``folder`` (not below it) whose names end in one of ``suffixes`` (any case), sorted."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in suffixes and p.is_file())


def profile_files(inputs: Sequence[Path]) -> list[Path]:
    """The profiles given: each folder's .yaml files, each file as it is."""
    found: list[Path] = []
    for given in inputs:
        found += folder_files(given, PROFILE_SUFFIXES) if given.is_dir() else [given]
    return found


def decode_text(raw: bytes, file: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (WPS and Notepad on Chinese Windows)."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if raw.startswith(bom):
            try:
                return raw[len(bom):].decode(codec)
            except UnicodeDecodeError as exc:
                raise _encoding_error(raw, exc, file) from None
    if b"\x00" in raw:
        raise ProfileError(Problem("这不是文本文件（含有二进制内容）", file,
                                   hint="资料文件应是用记事本或 WPS 保存的 .yaml 文本"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            raise _encoding_error(raw, utf8_error, file) from None


def _encoding_error(raw: bytes, exc: UnicodeDecodeError, file: str) -> ProfileError:
    line = raw[: exc.start].count(b"\n") + 1
    return ProfileError(Problem("无法识别文件的文字编码（既不是 UTF-8，也不是 GB18030）", file, line,
                                hint="请用记事本“另存为”，编码选择 UTF-8"))


def read_bytes(path: Path, *, what: str, limit: int = MAX_FILE_BYTES, hint: str | None = None) -> bytes:
    """A regular file's bytes, never more than ``limit``: a folder, a device or an oversized file is refused."""
    shown = display_path(path)

    def too_big(size: str) -> ProfileError:
        return ProfileError(Problem(f"文件太大{size}，不像是{what}", shown,
                                    hint=hint or f"{what}一般只有几 KB；上限是 {limit // 1024} KB"))

    try:
        try:
            info = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ProfileError(Problem(f"找不到{what}", shown, hint="请检查路径和文件名是否写对")) from None
        if stat.S_ISDIR(info.st_mode):
            raise ProfileError(Problem(f"这是一个文件夹，不是{what}", shown, hint="请指定文件夹里的文件"))
        if not stat.S_ISREG(info.st_mode):  # a device or a pipe: reading it may never end
            raise ProfileError(Problem(f"这不是普通文件，不能作为{what}", shown, hint="请指定一个普通文件"))
        if info.st_size > limit:
            raise too_big(f"（{-(-info.st_size // 1024)} KB）")  # rounded up: never “1024 KB, limit 1024 KB”
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)  # never more, even if the file grows meanwhile
    except OSError as exc:
        raise ProfileError(Problem(f"无法读取文件：{os_error_text(exc)}", shown)) from None
    if len(raw) > limit:
        raise too_big("")
    return raw


def read_text(path: Path, *, what: str = "资料文件") -> str:
    """A text file's content, decoded, with characters XML forbids removed."""
    text = decode_text(read_bytes(path, what=what), display_path(path)).removeprefix("\ufeff")
    return XML_INVALID.sub("", text)

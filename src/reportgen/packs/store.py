"""The user's pack store: copying a pack to adapt (new), zipping one to hand out (export), installing one.

Everything treats a pack as untrusted data: no symlinks, no paths leaving the pack, bounded file
counts and sizes, only the kinds of files a pack needs.  An install is unpacked into a staging
folder inside the store, checked by the caller's full ``packs check``, and renamed into place only
after it passed, so a refused install leaves the store as it was; a killed install's leftovers are
cleared by the next one.  Installs take turns on a lock in the store.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from ..errors import (
    OutputError,
    PackError,
    Problem,
    ReportgenError,
    UnsafePackError,
    display_path,
    os_error_text,
)
from ..ooxml import FIXED_TIME
from .lookup import user_packs_dir
from .manifest import MANIFEST, NAME_RE, Pack, load_pack
from .safety import MAX_PACK_BYTES, MAX_PACK_FILES, is_junk, walk_pack

__all__ = ["InstallResult", "edit_top_level", "export_files", "install_pack", "new_pack_folder", "zip_pack"]

NEW_VERSION = "0.1.0"
STAGING_PREFIX = ".installing-"
STORE_LOCK = ".lock"
_CHUNK = 64 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


def edit_top_level(text: str, changes: dict[str, str]) -> tuple[str, bool]:
    """Top-level ``key: value`` lines of a YAML text changed in place, comments kept."""
    done = True
    for key, value in changes.items():
        pattern = re.compile(rf"^({re.escape(key)}[ \t]*:[ \t]*)([^#\r\n]*?)([ \t]*(?:#[^\r\n]*)?)(\r?)$", re.MULTILINE)

        def replaced(match: re.Match[str], value: str = value) -> str:
            return f"{match.group(1)}{value}{match.group(3)}{match.group(4)}"

        text, count = pattern.subn(replaced, text, count=1)
        done = done and count == 1
    return text, done


def new_pack_folder(target: Path, source: Pack) -> Path:
    """``packs new DIR --from NAME``: a copy of ``source`` named after DIR, version 0.1.0."""
    shown = display_path(target)
    name = target.resolve().name.lower()
    if not NAME_RE.match(name):
        raise PackError(Problem(f"文件夹名“{target.resolve().name}”不能用作模板包名称", shown,
                                hint="新模板包的名称取自文件夹名，只能用小写字母、数字、- 和 _，如 my-jiguan"))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OutputError(Problem("这个位置已经有文件了，没有覆盖", shown, hint="换一个还不存在的（或空的）文件夹名"))
    if not target.parent.is_dir():
        raise OutputError(Problem("上一级文件夹不存在", shown, hint=f"请先建立文件夹“{display_path(target.parent)}”"))
    tree = walk_pack(source.root, source.name)
    if tree.problems:
        raise UnsafePackError(tree.problems)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.new-", dir=target.parent))
    try:
        for rel, path in export_files(source, tree.files):
            destination = staging.joinpath(*rel.split("/"))
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
        manifest = staging / MANIFEST
        text, done = edit_top_level(manifest.read_text(encoding="utf-8-sig"), {"name": name, "version": NEW_VERSION})
        if not done:
            raise PackError(Problem("无法在 pack.yaml 里改写 name 和 version", display_path(source.root / MANIFEST),
                                    hint="pack.yaml 里的 name: 和 version: 应各占一行、顶格书写"))
        manifest.write_text(text, encoding="utf-8")
        if source.example_profile and (staging / source.example_profile).is_file():
            example = staging / source.example_profile
            example.write_text(edit_top_level(example.read_text(encoding="utf-8-sig"), {"pack": name})[0], encoding="utf-8")
        if target.exists():
            target.rmdir()
        os.rename(staging, target)
    except OSError as exc:
        raise OutputError(Problem(f"无法建立模板包：{os_error_text(exc)}", shown)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def export_files(pack: Pack, files: Iterable[tuple[str, Path]]) -> list[tuple[str, Path]]:
    """The files a pack needs: its manifest, the files it names, prose, the Word template, notes.

    Drafts, summaries and temporaries that ended up in the folder are never shipped.
    """
    needed = {MANIFEST, pack.word_template, pack.example_profile or ""}
    return [(rel, path) for rel, path in files
            if rel in needed or (rel.startswith(("prose/", "word/")) and rel.lower().endswith((".yaml", ".yml", ".docx", ".dotx")))
            or ("/" not in rel and rel.lower().endswith((".md", ".txt")))]


def zip_pack(prefix: str, files: Iterable[tuple[str, Path]]) -> bytes:
    """A deterministic zip: sorted entries, fixed times and permissions."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel, path in sorted(files):
            info = zipfile.ZipInfo(f"{prefix}/{rel}", FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


@dataclass(frozen=True)
class InstallResult:
    pack: Pack
    previous: str | None  # the version that was replaced, if any
    notes: tuple[str, ...]


def install_pack(source: Path, *, force: bool, check: Callable[[Path, str], tuple[Pack, tuple[str, ...]]]) -> InstallResult:
    """``packs install FILE.zip|DIR``: stage, ``check`` fully, then rename into the store."""
    shown = display_path(source)
    if not source.exists():
        raise PackError(Problem("找不到要安装的模板包", shown, hint="请给出模板包的 .zip 文件或文件夹"))
    is_dir = source.is_dir()
    if is_dir and not (source / MANIFEST).is_file():
        raise PackError(Problem("这个文件夹里没有 pack.yaml，不是模板包", shown))
    if not is_dir and not zipfile.is_zipfile(source):
        raise PackError(Problem("这不是 .zip 压缩包，也不是模板包文件夹", shown, hint="模板包用 reportgen packs export 导出为 .zip 后发放"))
    store = user_packs_dir()
    with _staging(store) as staging:
        unpacked = staging / "pack"
        unpacked.mkdir()
        if is_dir:
            _copy_folder(source, unpacked, shown)
        else:
            _extract_zip(source, unpacked, shown)
        try:
            pack, notes = check(unpacked, shown)
        except ReportgenError as exc:  # name the user's files, not the staging folder that is about to go
            raise type(exc)([_unstaged(problem, unpacked, shown) for problem in exc.problems], title=exc.title) from None
        target = store / pack.name
        previous = _installed_version(target)
        if previous == pack.version and not force:
            raise PackError(Problem(f"模板包 {pack.name} {pack.version} 已经安装过了，没有重复安装",
                                    hint="如要用这个文件覆盖已安装的同一版本，请加 --force"))
        old = staging / "old"
        if target.exists() or target.is_symlink():
            os.rename(target, old)
        try:
            os.rename(unpacked, target)
        except OSError:
            if old.exists() or old.is_symlink():
                os.rename(old, target)
            raise
    return InstallResult(load_pack(target, "user"), previous, notes)


def _unstaged(problem: Problem, staged: Path, shown: str) -> Problem:
    staged_shown = display_path(staged)
    if problem.file and problem.file.startswith(staged_shown):
        return replace(problem, file=shown + problem.file[len(staged_shown):])
    return problem


def _installed_version(target: Path) -> str | None:
    if not (target / MANIFEST).is_file():
        return None
    try:
        return load_pack(target, "user").version
    except PackError:
        return None


@contextlib.contextmanager
def _staging(store: Path) -> Iterator[Path]:
    """A temporary folder inside the store, removed afterwards, with any folder this created.

    Holding the store's lock, the staging folders of earlier installs that were killed are removed
    first: while the lock is ours, no other install is running.
    """
    created: list[Path] = []
    probe = store
    while not probe.exists():
        created.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    lock: IO[bytes] | None = None
    try:
        store.mkdir(parents=True, exist_ok=True)
        lock = _lock_store(store)
        for leftover in store.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(leftover, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=store))
    except OSError as exc:
        _unlock_store(lock, store, remove=bool(created))
        _remove_empty(created)
        raise OutputError(Problem(f"无法写入模板包仓库：{os_error_text(exc)}", display_path(store),
                                  hint="可以用环境变量 REPORTGEN_HOME 指定另一个位置")) from None
    succeeded = False
    try:
        yield staging
        succeeded = True
    except OSError as exc:
        raise OutputError(Problem(f"安装失败：{os_error_text(exc)}", display_path(store))) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        _unlock_store(lock, store, remove=not succeeded and bool(created))
        if not succeeded:
            _remove_empty(created)


def _lock_store(store: Path) -> IO[bytes]:
    """Wait for, then hold, the store's lock: two installs at once would swap the same folders."""
    handle = open(store / STORE_LOCK, "a+b")  # noqa: SIM115  # held until _unlock_store
    try:
        if os.name == "nt":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined,unused-ignore]
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    except OSError:
        handle.close()
        raise
    return handle


def _unlock_store(lock: IO[bytes] | None, store: Path, *, remove: bool) -> None:
    if lock is not None:
        lock.close()
    if remove:
        with contextlib.suppress(OSError):
            (store / STORE_LOCK).unlink()


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first
        with contextlib.suppress(OSError):
            folder.rmdir()


def _copy_folder(source: Path, destination: Path, shown: str) -> None:
    tree = walk_pack(source, shown)
    if tree.problems:
        raise UnsafePackError(tree.problems)
    total = 0
    for rel, path in tree.files:
        target = destination.joinpath(*rel.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        with path.open("rb") as src, target.open("xb") as out:
            total = _copy_limited(src, out, total, None, shown)


def _copy_limited(src: IO[bytes], out: IO[bytes], total: int, declared: int | None, shown: str) -> int:
    """Copy in chunks, counting: the real size may exceed what a header or a stat said."""
    written = 0
    while chunk := src.read(_CHUNK):
        written += len(chunk)
        total += len(chunk)
        if total > MAX_PACK_BYTES:
            raise UnsafePackError(Problem(f"模板包解压后超过 {MAX_PACK_BYTES // (1024 * 1024)} MB，可能是“压缩炸弹”", shown,
                                          hint="正常的模板包只有几百 KB；请向发放单位核实"))
        if declared is not None and written > declared:
            raise UnsafePackError(Problem("压缩包里的文件比声明的大，可能是“压缩炸弹”", shown, hint="请向发放单位核实这个文件"))
        out.write(chunk)
    return total


def _entry_parts(name: str) -> list[str] | None:
    """The path parts of a zip entry, or None when the entry would land outside the pack."""
    normal = name.replace("\\", "/")
    if normal.startswith("/") or _DRIVE.match(normal) or "\x00" in normal:
        return None
    parts = [p for p in normal.split("/") if p not in ("", ".")]
    if any(p == ".." or ":" in p for p in parts):
        return None
    return parts


def _extract_zip(source: Path, destination: Path, shown: str) -> None:
    """Check every entry of a pack zip, then extract it counting bytes; any doubt refuses the whole zip."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as exc:
        raise PackError(Problem(f"压缩包无法打开（{os_error_text(exc) if isinstance(exc, OSError) else '格式不对'}）", shown)) from None
    with archive:
        problems: list[Problem] = []
        entries: list[tuple[zipfile.ZipInfo, list[str]]] = []
        seen: set[str] = set()
        for info in archive.infolist():
            parts = _entry_parts(info.filename)
            if parts is None:
                problems.append(Problem(f"压缩包里有指向包外的路径“{info.filename}”", shown,
                                        hint="模板包里的文件只能放在包内；这个压缩包可能被人恶意修改过，请勿使用"))
                continue
            if any(is_junk(p) for p in parts):
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                problems.append(Problem(f"压缩包里有符号链接“{info.filename}”", shown, hint="模板包里只能有普通文件和文件夹"))
                continue
            if info.is_dir() or not parts:
                continue
            if mode and stat.S_IFMT(mode) and not stat.S_ISREG(mode):
                problems.append(Problem(f"压缩包里有特殊文件“{info.filename}”", shown))
                continue
            if info.flag_bits & 0x1:
                problems.append(Problem(f"压缩包里的文件“{info.filename}”加了密码", shown, hint="请发放不加密的压缩包"))
                continue
            key = "/".join(parts).lower()
            if key in seen:
                problems.append(Problem(f"压缩包里有重名的文件“{info.filename}”", shown))
                continue
            seen.add(key)
            entries.append((info, parts))
        if len(entries) > MAX_PACK_FILES:
            problems.append(Problem(f"模板包里的文件超过 {MAX_PACK_FILES} 个，可能是“压缩炸弹”", shown))
        if sum(info.file_size for info, _ in entries) > MAX_PACK_BYTES:
            problems.append(Problem(f"模板包解压后超过 {MAX_PACK_BYTES // (1024 * 1024)} MB，可能是“压缩炸弹”", shown))
        if problems:
            raise UnsafePackError(problems)
        strip = _manifest_depth(entries, shown)
        total = 0
        try:
            for info, parts in entries:
                rel = parts[strip:]
                if not rel:
                    continue
                target = destination.joinpath(*rel)
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, target.open("xb") as out:
                    total = _copy_limited(src, out, total, info.file_size, shown)
        except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, ValueError, zlib.error):
            raise PackError(Problem("压缩包已损坏或格式不受支持", shown, hint="请让发放单位用 reportgen packs export 重新导出")) from None
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            raise UnsafePackError(Problem("压缩包里有重名的文件或文件夹", shown)) from None


def _manifest_depth(entries: list[tuple[zipfile.ZipInfo, list[str]]], shown: str) -> int:
    """0 when pack.yaml is at the zip's top, 1 when everything sits in one folder holding it."""
    paths = [parts for _, parts in entries]
    if [MANIFEST] in paths:
        return 0
    tops = {parts[0] for parts in paths}
    if len(tops) == 1 and [next(iter(tops)), MANIFEST] in paths:
        return 1
    raise PackError(Problem("压缩包里没有 pack.yaml，不是模板包", shown, hint="模板包压缩包应包含 pack.yaml（可以放在一个文件夹里）"))

"""Every file reportgen writes goes through here, so nothing a user has is lost or half written.

- A target inside a template pack (any folder holding a pack.yaml, the built-in packs, the user's
  store) or equal to an input file is refused, even with ``--force``.
- An existing target is replaced only when it is an untouched earlier output: its content still
  matches the fingerprint reportgen recorded over every part a user can change.  An edited file, or
  one reportgen did not make, is refused unless ``--force``, which first keeps it as a dated backup.
  Reading an existing file back is bounded (``ooxml.read_package``): a foreign zip bomb is "foreign".
- The data goes to a temporary file beside the target (named ``.reportgen-<pid>-….tmp``, so whose it
  is can be told), then is renamed over it.
- A batch holds a lock on its output folder; a second one is told who holds it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import errno
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import OutputError, Problem, display_path, os_error_text
from ..ooxml import (
    CUSTOM_PROPS,
    FINGERPRINT_PROPERTY,
    PackageLimits,
    PackageProblem,
    fingerprint,
    read_package,
)
from ..ooxml import read_custom_properties as _custom
from ..packs.lookup import builtin_packs_dir, user_packs_dir
from ..packs.manifest import MANIFEST
from ..render.markdown import MD_FINGERPRINT, md_fingerprint

__all__ = ["Guard", "State", "folder_lock", "remove_orphaned_temporaries", "state_of", "write_atomically"]

READ_BACK = PackageLimits(entries=1000, total_bytes=64 * 1024 * 1024)
TEMP_PREFIX = ".reportgen-"
_TEMP_NAME = re.compile(r"^\.reportgen-(\d+)-[A-Za-z0-9_]+\.tmp$")
LOCK_NAME = ".reportgen.lock"


class State(enum.Enum):
    ABSENT = "absent"
    UNTOUCHED = "untouched"  # an earlier output, as written
    EDITED = "edited"  # an earlier output, changed since
    FOREIGN = "foreign"  # not made by reportgen (or unreadable)
    EXISTS = "exists"  # a file of a kind that carries no fingerprint (a profile, a zip): never replaced unasked


def state_of(path: Path) -> State:
    """What is at ``path`` now."""
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return State.ABSENT
    if not stat.S_ISREG(info.st_mode):
        return State.FOREIGN
    suffix = path.suffix.lower()
    if suffix == ".md":
        if info.st_size > READ_BACK.total_bytes:
            return State.FOREIGN
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return State.FOREIGN
        match = MD_FINGERPRINT.search(text)
        if not match:
            return State.FOREIGN
        return State.UNTOUCHED if md_fingerprint(text[: match.start()]) == match.group(1) else State.EDITED
    if suffix in (".docx", ".xlsx"):
        try:
            package = read_package(path, READ_BACK)
        except (PackageProblem, OSError):
            return State.FOREIGN
        recorded = _custom(package.parts.get(CUSTOM_PROPS, b"")).get(FINGERPRINT_PROPERTY)
        if recorded is None:
            return State.FOREIGN
        return State.UNTOUCHED if fingerprint(package.parts) == recorded else State.EDITED
    return State.EXISTS


@dataclass(frozen=True)
class Guard:
    """What may be written where: input files and pack folders (``in_pack_folder``) never; other files as
    ``State`` allows."""

    inputs: tuple[Path, ...] = ()  # files read for this output (the profile): never overwritten

    def problem(self, target: Path, suffixes: tuple[str, ...], what: str) -> Problem | None:
        """Why ``target`` can never be written (whatever ``--force`` says), if it cannot."""
        shown = display_path(target)
        try:
            resolved = target.resolve()
        except (OSError, ValueError) as exc:
            return Problem(f"无法使用这个输出位置：{exc}", shown, hint="换一个位置或更短的文件名")
        for path in self.inputs:
            with contextlib.suppress(OSError, ValueError):
                if path.resolve() == resolved:
                    return Problem("输出位置就是输入的文件本身，不能覆盖", shown, hint="用 -o 指定另一个文件名")
        if in_pack_folder(resolved.parent):  # any pack in use has its pack.yaml: no list of packs is needed
            return Problem("输出位置在模板包文件夹里，不能在模板包里写文件", shown, hint="用 -o 把文件写到模板包以外的文件夹")
        if target.suffix.lower() not in suffixes:
            return Problem(f"{what}应以 {' 或 '.join(suffixes)} 结尾", shown, hint=f"例如 -o {target.stem or '输出'}{suffixes[0]}")
        with contextlib.suppress(OSError):
            if target.is_dir():
                return Problem("输出位置是一个文件夹", shown, hint=f"用 -o 指定一个 {suffixes[0]} 文件名")
        folder = target.parent
        if not folder.is_dir():
            blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
            if blocker is not None and not blocker.is_dir():
                return Problem(f"“{display_path(blocker)}”是一个文件，不是文件夹", shown, hint="检查 -o 的路径是否写对")
            return Problem("输出文件夹不存在", shown, hint=f"请先建立文件夹“{display_path(folder)}”，或换一个已有的文件夹")
        if os.name == "posix" and not os.access(folder, os.W_OK | os.X_OK):
            return Problem("没有权限在这个文件夹里写文件", shown, hint="用 -o 换一个可以写入的位置")
        return None

    def check(self, target: Path, *, force: bool, suffixes: tuple[str, ...], what: str = "输出文件",
              hint: str = "用 -o 另存为新文件；或加 --force 覆盖（旧文件会先备份在同一文件夹）") -> State:
        """Refuse a target that may not be written, touching nothing; its state otherwise."""
        problem = self.problem(target, suffixes, what)
        if problem is not None:
            raise OutputError(problem)
        state = state_of(target)
        if state in (State.EDITED, State.FOREIGN, State.EXISTS) and not force:
            why = {State.EDITED: "这个文件生成后已经被修改过", State.FOREIGN: "这个文件不是 reportgen 生成的",
                   State.EXISTS: "这个文件已经存在"}[state]
            raise OutputError(Problem(f"{why}，为避免丢失内容，没有覆盖它", display_path(target), hint=hint))
        return state

    def write(self, target: Path, data: bytes, *, force: bool, suffixes: tuple[str, ...], what: str = "输出文件",
              hint: str = "用 -o 另存为新文件；或加 --force 覆盖（旧文件会先备份在同一文件夹）",
              tidy: bool = True) -> Path | None:
        """Check, back up what ``--force`` replaces, write atomically; returns the backup's path.
        ``tidy``: first remove temporaries a killed reportgen left there (a batch does it once per folder)."""
        state = self.check(target, force=force, suffixes=suffixes, what=what, hint=hint)
        if tidy:
            remove_orphaned_temporaries([target.parent])
        backup = make_backup(target) if state in (State.EDITED, State.FOREIGN, State.EXISTS) else None
        write_atomically(target, data)
        return backup


def make_backup(target: Path) -> Path:
    """Copy ``target`` to ``名称.备份-日期-时间.扩展名`` beside it (never over an earlier backup)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = target.with_name(f"{target.stem}.备份-{stamp}{target.suffix}")
    counter = 1
    while True:
        created = False
        try:  # created exclusively: never over an earlier backup, nor through a link planted under its name
            with target.open("rb") as source, backup.open("xb") as copy:
                created = True
                shutil.copyfileobj(source, copy)
            shutil.copystat(target, backup)
            break
        except FileExistsError:
            counter += 1
            backup = target.with_name(f"{target.stem}.备份-{stamp}-{counter}{target.suffix}")
        except OSError as exc:
            if created:
                with contextlib.suppress(OSError):
                    backup.unlink()
            raise OutputError(Problem(f"无法备份原文件：{os_error_text(exc)}", display_path(target),
                                      hint="原文件没有改动；检查磁盘空间和文件夹权限，或用 -o 另存为新文件")) from None
    return backup


def _new_file_mode(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o777  # keep the mode of the file being replaced
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def write_problem(target: Path, exc: OSError) -> Problem:
    shown = display_path(target)
    if isinstance(exc, PermissionError):
        return Problem("没有权限写入这个位置，或文件正在 Word/WPS 中打开", shown, hint="关闭正在打开这个文件的程序，或用 -o 换一个位置")
    return Problem(f"写入失败：{os_error_text(exc)}", shown, hint="检查磁盘空间和文件夹权限，或用 -o 换一个位置")


def write_atomically(target: Path, data: bytes) -> None:
    """``data`` into a temporary file beside ``target``, renamed over it: never a half-written file.

    The data is not fsync'ed: a kill (even kill -9) cannot lose what the kernel already holds, and a
    draft is remade from its profile in a second; syncing every draft cost a batch of 2,000 about
    three times its time on the machine measured (README, "性能").
    """
    temporary: str | None = None
    try:
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if os.name == "posix":
            os.chmod(temporary, _new_file_mode(target))
        os.replace(temporary, target)
        temporary = None
    except OSError as exc:
        raise OutputError(write_problem(target, exc)) from None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_orphaned_temporaries(folders: Iterable[Path]) -> None:
    """Remove temporaries a killed reportgen left: only files named exactly as ``write_atomically``
    names them, whose process no longer runs.  Nothing else is ever deleted."""
    if os.name != "posix":
        return  # process ids cannot be probed the same way; leftovers are hidden and harmless
    for folder in set(folders):
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                match = _TEMP_NAME.match(entry.name)
                if match and entry.is_file(follow_symlinks=False) and not process_alive(int(match.group(1))):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


def in_pack_folder(folder: Path) -> bool:
    """Whether ``folder`` is a template pack's, or inside one: a pack.yaml there or above, or a pack store."""
    try:
        resolved = folder.resolve()
    except (OSError, ValueError):
        return False
    stores = [builtin_packs_dir(), user_packs_dir()]
    return any(resolved.is_relative_to(store.resolve()) for store in stores) or any(
        (parent / MANIFEST).is_file() for parent in (resolved, *resolved.parents))


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s lock while writing into it: a second reportgen is told who holds it.

    The lock file is removed afterwards, so none is left in the user's folder.  Because of that a lock
    is only ours if the file we locked is still the one at the path (another run may have just removed it).
    """
    path = folder / LOCK_NAME
    while True:
        handle = _open_lock(path)
        try:
            _lock(handle)
        except OSError:
            handle.seek(0)
            holder = handle.read(200).decode("utf-8", "replace").strip() or "另一个 reportgen"
            handle.close()
            raise OutputError(Problem(f"这个文件夹正在被另一个 reportgen 写入（{holder}）", display_path(folder),
                                      hint="等它结束后再运行，或用 -o 换一个输出文件夹")) from None
        try:
            current = os.stat(path).st_ino
        except OSError:
            current = None
        if os.name == "nt" or current == os.fstat(handle.fileno()).st_ino:
            break
        handle.close()  # removed by the run that held it just now: lock the new file instead
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"进程 {os.getpid()}，开始于 {dt.datetime.now():%Y-%m-%d %H:%M:%S}".encode())
        handle.flush()
        yield
    finally:
        if os.name != "nt":
            with contextlib.suppress(OSError):
                path.unlink()  # while still locked: a run waiting on this file sees it is gone
        handle.close()
        if os.name == "nt":
            with contextlib.suppress(OSError):
                path.unlink()


def _open_lock(path: Path) -> IO[bytes]:
    """The lock file, never through a link planted in its place (that would overwrite another file)."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(Problem("锁文件是一个链接，不是 reportgen 建立的", display_path(path),
                                      hint="删除这个文件后再运行")) from None
        raise OutputError(write_problem(path, exc)) from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
        os.close(descriptor)
        raise OutputError(Problem("锁文件不是普通文件（或者是另一个文件的硬链接），不是 reportgen 建立的", display_path(path),
                                  hint="删除这个文件后再运行"))
    return os.fdopen(descriptor, "r+b")


def _lock(handle: IO[bytes]) -> None:
    if os.name == "nt":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

"""Batch builds: many profiles -> one draft each, plus ``汇总.xlsx`` for the committee.

Every profile is attempted; a bad one is reported and the others are written.  Within a
process a pack is resolved once per (request, profile folder) and its templates are
compiled once (``core.draft_maker``); ``jobs`` > 1 spreads the profiles over worker
processes, which return small result records only, so memory stays flat however many
profiles there are.  Each draft is written to a temporary file and renamed into place,
so a batch killed part-way leaves complete drafts only, and running it again finishes
the rest (untouched earlier drafts are simply replaced).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import (
    OutputError,
    Problem,
    ProfileError,
    ReportgenError,
    display_path,
    display_width,
    os_error_text,
    pad,
)
from .output import ResolvedPath, file_mode, new_file_mode, temporary_beside, write_problem

if TYPE_CHECKING:
    from .pack import Pack

__all__ = ["SUMMARY_NAME", "BatchItem", "BatchReport", "build_many", "plan_batch", "print_batch_report",
           "summary_state", "write_summary"]

SUMMARY_NAME = "汇总.xlsx"
PROFILE_SUFFIXES = (".yaml", ".yml")
# What the summary's fingerprint covers.  reportgen writes inline strings, no sharedStrings.xml (Excel does when
# it saves), but the name stays: it is part of the fingerprints of summaries written so far.
SUMMARY_PARTS = ("xl/worksheets/sheet1.xml", "xl/sharedStrings.xml")
_FINGERPRINT_NAME = "reportgen.fingerprint"
_FINGERPRINT_SLOT = "0" * 64


# ---------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class BatchTask:
    """One profile to build; plain strings so it pickles cheaply to a worker."""

    index: int
    profile: str
    target: str


@dataclass(frozen=True, slots=True)
class BatchItem:
    """What became of one profile: small, so thousands of them cost nothing."""

    index: int
    profile_file: str  # paths as text: thousands of records stay small
    output_file: str | None = None  # the draft written; None when it failed
    unit: str | None = None
    name: str | None = None
    position: str | None = None
    year: int | None = None
    han_count: int = 0
    missing: int = 0
    facts: tuple[tuple[str, object], ...] = ()  # (summary column header, value) of the pack's `summary` facts
    error: str | None = None  # the full message
    brief: str | None = None  # its first line, for the table and the summary
    backup: Path | None = None
    created: str | None = None  # the draft's fixed creation time (from the profile)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def profile(self) -> Path:
        return Path(self.profile_file)

    @property
    def output(self) -> Path | None:
        return None if self.output_file is None else Path(self.output_file)


@dataclass(frozen=True)
class BatchReport:
    items: tuple[BatchItem, ...]
    output_dir: Path
    summary: Path | None  # 汇总.xlsx, when it was written
    summary_error: str | None = None
    summary_backup: Path | None = None

    @property
    def failed_items(self) -> tuple[BatchItem, ...]:
        return tuple(item for item in self.items if not item.ok)

    @property
    def failed(self) -> int:
        """How many things went wrong (profiles, and the summary); 0 means exit code 0."""
        return len(self.failed_items) + (1 if self.summary_error else 0)


# ---------------------------------------------------------------- planning


@dataclass(frozen=True)
class BatchPlan:
    tasks: tuple[BatchTask, ...]
    problems: tuple[BatchItem, ...]  # inputs that are not there
    output_dir: Path  # where 汇总.xlsx goes (and the drafts, when -o was given)


def _expand(inputs: Sequence[Path]) -> list[tuple[Path, str | None]]:
    """In the order given: each profile named or found (non-recursively, sorted) in a folder, with None;
    or an input that cannot be used, with the reason."""
    entries: list[tuple[Path, str | None]] = []
    seen: set[str] = set()
    cwd = os.getcwd()

    def add(path: Path) -> None:
        key = os.path.normcase(os.path.normpath(os.path.join(cwd, path)))  # the same file named twice is built once
        if key not in seen:
            seen.add(key)
            entries.append((path, None))

    for given in inputs:
        if given.is_dir():
            try:
                with os.scandir(given) as listing:  # file types come with the listing: no stat per file
                    found = sorted((given / entry.name for entry in listing
                                    if entry.name.lower().endswith(PROFILE_SUFFIXES) and not entry.name.startswith(".")
                                    and entry.is_file()), key=lambda p: p.name)
            except OSError as exc:
                entries.append((given, f"无法读取文件夹：{os_error_text(exc)}"))
                continue
            for path in found:
                add(path)
        elif given.exists():
            add(given)
        else:
            entries.append((given, "找不到这个资料文件或文件夹"))
    return entries


def _output_dir(output: Path | None, inputs: Sequence[Path], profiles: Sequence[Path]) -> Path:
    if output is not None:
        if output.exists() and not output.is_dir():
            raise OutputError(Problem("批量生成时 -o 应指定一个文件夹，这里却是一个文件", display_path(output),
                                      hint="例如 -o 述职报告初稿"))
        if not output.exists() and output.suffix.lower() in (".docx", ".md", ".xlsx"):
            raise OutputError(Problem("批量生成时 -o 应指定一个文件夹（稿子和汇总表都放在里面）", display_path(output),
                                      hint=f"例如 -o {output.stem}"))
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(Problem(f"无法建立输出文件夹：{os_error_text(exc)}", display_path(output),
                                      hint="检查路径和权限，或用 -o 换一个位置")) from None
        return output
    # No -o: drafts go beside their profiles (as for one profile); the summary into the folder given,
    # or the folder the profiles have in common.
    folders = [p for p in inputs if p.is_dir()]
    if len(folders) == 1 and len(inputs) == 1:
        return folders[0]
    parents = [str(p.parent.resolve()) for p in profiles] or [str(Path.cwd())]
    try:
        return Path(os.path.commonpath(parents))
    except ValueError:  # different drives on Windows
        return profiles[0].parent if profiles else Path.cwd()


def _targets(profiles: Sequence[Path], output: Path | None, fmt: str) -> list[str]:
    """One output path per profile; equal names (e.g. same stem in two folders) never share a file."""
    def key(folder: str, name: str) -> str:
        return os.path.normcase(os.path.join(folder, name)).casefold()  # Windows and macOS ignore case

    # Plain strings, not Path objects: this runs for every profile of a batch before any work starts.
    folders = [str(output if output is not None else path.parent) for path in profiles]
    counts = Counter(key(folder, f"{path.stem}.{fmt}") for path, folder in zip(profiles, folders, strict=True))
    used: set[str] = set()
    result: list[str] = []
    for path, folder in zip(profiles, folders, strict=True):
        base = path.stem
        if counts[key(folder, f"{base}.{fmt}")] > 1:
            parent = path.resolve().parent.name
            base = f"{parent}-{path.stem}" if parent else path.stem
        name, n = base, 1
        while key(folder, f"{name}.{fmt}") in used:
            n += 1
            name = f"{base}-{n}"
        used.add(key(folder, f"{name}.{fmt}"))
        result.append(f"{name}.{fmt}" if folder == "." else os.path.join(folder, f"{name}.{fmt}"))  # as Path shows it
    return result


def plan_batch(inputs: Sequence[Path], output: Path | None, fmt: str = "docx") -> BatchPlan:
    """Which profiles to build into which files; creates the output folder."""
    entries = _expand(inputs)
    if not entries:
        shown = "、".join(display_path(p) for p in inputs)
        raise ProfileError(Problem("没有找到资料文件（.yaml）", shown,
                                   hint="把各单位的资料文件（.yaml）放在这个文件夹里，或直接列出文件"))
    profiles = [path for path, problem in entries if problem is None]
    out_dir = _output_dir(output, inputs, profiles)
    targets = iter(_targets(profiles, output, fmt))
    items: list[BatchItem] = []
    tasks: list[BatchTask] = []
    for index, (path, problem) in enumerate(entries):
        if problem is None:
            tasks.append(BatchTask(index, str(path), next(targets)))
        else:
            items.append(BatchItem(index, str(path), error=f"{display_path(path)}：{problem}", brief=problem))
    return BatchPlan(tuple(tasks), tuple(items), out_dir)


def _remove_stale_temporaries(tasks: Iterable[BatchTask], extra: Iterable[Path] = ()) -> None:
    """Temporary files a killed run left beside our targets (``.<stem>.<random>.tmp``)."""
    stems: dict[Path, set[str]] = {}
    for target in [Path(t.target) for t in tasks] + list(extra):
        stems.setdefault(target.parent, set()).add(target.stem)
    for folder, names in stems.items():
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name.startswith(".") and name.endswith(".tmp") and name[1:-4].rpartition(".")[0] in names:
                try:
                    if entry.is_file(follow_symlinks=False):
                        os.unlink(entry.path)
                except OSError:
                    pass


# ---------------------------------------------------------------- building (in a worker or in-process)

# Per batch (cleared when a batch starts, inherited by forked workers): resolved packs by
# (request, profile folder), and the pack folders a draft may not be written into.
_PACKS: dict[tuple[str | None, Path], Pack] = {}
_PACK_DIRS: dict[Path, tuple[ResolvedPath, ...]] = {}


def _error_text(exc: ReportgenError, limit: int = 10) -> str:
    """The message of a failed profile, its first ``limit`` problems (a batch lists many files)."""
    return exc.render(limit, "用 reportgen check 查看这个资料文件")


def _brief(exc: ReportgenError) -> str:
    if not exc.problems:
        return str(exc).splitlines()[0]
    first = exc.problems[0].render().splitlines()[0]
    return first if len(exc.problems) == 1 else f"{first}（共 {len(exc.problems)} 处问题）"


def _raw_meta(path: Path) -> dict[str, Any]:
    """The meta block of a profile that failed validation, to name its unit in the report (best effort)."""
    try:
        from .profile import load_profile_document

        doc, _ = load_profile_document(path)
        meta = doc.data.get("meta") if isinstance(doc.data, dict) else None
        return meta if isinstance(meta, dict) else {}
    except Exception:  # only decoration for an error row
        return {}


def _failed(task: BatchTask, error: str, brief: str) -> BatchItem:
    path = Path(task.profile)
    meta = _raw_meta(path)

    def text(key: str) -> str | None:
        value = meta.get(key)
        return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None

    year = meta.get("year")
    return BatchItem(task.index, task.profile, unit=text("unit"), name=text("name"), position=text("position"),
                     year=year if isinstance(year, int) and not isinstance(year, bool) else None,
                     error=error, brief=brief)


def _fact_cell(value: object) -> object:
    """A fact as a spreadsheet cell: numbers stay numbers (so they add up), lists are joined."""
    if value is None:
        return None
    if isinstance(value, tuple):
        return "、".join(str(v) for v in value)
    return value


_HEADERS: dict[tuple[str, str, str], str] = {}


def fact_header(spec: Any) -> str:
    """The summary column of a fact: its label with the unit; one shared string per fact."""
    unit = "%" if spec.type == "percent" else spec.unit
    key = (spec.label, spec.type, spec.unit)
    header = _HEADERS.get(key)
    if header is None:
        header = _HEADERS[key] = f"{spec.label}（{unit}）" if unit else spec.label
    return header


class GroupWriter:
    """Writes a group of drafts with one sync instead of one per file.

    Each draft goes to a temporary file beside its target (named as ``write_atomically``
    names it); ``commit_drafts`` makes them all durable with one ``os.sync()`` and only then
    renames them into place, so not even a power cut leaves a half-written file under a final
    name.  A process killed before that leaves only temporary files, removed by the next run.
    """

    def __init__(self) -> None:
        self.index = -1  # the task whose draft is being written
        self.pending: list[tuple[int, str, Path]] = []
        self.new_mode = new_file_mode()  # once per group, not per draft

    def __call__(self, target: Path, data: bytes) -> None:
        try:
            fd, tmp = temporary_beside(target)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.chmod(tmp, file_mode(target, self.new_mode))
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError as exc:
            raise OutputError(write_problem(target, exc)) from None
        self.pending.append((self.index, tmp, target))

    def take_pending(self) -> list[tuple[int, str, Path]]:
        pending, self.pending = self.pending, []
        return pending


def commit_drafts(pending: Sequence[tuple[int, str, Path]]) -> dict[int, OutputError]:
    """Sync, then rename every pending draft into place; returns the failures by task index."""
    failures: dict[int, OutputError] = {}
    if not pending:
        return failures
    os.sync()
    for index, tmp, target in pending:
        try:
            os.replace(tmp, target)
        except OSError as exc:
            failures[index] = OutputError(write_problem(target, exc))
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return failures


# Linux's sync() returns once the data is on disk; elsewhere each draft goes through write_atomically (fsync each).
GROUP_WRITES = sys.platform.startswith("linux") and hasattr(os, "sync")


def build_task(task: BatchTask, pack_request: str | None, fmt: str, force: bool,
               writer: GroupWriter | None = None) -> BatchItem:
    """Build one profile; every error ends up in the returned record, never raised."""
    from .core import _created, load_profile, protected_pack_dirs, write_draft

    path = Path(task.profile)
    if writer is not None:
        writer.index = task.index
    try:
        profile, pack = load_profile(path, pack_request, packs=_PACKS)
        pack_dirs = _PACK_DIRS.get(pack.root)
        if pack_dirs is None:
            pack_dirs = _PACK_DIRS[pack.root] = protected_pack_dirs(pack)
        result = write_draft(path, profile, pack, Path(task.target), fmt=fmt, force=force, precheck=False,
                             write=writer, pack_dirs=pack_dirs)
    except ReportgenError as exc:
        return _failed(task, _error_text(exc), _brief(exc))
    except Exception as exc:  # a bug must not stop the other profiles
        message = f"内部错误（{type(exc).__name__}：{exc}）"
        return _failed(task, f"{display_path(path)}：{message}，请把这个资料文件发给维护人员", message)
    meta = profile.meta
    facts = tuple((fact_header(spec), _fact_cell(profile.facts.get(spec.key)))
                  for spec in pack.facts if spec.summary)
    return BatchItem(task.index, task.profile, str(result.output), meta.unit, meta.name, meta.position, meta.year,
                     result.han_count, len(result.missing), facts, backup=result.backup, created=_created(profile))


class GroupBuilder:
    """Builds groups of profiles in one process; their drafts are committed together.

    ``commit(background=True)`` lets a thread wait for the sync while this one builds on (the
    sync waits on the disk, not the processor); its records come with the next call.
    """

    def __init__(self, pack_request: str | None, fmt: str, force: bool) -> None:
        self.pack_request, self.fmt, self.force = pack_request, fmt, force
        self.writer = GroupWriter() if GROUP_WRITES else None
        self.built: list[tuple[BatchTask, BatchItem]] = []
        self._committing: tuple[threading.Thread, list[tuple[BatchTask, BatchItem]], dict[int, OutputError]] | None = None

    def build(self, tasks: Sequence[BatchTask]) -> None:
        self.built += [(task, build_task(task, self.pack_request, self.fmt, self.force, self.writer)) for task in tasks]

    def commit(self, *, background: bool = False) -> list[BatchItem]:
        """Make the drafts built so far durable and put them in place; returns the records that are
        final now, failures included (with ``background``: those of the group committed before)."""
        items = self._finish_background()
        built, self.built = self.built, []
        pending = self.writer.take_pending() if self.writer is not None else []
        if background and pending:
            failures: dict[int, OutputError] = {}
            thread = threading.Thread(target=lambda: failures.update(commit_drafts(pending)), daemon=True)
            thread.start()
            self._committing = (thread, built, failures)
            return items
        return items + _with_failures(built, commit_drafts(pending))

    def _finish_background(self) -> list[BatchItem]:
        if self._committing is None:
            return []
        thread, built, failures = self._committing
        thread.join()
        self._committing = None
        return _with_failures(built, failures)


def _with_failures(built: Sequence[tuple[BatchTask, BatchItem]], failures: Mapping[int, OutputError]) -> list[BatchItem]:
    return [item if item.index not in failures else _failed(task, str(failures[item.index]), _brief(failures[item.index]))
            for task, item in built]


def build_chunk(tasks: Sequence[BatchTask], pack_request: str | None, fmt: str, force: bool) -> list[BatchItem]:
    """Build a group of profiles (in a pool worker); their drafts are committed together."""
    builder = GroupBuilder(pack_request, fmt, force)
    builder.build(tasks)
    return builder.commit()


# ---------------------------------------------------------------- running


class _Progress:
    """A one-line progress bar on stderr (only on a terminal)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.enabled = enabled and total > 0
        self.shown_at = 0.0

    def update(self, items: Iterable[BatchItem]) -> None:
        for item in items:
            self.done += 1
            self.failed += 0 if item.ok else 1
        now = time.monotonic()
        if self.enabled and (now - self.shown_at >= 0.1 or self.done == self.total):
            self.shown_at = now
            width = 30
            filled = width * self.done // self.total
            failed = f"，失败 {self.failed}" if self.failed else ""
            sys.stderr.write(f"\r正在生成 [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}{failed} ")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))  # type: ignore[attr-defined,unused-ignore]
    except (AttributeError, OSError):
        return os.cpu_count() or 1


CHUNK = 32  # drafts committed together (one sync each), and most per task sent to a pool worker
# Linux forks its workers (cheap, and no process pool to import) and runs them itself (below);
# elsewhere a process pool starts them (spawn).
FORK_WORKERS = sys.platform.startswith("linux")


def _chunks(tasks: Sequence[BatchTask], jobs: int, per_job: int = 8, most: int = CHUNK) -> list[tuple[BatchTask, ...]]:
    size = max(1, min(most, len(tasks) // (jobs * per_job)))
    return [tuple(tasks[i : i + size]) for i in range(0, len(tasks), size)]


def _worker_failure(task: BatchTask, message: str) -> BatchItem:
    return BatchItem(task.index, task.profile, error=f"{display_path(task.profile)}：{message}，请用 -j 1 重新运行",
                     brief=message)


_WORKER_DIED = "生成进程意外退出（可能是内存不足）"


class _Claims:
    """Which groups are taken, shared by forked processes: workers take from the front, this
    process from the back.  Two counters in a temporary file under a POSIX record lock, which
    the system releases if a process dies holding it."""

    def __init__(self, fd: int, count: int) -> None:
        self.fd = fd  # an open temporary file
        os.pwrite(fd, (0).to_bytes(8, "little") + count.to_bytes(8, "little"), 0)  # front, back

    def take(self, *, front: bool) -> int | None:
        import fcntl

        fd = self.fd
        fcntl.lockf(fd, fcntl.LOCK_EX)
        try:
            raw = os.pread(fd, 16, 0)
            first, end = int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:], "little")
            if first >= end:
                return None
            if front:
                os.pwrite(fd, (first + 1).to_bytes(8, "little"), 0)
                return first
            os.pwrite(fd, (end - 1).to_bytes(8, "little"), 8)
            return end - 1
        finally:
            fcntl.lockf(fd, fcntl.LOCK_UN)


def _send(fd: int, message: object) -> None:
    import pickle

    data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    view = memoryview(len(data).to_bytes(4, "little") + data)
    while view:
        view = view[os.write(fd, view) :]


def _build_claimed(claims: _Claims, groups: Sequence[tuple[BatchTask, ...]], builder: GroupBuilder, *, front: bool,
                   report: Callable[[list[int], list[BatchItem]], None], between: Callable[[], None] = lambda: None) -> None:
    """Build the groups this process claims until none are left; ``report`` gets (group numbers,
    their final records) every CHUNK drafts and at the end.  Each group of drafts is committed in
    the background while the next is built, so its records are reported one call later."""
    held: list[int] = []  # built, not yet committed
    committing: list[int] = []  # being committed in the background
    while (index := claims.take(front=front)) is not None:
        builder.build(groups[index])
        held.append(index)
        if len(builder.built) >= CHUNK:
            report(committing, builder.commit(background=True))
            committing, held = held, []
        between()
    report(committing + held, builder.commit())


def _forked_worker(claims: _Claims, groups: Sequence[tuple[BatchTask, ...]], fd: int, pack_request: str | None,
                   fmt: str, force: bool) -> None:
    """A forked worker: builds groups from the front and sends (group numbers, records) every CHUNK drafts."""
    code = 0
    try:
        _build_claimed(claims, groups, GroupBuilder(pack_request, fmt, force), front=True,
                       report=lambda indexes, items: _send(fd, (indexes, items)))
    except BaseException:  # the parent reports this worker's unsent groups
        code = 1
    finally:
        os._exit(code)  # never run the parent's exit handlers or flush its buffers a second time


def _run_forked(tasks: Sequence[BatchTask], pack_request: str | None, fmt: str, force: bool, jobs: int,
                progress: _Progress) -> list[BatchItem]:
    """Build on ``jobs`` processes: this one and ``jobs - 1`` forked workers.

    The workers take groups from the front of the list, this process from the back, so it
    never sits idle; each process commits its drafts every CHUNK drafts (one sync), and a
    worker then sends their records through a pipe.  A worker that dies loses only the
    groups it had not sent; they are reported as failed.  Workers are forked before the pack
    is loaded: each process loads it and compiles the templates it uses at the same time,
    rather than the workers waiting for this process to compile them all.
    """
    import pickle
    import select
    import signal
    import tempfile

    groups = _chunks(tasks, jobs, per_job=16, most=8)  # small groups: the processes finish together
    results: list[BatchItem] = []
    reported: set[int] = set()
    workers: dict[int, int] = {}  # pipe (read end) -> process id
    received: dict[int, bytes] = {}

    def done(indexes: Iterable[int], items: list[BatchItem]) -> None:
        reported.update(indexes)
        results.extend(items)
        progress.update(items)

    def receive(timeout: float | None) -> None:
        readable, _, _ = select.select(list(workers), [], [], timeout)
        for fd in readable:
            data = os.read(fd, 1 << 16)
            if not data:  # the worker has finished (or died)
                os.close(fd)
                os.waitpid(workers.pop(fd), 0)
                received.pop(fd, None)
                continue
            buffer = received.get(fd, b"") + data
            while len(buffer) >= 4 and len(buffer) >= 4 + (size := int.from_bytes(buffer[:4], "little")):
                done(*pickle.loads(buffer[4 : 4 + size]))
                buffer = buffer[4 + size :]
            received[fd] = buffer

    with tempfile.TemporaryFile() as counters:
        claims = _Claims(counters.fileno(), len(groups))
        try:
            for _ in range(jobs - 1):
                read_end, write_end = os.pipe()
                try:
                    pid = os.fork()
                except OSError:  # no more processes allowed: the ones running do the work
                    os.close(read_end)
                    os.close(write_end)
                    break
                if pid == 0:
                    os.close(read_end)
                    _forked_worker(claims, groups, write_end, pack_request, fmt, force)
                os.close(write_end)
                workers[read_end] = pid
            _build_claimed(claims, groups, GroupBuilder(pack_request, fmt, force), front=False, report=done,
                           between=lambda: receive(timeout=0) if workers else None)
            while workers:
                receive(timeout=None)
        finally:
            for fd, pid in workers.items():  # interrupted: stop the workers (their temporary files go next run)
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                os.close(fd)
    for index, group in enumerate(groups):
        if index not in reported:
            results.extend(_worker_failure(task, _WORKER_DIED) for task in group)
    return results


def _run_pool(tasks: Sequence[BatchTask], pack_request: str | None, fmt: str, force: bool, jobs: int,
              progress: _Progress) -> list[BatchItem]:
    """Build on ``jobs`` processes where fork is not used: this one and a pool of ``jobs - 1`` workers.

    The workers take groups from the front of the list, this process from the back: it starts at
    once (no worker has to start up first, which is most of a small batch's time) and does not sit
    idle while the workers run.
    """
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    workers = jobs - 1
    chunks = deque(_chunks(tasks, jobs))
    results: list[BatchItem] = []
    pending: dict[Future[list[BatchItem]], tuple[BatchTask, ...]] = {}

    def done(items: list[BatchItem]) -> None:
        results.extend(items)
        progress.update(items)

    def collect(timeout: float | None) -> None:
        finished, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
        for future in finished:
            chunk = pending.pop(future)
            try:
                items = future.result()
            except Exception as exc:  # the worker died, or its group could not be sent: the others go on
                message = (_WORKER_DIED if isinstance(exc, BrokenProcessPool)
                           else f"内部错误（{type(exc).__name__}：{exc}）")
                items = [_worker_failure(t, message) for t in chunk]
            done(items)

    pool = ProcessPoolExecutor(max_workers=workers)
    broken = False  # a worker died: the groups it held are reported, this process builds the rest
    try:
        while chunks or pending:
            while chunks and not broken and len(pending) < 3 * workers:  # enough queued that no worker waits
                chunk = chunks.popleft()
                try:
                    pending[pool.submit(build_chunk, chunk, pack_request, fmt, force)] = chunk
                except BrokenProcessPool:
                    chunks.appendleft(chunk)
                    broken = True
            if chunks:
                done(build_chunk(chunks.pop(), pack_request, fmt, force))
                collect(timeout=0)
            else:
                collect(timeout=None)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


def build_many(inputs: Sequence[Path], output: Path | None = None, *, pack_request: str | None = None,
               fmt: str = "docx", force: bool = False, jobs: int | None = None,
               progress: bool = False) -> BatchReport:
    """Build every profile named or found in ``inputs`` into ``output`` (a folder) and write 汇总.xlsx there."""
    plan = plan_batch(list(inputs), output, fmt)
    _PACKS.clear()  # packs may have been installed or edited since the last batch in this process
    _PACK_DIRS.clear()
    summary_path = plan.output_dir / SUMMARY_NAME
    _remove_stale_temporaries(plan.tasks, [summary_path])
    tasks = plan.tasks
    jobs = default_jobs() if jobs is None else jobs
    if sys.platform == "win32":
        jobs = min(jobs, 61)
    jobs = max(1, min(jobs, len(tasks) // 4))  # a few profiles are quicker built in-process than forked out
    bar = _Progress(len(tasks), progress)
    try:
        if jobs == 1:
            results = []
            builder = GroupBuilder(pack_request, fmt, force)
            for start in range(0, len(tasks), CHUNK):
                builder.build(tasks[start : start + CHUNK])
                items = builder.commit(background=start + CHUNK < len(tasks))
                results.extend(items)
                bar.update(items)
        else:
            run = _run_forked if FORK_WORKERS else _run_pool
            results = run(tasks, pack_request, fmt, force, jobs, bar)
    finally:
        bar.close()
    lost = {item.index for item in results if item.brief == _WORKER_DIED}
    if lost:  # a worker died: the temporary files of its drafts are of no use
        _remove_stale_temporaries([task for task in tasks if task.index in lost])
    # The last group's renames are made durable while the summary is made (the sync waits on the disk).
    syncing = threading.Thread(target=os.sync, daemon=True) if GROUP_WRITES and tasks else None
    if syncing is not None:
        syncing.start()
    everything = tuple(sorted((*plan.problems, *results), key=lambda item: item.index))
    summary: Path | None = summary_path
    summary_error: str | None = None
    backup: Path | None = None
    try:
        backup = write_summary(everything, summary_path, force=force)
    except ReportgenError as exc:
        summary, summary_error = None, str(exc)
    finally:
        if syncing is not None:
            syncing.join()
    return BatchReport(everything, plan.output_dir, summary, summary_error, backup)


# ---------------------------------------------------------------- 汇总.xlsx


def summary_columns(items: Sequence[BatchItem]) -> tuple[list[str], list[str]]:
    """The headers of 汇总.xlsx, and among them the pack facts' (in the order the packs give them)."""
    fact_headers: list[str] = []
    for item in items:
        for header, _ in item.facts:
            if header not in fact_headers:
                fact_headers.append(header)
    headers = ["单位", "姓名", "职务", "年度", *fact_headers, "待补充数", "汉字数", "输出文件", "资料文件", "状态", "错误"]
    return headers, fact_headers


def summary_rows(items: Sequence[BatchItem], folder: Path, fact_headers: Sequence[str]) -> Iterator[list[object]]:
    """The rows of 汇总.xlsx, one per profile, made as they are written."""
    relative = _Relative(folder)
    for item in items:
        facts = dict(item.facts)
        yield [
            item.unit, item.name, item.position, item.year,
            *(facts.get(h) for h in fact_headers),
            item.missing if item.ok else None,
            item.han_count if item.ok else None,
            relative(item.output_file) if item.output_file else None,
            relative(item.profile_file),
            "已生成" if item.ok else "未生成",
            item.brief,
        ]


class _Relative:
    """Paths relative to ``folder``, as the summary shows them; each other folder is worked out once."""

    def __init__(self, folder: Path) -> None:
        self.cwd = os.getcwd()
        self.base = os.path.normpath(os.path.join(self.cwd, folder))
        self.folders: dict[str, str | None] = {}

    def __call__(self, path: str) -> str:
        absolute = os.path.normpath(os.path.join(self.cwd, path))
        if absolute.startswith(self.base + os.sep):
            return absolute[len(self.base) + 1 :]  # the usual case, drafts inside the folder
        parent, name = os.path.split(absolute)
        if parent not in self.folders:
            try:
                self.folders[parent] = os.path.relpath(parent, self.base)
            except ValueError:  # another drive (Windows)
                self.folders[parent] = None
        shown = self.folders[parent]
        return path if shown is None else name if shown == "." else os.path.join(shown, name)


def _summary_created(items: Sequence[BatchItem]) -> Any:
    """The latest of the drafts' fixed creation times ("2026-01-15T00:00:00Z"), so a rebuild is identical."""
    import datetime as dt

    stamps = [item.created for item in items if item.created]
    if not stamps:
        return dt.datetime(2000, 1, 1)
    return dt.datetime.fromisoformat(max(stamps).removesuffix("Z"))  # (strptime costs a module import)


HEADER_WIDTH = 16  # columns of the summary sheet: at least this wide for their header (8 Chinese characters)


def summary_bytes(items: Sequence[BatchItem], folder: Path) -> bytes:
    """汇总.xlsx as bytes: same items, same bytes (fixed dates and zip times); carries a content fingerprint.

    The package is written by ``xlsx``, SpreadsheetML as text: this is a serial step at the end of every
    batch, and it takes milliseconds for thousands of rows.  The fingerprint over SUMMARY_PARTS goes into
    a custom property written as a slot of zeros, filled in once those parts are made.
    """
    from .word import EntryBuilder, zip_bytes, zip_entry
    from .xlsx import Properties, Sheet, xlsx_pieces

    headers, fact_headers = summary_columns(items)
    rows = list(summary_rows(items, folder, fact_headers))
    # A long header (a fact's label) wraps onto more lines rather than widening a column of short numbers.
    widths = [min(display_width(header), HEADER_WIDTH) for header in headers]
    for row in rows:
        for column, value in enumerate(row):
            if value is not None and 2 * len(text := str(value)) > widths[column]:  # else it cannot widen it
                widths[column] = max(widths[column], len(text) if text.isascii() else display_width(text))
    columns = [min(60, max(8, width + 2)) for width in widths]
    header_lines = max(-(-display_width(header) // (column - 2)) for header, column in zip(headers, columns, strict=True))
    sheet = Sheet("汇总", headers, rows, widths=columns, header_lines=header_lines,
                  freeze=(1, 1), autofilter=True)  # the header row and the unit column stay in view
    created = _summary_created(items)
    properties = Properties(title="述职报告初稿汇总", creator="reportgen", last_modified_by="reportgen",
                            created=created, modified=created, custom=((_FINGERPRINT_NAME, _FINGERPRINT_SLOT),))
    pieces = dict(xlsx_pieces(sheet, properties))
    # The fingerprinted parts are compressed while the fingerprint reads them: the sheet is made row by
    # row and never held whole (thousands of rows must not raise a batch's peak memory).
    builders = {name: EntryBuilder(name) for name in SUMMARY_PARTS if name in pieces}
    fingerprint = _summary_fingerprint({name: builder.passing(pieces[name]) for name, builder in builders.items()})
    entries = []
    for name, content in pieces.items():
        if name in builders:
            entries.append(builders[name].entry())
            continue
        data = b"".join(content)
        if name == "docProps/custom.xml":
            data = data.replace(_FINGERPRINT_SLOT.encode(), fingerprint.encode())
        entries.append(zip_entry(name, data))
    return zip_bytes(entries)


def _summary_fingerprint(parts: Mapping[str, Iterable[bytes]]) -> str:
    """SHA-256 over SUMMARY_PARTS in order, each as its name, NUL, its content, NUL (a missing part: empty)."""
    import hashlib

    digest = hashlib.sha256()
    for name in SUMMARY_PARTS:
        digest.update(name.encode() + b"\0")
        for piece in parts.get(name, ()):
            digest.update(piece)
        digest.update(b"\0")
    return digest.hexdigest()


def summary_state(path: Path) -> str:
    """"absent", "untouched" (as reportgen wrote it), "edited" or "foreign" — like a draft's."""
    import re
    import zipfile

    if not path.exists():
        return "absent"
    try:
        with zipfile.ZipFile(path) as zf:
            if any(zf.getinfo(name).file_size > 64 * 1024 * 1024 for name in SUMMARY_PARTS if name in zf.namelist()):
                return "foreign"
            custom = zf.read("docProps/custom.xml").decode("utf-8", "replace")
            parts = {name: zf.read(name) for name in SUMMARY_PARTS if name in zf.namelist()}
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return "foreign"
    match = re.search(rf'name="{re.escape(_FINGERPRINT_NAME)}"[^>]*>\s*<vt:lpwstr[^>]*>([0-9a-f]{{64}})</vt:lpwstr>', custom)
    if not match:
        return "foreign"
    return "untouched" if match.group(1) == _summary_fingerprint({n: (data,) for n, data in parts.items()}) else "edited"


def write_summary(items: Sequence[BatchItem], path: Path, *, force: bool = False) -> Path | None:
    """Write 汇总.xlsx atomically; an edited or foreign file there is kept unless ``force`` (then backed up)."""
    from .output import make_backup, write_atomically

    shown = display_path(path)
    state = summary_state(path)
    backup: Path | None = None
    if state in ("edited", "foreign"):
        why = "汇总表生成后已经被修改过" if state == "edited" else "这个文件不是 reportgen 生成的汇总表"
        if not force:
            raise OutputError(Problem(f"{why}，为避免丢失内容，没有覆盖它（各单位的稿子已照常生成）", shown,
                                      hint="把它改名或移走后重新运行；或加 --force 覆盖（旧文件会先备份在同一文件夹）"))
        backup = make_backup(path, what="原汇总表")
    write_atomically(path, summary_bytes(items, path.parent))
    return backup


# ---------------------------------------------------------------- the table


def batch_table(report: BatchReport) -> list[str]:
    header = ["序号", "单位", "资料文件", "结果", "汉字", "待补充"]
    rows: list[list[str]] = []
    for n, item in enumerate(report.items, start=1):
        if item.ok and item.output is not None:
            result = [display_path(item.output), str(item.han_count), str(item.missing)]
        else:
            result = [f"失败：{item.brief or item.error}", "", ""]
        rows.append([str(n), item.unit or "—", display_path(item.profile), *result])
    widths = [max(display_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    # A long error message is the last thing on its line: don't stretch the number columns for it.
    widths[3] = max([display_width(header[3])] + [display_width(r[3]) for r in rows if r[4]])
    lines = []
    for row in [header, *rows]:
        failed = row is not header and not row[4]
        cells = [pad(row[0], widths[0], right=True), pad(row[1], widths[1]), pad(row[2], widths[2])]
        if failed:
            cells.append(row[3])
        else:
            cells += [pad(row[3], widths[3]), pad(row[4], widths[4], right=True), pad(row[5], widths[5], right=True)]
        lines.append("  ".join(cells).rstrip())
    return lines


def print_batch_report(report: BatchReport, stream: Any = None) -> None:
    out = stream or sys.stdout
    for line in batch_table(report):
        print(line, file=out)
    failed = report.failed_items
    total = len(report.items)
    print(file=out)
    print(f"共 {total} 份资料文件：已生成 {total - len(failed)} 份" + (f"，失败 {len(failed)} 份" if failed else "")
          + "。", file=out)
    for item in report.items:
        if item.backup is not None:
            print(f"原文件已备份为：{display_path(item.backup)}", file=out)
    if report.summary is not None:
        print(f"汇总表：{display_path(report.summary)}", file=out)
        if report.summary_backup is not None:
            print(f"原汇总表已备份为：{display_path(report.summary_backup)}", file=out)
    if failed:
        print(file=out)
        print("失败原因：", file=out)
        for n, item in enumerate(failed):
            if n:
                print(file=out)
            print(item.error or item.brief, file=out)
    if report.summary_error:
        print(file=out)
        print(report.summary_error, file=out)

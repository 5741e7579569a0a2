"""Batch builds: many profiles (or a fill-in workbook's rows) -> one draft each, 汇总.xlsx, 复制比.

Every profile is attempted; a bad one is reported and the others are written.  With ``jobs`` > 1 the
profiles go in chunks to a standard process pool; each worker keeps its own ``Run`` for a chunk (the
pack is loaded and its Word template compiled once per chunk) and sends back small records.  A
worker that dies fails nothing by itself: its chunk is built again one profile at a time, and only a
profile that kills a worker again is reported, together with what is already on disk.  Drafts are
written through the same guarded, atomic writer ``build`` uses, so a killed batch leaves complete
files only and a rerun finishes the rest.

复制比 (``batch_similarity``): as it writes a draft, a worker notes the draft's text and runs in a
scratch file and sends back only the anchored runs, which the main process indexes as they arrive;
then the pool compares each draft with its most similar other and with the pack's example.
"""

from __future__ import annotations

import array
import collections
import contextlib
import hashlib
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import (
    OutputError,
    Problem,
    ProfileError,
    ReportgenError,
    display_path,
    display_width,
    os_error_text,
    pad,
)
from ..inputs.source import PROFILE_SUFFIXES, folder_files, profile_files, read_text
from ..inputs.workbook import read_workbook
from ..inputs.yamlfile import Tree, parse_yaml
from ..ooxml import CUSTOM_PROPS, PackageProblem, read_custom_properties, read_package
from .batch_similarity import Drafted, Note, Notebook, compare_drafts, example_texts, scratch_folder
from .drafting import DRAFT_SUFFIXES, Draft, Run
from .guard import Guard, State, folder_lock, in_pack_folder, remove_orphaned_temporaries, state_of
from .similarity import Index, normalize, shown_ratio
from .summary import SUMMARY_NAME, SummaryRow, write_summary

__all__ = ["BatchItem", "BatchReport", "build_batch", "report_lines"]

CHUNK = 25  # the fewest profiles a worker builds with one Run (one pack load, one Word template compile)
DEFAULT_THRESHOLD = 0.3
NOT_COMPARED = "没有计算复制比，也没有查别的单位名称"


@dataclass(frozen=True)
class Task:
    index: int
    label: str  # the profile file, or “填报表.xlsx 第7行”, as shown
    target: str
    path: str | None = None  # a profile file …
    tree: Tree | None = None  # … or a workbook row, already read
    source: str | None = None  # the workbook of that row (never to be overwritten)
    digest: str = ""


@dataclass(frozen=True)
class BatchItem:
    """What became of one profile: small, so thousands of them cost nothing."""

    index: int
    label: str
    output: str | None = None  # the draft written; None when it failed
    unit: str = ""
    name: str = ""
    position: str = ""
    year: str = ""
    han_count: int = 0
    missing: int = 0
    facts: tuple[tuple[str, str, object], ...] = ()  # (key, column header, value) of the summary facts
    warnings: tuple[str, ...] = ()
    error: str | None = None
    note: Note | None = None  # the draft's text and runs, for 复制比 and leftovers
    runs: bytes = b""  # its anchored runs, until the batch's index has them
    backup: str | None = None
    length: tuple[int, int] | None = None
    similar_to: str | None = None
    ratio: float | None = None
    example_ratio: float | None = None
    last_year_ratio: float | None = None
    created: str = ""
    pack_root: str = ""  # the pack drafted with, for 复制比 against its example

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class BatchReport:
    items: tuple[BatchItem, ...]
    output_dir: Path
    summary: Path | None
    summary_error: str | None = None
    summary_backup: Path | None = None
    threshold: float = DEFAULT_THRESHOLD
    problems: tuple[str, ...] = field(default=())  # inputs that are not there

    @property
    def failed(self) -> int:
        return sum(not item.ok for item in self.items) + (1 if self.summary_error else 0) + len(self.problems)


# ---------------------------------------------------------------- planning


def _expand(inputs: Sequence[Path]) -> tuple[list[Task], list[str]]:
    """The tasks (without targets yet) and the inputs that are not there."""
    tasks: list[Task] = []
    problems: list[str] = []
    for given in inputs:
        if given.is_dir():
            found = folder_files(given, PROFILE_SUFFIXES)
            if not found:
                problems.append(f"{display_path(given)}：文件夹里没有 .yaml 资料文件")
            tasks += [Task(0, display_path(p), "", path=str(p)) for p in found]
        elif given.suffix.lower() == ".xlsx":
            for row in read_workbook(given).rows:
                tasks.append(Task(0, row.label, "", tree=row.tree, digest=row.digest, source=str(given)))
        elif given.is_file():
            tasks.append(Task(0, display_path(given), "", path=str(given)))
        else:
            problems.append(f"{display_path(given)}：找不到这个文件或文件夹")
    return [replace(task, index=i) for i, task in enumerate(tasks)], problems


_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(10)), *(f"LPT{n}" for n in range(10))})


def _safe_name(text: str) -> str:
    """A file name from a unit's name that every system accepts: no separators or reserved characters,
    no Windows device name (CON, NUL…), at most 80 characters and 180 bytes (an ext4 name has 255)."""
    cleaned = "".join("_" if char in '\\/:*?"<>|\0' or ord(char) < 32 else char for char in text).strip(" .")
    cleaned = cleaned[:80]
    while len(cleaned.encode("utf-8")) > 180 or len(cleaned.encode("utf-16-le")) > 360:
        cleaned = cleaned[:-1]
    if cleaned.split(".")[0].strip().upper() in _DEVICES:
        cleaned = f"{cleaned}_"
    return cleaned or "稿子"


def _targets(tasks: list[Task], output: Path | None, fmt: str) -> list[Task]:
    result: list[Task] = []
    used: set[str] = set()
    for task in tasks:
        if task.path is not None:
            profile = Path(task.path)
            folder = output if output is not None else profile.parent
            stem = profile.stem
        else:
            assert task.tree is not None
            folder = output if output is not None else Path(".")
            unit = task.tree.value(("meta", "unit"))
            stem = _safe_name(unit if isinstance(unit, str) and unit.strip() else task.label)
        name = f"{stem}.{fmt}"
        counter = 1
        while str(folder / name).lower() in used:  # the same name from two folders: both drafts, numbered
            counter += 1
            name = f"{stem}-{counter}.{fmt}"
        used.add(str(folder / name).lower())
        result.append(replace(task, target=str(folder / name)))
    return result


# ---------------------------------------------------------------- building


def _brief(exc: ReportgenError) -> str:
    """The first problem in a line, for the summary: where (the key) and what."""
    first = exc.problems[0] if exc.problems else None
    more = f"（共 {len(exc.problems)} 处）" if len(exc.problems) > 1 else ""
    if first is None:
        return str(exc)
    where = first.key or (f"第{first.line}行" if first.line else "")
    return (f"{where}：" if where else "") + first.message + more


def _item(task: Task, draft: Draft, target: Path, backup: Path | None, notebook: Notebook | None) -> BatchItem:
    meta = draft.profile.meta
    note, runs = None, b""
    warnings = tuple(w.message for w in draft.warnings)
    if notebook is not None:
        text = draft.document.text
        try:
            note, runs = notebook.write(text, normalize(target.name, text, (meta.unit or "", meta.name or ""),
                                                        passages=False).normalized)
        except OSError as exc:  # the draft is written; only its 复制比 is missing
            warnings += (f"{NOT_COMPARED}：无法写临时文件（{os_error_text(exc)}）",)
    specs = draft.facts.specs
    facts = tuple((key, spec.header,
                   draft.facts.values[key].value if key in draft.facts.values else None)
                  for key, spec in specs.items() if spec.summary)
    length = draft.profile.structure.length or draft.pack.length
    return BatchItem(
        task.index, task.label, str(target), meta.unit or "", meta.name or "", meta.position or "",
        str(meta.year or ""), draft.document.han_count(), len(draft.missing),
        tuple((k, h, v if isinstance(v, (int, float, str)) or v is None else str(v)) for k, h, v in facts),
        warnings, None, note, runs,
        str(backup) if backup else None, length, last_year_ratio=draft.last_year_ratio,
        created=draft.document.created.date().isoformat(), pack_root=str(draft.pack.root))


def build_task(run: Run, task: Task, fmt: str, force: bool, notebook: Notebook | None = None) -> BatchItem:
    """One profile: drafted, written; any problem of it becomes its record's error."""
    target = Path(task.target)
    try:
        if task.path is not None:
            draft = run.draft_file(Path(task.path))
        else:
            assert task.tree is not None
            draft = run.draft(task.tree, task.digest, Path("."), file_name=task.label)
        data = run.render(draft, fmt)
        guard = Guard(inputs=tuple(Path(p) for p in (task.path, task.source) if p))
        backup = guard.write(target, data, force=force, suffixes=DRAFT_SUFFIXES, what="稿子",
                             hint="改过的稿子请另存到别处；或加 --force 覆盖（旧文件会先备份）", tidy=False)
    except ReportgenError as exc:
        return BatchItem(task.index, task.label, error=exc.render(10, "先改正上面这些，再运行 reportgen check"),
                         unit=_unit_of(task), year="", warnings=(_brief(exc),))
    except OSError as exc:  # one draft the system would not write: the others go on
        reason = f"无法写出稿子：{os_error_text(exc)}"
        return BatchItem(task.index, task.label, error=f"{display_path(target)}：{reason}", unit=_unit_of(task),
                         warnings=(reason,))
    return _item(task, draft, target, backup, notebook)


def _unit_of(task: Task) -> str:
    tree = task.tree
    if tree is None and task.path is not None:
        try:
            tree = parse_yaml(read_text(Path(task.path)), task.label)
        except ReportgenError:
            return ""
    unit = tree.value(("meta", "unit")) if tree is not None else None
    return unit.strip() if isinstance(unit, str) else ""


def build_chunk(tasks: Sequence[Task], settings: Run, fmt: str, force: bool, scratch: str | None,
                advance: Callable[[int], None] | None = None) -> list[BatchItem]:
    """What a worker does: one Run for the chunk, every task attempted, texts noted in ``scratch``."""
    run = settings.fresh()
    items = []
    with Notebook(scratch) if scratch else contextlib.nullcontext() as notebook:
        for task in tasks:
            items.append(build_task(run, task, fmt, force, notebook))
            if advance is not None:
                advance(1)
    return items


def _chunks(tasks: Sequence[Task], jobs: int) -> list[list[Task]]:
    """About four chunks per worker (so the progress bar moves and a dead worker costs little), but never
    so small that loading the pack for each chunk (some 40 ms) outweighs its drafts."""
    size = max(CHUNK, -(-len(tasks) // (jobs * 4)))
    return [list(tasks[i:i + size]) for i in range(0, len(tasks), size)]


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _indexed(items: list[BatchItem], index: Index) -> list[BatchItem]:
    """The drafts' anchored runs put in the batch's index as they arrive (while the pool builds on)."""
    for item in items:
        if item.runs:
            index.add(item.index, array.array("Q", item.runs))
    return [replace(item, runs=b"") if item.runs else item for item in items]


def _run_pool(pool: ProcessPoolExecutor, tasks: Sequence[Task], settings: Run, fmt: str, force: bool, jobs: int,
              scratch: str | None, index: Index, advance: Callable[[int], None]) -> list[BatchItem]:
    items: list[BatchItem] = []
    retry: list[Task] = []
    futures = collections.deque((chunk, pool.submit(build_chunk, chunk, settings, fmt, force, scratch))
                                for chunk in _chunks(tasks, jobs))
    while futures:
        chunk, future = futures.popleft()  # a future keeps its result: let it go once read
        try:
            items += _indexed(future.result(), index)
        except BrokenProcessPool:
            retry += chunk
        advance(len(chunk))
    for task in retry:  # a worker died: again one at a time, so only a profile that kills a worker fails
        try:
            with ProcessPoolExecutor(max_workers=1) as single:
                items += _indexed(single.submit(build_chunk, [task], settings, fmt, force, scratch).result(), index)
        except BrokenProcessPool:
            items += _indexed([_died(task, settings, fmt, scratch)], index)
    return items


def _died(task: Task, settings: Run, fmt: str, scratch: str | None) -> BatchItem:
    """A profile whose worker died twice: if its draft is on disk (written just before), its record is
    made again here from the draft's profile; else it failed."""
    target = Path(task.target)
    if state_of(target) is State.UNTOUCHED and task.path is not None and fmt == "docx":
        try:
            properties = read_custom_properties(read_package(target).parts.get(CUSTOM_PROPS, b""))
            text = read_text(Path(task.path))
        except (PackageProblem, ReportgenError, OSError):
            properties, text = {}, ""
        if properties.get("reportgen.profile_sha256") == hashlib.sha256(text.encode()).hexdigest():
            try:  # in this process, without writing: the worker died after the draft was complete
                draft = settings.fresh().draft_file(Path(task.path))
                with Notebook(scratch) if scratch else contextlib.nullcontext() as notebook:
                    item = _item(task, draft, target, None, notebook)
                return replace(item, warnings=("工作进程中断，稿子已在中断前写出",))
            except ReportgenError:
                pass
    return BatchItem(task.index, task.label, unit=_unit_of(task),
                     error="生成这份稿子的工作进程意外退出（可能是内存不足），没有写出稿子", warnings=("工作进程意外退出",))


def build_batch(inputs: Sequence[Path], output: Path | None = None, *, settings: Run | None = None,
                fmt: str = "docx", force: bool = False, jobs: int | None = None,
                progress: Callable[[int], None] | None = None, start: Callable[[int], None] | None = None,
                threshold: float | None = None, similarity: bool = True) -> BatchReport:
    """Every input built; 汇总.xlsx written; with ``similarity`` (as the CLI always runs it) each draft's
    复制比 and leftovers of other units (without it, only to measure what they cost)."""
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    settings = settings or Run()
    if output is not None and ((output.exists() and not output.is_dir()) or
                               (not output.exists() and output.suffix.lower() in (*DRAFT_SUFFIXES, ".xlsx", ".yaml"))):
        raise OutputError(Problem("批量生成时 -o 应是一个文件夹", display_path(output), hint="例如 -o 述职报告初稿"))
    planned, problems = _expand(inputs)
    if not planned and problems:
        raise ProfileError([Problem(p) for p in problems])
    if output is not None:
        problem = Guard().problem(output / SUMMARY_NAME, (".xlsx",), "汇总表")
        if problem is not None and "不存在" not in problem.message:
            raise OutputError(problem)
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(Problem(f"无法建立输出文件夹：{exc.strerror}", display_path(output))) from None
    tasks = _targets(planned, output, fmt)
    folders = sorted({Path(task.target).parent.resolve() for task in tasks}, key=str)
    summary_dir = output if output is not None else (Path(tasks[0].target).parent if tasks else Path("."))
    with contextlib.ExitStack() as stack:
        for folder in folders:
            if not in_pack_folder(folder):  # nothing is written there (the guard refuses each draft): no lock file
                stack.enter_context(folder_lock(folder))
        remove_orphaned_temporaries(folders)
        notes = stack.enter_context(contextlib.ExitStack())  # the scratch folder: gone before the summary
        scratch, unscratched = None, ""
        if similarity:
            try:
                scratch = notes.enter_context(scratch_folder())
            except OSError as exc:
                unscratched = f"{NOT_COMPARED}：无法建立临时文件夹（{os_error_text(exc)}）"
        jobs = jobs or default_jobs()
        if start is not None:
            start(len(tasks))
        advance = progress or (lambda n: None)
        pool: ProcessPoolExecutor | None = None
        index = Index()
        if jobs == 1 or len(tasks) < 2:
            items = _indexed(build_chunk(tasks, settings, fmt, force, scratch, advance), index)
        else:
            jobs = min(jobs, len(tasks))
            pool = ProcessPoolExecutor(max_workers=jobs)
            stack.callback(pool.shutdown, wait=True, cancel_futures=True)  # Ctrl-C: no chunk started after it
            items = _run_pool(pool, tasks, settings, fmt, force, jobs, scratch, index, advance)
        items.sort(key=lambda item: item.index)
        if unscratched:
            items = [replace(item, warnings=(*item.warnings, unscratched)) if item.ok else item for item in items]
        if scratch is not None:
            items = _compare(items, index, settings, threshold, pool, jobs, scratch)
        notes.close()
        summary: Path | None = summary_dir / SUMMARY_NAME
        summary_error = None
        summary_backup = None
        try:
            summary_backup = write_summary([_row(item) for item in items], summary_dir / SUMMARY_NAME, force=force,
                                           threshold=threshold, inputs=profile_files(inputs))
        except OutputError as exc:
            summary, summary_error = None, exc.render()
    return BatchReport(tuple(items), summary_dir, summary, summary_error, summary_backup, threshold, tuple(problems))


def _row(item: BatchItem) -> SummaryRow:
    return SummaryRow(number=item.index + 1, source=item.label, output=item.output, unit=item.unit, name=item.name,
                      position=item.position, year=item.year, han_count=item.han_count, missing=item.missing,
                      facts=item.facts, notes=item.warnings, error=item.error, similar_to=item.similar_to,
                      ratio=item.ratio, example_ratio=item.example_ratio, last_year_ratio=item.last_year_ratio,
                      created=item.created)


# ---------------------------------------------------------------- 复制比 and leftovers


def _compare(items: list[BatchItem], index: Index, settings: Run, threshold: float, pool: ProcessPoolExecutor | None,
             jobs: int, scratch: str) -> list[BatchItem]:
    """Each draft's most similar other draft and its 复制比 against that draft and the pack's example,
    and other units' names found in it, as notes for the summary."""
    good = [item for item in items if item.ok and item.note is not None]
    drafts = [Drafted(item.index, item.note, item.pack_root, (item.unit, item.name)) for item in good
              if item.note is not None]
    examples = example_texts([item.pack_root for item in good], settings.fresh())
    names = [name for item in items if item.ok for name in (item.unit, item.name)]
    by_index = {item.index: item for item in items}
    for item, found in zip(good, compare_drafts(drafts, index, examples, names, pool, jobs, scratch), strict=True):
        changes: dict[str, object] = {}
        warnings = list(item.warnings)
        if found.problem:
            warnings.append(f"{NOT_COMPARED}：临时文件读不出（{found.problem}）")
        if found.best is not None and found.ratio is not None:
            name = Path(by_index[found.best].output or by_index[found.best].label).name
            changes.update(similar_to=name, ratio=shown_ratio(found.ratio))
            if found.ratio > threshold:
                warnings.append(f"与 {name} 的复制比为 {shown_ratio(found.ratio):.0%}，超过 {threshold:.0%}")
        if found.example_ratio is not None:
            changes["example_ratio"] = shown_ratio(found.example_ratio)
            if found.example_ratio > threshold:
                warnings.append(f"与模板包示例稿的复制比为 {shown_ratio(found.example_ratio):.0%}")
        for other in found.others:
            warnings.append(f"稿子里出现了本批另一个单位或人员的名称“{other}”")
        changes["warnings"] = tuple(dict.fromkeys(warnings))
        by_index[item.index] = replace(item, **changes)  # type: ignore[arg-type]
    return [replace(by_index[item.index], note=None) for item in items]


# ---------------------------------------------------------------- the console table


def report_lines(report: BatchReport, width: int = 100) -> list[str]:
    """The result, fitted to the terminal's width: one line per draft, errors and notes indented below."""
    good = [item for item in report.items if item.ok]
    lines = [f"批量生成：{len(report.items)} 份资料，成功 {len(good)} 份，失败 {len(report.items) - len(good)} 份"]
    name_width = max(10, min(40, width - 38))
    for item in report.items:
        mark = "✓" if item.ok else "✗"
        name = item.unit or Path(item.label).stem
        if display_width(name) > name_width:
            while display_width(name + "…") > name_width:
                name = name[:-1]
            name += "…"
        if item.ok:
            ratio = f"复制比 {item.ratio:.0%}" if item.ratio is not None else ""
            lines.append(f"{mark} {pad(name, name_width)} {item.han_count:>5} 字  待补充 {item.missing:>2}  {ratio}")
        else:
            lines.append(f"{mark} {pad(name, name_width)} 未生成")
            lines += _labelled("    资料：", item.label, width)
            for line in (item.error or "").splitlines()[:12]:
                lines += _fitted("    " + line, width)
        for note in item.warnings[:3] if item.ok else ():
            lines += _fitted(f"    注意：{note}", width)
    for problem in report.problems:
        lines += _fitted(f"✗ {problem}", width)
    if report.summary is not None:
        lines += _labelled("汇总表：", display_path(report.summary), width)
        if report.summary_backup is not None:
            lines += _labelled("原汇总表已备份为：", display_path(report.summary_backup), width)
    elif report.summary_error:
        lines.append("汇总表没有写出：")
        for line in report.summary_error.splitlines():
            lines += _fitted("    " + line, width)
    lines += _labelled("稿子在：", display_path(report.output_dir), width)
    return lines


def _labelled(label: str, path: str, width: int) -> list[str]:
    """“label path”, or the path on a line of its own when together they are too wide (a path is never cut)."""
    if display_width(label + path) <= width:
        return [label + path]
    indent = label[:len(label) - len(label.lstrip())]
    return [label.rstrip(), indent + "  " + path]


_PATH_FIRST = re.compile(r"^(\s*)(\S*[/\\][^：\s]*?(?::\d+)*：)(.*)$")  # “folder/file.yaml:3:5：message”


def _fitted(line: str, width: int) -> list[str]:
    """A long line broken to ``width``: a path it starts with stays whole on a line of its own."""
    if display_width(line) <= width:
        return [line]
    indent = line[:len(line) - len(line.lstrip())]
    match = _PATH_FIRST.match(line)
    result: list[str] = []
    rest = line.strip()
    if match is not None:
        result.append(indent + match.group(2))
        rest = match.group(3).strip()
        indent += "  "
    while rest:  # continuation lines indented two more, so a reader sees where a message ends
        room = max(20, width - display_width(indent))
        cut = 0
        used = 0
        while cut < len(rest) and used + display_width(rest[cut]) <= room:
            used += display_width(rest[cut])
            cut += 1
        result.append(indent + rest[:cut])
        rest = rest[cut:]
        if len(result) == 1:
            indent += "  "
    return result

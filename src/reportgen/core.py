"""The commands behind the CLI, one function each; they raise ReportgenError and never import click."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .content.lint import lint_document, lint_sentences, variety
from .errors import (
    PackError,
    Problem,
    ProfileError,
    ReportgenError,
    UnsafePackError,
    display_path,
    first_few,
)
from .inputs.lastyear import document_text, read_last_report
from .inputs.profile import read_profile
from .inputs.source import PROFILE_SUFFIXES, folder_files, profile_files, read_text
from .inputs.workbook import read_workbook
from .inputs.yamlfile import parse_yaml
from .outputs.drafting import BuildResult, Draft, Run
from .outputs.guard import Guard
from .outputs.ledger import LedgerEntry, LedgerRow, ledger_bytes, ledger_warnings, match_ledger, read_ledger
from .outputs.scaffold import NextYear, init_text, next_text, value_text
from .packs.describe import describe_pack, listing_lines
from .packs.lookup import Listing, PackFinder
from .packs.manifest import MANIFEST, Pack, load_pack, read_pack
from .packs.safety import content_problems, is_leftover, walk_pack
from .packs.store import InstallResult, export_files, install_pack, new_pack_folder, zip_pack

if TYPE_CHECKING:
    from .outputs.batch import BatchReport
    from .outputs.similarity import Match

__all__ = ["BuildResult", "ExportResult", "NextResult", "PackReport", "RowCheck", "build", "build_inputs", "check",
           "check_pack", "check_workbook", "default_output", "describe", "export_pack", "init", "install", "ledger",
           "list_packs", "listing_lines", "new_pack", "next_year", "plan_next", "report_lines", "sheet", "similar"]

LINT_WORDINGS = 6  # drafts of the example ``packs check`` lints, each in another wording


def default_output(profile: Path, fmt: str) -> Path:
    return profile.with_suffix(f".{fmt}")


def _run_for(pack_request: str | None = None, ledger: Path | None = None) -> Run:
    """A command's Run: the pack asked for on the command line, a 整改台账 to fill the rectifications from."""
    return Run(pack_request, tuple(read_ledger(ledger)) if ledger is not None else (), ledger)


def check(path: Path, pack_request: str | None = None) -> Draft:
    """``check``: the draft in memory, with what is missing and what is worth knowing."""
    return Run(pack_request).draft_file(path)


def build(path: Path, output: Path | None = None, *, settings: Run | None = None, fmt: str = "docx",
          force: bool = False) -> BuildResult:
    """``build`` of one profile; ``output`` may be a file or an existing folder."""
    target = output if output is not None else default_output(path, fmt)
    if target.is_dir():
        target = target / f"{path.stem}.{fmt}"
    return (settings or Run()).build(path, target, fmt=fmt, force=force)


def build_inputs(inputs: Sequence[Path], output: Path | None = None, *, pack_request: str | None = None,
                 ledger: Path | None = None, fmt: str = "docx", force: bool = False, jobs: int | None = None,
                 threshold: float | None = None, start: Callable[[int], None] | None = None,
                 progress: Callable[[int], None] | None = None) -> BuildResult | BatchReport:
    """``build``: one draft from one profile; a batch (with 汇总.xlsx) from several, a folder or a fill-in
    workbook."""
    run = _run_for(pack_request, ledger)
    if len(inputs) == 1 and not inputs[0].is_dir() and inputs[0].suffix.lower() != ".xlsx":
        return build(inputs[0], output, settings=run, fmt=fmt, force=force)
    from .outputs.batch import build_batch  # openpyxl, ~120 ms: only for a batch

    return build_batch(list(inputs), output, settings=run, fmt=fmt, force=force, jobs=jobs, start=start,
                       progress=progress, threshold=threshold)


def report_lines(report: BatchReport, width: int) -> list[str]:
    """A batch's result for the console, fitted to ``width``."""
    from .outputs.batch import report_lines as lines  # with the batch, not for every command

    return lines(report, width)


def init(path: Path, pack_request: str | None = None, *, force: bool = False) -> tuple[Path, Pack, Path | None]:
    """``init``: a profile scaffold with Chinese comments, the pack example's items preselected."""
    pack = PackFinder().find(pack_request, profile_dir=path.parent)
    chosen, examples = _from_example(pack)
    backup = Guard().write(path, init_text(pack, pack_request, chosen, examples).encode("utf-8"), force=force,
                                             suffixes=PROFILE_SUFFIXES, what="资料文件",
                                             hint="换一个文件名，或加 --force 覆盖（旧文件会先备份）")
    return path, pack, backup


def _from_example(pack: Pack) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The items the pack's example profile chooses (else the first few of each catalogue), and its unit,
    superior and basis (the scaffold's examples)."""
    chosen: dict[str, list[str]] = {}
    examples: dict[str, str] = {}
    if pack.example_profile:
        try:
            tree = parse_yaml(read_text(pack.path(pack.example_profile)), pack.example_profile)
            profile, _ = read_profile(tree, "")
            for kind in ("work", "problems", "causes"):
                chosen[kind] = [key for choice in profile.choices(kind) for key in choice.keys]
            meta = profile.meta
            examples = {"unit": meta.unit or "", "superior": meta.superior or "", "basis": meta.basis or ""}
        except ReportgenError:
            chosen = {}
    for section in pack.skeleton.sections:
        catalogue = {"work": "topics", "problems": "problems", "causes": "causes"}.get(section.kind)
        if catalogue and not chosen.get(section.kind):
            chosen[section.kind] = list(pack.catalogues.get(catalogue, {}))[: max(section.min_items, 3)]
    return chosen, examples


# ---------------------------------------------------------------- packs


def list_packs(cwd: Path) -> Listing:
    return PackFinder().listing(cwd)


def describe(request: str, cwd: Path) -> str:
    return describe_pack(PackFinder().find(request, profile_dir=cwd))


@dataclass(frozen=True)
class PackReport:
    pack: Pack
    notes: tuple[str, ...]  # remarks that do not fail the check
    summary: str  # how much variety the pack has
    files: tuple[tuple[str, Path], ...]  # the folder's files as checked (walk_pack): what export zips from


def check_pack(request: str, cwd: Path) -> PackReport:
    """``packs check NAME|PATH``: every problem at once; raises PackError (or UnsafePackError) on any."""
    root = Path(request)
    root = root.parent if root.name == MANIFEST else root
    if not (root / MANIFEST).is_file():
        root = PackFinder().find(request, profile_dir=cwd).root
    return check_pack_folder(root, display_path(root), own=True)


def check_pack_folder(root: Path, label: str, *, own: bool = False) -> PackReport:
    """Files, manifest, prose, Word template, the example built in memory, lint: everything a pack is.

    ``own``: a folder the user works in (not one being installed), where left-over files are only noted.
    """
    problems: list[Problem] = []
    unsafe = False
    tree = walk_pack(root, label)
    safety = [*tree.problems, *content_problems(tree, label, leftovers=own)]
    if safety:
        unsafe = True
        problems += safety
    pack: Pack | None = None
    manifest_unsafe = False
    try:
        pack, manifest_problems, manifest_unsafe = read_pack(root, "local")
        problems += manifest_problems
        unsafe = unsafe or manifest_unsafe
    except PackError as exc:  # pack.yaml itself cannot be read
        problems += exc.problems
    notes: list[str] = []
    run = Run()
    template = f"{label}/{pack.word_template}" if pack is not None and pack.word_template else None
    # the Word template is checked even when pack.yaml has problems, unless the file scan refused it already
    if pack is not None and template and not manifest_unsafe and template not in {problem.file for problem in safety} \
            and pack.path(pack.word_template).is_file():
        try:
            word = run.word(pack)
            for style in word.missing_styles():
                problems.append(Problem(f"Word 模板缺少样式 {style}", template,
                                        hint="在 Word 的“样式”窗格里新建或改名，样式名称要与 pack.yaml 的 styles 一致"))
        except UnsafePackError as exc:
            unsafe = True
            problems += exc.problems
        except PackError as exc:
            problems += exc.problems
    leftovers = [rel for rel, _ in tree.files if is_leftover(rel)] if own else []
    if leftovers:
        notes.append(f"这些文件不属于模板包，导出时不会带上：{first_few(leftovers)}")
    if pack is not None and not problems:
        notes += _try_example(run, pack, label, problems)
        notes += lint_sentences(pack)
    if problems:
        raise (UnsafePackError if unsafe else PackError)(_unique(problems))
    assert pack is not None
    return PackReport(pack, tuple(dict.fromkeys(notes)), variety(pack).describe(), tree.files)


def _try_example(run: Run, pack: Pack, label: str, problems: list[Problem]) -> list[str]:
    """Build the example profile in memory in several wordings (nothing is written); lint each draft."""
    if not pack.example_profile:
        return ["没有示例资料文件（pack.yaml 的 example_profile），无法试生成稿子"]
    path = pack.path(pack.example_profile)
    base = parse_yaml(read_text(path), f"{label}/{pack.example_profile}")
    notes: list[str] = []
    for wording in range(LINT_WORDINGS):
        tree = replace(base, data={**base.data, "wording": wording}) if wording else base
        try:
            draft = run.draft(tree, "", path.parent, pack=pack, example=True)
            if wording == 0:
                run.render(draft, "docx")
        except ReportgenError as exc:
            problems.extend(exc.problems)
            return notes
        if wording == 0:
            missing = draft.missing
            if missing:
                labels = first_few([m.label for m in missing])
                notes.append(f"示例资料文件生成的稿子里还有 {len(missing)} 处待补充：{labels}")
            notes += [f"示例资料文件：{w.message}" for w in draft.warnings]
        notes += [f"示例稿（措辞 {wording}）：{note}" for note in lint_document(draft.document)]
    return notes


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str | None, int | None]] = set()
    result = []
    for problem in problems:
        key = (problem.message, problem.file, problem.line)
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result


def new_pack(target: Path, source_request: str, cwd: Path) -> Pack:
    source = PackFinder().find(source_request, profile_dir=cwd)
    return load_pack(new_pack_folder(target, source), "local")


@dataclass(frozen=True)
class ExportResult:
    pack: Pack
    output: Path
    files: int
    left_out: tuple[str, ...]  # files in the folder a pack does not need
    notes: tuple[str, ...]


def export_pack(request: str, output: Path | None, *, force: bool = False, cwd: Path) -> ExportResult:
    """``packs export``: check the pack, then zip the files it needs, deterministically."""
    report = check_pack(request, cwd)
    pack = report.pack
    target = output if output is not None else Path(f"{pack.name}-{pack.version}.zip")
    files = export_files(pack, report.files)  # the files the check walked: the folder is not walked twice
    shipped = {rel for rel, _ in files}
    left_out = tuple(rel for rel, _ in report.files if rel not in shipped)
    Guard().write(target, zip_pack(pack.name, files), force=force, suffixes=(".zip",), what="导出文件",
                                    hint="换一个文件名，或加 --force 覆盖（旧文件会先备份）")
    return ExportResult(pack, target, len(files), left_out, report.notes)


def install(source: Path, *, force: bool = False) -> tuple[InstallResult, str | None]:
    """``packs install``; the second value warns when the pack shadows a built-in one of the same name."""

    def checked(root: Path, label: str) -> tuple[Pack, tuple[str, ...]]:
        report = check_pack_folder(root, label)
        return report.pack, report.notes

    result = install_pack(source, force=force, check=checked)
    shadowed = PackFinder().shadowed(result.pack)
    note = (f"已安装的模板包“{result.pack.name}”与内置模板包同名：资料文件写 pack: {result.pack.name} 时将使用已安装的这个"
            if shadowed is not None else None)
    return result, note


# ---------------------------------------------------------------- next year, 整改台账, 填报表, 复制比


@dataclass(frozen=True)
class NextResult:
    output: Path
    carried: NextYear
    year: int | None
    warnings: tuple[Problem, ...]
    backup: Path | None


def _next_name(source: Path, year: int | None) -> Path:
    if year and str(year - 1) in source.stem:
        return source.with_name(source.stem.replace(str(year - 1), str(year)) + ".yaml")
    return source.with_name(f"{source.stem}-{year or '下一年'}.yaml")


def plan_next(source: Path, *, pack_request: str | None = None, ledger: Path | None = None,
              rows: Sequence[LedgerRow] = ()) -> tuple[NextYear, Pack, int | None, list[Problem]]:
    """What ``next`` carries over from last year's profile, or from last year's report (.docx/.txt)."""
    warnings: list[Problem] = []
    if source.suffix.lower() in PROFILE_SUFFIXES:
        run = Run(pack_request, last_year=False)
        draft = run.draft_file(source)
        profile, pack = draft.profile, draft.pack
        meta = {key: str(profile.meta.get(key) or "") for key in ("unit", "name", "position", "superior", "committee")}
        year = profile.meta.year + 1 if profile.meta.year else None
        values = {key: value_text(value.value) + value.approx for key, value in draft.facts.values.items()
                  if value.spec.origin != "profile" and not isinstance(value.value, dt.date)}
        requirement = profile.pack or pack.name
        if not any(op in requirement for op in "<>=!~"):
            requirement = f"{requirement}>={pack.version}"
        last_draft = source.with_suffix(".docx")
        chosen = {"work": [key for choice in profile.work for key in choice.keys]}
        carried = NextYear(requirement, meta, values, tuple(k for k, _, _ in draft.promises if k),
                           tuple((problem, measure or "") for _, problem, measure in draft.promises), chosen,
                           last_draft.name if last_draft.is_file() else None, source.name)
    else:
        report = read_last_report(source)
        pack = PackFinder().find(pack_request, profile_dir=source.parent)
        year = report.year + 1 if report.year else None
        carried = NextYear(pack_request or f"{pack.name}>={pack.version}", {}, {}, (),
                           tuple((problem, measure or "") for problem, measure in report.pairs()),
                           _from_example(pack)[0] | {"problems": [], "causes": []}, None, source.name)
    if ledger is not None:
        problems = [problem for problem, _ in carried.rectifications]
        match = match_ledger(problems, rows, carried.meta.get("unit", ""))
        warnings += ledger_warnings(problems, match, ledger, display_path(source))
    return carried, pack, year, warnings


def next_year(source: Path, output: Path | None = None, *, pack_request: str | None = None, force: bool = False,
              ledger: Path | None = None, confirm: Callable[[NextYear], bool] | None = None) -> NextResult | None:
    """``next``: next year's profile from this year's (or from last year's Word file); None if not confirmed."""
    rows = read_ledger(ledger) if ledger is not None else []
    carried, pack, year, warnings = plan_next(source, pack_request=pack_request, ledger=ledger, rows=rows)
    from_report = source.suffix.lower() not in PROFILE_SUFFIXES
    if confirm is not None and from_report and not confirm(carried):
        return None
    target = output if output is not None else _next_name(source, year)
    text = next_text(pack, year, carried, ledger_rows=rows)
    backup = Guard(inputs=(source,)).write(
        target, text.encode("utf-8"), force=force, suffixes=PROFILE_SUFFIXES, what="资料文件",
        hint="换一个文件名（-o），或加 --force 覆盖（旧文件会先备份）")
    return NextResult(target, carried, year, tuple(warnings), backup)


def _profiles(inputs: Sequence[Path]) -> list[Path]:
    found = profile_files(inputs)
    if not found:
        raise ProfileError(Problem("没有找到资料文件", hint="给出 .yaml 资料文件，或放着资料文件的文件夹"))
    return found


def ledger(inputs: Sequence[Path], output: Path, *, pack_request: str | None = None, force: bool = False) -> tuple[int, Path | None]:
    """``ledger``: the year's problems and measures of one or more profiles as a 整改台账 workbook."""
    run = Run(pack_request, last_year=False)
    entries: list[LedgerEntry] = []
    problems: list[Problem] = []
    year: int | None = None
    for path in _profiles(inputs):
        try:
            draft = run.draft_file(path)
        except ReportgenError as exc:
            problems += exc.problems
            continue
        profile = draft.profile
        year = year or profile.meta.year
        source = f"{profile.meta.year or ''}年度述职自查"
        entries += [LedgerEntry(profile.meta.unit or "", problem, source, measure or "", profile.meta.name or "")
                    for _, problem, measure in draft.promises]
    if problems:
        raise ProfileError(problems)
    backup = Guard(inputs=tuple(inputs)).write(output, ledger_bytes(entries, year=year), force=force,
                                               suffixes=(".xlsx",), what="整改台账")
    return len(entries), backup


def sheet(pack_request: str | None, output: Path, profiles: Sequence[Path], *, force: bool = False) -> tuple[Pack, int, Path | None]:
    """``sheet``: the fill-in workbook of a pack, with rows filled in from ``profiles`` when given."""
    from .outputs.sheet import profile_values, sheet_bytes  # openpyxl, ~120 ms: only for this command

    run = Run(pack_request, last_year=False)
    rows: list[dict[str, object]] = []
    pack: Pack | None = None
    year: int | None = None
    rectifications = 2
    for path in _profiles(profiles) if profiles else []:
        draft = run.draft_file(path)
        pack = pack or draft.pack
        rows.append(profile_values(draft.profile, pack))
        year = year or draft.profile.meta.year
        rectifications = max(rectifications, len(draft.profile.rectifications))
    pack = pack or PackFinder().find(pack_request, profile_dir=Path.cwd())
    data = sheet_bytes(pack, rows, year=year, rectifications=rectifications)
    backup = Guard(inputs=tuple(profiles)).write(output, data, force=force, suffixes=(".xlsx",),
                                                                      what="填报表")
    return pack, len(rows), backup


@dataclass(frozen=True)
class RowCheck:
    label: str
    draft: Draft | None
    error: ReportgenError | None


def check_workbook(path: Path, pack_request: str | None = None) -> list[RowCheck]:
    """``check 填报表.xlsx``: each row drafted in memory, what is wrong or missing per row."""
    book = read_workbook(path)
    run = Run(pack_request or book.pack)
    result: list[RowCheck] = []
    for row in book.rows:
        try:
            result.append(RowCheck(row.label, run.draft(row.tree, row.digest, path.parent, file_name=row.label), None))
        except ReportgenError as exc:
            result.append(RowCheck(row.label, None, exc))
    return result


def similar(inputs: Sequence[Path]) -> list[Match]:
    """``similar``: every draft's most similar other draft, most similar first."""
    from .outputs.similarity import best_matches, normalize  # lazy: numpy adds ~70 ms to every other command

    files: list[Path] = []
    for given in inputs:
        if given.is_dir():
            files += [p for p in folder_files(given, (".docx", ".md")) if not p.name.startswith((".", "~$"))]
        elif given.is_file():
            files.append(given)
        else:
            raise ProfileError(Problem("找不到这个文件或文件夹", display_path(given)))
    if len(files) < 2:
        raise ProfileError(Problem("至少要有两份稿子才能比较", hint="给出几份 .docx 或 .md 稿子，或放着稿子的文件夹"))
    texts = []
    for path in files:
        text, names = document_text(path)
        texts.append(normalize(display_path(path), text, names))
    matches = [match for match in best_matches(texts) if match is not None]
    return sorted(matches, key=lambda match: match.ratio, reverse=True)

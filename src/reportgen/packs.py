"""Managing template packs: list, show, new, check, export and install.

Packs travel between units as zip files or folders, so everything here treats a pack
as untrusted data: no symlinks, no paths leaving the pack, bounded file counts and
sizes, no macro-enabled or externally linked Word files, and a full ``packs check``
(every template compiled in the sandbox, the example profile built in memory) before
anything reaches the user's store.  An install is staged in a temporary folder inside
the store and renamed into place only after it passed, so a refused install leaves the
store exactly as it was.
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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .errors import (
    OutputError,
    PackError,
    Problem,
    ReportgenError,
    UnsafePackError,
    display_path,
    display_width,
    os_error_text,
    pad,
)
from .numbering import item_label
from .pack import (
    _NAME_RE,
    _SOURCE_NAMES,
    CATALOGUE_KINDS,
    MANIFEST,
    Pack,
    _candidates,
    find_pack,
    load_pack,
    user_packs_dir,
)

if TYPE_CHECKING:
    from .core import DraftMaker

__all__ = [
    "MAX_PACK_BYTES",
    "MAX_PACK_FILES",
    "CheckReport",
    "ExportResult",
    "InstallResult",
    "PackListing",
    "check_pack",
    "check_pack_folder",
    "describe_pack",
    "export_pack",
    "install_pack",
    "list_all",
    "new_pack",
    "show_pack",
]

MAX_PACK_FILES = 500
MAX_PACK_BYTES = 50 * 1024 * 1024
NEW_VERSION = "0.1.0"
MACRO_SUFFIXES = (".docm", ".dotm", ".xlsm", ".xltm", ".xlam", ".pptm", ".potm", ".ppsm", ".ppam")
WORD_SUFFIXES = (".docx", ".dotx")
# Litter that file managers and editors leave in folders: never copied, exported or installed.
JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", "__pycache__", ".git", "__MACOSX"})
_CHUNK = 64 * 1024
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)

SECTION_WORDS = {"opening": "开头", "work": "履职工作情况", "rectification": "上年问题整改情况",
                 "problems": "存在的问题", "causes": "问题原因", "measures": "下一步措施", "closing": "结束语"}
CATALOGUE_WORDS = {"topics": "履职工作", "problems": "问题", "causes": "原因", "measures": "措施"}
NUMBERING_WORDS = {
    "chinese": "一、二、三、",
    "paren_chinese": "（一）（二）（三）",
    "arabic": "1. 2. 3.",
    "paren_arabic": "（1）（2）（3）",
    "ordinal_inline": "一是、二是、三是（在同一段内）",
    "ordinal_paragraphs": "一是、二是、三是（各自成段）",
    "none": "不编号",
}
FACT_TYPE_WORDS = {"integer": "整数", "number": "数字", "percent": "百分比", "text": "文字", "list": "列表"}


def _is_junk(name: str) -> bool:
    return name in JUNK_NAMES or name.startswith("~$") or name.startswith("._")


# ---------------------------------------------------------------- walking a pack folder safely


@dataclass(frozen=True)
class _Tree:
    files: tuple[tuple[str, Path], ...]  # (posix path relative to the root, absolute path)
    problems: tuple[Problem, ...]  # every one of them makes the pack unsafe


def _walk(root: Path, label: str) -> _Tree:
    """Every regular file of a pack, refusing symlinks, special files and oversized trees."""
    files: list[tuple[str, Path]] = []
    problems: list[Problem] = []
    total = 0
    for folder, dirs, names in os.walk(root, followlinks=False):
        base = Path(folder)
        dirs.sort()
        for name in list(dirs):
            path = base / name
            if _is_junk(name):
                dirs.remove(name)
            elif path.is_symlink():
                dirs.remove(name)
                problems.append(Problem(f"模板包里有符号链接“{_rel(path, root)}”", label,
                                        hint="模板包里只能有普通文件和文件夹，不能有符号链接（快捷方式）"))
        for name in sorted(names):
            if _is_junk(name):
                continue
            path = base / name
            rel = _rel(path, root)
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                problems.append(Problem(f"模板包里有符号链接“{rel}”", label,
                                        hint="模板包里只能有普通文件和文件夹，不能有符号链接（快捷方式）"))
                continue
            if not stat.S_ISREG(info.st_mode):
                problems.append(Problem(f"模板包里有特殊文件“{rel}”", label, hint="模板包里只能有普通文件"))
                continue
            files.append((rel, path))
            total += info.st_size
        if len(files) > MAX_PACK_FILES:
            problems.append(_too_many_files(label))
            break
        if total > MAX_PACK_BYTES:
            problems.append(_too_big(label))
            break
    return _Tree(tuple(files), tuple(problems))


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _too_many_files(label: str) -> Problem:
    return Problem(f"模板包里的文件超过 {MAX_PACK_FILES} 个，可能是“压缩炸弹”", label,
                   hint="正常的模板包只有几十个文件；请向发放单位核实")


def _too_big(label: str) -> Problem:
    return Problem(f"模板包解压后超过 {MAX_PACK_BYTES // (1024 * 1024)} MB，可能是“压缩炸弹”", label,
                   hint="正常的模板包只有几百 KB；请向发放单位核实")


def _office_problems(tree: _Tree, label: str, skip: str | None) -> list[Problem]:
    """Macro-enabled Office files anywhere, and unsafe Word files other than the main template."""
    from .word import check_docx_safety

    problems: list[Problem] = []
    for rel, path in tree.files:
        shown = f"{label}/{rel}"
        lowered = rel.lower()
        if lowered.endswith(MACRO_SUFFIXES):
            problems.append(Problem("模板包里有启用宏的 Office 文件", shown, hint="模板包只能使用普通 .docx，不能带宏"))
        elif lowered.endswith(WORD_SUFFIXES) and rel != skip:
            try:
                with zipfile.ZipFile(path) as zf:
                    infos = zf.infolist()
                    check_docx_safety([(i.filename, i.file_size) for i in infos], zf.read, shown)
            except UnsafePackError as exc:
                problems.extend(exc.problems)
            except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, NotImplementedError):
                problems.append(Problem("Word 文件无法打开", shown, hint="请用 Word 或 WPS 重新另存为 .docx"))
    return problems


# ---------------------------------------------------------------- list and show


@dataclass(frozen=True)
class PackListing:
    packs: tuple[Pack, ...]  # in resolution order: local, user, builtin
    broken: tuple[tuple[Path, str], ...]  # (folder, source) of packs that do not load

    def as_json(self) -> list[dict[str, str]]:
        return [{"name": p.name, "version": p.version, "title": p.title, "source": p.source} for p in self.packs]

    def as_lines(self) -> list[str]:
        if not self.packs:
            return ["没有找到模板包。"]
        rows = [("名称", "版本", "来源", "标题")]
        rows += [(p.name, p.version, _SOURCE_NAMES.get(p.source, p.source), p.title) for p in self.packs]
        widths = [max(display_width(row[i]) for row in rows) for i in range(3)]
        return ["  ".join(pad(cell, widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3] for row in rows]


def list_all(profile_dir: Path | None = None) -> PackListing:
    """Every pack in every place, the same name listed once per place it is found in."""
    packs: list[Pack] = []
    broken: list[tuple[Path, str]] = []
    for source, folder in _candidates(profile_dir):
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            if child.name.startswith(".") or not (child / MANIFEST).is_file():
                continue
            try:
                packs.append(load_pack(child, source))
            except ReportgenError:
                broken.append((child, source))
    return PackListing(tuple(packs), tuple(broken))


def show_pack(request: str, profile_dir: Path | None = None) -> str:
    return describe_pack(find_pack(request, profile_dir=profile_dir))


def describe_pack(pack: Pack) -> str:
    """A pack's facts, catalogues and skeleton, in words a clerk can read."""
    out = [
        f"模板包：{pack.title}",
        f"名称：{pack.name}    版本：{pack.version}    来源：{_SOURCE_NAMES.get(pack.source, pack.source)}",
        f"位置：{display_path(pack.root)}",
    ]
    if pack.description:
        out.append(f"说明：{pack.description}")
    if pack.requires:
        out.append(f"需要 reportgen：{pack.requires}")
    out.append("")
    out.append(f"事实（facts，共 {len(pack.facts)} 项）：")
    for spec in pack.facts:
        details = [FACT_TYPE_WORDS.get(spec.type, spec.type)]
        if spec.unit and spec.type not in ("text", "list", "percent"):
            details.append(f"单位：{spec.unit}")
        details.append("必填" if spec.required else "选填")
        out.append(f"  {spec.key}：{spec.label}（{'，'.join(details)}）")
    out.append("")
    out.append("条目（catalogues）：")
    for kind in CATALOGUE_KINDS:
        entries = pack.catalogues.get(kind, {})
        if not entries:
            continue
        out.append(f"  {CATALOGUE_WORDS[kind]}（{kind}，共 {len(entries)} 条）：")
        for entry in entries.values():
            measure = f"（对应措施：{entry.measure}）" if entry.measure else ""
            out.append(f"    {entry.key}：{entry.title} —— {entry.lead}{measure}")
    out.append("")
    out.append("结构（skeleton）：")
    if pack.skeleton.title:
        out.append(f"  标题：{pack.skeleton.title}")
    out.append(f"  署名：{'有（单位、职务、姓名和日期）' if pack.skeleton.byline else '无'}")
    headings = 0
    for index, section in enumerate(pack.skeleton.sections, start=1):
        parts: list[str] = []
        if section.heading:
            headings += 1
            parts.append(f"标题“{item_label('chinese', headings)}{section.heading}”")
        elif section.kind not in ("opening", "closing"):
            parts.append("无单独标题")
        if section.template:
            parts.append(f"正文模板 {section.template}")
        if section.intro:
            parts.append(f"开头段 {section.intro}")
        if section.kind not in ("opening", "closing"):
            parts.append(f"编号：{NUMBERING_WORDS.get(section.numbering, section.numbering)}")
            if section.kind != "rectification":
                parts.append(f"{section.min_items}～{section.max_items} 条")
        words = SECTION_WORDS.get(section.kind, section.kind)
        out.append(f"  {index}. {words}（{section.kind}）：{'；'.join(parts)}")
    return "\n".join(out)


# ---------------------------------------------------------------- check


@dataclass(frozen=True)
class CheckReport:
    pack: Pack
    templates: int  # prose templates compiled
    notes: tuple[str, ...]  # remarks that do not fail the check


def check_pack(request: str, profile_dir: Path | None = None) -> CheckReport:
    """``packs check NAME|PATH``: every problem at once; raises PackError (or UnsafePackError) on any."""
    root = Path(request)
    if root.name == MANIFEST:
        root = root.parent
    if root.is_dir() and (root / MANIFEST).is_file():
        return check_pack_folder(root, "local")
    pack = find_pack(request, profile_dir=profile_dir)
    return check_pack_folder(pack.root, pack.source)


def check_pack_folder(root: Path, source: str, *, label: str | None = None) -> CheckReport:
    """Validate a pack folder fully: files, manifest, templates, variables, Word template, example build."""
    checker = _Checker(root, source, label)
    report = checker.run()
    if checker.problems:
        kind = UnsafePackError if checker.unsafe else PackError
        raise kind(_dedupe(checker.problems))
    assert report is not None
    return report


def _dedupe(problems: Iterable[Problem]) -> list[Problem]:
    seen: set[tuple[str, str | None, int | None]] = set()
    result: list[Problem] = []
    for p in problems:
        key = (p.message, p.file, p.line)
        if key not in seen:
            seen.add(key)
            result.append(p)
    return result


class _Checker:
    """Collects every problem of a pack folder.

    Files are shown as ``<label>/<path inside the pack>``: the folder as the user gave it for
    ``packs check``, the pack's name for an install (whose staging folder means nothing to the user).
    """

    def __init__(self, root: Path, source: str, label: str | None) -> None:
        self.root = root
        self.source = source
        self.label = label or display_path(root)
        self.named_by_pack = label is not None
        self.pack_name: str | None = None
        self.problems: list[Problem] = []
        self.unsafe = False

    def add(self, exc: ReportgenError) -> None:
        if isinstance(exc, UnsafePackError):
            self.unsafe = True
        self.problems.extend(self._relocate(p) for p in exc.problems)

    def _relocate(self, problem: Problem) -> Problem:
        file = problem.file
        if file is None:
            return problem
        rest: str | None = None
        for prefix in sorted({str(self.root), str(self.root.resolve()), display_path(self.root)}, key=len,
                             reverse=True):
            if file == prefix or file.startswith(prefix.rstrip("/") + "/"):
                rest = file[len(prefix):].lstrip("/")
                break
        if rest is None and self.pack_name and file.startswith(f"{self.pack_name}/"):
            rest = file[len(self.pack_name) + 1:]
        if rest is None and file.startswith("skeleton."):
            rest = f"{MANIFEST}（{file}）"
        if rest is None and not Path(file).is_absolute():
            rest = file
        if rest is None:
            return problem
        shown = f"{self.label}/{rest}" if rest else self.label
        return Problem(problem.message, shown, problem.line, problem.column, problem.key, problem.hint)

    def run(self) -> CheckReport | None:
        pack: Pack | None = None
        try:
            pack = load_pack(self.root, self.source)
        except ReportgenError as exc:
            self.add(exc)
        if pack is not None:
            self.pack_name = pack.name
            if self.named_by_pack:
                self.label = pack.name
        tree = _walk(self.root, self.label)
        if tree.problems:
            self.unsafe = True
            self.problems.extend(tree.problems)
        office = _office_problems(tree, self.label, pack.word_template if pack else None)
        if office:
            self.unsafe = True
            self.problems.extend(office)
        if pack is None:
            return None
        return self._check_contents(pack)

    def _check_contents(self, pack: Pack) -> CheckReport:
        from .core import DraftMaker
        from .prose import iter_templates, template_variable_problems

        maker = DraftMaker(pack)
        seen: set[tuple[str, str | None]] = set()
        for file, source in iter_templates(pack):
            if (file, source) in seen:
                continue
            seen.add((file, source))
            try:
                maker.prose.template(file, source=source)
            except ReportgenError as exc:
                self.add(exc)
        self.problems.extend(self._relocate(p) for p in template_variable_problems(maker.prose))
        try:
            missing = maker.word.missing_styles()
        except ReportgenError as exc:
            self.add(exc)
        else:
            for style in missing:
                self.problems.append(self._relocate(Problem(
                    f"Word 模板缺少样式 {style}", f"{pack.name}/{pack.word_template}",
                    hint="在 Word 的“样式”窗格里新建或改名，样式名称要与 pack.yaml 的 styles 一致")))
        notes: list[str] = []
        if self.problems:
            return CheckReport(pack, len(seen), ())
        notes.extend(self._build_example(pack, maker))
        return CheckReport(pack, len(seen), tuple(notes))

    def _build_example(self, pack: Pack, maker: DraftMaker) -> list[str]:
        """Build the example profile in memory (nothing is written); returns notes."""
        from .core import missing_facts
        from .pack import parse_pack_requirement
        from .profile import load_profile_document, validate_profile
        from .sandbox import RenderTimeout

        if not pack.example_profile:
            return ["没有示例资料文件（pack.yaml 的 example_profile），无法试生成稿子"]
        path = pack.path(pack.example_profile)
        try:
            doc, digest = load_profile_document(path)
            profile = validate_profile(doc, digest, pack)
            document = maker.document(profile)
            maker.docx(profile, document)
        except ReportgenError as exc:
            self.add(exc)
            return []
        except RenderTimeout:
            self.add(UnsafePackError(Problem("模板运行超时，已中止", f"{pack.name}/{pack.example_profile}")))
            return []
        notes: list[str] = []
        requested = doc.data.get("pack") if isinstance(doc.data, dict) else None
        if isinstance(requested, str) and parse_pack_requirement(requested)[0] != pack.name:
            notes.append(f"示例资料文件写的是 pack: {requested}，与模板包名称“{pack.name}”不一致")
        missing = missing_facts(document)
        if missing:
            labels = "、".join(m.label for m in missing[:5]) + ("等" if len(missing) > 5 else "")
            notes.append(f"示例资料文件生成的稿子里还有 {len(missing)} 处待补充：{labels}")
        return notes


# ---------------------------------------------------------------- new


def _set_top_level(text: str, key: str, value: str) -> tuple[str, bool]:
    """Replace the value of a top-level ``key: value`` line, keeping its trailing comment."""
    pattern = re.compile(rf"^({re.escape(key)}[ \t]*:[ \t]*)([^#\r\n]*?)([ \t]*(?:#[^\r\n]*)?)(\r?)$", re.MULTILINE)
    new, count = pattern.subn(lambda m: f"{m.group(1)}{value}{m.group(3)}{m.group(4)}", text, count=1)
    return new, count == 1


def _edit_yaml_file(path: Path, changes: dict[str, str]) -> bool:
    """Edit top-level scalars of a YAML file as text, so its comments and layout survive."""
    from .yamlsource import decode_text

    raw = path.read_bytes()
    text = decode_text(raw, display_path(path))
    bom = text.startswith("\ufeff")
    text = text.lstrip("\ufeff")
    done = True
    for key, value in changes.items():
        text, found = _set_top_level(text, key, value)
        done = done and found
    path.write_bytes((("\ufeff" if bom else "") + text).encode("utf-8"))
    return done


def new_pack(target: Path, source_request: str, profile_dir: Path | None = None) -> Pack:
    """``packs new DIR --from NAME``: a copy to adapt, named after DIR, version 0.1.0."""
    shown = display_path(target)
    name = target.resolve().name.lower()
    if not _NAME_RE.match(name):
        raise PackError(Problem(f"文件夹名“{target.resolve().name}”不能用作模板包名称", shown,
                                hint="新模板包的名称取自文件夹名，只能用小写字母、数字、- 和 _，如 my-jiguan"))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OutputError(Problem("这个位置已经有文件了，没有覆盖", shown, hint="换一个还不存在的（或空的）文件夹名"))
    if not target.parent.is_dir():
        raise OutputError(Problem("上一级文件夹不存在", shown, hint=f"请先建立文件夹“{display_path(target.parent)}”"))
    source = find_pack(source_request, profile_dir=profile_dir)
    tree = _walk(source.root, source.name)
    if tree.problems:
        raise UnsafePackError(tree.problems)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.new-", dir=target.parent))
    try:
        for rel, path in tree.files:
            destination = staging.joinpath(*rel.split("/"))
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
        if not _edit_yaml_file(staging / MANIFEST, {"name": name, "version": NEW_VERSION}):
            raise PackError(Problem("无法在 pack.yaml 里改写 name 和 version", display_path(source.root / MANIFEST),
                                    hint="pack.yaml 里的 name: 和 version: 应各占一行、顶格书写"))
        if source.example_profile and (staging / source.example_profile).is_file():
            _edit_yaml_file(staging / source.example_profile, {"pack": name})
        if target.exists():
            target.rmdir()
        os.rename(staging, target)
    except OSError as exc:
        raise OutputError(Problem(f"无法建立模板包：{os_error_text(exc)}", shown)) from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return load_pack(target, "local")


# ---------------------------------------------------------------- export


@dataclass(frozen=True)
class ExportResult:
    pack: Pack
    output: Path
    files: int
    notes: tuple[str, ...]


def _zip_bytes(prefix: str, files: Iterable[tuple[str, Path]]) -> bytes:
    """A deterministic zip: sorted entries, fixed times and permissions."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, path in sorted(files):
            info = zipfile.ZipInfo(f"{prefix}/{rel}", _FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def export_pack(request: str, output: Path | None, *, force: bool = False,
                profile_dir: Path | None = None) -> ExportResult:
    """``packs export NAME -o FILE.zip``: check the pack, then zip its folder deterministically."""
    from .output import write_atomically

    if output is not None and output.suffix.lower() != ".zip":
        raise OutputError(Problem("导出文件应以 .zip 结尾", display_path(output),
                                  hint=f"例如 -o {output.stem or '模板包'}.zip"))
    report = check_pack(request, profile_dir)
    pack = report.pack
    if output is None:
        output = Path(f"{pack.name}-{pack.version}.zip")
    shown = display_path(output)
    if output.resolve().is_relative_to(pack.root.resolve()):
        raise OutputError(Problem("导出文件不能放在模板包文件夹里面", shown, hint="换一个位置，如 -o ../模板包.zip"))
    if output.is_dir():
        raise OutputError(Problem("输出位置是一个文件夹", shown, hint=f"例如 -o {pack.name}-{pack.version}.zip"))
    if output.exists() and not force:
        raise OutputError(Problem("文件已存在，没有覆盖", shown, hint="换一个文件名，或加 --force 覆盖"))
    tree = _walk(pack.root, pack.name)
    if tree.problems:
        raise UnsafePackError(tree.problems)
    write_atomically(output, _zip_bytes(pack.name, tree.files))
    return ExportResult(pack, output, len(tree.files), report.notes)


# ---------------------------------------------------------------- install


@dataclass(frozen=True)
class InstallResult:
    pack: Pack
    previous: str | None  # the version that was replaced, if any
    notes: tuple[str, ...]

    @property
    def message(self) -> str:
        name, new, old = self.pack.name, self.pack.version, self.previous
        if old is None:
            return f"已安装模板包 {name} {new}（{self.pack.title}）"
        if old == new:
            return f"已重新安装模板包 {name} {new}"
        from packaging.version import InvalidVersion, Version

        try:
            upgrade = Version(new) > Version(old)
        except InvalidVersion:
            upgrade = True
        return f"已将模板包 {name} 从 {old} {'升级' if upgrade else '降级'}到 {new}"


def install_pack(source: Path, *, force: bool = False) -> InstallResult:
    """``packs install FILE.zip|DIR``: stage, check fully, then rename into the user store."""
    shown = display_path(source)
    if not source.exists():
        raise PackError(Problem("找不到要安装的模板包", shown, hint="请给出模板包的 .zip 文件或文件夹"))
    is_dir = source.is_dir()
    if is_dir and not (source / MANIFEST).is_file():
        raise PackError(Problem("这个文件夹里没有 pack.yaml，不是模板包", shown))
    if not is_dir and not zipfile.is_zipfile(source):
        raise PackError(Problem("这不是 .zip 压缩包，也不是模板包文件夹", shown,
                                hint="模板包用 reportgen packs export 导出为 .zip 后发放"))
    store = user_packs_dir()
    with _staging(store) as staging:
        unpacked = staging / "pack"
        unpacked.mkdir()
        if is_dir:
            _copy_folder(source, unpacked, shown)
        else:
            _extract_zip(source, unpacked, shown)
        report = check_pack_folder(unpacked, "user", label=source.stem if not is_dir else source.resolve().name)
        pack = report.pack
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
    return InstallResult(load_pack(target, "user"), previous, report.notes)


def _installed_version(target: Path) -> str | None:
    if not (target / MANIFEST).is_file():
        return None
    try:
        return load_pack(target, "user").version
    except ReportgenError:
        return None


@contextlib.contextmanager
def _staging(store: Path) -> Iterator[Path]:
    """A temporary folder inside the store; removed afterwards, with any folder this created."""
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
        staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=store))
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


STORE_LOCK = ".lock"  # in the user's pack store: installs take turns (each swaps whole pack folders)


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
    """Release the lock (closing the file does); ``remove`` its file when the store was made for nothing."""
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
    tree = _walk(source, shown)
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
    while True:
        chunk = src.read(_CHUNK)
        if not chunk:
            return total
        written += len(chunk)
        total += len(chunk)
        if total > MAX_PACK_BYTES:
            raise UnsafePackError(_too_big(shown))
        if declared is not None and written > declared:
            raise UnsafePackError(Problem("压缩包里的文件比声明的大，可能是“压缩炸弹”", shown,
                                          hint="请向发放单位核实这个文件"))
        out.write(chunk)


def _entry_parts(name: str) -> list[str] | None:
    """The path parts of a zip entry, or None when the entry would land outside the pack."""
    normal = name.replace("\\", "/")
    if normal.startswith("/") or _DRIVE_RE.match(normal) or "\x00" in normal:
        return None
    parts = [p for p in normal.split("/") if p not in ("", ".")]
    if any(p == ".." or ":" in p for p in parts):
        return None
    return parts


def _extract_zip(source: Path, destination: Path, shown: str) -> None:
    """Check every entry of a pack zip, then extract it counting bytes; any doubt refuses the whole zip."""
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackError(Problem(f"压缩包无法打开（{exc}）", shown)) from None
    with zf:
        problems: list[Problem] = []
        entries: list[tuple[zipfile.ZipInfo, list[str]]] = []
        seen: set[str] = set()
        for info in zf.infolist():
            parts = _entry_parts(info.filename)
            if parts is None:
                problems.append(Problem(f"压缩包里有指向包外的路径“{info.filename}”", shown,
                                        hint="模板包里的文件只能放在包内；这个压缩包可能被人恶意修改过，请勿使用"))
                continue
            if any(_is_junk(p) for p in parts):
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                problems.append(Problem(f"压缩包里有符号链接“{info.filename}”", shown,
                                        hint="模板包里只能有普通文件和文件夹，不能有符号链接"))
                continue
            if info.is_dir() or not parts:
                continue
            if mode and stat.S_IFMT(mode) and not stat.S_ISREG(mode):
                problems.append(Problem(f"压缩包里有特殊文件“{info.filename}”", shown))
                continue
            if info.flag_bits & 0x1:
                problems.append(Problem(f"压缩包里的文件“{info.filename}”加了密码", shown,
                                        hint="请发放不加密的压缩包"))
                continue
            key = "/".join(parts).lower()
            if key in seen:
                problems.append(Problem(f"压缩包里有重名的文件“{info.filename}”", shown))
                continue
            seen.add(key)
            entries.append((info, parts))
        if len(entries) > MAX_PACK_FILES:
            problems.append(_too_many_files(shown))
        if sum(info.file_size for info, _ in entries) > MAX_PACK_BYTES:
            problems.append(_too_big(shown))
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
                if not target.resolve().is_relative_to(destination.resolve()):
                    raise UnsafePackError(Problem(f"压缩包里有指向包外的路径“{info.filename}”", shown))
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, target.open("xb") as out:
                    total = _copy_limited(src, out, total, info.file_size, shown)
        except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
            raise PackError(Problem(f"压缩包已损坏或格式不受支持（{exc}）", shown,
                                    hint="请让发放单位用 reportgen packs export 重新导出")) from None
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            raise UnsafePackError(Problem("压缩包里有重名的文件或文件夹", shown)) from None


def _manifest_depth(entries: list[tuple[zipfile.ZipInfo, list[str]]], shown: str) -> int:
    """0 when pack.yaml is at the zip's top, 1 when everything sits in one folder holding it."""
    paths = [parts for _, parts in entries]
    if [MANIFEST] in paths:
        return 0
    tops = {parts[0] for parts in paths if len(parts) > 1} | {parts[0] for parts in paths if len(parts) == 1}
    if len(tops) == 1 and [next(iter(tops)), MANIFEST] in paths:
        return 1
    raise PackError(Problem("压缩包里没有 pack.yaml，不是模板包", shown,
                            hint="模板包压缩包应包含 pack.yaml（可以放在一个文件夹里）"))

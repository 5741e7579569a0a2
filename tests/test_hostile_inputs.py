"""Hostile and malformed profiles: every one ends in a Chinese message and exit 1, or in a correct draft.

Each row of ``ROWS`` is one input as a clerk (or an attacker) might produce it; the test checks the exit
code, a substring of the exact message, the file:line it points at, that no traceback was printed, that
no code ran, and that nothing (no .docx, no temporary file) is left behind when the build fails.

The well-formedness helpers at the top (``docx_problems``, ``assert_docx_well_formed``) are used by the
other robustness tests too.
"""

from __future__ import annotations

import io
import os
import random
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from conftest import REL_NS, assert_docx_well_formed, document_text, docx_problems, pick
from reportgen.cli import cli


def test_docx_problems_finds_a_broken_part() -> None:
    """The checker itself must be able to fail."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("_rels/.rels", f'<Relationships xmlns="{REL_NS[1:-1]}"><Relationship Id="r1" '
                                   'Target="word/document.xml"/><Relationship Id="r2" Target="docProps/x.xml"/>'
                                   "</Relationships>")
        zf.writestr("word/document.xml", "<w:document><w:t>a\x0bb</w:t></w:document>")
    problems = docx_problems(buffer.getvalue())
    assert any("word/document.xml: XML does not parse" in p for p in problems)
    assert any("points at missing docProps/x.xml" in p for p in problems)
    assert docx_problems(b"PK\x03\x04 not really") == ["not a zip file: File is not a zip file"]


# ---------------------------------------------------------------- a minimal profile for the jiguan pack

UNIT = "某市某局机关党委"
NAME = "张某某"


@dataclass(frozen=True)
class Kit:
    """Valid keys of the built-in jiguan pack, read at test time (its catalogues change as content grows)."""

    fact: str  # an integer fact
    work: tuple[str, ...]
    problems: tuple[str, ...]
    causes: tuple[str, ...]

    def text(self) -> str:
        """A valid profile, one item a line, so rows can point at exact lines."""
        lines = ["pack: jiguan", "meta:", f"  unit: {UNIT}", f"  name: {NAME}", "  position: 书记",
                 "  year: 2025", "facts:", f"  {self.fact}: 12"]
        for section in ("work", "problems", "causes"):
            keys = getattr(self, section)
            if keys:
                lines.append(f"{section}:")
                lines += [f"  - {key}" for key in keys]
        return "\n".join(lines) + "\n"


def jiguan_kit() -> Kit:
    from reportgen.pack import find_pack

    pack = find_pack("jiguan")
    fact = next((f.key for f in pack.facts if f.type == "integer" and (f.minimum or 0) <= 12
                 and (f.maximum is None or f.maximum >= 12)), None)
    if fact is None:
        pytest.skip("the jiguan pack declares no integer fact right now")
    return Kit(fact, tuple(pick(pack, "work", "topics", 1)), tuple(pick(pack, "problems", "problems", 1)),
               tuple(pick(pack, "causes", "causes", 1)))


@pytest.fixture
def kit() -> Kit:
    return jiguan_kit()


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based number of the line holding the ``occurrence``-th ``needle``."""
    start = -1
    for _ in range(occurrence):
        start = text.index(needle, start + 1)
    return text.count("\n", 0, start) + 1


def run_cli(args: list[str]) -> Result:
    return CliRunner().invoke(cli, args, catch_exceptions=True)


def assert_clean_exit(result: Result) -> None:
    """Exit through the CLI's own handling: no exception escaped, no traceback printed."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        trace = "".join(traceback.format_exception(result.exception))
        pytest.fail(f"uncaught {type(result.exception).__name__}:\n{trace}")
    assert "Traceback" not in result.output


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Row:
    id: str
    data: Callable[[Kit], bytes | str] | None  # the profile p.yaml (None: no file written)
    exit: int
    message: str | None = None  # substring of the exact message (exit 1)
    line_of: str | None = None  # the message points at p.yaml:<line holding this text>
    occurrence: int = 1  # … its occurrence-th appearance
    where: str | None = None  # or this regex matches the location
    args: tuple[str, ...] = ("build", "p.yaml")
    setup: Callable[[Path], tuple[str, ...] | None] | None = None  # may replace the arguments
    literal: tuple[str, ...] = ()  # exit 0: must appear in the document text exactly
    absent: tuple[str, ...] = ()  # exit 0: must not appear in the document text
    marks: tuple[Any, ...] = field(default_factory=tuple)
    isolate: bool = False  # a regression would hang or eat memory: only ever run it in a child process


def _sub(old: str, new: str) -> Callable[[Kit], str]:
    def make(kit: Kit) -> str:
        text = kit.text()
        assert old in text, f"{old!r} not in the base profile"
        return text.replace(old, new, 1)

    return make


def _fact(value: str) -> Callable[[Kit], str]:
    return lambda kit: kit.text().replace(f"  {kit.fact}: 12", f"  {kit.fact}: {value}")


def _encoded(codec: str, bom: bytes = b"") -> Callable[[Kit], bytes]:
    return lambda kit: bom + kit.text().encode(codec)


def _random_bytes(kit: Kit) -> bytes:
    data = bytearray(random.Random(5).randbytes(4096))
    data[100] = 0  # a binary file: NUL bytes among the rest
    return bytes(data)


def _billion_laughs(kit: Kit) -> str:
    lines = ['a: &a ["哈", "哈", "哈", "哈", "哈", "哈", "哈", "哈", "哈"]']
    for i in range(1, 10):
        refs = ", ".join([f"*{chr(96 + i)}"] * 9)
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [{refs}]")
    return "\n".join(lines) + "\n" + kit.text()


def _size_limit(kit: Kit) -> str:
    # Valid YAML (a long comment): only its size can make it fail.
    return kit.text() + "# " + "备注" * (3 * 1024 * 1024 // 6 + 1) + "\n"


def _deep_block(kit: Kit) -> str:
    return kit.text() + "overrides:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(80)) + \
        "  " * 81 + "x\n"


def _unwritable_folder(tmp: Path) -> tuple[str, ...] | None:
    folder = tmp / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        (folder / "probe").touch()
    except PermissionError:
        return None  # chmod works (not root): the locked folder itself is the target
    # Running as root: chmod does not stop writing. Use a folder that cannot exist instead.
    (folder / "probe").unlink()
    folder.chmod(0o700)
    (tmp / "notes.txt").write_text("一个普通文件", encoding="utf-8")
    return ("build", "p.yaml", "-o", "notes.txt/locked/out.docx")


def _under_file(tmp: Path) -> None:
    (tmp / "notes.txt").write_text("一个普通文件", encoding="utf-8")


def _a_folder(tmp: Path) -> None:
    (tmp / "folder.yaml").mkdir()


def _fifo(tmp: Path) -> None:
    os.mkfifo(tmp / "fifo.yaml")


def _empty_folder(tmp: Path) -> None:
    (tmp / "batch").mkdir()


def _batch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("reportgen.batch") is not None


PYTHON_TAGS = "不支持的 YAML 标签"

ROWS: list[Row] = [
    # -- empty and syntax
    Row("empty-file", lambda kit: b"", 1, "文件是空的（或只有注释），没有任何内容", where=r"p\.yaml(:1)?："),
    Row("comment-only", lambda kit: "# 资料文件\n# 还没有填写\n\n", 1, "文件是空的（或只有注释）", where=r"p\.yaml(:1)?："),
    Row("blank-lines-only", lambda kit: "\n   \n\n", 1, "文件是空的（或只有注释）"),
    Row("unclosed-double-quote", _sub(f"name: {NAME}", f'name: "{NAME}'), 1, "文件在引号或括号还没闭合时就结束了",
        where=r"p\.yaml:\d+:\d+："),
    Row("unclosed-single-quote", _sub(f"unit: {UNIT}", f"unit: '{UNIT}"), 1, "文件在引号或括号还没闭合时就结束了",
        where=r"p\.yaml:\d+:\d+："),
    Row("unclosed-bracket", lambda kit: kit.text() + "overrides: {closing: 结束语\n", 1, "方括号或花括号没有闭合",
        where=r"p\.yaml:\d+:\d+："),
    Row("indent-too-deep", _sub("  name:", "      name:"), 1, "这里不能出现“键: 值”", line_of="name:"),
    Row("indent-too-shallow", _sub("  name:", " name:"), 1, "缩进没有对齐或缺少冒号", line_of="name:"),
    Row("list-item-without-dash", lambda kit: kit.text() + "overrides:\n  closing: 甲\n  乙\n", 1, "缺少冒号",
        where=r"p\.yaml:\d+:\d+："),
    Row("list-dash-after-colon", lambda kit: kit.text() + "overrides: - 甲\n", 1, "这里不能以“- ”开始列表",
        line_of="overrides:"),
    Row("several-documents", lambda kit: kit.text() + "---\nmeta: {}\n", 1, "文件里有多个 YAML 文档", line_of="---"),
    Row("value-starts-with-at", _sub(f"unit: {UNIT}", f"unit: @{UNIT}"), 1, "这里的值以特殊符号开头", line_of="unit:"),
    Row("bad-escape", _sub(f"name: {NAME}", 'name: "张\\q某"'), 1, "双引号里有无法识别的反斜杠转义", line_of="name:"),
    Row("surrogate-escape", _sub(f"name: {NAME}", 'name: "\\ud800"'), 1, "转义不是有效的字符", line_of="name:"),
    # -- typing slips of a Chinese keyboard
    Row("tab-indent", _sub("  name:", "\tname:"), 1, "这一行用制表符（Tab）缩进", where=r"p\.yaml:4:1："),
    Row("full-width-colon", _sub(f"unit: {UNIT}", f"unit：{UNIT}"), 1, "键“unit”后面用了全角冒号“：”",
        where=r"p\.yaml:3:7："),
    Row("full-width-space-indent", _sub("  name:", "\u3000\u3000name:"), 1, "这一行用全角空格缩进",
        where=r"p\.yaml:4:1："),
    Row("colon-without-space", _sub(f"unit: {UNIT}", f"unit:{UNIT}"), 1, "键“unit”的冒号后面缺少空格",
        line_of="unit:"),
    Row("full-width-comma-list", lambda kit: kit.text().replace(
        f"  - {kit.work[0]}", f"  - {kit.work[0]}，{kit.work[0]}"), 1, "看起来用了全角逗号", line_of="，"),
    # -- encodings
    Row("utf8-bom", _encoded("utf-8", b"\xef\xbb\xbf"), 0, literal=(UNIT, NAME)),
    Row("gb18030", _encoded("gb18030"), 0, literal=(UNIT, NAME)),
    Row("utf16-le-bom", _encoded("utf-16-le", b"\xff\xfe"), 0, literal=(UNIT, NAME)),
    Row("utf16-be-bom", _encoded("utf-16-be", b"\xfe\xff"), 0, literal=(UNIT, NAME)),
    Row("crlf-line-ends", lambda kit: kit.text().replace("\n", "\r\n").encode("utf-8"), 0, literal=(UNIT,)),
    Row("utf16-without-bom", _encoded("utf-16-le"), 1, "这不是文本文件（含有二进制内容）", where=r"p\.yaml："),
    Row("random-bytes", _random_bytes, 1, "这不是文本文件（含有二进制内容）", where=r"p\.yaml："),
    Row("undecodable-bytes", lambda kit: b"meta:\n  unit: \x80\xff\x80\xff\n", 1,
        "无法识别文件的文字编码（既不是 UTF-8，也不是 GB18030）", where=r"p\.yaml:2："),
    # -- wrong types
    Row("string-for-count", _fact("十二"), 1, "应为整数（单位：", line_of="十二"),
    Row("bool-for-count", _fact("yes"), 1, "实际是“true”", line_of="yes"),
    Row("list-for-count", _fact("[1, 2]"), 1, "实际是一个列表", line_of="[1, 2]"),
    Row("unit-in-count", _fact("12次"), 1, "不要带单位“次”", line_of="12次"),
    Row("float-for-integer", _fact("12.5"), 1, "实际是 12.5", line_of="12.5"),
    Row("list-for-meta", lambda kit: re.sub(r"meta:\n(  .*\n)+", "meta: [甲, 乙]\n", kit.text()), 1,
        "meta — 应为“键: 值”映射，实际是一个列表", where=r"p\.yaml:2:7："),
    Row("mapping-for-work", lambda kit: re.sub(r"work:\n(  - .*\n)+", "work: {甲: 1}\n", kit.text()), 1,
        "work — 应为列表（每项以“- ”开头），实际是一组“键: 值”", line_of="work:"),
    Row("scalar-for-facts", lambda kit: re.sub(r"facts:\n(  .*\n)+", "facts: 12\n", kit.text()), 1,
        "facts — 应为“键: 值”映射", line_of="facts:"),
    Row("list-at-top", lambda kit: "- 甲\n- 乙\n", 1, "文件最外层应当是“键: 值”的形式", where=r"p\.yaml:1:1："),
    Row("pack-as-list", _sub("pack: jiguan", "pack: [jiguan]"), 1, "pack 应为模板包名称", where=r"p\.yaml:1:7："),
    Row("unknown-pack", _sub("pack: jiguan", "pack: nosuchpack"), 1, "找不到模板包“nosuchpack”"),
    Row("year-in-chinese", _sub("year: 2025", "year: 二〇二五"), 1, "述职年度应为四位数的年份", line_of="year:"),
    Row("date-that-does-not-exist", _sub("year: 2025", "year: 2025\n  date: 2025-02-30"), 1,
        "日期“2025-02-30”不存在", line_of="date:"),
    # -- negative and absurd counts
    Row("negative-count", _fact("-3"), 1, "不能小于 0，实际是 -3", line_of="-3"),
    Row("absurd-count", _fact("1000000000000"), 1, "大得不合常理", line_of="1000000000000"),
    Row("count-with-5000-digits", _fact("9" * 5000), 1, "无法识别的值“999999999999999999999999999999…”"),
    Row("infinite-count", _fact(".inf"), 1, "实际是 inf"),
    Row("text-too-long", _sub(f"unit: {UNIT}", "unit: " + "长" * 6000), 1, "这段文字太长（6000 字）", line_of="unit:"),
    # -- unknown and duplicate keys
    Row("unknown-top-key", _sub("meta:", "metas:"), 1, "未知的键“metas”\n      提示：是不是“meta”？",
        where=r"p\.yaml:2:1："),
    Row("unknown-meta-key", _sub("  name:", "  nmae:"), 1, "未知的键“nmae”\n      提示：是不是“name”？",
        where=r"p\.yaml:4:3："),
    Row("chinese-label-as-key", _sub("meta:", "基本信息:"), 1, "“基本信息”应写作“meta”", where=r"p\.yaml:2:1："),
    Row("unknown-catalogue-key", lambda kit: kit.text().replace(f"  - {kit.work[0]}\n", f"  - {kit.work[0]}zz\n"),
        1, "里没有条目", line_of="zz\n"),
    Row("thousands-of-problems", lambda kit: kit.text().replace("facts:\n", "facts:\n" + "".join(
        f"  unknown_{i}: {i}\n" for i in range(3000))), 1, "（共 3000 处，下面列出前 50 处）", where=r"其余 2950 处没有列出"),
    Row("duplicate-top-key", lambda kit: kit.text() + "meta:\n  unit: 另一个单位\n", 1,
        "键“meta”重复出现（第一次在第 2 行）", line_of="meta:", occurrence=2),
    Row("duplicate-meta-key", _sub("  name:", "  unit: 重复单位\n  name:"), 1, "键“unit”重复出现（第一次在第 3 行）",
        where=r"p\.yaml:4:3："),
    Row("merge-key", lambda kit: "base: &b {unit: 甲}\nmeta:\n  <<: *b\n", 1, "不支持合并键“<<”",
        where=r"p\.yaml:3:3："),
    Row("undefined-alias", _sub(f"name: {NAME}", "name: *nobody"), 1, "引用了不存在的锚点", line_of="name:"),
    # -- characters pasted from Word, markup and template-looking text: kept literally or dropped
    Row("control-chars-pasted", _sub(f"name: {NAME}", "name: 张\x0b某\x07某\x0c"), 0, literal=(NAME,),
        absent=("\x0b", "\x07", "\x0c")),
    Row("control-chars-escaped", _sub(f"name: {NAME}", 'name: "张\\v某\\a某\\f\\0\\e"'), 0, literal=(NAME,)),
    Row("xml-special-characters", _sub(f"name: {NAME}", "name: '张&<某>\"某'' &amp;'"), 0,
        literal=("张&<某>\"某' &amp;",)),
    Row("template-looking-text", _sub(f"name: {NAME}", "name: '张X{{ 7*7 }}X{% if 1 %}Y{% endif %}{# c #}'"), 0,
        literal=("张X{{ 7*7 }}X{% if 1 %}Y{% endif %}{# c #}",), absent=("X49X",)),
    Row("emoji-and-rare-han", _sub(f"name: {NAME}", "name: 张😀𠀀某"), 0, literal=("张😀𠀀某",)),
    # -- YAML that tries to build Python objects: refused, nothing runs
    Row("python-object-apply", _sub(f"name: {NAME}", 'name: !!python/object/apply:os.system ["touch MARKER"]'), 1,
        PYTHON_TAGS, line_of="!!python"),
    Row("python-name", _sub(f"name: {NAME}", "name: !!python/name:os.system"), 1, PYTHON_TAGS, line_of="!!python"),
    Row("python-object-new", _sub(f"name: {NAME}",
                                  'name: !!python/object/new:subprocess.Popen [["touch", "MARKER"]]'), 1,
        PYTHON_TAGS, line_of="!!python"),
    Row("python-module-mapping", lambda kit: kit.text() + "overrides: !!python/module:os {}\n", 1, PYTHON_TAGS,
        line_of="!!python"),
    Row("local-tag", _sub(f"name: {NAME}", "name: !shell touch MARKER"), 1, PYTHON_TAGS, line_of="!shell"),
    Row("binary-tag", _sub(f"name: {NAME}", "name: !!binary 5byg5p+Q5p+Q"), 1, PYTHON_TAGS, line_of="!!binary"),
    # -- resource exhaustion
    Row("billion-laughs", _billion_laughs, 1, "内容展开后过于庞大（可能是别名“*”反复引用）", where=r"p\.yaml:\d+:\d+："),
    Row("deep-flow-lists", lambda kit: "work: " + "[" * 10_000 + "]" * 10_000 + "\n", 1, "嵌套层次太深",
        where=r"p\.yaml:1:\d+："),
    Row("deep-flow-mappings", lambda kit: "overrides: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n", 1,
        "嵌套层次太深", where=r"p\.yaml:1:\d+："),
    Row("deep-block-mappings", _deep_block, 1, "嵌套层次太深", where=r"p\.yaml:\d+:\d+："),
    Row("over-size-limit", _size_limit, 1, "文件太大（3072 KB），不像是资料文件", where=r"p\.yaml："),
    # -- paths
    Row("profile-is-a-folder", None, 1, "这是一个文件夹，不是资料文件", args=("check", "folder.yaml"), setup=_a_folder,
        where=r"folder\.yaml："),
    Row("profile-missing", None, 1, "找不到资料文件", args=("build", "missing.yaml"), where=r"missing\.yaml："),
    Row("profile-is-a-pipe", None, 1, "这不是普通文件，不能作为资料文件", args=("check", "fifo.yaml"), setup=_fifo,
        where=r"fifo\.yaml：", isolate=True, marks=(pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here"),)),
    Row("profile-is-a-device", None, 1, "这不是普通文件，不能作为资料文件", args=("build", "/dev/zero"), isolate=True,
        marks=(pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here"),)),
    Row("profile-name-too-long", None, 1, "文件名或路径太长", args=("build", "长" * 300 + ".yaml")),
    Row("empty-folder-as-batch", None, 1, None, args=("build", "batch"), setup=_empty_folder,
        marks=(pytest.mark.skipif(not _batch_available(), reason="batch mode (reportgen.batch) not built yet"),)),
    Row("output-folder-missing", lambda kit: kit.text(), 1, "输出文件夹不存在",
        args=("build", "p.yaml", "-o", "nowhere/out.docx"), where=r"nowhere/out\.docx："),
    Row("output-under-a-file", lambda kit: kit.text(), 1, "“notes.txt”是一个文件，不是文件夹",
        args=("build", "p.yaml", "-o", "notes.txt/out.docx"), setup=_under_file, where=r"notes\.txt/out\.docx："),
    Row("output-name-too-long", lambda kit: kit.text(), 1, "文件名或路径太长",
        args=("build", "p.yaml", "-o", "长" * 300 + ".docx")),
    Row("output-folder-unwritable", lambda kit: kit.text(), 1, "", args=("build", "p.yaml", "-o", "locked/out.docx"),
        setup=_unwritable_folder,
        marks=(pytest.mark.skipif(os.name != "posix", reason="folder permissions are POSIX-only"),)),
]

UNWRITABLE_MESSAGES = ("没有权限在这个文件夹里写文件", "“notes.txt”是一个文件，不是文件夹")


def _params() -> list[Any]:
    return [pytest.param(row, id=row.id, marks=row.marks) for row in ROWS]


def _prepare(row: Row, kit: Kit, tmp_path: Path) -> tuple[tuple[str, ...], str | None]:
    text: str | None = None
    if row.data is not None:
        data = row.data(kit)
        raw = data.encode("utf-8") if isinstance(data, str) else data
        (tmp_path / "p.yaml").write_bytes(raw)
        text = data if isinstance(data, str) else None
    args = row.args
    if row.setup is not None:
        args = row.setup(tmp_path) or args
    return args, text


def _check_outcome(row: Row, tmp_path: Path, before: set[str], output: str, exit_code: int,
                   text: str | None) -> None:
    assert "Traceback" not in output
    assert not (tmp_path / "MARKER").exists(), "a YAML tag ran code"
    assert exit_code == row.exit, output
    after = files_under(tmp_path)
    if row.exit == 0:
        assert after - before == {"p.docx"}, output
        draft = tmp_path / "p.docx"
        assert_docx_well_formed(draft)
        body = document_text(draft)
        for literal in row.literal:
            assert literal in body
        for absent in row.absent:
            assert absent not in body
        return
    assert output.strip(), "a failure must say why"
    assert after == before, f"left behind: {sorted(after - before)}"
    if row.id == "output-folder-unwritable":
        assert any(message in output for message in UNWRITABLE_MESSAGES), output
    elif row.message is not None:
        assert row.message in output
    if row.line_of is not None and text is not None:
        assert f"p.yaml:{line_of(text, row.line_of, row.occurrence)}:" in output, output
    if row.where is not None:
        assert re.search(row.where, output), output


@pytest.mark.parametrize("row", _params())
def test_hostile_input(row: Row, kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if row.isolate:
        _run_in_child(row, kit, tmp_path)
        return
    monkeypatch.chdir(tmp_path)
    args, text = _prepare(row, kit, tmp_path)
    before = files_under(tmp_path)
    try:
        result = run_cli(list(args))
        assert_clean_exit(result)
        _check_outcome(row, tmp_path, before, result.output, result.exit_code, text)
    finally:
        locked = tmp_path / "locked"
        if locked.exists():
            locked.chmod(0o700)


SUBPROCESS_ROWS = ("gb18030", "tab-indent", "python-object-apply", "billion-laughs", "over-size-limit",
                   "random-bytes", "output-under-a-file")


@pytest.mark.parametrize("row", [p for p in _params() if p.id in SUBPROCESS_ROWS])
def test_hostile_input_end_to_end(row: Row, kit: Kit, tmp_path: Path) -> None:
    """The same rows through a real ``python -m reportgen`` process: stderr has the message, never a traceback."""
    _run_in_child(row, kit, tmp_path)


def _run_in_child(row: Row, kit: Kit, tmp_path: Path) -> None:
    args, text = _prepare(row, kit, tmp_path)
    before = files_under(tmp_path)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    # The timeout only guards against a hang (an alias bomb, a pipe read forever); it measures nothing.
    done = subprocess.run([sys.executable, "-m", "reportgen", *args], cwd=tmp_path, capture_output=True,
                          timeout=120, env=env)
    stdout, stderr = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    if row.exit == 1:
        assert stderr.strip() and not stdout.strip()
    _check_outcome(row, tmp_path, before, stdout + stderr, done.returncode, text)


def test_base_profile_builds(kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows above are only meaningful if the unmodified profile builds."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(kit.text(), encoding="utf-8")
    result = run_cli(["build", "p.yaml"])
    assert_clean_exit(result)
    assert result.exit_code == 0, result.output
    assert_docx_well_formed(tmp_path / "p.docx")
    assert UNIT in document_text(tmp_path / "p.docx")


def test_oversized_file_is_refused_before_parsing(kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reportgen.profile
    import reportgen.yamlsource

    def must_not_parse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an oversized file was parsed")

    monkeypatch.setattr(reportgen.yamlsource, "parse_yaml", must_not_parse)
    monkeypatch.setattr(reportgen.profile, "parse_yaml", must_not_parse)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(_size_limit(kit), encoding="utf-8")
    result = run_cli(["build", "p.yaml"])
    assert_clean_exit(result)
    assert result.exit_code == 1
    assert "文件太大（3072 KB）" in result.output
    assert "上限是 1024 KB" in result.output


def test_control_characters_never_reach_any_part(kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Escaped control characters in the name (also written to docProps/core.xml) are dropped everywhere."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(kit.text().replace(f"name: {NAME}", 'name: "张\\v某\\x1b某"'), encoding="utf-8")
    result = run_cli(["build", "p.yaml"])
    assert_clean_exit(result)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "p.docx") as zf:
        core = zf.read("docProps/core.xml").decode("utf-8")
    assert f"<dc:creator>{NAME}</dc:creator>" in core

"""Hostile and malformed profiles: each ends in a Chinese message and exit 1, or in a correct draft.

Each row of ``ROWS`` is one input as a clerk (or an attacker) might produce it.  The test checks the exit
code, a substring of the exact message, the place it points at, that no traceback was printed, that no
code ran (a YAML tag that would ``touch MARKER``), and that nothing — no draft, no temporary file, no
lock — is left behind when the build fails.

At the end: the slip scanner (``inputs.yamlfile.mend_slips``) on megabyte lines, run in child processes
with a time limit, and a Hypothesis fuzz of it.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import HAN_RE, document_text, make_mini_pack
from reportgen.cli import main as cli_main
from reportgen.inputs.yamlfile import mend_slips


class _EntryPoint:
    """``reportgen.cli.main`` in the shape CliRunner invokes."""

    name = "reportgen"

    def main(self, args: Sequence[str] = (), prog_name: str | None = None, **extra: Any) -> None:
        cli_main(list(args))


def run_cli(args: Sequence[str]) -> Result:
    return CliRunner().invoke(_EntryPoint(), list(args))  # type: ignore[arg-type]


UNIT = "某市某局机关党委"
NAME = "张某某"

# A valid jiguan profile, one value a line (keys that 0.1 profiles already used).
BASE = f"""\
pack: jiguan
meta:
  unit: {UNIT}
  name: {NAME}
  position: 书记
  year: 2025
  date: 2026-01-12
facts:
  study_sessions: 12
work:
  - theory_study
  - responsibility
  - standardization
problems:
  - pressure
  - two_skins
causes:
  - awareness
  - supervision
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    start = -1
    for _ in range(occurrence):
        start = text.index(needle, start + 1)
    return text.count("\n", 0, start) + 1


LOCK = ".reportgen.lock"  # the output folder's lock (kept, empty of meaning, once the build is over)


def files_under(folder: Path) -> set[str]:
    """Every file and folder below ``folder``, hidden ones (temporary files, locks) included."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Row:
    id: str
    data: Callable[[], bytes | str] | None  # p.yaml (None: no file written)
    exit: int
    message: str | None = None  # exit 1: a substring of the message
    line_of: str | None = None  # … which points at p.yaml:<line holding this text>:
    where: str | None = None  # … or whose location matches this regex
    not_said: tuple[str, ...] = ()  # exit 1: must not be in the message
    args: tuple[str, ...] = ("build", "p.yaml")
    setup: Callable[[Path], tuple[str, ...] | None] | None = None  # prepares tmp_path, may replace the arguments
    literal: tuple[str, ...] = ()  # exit 0: in the document text exactly
    absent: tuple[str, ...] = ()  # exit 0: not in the document text
    isolate: bool = False  # could hang (a device, a pipe): only ever run in a child process
    marks: tuple[Any, ...] = field(default_factory=tuple)


def sub(old: str, new: str) -> Callable[[], str]:
    def make() -> str:
        assert old in BASE, f"{old!r} not in the base profile"
        return BASE.replace(old, new, 1)

    return make


def fact(value: str) -> Callable[[], str]:
    return sub("  study_sessions: 12", f"  study_sessions: {value}")


def append(text: str) -> Callable[[], str]:
    return lambda: BASE + text


def encoded(codec: str, bom: bytes = b"") -> Callable[[], bytes]:
    return lambda: bom + BASE.encode(codec)


def random_bytes() -> bytes:
    data = bytearray(random.Random(5).randbytes(4096))
    data[100] = 0
    return bytes(data)


def billion_laughs() -> str:
    lines = ['a: &a ["哈", "哈", "哈", "哈", "哈", "哈", "哈", "哈", "哈"]']
    for i in range(1, 10):
        refs = ", ".join([f"*{chr(96 + i)}"] * 9)
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [{refs}]")
    return "\n".join(lines) + "\n" + BASE


def over_size_limit() -> str:
    return BASE + "# " + "备注" * (3 * 1024 * 1024 // 6 + 1) + "\n"


def a_folder(tmp: Path) -> None:
    (tmp / "folder.yaml").mkdir()


def a_fifo(tmp: Path) -> None:
    os.mkfifo(tmp / "fifo.yaml")


def link_to_device(tmp: Path) -> None:
    (tmp / "link.yaml").symlink_to("/dev/zero")


def link_loop(tmp: Path) -> None:
    (tmp / "loop.yaml").symlink_to(tmp / "loop.yaml")


def a_file(tmp: Path) -> None:
    (tmp / "notes.txt").write_text("一个普通文件", encoding="utf-8")


def a_pack_here(tmp: Path) -> tuple[str, ...]:
    make_mini_pack(tmp / "mini")
    return ("build", "p.yaml", "-o", "mini/p.docx")


PYTHON_TAG = "不支持的 YAML 标签"
HAS_FIFO = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
HAS_DEV_ZERO = pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this system")

ROWS: list[Row] = [
    # -- empty, binary, encodings
    Row("empty-file", lambda: b"", 1, "文件是空的（或只有注释），没有任何内容", where=r"p\.yaml:1："),
    Row("comment-only", lambda: "# 资料文件\n# 还没有填写\n", 1, "文件是空的（或只有注释）"),
    Row("random-bytes", random_bytes, 1, "这不是文本文件（含有二进制内容）", where=r"p\.yaml："),
    Row("utf16-without-bom", encoded("utf-16-le"), 1, "这不是文本文件（含有二进制内容）"),
    Row("undecodable-bytes", lambda: b"pack: jiguan\nmeta:\n  unit: \x80\xff\x80\xff\n", 1,
        "无法识别文件的文字编码（既不是 UTF-8，也不是 GB18030）", where=r"p\.yaml:3："),
    Row("gb18030", encoded("gb18030"), 0, literal=(UNIT, NAME)),
    Row("utf16-be-bom", encoded("utf-16-be", b"\xfe\xff"), 0, literal=(UNIT, NAME)),
    Row("crlf-line-ends", lambda: BASE.replace("\n", "\r\n").encode(), 0, literal=(UNIT, NAME)),
    Row("cr-line-ends", lambda: BASE.replace("\n", "\r").encode(), 0, literal=(UNIT, NAME)),
    # -- YAML that tries to build Python objects or run code: refused, nothing runs
    Row("python-object-apply", sub(f"name: {NAME}", 'name: !!python/object/apply:os.system ["touch MARKER"]'), 1,
        PYTHON_TAG, line_of="!!python"),
    Row("python-object-new", sub(f"name: {NAME}", 'name: !!python/object/new:subprocess.Popen [["touch", "MARKER"]]'),
        1, PYTHON_TAG, line_of="!!python"),
    Row("python-name", sub(f"name: {NAME}", "name: !!python/name:os.system"), 1, PYTHON_TAG, line_of="!!python"),
    Row("python-module-mapping", append("overrides: !!python/module:os {}\n"), 1, PYTHON_TAG, line_of="!!python"),
    Row("python-tuple-sequence", sub("  - theory_study", "  - !!python/tuple [theory_study, brand]"), 1, PYTHON_TAG,
        line_of="!!python"),
    Row("tag-directive", lambda: "%TAG !py! tag:yaml.org,2002:python/\n---\n" + BASE.replace(
        f"name: {NAME}", "name: !py!object/apply:os.system [touch MARKER]"), 1, PYTHON_TAG, line_of="!py!object"),
    Row("local-tag", sub(f"name: {NAME}", "name: !shell touch MARKER"), 1, PYTHON_TAG, line_of="!shell"),
    Row("binary-tag", sub(f"name: {NAME}", "name: !!binary 5byg5p+Q5p+Q"), 1, PYTHON_TAG, line_of="!!binary"),
    Row("set-tag", append("overrides: !!set {a, b}\n"), 1, PYTHON_TAG, line_of="!!set"),
    Row("explicit-str-tag", sub(f"name: {NAME}", f"name: !!str {NAME}"), 0, literal=(NAME,)),
    Row("citation-that-looks-like-code", sub("  - standardization", "  - key: standardization\n    add: "
                                             "\"{__import__('os').system('touch MARKER')}\""), 0,
        literal=("{__import__('os').system('touch MARKER')}",)),
    Row("template-looking-text", sub(f"name: {NAME}", "name: '张X{{ 7*7 }}X{% if 1 %}Y{% endif %}{# c #}'"), 0,
        literal=("张X{{ 7*7 }}X{% if 1 %}Y{% endif %}{# c #}",), absent=("X49X",)),
    # -- resource exhaustion
    Row("billion-laughs", billion_laughs, 1, "内容展开后过于庞大（可能是别名“*”反复引用）", where=r"p\.yaml:\d+:\d+："),
    Row("recursive-alias", sub(f"name: {NAME}", "name: &a [*a]"), 1, "meta.name", line_of="&a"),
    Row("merge-key", lambda: "base: &b {unit: 甲}\nmeta:\n  <<: *b\n", 1, "不支持合并键“<<”", where=r"p\.yaml:3:3："),
    Row("deep-flow-lists", lambda: "work: " + "[" * 10_000 + "]" * 10_000 + "\n", 1, "嵌套层次太深",
        where=r"p\.yaml:1:\d+："),
    Row("deep-flow-mappings", lambda: "overrides: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n", 1, "嵌套层次太深",
        where=r"p\.yaml:1:\d+："),
    Row("deep-block-sequences", lambda: "pack: jiguan\nwork:\n" + "- " * 10_000 + "x\n", 1, "嵌套层次太深",
        where=r"p\.yaml:3:\d+："),
    Row("huge-string", sub(f"unit: {UNIT}", "unit: " + "长" * 300_000), 1, "这段文字太长（300000 字）", line_of="unit:"),
    Row("huge-integer", fact("9" * 5000), 1, "无法识别的值“999999999999999999999999999999…”", line_of="99999"),
    Row("huge-key", sub(f"name: {NAME}", f"name: {NAME}\n  " + "k" * 200_000 + ": 1"), 1, None,
        where=r"p\.yaml:5:\d+："),
    Row("thousands-of-problems", lambda: BASE.replace("facts:\n", "facts:\n" + "".join(
        f"  unknown_{i}: {i}\n" for i in range(3000))), 1, "（共 3000 处，下面列出前 50 处）", where=r"其余 2950 处没有列出"),
    Row("over-size-limit", over_size_limit, 1, "文件太大（3073 KB），不像是资料文件", where=r"p\.yaml："),
    # -- values a YAML 1.1 reader would turn into something else
    Row("sexagesimal-count", fact("1:20"), 1, "应为整数", line_of="1:20"),
    Row("boolean-count", fact("yes"), 1, "实际是“true”", line_of="yes"),
    Row("absurd-count", fact("1000000000000"), 1, "大得不合常理", line_of="1000000000000"),
    Row("absurd-wording", append("wording: 99999999999999\n"), 1, "措辞编号应为 0—999 的整数", line_of="wording"),
    Row("absurd-year", sub("year: 2025", "year: 99999999999999999999"), 1, "不合理", line_of="year:"),
    Row("date-that-does-not-exist", sub("date: 2026-01-12", "date: 2025-02-30"), 1, "日期“2025-02-30”不存在",
        line_of="date:"),
    # -- characters pasted from Word or the web: dropped, or kept literally
    Row("control-chars-pasted", sub(f"name: {NAME}", "name: 张\x0b某\x07某\x0c\x1b"), 0, literal=(NAME,),
        absent=("\x0b", "\x07", "\x0c", "\x1b")),
    Row("control-chars-escaped", sub(f"name: {NAME}", 'name: "张\\v某\\a某\\f\\0\\e"'), 0, literal=(NAME,)),
    Row("lone-surrogate-escape", sub(f"name: {NAME}", 'name: "张\\ud800某某"'), 0, literal=(NAME,)),
    Row("line-separator-pasted", sub(f"name: {NAME}", "name: 张\u2028某某"), 0, literal=(NAME,)),
    Row("next-line-control-pasted", sub(f"name: {NAME}", "name: 张\x85某某"), 0, literal=(NAME,)),
    Row("xml-special-characters", sub(f"name: {NAME}", "name: '张&<某>\"某'' &amp;'"), 0,
        literal=("张&<某>\"某' &amp;",)),
    Row("emoji-and-rare-han", sub(f"name: {NAME}", "name: 张😀𠀀某"), 0, literal=("张😀𠀀某",)),
    Row("full-width-everything", sub("  study_sessions: 12", "  study_sessions: １２"), 0),
    # -- keys that are not text
    Row("key-is-a-list", sub(f"  name: {NAME}", f"  ? [a, b]\n  : 1\n  name: {NAME}"), 1, "键必须是一段简单的文字",
        line_of="? [a, b]"),
    # -- the pack named in the profile
    Row("pack-outside", sub("pack: jiguan", "pack: ../../../../../../etc"), 1, "不是模板包"),
    Row("pack-is-a-device", sub("pack: jiguan", "pack: /dev/zero"), 1, "找不到模板包文件夹“/dev/zero”",
        marks=(HAS_DEV_ZERO,)),
    Row("pack-as-list", sub("pack: jiguan", "pack: [jiguan]"), 1, "pack — 应为一段文字", where=r"p\.yaml:1:7："),
    Row("pack-version-unmet", sub("pack: jiguan", "pack: jiguan>=99"), 1, "版本不满足要求"),
    # -- paths of the profile
    Row("profile-is-a-folder", None, 1, "这是一个文件夹，不是资料文件", args=("check", "folder.yaml"), setup=a_folder,
        where=r"folder\.yaml："),
    Row("profile-missing", None, 1, "找不到资料文件", args=("build", "missing.yaml"), where=r"missing\.yaml："),
    Row("profile-symlink-loop", None, 1, "循环引用", args=("check", "loop.yaml"), setup=link_loop),
    Row("profile-name-too-long", None, 1, "文件名或路径太长", args=("build", "长" * 300 + ".yaml")),
    Row("profile-is-a-device", None, 1, "这不是普通文件，不能作为资料文件", args=("build", "/dev/zero"), isolate=True,
        marks=(HAS_DEV_ZERO,)),
    Row("profile-links-to-a-device", None, 1, "这不是普通文件，不能作为资料文件", args=("check", "link.yaml"),
        setup=link_to_device, isolate=True, marks=(HAS_DEV_ZERO,)),
    Row("profile-is-a-pipe", None, 1, "这不是普通文件，不能作为资料文件", args=("check", "fifo.yaml"), setup=a_fifo,
        where=r"fifo\.yaml：", isolate=True, marks=(HAS_FIFO,)),
    # -- where the draft would go
    Row("output-folder-missing", lambda: BASE, 1, "输出文件夹不存在", args=("build", "p.yaml", "-o", "nowhere/out.docx"),
        where=r"nowhere/out\.docx："),
    Row("output-under-a-file", lambda: BASE, 1, "“notes.txt”是一个文件，不是文件夹",
        args=("build", "p.yaml", "-o", "notes.txt/out.docx"), setup=a_file),
    Row("output-is-the-input", lambda: BASE, 1, "输出位置就是输入的文件本身", args=("build", "p.yaml", "-o", "p.yaml")),
    Row("output-into-a-pack", lambda: BASE, 1, "输出位置在模板包文件夹里", setup=a_pack_here),
    Row("output-wrong-suffix", lambda: BASE, 1, "应以 .docx 或 .md 结尾", args=("build", "p.yaml", "-o", "out.txt")),
    Row("output-name-too-long", lambda: BASE, 1, "文件名或路径太长", args=("build", "p.yaml", "-o", "长" * 300 + ".docx")),
]


def _params() -> list[Any]:
    return [pytest.param(row, id=row.id, marks=row.marks) for row in ROWS]


def _prepare(row: Row, tmp_path: Path) -> tuple[tuple[str, ...], str | None]:
    text: str | None = None
    if row.data is not None:
        data = row.data()
        (tmp_path / "p.yaml").write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        text = data if isinstance(data, str) else None
    args = row.args
    if row.setup is not None:
        args = row.setup(tmp_path) or args
    return args, text


def _check(row: Row, tmp_path: Path, before: set[str], output: str, code: int, text: str | None) -> None:
    assert "Traceback" not in output, output
    assert not (tmp_path / "MARKER").exists(), "a YAML tag ran code"
    assert code == row.exit, output[:3000]
    after = files_under(tmp_path)
    if row.exit == 0:
        assert after - before - {LOCK} == {"p.docx"}, output
        body = document_text(tmp_path / "p.docx")
        for literal in row.literal:
            assert literal in body, f"{literal!r} not in the draft"
        for absent in row.absent:
            assert absent not in body
        return
    assert output.strip(), "a failure must say why"
    assert HAN_RE.search(output), output
    assert after == before, f"left behind: {sorted(after - before)}"
    if row.message is not None:
        assert row.message in output, output[:3000]
    for wrong in row.not_said:
        assert wrong not in output, output[:3000]
    if row.line_of is not None and text is not None:
        assert f"p.yaml:{line_of(text, row.line_of)}:" in output, output[:3000]
    if row.where is not None:
        assert re.search(row.where, output), output[:3000]


@pytest.mark.parametrize("row", _params())
def test_hostile_input(row: Row, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if row.isolate:
        _run_in_child(row, tmp_path)
        return
    monkeypatch.chdir(tmp_path)
    args, text = _prepare(row, tmp_path)
    before = files_under(tmp_path)
    result = run_cli(args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        pytest.fail("uncaught exception:\n" + "".join(traceback.format_exception(result.exception)))
    if row.exit == 1:
        assert result.stdout == "", "the failure goes to stderr"
    _check(row, tmp_path, before, result.output, result.exit_code, text)


SUBPROCESS_ROWS = ("gb18030", "python-object-apply", "tag-directive", "billion-laughs", "over-size-limit",
                   "random-bytes", "output-under-a-file", "deep-flow-lists")


@pytest.mark.parametrize("row", [p for p in _params() if p.id in SUBPROCESS_ROWS])
def test_hostile_input_end_to_end(row: Row, tmp_path: Path) -> None:
    """The same rows through a real ``python -m reportgen`` process."""
    _run_in_child(row, tmp_path)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONIOENCODING": "utf-8"}


def _run_in_child(row: Row, tmp_path: Path) -> None:
    args, text = _prepare(row, tmp_path)
    before = files_under(tmp_path)
    # The timeout only guards against a hang (a device or a pipe read forever); it measures nothing.
    done = subprocess.run([sys.executable, "-m", "reportgen", *args], cwd=tmp_path, capture_output=True, timeout=120,
                          env=_env(), check=False)
    stdout, stderr = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    if row.exit == 1:
        assert stderr.strip() and not stdout.strip(), (stdout, stderr)
    _check(row, tmp_path, before, stdout + stderr, done.returncode, text)


def test_base_profile_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows are only meaningful if the unmodified profile builds."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(BASE, encoding="utf-8")
    result = run_cli(["build", "p.yaml"])
    assert result.exit_code == 0, result.output
    assert files_under(tmp_path) - {LOCK} == {"p.yaml", "p.docx"}
    body = document_text(tmp_path / "p.docx")
    assert UNIT in body and NAME in body


def test_control_characters_never_reach_any_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Escaped control characters in the name (also written to docProps/core.xml) are dropped everywhere."""
    import zipfile

    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(BASE.replace(f"name: {NAME}", 'name: "张\\v某\\x1b某"'), encoding="utf-8")
    result = run_cli(["build", "p.yaml"])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "p.docx") as zf:
        for name in zf.namelist():
            if name.endswith(".xml"):
                data = zf.read(name).decode("utf-8")
                assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", data), name
        assert NAME in zf.read("docProps/core.xml").decode("utf-8")


def test_a_failed_build_keeps_the_previous_draft(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(BASE, encoding="utf-8")
    assert run_cli(["build", "p.yaml"]).exit_code == 0
    before = (tmp_path / "p.docx").read_bytes()
    (tmp_path / "p.yaml").write_text(BASE.replace("study_sessions: 12", "study_sessions: 12次"), encoding="utf-8")
    files = files_under(tmp_path)
    result = run_cli(["build", "p.yaml"])
    assert result.exit_code == 1
    assert (tmp_path / "p.docx").read_bytes() == before
    assert files_under(tmp_path) == files


# ---------------------------------------------------------------- the slip scanner is linear (F3)

LONG = "x" + " " * 200_000 + "y"
F3_CASES = {
    # the case: a Tab-indented key whose value is a 200 000-space run
    "tab-key-long-value": "pack: jiguan\nmeta:\n\tunit: " + LONG + "\n",
    # about 1 MB of such lines, under five text keys (just below the 1 MB limit)
    "five-long-lines": "pack: jiguan\nmeta:\n" + "".join(f"\t{key}: {LONG}\n" for key in
                                                         ("unit", "name", "position", "superior", "basis")),
    # a Tab slip, then ~1 MB of "- " on one line: the key-path guesser must not go quadratic either
    "tab-then-dash-chain": "pack: jiguan\nmeta:\n\tunit: 甲\nwork:\n" + "- " * 480_000 + "x\n",
    # a full-width colon slip on a 1 MB line
    "full-width-colon-long-line": "pack: jiguan\nmeta:\n  unit：" + "甲" * 340_000 + "\n",
}
F3_LIMIT = 20.0  # seconds: a linear scan of 1 MB takes well under one; the quadratic one takes minutes


@pytest.fixture(scope="module")
def f3_children(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[subprocess.Popen[bytes], float]]]:
    """``reportgen check`` on every F3 input, all started at once (so the limit is waited out only once)."""
    children: dict[str, tuple[subprocess.Popen[bytes], float]] = {}
    for name, text in F3_CASES.items():
        folder = tmp_path_factory.mktemp(f"f3-{name}")
        data = text.encode("utf-8")
        assert len(data) < 1024 * 1024, f"{name} is over the size limit ({len(data)} bytes)"
        (folder / "p.yaml").write_bytes(data)
        child = subprocess.Popen([sys.executable, "-m", "reportgen", "check", "p.yaml"], cwd=folder,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
        children[name] = (child, time.monotonic())
    yield children
    for child, _ in children.values():
        if child.poll() is None:
            child.kill()
            child.wait()


@pytest.mark.parametrize("case", list(F3_CASES))
def test_slip_scanner_is_linear_on_megabyte_lines(f3_children: dict[str, tuple[subprocess.Popen[bytes], float]],
                                                  case: str) -> None:
    child, started = f3_children[case]
    try:
        _, stderr = child.communicate(timeout=max(0.1, started + F3_LIMIT - time.monotonic()))
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        pytest.fail(f"reportgen check did not finish within {F3_LIMIT:.0f} s on {case} (about 1 MB)")
    message = stderr.decode("utf-8")
    assert child.returncode == 1, message[:2000]
    assert "Traceback" not in message
    slip = "全角冒号" if case.startswith("full-width") else "制表符（Tab）"  # each line, or 5 lines said once
    assert slip in message, message[:2000]
    assert re.search(r"p\.yaml:3:\d+：meta\.unit — ", message), message[:2000]


# ---------------------------------------------------------------- fuzz: mend_slips never raises, never hangs

SLIP_TOKENS = st.sampled_from(["\t", "\u3000", "：", ":", " ", "  ", "-", "- ", "#", "a", "b", "key", "\n", "x：",
                               "\t- ", "- - ", "'", '"', "[", "{"])
FUZZ_TEXT = st.one_of(st.text(alphabet="\t\u3000：: -#abcde\n", max_size=2000),
                      st.lists(SLIP_TOKENS, max_size=600).map("".join))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FUZZ_TEXT)
def test_mend_slips_fuzz(text: str) -> None:
    started = time.monotonic()
    mended, problems = mend_slips(text, "p.yaml")
    assert time.monotonic() - started < 2.0, "mend_slips took more than 2 s on a few KB"
    assert mended.count("\n") == text.count("\n"), "lines were added or removed"
    lines = text.split("\n")
    comments_mended = []  # the text with only its comments' Tab and full-width indents made spaces
    for original, line in zip(lines, mended.split("\n"), strict=True):
        content = line.lstrip(" \t\u3000")
        if content:
            indent = line[: len(line) - len(content)]
            assert "\t" not in indent and "\u3000" not in indent, (original, line)
        bare = original.lstrip(" \t\u3000")
        lead = original[: len(original) - len(bare)]
        comment = lead.replace("\t", "  ").replace("\u3000", "  ") + bare if bare.startswith("#") else original
        comments_mended.append(comment)
        if bare.startswith("#"):
            assert line == comment, "a comment was changed beyond its indent"
        elif not original.strip(" \t\u3000"):
            assert line == original, "a blank line was changed"
    for problem in problems:
        assert problem.file == "p.yaml"
        assert problem.line is not None and 1 <= problem.line <= len(lines)
        assert problem.column is not None and problem.column >= 1
        assert HAN_RE.search(problem.message) and problem.hint and HAN_RE.search(problem.hint)
    # Mending is complete: what it returns has no slip left.
    assert mend_slips(mended, "p.yaml")[1] == []
    if not problems:
        assert mended == "\n".join(comments_mended)

"""Bad profiles: every problem at once, each in Chinese with file:line:col, the key and a hint.

Each case writes a profile in code, runs ``reportgen check`` (or ``build``) from inside tmp_path so the
file is shown as ``p.yaml``, and compares exact substrings of what the user sees.  Fact keys and labels
are read from the built-in jiguan pack (only keys that 0.1 profiles already used are named here).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from conftest import (
    docx_text,
    docx_texts,
    draft_of,
    load_builtin,
    make_mini_pack,
    mini_profile,
    mini_prose,
    text_of,
    write_yaml,
)
from reportgen.cli import main as cli_main


class _EntryPoint:
    """``reportgen.cli.main`` in the shape CliRunner invokes."""

    name = "reportgen"

    def main(self, args: Sequence[str] = (), prog_name: str | None = None, **extra: Any) -> None:
        cli_main(list(args))


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | bytes, *args: str,
        command: str = "check") -> Result:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "p.yaml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return CliRunner().invoke(_EntryPoint(), [command, "p.yaml", *args])  # type: ignore[arg-type]


def no_traceback(result: Result) -> None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        pytest.fail("uncaught exception:\n" + "".join(traceback.format_exception(result.exception)))
    assert "Traceback" not in result.output


def refused(result: Result, *expected: str) -> str:
    """Exit 1, the profile's problems on stderr (and nothing on stdout), every expected text present."""
    no_traceback(result)
    assert result.exit_code == 1, (result.exit_code, result.output)
    message = result.stderr
    assert result.stdout == ""
    assert "资料文件有问题" in message, message
    for text in expected:
        assert text in message, f"{text!r} not in:\n{message}"
    return message


def accepted(result: Result) -> str:
    no_traceback(result)
    assert result.exit_code == 0, result.output
    return result.stdout


def places(message: str) -> list[str]:
    """``p.yaml:3:7`` of every problem line, in order."""
    return [m.group(1) for m in re.finditer(r"^\s*(p\.yaml:\d+(?::\d+)?)：", message, re.M)]


def foreign_words(message: str, source: str) -> list[str]:
    """ASCII words of the message that are neither in the user's file nor names the message may use."""
    own = set(re.findall(r"[A-Za-z]+", source)) | {"YAML", "reportgen", "init", "check", "yaml", "p"}
    return [word for word in re.findall(r"[A-Za-z]{2,}", message) if word not in own]


@pytest.fixture(scope="module")
def jiguan() -> Any:
    return load_builtin("jiguan")


# A valid jiguan profile, one value a line (line numbers are fixed: facts on line 9).
BASE = """\
pack: jiguan
meta:
  unit: 某某机关党委
  name: 张三
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


def with_facts(*lines: str, base: str = BASE) -> str:
    """BASE with its facts: block replaced by ``lines`` (the first fact stays on line 9)."""
    return base.replace("  study_sessions: 12\n", "".join(f"  {line}\n" for line in lines))


def test_base_profile_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    accepted(run(tmp_path, monkeypatch, BASE))


# ---------------------------------------------------------------- the case: four slips, one check


def test_four_slips_on_four_lines_are_reported_by_one_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            jiguan: Any) -> None:
    text = BASE.replace("  unit: 某某机关党委", "  unit： 某某机关党委").replace("  name: 张三", "\tname: 张三")
    text = text.replace("  study_sessions: 12\n", "  study_sessions: 12次\n  study_sesions: 3\n")
    label = jiguan.facts["study_sessions"].label
    message = refused(
        run(tmp_path, monkeypatch, text),
        "（共 4 处）",
        "p.yaml:3:7：meta.unit — 键“unit”后面用了全角冒号“：”",
        "提示：改成半角冒号加一个空格：“unit: ”",
        "p.yaml:4:1：meta.name — 这一行用制表符（Tab）缩进",
        "提示：YAML 只能用半角空格缩进",
        f"p.yaml:9:19：facts.study_sessions — “{label}”应为整数（单位：次），不要带单位“次”",
        "p.yaml:10:3：facts.study_sesions — 模板包“jiguan”里没有事实“study_sesions”",
        "是不是“study_sessions”？",
    )
    assert places(message) == ["p.yaml:3:7", "p.yaml:4:1", "p.yaml:9:19", "p.yaml:10:3"]


def test_the_four_slips_also_stop_build_and_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = BASE.replace("  unit: 某某机关党委", "  unit： 某某机关党委").replace("  name: 张三", "\tname: 张三")
    text = text.replace("  study_sessions: 12\n", "  study_sessions: 12次\n  study_sesions: 3\n")
    message = refused(run(tmp_path, monkeypatch, text, command="build"), "（共 4 处）")
    assert len(places(message)) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.yaml"]


def test_many_slips_of_one_kind_are_said_once_with_their_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Typed with a Chinese keyboard, every key has a full-width colon: one problem with the lines, not one
    per line; the other problems are still listed, each at its own line."""
    text = BASE
    for key in ("unit", "name", "position", "year", "date"):
        text = text.replace(f"  {key}: ", f"  {key}：")
    text = text.replace("  study_sessions: 12\n", "  study_sessions: 12次\n")
    message = refused(run(tmp_path, monkeypatch, text), "（共 2 处）",
                      "p.yaml:3:7：5 行的键名后面用了全角冒号“：”（第 3、4、5、6、7 行）",
                      "提示：把这些行里键名后面的“：”改成半角冒号加一个空格，如“unit: ”",
                      "不要带单位“次”")
    assert places(message) == ["p.yaml:3:7", "p.yaml:9:19"], message


def test_an_item_indented_one_space_too_far_is_named_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """“   - responsibility” under “  - theory_study” is read by YAML as one item “theory_study - responsibility”:
    the message says so, instead of suggesting one of the two names (which would lose the other)."""
    text = BASE.replace("  - responsibility\n", "   - responsibility\n")
    message = refused(run(tmp_path, monkeypatch, text),
                      "p.yaml:11:5：work[1] — “theory_study - responsibility”是两项连成了一项：下一行的“- ”比上一行缩进得多",
                      "提示：让这一部分每一项的“- ”上下对齐（缩进的空格数相同）")
    assert "是不是" not in message


def test_full_width_space_indent_and_missing_space_after_colon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key named with a slip is the key of that line, read with the slip mended: “　name” is meta.name and
    the next line, indented like its siblings, is meta.position (not a child of name)."""
    text = BASE.replace("  name: 张三", "\u3000name: 张三").replace("  position: 书记", "  position:书记")
    message = refused(run(tmp_path, monkeypatch, text), "（共 2 处）",
                      "p.yaml:4:1：meta.name — 这一行用全角空格缩进",
                      "p.yaml:5:11：meta.position — 键“position”的冒号后面缺少空格",
                      "提示：写成“position: 值”")
    assert places(message) == ["p.yaml:4:1", "p.yaml:5:11"]


def test_key_of_a_slip_after_a_tab_indented_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = with_facts("study_sessions: 12", "seminar_sessions： 3").replace("  study_sessions: 12", "\tstudy_sessions: 12")
    message = refused(run(tmp_path, monkeypatch, text), "（共 2 处）",
                      "p.yaml:9:1：facts.study_sessions — 这一行用制表符（Tab）缩进",
                      "p.yaml:10:19：facts.seminar_sessions — 键“seminar_sessions”后面用了全角冒号“：”")
    assert places(message) == ["p.yaml:9:1", "p.yaml:10:19"]


def test_columns_after_a_mended_slip_are_the_columns_of_the_users_file(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Mending “　” into two spaces, or “：3” into “: 3”, must not move the column of a later problem on that line:
    the user looks for it in the file as typed."""
    text = BASE.replace("  study_sessions: 12\n", "\u3000study_sessions: 12次\n  seminar_sessions：3次\n")
    lines = text.splitlines()
    assert lines[8] == "\u3000study_sessions: 12次" and lines[9] == "  seminar_sessions：3次"
    message = refused(run(tmp_path, monkeypatch, text), "（共 4 处）", "全角空格缩进", "全角冒号", "不要带单位“次”")
    value_columns = [lines[8].index("12") + 1, lines[9].index("3次") + 1]
    assert places(message) == ["p.yaml:9:1", f"p.yaml:9:{value_columns[0]}", "p.yaml:10:19",
                               f"p.yaml:10:{value_columns[1]}"], message


def test_full_width_colon_inside_a_value_is_no_slip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = BASE.replace("  date: 2026-01-12", "  date: 2026-01-12\n  basis: 市直机关工委通知：关于开展述职评议的安排")
    accepted(run(tmp_path, monkeypatch, text))


# ---------------------------------------------------------------- nesting


def _deep_block_mappings() -> str:
    return "pack: jiguan\noverrides:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(80)) + "  " * 81 + "x\n"


DEEP = {
    "flow-lists": "work: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "flow-mappings": "overrides: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n",
    "flow-lists-100": "pack: jiguan\nwork: " + "[" * 100 + "]" * 100 + "\n",
    "flow-mappings-100": "pack: jiguan\noverrides: " + "{a: " * 100 + "1" + "}" * 100 + "\n",
    "block-mappings": _deep_block_mappings(),
    "block-sequences": "pack: jiguan\nwork:\n" + "- " * 100 + "x\n",
    "block-sequences-10000": "pack: jiguan\nwork:\n" + "- " * 10_000 + "x\n",
}


@pytest.fixture(params=["installed", "pure-python"])
def yaml_loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """As installed (with libyaml when PyYAML has it) and as a PyYAML built without libyaml."""
    if request.param == "pure-python":
        import reportgen.inputs.yamlfile as yamlfile

        monkeypatch.setattr(yamlfile, "_CLoader", None)
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    return str(request.param)


@pytest.mark.parametrize("case", list(DEEP))
def test_deep_nesting_is_refused_with_its_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yaml_loader: str,
                                                case: str) -> None:
    message = refused(run(tmp_path, monkeypatch, DEEP[case]), "嵌套层次太深", "提示：最多嵌套")
    assert re.search(r"p\.yaml:\d+:\d+：嵌套层次太深", message), message


# ---------------------------------------------------------------- syntax errors, told in Chinese

SYNTAX = [
    # id, text, line (None: any), message
    # an unclosed quote or bracket is reported where it opens, not at the end of the file
    ("unclosed-double-quote", 'pack: jiguan\nmeta:\n  unit: "某单位\n  name: 乙\n', 3, "这里的引号“\"”没有闭合，一直到文件末尾"),
    ("unclosed-single-quote", "pack: jiguan\nmeta:\n  unit: '某单位\n  name: 乙\n", 3, "这里的引号“'”没有闭合，一直到文件末尾"),
    ("unclosed-bracket", "pack: jiguan\nwork: [theory_study, responsibility\nmeta: {}\n", None, "方括号或花括号没有闭合"),
    ("unclosed-brace", "pack: jiguan\noverrides: {closing: 结束语\nmeta: {}\n", None, "方括号或花括号没有闭合"),
    ("bracket-at-end-of-file", "pack: jiguan\nwork: [theory_study, responsibility\n", 2,
     "这里的括号“[”没有闭合，一直到文件末尾"),
    ("value-starts-with-at", "pack: jiguan\nmeta:\n  unit: @某单位\n", 3, "这里的值以特殊符号“@”开头"),
    ("value-starts-with-backtick", "pack: jiguan\nmeta:\n  unit: `某单位\n", 3, "这里的值以特殊符号“`”开头"),
    ("dash-inside-a-mapping", "pack: jiguan\nmeta:\n  unit: 甲\n  - 乙\n", 4, "这里不能以“- ”开始列表"),
    ("dash-after-a-colon", "pack: jiguan\nwork: - theory_study\n", 2, "这里不能以“- ”开始列表"),
    ("indent-too-shallow", "pack: jiguan\nmeta:\n  unit: 甲\n name: 乙\n", 4, "缩进没有对齐或缺少冒号"),
    ("indent-too-deep", "pack: jiguan\nmeta:\n  unit: 甲\n      name: 乙\n", 4, "这里不能出现“键: 值”"),
    ("colon-in-a-value", "pack: jiguan\nmeta:\n  unit: 甲单位: 乙\n", 3, "这里不能出现“键: 值”"),
    ("line-without-colon", "pack: jiguan\noverrides:\n  closing: 甲\n  乙\n", None, "缺少冒号"),
    ("undefined-alias", "pack: jiguan\nmeta:\n  unit: 甲\n  name: *nobody\n", 4, "引用了不存在的锚点（*名称）"),
    ("several-documents", "pack: jiguan\n---\nmeta: {}\n", 2, "文件里有多个 YAML 文档"),
    ("several-documents-after-end-marker", "pack: jiguan\nmeta:\n  unit: 甲\n...\nwork: []\n", None,
     "文件里有多个 YAML 文档"),
    ("bad-escape", 'pack: jiguan\nmeta:\n  unit: 甲\n  name: "张\\q某"\n', 4, "双引号里有无法识别的反斜杠转义"),
    ("bad-hex-escape", 'pack: jiguan\nmeta:\n  unit: 甲\n  name: "张\\xZZ"\n', 4, "双引号里有无法识别的反斜杠转义"),
]


@pytest.mark.parametrize(("text", "line", "says"), [pytest.param(t, n, s, id=i) for i, t, n, s in SYNTAX])
def test_syntax_errors_are_told_in_chinese_by_type_and_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             text: str, line: int | None, says: str) -> None:
    message = refused(run(tmp_path, monkeypatch, text), says, "提示：")
    where = places(message)
    assert len(where) == 1, message
    assert re.fullmatch(r"p\.yaml:\d+:\d+", where[0]), message
    if line is not None:
        assert where[0].startswith(f"p.yaml:{line}:"), message
    if says != "文件在引号或括号还没闭合时就结束了":
        assert "引号或括号还没闭合" not in message, message
    # PyYAML's English never reaches the user.
    assert foreign_words(message, text) == [], message


def test_syntax_error_comes_with_the_slips_before_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "pack: jiguan\nmeta:\n  unit： 甲\n  name: @乙\n"
    message = refused(run(tmp_path, monkeypatch, text), "（共 2 处）", "全角冒号", "特殊符号“@”")
    assert places(message) == ["p.yaml:3:7", "p.yaml:4:9"]


# ---------------------------------------------------------------- duplicates, empty files, the top level


def test_duplicate_key_names_both_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "pack: jiguan\nmeta:\n  unit: 甲单位\n  name: 张三\n  unit: 乙单位\n"
    refused(run(tmp_path, monkeypatch, text), "p.yaml:5:3：meta.unit — 键“unit”重复出现（第一次在第 3 行）",
            "提示：删掉其中一个")


def test_duplicate_section_names_both_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = BASE + "work:\n  - theory_study\n"
    refused(run(tmp_path, monkeypatch, text), "p.yaml:20:1：work — 键“work”重复出现（第一次在第 10 行）")


def test_duplicate_fact_among_other_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = with_facts("study_sessions: 12", "study_sessions: 14").replace("  name: 张三", "  nmae: 张三")
    message = refused(run(tmp_path, monkeypatch, text), "（共 2 处）", "p.yaml:4:3：meta.nmae — 未知的键“nmae”",
                      "提示：是不是“name”？", "p.yaml:10:3：facts.study_sessions — 键“study_sessions”重复出现（第一次在第 9 行）")
    assert places(message) == ["p.yaml:4:3", "p.yaml:10:3"]


@pytest.mark.parametrize("content", [b"", b"\n\n", "# 只有注释\n".encode(), b"\xef\xbb\xbf", b"   \n"],
                         ids=["empty", "blank-lines", "only-comment", "only-bom", "spaces"])
def test_empty_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes) -> None:
    refused(run(tmp_path, monkeypatch, content), "p.yaml:1：文件是空的（或只有注释），没有任何内容", "提示：",
            "reportgen init")


@pytest.mark.parametrize("text", ["- 甲\n- 乙\n", "只是一句话\n", "12\n"], ids=["list", "text", "number"])
def test_top_level_must_be_a_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    refused(run(tmp_path, monkeypatch, text), "p.yaml:1:1：资料文件最外层应当是“键: 值”的形式", "提示：")


# ---------------------------------------------------------------- encodings and size

ENCODED_UNIT = "梧桐镇卫生健康局机关党支部"


@pytest.mark.parametrize(("codec", "bom"), [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gb18030", b""),
                                            ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")],
                         ids=["utf-8", "utf-8-bom", "gb18030", "utf-16-le", "utf-16-be"])
def test_profile_encodings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, codec: str, bom: bytes) -> None:
    text = "# 资料文件（编码测试）\n" + BASE.replace("某某机关党委", ENCODED_UNIT)
    result = run(tmp_path, monkeypatch, bom + text.encode(codec), command="build")
    accepted(result)
    assert ENCODED_UNIT in docx_text(tmp_path / "p.docx")


def test_undecodable_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refused(run(tmp_path, monkeypatch, b"pack: jiguan\nmeta:\n  unit: \xff\x80\xff\n"),
            "p.yaml:3：无法识别文件的文字编码（既不是 UTF-8，也不是 GB18030）", "提示：")


def test_utf16_without_bom_is_not_taken_for_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refused(run(tmp_path, monkeypatch, BASE.encode("utf-16-le")), "p.yaml：这不是文本文件（含有二进制内容）")


@pytest.mark.parametrize("size", [3 * 1024 * 1024, 1024 * 1024 + 1], ids=["3MB", "limit+1"])
def test_a_file_over_1mb_is_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    import reportgen.inputs.yamlfile
    import reportgen.outputs.drafting

    def must_not_parse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an oversized file was parsed")

    for module in (reportgen.inputs.yamlfile, reportgen.outputs.drafting):
        monkeypatch.setattr(module, "parse_yaml", must_not_parse)
    monkeypatch.setattr(yaml, "compose", must_not_parse)
    content = BASE.encode() + b"# " + b"x" * (size - len(BASE.encode()) - 3) + b"\n"
    assert len(content) == size
    message = refused(run(tmp_path, monkeypatch, content), "p.yaml：文件太大", "不像是资料文件", "上限是 1024 KB")
    if size > 2 * 1024 * 1024:
        assert f"文件太大（{size // 1024} KB）" in message


# ---------------------------------------------------------------- fact values


def _fact_of_type(pack: Any, kind: str) -> str:
    found = [key for key, spec in pack.facts.items() if spec.type == kind]
    assert found, f"the jiguan pack has no {kind} fact"
    return found[0]


TYPE_WORDS = {"integer": "整数", "number": "数字", "percent": "百分数"}


def test_number_with_its_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jiguan: Any) -> None:
    spec = jiguan.facts["study_sessions"]
    refused(run(tmp_path, monkeypatch, with_facts("study_sessions: 12次")),
            f"p.yaml:9:19：facts.study_sessions — “{spec.label}”应为整数（单位：{spec.unit}），不要带单位“次”",
            "提示：写成“study_sessions: 12”，单位由模板自动加上")


@pytest.mark.parametrize("value", ["１２", "40余", "12", "'12'", "40多"])
def test_numbers_as_a_clerk_types_them_are_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    out = accepted(run(tmp_path, monkeypatch, with_facts(f"study_sessions: {value}")))
    assert "study_sessions" not in out, out


@pytest.mark.parametrize(("value", "said"), [("１２", "全年组织集中学习12次"), ("40余", "全年组织集中学习40余次"),
                                             ("'３０多'", "全年组织集中学习30多次")])
def test_full_width_digits_and_approximate_numbers_are_printed(tmp_path: Path, value: str, said: str) -> None:
    pack = make_mini_pack(tmp_path / "mini")
    data = mini_profile(pack)
    data["facts"]["sessions"] = yaml.safe_load(value)
    assert said in text_of(tmp_path, data)


def test_approximate_value_is_printed_in_every_wording(tmp_path: Path, jiguan: Any) -> None:
    """``40余`` given for a chosen item's fact is written as “40余次” — or, where a wording cannot say it,
    the user is told.  (A sentence that also needs last year's value cannot say it; the fact must go elsewhere.)"""
    data = yaml.safe_load(with_facts("study_sessions: 40余"))
    silent = []
    for wording in range(4):
        draft = draft_of(write_yaml(tmp_path / f"p{wording}.yaml", {**data, "wording": wording}))
        told = any("study_sessions" in (w.key or "") or "study_sessions" in w.message for w in draft.warnings)
        if "40余次" not in draft.document.text and not told:
            silent.append(wording)
    assert silent == [], f"wordings {silent}: 40余 is neither written nor reported"


def test_a_given_fact_is_not_dropped_with_a_clause_that_needs_last_year(tmp_path: Path) -> None:
    """A point's only sentence for a fact is an optional group that also needs 同比 ({fact.change}): without
    last year's value the group is dropped, and the fact must still be said (or reported as unused)."""
    pack = make_mini_pack(tmp_path / "mini")
    prose = mini_prose()
    prose["topics"]["alpha"]["points"]["a1"]["text"] = [["甲项第一要点正文[，全年学习{sessions}，{sessions.change}]。"]]
    write_yaml(pack / "prose" / "topics.yaml", prose["topics"])
    draft = draft_of(write_yaml(tmp_path / "p.yaml", mini_profile(pack)))
    told = [w for w in draft.warnings if "sessions" in (w.key or "")]
    assert "12次" in draft.document.text or told, draft.document.text
    with_last_year = mini_profile(pack, last_year={"year": 2024, "facts": {"sessions": 10}})
    assert "全年学习12次，较上年增加2次" in text_of(tmp_path, with_last_year, "q.yaml")


def test_negative_count_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jiguan: Any) -> None:
    label = jiguan.facts["study_sessions"].label
    refused(run(tmp_path, monkeypatch, with_facts("study_sessions: -3")),
            f"p.yaml:9:19：facts.study_sessions — “{label}”不能小于 0，实际是 -3", "负数没有意义")


@pytest.mark.parametrize("value", [".nan", ".NaN", ".inf", "-.inf", ".Inf"])
@pytest.mark.parametrize("kind", ["integer", "number", "percent"])
def test_nan_and_infinity_are_refused_in_chinese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jiguan: Any,
                                                 kind: str, value: str) -> None:
    key = "study_sessions" if kind == "integer" else _fact_of_type(jiguan, kind)
    spec = jiguan.facts[key]
    facts = [f"{key}: {value}"] if kind == "integer" else ["study_sessions: 12", f"{key}: {value}"]
    message = refused(run(tmp_path, monkeypatch, with_facts(*facts)),
                      f"p.yaml:{8 + len(facts)}:{len(key) + 5}：facts.{key} — “{spec.label}”应为{TYPE_WORDS[kind]}",
                      "提示：")
    assert "nan" not in message.lower(), message
    assert not re.search(r"(?<![.\w])-?inf\b", message, re.I), message


def test_percent_over_100_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jiguan: Any) -> None:
    key = _fact_of_type(jiguan, "percent")
    label = jiguan.facts[key].label
    refused(run(tmp_path, monkeypatch, with_facts("study_sessions: 12", f"{key}: 101")),
            f"facts.{key} — “{label}”的值 101 大得不合常理（上限 100）", "提示：百分数不能超过 100")
    accepted(run(tmp_path, monkeypatch, with_facts("study_sessions: 12", f"{key}: 98.5%")))


@pytest.mark.parametrize("value", ["2025-01-01", "1e400", "0o14"], ids=["date", "exponent", "octal"])
def test_a_number_that_is_not_one_is_not_called_a_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jiguan: Any,
                                                       value: str) -> None:
    label = jiguan.facts["study_sessions"].label
    message = refused(run(tmp_path, monkeypatch, with_facts(f"study_sessions: {value}")),
                      f"facts.study_sessions — “{label}”应为整数")
    assert "不要带单位" not in message, message


def test_a_fact_given_by_its_chinese_label_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       jiguan: Any) -> None:
    label = jiguan.facts["study_sessions"].label
    out = accepted(run(tmp_path, monkeypatch, with_facts(f"{label}: 12")))
    assert "study_sessions" not in out and label not in out, out
    pack = make_mini_pack(tmp_path / "mini")
    data = mini_profile(pack)
    del data["facts"]["sessions"]
    data["facts"]["集中学习次数"] = 7
    assert "全年组织集中学习7次" in text_of(tmp_path, data, "mini.yaml")


def test_unknown_fact_key_suggests_the_nearest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refused(run(tmp_path, monkeypatch, with_facts("study_sessions: 12", "seminar_sesions: 3")),
            "p.yaml:10:3：facts.seminar_sesions — 模板包“jiguan”里没有事实“seminar_sesions”",
            "提示：是不是“seminar_sessions”？", "label:")


def test_own_fact_is_said_where_it_is_placed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = with_facts("study_sessions: 12", "talk_shows: {label: 开展“微宣讲”, value: 15, unit: 场}")
    text = text.replace("  - theory_study\n", "  - key: theory_study\n    facts: [talk_shows]\n")
    out = accepted(run(tmp_path, monkeypatch, text, command="build"))
    assert "talk_shows" not in out, out
    assert "开展“微宣讲”15场" in docx_text(tmp_path / "p.docx")


def test_a_plan_for_next_year_is_never_written_as_done_this_year(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    """“下一年度计划举办培训班期数” placed in a work item would read “年内举办培训班4期”: refused, and the
    hint for a plan left unsaid points to the measures."""
    text = with_facts("study_sessions: 12", "target_training: 4")
    placed = text.replace("  - theory_study\n", "  - key: theory_study\n    facts: [target_training]\n")
    refused(run(tmp_path, monkeypatch, placed, command="build"),
            "p.yaml:13:13：work[1].facts[1] — “下一年度计划举办培训班期数”是下一年度的计划，不能写成今年做过的事",
            "提示：把 facts: [target_training] 写到措施（measures）的某一条下")
    assert not (tmp_path / "p.docx").exists()
    out = accepted(run(tmp_path, monkeypatch, text))
    assert "或在措施（measures）的某一条里写 facts: [target_training] 把它放进去" in out, out


def test_own_fact_placed_nowhere_gets_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = with_facts("study_sessions: 12", "talk_shows: {label: 开展“微宣讲”, value: 15, unit: 场}")
    out = accepted(run(tmp_path, monkeypatch, text))
    assert re.search(r"注意：p\.yaml:10:\d+：facts\.talk_shows(\.value)? — 事实“开展“微宣讲””（talk_shows）填写了，"
                     r"但稿子里没有写到它", out), out
    assert "提示：在要写它的那一条里加上 facts: [talk_shows]" in out


def test_a_fact_no_chosen_item_states_names_the_items_that_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 jiguan: Any) -> None:
    chosen = {"theory_study", "responsibility", "standardization"}
    key = next(k for k in ("new_members", *jiguan.facts)
               if k in jiguan.facts and jiguan.owners(k) and not {e for _, e in jiguan.owners(k)} & chosen
               and k not in jiguan.basics())
    spec = jiguan.facts[key]
    value = 1 if spec.type != "text" else "某某"
    out = accepted(run(tmp_path, monkeypatch, with_facts("study_sessions: 12", f"{key}: {value}")))
    warning = next((line for line in out.splitlines() if f"（{key}）填写了，但稿子里没有写到它" in line), None)
    assert warning is not None, out
    assert warning.startswith(f"注意：p.yaml:10:{len(key) + 5}：facts.{key} — 事实“{spec.label}”（{key}）")
    hint = out.split(warning + "\n", 1)[1].splitlines()[0]
    assert hint.strip().startswith("提示："), hint
    for kind, entry in jiguan.owners(key)[:4]:
        assert f"“{jiguan.catalogues[kind][entry].title}”" in hint, hint


# ---------------------------------------------------------------- relations between facts


def test_relation_names_both_facts_and_the_other_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      jiguan: Any) -> None:
    assert any(r.left == ("standard_branches",) and r.right == ("branch_count",) for r in jiguan.relations)
    text = with_facts("branch_count: 10", "member_count: 100", "standard_branches: 33")
    standard, count = jiguan.facts["standard_branches"].label, jiguan.facts["branch_count"].label
    message = refused(run(tmp_path, monkeypatch, text), f"p.yaml:11:22：facts.standard_branches — “{standard}”（33）",
                      f"“{count}”（10，见第 9 行）", "提示：")
    assert len(places(message)) == 1
    accepted(run(tmp_path, monkeypatch, text.replace("standard_branches: 33", "standard_branches: 10")))


# ---------------------------------------------------------------- byline, self-typed numbering


def test_byline_doubling_is_mended_with_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = BASE.replace("  position: 书记", "  position: 党委书记")
    out = accepted(run(tmp_path, monkeypatch, text, command="build"))
    assert ("注意：p.yaml:5:13：meta.position — 署名会写成“某某机关党委党委书记”，“党委”重复了；"
            "已写成“某某机关党委书记”") in out, out
    assert "提示：把职务写成“书记”" in out
    paragraphs = docx_texts(tmp_path / "p.docx")
    assert "某某机关党委书记\u3000张三" in paragraphs, paragraphs[:4]
    assert "党委党委" not in "\n".join(paragraphs)


def test_self_typed_numbering_is_dropped_with_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = BASE.replace("  - standardization\n", "  - key: standardization\n    lead: （五）抓“双减”落实\n")
    out = accepted(run(tmp_path, monkeypatch, text, command="build"))
    assert "注意：p.yaml:14:11：work[3].lead — 这里自己写了编号“（五）”，已去掉" in out, out
    body = docx_text(tmp_path / "p.docx")
    assert "（三）抓“双减”落实" in body
    assert "（三）（五）" not in body and "（五）抓" not in body


# ---------------------------------------------------------------- a 0.1 profile


NONGYE_0_1 = """\
# 示例资料文件：青山市农业农村局机关党委（虚构单位，数字均为示例）
# 生成：reportgen build profiles/nongye.yaml
pack: jiguan

meta:
  unit: 青山市农业农村局机关党委        # 单位名称
  name: 周文斌                          # 述职人姓名
  position: 书记                        # 述职人职务
  year: 2025                            # 述职年度
  superior: 青山市直机关工委            # 上级党组织
  basis: 青山市直机关工委《关于开展2025年度机关党组织书记抓基层党建工作述职评议考核的通知》   # 述职依据
  date: 2026-01-12                      # 报告日期

facts:
  # 基本情况
  branch_count: 8             # 所属党支部数量（个）
  member_count: 136           # 党员人数（名）
  # 政治建设与理论学习
  first_topic_sessions: 26    # 落实“第一议题”制度学习次数（次）
  study_sessions: 14          # 中心组集中学习次数（次）
  seminar_sessions: 6         # 中心组专题研讨交流次数（次）
  study_brand: 周三夜学        # 机关读书学习活动名称（模板会自动加引号）
  # 责任落实
  plan_doc: 2025年青山市农业农村局机关党建工作要点   # 年度党建工作要点（模板会自动加书名号）
  party_group_meetings: 9     # 班子会议专题研究党建工作次数（次）
  secretary_lectures: 3       # 书记本人讲授专题党课次数（次）
  branch_visits: 16           # 书记到基层党支部调研指导次数（次）
  # 组织建设与支部标准化
  theme_days: 96              # 各支部开展主题党日活动场次
  branch_elections: 3         # 按期完成换届选举的党支部数量（个）
  standard_branches: 7        # 达到标准化规范化建设要求的党支部数量（个）
  # 党员队伍（汇总表栏目）
  new_members: 4              # 发展党员人数（名）
  # 党建与业务融合
  integration_projects: 12    # 党建引领业务攻坚项目数量（个）
  vanguard_posts: 35          # 党员先锋岗数量（个）
  business_result: 高标准农田建设、粮食生产稳产保供、农村人居环境整治提升   # 党建引领保障完成的重点业务任务
  # 品牌与示范创建
  brand_name: 田间党旗红       # 机关党建品牌名称（模板会自动加引号）
  brand_branches: 5           # 培育形成支部工作品牌的党支部数量（个）
  honour_branches: 2          # 获上级表彰的党支部数量（个）
  honour_title: 市直机关“五星级党支部”   # 党支部获得的表彰称号
  # 下一年度目标和时限
  deadline_list: 3月底前       # 党建责任清单制定完成时限
  deadline_standard: 6月底前   # 党支部标准化规范化全面达标时限
  target_model_branches: 3    # 计划新创建示范党支部数量（个）
  target_vanguard_posts: 10   # 计划新增党员先锋岗数量（个）

# 履职工作：从模板包目录中选 3—5 项；可用 add 在生成的正文后补充自己的话
work:
  - theory_study
  - key: responsibility
    add: 在此基础上，建立党建工作“月提示、季督查、年考评”推进机制，对各党支部逐一开展党建工作专项督查，督查结果在机关内部通报。
  - standardization
  - integration
  - brand

# 存在的主要问题（措施省略时自动与问题一一对应）
problems:
  - pressure
  - two_skins
  - uneven

# 问题的原因
causes:
  - awareness
  - supervision
  - work_conflict
"""


def test_a_0_1_profile_still_builds_and_is_told_about_the_renamed_fact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      jiguan: Any) -> None:
    assert jiguan.fact_aliases.get("theme_days") == "themed_days"
    out = accepted(run(tmp_path, monkeypatch, NONGYE_0_1, command="build"))
    assert out.startswith("已生成：p.docx")
    line = NONGYE_0_1.splitlines().index(next(t for t in NONGYE_0_1.splitlines() if t.startswith("  theme_days:"))) + 1
    assert (f"注意：p.yaml:{line}:3：facts.theme_days — 事实“theme_days”在模板包 jiguan {jiguan.version} 里改名为"
            "“themed_days”，已按新名称读取") in out, out
    assert "提示：把“theme_days:”改成“themed_days:”" in out
    body = docx_text(tmp_path / "p.docx")
    assert "青山市农业农村局机关党委" in body and "周文斌" in body
    assert "在此基础上，建立党建工作“月提示、季督查、年考评”推进机制" in body


def test_the_renamed_fact_of_a_0_1_profile_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """“已按新名称读取”: the 96 主题党日 of the 0.1 profile is in the draft, or the user is told it is not."""
    out = accepted(run(tmp_path, monkeypatch, NONGYE_0_1, command="build"))
    body = docx_text(tmp_path / "p.docx")
    assert "96次" in body or "（themed_days）填写了，但稿子里没有写到它" in out, out

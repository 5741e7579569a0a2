"""Issue 2, point 4: malformed profiles get a Chinese message with file:line:col, key path and hint.

Each case runs ``reportgen check`` (and ``build``) on a file written in code, from inside
tmp_path so the file is shown as ``p.yaml``; the expected texts are exact substrings of
what the user sees.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from conftest import complete_profile, docx_text, full_meta, write_yaml
from reportgen.cli import cli
from reportgen.pack import find_pack


@pytest.fixture
def jiguan() -> Any:
    return find_pack("jiguan")


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | bytes, *args: str,
        command: str = "check", name: str = "p.yaml") -> Result:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return CliRunner().invoke(cli, [command, name, *args])


def assert_refused(result: Result, *expected: str) -> str:
    """Exit 1, a Chinese message on stderr, no traceback; every expected text present."""
    message = result.stderr
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "资料文件有问题" in message, message
    for text in expected:
        assert text in message, f"{text!r} not in:\n{message}"
    return message


def problem_lines(message: str) -> list[str]:
    """The lines that name a place: ``p.yaml:3:7：…``."""
    return [line.strip() for line in message.splitlines() if re.match(r"^\s*p\.yaml:\d+", line)]


def first_integer_fact(pack: Any) -> Any:
    return next(spec for spec in pack.facts if spec.type == "integer")


# ---------------------------------------------------------------- typing slips


def test_tab_indentation_is_named_with_line_column_key_and_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(tmp_path, monkeypatch, "pack: jiguan\nmeta:\n\tunit: 某单位\n")
    message = assert_refused(result, "p.yaml:3:1：meta.unit — 这一行用制表符（Tab）缩进",
                             "提示：YAML 只能用半角空格缩进")
    assert len(problem_lines(message)) == 1


def test_full_width_space_indentation_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(tmp_path, monkeypatch, "pack: jiguan\nmeta:\n\u3000\u3000unit: 某单位\n")
    assert_refused(result, "p.yaml:3:", "meta.unit", "全角空格", "提示：")


def test_full_width_colon_is_named_with_key_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(tmp_path, monkeypatch, "pack: jiguan\nmeta:\n  unit： 某单位\n  name: 张三\n")
    assert_refused(result, "p.yaml:3:7：meta.unit — 键“unit”后面用了全角冒号“：”",
                   "提示：改成半角冒号加一个空格：“unit: ”")


def test_full_width_colon_inside_a_value_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 jiguan: Any) -> None:
    data = complete_profile(jiguan, meta=full_meta(basis="市直机关工委通知：关于开展述职评议的安排"))
    write_yaml(tmp_path / "p.yaml", data)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "p.yaml"])
    assert result.exit_code == 0, result.output


def test_missing_space_after_colon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(tmp_path, monkeypatch, "pack: jiguan\nmeta:\n  unit:某单位\n")
    assert_refused(result, "p.yaml:3:", "meta.unit", "冒号后面缺少空格", "提示：")


def test_all_typing_slips_are_reported_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "pack: jiguan\nmeta:\n\tunit: 某单位\n  name： 张三\n  position:书记\n"
    message = assert_refused(run(tmp_path, monkeypatch, text), "（共 3 处）", "制表符", "全角冒号", "缺少空格")
    assert [line.split("：")[0] for line in problem_lines(message)] == ["p.yaml:3:1", "p.yaml:4:7", "p.yaml:5:11"]


# ---------------------------------------------------------------- YAML syntax


@pytest.mark.parametrize(("text", "where", "says"), [
    pytest.param("pack: jiguan\nmeta:\n  unit: 甲单位: 乙\n", "p.yaml:3:", "这里不能出现“键: 值”", id="colon-in-value"),
    pytest.param("pack: jiguan\nmeta:\n  unit: 甲\n name: 乙\n", "p.yaml:4:", "缩进没有对齐", id="bad-indent"),
    pytest.param("pack: jiguan\nwork: [theory, study\nmeta: {}\n", "p.yaml:3:", "没有闭合", id="open-bracket"),
    pytest.param('pack: jiguan\nmeta:\n  unit: "某单位\n  name: 乙\n', "p.yaml:", "闭合", id="open-quote"),
    pytest.param("pack: jiguan\nmeta:\n  unit: @某单位\n", "p.yaml:3:", "特殊符号", id="at-sign"),
])
def test_syntax_errors_are_located_and_explained_in_chinese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            text: str, where: str, says: str) -> None:
    message = assert_refused(run(tmp_path, monkeypatch, text), where, says, "提示：")
    # PyYAML's own English must not reach the user.
    for english in ("expected", "found", "while scanning", "while parsing", "could not", "did not"):
        assert english not in message


# ---------------------------------------------------------------- duplicate keys, empty files


def test_duplicate_key_names_both_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "pack: jiguan\nmeta:\n  unit: 甲单位\n  name: 张三\n  unit: 乙单位\n"
    assert_refused(run(tmp_path, monkeypatch, text),
                   "p.yaml:5:3：meta.unit — 键“unit”重复出现（第一次在第 3 行）", "提示：删掉其中一个")


def test_duplicate_top_level_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jiguan: Any) -> None:
    topic = next(iter(jiguan.catalogues["topics"]))
    text = f"pack: jiguan\nwork:\n  - {topic}\nmeta:\n  unit: 甲\nwork:\n  - {topic}\n"
    assert_refused(run(tmp_path, monkeypatch, text), "p.yaml:6:1：work — 键“work”重复出现（第一次在第 2 行）")


@pytest.mark.parametrize("content", [b"", b"\n\n", b"# \xe5\x8f\xaa\xe6\x9c\x89\xe6\xb3\xa8\xe9\x87\x8a\n",
                                     b"\xef\xbb\xbf", b"   \n"],
                         ids=["empty", "blank-lines", "only-comment", "only-bom", "spaces"])
def test_empty_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes) -> None:
    assert_refused(run(tmp_path, monkeypatch, content), "p.yaml:1：", "文件是空的", "提示：", "reportgen init")


def test_top_level_must_be_a_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_refused(run(tmp_path, monkeypatch, "- 甲\n- 乙\n"), "p.yaml:1:1：", "“键: 值”", "提示：")


# ---------------------------------------------------------------- wrong types


def test_wrong_types_name_what_is_expected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jiguan: Any) -> None:
    fact = first_integer_fact(jiguan)
    text = (f"pack: jiguan\nmeta: 某单位\nfacts:\n  {fact.key}: 很多\nwork: {next(iter(jiguan.catalogues['topics']))}\n")
    message = assert_refused(
        run(tmp_path, monkeypatch, text),
        "p.yaml:2:7：meta — 应为“键: 值”映射，实际是“某单位”",
        f"p.yaml:4:{len(fact.key) + 5}：facts.{fact.key} — “{fact.label}”应为整数（单位：{fact.unit}），实际是“很多”",
        "p.yaml:5:7：work — 应为列表（每项以“- ”开头）",
    )
    assert "（共 3 处）" in message


def test_year_must_be_a_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "pack: jiguan\nmeta:\n  year: 二〇二五年\n"
    assert_refused(run(tmp_path, monkeypatch, text), "p.yaml:3:9：meta.year — 述职年度应为四位数的年份",
                   "提示：写成“year: 2025”")


def test_number_with_unit_suggests_the_bare_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   jiguan: Any) -> None:
    fact = first_integer_fact(jiguan)
    text = f"pack: jiguan\nfacts:\n  {fact.key}: 24{fact.unit}\n"
    assert_refused(run(tmp_path, monkeypatch, text), f"facts.{fact.key} — ", f"不要带单位“{fact.unit}”",
                   f"提示：写成“{fact.key}: 24”")


def test_negative_count_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jiguan: Any) -> None:
    fact = first_integer_fact(jiguan)
    text = f"pack: jiguan\nfacts:\n  {fact.key}: -3\n"
    assert_refused(run(tmp_path, monkeypatch, text), "p.yaml:3:", f"facts.{fact.key}", "不能小于 0")


# ---------------------------------------------------------------- unknown keys


def test_unknown_top_level_key_suggests_the_nearest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "pack: jiguan\nmeta:\n  unit: 甲\nfacs:\n  x: 1\n"
    assert_refused(run(tmp_path, monkeypatch, text), "p.yaml:4:1：facs — 未知的键“facs”", "提示：是不是“facts”？")


def test_unknown_meta_key_suggests_the_nearest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "pack: jiguan\nmeta:\n  unti: 甲\n"
    assert_refused(run(tmp_path, monkeypatch, text), "p.yaml:3:3：meta.unti — 未知的键“unti”", "提示：是不是“unit”？")


def test_chinese_label_as_key_names_the_right_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "pack: jiguan\nmeta:\n  单位名称: 甲\n"
    assert_refused(run(tmp_path, monkeypatch, text), "p.yaml:3:3：meta.单位名称 — 未知的键“单位名称”",
                   "提示：“单位名称”应写作“unit”")


def test_unknown_fact_suggests_the_nearest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jiguan: Any) -> None:
    fact = first_integer_fact(jiguan)
    typo = fact.key[:-1]
    text = f"pack: jiguan\nfacts:\n  {typo}: 3\n"
    assert_refused(run(tmp_path, monkeypatch, text), f"p.yaml:3:3：facts.{typo} — 未知的键“{typo}”",
                   f"提示：是不是“{fact.key}”？")


def test_unknown_catalogue_entry_suggests_the_nearest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      jiguan: Any) -> None:
    topic = next(iter(jiguan.catalogues["topics"]))
    typo = topic + "x"
    text = f"pack: jiguan\nwork:\n  - {typo}\n"
    assert_refused(run(tmp_path, monkeypatch, text), f"p.yaml:3:5：work[1] — 模板包“jiguan”里没有条目“{typo}”",
                   f"提示：是不是“{topic}”？")


def test_unknown_override_paragraph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "pack: jiguan\noverrides:\n  openning: 自己写的开头。\n"
    assert_refused(run(tmp_path, monkeypatch, text), "p.yaml:3:3：overrides.openning — 未知的键“openning”",
                   "提示：是不是“opening”？")


# ---------------------------------------------------------------- all at once


def test_three_different_errors_are_reported_in_one_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            jiguan: Any) -> None:
    fact = first_integer_fact(jiguan)
    topic = next(iter(jiguan.catalogues["topics"]))
    text = (f"pack: jiguan\nmeta:\n  unti: 甲\nfacts:\n  {fact.key}: 很多\nwork:\n  - {topic}x\n")
    message = assert_refused(run(tmp_path, monkeypatch, text), "（共 3 处）", "未知的键“unti”", "应为整数",
                             f"没有条目“{topic}x”")
    assert [line.split("：")[0] for line in problem_lines(message)] == ["p.yaml:3:3", f"p.yaml:5:{len(fact.key) + 5}",
                                                                       "p.yaml:7:5"]


def test_duplicate_key_and_validation_errors_come_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "pack: jiguan\nmeta:\n  unit: 甲\n  unit: 乙\n  unti: 丙\n"
    assert_refused(run(tmp_path, monkeypatch, text), "（共 2 处）", "重复出现", "未知的键“unti”")


def test_build_refuses_invalid_profile_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(tmp_path, monkeypatch, "pack: jiguan\nmeta:\n  unti: 甲\n", command="build")
    assert_refused(result, "p.yaml:3:3：meta.unti")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.yaml"]


# ---------------------------------------------------------------- encodings


ENCODED_UNIT = "梧桐镇卫生健康局机关党支部"


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gb18030", b""),
                                               ("utf-16-le", b"\xff\xfe")],
                         ids=["utf-8", "utf-8-bom", "gb18030", "utf-16-bom"])
def test_profile_encodings_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jiguan: Any,
                                    encoding: str, bom: bytes) -> None:
    import yaml

    data = complete_profile(jiguan, meta=full_meta(unit=ENCODED_UNIT))
    text = "# 资料文件（编码测试）\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    result = run(tmp_path, monkeypatch, bom + text.encode(encoding), command="build")
    assert result.exit_code == 0, result.output
    assert ENCODED_UNIT in docx_text(tmp_path / "p.docx")


def test_undecodable_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Valid neither as UTF-8 nor as GB18030 (0x80 and 0xFF are not GB18030 lead bytes).
    result = run(tmp_path, monkeypatch, b"pack: jiguan\nmeta:\n  unit: \xff\x80\xff\n")
    assert_refused(result, "p.yaml:3", "无法识别文件的文字编码", "提示：")

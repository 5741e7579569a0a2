"""Issue 2, point 8: the command line — build, init, check, exit codes, Chinese help.

Most tests use click's CliRunner; the subprocess tests run the installed ``reportgen``
command and ``python -m reportgen`` the way a user does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from conftest import (
    HAN_RE,
    complete_profile,
    count_han,
    docx_text,
    han_outside_placeholders,
    heading_texts,
    highlighted_runs,
    write_yaml,
)
from reportgen.cli import cli
from reportgen.pack import find_pack


@pytest.fixture
def jiguan() -> Any:
    return find_pack("jiguan")


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


# ---------------------------------------------------------------- build


def test_build_reports_output_han_count_and_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    jiguan: Any) -> None:
    monkeypatch.chdir(tmp_path)
    from reportgen.core import check

    data = complete_profile(jiguan)
    used = {m.key.removeprefix("facts.") for m in check(write_yaml(tmp_path / "p.yaml", {**data, "facts": {}})).missing}
    for key in sorted(used)[:2]:
        del data["facts"][key]
    write_yaml(tmp_path / "p.yaml", data)
    result = invoke("build", "p.yaml")
    assert result.exit_code == 0, result.output
    out = tmp_path / "p.docx"
    assert out.is_file()
    assert "已生成：p.docx" in result.stdout
    han = re.search(r"正文汉字：(\d+) 字", result.stdout)
    assert han is not None, result.stdout
    assert int(han.group(1)) == han_outside_placeholders(out)
    placeholders = len(highlighted_runs(out))
    assert placeholders >= 1
    assert re.search(rf"待补充：{placeholders} 处", result.stdout), result.stdout


def test_build_of_a_complete_profile_reports_zero_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          jiguan: Any) -> None:
    monkeypatch.chdir(tmp_path)
    write_yaml(tmp_path / "p.yaml", complete_profile(jiguan))
    result = invoke("build", "p.yaml")
    assert result.exit_code == 0, result.output
    assert "待补充：0 处" in result.stdout
    assert f"正文汉字：{count_han(docx_text(tmp_path / 'p.docx'))} 字" in result.stdout


def test_default_output_is_beside_the_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jiguan: Any) -> None:
    profile = write_yaml(tmp_path / "资料" / "某单位2025.yaml", complete_profile(jiguan))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = invoke("build", profile)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "资料" / "某单位2025.docx").is_file()
    assert list(elsewhere.iterdir()) == []


def test_output_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jiguan: Any) -> None:
    monkeypatch.chdir(tmp_path)
    write_yaml(tmp_path / "p.yaml", complete_profile(jiguan))
    (tmp_path / "out").mkdir()
    result = invoke("build", "p.yaml", "-o", "out/述职报告.docx")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "述职报告.docx").is_file()
    assert not (tmp_path / "p.docx").exists()
    assert "已生成：out/述职报告.docx" in result.stdout
    result = invoke("build", "p.yaml", "--output", "out")  # a folder: <stem>.docx inside it
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "p.docx").is_file()


def test_format_md(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jiguan: Any) -> None:
    monkeypatch.chdir(tmp_path)
    write_yaml(tmp_path / "p.yaml", complete_profile(jiguan))
    assert invoke("build", "p.yaml").exit_code == 0
    result = invoke("build", "p.yaml", "--format", "md")
    assert result.exit_code == 0, result.output
    md = (tmp_path / "p.md").read_text(encoding="utf-8")
    docx_headings = heading_texts(tmp_path / "p.docx")
    md_headings = [line.removeprefix("## ") for line in md.splitlines() if line.startswith("## ")]
    assert md_headings == docx_headings
    assert count_han(md) == count_han(docx_text(tmp_path / "p.docx"))


def test_pack_option_overrides_the_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mini_pack: Path) -> None:
    from conftest import mini_profile

    monkeypatch.chdir(tmp_path)
    data = mini_profile(mini_pack)
    data["pack"] = "jiguan"
    write_yaml(tmp_path / "p.yaml", data)
    result = invoke("build", "p.yaml", "--pack", str(mini_pack))
    assert result.exit_code == 0, result.output
    assert "模板包：测试用模板包（mini 1.0.0）" in result.stdout
    assert "甲项正文" in docx_text(tmp_path / "p.docx")


def test_unknown_pack_lists_the_available_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               jiguan: Any) -> None:
    monkeypatch.chdir(tmp_path)
    write_yaml(tmp_path / "p.yaml", complete_profile(jiguan, pack="jigaun"))
    result = invoke("build", "p.yaml")
    assert result.exit_code == 1
    assert "找不到模板包“jigaun”" in result.stderr
    assert "可用的模板包：" in result.stderr and "jiguan（" in result.stderr


def test_missing_profile_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("build", "没有这个文件.yaml")
    assert result.exit_code == 1
    assert "没有这个文件.yaml：找不到资料文件" in result.stderr
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- init


def _scaffold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    monkeypatch.chdir(tmp_path)
    result = invoke("init", "p.yaml")
    assert result.exit_code == 0, result.output
    assert "p.yaml" in result.stdout
    path = tmp_path / "p.yaml"
    return path, path.read_text(encoding="utf-8")


def test_init_scaffold_comments_every_field_in_chinese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       jiguan: Any) -> None:
    _, text = _scaffold(tmp_path, monkeypatch)
    lines = text.splitlines()
    fields = 0
    for number, line in enumerate(lines):
        match = re.match(r"^(\s*)([A-Za-z_][A-Za-z0-9_.]*):", line)
        if not match:
            continue
        fields += 1
        inline = line.partition("#")[2]
        above = lines[number - 1].strip() if number else ""
        commented = bool(HAN_RE.search(inline)) or (above.startswith("#") and bool(HAN_RE.search(above)))
        assert commented, f"line {number + 1} has no Chinese comment: {line}"
    data = yaml.safe_load(text)
    assert set(data["meta"]) == {"unit", "name", "position", "year", "superior", "basis", "date"}
    assert set(data["facts"]) == {spec.key for spec in jiguan.facts}
    assert fields >= 1 + 1 + 7 + 1 + len(jiguan.facts)
    # Every fact line names the fact's Chinese label.
    for spec in jiguan.facts:
        line = next(line for line in lines if re.match(rf"^\s+{spec.key}:", line))
        assert spec.label in line


def test_init_scaffold_builds_the_whole_skeleton_with_placeholders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   jiguan: Any) -> None:
    _, text = _scaffold(tmp_path, monkeypatch)
    result = invoke("build", "p.yaml")
    assert result.exit_code == 0, result.output
    out = tmp_path / "p.docx"
    # 上年问题整改情况 shows only when the profile lists last year's problems.
    given = set(yaml.safe_load(text))
    expected = [s for s in jiguan.skeleton.sections if s.heading and (s.kind != "rectification" or s.kind in given)]
    headings = heading_texts(out)
    assert len(headings) == len(expected) >= 3
    for n, (heading, section) in enumerate(zip(headings, expected, strict=True)):
        assert heading.startswith("一二三四五六七"[n] + "、")
        literal = re.sub(r"\{\{.*?\}\}", "\0", section.heading).split("\0")
        for piece in literal:
            assert piece.strip() in heading
    runs = highlighted_runs(out)
    assert runs and all(colour == "yellow" and text.startswith("【待补充：") for text, colour in runs)
    assert f"待补充：{len(runs)} 处" in result.stdout
    text = docx_text(out)
    assert "None" not in text and "{{" not in text


def test_init_refuses_to_overwrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, text = _scaffold(tmp_path, monkeypatch)
    path.write_text(text + "# 我的修改\n", encoding="utf-8")
    result = invoke("init", "p.yaml")
    assert result.exit_code == 1
    assert "文件已存在" in result.stderr
    assert path.read_text(encoding="utf-8").endswith("# 我的修改\n")


def test_init_with_each_builtin_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import builtin_pack_names

    monkeypatch.chdir(tmp_path)
    for name in builtin_pack_names():
        result = invoke("init", f"{name}.yaml", "--pack", name)
        assert result.exit_code == 0, result.output
        assert yaml.safe_load((tmp_path / f"{name}.yaml").read_text(encoding="utf-8"))["pack"] == name
        result = invoke("check", f"{name}.yaml")
        assert result.exit_code == 0, (name, result.output)


# ---------------------------------------------------------------- check


def test_check_lists_each_missing_fact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _scaffold(tmp_path, monkeypatch)
    result = invoke("check", "p.yaml")
    assert result.exit_code == 0, result.output
    assert invoke("build", "p.yaml").exit_code == 0
    labels = {text.removeprefix("【待补充：").removesuffix("】") for text, _ in highlighted_runs(tmp_path / "p.docx")}
    listed = [line for line in result.stdout.splitlines() if line.strip().startswith("- ")]
    assert listed
    for label in labels:
        assert any(label in line for line in listed), f"{label} is not listed by check"
    count = re.search(r"待补充 (\d+) 处", result.stdout)
    assert count is not None and int(count.group(1)) == len(listed)


def test_check_names_the_profile_key_of_each_missing_fact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          jiguan: Any) -> None:
    monkeypatch.chdir(tmp_path)
    data = complete_profile(jiguan)
    used = {spec.key for spec in jiguan.facts}
    write_yaml(tmp_path / "full.yaml", data)
    assert "没有需要补充的事实" in invoke("check", "full.yaml").stdout
    data["facts"] = {}
    write_yaml(tmp_path / "p.yaml", data)
    result = invoke("check", "p.yaml")
    assert result.exit_code == 0, result.output
    keys = set(re.findall(r"（(facts\.[a-z0-9_]+)，", result.stdout))
    assert keys and {k.removeprefix("facts.") for k in keys} <= used


def test_check_exits_1_for_an_invalid_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text("pack: jiguan\nmeta:\n  unti: 甲\n", encoding="utf-8")
    result = invoke("check", "p.yaml")
    assert result.exit_code == 1
    assert "p.yaml:3:3" in result.stderr


# ---------------------------------------------------------------- usage errors and help


@pytest.mark.parametrize(("args", "says"), [
    (["build"], "缺少参数"),
    (["check"], "缺少参数"),
    (["init"], "缺少参数"),
    (["build", "p.yaml", "--bogus"], "没有选项"),
    (["build", "p.yaml", "--format", "pdf"], "的值无效"),
    (["build", "p.yaml", "-o"], "需要一个值"),
    (["frobnicate"], "没有命令"),
])
def test_wrong_usage_exits_2_in_chinese(args: list[str], says: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert "错误：" in result.stderr and says in result.stderr
    assert "Error" not in result.stderr and "Usage" not in result.stderr


def _assert_chinese_help(text: str) -> None:
    assert "用法：" in text
    assert count_han(text) >= 10
    for english in ("Usage:", "Options:", "Commands:", "Show this message", "Show the version", "[default"):
        assert english not in text, f"{english!r} in help:\n{text}"


@pytest.mark.parametrize("args", [[], ["--help"], ["-h"], ["build", "--help"], ["init", "--help"],
                                  ["check", "--help"]])
def test_help_is_in_chinese(args: list[str]) -> None:
    result = invoke(*args) if args else invoke("--help")
    assert result.exit_code == 0, result.output
    _assert_chinese_help(result.stdout)


def test_main_help_lists_the_commands() -> None:
    text = invoke("--help").stdout
    for command in ("build", "init", "check"):
        assert re.search(rf"^\s+{command}\s+\S*[\u4e00-\u9fff]", text, re.M), command


# ---------------------------------------------------------------- real processes


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONIOENCODING": "utf-8"}


def test_python_dash_m_help() -> None:
    result = subprocess.run([sys.executable, "-m", "reportgen", "--help"], capture_output=True, text=True,
                            encoding="utf-8", env=_env(), timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    _assert_chinese_help(result.stdout)


def test_console_script_builds_and_maps_exit_codes(tmp_path: Path, jiguan: Any) -> None:
    script = Path(sys.executable).parent / "reportgen"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "reportgen"]
    profile = write_yaml(tmp_path / "p.yaml", complete_profile(jiguan))
    done = subprocess.run([*command, "build", str(profile)], capture_output=True, text=True, encoding="utf-8",
                          env=_env(), cwd=tmp_path, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "已生成：p.docx" in done.stdout
    assert heading_texts(tmp_path / "p.docx")
    (tmp_path / "bad.yaml").write_text("pack: jiguan\nmeta:\n\tunit: 甲\n", encoding="utf-8")
    bad = subprocess.run([*command, "check", "bad.yaml"], capture_output=True, text=True, encoding="utf-8",
                         env=_env(), cwd=tmp_path, timeout=60, check=False)
    assert bad.returncode == 1
    assert "bad.yaml:3:1" in bad.stderr and "Traceback" not in bad.stderr
    usage = subprocess.run([*command, "build", "--nope"], capture_output=True, text=True, encoding="utf-8",
                           env=_env(), cwd=tmp_path, timeout=60, check=False)
    assert usage.returncode == 2
    assert "错误：" in usage.stderr

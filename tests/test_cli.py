"""The command line as a user meets it: Chinese help, Chinese usage errors, exit codes, pipes, what
build / check / init print.

Everything goes through the real entry point ``reportgen.cli.main`` (in process, through click's
CliRunner, so usage errors are told exactly as the installed ``reportgen`` tells them) or through the
installed console script in a subprocess.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner, Result

from conftest import (
    HAN_RE,
    count_han,
    docx_text,
    example_data,
    full_meta,
    highlighted_runs,
    load_builtin,
    write_yaml,
)
from reportgen import __version__
from reportgen.cli import cli
from reportgen.cli import main as cli_main
from reportgen.errors import display_width

SCRIPT = Path(sys.executable).parent / "reportgen"
HAN = r"\u3400-\u4dbf\u4e00-\u9fff"


class _EntryPoint:
    """``reportgen.cli.main`` in the shape CliRunner invokes: the console script's own error handling."""

    name = "reportgen"

    def main(self, args: Sequence[str] = (), prog_name: str | None = None, **extra: Any) -> None:
        cli_main(list(args))


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(_EntryPoint(), [str(a) for a in args])  # type: ignore[arg-type]


def assert_no_traceback(result: Result) -> None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        pytest.fail("uncaught exception:\n" + "".join(traceback.format_exception(result.exception)))
    assert "Traceback" not in result.output


def _commands() -> list[tuple[str, ...]]:
    """Every command path of the CLI (read from click, so a new command is covered too)."""
    paths: list[tuple[str, ...]] = [()]

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        for name, command in sorted(group.commands.items()):
            paths.append((*prefix, name))
            if isinstance(command, click.Group):
                walk(command, (*prefix, name))

    walk(cli, ())
    return paths


def command_at(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def _all_option_words() -> set[str]:
    words: set[str] = set()

    def walk(command: click.Command) -> None:
        for param in command.params:
            for opt in (*param.opts, *param.secondary_opts):
                words.update(re.findall(r"[A-Za-z]+", opt))
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                words.add(sub.name or "")
                walk(sub)

    walk(cli)
    return words


# The program's name, its command and option names, and file extensions in metavars (“文件.zip或文件夹”).
ALLOWED_WORDS = {"reportgen", "docx", "md", "zip", "yaml", "xlsx"} | _all_option_words()


def english_words(text: str, args: Sequence[str]) -> list[str]:
    """ASCII words in ``text`` other than the allowed names and the words of the user's own arguments."""
    own = {word for arg in args for word in re.findall(r"[A-Za-z]+", arg)}
    return [word for word in re.findall(r"[A-Za-z]{2,}", text) if word not in ALLOWED_WORDS | own]


# ---------------------------------------------------------------- help


FORBIDDEN_IN_HELP = ("Usage", "Options", "Commands", "[OPTIONS]", "COMMAND", "ARGS", "Show this message",
                     "Show the version", "[1<=x<=64]", "[default", "TEXT", "PATH", "INTEGER", "FLOAT", "BOOLEAN",
                     "FILENAME", "Error", "Try ")


def _sections(text: str) -> dict[str, list[str]]:
    """Help text cut at its headings ("选项：", "命令："): heading -> the lines below it."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        match = re.fullmatch(rf"([{HAN}]+)：", line)
        if match:
            current = sections.setdefault(match.group(1), [])
        elif current is not None and line.strip():
            current.append(line)
    return sections


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "reportgen")
def test_every_help_text_is_chinese(path: tuple[str, ...]) -> None:
    result = run(*path, "-h")
    assert_no_traceback(result)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert result.stderr == ""
    command_path = " ".join(("reportgen", *path))
    assert text.startswith(f"用法：{command_path} [选项]"), text
    for english in FORBIDDEN_IN_HELP:
        assert english not in text, f"{english!r} in the help of {command_path}:\n{text}"
    # Headings end with a Chinese colon, never an ASCII one.
    assert not re.search(rf"[{HAN}]:", text), text
    sections = _sections(text)
    assert "选项" in sections, text
    if isinstance(command_at(path), click.Group):
        assert "命令" in sections, text
    # Every option and command is described in Chinese.
    for heading in ("选项", "命令"):
        for line in sections.get(heading, []):
            if re.match(r"^  \S", line):
                assert HAN_RE.search(line), f"no Chinese description: {line!r}"
    assert "显示这份帮助并退出。" in text
    assert count_han(text) >= 15


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "reportgen")
def test_help_columns_line_up_on_a_terminal(path: tuple[str, ...]) -> None:
    """Option names with Chinese metavars (“--pack 名称或路径”) take two columns a character on a terminal:
    the descriptions still start in one column."""
    text = run(*path, "-h").stdout
    for heading, lines in _sections(text).items():
        starts = {}
        for line in lines:
            match = re.match(r"^(  \S.*?\S)(  +)(\S.*)$", line)
            if match and not line.startswith("   "):
                starts[match.group(1).strip()] = display_width(match.group(1)) + len(match.group(2))
        assert len(set(starts.values())) <= 1, f"{' '.join(path)} {heading}: descriptions start at columns {starts}\n{text}"


def test_help_of_the_long_form_is_the_same() -> None:
    assert run("--help").stdout == run("-h").stdout
    assert run("build", "--help").stdout == run("build", "-h").stdout


def test_no_arguments_prints_the_help_and_exits_0() -> None:
    result = run()
    assert_no_traceback(result)
    assert result.exit_code == 0, result.output
    assert result.stdout == run("-h").stdout
    assert result.stderr == ""


def test_packs_without_a_subcommand_prints_its_help() -> None:
    result = run("packs")
    assert result.exit_code == 0, result.output
    assert result.stdout == run("packs", "-h").stdout


def test_main_help_lists_every_command_with_a_chinese_summary() -> None:
    text = run("-h").stdout
    for name in cli.commands:
        assert re.search(rf"^  {name}\s+\S*[{HAN}]", text, re.M), name


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(flag: str) -> None:
    result = run(flag)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"reportgen，版本 {__version__}"


# ---------------------------------------------------------------- usage errors

USAGE_ERRORS = [
    # args, command path of the usage line, the error line (exact), or a regex when marked with "re:"
    (["build"], "reportgen build", "错误：缺少参数“资料文件或文件夹...”。"),
    (["check"], "reportgen check", "错误：缺少参数“资料文件或填报表”。"),
    (["init"], "reportgen init", "错误：缺少参数“资料文件”。"),
    (["next"], "reportgen next", "错误：缺少参数“上年的资料文件或述职报告”。"),
    (["ledger"], "reportgen ledger", "错误：缺少参数“资料文件或文件夹...”。"),
    (["similar"], "reportgen similar", "错误：缺少参数“稿子或文件夹...”。"),
    (["packs", "show"], "reportgen packs show", "错误：缺少参数“名称或路径”。"),
    (["packs", "install"], "reportgen packs install", "错误：缺少参数“文件.zip或文件夹”。"),
    (["build", "x.yaml", "--frce"], "reportgen build", "错误：没有选项“--frce”。是不是“--force”？"),
    (["check", "x.yaml", "--stirct"], "reportgen check", "错误：没有选项“--stirct”。是不是“--strict”？"),
    (["biuld", "x.yaml"], "reportgen", "错误：没有“biuld”这个命令。是不是“build”？"),
    (["chek"], "reportgen", "错误：没有“chek”这个命令。是不是“check”？"),
    (["packs", "shwo", "jiguan"], "reportgen packs", "错误：没有“shwo”这个命令。是不是“show”？"),
    (["build", "-j", "0", "x.yaml"], "reportgen build", "错误：选项“-j/--jobs”的值不对：应在 1 到 64 之间，实际是 0。"),
    (["build", "--jobs", "65", "x.yaml"], "reportgen build", "错误：选项“-j/--jobs”的值不对：应在 1 到 64 之间，实际是 65。"),
    (["build", "-j", "abc", "x.yaml"], "reportgen build", "错误：选项“-j/--jobs”的值不对：“abc”不是整数。"),
    (["build", "x.yaml", "--format", "pdf"], "reportgen build", "错误：选项“--format”的值不对：“pdf”不可用，只能是 docx、md。"),
    (["check", "a.yaml", "b.yaml"], "reportgen check", "re:^错误：多余的参数：b\\.yaml。?$"),
    (["init", "a.yaml", "b.yaml"], "reportgen init", "re:^错误：多余的参数：b\\.yaml。?$"),
    (["packs", "list", "extra"], "reportgen packs list", "re:^错误：多余的参数：extra。?$"),
    (["build", "x.yaml", "-o"], "reportgen build", "错误：选项“-o”后面要写一个值。"),
    (["build", "x.yaml", "--force=yes"], "reportgen build", "re:^错误：.*--force.*"),
]


@pytest.mark.parametrize(("args", "command", "error"), USAGE_ERRORS, ids=[" ".join(row[0]) for row in USAGE_ERRORS])
def test_usage_errors_exit_2_in_chinese(args: list[str], command: str, error: str) -> None:
    result = run(*args)
    assert_no_traceback(result)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines, "a usage error must say why"
    assert lines[0].startswith(f"用法：{command} [选项]"), result.stderr
    errors = [line for line in lines if line.startswith("错误：")]
    assert len(errors) == 1, result.stderr
    if error.startswith("re:"):
        assert re.search(error[3:], errors[0]), result.stderr
    else:
        assert errors[0] == error, result.stderr
    assert lines[-1] == f"用“{command} -h”查看帮助。", result.stderr
    assert english_words(result.stderr, args) == [], result.stderr
    for english in ("Usage", "Error", "Try", "No such", "Missing", "Got unexpected", "Did you mean", "requires"):
        assert english not in result.stderr


def test_an_option_that_takes_no_value_is_not_said_to_need_one() -> None:
    """``--force=yes``: --force is a switch; the message must not tell the user to write a value after it."""
    result = run("build", "x.yaml", "--force=yes")
    assert result.exit_code == 2
    assert "后面要写一个值" not in result.stderr, result.stderr


def test_unknown_option_without_a_close_match_points_at_the_help() -> None:
    result = run("-x")
    assert result.exit_code == 2
    assert "错误：没有选项“-x”。" in result.stderr
    assert english_words(result.stderr, ["-x"]) == []


# ---------------------------------------------------------------- profiles used below


def jiguan_profile(**meta: Any) -> dict[str, Any]:
    """The jiguan pack's own example profile (complete: nothing to fill in), with ``meta`` changed."""
    data = example_data("jiguan")
    data["meta"] = full_meta(**meta)
    data.pop("pack", None)
    return {"pack": "jiguan", **data}


def required_facts_of(pack: Any, topic: str) -> list[str]:
    """The required facts the catalogue entry ``topic`` states."""
    entry = pack.catalogues["topics"][topic]
    found = [key for key in entry.all_facts() if pack.facts[key].required]
    assert found, f"{topic} states no required fact"
    return found


# ---------------------------------------------------------------- build and check output


def test_build_prints_output_han_count_and_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    pack = load_builtin("jiguan")
    data = jiguan_profile()
    data["work"] = ["theory_study", "standardization", "responsibility"]
    for topic in data["work"]:
        for key in required_facts_of(pack, topic):
            data["facts"].pop(key, None)
    write_yaml(tmp_path / "p.yaml", data)
    result = run("build", "p.yaml")
    assert_no_traceback(result)
    assert result.exit_code == 0, result.output
    out = tmp_path / "p.docx"
    assert out.is_file()
    lines = result.stdout.splitlines()
    assert lines[0] == "已生成：p.docx"
    text = docx_text(out)
    han = count_han(re.sub(r"【待补充：[^】]*】", "", text))
    assert f"正文汉字：{han} 字" in lines, result.stdout
    placeholders = highlighted_runs(out)
    assert len(placeholders) >= 3
    assert any(line.startswith(f"待补充：{len(placeholders)} 处") for line in lines), result.stdout
    # check agrees with build.
    checked = run("check", "p.yaml")
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.splitlines()[0].startswith(f"资料文件格式正确，稿子还有 {len(placeholders)} 处待补充：p.yaml")
    assert f"预计正文汉字：{han} 字" in checked.stdout


def test_build_of_a_complete_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_yaml(tmp_path / "p.yaml", jiguan_profile())
    result = run("build", "p.yaml")
    assert result.exit_code == 0, result.output
    assert "待补充：0 处" in result.stdout.splitlines()
    assert highlighted_runs(tmp_path / "p.docx") == []
    assert f"正文汉字：{count_han(docx_text(tmp_path / 'p.docx'))} 字" in result.stdout


def test_check_lists_each_missing_item_with_its_place_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    pack = load_builtin("jiguan")
    data = jiguan_profile()
    del data["meta"]["name"], data["meta"]["date"]
    data["work"] = ["theory_study", "responsibility", "standardization"]
    removed = {"（一）": required_facts_of(pack, "theory_study"), "（二）": required_facts_of(pack, "responsibility")}
    for keys in removed.values():
        for key in keys:
            data["facts"].pop(key, None)
    for key in required_facts_of(pack, "standardization"):
        data["facts"][key] = 1
    write_yaml(tmp_path / "p.yaml", data)
    result = run("check", "p.yaml")
    assert_no_traceback(result)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    total = 2 + sum(len(keys) for keys in removed.values())
    assert lines[0] == f"资料文件格式正确，稿子还有 {total} 处待补充：p.yaml（模板包：{pack.title} {pack.version}）", lines[0]
    listed = [line for line in lines if line.startswith("  - ")]
    assert f"待补充 {total} 处：" in lines
    assert len(listed) == total, result.stdout
    assert "  - 述职人姓名（署名；资料文件里的 meta.name）" in listed
    assert "  - 报告日期（署名（日期）；资料文件里的 meta.date）" in listed
    for place, keys in removed.items():
        for key in keys:
            assert f"  - {pack.facts[key].label}（一、{place}；资料文件里的 facts.{key}）" in listed, listed


def test_check_of_a_complete_profile_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_yaml(tmp_path / "p.yaml", jiguan_profile())
    result = run("check", "p.yaml")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("资料文件格式正确，稿子已完整：p.yaml（模板包：")
    assert "待补充" not in result.stdout


def test_check_strict_fails_while_something_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    complete = jiguan_profile()
    write_yaml(tmp_path / "full.yaml", complete)
    incomplete = jiguan_profile()
    del incomplete["meta"]["date"]
    write_yaml(tmp_path / "part.yaml", incomplete)
    assert run("check", "part.yaml").exit_code == 0
    strict = run("check", "--strict", "part.yaml")
    assert strict.exit_code == 1, strict.output
    assert "待补充 1 处：" in strict.stdout
    assert "报告日期" in strict.stdout
    assert run("check", "full.yaml", "--strict").exit_code == 0


def test_check_exits_1_with_the_place_of_the_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text("pack: jiguan\nmeta:\n  unti: 甲\n", encoding="utf-8")
    result = run("check", "p.yaml")
    assert_no_traceback(result)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "p.yaml:3:3：meta.unti — 未知的键“unti”" in result.stderr
    assert "提示：是不是“unit”？" in result.stderr


# ---------------------------------------------------------------- init


def _init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str = "p.yaml") -> str:
    monkeypatch.chdir(tmp_path)
    result = run("init", name)
    assert_no_traceback(result)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith(f"已生成资料文件模板：{name}（模板包：")
    return (tmp_path / name).read_text(encoding="utf-8")


def _fact_groups(text: str) -> list[tuple[str, bool, list[str]]]:
    """(title, chosen, fact keys) of each “# 【…】” group under facts: in a scaffold."""
    block = text.split("\nfacts:", 1)[1]
    groups: list[tuple[str, bool, list[str]]] = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith((" ", "#")):
            break  # the next top-level key
        heading = re.fullmatch(r"  # 【(.+?)】(（未选.*）)?", line)
        if heading:
            groups.append((heading.group(1), heading.group(2) is None, []))
            continue
        key = re.match(r"^  ([a-z][a-z0-9_]*):", line)
        if key and groups:
            groups[-1][2].append(key.group(1))
    return groups


def test_init_groups_the_facts_under_the_items_chosen_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _init(tmp_path, monkeypatch)
    pack = load_builtin("jiguan")
    data = yaml.safe_load(text)
    chosen = data["work"]
    assert 3 <= len(chosen) <= 6
    topics = pack.catalogues["topics"]
    titles = {entry.title: key for key, entry in topics.items()}
    groups = _fact_groups(text)
    assert groups, text
    item_groups = [(title, is_chosen, keys) for title, is_chosen, keys in groups if title in titles]
    # The chosen items' groups come first, in the order of work:, then the others, marked 未选.
    chosen_groups = [title for title, is_chosen, _ in item_groups if is_chosen]
    assert chosen_groups == [topics[key].title for key in chosen], groups
    flags = [is_chosen for _, is_chosen, _ in item_groups]
    assert flags == sorted(flags, reverse=True), "an unchosen item's facts come before a chosen one's"
    assert f"  # 【{topics[chosen[0]].title}】" in text.splitlines()
    for title, _, keys in item_groups:
        assert keys, f"group {title} lists no facts"
        assert set(keys) <= set(topics[titles[title]].all_facts()), title
    listed = [key for _, _, keys in groups for key in keys]
    assert len(listed) == len(set(listed)), "a fact is listed twice"
    assert set(listed) <= set(pack.facts)
    assert set(data["facts"]) == set(listed)


def test_init_scaffold_asks_only_for_what_the_chosen_items_need(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _init(tmp_path, monkeypatch)
    pack = load_builtin("jiguan")
    chosen = yaml.safe_load(text)["work"]
    wanted = {key for topic in chosen for key in pack.catalogues["topics"][topic].all_facts()} | set(pack.basics())
    result = run("check", "p.yaml")
    assert result.exit_code == 0, result.output
    count = re.search(r"稿子还有 (\d+) 处待补充", result.stdout)
    assert count is not None, result.stdout
    listed = [line for line in result.stdout.splitlines() if line.startswith("  - ")]
    assert len(listed) == int(count.group(1))
    facts = re.findall(r"资料文件里的 facts\.([a-z0-9_]+)）", result.stdout)
    assert facts, result.stdout
    assert set(facts) <= wanted, set(facts) - wanted
    assert all(pack.facts[key].required for key in facts)
    assert len(facts) < len([spec for spec in pack.facts.values() if spec.required]) + len(chosen)
    assert len(listed) < 20, "check lists far more than the chosen items need"


def test_init_refuses_to_overwrite_and_backs_up_with_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = _init(tmp_path, monkeypatch)
    path = tmp_path / "p.yaml"
    path.write_text(original + "# 我的修改\n", encoding="utf-8")
    refused = run("init", "p.yaml")
    assert_no_traceback(refused)
    assert refused.exit_code == 1
    assert "没有覆盖它" in refused.stderr and "--force" in refused.stderr, refused.stderr
    assert path.read_text(encoding="utf-8").endswith("# 我的修改\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.yaml"]
    forced = run("init", "p.yaml", "--force")
    assert forced.exit_code == 0, forced.output
    backups = [p for p in tmp_path.iterdir() if p.name != "p.yaml"]
    assert len(backups) == 1, backups
    backup = backups[0]
    assert re.fullmatch(r"p\.备份-\d{8}-\d{6}\.yaml", backup.name), backup.name
    assert f"原文件已备份为：{backup.name}" in forced.stdout
    assert backup.read_text(encoding="utf-8").endswith("# 我的修改\n")
    assert path.read_text(encoding="utf-8") == original


def test_init_twice_does_not_call_its_own_scaffold_foreign(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second ``init`` refuses (the user may have started filling it in), but must not claim that the
    scaffold it wrote itself was not written by reportgen."""
    original = _init(tmp_path, monkeypatch)
    again = run("init", "p.yaml")
    assert again.exit_code == 1
    assert (tmp_path / "p.yaml").read_text(encoding="utf-8") == original
    assert "不是 reportgen 生成的" not in again.stderr, again.stderr


def test_init_scaffold_checks_and_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _init(tmp_path, monkeypatch)
    result = run("build", "p.yaml")
    assert result.exit_code == 0, result.output
    runs = highlighted_runs(tmp_path / "p.docx")
    assert runs and all(text.startswith("【待补充：") for text, _ in runs)
    assert f"待补充：{len(runs)} 处" in result.stdout


# ---------------------------------------------------------------- real processes


def _script() -> Path:
    assert SCRIPT.is_file(), f"the console script is not installed beside {sys.executable}"
    return SCRIPT


def _shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, encoding="utf-8",
                          timeout=120, check=False, env=_env())


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONIOENCODING": "utf-8"}


def test_check_piped_into_head_prints_no_error(tmp_path: Path) -> None:
    data = jiguan_profile()
    del data["meta"]["date"]
    write_yaml(tmp_path / "x.yaml", data)
    done = _shell(f"'{_script()}' check x.yaml | head -1", tmp_path)
    assert done.stdout.startswith("资料文件格式正确，稿子还有 1 处待补充：x.yaml"), done.stdout
    assert done.stdout.count("\n") == 1
    assert done.stderr == "", done.stderr


@pytest.mark.parametrize("args", ["check x.yaml", "-h", "packs show jiguan", "packs list", "build x.yaml --force"])
def test_a_reader_that_goes_away_leaves_no_error(tmp_path: Path, args: str) -> None:
    """``| head -n 0`` closes the pipe before reportgen writes anything: the write fails with EPIPE."""
    data = jiguan_profile()
    del data["meta"]["date"]
    write_yaml(tmp_path / "x.yaml", data)
    done = _shell(f"'{_script()}' {args} | head -n 0", tmp_path)
    assert done.stderr == "", done.stderr


def test_python_dash_m_reportgen(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "reportgen", "-h"], capture_output=True, text=True, encoding="utf-8",
                          env=_env(), timeout=60, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("用法：")
    assert "选项：" in done.stdout and "命令：" in done.stdout
    # the same help; lines may break elsewhere (click's test runner forces a width of 80, a terminal gives 78)
    assert "".join(done.stdout.split()) == "".join(run("-h").stdout.split())


def test_console_script_maps_exit_codes(tmp_path: Path) -> None:
    script = str(_script())
    write_yaml(tmp_path / "p.yaml", jiguan_profile())
    ok = subprocess.run([script, "build", "p.yaml"], capture_output=True, text=True, encoding="utf-8", env=_env(),
                        cwd=tmp_path, timeout=120, check=False)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("已生成：p.docx")
    assert ok.stderr == ""
    (tmp_path / "bad.yaml").write_text("pack: jiguan\nmeta:\n\tunit: 甲\n", encoding="utf-8")
    bad = subprocess.run([script, "check", "bad.yaml"], capture_output=True, text=True, encoding="utf-8", env=_env(),
                         cwd=tmp_path, timeout=60, check=False)
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert "bad.yaml:3:1：meta.unit — 这一行用制表符（Tab）缩进" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr
    usage = subprocess.run([script, "build", "--nope"], capture_output=True, text=True, encoding="utf-8", env=_env(),
                           cwd=tmp_path, timeout=60, check=False)
    assert usage.returncode == 2
    assert "错误：没有选项“--nope”" in usage.stderr
    assert "Traceback" not in usage.stderr
    missing = subprocess.run([script, "build", "nothing.yaml"], capture_output=True, text=True, encoding="utf-8",
                             env=_env(), cwd=tmp_path, timeout=60, check=False)
    assert missing.returncode == 1
    assert "nothing.yaml：找不到资料文件" in missing.stderr


def test_init_help_names_its_default_pack_not_a_file_that_does_not_exist_yet() -> None:
    """``init`` writes the profile: its --pack cannot default to what that profile says."""
    text = "".join(run("init", "-h").stdout.split())
    assert "默认jiguan" in text
    assert "资料文件里pack:" not in text


def test_init_shows_the_packs_own_example_unit_and_says_the_preselected_items_are_to_be_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("init", "q.yaml", "--pack", "qiye")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "q.yaml").read_text(encoding="utf-8")
    example = example_data("qiye")["meta"]
    assert f"# 单位名称，例：{example['unit']}" in text and f"# 上级党组织，例：{example['superior']}" in text
    assert "机关党委" not in text.split("\nwork:")[0]
    lines = text.splitlines()
    assert lines[lines.index("work:") - 1] == "# 下面先选了示例里的几项，请按本单位的实际情况增删。"
    assert lines[lines.index("problems:") - 1] == \
        "# 下面先选了示例里的几项，请按本单位的实际情况增删（问题和原因要换成本单位自己查摆的）。"

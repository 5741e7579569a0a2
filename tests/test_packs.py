"""Pack management as a user meets it: packs list/show/new/check/export/install, where a pack is found.

Packs are built in code under tmp_path: the conftest mini pack (known prose), or copies of a built-in
pack with another name or version.  The built-in packs are iterated over whatever exists, and what is
asserted about them is read from the pack itself, so content work on them does not break these tests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from conftest import BUILTIN, TEMPLATES, make_mini_pack, tree_digest
from reportgen.cli import cli

VARIETY = re.compile(r"^措辞变化：\d+ 处句子和标题句，每处至少 \d+ 种、平均 \d+(\.\d+)? 种说法$", re.MULTILINE)


# ---------------------------------------------------------------- helpers


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])




def set_top_level(root: Path, **values: str) -> None:
    """Change top-level ``key: value`` lines of pack.yaml, keeping everything else."""
    manifest = root / "pack.yaml"
    lines = manifest.read_text(encoding="utf-8").splitlines()
    for key, value in values.items():
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
        lines[index] = f"{key}: {value}"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")


def copy_builtin(name: str, target: Path, version: str | None = None, new_name: str | None = None) -> Path:
    """A copy of a built-in pack folder, optionally with another version or name."""
    shutil.copytree(TEMPLATES / name, target)
    changes = {}
    if version is not None:
        changes["version"] = version
    if new_name is not None:
        changes["name"] = new_name
        example = target / "example.yaml"
        example.write_text(re.sub(r"^pack: .*$", f"pack: {new_name}", example.read_text(encoding="utf-8"),
                                  count=1, flags=re.MULTILINE), encoding="utf-8")
    if changes:
        set_top_level(target, **changes)
    return target


def custom_properties(docx: Path) -> dict[str, str]:
    with zipfile.ZipFile(docx) as zf:
        xml = zf.read("docProps/custom.xml").decode("utf-8")
    return dict(re.findall(r'<property\b[^>]*\bname="([^"]+)"[^>]*>\s*<vt:lpwstr>(.*?)</vt:lpwstr>', xml))


def line_of(path: Path, text: str) -> int:
    """1-based number of the first line of ``path`` containing ``text``."""
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


@dataclass(frozen=True)
class Env:
    home: Path
    store: Path
    work: Path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """An empty REPORTGEN_HOME and tmp_path/work as the working folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("REPORTGEN_HOME", str(home))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield Env(home, home / "packs", work)


def builtin(name: str) -> Any:
    """The built-in pack itself (load_builtin finds by name: an installed pack of that name would win)."""
    from reportgen.packs.lookup import builtin_packs_dir
    from reportgen.packs.manifest import load_pack

    return load_pack(builtin_packs_dir() / name, "builtin")


def builtin_version(name: str) -> str:
    return str(builtin(name).version)


# ---------------------------------------------------------------- packs list


def test_list_json_has_four_keys_and_every_place_in_resolution_order(env: Env) -> None:
    make_mini_pack(env.work / "packs" / "mini")
    copy_builtin("jiguan", env.store / "jiguan", version="8.0.0")
    result = run("packs", "list", "--json")
    assert result.exit_code == 0, result.output
    assert "\\u" not in result.stdout and "测试用模板包" in result.stdout  # Chinese as is
    listing = json.loads(result.stdout)
    assert all(set(item) == {"name", "version", "title", "source"} for item in listing)
    sources = [item["source"] for item in listing]
    assert sources == sorted(sources, key=["local", "user", "builtin"].index)  # local, then installed, then built-in
    assert {"name": "mini", "version": "1.0.0", "title": "测试用模板包", "source": "local"} in listing
    jiguan = [(item["source"], item["version"]) for item in listing if item["name"] == "jiguan"]
    assert jiguan == [("user", "8.0.0"), ("builtin", builtin_version("jiguan"))]
    assert {item["name"] for item in listing if item["source"] == "builtin"} == set(BUILTIN)
    for item in listing:
        if item["source"] == "builtin":
            pack = builtin(item["name"])
            assert (item["version"], item["title"]) == (pack.version, pack.title)


def test_list_text_is_a_table_and_a_broken_pack_is_pointed_out(env: Env) -> None:
    make_mini_pack(env.store / "mini")
    broken = make_mini_pack(env.store / "broken")
    (broken / "pack.yaml").write_text("format: 2\nname: broken\n", encoding="utf-8")
    result = run("packs", "list")
    assert result.exit_code == 0, result.output
    assert re.search(r"^名称\s+版本\s+来源\s+标题$", result.stdout, re.MULTILINE)
    assert re.search(r"^mini\s+1\.0\.0\s+已安装\s+测试用模板包$", result.stdout, re.MULTILINE)
    for name in BUILTIN:
        assert re.search(rf"^{name}\s+{re.escape(builtin_version(name))}\s+内置\s+", result.stdout, re.MULTILINE)
    assert "broken" not in result.stdout
    assert "broken" in result.stderr and "里的模板包无法读取" in result.stderr
    assert "reportgen packs check" in result.stderr


# ---------------------------------------------------------------- packs show


def test_show_gives_structure_catalogues_points_and_facts(env: Env, tmp_path: Path) -> None:
    root = make_mini_pack(tmp_path / "mini")
    result = run("packs", "show", root)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "模板包：测试用模板包" in out
    assert "名称：mini    版本：1.0.0    来源：本地" in out
    sections = re.findall(r"^  (\d)\. \S+?（(\w+)）：(.*)$", out, re.MULTILINE)
    assert [(n, kind) for n, kind, _ in sections] == [
        ("1", "opening"), ("2", "work"), ("3", "rectification"), ("4", "problems"), ("5", "causes"),
        ("6", "measures"), ("7", "closing")]
    details = {kind: rest for _, kind, rest in sections}
    assert "标题“履职情况”" in details["work"] and "编号：（一）（二）（三）" in details["work"]
    assert "1～5 条" in details["work"]
    assert "编号：一是、二是、三是（在同一段内）" in details["problems"]
    assert "编号：1. 2. 3." in details["measures"] and "有引导段" in details["measures"]
    assert "履职工作（topics，共 4 条）：" in out
    assert "    alpha：甲项 —— 如“抓甲项工作，夯实基础”，1 种说法\n      要点：a1、a2\n      事实：sessions\n" in out
    assert "    beta：乙项 —— 如“抓乙项工作，补齐短板”，1 种说法\n      要点：b1、b2\n      事实：doc_name\n" in out
    assert "    delta：丁项 —— 如“抓丁项工作，形成合力”，1 种说法\n      要点：d1\n" in out
    assert "p_one：问题一 —— 如“第一项问题仍然存在”，1 种说法（对应措施：m_one）" in out
    assert "措施（measures，共 3 条）：" in out
    assert "  sessions：集中学习次数（整数，单位：次，选了用到它的条目时必填，可写同比）" in out
    assert "  rate：按期换届率（百分数）" in out
    assert "  doc_name：年度工作要点名称（文字）" in out


@pytest.mark.parametrize("name", BUILTIN)
def test_show_builtin_lists_every_topic_with_its_points(env: Env, name: str) -> None:
    result = run("packs", "show", name)
    assert result.exit_code == 0, result.output
    out = result.stdout
    pack = builtin(name)
    assert f"名称：{name}    版本：{pack.version}    来源：内置" in out
    for kind, entries in pack.catalogues.items():
        if entries:
            assert f"（{kind}，共 {len(entries)} 条）：" in out
        for key, entry in entries.items():
            assert f"    {key}：{entry.title} —— 如“" in out
            if entry.points:
                assert "      要点：" + "、".join(point.key for point in entry.points) in out
    assert f"事实（facts，共 {len(pack.facts)} 项" in out


def test_show_unknown_pack(env: Env) -> None:
    result = run("packs", "show", "nosuchpack")
    assert result.exit_code == 1
    assert "找不到模板包“nosuchpack”" in result.output
    assert all(name in result.output for name in BUILTIN)  # the hint names what there is
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- packs new


def test_new_copies_renames_keeps_comments_and_resets_the_version(env: Env) -> None:
    source = TEMPLATES / "jiguan"
    result = run("packs", "new", "my-unit", "--from", "jiguan")
    assert result.exit_code == 0, result.output
    assert "已建立模板包 my-unit 0.1.0" in result.output
    target = env.work / "my-unit"
    original = (source / "pack.yaml").read_text(encoding="utf-8").splitlines()
    copied = (target / "pack.yaml").read_text(encoding="utf-8").splitlines()
    assert len(copied) == len(original)
    changed = [(a, b) for a, b in zip(original, copied, strict=True) if a != b]
    assert [b for _, b in changed] == ["name: my-unit", "version: 0.1.0"]  # comments and all else as they were
    assert any(line.startswith("#") for line in copied)
    example = (target / "example.yaml").read_text(encoding="utf-8")
    assert re.search(r"^pack: my-unit\b", example, re.MULTILINE)
    assert example.splitlines()[0] == (source / "example.yaml").read_text(encoding="utf-8").splitlines()[0]
    for path in (source / "prose").iterdir():
        assert (target / "prose" / path.name).read_bytes() == path.read_bytes()
    assert (target / "word" / "template.docx").read_bytes() == (source / "word" / "template.docx").read_bytes()
    assert not [p.name for p in env.work.iterdir() if p.name.startswith(".")]  # no staging folder left
    checked = run("packs", "check", target)
    assert checked.exit_code == 0, checked.output
    assert "模板包 my-unit 0.1.0 检查通过" in checked.output


@pytest.mark.parametrize("name", BUILTIN)
def test_new_from_every_builtin_builds_its_example(env: Env, name: str) -> None:
    result = run("packs", "new", "copy", "--from", name)
    assert result.exit_code == 0, result.output
    built = run("build", env.work / "copy" / "example.yaml", "-o", env.work / "copy.docx")
    assert built.exit_code == 0, built.output
    assert "（copy 0.1.0）" in built.output
    assert custom_properties(env.work / "copy.docx")["reportgen.pack"] == "copy"


def test_new_refuses_a_non_empty_folder_and_a_bad_name(env: Env) -> None:
    Path("taken").mkdir()
    (Path("taken") / "note.txt").write_text("keep me", encoding="utf-8")
    result = run("packs", "new", "taken", "--from", "jiguan")
    assert result.exit_code == 1
    assert "这个位置已经有文件了，没有覆盖" in result.output
    assert sorted(p.name for p in Path("taken").iterdir()) == ["note.txt"]
    result = run("packs", "new", "我的包", "--from", "jiguan")
    assert result.exit_code == 1
    assert "文件夹名“我的包”不能用作模板包名称" in result.output
    assert not Path("我的包").exists()
    assert sorted(p.name for p in env.work.iterdir()) == ["taken"]


# ---------------------------------------------------------------- packs check


@pytest.mark.parametrize("name", BUILTIN)
def test_check_passes_for_builtin_and_tells_the_variety(env: Env, name: str) -> None:
    result = run("packs", "check", name)
    assert result.exit_code == 0, result.output
    assert f"模板包 {name} {builtin_version(name)} 检查通过" in result.stdout
    assert VARIETY.search(result.stdout), result.stdout
    assert "待补充" not in result.output  # the example profile gives a complete draft
    assert not env.home.exists()  # a check writes nothing


def test_check_writes_nothing_in_the_pack(env: Env, tmp_path: Path) -> None:
    root = copy_builtin("jiguan", tmp_path / "mine", new_name="mine")
    before = tree_digest(root)
    result = run("packs", "check", root)
    assert result.exit_code == 0, result.output
    assert VARIETY.search(result.stdout)
    assert tree_digest(root) == before
    assert not env.home.exists()


def test_check_reports_every_problem_at_once_with_file_and_line(env: Env, tmp_path: Path) -> None:
    root = copy_builtin("jiguan", tmp_path / "mine", new_name="mine")
    manifest = root / "pack.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("format: 2\n", "format: 2\ncolour: red\n"),
                        encoding="utf-8")
    set_top_level(root, version="0.1")
    topics = root / "prose" / "topics.yaml"
    text = topics.read_text(encoding="utf-8")
    first = re.search(r"^ +- - (.+)$", text, re.MULTILINE)
    assert first is not None
    sentence = first.group(1).strip().strip('"')
    topics.write_text(text.replace(sentence, sentence.replace("。", "{no_such_fact}。", 1), 1), encoding="utf-8")
    causes = root / "prose" / "causes.yaml"
    causes.write_text(causes.read_text(encoding="utf-8").replace("  title:", "  titel:", 1), encoding="utf-8")

    result = run("packs", "check", root)
    assert result.exit_code == 1
    out = result.output
    assert out.startswith("模板包有问题（共 5 处）：\n"), out
    shown = str(root)
    assert f"{shown}/pack.yaml:{line_of(manifest, 'colour:')}:1：colour — 未知的键“colour”" in out
    assert f"{shown}/pack.yaml:{line_of(manifest, 'version:')}:10：version — 版本号“0.1”不合规" in out
    assert re.search(rf"{re.escape(shown)}/prose/topics\.yaml:{line_of(topics, '{no_such_fact}')}:\d+：\S+ — "
                     r"用了未声明的事实“\{no_such_fact\}”", out), out
    assert re.search(rf"{re.escape(shown)}/prose/causes\.yaml:{line_of(causes, 'titel:')}:3：\S+\.titel — "
                     r"未知的键“titel”\n +提示：是不是“title”？", out), out
    assert f"{shown}/prose/causes.yaml:" in out and "缺少必填项" in out
    assert "Traceback" not in out


def test_check_reports_word_template_problems_with_manifest_problems(env: Env, tmp_path: Path) -> None:
    """A Word template without a style the pack names is reported in the same run as a bad version."""
    root = copy_builtin("jiguan", tmp_path / "mine", new_name="mine")
    manifest = root / "pack.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "styles:\n  lead2: NoSuchStyle\n", encoding="utf-8")
    set_top_level(root, version="0.1")
    result = run("packs", "check", root)
    assert result.exit_code == 1
    assert "版本号“0.1”不合规" in result.output
    assert "Word 模板缺少样式 NoSuchStyle（字符样式，用于 lead2）" in result.output


def _format_one_pack(root: Path) -> Path:
    """A pack as reportgen 0.1 wrote them: no format key (or format: 1), prose as .j2 templates."""
    (root / "prose").mkdir(parents=True)
    (root / "word").mkdir()
    shutil.copyfile(TEMPLATES / "jiguan" / "word" / "template.docx", root / "word" / "template.docx")
    (root / "pack.yaml").write_text(
        "# 旧的模板包\nname: oldpack\nversion: 1.0.0\ntitle: 旧格式模板包\nrequires: \">=0.1\"\n"
        "word_template: word/template.docx\ncatalogues:\n  topics:\n"
        "    study: {title: 理论学习, lead: 抓理论学习, template: prose/study.j2}\n", encoding="utf-8")
    (root / "prose" / "study.j2").write_text("组织集中学习{{ f.study_sessions }}。\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("format_line", ["", "format: 1\n"])
def test_old_format_pack_is_refused_with_the_format_message(env: Env, tmp_path: Path, format_line: str) -> None:
    root = _format_one_pack(tmp_path / "oldpack")
    if format_line:
        manifest = root / "pack.yaml"
        manifest.write_text(manifest.read_text(encoding="utf-8").replace("name:", format_line + "name:", 1),
                            encoding="utf-8")
    for command in (("packs", "check", root), ("packs", "install", root)):
        result = run(*command)
        assert result.exit_code == 1
        assert "这是旧格式（格式 1，正文为 .j2 模板）的模板包，reportgen 0.2 起需要格式 2" in result.output
        assert "reportgen packs new" in result.output
        assert "Traceback" not in result.output
    assert not env.home.exists()


def test_old_format_pack_is_not_called_unsafe(env: Env, tmp_path: Path) -> None:
    """A unit's own pack from reportgen 0.1 is out of date, not an attack: it is not "不安全"."""
    root = _format_one_pack(tmp_path / "oldpack")
    result = run("packs", "check", root)
    assert result.exit_code == 1
    assert "格式 1" in result.output
    assert "不安全" not in result.output, result.output


# ---------------------------------------------------------------- packs export


def _mine(tmp_path: Path) -> Path:
    return copy_builtin("jiguan", tmp_path / "mine", new_name="mine", version="1.2.3")


def _needed(root: Path) -> list[str]:
    return sorted(["pack.yaml", "example.yaml", "word/template.docx",
                   *(f"prose/{p.name}" for p in (root / "prose").iterdir())])


def test_export_is_deterministic_and_ships_the_pack(env: Env, tmp_path: Path) -> None:
    root = _mine(tmp_path)
    assert run("packs", "export", root, "-o", "a.zip").exit_code == 0
    os.utime(root / "pack.yaml", (1_000_000, 1_000_000))
    result = run("packs", "export", root, "-o", "b.zip")
    assert result.exit_code == 0, result.output
    assert f"已导出模板包 mine 1.2.3：b.zip（{len(_needed(root))} 个文件）" in result.output
    assert Path("a.zip").read_bytes() == Path("b.zip").read_bytes()
    with zipfile.ZipFile("a.zip") as zf:
        names = zf.namelist()
        assert names == sorted(names)
        assert sorted(n.removeprefix("mine/") for n in names) == _needed(root)
        assert all(n.startswith("mine/") for n in names)
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        for name in names:
            assert zf.read(name) == (root / name.removeprefix("mine/")).read_bytes()


def test_export_default_name_and_existing_file(env: Env, tmp_path: Path) -> None:
    root = _mine(tmp_path)
    result = run("packs", "export", root)
    assert result.exit_code == 0, result.output
    target = env.work / "mine-1.2.3.zip"
    assert target.is_file()
    target.write_bytes(b"someone else's file")
    refused = run("packs", "export", root)
    assert refused.exit_code == 1 and "没有覆盖" in refused.output
    assert target.read_bytes() == b"someone else's file"
    forced = run("packs", "export", root, "--force")
    assert forced.exit_code == 0, forced.output
    assert zipfile.is_zipfile(target)
    assert [p.read_bytes() for p in env.work.glob("mine-1.2.3.备份-*.zip")] == [b"someone else's file"]


def test_export_refuses_a_broken_pack(env: Env, tmp_path: Path) -> None:
    root = _mine(tmp_path)
    set_top_level(root, version="1.2")
    result = run("packs", "export", root, "-o", "x.zip")
    assert result.exit_code == 1
    assert "版本号“1.2”不合规" in result.output
    assert not Path("x.zip").exists()
    assert sorted(p.name for p in env.work.iterdir()) == []


def _draft_of_example(root: Path, target: Path) -> Path:
    """A real draft built from the pack's example (as a user would leave beside it)."""
    out = root.parent / "draft-build"
    out.mkdir(exist_ok=True)
    built = run("build", root / "example.yaml", "--pack", root, "-o", out / "示例稿.docx")
    assert built.exit_code == 0, built.output
    shutil.move(out / "示例稿.docx", target)
    return target


def test_export_leaves_a_draft_in_the_folder_out_and_says_so(env: Env, tmp_path: Path) -> None:
    root = _mine(tmp_path)
    _draft_of_example(root, root / "示例稿.docx")
    result = run("packs", "export", root, "-o", "mine.zip")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile("mine.zip") as zf:
        assert sorted(n.removeprefix("mine/") for n in zf.namelist()) == _needed(root)
    assert "注意：文件夹里有 1 个模板包用不到的文件没有导出：示例稿.docx" in result.output


def test_export_leaves_a_summary_and_temporaries_out_and_names_them(env: Env, tmp_path: Path) -> None:
    """What a user's work leaves in a pack folder — a draft, a batch's 汇总.xlsx, Word's ~WRL….tmp while
    the template is edited — is not part of the pack: not shipped, and named in the output."""
    from openpyxl import Workbook

    root = _mine(tmp_path)
    _draft_of_example(root, root / "示例稿.docx")
    book = Workbook()
    book.active.append(["单位", "正文汉字"])
    book.save(root / "汇总.xlsx")
    (root / "word" / "~WRL0001.tmp").write_bytes(b"\0" * 64)
    result = run("packs", "export", root, "-o", "mine.zip")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile("mine.zip") as zf:
        assert sorted(n.removeprefix("mine/") for n in zf.namelist()) == _needed(root)
    line = next(line for line in result.output.splitlines() if line.startswith("注意：文件夹里有"))
    assert line.startswith("注意：文件夹里有 3 个模板包用不到的文件没有导出：")
    for name in ("示例稿.docx", "汇总.xlsx", "word/~WRL0001.tmp"):
        assert name in line


# ---------------------------------------------------------------- packs install


def _export(root: Path, target: Path) -> Path:
    result = run("packs", "export", root, "-o", target)
    assert result.exit_code == 0, result.output
    return target


def test_install_versions_up_down_and_again(env: Env, tmp_path: Path) -> None:
    v1 = _export(copy_builtin("jiguan", tmp_path / "v1" / "mine", new_name="mine", version="1.0.0"), tmp_path / "v1.zip")
    v2 = copy_builtin("jiguan", tmp_path / "v2" / "mine", new_name="mine", version="1.1.0")
    title = builtin("jiguan").title

    result = run("packs", "install", v1)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"已安装模板包 mine 1.0.0（{title}）"
    assert yaml.safe_load((env.store / "mine" / "pack.yaml").read_text(encoding="utf-8"))["version"] == "1.0.0"

    before = tree_digest(env.home)
    again = run("packs", "install", v1)
    assert again.exit_code == 1
    assert "模板包 mine 1.0.0 已经安装过了，没有重复安装" in again.output
    assert "--force" in again.output
    assert tree_digest(env.home) == before

    forced = run("packs", "install", v1, "--force")
    assert forced.exit_code == 0, forced.output
    assert forced.output.splitlines()[0] == "已重新安装模板包 mine 1.0.0"

    up = run("packs", "install", v2)  # a folder installs as well as a zip
    assert up.exit_code == 0, up.output
    assert up.output.splitlines()[0] == "已将模板包 mine 从 1.0.0 升级到 1.1.0"
    down = run("packs", "install", v1)
    assert down.exit_code == 0, down.output
    assert down.output.splitlines()[0] == "已将模板包 mine 从 1.1.0 降级到 1.0.0"

    assert sorted(p.name for p in env.store.iterdir()) == [".lock", "mine"]  # no staging left behind
    installed = sorted(p.relative_to(env.store / "mine").as_posix() for p in (env.store / "mine").rglob("*")
                       if p.is_file())
    assert installed == _needed(env.store / "mine")
    for output in (result, forced, up, down):
        assert ".installing-" not in output.output


def test_install_of_a_broken_pack_names_the_users_file(env: Env, tmp_path: Path) -> None:
    """The problems of a refused install point at the pack the user gave, not at a staging folder."""
    root = copy_builtin("jiguan", tmp_path / "mine", new_name="mine")
    set_top_level(root, version="0.1")
    result = run("packs", "install", root)
    assert result.exit_code == 1
    assert "版本号“0.1”不合规" in result.output
    assert ".installing-" not in result.output, result.output
    assert f"pack.yaml:{line_of(root / 'pack.yaml', 'version:')}:" in result.output
    assert not env.home.exists()  # a failed first install leaves no store behind


def test_install_refuses_what_is_not_a_pack(env: Env, tmp_path: Path) -> None:
    (tmp_path / "notes.zip").write_bytes(b"not a zip")
    result = run("packs", "install", tmp_path / "notes.zip")
    assert result.exit_code == 1 and "这不是 .zip 压缩包，也不是模板包文件夹" in result.output
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as zf:
        zf.writestr("readme.txt", "hello")
    result = run("packs", "install", tmp_path / "empty.zip")
    assert result.exit_code == 1 and "压缩包里没有 pack.yaml，不是模板包" in result.output
    (tmp_path / "folder").mkdir()
    result = run("packs", "install", tmp_path / "folder")
    assert result.exit_code == 1 and "这个文件夹里没有 pack.yaml，不是模板包" in result.output
    result = run("packs", "install", tmp_path / "missing.zip")
    assert result.exit_code == 1 and "找不到要安装的模板包" in result.output
    assert not env.home.exists()


KILLED_INSTALL = """
import os, signal, sys
from pathlib import Path
from reportgen import core

def killed(root, label):  # the pack is unpacked into the store's staging folder: die right here
    os.kill(os.getpid(), signal.SIGKILL)

core.check_pack_folder = killed
core.install(Path(sys.argv[1]))
"""


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_a_killed_install_leaves_staging_that_the_next_install_removes(env: Env, tmp_path: Path) -> None:
    source = copy_builtin("jiguan", tmp_path / "mine", new_name="mine")
    killed = subprocess.run([sys.executable, "-c", KILLED_INSTALL, str(source)], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "REPORTGEN_HOME": str(env.home)}, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    leftovers = list(env.store.glob(".installing-*"))
    assert leftovers and (leftovers[0] / "pack" / "pack.yaml").is_file()  # what a kill -9 leaves
    assert not (env.store / "mine").exists()

    result = run("packs", "install", source)
    assert result.exit_code == 0, result.output
    assert not list(env.store.glob(".installing-*"))
    assert sorted(p.name for p in env.store.iterdir()) == [".lock", "mine"]


@pytest.mark.skipif(os.name == "nt", reason="the test holds the lock with fcntl")
def test_installs_take_turns_on_the_store_lock(env: Env, tmp_path: Path) -> None:
    """An install waits while another holds the store's lock, then goes ahead."""
    import fcntl

    from reportgen import core

    source = copy_builtin("jiguan", tmp_path / "mine", new_name="mine", version="0.5.0")
    env.store.mkdir(parents=True)
    finished: list[str] = []
    failed: list[BaseException] = []

    def install() -> None:
        try:
            finished.append(core.install(source)[0].pack.version)
        except BaseException as exc:  # reported by the test below
            failed.append(exc)

    with open(env.store / ".lock", "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # another install, busy swapping folders
        worker = threading.Thread(target=install)
        worker.start()
        worker.join(timeout=1.5)
        assert worker.is_alive() and not finished and not failed  # waiting, nothing written yet
        assert sorted(p.name for p in env.store.iterdir()) == [".lock"]
    worker.join(timeout=60)
    assert not failed, failed
    assert finished == ["0.5.0"]
    assert (env.store / "mine" / "pack.yaml").is_file()
    assert not list(env.store.glob(".installing-*"))


# ---------------------------------------------------------------- where a pack is found


def _unit_profile(folder: Path, pack_line: str = "pack: jiguan") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = (TEMPLATES / "jiguan" / "example.yaml").read_text(encoding="utf-8")
    path = folder / "资料.yaml"
    path.write_text(re.sub(r"^pack: .*$", pack_line, text, count=1, flags=re.MULTILINE), encoding="utf-8")
    return path


def _used(profile: Path, *extra: str | Path) -> tuple[str, Result]:
    """The version of the pack a build used (recorded in the draft), and the build's result."""
    out = profile.with_suffix(".docx")
    result = run("build", profile, "-o", out, "--force", *extra)
    assert result.exit_code == 0, result.output
    version = custom_properties(out)["reportgen.pack_version"]
    assert f"（jiguan {version}）" in result.output
    return version, result


def test_resolution_order_path_then_beside_the_profile_then_store_then_builtin(env: Env, tmp_path: Path) -> None:
    profile = _unit_profile(tmp_path / "unit")
    explicit = copy_builtin("jiguan", tmp_path / "elsewhere" / "jiguan", version="7.0.0")
    copy_builtin("jiguan", env.store / "jiguan", version="8.0.0")
    copy_builtin("jiguan", tmp_path / "unit" / "packs" / "jiguan", version="9.0.0")

    assert _used(profile, "--pack", explicit)[0] == "7.0.0"  # 1. a path given
    relative = _unit_profile(tmp_path / "unit2", "pack: ../elsewhere/jiguan")  # a path in the profile: from it
    assert _used(relative)[0] == "7.0.0"
    assert _used(profile)[0] == "9.0.0"  # 2. packs/ beside the profile
    shutil.rmtree(tmp_path / "unit" / "packs")
    assert _used(profile)[0] == "8.0.0"  # 3. the user's store
    shutil.rmtree(env.store / "jiguan")
    version, result = _used(profile)  # 4. built-in
    assert version == builtin_version("jiguan")
    assert "同名" not in result.output


def test_version_requirement_picks_the_first_that_satisfies(env: Env, tmp_path: Path) -> None:
    copy_builtin("jiguan", env.store / "jiguan", version="1.5.0")
    builtin = builtin_version("jiguan")
    profile = _unit_profile(tmp_path / "unit")
    assert _used(profile)[0] == "1.5.0"
    assert _used(profile, "--pack", "jiguan>=2.0")[0] == builtin  # the store's 1.5.0 does not do
    assert _used(_unit_profile(tmp_path / "unit", "pack: jiguan>=2.0"))[0] == builtin
    assert _used(_unit_profile(tmp_path / "unit", "pack: jiguan<2"))[0] == "1.5.0"


def test_version_requirement_nobody_satisfies_lists_the_versions_found(env: Env, tmp_path: Path) -> None:
    copy_builtin("jiguan", env.store / "jiguan", version="1.5.0")
    builtin = builtin_version("jiguan")
    expected = f"模板包“jiguan”的版本不满足要求“==9.9”：找到的是 1.5.0（已安装）、{builtin}（内置）"
    profile = _unit_profile(tmp_path / "unit", "pack: jiguan==9.9")
    for command in (["build", profile], ["check", profile], ["build", _unit_profile(tmp_path / "u2"), "--pack",
                                                               "jiguan==9.9"]):
        result = run(*command)
        assert result.exit_code == 1
        assert result.output.startswith(expected + "\n"), result.output
        assert "reportgen packs install" in result.output
    assert not list((tmp_path / "unit").glob("*.docx")) and not list((tmp_path / "u2").glob("*.docx"))
    result = run("init", tmp_path / "new.yaml", "--pack", "jiguan==9.9")
    assert result.exit_code == 1 and expected in result.output
    assert not (tmp_path / "new.yaml").exists()


def test_unknown_pack_in_a_profile(env: Env, tmp_path: Path) -> None:
    result = run("build", _unit_profile(tmp_path / "unit", "pack: nosuch>=1.0"))
    assert result.exit_code == 1
    assert result.output.startswith("找不到模板包“nosuch”")
    assert not list((tmp_path / "unit").glob("*.docx"))


def test_a_user_pack_named_like_a_builtin_shadows_it_and_says_so(env: Env, tmp_path: Path) -> None:
    source = copy_builtin("jiguan", tmp_path / "jiguan", version="8.0.0")
    installed = run("packs", "install", source)
    assert installed.exit_code == 0, installed.output
    assert "注意：已安装的模板包“jiguan”与内置模板包同名" in installed.output
    profile = _unit_profile(tmp_path / "unit")
    version, built = _used(profile)
    assert version == "8.0.0"
    assert "同名" in built.output and "已安装的模板包 jiguan 8.0.0" in built.output
    checked = run("check", profile)
    assert checked.exit_code == 0 and "同名" in checked.output
    copy_builtin("jiguan", tmp_path / "unit" / "packs" / "jiguan", version="9.0.0")
    version, built = _used(profile)
    assert version == "9.0.0"
    assert "同名" in built.output and "本地的模板包 jiguan 9.0.0" in built.output
    assert ".installing-" not in installed.output, installed.output  # no staging path in what the user reads


def test_a_pack_with_its_own_name_does_not_say_same_name(env: Env, tmp_path: Path) -> None:
    source = copy_builtin("jiguan", tmp_path / "mine", new_name="mine")
    installed = run("packs", "install", source)
    assert installed.exit_code == 0, installed.output
    assert "同名" not in installed.output
    built = run("build", source / "example.yaml", "-o", tmp_path / "x.docx")
    assert built.exit_code == 0, built.output
    assert "同名" not in built.output


# ---------------------------------------------------------------- every built-in pack handed out and used


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_round_trip(env: Env, tmp_path: Path, name: str) -> None:
    """export → install into an empty REPORTGEN_HOME → check → build its example with the installed one."""
    exported = tmp_path / f"{name}.zip"
    result = run("packs", "export", name, "-o", exported)
    assert result.exit_code == 0, result.output
    assert not env.home.exists()
    result = run("packs", "install", exported)
    assert result.exit_code == 0, result.output
    pack = builtin(name)
    assert result.output.splitlines()[0] == f"已安装模板包 {name} {pack.version}（{pack.title}）"
    installed = env.store / name
    listing = json.loads(run("packs", "list", "--json").stdout)
    assert [item["source"] for item in listing if item["name"] == name] == ["user", "builtin"]

    result = run("packs", "check", name)
    assert result.exit_code == 0, result.output
    assert f"检查通过（{installed}）" in result.output
    assert VARIETY.search(result.stdout)

    profile = env.work / "example.yaml"
    shutil.copyfile(installed / "example.yaml", profile)
    result = run("build", profile, "-o", "example.docx")
    assert result.exit_code == 0, result.output
    assert "待补充：0 处" in result.output
    assert f"已安装的模板包 {name} {pack.version}" in result.output  # the installed copy, not the built-in one
    props = custom_properties(env.work / "example.docx")
    assert (props["reportgen.pack"], props["reportgen.pack_version"]) == (name, pack.version)
    for path in sorted(p for p in installed.rglob("*") if p.is_file()):
        assert path.read_bytes() == (TEMPLATES / name / path.relative_to(installed)).read_bytes()


@pytest.mark.parametrize("text", ["甲项第一要点正文，全年完成12项。", "甲项第一要点正文[，全年完成１２项{sessions}]。"],
                         ids=["in-the-sentence", "in-an-optional-clause"])
def test_a_fixed_number_in_pack_prose_is_refused(tmp_path: Path, text: str) -> None:
    """Numbers come from the unit's facts only: a pack that writes one into its prose (also inside an
    optional clause, full-width too) would give every unit the same invented figure."""
    from conftest import mini_prose, write_yaml

    pack = make_mini_pack(tmp_path / "mini")
    prose = mini_prose()
    prose["topics"]["alpha"]["points"]["a1"]["text"] = [[text]]
    write_yaml(pack / "prose" / "topics.yaml", prose["topics"])
    result = CliRunner().invoke(cli, ["packs", "check", str(pack)])
    assert result.exit_code == 1, result.output
    assert "正文模板里不能写具体数字" in result.output and "topics.yaml" in result.output, result.output

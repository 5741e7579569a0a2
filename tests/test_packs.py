"""Pack management: packs list/show/new/check/export/install, resolution order, draft properties, wheel.

Packs used here are built in code under tmp_path (``make_pack``); the built-in packs are
iterated over whatever exists in templates/, so these tests cover every pack shipped.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import docx_text
from reportgen.cli import cli
from reportgen.pack import builtin_packs_dir, load_pack

REPO = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- helpers (also used by test_pack_safety.py)

MANIFEST = """\
# 测试用模板包：只为检验模板包的管理功能
name: {name}
version: {version}   # 版本号
title: 测试用述职模板包
description: 仅供测试。
requires: ">=0.1"
word_template: {word}
example_profile: example.yaml
{extra}
facts:
  - {{key: member_count, label: 党员人数, type: integer, unit: 名}}
  - {{key: study_sessions, label: 集中学习次数, type: integer, unit: 次, required: false}}

catalogues:
  topics:
    study:
      title: 理论学习
      lead: 抓理论学习，打牢思想基础
      template: prose/study.j2
    duty:
      title: 责任落实
      lead: 抓责任落实，扛稳主体责任
      template: prose/duty.j2
  problems:
    gap:
      title: 学习不深
      lead: 学习的深度还不够
      template: prose/gap.j2
      measure: deepen
  measures:
    deepen:
      title: 深化学习
      lead: 坚持常学常新，推动学习走深
      template: prose/deepen.j2

skeleton:
  title: "{{{{ meta.year }}}}年度抓基层党建工作述职报告"
  byline: true
  sections:
    - kind: opening
      template: prose/opening.j2
    - kind: work
      heading: 履行职责情况
      numbering: paren_chinese
    - kind: problems
      heading: 存在的问题
      numbering: ordinal_inline
    - kind: measures
      heading: 下一步措施
      numbering: paren_chinese
    - kind: closing
      template: prose/closing.j2
"""

PROSE = {
    "prose/opening.j2": "{{ meta.year }}年，本人认真履行抓基层党建第一责任人职责，所在党组织现有党员{{ f.member_count }}。"
                        "现将有关情况报告如下。",
    "prose/study.j2": "组织集中学习{{ f.study_sessions }}，{{ ordinal() }}读原著，{{ ordinal() }}谈体会。",
    "prose/duty.j2": "把党建工作与业务工作一同部署、一同检查。",
    "prose/gap.j2": "对学习成果的转化运用研究不多",
    "prose/deepen.j2": "把学习成效体现到推动工作上来。",
    "prose/closing.j2": "以上报告，请予审议。",
}

EXAMPLE = """\
pack: {name}   # 示例资料文件
meta:
  unit: 某某局机关党委
  name: 王某
  position: 书记
  year: 2025
  superior: 某某市直机关工委
  basis: 年度述职评议工作安排
  date: 2026-01-12
facts:
  member_count: 36
  study_sessions: 12
work: [study, duty]
problems: [gap]
"""


@lru_cache(maxsize=1)
def word_template_bytes() -> bytes:
    """A proper Word template, written by the same tool as the built-in packs' one."""
    spec = importlib.util.spec_from_file_location("make_word_template", REPO / "tools" / "make_word_template.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    target = Path(os.environ.get("TMPDIR", "/tmp")) / f"reportgen-test-{os.getpid()}.docx"
    module.write_template(target)
    data = target.read_bytes()
    target.unlink()
    return data


def rewrite_docx(data: bytes, changes: Mapping[str, bytes | None]) -> bytes:
    """A copy of a .docx with some parts replaced, added (new names) or removed (None)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            if info.filename in changes:
                replacement = changes[info.filename]
                if replacement is not None:
                    zf.writestr(info.filename, replacement)
            else:
                zf.writestr(info.filename, source.read(info))
        for name, replacement in changes.items():
            if name not in source.namelist() and replacement is not None:
                zf.writestr(name, replacement)
    return out.getvalue()


def make_pack(root: Path, name: str = "mini", version: str = "1.0.0", *,
              files: Mapping[str, str | bytes] | None = None,
              word: str = "word/template.docx", extra: str = "", example: str | None = None) -> Path:
    """Write a small valid pack into ``root``; ``files`` overrides or adds files (text or bytes)."""
    contents: dict[str, str | bytes] = {
        "pack.yaml": MANIFEST.format(name=name, version=version, word=word, extra=extra),
        "example.yaml": (example if example is not None else EXAMPLE).format(name=name),
        word: word_template_bytes(),
        **PROSE,
    }
    contents.update(files or {})
    for rel, content in contents.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def zip_folder(folder: Path, target: Path, prefix: str | None = None) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                rel = path.relative_to(folder).as_posix()
                zf.writestr(f"{prefix}/{rel}" if prefix else rel, path.read_bytes())
    return target


def tree_digest(root: Path) -> str:
    """A digest of every folder, file name and file content under root ("absent" if it does not exist)."""
    if not root.exists():
        return "absent"
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            digest.update(f"L {rel} {os.readlink(path)}\n".encode())
        elif path.is_dir():
            digest.update(f"D {rel}\n".encode())
        else:
            digest.update(f"F {rel} {hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def builtin_pack_names() -> list[str]:
    folder = builtin_packs_dir()
    return sorted(p.name for p in folder.iterdir() if (p / "pack.yaml").is_file()) if folder.is_dir() else []


def custom_properties(docx: Path) -> dict[str, str]:
    with zipfile.ZipFile(docx) as zf:
        xml = zf.read("docProps/custom.xml").decode("utf-8")
    return dict(re.findall(r'<property\b[^>]*\bname="([^"]+)"[^>]*>\s*<vt:lpwstr>(.*?)</vt:lpwstr>', xml))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty REPORTGEN_HOME, a private cache, and tmp_path/work as the working directory."""
    home = tmp_path / "home"
    monkeypatch.setenv("REPORTGEN_HOME", str(home))
    monkeypatch.setenv("REPORTGEN_CACHE", str(tmp_path / "cache"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield home


# ---------------------------------------------------------------- packs list / show


def test_list_json_has_four_keys_and_every_place(home: Path, tmp_path: Path) -> None:
    make_pack(home / "packs" / "jiguan", "jiguan", "8.0.0")
    make_pack(tmp_path / "work" / "packs" / "jiguan", "jiguan", "9.0.0")
    result = run("packs", "list", "--json")
    assert result.exit_code == 0, result.output
    assert "\\u" not in result.output and "测试用述职模板包" in result.output  # ensure_ascii=False
    listing = json.loads(result.output)
    assert all(set(item) == {"name", "version", "title", "source"} for item in listing)
    jiguan = [(item["source"], item["version"]) for item in listing if item["name"] == "jiguan"]
    assert jiguan[:2] == [("local", "9.0.0"), ("user", "8.0.0")]
    assert [s for s, _ in jiguan][2:] == (["builtin"] if "jiguan" in builtin_pack_names() else [])
    builtin = {item["name"] for item in listing if item["source"] == "builtin"}
    assert builtin == {n for n in builtin_pack_names() if _loads(builtin_packs_dir() / n)}


def _loads(root: Path) -> bool:
    try:
        load_pack(root, "builtin")
    except Exception:
        return False
    return True


def test_list_text_mentions_broken_pack(home: Path) -> None:
    make_pack(home / "packs" / "mini")
    broken = make_pack(home / "packs" / "broken", "broken")
    (broken / "pack.yaml").write_text("name: broken\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["packs", "list"])
    assert result.exit_code == 0
    assert re.search(r"^mini\s+1\.0\.0\s+已安装\s+测试用述职模板包$", result.stdout, re.MULTILINE)
    assert "broken" not in result.stdout
    assert "里的模板包无法读取；运行 reportgen packs check" in result.stderr


def test_show_lists_facts_catalogues_and_skeleton(home: Path, tmp_path: Path) -> None:
    make_pack(tmp_path / "mini")
    result = run("packs", "show", tmp_path / "mini")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "member_count：党员人数（整数，单位：名，必填）" in out
    assert "study_sessions：集中学习次数（整数，单位：次，选填）" in out
    assert "履职工作（topics，共 2 条）" in out
    assert "study：理论学习 —— 抓理论学习，打牢思想基础" in out
    assert "gap：学习不深 —— 学习的深度还不够（对应措施：deepen）" in out
    sections = re.findall(r"^  (\d)\. (\S+?)（(\w+)）：(.*)$", out, re.MULTILINE)
    assert [(n, kind) for n, _, kind, _ in sections] == [
        ("1", "opening"), ("2", "work"), ("3", "problems"), ("4", "measures"), ("5", "closing")]
    details = {kind: rest for _, _, kind, rest in sections}
    assert "标题“一、履行职责情况”" in details["work"] and "编号：（一）（二）（三）" in details["work"]
    assert "标题“二、存在的问题”" in details["problems"] and "编号：一是、二是、三是（在同一段内）" in details["problems"]
    assert "标题“三、下一步措施”" in details["measures"]


@pytest.mark.parametrize("name", builtin_pack_names())
def test_show_builtin(home: Path, name: str) -> None:
    result = run("packs", "show", name)
    assert result.exit_code == 0, result.output
    assert f"名称：{name}" in result.output and "来源：内置" in result.output


def test_show_unknown_pack(home: Path) -> None:
    result = run("packs", "show", "nosuchpack")
    assert result.exit_code == 1
    assert "找不到模板包“nosuchpack”" in result.output


# ---------------------------------------------------------------- packs new


def test_new_copies_renames_and_keeps_comments(home: Path, tmp_path: Path) -> None:
    source = make_pack(tmp_path / "mini", version="2.3.4")
    result = run("packs", "new", "my-unit", "--from", source)
    assert result.exit_code == 0, result.output
    target = tmp_path / "work" / "my-unit"
    manifest = (target / "pack.yaml").read_text(encoding="utf-8")
    assert "# 测试用模板包：只为检验模板包的管理功能" in manifest
    assert re.search(r"^name: my-unit$", manifest, re.MULTILINE)
    assert re.search(r"^version: 0\.1\.0   # 版本号$", manifest, re.MULTILINE)
    assert (target / "example.yaml").read_text(encoding="utf-8").startswith("pack: my-unit   # 示例资料文件\n")
    assert (target / "prose" / "study.j2").read_bytes() == (source / "prose" / "study.j2").read_bytes()
    pack = load_pack(target)
    assert (pack.name, pack.version) == ("my-unit", "0.1.0")
    assert run("packs", "check", "my-unit").exit_code == 0


@pytest.mark.parametrize("name", builtin_pack_names())
def test_new_from_builtin(home: Path, name: str) -> None:
    result = run("packs", "new", "copy", "--from", name)
    assert result.exit_code == 0, result.output
    pack = load_pack(Path("copy"))
    assert (pack.name, pack.version) == ("copy", "0.1.0")


def test_new_lowercases_folder_name(home: Path, tmp_path: Path) -> None:
    source = make_pack(tmp_path / "mini")
    assert run("packs", "new", "MyUnit", "--from", source).exit_code == 0
    assert load_pack(Path("MyUnit")).name == "myunit"


def test_new_refuses_non_empty_folder_and_bad_name(home: Path, tmp_path: Path) -> None:
    source = make_pack(tmp_path / "mini")
    Path("taken").mkdir()
    (Path("taken") / "note.txt").write_text("keep me", encoding="utf-8")
    result = run("packs", "new", "taken", "--from", source)
    assert result.exit_code == 1
    assert "这个位置已经有文件了，没有覆盖" in result.output
    assert sorted(p.name for p in Path("taken").iterdir()) == ["note.txt"]
    result = run("packs", "new", "我的包", "--from", source)
    assert result.exit_code == 1
    assert "文件夹名“我的包”不能用作模板包名称" in result.output
    assert not Path("我的包").exists()
    Path("empty").mkdir()
    assert run("packs", "new", "empty", "--from", source).exit_code == 0
    assert load_pack(Path("empty")).name == "empty"
    assert [p.name for p in Path().iterdir() if p.name.startswith(".")] == []  # no staging left behind


# ---------------------------------------------------------------- packs check


def test_check_passes_and_writes_nothing(home: Path, tmp_path: Path) -> None:
    root = make_pack(tmp_path / "mini")
    before = tree_digest(tmp_path / "mini")
    result = run("packs", "check", root)
    assert result.exit_code == 0, result.output
    assert "模板包 mini 1.0.0 检查通过" in result.output
    assert tree_digest(tmp_path / "mini") == before
    assert not home.exists()


def test_check_reports_every_problem_at_once(home: Path, tmp_path: Path) -> None:
    root = make_pack(tmp_path / "mini", extra="styles: {lead2: NoSuchStyle}", files={
        "prose/study.j2": "组织学习{{ f.study_sessions }}，\n{% if f.member_count %}多次开展研讨。",
        "prose/duty.j2": "把党建工作{{ f.member_count }\n与业务工作一同部署。",
        "prose/gap.j2": "对{{ f.no_such_fact }}研究不多，{{ budget }}不足",
        "prose/deepen.j2": "推动学习{{ meta.hometown }}走深。",
    })
    result = run("packs", "check", root)
    assert result.exit_code == 1
    out = result.output
    assert "模板包有问题（共 6 处）" in out
    assert f"{root}/prose/study.j2:2：模板语法错误：“{{% if %}}”没有对应的“{{% endif %}}”\n      提示：在这一段结束的地方加上 {{% endif %}}" in out
    assert f"{root}/prose/duty.j2:1：模板语法错误：这里不应出现“}}”" in out
    assert f"{root}/prose/gap.j2：模板用了未声明的变量“budget”" in out
    assert f"{root}/prose/gap.j2:1：模板用了未声明的事实“f.no_such_fact”" in out
    assert f"{root}/prose/deepen.j2:1：模板用了不存在的基本信息“meta.hometown”" in out
    assert f"{root}/word/template.docx：Word 模板缺少样式 NoSuchStyle（字符样式，用于 lead2）" in out


@pytest.mark.parametrize(("template", "message", "hint"), [
    ("{{ f.member_count ｝}", "标记里有不能出现的字符“｝”", "里只能用半角符号"),
    ("{{ “名称” }}", "标记里有不能出现的字符““”", "里只能用半角符号"),
    ("{% for x in f.items %}{{ x }}", "“{% for %}”没有对应的“{% endfor %}”", "在这一段结束的地方加上 {% endfor %}"),
    ("{{ f.member_count", "模板在标记还没闭合时就结束了，缺少“}}”", "检查 {{ }} 和 {% %} 是否成对"),
    ("{% endif %}", "“{% endif %}”前面没有与它对应的开始标记", "补上开始的标记（如 {% if … %}）"),
    ("{% iff f.member_count %}", "不认识的标记“{% iff %}”", "常用的标记有 if、elif、else、endif、for、endfor"),
    ("{# 备注", "注释“{#”没有对应的“#}”", "在注释结束的地方加上 #}"),
    ("{% %}", "“{%”后面缺少标记名称", "写成 {% if … %}"),
    ("{{ f.member_count f.study_sessions }}", "这里应当是“}}”，却是“f”", "两个值之间要有运算符"),
    ("{{ f.member_count + }}", "这里不应出现“}}”", "里面的表达式是否写完整"),
])
def test_template_syntax_errors_are_told_in_chinese(home: Path, tmp_path: Path, template: str, message: str,
                                                    hint: str) -> None:
    root = make_pack(tmp_path / "mini", files={"prose/duty.j2": template})
    result = run("packs", "check", root)
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if "duty.j2" in line)
    assert line.endswith(f"duty.j2:1：模板语法错误：{message}"), line
    assert hint in result.output


def test_check_collects_manifest_problems(home: Path, tmp_path: Path) -> None:
    root = make_pack(tmp_path / "mini", version="1.0", extra="colour: red")
    result = run("packs", "check", root)
    assert result.exit_code == 1
    assert "版本号“1.0”不合规" in result.output
    assert "未知的键“colour”" in result.output
    assert re.search(rf"{re.escape(str(root))}/pack\.yaml:3:\d+：version", result.output)


def test_check_builds_example_profile(home: Path, tmp_path: Path) -> None:
    root = make_pack(tmp_path / "mini", example=EXAMPLE.replace("member_count: 36", "member_count: 三十六"))
    result = run("packs", "check", root)
    assert result.exit_code == 1
    assert re.search(rf"{re.escape(str(root))}/example\.yaml:11:\d+：facts\.member_count — “党员人数”应为整数",
                     result.output)


def test_check_notes_missing_facts_in_example(home: Path, tmp_path: Path) -> None:
    root = make_pack(tmp_path / "mini", example=EXAMPLE.replace("  study_sessions: 12\n", ""))
    result = run("packs", "check", root)
    assert result.exit_code == 0, result.output
    assert "注意：示例资料文件生成的稿子里还有 1 处待补充：集中学习次数" in result.output


@pytest.mark.parametrize("name", builtin_pack_names())
def test_check_builtin(home: Path, name: str) -> None:
    result = run("packs", "check", name)
    assert result.exit_code == 0, result.output
    assert "注意" not in result.output  # the example builds with nothing 待补充


# ---------------------------------------------------------------- export / install


def test_export_is_deterministic(home: Path, tmp_path: Path) -> None:
    root = make_pack(tmp_path / "mini", files={".DS_Store": b"junk", "prose/~$draft.docx": b"lock"})
    assert run("packs", "export", root, "-o", "a.zip").exit_code == 0
    os.utime(root / "pack.yaml", (1_000_000, 1_000_000))
    result = run("packs", "export", root, "-o", "b.zip")
    assert result.exit_code == 0, result.output
    assert "已导出模板包 mini 1.0.0：b.zip（9 个文件）" in result.output
    assert Path("a.zip").read_bytes() == Path("b.zip").read_bytes()
    with zipfile.ZipFile("a.zip") as zf:
        names = zf.namelist()
        assert names == sorted(names)
        assert all(n.startswith("mini/") for n in names)
        assert "mini/.DS_Store" not in names and "mini/prose/~$draft.docx" not in names
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    refused = run("packs", "export", root, "-o", "a.zip")
    assert refused.exit_code == 1 and "文件已存在，没有覆盖" in refused.output
    assert run("packs", "export", root, "-o", "a.zip", "--force").exit_code == 0


def test_export_refuses_a_broken_pack(home: Path, tmp_path: Path) -> None:
    root = make_pack(tmp_path / "mini", files={"prose/duty.j2": "{{ oops }"})
    result = run("packs", "export", root, "-o", "x.zip")
    assert result.exit_code == 1
    assert "模板语法错误" in result.output
    assert not Path("x.zip").exists()


def test_install_versions(home: Path, tmp_path: Path) -> None:
    v1 = zip_folder(make_pack(tmp_path / "v1"), tmp_path / "v1.zip", "mini")
    v2 = zip_folder(make_pack(tmp_path / "v2", version="1.1.0"), tmp_path / "v2.zip")  # pack.yaml at the top
    result = run("packs", "install", v1)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "已安装模板包 mini 1.0.0（测试用述职模板包）"
    assert load_pack(home / "packs" / "mini").version == "1.0.0"

    before = tree_digest(home)
    again = run("packs", "install", v1)
    assert again.exit_code == 1
    assert "模板包 mini 1.0.0 已经安装过了，没有重复安装" in again.output
    assert "请加 --force" in again.output
    assert tree_digest(home) == before

    forced = run("packs", "install", v1, "--force")
    assert forced.exit_code == 0 and "已重新安装模板包 mini 1.0.0" in forced.output

    up = run("packs", "install", v2)
    assert up.exit_code == 0
    assert "已将模板包 mini 从 1.0.0 升级到 1.1.0" in up.output
    assert load_pack(home / "packs" / "mini").version == "1.1.0"
    down = run("packs", "install", tmp_path / "v1")  # a folder works as well as a zip
    assert down.exit_code == 0
    assert "已将模板包 mini 从 1.1.0 降级到 1.0.0" in down.output
    assert sorted(p.name for p in (home / "packs").iterdir()) == [".lock", "mini"]  # no staging left behind
    assert sorted(p.relative_to(home / "packs" / "mini").as_posix() for p in (home / "packs" / "mini").rglob("*")
                  if p.is_file()) == sorted(["pack.yaml", "example.yaml", "word/template.docx", *PROSE])


@pytest.mark.skipif(os.name == "nt", reason="the test holds the lock with fcntl")
def test_installs_take_turns_on_the_store_lock(home: Path, tmp_path: Path) -> None:
    """An install waits while another holds the store's lock, then goes ahead."""
    import fcntl
    import threading

    from reportgen.packs import STORE_LOCK, install_pack

    (home / "packs").mkdir(parents=True)
    source = make_pack(tmp_path / "v1")
    finished: list[str] = []
    with open(home / "packs" / STORE_LOCK, "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # another install, busy swapping folders
        worker = threading.Thread(target=lambda: finished.append(install_pack(source).pack.version))
        worker.start()
        worker.join(timeout=1.0)
        assert worker.is_alive() and not finished  # waiting, nothing written yet
        assert sorted(p.name for p in (home / "packs").iterdir()) == [".lock"]
    worker.join(timeout=30)
    assert finished == ["1.0.0"] and load_pack(home / "packs" / "mini").version == "1.0.0"


def test_a_failed_first_install_leaves_no_store_behind(home: Path, tmp_path: Path) -> None:
    broken = make_pack(tmp_path / "bad", files={"prose/duty.j2": "{{ f.member_count"})
    result = run("packs", "install", broken)
    assert result.exit_code == 1 and "模板语法错误" in result.output
    assert not (home / "packs").exists()


def test_install_failure_while_swapping_keeps_old_version(home: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from reportgen import packs

    assert run("packs", "install", make_pack(tmp_path / "v1")).exit_code == 0
    before = tree_digest(home)
    real_rename = os.rename
    calls: list[str] = []

    def flaky_rename(src: str | Path, dst: str | Path) -> None:
        calls.append(str(dst))
        if len(calls) == 2:  # moving the new version into place
            raise OSError(28, "No space left on device")
        real_rename(src, dst)

    monkeypatch.setattr(packs.os, "rename", flaky_rename)
    result = run("packs", "install", make_pack(tmp_path / "v2", version="2.0.0"))
    assert result.exit_code == 1
    assert "安装失败" in result.output
    assert tree_digest(home) == before


def test_install_refuses_non_pack(home: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.zip").write_bytes(b"not a zip")
    result = run("packs", "install", tmp_path / "notes.zip")
    assert result.exit_code == 1 and "这不是 .zip 压缩包，也不是模板包文件夹" in result.output
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as zf:
        zf.writestr("readme.txt", "hello")
    result = run("packs", "install", tmp_path / "empty.zip")
    assert result.exit_code == 1 and "压缩包里没有 pack.yaml，不是模板包" in result.output
    assert tree_digest(home) == "absent"


@pytest.mark.parametrize("name", builtin_pack_names())
def test_builtin_round_trip(home: Path, tmp_path: Path, name: str) -> None:
    """export → install into an empty REPORTGEN_HOME → packs check → build, for every built-in pack."""
    exported = tmp_path / f"{name}.zip"
    result = run("packs", "export", name, "-o", exported)
    assert result.exit_code == 0, result.output
    assert not home.exists()
    result = run("packs", "install", exported)
    assert result.exit_code == 0, result.output
    installed = home / "packs" / name
    listing = json.loads(run("packs", "list", "--json").output)
    assert {"name": name, "source": "user"}.items() <= next(
        item for item in listing if item["name"] == name and item["source"] == "user").items()
    result = run("packs", "check", name)
    assert result.exit_code == 0, result.output
    assert f"检查通过（{installed}）" in result.output

    pack = load_pack(installed)
    assert pack.example_profile
    profile = tmp_path / "work" / "example.yaml"
    shutil.copyfile(installed / pack.example_profile, profile)
    result = run("build", profile, "--pack", name, "-o", "example.docx")
    assert result.exit_code == 0, result.output
    assert "待补充：0 处" in result.output
    props = custom_properties(Path("example.docx"))
    assert (props["reportgen.pack"], props["reportgen.pack_version"]) == (name, pack.version)

    result = run("init", "scaffold.yaml", "--pack", name)
    assert result.exit_code == 0, result.output
    result = run("build", "scaffold.yaml", "-o", "scaffold.docx")
    assert result.exit_code == 0, result.output
    assert custom_properties(Path("scaffold.docx"))["reportgen.pack"] == name


# ---------------------------------------------------------------- resolution order and version requirements


def _profile(folder: Path, pack_line: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "资料.yaml"
    path.write_text(EXAMPLE.format(name="x").replace("pack: x   # 示例资料文件", pack_line), encoding="utf-8")
    return path


def _used_version(profile: Path, *extra: str | Path) -> str:
    out = profile.with_suffix(".docx")
    result = run("build", profile, "-o", out, "--force", *extra)
    assert result.exit_code == 0, result.output
    return custom_properties(out)["reportgen.pack_version"]


@pytest.mark.skipif("jiguan" not in builtin_pack_names(), reason="needs the built-in jiguan pack")
def test_resolution_order(home: Path, tmp_path: Path) -> None:
    builtin = load_pack(builtin_packs_dir() / "jiguan").version
    profile = _profile(tmp_path / "unit", "pack: jiguan")
    explicit = make_pack(tmp_path / "elsewhere" / "jiguan", "jiguan", "7.0.0")
    make_pack(home / "packs" / "jiguan", "jiguan", "8.0.0")
    make_pack(tmp_path / "unit" / "packs" / "jiguan", "jiguan", "9.0.0")

    assert _used_version(profile, "--pack", explicit) == "7.0.0"  # 1. explicit path
    assert _used_version(profile) == "9.0.0"  # 2. packs/ beside the profile
    shutil.rmtree(tmp_path / "unit" / "packs")
    assert _used_version(profile) == "8.0.0"  # 3. the user store
    shutil.rmtree(home / "packs" / "jiguan")
    scaffold = tmp_path / "unit" / "scaffold.yaml"  # the built-in jiguan has other facts: use its own scaffold
    assert run("init", scaffold, "--pack", "jiguan").exit_code == 0
    assert _used_version(scaffold) == builtin  # 4. built-in


def test_version_requirement_picks_the_first_that_satisfies(home: Path, tmp_path: Path) -> None:
    make_pack(home / "packs" / "mini", "mini", "2.0.0")
    make_pack(tmp_path / "unit" / "packs" / "mini", "mini", "3.0.0")
    assert _used_version(_profile(tmp_path / "unit", "pack: mini<3")) == "2.0.0"
    assert _used_version(_profile(tmp_path / "unit", "pack: mini>=2.0")) == "3.0.0"
    assert _used_version(_profile(tmp_path / "unit", "pack: mini"), "--pack", "mini==2.0.0") == "2.0.0"


def test_version_requirement_nobody_satisfies(home: Path, tmp_path: Path) -> None:
    make_pack(home / "packs" / "mini", "mini", "2.0.0")
    make_pack(tmp_path / "unit" / "packs" / "mini", "mini", "3.0.0")
    profile = _profile(tmp_path / "unit", "pack: mini>=4.0")
    for command in (["build", profile], ["check", profile]):
        result = run(*command)
        assert result.exit_code == 1
        assert result.output.startswith("模板包“mini”的版本不满足要求“>=4.0”：找到的是 3.0.0（本地）、2.0.0（已安装）\n")
        assert "reportgen packs install" in result.output
    assert not profile.with_suffix(".docx").exists()
    result = run("init", tmp_path / "new.yaml", "--pack", "mini>=4.0")
    assert result.exit_code == 1 and "版本不满足要求" in result.output
    assert not (tmp_path / "new.yaml").exists()


def test_unknown_pack_in_profile(home: Path, tmp_path: Path) -> None:
    result = run("build", _profile(tmp_path / "unit", "pack: nosuch>=1.0"))
    assert result.exit_code == 1
    assert result.output.startswith("找不到模板包“nosuch”")


# ---------------------------------------------------------------- what a draft records


def test_draft_records_pack_and_profile_digest(home: Path, tmp_path: Path) -> None:
    root = make_pack(tmp_path / "mini", version="1.2.3")
    profile = _profile(tmp_path / "unit", "pack: mini")
    result = run("build", profile, "--pack", root, "-o", tmp_path / "draft.docx")
    assert result.exit_code == 0, result.output
    props = custom_properties(tmp_path / "draft.docx")
    assert props["reportgen.pack"] == "mini"
    assert props["reportgen.pack_version"] == "1.2.3"
    assert props["reportgen.profile_sha256"] == hashlib.sha256(profile.read_bytes()).hexdigest()
    with zipfile.ZipFile(tmp_path / "draft.docx") as zf:
        assert "/docProps/custom.xml" in zf.read("[Content_Types].xml").decode()
        assert "docProps/custom.xml" in zf.read("_rels/.rels").decode()


def _word_template_with(paragraph_xml: str) -> bytes:
    """The standard Word template with one more paragraph (Jinja tags allowed) after ``{{p body }}``."""
    xml = zipfile.ZipFile(io.BytesIO(word_template_bytes())).read("word/document.xml").decode()
    return rewrite_docx(word_template_bytes(),
                        {"word/document.xml": xml.replace("<w:sectPr>", paragraph_xml + "<w:sectPr>", 1).encode()})


def _units(folder: Path, *units: tuple[str, str]) -> Path:
    """One profile per (unit, position), using the pack folder ``mini`` beside ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, (unit, position) in enumerate(units):
        text = EXAMPLE.format(name="x").replace("pack: x   # 示例资料文件", "pack: ../mini")
        text = text.replace("unit: 某某局机关党委", f"unit: '{unit}'").replace("position: 书记", f"position: {position}")
        (folder / f"u{n}.yaml").write_text(text, encoding="utf-8")
    return folder


def test_word_template_may_print_title_and_meta_escaped_once(home: Path, tmp_path: Path) -> None:
    from reportgen.batch import build_many

    extra = "<w:p><w:r><w:t>{{ meta.unit }}／{{ title }}</w:t></w:r></w:p>"
    make_pack(tmp_path / "mini", files={"word/template.docx": _word_template_with(extra)})
    profiles = _units(tmp_path / "p", ("A&B<委>", "书记"), ("“甲”&乙", "书记"))
    with (profiles / "u0.yaml").open("a", encoding="utf-8") as handle:
        handle.write("overrides:\n  title: 'X&Y<述职>'\n")
    report = build_many([profiles], tmp_path / "out", jobs=1)
    assert not report.failed, report.items
    assert docx_text(tmp_path / "out" / "u0.docx").splitlines()[-1] == "A&B<委>／X&Y<述职>"
    assert docx_text(tmp_path / "out" / "u1.docx").splitlines()[-1] == "“甲”&乙／2025年度抓基层党建工作述职报告"


def test_word_template_whose_structure_depends_on_the_data_is_checked_for_every_draft(home: Path, tmp_path: Path) -> None:
    """The first draft is well-formed; the second breaks the XML. The same compiled template (one
    process) must still refuse the second: only templates that merely print values are checked once."""
    from reportgen.batch import build_many

    extra = "<w:p><w:r><w:t>{% if meta.position == '坏' %}<w:p>{% endif %}签名</w:t></w:r></w:p>"
    make_pack(tmp_path / "mini", files={"word/template.docx": _word_template_with(extra)})
    report = build_many([_units(tmp_path / "p", ("甲单位", "书记"), ("乙单位", "坏"))], tmp_path / "out", jobs=1)
    good, bad = report.items
    assert good.ok and (tmp_path / "out" / "u0.docx").is_file()
    assert not bad.ok and "Word 模板渲染后不是合法的 XML" in (bad.error or "")
    assert not (tmp_path / "out" / "u1.docx").exists()


def test_a_value_that_would_end_a_comment_in_the_word_template_is_caught(home: Path, tmp_path: Path) -> None:
    """Escaping does not cover "--": a template printing a value inside an XML comment is checked per draft."""
    from reportgen.batch import build_many

    extra = "<!-- 单位：{{ meta.unit }} --><w:p><w:r><w:t>落款</w:t></w:r></w:p>"
    make_pack(tmp_path / "mini", files={"word/template.docx": _word_template_with(extra)})
    report = build_many([_units(tmp_path / "p", ("甲单位", "书记"), ("乙--单位", "书记"))], tmp_path / "out", jobs=1)
    good, bad = report.items
    assert good.ok and not bad.ok and "Word 模板渲染后不是合法的 XML" in (bad.error or "")
    assert not (tmp_path / "out" / "u1.docx").exists()


# ---------------------------------------------------------------- the wheel ships the built-in packs


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the project (so a concurrent edit cannot disturb it)."""
    source = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(REPO / name, source / name)
    for name in ("src", "templates"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)]
    if importlib.util.find_spec("hatchling") is not None:
        command.insert(4, "--no-build-isolation")
    subprocess.run(command, check=True, capture_output=True)
    (built,) = out.glob("reportgen-*.whl")
    return built


def test_wheel_contains_builtin_packs(wheel: Path) -> None:
    names = builtin_pack_names()
    assert names
    with zipfile.ZipFile(wheel) as zf:
        inside = set(zf.namelist())
    for name in names:
        folder = REPO / "templates" / name
        expected = {f"reportgen/templates/{name}/{p.relative_to(folder).as_posix()}"
                    for p in folder.rglob("*") if p.is_file()}
        assert f"reportgen/templates/{name}/pack.yaml" in inside
        assert expected <= inside


def test_non_editable_install_lists_builtin_packs(wheel: Path, tmp_path: Path) -> None:
    """The wheel installed (non-editable) into its own folder, put first on the path, lists the packs."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target), "REPORTGEN_HOME": str(tmp_path / "home"),
           "REPORTGEN_CACHE": str(tmp_path / "cache")}
    located = subprocess.run([sys.executable, "-c", "import reportgen, sys; sys.stdout.write(reportgen.__file__)"],
                             check=True, capture_output=True, text=True, cwd=tmp_path, env=env).stdout
    assert Path(located).is_relative_to(target)  # the wheel's copy, not the checkout
    listed = subprocess.run([sys.executable, "-m", "reportgen", "packs", "list", "--json"], check=True,
                            capture_output=True, text=True, cwd=tmp_path, env=env).stdout
    builtin = {item["name"] for item in json.loads(listed) if item["source"] == "builtin"}
    assert builtin == {n for n in builtin_pack_names() if _loads(builtin_packs_dir() / n)}
    assert builtin

"""Edit-safe output: a rebuild never destroys the user's work and never writes where it must not.

An untouched earlier draft is replaced silently; an edited draft (any part a user can change in Word,
WPS or Excel) or a file reportgen did not make is refused (exit 1, file byte-identical) unless
``--force``, which first keeps it as a dated backup ``名称.备份-日期-时间.扩展名``; the profile and a
pack's files can never be the output, not even with ``--force``.  A foreign zip bomb at the output
path is refused without being inflated.  A batch holds its output folder: a second batch is told
so, and temporaries of a killed run are cleaned up, nothing else.

Profiles and the pack are built in code (conftest.make_mini_pack), so pack content work cannot
break these tests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from conftest import MINI_FACTS, docx_text, make_mini_pack, mini_profile, write_yaml
from proc_hooks import REPORTGEN, hook_env, run_reportgen
from reportgen.cli import cli
from reportgen.outputs.guard import State, state_of

UNIT = "市文化旅游局机关党委"
EDITED = "这个文件生成后已经被修改过，为避免丢失内容，没有覆盖它"
FOREIGN = "这个文件不是 reportgen 生成的，为避免丢失内容，没有覆盖它"
HOW_TO_PROCEED = "用 -o 另存为新文件；或加 --force 覆盖（旧文件会先备份在同一文件夹）"
INPUT_ITSELF = "输出位置就是输入的文件本身，不能覆盖"
IN_PACK = "输出位置在模板包文件夹里，不能在模板包里写文件"
BACKUP_NAME = re.compile(r"^(?P<stem>.+)\.备份-(?P<stamp>\d{8}-\d{6})(-\d+)?\.(?P<ext>docx|md|xlsx)$")
LOCK = ".reportgen.lock"  # the folder lock (outputs/guard.py): the one file a build may leave besides its output
SUMMARY = "汇总.xlsx"


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def pack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini pack, outside every test's working folder, with two facts shown in 汇总.xlsx."""
    facts = {key: dict(spec) for key, spec in MINI_FACTS.items()}
    facts["sessions"]["summary"] = True
    facts["rate"]["summary"] = True
    return make_mini_pack(tmp_path_factory.mktemp("safetypack") / "mini", manifest={"facts": facts})


def profile_data(pack: Path | str, unit: str = UNIT, **changes: Any) -> dict[str, Any]:
    data = mini_profile(Path(pack))
    data["pack"] = str(pack)
    data["meta"] = {**data["meta"], "unit": unit}
    data.update(changes)
    return data


@pytest.fixture
def folder(pack_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working directory, holding a valid profile p.yaml."""
    monkeypatch.chdir(tmp_path)
    write_yaml(tmp_path / "p.yaml", profile_data(pack_dir))
    return tmp_path


def run_cli(args: list[str], env: Mapping[str, str] | None = None) -> Result:
    result = CliRunner().invoke(cli, args, catch_exceptions=False, env=dict(env) if env else None)
    assert "Traceback" not in result.output
    return result


def build(*args: str) -> Result:
    return run_cli(["build", "p.yaml", *args])


def files_under(folder: Path) -> set[str]:
    """Every file below ``folder`` (relative, POSIX), the folder lock left out."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != LOCK}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp"))


def backups(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if "备份" in p.name)


def assert_backup_name(backup: Path, stem: str, ext: str) -> None:
    """名称.备份-日期-时间.扩展名, dated now."""
    match = BACKUP_NAME.match(backup.name)
    assert match, backup.name
    assert (match["stem"], match["ext"]) == (stem, ext), backup.name
    stamp = dt.datetime.strptime(match["stamp"], "%Y%m%d-%H%M%S")
    assert abs((dt.datetime.now() - stamp).total_seconds()) < 300, backup.name


def assert_refused(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert message in result.output, result.output
    assert HOW_TO_PROCEED in result.output, result.output


def rewrite_zip(path: Path, change: Callable[[str, bytes], bytes], add: Mapping[str, bytes] | None = None) -> bytes:
    """Rewrite a package part by part (as Word or WPS do on save), ``change`` applied to each part's
    bytes and ``add`` appended as new parts; returns the new bytes, which are written to ``path``."""
    with zipfile.ZipFile(path) as zf:
        parts = [(info, zf.read(info)) for info in zf.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in parts:
            zf.writestr(info, change(info.filename, data))
        for name, data in (add or {}).items():
            zf.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def edit_part(path: Path, part: str, old: bytes, new: bytes) -> bytes:
    def change(name: str, data: bytes) -> bytes:
        if name != part:
            return data
        assert old in data, f"{part} has no {old!r}"
        return data.replace(old, new, 1)

    return rewrite_zip(path, change)


def edit_like_word(path: Path, marker: str = "（我改过的句子）") -> bytes:
    """Change one text run inside word/document.xml, keeping every other part."""

    def change(name: str, data: bytes) -> bytes:
        if name != "word/document.xml":
            return data
        text = data.decode("utf-8")
        edited = re.sub(r"(<w:t\b[^>]*>)([^<]+)(</w:t>)", lambda m: m.group(1) + marker + m.group(3), text, count=1)
        assert edited != text
        return edited.encode("utf-8")

    return rewrite_zip(path, change)


def assert_valid_docx(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None, path
        assert "word/document.xml" in zf.namelist(), path


# ---------------------------------------------------------------- .docx: untouched, edited, foreign


def test_untouched_draft_is_replaced_silently(folder: Path) -> None:
    assert build().exit_code == 0
    first = (folder / "p.docx").read_bytes()
    assert state_of(folder / "p.docx") is State.UNTOUCHED
    again = build()
    assert again.exit_code == 0, again.output
    assert (folder / "p.docx").read_bytes() == first  # deterministic: same profile, same bytes
    assert "备份" not in again.output
    # A changed profile really replaces it.
    profile = folder / "p.yaml"
    profile.write_text(profile.read_text(encoding="utf-8").replace(UNIT, "某县某局机关党委"), encoding="utf-8")
    assert build().exit_code == 0
    assert "某县某局机关党委" in docx_text(folder / "p.docx")
    assert backups(folder) == []
    assert files_under(folder) == {"p.yaml", "p.docx"}


def test_edited_draft_is_refused_and_left_byte_identical(folder: Path) -> None:
    assert build().exit_code == 0
    edited = edit_like_word(folder / "p.docx")
    assert state_of(folder / "p.docx") is State.EDITED
    result = build()
    assert_refused(result, EDITED)
    assert "p.docx：" in result.output  # names the file
    assert (folder / "p.docx").read_bytes() == edited
    assert files_under(folder) == {"p.yaml", "p.docx"}  # no backup, no temporary file


def test_force_rebuilds_and_keeps_the_edited_draft_as_a_dated_backup(folder: Path) -> None:
    assert build().exit_code == 0
    original = (folder / "p.docx").read_bytes()
    edited = edit_like_word(folder / "p.docx")
    result = build("--force")
    assert result.exit_code == 0, result.output
    [backup] = backups(folder)
    assert_backup_name(backup, "p", "docx")
    assert f"原文件已备份为：{backup.name}" in result.output
    assert backup.read_bytes() == edited
    assert (folder / "p.docx").read_bytes() == original
    assert state_of(folder / "p.docx") is State.UNTOUCHED
    # Edited and forced again: a second, distinct backup; the first one is kept.
    edited_again = edit_like_word(folder / "p.docx", "（第二次修改）")
    assert build("--force").exit_code == 0
    assert len(backups(folder)) == 2
    assert {b.read_bytes() for b in backups(folder)} == {edited, edited_again}


def test_foreign_docx_is_never_overwritten_without_force(folder: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("别人写的文件")
    document.save(str(folder / "p.docx"))
    foreign = (folder / "p.docx").read_bytes()
    assert state_of(folder / "p.docx") is State.FOREIGN
    assert_refused(build(), FOREIGN)
    assert (folder / "p.docx").read_bytes() == foreign
    result = build("--force")
    assert result.exit_code == 0, result.output
    [backup] = backups(folder)
    assert_backup_name(backup, "p", "docx")
    assert backup.read_bytes() == foreign
    assert UNIT in docx_text(folder / "p.docx")


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04broken"], ids=["empty", "text", "broken-zip"])
def test_any_other_file_named_docx_is_foreign(folder: Path, content: bytes) -> None:
    (folder / "p.docx").write_bytes(content)
    assert_refused(build(), FOREIGN)
    assert (folder / "p.docx").read_bytes() == content


# ---------------------------------------------------------------- F6: every part a user can change counts

CUSTOM_PROPERTY = ('<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="99" name="审核人">'
                   "<vt:lpwstr>王科长</vt:lpwstr></property></Properties>").encode()

PART_EDITS = {
    "footer": ("word/footer1.xml", b"</w:ftr>", "<w:p><w:r><w:t>内部资料</w:t></w:r></w:p></w:ftr>".encode()),
    "styles": ("word/styles.xml", b"</w:styles>",
               b'<w:style w:type="paragraph" w:customStyle="1" w:styleId="Mine"><w:name w:val="Mine"/></w:style>'
               b"</w:styles>"),
    "core-properties": ("docProps/core.xml", b"<cp:lastModifiedBy>reportgen</cp:lastModifiedBy>",
                        "<cp:lastModifiedBy>张三</cp:lastModifiedBy>".encode()),
    "settings": ("word/settings.xml", b"</w:settings>", b"<w:trackRevisions/></w:settings>"),
    "custom-property-added": ("docProps/custom.xml", b"</Properties>", CUSTOM_PROPERTY),
}


@pytest.mark.parametrize("edit", list(PART_EDITS), ids=list(PART_EDITS))
def test_an_edit_of_any_part_is_detected(folder: Path, edit: str) -> None:
    part, old, new = PART_EDITS[edit]
    assert build().exit_code == 0
    original = (folder / "p.docx").read_bytes()
    edited = edit_part(folder / "p.docx", part, old, new)
    assert state_of(folder / "p.docx") is State.EDITED
    result = build()
    assert_refused(result, EDITED)
    assert (folder / "p.docx").read_bytes() == edited
    assert files_under(folder) == {"p.yaml", "p.docx"}
    forced = build("--force")
    assert forced.exit_code == 0, forced.output
    [backup] = backups(folder)
    assert_backup_name(backup, "p", "docx")
    assert backup.read_bytes() == edited
    assert (folder / "p.docx").read_bytes() == original


def test_a_viewers_thumbnail_is_not_an_edit(folder: Path) -> None:
    assert build().exit_code == 0
    original = (folder / "p.docx").read_bytes()
    with zipfile.ZipFile(folder / "p.docx") as zf:
        assert "docProps/thumbnail.jpeg" not in zf.namelist()
    rewrite_zip(folder / "p.docx", lambda name, data: data,
                add={"docProps/thumbnail.jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200) + b"\xff\xd9"})
    assert state_of(folder / "p.docx") is State.UNTOUCHED
    result = build()
    assert result.exit_code == 0, result.output
    assert backups(folder) == []
    assert (folder / "p.docx").read_bytes() == original
    # A thumbnail changed again (a second viewer) is not an edit either.
    rewrite_zip(folder / "p.docx", lambda name, data: data, add={"docProps/thumbnail.jpeg": b"\xff\xd8other\xff\xd9"})
    rewrite_zip(folder / "p.docx", lambda name, data: b"\xff\xd8third\xff\xd9" if name.startswith("docProps/thumb")
                else data)
    assert build().exit_code == 0
    assert backups(folder) == []


def write_batch_profiles(folder: Path, pack: Path, count: int) -> list[Path]:
    return [write_yaml(folder / f"u{i:02d}.yaml", profile_data(pack, f"县直第{i}机关党支部",
                                                              facts={"sessions": 10 + i, "rate": 90}))
            for i in range(count)]


def test_an_edited_summary_is_kept_unless_force(tmp_path: Path, pack_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """汇总.xlsx is guarded like a draft: an edit of xl/styles.xml is detected and the summary kept."""
    monkeypatch.chdir(tmp_path)
    write_batch_profiles(tmp_path / "in", pack_dir, 2)
    first = run_cli(["build", "in", "-o", "out", "-j", "1"])
    assert first.exit_code == 0, first.output
    summary = tmp_path / "out" / SUMMARY
    original = summary.read_bytes()
    assert state_of(summary) is State.UNTOUCHED
    edited = edit_part(summary, "xl/styles.xml", "宋体".encode(), "黑体".encode())
    assert state_of(summary) is State.EDITED
    again = run_cli(["build", "in", "-o", "out", "-j", "1"])
    assert again.exit_code == 1, again.output
    assert "汇总表没有写出" in again.output and "已经被修改过" in again.output
    assert summary.read_bytes() == edited
    assert not list((tmp_path / "out").glob("汇总.备份-*"))
    assert sum(line.startswith("✓") for line in again.output.splitlines()) == 2  # the drafts were still made
    forced = run_cli(["build", "in", "-o", "out", "-j", "1", "--force"])
    assert forced.exit_code == 0, forced.output
    [backup] = list((tmp_path / "out").glob("汇总.备份-*"))
    assert_backup_name(backup, "汇总", "xlsx")
    assert backup.read_bytes() == edited
    assert summary.read_bytes() == original
    assert state_of(summary) is State.UNTOUCHED


# ---------------------------------------------------------------- the profile and pack files are never the output


def test_output_can_never_be_the_profile(folder: Path) -> None:
    profile = (folder / "p.yaml").read_bytes()
    (folder / "sub").mkdir()
    for args in (["-o", "p.yaml"], ["-o", "p.yaml", "--force"], ["-o", "./sub/../p.yaml", "--force"]):
        result = build(*args)
        assert result.exit_code == 1, result.output
        assert INPUT_ITSELF in result.output
        assert (folder / "p.yaml").read_bytes() == profile
    assert files_under(folder) == {"p.yaml"}


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_output_can_never_be_the_profile_behind_a_link(folder: Path) -> None:
    profile = (folder / "p.yaml").read_bytes()
    (folder / "draft.docx").symlink_to(folder / "p.yaml")
    for extra in ([], ["--force"]):
        result = build("-o", "draft.docx", *extra)
        assert result.exit_code == 1, result.output
        assert INPUT_ITSELF in result.output
        assert (folder / "p.yaml").read_bytes() == profile
        assert (folder / "draft.docx").is_symlink()
    assert backups(folder) == []


def test_profile_named_like_a_draft_is_not_its_own_output(folder: Path) -> None:
    """A profile saved as p.docx would default to the output p.docx: refused, even with --force."""
    shutil.move(folder / "p.yaml", folder / "p.docx")
    profile = (folder / "p.docx").read_bytes()
    for extra in ([], ["--force"]):
        result = run_cli(["build", "p.docx", *extra])
        assert result.exit_code == 1, result.output
        assert INPUT_ITSELF in result.output
        assert (folder / "p.docx").read_bytes() == profile
    assert files_under(folder) == {"p.docx"}


def test_output_can_never_be_a_pack_file(folder: Path) -> None:
    """With a pack beside the profile (packs/mini), its files are off limits, even with --force."""
    local = make_mini_pack(folder / "packs" / "mini")
    data = yaml.safe_load((folder / "p.yaml").read_text(encoding="utf-8"))
    data["pack"] = "mini"
    write_yaml(folder / "p.yaml", data)
    assert build("--format", "md").exit_code == 0  # the local pack is the one used
    (folder / "p.md").unlink()
    before = snapshot(local)
    targets = ["packs/mini/word/template.docx", "packs/mini/new.docx", "packs/mini/pack.yaml",
               "packs/mini/prose/topics.yaml", "packs/mini/prose/new.md"]
    for target in targets:
        for extra in ([], ["--force"]):
            fmt = ["--format", "md"] if target.endswith(".md") else []
            result = build("-o", target, *fmt, *extra)
            assert result.exit_code == 1, (target, result.output)
            assert IN_PACK in result.output, (target, result.output)
    assert snapshot(local) == before


def test_builtin_and_user_pack_folders_are_protected(tmp_path: Path) -> None:
    """The guard alone (writes nothing): a path inside the built-in or user pack store is refused."""
    from reportgen.errors import OutputError
    from reportgen.outputs.guard import Guard
    from reportgen.packs.lookup import builtin_packs_dir, user_packs_dir

    user_packs_dir().mkdir(parents=True, exist_ok=True)  # conftest points it into a temporary folder
    guard = Guard(inputs=(tmp_path / "p.yaml",))
    for target in (builtin_packs_dir() / "jiguan" / "word" / "template.docx", builtin_packs_dir() / "x.docx",
                   builtin_packs_dir() / "jiguan" / "x.docx", user_packs_dir() / "b.docx"):
        with pytest.raises(OutputError) as caught:
            guard.check(target, force=True, suffixes=(".docx",))
        assert IN_PACK in str(caught.value)


@pytest.mark.parametrize("name, message", [
    ("out.txt", "稿子应以 .docx 或 .md 结尾"),
    ("out", "稿子应以 .docx 或 .md 结尾"),
    ("out.docx.bak", "稿子应以 .docx 或 .md 结尾"),
    ("out.md", "输出文件的扩展名应为 .docx"),
])
def test_output_name_must_be_a_draft(folder: Path, name: str, message: str) -> None:
    (folder / name).write_text("别的内容", encoding="utf-8")
    for extra in ([], ["--force"]):
        result = build("-o", name, *extra)
        assert result.exit_code == 1, result.output
        assert message in result.output
    assert (folder / name).read_text(encoding="utf-8") == "别的内容"
    assert files_under(folder) == {"p.yaml", name}


def test_output_into_an_existing_folder_uses_the_profile_name(folder: Path) -> None:
    (folder / "out").mkdir()
    assert build("-o", "out").exit_code == 0
    assert_valid_docx(folder / "out" / "p.docx")
    assert state_of(folder / "out" / "p.docx") is State.UNTOUCHED


# ---------------------------------------------------------------- Markdown


def test_markdown_draft_carries_a_fingerprint_and_is_edit_safe(folder: Path) -> None:
    assert build("--format", "md").exit_code == 0
    draft = folder / "p.md"
    text = draft.read_text(encoding="utf-8")
    assert re.search(r"\n<!-- reportgen:fingerprint=[0-9a-f]{64} -->\n$", text)
    assert UNIT in text
    # untouched: replaced silently
    assert build("--format", "md").exit_code == 0
    assert draft.read_text(encoding="utf-8") == text
    # edited: refused, byte-identical
    edited = text.replace(UNIT, UNIT + "（改）", 1)
    draft.write_text(edited, encoding="utf-8")
    assert state_of(draft) is State.EDITED
    assert_refused(build("--format", "md"), EDITED)
    assert draft.read_text(encoding="utf-8") == edited
    # forced: rebuilt, edited copy kept
    result = build("--format", "md", "--force")
    assert result.exit_code == 0, result.output
    [backup] = backups(folder)
    assert_backup_name(backup, "p", "md")
    assert backup.read_text(encoding="utf-8") == edited
    assert draft.read_text(encoding="utf-8") == text


def test_markdown_without_fingerprint_is_foreign(folder: Path) -> None:
    notes = "# 我自己的笔记\n\n很重要。\n"
    (folder / "p.md").write_text(notes, encoding="utf-8")
    assert_refused(build("--format", "md"), FOREIGN)
    assert (folder / "p.md").read_text(encoding="utf-8") == notes
    # A fingerprint line that does not match the text above it (hand-edited or copied) is "edited".
    (folder / "p.md").write_text("# 笔记\n\n<!-- reportgen:fingerprint=" + "0" * 64 + " -->\n", encoding="utf-8")
    assert_refused(build("--format", "md"), EDITED)


def test_markdown_output_can_never_be_the_profile(folder: Path) -> None:
    profile = (folder / "p.yaml").read_bytes()
    result = build("--format", "md", "-o", "p.yaml", "--force")
    assert result.exit_code == 1
    assert INPUT_ITSELF in result.output
    assert (folder / "p.yaml").read_bytes() == profile


# ---------------------------------------------------------------- order of work, temporary files, modes


def test_refusal_comes_before_any_drafting(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edited, protected or impossible target is refused without reading the profile or rendering."""
    from reportgen.outputs.drafting import Run

    assert build().exit_code == 0
    edited = edit_like_word(folder / "p.docx")

    def must_not_run(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("drafting work before the output check")

    for name in ("draft_file", "draft", "render", "word"):
        monkeypatch.setattr(Run, name, must_not_run)
    assert_refused(build(), EDITED)
    result = build("-o", "p.yaml")
    assert result.exit_code == 1 and INPUT_ITSELF in result.output
    result = build("-o", "missing/x.docx")
    assert result.exit_code == 1 and "输出文件夹不存在" in result.output
    result = build("-o", "x.txt")
    assert result.exit_code == 1 and "稿子应以 .docx 或 .md 结尾" in result.output
    assert (folder / "p.docx").read_bytes() == edited


def test_failed_write_leaves_no_temporary_file_and_the_old_draft_intact(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert build().exit_code == 0
    before = (folder / "p.docx").read_bytes()
    (folder / "p.yaml").write_text((folder / "p.yaml").read_text(encoding="utf-8").replace(UNIT, "新单位"),
                                   encoding="utf-8")

    def disk_full(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    result = build()
    assert result.exit_code == 1
    assert "写入失败：磁盘空间不足（No space left on device）" in result.output
    assert (folder / "p.docx").read_bytes() == before
    assert files_under(folder) == {"p.yaml", "p.docx"}
    assert temporaries(folder) == []


def test_interrupted_write_leaves_no_temporary_file(folder: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from reportgen.cli import main

    def interrupted(src: Any, dst: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(SystemExit) as caught:
        main(["build", "p.yaml"])
    assert caught.value.code == 130
    err = capsys.readouterr().err
    assert "已中断" in err or "已取消" in err, err
    assert files_under(folder) == {"p.yaml"}
    assert temporaries(folder) == []


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX-only")
def test_new_draft_gets_the_usual_file_mode(folder: Path) -> None:
    mask = os.umask(0o022)
    try:
        assert build().exit_code == 0
    finally:
        os.umask(mask)
    assert (folder / "p.docx").stat().st_mode & 0o777 == 0o644
    (folder / "p.docx").chmod(0o600)
    assert build().exit_code == 0  # an untouched draft keeps the mode the user gave it
    assert (folder / "p.docx").stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(os.name != "posix", reason="the permission pre-check is POSIX-only")
def test_unwritable_folder_is_refused_before_drafting(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoever runs the tests (root ignores chmod), a folder the OS says is not writable is refused up front."""
    from reportgen.outputs.drafting import Run

    (folder / "locked").mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if Path(path).name == "locked"
                        else real_access(path, mode, **kw))
    monkeypatch.setattr(Run, "draft_file", lambda *a, **k: pytest.fail("drafted before the output check"))
    result = build("-o", "locked/out.docx")
    assert result.exit_code == 1
    assert "locked/out.docx：没有权限在这个文件夹里写文件" in result.output
    assert files_under(folder) == {"p.yaml"}


# ---------------------------------------------------------------- batch builds go through the same guard


def test_batch_never_overwrites_an_edited_draft(pack_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_yaml(tmp_path / "in" / "a.yaml", profile_data(pack_dir, "甲单位机关党委"))
    write_yaml(tmp_path / "in" / "b.yaml", profile_data(pack_dir, "乙单位机关党委"))
    first = run_cli(["build", "in", "-o", "out", "-j", "1"])
    assert first.exit_code == 0, first.output
    b_first = (tmp_path / "out" / "b.docx").read_bytes()
    edited = edit_like_word(tmp_path / "out" / "a.docx")
    again = run_cli(["build", "in", "-o", "out", "-j", "1"])
    assert again.exit_code == 1
    assert EDITED in again.output
    assert (tmp_path / "out" / "a.docx").read_bytes() == edited
    assert (tmp_path / "out" / "b.docx").read_bytes() == b_first
    assert temporaries(tmp_path / "out") == []
    assert backups(tmp_path / "out") == []
    forced = run_cli(["build", "in", "-o", "out", "-j", "1", "--force"])
    assert forced.exit_code == 0, forced.output
    [backup] = backups(tmp_path / "out")
    assert_backup_name(backup, "a", "docx")
    assert backup.read_bytes() == edited
    assert state_of(tmp_path / "out" / "a.docx") is State.UNTOUCHED


# ---------------------------------------------------------------- F7: a foreign zip bomb at the output path

BOMB_SIZE = 2 * 1024**3  # 2 GiB of zeros in one member


def write_zip_bomb(path: Path, member: str = "word/document.xml") -> None:
    """A zip whose one member inflates to 2 GiB of zeros, deflated with zlib chunk by chunk.

    Each 1 MiB chunk is compressed with a full flush, which resets the compressor: every chunk after
    the first gives the same bytes, so the 2 GiB are streamed to the file without being held anywhere.
    """
    chunk = bytes(1 << 20)
    count = BOMB_SIZE // len(chunk)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeat = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush()
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    compressed = len(first) + (count - 1) * len(repeat) + len(tail)
    name = member.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, compressed, BOMB_SIZE, len(name), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, compressed, BOMB_SIZE,
                          len(name), 0, 0, 0, 0, 0, 0)
    with path.open("wb") as out:
        out.write(local + name + first)
        for _ in range(count - 1):
            out.write(repeat)
        out.write(tail)
        end_of_data = out.tell()
        out.write(central + name)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(name), end_of_data, 0))


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomb.docx"
    write_zip_bomb(path)
    with zipfile.ZipFile(path) as zf:  # what it claims, checked without inflating
        [info] = zf.infolist()
        assert info.file_size == BOMB_SIZE and info.compress_size < BOMB_SIZE // 500
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def limited_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def run_limited(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run([REPORTGEN, *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          preexec_fn=limited_memory, check=False)
    return done, time.monotonic() - started


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_a_foreign_zip_bomb_at_the_output_path_is_refused_quickly(tmp_path: Path, pack_dir: Path,
                                                                   zip_bomb: Path) -> None:
    write_yaml(tmp_path / "p.yaml", profile_data(pack_dir))
    shutil.copyfile(zip_bomb, tmp_path / "bomb.docx")
    before = digest(tmp_path / "bomb.docx")
    done, elapsed = run_limited(["build", "p.yaml", "-o", "bomb.docx"], tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    assert "不是 reportgen 生成的" in done.stderr
    assert "bomb.docx" in done.stderr
    assert elapsed < 60
    assert digest(tmp_path / "bomb.docx") == before
    assert files_under(tmp_path) == {"p.yaml", "bomb.docx"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_zip_bombs_in_a_batch_output_folder_are_refused(tmp_path: Path, pack_dir: Path, zip_bomb: Path) -> None:
    """A bomb named like a unit's draft and one named 汇总.xlsx: both refused as foreign, the other draft written."""
    write_batch_profiles(tmp_path / "in", pack_dir, 2)
    out = tmp_path / "out"
    out.mkdir()
    shutil.copyfile(zip_bomb, out / "u00.docx")
    shutil.copyfile(zip_bomb, out / SUMMARY)
    before = digest(zip_bomb)
    done, elapsed = run_limited(["build", "in", "-o", "out", "-j", "1"], tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    assert done.stdout.count("不是 reportgen 生成的") >= 2, done.stdout
    assert elapsed < 60
    assert digest(out / "u00.docx") == before and digest(out / SUMMARY) == before
    assert state_of(out / "u01.docx") is State.UNTOUCHED


# ---------------------------------------------------------------- F4: nothing is ever written into a pack folder


@pytest.fixture
def pack_beside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as working folder: a pack folder ./lp and three profiles in ./dir using it."""
    monkeypatch.chdir(tmp_path)
    make_mini_pack(tmp_path / "lp")
    for i in range(3):
        write_yaml(tmp_path / "dir" / f"u{i}.yaml", profile_data("../lp", f"第{i}支部委员会"))
    return tmp_path / "lp"


def test_a_batch_into_a_pack_folder_writes_nothing_there(pack_beside: Path) -> None:
    before = snapshot(pack_beside)
    for output in ("lp", "lp/prose", "lp/新文件夹"):
        for extra in ([], ["--force"]):
            result = run_cli(["build", "dir", "--pack", "./lp", "-o", output, *extra])
            assert result.exit_code == 1, result.output
            assert IN_PACK in result.output
            assert snapshot(pack_beside) == before, output  # no draft, no 汇总.xlsx, no lock, no folder
    assert [p for p in pack_beside.parent.rglob("*.docx") if p != pack_beside / "word" / "template.docx"] == []
    assert not (pack_beside / SUMMARY).exists()


def test_a_batch_into_the_builtin_templates_folder_writes_nothing_there(pack_beside: Path) -> None:
    from reportgen.packs.lookup import builtin_packs_dir

    builtin = builtin_packs_dir()
    before = snapshot(builtin)
    for output in (builtin, builtin / "jiguan", builtin / "新文件夹"):
        result = run_cli(["build", "dir", "--pack", "./lp", "-o", str(output)])
        assert result.exit_code == 1, result.output
        assert IN_PACK in result.output
    assert snapshot(builtin) == before
    assert not (builtin / "新文件夹").exists()


def test_profiles_kept_in_a_pack_folder_get_no_drafts_there(pack_beside: Path) -> None:
    """Without -o drafts go beside their profiles: in a pack folder that is refused, and nothing at all
    (draft, 汇总.xlsx, lock or temporary file) is left in the pack folder."""
    for name in ("mine.yaml", "mine2.yaml"):
        write_yaml(pack_beside / name, profile_data(".", f"{name}单位"))
    before = snapshot(pack_beside)
    result = run_cli(["build", "lp/mine.yaml", "lp/mine2.yaml", "--pack", "./lp"])
    assert result.exit_code == 1, result.output
    assert result.output.count(IN_PACK) >= 3  # both drafts and the summary
    assert snapshot(pack_beside) == before, sorted(set(snapshot(pack_beside)) - set(before))


def test_init_never_writes_into_a_pack_folder(pack_beside: Path) -> None:
    before = snapshot(pack_beside)
    for target in ("lp/x.yaml", "lp/pack.yaml", "lp/prose/topics.yaml", "lp/prose/new.yml"):
        for extra in ([], ["--force"]):
            result = run_cli(["init", target, "--pack", "./lp", *extra])
            assert result.exit_code == 1, (target, result.output)
            assert IN_PACK in result.output, (target, result.output)
    assert snapshot(pack_beside) == before
    assert not list(pack_beside.rglob("*备份*"))


# ---------------------------------------------------------------- F8: one batch per folder; temporaries


def test_two_batches_into_one_folder_at_once(tmp_path: Path, pack_dir: Path) -> None:
    count = 16
    write_batch_profiles(tmp_path / "in", pack_dir, count)
    out = tmp_path / "out"
    slow = hook_env(tmp_path, slow=0.3)  # the first batch takes about five seconds
    first = subprocess.Popen([REPORTGEN, "build", "in", "-o", "out", "-j", "1"], cwd=tmp_path, env=slow,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not list(out.glob("*.docx")):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first batch wrote nothing"
            time.sleep(0.02)
        second = run_reportgen("build", "in", "-o", "out", "-j", "1", cwd=tmp_path, timeout=60)
        still_running = first.poll() is None
        stdout, stderr = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert still_running, "the first batch ended before the second started: the test proves nothing"
    assert second.returncode == 1, second.stdout + second.stderr
    assert "另一个 reportgen" in second.stderr, second.stderr
    assert "out" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.returncode == 0, stdout + stderr
    drafts = sorted(out.glob("*.docx"))
    assert [p.name for p in drafts] == [f"u{i:02d}.docx" for i in range(count)]
    assert all(state_of(p) is State.UNTOUCHED for p in drafts)
    assert state_of(out / SUMMARY) is State.UNTOUCHED
    assert temporaries(out) == []


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    while True:
        child = subprocess.Popen([sys.executable, "-c", "pass"])
        child.wait()
        try:
            os.kill(child.pid, 0)
        except ProcessLookupError:
            return child.pid


@pytest.mark.skipif(os.name != "posix", reason="process ids are probed on POSIX only")
def test_only_stale_temporaries_of_reportgen_are_removed(tmp_path: Path, pack_dir: Path) -> None:
    write_batch_profiles(tmp_path / "in", pack_dir, 2)
    out = tmp_path / "out"
    out.mkdir()
    stale = out / f".reportgen-{dead_pid()}-abc.tmp"
    live = out / f".reportgen-{os.getpid()}-abc.tmp"
    notes = out / ".u0001.我的备注.tmp"
    others = [out / ".reportgen-abc.tmp", out / "reportgen-1-abc.tmp", out / f".reportgen-{dead_pid()}-abc.tmp.keep"]
    for path in (stale, live, notes, *others):
        path.write_bytes(b"PK\x03\x04 half written")
    done = run_reportgen("build", "in", "-o", "out", "-j", "1", cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not stale.exists()
    assert live.read_bytes() == b"PK\x03\x04 half written"  # its process (this test) still runs
    assert notes.read_bytes() == b"PK\x03\x04 half written"  # a user's file is never touched
    assert all(path.exists() for path in others)
    assert state_of(out / "u00.docx") is State.UNTOUCHED

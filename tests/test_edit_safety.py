"""Edit-safe output: a rebuild never destroys the user's work and never writes where it must not.

An untouched earlier draft is replaced silently; an edited draft or a file reportgen did not make is
refused (exit 1, file byte-identical) unless ``--force``, which first keeps it as a dated backup; the
profile and the pack's files can never be the output, not even with ``--force``.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from reportgen.output import check_target, existing_state
from test_hostile_inputs import (
    UNIT,
    Kit,
    assert_clean_exit,
    assert_docx_well_formed,
    document_text,
    files_under,
    jiguan_kit,
    run_cli,
)

EDITED_MESSAGE = "这份稿子生成后已经被修改过，为避免丢失内容，没有覆盖它"
FOREIGN_MESSAGE = "这个文件不是 reportgen 生成的，为避免丢失内容，没有覆盖它"
HOW_TO_PROCEED = "用 -o 另存为新文件；或加 --force 覆盖（旧文件会先备份在同一文件夹）"
BACKUP_NAME = re.compile(r"^p\.备份-\d{8}-\d{6}(-\d+)?\.(docx|md)$")


@pytest.fixture
def kit() -> Kit:
    return jiguan_kit()


@pytest.fixture
def folder(kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working directory, holding a valid profile p.yaml."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(kit.text(), encoding="utf-8")
    return tmp_path


def build(*args: str) -> Result:
    result = run_cli(["build", "p.yaml", *args])
    assert_clean_exit(result)
    return result


def edit_like_word(path: Path, marker: str = "（我改过的句子）") -> bytes:
    """Change one text run inside word/document.xml, keeping every other part, as Word does on save."""
    with zipfile.ZipFile(path) as zf:
        parts = [(info, zf.read(info)) for info in zf.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in parts:
            if info.filename == "word/document.xml":
                text = data.decode("utf-8")
                edited = re.sub(r"(<w:t\b[^>]*>)([^<]+)(</w:t>)", lambda m: m.group(1) + marker + m.group(3),
                                text, count=1)
                assert edited != text
                data = edited.encode("utf-8")
            zf.writestr(info, data)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def backups(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if "备份" in p.name)


def assert_refused(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert HOW_TO_PROCEED in result.output


# ---------------------------------------------------------------- .docx


def test_untouched_draft_is_replaced_silently(folder: Path) -> None:
    assert build().exit_code == 0
    first = (folder / "p.docx").read_bytes()
    assert existing_state(folder / "p.docx") == "untouched"
    again = build()
    assert again.exit_code == 0, again.output
    assert (folder / "p.docx").read_bytes() == first  # deterministic: same profile, same bytes
    assert "备份" not in again.output
    # A changed profile really replaces it.
    profile = folder / "p.yaml"
    profile.write_text(profile.read_text(encoding="utf-8").replace(UNIT, "某县某局机关党委"), encoding="utf-8")
    assert build().exit_code == 0
    assert "某县某局机关党委" in document_text(folder / "p.docx")
    assert backups(folder) == []
    assert files_under(folder) == {"p.yaml", "p.docx"}


def test_edited_draft_is_refused_and_left_byte_identical(folder: Path) -> None:
    assert build().exit_code == 0
    edited = edit_like_word(folder / "p.docx")
    assert existing_state(folder / "p.docx") == "edited"
    result = build()
    assert_refused(result, EDITED_MESSAGE)
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
    assert BACKUP_NAME.match(backup.name), backup.name
    assert f"原文件已备份为：{backup.name}" in result.output
    assert backup.read_bytes() == edited
    assert (folder / "p.docx").read_bytes() == original
    assert existing_state(folder / "p.docx") == "untouched"
    assert_docx_well_formed(folder / "p.docx")
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
    assert existing_state(folder / "p.docx") == "foreign"
    assert_refused(build(), FOREIGN_MESSAGE)
    assert (folder / "p.docx").read_bytes() == foreign
    result = build("--force")
    assert result.exit_code == 0, result.output
    [backup] = backups(folder)
    assert backup.read_bytes() == foreign
    assert UNIT in document_text(folder / "p.docx")


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04broken"], ids=["empty", "text", "broken-zip"])
def test_any_other_file_named_docx_is_foreign(folder: Path, content: bytes) -> None:
    (folder / "p.docx").write_bytes(content)
    assert_refused(build(), FOREIGN_MESSAGE)
    assert (folder / "p.docx").read_bytes() == content


def test_output_can_never_be_the_profile(folder: Path) -> None:
    profile = (folder / "p.yaml").read_bytes()
    for args in (["-o", "p.yaml"], ["-o", "p.yaml", "--force"], ["-o", "./sub/../p.yaml", "--force"]):
        (folder / "sub").mkdir(exist_ok=True)
        result = build(*args)
        assert result.exit_code == 1, result.output
        assert "输出位置就是资料文件本身，不能覆盖" in result.output
        assert (folder / "p.yaml").read_bytes() == profile


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_output_can_never_be_the_profile_behind_a_link(folder: Path) -> None:
    profile = (folder / "p.yaml").read_bytes()
    (folder / "draft.docx").symlink_to(folder / "p.yaml")
    result = build("-o", "draft.docx", "--force")
    assert result.exit_code == 1
    assert "输出位置就是资料文件本身，不能覆盖" in result.output
    assert (folder / "p.yaml").read_bytes() == profile
    assert (folder / "draft.docx").is_symlink()


def test_profile_named_like_a_draft_is_not_its_own_output(folder: Path) -> None:
    """A profile saved as p.docx would default to the output p.docx: refused, even with --force."""
    shutil.move(folder / "p.yaml", folder / "p.docx")
    profile = (folder / "p.docx").read_bytes()
    for extra in ([], ["--force"]):
        result = run_cli(["build", "p.docx", *extra])
        assert_clean_exit(result)
        assert result.exit_code == 1
        assert "输出位置就是资料文件本身，不能覆盖" in result.output
        assert (folder / "p.docx").read_bytes() == profile


def test_output_can_never_be_a_pack_file(folder: Path, kit: Kit) -> None:
    """With a pack beside the profile (packs/jiguan), its files are off limits, even with --force."""
    from reportgen.pack import find_pack

    pack = find_pack("jiguan")
    shutil.copytree(pack.root, folder / "packs" / "jiguan")
    local = folder / "packs" / "jiguan"
    template = local / pack.word_template
    before = {p: p.read_bytes() for p in local.rglob("*") if p.is_file()}
    targets = [template.relative_to(folder), local.relative_to(folder) / "new.docx",
               (local / "pack.yaml").relative_to(folder)]
    for target in targets:
        for extra in ([], ["--force"]):
            result = build("-o", str(target), *extra)
            assert result.exit_code == 1, result.output
            assert ("输出位置在模板包文件夹里" in result.output) or ("资料文件本身" in result.output)
    assert {p: p.read_bytes() for p in local.rglob("*") if p.is_file()} == before


def test_builtin_and_user_pack_folders_are_protected(tmp_path: Path) -> None:
    """check_target alone (writes nothing): a path inside the built-in or user pack store is refused."""
    from reportgen.errors import OutputError
    from reportgen.pack import builtin_packs_dir, find_pack, user_packs_dir

    pack = find_pack("jiguan")
    user_packs_dir().mkdir(parents=True, exist_ok=True)  # conftest points it into a temporary folder
    protected = (tmp_path / "p.yaml", pack.root, builtin_packs_dir(), user_packs_dir())
    for target in (pack.path(pack.word_template), builtin_packs_dir() / "x.docx", user_packs_dir() / "b.docx"):
        with pytest.raises(OutputError) as caught:
            check_target(target, force=True, protected=protected, suffix=".docx")
        assert "输出位置在模板包文件夹里" in str(caught.value)


@pytest.mark.parametrize("name, message", [
    ("out.txt", "输出文件必须以 .docx 或 .md 结尾"),
    ("out", "输出文件必须以 .docx 或 .md 结尾"),
    ("out.docx.bak", "输出文件必须以 .docx 或 .md 结尾"),
    ("out.md", "输出文件的扩展名应为 .docx"),
])
def test_output_name_must_be_a_docx(folder: Path, name: str, message: str) -> None:
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
    assert_docx_well_formed(folder / "out" / "p.docx")


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
    assert existing_state(draft) == "edited"
    assert_refused(build("--format", "md"), EDITED_MESSAGE)
    assert draft.read_text(encoding="utf-8") == edited
    # forced: rebuilt, edited copy kept
    result = build("--format", "md", "--force")
    assert result.exit_code == 0, result.output
    [backup] = backups(folder)
    assert BACKUP_NAME.match(backup.name)
    assert backup.read_text(encoding="utf-8") == edited
    assert draft.read_text(encoding="utf-8") == text


def test_markdown_without_fingerprint_is_foreign(folder: Path) -> None:
    (folder / "p.md").write_text("# 我自己的笔记\n\n很重要。\n", encoding="utf-8")
    assert_refused(build("--format", "md"), FOREIGN_MESSAGE)
    assert (folder / "p.md").read_text(encoding="utf-8") == "# 我自己的笔记\n\n很重要。\n"
    # A fingerprint line that does not match the text above it (hand-edited or copied) is "edited".
    (folder / "p.md").write_text("# 笔记\n\n<!-- reportgen:fingerprint=" + "0" * 64 + " -->\n", encoding="utf-8")
    assert_refused(build("--format", "md"), EDITED_MESSAGE)


def test_markdown_output_can_never_be_the_profile(folder: Path) -> None:
    profile = (folder / "p.yaml").read_bytes()
    result = build("--format", "md", "-o", "p.yaml", "--force")
    assert result.exit_code == 1
    assert "输出位置就是资料文件本身" in result.output
    assert (folder / "p.yaml").read_bytes() == profile


# ---------------------------------------------------------------- order of work, temporary files, modes


def test_refusal_comes_before_any_drafting(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edited target is refused without composing or rendering anything."""
    assert build().exit_code == 0
    edited = edit_like_word(folder / "p.docx")
    from reportgen.core import DraftMaker

    def must_not_run(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("drafting work before the output check")

    for name in ("document", "docx", "markdown"):
        monkeypatch.setattr(DraftMaker, name, must_not_run)
    assert_refused(build(), EDITED_MESSAGE)
    result = build("-o", "p.yaml")
    assert result.exit_code == 1 and "资料文件本身" in result.output
    result = build("-o", "missing/x.docx")
    assert result.exit_code == 1 and "输出文件夹不存在" in result.output
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


def test_interrupted_write_leaves_no_temporary_file(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(src: Any, dst: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    result = build()
    assert result.exit_code == 130
    assert files_under(folder) == {"p.yaml"}


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


# ---------------------------------------------------------------- batch builds go through the same guard


def test_batch_never_overwrites_an_edited_draft(kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.yaml").write_text(kit.text(), encoding="utf-8")
    (tmp_path / "in" / "b.yaml").write_text(kit.text().replace("张某某", "李某某"), encoding="utf-8")
    first = run_cli(["build", "in", "-o", "out"])
    assert_clean_exit(first)
    assert first.exit_code == 0, first.output
    edited = edit_like_word(tmp_path / "out" / "a.docx")
    again = run_cli(["build", "in", "-o", "out"])
    assert_clean_exit(again)
    assert again.exit_code == 1
    assert EDITED_MESSAGE in again.output
    assert (tmp_path / "out" / "a.docx").read_bytes() == edited
    assert_docx_well_formed(tmp_path / "out" / "b.docx")
    assert not any(p.name.startswith(".") for p in (tmp_path / "out").iterdir())  # no temporary files
    forced = run_cli(["build", "in", "-o", "out", "--force"])
    assert_clean_exit(forced)
    assert forced.exit_code == 0, forced.output
    [backup] = [p for p in (tmp_path / "out").iterdir() if "备份" in p.name]
    assert re.match(r"^a\.备份-\d{8}-\d{6}(-\d+)?\.docx$", backup.name)
    assert backup.read_bytes() == edited


@pytest.mark.skipif(os.name != "posix", reason="the permission pre-check is POSIX-only")
def test_unwritable_folder_is_refused_before_drafting(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoever runs the tests (root ignores chmod), a folder the OS says is not writable is refused up front."""
    import reportgen.output
    from reportgen.core import DraftMaker

    (folder / "locked").mkdir()
    real_access = os.access
    monkeypatch.setattr(reportgen.output.os, "access",
                        lambda path, mode: False if Path(path).name == "locked" else real_access(path, mode))
    monkeypatch.setattr(DraftMaker, "document", lambda *a, **k: pytest.fail("drafted before the output check"))
    result = build("-o", "locked/out.docx")
    assert result.exit_code == 1
    assert "locked/out.docx：没有权限在这个文件夹里写文件" in result.output
    assert files_under(folder) == {"p.yaml", "locked"}

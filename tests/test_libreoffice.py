"""A real client: LibreOffice opens every file reportgen writes; poppler reads what it printed.

Each built-in pack's example profile is built with core.build and converted to PDF by LibreOffice
(headless).  The PDF is then read the way a reviewer checks a 述职报告 against GB/T 9704-2012:
A4 pages, the title and every heading in order, 22 lines a page and 28 characters a line, a
"— N —" page number on every page (odd pages right, even pages left, one character in from the
text block), CJK fonts embedded, and nothing of the draft lost on the way.  A draft with
【待补充：…】 placeholders, a batch's 汇总.xlsx, a 填报表 and a 整改台账 must open too.

Every file is converted once per module (module-scoped fixtures), all in one folder so LibreOffice
reuses its profile.  Geometry comes from the standard, not from the template: 版心 156 mm × 225 mm,
top margin 37 mm, left margin 28 mm on 210 mm × 297 mm paper.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
import shutil
import statistics
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from conftest import BUILTIN, TEMPLATES, convert, docx_paragraphs, example_data, soffice, write_yaml
from reportgen import core

POPPLER = ("pdftotext", "pdfinfo", "pdffonts", "pdftoppm")
REPORTGEN = str(Path(sys.executable).with_name("reportgen"))
XHTML = "{http://www.w3.org/1999/xhtml}"

PT_PER_MM = 72 / 25.4
A4_PT = (210 * PT_PER_MM, 297 * PT_PER_MM)  # 595.3 x 841.9
LEFT = 28 * PT_PER_MM  # 版心 left edge
RIGHT = LEFT + 156 * PT_PER_MM  # 版心 right edge
TOP = 37 * PT_PER_MM
BOTTOM = TOP + 225 * PT_PER_MM  # 版心 lower edge
LINE_PITCH = 225 * PT_PER_MM / 22  # 22 lines in the 版心: 28.95 pt
ONE_CHAR = 14.0  # the page number is 4号 (14 pt); "空一字" is one such character
FOOTER = re.compile(r"—\s*(\d+)\s*—")
CJK_FONT = re.compile(r"CJK|Song|Sung|Fang|Hei|Kai|Ming|GB2312|SimSun|STSong|STFang|WenQuanYi|SourceHan|"
                      r"Source Han|Noto ?S(?:ans|erif) ?SC|FZ|Droid ?Sans ?Fallback|AR ?PL", re.I)
# Filler for the grid test: Han characters only, so nothing can hang into the margin or be squeezed.
FILLER = "坚持把学习成果转化为推动工作的实际成效切实做到知行合一" * 110  # 2,970 characters: 106 lines


# ---------------------------------------------------------------- tools


def _tools() -> dict[str, str]:
    found = {name: shutil.which(name) for name in POPPLER}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"poppler ({', '.join(missing)}) is missing in CI")
        pytest.skip(f"poppler is not installed ({', '.join(missing)})")
    soffice()  # skips (or fails in CI) without LibreOffice
    return {name: str(path) for name, path in found.items()}


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, timeout=120, check=True)
    return done.stdout.decode("utf-8", "replace")


def pdf_text(pdf: Path, *args: str) -> str:
    return _run(shutil.which("pdftotext") or "pdftotext", "-enc", "UTF-8", *args, str(pdf), "-")


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    info = _run(shutil.which("pdfinfo") or "pdfinfo", "-f", "1", "-l", "9999", str(pdf))
    pages = re.search(r"^Pages:\s+(\d+)", info, re.M)
    assert pages is not None, info
    sizes = [(float(w), float(h)) for w, h in re.findall(r"^Page\s+\d+\s+size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)]
    assert len(sizes) == int(pages.group(1)), info
    return sizes


@dataclass(frozen=True)
class Line:
    """One printed line: its box (PDF points, y from the top) and its words."""

    x0: float
    y0: float
    x1: float
    y1: float
    words: tuple[str, ...]

    @property
    def text(self) -> str:
        return "".join(self.words)

    @property
    def full_width_only(self) -> bool:
        return all(unicodedata.east_asian_width(char) in "WF" for char in self.text)


def pdf_lines(pdf: Path) -> list[list[Line]]:
    """Every page's lines, as ``pdftotext -bbox-layout`` finds them."""
    root = etree.fromstring(pdf_text(pdf, "-bbox-layout").encode("utf-8"), etree.XMLParser(recover=True))
    pages = []
    for page in root.iter(f"{XHTML}page"):
        lines = []
        for line in page.iter(f"{XHTML}line"):
            words = tuple(w.text or "" for w in line.iter(f"{XHTML}word"))
            lines.append(Line(float(line.get("xMin", 0)), float(line.get("yMin", 0)), float(line.get("xMax", 0)),
                              float(line.get("yMax", 0)), words))
        pages.append(sorted(lines, key=lambda line: (line.y0, line.x0)))
    return pages


def pdf_words(pdf: Path, page: int) -> list[tuple[float, float, float, float, str]]:
    """(xMin, yMin, xMax, yMax, text) of every word on ``page`` (``pdftotext -bbox``)."""
    root = etree.fromstring(pdf_text(pdf, "-bbox", "-f", str(page), "-l", str(page)).encode("utf-8"),
                            etree.XMLParser(recover=True))
    return [(float(w.get("xMin", 0)), float(w.get("yMin", 0)), float(w.get("xMax", 0)), float(w.get("yMax", 0)),
             w.text or "") for w in root.iter(f"{XHTML}word")]


def char_pitch(word: tuple[float, float, float, float, str]) -> float:
    return (word[2] - word[0]) / len(word[4])


def body_lines(page: list[Line]) -> list[Line]:
    return [line for line in page if line.y0 < BOTTOM]


def footer_lines(page: list[Line]) -> list[Line]:
    return [line for line in page if line.y0 >= BOTTOM]


def is_full(line: Line) -> bool:
    """A line that starts at the left edge of the 版心 and reaches its right edge (not a paragraph's last)."""
    return abs(line.x0 - LEFT) <= 3 and line.x1 >= RIGHT - 4


def fonts(pdf: Path) -> list[dict[str, str]]:
    """pdffonts' table: name, type, encoding, emb, sub, uni (columns found from the dashed rule)."""
    rows = _run(shutil.which("pdffonts") or "pdffonts", str(pdf)).splitlines()
    rule = next(i for i, row in enumerate(rows) if row.startswith("---"))
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", rows[rule])]
    names = ["name", "type", "encoding", "emb", "sub", "uni", "object", "id"]
    return [{name: row[a:b + 1].strip() for name, (a, b) in zip(names, spans, strict=False)} for row in rows[rule + 1:]
            if row.strip()]


def yellow_pixels(pdf: Path, outdir: Path) -> int:
    """How many pixels of the pages (rendered at 20 dpi) are highlighter yellow."""
    prefix = outdir / f"{pdf.stem}-yellow"
    _run(shutil.which("pdftoppm") or "pdftoppm", "-r", "20", str(pdf), str(prefix))
    count = 0
    for image in sorted(outdir.glob(f"{prefix.name}*.ppm")):
        data = image.read_bytes()
        # binary PPM: "P6\n<w> <h>\n<max>\n" then RGB triples
        header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
        assert header is not None, image
        pixels = memoryview(data)[header.end():]
        count += sum(1 for i in range(0, len(pixels) - 2, 3)
                     if pixels[i] > 200 and pixels[i + 1] > 200 and pixels[i + 2] < 120)
    return count


def calc_sheets(xlsx: Path, outdir: Path) -> dict[str, list[list[str]]]:
    """Every sheet of ``xlsx`` as LibreOffice Calc reads it: sheet name -> CSV rows."""
    token = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"
    subprocess.run([soffice(), f"-env:UserInstallation={(outdir / 'lo-profile').as_uri()}", "--headless",
                    "--norestore", "--convert-to", token, "--outdir", str(outdir), str(xlsx)],
                   capture_output=True, timeout=240, check=False)
    sheets = {}
    for path in outdir.glob(f"{xlsx.stem}-*.csv"):
        sheets[path.stem.removeprefix(f"{xlsx.stem}-")] = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert sheets, f"LibreOffice Calc could not open {xlsx.name}"
    return sheets


# ---------------------------------------------------------------- the drafts, converted once


@dataclass(frozen=True)
class Printed:
    docx: Path
    pdf: Path
    draft: Any  # reportgen's Draft (document model, pack)

    @property
    def pages(self) -> list[list[Line]]:
        return pdf_lines(self.pdf)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _tools()
    return tmp_path_factory.mktemp("libreoffice")


@pytest.fixture(scope="module")
def examples(workdir: Path) -> dict[str, Printed]:
    """Each built-in pack's example.yaml built with core.build and printed to PDF by LibreOffice."""
    printed = {}
    for name in BUILTIN:
        result = core.build(TEMPLATES / name / "example.yaml", workdir / f"{name}.docx")
        docx = Path(result.output)
        printed[name] = Printed(docx, convert(docx, workdir, "pdf"), result.draft)
    return printed


@pytest.fixture(scope="module")
def long_draft(workdir: Path) -> Printed:
    """jiguan's example with one long opening paragraph of Han characters: pages 2 and 3 are full body text."""
    data = example_data("jiguan")
    data["overrides"] = {"opening": FILLER}
    profile = write_yaml(workdir / "long-src" / "long.yaml", data)
    result = core.build(profile, workdir / "long.docx")
    docx = Path(result.output)
    assert any(FILLER in p.text for p in docx_paragraphs(docx)), "the override did not reach the draft"
    return Printed(docx, convert(docx, workdir, "pdf"), result.draft)


@pytest.fixture(scope="module")
def placeholder_draft(workdir: Path) -> Printed:
    """jiguan's example without two facts its items require: the draft shows 【待补充：…】."""
    data = example_data("jiguan")
    for key in ("study_sessions", "training_sessions"):
        data["facts"].pop(key)
    profile = write_yaml(workdir / "gaps-src" / "gaps.yaml", data)
    result = core.build(profile, workdir / "gaps.docx")
    docx = Path(result.output)
    return Printed(docx, convert(docx, workdir, "pdf"), result.draft)


def title_and_headings(draft: Any) -> list[str]:
    """What a reviewer reads as the outline: the title, 一、 headings and the numbered leads, in order.

    A lead is its number and its phrase ("（一）把牢政治方向……"); the full stop after it is body text and
    is checked with the rest of the text in ``test_no_character_of_the_draft_is_lost``.
    """
    outline = []
    for paragraph in draft.document.paragraphs:
        if paragraph.role in ("title", "heading"):
            outline.append(paragraph.text)
        lead = ""
        for span in (*paragraph.spans, None):
            if span is not None and span.kind in ("lead2", "lead3"):
                lead += span.text
            elif lead:
                outline.append(lead.rstrip("。．.；"))
                lead = ""
    return outline


# ---------------------------------------------------------------- pages, outline, text


@pytest.mark.parametrize("pack", BUILTIN)
def test_every_page_is_a4(examples: dict[str, Printed], pack: str) -> None:
    sizes = page_sizes(examples[pack].pdf)
    assert len(sizes) >= 2, "a full example draft fits on one page?"
    for number, (width, height) in enumerate(sizes, start=1):
        assert width == pytest.approx(A4_PT[0], abs=1) and height == pytest.approx(A4_PT[1], abs=1), \
            f"page {number} is {width} x {height} pt"


@pytest.mark.parametrize("pack", BUILTIN)
def test_title_and_every_heading_are_printed_in_order(examples: dict[str, Printed], pack: str) -> None:
    printed = examples[pack]
    text = squeeze(pdf_text(printed.pdf))
    outline = title_and_headings(printed.draft)
    assert outline[0] == printed.draft.document.title
    assert sum(1 for p in printed.draft.document.paragraphs if p.role == "heading") >= 3
    assert len(outline) >= 6, outline
    position = 0
    for heading in outline:
        found = text.find(squeeze(heading), position)
        assert found >= 0, f"“{heading}” is not in the PDF after position {position} (or not in this order)"
        position = found + len(squeeze(heading))
    # the title is the first thing on page 1
    assert squeeze(pdf_text(printed.pdf, "-f", "1", "-l", "1")).startswith(squeeze(outline[0]))


@pytest.mark.parametrize("pack", BUILTIN)
def test_pdf_properties_carry_the_title(examples: dict[str, Printed], pack: str) -> None:
    info = _run(shutil.which("pdfinfo") or "pdfinfo", str(examples[pack].pdf))
    title = re.search(r"^Title:\s+(.*)$", info, re.M)
    assert title is not None and title.group(1).strip() == examples[pack].draft.document.title


HANGING = set("。，、；：！？")  # marks LibreOffice 7.4 may hang past a justified line's end and not draw


@pytest.mark.parametrize("pack", BUILTIN)
def test_no_character_of_the_draft_is_lost(examples: dict[str, Printed], pack: str) -> None:
    """Every character of the .docx is printed.  One exception, LibreOffice's and not the draft's: a
    single full stop or comma that falls just past the end of a full justified line is hung into the
    margin by LibreOffice 7.4 and not drawn (Word and WPS draw it; no paragraph setting changes it, see
    the README).  Only such single marks may be missing; anything else lost fails."""
    printed = examples[pack]
    body = "".join(squeeze(p.text) for p in docx_paragraphs(printed.docx))
    shown = squeeze(FOOTER.sub("", pdf_text(printed.pdf)))
    if body != shown:
        import difflib

        lost = []
        for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(None, body, shown, autojunk=False).get_opcodes():
            if tag == "equal" or (tag == "delete" and a1 - a0 == 1 and body[a0] in HANGING):
                continue
            lost.append(f"“{body[max(0, a0 - 10):a0]}[{body[a0:a1]}]{body[a1:a1 + 4]}”: the .docx has "
                        f"“{body[a0:a1]}”, the PDF “{shown[b0:b1]}”")
        if lost:
            pytest.fail(f"{len(lost)} differences between the draft and its PDF:\n" + "\n".join(lost[:12]))


# ---------------------------------------------------------------- the page grid (GB/T 9704 5.2.2 / 7.1)


def _middle_pages(printed: Printed) -> list[list[Line]]:
    pages = printed.pages
    assert len(pages) >= 3, f"{printed.pdf.name}: {len(pages)} pages"
    return pages[1:-1]


@pytest.mark.parametrize("pack", BUILTIN)
def test_full_pages_of_the_examples_have_22_lines(examples: dict[str, Printed], pack: str) -> None:
    for number, page in enumerate(_middle_pages(examples[pack]), start=2):
        lines = body_lines(page)
        assert len(lines) == 22, f"page {number}: {len(lines)} lines: {[line.text[:6] for line in lines]}"
        tops = [line.y0 for line in lines]
        pitches = [b - a for a, b in itertools.pairwise(tops)]
        assert all(abs(p - LINE_PITCH) <= 0.6 for p in pitches), f"page {number}: line pitch {pitches}"
        assert tops[0] >= TOP - 1 and lines[-1].y1 <= BOTTOM + 3, f"page {number}: lines outside the 版心"


@pytest.mark.parametrize("pack", BUILTIN)
def test_full_lines_of_the_examples_hold_about_28_characters(examples: dict[str, Printed], pack: str) -> None:
    counts = [len(line.text) for page in examples[pack].pages for line in body_lines(page)
              if is_full(line) and line.full_width_only]
    assert len(counts) >= 20, counts
    assert statistics.median(counts) == 28, counts
    # 27 when a closing mark may not start the next line, 29 when a full stop hangs in the margin
    assert all(27 <= n <= 29 for n in counts), counts


@pytest.mark.parametrize("page", [2, 3])
def test_a_full_body_page_is_22_lines_of_28_characters(long_draft: Printed, page: int) -> None:
    lines = body_lines(long_draft.pages[page - 1])
    assert len(lines) == 22, [line.text for line in lines]
    assert [len(line.text) for line in lines] == [28] * 22
    for line in lines:
        assert line.x0 == pytest.approx(LEFT, abs=2), line
        assert line.x1 == pytest.approx(RIGHT, abs=3), line
    assert lines[0].y0 == pytest.approx(TOP, abs=9)
    assert lines[-1].y1 == pytest.approx(BOTTOM, abs=9)


@pytest.mark.parametrize("pack", BUILTIN)
def test_title_is_2hao_centred_and_body_3hao(examples: dict[str, Printed], pack: str) -> None:
    """GB/T 9704: 标题 2号 (22 pt) centred, 正文 and 一级标题 3号 (16 pt): measured as the pitch of Han characters."""
    printed = examples[pack]
    words = pdf_words(printed.pdf, 1)
    han = [w for w in words if len(w[4]) >= 4 and all(unicodedata.east_asian_width(c) in "WF" for c in w[4])]
    title_words = [w for w in han if w[4] in printed.draft.document.title]
    assert title_words, f"no title on page 1: {[w[4] for w in words[:5]]}"
    title = max(title_words, key=lambda w: len(w[4]))
    assert char_pitch(title) == pytest.approx(22, abs=0.6), title
    title_line = [w for w in words if abs(w[1] - title[1]) < 1]
    centre = (min(w[0] for w in title_line) + max(w[2] for w in title_line)) / 2
    assert centre == pytest.approx((LEFT + RIGHT) / 2, abs=3), title_line
    everywhere = [w for page in range(1, len(page_sizes(printed.pdf)) + 1) for w in pdf_words(printed.pdf, page)]
    headings = [p.text for p in printed.draft.document.paragraphs if p.role == "heading"
                and all(unicodedata.east_asian_width(c) in "WF" for c in p.text)]  # one word each in the PDF
    assert headings
    for heading in headings:
        heading_words = [w for w in everywhere if w[4] == heading]
        assert heading_words, f"“{heading}” is not one word in the PDF"
        assert char_pitch(heading_words[0]) == pytest.approx(16, abs=0.6), heading_words[0]
    body = [w for w in han if len(w[4]) >= 12 and abs(w[0] - LEFT) <= 3]
    assert body, "no body line on page 1"
    for word in body:
        assert char_pitch(word) == pytest.approx(16, abs=0.6), word
    assert title[1] >= TOP - 2, "the title starts above the 版心"


# ---------------------------------------------------------------- page numbers (GB/T 9704 7.5)


def _check_page_numbers(printed: Printed) -> None:
    pages = printed.pages
    assert len(pages) == len(page_sizes(printed.pdf))
    for number, page in enumerate(pages, start=1):
        footer = footer_lines(page)
        assert len(footer) == 1, f"page {number}: footer lines {[line.text for line in footer]}"
        line = footer[0]
        assert line.words == ("—", str(number), "—"), f"page {number}: footer reads {line.words}"
        # 一字线上距版心下边缘 7 mm (the glyph boxes start a little below the dash's top)
        assert BOTTOM + 4 * PT_PER_MM <= line.y0 <= BOTTOM + 12 * PT_PER_MM, f"page {number}: footer at y={line.y0}"
        if number % 2:  # 单页码居右空一字
            assert line.x1 == pytest.approx(RIGHT - ONE_CHAR, abs=4), f"page {number}: footer ends at x={line.x1}"
        else:  # 双页码居左空一字
            assert line.x0 == pytest.approx(LEFT + ONE_CHAR, abs=4), f"page {number}: footer starts at x={line.x0}"


@pytest.mark.parametrize("pack", BUILTIN)
def test_every_page_has_its_number_odd_right_even_left(examples: dict[str, Printed], pack: str) -> None:
    _check_page_numbers(examples[pack])


def test_page_numbers_of_a_long_draft(long_draft: Printed) -> None:
    assert len(long_draft.pages) >= 5
    _check_page_numbers(long_draft)


# ---------------------------------------------------------------- fonts


@pytest.mark.parametrize("pack", BUILTIN)
def test_fonts_are_embedded_and_the_text_font_is_cjk(examples: dict[str, Printed], pack: str) -> None:
    table = fonts(examples[pack].pdf)
    assert table, "pdffonts lists no font"
    not_embedded = [row["name"] for row in table if row["emb"] != "yes"]
    assert not not_embedded, f"fonts not embedded: {not_embedded}"
    assert not [row["name"] for row in table if row["type"].startswith("Type 3")], table
    cjk = [row["name"] for row in table if CJK_FONT.search(row["name"])]
    assert cjk, f"no CJK font in {[row['name'] for row in table]}"


# ---------------------------------------------------------------- placeholders


def test_a_draft_with_placeholders_opens_and_shows_them_highlighted(placeholder_draft: Printed,
                                                                    examples: dict[str, Printed],
                                                                    workdir: Path) -> None:
    placeholders = [span.text for paragraph in placeholder_draft.draft.document.paragraphs
                    for span in paragraph.spans if span.kind == "placeholder"]
    assert placeholders and all(p.startswith("【待补充：") and p.endswith("】") for p in placeholders), placeholders
    text = squeeze(pdf_text(placeholder_draft.pdf))
    for placeholder in placeholders:
        assert squeeze(placeholder) in text, f"{placeholder} is not in the PDF"
    assert len(page_sizes(placeholder_draft.pdf)) >= 2
    # the 【待补充】 is highlighted yellow in print; the complete example has no yellow at all
    assert yellow_pixels(placeholder_draft.pdf, workdir) > 0
    assert yellow_pixels(examples["jiguan"].pdf, workdir) == 0


# ---------------------------------------------------------------- workbooks in Calc


def _reportgen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([REPORTGEN, *args], cwd=cwd, capture_output=True, text=True, timeout=240, check=False)


@pytest.fixture(scope="module")
def batch(workdir: Path) -> tuple[Path, str, dict[str, dict[str, Any]]]:
    """``reportgen build DIR -o OUT`` over two jiguan units and one qiye unit: (汇总.xlsx, console output, units).

    The two jiguan units differ in their names only, so their drafts share about a fifth of their text.
    """
    source = workdir / "units"
    units: dict[str, dict[str, Any]] = {}
    for file, pack, unit, branches in (("甲", "jiguan", "青山市甲局机关党委", None), ("丁", "jiguan", "青山市丁局机关党委", None),
                                       ("丙", "qiye", "青山市某水务公司党总支", 5)):
        data = example_data(pack)
        data["meta"]["unit"] = unit
        if branches is not None:
            data["facts"]["branch_count"] = branches
        units[unit] = data
        write_yaml(source / f"{file}.yaml", data)
    done = _reportgen("build", str(source), "-o", str(workdir / "out"), cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = workdir / "out" / "汇总.xlsx"
    assert summary.is_file(), done.stdout
    return summary, done.stdout + done.stderr, units


def _table(rows: list[list[str]], first: str) -> tuple[list[str], list[list[str]]]:
    """The header row starting with ``first`` and the rows below it."""
    index = next(i for i, row in enumerate(rows) if row and row[0] == first)
    return rows[index], [row for row in rows[index + 1:] if any(cell.strip() for cell in row)]


def test_the_batch_summary_opens_in_calc_with_every_unit(batch: tuple[Path, str, dict[str, dict[str, Any]]],
                                                          workdir: Path) -> None:
    summary, console, units = batch
    sheets = calc_sheets(summary, workdir)
    assert "汇总" in sheets, list(sheets)
    header, rows = _table(sheets["汇总"], "序号")
    assert {"单位", "述职人", "年度", "正文字数", "复制比"} <= set(header), header
    by_unit = {row[header.index("单位")]: dict(zip(header, row, strict=False)) for row in rows}
    assert set(by_unit) == set(units), by_unit
    branches = next(h for h in header if h.startswith("所属党支部数量"))
    for unit, data in units.items():
        row = by_unit[unit]
        assert row["年度"] == "2025"
        assert row["述职人"].startswith(data["meta"]["name"])
        assert row[branches] == str(data["facts"]["branch_count"])
        assert row["正文字数"].isdigit() and int(row["正文字数"]) > 1000
        assert "已生成" in row["状态和提醒"]
        # the printed sheet and the console say the same 复制比
        said = re.search(re.escape(unit) + r".*?复制比\s*(\d+%)", console)
        assert said is not None, console
        assert row["复制比"] == said.group(1), f"{unit}: console {said.group(1)}, 汇总.xlsx in Calc {row['复制比']}"
    assert [row["序号"] for row in by_unit.values()] == [str(n) for n in range(1, len(units) + 1)]


def test_a_fill_in_sheet_opens_in_calc(workdir: Path) -> None:
    target = workdir / "tianbao.xlsx"
    done = _reportgen("sheet", "jiguan", "-o", str(target), cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    sheets = calc_sheets(target, workdir)
    assert "填报" in sheets, list(sheets)
    header = next(row for row in sheets["填报"] if "单位名称" in row)
    for column in ("单位名称", "述职人姓名", "述职年度", "理论学习中心组集中学习次数（次）"):
        assert column in header, header[:20]
    assert "jiguan" in "".join(cell for row in sheets["填写说明"] for cell in row)


def test_a_ledger_opens_in_calc(workdir: Path) -> None:
    profile = write_yaml(workdir / "ledger-src" / "unit.yaml", example_data("jiguan"))
    target = workdir / "taizhang.xlsx"
    done = _reportgen("ledger", str(profile), "-o", str(target), cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    sheets = calc_sheets(target, workdir)
    rows = next(iter(sheets.values()))
    header, body = _table(rows, "序号")
    assert {"单位", "问题", "整改措施", "责任人"} <= set(header), header
    draft = core.check(profile)
    promises = [problem for _, problem, _ in draft.promises]
    assert len(promises) == len(example_data("jiguan")["problems"])
    assert [row[header.index("问题")] for row in body] == promises
    unit = example_data("jiguan")["meta"]["unit"]
    assert {row[header.index("单位")] for row in body} == {unit}
    assert all(row[header.index("整改措施")].strip() for row in body)

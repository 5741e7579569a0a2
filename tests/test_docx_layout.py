"""GB/T 9704-2012 layout, read from the .docx drafts of every built-in pack's example profile.

Properties are resolved the way Word does: direct formatting, then the character style chain,
the paragraph style chain (basedOn) and the document defaults.  Sizes are in points, lengths
in millimetres or twips; East Asian fonts are read from ``w:rFonts/@w:eastAsia``.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from conftest import BUILTIN, TEMPLATES, W, docx_paragraphs, load_builtin, style_id
from reportgen import core

MM_PER_TWIP = 25.4 / 1440
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


class StyleSheet:
    """Effective run and paragraph properties from word/styles.xml."""

    def __init__(self, path: Path) -> None:
        with zipfile.ZipFile(path) as zf:
            root = etree.fromstring(zf.read("word/styles.xml"))
        self.styles = {s.get(f"{W}styleId"): s for s in root.iter(f"{W}style")}
        self.default_rpr = root.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr")
        self.default_ppr = root.find(f"{W}docDefaults/{W}pPrDefault/{W}pPr")
        self.default_paragraph = next((k for k, s in self.styles.items() if s.get(f"{W}type") == "paragraph"
                                       and s.get(f"{W}default") in ("1", "true")), None)

    def chain(self, sid: str | None) -> Iterator[Any]:
        seen: set[str] = set()
        while sid and sid in self.styles and sid not in seen:
            seen.add(sid)
            style = self.styles[sid]
            yield style
            based = style.find(f"{W}basedOn")
            sid = based.get(f"{W}val") if based is not None else None

    def _rprs(self, paragraph_style: str | None, run: Any = None) -> Iterator[Any]:
        if run is not None:
            direct = run.find(f"{W}rPr")
            if direct is not None:
                yield direct
                rstyle = direct.find(f"{W}rStyle")
                if rstyle is not None:
                    for style in self.chain(rstyle.get(f"{W}val")):
                        yield style.find(f"{W}rPr")
        for style in self.chain(paragraph_style or self.default_paragraph):
            yield style.find(f"{W}rPr")
        yield self.default_rpr

    def run_attr(self, paragraph_style: str | None, tag: str, attr: str, run: Any = None) -> str | None:
        return _first_attr(self._rprs(paragraph_style, run), tag, attr)

    def run_flag(self, paragraph_style: str | None, tag: str, run: Any = None) -> bool:
        """An on/off run property (w:b): present without w:val, or with a true value."""
        for props in self._rprs(paragraph_style, run):
            element = props.find(f"{W}{tag}") if props is not None else None
            if element is not None:
                return element.get(f"{W}val") not in ("0", "false", "off")
        return False

    def size_pt(self, paragraph_style: str | None, run: Any = None) -> float | None:
        half = self.run_attr(paragraph_style, "sz", "val", run)
        return int(half) / 2 if half is not None else None

    def font(self, paragraph_style: str | None, which: str = "eastAsia", run: Any = None) -> str | None:
        return self.run_attr(paragraph_style, "rFonts", which, run)

    def para_attr(self, paragraph_style: str | None, tag: str, attr: str, direct: Any = None) -> str | None:
        pprs = [direct] + [s.find(f"{W}pPr") for s in self.chain(paragraph_style or self.default_paragraph)]
        return _first_attr([*pprs, self.default_ppr], tag, attr)


def _first_attr(properties: Iterable[Any], tag: str, attr: str) -> str | None:
    """``attr`` of the first ``tag`` that sets it, in property elements from the most to the least specific."""
    for props in properties:
        element = props.find(f"{W}{tag}") if props is not None else None
        if element is not None and element.get(f"{W}{attr}") is not None:
            return str(element.get(f"{W}{attr}"))
    return None


@pytest.fixture(scope="module")
def drafts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Path, Any]]:
    """Each built-in pack's example profile built to .docx with core.build: (pack, .docx, BuildResult)."""
    built: dict[str, tuple[Any, Path, Any]] = {}
    for name in BUILTIN:
        pack = load_builtin(name)
        tmp = tmp_path_factory.mktemp(f"layout-{name}")
        result = core.build(TEMPLATES / name / "example.yaml", tmp / f"{name}.docx")
        built[name] = (pack, Path(result.output), result)
    return built


@pytest.fixture(params=BUILTIN)
def draft(request: pytest.FixtureRequest, drafts: dict[str, tuple[Any, Path, Any]]) -> tuple[Any, Path]:
    pack, path, _ = drafts[request.param]
    return pack, path


def test_every_builtin_pack_builds_a_draft_from_its_example(drafts: dict[str, tuple[Any, Path, Any]]) -> None:
    assert set(drafts) == set(BUILTIN)
    for name, (pack, path, result) in drafts.items():
        assert pack.name == name
        assert path.is_file() and zipfile.is_zipfile(path)
        assert result.draft.pack.name == name


def _section_properties(path: Path) -> list[Any]:
    body = etree.fromstring(zipfile.ZipFile(path).read("word/document.xml"))
    return list(body.iter(f"{W}sectPr"))


def test_page_is_a4_with_gbt9704_margins(draft: tuple[Any, Path]) -> None:
    import docx

    _, path = draft
    sections = docx.Document(str(path)).sections
    assert len(sections) >= 1
    for section in sections:
        assert section.page_width.mm == pytest.approx(210, abs=0.5)
        assert section.page_height.mm == pytest.approx(297, abs=0.5)
        assert section.top_margin.mm == pytest.approx(37, abs=0.5)
        assert section.bottom_margin.mm == pytest.approx(35, abs=0.5)
        assert section.left_margin.mm == pytest.approx(28, abs=0.5)
        assert section.right_margin.mm == pytest.approx(26, abs=0.5)
        # The text block is 156 × 225 mm.
        width = section.page_width.mm - section.left_margin.mm - section.right_margin.mm
        height = section.page_height.mm - section.top_margin.mm - section.bottom_margin.mm
        assert width == pytest.approx(156, abs=0.6) and height == pytest.approx(225, abs=0.6)


def test_line_grid_gives_22_lines(draft: tuple[Any, Path]) -> None:
    _, path = draft
    sections = _section_properties(path)
    grids = [grid for sect in sections for grid in sect.iter(f"{W}docGrid")]
    assert grids, "no w:docGrid in the section properties"
    for grid in grids:
        assert grid.get(f"{W}linePitch") == "579"
        assert grid.get(f"{W}type") in ("lines", "linesAndChars")
    # The document's own text block holds exactly 22 lines of its grid pitch (not 21, not 23).
    for sect in sections:
        size, margins, grid = sect.find(f"{W}pgSz"), sect.find(f"{W}pgMar"), sect.find(f"{W}docGrid")
        assert size is not None and margins is not None and grid is not None
        height = int(size.get(f"{W}h")) - int(margins.get(f"{W}top")) - int(margins.get(f"{W}bottom"))
        pitch = int(grid.get(f"{W}linePitch"))
        assert height // pitch == 22, (height, pitch)
        assert height * MM_PER_TWIP == pytest.approx(225, abs=1)


def test_lines_hold_28_characters_of_body_text(draft: tuple[Any, Path]) -> None:
    """28 body characters (16 pt plus the document's character spacing) fit a line, 29 do not."""
    pack, path = draft
    styles = StyleSheet(path)
    sid = pack.styles["body"]
    size = styles.size_pt(sid)
    assert size == 16
    spacing = int(styles.run_attr(sid, "spacing", "val") or 0)  # twentieths of a point
    for sect in _section_properties(path):
        page, margins = sect.find(f"{W}pgSz"), sect.find(f"{W}pgMar")
        width = int(page.get(f"{W}w")) - int(margins.get(f"{W}left")) - int(margins.get(f"{W}right"))
        per_char = size * 20 + spacing
        assert width // per_char == 28, (width, per_char)


def _paragraph(path: Path, predicate: Any) -> Any:
    return next(p for p in docx_paragraphs(path) if predicate(p))


def test_title_is_22pt_xiaobiaosong_centred(draft: tuple[Any, Path]) -> None:
    pack, path = draft
    styles = StyleSheet(path)
    title = docx_paragraphs(path)[0]
    assert title.text.strip(), "the draft must open with its title"
    sid = style_id(title)
    assert sid == pack.styles["title"]
    assert styles.size_pt(sid) == 22
    assert styles.font(sid) == "方正小标宋简体"
    assert styles.para_attr(sid, "jc", "val", title._p.pPr) == "center"


def test_body_is_16pt_fangsong_with_times_for_latin(draft: tuple[Any, Path]) -> None:
    pack, path = draft
    styles = StyleSheet(path)
    body = _paragraph(path, lambda p: style_id(p) == pack.styles["body"] and len(p.text) > 40)
    sid = style_id(body)
    assert styles.size_pt(sid) == 16
    assert styles.font(sid, "eastAsia") == "仿宋_GB2312"
    assert styles.font(sid, "ascii") == "Times New Roman"
    assert styles.font(sid, "hAnsi") == "Times New Roman"
    # Plain runs carry no direct font or size that would override the style.
    for run in body._p.iter(f"{W}r"):
        rpr = run.find(f"{W}rPr")
        assert rpr is None or (rpr.find(f"{W}rFonts") is None and rpr.find(f"{W}sz") is None)


def test_first_line_indent_is_two_characters(draft: tuple[Any, Path]) -> None:
    pack, path = draft
    styles = StyleSheet(path)
    for role in ("body", "heading"):
        sid = pack.styles[role]
        chars = styles.para_attr(sid, "ind", "firstLineChars")
        twips = styles.para_attr(sid, "ind", "firstLine")
        assert chars == "200" or (chars is None and twips == "640"), (role, chars, twips)
        if twips is not None:
            assert int(twips) == 640  # 2 × 16 pt, for readers that ignore firstLineChars


def test_body_line_spacing_is_the_grid_pitch(draft: tuple[Any, Path]) -> None:
    pack, path = draft
    styles = StyleSheet(path)
    sid = pack.styles["body"]
    line = styles.para_attr(sid, "spacing", "line")
    rule = styles.para_attr(sid, "spacing", "lineRule")
    assert (line, rule) == ("579", "exact")


def test_top_level_headings_are_heiti(draft: tuple[Any, Path]) -> None:
    pack, path = draft
    styles = StyleSheet(path)
    headings = [p for p in docx_paragraphs(path) if p.text[:2] in ("一、", "二、", "三、", "四、")]
    assert len(headings) >= 3
    for heading in headings:
        sid = style_id(heading)
        assert sid == pack.styles["heading"]
        assert styles.font(sid) == "黑体"
        assert styles.size_pt(sid) == 16
        assert styles.para_attr(sid, "outlineLvl", "val") is not None  # shows in Word's navigation pane


def _lead_runs(path: Path, prefix: str) -> list[tuple[str | None, Any]]:
    found = []
    for paragraph in docx_paragraphs(path):
        for run in paragraph._p.iter(f"{W}r"):
            text = "".join(t.text or "" for t in run.iter(f"{W}t"))
            if text.startswith(prefix):
                found.append((style_id(paragraph), run))
    return found


def _run_style(run: Any) -> str | None:
    rstyle = run.find(f"{W}rPr/{W}rStyle")
    return rstyle.get(f"{W}val") if rstyle is not None else None


def test_item_leads_have_the_font_of_their_level(draft: tuple[Any, Path]) -> None:
    """（一） leads are 楷体_GB2312 and 1./（1） leads 仿宋_GB2312 bold, 16 pt; every pack's draft has one of them."""
    pack, path = draft
    styles = StyleSheet(path)
    second = _lead_runs(path, "（一）")
    third = _lead_runs(path, "1.") + _lead_runs(path, "（1）")
    assert second or third, f"{pack.name}: no numbered item leads in the draft"
    for paragraph_style, run in second:
        assert _run_style(run) == pack.styles["lead2"]
        assert styles.font(paragraph_style, "eastAsia", run) == "楷体_GB2312"
        assert styles.size_pt(paragraph_style, run) == 16
    for paragraph_style, run in third:
        assert styles.font(paragraph_style, "eastAsia", run) == "仿宋_GB2312"
        assert styles.size_pt(paragraph_style, run) == 16
        if _run_style(run) is not None:  # a lead's number (not a figure like “1.5万元” in the text)
            assert _run_style(run) == pack.styles["lead3"]
            assert styles.run_flag(paragraph_style, "b", run), "third-level leads are 仿宋加粗"


def test_the_drafts_use_each_lead_level(drafts: dict[str, tuple[Any, Path, Any]]) -> None:
    """Between them the built-in packs' drafts have second-level （一） and third-level 1. leads."""
    levels: set[str | None] = set()
    for _, path, _ in drafts.values():
        for prefix in ("（一）", "1."):
            levels |= {_run_style(run) for _, run in _lead_runs(path, prefix)}
    names = {pack.styles[role] for pack, _, _ in drafts.values() for role in ("lead2", "lead3")}
    assert names <= levels, (names, levels)


def _footer_xml(path: Path, kind: str) -> Any:
    """The footer part referenced for ``default`` (odd pages) or ``even`` pages."""
    with zipfile.ZipFile(path) as zf:
        document = etree.fromstring(zf.read("word/document.xml"))
        rels = etree.fromstring(zf.read("word/_rels/document.xml.rels"))
        refs = [r for r in document.iter(f"{W}footerReference") if r.get(f"{W}type") == kind]
        assert refs, f"no {kind} footer"
        rid = refs[-1].get(R_ID)
        target = next(r.get("Target") for r in rels if r.get("Id") == rid)
        return etree.fromstring(zf.read(f"word/{target.lstrip('/')}"))


def test_even_and_odd_footers_are_enabled(draft: tuple[Any, Path]) -> None:
    import docx

    _, path = draft
    assert docx.Document(str(path)).settings.odd_and_even_pages_header_footer is True


def footer_texts(paragraph: Any) -> list[str]:
    return [t.text or "" for t in paragraph.iter(f"{W}t")]


@pytest.mark.parametrize(("kind", "align", "side"), [("default", "right", "right"), ("even", "left", "left")])
def test_page_number_footer(draft: tuple[Any, Path], kind: str, align: str, side: str) -> None:
    _, path = draft
    styles = StyleSheet(path)
    footer = _footer_xml(path, kind)
    paragraphs = [p for p in footer.iter(f"{W}p") if "".join(footer_texts(p)).strip()]
    assert len(paragraphs) == 1
    paragraph = paragraphs[0]
    ppr = paragraph.find(f"{W}pPr")
    pstyle = ppr.find(f"{W}pStyle").get(f"{W}val") if ppr is not None and ppr.find(f"{W}pStyle") is not None else None
    assert styles.para_attr(pstyle, "jc", "val", ppr) == align
    # One character (14 pt = 280 twips) in from the edge of the text block.
    indent = styles.para_attr(pstyle, "ind", side, ppr)
    assert indent is not None and abs(int(indent) - 280) <= 20
    # "— " PAGE " —": a real page field between the dashes.
    texts = footer_texts(paragraph)
    instr = "".join(t.text or "" for t in paragraph.iter(f"{W}instrText"))
    assert instr.strip().split()[0] == "PAGE"
    kinds = [f.get(f"{W}fldCharType") for f in paragraph.iter(f"{W}fldChar")]
    assert kinds == ["begin", "separate", "end"] or kinds == ["begin", "end"]
    assert texts[0] == "— " and texts[-1] == " —"
    for run in paragraph.iter(f"{W}r"):
        if run.find(f"{W}t") is None and run.find(f"{W}instrText") is None:
            continue
        assert styles.size_pt(pstyle, run) == 14
        assert styles.font(pstyle, "eastAsia", run) == "宋体"
        assert styles.font(pstyle, "ascii", run) == "宋体"


def test_styles_the_pack_names_exist_in_its_word_template(draft: tuple[Any, Path]) -> None:
    pack, path = draft
    styles = StyleSheet(path)
    for role, sid in pack.styles.items():
        assert sid in styles.styles, (role, sid)


def test_paragraphs_of_the_draft_use_the_styles_the_pack_names(draft: tuple[Any, Path]) -> None:
    """Every body paragraph of the draft carries one of the pack's paragraph styles, and it exists."""
    pack, path = draft
    styles = StyleSheet(path)
    paragraph_styles = {pack.styles[role] for role in ("title", "byline", "heading", "body")}
    used = {style_id(p) for p in docx_paragraphs(path) if p.text.strip()}
    assert used <= paragraph_styles, used - paragraph_styles
    assert {pack.styles["title"], pack.styles["heading"], pack.styles["body"]} <= used
    for sid in used:
        assert styles.styles[sid].get(f"{W}type") == "paragraph"

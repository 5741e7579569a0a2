"""Last year's report as a unit wrote it (.docx from Word or WPS, or .txt): its problems and next steps.

Only what the report says is taken: the problems section's items (一是… / （一）… / 1. … / Word's own
list numbering) up to the causes, and the next-steps section's items, each as its lead sentence.
Problems and measures are paired in order when their numbers match.  Nothing is invented: a file in
which no such section is found says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from ..errors import Problem, ProfileError, display_path
from ..ooxml import (
    CUSTOM_PROPS,
    OLD_OFFICE,
    Package,
    PackageLimits,
    PackageProblem,
    UnsafeXml,
    parse_xml,
    read_custom_properties,
    read_package,
)
from .source import decode_text, read_bytes

__all__ = ["LastReport", "document_text", "read_last_report"]

MAX_BYTES = 20 * 1024 * 1024
MAX_CHARS = 200_000  # a report has a few thousand characters
MAX_DOCUMENT_XML = 8 * 1024 * 1024  # a report's word/document.xml is a few hundred KB
_DOCX_LIMITS = PackageLimits(entries=2000, total_bytes=40 * 1024 * 1024)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING = re.compile(r"^[一二三四五六七八九十]+[、.．]\s*(.+)$")
_PROBLEMS = re.compile(r"问题|不足|差距|短板")
_MEASURES = re.compile(r"下一步|措施|打算|思路|努力方向|改进")
_CAUSES = re.compile(r"原因|根源|根子")
_ORDINAL = re.compile(r"([一二三四五六七八九十]+)是")
_NUMBERED = re.compile(r"^\s*(?:[（(][一二三四五六七八九十]+[）)]|[（(]?\d+[）).．、]|[一二三四五六七八九十]+是)\s*")
_YEAR = re.compile(r"(20\d\d)\s*年")


@dataclass(frozen=True)
class LastReport:
    year: int | None
    problems: tuple[str, ...]
    measures: tuple[str, ...]
    paragraphs: int

    def pairs(self) -> list[tuple[str, str | None]]:
        """(problem, measure): measures follow their problems in order when there are as many."""
        paired = len(self.problems) == len(self.measures)
        return [(problem, self.measures[i] if paired else None) for i, problem in enumerate(self.problems)]


@dataclass(frozen=True)
class _Paragraph:
    text: str
    numbered: bool = False  # numbered by Word's list numbering (the paragraph's or its style's)
    heading: bool = False  # a heading by its style or outline level (its number may come from Word too)


def _style_table(data: bytes) -> dict[str, tuple[bool, bool]]:
    """styleId -> (numbered, heading), following each style's basedOn chain."""
    try:
        root = parse_xml(data) if data else None
    except UnsafeXml:
        root = None
    own: dict[str, tuple[bool | None, bool | None, str | None]] = {}
    for style in root.iter(f"{_W}style") if root is not None else ():
        name_element = style.find(f"{_W}name")
        name = (name_element.get(f"{_W}val", "") if name_element is not None else "").lower()
        outline = _outline(style.find(f"{_W}pPr/{_W}outlineLvl"))
        if outline is None and re.fullmatch(r"heading [12]|标题 ?[12]", name):
            outline = True  # Word's built-in headings carry their outline level implicitly
        based = style.find(f"{_W}basedOn")
        own[style.get(f"{_W}styleId") or ""] = (_numbering(style.find(f"{_W}pPr/{_W}numPr")), outline,
                                                 based.get(f"{_W}val") if based is not None else None)
    table: dict[str, tuple[bool, bool]] = {}
    for style_id in own:
        numbered: bool | None = None
        heading: bool | None = None
        current: str | None = style_id
        for _ in range(20):  # a basedOn loop in a damaged file ends here
            if current is None or current not in own:
                break
            style_numbered, style_heading, current_base = own[current]
            numbered = style_numbered if numbered is None else numbered
            heading = style_heading if heading is None else heading
            current = current_base
        table[style_id] = (bool(numbered), bool(heading))
    return table


def _numbering(element: ET.Element | None) -> bool | None:
    """Whether a numPr numbers (numId 0 takes a style's numbering away); None when there is none."""
    if element is None:
        return None
    number = element.find(f"{_W}numId")
    return number is None or number.get(f"{_W}val") != "0"


def _outline(element: ET.Element | None) -> bool | None:
    """Outline level 0 or 1 (一、 or （一） level) is a heading; body text (9) is not."""
    if element is None:
        return None
    return element.get(f"{_W}val") in ("0", "1")


def _docx_package(data: bytes, shown: str) -> Package:
    """A .docx of any origin, read within limits, with a body small enough to parse."""
    try:
        package = read_package(data, _DOCX_LIMITS)
    except PackageProblem as exc:
        raise ProfileError(Problem(f"无法读取这个 Word 文件：{exc}", shown, hint="请用 Word 或 WPS 打开后另存为 .docx")) from None
    if "word/document.xml" not in package.parts:
        raise ProfileError(Problem("这不是 Word 文档（里面没有正文）", shown, hint="请给出上年述职报告的 .docx 文件"))
    if len(package.parts["word/document.xml"]) > MAX_DOCUMENT_XML:  # parsed into memory: bounded first
        raise ProfileError(Problem("Word 文件的正文太大，不像是述职报告", shown, hint="述职报告的正文一般只有几百 KB"))
    return package


def _paragraphs_docx(package: Package, shown: str) -> list[_Paragraph]:
    """Each non-empty paragraph of a .docx's body, with what Word's numbering and styles say of it."""
    try:
        root = parse_xml(package.parts["word/document.xml"])
    except UnsafeXml:
        raise ProfileError(Problem("Word 文件的正文无法读取（已损坏，或含有不允许的声明）", shown,
                                   hint="请用 Word 或 WPS 打开后另存为 .docx")) from None
    styles = _style_table(package.parts.get("word/styles.xml", b""))
    result: list[_Paragraph] = []
    for paragraph in root.iter(f"{_W}p"):
        text = "".join(node.text or "" for node in paragraph.iter(f"{_W}t")).strip()
        if not text:
            continue
        style = paragraph.find(f"{_W}pPr/{_W}pStyle")
        style_numbered, style_heading = styles.get(style.get(f"{_W}val", "") if style is not None else "", (False, False))
        numbered = _numbering(paragraph.find(f"{_W}pPr/{_W}numPr"))
        heading = _outline(paragraph.find(f"{_W}pPr/{_W}outlineLvl"))
        result.append(_Paragraph(text, style_numbered if numbered is None else numbered,
                                 style_heading if heading is None else heading))
    return result


def read_last_report(path: Path) -> LastReport:
    shown = display_path(path)
    data = read_bytes(path, what="上年的述职报告", limit=MAX_BYTES, hint="述职报告一般只有几十 KB")
    if not data.strip():
        raise ProfileError(Problem("文件是空的", shown, hint="请给出上年述职报告的 .docx 或 .txt 文件"))
    _refuse_old_word(data, shown)
    if data[:2] == b"PK":
        paragraphs = _paragraphs_docx(_docx_package(data, shown), shown)
    elif path.suffix.lower() in (".docx", ".docm", ".dotx"):
        raise ProfileError(Problem("这个文件不是有效的 Word 文档", shown, hint="请用 Word 或 WPS 打开后另存为 .docx"))
    else:
        text = decode_text(data, shown)
        paragraphs = [_Paragraph(line.strip()) for line in text.splitlines() if line.strip()]
    report = _extract(paragraphs)
    if not report.problems:
        raise ProfileError(Problem("在这份报告里没有找到“存在的问题”部分", shown,
                                   hint="报告里要有“存在的（主要）问题”这样的标题，问题写成一是……、（一）…… 或 1. ……"))
    return report


def _extract(paragraphs: list[_Paragraph]) -> LastReport:
    year = None
    for paragraph in paragraphs[:5]:
        match = _YEAR.search(paragraph.text)
        if match:
            year = int(match.group(1))
            break
    section: str | None = None
    problems: list[str] = []
    measures: list[str] = []
    for paragraph in paragraphs:
        text, numbered = paragraph.text, paragraph.numbered
        heading = _HEADING.match(text)
        if len(text) <= 40 and (heading or (paragraph.heading and "。" not in text)):
            title = heading.group(1) if heading else text
            if _PROBLEMS.search(title) and "整改" not in title:
                section = "problems"
            elif _MEASURES.search(title):
                section = "measures"
            else:
                section = None
            continue
        if section is None:
            continue
        if section == "problems" and _CAUSES.search(text[:40]) and not _NUMBERED.match(text):
            section = "causes"  # the causes paragraph ends the problems
            continue
        if section == "causes":
            if _NUMBERED.match(text) and not _ORDINAL.match(text):
                section = "problems"  # problems numbered （一） after an inline causes paragraph: unusual, keep going
            else:
                continue
        items = _items(text, numbered)
        (problems if section == "problems" else measures).extend(items)
    return LastReport(year, tuple(problems), tuple(measures), len(paragraphs))


def _items(text: str, numbered: bool) -> list[str]:
    """The leads of the items in one paragraph: 一是…二是… inline, or one numbered item."""
    ordinals = list(_ORDINAL.finditer(text))
    if ordinals and ordinals[0].start() <= 30:
        starts = [m.end() for m in ordinals]
        ends = [m.start() for m in ordinals[1:]] + [len(text)]
        return [lead for start, end in zip(starts, ends, strict=True) if (lead := _lead(text[start:end]))]
    match = _NUMBERED.match(text)
    if match or numbered:
        lead = _lead(text[match.end():] if match else text)
        return [lead] if lead else []
    return []


def _lead(text: str) -> str:
    """An item's lead: up to its first full stop (or semicolon), without trailing punctuation."""
    cut = min((i for i in (text.find("。"), text.find("；")) if i >= 0), default=len(text))
    return text[:cut].strip(" ，,：:").strip()


def document_text(path: Path) -> tuple[str, tuple[str, ...]]:
    """A draft's text (.docx of any origin, .md, .txt) and the unit's own names it records, if any."""
    shown = display_path(path)
    data = read_bytes(path, what="稿子", limit=MAX_BYTES, hint="述职报告一般只有几十 KB")
    _refuse_old_word(data, shown)
    if data[:2] == b"PK":
        package = _docx_package(data, shown)
        properties = read_custom_properties(package.parts.get(CUSTOM_PROPS, b""))
        names = tuple(v for k, v in properties.items() if k in ("reportgen.unit", "reportgen.name") and v)
        return _bounded("\n".join(paragraph.text for paragraph in _paragraphs_docx(package, shown)), shown), names
    text = decode_text(data, shown)
    text = re.sub(r"<!-- reportgen:fingerprint=[0-9a-f]{64} -->", "", text)
    text = re.sub(r"^#+\s*|\*+|</?p(?: [^<>\n]{0,100})?>", "", text, flags=re.MULTILINE)  # bounded: linear
    return _bounded(text, shown), ()


def _refuse_old_word(data: bytes, shown: str) -> None:
    if data.startswith(OLD_OFFICE):
        raise ProfileError(Problem("这是旧版 Word（.doc）文件，无法读取", shown, hint="请用 Word 或 WPS 打开后“另存为” .docx"))


def _bounded(text: str, shown: str) -> str:
    """A draft's text, refused when far longer than any report (its comparison would take long)."""
    if len(text) > MAX_CHARS:
        raise ProfileError(Problem(f"稿子太长（{len(text)} 字），不像是述职报告", shown,
                                   hint=f"述职报告一般几千字；这里最多比较 {MAX_CHARS} 字的稿子"))
    return text

"""One-sheet .xlsx packages, written directly as SpreadsheetML text.

Made for the committee's 汇总.xlsx, a serial step at the end of every batch: building the
XML with string joins takes milliseconds for thousands of rows, where openpyxl took several
hundred (and 0.1 s to import).  It writes only what that sheet needs: one sheet of strings
and numbers, a bold centred header row, column widths, frozen panes, an autofilter, landscape
printing with the header on every page, and the document properties.  Strings are inline strings (no shared-string table), the parts carry
no timestamps of their own, so the same input gives the same bytes.  The caller zips the
parts (``word.zip_bytes``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from .model import XML_INVALID
from .word import core_properties_xml, custom_properties_xml, xml_attribute, xml_escape, xml_text

__all__ = ["MAX_CELL_CHARS", "Properties", "Sheet", "column_letter", "xlsx_parts", "xlsx_pieces"]

MAX_CELL_CHARS = 32767  # Excel's limit, in UTF-16 code units
MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384
LINE_HEIGHT = 14.25  # points: a line of 宋体 11 pt, the sheet's font
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_SHEET_NAME_FORBIDDEN = set("[]:*?/\\")


@dataclass(frozen=True)
class Sheet:
    """The one sheet: a header row, then data rows.

    Cells are str, int or float (bool is written as a boolean); None leaves the cell empty, and
    anything else is written as its text.
    """

    name: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    widths: Sequence[float] = ()  # column widths in characters, from column A; the rest keep the default
    header_lines: int = 1  # lines of the tallest (wrapped) header cell: the header row is made that tall
    freeze: tuple[int, int] = (1, 1)  # columns and rows that stay in view: (1, 1) freezes the panes at B2
    autofilter: bool = True  # over the used range, header row included
    print_landscape: bool = True  # printed on A4 landscape, all columns scaled onto the page width,
    # the header row repeated on every page: a committee prints the summary

    def __post_init__(self) -> None:
        name = self.name  # Excel's rules for sheet names
        if (not 1 <= len(name) <= 31 or _SHEET_NAME_FORBIDDEN & set(name) or name.startswith("'")
                or name.endswith("'") or XML_INVALID.search(name)):
            raise ValueError(f"not a valid sheet name: {name!r}")


@dataclass(frozen=True)
class Properties:
    """Document properties (docProps/core.xml, custom.xml); naive datetimes are taken as UTC."""

    title: str = ""
    creator: str = ""
    last_modified_by: str = ""
    created: dt.datetime = dt.datetime(2000, 1, 1)
    modified: dt.datetime | None = None  # None: the same as created
    custom: Sequence[tuple[str, str]] = ()  # custom string properties, in this order
    application: str = "reportgen"


def xlsx_parts(sheet: Sheet, properties: Properties) -> list[tuple[str, bytes]]:
    """The package's parts as (part name, bytes), [Content_Types].xml first."""
    return [(name, b"".join(pieces)) for name, pieces in xlsx_pieces(sheet, properties)]


def xlsx_pieces(sheet: Sheet, properties: Properties) -> list[tuple[str, Iterable[bytes]]]:
    """The parts as ``xlsx_parts`` gives them, but each in pieces: the sheet comes row by row, made as
    it is read, so that a caller compressing it never holds the whole sheet in memory."""
    columns = max([len(sheet.header), *map(len, sheet.rows)])
    last_row = 1 + len(sheet.rows)
    if columns > MAX_COLUMNS or last_row > MAX_ROWS:
        raise ValueError(f"a sheet holds at most {MAX_ROWS} rows and {MAX_COLUMNS} columns")
    last = column_letter(columns)
    used = f"A1:{last}{last_row}" if columns else "A1"
    filtered = sheet.autofilter and columns > 0
    return [
        ("[Content_Types].xml", (_content_types(),)),
        ("_rels/.rels", (_package_rels(),)),
        ("docProps/app.xml", (_app_xml(properties),)),
        ("docProps/core.xml", (core_properties_xml(properties.title, properties.creator, properties.last_modified_by,
                                                   _w3cdtf(properties.created),
                                                   _w3cdtf(properties.modified or properties.created)),)),
        ("docProps/custom.xml", (custom_properties_xml(properties.custom),)),
        ("xl/workbook.xml", (_workbook_xml(sheet.name, f"$A$1:${last}${last_row}" if filtered else None,
                                           sheet.print_landscape and sheet.freeze[1] > 0),)),
        ("xl/_rels/workbook.xml.rels", (_workbook_rels(),)),
        ("xl/styles.xml", (_STYLES,)),
        ("xl/worksheets/sheet1.xml", _sheet_xml(sheet, columns, used, filtered)),
    ]


def column_letter(number: int) -> str:
    """1 -> "A", 26 -> "Z", 27 -> "AA", 16384 -> "XFD" (bijective base 26)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# ---------------------------------------------------------------- the sheet


def _sheet_xml(sheet: Sheet, columns: int, used: str, filtered: bool) -> Iterator[bytes]:
    letters = [column_letter(n) for n in range(1, columns + 1)]
    head = [_DECLARATION, f'<worksheet xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}">',
            '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>' if sheet.print_landscape else "",
            f'<dimension ref="{used}"/>', _sheet_views(*sheet.freeze), f'<sheetFormatPr defaultRowHeight="{LINE_HEIGHT}"/>']
    if sheet.widths:
        head.append("<cols>")
        head += (f'<col min="{n}" max="{n}" width="{width:g}" customWidth="1"/>'
                 for n, width in enumerate(sheet.widths, start=1))
        head.append("</cols>")
    head.append("<sheetData>")
    yield "".join(head).encode("utf-8")
    strings: dict[str, str] = {}  # short strings escaped once: a summary repeats many ("已生成", positions)
    style = ' s="1"'  # the header row: bold, centred, wrapped
    # Spreadsheet programs do not all fit a row to wrapped text when they open a file: give its height.
    header_row = (f'<row r="1" ht="{LINE_HEIGHT * sheet.header_lines:g}" customHeight="1">' if sheet.header_lines > 1
                  else '<row r="1">')
    for r, row in enumerate((sheet.header, *sheet.rows), start=1):
        out = [f'<row r="{r}">' if r > 1 else header_row]
        for letter, value in zip(letters, row, strict=False):  # the common cases inline: this runs for every cell
            if value.__class__ is str:
                cell = strings.get(value)
                if cell is None:
                    cell = _inline_string(value)
                    if len(value) <= 16 and len(strings) < 1000:
                        strings[value] = cell
            elif value.__class__ is int:
                cell = f"><v>{value}</v>"
            elif value is None:
                continue
            else:
                cell = _cell(value)
            out.append(f'<c r="{letter}{r}"{style}{cell}</c>')
        out.append("</row>")
        yield "".join(out).encode("utf-8")
        style = ""
    tail = ["</sheetData>"]
    if filtered:
        tail.append(f'<autoFilter ref="{used}"/>')
    tail.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>')
    if sheet.print_landscape:  # A4 (paper size 9), as wide as the page, as many pages down as it takes
        tail.append('<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>')
    tail.append("</worksheet>")
    yield "".join(tail).encode("utf-8")


def _cell(value: object) -> str:
    """A cell's type attribute and content, after its reference and style."""
    if isinstance(value, bool):
        return f' t="b"><v>{value:d}</v>'
    if isinstance(value, int):
        return f"><v>{int(value)}</v>"
    if isinstance(value, float) and math.isfinite(value):
        return f"><v>{float(value)!r}</v>"
    return _inline_string(str(value))


def _inline_string(text: str) -> str:
    """Characters XML forbids dropped; cut to Excel's limit (a character beyond the BMP counts twice)."""
    text = XML_INVALID.sub("", text)
    if len(text) > MAX_CELL_CHARS // 2 and len(encoded := text.encode("utf-16-le")) > 2 * MAX_CELL_CHARS:
        text = encoded[: 2 * MAX_CELL_CHARS].decode("utf-16-le", "ignore")  # "ignore": half a surrogate pair
    return f' t="inlineStr"><is><t xml:space="preserve">{xml_escape(text)}</t></is>'


def _sheet_views(columns: int, rows: int) -> str:
    if columns <= 0 and rows <= 0:
        return '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
    top_left = f"{column_letter(columns + 1)}{rows + 1}"
    pane = "bottomRight" if columns > 0 and rows > 0 else "bottomLeft" if rows > 0 else "topRight"
    splits = (f' xSplit="{columns}"' if columns > 0 else "") + (f' ySplit="{rows}"' if rows > 0 else "")
    return (f'<sheetViews><sheetView tabSelected="1" workbookViewId="0"><pane{splits} topLeftCell="{top_left}" '
            f'activePane="{pane}" state="frozen"/><selection pane="{pane}" activeCell="{top_left}" '
            f'sqref="{top_left}"/></sheetView></sheetViews>')


# ---------------------------------------------------------------- workbook, styles, package


def _workbook_xml(name: str, filter_range: str | None, print_titles: bool) -> bytes:
    quoted = xml_text("'" + name.replace("'", "''") + "'")
    names = []
    if filter_range:  # Excel keeps an autofilter's range as this hidden name too
        names.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">{quoted}!{filter_range}'
                     "</definedName>")
    if print_titles:  # the header row printed at the top of every page
        names.append(f'<definedName name="_xlnm.Print_Titles" localSheetId="0">{quoted}!$1:$1</definedName>')
    defined = f"<definedNames>{''.join(names)}</definedNames>" if names else ""
    return (f'{_DECLARATION}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}"><workbookPr/>'
            '<bookViews><workbookView activeTab="0"/></bookViews>'
            f'<sheets><sheet name="{xml_attribute(name)}" sheetId="1" r:id="rId1"/></sheets>{defined}</workbook>').encode()


def _workbook_rels() -> bytes:
    return (f'{_DECLARATION}<Relationships xmlns="{_PKG_RELS}">'
            f'<Relationship Id="rId1" Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_DOC_RELS}/styles" Target="styles.xml"/></Relationships>').encode()


# Cell formats: 0 = default, 1 = bold, centred and wrapped (the header).  宋体 11 pt, the default of Chinese Excel and WPS.
_FONT = '<sz val="11"/><name val="宋体"/><family val="3"/><charset val="134"/>'
_STYLES = (
    f'{_DECLARATION}<styleSheet xmlns="{_MAIN}"><numFmts count="0"/>'
    f'<fonts count="2"><font>{_FONT}</font><font><b/>{_FONT}</font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
    '<alignment horizontal="center" vertical="center" wrapText="1"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
).encode()


def _content_types() -> bytes:
    overrides = (
        ("/xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
        ("/xl/worksheets/sheet1.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"),
        ("/xl/styles.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"),
        ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        ("/docProps/app.xml", "application/vnd.openxmlformats-officedocument.extended-properties+xml"),
        ("/docProps/custom.xml", "application/vnd.openxmlformats-officedocument.custom-properties+xml"),
    )
    return (f'{_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in overrides)
            + "</Types>").encode()


def _package_rels() -> bytes:
    targets = (
        (f"{_DOC_RELS}/officeDocument", "xl/workbook.xml"),
        (f"{_PKG_RELS}/metadata/core-properties", "docProps/core.xml"),
        (f"{_DOC_RELS}/extended-properties", "docProps/app.xml"),
        (f"{_DOC_RELS}/custom-properties", "docProps/custom.xml"),
    )
    return (f'{_DECLARATION}<Relationships xmlns="{_PKG_RELS}">'
            + "".join(f'<Relationship Id="rId{n}" Type="{kind}" Target="{target}"/>'
                      for n, (kind, target) in enumerate(targets, start=1))
            + "</Relationships>").encode()


def _app_xml(properties: Properties) -> bytes:
    return (f'{_DECLARATION}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
            f'xmlns:vt="{_VT}"><Application>{xml_text(properties.application)}</Application></Properties>').encode()


def _w3cdtf(moment: dt.datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"

"""Workbooks reportgen writes (汇总, 整改台账, 填报表), made with openpyxl and saved deterministically.

openpyxl stamps the clock into its zip entries and document dates; here the dates come from the
data, the package is rewritten with fixed timestamps, and docProps/custom.xml carries the
fingerprint that edit detection compares (``ooxml.fingerprint``), like a draft's.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence

from lxml.etree import SerialisationError
from openpyxl import Workbook
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..errors import OutputError, Problem, os_error_text
from ..ooxml import FINGERPRINT_PROPERTY, read_package, sealed_package

__all__ = ["HEADER_FILL", "save_workbook", "table_sheet"]

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FONT = "宋体"


def _styles(sheet: Worksheet) -> tuple[str, str, str]:
    """The header, body and wrapped-body styles, registered once per workbook as named styles (a named
    style per cell costs a quarter of a font, border and alignment set on each)."""
    names = ("表头", "正文", "正文换行")
    book = sheet.parent
    if names[0] not in book.named_styles:
        book.add_named_style(NamedStyle(names[0], font=Font(name=FONT, bold=True), fill=HEADER_FILL, border=BORDER,
                                        alignment=Alignment(horizontal="center", vertical="center", wrap_text=True)))
        for name, wrapped in zip(names[1:], (False, True), strict=True):
            book.add_named_style(NamedStyle(name, font=Font(name=FONT), border=BORDER,
                                            alignment=Alignment(vertical="top", wrap_text=wrapped)))
    return names


def table_sheet(sheet: Worksheet, headers: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[float],
                *, title: str | None = None, landscape: bool = True) -> None:
    """A printable table: optional title row, bold header row repeated on every page, frozen, filterable,
    borders, long text wrapped, fitted to one A4 page wide."""
    header_style, body_style, wrapped_style = _styles(sheet)
    start = 1
    if title:
        sheet.cell(row=1, column=1, value=title).font = Font(name=FONT, size=14, bold=True)
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(headers), 1))
        sheet.cell(row=1, column=1).alignment = Alignment(horizontal="center")
        start = 2
    for column, header in enumerate(headers, start=1):
        sheet.cell(row=start, column=column, value=header).style = header_style
    for offset, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=start + offset, column=column, value=value).style = (
                wrapped_style if isinstance(value, str) else body_style)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = sheet.cell(row=start + 1, column=1)
    if headers:
        sheet.auto_filter.ref = f"A{start}:{get_column_letter(len(headers))}{start + len(rows)}"
    sheet.print_title_rows = f"{start}:{start}"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"


def save_workbook(workbook: Workbook, *, created: dt.datetime, properties: Mapping[str, str]) -> bytes:
    """The workbook's bytes: dated ``created``, fixed zip timestamps, ``properties`` and the fingerprint."""
    for sheet in workbook.worksheets:  # a unit named “=WEBSERVICE(…)” is text: reportgen writes no formula
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    workbook.properties.created = workbook.properties.modified = created.replace(tzinfo=None)
    workbook.properties.creator = workbook.properties.lastModifiedBy = "reportgen"
    workbook.custom_doc_props.append(StringProperty(name=FINGERPRINT_PROPERTY, value="0" * 64))
    buffer = io.BytesIO()
    hint = "检查环境变量 TEMP（Windows）或 TMPDIR 所指的文件夹是否存在、是否有空间"
    try:
        workbook.save(buffer)  # openpyxl writes each sheet through a temporary file first
    except OSError as exc:
        raise OutputError(Problem(f"无法生成表格：临时文件夹不能写入（{os_error_text(exc)}）", hint=hint)) from None
    except SerialisationError:  # lxml's word for a full disk under openpyxl
        raise OutputError(Problem("无法生成表格：临时文件夹写满了", hint=hint)) from None
    package = read_package(buffer.getvalue())
    # openpyxl stamps the clock as “modified” whatever it is told: the document properties are ours
    return sealed_package(package.parts, package.names, title=workbook.properties.title or "", creator="reportgen",
                          created=created, properties=properties)

"""The one-sheet .xlsx writer behind 汇总.xlsx (reportgen.xlsx).

Inputs are built in code; every check reads the package back the way a user's software would:
openpyxl (and, where installed, LibreOffice Calc) for what the sheet shows, xml.etree for the parts.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conftest import calc_csv
from reportgen.word import zip_bytes, zip_entry
from reportgen.xlsx import MAX_CELL_CHARS, Properties, Sheet, column_letter, xlsx_parts

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
CREATED = dt.datetime(2025, 12, 1, 8, 30, 0)
AWKWARD = ["A&B <c> \"d\" 'e'", "  前后有空格  ", "第一行\n第二行", "响铃\x07字符", "x" * 40_000]


def package(sheet: Sheet, properties: Properties | None = None) -> bytes:
    properties = properties or Properties(title="测试表", creator="reportgen", last_modified_by="reportgen",
                                          created=CREATED, custom=(("reportgen.fingerprint", "abc"),))
    return zip_bytes(zip_entry(name, data) for name, data in xlsx_parts(sheet, properties))


def load(tmp_path: Path, sheet: Sheet, properties: Properties | None = None) -> Any:
    from openpyxl import load_workbook

    path = tmp_path / "t.xlsx"
    path.write_bytes(package(sheet, properties))
    return load_workbook(path)


def sample() -> Sheet:
    return Sheet("汇总", ["单位", "人数", "比例", "备注"],
                 [["市财政局机关党委", 12, 95.5, None], ["县水利局机关党支部", 0, 100.0, "已核实"],
                  ["区商务局机关党委", None, None, None]],
                 widths=[30, 8, 10.5, 12])


def test_values_keep_their_types_and_none_is_an_empty_cell(tmp_path: Path) -> None:
    ws = load(tmp_path, sample()).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows == [("单位", "人数", "比例", "备注"), ("市财政局机关党委", 12, 95.5, None),
                    ("县水利局机关党支部", 0, 100, "已核实"), ("区商务局机关党委", None, None, None)]
    assert type(ws["B2"].value) is int and type(ws["C2"].value) is float
    assert ws["D2"].value is None and ws["B4"].value is None


def test_other_values(tmp_path: Path) -> None:
    sheet = Sheet("表", ["a", "b", "c", "d", "e"], [[True, False, float("inf"), 2**40, 1e-7]])
    ws = load(tmp_path, sheet).active
    assert [c.value for c in ws[2]] == [True, False, "inf", 2**40, 1e-7]


def test_the_sheet_looks_as_set(tmp_path: Path) -> None:
    ws = load(tmp_path, sample()).active
    assert ws.title == "汇总"
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == "A1:D4"
    assert all(cell.font.b and cell.alignment.horizontal == "center" and cell.alignment.wrap_text for cell in ws[1])
    assert not ws["A2"].font.b and ws["A2"].alignment.horizontal is None
    assert ws["A1"].font.name == ws["A2"].font.name == "宋体" and ws["A2"].font.sz == 11
    assert [ws.column_dimensions[c].width for c in "ABCD"] == [30, 8, 10.5, 12]
    assert ws.max_row == 4 and ws.max_column == 4


def test_other_frozen_panes(tmp_path: Path) -> None:
    for freeze, expected in (((0, 1), "A2"), ((2, 3), "C4"), ((0, 0), None)):
        sheet = Sheet("表", ["a", "b", "c"], [[1, 2, 3]] * 5, freeze=freeze, autofilter=False)
        ws = load(tmp_path, sheet).active
        assert ws.freeze_panes == expected
        assert ws.auto_filter.ref is None


def test_document_properties(tmp_path: Path) -> None:
    properties = Properties(title="述职报告初稿汇总", creator="reportgen", last_modified_by="某人",
                            created=CREATED, modified=CREATED + dt.timedelta(days=1),
                            custom=(("reportgen.fingerprint", "0" * 64), ("来源 & <说明>", "a&b")))
    book = load(tmp_path, sample(), properties)
    assert book.properties.title == "述职报告初稿汇总"
    assert book.properties.creator == "reportgen" and book.properties.lastModifiedBy == "某人"
    assert book.properties.created == CREATED
    assert book.properties.modified == CREATED + dt.timedelta(days=1)
    assert {p.name: p.value for p in book.custom_doc_props.props} == {"reportgen.fingerprint": "0" * 64,
                                                                      "来源 & <说明>": "a&b"}
    aware = dt.datetime(2025, 12, 1, 16, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert load(tmp_path, sample(), Properties(created=aware)).properties.created == CREATED  # as UTC


def test_awkward_strings_come_back_as_written(tmp_path: Path) -> None:
    ws = load(tmp_path, Sheet("表", ["文字"], [[text] for text in AWKWARD])).active
    values = [ws.cell(row, 1).value for row in range(2, 2 + len(AWKWARD))]
    assert values[:3] == AWKWARD[:3]
    assert values[3] == "响铃字符"  # a control character XML cannot hold is dropped
    assert values[4] == "x" * MAX_CELL_CHARS == "x" * 32767  # Excel's limit


def test_long_text_beyond_the_bmp_is_cut_by_excel_s_count() -> None:
    """Excel counts UTF-16 units: a character beyond the BMP counts twice and is never cut in half."""
    sheet = Sheet("表", ["文字"], [["𠀀" * 20_000], ["𠀀" * 10_000 + "字" * 20_000]])
    xml = dict(xlsx_parts(sheet, Properties()))["xl/worksheets/sheet1.xml"].decode()
    texts = [t.text or "" for t in ET.fromstring(xml).iter(f"{MAIN}t")][1:]
    assert texts == ["𠀀" * 16_383, "𠀀" * 10_000 + "字" * (MAX_CELL_CHARS - 20_000)]


def test_columns_beyond_z(tmp_path: Path) -> None:
    headers = [f"列{n}" for n in range(1, 31)]
    ws = load(tmp_path, Sheet("表", headers, [list(range(1, 31))], widths=[9] * 30)).active
    assert ws["Z1"].value == "列26" and ws["AA1"].value == "列27" and ws["AD1"].value == "列30"
    assert ws["AD2"].value == 30 and ws.column_dimensions["AD"].width == 9
    assert ws.auto_filter.ref == "A1:AD2"
    assert [column_letter(n) for n in (1, 26, 27, 52, 53, 702, 703, 16384)] == \
        ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA", "XFD"]


def test_column_letters_match_openpyxl() -> None:
    from openpyxl.utils import get_column_letter

    assert all(column_letter(n) == get_column_letter(n) for n in range(1, 16385))


def test_sheet_names_are_checked_and_quoted(tmp_path: Path) -> None:
    for bad in ("", "a" * 32, "a/b", "a[1]", "what?", "'quoted'"):
        with pytest.raises(ValueError):
            Sheet(bad, ["a"], [])
    name = "张三's & <汇总>"
    sheet = Sheet(name, ["a", "b", "c"], [[1, 2, 3], [4, 5, 6]])
    assert load(tmp_path, sheet).active.title == name
    workbook = ET.fromstring(dict(xlsx_parts(sheet, Properties()))["xl/workbook.xml"])
    defined = {element.get("name"): element for element in workbook.iter(f"{MAIN}definedName")}
    assert defined["_xlnm._FilterDatabase"].get("hidden") == "1"
    assert defined["_xlnm._FilterDatabase"].text == "'张三''s & <汇总>'!$A$1:$C$3"
    assert defined["_xlnm.Print_Titles"].text == "'张三''s & <汇总>'!$1:$1"


def test_printed_on_landscape_a4_one_page_wide_with_a_tall_header_on_every_page(tmp_path: Path) -> None:
    ws = load(tmp_path, Sheet("汇总", ["单位", "姓名"], [["一", "二"]] * 80)).active
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize in (9, "9")
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
    assert ws.print_title_rows == "$1:$1"
    tall = load(tmp_path, Sheet("汇总", ["党组织理论学习中心组集中学习次数（次）"], [[12]], widths=[18], header_lines=3)).active
    assert tall.row_dimensions[1].height == 3 * 14.25 and tall["A1"].alignment.wrap_text  # fits a wrapped header
    assert tall.row_dimensions[2].height is None
    plain = load(tmp_path, Sheet("汇总", ["单位"], [["一"]], print_landscape=False)).active
    assert plain.page_setup.orientation != "landscape" and plain.print_title_rows is None


def test_a_sheet_with_no_data_rows(tmp_path: Path) -> None:
    ws = load(tmp_path, Sheet("汇总", ["单位", "姓名"], [])).active
    assert [c.value for c in ws[1]] == ["单位", "姓名"]
    assert ws.auto_filter.ref == "A1:B1" and ws.freeze_panes == "B2"


def test_same_input_same_bytes() -> None:
    assert package(sample()) == package(sample())
    sheet = Sheet("表", ["文字"], [[text] for text in AWKWARD])
    assert xlsx_parts(sheet, Properties()) == xlsx_parts(sheet, Properties())


def test_every_part_is_well_formed_xml_in_the_schema_order() -> None:
    parts = xlsx_parts(Sheet("表", ["文字", "数"], [[text, n] for n, text in enumerate(AWKWARD)]), Properties())
    assert [name for name, _ in parts] == [
        "[Content_Types].xml", "_rels/.rels", "docProps/app.xml", "docProps/core.xml", "docProps/custom.xml",
        "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/worksheets/sheet1.xml"]
    for name, data in parts:
        assert data.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'), name
        ET.fromstring(data)  # raises on anything malformed
    worksheet = ET.fromstring(dict(parts)["xl/worksheets/sheet1.xml"])
    assert [child.tag.removeprefix(MAIN) for child in worksheet] == [
        "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "sheetData", "autoFilter", "pageMargins", "pageSetup"]
    assert worksheet[1].get("ref") == "A1:B6"
    styles = ET.fromstring(dict(parts)["xl/styles.xml"])
    assert [child.tag.removeprefix(MAIN) for child in styles] == [
        "numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles"]


@pytest.mark.libreoffice
def test_libreoffice_calc_reads_awkward_strings(tmp_path: Path) -> None:
    rows = [["A&B <c> \"d\" 'e'", 12], ["  前后有空格  ", 95.5], ["响铃\x07字符", None]]
    (tmp_path / "t.xlsx").write_bytes(package(Sheet("汇总", ["文字", "数"], rows)))
    (tmp_path / "csv").mkdir()
    csv_text = calc_csv(tmp_path / "t.xlsx", tmp_path / "csv")
    assert csv_text.splitlines() == [
        "文字,数", "\"A&B <c> \"\"d\"\" 'e'\",12", "  前后有空格  ,95.5", "响铃字符,"]

"""A committee's fill-in workbook (填报表.xlsx, from ``reportgen sheet`` or Excel/WPS): one profile per row.

The workbook is checked like a pack before anything reads it (zip bombs, external links, macros,
formulas are refused), read within limits, and each row becomes the same data a YAML profile gives,
with every value's place as sheet, row, column letter and header — so a problem reads
“填报表.xlsx 第7行 D列“中心组集中学习次数”：应为整数，不要带单位“次””.  Columns are found by their header
text (hidden, moved or extra columns do not matter), the header row by its “单位名称” cell; blank rows
are skipped.  What a cell holds is taken as typed: text digits, full-width digits, “95%” or 0.95 with
a percent format all reach the same checks as in YAML.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import warnings
import xml.parsers.expat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Problem, ProfileError, display_path
from ..ooxml import (
    CUSTOM_PROPS,
    OLD_OFFICE,
    Package,
    PackageLimits,
    PackageProblem,
    read_custom_properties,
    read_package,
)
from .source import read_bytes
from .yamlfile import KeyPath, Mark, Tree

__all__ = ["COLUMNS", "MAX_ROWS", "Row", "Workbook", "item_columns", "read_table", "read_workbook"]

MAX_ROWS = 5000
MAX_COLUMNS = 1000
MAX_BYTES = 20 * 1024 * 1024
LIMITS = PackageLimits(entries=200, total_bytes=100 * 1024 * 1024)
UNIT_HEADER = "单位名称"
SHEET_NAME = "填报"

# Fixed columns: header -> path in the profile.
COLUMNS: Mapping[str, KeyPath] = {
    "单位名称": ("meta", "unit"), "述职人姓名": ("meta", "name"), "职务": ("meta", "position"),
    "述职年度": ("meta", "year"), "上级党组织": ("meta", "superior"), "述职依据": ("meta", "basis"),
    "报告日期": ("meta", "date"), "模板包": ("pack",),
}
# Numbered columns: prefix -> (section, field): “履职工作2” is work[1]'s key, “履职工作2补充” its add.
SERIES = {"履职工作": ("work", "key"), "问题": ("problems", "key"), "原因": ("causes", "key"), "措施": ("measures", "key"),
          "上年问题": ("rectification", "problem"), "整改进度": ("rectification", "status"),
          "整改情况": ("rectification", "action")}
_SERIES = re.compile(r"^(履职工作|问题|原因|措施|上年问题|整改进度|整改情况)(\d{1,2})(补充)?$")
_FACT_HEADER = re.compile(r"^(.*?)(?:（([^（）]*)）)?$")


def item_columns(section: str, count: int) -> list[str]:
    prefix = next(p for p, (s, _) in SERIES.items() if s == section and _ == "key")
    columns: list[str] = []
    for n in range(1, count + 1):
        columns.append(f"{prefix}{n}")
        if section == "work":
            columns.append(f"{prefix}{n}补充")
    return columns


@dataclass(frozen=True)
class Row:
    label: str  # “填报表.xlsx 第7行”
    tree: Tree
    digest: str


@dataclass(frozen=True)
class Workbook:
    rows: tuple[Row, ...]
    pack: str | None  # the workbook's pack (from reportgen sheet), when rows do not name one


def _letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(column))


def _open(path: Path, what: str) -> tuple[Any, Package]:
    """A workbook opened read-only, after the checks a pack gets (size, zip bomb, links, macros, formulas)."""
    from openpyxl import load_workbook

    from ..office_safety import package_problems

    shown = display_path(path)
    data = read_bytes(path, what=what, limit=MAX_BYTES, hint=f"{what}一般只有几百 KB")
    if data.startswith(OLD_OFFICE):
        raise ProfileError(Problem("这是旧版 Excel（.xls）文件", shown, hint="请用 Excel 或 WPS 打开后“另存为” .xlsx 格式"))
    title = f"{what}不安全或无法读取，已拒绝"
    try:
        package = read_package(data, LIMITS)
    except PackageProblem as exc:
        raise ProfileError(Problem(str(exc), shown, hint="请用 Excel 或 WPS 重新另存为 .xlsx"), title=title) from None
    problems = package_problems(package, shown, hint="请把内容复制到 reportgen sheet 生成的新表格里（“选择性粘贴—数值”），"
                                                     "不要带链接、宏和公式")
    problems += _oversized(package, shown)
    if problems:
        raise ProfileError(problems, title=title)
    try:
        with warnings.catch_warnings():  # openpyxl warns in English about what it skips
            warnings.simplefilter("ignore")
            return load_workbook(io.BytesIO(data), read_only=True, data_only=False), package
    except Exception:  # openpyxl raises many kinds on a damaged file; none of them is the user's to read
        raise ProfileError(Problem(f"{what}无法打开", shown, hint="请用 Excel 或 WPS 打开后重新另存为 .xlsx")) from None


# What openpyxl would build objects for, counted before it does: a workbook of 500 units has a few
# hundred cell formats and some ten thousand strings.
_COUNTED = {"xf": 20_000, "font": 5_000, "fill": 5_000, "border": 5_000, "numFmt": 5_000, "si": 300_000}


def _oversized(package: Package, shown: str) -> list[Problem]:
    """Styles or shared strings in numbers no real workbook has (openpyxl would take gigabytes)."""
    counts: dict[str, int] = {}

    def start(name: str, _: Any) -> None:
        local = name.rpartition("}")[2]
        if local in _COUNTED:
            counts[local] = counts.get(local, 0) + 1

    for name in package.names:
        if name.lower() in ("xl/styles.xml", "xl/sharedstrings.xml"):
            parser = xml.parsers.expat.ParserCreate(namespace_separator="}")
            parser.StartElementHandler = start
            parser.StartDoctypeDeclHandler = _refuse_dtd
            try:
                parser.Parse(package.parts[name], True)
            except (xml.parsers.expat.ExpatError, ValueError):
                return [Problem(f"部件“{name}”不是合法的 XML", shown, hint="请用 Excel 或 WPS 重新另存为 .xlsx")]
    return [Problem(f"表格里的格式或文字条目多得异常（{name} 有 {counts[name]} 个）", shown,
                    hint="请把内容复制到 reportgen sheet 生成的新表格里（“选择性粘贴—数值”）")
            for name, limit in _COUNTED.items() if counts.get(name, 0) > limit]


def _refuse_dtd(*_: Any) -> None:
    raise ValueError("DTD")


def read_workbook(path: Path) -> Workbook:
    """Every filled row of a fill-in sheet, as profile data with each cell's place."""
    book, package = _open(path, "填报表")
    try:
        return _read(book, display_path(path), package)
    finally:
        book.close()


def read_table(path: Path, *, required: tuple[str, ...], what: str) -> list[tuple[int, dict[str, Any]]]:
    """(row number, header -> value) of the first sheet whose header row has every ``required`` header."""
    book, _ = _open(path, what)
    shown = display_path(path)
    try:
        for sheet in book.worksheets:
            header_row, headers = _headers(sheet, required)
            if header_row is None:
                continue
            rows = []
            for number, cells in enumerate(sheet.iter_rows(min_row=header_row + 1), start=header_row + 1):
                if number - header_row > MAX_ROWS:
                    raise ProfileError(Problem(f"{what}超过 {MAX_ROWS} 行", shown))
                values = {headers[cell.column]: _cell_value(cell) for cell in cells
                          if getattr(cell, "column", None) in headers}
                if any(value is not None for value in values.values()):
                    rows.append((number, values))
            return rows
    finally:
        book.close()
    raise ProfileError(Problem(f"这不像是{what}：没有一行表头含有“{'”“'.join(required)}”", shown,
                               hint="请用 reportgen 导出的表格，不要改动表头"))


def _read(book: Any, shown: str, package: Package) -> Workbook:
    properties = read_custom_properties(package.parts.get(CUSTOM_PROPS, b""))
    for sheet in book.worksheets:
        if (sheet.max_column or 0) > MAX_COLUMNS:
            raise ProfileError(Problem(f"工作表“{sheet.title}”有 {sheet.max_column} 列，太多了", shown,
                                       hint=f"填报表最多 {MAX_COLUMNS} 列"))
        header_row, headers = _headers(sheet, (UNIT_HEADER,))
        if header_row is None:
            continue
        rows: list[Row] = []
        for number, cells in enumerate(sheet.iter_rows(min_row=header_row + 1), start=header_row + 1):
            if number - header_row > MAX_ROWS:
                raise ProfileError(Problem(f"工作表“{sheet.title}”超过 {MAX_ROWS} 行", shown, hint="请分成几个填报表"))
            row = _row(cells, number, headers, shown, sheet.title)
            if row is not None:
                rows.append(row)
        if not rows:
            raise ProfileError(Problem(f"工作表“{sheet.title}”里没有填写任何单位", shown,
                                       hint="每个单位填一行；“单位名称”一列不能空"))
        return Workbook(tuple(rows), properties.get("reportgen.pack"))
    raise ProfileError(Problem("找不到填报的工作表：没有一行写着“单位名称”", shown,
                               hint="用 reportgen sheet 生成填报表；表头里要有“单位名称”一列"))


def _headers(sheet: Any, required: tuple[str, ...]) -> tuple[int | None, dict[int, str]]:
    """The header row (the first of the first 10 rows with every ``required`` header) and its headers by column."""
    for number, cells in enumerate(sheet.iter_rows(max_row=10), start=1):
        texts = {cell.column: str(cell.value).strip() for cell in cells
                 if getattr(cell, "column", None) and isinstance(cell.value, str) and cell.value.strip()}
        if all(header in texts.values() for header in required):
            return number, texts
    return None, {}


def _cell_value(cell: Any) -> Any:
    value = cell.value
    if isinstance(value, float) and "%" in (cell.number_format or "") and value <= 1.5:
        return round(value * 100, 6)  # 0.95 shown as 95%: the percentage the user sees
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return value.strip() or None
    return value


def _row(cells: Any, number: int, headers: Mapping[int, str], shown: str, sheet: str) -> Row | None:
    data: dict[str, Any] = {}
    marks: dict[KeyPath, Mark] = {}
    for cell in cells:
        column = getattr(cell, "column", None)
        if column is None or column not in headers:
            continue
        value = _cell_value(cell)
        if value is None:
            continue
        header = headers[column]
        path = _path(header)
        mark = Mark(number, column, f"{_letter(column)}列“{header}”")
        for depth in range(1, len(path) + 1):
            marks.setdefault(path[:depth], mark)
        _put(data, path, value)
    if not data.get("meta", {}).get("unit"):
        if data:
            data.setdefault("meta", {})
        else:
            return None  # a blank row
    for section in ("work", "problems", "causes", "measures", "rectification"):
        if section in data:
            data[section] = [item for _, item in sorted(data[section].items())]
    marks = _renumber(marks, data)
    label = f"{shown} 第{number}行"
    digest = hashlib.sha256(repr(sorted(data.items(), key=lambda kv: kv[0])).encode()).hexdigest()
    return Row(label, Tree(shown, data, marks, marks, table=True), digest)


def _path(header: str) -> KeyPath:
    if header in COLUMNS:
        return COLUMNS[header]
    series = _SERIES.match(header)
    if series:
        section, field = SERIES[series.group(1)]
        return (section, int(series.group(2)), "add" if series.group(3) else field)
    label = _FACT_HEADER.match(header)
    return ("facts", label.group(1).strip() if label else header)


def _put(data: dict[str, Any], path: KeyPath, value: Any) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _renumber(marks: dict[KeyPath, Mark], data: Mapping[str, Any]) -> dict[KeyPath, Mark]:
    """Item columns are numbered from 1 and may skip; the items become a list: marks follow."""
    result: dict[KeyPath, Mark] = {}
    positions: dict[str, dict[int, int]] = {}
    for path in sorted((p for p in marks if len(p) >= 2 and isinstance(p[1], int)), key=lambda p: (p[0], p[1])):
        table = positions.setdefault(str(path[0]), {})
        table.setdefault(int(path[1]), len(table))
    for path, mark in marks.items():
        if len(path) >= 2 and isinstance(path[1], int):
            path = (path[0], positions[str(path[0])][path[1]], *path[2:])
        result[path] = mark
    return result

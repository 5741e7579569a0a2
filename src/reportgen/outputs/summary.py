"""汇总.xlsx: one row per unit of a batch, for the committee — made to be read on screen and on A4.

The first sheet is the table a committee prints: unit, person, the packs' summary facts (one column
per fact, whatever pack a unit used), length, what is missing, 复制比 and notes, text wrapped, fitted to
one page wide.  File paths and full error messages are on the second sheet, so they never squeeze
the printed table.  An edited 汇总.xlsx is never replaced unasked (``guard``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from ..errors import display_path
from .guard import Guard
from .xlsx import save_workbook, table_sheet

__all__ = ["SUMMARY_NAME", "SummaryRow", "summary_bytes", "write_summary"]

SUMMARY_NAME = "汇总.xlsx"
FLAG = PatternFill("solid", fgColor="FFE699")


@dataclass(frozen=True)
class SummaryRow:
    number: int
    source: str  # the profile file or workbook row
    output: str | None
    unit: str
    name: str
    position: str
    year: str
    han_count: int
    missing: int
    facts: tuple[tuple[str, str, object], ...]  # (key, header, value)
    notes: tuple[str, ...]
    error: str | None
    similar_to: str | None = None
    ratio: float | None = None
    example_ratio: float | None = None
    last_year_ratio: float | None = None
    created: str = ""


def _fact_columns(rows: Sequence[SummaryRow]) -> list[tuple[str, str]]:
    """(key, header) of every summary fact any row has, in first-seen order: one column per fact key."""
    columns: dict[str, str] = {}
    for row in rows:
        for key, header, _ in row.facts:
            columns.setdefault(key, header)
    return list(columns.items())


def summary_bytes(rows: Sequence[SummaryRow], folder: Path, threshold: float) -> bytes:
    facts = _fact_columns(rows)
    workbook = Workbook()
    table = workbook.active
    table.title = "汇总"
    headers = ["序号", "单位", "述职人", "年度", *(header for _, header in facts), "正文字数", "待补充", "最相似的稿子",
               "复制比", "状态和提醒"]
    body = []
    for row in rows:
        values = {key: value for key, _, value in row.facts}
        if row.error is None:
            notes = "；".join(("已生成", *row.notes[:4]))
        else:  # the printed sheet says why: the reason, not the error's title line
            notes = "未生成：" + (row.notes[0] if row.notes else row.error.splitlines()[0])[:120]
        year: object = int(row.year) if row.year.isdigit() else row.year
        body.append([row.number, row.unit or Path(row.source).name, f"{row.name}（{row.position}）" if row.position
                     else row.name, year, *(values.get(key) for key, _ in facts), row.han_count if row.error is None else None,
                     row.missing if row.error is None else None, row.similar_to,
                     row.ratio, notes])
    widths = [5, 22, 14, 6, *(9 for _ in facts), 8, 7, 16, 8, 40]
    table_sheet(table, headers, body, widths, title="述职报告初稿汇总表")
    ratio_column = len(headers) - 1
    for offset, row in enumerate(rows, start=3):
        cell = table.cell(row=offset, column=ratio_column)
        cell.number_format = "0%"
        if row.ratio is not None and row.ratio > threshold:
            cell.fill = FLAG
            cell.font = Font(name="宋体", bold=True)
    files = workbook.create_sheet("文件与问题")
    table_sheet(files, ["序号", "单位", "资料文件", "输出文件", "与示例稿的复制比", "与上年稿子的复制比", "出错原因（全文）"],
                [[row.number, row.unit, row.source, _relative(row.output, folder), row.example_ratio,
                  row.last_year_ratio, row.error] for row in rows], [5, 22, 30, 30, 10, 10, 60])
    for column in (5, 6):
        for offset in range(2, len(rows) + 2):
            files.cell(row=offset, column=column).number_format = "0%"
    created = max((dt.datetime.fromisoformat(row.created) for row in rows if row.created),
                  default=dt.datetime(2000, 1, 1)).replace(tzinfo=dt.UTC)
    return save_workbook(workbook, created=created, properties={"reportgen.kind": "summary",
                                                                "reportgen.threshold": f"{threshold:g}"})


def _relative(path: str | None, folder: Path) -> str | None:
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(folder.resolve()))
    except (ValueError, OSError):
        return display_path(path)


def write_summary(rows: Sequence[SummaryRow], path: Path, *, force: bool, threshold: float,
                  inputs: Sequence[Path] = ()) -> Path | None:
    """Write 汇总.xlsx through the guard (an edited one is kept unless ``force``; an input never); returns
    the backup."""
    return Guard(inputs=tuple(inputs)).write(path, summary_bytes(rows, path.parent, threshold), force=force, suffixes=(".xlsx",),
                         what="汇总表", hint="汇总表已经被人改过：加 --force 覆盖（旧文件会先备份），或先把它另存到别处")

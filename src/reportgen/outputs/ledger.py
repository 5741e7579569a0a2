"""整改台账: the year's problems and the measures promised for them, as committees keep them in Excel.

``ledger`` writes it (序号、单位、问题、来源、整改措施、责任人、完成时限、进展情况、是否销号), ready to print;
the committee fills in progress and whether each item is closed; ``next`` and ``build`` take it back
and fill the rectification section item by item.  A row that no longer matches a problem, or a
problem without a row, is reported by name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import Problem, display_path
from ..inputs.profile import Profile, Rectification
from ..inputs.workbook import read_table

__all__ = ["HEADERS", "LedgerEntry", "LedgerRow", "apply_ledger", "ledger_bytes", "read_ledger"]

HEADERS = ("序号", "单位", "问题", "来源", "整改措施", "责任人", "完成时限", "进展情况", "是否销号")
_CLOSED = {"是", "已销号", "销号", "√", "✓", "已完成", "完成"}
_PUNCTUATION = re.compile(r"[\s，。、；：“”\"'（）()]")


@dataclass(frozen=True)
class LedgerEntry:
    unit: str
    problem: str
    source: str
    measure: str
    person: str


@dataclass(frozen=True)
class LedgerRow:
    row: int
    unit: str
    problem: str
    progress: str
    closed: str

    @property
    def status(self) -> str | None:
        closed = self.closed.strip()
        if closed in _CLOSED:
            return "已完成"
        if "基本" in closed or "基本完成" in self.progress:
            return "基本完成"
        if self.progress or closed in ("否", "未销号", "×"):
            return "持续推进"
        return None


def ledger_bytes(entries: Sequence[LedgerEntry], *, year: int | None) -> bytes:
    from openpyxl import (
        Workbook,  # about 120 ms of imports: only when a ledger is written, not for every build
    )

    from .xlsx import save_workbook, table_sheet

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "整改台账"
    rows = [[n, e.unit, e.problem, e.source, e.measure, e.person, None, None, None] for n, e in enumerate(entries, start=1)]
    table_sheet(sheet, HEADERS, rows, [5, 18, 30, 14, 40, 10, 12, 30, 8],
                title=f"{year or ''}年度党组织书记抓基层党建工作述职查摆问题整改台账")
    created = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC) if year else dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return save_workbook(workbook, created=created, properties={"reportgen.kind": "ledger"})


def read_ledger(path: Path) -> list[LedgerRow]:
    table = read_table(path, required=("问题",), what="整改台账")
    rows = []
    for number, cells in table:
        problem = str(cells.get("问题") or "").strip()
        if problem:
            rows.append(LedgerRow(number, str(cells.get("单位") or "").strip(), problem,
                                  str(cells.get("进展情况") or "").strip(), str(cells.get("是否销号") or "").strip()))
    return rows


def _same(a: str, b: str) -> bool:
    return _PUNCTUATION.sub("", a) == _PUNCTUATION.sub("", b)


def apply_ledger(profile: Profile, rows: Sequence[LedgerRow], ledger: Path) -> tuple[Profile, list[Problem]]:
    """The profile's rectification entries with the ledger's progress and status; warnings for rows and
    problems that find no partner."""
    shown = display_path(ledger)
    unit = profile.meta.unit or ""
    mine = [row for row in rows if not row.unit or row.unit == unit]
    warnings: list[Problem] = []
    used: set[int] = set()
    updated: list[Rectification] = []
    for entry in profile.rectifications:
        row = next((r for r in mine if entry.problem and _same(r.problem, entry.problem) and r.row not in used), None)
        if row is None:
            if entry.problem:
                warnings.append(Problem(f"上年问题“{entry.problem}”在整改台账里没有对应的行", profile.file,
                                        hint=f"在 {shown} 里补上这一行，或在资料文件里自己写 status 和 action"))
            updated.append(entry)
            continue
        used.add(row.row)
        updated.append(dataclasses.replace(entry, action=row.progress or entry.action, status=row.status or entry.status))
    for row in mine:
        if row.row not in used:
            warnings.append(Problem(f"整改台账里的问题“{row.problem}”在资料文件的上年问题（rectification）里没有", shown,
                                    row.row, hint="问题的文字要与资料文件里的一致；或把这个问题加到资料文件的 rectification 里"))
    return dataclasses.replace(profile, rectifications=tuple(updated)), warnings

"""整改台账: the year's problems and the measures promised for them, as committees keep them in Excel.

``ledger`` writes it (序号、单位、问题、来源、整改措施、责任人、完成时限、进展情况、是否销号), ready to print;
the committee fills in progress and whether each item is closed; ``next`` and ``build`` take it back
and fill the rectification section item by item.  A row that no longer matches a problem, or a
problem without a row, is reported by name.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..content.model import dated_after
from ..errors import Problem, display_path
from ..inputs.profile import Profile
from ..inputs.workbook import read_table

__all__ = ["HEADERS", "LedgerEntry", "LedgerMatch", "LedgerRow", "apply_ledger", "ledger_bytes", "ledger_warnings",
           "match_ledger", "read_ledger"]

HEADERS = ("序号", "单位", "问题", "来源", "整改措施", "责任人", "完成时限", "进展情况", "是否销号")
_CLOSED = {"是", "已销号", "销号", "√", "✓", "已完成", "完成"}
MAX_PROBLEM = 500  # characters of a problem statement
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
    return save_workbook(workbook, created=dated_after(year), properties={"reportgen.kind": "ledger"})


def read_ledger(path: Path) -> list[LedgerRow]:
    table = read_table(path, required=("问题",), what="整改台账")
    rows = []
    for number, cells in table:
        problem = str(cells.get("问题") or "").strip()
        if problem and len(problem) <= MAX_PROBLEM:  # longer is no problem statement: never matched
            rows.append(LedgerRow(number, str(cells.get("单位") or "").strip(), problem,
                                  str(cells.get("进展情况") or "").strip(), str(cells.get("是否销号") or "").strip()))
    return rows


def _key(text: str) -> str:
    return _PUNCTUATION.sub("", text)


@dataclass(frozen=True)
class LedgerMatch:
    """Last year's problems paired with a unit's ledger rows (text compared without punctuation or spaces)."""

    rows: tuple[LedgerRow | None, ...]  # per problem, its row
    strays: tuple[LedgerRow, ...]  # the unit's rows that match no problem


def match_ledger(problems: Sequence[str], rows: Sequence[LedgerRow], unit: str) -> LedgerMatch:
    mine = [row for row in rows if not row.unit or row.unit == unit]
    waiting: dict[str, list[LedgerRow]] = {}  # rows by their text's key, in order: each matched once
    for entry in mine:
        waiting.setdefault(_key(entry.problem), []).append(entry)
    used: set[int] = set()
    matched: list[LedgerRow | None] = []
    for problem in problems:
        candidates = waiting.get(_key(problem)) if problem else None
        found = candidates.pop(0) if candidates else None
        if found is not None:
            used.add(found.row)
        matched.append(found)
    return LedgerMatch(tuple(matched), tuple(row for row in mine if row.row not in used))


def ledger_warnings(problems: Sequence[str], match: LedgerMatch, ledger: Path, file: str | None) -> list[Problem]:
    """A problem without a row, and a row without a problem, each by name."""
    shown = display_path(ledger)
    warnings = [Problem(f"上年问题“{problem}”在整改台账里没有对应的行", file,
                        hint=f"在 {shown} 里补上这一行，或在资料文件里自己写 status 和 action")
                for problem, row in zip(problems, match.rows, strict=True) if problem and row is None]
    warnings += [Problem(f"整改台账里的问题“{row.problem}”在上年的问题里没有", shown, row.row,
                         hint="问题的文字要与上年的一致（标点和空格不计）；或把这个问题加到资料文件的 rectification 里")
                 for row in match.strays]
    return warnings


def apply_ledger(profile: Profile, rows: Sequence[LedgerRow], ledger: Path) -> tuple[Profile, list[Problem]]:
    """The profile's rectification entries with the ledger's progress and status, and the warnings."""
    problems = [entry.problem or "" for entry in profile.rectifications]
    match = match_ledger(problems, rows, profile.meta.unit or "")
    updated = [entry if row is None else dataclasses.replace(entry, action=row.progress or entry.action,
                                                             status=row.status or entry.status)
               for entry, row in zip(profile.rectifications, match.rows, strict=True)]
    return (dataclasses.replace(profile, rectifications=tuple(updated)),
            ledger_warnings(problems, match, ledger, profile.file))

"""The fill-in workbook a committee sends round (``reportgen sheet``): one row per unit, one column per fact.

A first sheet says how to fill it in.  The table has the unit's particulars, the facts grouped under
the items that say them (label and unit in the header, an input rule and a comment on each), the
item choices as drop-down lists of the catalogue's titles, and a column for a work item's own added
text.  Rows come filled in from profiles when given.  Building the workbook gives each row's draft
exactly as building its profile would (``inputs.workbook`` reads it back).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..content.model import dated_after
from ..inputs.profile import Profile
from ..inputs.workbook import COLUMNS, SHEET_NAME, item_columns
from ..packs.manifest import CATALOGUE_FOR_SECTION, FactSpec, FactType, Pack
from .xlsx import HEADER_FILL, save_workbook, table_sheet

__all__ = ["profile_values", "sheet_bytes"]

DATA_START = 4  # row 1: title, row 2: groups, row 3: headers
META_COMMENTS = {
    "单位名称": "单位全称，如：青山市农业农村局机关党委", "述职人姓名": "如：张某某", "职务": "如：书记（不要重复单位名称里的“党委”等）",
    "述职年度": "四位数年份，如 2025", "上级党组织": "如：青山市直机关工委", "述职依据": "通知或会议安排，如：市直机关工委《关于……的通知》",
    "报告日期": "日期，如 2026-01-10", "模板包": "一般不用改",
}
RULES = """这份填报表用来收集各单位的述职事实，每个单位填一行，收齐后由上级党组织一次生成全部稿子：
    reportgen build 填报表.xlsx -o 述职报告初稿

填写方法：
1. 在“填报”工作表里，每个单位占一行；“单位名称”不能空。不要改动表头，可以隐藏不用的列。
2. 数字只填阿拉伯数字，不带单位（单位写在表头的括号里）；约数可写“40余”。百分数填 95 或 95%。
3. 还不知道的数字先空着：可有可无的不会写进稿子；条目必需的会在稿子里显示黄色的【待补充】。
4. “履职工作1”“问题1”等从下拉列表中选择条目；“履职工作1补充”可以写一两句本单位的具体做法，
   其中可以用 {键名} 引用事实（键名见“事实说明”工作表）。
5. “上年问题”“整改进度”“整改情况”填写上年度述职评议指出的问题及整改情况；整改进度选“已完成”“基本完成”或“持续推进”。
6. 不要使用公式；从别处复制来的公式请“选择性粘贴—数值”。

填报表不能表达的内容（需要时改用 YAML 资料文件）：调整结构（去掉标题等）、自己定义的事实、
挑选或增加要点、自己写的整个条目、上年数据。"""


def _fact_groups(pack: Pack) -> list[tuple[str, list[FactSpec]]]:
    groups: list[tuple[str, list[FactSpec]]] = [("基本情况", [pack.facts[key] for key in pack.basics()])]
    listed: set[str] = set(pack.basics())
    for kind in ("topics", "measures"):
        for entry in pack.catalogues.get(kind, {}).values():
            specs = [pack.facts[key] for key in entry.all_facts() if key not in listed and key in pack.facts]
            listed.update(spec.key for spec in specs)
            if specs:
                groups.append((entry.title if kind == "topics" else f"措施：{entry.title}", specs))
    return groups


def profile_values(profile: Profile, pack: Pack) -> dict[str, object]:
    """A profile as the sheet's cells (header -> value)."""
    values: dict[str, object] = {}
    meta = profile.meta
    for header, path in COLUMNS.items():
        if path == ("pack",):
            values[header] = profile.pack or pack.name
            continue
        value = meta.get(str(path[1]))
        if isinstance(value, dt.date):
            value = value.isoformat()
        if value is not None:
            values[header] = value
    for entry in profile.facts:
        key = pack.fact_aliases.get(entry.key, entry.key)
        if key in pack.facts and entry.raw is not None and entry.own is None:
            raw = entry.raw
            values[pack.facts[key].header] = "、".join(map(str, raw)) if isinstance(raw, list) else raw
    for section in ("work", "problems", "causes", "measures"):
        catalogue = pack.catalogues.get(CATALOGUE_FOR_SECTION[section], {})
        prefix = item_columns(section, 1)[0][:-1]
        for n, choice in enumerate(profile.choices(section), start=1):
            if choice.keys and choice.keys[0] in catalogue:
                values[f"{prefix}{n}"] = catalogue[choice.keys[0]].title
            if section == "work" and choice.add:
                values[f"{prefix}{n}补充"] = "".join(point.text for point in choice.add)
    for n, item in enumerate(profile.rectifications, start=1):
        for header, value in ((f"上年问题{n}", item.problem), (f"整改进度{n}", item.status), (f"整改情况{n}", item.action)):
            if value:
                values[header] = value
    return values


def sheet_bytes(pack: Pack, rows: Sequence[dict[str, object]], *, year: int | None, rectifications: int = 2) -> bytes:
    workbook = Workbook()
    guide = workbook.active
    guide.title = "填写说明"
    guide.column_dimensions["A"].width = 110
    guide.cell(row=1, column=1, value=f"{pack.title}——事实填报表（模板包 {pack.name} {pack.version}）").font = Font(
        name="宋体", size=14, bold=True)
    for offset, line in enumerate(RULES.splitlines(), start=3):
        guide.cell(row=offset, column=1, value=line).font = Font(name="宋体", size=11)
    guide.page_setup.paperSize = guide.PAPERSIZE_A4

    sheet = workbook.create_sheet(SHEET_NAME)
    catalogues = {section: pack.catalogues.get(CATALOGUE_FOR_SECTION[section], {})
                  for section in ("work", "problems", "causes", "measures")}
    limits = {s.kind: s.max_items for s in pack.skeleton.sections}
    fact_groups = _fact_groups(pack)
    fact_specs = [spec for _, specs in fact_groups for spec in specs]
    fact_notes = {spec.key: _fact_note(spec) for spec in fact_specs}
    headers: list[str] = list(COLUMNS)
    groups: list[tuple[str, int, int]] = [("基本信息", 1, len(headers))]
    for title, specs in fact_groups:
        start = len(headers) + 1
        headers += [spec.header for spec in specs]
        groups.append((title, start, len(headers)))
    choices: dict[str, str] = {}  # header -> section of the columns chosen from a drop-down list
    for section, word in (("work", "履职工作"), ("problems", "存在的问题"), ("causes", "原因"), ("measures", "措施（不选则与问题对应）")):
        if not catalogues[section] or section not in limits:
            continue
        start = len(headers) + 1
        columns = item_columns(section, limits[section])
        headers += columns
        choices.update((header, section) for header in columns if not header.endswith("补充"))
        groups.append((word, start, len(headers)))
    if pack.skeleton.section("rectification") is not None:
        start = len(headers) + 1
        for n in range(1, max(rectifications, 2) + 1):
            headers += [f"上年问题{n}", f"整改进度{n}", f"整改情况{n}"]
        groups.append(("上年问题整改情况", start, len(headers)))

    body = [[row.get(header) for header in headers] for row in rows]
    widths = [_width(header) for header in headers]
    table_sheet(sheet, headers, body, widths, title=f"{year or ''}年度党组织书记抓基层党建工作述职事实填报表")
    # The table starts its header at row 2; insert the group row above it.
    sheet.insert_rows(2)
    for title, start, end in groups:
        cell = sheet.cell(row=2, column=start, value=title)
        cell.font = Font(name="宋体", bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
        if end > start:
            sheet.merge_cells(start_row=2, start_column=start, end_row=2, end_column=end)
    sheet.freeze_panes = sheet.cell(row=DATA_START, column=2)
    sheet.print_title_rows = "2:3"
    sheet.auto_filter.ref = f"A3:{get_column_letter(len(headers))}{DATA_START + max(len(rows), 1) - 1}"
    sheet.row_dimensions[3].height = 48

    lists = workbook.create_sheet("条目目录")
    column = 0
    ranges: dict[str, str] = {}
    for section, catalogue in catalogues.items():
        if not catalogue:
            continue
        column += 1
        lists.cell(row=1, column=column, value={"work": "履职工作", "problems": "问题", "causes": "原因", "measures": "措施"}[section])
        for offset, entry in enumerate(catalogue.values(), start=2):
            lists.cell(row=offset, column=column, value=entry.title)
        letter = get_column_letter(column)
        ranges[section] = f"'条目目录'!${letter}$2:${letter}${len(catalogue) + 1}"
    lists.sheet_state = "hidden"

    facts_by_header = {spec.header: spec for spec in fact_specs}
    last = DATA_START + max(len(rows), 200)
    for index, header in enumerate(headers, start=1):
        letter = get_column_letter(index)
        cells = f"{letter}{DATA_START}:{letter}{last}"
        spec = facts_by_header.get(header)
        rule: DataValidation | None = None
        note = META_COMMENTS.get(header, "")
        if spec is not None:
            rule, note = _fact_validation(spec), fact_notes[spec.key]
        elif header == "述职年度":
            rule = DataValidation(type="whole", operator="between", formula1="1990", formula2="2100")
        elif header == "报告日期":
            rule = DataValidation(type="date", operator="greaterThan", formula1="36526")
        elif (chosen := choices.get(header)) is not None:
            if chosen in ranges:
                rule = DataValidation(type="list", formula1=ranges[chosen])
                note = "从下拉列表中选择一个条目"
        elif header.startswith("整改进度"):
            rule = DataValidation(type="list", formula1='"已完成,基本完成,持续推进"')
            note = "选择：已完成、基本完成、持续推进"
        elif header.endswith("补充"):
            note = "可以写一两句本单位的具体做法，会接在这一条的正文后面；可用 {键名} 引用事实"
        if rule is not None:
            rule.error = "这一格的内容不符合要求：" + (note or "请按表头填写")
            rule.errorTitle = "填写有误"
            rule.showErrorMessage = True
            rule.allow_blank = True
            sheet.add_data_validation(rule)
            rule.add(cells)
        if note:
            comment = Comment(note, "reportgen")
            comment.width, comment.height = 240, 80
            sheet.cell(row=3, column=index).comment = comment

    notes = workbook.create_sheet("事实说明")
    table_sheet(notes, ["表头", "键名", "类型", "单位", "说明"],
                [[spec.header, spec.key, spec.type_word, spec.unit_shown, fact_notes[spec.key]] for spec in fact_specs],
                [40, 24, 8, 8, 50], landscape=False)
    workbook.active = 1
    return save_workbook(workbook, created=dated_after(year), properties={"reportgen.kind": "sheet", "reportgen.pack": pack.name,
                                                                "reportgen.pack_version": pack.version})


def _width(header: str) -> float:
    return min(max(len(header) * 1.6 + 2, 8), 22) if not header.startswith(("述职依据", "上年问题", "整改情况")) and not header.endswith("补充") else 30


# A fact type's input rule (DataValidation's arguments) and how to fill it in (the header's comment and
# the 事实说明 sheet's last column).
_FACT_RULES: dict[FactType, tuple[dict[str, str] | None, str]] = {
    "integer": ({"type": "whole", "operator": "greaterThanOrEqual", "formula1": "0"},
                "{label}：填不小于 0 的整数，不带单位“{unit}”"),
    "number": ({"type": "decimal", "operator": "greaterThanOrEqual", "formula1": "0"}, "{label}：填数字，不带单位“{unit}”"),
    "percent": ({"type": "decimal", "operator": "between", "formula1": "0", "formula2": "100"},
                "{label}：填 0—100 的数，如 95 表示 95%"),
    "date": ({"type": "date", "operator": "greaterThan", "formula1": "36526"}, "{label}：填日期"),
    "list": (None, "{label}：几项之间用顿号“、”分隔"),
    "text": (None, "{label}：填文字"),
}


def _fact_validation(spec: FactSpec) -> DataValidation | None:
    """A fresh input rule for one column: a rule object belongs to the columns it was added to."""
    arguments = _FACT_RULES[spec.type][0]
    return DataValidation(**arguments) if arguments is not None else None


def _fact_note(spec: FactSpec) -> str:
    return _FACT_RULES[spec.type][1].format(label=spec.label, unit=spec.unit)

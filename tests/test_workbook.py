"""The fill-in workbook (issue 16): ``reportgen sheet`` writes it, units fill it in Excel, WPS or Calc,
``reportgen build``/``check`` read it back row by row.

Workbooks are read back with openpyxl (what a user's spreadsheet shows) and built with the CLI; the
ones units send back are made in code with openpyxl, some re-saved by LibreOffice Calc.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from conftest import BUILTIN, TEMPLATES, convert, example_data, load_builtin, write_yaml
from reportgen.cli import cli

REPORTGEN = str(Path(sys.executable).with_name("reportgen")) if Path(sys.executable).with_name("reportgen").exists() \
    else (shutil.which("reportgen") or "reportgen")
FIXED = ["单位名称", "述职人姓名", "职务", "述职年度", "上级党组织", "述职依据", "报告日期", "模板包"]
ITEM_RE = re.compile(r"^(履职工作|问题|原因|措施)\d+$")


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def fact_header(spec: Any) -> str:
    unit = "%" if spec.type == "percent" else spec.unit
    return f"{spec.label}（{unit}）" if unit else spec.label


def table(path: Path) -> tuple[Any, int, dict[str, int]]:
    """The 填报 sheet, its header row and the column of each header."""
    book = load_workbook(path)
    sheet = book["填报"]
    for number, row in enumerate(sheet.iter_rows(max_row=10), start=1):
        headers = {str(c.value): c.column for c in row if c.value is not None}
        if "单位名称" in headers:
            return sheet, number, headers
    raise AssertionError("no header row with 单位名称")


def draft_text(path: Path) -> str:
    """A Markdown draft without its last line (the fingerprint)."""
    lines = path.read_text(encoding="utf-8").rstrip("\n").splitlines()
    assert "fingerprint" in lines[-1]
    return "\n".join(lines[:-1])


def md_drafts(folder: Path) -> dict[str, str]:
    return {p.stem: draft_text(p) for p in sorted(folder.glob("*.md"))}


# ---------------------------------------------------------------- what sheet writes


@pytest.mark.parametrize("pack", BUILTIN)
def test_sheet_is_a_workbook_a_clerk_can_fill_in(tmp_path: Path, pack: str) -> None:
    target = tmp_path / "填报表.xlsx"
    result = run("sheet", pack, "-o", str(target))
    assert result.exit_code == 0, result.output
    book = load_workbook(target)
    assert book.sheetnames[0] == "填写说明"
    guide = "\n".join(str(c.value) for row in book["填写说明"].iter_rows() for c in row if c.value)
    assert "单位名称" in guide and "reportgen build" in guide

    sheet, top, headers = table(target)
    assert list(headers)[:len(FIXED)] == FIXED
    model = load_builtin(pack)
    facts = {key for entry in model.catalogues["topics"].values() for key in entry.all_facts()} | set(model.basics())
    for key in sorted(facts):
        assert fact_header(model.facts[key]) in headers, f"no column for {key}（{fact_header(model.facts[key])}）"

    rules: dict[int, Any] = {}
    for rule in sheet.data_validations.dataValidation:
        for cells in rule.sqref.ranges:
            assert cells.min_row == top + 1, f"{rule.sqref} does not start below the header"
            for column in range(cells.min_col, cells.max_col + 1):
                rules[column] = rule
    for key in sorted(facts):
        spec = model.facts[key]
        rule = rules.get(headers[fact_header(spec)])
        if spec.type == "integer":
            assert rule is not None and (rule.type, rule.operator, rule.formula1) == ("whole", "greaterThanOrEqual", "0"), key
        elif spec.type == "percent":
            assert rule is not None and (rule.type, rule.operator, rule.formula1, rule.formula2) == (
                "decimal", "between", "0", "100"), key
        if rule is not None:
            assert rule.showErrorMessage and rule.error
    catalogue = {"履职工作": "topics", "问题": "problems", "原因": "causes", "措施": "measures"}
    items = [h for h in headers if ITEM_RE.match(h)]
    assert any(h.startswith("履职工作") for h in items) and any(h.startswith("问题") for h in items)
    for header in items:
        rule = rules.get(headers[header])
        assert rule is not None and rule.type == "list", header
        sheet_name, cells = str(rule.formula1).rsplit("!", 1)
        listing = book[sheet_name.strip("'")]
        shown = [c.value for row in listing[cells.replace("$", "")] for c in row]
        titles = [entry.title for entry in model.catalogues[catalogue[re.sub(r"\d+$", "", header)]].values()]
        assert shown == titles, header
    progress = [h for h in headers if h.startswith("整改进度")]
    assert bool(progress) == (model.skeleton.section("rectification") is not None)
    for header in progress:
        rule = rules[headers[header]]
        assert rule.type == "list" and rule.formula1.strip('"').split(",") == ["已完成", "基本完成", "持续推进"]

    commented = [h for h, c in headers.items() if sheet.cell(row=top, column=c).comment is not None]
    assert "单位名称" in commented
    assert all(fact_header(model.facts[k]) in commented for k in facts)
    assert sheet.freeze_panes is not None
    assert int(re.sub(r"\D", "", sheet.freeze_panes)) == top + 1  # rows above the data stay in view
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.print_title_rows and str(top) in sheet.print_title_rows.replace("$", "").split(":")[-1]
    assert book.active.title == "填报"


@pytest.mark.parametrize("pack", BUILTIN)
def test_a_sheet_filled_from_the_example_builds_the_same_draft(tmp_path: Path, pack: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(TEMPLATES / pack / "example.yaml", tmp_path / "example.yaml")
    assert run("sheet", pack, "-o", "x.xlsx", "example.yaml").exit_code == 0
    built = run("build", "x.xlsx", "-o", "out", "--format", "md", "-j", "1")
    assert built.exit_code == 0, built.output
    assert run("build", "example.yaml", "--format", "md", "-o", "example.md").exit_code == 0
    drafts = md_drafts(tmp_path / "out")
    assert list(drafts) == [example_data(pack)["meta"]["unit"]]
    expected = draft_text(tmp_path / "example.md")
    got = next(iter(drafts.values()))
    assert got == expected, "\n".join(line for line in set(got.splitlines()) ^ set(expected.splitlines()))


def test_a_workbook_resaved_by_calc_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("sheet", "jiguan", "-o", "填报表.xlsx").exit_code == 0
    book = load_workbook(tmp_path / "填报表.xlsx")
    sheet = book["填报"]
    _, top, headers = table(tmp_path / "填报表.xlsx")
    example = example_data("jiguan")
    model = load_builtin("jiguan")
    for n, unit in enumerate(("青山市财政局机关党委", "青山市水利局机关党委")):
        row = top + 1 + n
        values = {"单位名称": unit, "述职人姓名": f"{'钱孙'[n]}某某", "职务": "书记", "述职年度": 2025,
                  "上级党组织": "青山市直机关工委", "述职依据": "青山市直机关工委的通知", "报告日期": "2026-01-15"}
        for key, value in example["facts"].items():
            values[fact_header(model.facts[key])] = value + n if isinstance(value, int) else value
        for kind, word in (("work", "履职工作"), ("problems", "问题"), ("causes", "原因")):
            catalogue = model.catalogues["topics" if kind == "work" else kind]
            for i, key in enumerate(example[kind], start=1):
                values[f"{word}{i}"] = catalogue[key].title
        for header, value in values.items():
            sheet.cell(row=row, column=headers[header], value=value)
    book.save(tmp_path / "openpyxl.xlsx")
    calc = convert(tmp_path / "openpyxl.xlsx", tmp_path / "calc", "xlsx")

    first = run("build", "openpyxl.xlsx", "-o", "a", "--format", "md", "-j", "1")
    second = run("build", str(calc), "-o", "b", "--format", "md", "-j", "1")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    a, b = md_drafts(tmp_path / "a"), md_drafts(tmp_path / "b")
    assert list(a) == list(b) == ["青山市水利局机关党委", "青山市财政局机关党委"]
    assert a == b
    assert re.search(r"(?<!\d)16次", b["青山市水利局机关党委"])  # study_sessions 15 + 1, as typed
    assert "赵志刚" not in "".join(b.values())


# ---------------------------------------------------------------- what a clerk types


def clerks_workbook(path: Path, rows: list[dict[str, Any]], *, number_formats: dict[tuple[int, str], str] | None = None,
                    extra: str | None = None) -> dict[str, int]:
    """A workbook a committee made itself: a cover sheet first, a merged title and merged group cells
    above the headers, the 职务 column hidden, a blank row between units; ``extra``: a column of the
    committee's own.  Returns the column of each header."""
    model = load_builtin("jiguan")
    example = example_data("jiguan")
    headers = [*FIXED[:7], *([extra] if extra else [])]
    headers += [fact_header(model.facts[k]) for k in example["facts"]]
    headers += [f"履职工作{i}" for i in range(1, 6)] + [f"问题{i}" for i in range(1, 4)] + [f"原因{i}" for i in range(1, 4)]
    headers += [f"措施{i}" for i in range(1, 4)]
    book = Workbook()
    cover = book.active
    cover.title = "封面"
    cover["A1"] = "2025年度述职事实收集"
    cover["A3"] = "请填写第二张表"
    sheet = book.create_sheet("各单位")
    sheet["A1"] = "2025年度党组织书记述职事实填报表"
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    basics = 7 + (1 if extra else 0)
    sheet.cell(row=2, column=1, value="基本信息")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=basics)
    sheet.cell(row=2, column=basics + 1, value="事实")
    sheet.merge_cells(start_row=2, start_column=basics + 1, end_row=2, end_column=len(headers))
    for column, header in enumerate(headers, start=1):
        sheet.cell(row=3, column=column, value=header)
    column = {h: i for i, h in enumerate(headers, start=1)}
    sheet.column_dimensions[get_column_letter(column["职务"])].hidden = True
    for n, values in enumerate(rows):
        row = 4 + 2 * n  # a blank row between units
        for header, value in values.items():
            if header not in column:
                continue
            cell = sheet.cell(row=row, column=column[header], value=value)
            fmt = (number_formats or {}).get((n, header))
            if fmt:
                cell.number_format = fmt
    book.save(path)
    return column


def unit_row(unit: str, **changes: Any) -> dict[str, Any]:
    model = load_builtin("jiguan")
    example = example_data("jiguan")
    values: dict[str, Any] = {"单位名称": unit, "述职人姓名": "钱某某", "职务": "书记", "述职年度": 2025,
                              "上级党组织": "青山市直机关工委", "述职依据": "青山市直机关工委的通知", "报告日期": "2026-01-15",
                              "备注": "内部备注，不进稿子"}
    values.update({fact_header(model.facts[k]): v for k, v in example["facts"].items()})
    for kind, word in (("work", "履职工作"), ("problems", "问题"), ("causes", "原因")):
        catalogue = model.catalogues["topics" if kind == "work" else kind]
        values.update({f"{word}{i}": catalogue[key].title for i, key in enumerate(example[kind], start=1)})
    measures = model.catalogues["measures"]  # chosen, not left to mirror the problems
    values.update({f"措施{i}": measures[model.catalogues["problems"][key].measure].title
                   for i, key in enumerate(example["problems"], start=1)})
    values.update(changes)
    return values


SESSIONS = "理论学习中心组集中学习次数（次）"
RATE = "服务对象满意率（%）"


def test_cells_as_clerks_type_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rows = [
        unit_row("青山市财政局机关党委", **{SESSIONS: "12次"}),
        unit_row("青山市水利局机关党委", **{SESSIONS: "１２", RATE: "95%"}),
        unit_row("青山市统计局机关党委", **{SESSIONS: 13, RATE: 0.95}),
    ]
    column = clerks_workbook(tmp_path / "填报表.xlsx", rows, number_formats={(2, RATE): "0%"})
    result = run("build", "填报表.xlsx", "-o", "out", "--format", "md", "-j", "1")
    assert result.exit_code == 1, result.output
    letter = get_column_letter(column[SESSIONS])
    lines = result.output.splitlines()
    at = next((i for i, ln in enumerate(lines) if f"填报表.xlsx 第4行 {letter}列“{SESSIONS}”：" in ln), None)
    assert at is not None, result.output
    # the console table fits the terminal: a long message goes on over lines indented further
    depth = len(lines[at]) - len(lines[at].lstrip())
    more = itertools.takewhile(lambda ln: len(ln) - len(ln.lstrip()) > depth, lines[at + 1:])
    line = "".join(part.strip() for part in [lines[at], *more])
    assert "不要带单位“次”" in line
    drafts = md_drafts(tmp_path / "out")
    assert sorted(drafts) == sorted(["青山市统计局机关党委", "青山市水利局机关党委"])  # the bad row stops nobody else
    water, stats = drafts["青山市水利局机关党委"], drafts["青山市统计局机关党委"]
    assert re.search(r"(?<!\d)12次", water) and "95%" in water and "98.6%" not in water
    assert "95%" in stats and "0.95" not in stats and "98.6%" not in stats
    assert "书记　钱某某" in water  # the hidden 职务 column is read
    summary = load_workbook(tmp_path / "out" / "汇总.xlsx").worksheets[0]
    units = [row[1] for row in summary.iter_rows(min_row=3, values_only=True) if row[0] is not None]
    assert units == ["青山市财政局机关党委", "青山市水利局机关党委", "青山市统计局机关党委"]


def test_a_column_of_the_committees_own_does_not_stop_the_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """inputs/workbook.py: “Columns are found by their header text (hidden, moved or extra columns do not
    matter)”: a committee's own 备注 column is not a fact."""
    monkeypatch.chdir(tmp_path)
    clerks_workbook(tmp_path / "填报表.xlsx", [unit_row("青山市财政局机关党委")], extra="备注")
    result = run("build", "填报表.xlsx", "-o", "out", "--format", "md", "-j", "1")
    assert result.exit_code == 0, result.output
    drafts = md_drafts(tmp_path / "out")
    assert list(drafts) == ["青山市财政局机关党委"]
    assert "内部备注" not in drafts["青山市财政局机关党委"]


def test_check_lists_per_row_what_is_wrong_and_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    complete = unit_row("青山市财政局机关党委")
    missing = unit_row("青山市水利局机关党委")
    del missing[SESSIONS]  # a required fact left blank
    wrong = unit_row("青山市统计局机关党委", **{SESSIONS: "十二次", RATE: 120})
    clerks_workbook(tmp_path / "填报表.xlsx", [complete, missing, wrong])
    result = run("check", "填报表.xlsx")
    assert result.exit_code == 1, result.output
    out = result.output
    assert "3 行" in out
    wrong_part = out[out.index("第8行"):]
    assert SESSIONS in wrong_part and RATE in wrong_part
    missing_line = next(ln for ln in out.splitlines() if "第6行" in ln)
    assert "青山市水利局机关党委" in missing_line and "待补充" in missing_line and "理论学习中心组集中学习次数" in missing_line
    assert not any("第4行" in ln and ("待补充" in ln or "✗" in ln) for ln in out.splitlines())
    assert (tmp_path / "out").exists() is False


# ---------------------------------------------------------------- hostile workbooks


def _sheet(tmp_path: Path) -> Path:
    path = tmp_path / "base.xlsx"
    clerks_workbook(path, [unit_row("青山市财政局机关党委")])
    return path


def _bomb(tmp_path: Path, target: Path) -> None:
    with zipfile.ZipFile(_sheet(tmp_path)) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info, source.read(info))
        out.writestr("xl/media/image1.bin", b"\0" * (300 * 1024 * 1024))


def _formula(tmp_path: Path, target: Path) -> None:
    book = load_workbook(_sheet(tmp_path))
    book["各单位"]["I4"] = "=SUM(1,2)"
    book.save(target)


def _external_link(tmp_path: Path, target: Path) -> None:
    rel = ('<Relationship Id="rIdLink" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
           'externalLink" Target="externalLinks/externalLink1.xml"/>')
    part = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><externalLink '
            'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><externalBook r:id="rId1"/>'
            '</externalLink>')
    part_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships '
                 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
                 'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
                 'Target="file:///C:/机密/各单位考核.xlsx" TargetMode="External"/></Relationships>')
    with zipfile.ZipFile(_sheet(tmp_path)) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType='
                                    b'"application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>')
            out.writestr(info, data)
        out.writestr("xl/externalLinks/externalLink1.xml", part)
        out.writestr("xl/externalLinks/_rels/externalLink1.xml.rels", part_rels)


def _xls(tmp_path: Path, target: Path) -> None:
    target.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 8192)


def _rows(tmp_path: Path, target: Path) -> None:
    book = load_workbook(_sheet(tmp_path))
    sheet = book["各单位"]
    for row in range(5, 6005):
        sheet.cell(row=row, column=1, value=f"第{row}个单位")
    book.save(target)


@pytest.mark.parametrize(("make", "words"), [
    (_bomb, "压缩炸弹"), (_formula, "公式"), (_external_link, "外部链接"), (_xls, "旧版 Excel"), (_rows, "5000 行"),
], ids=["zip-bomb", "formula", "external-link", "xls-renamed", "6000-rows"])
@pytest.mark.parametrize("command", ["build", "check"])
def test_hostile_workbooks_are_refused(tmp_path: Path, make: Any, words: str, command: str) -> None:
    target = tmp_path / "填报表.xlsx"
    make(tmp_path, target)
    args = [REPORTGEN, command, str(target)] + (["-o", str(tmp_path / "out")] if command == "build" else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    message = done.stdout + done.stderr
    assert done.returncode == 1, message
    assert words in message and "填报表.xlsx" in message, message
    assert "Traceback" not in message
    assert "模板包" not in message, f"the message about a fill-in workbook talks about template packs:\n{message}"
    assert not list(tmp_path.glob("out/*.docx"))


# ---------------------------------------------------------------- many rows


def test_five_hundred_rows_in_one_command(tmp_path: Path) -> None:
    write_yaml(tmp_path / "example.yaml", example_data("qiye"))
    assert run("sheet", "qiye", "-o", str(tmp_path / "one.xlsx"), str(tmp_path / "example.yaml")).exit_code == 0
    book = load_workbook(tmp_path / "one.xlsx")
    sheet = book["填报"]
    _, top, headers = table(tmp_path / "one.xlsx")
    first = [c.value for c in sheet[top + 1]]
    for n in range(500):
        for column, value in enumerate(first, start=1):
            sheet.cell(row=top + 1 + n, column=column, value=value)
        sheet.cell(row=top + 1 + n, column=headers["单位名称"], value=f"青山市第{n + 1:03d}分公司党支部")
        sheet.cell(row=top + 1 + n, column=headers["述职人姓名"], value=f"{'赵钱孙李周吴郑王'[n % 8]}{n + 1}号")
    book.save(tmp_path / "填报表.xlsx")
    done = subprocess.run([REPORTGEN, "build", "填报表.xlsx", "-o", "out", "-j", "2"], capture_output=True, text=True,
                          timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    drafts = sorted((tmp_path / "out").glob("*.docx"))
    assert [p.stem for p in drafts] == [f"青山市第{n + 1:03d}分公司党支部" for n in range(500)]
    summary = load_workbook(tmp_path / "out" / "汇总.xlsx").worksheets[0]
    rows = [row for row in summary.iter_rows(min_row=3, values_only=True) if row[0] is not None]
    assert len(rows) == 500
    assert [row[0] for row in rows] == list(range(1, 501))
    assert {row[1] for row in rows} == {p.stem for p in drafts}

"""Next year's profile (issue 15): ``reportgen next`` from this year's profile, the 整改台账 round trip,
and last year's report as a Word (or text) file.

Everything is built in code: profiles from the packs' example profiles, last year's Word files with
python-docx (never with reportgen), ledgers edited in LibreOffice Calc.

How the ledger is edited in Calc here: this LibreOffice (7.4, Debian packages) ships without its
Python-UNO bridge — there is no /usr/lib/libreoffice/program/python and no ``uno`` module for any
Python on the machine — so a UNO script cannot drive Calc.  What works, and what the test does, is the
round trip a clerk without Excel makes: Calc exports the workbook as CSV (``soffice --headless
--convert-to "csv:Text - txt - csv (StarCalc):44,34,76"``, UTF-8), the test edits the CSV text, and Calc
imports the CSV and saves it as .xlsx (``soffice --headless --infilter=CSV:44,34,76,1 --convert-to xlsx``).
The workbook reportgen reads back is therefore one that LibreOffice Calc wrote, not openpyxl.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from conftest import (
    BUILTIN,
    MINI_FACTS,
    TEMPLATES,
    W_NS,
    convert,
    docx_texts,
    load_builtin,
    make_mini_pack,
    mini_profile,
    mini_prose,
    soffice,
    text_of,
    write_yaml,
)
from reportgen.cli import cli

REPORTGEN = str(Path(sys.executable).with_name("reportgen")) if Path(sys.executable).with_name("reportgen").exists() \
    else (shutil.which("reportgen") or "reportgen")
HEADING_RE = re.compile(r"^[一二三四五六七八九十]+、")
CHANGE_RE = re.compile(r"较上年(?:增加|减少|提高|下降)|与上年持平")
LEDGER_HEADERS = ["序号", "单位", "问题", "来源", "整改措施", "责任人", "完成时限", "进展情况", "是否销号"]
STATUSES = ("已完成", "基本完成", "持续推进")


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def copy_example(pack: str, folder: Path, name: str = "example.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    shutil.copyfile(TEMPLATES / pack / "example.yaml", target)
    return target


def example(pack: str) -> dict[str, Any]:
    data = yaml.safe_load((TEMPLATES / pack / "example.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def shown(value: Any) -> str:
    """A fact value as a person writes it: 11, 98.6, a list joined with 、."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "、".join(map(str, value))
    return str(value)


def section(texts: list[str], word: str) -> list[str]:
    """The paragraphs of the top-level section whose heading contains ``word`` (heading excluded)."""
    start = next((i for i, t in enumerate(texts) if HEADING_RE.match(t) and word in t), None)
    assert start is not None, f"no section with “{word}” in its heading: {[t for t in texts if HEADING_RE.match(t)]}"
    end = next((i for i in range(start + 1, len(texts)) if HEADING_RE.match(texts[i])), len(texts))
    return texts[start + 1:end]


def variant_texts(variants: Any) -> list[str]:
    return ["".join(part for part in variant.segments if isinstance(part, str)) for variant in variants]


def example_draft_text(pack: str, folder: Path) -> str:
    profile = copy_example(pack, folder, "last.yaml")
    result = run("build", str(profile), "-o", str(folder / "last.docx"))
    assert result.exit_code == 0, result.output
    return "\n".join(docx_texts(folder / "last.docx"))


# ---------------------------------------------------------------- next from this year's profile


@pytest.mark.parametrize("pack", BUILTIN)
def test_next_writes_next_years_profile(tmp_path: Path, pack: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = copy_example(pack, tmp_path)
    last = example(pack)
    result = run("next", "example.yaml", "-o", "2026.yaml")
    assert result.exit_code == 0, result.output
    assert "2026.yaml" in result.output
    text = (tmp_path / "2026.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)

    assert re.fullmatch(rf"{pack}\s*(>=|~=|==)\s*\d+(\.\d+)*", str(data["pack"])), data["pack"]
    meta = data["meta"]
    assert meta["year"] == last["meta"]["year"] + 1 == 2026
    for key in ("unit", "name", "position"):
        assert meta[key] == last["meta"][key]
    assert meta.get("basis") in (None, "") and meta.get("date") in (None, "")

    # every fact blank; last year's own facts say “上年：N” in their comment
    assert data["facts"], "no facts to fill in"
    assert all(value is None for value in data["facts"].values()), {k: v for k, v in data["facts"].items() if v is not None}
    for key, value in last["facts"].items():
        line = next((ln for ln in text.splitlines() if re.match(rf"\s+{key}:", ln)), None)
        assert line is not None, f"fact {key} is not in next year's profile"
        assert re.match(rf"\s+{key}:\s*#", line), line
        assert line.rstrip().endswith(f"上年：{shown(value)}"), line

    # last_year: the year, the problems chosen, every fact as it was
    assert data["last_year"]["year"] == last["meta"]["year"]
    assert data["last_year"]["problems"] == last["problems"]
    assert {k: shown(v) for k, v in data["last_year"]["facts"].items()} == {k: shown(v) for k, v in last["facts"].items()}

    # rectification: last year's problems, in order, with the measures promised for them
    draft = example_draft_text(pack, tmp_path / "draft")
    entries = data["rectification"]
    assert len(entries) == len(last["problems"])
    problems = load_builtin(pack).catalogues["problems"]
    chosen_measures = last.get("measures")
    for key, entry in zip(last["problems"], entries, strict=True):
        assert entry["problem"] and entry["problem"] in draft, entry
        assert entry.get("status") is None and entry.get("action") is None
        link = problems[key].measure
        if chosen_measures is None or link in chosen_measures:
            assert entry["measure"], f"problem {key}: its measure {link} was promised but is not carried"
        if entry["measure"]:
            assert entry["measure"] in draft, entry["measure"]
    assert source.read_text(encoding="utf-8") == (TEMPLATES / pack / "example.yaml").read_text(encoding="utf-8")


def fill_in(path: Path, *, removed: tuple[str, ...] = ()) -> tuple[dict[str, Any], dict[str, str]]:
    """Fill next year's profile the way a clerk would (values, statuses, actions); compare facts change by
    distinct amounts.  Returns the data and the 同比 clause expected for each compare fact with both years."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pack = load_builtin(str(data["pack"]).split(">")[0].split("=")[0].strip())
    last = data["last_year"]["facts"]
    expected: dict[str, str] = {}
    step = 0
    for key, value in last.items():
        spec = pack.facts[key]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if spec.compare and spec.type != "percent":
                step += 1
                delta = [0, step + 1, -1][step % 3] if value > 1 else step + 1
                new = value + delta
                data["facts"][key] = new
                unit = spec.unit_shown
                expected[key] = ("与上年持平" if delta == 0 else
                                 f"较上年{'增加' if delta > 0 else '减少'}{shown(abs(delta))}{unit}")
            else:
                data["facts"][key] = value
        else:
            data["facts"][key] = value
    for key in removed:
        del data["last_year"]["facts"][key]
        expected.pop(key, None)
    for index, entry in enumerate(data["rectification"]):
        entry["status"] = STATUSES[index % 3]
        entry["action"] = f"第{index + 1}项整改：逐条细化举措，按月调度推进"
    data["meta"]["basis"] = "上级党组织关于开展年度述职评议考核的通知"
    data["meta"]["date"] = "2027-01-12"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return data, expected


def filled_next_year(tmp_path: Path, pack: str) -> tuple[dict[str, Any], dict[str, str], list[str], Any, tuple[str, ...]]:
    """next example.yaml, filled in (one compare fact gets no last-year value), built to .docx: the data,
    the expected 同比 clauses, the draft's paragraphs, the draft in memory and the facts without last year."""
    from reportgen import core

    copy_example(pack, tmp_path)
    assert run("next", str(tmp_path / "example.yaml"), "-o", str(tmp_path / "2026.yaml")).exit_code == 0
    compare_keys = [k for k in example(pack)["facts"] if load_builtin(pack).facts[k].compare]
    without_last = tuple(compare_keys[:1])
    data, expected = fill_in(tmp_path / "2026.yaml", removed=without_last)
    result = run("build", str(tmp_path / "2026.yaml"), "-o", str(tmp_path / "2026.docx"))
    assert result.exit_code == 0, result.output
    return data, expected, docx_texts(tmp_path / "2026.docx"), core.check(tmp_path / "2026.yaml"), without_last


@pytest.mark.parametrize("pack", BUILTIN)
def test_filled_in_next_year_reports_on_every_problem_of_last_year(tmp_path: Path, pack: str) -> None:
    data, _, texts, draft, _ = filled_next_year(tmp_path, pack)
    frame = load_builtin(pack).frame
    if load_builtin(pack).skeleton.section("rectification") is not None:
        rect = section(texts, "整改")
        for entry in data["rectification"]:
            paragraph = next((t for t in rect if entry["problem"] in t), None)
            assert paragraph is not None, f"last year's problem “{entry['problem']}” is not in the rectification section"
            assert entry["action"] in paragraph
            assert any(sentence in paragraph for sentence in variant_texts(frame.statuses[entry["status"]])), paragraph
    else:  # the pack has no such section: what the user filled in must not vanish without a word
        full = "\n".join(texts)
        notes = "\n".join(w.message for w in draft.warnings)
        for entry in data["rectification"]:
            assert entry["problem"] in full or "整改" in notes or "rectification" in notes, (
                f"{pack}: the rectification entries (“{entry['problem']}” …) were dropped without a warning; "
                f"warnings: {notes}")


@pytest.mark.parametrize("pack", BUILTIN)
def test_filled_in_next_year_compares_with_last_year(tmp_path: Path, pack: str) -> None:
    data, expected, texts, draft, without_last = filled_next_year(tmp_path, pack)
    full = "\n".join(texts)
    said = [key for key in expected if key in draft.said]
    assert said, f"{pack}: no compare fact with both years is said in the draft"
    specs = load_builtin(pack).facts
    written = {key: f"{shown(data['facts'][key])}{specs[key].unit_shown}" for key in said}
    without = [f"{key}（“{written[key]}”, expected “{expected[key]}”）" for key in said
               if not re.search(rf"(?<![\d.]){re.escape(written[key])}[^。；\n]*?，{expected[key]}", full)]
    assert not without, f"{pack}: compare facts said without their 同比 clause: {without}"
    # facts without last year's value are still said, with no clause; no clause for any other fact either
    assert without_last and all(data["facts"][k] is not None and k not in data["last_year"]["facts"] for k in without_last)
    for key in without_last:
        value = f"{shown(data['facts'][key])}{specs[key].unit_shown}"
        assert re.search(rf"(?<![\d.]){re.escape(value)}", full), f"{key}: “{value}” is not in the draft"
    assert len(CHANGE_RE.findall(full)) == len(said), (said, CHANGE_RE.findall(full))


def test_change_clauses_say_more_less_same_and_percentage_points(tmp_path: Path) -> None:
    facts = {
        **MINI_FACTS,
        "sessions": {"label": "集中学习次数", "unit": "次", "compare": True, "phrase": ["组织集中学习{}"]},
        "talks": {"label": "谈心谈话人次", "unit": "人次", "compare": True, "phrase": ["开展谈心谈话{}"]},
        "visits": {"label": "走访次数", "unit": "次", "compare": True, "phrase": ["走访基层{}"]},
        "share": {"label": "党员参与率", "type": "percent", "compare": True, "phrase": ["党员参与率达到{}"]},
        "fresh": {"label": "新开展的调研次数", "unit": "次", "compare": True, "phrase": ["新开展调研{}"]},
        "plain": {"label": "简报期数", "unit": "期", "phrase": ["编发简报{}"]},
    }
    pack = make_mini_pack(tmp_path / "mini", manifest={"facts": facts})
    profile = mini_profile(pack, facts={"sessions": 12, "talks": 30, "visits": 9, "share": 96, "fresh": 4, "plain": 6},
                           work=[{"key": "alpha", "facts": ["sessions", "talks", "visits", "share", "fresh", "plain"]},
                                 "beta", "gamma"],
                           last_year={"year": 2024, "facts": {"sessions": 10, "talks": 35, "visits": 9, "share": 94.5,
                                                              "plain": 4}})
    path = write_yaml(tmp_path / "p.yaml", profile)
    result = run("build", str(path), "--format", "md", "-o", str(tmp_path / "p.md"))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "p.md").read_text(encoding="utf-8")
    assert "组织集中学习12次，较上年增加2次" in text
    assert "开展谈心谈话30人次，较上年减少5人次" in text
    assert "走访基层9次，与上年持平" in text
    assert "党员参与率达到96%，较上年提高1.5个百分点" in text
    assert re.search(r"新开展调研4次(?!，较上年|，与上年)", text)  # no last year: no comparison
    assert re.search(r"编发简报6期(?!，较上年|，与上年)", text)  # not a compare fact
    assert len(CHANGE_RE.findall(text)) == 4


def test_a_fact_without_last_years_value_is_still_said(tmp_path: Path) -> None:
    """Prose that says a fact together with its 同比 (“[，全年组织学习{sessions}，{sessions.change}]”) must not
    lose the fact itself when there is no last year to compare with."""
    pack = make_mini_pack(tmp_path / "mini")
    prose = mini_prose()
    prose["topics"]["alpha"]["points"]["a1"] = {
        "lead": ["甲一要点"], "facts": ["sessions"], "text": [["甲项第一要点正文[，全年组织学习{sessions}，{sessions.change}]。"]]}
    write_yaml(pack / "prose" / "topics.yaml", prose["topics"])
    with_last = mini_profile(pack, last_year={"year": 2024, "facts": {"sessions": 10}})
    assert "全年组织学习12次，较上年增加2次" in text_of(tmp_path, with_last, "a.yaml")
    text = text_of(tmp_path, mini_profile(pack), "b.yaml")
    assert "12次" in text, text
    assert not CHANGE_RE.search(text)


@pytest.mark.parametrize("pack", BUILTIN)
def test_compare_facts_are_said_in_every_wording_without_last_year(pack: str, tmp_path: Path) -> None:
    """A first year has no last_year: every compare fact the example gives must still be in the draft,
    whichever variant the unit's name picks."""
    from reportgen import core

    specs = load_builtin(pack).facts
    lost: list[str] = []
    for n, unit in enumerate(("青山市财政局机关党委", "青山市统计局机关党委", "青山市水利局机关党委", "青山市商务局机关党委",
                              "青山市审计局机关党委", "青山市民政局机关党委", "青山市林业局机关党委", "青山市档案馆机关党委")):
        data = example(pack)
        data["meta"] = {**data["meta"], "unit": unit, "name": "钱某某"}
        draft = core.check(write_yaml(tmp_path / f"{n}.yaml", data))
        for key, value in data["facts"].items():
            if specs[key].compare and isinstance(value, (int, float)):
                written = f"{shown(value)}{specs[key].unit_shown}"
                if not re.search(rf"(?<![\d.]){re.escape(written)}", draft.document.text):
                    lost.append(f"{unit}: {key}={written}")
    assert not lost, f"{pack}: facts given but missing from the draft: {lost}"


def test_next_never_overwrites_without_force_and_keeps_a_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    copy_example("jiguan", tmp_path)
    mine = "# 我自己写了一半的 2026 年资料\nmeta:\n  unit: 我的单位\n"
    (tmp_path / "2026.yaml").write_text(mine, encoding="utf-8")
    result = run("next", "example.yaml", "-o", "2026.yaml")
    assert result.exit_code == 1
    assert "2026.yaml" in result.output and "--force" in result.output
    assert (tmp_path / "2026.yaml").read_text(encoding="utf-8") == mine

    # a profile next wrote itself is not replaced unasked either
    assert run("next", "example.yaml", "-o", "other.yaml").exit_code == 0
    written = (tmp_path / "other.yaml").read_text(encoding="utf-8")
    again = run("next", "example.yaml", "-o", "other.yaml")
    assert again.exit_code == 1 and (tmp_path / "other.yaml").read_text(encoding="utf-8") == written

    forced = run("next", "example.yaml", "-o", "2026.yaml", "--force")
    assert forced.exit_code == 0, forced.output
    backups = sorted(tmp_path.glob("2026.备份-*.yaml"))
    assert len(backups) == 1 and backups[0].read_text(encoding="utf-8") == mine
    assert backups[0].name in forced.output
    assert yaml.safe_load((tmp_path / "2026.yaml").read_text(encoding="utf-8"))["meta"]["year"] == 2026


# ---------------------------------------------------------------- 整改台账


def ledger_rows(path: Path) -> tuple[Any, list[list[Any]]]:
    from openpyxl import load_workbook

    sheet = load_workbook(path).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    return sheet, rows


def header_index(rows: list[list[Any]]) -> int:
    return next(i for i, row in enumerate(rows) if [str(c) if c is not None else None for c in row[:9]] == LEDGER_HEADERS)


def test_ledger_workbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    copy_example("jiguan", tmp_path)
    result = run("ledger", "example.yaml", "-o", "整改台账.xlsx")
    assert result.exit_code == 0, result.output
    sheet, rows = ledger_rows(tmp_path / "整改台账.xlsx")
    top = header_index(rows)
    body = [row for row in rows[top + 1:] if any(c is not None for c in row)]
    assert run("next", "example.yaml", "-o", "n.yaml").exit_code == 0
    next_year = yaml.safe_load((tmp_path / "n.yaml").read_text(encoding="utf-8"))
    expected = [(e["problem"], e["measure"] or None) for e in next_year["rectification"]]
    assert [(row[2], row[4]) for row in body] == expected
    assert [row[0] for row in body] == list(range(1, len(body) + 1))
    assert {row[1] for row in body} == {example("jiguan")["meta"]["unit"]}
    assert {row[5] for row in body} == {example("jiguan")["meta"]["name"]}
    assert all(row[7] is None and row[8] is None for row in body)
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.print_title_rows and str(top + 1) in sheet.print_title_rows


def calc_round_trip(xlsx: Path, folder: Path, edit: Any) -> Path:
    """``xlsx`` exported to CSV by LibreOffice Calc, edited by ``edit(rows)``, imported again by Calc and
    saved as .xlsx (see the module docstring for why this route)."""
    folder.mkdir(parents=True, exist_ok=True)
    exported = convert(xlsx, folder, "csv:Text - txt - csv (StarCalc):44,34,76")
    rows = list(csv.reader(exported.read_text(encoding="utf-8").splitlines()))
    edit(rows)
    edited = folder / "台账.csv"
    with edited.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    out = folder / "calc"
    out.mkdir(exist_ok=True)
    subprocess.run([soffice(), f"-env:UserInstallation={(folder / 'lo-profile').as_uri()}", "--headless", "--norestore",
                    "--infilter=CSV:44,34,76,1", "--convert-to", "xlsx", "--outdir", str(out), str(edited)],
                   capture_output=True, timeout=240, check=False)
    result = out / "台账.xlsx"
    assert result.is_file(), "LibreOffice Calc did not write the edited ledger"
    return result


STRAY = "机关食堂浪费现象仍有发生"
DONE_TEXT = "已组织专题研学4次，形成学习成果转化清单"
GOING_TEXT = "一支部一特色创建已覆盖6个支部，其余正在推进"


@pytest.fixture(scope="module")
def calc_ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The jiguan example's 整改台账 edited in LibreOffice Calc: the first problem closed (是), the second
    in progress (否), the third's row deleted, a row added for a problem the profile does not have.
    Returns the folder (example.yaml, 整改台账.xlsx, calc/台账.xlsx) and the three problems."""
    folder = tmp_path_factory.mktemp("ledger")
    copy_example("jiguan", folder)
    assert run("ledger", str(folder / "example.yaml"), "-o", str(folder / "整改台账.xlsx")).exit_code == 0
    assert run("next", str(folder / "example.yaml"), "-o", str(folder / "plain.yaml")).exit_code == 0
    carried = yaml.safe_load((folder / "plain.yaml").read_text(encoding="utf-8"))["rectification"]
    problems = [entry["problem"] for entry in carried]
    assert len(problems) >= 3
    done, going, dropped = problems[:3]

    def edit(rows: list[list[str]]) -> None:
        top = next(i for i, row in enumerate(rows) if row[:9] == LEDGER_HEADERS)
        by_problem = {row[2]: row for row in rows[top + 1:] if len(row) > 2}
        by_problem[done][7], by_problem[done][8] = DONE_TEXT, "是"
        by_problem[going][7], by_problem[going][8] = GOING_TEXT, "否"
        rows.remove(by_problem[dropped])
        rows.append(["9", by_problem[done][1], STRAY, "巡察反馈", "建立用餐登记制度", "赵志刚", "", "已制定制度", "否"])

    calc_round_trip(folder / "整改台账.xlsx", folder / "lo", edit)
    return folder, problems[:3]


def test_next_reads_the_ledger_edited_in_calc(tmp_path: Path, calc_ledger: tuple[Path, list[str]],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    folder, (done, going, dropped) = calc_ledger
    monkeypatch.chdir(tmp_path)
    copy_example("jiguan", tmp_path)
    shutil.copyfile(folder / "lo" / "calc" / "台账.xlsx", tmp_path / "台账.xlsx")
    result = run("next", "example.yaml", "--ledger", "台账.xlsx", "-o", "2026.yaml")
    assert result.exit_code == 0, result.output
    entries = {e["problem"]: e for e in yaml.safe_load((tmp_path / "2026.yaml").read_text(encoding="utf-8"))["rectification"]}
    assert (entries[done]["status"], entries[done]["action"]) == ("已完成", DONE_TEXT)
    assert (entries[going]["status"], entries[going]["action"]) == ("持续推进", GOING_TEXT)
    assert entries[dropped].get("status") is None and entries[dropped].get("action") is None
    assert f"“{STRAY}”" in result.output, result.output
    assert f"“{dropped}”" in result.output, f"next --ledger does not name the problem without a ledger row:\n{result.output}"


def test_build_reads_the_ledger_edited_in_calc(tmp_path: Path, calc_ledger: tuple[Path, list[str]],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    folder, (done, going, dropped) = calc_ledger
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(folder / "plain.yaml", tmp_path / "2026.yaml")
    shutil.copyfile(folder / "lo" / "calc" / "台账.xlsx", tmp_path / "台账.xlsx")
    result = run("build", "2026.yaml", "--ledger", "台账.xlsx", "-o", "2026.docx")
    assert result.exit_code == 0, result.output
    assert f"“{STRAY}”" in result.output and f"“{dropped}”" in result.output, result.output
    rect = section(docx_texts(tmp_path / "2026.docx"), "整改")
    frame = load_builtin("jiguan").frame
    first = next(t for t in rect if done in t)
    assert DONE_TEXT in first
    assert any(s in first for s in variant_texts(frame.statuses["已完成"])), first
    second = next(t for t in rect if going in t)
    assert GOING_TEXT in second
    assert any(s in second for s in variant_texts(frame.statuses["持续推进"])), second
    third = next(t for t in rect if dropped in t)
    assert "【待补充" in third  # no row, nothing written: still to be filled in
    assert not any(STRAY in t for t in rect)


def test_next_and_build_match_ledger_rows_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ledger row whose problem differs only in punctuation (a full stop typed after it) is the same
    problem for ``build --ledger``; ``next --ledger`` must read it the same way."""
    from openpyxl import load_workbook

    monkeypatch.chdir(tmp_path)
    copy_example("jiguan", tmp_path)
    assert run("ledger", "example.yaml", "-o", "台账.xlsx").exit_code == 0
    book = load_workbook(tmp_path / "台账.xlsx")
    sheet = book.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    top = header_index(rows)
    problem = rows[top + 1][2]
    sheet.cell(row=top + 2, column=3, value=f"{problem}。")
    sheet.cell(row=top + 2, column=8, value="已整改到位")
    sheet.cell(row=top + 2, column=9, value="是")
    book.save(tmp_path / "台账2.xlsx")

    assert run("next", "example.yaml", "-o", "2026.yaml").exit_code == 0
    built = run("build", "2026.yaml", "--ledger", "台账2.xlsx", "--format", "md", "-o", "2026.md")
    assert built.exit_code == 0 and f"“{problem}。”" not in built.output, built.output
    result = run("next", "example.yaml", "--ledger", "台账2.xlsx", "-o", "2026b.yaml")
    assert result.exit_code == 0, result.output
    entry = yaml.safe_load((tmp_path / "2026b.yaml").read_text(encoding="utf-8"))["rectification"][0]
    assert (entry["status"], entry["action"]) == ("已完成", "已整改到位"), (entry, result.output)


def test_ledger_of_a_folder_has_every_unit(tmp_path: Path) -> None:
    folder = tmp_path / "各单位"
    units = {"青山市财政局机关党委": "钱某某", "青山市水利局机关党委": "孙某某", "青山市统计局机关党委": "李某某"}
    expected: list[tuple[str, str]] = []
    for n, (unit, name) in enumerate(units.items()):
        data = example("jiguan")
        data["meta"] = {**data["meta"], "unit": unit, "name": name}
        write_yaml(folder / f"{n}.yaml", data)
    for n, (unit, _) in enumerate(units.items()):
        assert run("next", str(folder / f"{n}.yaml"), "-o", str(tmp_path / f"next{n}.yaml")).exit_code == 0
        carried = yaml.safe_load((tmp_path / f"next{n}.yaml").read_text(encoding="utf-8"))["rectification"]
        expected += [(unit, e["problem"]) for e in carried]
    result = run("ledger", str(folder), "-o", str(tmp_path / "台账.xlsx"))
    assert result.exit_code == 0, result.output
    _, rows = ledger_rows(tmp_path / "台账.xlsx")
    body = [row for row in rows[header_index(rows) + 1:] if any(c is not None for c in row)]
    assert sorted((row[1], row[2]) for row in body) == sorted(expected)
    assert {row[1]: row[5] for row in body} == units
    assert [row[0] for row in body] == list(range(1, len(body) + 1))
    assert f"{len(expected)} 个问题" in result.output


def test_a_folder_ledger_fills_each_unit_from_its_own_rows(tmp_path: Path) -> None:
    """Units of one folder chose the same problems: each unit's statuses come from its own rows only."""
    from openpyxl import load_workbook

    folder = tmp_path / "各单位"
    units = ["青山市财政局机关党委", "青山市水利局机关党委"]
    for n, unit in enumerate(units):
        data = example("jiguan")
        data["meta"] = {**data["meta"], "unit": unit, "name": f"{'钱孙'[n]}某某"}
        write_yaml(folder / f"{n}.yaml", data)
    assert run("ledger", str(folder), "-o", str(tmp_path / "台账.xlsx")).exit_code == 0
    book = load_workbook(tmp_path / "台账.xlsx")
    sheet = book.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    top = header_index(rows)
    for offset, row in enumerate(rows[top + 1:], start=top + 2):
        if row[1] == units[0]:
            sheet.cell(row=offset, column=8, value="财政局已整改")
            sheet.cell(row=offset, column=9, value="是")
        elif row[1] == units[1]:
            sheet.cell(row=offset, column=8, value="水利局正在整改")
            sheet.cell(row=offset, column=9, value="否")
    book.save(tmp_path / "台账.xlsx")
    for n, (status, action) in enumerate((("已完成", "财政局已整改"), ("持续推进", "水利局正在整改"))):
        result = run("next", str(folder / f"{n}.yaml"), "--ledger", str(tmp_path / "台账.xlsx"), "-o", str(tmp_path / f"{n}.yaml"))
        assert result.exit_code == 0, result.output
        assert "注意" not in result.output, result.output  # the other unit's rows are not this unit's concern
        entries = yaml.safe_load((tmp_path / f"{n}.yaml").read_text(encoding="utf-8"))["rectification"]
        assert {(e["status"], e["action"]) for e in entries} == {(status, action)}


# ---------------------------------------------------------------- from last year's Word file

PROBLEMS = ["理论学习的深度和系统性不足", "压力传导存在层层递减现象，个别支部抓落实不够有力", "党建与业务融合还不够紧密"]
DETAILS = ["比如有的支部学习满足于读文件，研讨交流不深入。", "少数党员认为抓党建是书记一个人的事。",
           "有的科室把党建当作软任务，遇到业务忙就往后放。"]
MEASURES = ["把理论武装摆在首位", "压紧压实管党治党政治责任，推动责任落到基层", "把党建融入业务全过程"]
MEASURE_DETAILS = ["本人带头学、带头讲，每季度组织一次专题研讨。", "年初签订责任书，年底逐项考核兑现。",
                   "每个支部确定一个融合项目，年底评比。"]
CAUSES = "认真反思，产生这些问题的原因：一是思想认识不到位，对党建工作重要性认识不足。二是督促检查不严，跟踪问效不够。"
CN = "一二三四五"


def list_numbering(document: Any, number_id: int, fmt: str, text: str) -> int:
    """A list definition in the document's numbering part, as Word writes one: ``fmt`` (decimal,
    chineseCounting) shown as ``text`` (“%1.”, “%1、”).  Returns its numId."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    numbering = document.part.numbering_part.element
    abstract = parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{number_id}"><w:multiLevelType w:val="singleLevel"/>'
        f'<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/><w:lvlText w:val="{text}"/>'
        f'<w:lvlJc w:val="left"/></w:lvl></w:abstractNum>')
    first_num = numbering.find(f"{{{W_NS}}}num")
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="{number_id}"><w:abstractNumId w:val="{number_id}"/>'
                               f'</w:num>'))
    return number_id


def numbered(paragraph: Any, number_id: int) -> None:
    """Word's own list numbering on a paragraph: w:numPr in its properties."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    numpr = OxmlElement("w:numPr")
    for tag, value in (("w:ilvl", "0"), ("w:numId", str(number_id))):
        child = OxmlElement(tag)
        child.set(qn("w:val"), value)
        numpr.append(child)
    paragraph._p.get_or_add_pPr().append(numpr)


def report_lines(style: str) -> list[tuple[str, str | None]]:
    """Last year's report as (paragraph, how Word numbers it) pairs: None, "numpr" or a list style name."""
    lines: list[tuple[str, str | None]] = [
        ("2025年度抓基层党建工作述职报告", None),
        ("2025年，在市直机关工委的指导下，我认真履行第一责任人职责，现将有关情况报告如下：", None),
        ("一、履行抓基层党建工作职责情况", None),
        ("（一）抓理论学习，筑牢思想根基。全年组织中心组学习12次。", None),
        ("（二）抓责任落实，压实工作责任。签订党建目标责任书20份。", None),
        ("二、上年度问题整改情况", None),
        ("一是学习形式不够丰富。整改情况：开展读书班2期。", None),
        ("三、存在的主要问题及原因", None),
    ]
    items = [f"{p}。{d}" for p, d in zip(PROBLEMS, DETAILS, strict=True)]
    if style == "inline":
        lines.append(("对照要求，本人抓党建工作还存在一些不足：" + "".join(
            f"{CN[i]}是{item}" for i, item in enumerate(items)), None))
        lines.append((CAUSES, None))
    elif style == "paren":
        lines += [(f"（{CN[i]}）{item}", None) for i, item in enumerate(items)]
        lines.append((CAUSES, None))
    elif style == "arabic":
        lines += [(f"{i + 1}.{item}", None) for i, item in enumerate(items)]
    elif style == "ordinal":
        lines += [(f"{CN[i]}是{item}", None) for i, item in enumerate(items)]
        lines.append(("究其原因，主要有以下几点：", None))
        lines += [("一是思想认识不到位。", None), ("二是督促检查不严。", None)]
    elif style == "numpr":
        lines += [(item, "numpr") for item in items]
        lines.append((CAUSES, None))
    elif style == "list-style":
        lines += [(item, "List Number") for item in items]
        lines.append((CAUSES, None))
    elif style == "numbered-headings":
        lines += [(f"（{CN[i]}）{item}", None) for i, item in enumerate(items)]
        lines.append((CAUSES, None))
    lines.append(("四、下一步工作思路和措施", None))
    lines += [(f"（{CN[i]}）{m}。{d}", None) for i, (m, d) in enumerate(zip(MEASURES, MEASURE_DETAILS, strict=True))]
    lines.append(("以上报告，请予审议。", None))
    if style == "numbered-headings":  # Word numbers the headings (一、二、…) itself: the text has no number
        lines = [(HEADING_RE.sub("", text), "heading") if HEADING_RE.match(text) else (text, how) for text, how in lines]
    return lines


def write_report(path: Path, style: str) -> Path:
    import docx

    document = docx.Document()
    items = list_numbering(document, 91, "decimal", "%1.")
    headings = list_numbering(document, 92, "chineseCounting", "%1、")
    for text, how in report_lines(style):
        if how == "numpr":
            numbered(document.add_paragraph(text), items)
        elif how == "heading":
            numbered(document.add_paragraph(text, style="Heading 1"), headings)
        elif how:
            document.add_paragraph(text, style=how)
        else:
            document.add_paragraph(text)
    document.save(str(path))
    return path


WORD_STYLES = ["inline", "paren", "arabic", "ordinal", "numpr", "list-style", "numbered-headings"]


@pytest.mark.parametrize("style", WORD_STYLES)
def test_next_from_last_years_word_file(tmp_path: Path, style: str) -> None:
    source = write_report(tmp_path / "last.docx", style)
    result = run("next", str(source), "--yes", "-o", str(tmp_path / "new.yaml"))
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((tmp_path / "new.yaml").read_text(encoding="utf-8"))
    assert [(e["problem"], e["measure"]) for e in data["rectification"]] == list(zip(PROBLEMS, MEASURES, strict=True))
    assert all(e.get("status") is None and e.get("action") is None for e in data["rectification"])
    assert data["meta"]["year"] == 2026


def test_next_from_a_text_file(tmp_path: Path) -> None:
    source = tmp_path / "去年的述职报告.txt"
    source.write_text("\n".join(text for text, _ in report_lines("inline")) + "\n", encoding="gb18030")
    result = run("next", str(source), "--yes", "-o", str(tmp_path / "new.yaml"))
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((tmp_path / "new.yaml").read_text(encoding="utf-8"))
    assert [(e["problem"], e["measure"]) for e in data["rectification"]] == list(zip(PROBLEMS, MEASURES, strict=True))


def test_without_yes_and_without_a_terminal_nothing_is_written(tmp_path: Path) -> None:
    source = write_report(tmp_path / "last.docx", "paren")
    target = tmp_path / "new.yaml"
    done = subprocess.run([REPORTGEN, "next", str(source), "-o", str(target)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert not target.exists()
    for problem, measure in zip(PROBLEMS, MEASURES, strict=True):
        assert f"问题：{problem}" in done.stdout and f"措施：{measure}" in done.stdout, done.stdout
    assert "--yes" in done.stderr and "没有写入" in done.stderr
    assert "Traceback" not in done.stderr


def _not_a_zip(path: Path) -> None:
    path.write_text("这是一份普通的文字材料，不是 Word 文档。", encoding="utf-8")


def _old_doc(path: Path) -> None:
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 4096)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _huge(path: Path) -> None:
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)


def _no_problems(path: Path) -> None:
    import docx

    document = docx.Document()
    for text in ("2025年度抓基层党建工作述职报告", "一、履行抓基层党建工作职责情况", "（一）抓理论学习，筑牢思想根基。",
                 "二、下一步工作思路和措施", "（一）强化理论武装。"):
        document.add_paragraph(text)
    document.save(str(path))


@pytest.mark.parametrize(("make", "words"), [
    (_not_a_zip, "不是有效的 Word 文档"),
    (_old_doc, "旧版 Word"),
    (_empty, "文件是空的"),
    (_huge, "文件太大"),
    (_no_problems, "存在的问题"),
], ids=["not-a-zip", "doc-renamed", "empty", "50MB", "no-problems-section"])
def test_bad_last_year_files_are_refused_in_chinese(tmp_path: Path, make: Any, words: str) -> None:
    source = tmp_path / "去年的述职报告.docx"
    make(source)
    target = tmp_path / "new.yaml"
    done = subprocess.run([REPORTGEN, "next", str(source), "--yes", "-o", str(target)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    message = done.stdout + done.stderr
    assert words in message and "去年的述职报告.docx" in message, message
    assert "Traceback" not in message
    assert not target.exists()

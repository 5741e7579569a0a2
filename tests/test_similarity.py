"""复制比 (issue 14): ``reportgen similar``, 复制比 in a batch's 汇总.xlsx, leftovers of another unit's text,
the length budget, and the 30-unit case for every built-in pack.

复制比 is computed here independently of reportgen, as CNKI-style checkers count it: the share of A's
characters (whitespace dropped, digit runs counted as one sign, the units' own names and 【待补充】
placeholders left out) that lie in a run of 13 or more consecutive characters also found in B.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import statistics
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from conftest import BUILTIN, REPO, TEMPLATES, example_data, make_mini_pack, mini_profile, write_yaml
from reportgen.cli import cli

RUN = 13
SHARED = "坚持把党的政治建设摆在首位以上率下带动全体党员干部深学细悟笃行确保各项部署落地见效"


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def normalized(text: str, names: tuple[str, ...] = ()) -> str:
    text = re.sub(r"【待补充：[^】]*】", "", text)
    for name in sorted((n for n in names if len(n) >= 2), key=len, reverse=True):
        text = text.replace(name, "")
    text = re.sub(r"\s+", "", text)
    return re.sub(r"\d+", "#", text)


def copy_ratio(a: str, b: str) -> float:
    """Share of ``a`` covered by runs of RUN or more characters that also occur in ``b`` (both normalized)."""
    grams = {b[i:i + RUN] for i in range(len(b) - RUN + 1)}
    covered = bytearray(len(a))
    for i in range(len(a) - RUN + 1):
        if a[i:i + RUN] in grams:
            covered[i:i + RUN] = b"\1" * RUN
    return sum(covered) / len(a) if a else 0.0


# ---------------------------------------------------------------- reportgen similar


def texts_sharing(passage: str) -> tuple[str, str]:
    """Two drafts that share ``passage`` and nothing else of 13 characters (the characters around the
    passage differ too, so the shared run is exactly the passage)."""
    a = ("春风拂过山岗，溪水潺潺流向远方。清晨的集市人声鼎沸，摊主吆喝着刚摘的蔬菜瓜果。甲" + passage
         + "乙傍晚时分，老人们在树下下棋聊天，孩子们追逐嬉戏。")
    b = ("图书馆里安静无声，学生们埋头苦读。窗外细雨绵绵，打湿了青石板路。丙" + passage
         + "丁夜深了，街灯一盏盏亮起，照着回家的行人。")
    return a, b


def write_docx(path: Path, text: str) -> Path:
    import docx

    document = docx.Document()
    for line in text.split("。"):
        if line:
            document.add_paragraph(line + "。")
    document.save(str(path))
    return path


def test_similar_reports_the_pair_the_ratio_and_the_shared_passage(tmp_path: Path) -> None:
    a, b = texts_sharing(SHARED)
    assert len(SHARED) >= 40
    (tmp_path / "甲.md").write_text(a, encoding="utf-8")
    write_docx(tmp_path / "乙.docx", b)
    expected_a = len(SHARED) / len(normalized(a))
    expected_b = len(SHARED) / len(normalized(b))
    assert copy_ratio(normalized(a), normalized(b)) == pytest.approx(expected_a)

    result = run("similar", str(tmp_path / "甲.md"), str(tmp_path / "乙.docx"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    line_a = next(ln for ln in lines if re.search(r"甲\.md\s+←\s+\S*乙\.docx", ln))
    line_b = next(ln for ln in lines if re.search(r"乙\.docx\s+←\s+\S*甲\.md", ln))
    assert f"{expected_a:.0%}" in line_a and f"{expected_b:.0%}" in line_b
    assert f"相同：{SHARED}" in result.output

    result = run("similar", "--json", str(tmp_path / "甲.md"), str(tmp_path / "乙.docx"))
    assert result.exit_code == 0, result.output
    pairs = json.loads(result.output)
    assert isinstance(pairs, list) and len(pairs) == 2
    by_a = {Path(p["a"]).name: p for p in pairs}
    assert {Path(p["b"]).name for p in pairs} == {"甲.md", "乙.docx"}
    assert by_a["甲.md"]["ratio"] == pytest.approx(expected_a, abs=0.001)
    assert by_a["乙.docx"]["ratio"] == pytest.approx(expected_b, abs=0.001)
    assert all(p["passages"] == [SHARED] for p in pairs)
    assert all({"a", "b", "ratio", "passages"} <= set(p) for p in pairs)
    assert [p["ratio"] for p in pairs] == sorted((p["ratio"] for p in pairs), reverse=True)


def test_similar_compares_a_handful_of_drafts_pair_by_pair(tmp_path: Path) -> None:
    """A reviewer's few drafts are compared every pair exactly: a passage of characters the index never
    samples (none from its anchor blocks) is still found, and the most similar draft is the exact one."""
    unsampled = [chr(code) for code in range(0x4E00, 0xA000) if (code - 0x4E00) % 80 >= 16][:400]
    shared = "".join(unsampled[:30])
    (tmp_path / "a.md").write_text("".join(unsampled[100:130]) + shared + "".join(unsampled[130:160]), encoding="utf-8")
    (tmp_path / "b.md").write_text("".join(unsampled[200:230]) + shared, encoding="utf-8")
    (tmp_path / "c.md").write_text("".join(unsampled[300:360]) + shared[:20], encoding="utf-8")
    result = run("similar", "--json", str(tmp_path))
    assert result.exit_code == 0, result.output
    by_a = {Path(p["a"]).name: p for p in json.loads(result.output)}
    assert Path(by_a["a.md"]["b"]).name == "b.md" and by_a["a.md"]["ratio"] == pytest.approx(30 / 90, abs=0.001)
    assert Path(by_a["b.md"]["b"]).name == "a.md" and by_a["b.md"]["ratio"] == pytest.approx(30 / 60, abs=0.001)
    assert Path(by_a["c.md"]["b"]).name in ("a.md", "b.md") and by_a["c.md"]["ratio"] == pytest.approx(20 / 80, abs=0.001)


def test_unrelated_drafts_share_nothing(tmp_path: Path) -> None:
    a, _ = texts_sharing("")
    _, b = texts_sharing("")
    (tmp_path / "a.md").write_text(a, encoding="utf-8")
    (tmp_path / "b.md").write_text(b, encoding="utf-8")
    result = run("similar", "--json", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert all(p["ratio"] == 0 and p["passages"] == [] for p in json.loads(result.output))


@settings(max_examples=300, deadline=None)
@given(st.text("甲乙丙丁", max_size=80), st.text("甲乙丙丁", max_size=80))
def test_the_batchs_ratio_counts_exactly_the_characters_in_shared_runs(a: str, b: str) -> None:
    """The batch's 复制比 (``share``, counted with integer bits) and ``coverage`` (spans) are the rule
    itself: the share of a's characters inside a run of 13 also found in b (a small alphabet, so runs
    repeat; brute force here)."""
    from reportgen.outputs.similarity import RUN, coverage, grams, runs_of, share

    in_b = {b[i:i + RUN] for i in range(len(b) - RUN + 1)}
    covered = {k for i in range(len(a) - RUN + 1) if a[i:i + RUN] in in_b for k in range(i, i + RUN)}
    expected = len(covered) / len(a) if a else 0.0
    b_runs = runs_of(grams(b))
    assert share(grams(a), len(a), b_runs) == pytest.approx(expected)
    assert coverage(grams(a), len(a), b_runs)[0] == pytest.approx(expected)


def test_the_index_sent_to_the_workers_keeps_only_runs_two_drafts_share() -> None:
    """Runs of one draft alone never decide which draft is most similar; 2,000 drafts with little in
    common would otherwise send millions of them to every worker."""
    from reportgen.outputs.similarity import Index

    index = Index()
    index.add(0, [1, 2, 3])
    index.add(1, [2, 3, 4])
    index.add(2, [3, 5])
    shared = index.shared()
    assert {h: shared.texts[row].tolist() for h, row in shared.rows.items()} == {2: [0b011], 3: [0b111]}
    assert [shared.best(n, runs) for n, runs in enumerate(([1, 2, 3], [2, 3, 4], [3, 5]))] == [1, 0, 0]


def test_the_most_similar_text_shares_most_runs_and_ties_go_to_the_first() -> None:
    from reportgen.outputs.similarity import Index

    index = Index()
    texts = {0: [1, 2, 3, 4], 1: [1, 2], 2: [3, 4, 9], 3: [9, 10, 11], 12: [9, 10, 11, 4], 13: [20]}
    for number, runs in texts.items():
        index.add(number, runs)
    shared = index.shared()
    # 0 shares two runs with 1 and with 2 (the first wins), three with 2 when one run occurs twice in it
    assert shared.best(0, texts[0]) == 1 and shared.best(0, [1, 2, 3, 4, 4]) == 2
    assert shared.best(3, texts[3]) == 12 and shared.best(12, texts[12]) == 3
    assert shared.best(13, texts[13]) is None and shared.best(0, []) is None
    index.add(13, texts[13])  # the same text again: its runs are still its own
    assert index.shared().best(0, [20]) is None


def test_runs_are_read_alike_on_every_machine() -> None:
    """Code points are read little-endian whatever the machine (a big-endian one would otherwise find
    no anchors, and a batch no similar draft)."""
    from reportgen.outputs.similarity import _codes

    assert _codes("中A").tolist() == [0x4E2D, 0x41] and _codes("中A").dtype.byteorder in "<="


def test_digits_do_not_count(tmp_path: Path) -> None:
    body = ("全年组织中心组集中学习{0}次，开展专题研讨交流{1}次，书记讲党课{2}次。"
            "发展党员{3}名，培训党员干部{4}人次，走访慰问困难职工{5}人次。")
    (tmp_path / "a.md").write_text(body.format(12, 6, 3, 5, 420, 36), encoding="utf-8")
    (tmp_path / "b.md").write_text(body.format(9, 11, 4, 12, 1380, 7), encoding="utf-8")
    result = run("similar", "--json", str(tmp_path / "a.md"), str(tmp_path / "b.md"))
    assert result.exit_code == 0, result.output
    assert all(p["ratio"] == pytest.approx(1.0) for p in json.loads(result.output))


def test_the_units_own_names_do_not_count(tmp_path: Path) -> None:
    """Two drafts reportgen made for two units from the same items: only the names and numbers differ,
    so, names and digits left out, one is a copy of the other."""
    pack = make_mini_pack(tmp_path / "mini")
    first = mini_profile(pack, meta={**mini_profile(pack)["meta"], "unit": "市文化旅游局机关党委", "name": "周某某"})
    second = mini_profile(pack, meta={**mini_profile(pack)["meta"], "unit": "县农业农村局机关党支部", "name": "欧阳某某"},
                          facts={"sessions": 31, "rate": 88, "doc_name": "年度党建工作要点"})
    (tmp_path / "drafts").mkdir()
    for name, data in (("first", first), ("second", second)):
        path = write_yaml(tmp_path / f"{name}.yaml", data)
        assert run("build", str(path), "-o", str(tmp_path / "drafts" / f"{name}.docx")).exit_code == 0
    result = run("similar", "--json", str(tmp_path / "drafts"))
    assert result.exit_code == 0, result.output
    pairs = json.loads(result.output)
    assert len(pairs) == 2
    assert all(p["ratio"] == pytest.approx(1.0, abs=0.005) for p in pairs), pairs


@pytest.mark.parametrize("given", ["one", "folder-of-one", "none-there"])
def test_fewer_than_two_drafts_is_a_clear_error(tmp_path: Path, given: str) -> None:
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "a.md").write_text("一份稿子。", encoding="utf-8")
    args = {"one": [str(tmp_path / "only" / "a.md")], "folder-of-one": [str(tmp_path / "only")],
            "none-there": [str(tmp_path / "nothing.md"), str(tmp_path / "only" / "a.md")]}[given]
    result = run("similar", *args)
    assert result.exit_code == 1
    assert ("至少要有两份稿子" if given != "none-there" else "找不到") in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- in a batch


def summary(path: Path) -> tuple[list[str], list[list[Any]], Any]:
    sheet = load_workbook(path).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    top = next(i for i, r in enumerate(rows) if r and r[0] == "序号")
    return [str(c) for c in rows[top]], [r for r in rows[top + 1:] if r[0] is not None], (sheet, top)


def test_a_batch_gives_each_draft_its_most_similar_other(tmp_path: Path) -> None:
    pack = make_mini_pack(tmp_path / "mini")
    meta = mini_profile(pack)["meta"]
    profiles = {
        "a": mini_profile(pack, meta={**meta, "unit": "市财政局机关党委", "name": "钱某某"}),
        "b": mini_profile(pack, meta={**meta, "unit": "市水利局机关党委", "name": "孙某某"},
                          facts={"sessions": 20, "rate": 91, "doc_name": "年度党建工作要点"}),
        "c": mini_profile(pack, meta={**meta, "unit": "市统计局机关党委", "name": "李某某"},
                          work=["delta", "gamma", {"lead": "抓统计数据质量，服务发展大局",
                                                   "text": "围绕统计法治宣传、数据质量核查和统计调查改革，组织党员攻坚克难，"
                                                           "先后完成经济普查登记、月度报表联网直报和统计执法检查，群众满意度明显提升。"}],
                          problems=["p_three"], causes=["c_two"]),
    }
    folder = tmp_path / "profiles"
    for name, data in profiles.items():
        write_yaml(folder / f"{name}.yaml", data)
    result = run("build", str(folder), "-o", str(tmp_path / "out"), "--format", "md", "-j", "1",
                 "--similar-threshold", "0.8")
    assert result.exit_code == 0, result.output
    texts = {p.stem: p.read_text(encoding="utf-8") for p in (tmp_path / "out").glob("*.md")}
    names = {k: (d["meta"]["unit"], d["meta"]["name"]) for k, d in profiles.items()}
    norm = {k: normalized(re.sub(r"<!--.*?-->|<[^>]+>|[#*]", "", texts[k]), names[k]) for k in profiles}
    ratios = {(k, o): copy_ratio(norm[k], norm[o]) for k in profiles for o in profiles if o != k}
    best = {k: max(r for (x, _), r in ratios.items() if x == k) for k in profiles}
    closest = {k: {o for (x, o), r in ratios.items() if x == k and r == best[k]} for k in profiles}  # ties: any
    assert closest["a"] == {"b"} and closest["b"] == {"a"}
    assert best["a"] > 0.8 and best["c"] < 0.8  # the case is what the test means it to be

    headers, rows, (sheet, top) = summary(tmp_path / "out" / "汇总.xlsx")
    similar_col, ratio_col, notes_col = headers.index("最相似的稿子"), headers.index("复制比"), headers.index("状态和提醒")
    by_unit = {row[1]: (n, row) for n, row in enumerate(rows)}
    for key, data in profiles.items():
        n, row = by_unit[data["meta"]["unit"]]
        ratio = best[key]
        assert Path(str(row[similar_col])).stem in closest[key], row
        assert row[ratio_col] == pytest.approx(ratio, abs=0.03), (key, row[ratio_col], ratio)
        cell = sheet.cell(row=top + 2 + n, column=ratio_col + 1)
        flagged = str(cell.fill.fgColor.rgb or "").upper().endswith("FFE699") and bool(cell.font.b)
        assert flagged == (ratio > 0.8), (key, ratio, cell.fill.fgColor.rgb)
        assert ("超过 80%" in str(row[notes_col])) == (ratio > 0.8), row[notes_col]
        assert cell.number_format.endswith("%")


# ---------------------------------------------------------------- leftovers of another unit

LEFTOVER_FORMS = {
    "jiguan": ("青山市市场监督管理局机关党委", "青山市市场监督管理局", "赵志刚"),
}


def leftover_forms(pack: str) -> list[str]:
    meta = example_data(pack)["meta"]
    unit = meta["unit"]
    stripped = re.sub(r"(机关党委|党工委|党总支|党支部|党委|党组)$", "", unit)
    return [unit, stripped, meta["name"]]


@pytest.mark.parametrize("pack", BUILTIN)
@pytest.mark.parametrize("form", [0, 1, 2], ids=["unit", "unit-without-committee", "person"])
def test_the_packs_example_unit_left_in_a_profile_is_pointed_out(tmp_path: Path, pack: str, form: int) -> None:
    leftover = leftover_forms(pack)[form]
    if pack in LEFTOVER_FORMS:
        assert leftover == LEFTOVER_FORMS[pack][form]
    data = example_data(pack)
    data["meta"] = {**data["meta"], "unit": "青山市交通运输局机关党委", "name": "钱某某"}
    first = data["work"][0]
    data["work"][0] = {"key": first if isinstance(first, str) else first["key"],
                       "add": f"这一做法学习借鉴了{leftover}的经验。"}
    path = write_yaml(tmp_path / "p.yaml", data)
    for args in (["check", str(path)], ["build", str(path), "-o", str(tmp_path / "p.docx")]):
        result = run(*args)
        assert result.exit_code == 0, result.output
        notes = [ln for ln in result.output.splitlines() if ln.startswith("注意") and leftover in ln]
        assert notes, f"{args[0]} says nothing about “{leftover}” (the {pack} example's) in the draft:\n{result.output}"


def test_the_example_itself_is_not_a_leftover(tmp_path: Path) -> None:
    for pack in BUILTIN:
        result = run("check", str(TEMPLATES / pack / "example.yaml"))
        assert result.exit_code == 0, result.output
        assert "示例单位" not in result.output, result.output


def test_another_units_name_in_a_batch_draft_is_flagged(tmp_path: Path) -> None:
    pack = make_mini_pack(tmp_path / "mini")
    meta = mini_profile(pack)["meta"]
    units = {"a": ("市财政局机关党委", "钱某某"), "b": ("市水利局机关党委", "孙某某"), "c": ("市统计局机关党委", "李某某")}
    folder = tmp_path / "profiles"
    for key, (unit, name) in units.items():
        data = mini_profile(pack, meta={**meta, "unit": unit, "name": name})
        if key == "b":
            data["work"] = [{"key": "alpha", "add": "会同市财政局机关党委开展联学共建。"}, "beta", "gamma"]
        write_yaml(folder / f"{key}.yaml", data)
    result = run("build", str(folder), "-o", str(tmp_path / "out"), "--format", "md", "-j", "1")
    assert result.exit_code == 0, result.output
    headers, rows, _ = summary(tmp_path / "out" / "汇总.xlsx")
    notes = {row[1]: str(row[headers.index("状态和提醒")]) for row in rows}
    assert "“市财政局机关党委”" in notes["市水利局机关党委"], notes
    assert "另一个单位" not in notes["市财政局机关党委"] and "另一个单位" not in notes["市统计局机关党委"], notes


# ---------------------------------------------------------------- length budget


def test_other_units_names_that_start_alike_are_each_found_once() -> None:
    """A county's units all start with the county's name; each other unit named in a draft is found once,
    the longer and the shorter name at one place both, and the draft's own names never."""
    from reportgen.outputs.batch_similarity import Names

    units = [f"青山县第{i}局机关党支部" for i in range(300)]
    names = Names.of([*units, "青山县", "临江区财政局机关党委", "周某某", "周", ""])
    text = "青山县第7局机关党支部和青山县第12局机关党支部、周某某同志；青山县第7局机关党支部。本单位临江区财政局机关党委"
    found = list(names.found_in(text, ["临江区财政局机关党委", "李某某"]))
    assert found == ["青山县", "青山县第7局机关党支部", "青山县第12局机关党支部", "周某某"]


def test_a_length_the_superior_asks_for_is_checked(tmp_path: Path) -> None:
    data = example_data("jiguan")
    data["structure"] = {"length": "100-200"}
    path = write_yaml(tmp_path / "p.yaml", data)
    for args in (["check", str(path)], ["build", str(path), "-o", str(tmp_path / "p.docx")]):
        result = run(*args)
        assert result.exit_code == 0, result.output
        line = next((ln for ln in result.output.splitlines() if "超过了字数上限" in ln), None)
        assert line is not None and "200 字" in line, result.output


def test_within_the_length_asked_for_nothing_is_said(tmp_path: Path) -> None:
    data = example_data("jiguan")
    data["structure"] = {"length": "100-20000"}
    result = run("check", str(write_yaml(tmp_path / "p.yaml", data)))
    assert result.exit_code == 0, result.output
    assert "字数上限" not in result.output and "少于建议" not in result.output


@pytest.mark.parametrize(("low", "high", "words"), [(10, 60, "超过了字数上限 60 字"), (5000, 8000, "少于建议的 5000 字")])
def test_the_packs_own_length_range(tmp_path: Path, low: int, high: int, words: str) -> None:
    pack = make_mini_pack(tmp_path / "mini", manifest={"length": {"min": low, "max": high}})
    path = write_yaml(tmp_path / "p.yaml", mini_profile(pack))
    result = run("check", str(path))
    assert result.exit_code == 0, result.output
    line = next((ln for ln in result.output.splitlines() if words in ln), None)
    assert line is not None and "mini" in line, result.output
    # the profile's own range wins over the pack's
    data = mini_profile(pack, structure={"length": "10-100000"})
    result = run("check", str(write_yaml(tmp_path / "q.yaml", data)))
    assert result.exit_code == 0 and "字数上限" not in result.output and "少于建议" not in result.output, result.output


# ---------------------------------------------------------------- 30 units, one pack


def copy_ratio_tool() -> Any:
    spec = importlib.util.spec_from_file_location("copy_ratio", REPO / "tools" / "copy_ratio.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("pack", BUILTIN)
def test_thirty_units_filling_in_the_same_example_do_not_copy_each_other(tmp_path: Path, pack: str) -> None:
    from reportgen import core
    from reportgen.inputs.source import read_text
    from reportgen.inputs.yamlfile import parse_yaml

    tool = copy_ratio_tool()
    example = TEMPLATES / pack / "example.yaml"
    base = parse_yaml(read_text(example), str(example))
    texts: list[str] = []
    seen: set[tuple[str, str]] = set()
    for index in range(30):
        data = dict(tool.unit_tree(base, index).data)
        meta = data["meta"]
        assert (meta["unit"], meta["name"]) not in seen
        seen.add((meta["unit"], meta["name"]))
        assert data["work"] == example_data(pack)["work"]  # the same items for everyone
        path = tmp_path / f"{index:02d}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        draft = core.check(path)
        assert not draft.missing, (index, draft.missing[:3])
        texts.append(normalized(draft.document.text, (meta["unit"], meta["name"])))
    assert len({t for t in texts}) == 30
    ratios = {(i, j): copy_ratio(texts[i], texts[j]) for i, j in itertools.permutations(range(30), 2)}
    mean = statistics.mean(ratios.values())
    worst = max(ratios, key=ratios.__getitem__)
    assert mean <= 0.30, f"{pack}: mean 复制比 {mean:.3f}"
    assert ratios[worst] <= 0.50, f"{pack}: units {worst} have 复制比 {ratios[worst]:.3f}"

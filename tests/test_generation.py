"""Issue 2, point 5: values appear literally, numbering is computed, missing facts are highlighted,
any paragraph can be replaced, measures mirror problems.

Most tests use a small pack written in code (conftest.make_mini_pack) whose sentences are known,
so they can compare whole paragraphs; the rest run the built-in ``jiguan`` pack with catalogue
keys read from it at test time.  Everything is read back from the .docx with python-docx.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    build_draft,
    build_from,
    complete_profile,
    count_han,
    docx_paragraphs,
    docx_part,
    docx_text,
    docx_texts,
    example_id,
    example_profiles,
    full_meta,
    heading_texts,
    highlighted_runs,
    make_mini_pack,
    mini_profile,
    write_yaml,
)
from reportgen.pack import find_pack
from reportgen.prose import paragraph_ids

HOSTILE = "党建&业务<融合>"
INJECTION = "{{ 7*7 }}"
BLOCK = "{% for x in meta %}循环{% endfor %}"


@pytest.fixture
def jiguan() -> Any:
    return find_pack("jiguan")


def paragraph_starting(path: Path, prefix: str) -> str:
    matches = [t for t in docx_texts(path) if t.startswith(prefix)]
    assert len(matches) == 1, (prefix, docx_texts(path))
    return matches[0]


# ---------------------------------------------------------------- values appear literally


def test_markup_and_template_syntax_in_values_appear_literally(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(
        mini_pack,
        meta=full_meta(unit=HOSTILE, superior=INJECTION),
        facts={"sessions": 12, "rate": 96, "doc_name": f"《{INJECTION}号文件》{BLOCK}"},
        work=["alpha", {"key": "beta", "add": f"{HOSTILE}再加{INJECTION}"},
              {"lead": f"自拟{HOSTILE}", "text": f"正文{INJECTION}<w:t>x</w:t>"}],
        overrides={"closing": f"结束{HOSTILE}{INJECTION}"},
    )
    out = build_from(tmp_path, data)
    text = docx_text(out)
    assert f"{HOSTILE}按照{INJECTION}部署开展工作" in text
    assert f"印发《{INJECTION}号文件》{BLOCK}" in text
    assert f"{HOSTILE}再加{INJECTION}" in text
    assert f"（三）自拟{HOSTILE}。正文{INJECTION}<w:t>x</w:t>" in text
    assert f"结束{HOSTILE}{INJECTION}" in text
    assert "49" not in text and "循环循环" not in text
    xml = docx_part(out, "word/document.xml")
    assert "党建&amp;业务&lt;融合&gt;" in xml  # escaped exactly once
    assert "&amp;amp;" not in xml and "&amp;lt;" not in xml


def test_values_appear_literally_with_the_builtin_pack(tmp_path: Path, jiguan: Any) -> None:
    topics = complete_profile(jiguan)["work"]
    data = complete_profile(jiguan, meta=full_meta(unit=f"{HOSTILE}{INJECTION}"),
                            work=[{"key": topics[0], "add": f"补充{HOSTILE}{INJECTION}。"}, *topics[1:]])
    text = docx_text(build_from(tmp_path, data))
    assert f"{HOSTILE}{INJECTION}" in text
    assert f"补充{HOSTILE}{INJECTION}。" in text
    assert "49" not in text


def test_markdown_output_keeps_values_literally(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, meta=full_meta(unit=HOSTILE, superior=INJECTION))
    profile = write_yaml(tmp_path / "p.yaml", data)
    result = build_draft(profile, fmt="md")
    text = Path(result.output).read_text(encoding="utf-8")
    assert f"{HOSTILE}按照{INJECTION}部署" in text
    assert "49" not in text and "&amp;" not in text


# ---------------------------------------------------------------- computed numbering


def test_removing_a_middle_item_renumbers_paren_chinese(tmp_path: Path, mini_pack: Path) -> None:
    three = build_from(tmp_path, mini_profile(mini_pack), "three.yaml")
    assert [t[:3] for t in docx_texts(three) if re.match("（[一二三四]）", t)] == ["（一）", "（二）", "（三）"]
    two = build_from(tmp_path, mini_profile(mini_pack, work=["alpha", "gamma"]), "two.yaml")
    texts = docx_texts(two)
    assert "（一）抓甲项工作，夯实基础。甲项正文，全年组织集中学习12次。" in texts
    assert "（二）抓丙项工作，提升质效。丙项正文，支部按期换届率达到96%。" in texts
    assert not any(t.startswith("（三）") for t in texts)


def test_removing_a_middle_item_renumbers_ordinals_in_one_paragraph(tmp_path: Path, mini_pack: Path) -> None:
    out = build_from(tmp_path, mini_profile(mini_pack, problems=["p_one", "p_three"]))
    assert paragraph_starting(out, "一是") == "一是第一项问题仍然存在。问题一正文。二是第三项问题需要重视。问题三正文。"


def test_ordinal_inside_an_item_restarts_in_each_paragraph(tmp_path: Path, mini_pack: Path) -> None:
    out = build_from(tmp_path, mini_profile(mini_pack, work=["beta", "alpha"]))
    assert "（一）抓乙项工作，补齐短板。乙项正文，一是印发《年度党建工作要点》，二是逐项抓好落实。" in docx_texts(out)


@pytest.mark.parametrize(("style", "labels"), [
    ("paren_chinese", ["（一）", "（二）", "（三）"]),
    ("arabic", ["1.", "2.", "3."]),
    ("paren_arabic", ["（1）", "（2）", "（3）"]),
    ("ordinal_paragraphs", ["一是", "二是", "三是"]),
])
def test_each_numbering_style_renumbers_after_removal(tmp_path: Path, style: str, labels: list[str]) -> None:
    pack = make_mini_pack(tmp_path / "pack", work=style, measures=style)
    leads = ["抓甲项工作，夯实基础。", "抓乙项工作，补齐短板。", "抓丙项工作，提升质效。", "抓丁项工作，形成合力。"]
    out = build_from(tmp_path, mini_profile(pack, work=["alpha", "beta", "gamma", "delta"]), "four.yaml")
    texts = docx_texts(out)
    for label, lead in zip(labels, leads, strict=False):
        assert any(t.startswith(label + lead) for t in texts), (label, lead, texts)
    out = build_from(tmp_path, mini_profile(pack, work=["alpha", "gamma", "delta"]), "three.yaml")
    texts = docx_texts(out)
    for label, lead in zip(labels, [leads[0], leads[2], leads[3]], strict=False):
        assert any(t.startswith(label + lead) for t in texts), (label, lead, texts)
    assert not any(leads[1] in t for t in texts)


def test_unnumbered_items_keep_their_lead_only(tmp_path: Path) -> None:
    pack = make_mini_pack(tmp_path / "pack", work="none")
    out = build_from(tmp_path, mini_profile(pack))
    assert "抓甲项工作，夯实基础。甲项正文，全年组织集中学习12次。" in docx_texts(out)


def test_problems_as_separate_ordinal_paragraphs(tmp_path: Path) -> None:
    pack = make_mini_pack(tmp_path / "pack", problems="ordinal_paragraphs")
    out = build_from(tmp_path, mini_profile(pack, problems=["p_two", "p_three"]))
    texts = docx_texts(out)
    assert "一是第二项问题有待解决。问题二正文。" in texts
    assert "二是第三项问题需要重视。问题三正文。" in texts


def test_top_level_headings_renumber_when_a_section_appears(tmp_path: Path, mini_pack: Path) -> None:
    plain = build_from(tmp_path, mini_profile(mini_pack), "plain.yaml")
    assert heading_texts(plain) == ["一、履职情况", "二、存在的问题及原因", "三、下一步措施"]
    rect = [{"problem": "学习不够深入", "action": "建立月学制度"}, {"problem": "调研偏少", "action": "开展专题调研"}]
    fixed = build_from(tmp_path, mini_profile(mini_pack, rectification=rect), "rect.yaml")
    assert heading_texts(fixed) == ["一、履职情况", "二、上年问题整改情况", "三、存在的问题及原因", "四、下一步措施"]
    texts = docx_texts(fixed)
    assert "上年查摆的2个问题均已整改。" in texts
    assert "一是学习不够深入。整改情况：建立月学制度。" in texts
    assert "二是调研偏少。整改情况：开展专题调研。" in texts


def test_builtin_pack_renumbers_work_items(tmp_path: Path, jiguan: Any) -> None:
    expected = {"chinese": "{}、", "paren_chinese": "（{}）", "arabic": "{}.", "paren_arabic": "（{}）",
                "ordinal_paragraphs": "{}是", "ordinal_inline": "{}是"}
    section = jiguan.skeleton.section("work")
    if section.numbering not in expected or section.max_items < 3:
        pytest.skip(f"jiguan 的履职部分编号方式为 {section.numbering}")
    count = max(section.min_items + 1, 3)
    keys = list(jiguan.catalogues["topics"])[:count]
    assert len(keys) == count <= section.max_items, "jiguan 的履职目录要能选够条目"
    arabic = section.numbering in ("arabic", "paren_arabic")
    numbers = [str(n) for n in range(1, count + 1)] if arabic else list("一二三四五六七八九")[:count]
    leads = [jiguan.catalogues["topics"][k].lead for k in keys]
    label = expected[section.numbering]
    text = docx_text(build_from(tmp_path, complete_profile(jiguan, work=keys), "all.yaml"))
    for number, lead in zip(numbers, leads, strict=True):
        assert label.format(number) + lead in text
    text = docx_text(build_from(tmp_path, complete_profile(jiguan, work=[keys[0], *keys[2:]]), "less.yaml"))
    for number, lead in zip(numbers, [leads[0], *leads[2:]], strict=False):
        assert label.format(number) + lead in text
    assert leads[1] not in text
    assert label.format(numbers[-1]) + leads[-1] not in text


# ---------------------------------------------------------------- missing facts


def test_missing_fact_becomes_a_highlighted_placeholder(tmp_path: Path, mini_pack: Path) -> None:
    out = build_from(tmp_path, mini_profile(mini_pack, facts={"rate": 96, "doc_name": "《要点》"}))
    assert "（一）抓甲项工作，夯实基础。甲项正文，全年组织集中学习【待补充：集中学习次数】。" in docx_texts(out)
    assert highlighted_runs(out) == [("【待补充：集中学习次数】", "yellow")]
    assert "None" not in docx_text(out)


@pytest.mark.parametrize("blank", [None, "", []], ids=["null", "empty-string", "empty-list"])
def test_blank_values_are_missing_not_empty(tmp_path: Path, mini_pack: Path, blank: Any) -> None:
    facts = {"sessions": blank, "rate": blank, "doc_name": blank}
    out = build_from(tmp_path, mini_profile(mini_pack, facts=facts))
    texts = docx_texts(out)
    assert "（一）抓甲项工作，夯实基础。甲项正文，全年组织集中学习【待补充：集中学习次数】。" in texts
    assert "（三）抓丙项工作，提升质效。丙项正文，支部按期换届率达到【待补充：按期换届率】。" in texts
    assert any("印发【待补充：年度工作要点名称】" in t for t in texts)
    text = docx_text(out)
    assert "None" not in text and "达到%" not in text and "学习次。" not in text


def test_missing_meta_is_highlighted_everywhere_it_shows(tmp_path: Path, mini_pack: Path) -> None:
    meta = full_meta()
    del meta["superior"], meta["year"]
    out = build_from(tmp_path, mini_profile(mini_pack, meta=meta))
    texts = docx_texts(out)
    assert texts[0] == "【待补充：述职年度】年度述职报告"
    assert "市文化旅游局机关党委按照【待补充：上级党组织】部署开展工作，现将情况报告如下。" in texts
    assert set(highlighted_runs(out)) == {("【待补充：述职年度】", "yellow"), ("【待补充：上级党组织】", "yellow")}


def test_placeholder_runs_are_marked_in_the_xml(tmp_path: Path, mini_pack: Path) -> None:
    out = build_from(tmp_path, mini_profile(mini_pack, facts={}))
    xml = docx_part(out, "word/document.xml")
    runs = re.findall(r"<w:r>(?:(?!</w:r>).)*【待补充：(?:(?!</w:r>).)*</w:r>", xml)
    assert len(runs) == 3
    assert all('<w:highlight w:val="yellow"/>' in run for run in runs)


def test_an_empty_section_shows_a_placeholder_not_a_gap(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack)
    del data["work"]
    out = build_from(tmp_path, data)
    assert heading_texts(out)[0] == "一、履职情况"
    highlighted = [text for text, colour in highlighted_runs(out) if colour == "yellow"]
    assert any(text.startswith("【待补充：履职工作情况") for text in highlighted)


def test_builtin_pack_without_facts_has_only_highlighted_placeholders(tmp_path: Path, jiguan: Any) -> None:
    data = complete_profile(jiguan)
    data["facts"] = {}
    out = build_from(tmp_path, data)
    runs = highlighted_runs(out)
    assert runs, "a profile without facts must leave 待补充 placeholders"
    labels = {spec.label for spec in jiguan.facts}
    for text, colour in runs:
        assert colour == "yellow"
        match = re.fullmatch(r"【待补充：(.+)】", text)
        assert match and match.group(1) in labels, text
    text = docx_text(out)
    assert "None" not in text
    assert text.count("【待补充：") == len(runs)


def test_complete_builtin_profile_has_no_placeholder(tmp_path: Path, jiguan: Any) -> None:
    out = build_from(tmp_path, complete_profile(jiguan))
    assert highlighted_runs(out) == []
    assert "待补充" not in docx_text(out)


def test_numbers_in_the_draft_come_only_from_the_profile(tmp_path: Path, jiguan: Any) -> None:
    data = complete_profile(jiguan)
    out = build_from(tmp_path, data)
    given = set(re.findall(r"\d+(?:\.\d+)?", repr(data))) | {"1", "12", "2025", "2026"}
    given |= {str(len(data[kind])) for kind in ("work", "problems", "causes") if kind in data}  # "查摆出3个问题"
    for paragraph in docx_texts(out):
        paragraph = re.sub(r"^(\d+\.|（\d+）)", "", paragraph)  # computed item numbers
        for number in re.findall(r"\d+(?:\.\d+)?", paragraph):
            assert number in given, f"{number} in “{paragraph}” is not from the profile"


# ---------------------------------------------------------------- replacing paragraphs and items


def _changed(before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    return [t for t in before if t not in after], [t for t in after if t not in before]


@pytest.mark.parametrize("use_builtin", [False, True], ids=["mini", "jiguan"])
def test_every_generated_paragraph_can_be_overridden(tmp_path: Path, use_builtin: bool) -> None:
    if use_builtin:
        pack = find_pack("jiguan")
        data = complete_profile(pack)
    else:
        pack = find_pack(str(make_mini_pack(tmp_path / "pack")))
        data = mini_profile(pack.root)
    if pack.skeleton.section("rectification") is not None:
        data["rectification"] = [{"problem": "上年学习不够深入", "action": "建立月学制度"}]
    before = docx_texts(build_from(tmp_path, data, "base.yaml"))
    ids = paragraph_ids(pack)
    assert {"opening", "closing"} & set(ids) or "title" in ids
    for n, pid in enumerate(ids):
        replacement = f"这是用户自己写的第{'一二三四五六七八九十'[n % 10]}段文字。"
        after = docx_texts(build_from(tmp_path, {**data, "overrides": {pid: replacement}}, f"o{n}.yaml"))
        if not any(replacement in t for t in after):
            raise AssertionError(f"overrides.{pid} did not appear")
        gone, new = _changed(before, after)
        assert len(new) == 1 and replacement in new[0], (pid, gone, new)
        assert len(gone) == 1, (pid, gone)
        if pid in ("title", "opening", "closing"):
            assert new[0] == replacement


def test_item_text_replaces_the_body_and_keeps_the_lead(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, work=["alpha", {"key": "beta", "text": "用自己的话写的正文"}, "gamma"])
    texts = docx_texts(build_from(tmp_path, data))
    assert "（二）抓乙项工作，补齐短板。用自己的话写的正文。" in texts


def test_item_add_appends_after_the_generated_body(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, work=["alpha", {"key": "beta", "add": "另外补充一句"}])
    texts = docx_texts(build_from(tmp_path, data))
    assert "（二）抓乙项工作，补齐短板。乙项正文，一是印发《年度党建工作要点》，二是逐项抓好落实。另外补充一句。" in texts


def test_item_lead_replaces_the_lead_phrase(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, work=[{"key": "alpha", "lead": "自拟的标题句。"}])
    texts = docx_texts(build_from(tmp_path, data))
    assert "（一）自拟的标题句。甲项正文，全年组织集中学习12次。" in texts


def test_items_written_in_own_words_are_numbered_with_the_rest(tmp_path: Path, mini_pack: Path) -> None:
    own = {"lead": "抓自选动作，打造特色", "text": "自拟正文"}
    data = mini_profile(mini_pack, work=[own, "alpha"], problems=["p_one", {"lead": "自查问题", "text": "具体表现"}])
    out = build_from(tmp_path, data)
    texts = docx_texts(out)
    assert "（一）抓自选动作，打造特色。自拟正文。" in texts
    assert any(t.startswith("（二）抓甲项工作") for t in texts)
    assert paragraph_starting(out, "一是") == "一是第一项问题仍然存在。问题一正文。二是自查问题。具体表现。"


def test_builtin_item_text_and_add(tmp_path: Path, jiguan: Any) -> None:
    keys = complete_profile(jiguan)["work"]
    data = complete_profile(jiguan, work=[{"key": keys[0], "text": "本单位自己写的一段正文"},
                                          {"key": keys[1], "add": "本单位补充的一句话"}, *keys[2:]])
    text = docx_text(build_from(tmp_path, data))
    lead0 = jiguan.catalogues["topics"][keys[0]].lead
    assert f"{lead0}。本单位自己写的一段正文。" in text
    assert "本单位补充的一句话。" in text


# ---------------------------------------------------------------- measures mirror problems


def test_measures_mirror_the_chosen_problems(tmp_path: Path, mini_pack: Path) -> None:
    out = build_from(tmp_path, mini_profile(mini_pack, problems=["p_three", "p_one"]))
    texts = docx_texts(out)
    start = texts.index("三、下一步措施")
    assert texts[start + 1:start + 4] == ["措施导语。", "1.针对第三项问题久久为功。措施三正文。", "2.针对第一项问题持续用力。措施一正文。"]


def test_measures_given_explicitly_are_used(tmp_path: Path, mini_pack: Path) -> None:
    out = build_from(tmp_path, mini_profile(mini_pack, problems=["p_one"], measures=["m_two", "m_three"]))
    texts = docx_texts(out)
    assert "1.针对第二项问题精准施策。措施二正文。" in texts
    assert "2.针对第三项问题久久为功。措施三正文。" in texts
    assert not any("针对第一项问题" in t for t in texts)


def test_builtin_measures_mirror_problems(tmp_path: Path, jiguan: Any) -> None:
    chosen = list(reversed(complete_profile(jiguan)["problems"]))
    out = build_from(tmp_path, complete_profile(jiguan, problems=chosen))
    expected = []
    for key in chosen:
        measure = jiguan.catalogues["problems"][key].measure
        assert measure, f"jiguan 的问题“{key}”没有对应的措施"
        if measure not in expected:
            expected.append(measure)
    text = docx_text(out)
    tail = text[text.index(heading_texts(out)[-1]):]
    positions = [tail.find(jiguan.catalogues["measures"][m].lead) for m in expected]
    assert all(p > 0 for p in positions), (expected, tail)
    assert positions == sorted(positions)
    others = set(jiguan.catalogues["measures"]) - set(expected)
    for key in others:
        assert jiguan.catalogues["measures"][key].lead not in tail


def test_draft_paragraph_styles_follow_roles(tmp_path: Path, mini_pack: Path) -> None:
    out = build_from(tmp_path, mini_profile(mini_pack))
    roles = {p.text: p.style.style_id if p.style is not None else None for p in docx_paragraphs(out)}
    assert roles["2025年度述职报告"] == "ReportTitle"
    assert roles["一、履职情况"] == "Heading1"
    assert roles["结束语。"] == "Normal"


# ---------------------------------------------------------------- example profiles ("Done when")


RESIDUE = ("{{", "}}", "{%", "%}", "{#", "<ph", "</ph>", "None", "&amp;", "&lt;", "&gt;", "【", "】", "待补充",
           "XX", "**", "＊", "Undefined")


def _seed_heading_orders() -> set[tuple[str, ...]]:
    from conftest import seed_outlines

    return {tuple(s["kind"] for s in seed["sections"] if s.get("heading")) for seed in seed_outlines().values()}


def test_there_are_at_least_two_example_profiles() -> None:
    from conftest import PROFILES

    assert len(sorted(PROFILES.glob("*.yaml"))) >= 2


@pytest.mark.parametrize("profile", example_profiles(), ids=example_id)
def test_example_profile_builds_a_complete_draft(tmp_path: Path, profile: Path) -> None:
    from reportgen.core import check

    result = build_draft(profile, tmp_path / "draft.docx")
    out = Path(result.output)
    texts = docx_texts(out)
    text = "\n".join(texts)
    han = count_han(text)
    assert 2500 <= han <= 4000, f"{han} Han characters"
    assert result.han_count == han
    assert result.missing == ()
    assert highlighted_runs(out) == []
    for residue in RESIDUE:
        assert residue not in text, f"{residue!r} left in the draft"
    headings = heading_texts(out)
    assert 3 <= len(headings) <= 4, headings
    for n, heading in enumerate(headings):
        assert heading.startswith("一二三四"[n] + "、"), headings
        assert len(heading) > 4
    document = check(profile).document
    kinds = tuple(p.id.removesuffix(".heading") for p in document.paragraphs if p.role == "heading")
    assert kinds in _seed_heading_orders(), f"sections {kinds} are not in any seed's order"
    # A title and an opening that names the basis of the report come first.
    body = [p for p in document.paragraphs if p.role == "body"]
    assert body and body[0].id == "opening"
    assert document.paragraphs.index(body[0]) < [p.role for p in document.paragraphs].index("heading")
    # Paragraph count in the range the seeds show (GUIDE: 14-24, allow a little more).
    assert 12 <= len(texts) <= 32, len(texts)

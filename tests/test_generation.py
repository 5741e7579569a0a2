"""The content model as a user reads it in the draft: values appear literally, numbering is computed,
missing facts are highlighted, items and structure follow the profile, variants are deterministic,
同比 and 上年整改 are written from last year's figures.

Most tests use the small pack written in code (conftest.make_mini_pack) whose prose has one variant
per sentence, so whole paragraphs can be compared; the rest run the built-in packs with their example
profiles.  Drafts are read back from the .docx (python-docx) or the Markdown file, or, where only the
words matter, from ``core.check`` (what ``reportgen check`` sees).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import (
    BUILTIN,
    MINI_FACTS,
    TEMPLATES,
    W,
    build_from,
    docx_paragraphs,
    docx_text,
    docx_texts,
    draft_of,
    example_data,
    example_id,
    example_profiles,
    full_meta,
    highlighted_runs,
    load_builtin,
    make_mini_pack,
    mini_profile,
    mini_prose,
    style_id,
    write_yaml,
)
from reportgen import core
from reportgen.cli import cli
from reportgen.errors import ProfileError, ReportgenError

AMP = "党建&业务<融合>"
INJECTION = "{{ 7*7 }}"
BLOCK = "{% if true %}真{% endif %}"

LEADS = {"alpha": "抓甲项工作，夯实基础。", "beta": "抓乙项工作，补齐短板。", "gamma": "抓丙项工作，提升质效。",
         "delta": "抓丁项工作，形成合力。"}
ALPHA = "甲项第一要点正文。全年组织集中学习12次。甲项第二要点正文，按期换届率96%。"
BETA = "乙项第一要点正文。印发《年度党建工作要点》。乙项第二要点正文。"
GAMMA = "丙项正文。"
PROBLEMS = "一是第一项问题仍然存在。问题一正文。二是第二项问题有待解决。问题二正文。三是第三项问题需要重视。问题三正文。"
# Punctuation a dropped clause must never leave behind.
DANGLING = re.compile(r"[，、；][。，、；：]|[。：][，、；。]|^[，、；。]|（）|“”|《》")


# ---------------------------------------------------------------- helpers


def paragraph_starting(texts: list[str], prefix: str) -> str:
    matches = [t for t in texts if t.startswith(prefix)]
    assert len(matches) == 1, (prefix, texts)
    return matches[0]


def headings(path: Path) -> list[str]:
    """The top-level headings (一、二、…) of a draft, read back from its Heading1 paragraphs."""
    return [p.text for p in docx_paragraphs(path) if style_id(p) == "Heading1"]


def section_texts(texts: list[str], heading: str, following: str | None) -> list[str]:
    """The paragraphs between the heading ``heading`` and the next heading ``following``."""
    start = texts.index(heading) + 1
    end = texts.index(following) if following is not None else len(texts)
    return texts[start:end]


def problems_of(error: pytest.ExceptionInfo[ProfileError]) -> list[str]:
    return [problem.render() for problem in error.value.problems]


def body_texts(draft: Any, unit: str) -> list[str]:
    """Body paragraphs of a draft in memory, the unit's name taken out (to compare wording only)."""
    return [p.text.replace(unit, "〇") for p in draft.document.paragraphs if p.role == "body"]


def shared(first: list[str], second: list[str]) -> list[str]:
    return [text for text in first if text in second]


def builtin_example(name: str, **changes: Any) -> dict[str, Any]:
    data = example_data(name)
    data["pack"] = name
    data.update(changes)
    return data


def mini_sections(causes_heading: str | None = None) -> list[dict[str, Any]]:
    """The mini pack's sections, optionally with a heading of its own for the causes."""
    causes: dict[str, Any] = {"kind": "causes", "numbering": "ordinal_inline", "intro": True, "min_items": 1,
                              "max_items": 4}
    if causes_heading:
        causes["heading"] = causes_heading
    return [
        {"kind": "opening"},
        {"kind": "work", "heading": "履职情况", "numbering": "paren_chinese", "points": "sentences", "min_items": 1,
         "max_items": 5},
        {"kind": "rectification", "heading": "上年问题整改情况", "numbering": "ordinal_paragraphs", "intro": True},
        {"kind": "problems", "heading": "存在的问题", "numbering": "ordinal_inline", "min_items": 1, "max_items": 4},
        causes,
        {"kind": "measures", "heading": "下一步措施", "numbering": "arabic", "intro": True, "min_items": 1,
         "max_items": 5},
        {"kind": "closing"},
    ]


def with_problem_variants(pack: Path) -> Path:
    """The mini pack with five leads and five texts for every problem (甲…戊), to see which one is chosen."""
    prose = mini_prose()
    for entry in prose["problems"].values():
        entry["lead"] = [f"{entry['title']}说法{mark}" for mark in "甲乙丙丁戊"]
        entry["text"] = [[f"{entry['title']}正文{mark}。" for mark in "甲乙丙丁戊"]]
    write_yaml(pack / "prose" / "problems.yaml", prose["problems"])
    return pack


def problem_one(draft: Any) -> tuple[str, str]:
    """(lead, text) of the first problem in the problems paragraph “一是<lead>。<text>。…”."""
    text = next(p.text for p in draft.document.paragraphs if p.id == "problems")
    match = re.match(r"一是(问题一说法.)。(问题一正文.)。", text)
    assert match, text
    return match.group(1), match.group(2)


# ---------------------------------------------------------------- values appear literally


def test_markup_and_template_syntax_in_values_appear_literally_in_docx(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(
        mini_pack,
        meta=full_meta(unit=f"{AMP}机关党委", superior=INJECTION, name=BLOCK),
        facts={"sessions": 12, "rate": 96, "doc_name": f"{INJECTION}号文件{BLOCK}&<"},
        work=["alpha", {"key": "beta", "add": f"{AMP}再加{INJECTION}{BLOCK}"},
              {"lead": f"自拟{AMP}", "text": f"正文{INJECTION}<w:t>x</w:t>{BLOCK}"}],
        overrides={"closing": f"结束{AMP}{INJECTION}"},
        structure={"title": f"标题{INJECTION}{AMP}"},
    )
    out = build_from(tmp_path, data)
    texts = docx_texts(out)
    assert texts[0] == f"标题{INJECTION}{AMP}"
    assert texts[1] == f"{AMP}机关党委书记\u3000{BLOCK}"
    assert f"{AMP}机关党委按照{INJECTION}部署开展工作，现将情况报告如下：" in texts
    assert (f"（二）抓乙项工作，补齐短板。乙项第一要点正文。印发《{INJECTION}号文件{BLOCK}&<》。乙项第二要点正文。"
            f"{AMP}再加{INJECTION}{BLOCK}。") in texts
    assert f"（三）自拟{AMP}。正文{INJECTION}<w:t>x</w:t>{BLOCK}。" in texts
    assert texts[-1] == f"结束{AMP}{INJECTION}"
    text = docx_text(out)
    assert "49" not in text
    with zipfile.ZipFile(out) as zf:
        xml = zf.read("word/document.xml").decode("utf-8")
    assert "党建&amp;业务&lt;融合&gt;" in xml  # escaped exactly once
    assert "&amp;amp;" not in xml and "&amp;lt;" not in xml
    assert "&lt;w:t&gt;x&lt;/w:t&gt;" in xml  # the user's tag is text, not a run of the document


def test_template_syntax_in_own_text_is_not_taken_for_a_blank(tmp_path: Path, mini_pack: Path) -> None:
    """“{{ 7*7 }}” typed in an item's text is literal text: nothing in it is a 待补充 blank."""
    data = mini_profile(mini_pack, work=["alpha", "beta", {"lead": "自拟", "text": f"正文{INJECTION}{BLOCK}"}])
    out = build_from(tmp_path, data)
    assert f"（三）自拟。正文{INJECTION}{BLOCK}。" in docx_texts(out)
    assert draft_of(tmp_path / "p.yaml").missing == ()
    assert highlighted_runs(out) == []


def test_markup_and_template_syntax_in_values_appear_literally_in_markdown(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(
        mini_pack,
        meta=full_meta(unit=f"{AMP}机关党委", superior=INJECTION),
        facts={"sessions": 12, "rate": 96, "doc_name": f"{BLOCK}"},
        work=["alpha", "beta", {"lead": "自拟", "text": f"正文{INJECTION}&{BLOCK}<"}],
    )
    result = core.build(write_yaml(tmp_path / "p.yaml", data), fmt="md")
    text = Path(result.output).read_text(encoding="utf-8").split("<!-- reportgen:fingerprint")[0]
    assert f"{AMP}机关党委按照{INJECTION}部署开展工作" in text
    assert f"印发《{BLOCK}》。" in text
    assert f"正文{INJECTION}&{BLOCK}<。" in text
    assert "49" not in text and "&amp;" not in text and "&lt;" not in text


def test_values_appear_literally_with_a_builtin_pack(tmp_path: Path) -> None:
    data = builtin_example("jiguan")
    data["meta"] = {**data["meta"], "unit": f"{AMP}{INJECTION}机关党委"}
    first, *rest = data["work"]
    data["work"] = [{"key": first, "add": f"补充{AMP}{INJECTION}{BLOCK}。"}, *rest]
    text = docx_text(build_from(tmp_path, data))
    assert f"{AMP}{INJECTION}机关党委" in text
    assert f"补充{AMP}{INJECTION}{BLOCK}。" in text
    assert "49" not in text


# ---------------------------------------------------------------- computed numbering

STYLE_LABELS = {
    "paren_chinese": ["（一）", "（二）", "（三）", "（四）"],
    "chinese": ["一、", "二、", "三、", "四、"],
    "arabic": ["1.", "2.", "3.", "4."],
    "paren_arabic": ["（1）", "（2）", "（3）", "（4）"],
    "ordinal_paragraphs": ["一是", "二是", "三是", "四是"],
    "ordinal_inline": ["一是", "二是", "三是", "四是"],
    "none": ["", "", "", ""],
}
BODIES = {"alpha": ALPHA, "beta": BETA, "gamma": GAMMA, "delta": "丁项正文，各支部协同推进。"}
MEASURES = {"m_one": "针对第一项问题持续用力。措施一正文。", "m_two": "针对第二项问题精准施策。措施二正文。",
            "m_three": "针对第三项问题久久为功。措施三正文。"}
MEASURE_LEADS = list(MEASURES.values())


@pytest.mark.parametrize("style", list(STYLE_LABELS))
def test_removing_a_middle_item_renumbers_every_style(tmp_path: Path, style: str) -> None:
    pack = make_mini_pack(tmp_path / "pack", work=style, measures=style)
    labels = STYLE_LABELS[style]
    for name, work, measures in (("four.yaml", ["alpha", "beta", "gamma", "delta"], ["m_one", "m_two", "m_three"]),
                                 ("three.yaml", ["alpha", "gamma", "delta"], ["m_one", "m_three"])):
        texts = docx_texts(build_from(tmp_path, mini_profile(pack, work=work, measures=measures), name))
        items = [labels[n] + LEADS[key] + BODIES[key] for n, key in enumerate(work)]
        plans = [labels[n] + MEASURES[key] for n, key in enumerate(measures)]
        if style == "ordinal_inline":
            items, plans = ["".join(items)], ["措施导语：" + "".join(plans)]
        else:
            plans = ["措施导语：", *plans]
        assert section_texts(texts, "一、履职情况", "二、存在的问题及原因") == items
        assert section_texts(texts, "三、下一步措施", "结束语。") == plans


def test_problems_inline_renumber_after_removal(tmp_path: Path, mini_pack: Path) -> None:
    texts = docx_texts(build_from(tmp_path, mini_profile(mini_pack)))
    assert PROBLEMS in texts
    texts = docx_texts(build_from(tmp_path, mini_profile(mini_pack, problems=["p_one", "p_three"]), "two.yaml"))
    assert paragraph_starting(texts, "一是") == "一是第一项问题仍然存在。问题一正文。二是第三项问题需要重视。问题三正文。"


def test_problems_as_separate_ordinal_paragraphs(tmp_path: Path) -> None:
    pack = make_mini_pack(tmp_path / "pack", problems="ordinal_paragraphs")
    texts = docx_texts(build_from(tmp_path, mini_profile(pack, problems=["p_two", "p_three"])))
    assert "一是第二项问题有待解决。问题二正文。" in texts
    assert "二是第三项问题需要重视。问题三正文。" in texts


def test_top_level_headings_renumber_when_rectification_appears_or_disappears(tmp_path: Path, mini_pack: Path) -> None:
    plain = build_from(tmp_path, mini_profile(mini_pack), "plain.yaml")
    assert headings(plain) == ["一、履职情况", "二、存在的问题及原因", "三、下一步措施"]
    rect = [{"problem": "学习不够深入", "action": "建立月学制度"}, {"problem": "调研偏少", "action": "开展专题调研"}]
    fixed = build_from(tmp_path, mini_profile(mini_pack, rectification=rect), "rect.yaml")
    assert headings(fixed) == ["一、履职情况", "二、上年问题整改情况", "三、存在的问题及原因", "四、下一步措施"]
    texts = docx_texts(fixed)
    assert section_texts(texts, "二、上年问题整改情况", "三、存在的问题及原因") == [
        "上年查摆的问题整改情况如下：", "一是学习不够深入。整改情况：建立月学制度。", "二是调研偏少。整改情况：开展专题调研。"]
    # Taken out again (an empty list): the section and its number go.
    again = build_from(tmp_path, mini_profile(mini_pack, rectification=[]), "again.yaml")
    assert headings(again) == headings(plain)
    assert "上年查摆的问题整改情况如下：" not in docx_texts(again)


def test_points_joined_as_ordinals_restart_in_each_item(tmp_path: Path) -> None:
    pack = make_mini_pack(tmp_path / "pack", points="ordinal_inline")
    texts = docx_texts(build_from(tmp_path, mini_profile(pack, work=["beta", "alpha"])))
    assert ("（一）抓乙项工作，补齐短板。一是乙一要点。乙项第一要点正文。印发《年度党建工作要点》。"
            "二是乙二要点。乙项第二要点正文。") in texts
    assert ("（二）抓甲项工作，夯实基础。一是甲一要点。甲项第一要点正文。全年组织集中学习12次。"
            "二是甲二要点。甲项第二要点正文，按期换届率96%。") in texts
    # A point taken out: no “一是” is left standing without a “二是”; the point keeps its lead.
    texts = docx_texts(build_from(tmp_path, mini_profile(pack, work=[{"key": "alpha", "points": ["a2"]}]), "one.yaml"))
    assert "（一）抓甲项工作，夯实基础。甲二要点。甲项第二要点正文，按期换届率96%。" in texts
    assert not any("一是甲" in t for t in texts)
    assert not any("二是甲" in t for t in texts)


# ---------------------------------------------------------------- facts


def test_missing_required_fact_becomes_a_highlighted_placeholder(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, facts={"rate": 96, "doc_name": "年度党建工作要点"})
    out = build_from(tmp_path, data)
    assert ("（一）抓甲项工作，夯实基础。甲项第一要点正文。全年组织集中学习【待补充：集中学习次数】。"
            "甲项第二要点正文，按期换届率96%。") in docx_texts(out)
    assert highlighted_runs(out) == [("【待补充：集中学习次数】", "yellow")]
    missing = draft_of(tmp_path / "p.yaml").missing
    assert [(m.key, m.label, m.where) for m in missing] == [("facts.sessions", "集中学习次数", "一、（一）")]
    assert "None" not in docx_text(out)


@pytest.mark.parametrize("blank", [None, "", []], ids=["null", "empty-string", "empty-list"])
def test_blank_required_fact_is_missing_not_empty(tmp_path: Path, mini_pack: Path, blank: Any) -> None:
    out = build_from(tmp_path, mini_profile(mini_pack, facts={"sessions": blank, "rate": 96, "doc_name": "要点"}))
    assert "全年组织集中学习【待补充：集中学习次数】。" in docx_text(out)
    assert "None" not in docx_text(out) and "学习次。" not in docx_text(out)


def test_missing_optional_fact_drops_its_clause_cleanly(tmp_path: Path, mini_pack: Path) -> None:
    out = build_from(tmp_path, mini_profile(mini_pack, facts={"sessions": 12, "doc_name": "年度党建工作要点"}))
    texts = docx_texts(out)
    assert "（一）抓甲项工作，夯实基础。甲项第一要点正文。全年组织集中学习12次。甲项第二要点正文。" in texts
    assert highlighted_runs(out) == []
    for text in texts:
        assert not DANGLING.search(text), text
    assert "按期换届率" not in docx_text(out)


@pytest.mark.parametrize("pack", BUILTIN)
def test_builtin_packs_drop_missing_facts_without_dangling_punctuation(tmp_path: Path, pack: str) -> None:
    """Every topic of the pack, with no facts at all and with every other fact, in a few wordings."""
    catalogue = list(load_builtin(pack).catalogues["topics"])
    example = builtin_example(pack)
    every_other = dict(list(example["facts"].items())[::2])
    groups = [catalogue[i:i + 3] for i in range(0, len(catalogue), 3)]
    groups = [group if len(group) == 3 else catalogue[:3] for group in groups]
    n = 0
    for group in groups:
        for facts in ({}, every_other):
            for wording in (0, 1):
                n += 1
                draft = draft_of(write_yaml(tmp_path / f"p{n}.yaml", {**example, "work": group, "facts": facts,
                                                                       "wording": wording}))
                for paragraph in draft.document.paragraphs:
                    found = DANGLING.search(paragraph.text)
                    assert not found, (group, wording, paragraph.text[max(0, found.start() - 20):found.end() + 10])
                    assert "[" not in paragraph.text and "{" not in paragraph.text, paragraph.text


def test_fact_listed_for_a_point_is_said_after_the_point(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, facts={"sessions": 12, "rate": 96, "doc_name": "年度党建工作要点", "extra": 3})
    texts = docx_texts(build_from(tmp_path, data))
    # b1 lists doc_name: said after b1's text, before b2's.
    assert f"（二）{LEADS['beta']}乙项第一要点正文。印发《年度党建工作要点》。乙项第二要点正文。" in texts
    # g1 lists extra, its text does not cite it.
    assert f"（三）{LEADS['gamma']}丙项正文。全年开展专题调研3次。" in texts
    # Not given: nothing is said for it (extra is optional).
    texts = docx_texts(build_from(tmp_path, mini_profile(mini_pack), "without.yaml"))
    assert f"（三）{LEADS['gamma']}丙项正文。" in texts


def test_blanks_typed_in_own_text_are_highlighted_and_counted(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, work=["alpha", "beta", {"key": "gamma", "add": "组织XX次活动，参加**人，覆盖×个支部"}])
    out = build_from(tmp_path, data)
    assert f"（三）{LEADS['gamma']}丙项正文。组织XX次活动，参加**人，覆盖×个支部。" in docx_texts(out)
    assert highlighted_runs(out) == [("XX", "yellow"), ("**", "yellow"), ("×", "yellow")]
    missing = draft_of(tmp_path / "p.yaml").missing
    assert len(missing) == 3
    assert all(m.where == "一、（三）" for m in missing)
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "p.yaml")])
    assert result.exit_code == 0, result.output
    assert "待补充 3 处" in result.output
    for blank in ("XX", "**", "×"):
        assert f"“{blank}”" in result.output


def test_a_fact_marked_unknown_is_highlighted_with_its_unit(tmp_path: Path, mini_pack: Path) -> None:
    out = build_from(tmp_path, mini_profile(mini_pack, facts={"sessions": "XX", "rate": 96, "doc_name": "要点"}))
    assert f"（一）{LEADS['alpha']}甲项第一要点正文。全年组织集中学习XX次。甲项第二要点正文，按期换届率96%。" in docx_texts(out)
    assert highlighted_runs(out) == [("XX次", "yellow")]
    assert len(draft_of(tmp_path / "p.yaml").missing) == 1


def test_own_text_cites_facts_with_their_unit(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, work=[{"lead": "抓自选动作", "text": "开展学习{sessions}，换届率{rate}，调研{extra}"},
                                         "alpha"])
    out = build_from(tmp_path, data)
    assert "（一）抓自选动作。开展学习12次，换届率96%，调研【待补充：专题调研次数】。" in docx_texts(out)
    assert highlighted_runs(out) == [("【待补充：专题调研次数】", "yellow")]
    assert [m.key for m in draft_of(tmp_path / "p.yaml").missing] == ["facts.extra"]


def test_unknown_citation_in_own_text_is_an_error_with_a_suggestion(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, work=[{"lead": "抓自选动作", "text": "开展学习{sesions}"}, "alpha"])
    with pytest.raises(ProfileError) as error:
        build_from(tmp_path, data)
    (problem,) = error.value.problems
    assert problem.message == "引用了不存在的事实“{sesions}”"
    assert problem.hint == "是不是“sessions”？"
    assert problem.key == "work[1].text"
    assert not (tmp_path / "p.docx").exists()
    result = CliRunner().invoke(cli, ["build", str(tmp_path / "p.yaml")])
    assert result.exit_code == 1
    assert "引用了不存在的事实“{sesions}”" in result.output and "是不是“sessions”？" in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- items


def test_a_key_list_gathers_several_catalogue_items_under_one_lead(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, work=[{"key": ["alpha", "beta"], "lead": "抓甲乙两项"}, "gamma"])
    texts = docx_texts(build_from(tmp_path, data))
    assert f"（一）抓甲乙两项。{ALPHA}{BETA}" in texts
    assert f"（二）{LEADS['gamma']}{GAMMA}" in texts
    assert not any(t.startswith("（三）") for t in texts)
    # Without a lead of its own, the first item's lead heads the gathered item.
    texts = docx_texts(build_from(tmp_path, mini_profile(mini_pack, work=[{"key": ["beta", "alpha"]}]), "b.yaml"))
    assert f"（一）{LEADS['beta']}{BETA}{ALPHA}" in texts


def test_points_choose_and_reorder_with_own_points(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, work=[{"key": "alpha", "points": ["a2", {"text": "自己的要点"}, "a1"]}])
    texts = docx_texts(build_from(tmp_path, data))
    assert (f"（一）{LEADS['alpha']}甲项第二要点正文，按期换届率96%。自己的要点。"
            "甲项第一要点正文。全年组织集中学习12次。") in texts
    data = mini_profile(mini_pack, work=[{"key": "alpha", "points": ["a2", {"text": "自己的要点"}]}, "beta"])
    texts = docx_texts(build_from(tmp_path, data, "two.yaml"))
    assert f"（一）{LEADS['alpha']}甲项第二要点正文，按期换届率96%。自己的要点。" in texts
    assert "甲项第一要点正文" not in "".join(texts)


def test_an_unknown_point_is_an_error_with_a_suggestion(tmp_path: Path, mini_pack: Path) -> None:
    with pytest.raises(ProfileError) as error:
        build_from(tmp_path, mini_profile(mini_pack, work=[{"key": "alpha", "points": ["a3"]}]))
    (problem,) = error.value.problems
    assert problem.message == "条目里没有要点“a3”"
    assert problem.hint is not None and "a1" in problem.hint and "a2" in problem.hint


def test_add_with_after_and_before_puts_the_point_where_it_belongs(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, work=[{"key": "alpha", "add": [
        {"text": "插在甲一之后", "after": "a1"}, {"text": "插在甲一之前", "before": "a1"}, {"text": "放在最后"}]}])
    texts = docx_texts(build_from(tmp_path, data))
    assert (f"（一）{LEADS['alpha']}插在甲一之前。甲项第一要点正文。全年组织集中学习12次。插在甲一之后。"
            "甲项第二要点正文，按期换届率96%。放在最后。") in texts
    data = mini_profile(mini_pack, work=[{"key": "beta", "add": "补充一句"}])
    assert f"（一）{LEADS['beta']}{BETA}补充一句。" in docx_texts(build_from(tmp_path, data, "str.yaml"))


def test_add_after_a_point_the_item_does_not_have_is_an_error(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, work=[{"key": "alpha", "add": [{"text": "插进去", "after": "b1"}]}])
    with pytest.raises(ProfileError) as error:
        build_from(tmp_path, data)
    (problem,) = error.value.problems
    assert problem.message == "要插在“b1”之后，但条目里没有这个要点"


def test_item_text_replaces_the_body_and_lead_replaces_the_lead(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, work=[{"key": "alpha", "lead": "自拟的标题句。"},
                                         {"key": "beta", "text": "用自己的话写的正文"}, "gamma"])
    texts = docx_texts(build_from(tmp_path, data))
    assert f"（一）自拟的标题句。{ALPHA}" in texts
    assert f"（二）{LEADS['beta']}用自己的话写的正文。" in texts
    assert "乙项第一要点正文" not in "".join(texts)


def test_items_named_by_their_chinese_title(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, work=["乙项", "甲项"], problems=["问题二", "问题一"], causes=["原因三"])
    out = build_from(tmp_path, data)
    texts = docx_texts(out)
    assert f"（一）{LEADS['beta']}{BETA}" in texts
    assert f"（二）{LEADS['alpha']}{ALPHA}" in texts
    assert "一是第二项问题有待解决。问题二正文。二是第一项问题仍然存在。问题一正文。" in texts
    assert "原因导语：一是第三项原因。原因三正文。" in texts
    # The measures mirror the problems named by their titles, as they do for keys.
    assert section_texts(texts, "三、下一步措施", "结束语。") == [
        "措施导语：", "1.针对第二项问题精准施策。措施二正文。", "2.针对第一项问题持续用力。措施一正文。"]
    assert highlighted_runs(out) == []


def test_an_item_named_twice_by_key_and_by_title_is_refused(tmp_path: Path, mini_pack: Path) -> None:
    with pytest.raises(ProfileError) as error:
        build_from(tmp_path, mini_profile(mini_pack, work=["alpha", "alpha"]), "keys.yaml")
    assert [p.message for p in error.value.problems] == ["“alpha”选了两次"]
    with pytest.raises(ProfileError) as error:
        build_from(tmp_path, mini_profile(mini_pack, work=["alpha", "甲项"]), "title.yaml")
    assert any("选了两次" in p.message for p in error.value.problems), problems_of(error)


def test_own_items_are_numbered_with_the_rest(tmp_path: Path, mini_pack: Path) -> None:
    own = {"lead": "抓自选动作，打造特色", "text": "自拟正文"}
    data = mini_profile(mini_pack, work=[own, "alpha"], problems=["p_one", {"lead": "自查问题", "text": "具体表现"}])
    texts = docx_texts(build_from(tmp_path, data))
    assert "（一）抓自选动作，打造特色。自拟正文。" in texts
    assert f"（二）{LEADS['alpha']}{ALPHA}" in texts
    assert paragraph_starting(texts, "一是") == "一是第一项问题仍然存在。问题一正文。二是自查问题。具体表现。"


def test_measures_mirror_the_chosen_problems_when_omitted(tmp_path: Path, mini_pack: Path) -> None:
    texts = docx_texts(build_from(tmp_path, mini_profile(mini_pack, problems=["p_three", "p_one"])))
    assert section_texts(texts, "三、下一步措施", "结束语。") == [
        "措施导语：", "1.针对第三项问题久久为功。措施三正文。", "2.针对第一项问题持续用力。措施一正文。"]
    gathered = mini_profile(mini_pack, problems=[{"key": ["p_two", "p_three"]}])
    texts = docx_texts(build_from(tmp_path, gathered, "gathered.yaml"))
    assert section_texts(texts, "三、下一步措施", "结束语。") == [
        "措施导语：", "1.针对第二项问题精准施策。措施二正文。", "2.针对第三项问题久久为功。措施三正文。"]
    given = mini_profile(mini_pack, problems=["p_one"], measures=["m_two", "m_three"])
    texts = docx_texts(build_from(tmp_path, given, "given.yaml"))
    assert section_texts(texts, "三、下一步措施", "结束语。") == [
        "措施导语：", "1.针对第二项问题精准施策。措施二正文。", "2.针对第三项问题久久为功。措施三正文。"]


# ---------------------------------------------------------------- structure from the profile


def test_title_byline_closing_and_causes_can_be_left_out(tmp_path: Path, mini_pack: Path) -> None:
    full = docx_texts(build_from(tmp_path, mini_profile(mini_pack), "full.yaml"))
    assert full[:3] == ["2025年度述职报告", "市文化旅游局机关党委书记\u3000周某某", "（2026年1月12日）"]
    assert full[-1] == "结束语。"
    data = mini_profile(mini_pack, structure={"title": False, "byline": False, "closing": False, "causes": False})
    out = build_from(tmp_path, data, "bare.yaml")
    texts = docx_texts(out)
    assert texts[0] == "市文化旅游局机关党委按照市直机关工委部署开展工作，现将情况报告如下："
    assert not any("周某某" in t or "2026年1月12日" in t for t in texts)
    assert "结束语。" not in texts
    assert not any("原因导语" in t or "第一项原因" in t for t in texts)
    assert texts[-1] == "3.针对第三项问题久久为功。措施三正文。"
    assert not any(style_id(p) in ("ReportTitle", "Byline") for p in docx_paragraphs(out))


def test_a_section_left_out_renumbers_the_headings(tmp_path: Path) -> None:
    pack = make_mini_pack(tmp_path / "pack", skeleton={"sections": mini_sections(causes_heading="原因分析")})
    out = build_from(tmp_path, mini_profile(pack), "all.yaml")
    assert headings(out) == ["一、履职情况", "二、存在的问题", "三、原因分析", "四、下一步措施"]
    out = build_from(tmp_path, mini_profile(pack, structure={"causes": False}), "less.yaml")
    assert headings(out) == ["一、履职情况", "二、存在的问题", "三、下一步措施"]
    assert not any("原因" in t for t in docx_texts(out))
    out = build_from(tmp_path, mini_profile(pack, structure={"causes": {"show": False}}), "show.yaml")
    assert headings(out) == ["一、履职情况", "二、存在的问题", "三、下一步措施"]


def test_heading_and_numbering_can_be_changed(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, structure={"work": {"heading": "{year}年抓党建工作情况", "numbering": "1."},
                                              "measures": {"numbering": "（一）"}})
    out = build_from(tmp_path, data)
    texts = docx_texts(out)
    assert headings(out) == ["一、2025年抓党建工作情况", "二、存在的问题及原因", "三、下一步措施"]
    assert section_texts(texts, "一、2025年抓党建工作情况", "二、存在的问题及原因") == [
        f"1.{LEADS['alpha']}{ALPHA}", f"2.{LEADS['beta']}{BETA}", f"3.{LEADS['gamma']}{GAMMA}"]
    assert section_texts(texts, "三、下一步措施", "结束语。")[1:] == [
        f"（{n}）{m}" for n, m in zip("一二三", MEASURE_LEADS, strict=True)]
    data = mini_profile(mini_pack, structure={"work": {"numbering": "一是"}})
    texts = docx_texts(build_from(tmp_path, data, "ordinal.yaml"))
    assert section_texts(texts, "一、履职情况", "二、存在的问题及原因") == [
        f"一是{LEADS['alpha']}{ALPHA}二是{LEADS['beta']}{BETA}三是{LEADS['gamma']}{GAMMA}"]


def test_a_heading_typed_with_its_number_is_not_numbered_twice(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, structure={"work": {"heading": "一、抓党建工作情况"}})
    out = build_from(tmp_path, data)
    assert headings(out)[0] == "一、抓党建工作情况"
    warnings = draft_of(tmp_path / "p.yaml").warnings
    assert any("自己写了编号“一、”" in w.message for w in warnings)


def test_intro_can_be_dropped_or_written(tmp_path: Path, mini_pack: Path) -> None:
    texts = docx_texts(build_from(tmp_path, mini_profile(mini_pack, structure={"measures": {"intro": False}})))
    assert section_texts(texts, "三、下一步措施", "结束语。") == [f"{n}.{m}" for n, m in zip("123", MEASURE_LEADS,
                                                                                          strict=True)]
    data = mini_profile(mini_pack, structure={"causes": {"intro": "深挖根源，原因有："},
                                              "measures": {"intro": "下一步，重点抓好以下工作。"}})
    texts = docx_texts(build_from(tmp_path, data, "own.yaml"))
    assert "深挖根源，原因有：一是第一项原因。原因一正文。二是第二项原因。原因二正文。三是第三项原因。原因三正文。" in texts
    assert section_texts(texts, "三、下一步措施", "结束语。")[0] == "下一步，重点抓好以下工作。"
    assert "原因导语：" not in "".join(texts) and "措施导语：" not in texts


def test_a_locked_skeleton_refuses_title_and_heading_changes(tmp_path: Path) -> None:
    pack = make_mini_pack(tmp_path / "pack", skeleton={"locked": ["title", "headings"]})
    data = mini_profile(pack, structure={"title": "自己的标题", "work": {"heading": "别的标题"}})
    with pytest.raises(ProfileError) as error:
        build_from(tmp_path, data)
    messages = [p.message for p in error.value.problems]
    assert messages == ["模板包“mini”规定了统一的标题，不能更改", "模板包“mini”规定了统一的结构，不能改标题"]
    assert [p.key for p in error.value.problems] == ["structure.title", "structure.work"]
    assert not (tmp_path / "p.docx").exists()
    result = CliRunner().invoke(cli, ["build", str(tmp_path / "p.yaml")])
    assert result.exit_code == 1
    assert "规定了统一的标题，不能更改" in result.output and "不能改标题" in result.output
    with pytest.raises(ProfileError) as error:
        build_from(tmp_path, mini_profile(pack, structure={"title": False}), "off.yaml")
    assert [p.message for p in error.value.problems] == ["模板包“mini”规定了统一的标题，不能更改"]
    # What is not locked can still change.
    out = build_from(tmp_path, mini_profile(pack, structure={"measures": {"numbering": "（一）"}}), "free.yaml")
    assert headings(out) == ["一、履职情况", "二、存在的问题及原因", "三、下一步措施"]
    assert f"（一）{MEASURE_LEADS[0]}" in docx_texts(out)
    assert docx_texts(out)[0] == "2025年度述职报告"


# ---------------------------------------------------------------- variants and determinism


@pytest.mark.parametrize("pack", BUILTIN)
def test_the_same_profile_gives_byte_identical_docx(tmp_path: Path, pack: str) -> None:
    data = builtin_example(pack)
    first = build_from(tmp_path / "a", data).read_bytes()
    second = build_from(tmp_path / "b", data).read_bytes()
    assert first == second
    again = build_from(tmp_path / "a", data).read_bytes()  # rebuilt in place
    assert again == first


@pytest.mark.parametrize("pack", BUILTIN)
def test_wording_depends_on_unit_wording_and_year(tmp_path: Path, pack: str) -> None:
    data = builtin_example(pack)
    unit = data["meta"]["unit"]
    base = body_texts(draft_of(write_yaml(tmp_path / "base.yaml", data)), unit)
    other_unit = "东湖区某某局机关党委"
    variants = {
        "unit": (builtin_example(pack, meta={**data["meta"], "unit": other_unit}), other_unit),
        "wording": (builtin_example(pack, wording=1), unit),
        "year": (builtin_example(pack, meta={**data["meta"], "year": data["meta"]["year"] + 1}), unit),
    }
    assert len(base) >= 8
    for what, (changed, name) in variants.items():
        texts = body_texts(draft_of(write_yaml(tmp_path / f"{what}.yaml", changed)), name)
        same = shared(base, texts)
        assert len(same) <= len(base) // 4, (what, same)


# ---------------------------------------------------------------- 同比


def test_change_against_last_year(tmp_path: Path) -> None:
    data = builtin_example("jiguan")
    data["facts"] = {**data["facts"], "study_sessions": 14}
    more = docx_text(build_from(tmp_path, {**data, "last_year": {"facts": {"study_sessions": 12}}}, "more.yaml"))
    assert "14次，较上年增加2次" in more
    same = docx_text(build_from(tmp_path, {**data, "last_year": {"facts": {"study_sessions": 14}}}, "same.yaml"))
    assert "14次，与上年持平" in same
    less = docx_text(build_from(tmp_path, {**data, "last_year": {"facts": {"study_sessions": 15}}}, "less.yaml"))
    assert "14次，较上年减少1次" in less
    none = docx_text(build_from(tmp_path, data, "none.yaml"))
    assert "14次" in none
    assert "较上年" not in none and "与上年持平" not in none


@pytest.mark.parametrize("wording", range(30))
def test_change_against_last_year_is_said_in_every_wording(tmp_path: Path, wording: int) -> None:
    data = builtin_example("jiguan", wording=wording)
    data["facts"] = {**data["facts"], "study_sessions": 14}
    data["last_year"] = {"facts": {"study_sessions": 12}}
    text = draft_of(write_yaml(tmp_path / "p.yaml", data)).document.text
    assert "14次" in text
    assert "较上年增加2次" in text, [s for s in text.split("。") if "14次" in s]


def test_change_of_a_percent_is_in_percentage_points(tmp_path: Path) -> None:
    facts = {**MINI_FACTS, "pct": {"label": "党员参学率", "type": "percent", "compare": True, "phrase": ["党员参学率达到{}"]}}
    pack = make_mini_pack(tmp_path / "pack", manifest={"facts": facts})
    data = mini_profile(pack, facts={"sessions": 12, "rate": 96, "doc_name": "要点", "pct": 96},
                        work=["alpha", {"key": "gamma", "facts": ["pct"]}, {"lead": "自拟", "text": "参学率{pct}，{pct.change}"}],
                        last_year={"facts": {"pct": 92.5, "sessions": 12}})
    texts = docx_texts(build_from(tmp_path, data))
    assert f"（二）{LEADS['gamma']}丙项正文。党员参学率达到96%，较上年提高3.5个百分点。" in texts
    assert "（三）自拟。参学率96%，较上年提高3.5个百分点。" in texts
    assert "全年组织集中学习12次，与上年持平。" in "".join(texts)
    down = {**data, "last_year": {"facts": {"pct": 97}}}
    assert "较上年下降1个百分点" in docx_text(build_from(tmp_path, down, "down.yaml"))


def test_no_change_when_a_year_is_approximate_or_missing(tmp_path: Path, mini_pack: Path) -> None:
    for n, (this, last) in enumerate((("40余", 30), (14, "10余"), (14, None))):
        data = mini_profile(mini_pack, facts={"sessions": this, "rate": 96, "doc_name": "要点"}, work=["alpha"])
        if last is not None:
            data["last_year"] = {"facts": {"sessions": last}}
        text = docx_text(build_from(tmp_path, data, f"p{n}.yaml"))
        assert f"全年组织集中学习{this}次。" in text
        assert "较上年" not in text and "持平" not in text


# ---------------------------------------------------------------- 上年问题整改


def test_rectification_status_sentences_and_missing_action(tmp_path: Path, mini_pack: Path) -> None:
    rect = [{"problem": "学习不够深入", "status": "已完成", "action": "建立月学制度"},
            {"problem": "调研偏少", "status": "基本完成"},
            {"problem": "台账不全", "status": "持续推进"},
            {"problem": "阵地管理松散"}]
    out = build_from(tmp_path, mini_profile(mini_pack, rectification=rect))
    texts = docx_texts(out)
    assert section_texts(texts, "二、上年问题整改情况", "三、存在的问题及原因") == [
        "上年查摆的问题整改情况如下：",
        "一是学习不够深入。整改情况：建立月学制度。该问题已整改到位。",
        "二是调研偏少。该问题已基本整改。",
        "三是台账不全。该问题正在持续整改。",
        "四是阵地管理松散。整改情况：【待补充：第四个问题的整改情况】。",
    ]
    assert highlighted_runs(out) == [("【待补充：第四个问题的整改情况】", "yellow")]
    missing = draft_of(tmp_path / "p.yaml").missing
    assert [(m.key, m.label) for m in missing] == [("rectification[4].action", "第四个问题的整改情况")]


def test_the_measure_promised_last_year_is_said_before_what_was_done(tmp_path: Path, mini_pack: Path) -> None:
    rect = [{"problem": "学习不够深入", "measure": "建立月学制度", "action": "每月集中学习一次", "status": "已完成"},
            {"problem": "调研偏少", "measure": "班子成员每季度蹲点调研"},
            {"problem": "台账不全", "measure": "统一台账格式", "status": "持续推进"}]
    out = build_from(tmp_path, mini_profile(mini_pack, rectification=rect))
    assert section_texts(docx_texts(out), "二、上年问题整改情况", "三、存在的问题及原因") == [
        "上年查摆的问题整改情况如下：",
        "一是学习不够深入。整改措施：建立月学制度。落实情况：每月集中学习一次。该问题已整改到位。",
        "二是调研偏少。整改措施：班子成员每季度蹲点调研。落实情况：【待补充：第二个问题的整改情况】。",
        "三是台账不全。整改措施：统一台账格式。该问题正在持续整改。",
    ]


def test_a_problem_carried_from_last_year_says_so(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, problems=["p_one", "p_two"], last_year={"problems": ["p_two"]})
    texts = docx_texts(build_from(tmp_path, data))
    assert "一是第一项问题仍然存在。问题一正文。二是第二项问题有待解决。问题二正文。该问题仍需持续整改。" in texts
    plain = docx_texts(build_from(tmp_path, mini_profile(mini_pack, problems=["p_one", "p_two"]), "plain.yaml"))
    assert "该问题仍需持续整改。" not in "".join(plain)


def test_a_carried_problem_is_worded_unlike_last_year(tmp_path: Path) -> None:
    pack = with_problem_variants(make_mini_pack(tmp_path / "pack"))
    for year in range(2025, 2041):
        for unit in ("市文化旅游局机关党委", "区财政局机关党委"):
            last = draft_of(write_yaml(tmp_path / "last.yaml", mini_profile(
                pack, meta=full_meta(year=year - 1, unit=unit), problems=["p_one", "p_two"])))
            this = draft_of(write_yaml(tmp_path / "this.yaml", mini_profile(
                pack, meta=full_meta(year=year, unit=unit), problems=["p_one", "p_two"],
                last_year={"problems": ["p_one"]})))
            before, now = problem_one(last), problem_one(this)
            assert before[0] != now[0] and before[1] != now[1], (year, unit, before, now)
            assert "该问题仍需持续整改。" in this.document.text


def test_a_problem_carried_two_years_running_is_worded_unlike_last_year(tmp_path: Path) -> None:
    """Last year's draft carried the problem too (its profile had it in last_year.problems): this
    year's wording must differ from what last year's draft actually said."""
    pack = with_problem_variants(make_mini_pack(tmp_path / "pack"))
    repeated = []
    for year in range(2026, 2061):
        for unit in ("单位A", "单位B"):
            last = draft_of(write_yaml(tmp_path / "last.yaml", mini_profile(
                pack, meta=full_meta(year=year - 1, unit=unit), problems=["p_one", "p_two"],
                last_year={"problems": ["p_one"]})))
            this = draft_of(write_yaml(tmp_path / "this.yaml", mini_profile(
                pack, meta=full_meta(year=year, unit=unit), problems=["p_one", "p_two"],
                last_year={"problems": ["p_one"]})))
            before, now = problem_one(last), problem_one(this)
            if before[0] == now[0] or before[1] == now[1]:
                repeated.append((year, unit, before, now))
    assert repeated == []


# ---------------------------------------------------------------- example profiles


@pytest.mark.parametrize("profile", example_profiles(), ids=example_id)
def test_example_profile_builds_a_complete_draft(tmp_path: Path, profile: Path) -> None:
    result = core.build(profile, tmp_path / "draft.docx")
    out = Path(result.output)
    draft = result.draft
    assert draft.missing == (), draft.missing
    assert [w.render() for w in draft.warnings] == []
    assert highlighted_runs(out) == []
    text = docx_text(out)
    for residue in ("待补充", "【", "】", "{", "}", "[", "]", "None", "XX", "**"):
        assert residue not in text, residue
    assert len(headings(out)) >= 3
    assert result.han_count > 1500


def test_there_are_example_profiles_for_every_builtin_pack() -> None:
    found = {path.parent.name for path in example_profiles() if path.parent.parent == TEMPLATES}
    assert found == set(BUILTIN)


# ---------------------------------------------------------------- styles follow roles


def test_paragraph_and_run_styles_follow_roles(tmp_path: Path, mini_pack: Path) -> None:
    data = mini_profile(mini_pack, facts={"rate": 96, "doc_name": "要点"})
    out = build_from(tmp_path, data)
    styles = {p.text: style_id(p) for p in docx_paragraphs(out) if p.text.strip()}
    assert styles["2025年度述职报告"] == "ReportTitle"
    assert styles["市文化旅游局机关党委书记\u3000周某某"] == "Byline"
    assert styles["（2026年1月12日）"] == "Byline"
    assert styles["一、履职情况"] == "Heading1"
    assert styles["三、下一步措施"] == "Heading1"
    assert styles["结束语。"] == "Normal"
    assert styles[PROBLEMS] == "Normal"
    runs: dict[str, list[str | None]] = {}
    for paragraph in docx_paragraphs(out):
        for run in paragraph._p.iter(f"{W}r"):
            text = "".join(t.text or "" for t in run.iter(f"{W}t"))
            rstyle = run.find(f"{W}rPr/{W}rStyle")
            runs.setdefault(text, []).append(rstyle.get(f"{W}val") if rstyle is not None else None)
    assert runs["（一）"] == ["Lead2"] and runs[LEADS["alpha"].rstrip("。")] == ["Lead2"]
    assert runs["1."] == ["Lead3"] and runs["针对第一项问题持续用力"] == ["Lead3"]
    assert runs["【待补充：集中学习次数】"] == ["Placeholder"]
    assert runs["甲项第一要点正文。"] == [None]
    # The lead of an item is its own run(s); the body after it is not styled as a lead.
    item = next(p for p in docx_paragraphs(out) if p.text.startswith("（一）"))
    kinds = [(r.text, r.style.style_id if r.style is not None else None) for r in item.runs]
    lead_end = next(i for i, (text, _) in enumerate(kinds) if text.endswith("。"))
    assert all(style == "Lead2" for _, style in kinds[:lead_end + 1])
    assert all(style != "Lead2" for _, style in kinds[lead_end + 1:])


def test_private_use_characters_in_own_text_are_kept_and_punctuation_still_mended(tmp_path: Path,
                                                                                   mini_pack: Path) -> None:
    """Text pasted from Word can carry private-use characters (symbol fonts); punctuation mending
    joins spans with a marker of its own, which such text must not confuse."""
    texts = docx_texts(build_from(tmp_path, mini_profile(mini_pack, work=[{"key": "alpha", "add": "补充\ue000一句，，"},
                                                                          "beta"])))
    assert any("补充\ue000一句。" in text for text in texts), texts


def test_a_fact_that_repeats_the_words_before_it_is_not_written_twice(tmp_path: Path) -> None:
    """“保障完成{}” with the task written “完成港区保障任务” (as a secretary writes it) would read
    “保障完成完成…”: the pack's words the value repeats are left out; the user's own words stay whole."""
    data = example_data("qiye")
    data["facts"]["business_result"] = "完成青河港区集装箱集疏运保障任务"
    text = str(draft_of(write_yaml(tmp_path / "p.yaml", data)).document.text)
    assert "完成完成" not in text
    assert "保障完成青河港区集装箱集疏运保障任务" in text or "推动完成青河港区集装箱集疏运保障任务" in text, text


@pytest.mark.parametrize(("unit", "kind"), [
    ("市住房和城乡建设局机关党委", "机关"), ("青河县人民法院机关党委", "机关"), ("区财政局党支部", None),
    ("中国人民银行青山市中心支行机关党委", "机关"), ("青山市农业科学院机关党委", "机关"), ("青山市医院管理局机关党委", "机关"),
    ("某某大学机关党委", "机关"), ("某某医科大学附属医院党委", "医院"), ("某某县医疗集团党委", "医院"),
    ("某某教育集团党委", "学校"), ("中建三局党委", None), ("深圳供电局党委", None), ("某某温泉度假村党支部", None),
    ("某某村委党支部", "村社区"),
    ("青河县第二中学党总支", "学校"), ("市职业技术学院党委", "学校"), ("市第一人民医院党委", "医院"),
    ("青河镇党委", "乡镇街道"), ("城关街道党工委", "乡镇街道"), ("东山村党支部", "村社区"), ("幸福社区党委", "村社区"),
    ("青河港务有限公司第二党支部", "企业"), ("市非公有制经济组织和社会组织党工委", None), (None, None),
])
def test_the_kind_of_unit_is_read_from_its_name(unit: str | None, kind: str | None) -> None:
    from reportgen.packs.manifest import unit_kind

    assert unit_kind(unit) == kind


def test_a_school_drafted_with_the_pack_for_organs_is_told(tmp_path: Path) -> None:
    """jiguan speaks of 机关 and 科室: a 中学's secretary who picks it is told, a 机关's is not."""
    data = example_data("jiguan")
    warned = [w.message for w in draft_of(write_yaml(tmp_path / "a.yaml", data)).warnings]
    assert not any("看来是" in message for message in warned), warned
    data["meta"]["unit"] = "青河县第二中学党总支"
    warnings = draft_of(write_yaml(tmp_path / "b.yaml", data)).warnings
    assert [(w.key, w.message) for w in warnings if "看来是" in w.message] == [
        ("meta.unit", "单位“青河县第二中学党总支”看来是学校，模板包“jiguan”是按机关写的，稿子里有些说法不合本单位")]


def test_a_pack_for_an_unknown_kind_of_unit_is_refused(tmp_path: Path) -> None:
    pack = make_mini_pack(tmp_path / "mini")
    manifest = pack / "pack.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "units: [机关, 工厂, {a: 1}]\n", encoding="utf-8")
    with pytest.raises(ReportgenError) as caught:
        core.check_pack(str(pack), tmp_path)
    assert any(p.message == "不认识的单位类型“工厂”" and p.hint == "可写：机关、医院、学校、乡镇街道、村社区、企业"
               for p in caught.value.problems), caught.value.problems
    assert any(p.message == "不认识的单位类型“{'a': 1}”" and p.key == "units[3]" for p in caught.value.problems), \
        caught.value.problems  # a mapping where a name should be: a message, not a traceback


def test_a_branch_is_not_said_to_have_branches_below_it(tmp_path: Path) -> None:
    data = example_data("jiguan")
    data["facts"]["branch_count"] = 1
    for name in ("standard_branches", "branch_elections", "brand_branches", "model_branches", "sample_branches",
                 "honour_branches"):
        data["facts"].pop(name, None)
    committee = draft_of(write_yaml(tmp_path / "a.yaml", data))
    assert re.search("(所属|下设)党支部1个", str(committee.document.text))
    data["meta"]["unit"] = "青河县自然资源局机关党支部"
    branch = draft_of(write_yaml(tmp_path / "b.yaml", data))
    assert not re.search("(所属|下设)党支部1个", str(branch.document.text))
    assert [(w.key, w.message) for w in branch.warnings if "下属" in w.message] == [
        ("facts.branch_count", "本级是党支部，没有下属的党支部：“所属党支部数量”（branch_count）没有写进稿子")]
    data["meta"]["unit"] = "中共青河县自然资源局第一支部委员会"  # the formal name of a 党支部
    formal = draft_of(write_yaml(tmp_path / "c.yaml", data))
    assert not re.search("(所属|下设)党支部1个", str(formal.document.text))
    assert any("本级是党支部" in w.message for w in formal.warnings)


@pytest.mark.parametrize("pack", BUILTIN)
def test_sentences_of_facts_are_opened_by_each_opener_about_as_often(pack: str) -> None:
    """Six sentences of one draft all opening “过去一年” read as a form: each opener is used about as often."""
    from reportgen.packs.prose import plain

    loaded = load_builtin(pack)
    openers = [plain(variant.segments) for variant in loaded.frame.fact_openers]
    text = str(draft_of(TEMPLATES / pack / "example.yaml").document.text)
    counts = [len(re.findall(f"(?:^|[。：；\\n]){re.escape(opener)}", text)) for opener in openers]
    assert max(counts) - min(counts) <= 2, dict(zip(openers, counts, strict=True))


def test_a_pack_that_says_a_plan_as_this_years_work_is_refused(tmp_path: Path) -> None:
    """A target for next year in a work item's sentence or facts would read as done this year."""
    from conftest import jiguan_copy

    jiguan_copy(tmp_path, "mine")
    topics = tmp_path / "mine" / "prose" / "topics.yaml"
    text = topics.read_text(encoding="utf-8")
    first = "[，全年组织理论学习中心组集中学习{study_sessions}]"
    assert first in text
    topics.write_text(text.replace(first, first + "[，举办培训班{target_training}]", 1), encoding="utf-8")
    with pytest.raises(ReportgenError) as caught:
        core.check_pack(str(tmp_path / "mine"), tmp_path)
    assert any(p.message == "“下一年度计划举办培训班期数”是下一年度的计划，只能写在措施（measures）里"
               and p.file and p.file.endswith("topics.yaml") for p in caught.value.problems), caught.value.problems


def test_the_measure_typed_with_its_label_or_a_semicolon_is_joined_cleanly(tmp_path: Path, mini_pack: Path) -> None:
    rect = [{"problem": "调研偏少", "measure": "整改措施：班子成员每季度蹲点调研；", "action": "全年蹲点12次"}]
    out = build_from(tmp_path, mini_profile(mini_pack, rectification=rect))
    assert "一是调研偏少。整改措施：班子成员每季度蹲点调研。落实情况：全年蹲点12次。" in docx_texts(out)


def test_a_list_of_titles_keeps_the_words_before_it(tmp_path: Path) -> None:
    """Only a text fact drops the pack's words it repeats: “深入学习” before the titles “学习纲要、学习问答”
    stays whole."""
    data = example_data("jiguan")
    data["facts"]["study_documents"] = ["学习纲要", "学习问答", "党章"]
    texts = [str(draft_of(write_yaml(tmp_path / f"w{n}.yaml", {**data, "wording": n})).document.text) for n in range(6)]
    assert all("学习纲要" in text for text in texts)
    assert not any("深入学习纲要" in text for text in texts)

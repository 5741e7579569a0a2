"""``packs check`` reads the drafts a pack makes as a reviewer would, and the built-in packs pass it.

The lint flags a worn word used too often in one draft, many sentences ending alike, over-long sentences
and every lead of a section cut from one pattern.  The built-in packs are linted over their example
profile in 40 wordings, so that every sentence variant is read in some draft.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from conftest import BUILTIN, TEMPLATES, make_mini_pack, mini_profile, write_yaml
from reportgen.content.lint import lint_document, lint_sentences, variety
from reportgen.content.model import Document, Paragraph, Span
from reportgen.inputs.source import read_text
from reportgen.inputs.yamlfile import parse_yaml
from reportgen.outputs.drafting import Run


def _document(*bodies: str, leads: tuple[str, ...] = ()) -> Document:
    paragraphs = [Paragraph("body", (Span(text),), f"p{i}") for i, text in enumerate(bodies)]
    paragraphs += [Paragraph("body", (Span(f"（{n}）", "lead2"), Span(lead, "lead2"), Span("正文。")), f"work.{n}")
                   for n, lead in enumerate(leads, start=1)]
    return Document("标题", tuple(paragraphs))


def test_a_worn_word_is_flagged() -> None:
    notes = lint_document(_document("我们推动工作。" * 16))
    assert "“推动”在一份稿子里出现了 16 次" in notes


def test_many_sentences_ending_alike_are_flagged() -> None:
    notes = lint_document(_document("各项工作取得明显成效。" * 3 + "党员队伍建设取得明显成效。" * 2))
    assert "有 5 句以“明显成效”结尾" in notes


def test_an_over_long_sentence_is_flagged() -> None:
    sentence = "围绕" + "党建引领业务发展" * 20 + "。"
    notes = lint_document(_document(sentence))
    assert any(note.startswith(f"句子过长（{len(sentence)} 字）") for note in notes)


def test_leads_in_one_pattern_are_flagged_and_varied_leads_are_not() -> None:
    same = ("抓理论武装，强化政治引领", "抓责任落实，强化履职担当", "抓支部建设，强化标准规范")
    assert any("同一个句式" in note for note in lint_document(_document(leads=same)))
    varied = ("提高政治站位，落实主体责任", "强化教育培训，深化理论武装", "对照标准规范，抓好支部建设")
    assert not any("同一个句式" in note for note in lint_document(_document(leads=varied)))


def test_a_clean_draft_has_no_notes() -> None:
    assert lint_document(_document("本人认真履行第一责任人职责。", "支部按期换届。")) == []


@pytest.mark.parametrize("pack", BUILTIN)
def test_every_variant_of_the_builtin_packs_passes_the_lint(pack: str) -> None:
    example = TEMPLATES / pack / "example.yaml"
    base = parse_yaml(read_text(example), str(example))
    run = Run()
    notes: list[str] = []
    for wording in range(40):
        meta = {**base.data["meta"], "unit": f"第{wording}单位机关党委"}
        tree = replace(base, data={**base.data, "wording": wording, "meta": meta})
        notes += lint_document(run.draft(tree, "", example.parent).document)
    draft = run.draft(base, "", example.parent)
    assert notes == []
    assert lint_sentences(draft.pack) == []


@pytest.mark.parametrize("pack", BUILTIN)
def test_builtin_packs_say_every_sentence_at_least_four_ways(pack: str) -> None:
    figures = variety(Run().finder.find(pack))
    assert figures.fewest >= 4
    assert figures.mean >= 5


def test_packs_check_reports_the_notes_of_a_worn_pack(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from reportgen.cli import cli

    pack = make_mini_pack(tmp_path / "mini")
    topics = pack / "prose" / "topics.yaml"
    text = topics.read_text(encoding="utf-8").replace("甲项第一要点正文。", "推动推动推动推动推动推动推动推动推动推动推动推动。")
    topics.write_text(text, encoding="utf-8")
    write_yaml(pack / "example.yaml", mini_profile(pack))
    manifest = (pack / "pack.yaml").read_text(encoding="utf-8") + "example_profile: example.yaml\n"
    (pack / "pack.yaml").write_text(manifest, encoding="utf-8")
    result = CliRunner().invoke(cli, ["packs", "check", str(pack)])
    assert result.exit_code == 0, result.output
    assert "“推动”在一份稿子里出现了 12 次" in result.output
    assert "措辞变化：" in result.output

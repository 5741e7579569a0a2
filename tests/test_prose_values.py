"""Values templates see: arithmetic on meta.year, the `chinese` filter, doubled marks, folded text."""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import build_draft, docx_text, make_mini_pack, mini_profile, write_yaml
from reportgen.pack import load_pack
from reportgen.profile import Meta
from reportgen.prose import MetaView, ProseEngine, chinese_filter, markup_to_spans


def _render(pack_dir: Path, source: str, meta: Meta) -> str:
    engine = ProseEngine(load_pack(pack_dir))
    spans = engine.render("inline", {"meta": MetaView(meta), "count": 3}, source=source)
    return "".join(s.text if s.kind != "placeholder" else f"[{s.text}]" for s in spans)


def test_year_arithmetic_and_chinese_count(tmp_path: Path) -> None:
    pack_dir = make_mini_pack(tmp_path / "pack")
    text = _render(pack_dir, "{{ meta.year - 1 }}年整改，{{ meta.year + 1 }}年目标，共{{ count|chinese }}项", Meta(year=2025))
    assert text == "2024年整改，2026年目标，共三项"


def test_arithmetic_on_a_missing_year_stays_a_placeholder(tmp_path: Path) -> None:
    pack_dir = make_mini_pack(tmp_path / "pack")
    text = _render(pack_dir, "{{ meta.year - 1 }}年度问题整改情况", Meta())
    assert text == "[【待补充：述职年度】]年度问题整改情况"


def test_chinese_filter_leaves_other_values() -> None:
    assert chinese_filter(12) == "十二"
    assert chinese_filter("文字") == "文字"


def test_doubled_book_title_marks_collapse() -> None:
    spans = markup_to_spans("印发《《工作要点》》，开展““双强””活动")
    assert "".join(s.text for s in spans) == "印发《工作要点》，开展“双强”活动"


def test_folded_yaml_text_has_no_space_between_chinese_lines(tmp_path: Path) -> None:
    pack_dir = make_mini_pack(tmp_path / "pack")
    data = mini_profile(pack_dir)
    del data["work"]
    dumped = yaml.safe_dump(data, allow_unicode=True) + (
        "work:\n  - alpha\n  - beta\n  - lead: 抓自选工作，形成特色\n    text: >-\n      第一行文字，\n      第二行文字。\n")
    profile_text = tmp_path / "p.yaml"
    profile_text.write_text(dumped, encoding="utf-8")
    draft = Path(build_draft(profile_text).output)
    assert "第一行文字，第二行文字。" in docx_text(draft)


def test_render_memo_keys_on_every_value_a_template_reads(tmp_path: Path) -> None:
    """Rendered text is reused only for the same inputs: a changed fact or meta field renders anew."""
    from reportgen.core import load_profile
    from reportgen.prose import ProseEngine

    pack_dir = make_mini_pack(tmp_path / "pack")
    first = write_yaml(tmp_path / "a.yaml", mini_profile(pack_dir))
    changed = mini_profile(pack_dir)
    changed["facts"] = {**changed["facts"], "sessions": 31}
    changed["meta"] = {**changed["meta"], "unit": "另一个单位"}
    second = write_yaml(tmp_path / "b.yaml", changed)
    profile_a, pack = load_profile(first)
    profile_b, _ = load_profile(second, pack=pack)
    engine = ProseEngine(pack)
    text_a, text_b, text_a_again = (engine.compose(p).text for p in (profile_a, profile_b, profile_a))
    assert "集中学习12次" in text_a and "集中学习31次" in text_b
    assert "另一个单位" in text_b and "另一个单位" not in text_a
    assert text_a_again == text_a
    assert engine._rendered  # templates that read no unit data were memoised
    memoised = {key[0] for key in engine._rendered}
    assert all((deps := engine._dependencies[name]) is not None and not deps.facts and not deps.meta
               for name in memoised)  # ... and only those


def test_templates_whose_reads_cannot_be_seen_are_not_memoised(tmp_path: Path) -> None:
    from reportgen.prose import ProseEngine, template_dependencies

    engine = ProseEngine(load_pack(make_mini_pack(tmp_path / "pack")))
    parse = engine.env.parse
    assert template_dependencies(parse("{{ f.sessions }}{{ meta.unit }}{{ count }}")) is not None
    for source in ("{{ f|attr('sessions') }}", "{% set f = meta %}{{ f.unit }}", "{% include 'x.j2' %}",
                   "{% for x in [f] %}{{ x.sessions }}{% endfor %}", "{{ meta }}"):
        assert template_dependencies(parse(source)) is None, source

"""Issue 2, point 2: the seed outlines, and the built-in packs cover what the seeds use.

Each seeds/0*.md starts with YAML front matter: the seed's pack, its sections in order, each
with a numbering style (and the style of points inside items).  The packs in templates/ at
run time must together cover every section kind and numbering style; a pack a seed names must
follow that seed's order and use a numbering style one of its seeds uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import (
    SEEDS,
    build_from,
    builtin_pack_names,
    docx_texts,
    make_mini_pack,
    mini_profile,
    seed_outlines,
)
from reportgen.numbering import NUMBERING_STYLES, item_label
from reportgen.pack import SECTION_KINDS, find_pack

ITEM_KINDS = ("work", "rectification", "problems", "causes", "measures")


SEED_FILES = sorted(SEEDS.glob("0*.md"))
SEED_DATA = seed_outlines()


def seed_sections(seed: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in seed["sections"] if s["kind"] in ITEM_KINDS]


def test_there_are_five_seed_outlines_and_a_skeleton() -> None:
    assert [p.stem for p in SEED_FILES] == ["000", "001", "002", "003", "004"]
    assert (SEEDS / "skeleton.md").is_file()


@pytest.mark.parametrize("name", list(SEED_DATA))
def test_front_matter_is_well_formed(name: str) -> None:
    seed = SEED_DATA[name]
    assert seed["seed"] == name
    assert isinstance(seed.get("pack"), str) and seed["pack"]
    kinds = [s["kind"] for s in seed["sections"]]
    assert kinds[0] == "opening"
    assert set(kinds) <= set(SECTION_KINDS)
    assert len(kinds) == len(set(kinds))
    for section in seed_sections(seed):
        assert section["numbering"] in NUMBERING_STYLES, section
        assert section.get("points", "none") in NUMBERING_STYLES, section
    # Seeds follow the genre's order: work, (rectification), problems, (causes), measures.
    order = [k for k in ITEM_KINDS if k in kinds]
    assert [k for k in kinds if k in ITEM_KINDS] == order
    assert {"work", "problems", "measures"} <= set(kinds)


@pytest.mark.parametrize("name", list(SEED_DATA))
def test_outline_body_describes_the_seed(name: str) -> None:
    body = (SEEDS / f"{name}.md").read_text(encoding="utf-8").partition("\n---\n")[2]
    for section in seed_sections(SEED_DATA[name]):
        if section.get("heading"):
            assert section["heading"] in body, f"{name}.md does not describe “{section['heading']}”"


def _packs() -> dict[str, Any]:
    return {name: find_pack(name) for name in builtin_pack_names()}


def test_builtin_packs_cover_every_section_kind_the_seeds_use() -> None:
    used = {s["kind"] for seed in SEED_DATA.values() for s in seed["sections"]}
    covered = {s.kind for pack in _packs().values() for s in pack.skeleton.sections}
    assert used - covered == set(), f"section kinds no built-in pack has: {used - covered}"


def test_every_numbering_style_the_seeds_use_is_available_to_packs(tmp_path: Path) -> None:
    """Each seed numbering style is used by a built-in pack, or a pack author can choose it:
    a pack whose work section uses it builds with exactly that numbering."""
    used = {s["numbering"] for seed in SEED_DATA.values() for s in seed_sections(seed)}
    covered = {s.numbering for pack in _packs().values() for s in pack.skeleton.sections
               if s.kind in ITEM_KINDS}
    assert used <= set(NUMBERING_STYLES)
    for style in sorted(used - covered):
        pack_dir = make_mini_pack(tmp_path / f"pack-{style}", work=style)
        (tmp_path / style).mkdir()
        draft = build_from(tmp_path / style, mini_profile(pack_dir))
        texts = docx_texts(draft)
        if style == "ordinal_inline":
            paragraph = next(t for t in texts if "甲项正文" in t)
            assert paragraph.startswith("一是抓甲项工作，夯实基础。甲项正文") and "二是抓乙项工作" in paragraph, paragraph
            continue
        first = next(t for t in texts if "甲项正文" in t)
        second = next(t for t in texts if "乙项正文" in t)
        if style == "ordinal_paragraphs":
            labels = ("一是", "二是")
        else:
            labels = (item_label(style, 1), item_label(style, 2))
        assert first.startswith(f"{labels[0]}抓甲项工作，夯实基础。甲项正文"), (style, first)
        assert second.startswith(f"{labels[1]}抓乙项工作，补齐短板。乙项正文"), (style, second)


def test_points_inside_items_are_available_where_seeds_use_them() -> None:
    """A seed with 一是/二是 inside its items: its pack's templates for that section call ordinal()."""
    packs = _packs()
    for name, seed in SEED_DATA.items():
        pack = packs.get(seed["pack"])
        if pack is None:
            continue
        for section in seed_sections(seed):
            if section.get("points", "none") == "none" or section["kind"] == "rectification":
                continue
            catalogue = {"work": "topics"}.get(section["kind"], section["kind"])
            texts = [pack.path(entry.template).read_text(encoding="utf-8")
                     for entry in pack.catalogues.get(catalogue, {}).values()]
            assert any("ordinal()" in text for text in texts), (name, pack.name, section["kind"])


def _seeds_of(pack_name: str) -> dict[str, dict[str, Any]]:
    return {name: seed for name, seed in SEED_DATA.items() if seed["pack"] == pack_name}


def test_every_seed_names_a_pack() -> None:
    named = {seed["pack"] for seed in SEED_DATA.values()}
    assert "jiguan" in named


@pytest.mark.parametrize("pack_name", sorted({seed["pack"] for seed in SEED_DATA.values()}))
def test_pack_named_by_seeds_follows_their_structure(pack_name: str) -> None:
    if pack_name not in builtin_pack_names():
        pytest.skip(f"模板包 {pack_name} 还没有内置")
    pack = find_pack(pack_name)
    pack_kinds = [s.kind for s in pack.skeleton.sections if s.kind in ITEM_KINDS]
    seeds = _seeds_of(pack_name)
    for name, seed in seeds.items():
        kinds = [s["kind"] for s in seed_sections(seed)]
        # The seed's sections appear in the pack, in the same order (the pack may have more).
        positions = [pack_kinds.index(k) if k in pack_kinds else -1 for k in kinds]
        assert -1 not in positions, f"{pack_name} lacks a section of seed {name}: {kinds} vs {pack_kinds}"
        assert positions == sorted(positions), f"{pack_name} orders seed {name}'s sections differently"
    for section in pack.skeleton.sections:
        if section.kind not in ITEM_KINDS:
            continue
        styles = {s["numbering"] for seed in seeds.values() for s in seed_sections(seed) if s["kind"] == section.kind}
        if styles:
            assert section.numbering in styles, (pack_name, section.kind, section.numbering, styles)

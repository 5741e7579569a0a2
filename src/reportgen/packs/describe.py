"""A pack in words a clerk can read: ``packs list`` and ``packs show``."""

from __future__ import annotations

from ..errors import display_path, display_width, pad
from ..inputs.profile import SECTION_WORDS
from .lookup import SOURCE_NAMES, Listing
from .manifest import CATALOGUE_KINDS, Pack
from .prose import plain

__all__ = ["describe_pack", "listing_lines"]

CATALOGUE_WORDS = {"topics": "履职工作", "problems": "问题", "causes": "原因", "measures": "措施"}
NUMBERING_WORDS = {
    "chinese": "一、二、三、", "paren_chinese": "（一）（二）（三）", "arabic": "1. 2. 3.", "paren_arabic": "（1）（2）（3）",
    "ordinal_inline": "一是、二是、三是（在同一段内）", "ordinal_paragraphs": "一是、二是、三是（各自成段）", "none": "不编号",
}


def listing_lines(listing: Listing) -> list[str]:
    if not listing.packs:
        return ["没有找到模板包。"]
    rows = [("名称", "版本", "来源", "标题")]
    rows += [(p.name, p.version, SOURCE_NAMES[p.source], p.title) for p in listing.packs]
    widths = [max(display_width(row[i]) for row in rows) for i in range(3)]
    return ["  ".join(pad(cell, widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3] for row in rows]


def describe_pack(pack: Pack) -> str:
    """A pack's structure, catalogues (with their points and facts) and the facts it can state."""
    out = [f"模板包：{pack.title}", f"名称：{pack.name}    版本：{pack.version}    来源：{SOURCE_NAMES[pack.source]}",
           f"位置：{display_path(pack.root)}"]
    if pack.description:
        out.append(f"说明：{pack.description}")
    if pack.requires:
        out.append(f"需要 reportgen：{pack.requires}")
    if pack.length:
        out.append(f"建议字数：{pack.length[0]}—{pack.length[1]} 字")
    out += ["", "结构（skeleton）："]
    skeleton = pack.skeleton
    if skeleton.title:
        out.append(f"  标题：{skeleton.title}")
    out.append(f"  署名：{'有（单位、职务、姓名和日期）' if skeleton.byline else '无'}")
    for index, section in enumerate(skeleton.sections, start=1):
        parts = [f"标题“{section.heading}”" if section.heading else "无单独标题"]
        if section.kind in ("work", "problems", "causes", "measures", "rectification"):
            parts.append(f"编号：{NUMBERING_WORDS.get(section.numbering, section.numbering)}")
            if section.kind == "work":
                parts.append("要点：" + ("一是、二是……" if section.points == "ordinal_inline" else "连写"))
            if section.kind != "rectification":
                parts.append(f"{section.min_items}～{section.max_items} 条")
            if section.intro:
                parts.append("有引导段")
        out.append(f"  {index}. {SECTION_WORDS[section.kind]}（{section.kind}）：{'；'.join(parts)}")
    if skeleton.locked:
        out.append(f"  统一要求（资料文件不能改）：{'、'.join(sorted(skeleton.locked))}")
    out += ["", "条目（资料文件里写条目名；“要点”可在 points 里挑选、调整顺序）："]
    for kind in CATALOGUE_KINDS:
        entries = pack.catalogues.get(kind, {})
        if not entries:
            continue
        out.append(f"  {CATALOGUE_WORDS[kind]}（{kind}，共 {len(entries)} 条）：")
        for entry in entries.values():
            lead = plain(entry.lead[0].segments, "……") if entry.lead else ""
            measure = f"（对应措施：{entry.measure}）" if entry.measure else ""
            out.append(f"    {entry.key}：{entry.title} —— 如“{lead}”，{len(entry.lead)} 种说法{measure}")
            if entry.points:
                out.append("      要点：" + "、".join(point.key for point in entry.points))
            facts = entry.all_facts()
            if facts:
                out.append("      事实：" + "、".join(facts))
    out += ["", f"事实（facts，共 {len(pack.facts)} 项；资料文件里只写数字，单位自动加上）："]
    for spec in pack.facts.values():
        details = [spec.type_word]
        if spec.unit and spec.counted:
            details.append(f"单位：{spec.unit}")
        if spec.required:
            details.append("选了用到它的条目时必填")
        if spec.compare:
            details.append("可写同比")
        out.append(f"  {spec.key}：{spec.label}（{'，'.join(details)}）")
    return "\n".join(out)

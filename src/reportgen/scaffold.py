"""The profile scaffold that ``reportgen init`` writes: every field, with Chinese comments.

Building the untouched scaffold gives the whole skeleton of the report, each missing
fact a highlighted 【待补充】 placeholder.
"""

from __future__ import annotations

from .pack import CATALOGUE_FOR_SECTION, Pack
from .profile import META_FIELDS
from .prose import paragraph_ids

__all__ = ["scaffold_text"]

_META_EXAMPLES = {
    "unit": "例：市农业农村局机关党委",
    "name": "例：张某某",
    "position": "例：党委书记",
    "year": "例：2025（四位数年份，不带“年”字）",
    "superior": "例：市直机关工委",
    "basis": "例：市直机关工委《关于开展2025年度党组织书记抓基层党建工作述职评议考核的通知》",
    "date": "例：2026-01-10",
}
_TYPE_NAMES = {"integer": "整数", "number": "数字", "percent": "百分数，只写数字", "text": "文字", "list": "列表"}
_SECTION_TITLES = {
    "work": ("履职工作情况", "从下面的目录中选择要写的工作"),
    "problems": ("存在的主要问题", "从目录中选择"),
    "causes": ("问题的原因", "从目录中选择"),
    "measures": ("下一步工作措施", "省略时自动与所选问题一一对应；也可以自己选择"),
}


def _comment_block(lines: list[str]) -> list[str]:
    return [f"# {line}" if line else "#" for line in lines]


def scaffold_text(pack: Pack, pack_request: str | None = None) -> str:
    out: list[str] = []
    out += _comment_block([
        f"reportgen 资料文件 —— 模板包：{pack.title}（{pack.name} {pack.version}）",
        "",
        "填写方法：在每个“键: ”的冒号后面加一个空格再写内容；冒号、空格都用半角（英文）符号。",
        "不知道的数字先空着，生成的稿子里会在相应位置显示黄色的【待补充：…】。",
        "写好后运行：reportgen check 本文件.yaml（检查），reportgen build 本文件.yaml（生成 Word 稿）。",
    ])
    out.append("")
    out.append(f"pack: {pack_request or pack.name}   # 使用的模板包；可写版本要求，如 {pack.name}>={pack.version}")
    out.append("")
    out.append("meta:   # 基本信息")
    for key, label in META_FIELDS.items():
        out.append(f"  {key}:   # {label}，{_META_EXAMPLES[key]}")
    out.append("")
    out.append("facts:   # 本年度的事实数据：只写真实数字，单位由模板自动加上")
    for spec in pack.facts:
        unit = f"，单位：{spec.unit}" if spec.unit and spec.type not in ("text", "list") else ""
        need = "必填" if spec.required else "选填"
        out.append(f"  {spec.key}:   # {spec.label}（{_TYPE_NAMES.get(spec.type, spec.type)}{unit}，{need}）")
    for section in pack.skeleton.sections:
        kind = section.kind
        if kind == "rectification":
            out.append("")
            out += _comment_block([
                "上年问题整改情况：每个上年度查摆或反馈的问题写一项；没有时删掉 rectification 这一整段。",
            ])
            out += [
                "rectification:",
                "  - problem:   # 上年度的问题（一句话）",
                "    action:    # 整改情况（做了什么、结果如何）",
            ]
            continue
        catalogue_name = CATALOGUE_FOR_SECTION.get(kind)
        if catalogue_name is None:
            continue
        catalogue = pack.catalogues.get(catalogue_name, {})
        title, how = _SECTION_TITLES[kind]
        out.append("")
        count = f"{section.min_items}—{section.max_items} 项" if section.min_items != section.max_items else ""
        out += _comment_block([f"{title}：{how}{'，共 ' + count if count else ''}。", "可选条目："])
        for key, entry in catalogue.items():
            out.append(f"#   {key:<24} {entry.title}：{entry.lead}")
        out += _comment_block([
            "每项可以只写条目名；也可以写成：",
            "  - key: 条目名",
            "    lead: 换成自己的标题句（可选）",
            "    text: 用自己的话替换生成的整段正文（可选）",
            "    add: 在生成的正文后补充的句子（可选）",
            "或完全自己写一项：  - {lead: 标题句, text: 正文}",
        ])
        if kind == "measures":
            out.append("# measures:")
            for key in list(catalogue)[: section.min_items]:
                out.append(f"#   - {key}")
            continue
        out.append(f"{kind}:")
        for key in list(catalogue)[: max(section.min_items, min(3, section.max_items))]:
            out.append(f"  - {key}")
    ids = paragraph_ids(pack)
    out.append("")
    out += _comment_block([
        "用自己的文字替换任意一段生成的文字（可选）：去掉“# ”，在冒号后写上整段文字。",
        "overrides:",
    ])
    out += [f"#   {pid}: " for pid in ids]
    return "\n".join(out) + "\n"

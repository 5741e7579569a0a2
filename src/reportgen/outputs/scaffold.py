"""Profiles reportgen writes for the user: ``init``'s scaffold and ``next``'s profile for next year.

Every field has a Chinese comment.  Facts are grouped under the items that say them, the chosen
items first, so a clerk fills in what the draft will use.  Building an untouched scaffold gives the
whole skeleton of the report, with a highlighted 【待补充】 wherever an item needs a fact.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..content.facts import format_number
from ..inputs.profile import META_FIELDS, SECTION_WORDS, STATUSES
from ..packs.manifest import CATALOGUE_FOR_SECTION, FactSpec, Pack
from .ledger import LedgerRow, match_ledger

__all__ = ["NextYear", "init_text", "next_text"]

_META_EXAMPLES = {
    "unit": "例：市农业农村局机关党委",
    "name": "例：张某某",
    "position": "例：书记",
    "year": "例：2025（四位数年份，不带“年”字）",
    "superior": "例：市直机关工委",
    "basis": "例：市直机关工委《关于开展2025年度党组织书记抓基层党建工作述职评议考核的通知》",
    "date": "例：2026-01-10",
    "committee": "一般不用写",
}
TYPE_WORDS = {"integer": "整数", "number": "数字", "percent": "百分数，只写数字", "text": "文字", "list": "列表，用、分隔",
              "date": "日期"}


def _comments(lines: Iterable[str]) -> list[str]:
    return [f"# {line}" if line else "#" for line in lines]


def _fact_line(spec: FactSpec, value: str = "", note: str = "") -> str:
    unit = f"，单位：{spec.unit}" if spec.unit and spec.counted else ""
    need = "，必填" if spec.required else ""
    return f"  {spec.key}: {_quoted(value) if value else ''}".ljust(30) + f"# {spec.label}（{TYPE_WORDS[spec.type]}{unit}{need}）{note}"


def _grouped_facts(pack: Pack, chosen: Sequence[str], notes: Mapping[str, str] | None = None) -> list[str]:
    """The facts: for each item (chosen ones first), the facts it says; then the measures' targets."""
    notes = notes or {}
    topics = pack.catalogues.get("topics", {})
    order = [key for key in chosen if key in topics] + [key for key in topics if key not in chosen]
    groups: list[tuple[str, list[str]]] = [("【基本情况（写在开头）】", list(pack.basics()))]
    groups += [(f"【{topics[key].title}】" + ("" if key in chosen else "（未选；选用这一条时才会写进稿子）"),
                list(topics[key].all_facts())) for key in order]
    measures = pack.catalogues.get("measures", {})
    targets = list(dict.fromkeys(fact for entry in measures.values() for fact in entry.all_facts()))
    if targets:
        groups.append(("【下一年度的目标和时限（写在措施里）】", targets))
    out: list[str] = []
    listed: set[str] = set()
    for heading, keys in groups:
        keys = [key for key in keys if key not in listed and key in pack.facts]
        if not keys:
            continue
        out.append(f"  # {heading}")
        for key in keys:
            listed.add(key)
            out.append(_fact_line(pack.facts[key], note=notes.get(key, "")))
    return out


def _catalogue_lines(pack: Pack, kind: str, count: str, how: str) -> list[str]:
    catalogue = pack.catalogues.get(CATALOGUE_FOR_SECTION[kind], {})
    out = ["", *_comments([f"{SECTION_WORDS[kind]}：{how}{'，共 ' + count if count else ''}。可选条目："])]
    for key, entry in catalogue.items():
        lead = entry.lead[0].segments if entry.lead else ()
        example = "".join(part for part in lead if isinstance(part, str))
        out.append(f"#   {key:<20} {entry.title}（如：{example}）")
    return out


def _choice_help(kind: str) -> list[str]:
    lines = [
        "每项可以只写条目名；也可以写成：",
        "  - key: 条目名          （几个条目合成一条时：key: [条目1, 条目2]）",
        "    lead: 换成自己的标题句",
        "    add: 补充自己的一句话（可以引用事实，如“{study_sessions}”）",
        "    text: 用自己的话替换生成的整段正文",
    ]
    if kind == "work":
        lines += ["    facts: [要在这一条里写的事实键名]",
                  "    points: [要点名, ……]  （只写其中几个要点，或调整顺序；packs show 可看要点名）"]
    lines += ["    wording: 1           （换一种措辞）", "或完全自己写一项：  - {lead: 标题句, text: 正文}"]
    return _comments(lines)


def _structure_help(pack: Pack) -> list[str]:
    kinds = "、".join(f"{s.kind}（{SECTION_WORDS[s.kind]}）" for s in pack.skeleton.sections)
    return ["", *_comments(["结构调整（可选，模板包允许时）：去掉“# ”后修改。部分有：" + kinds, "structure:", "  title: false            # 不要大标题；或写自己的标题", "  byline: false           # 不要署名", "  closing: false          # 去掉结束语（causes: false 去掉原因段，依此类推）", "  work:", "    heading: 履职工作特色和亮点   # 改这一部分的标题", '    numbering: "1."             # 编号：（一）、1.、一、、（1）、一是 或 无', "    points: 一是                  # 每条里的要点按“一是、二是”写", "    intro: false                  # 去掉引导段", "  length: 2500-3000       # 上级要求的字数范围", "wording: 1                # 整篇换一种措辞"])]


def init_text(pack: Pack, request: str | None, chosen: Mapping[str, Sequence[str]],
              examples: Mapping[str, str] | None = None) -> str:
    """A new profile for ``pack``: every field commented; ``chosen`` items per section preselected;
    ``examples``: meta values of the pack's example (a 国企's pack shows a 国企 as the example unit)."""
    shown = {**_META_EXAMPLES, **{key: f"例：{value}" for key, value in (examples or {}).items() if value}}
    out = _comments([
        f"reportgen 资料文件 —— 模板包：{pack.title}（{pack.name} {pack.version}）",
        "",
        "填写方法：用记事本或 WPS 打开；在每个“键: ”的冒号后面加一个空格再写内容，冒号、空格都用半角（英文）符号。",
        "只写真实的数字，单位由程序加上；没有的事实就空着：可有可无的不会写进稿子，必填的会显示黄色的【待补充】。",
        "写好后运行：reportgen check 本文件.yaml（检查），reportgen build 本文件.yaml（生成 Word 稿）。",
    ])
    out += ["", f"pack: {_quoted(request or pack.name)}".ljust(30) + f"# 使用的模板包；可写版本要求，如 {pack.name}>={pack.version}", "",
            "meta:   # 基本信息"]
    out += [f"  {key}: ".ljust(30) + f"# {label}，{shown[key]}" for key, label in META_FIELDS.items()]
    out += _sections(pack, chosen, from_example=True)
    out += ["", "facts:   # 本年度的事实：按条目分组，先列已选条目用到的"]
    out += _grouped_facts(pack, chosen.get("work", ()))
    out += _structure_help(pack)
    return "\n".join(out) + "\n"


def _sections(pack: Pack, chosen: Mapping[str, Sequence[str]], *, stub: bool = True, from_example: bool = False,
              last_problems: Sequence[str] = ()) -> list[str]:
    out: list[str] = []
    for section in pack.skeleton.sections:
        kind = section.kind
        if kind == "rectification":
            if not stub:
                continue
            out += ["", *_comments(["上年问题整改情况：每个上年度查摆或反馈的问题写一项；没有时删掉这一整段。", f"status 写{'、'.join(STATUSES)}之一。"])]
            out += ["rectification:", "  - problem:     # 上年度的问题（一句话）", "    measure:     # 当时承诺的整改措施",
                    "    status:      # 整改进度", "    action:      # 整改情况（做了什么、结果如何）"]
            continue
        if kind not in CATALOGUE_FOR_SECTION:
            continue
        count = f"{section.min_items}—{section.max_items} 项"
        how = {"work": "从目录中选择", "problems": "从目录中选择", "causes": "从目录中选择",
               "measures": "省略时自动与所选问题一一对应；也可以自己选择"}[kind]
        out += _catalogue_lines(pack, kind, count, how)
        out += _choice_help(kind)
        if kind == "problems" and last_problems:
            out += _comments([f"上年选的问题是：{'、'.join(last_problems)}。已整改到位的请换成今年新查摆的；仍然存在的可以照旧选，",
                              "稿子会换一种说法并注明仍需持续整改。"])
        keys = list(chosen.get(kind, ()))
        if kind == "measures" and not keys:
            out.append("# measures:")
            continue
        if from_example and keys:
            out += _comments([f"下面先选了示例里的几项，请按本单位的实际情况增删{'（问题和原因要换成本单位自己查摆的）' if kind != 'work' else ''}。"])
        out.append(f"{kind}:")
        out += [f"  - {key}" for key in keys]
    return out


@dataclass(frozen=True)
class NextYear:
    """What ``next`` carries from last year's profile (or last year's report) into next year's."""

    pack_request: str | None
    meta: Mapping[str, str]  # carried: unit, name, position, superior (year + 1)
    last_values: Mapping[str, str]  # last year's facts as written (for the comments and last_year:)
    last_problems: Sequence[str]  # catalogue keys of last year's problems
    rectifications: Sequence[tuple[str, str]]  # (problem, promised measure)
    chosen: Mapping[str, Sequence[str]]
    last_draft: str | None = None
    source: str = ""


def next_text(pack: Pack, year: int | None, carried: NextYear, *, ledger_rows: Sequence[LedgerRow] = ()) -> str:
    out = _comments([
        f"reportgen 资料文件 —— {year or '下一'}年度（由 {carried.source} 生成）；模板包：{pack.title}（{pack.name} {pack.version}）",
        "",
        "上年的基本信息和所选条目已经带过来；本年度的事实都空着，注释里是上年的数，供对照。",
        "上年的问题和当时承诺的措施已变成“上年问题整改情况”：请逐项写明 status（整改进度）和 action（做了什么）。",
        "写好后运行：reportgen check 本文件.yaml，再 reportgen build 本文件.yaml。",
    ])
    requirement = carried.pack_request or f"{pack.name}>={pack.version}"
    out += ["", f"pack: {_quoted(requirement)}".ljust(30) + "# 使用的模板包（沿用上年）", "", "meta:   # 基本信息"]
    for key, label in META_FIELDS.items():
        value = str(year) if key == "year" and year else carried.meta.get(key, "")
        note = "（已改为新的年度）" if key == "year" else ("（请填写本年度的）" if key in ("basis", "date") else "")
        out.append(f"  {key}: {_quoted(value) if value else ''}".ljust(30) + f"# {label}{note}")
    out += _sections(pack, carried.chosen, stub=not carried.rectifications, last_problems=carried.last_problems)
    out += ["", "facts:   # 本年度的事实：注释里的“上年”是去年的数"]
    notes = {key: f"  上年：{value}" for key, value in carried.last_values.items()}
    lines = _grouped_facts(pack, carried.chosen.get("work", ()), notes=notes)
    out += lines
    if carried.rectifications:
        out += ["", "rectification:   # 上年问题整改情况：逐项填写 status（" + "、".join(STATUSES) + "）和 action"]
        match = match_ledger([problem for problem, _ in carried.rectifications], ledger_rows, carried.meta.get("unit", ""))
        for (problem, measure), row in zip(carried.rectifications, match.rows, strict=True):
            status = f"status: {_quoted(row.status)}" if row is not None and row.status else "status:      # 已完成、基本完成 或 持续推进"
            action = f"action: {_quoted(row.progress)}" if row is not None and row.progress else "action:      # 做了什么、结果如何"
            out += [f"  - problem: {_quoted(problem)}", f"    measure: {_quoted(measure)}" if measure else "    measure:",
                    f"    {status}", f"    {action}"]
    out += ["", "last_year:   # 上年的情况（程序用来写同比、避免与上年的问题写成一模一样；一般不用改）",
            f"  year: {year - 1}" if year else "  year:"]
    if carried.last_draft:
        out.append(f"  draft: {_quoted(carried.last_draft)}   # 上年的稿子：生成时会计算与它的复制比")
    if carried.last_problems:
        out.append(f"  problems: [{', '.join(carried.last_problems)}]")
    if carried.last_values:
        out.append("  facts:")
        out += [f"    {key}: {_quoted(value)}" for key, value in carried.last_values.items()]
    out += _structure_help(pack)
    return "\n".join(out) + "\n"


def _quoted(text: str) -> str:
    """A YAML scalar that reads back as ``text``: plain when it can be, else quoted.  Text taken from a
    Word file may hold line breaks or control characters: double quotes with escapes (JSON's are YAML's)
    keep it one value, so it can never add keys of its own."""
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in text):
        return json.dumps(text, ensure_ascii=False)
    if (text and not any(ch in text for ch in ":#'\"{}[],&*!|>%@`") and text[0] not in "-? "
            and text.strip() == text and text.lower() not in _YAML_WORDS):
        return text
    return "'" + text.replace("'", "''") + "'"


_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"})


def value_text(value: object) -> str:
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, tuple):
        return "、".join(str(v) for v in value)
    return str(value)

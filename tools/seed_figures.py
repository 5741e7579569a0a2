"""Print, per seed report, how faithfully its profile's draft carries it (issue “Facts, not a form”).

For each tests/seeds/seedNNN.yaml, built with its pack: the seed's numbers found with their units in a
sentence that names what they count, its named documents and campaigns, the share of the draft's Han
characters the profile had to write itself, placeholders and blanks, and whether the skeleton is the
seed's (title, byline, headings, numbering per level, intros, closing).  What each seed states is in
tests/seeds/expected.yaml.

    python tools/seed_figures.py
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reportgen.content.model import Document
from reportgen.core import check

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "tests" / "seeds"
NUMERALS = "一二三四五六七八九十"
LAYOUTS = {"1.": r"\d+\.", "（一）": f"（[{NUMERALS}]+）", "lead": r"(?![（(\d一二三四五六七八九十])"}


@dataclass
class Figures:
    seed: str
    numbers: int
    numbers_found: int
    by_pack: int  # numbers said through a fact the pack (or reportgen's library) declares
    missing_numbers: list[str] = field(default_factory=list)
    missing_names: list[str] = field(default_factory=list)
    han: int = 0
    handwritten: int = 0
    placeholders: int = 0
    blanks: int = 0
    skeleton: list[str] = field(default_factory=list)  # how the skeleton differs from the seed's

    @property
    def share(self) -> float:
        return self.handwritten / self.han if self.han else 0.0


def expectations() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((SEEDS / "expected.yaml").read_text(encoding="utf-8"))
    return {str(key): value for key, value in data.items()}


def _sentences(text: str) -> list[str]:
    return [s for s in re.split("[。；\n]", text) if s]


def skeleton_problems(document: Document, expected: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    paragraphs = document.paragraphs
    roles = [p.role for p in paragraphs]
    title = expected.get("title", False)
    if title is False and "title" in roles:
        problems.append("多了标题")
    if isinstance(title, str) and [p.text for p in paragraphs if p.role == "title"] != [title]:
        problems.append(f"标题不是“{title}”")
    if not expected.get("byline", False) and "byline" in roles:
        problems.append("多了署名")
    headings = [p.text for p in paragraphs if p.role == "heading"]
    wanted = [f"{NUMERALS[i]}、{h}" for i, h in enumerate(expected["headings"])]
    if headings != wanted:
        problems.append(f"标题不同：{headings} ≠ {wanted}")
    if not expected.get("closing", False) and any(p.id == "closing" for p in paragraphs):
        problems.append("多了结束语")
    intros = set(expected.get("intro", []))
    for kind, layout in expected["layout"].items():
        items = [p for p in paragraphs if re.fullmatch(f"{kind}\\.\\d+", p.id)]
        inline = [p for p in paragraphs if p.id == kind]
        intro = [p for p in paragraphs if p.id == f"{kind}.intro"]
        if layout == "一是":
            if len(inline) != 1 or "一是" not in inline[0].text or items:
                problems.append(f"{kind} 应是“一是……二是……”写在一段里")
            elif (kind in intros) != (not inline[0].text.startswith("一是")):
                problems.append(f"{kind} 的引导语与范文不同")
            continue
        if not items:
            problems.append(f"{kind} 没有条目")
            continue
        if layout == "一是¶":
            if not all(p.text.startswith(f"{NUMERALS[n]}是") for n, p in enumerate(items)):
                problems.append(f"{kind} 应是“一是”“二是”各自成段")
        elif not all(re.match(LAYOUTS[layout], p.text) for p in items):
            problems.append(f"{kind} 的编号应是“{layout}”")
        if (kind in intros) != bool(intro):
            problems.append(f"{kind} 的引导段与范文不同")
    for kind, style in (expected.get("points") or {}).items():
        items = [p for p in paragraphs if re.fullmatch(f"{kind}\\.\\d+", p.id)]
        if style == "一是" and not all("一是" in p.text and "二是" in p.text for p in items):
            problems.append(f"{kind} 的要点应按“一是、二是”写")
    return problems


def figures(seed: str, expected: dict[str, Any]) -> Figures:
    draft = check(SEEDS / f"seed{seed}.yaml")
    document = draft.document
    text = document.text
    sentences = _sentences(text)
    numbers = [list(map(str, entry)) for entry in expected["numbers"]]
    missing = [f"{value}（{'、'.join(words)}）" for value, *words in numbers
               if not any(value in s and all(w in s for w in words) for s in sentences)]
    spans = [span for paragraph in document.paragraphs for span in paragraph.spans]
    specs = draft.facts.specs
    by_pack = sum(any(value in span.text and span.source and span.source.startswith("facts.")
                      and specs[span.source[6:]].origin != "profile" for span in spans) for value, *_ in numbers)
    return Figures(
        seed, len(numbers), len(numbers) - len(missing), by_pack, missing,
        [name for name in expected.get("names", []) if name not in text],
        document.han_count(), document.han_by_origin()["profile"],
        sum(span.kind == "placeholder" for span in spans), sum(span.kind == "blank" for span in spans),
        skeleton_problems(document, expected))


def main() -> int:
    print("范文  模板包   数字（带单位、说明白计的是什么）  其中由模板包的事实写出  名称  自己写的文字占比  待补充  空白  结构")
    for seed, expected in expectations().items():
        f = figures(seed, expected)
        names = len(expected.get("names", []))
        print(f"{seed}   {expected['pack']:7}  {f.numbers_found}/{f.numbers:<28}  {f.by_pack:<20}  "
              f"{names - len(f.missing_names)}/{names:<3} "
              f"{f.share:>6.1%}（{f.handwritten}/{f.han} 字）  {f.placeholders:>4}  {f.blanks:>4}  "
              f"{'与范文一致' if not f.skeleton else '；'.join(f.skeleton)}")
        for line in f.missing_numbers + f.missing_names:
            print(f"      缺：{line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What a reviewer would mark in a draft a pack makes: worn words, echoing endings, endless sentences,
leads all cut from one pattern — and how much variety a pack has.

``packs check`` runs these over drafts of the pack's example profile in several wordings and over
every sentence variant, and reports what it finds as notes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ..packs.manifest import Pack, Sentence, Variants
from ..packs.prose import plain
from .model import Document, count_han

__all__ = ["CLICHES", "MAX_SENTENCE", "Variety", "lint_document", "lint_sentences", "variety"]

# Words a 机关 text overuses; more than WORD_LIMIT of one in a draft of 2,500 Han characters reads worn.
CLICHES = ("推动", "不够", "进一步", "持续", "深入", "扎实", "切实", "不断", "全面", "着力", "有效", "积极", "认真", "加强",
           "强化", "提升", "落实", "推进", "坚持")
WORD_LIMIT = 10
WORD_LIMITS = {"落实": 12}  # in fixed terms (落实“第一议题”制度, 抓落实) the word cannot always be varied
ENDING_LIMIT = 3
MAX_SENTENCE = 110
_SENTENCES = re.compile(r"[^。！？；]+[。！？；]?")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCES.findall(text) if s.strip()]


def lint_document(document: Document) -> list[str]:
    """Notes on one draft."""
    notes: list[str] = []
    body = "\n".join(p.text for p in document.paragraphs if p.role == "body")
    sentences = _sentences(body)
    scale = max(count_han(body), 2500) / 2500
    for word in CLICHES:
        count = body.count(word)
        if count > WORD_LIMITS.get(word, WORD_LIMIT) * scale:
            notes.append(f"“{word}”在一份稿子里出现了 {count} 次")
    # the same four characters ending many sentences read like a template (sentences ending in a figure do not count)
    endings = Counter(re.sub(r"[^\u4e00-\u9fff]", "", s)[-4:] for s in sentences
                      if count_han(s) >= 8 and not re.search(r"\d", s[-8:]))
    for ending, count in endings.items():
        if count > ENDING_LIMIT and len(ending) == 4:
            notes.append(f"有 {count} 句以“{ending}”结尾")
    for sentence in sentences:
        if len(sentence) > MAX_SENTENCE:
            notes.append(f"句子过长（{len(sentence)} 字）：“{sentence[:20]}……”")
    leads: dict[str, list[str]] = {}
    for paragraph in document.paragraphs:
        lead = "".join(s.text for s in paragraph.spans if s.kind in ("lead2", "lead3"))
        if lead and "." in paragraph.id:
            leads.setdefault(paragraph.id.split(".")[0], []).append(re.sub(r"^[（(]?[一二三四五六七八九十\d]+[）)、.．]?", "", lead))
    for section, found in leads.items():
        patterns = {_pattern(lead) for lead in found}
        if len(found) >= 3 and len(patterns) == 1:
            notes.append(f"“{section}”的 {len(found)} 个标题句都是同一个句式（{next(iter(patterns))}）")
    return notes


def _pattern(lead: str) -> str:
    parts = [part for part in re.split("[，,]", lead.rstrip("。")) if part]
    if len(parts) < 2:
        return parts[0][:1] + "……" if parts else ""
    return f"{parts[0][:1]}……，{parts[1][:2]}……"


def lint_sentences(pack: Pack) -> list[str]:
    """Notes on single sentence variants (the ones a draft may never happen to pick)."""
    notes: list[str] = []
    for sentence in _all_sentences(pack):
        text = plain(sentence.segments, "××")
        if len(text) > MAX_SENTENCE:
            where = f"{sentence.file}:{sentence.line}" if sentence.line else sentence.file
            notes.append(f"{where}：句子过长（{len(text)} 字）：“{text[:20]}……”")
    return notes


def _all_variants(pack: Pack) -> list[Variants]:
    frame = pack.frame
    found: list[Variants] = [*frame.opening, *frame.closing, *(v for intro in frame.intros.values() for v in intro)]
    for entries in pack.catalogues.values():
        for entry in entries.values():
            found += [entry.lead, *entry.text]
            for point in entry.points:
                found += [point.lead, *point.text]
    return [variants for variants in found if variants]


def _all_sentences(pack: Pack) -> list[Sentence]:
    return [sentence for variants in _all_variants(pack) for sentence in variants]


@dataclass(frozen=True)
class Variety:
    slots: int  # sentence slots (and leads) in the pack
    sentences: int  # sentence variants in all
    fewest: int  # the fewest variants of any slot
    mean: float

    def describe(self) -> str:
        return f"措辞变化：{self.slots} 处句子和标题句，每处至少 {self.fewest} 种、平均 {self.mean:.1f} 种说法"


def variety(pack: Pack) -> Variety:
    variants = _all_variants(pack)
    counts = [len(v) for v in variants]
    if not counts:
        return Variety(0, 0, 0, 0.0)
    return Variety(len(counts), sum(counts), min(counts), sum(counts) / len(counts))

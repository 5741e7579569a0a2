"""The document model between prose and layout: paragraphs made of spans.

Each span knows whether it is ordinary text, a numbered lead phrase or a placeholder
for a missing fact (and which profile key it stands for), so the Word layer can style
it and ``reportgen check`` can list what is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["HAN_CHARS", "XML_INVALID", "Document", "Paragraph", "Span", "count_han", "placeholder_text"]

SpanKind = Literal["text", "lead2", "lead3", "placeholder"]
ParagraphRole = Literal["title", "byline", "heading", "body"]

# Characters XML 1.0 forbids (Word puts some in copied text) and lone surrogates (which UTF-8 cannot
# encode): never part of a document.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
HAN_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # a character class's ranges: CJK ideographs


def placeholder_text(label: str) -> str:
    return f"【待补充：{label}】"


# Every UTF-16 code unit whose high byte is 0x34-0x9F or 0xF9-0xFA lies in HAN_CHARS, except
# U+4DC0-U+4DFF (Yijing hexagram symbols, after CJK Extension A ends at U+4DBF); surrogates
# (D8-DF) are not counted, as HAN_CHARS holds no supplementary characters.
_NOT_HAN_HIGH_BYTES = bytes(b for b in range(256) if not (0x34 <= b <= 0x9F or 0xF9 <= b <= 0xFA))


def count_han(text: str) -> int:
    """How many characters of ``text`` are in HAN_CHARS.

    Counted on the high bytes of its UTF-16 code units, in three C passes: a draft is counted
    for every build, and a regular expression takes ten times as long over thousands of characters.
    """
    high = text.encode("utf-16-le", "surrogatepass")[1::2]
    count = len(high.translate(None, _NOT_HAN_HIGH_BYTES))
    if 0x4D in high:  # rare: U+4D00-U+4DFF, where the hexagram symbols are not Han
        count -= sum(1 for char in text if "\u4dc0" <= char <= "\u4dff")
    return count


@dataclass(frozen=True)
class Span:
    text: str
    kind: SpanKind = "text"
    source: str | None = None  # for placeholders: the profile key that is missing, e.g. "facts.study_sessions"


@dataclass(frozen=True)
class Paragraph:
    role: ParagraphRole
    spans: tuple[Span, ...]
    id: str = ""  # where it came from, e.g. "opening", "work.2", "problems"

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)


@dataclass(frozen=True)
class Document:
    title: str
    paragraphs: tuple[Paragraph, ...]

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.paragraphs)

    def placeholders(self) -> list[tuple[Paragraph, Span]]:
        return [(p, s) for p in self.paragraphs for s in p.spans if s.kind == "placeholder"]

    def han_count(self) -> int:
        """Han characters the user will hand in: placeholder labels do not count."""
        return count_han("".join(s.text for p in self.paragraphs for s in p.spans if s.kind != "placeholder"))

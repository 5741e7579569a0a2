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


_HAN_RUNS = re.compile(f"[{HAN_CHARS}]+")


def count_han(text: str) -> int:
    return sum(map(len, _HAN_RUNS.findall(text)))  # runs, not single characters: 4x faster on a draft


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

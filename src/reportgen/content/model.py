"""The document model between prose and layout: paragraphs made of spans.

Each span knows what it is (ordinary text, a numbered lead, a placeholder for a missing fact, a blank
the user marked) and where its words came from (the pack's prose, a fact, or text the user wrote), so
the Word layer can style it, ``check`` can list what is missing and the seed figures can count how
much of a draft the user had to write.  The model carries everything a renderer needs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["HAN", "UNDATED", "Document", "Origin", "Paragraph", "Role", "Span", "SpanKind", "count_han", "dated_after",
           "placeholder_text"]

SpanKind = Literal["text", "lead2", "lead3", "placeholder", "blank"]
Origin = Literal["pack", "fact", "profile"]
Role = Literal["title", "byline", "heading", "body"]
HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def count_han(text: str) -> int:
    return len(HAN.findall(text))


def placeholder_text(label: str) -> str:
    return f"【待补充：{label}】"


@dataclass(frozen=True)
class Span:
    text: str
    kind: SpanKind = "text"
    source: str | None = None  # for placeholders and facts: the profile key ("facts.study_sessions")
    origin: Origin = "pack"

    @property
    def missing(self) -> bool:
        return self.kind in ("placeholder", "blank")


@dataclass(frozen=True)
class Paragraph:
    role: Role
    spans: tuple[Span, ...]
    id: str = ""  # where it came from in the profile's terms: "opening", "work.2", "problems"
    where: str = ""  # where it is in the report: "开头", "一、（二）", "署名"

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)


UNDATED = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # what a file is dated when nothing dates it (never the clock)


def dated_after(year: int | None) -> dt.datetime:
    """1 January after ``year``: a year's report, ledger or sheet is made early the next year."""
    return dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC) if year else UNDATED


@dataclass(frozen=True)
class Document:
    title: str
    paragraphs: tuple[Paragraph, ...]
    meta: Mapping[str, str] = field(default_factory=dict)  # unit, name, position, year… as shown
    properties: Mapping[str, str] = field(default_factory=dict)  # recorded in the file (pack, profile digest)
    created: dt.datetime = UNDATED  # from the profile: rebuilds are byte-identical

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.paragraphs)

    def missing(self) -> list[tuple[Paragraph, Span]]:
        return [(p, s) for p in self.paragraphs for s in p.spans if s.missing]

    def han_count(self) -> int:
        """Han characters the user will hand in: placeholder labels do not count."""
        return count_han("".join(s.text for p in self.paragraphs for s in p.spans if s.kind != "placeholder"))

    def han_by_origin(self) -> dict[Origin, int]:
        counts: dict[Origin, int] = {"pack": 0, "fact": 0, "profile": 0}
        for paragraph in self.paragraphs:
            for span in paragraph.spans:
                if span.kind != "placeholder":
                    counts[span.origin] += count_han(span.text)
        return counts

"""The little language of pack prose and of the user's own text.

A sentence is text with slots: ``{key}`` is a fact's value with its unit (or a meta field such as
``{year}``), ``{key.change}`` its change against last year, and ``[ … ]`` (pack prose only) an
optional group that drops out when a fact inside it is missing.  Parsing is one regular-expression pass; the
result is a tuple of segments that ``content.compose`` fills in.  Nothing here is ever executed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["META_SLOTS", "Group", "Segment", "Slot", "SyntaxProblem", "parse_sentence", "parse_user_text", "plain", "slots_in"]

# Meta fields a sentence may name, with their Chinese names (for messages).
META_SLOTS = {
    "unit": "单位名称", "name": "述职人姓名", "position": "述职人职务", "year": "述职年度", "last_year": "上一年度",
    "next_year": "下一年度", "superior": "上级党组织", "basis": "述职依据", "committee": "本级党组织简称",
}
KEY = r"[a-z][a-z0-9_]*"  # a fact's key: the one grammar for slots, citations and pack.yaml keys
_SLOT = re.compile(rf"({KEY})(?:\.(change))?")


@dataclass(frozen=True)
class Slot:
    key: str
    attr: str | None = None  # "change": the 同比 clause


@dataclass(frozen=True)
class Group:
    """An optional group: shown only when every slot inside has a value."""

    parts: tuple[str | Slot, ...]


Segment = str | Slot | Group


class SyntaxProblem(ValueError):
    """A sentence that does not parse; the message is Chinese and names the fix."""


_TOKEN = re.compile(r"\{\{|\}\}|\[\[|\]\]|\{[^{}]*\}|[{}\[\]]|[^{}\[\]]+")


def parse_sentence(text: str) -> tuple[Segment, ...]:
    """Pack prose: slots and optional groups.  ``{{``, ``}}``, ``[[``, ``]]`` write the bracket itself."""
    segments: list[Segment] = []
    group: list[str | Slot] | None = None
    literal: list[str] = []

    def flush() -> None:
        if literal:
            (group if group is not None else segments).append("".join(literal))
            literal.clear()

    for token in (match.group() for match in _TOKEN.finditer(text)):
        if token in ("{{", "}}", "[[", "]]"):
            literal.append(token[0])
        elif token == "{":
            raise SyntaxProblem("“{”没有对应的“}”")
        elif token == "}":
            raise SyntaxProblem("多了一个“}”")
        elif token[0] == "{":
            name = token[1:-1].strip()
            slot = _SLOT.fullmatch(name)
            if slot is None:
                raise SyntaxProblem(f"“{{{name}}}”不是事实或基本信息的名称")
            flush()
            (group if group is not None else segments).append(Slot(slot.group(1), slot.group(2)))
        elif token == "[":
            if group is not None:
                raise SyntaxProblem("“[ ]”不能套在另一个“[ ]”里面")
            flush()
            group = []
        elif token == "]":
            if group is None:
                raise SyntaxProblem("多了一个“]”")
            flush()
            segments.append(Group(tuple(group)))
            group = None
        else:
            literal.append(token)
    if group is not None:
        raise SyntaxProblem("“[”没有对应的“]”")
    flush()
    return tuple(segments)


_CITATION = re.compile(rf"[{{｛]\s*({KEY})(?:\.(change))?\s*[}}｝]")


def parse_user_text(text: str, known: set[str]) -> tuple[tuple[str | Slot, ...], list[str]]:
    """The user's own text: ``{key}`` (or full-width ``｛key｝``) cites a known fact or meta field;
    everything else — brackets, ``{{ 7*7 }}`` — is literal.  Returns the parts and the names cited
    that are not known (a typo to report)."""
    parts: list[str | Slot] = []
    unknown: list[str] = []
    position = 0
    for match in _CITATION.finditer(text):
        start, end = match.span()
        if (text[start - 1:start] in "{｛" and start > 0) or (text[end:end + 1] in ("}", "｝") and end < len(text)):
            continue  # doubled braces ({{ x }}): literal text, never a citation
        key = match.group(1)
        if key not in known:
            unknown.append(key)
            continue
        if start > position:
            parts.append(text[position:start])
        parts.append(Slot(key, match.group(2)))
        position = end
    if position < len(text):
        parts.append(text[position:])
    return tuple(parts), unknown


def slots_in(segments: tuple[Segment, ...]) -> list[tuple[Slot, bool]]:
    """Every slot of a parsed sentence and whether it sits in an optional group."""
    found: list[tuple[Slot, bool]] = []
    for segment in segments:
        if isinstance(segment, Slot):
            found.append((segment, False))
        elif isinstance(segment, Group):
            found.extend((part, True) for part in segment.parts if isinstance(part, Slot))
    return found


def plain(segments: tuple[Segment, ...], mark: str = "") -> str:
    """A sentence's own words, each slot or optional group written as ``mark``."""
    return "".join(s if isinstance(s, str) else mark for s in segments)

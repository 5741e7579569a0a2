"""复制比: how much of one draft is copied from another, as CNKI-style checkers count it.

复制比 of draft A against B is the share of A's characters (whitespace dropped, digit runs masked,
the units' own names and the 【待补充】 placeholders removed) that lie in a run of 13 or more
consecutive characters also found in B.

Comparing every pair of 2,000 drafts would take minutes, so candidates come from an inverted index:
13-character runs are hashed, about one in four (chosen by the hash, so two drafts pick the same
runs) is indexed, each hash pointing to the set of drafts that contain it as the bits of an integer.
For each draft the index yields, per other draft, how many sampled runs they share (counted in
bit-sliced integer counters, in C), and only the best candidate is then compared exactly.
"""

from __future__ import annotations

import array
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["RUN", "Match", "Text", "best_matches", "compare", "normalize"]

RUN = 13
_SAMPLE_MASK = 3  # index the runs whose hash is 0 modulo 4
_PLACEHOLDER = re.compile(r"【待补充：[^】]*】")
_DROPPED = re.compile(r"[\s\0]+")
_DIGITS = re.compile(r"\d+")
_COVERED = re.compile(rb"1(?:0{0,%d}1)*" % (RUN - 1))


@dataclass(frozen=True)
class Text:
    """A draft's text as compared: the normalized characters; where each came from, worked out when asked."""

    name: str  # what to call it in reports (a file, a unit)
    original: str
    normalized: str
    blanked: str = ""  # the original with own names and placeholders blanked out (as \0)

    @functools.cached_property
    def origin(self) -> tuple[int, ...]:
        """origin[i]: index in ``original`` of normalized[i] (for showing shared passages)."""
        origin: list[int] = []
        previous_digit = False
        for index, char in enumerate(self.blanked):
            if char == "\0" or char.isspace():
                continue
            digit = bool(_DIGITS.match(char))
            if not (digit and previous_digit):
                origin.append(index)
            previous_digit = digit
        return tuple(origin)

    def grams(self) -> array.array[int]:
        """The hash of every run of RUN characters, in order (made when needed: 2,000 drafts' runs kept
        at once would take hundreds of MB)."""
        text = self.normalized
        return array.array("q", [hash(text[i:i + RUN]) for i in range(len(text) - RUN + 1)])


def normalize(name: str, text: str, own_names: Iterable[str] = ()) -> Text:
    """Whitespace dropped, digit runs masked as one “#”, own names and placeholders removed."""
    blanked = _PLACEHOLDER.sub(lambda m: "\0" * len(m.group()), text)
    for own in sorted({n for n in own_names if n and len(n) >= 2}, key=len, reverse=True):
        blanked = blanked.replace(own, "\0" * len(own))
    normalized = _DIGITS.sub("#", _DROPPED.sub("", blanked))
    return Text(name, text, normalized, blanked)


@dataclass(frozen=True)
class Match:
    a: Text
    b: Text
    ratio: float  # share of a's characters covered
    spans: tuple[tuple[int, int], ...]  # covered spans of a.normalized

    def passages(self, limit: int = 3, width: int = 60) -> list[str]:
        """The longest shared passages, in the original text of ``a``."""
        longest = sorted(self.spans, key=lambda span: span[1] - span[0], reverse=True)[:limit]
        result = []
        for start, end in sorted(longest):
            text = self.a.original[self.a.origin[start]:self.a.origin[end - 1] + 1]
            result.append(text if len(text) <= width else text[: width - 1] + "…")
        return result


def compare(a: Text, b: Text) -> Match:
    """The exact 复制比 of ``a`` against ``b``."""
    grams_b = set(b.grams())
    flags = bytes(49 if gram in grams_b else 48 for gram in a.grams())
    spans = tuple((m.start(), m.end() - 1 + RUN) for m in _COVERED.finditer(flags))
    covered = sum(end - start for start, end in spans)
    return Match(a, b, covered / len(a.normalized) if a.normalized else 0.0, spans)


def best_matches(texts: Sequence[Text]) -> list[Match | None]:
    """For each text, its most similar other text (None when it shares no run with any)."""
    count = len(texts)
    if count < 2:
        return [None] * count
    sampled: list[array.array[int]] = []
    postings: dict[int, int] = {}
    for index, text in enumerate(texts):
        bit = 1 << index
        hashes = array.array("q", [h for h in text.grams() if not h & _SAMPLE_MASK])
        sampled.append(hashes)
        for h in set(hashes):
            postings[h] = postings.get(h, 0) | bit
    everyone = (1 << count) - 1
    result: list[Match | None] = []
    for index, text in enumerate(texts):
        others = everyone & ~(1 << index)
        slices: list[int] = []
        previous = -1
        weight = 0
        for h in sampled[index]:  # runs of one shared passage share one set of drafts: add it once, weighted
            mask = postings[h] & others
            if mask == previous:
                weight += 1
                continue
            if previous > 0:
                _add(slices, previous, weight)
            previous, weight = mask, 1
        if previous > 0:
            _add(slices, previous, weight)
        best = _top(slices, others)
        if best is None:
            result.append(None)
            continue
        result.append(compare(text, texts[best]))
    return result


def _add(slices: list[int], mask: int, weight: int) -> None:
    """Add ``weight`` to the counter of every draft in ``mask`` (counters bit-sliced across integers)."""
    bit = 0
    while weight:
        if weight & 1:
            carry, level = mask, bit
            while carry:
                while level >= len(slices):
                    slices.append(0)
                overflow = slices[level] & carry
                slices[level] ^= carry
                carry, level = overflow, level + 1
        weight >>= 1
        bit += 1


def _top(slices: list[int], candidates: int) -> int | None:
    """The draft with the highest counter (the lowest index among ties)."""
    if not any(s & candidates for s in slices):
        return None
    for level in range(len(slices) - 1, -1, -1):
        narrowed = candidates & slices[level]
        if narrowed:
            candidates = narrowed
    return (candidates & -candidates).bit_length() - 1

"""复制比: how much of one draft is copied from another, as CNKI-style checkers count it.

复制比 of draft A against B is the share of A's characters (whitespace dropped, digit runs masked,
the units' own names and the 【待补充】 placeholders removed) that lie in a run of 13 or more
consecutive characters also found in B.

Comparing every pair of 2,000 drafts would take minutes, so candidates come from an inverted index:
the runs that start at an anchor — a Chinese character in every fifth block of 16 code points, found
by a regular expression, so two drafts anchor the same passage alike — are hashed and indexed, each hash
pointing to the set of drafts that contain it as the bits of an integer.
For each draft the index yields, per other draft, how many sampled runs they share (counted in
bit-sliced integer counters, in C), and only the best candidate is then compared exactly.
"""

from __future__ import annotations

import array
import functools
import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["RUN", "Index", "Match", "Text", "anchored", "best_candidates", "best_matches", "compare", "coverage",
           "grams", "normalize", "runs_of", "share", "shown_ratio"]

RUN = 13
EXACT_UP_TO = 40  # texts ``similar`` compares pair by pair; more go through the index
# Anchors: Chinese characters in every fifth block of 16 code points (a class of ranges compiles fast).
_ANCHOR = re.compile("[" + "".join(f"{chr(start)}-{chr(start + 15)}" for start in range(0x4E00, 0xA000, 80)) + "]")
_PLACEHOLDER = re.compile(r"【待补充：[^】【]{0,200}】")  # bounded: a text of unclosed 【 stays linear
_DROPPED = re.compile(r"[\s\0]+")
_DIGITS = re.compile(r"\d+")
_COVERED = re.compile(rb"\x01(?:\x00{0,%d}\x01)*" % (RUN - 1))


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


def normalize(name: str, text: str, own_names: Iterable[str] = (), *, passages: bool = True) -> Text:
    """Whitespace dropped, digit runs masked as one “#”, own names and placeholders removed.  Without
    ``passages`` nothing is kept to show shared passages with (a batch of 2,000 saves tens of MB)."""
    blanked = _PLACEHOLDER.sub(lambda m: "\0" * len(m.group()), text)
    for own in sorted({n for n in own_names if n and len(n) >= 2}, key=len, reverse=True):
        blanked = blanked.replace(own, "\0" * len(own))
    normalized = _DIGITS.sub("#", _DROPPED.sub("", blanked))
    return Text(name, text if passages else "", normalized, blanked if passages else "")


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
            text = " ".join(self.a.original[self.a.origin[start]:self.a.origin[end - 1] + 1].split())  # one line
            result.append(text if len(text) <= width else text[: width - 1] + "…")
        return result


def shown_ratio(ratio: float) -> float:
    """A 复制比 rounded to whole percent, half up, as it is printed and as a spreadsheet shows it (Python's
    own “:.0%” of 0.225 gives 22%, Excel and Calc 23%)."""
    return math.floor(ratio * 100 + 0.5) / 100


def grams(text: str) -> array.array[int]:
    """The hash of every run of RUN characters, in order.  A run is hashed as the tuple of its code
    points: the same in every process (Python's hash of a string is salted per process, and a batch's
    workers hash for one another), and zipped in C, faster than slicing the string."""
    codes = array.array("I", text.encode("utf-32-le")).tolist()
    return array.array("q", map(hash, zip(*(codes[i:] for i in range(RUN)), strict=False)))


def anchored(text: str, text_grams: Sequence[int]) -> array.array[int]:
    """The runs of ``text`` that start at an anchor (what the index samples)."""
    last = len(text_grams)
    return array.array("q", [text_grams[i] for i in (m.start() for m in _ANCHOR.finditer(text)) if i < last])


def runs_of(text_grams: Iterable[int]) -> dict[int, int]:
    """A text's runs to look others up in (a dict: its ``get`` is the fastest lookup from C)."""
    return dict.fromkeys(text_grams, 1)


def _flags(a_grams: Sequence[int], b_runs: Mapping[int, int]) -> bytes:
    """Byte i is 1 where the run of ``a`` starting at i is also a run of ``b``."""
    return bytes(map(b_runs.get, a_grams, itertools.repeat(0, len(a_grams))))


def share(a_grams: Sequence[int], length: int, b_runs: Mapping[int, int]) -> float:
    """The 复制比 alone (a batch shows no passages): each flag spread over the RUN characters of its run,
    as bytes of one integer, and the covered characters counted as its bits — in C."""
    spread, width = int.from_bytes(_flags(a_grams, b_runs), "little"), 1
    while width < RUN:  # each flag shifted by 0 … RUN-1 characters, in doubling steps
        step = min(width, RUN - width)
        spread |= spread << 8 * step
        width += step
    return spread.bit_count() / length if length else 0.0


def coverage(a_grams: Sequence[int], length: int, b_runs: Mapping[int, int]) -> tuple[float, tuple[tuple[int, int], ...]]:
    """The share of a text (its ``length`` and runs) covered by runs found in ``b_runs``, and the spans."""
    spans = tuple((m.start(), m.end() - 1 + RUN) for m in _COVERED.finditer(_flags(a_grams, b_runs)))
    covered = sum(end - start for start, end in spans)
    return (covered / length if length else 0.0), spans


def compare(a: Text, b: Text) -> Match:
    """The exact 复制比 of ``a`` against ``b``."""
    ratio, spans = coverage(grams(a.normalized), len(a.normalized), runs_of(grams(b.normalized)))
    return Match(a, b, ratio, spans)


class Index:
    """An inverted index of anchored runs: each run's hash points to the texts that contain it, as the
    bits of an integer (text ``n`` is bit ``n``).  Picklable, so a batch's workers can ask it too."""

    def __init__(self) -> None:
        self.postings: dict[int, int] = {}

    def add(self, number: int, runs: Iterable[int]) -> None:
        bit = 1 << number
        postings = self.postings
        for h in set(runs):
            postings[h] = postings.get(h, 0) | bit

    def shared(self) -> Index:
        """Only the runs more than one text has: a run of one text alone never decides a ``best``."""
        index = Index()
        index.postings = {h: texts for h, texts in self.postings.items() if texts & (texts - 1)}
        return index

    def best(self, number: int, runs: Iterable[int]) -> int | None:
        """The other text sharing most of text ``number``'s anchored runs (the lowest number among ties;
        None: none shares any).  Counted per text in bit-sliced integer counters, so in C."""
        others = ~(1 << number)
        postings = self.postings
        slices: list[int] = []
        previous = 0
        weight = 0
        for h in runs:  # runs of one shared passage share one set of texts: add it once, weighted
            mask = postings.get(h, 0) & others
            if mask == previous:
                weight += 1
                continue
            if previous:
                _add(slices, previous, weight)
            previous, weight = mask, 1
        if previous:
            _add(slices, previous, weight)
        return _top(slices)


def best_candidates(texts: Sequence[Text]) -> list[int | None]:
    """For each text, the index of the other text sharing most of its anchored runs (None: none)."""
    runs = [anchored(text.normalized, grams(text.normalized)) for text in texts]
    index = Index()
    for number, text_runs in enumerate(runs):
        index.add(number, text_runs)
    return [index.best(number, text_runs) for number, text_runs in enumerate(runs)]


def best_matches(texts: Sequence[Text]) -> list[Match | None]:
    """For each text, its most similar other text (None when it shares no run with any): every pair
    compared exactly up to EXACT_UP_TO texts (a reviewer's handful, in about a second), else the best
    candidate of the index."""
    if len(texts) > EXACT_UP_TO:
        return [None if best is None else compare(text, texts[best])
                for text, best in zip(texts, best_candidates(texts), strict=True)]
    text_grams = [grams(text.normalized) for text in texts]
    runs = [runs_of(each) for each in text_grams]
    result: list[Match | None] = []
    for i, text in enumerate(texts):
        shares = [(share(text_grams[i], len(text.normalized), runs[j]), -j) for j in range(len(texts)) if j != i]
        top, best = max(shares, default=(0.0, 0))
        if top > 0:
            _, spans = coverage(text_grams[i], len(text.normalized), runs[-best])
            result.append(Match(text, texts[-best], top, spans))
        else:
            result.append(None)
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


def _top(slices: list[int]) -> int | None:
    """The text with the highest counter (the lowest number among ties)."""
    candidates = 0
    for level in slices:
        candidates |= level
    if not candidates:
        return None
    for level in range(len(slices) - 1, -1, -1):
        narrowed = candidates & slices[level]
        if narrowed:
            candidates = narrowed
    return (candidates & -candidates).bit_length() - 1

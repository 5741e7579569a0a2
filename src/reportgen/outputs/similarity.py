"""复制比: how much of one draft is copied from another, as CNKI-style checkers count it.

复制比 of draft A against B is the share of A's characters (whitespace dropped, digit runs masked,
the units' own names and the 【待补充】 placeholders removed) that lie in a run of 13 or more
consecutive characters also found in B.

Runs are hashed and compared with numpy, a whole draft at a time: a batch of 2,000 drafts hashes about
five million runs and looks up twice as many, which in a Python loop would cost more than drafting them.

Comparing every pair of 2,000 drafts would take minutes, so candidates come from an inverted index:
the runs that start at an anchor — a Chinese character in every fifth block of 16 code points, so two
drafts anchor the same passage alike — are indexed, each hash pointing to the set of drafts that contain
it as the bits of an integer.  For each draft the index yields, per other draft, how many sampled runs
they share (one matrix product), and only the best candidate is then compared exactly.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["RUN", "Hashes", "Index", "Match", "SharedRuns", "Text", "anchored", "best_candidates", "best_matches",
           "compare", "coverage", "grams", "normalize", "runs_of", "share", "shown_ratio"]

Hashes = NDArray[np.uint64]

RUN = 13
EXACT_UP_TO = 40  # texts ``similar`` compares pair by pair; more go through the index
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd, its bits well mixed: runs hash as a polynomial mod 2**64
_TABLE_BITS = 16
_TABLE_SHIFT = np.uint64(64 - _TABLE_BITS)
_HAN_FIRST, _HAN_END = 0x4E00, 0xA000  # anchors: Chinese characters in every fifth block of 16 code points
_PLACEHOLDER = re.compile(r"【待补充：[^】【]{0,200}】")  # bounded: a text of unclosed 【 stays linear
_DROPPED = re.compile(r"[\s\0]+")
_DIGITS = re.compile(r"\d+")


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


def _codes(text: str) -> NDArray[np.uint32]:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")  # little-endian on every machine


def grams(text: str) -> Hashes:
    """The hash of every run of RUN characters, in order: the polynomial of its code points modulo 2**64
    (numpy's unsigned arithmetic wraps), the same in every process — Python's hash of a string is salted
    per process, and a batch's workers hash for one another."""
    codes = _codes(text).astype(np.uint64)
    count = max(len(codes) - RUN + 1, 0)
    hashes = codes[:count].copy()
    for k in range(1, RUN):
        hashes *= _MULTIPLIER
        hashes += codes[k:k + count]
    hashes *= _MULTIPLIER  # the last character too reaches the top bits (``_found`` tables runs by them)
    return hashes


def anchored(text: str, text_grams: Hashes) -> Hashes:
    """The runs of ``text`` that start at an anchor (what the index samples)."""
    offsets = _codes(text)[: len(text_grams)].astype(np.int64) - _HAN_FIRST
    return text_grams[(offsets >= 0) & (offsets < _HAN_END - _HAN_FIRST) & (offsets % 80 < 16)]


def runs_of(text_grams: Hashes) -> Hashes:
    """A text's runs to look others up in (sorted, for a binary search of each)."""
    return np.sort(text_grams)


def _found(a_grams: Hashes, b_runs: Hashes) -> NDArray[np.bool_]:
    """found[i]: run i of ``a`` is also a run of ``b``.  Most runs ``b`` lacks are ruled out by a table of
    the top bits of its runs first: a binary search for every run costs three times as much."""
    found = np.zeros(len(a_grams), dtype=np.bool_)
    if len(b_runs):
        table = np.zeros(1 << _TABLE_BITS, dtype=np.bool_)
        table[b_runs >> _TABLE_SHIFT] = True
        maybe = np.flatnonzero(table[a_grams >> _TABLE_SHIFT])
        keys = a_grams[maybe]
        found[maybe] = b_runs[np.minimum(np.searchsorted(b_runs, keys), len(b_runs) - 1)] == keys
    return found


def _covered(a_grams: Hashes, length: int, b_runs: Hashes) -> NDArray[np.bool_]:
    """covered[i]: character i of ``a`` lies in a run of ``a`` that is also a run of ``b``."""
    covered = np.zeros(length, dtype=np.bool_)
    found = _found(a_grams, b_runs)
    for k in range(RUN):  # each found run covers its RUN characters
        covered[k:k + len(found)] |= found
    return covered


def share(a_grams: Hashes, length: int, b_runs: Hashes) -> float:
    """The 复制比 alone (a batch shows no passages)."""
    return int(np.count_nonzero(_covered(a_grams, length, b_runs))) / length if length else 0.0


def coverage(a_grams: Hashes, length: int, b_runs: Hashes) -> tuple[float, tuple[tuple[int, int], ...]]:
    """The share of a text (its ``length`` and runs) covered by runs found in ``b_runs``, and the spans."""
    covered = _covered(a_grams, length, b_runs)
    edges = np.flatnonzero(np.diff(covered, prepend=False, append=False)).tolist()  # where covering starts, ends
    spans = tuple(zip(edges[::2], edges[1::2], strict=True))
    return (int(np.count_nonzero(covered)) / length if length else 0.0), spans


def compare(a: Text, b: Text) -> Match:
    """The exact 复制比 of ``a`` against ``b``."""
    ratio, spans = coverage(grams(a.normalized), len(a.normalized), runs_of(grams(b.normalized)))
    return Match(a, b, ratio, spans)


class Index:
    """An inverted index of anchored runs, built as texts arrive: each run's hash points to the number of
    the text that has it, or to the numbers of the texts, once a second has it too (most runs of 2,000
    unrelated drafts are one draft's: a number each keeps the index small)."""

    def __init__(self) -> None:
        self.postings: dict[int, int | list[int]] = {}
        self.size = 0  # the highest text number + 1

    def add(self, number: int, runs: Iterable[int]) -> None:
        self.size = max(self.size, number + 1)
        postings = self.postings
        for h in set(runs):
            texts = postings.get(h)
            if texts is None:
                postings[h] = number
            elif isinstance(texts, int):
                postings[h] = [texts, number]
            else:
                texts.append(number)

    def shared(self) -> SharedRuns:
        """The runs more than one text has (a run of one text alone never decides a ``best``), ready to
        be asked; picklable, so a batch's workers can ask it too."""
        sets: dict[bytes, int] = {}  # each set of texts, as bits, numbered (the runs of one passage share one)
        rows: dict[int, int] = {}
        for h, texts in self.postings.items():
            if isinstance(texts, list):
                has = np.zeros(self.size, dtype=np.bool_)
                has[texts] = True
                if np.count_nonzero(has) < 2:  # one text added twice
                    continue
                rows[h] = sets.setdefault(np.packbits(has, bitorder="little").tobytes(), len(sets))
        packed = np.frombuffer(b"".join(sets), dtype=np.uint8).reshape(len(sets), (self.size + 7) // 8)
        return SharedRuns(rows, packed)


@dataclass(frozen=True, eq=False)
class SharedRuns:
    """Runs more than one text has: each run's hash points to a row of ``texts``, a bit per text that
    has the run (runs with the same texts share a row)."""

    rows: dict[int, int]
    texts: NDArray[np.uint8]

    def best(self, number: int, runs: Iterable[int]) -> int | None:
        """The other text sharing most of text ``number``'s anchored runs (the lowest number among ties;
        None: none shares any): the rows of its runs, each weighted by how many of its runs point to it,
        unpacked to 0/1 per text and summed by one matrix product."""
        found = np.fromiter(map(self.rows.get, runs, itertools.repeat(-1)), dtype=np.int64)
        rows, weights = np.unique(found[found >= 0], return_counts=True)
        if not len(rows):
            return None
        has = np.unpackbits(self.texts[rows], axis=1, bitorder="little").astype(np.float32)
        counts = weights.astype(np.float32) @ has  # exact: a text has far fewer than 2**24 runs
        if number < len(counts):
            counts[number] = 0
        top = int(np.argmax(counts))  # the first of the highest
        return top if counts[top] else None


def best_candidates(texts: Sequence[Text]) -> list[int | None]:
    """For each text, the index of the other text sharing most of its anchored runs (None: none)."""
    runs = [anchored(text.normalized, grams(text.normalized)).tolist() for text in texts]
    index = Index()
    for number, text_runs in enumerate(runs):
        index.add(number, text_runs)
    shared = index.shared()
    return [shared.best(number, text_runs) for number, text_runs in enumerate(runs)]


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

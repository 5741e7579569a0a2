"""复制比 across a batch: each draft against its most similar other draft and against its pack's example,
and other units' names left in it (the 平乐 mistake).

2,000 drafts' texts held in the main process would cost tens of MB, so a worker notes each draft it
writes in a scratch file of the batch (``Notebook``): the text and the normalized text, and sends back
the anchored runs (``similarity``).  The main process keeps only the index of anchored runs.  The
comparisons run in the pool, in chunks: each draft's most similar other is found in the index, and
both drafts are read back and compared exactly.
"""

from __future__ import annotations

import array
import contextlib
import marshal
import os
import pickle
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from ..errors import ReportgenError, os_error_text
from ..packs.manifest import load_pack
from .drafting import Run
from .guard import process_alive
from .similarity import Hashes, Index, SharedRuns, anchored, grams, normalize, runs_of, share

__all__ = ["Compared", "Drafted", "Note", "Notebook", "compare_drafts", "example_texts", "scratch_folder"]

CHUNK = 25  # the fewest drafts a worker compares at once
_SCRATCH_NAME = re.compile(r"^reportgen-(\d+)-[A-Za-z0-9_]+$")


@contextlib.contextmanager
def scratch_folder() -> Iterator[str]:
    """The batch's scratch folder: private to this user (mode 700), named with the process id and removed
    however the batch ends; those of batches killed outright (kill -9) are removed the next time.
    OSError: no temporary folder can be made."""
    base = tempfile.gettempdir()
    if os.name == "posix":
        with contextlib.suppress(OSError), os.scandir(base) as entries:
            for entry in entries:
                match = _SCRATCH_NAME.match(entry.name)
                if (match and entry.is_dir(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_uid == os.getuid()
                        and not process_alive(int(match.group(1)))):
                    shutil.rmtree(entry.path, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=f"reportgen-{os.getpid()}-", ignore_cleanup_errors=True) as folder:
        yield folder


@dataclass(frozen=True)
class Note:
    """Where a draft's texts wait in the batch's scratch folder."""

    path: str
    offset: int
    size: int


class Notebook:
    """One worker's scratch file: each draft's text, normalized text and anchored runs."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._handle: int | None = None  # made at the first draft
        self._path = ""

    def write(self, text: str, normalized: str) -> tuple[Note, bytes]:
        """Where the record is, and the anchored runs (for the batch's index).  OSError: not noted (the
        file is written unbuffered, so a full disk shows here, never later when it is closed)."""
        runs = anchored(normalized, grams(normalized)).tobytes()
        data = marshal.dumps((text, normalized, runs))  # read back by this batch only
        if self._handle is None:
            self._handle, self._path = tempfile.mkstemp(dir=self.folder, suffix=".notes")
        offset = os.lseek(self._handle, 0, os.SEEK_END)  # after a record a full disk cut short
        view = memoryview(data)
        while view:
            view = view[os.write(self._handle, view):]
        return Note(self._path, offset, len(data)), runs

    def __enter__(self) -> Notebook:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                os.close(self._handle)


@dataclass(frozen=True)
class Noted:
    text: str
    normalized: str
    runs: array.array[int]  # the anchored ones


def read_note(note: Note) -> Noted:
    with open(note.path, "rb") as handle:
        handle.seek(note.offset)
        text, normalized, runs = marshal.loads(handle.read(note.size))
    return Noted(text, normalized, array.array("Q", runs))


@dataclass(frozen=True)
class Names:
    """A batch's unit and person names, to find in a draft: the text is scanned in C for the names' first
    characters, and at each such place only one slice per length of name is looked up (a county's
    2,000 units whose names all start alike cost no more than names that differ)."""

    names: frozenset[str]
    lengths: tuple[int, ...]
    firsts: re.Pattern[str] | None

    @classmethod
    def of(cls, all_names: Iterable[str]) -> Names:
        names = frozenset(name for name in all_names if len(name) >= 2)
        firsts = sorted({name[0] for name in names})
        return cls(names, tuple(sorted({len(name) for name in names})),
                   re.compile("[" + "".join(re.escape(char) for char in firsts) + "]") if firsts else None)

    def found_in(self, text: str, own: Sequence[str]) -> Iterator[str]:
        """Other units' and persons' names in a draft's ``text`` (``own``: its own unit's and person's)."""
        if self.firsts is None:
            return
        seen: set[str] = set()
        for match in self.firsts.finditer(text):
            i = match.start()
            for length in self.lengths:
                name = text[i:i + length]
                if name in self.names and name not in seen and not any(name in mine for mine in own):
                    seen.add(name)
                    yield name


@dataclass(frozen=True)
class Comparison:
    """What every comparing worker is given once per chunk: the index, where each draft's texts are,
    the packs' examples (normalized, by the pack's folder) and the batch's names."""

    index: SharedRuns
    notes: dict[int, Note]
    examples: dict[str, str]
    names: Names  # the batch's unit and person names


@dataclass(frozen=True)
class Drafted:
    """What comparing needs of a draft: its number in the batch (its bit in the index), where its text
    is, its pack's folder and its own unit's and person's names."""

    number: int
    note: Note
    pack_root: str
    own: tuple[str, str]


@dataclass(frozen=True)
class Compared:
    best: int | None = None  # the number of the most similar other draft (None: none shares a run)
    ratio: float | None = None  # 复制比 against it
    example_ratio: float | None = None  # against the pack's example
    others: tuple[str, ...] = ()  # other units' and persons' names found in the draft
    problem: str = ""  # why it could not be compared (its scratch file was lost)


def compare_chunk(given: Comparison | str, drafts: Sequence[Drafted]) -> list[Compared]:
    """Each draft compared (in a worker).  ``given``: the comparison, or the scratch file it was
    pickled to (sent once, not with every chunk)."""
    if isinstance(given, str):
        with open(given, "rb") as handle:
            comparison: Comparison = pickle.load(handle)  # written by this batch a moment ago
    else:
        comparison = given
    examples: dict[str, Hashes] = {}
    result: list[Compared] = []
    for draft in drafts:
        try:
            noted = read_note(draft.note)
            best = comparison.index.best(draft.number, noted.runs)
            other = read_note(comparison.notes[best]).normalized if best is not None else None
        except OSError as exc:  # the scratch folder was cleaned away under the batch
            result.append(Compared(problem=os_error_text(exc)))
            continue
        except (EOFError, ValueError):  # a record cut short
            result.append(Compared(problem="临时文件不完整"))
            continue
        ratio = example_ratio = None
        own, length = grams(noted.normalized), len(noted.normalized)
        if other is not None:
            ratio = share(own, length, runs_of(grams(other)))
        root = draft.pack_root
        if root in comparison.examples:
            if root not in examples:
                examples[root] = runs_of(grams(comparison.examples[root]))
            example_ratio = share(own, length, examples[root])
        others = comparison.names.found_in(noted.text, [name for name in draft.own if name])
        result.append(Compared(best, ratio, example_ratio, tuple(others)))
    return result


def compare_drafts(drafts: Sequence[Drafted], index: Index, examples: dict[str, str], names: Sequence[str],
                   pool: ProcessPoolExecutor | None, jobs: int, scratch: str) -> list[Compared]:
    """Every draft compared, in the pool's workers when there is more than one chunk.  ``names``: every
    unit's and person's name in the batch (also of drafts that could not be noted)."""
    comparison = Comparison(index.shared(), {draft.number: draft.note for draft in drafts}, examples,
                            Names.of(names))
    size = max(CHUNK, -(-len(drafts) // (jobs * 4)))
    chunks = [drafts[i:i + size] for i in range(0, len(drafts), size)]
    if pool is not None and len(chunks) > 1:
        try:
            shared = os.path.join(scratch, "comparison.pickle")
            with open(shared, "wb") as handle:
                pickle.dump(comparison, handle, protocol=pickle.HIGHEST_PROTOCOL)
            return [found for part in pool.map(compare_chunk, [shared] * len(chunks), chunks) for found in part]
        except OSError as exc:  # the scratch folder is full or was cleaned away
            return [Compared(problem=os_error_text(exc)) for _ in drafts]
        except BrokenProcessPool:  # the pool lost a worker earlier: compare here instead
            pass
    return [found for chunk in chunks for found in compare_chunk(comparison, chunk)]


def example_texts(roots: Sequence[str], run: Run) -> dict[str, str]:
    """The normalized text of each pack's example draft (its own names left out), by the pack's folder."""
    result: dict[str, str] = {}
    for root in dict.fromkeys(root for root in roots if root):
        try:
            pack = load_pack(Path(root))
            if pack.example_profile:
                example = run.draft_file(pack.path(pack.example_profile), pack=pack)
                meta = example.profile.meta
                result[root] = normalize("示例稿", example.document.text, (meta.unit or "", meta.name or ""),
                                         passages=False).normalized
        except ReportgenError:
            continue
    return result

"""A small on-disk cache for work that depends only on file contents: compiled templates, patched Word XML.

It lets a cold ``reportgen build`` skip Jinja's compiler and importing docxtpl when the pack
was prepared before.  The cache is an optimisation only: any failure falls back to computing.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

from jinja2.bccache import Bucket, BytecodeCache

__all__ = ["PackCache", "cache_dir", "code_digest", "user_dir"]

CACHE_VERSION = "1"


def user_dir(kind: str) -> Path:
    """reportgen's folder for the user's "data" (the pack store) or "cache", where platformdirs puts them.

    On Linux that is the XDG rule, applied here: importing platformdirs would cost every build a few ms.
    """
    if sys.platform.startswith("linux"):
        variable, default = {"data": ("XDG_DATA_HOME", "~/.local/share"), "cache": ("XDG_CACHE_HOME", "~/.cache")}[kind]
        base = os.environ.get(variable, "")
        return Path(base if os.path.isabs(base) else os.path.expanduser(default)) / "reportgen"
    import platformdirs

    find = platformdirs.user_data_dir if kind == "data" else platformdirs.user_cache_dir
    return Path(find("reportgen", appauthor=False))


def cache_dir() -> Path:
    return _cache_dir(os.environ.get("REPORTGEN_CACHE") or None)


@functools.lru_cache(maxsize=4)
def _cache_dir(configured: str | None) -> Path:
    # Looked up once per setting: a build reads dozens of cache entries.
    if configured:
        return Path(configured)
    return user_dir("cache")


def code_digest(*functions: Callable[..., object], extra: str = "") -> str:
    """A short digest of the functions' compiled code (and ``extra``): part of a cache namespace for
    results those functions compute, so changing their code can never serve a stale result."""
    digest = hashlib.sha256(extra.encode())
    for function in functions:
        digest.update(marshal.dumps(function.__code__))
    return digest.hexdigest()[:16]


def _store(path: Path, data: bytes) -> None:
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


class PackCache(BytecodeCache):
    """What reportgen derives from one pack's templates, kept in one file between runs.

    It holds compiled Jinja code, reused only for the very source it was compiled — and so
    checked by the sandbox — from, and texts computed from sources (what a template reads, the
    Word XML patched by docxtpl).  A build reads this one file instead of one per template (a
    batch's fixed cost); ``save`` writes it back when something was added.  Entries are keyed
    by source checksums, the file by reportgen's, Jinja's and Python's versions and the pack.
    Any failure just means computing again.
    """

    MOST_ENTRIES = 2_000  # a pack edited over and over: start afresh rather than grow

    def __init__(self, namespace: str) -> None:
        import jinja2

        from . import __version__

        key = "\0".join((CACHE_VERSION, __version__, jinja2.__version__, sys.implementation.cache_tag, namespace))
        self.path = cache_dir() / "packs" / f"{_digest(key)}.bin"
        self._entries: dict[Any, Any] | None = None
        self._added = False

    @property
    def entries(self) -> dict[Any, Any]:
        if self._entries is None:
            try:
                loaded = marshal.loads(self.path.read_bytes())
            except Exception:  # missing or damaged: compute instead
                loaded = None
            self._entries = loaded if isinstance(loaded, dict) and len(loaded) <= self.MOST_ENTRIES else {}
        return self._entries

    def load_bytecode(self, bucket: Bucket) -> None:
        entry = self.entries.get(("code", bucket.key))
        if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == bucket.checksum \
                and isinstance(entry[1], CodeType):
            bucket.code = entry[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._add(("code", bucket.key), (bucket.checksum, bucket.code))

    def text(self, kind: str, source: str, compute: Callable[[], str]) -> str:
        """``compute()``, a text that depends only on ``source`` (and on ``kind``, which names the
        computation and should change with its code: see ``code_digest``)."""
        key = ("text", kind, _digest(source))
        value = self.entries.get(key)
        if not isinstance(value, str):
            value = compute()
            self._add(key, value)
        return value

    def _add(self, key: tuple[str, ...], value: object) -> None:
        self.entries[key] = value
        self._added = True

    def save(self) -> None:
        """Write the file if anything was added since it was read (one write per build, not per entry)."""
        if not self._added:
            return
        self._added = False
        try:
            data = marshal.dumps(self.entries)
        except ValueError:  # something marshal cannot store: just do not cache
            return
        _store(self.path, data)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

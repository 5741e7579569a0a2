"""A small on-disk cache for work that depends only on file contents (e.g. patched Word XML).

It lets a cold ``reportgen build`` skip importing docxtpl when the pack's Word template
was prepared before.  The cache is an optimisation only: any failure falls back to computing.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2.bccache import BytecodeCache

__all__ = ["cache_dir", "cached_text", "code_digest", "template_code_cache"]

CACHE_VERSION = "1"


def cache_dir() -> Path:
    return _cache_dir(os.environ.get("REPORTGEN_CACHE") or None)


@functools.lru_cache(maxsize=4)
def _cache_dir(configured: str | None) -> Path:
    # Looked up once per setting: a build reads dozens of cache entries.
    if configured:
        return Path(configured)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("reportgen", appauthor=False))


def code_digest(*functions: Callable[..., object], extra: str = "") -> str:
    """A short digest of the functions' compiled code (and ``extra``): part of a cache namespace for
    results those functions compute, so changing their code can never serve a stale result."""
    import marshal

    digest = hashlib.sha256(extra.encode())
    for function in functions:
        digest.update(marshal.dumps(function.__code__))
    return digest.hexdigest()[:16]


def cached_text(namespace: str, key_text: str, compute: Callable[[], str]) -> str:
    digest = hashlib.sha256(f"{CACHE_VERSION}\0{namespace}\0{key_text}".encode()).hexdigest()
    path = cache_dir() / namespace / f"{digest}.txt"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    value = compute()
    _store(path, value.encode("utf-8"))
    return value


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


def template_code_cache(namespace: str) -> BytecodeCache:
    """A Jinja bytecode cache on disk, so a new process does not re-compile a pack's templates.

    Entries are keyed by reportgen's version, ``namespace`` (the pack) and the template's
    name, and hold the source's checksum: a changed template is compiled — and so checked by
    the sandbox — again.  Any failure just means compiling.
    """
    import io

    from jinja2.bccache import Bucket
    from jinja2.bccache import BytecodeCache as Base

    from . import __version__

    class TemplateCodeCache(Base):
        def get_cache_key(self, name: str, filename: str | None = None) -> str:
            text = f"{CACHE_VERSION}\0{__version__}\0{namespace}\0{name}\0{filename}"
            return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

        def _path(self, bucket: Bucket) -> Path:
            return cache_dir() / "jinja" / f"{bucket.key}.bin"

        def load_bytecode(self, bucket: Bucket) -> None:
            try:
                data = self._path(bucket).read_bytes()
                bucket.load_bytecode(io.BytesIO(data))
            except Exception:  # missing or damaged entry: compile instead
                bucket.reset()

        def dump_bytecode(self, bucket: Bucket) -> None:
            try:
                buffer = io.BytesIO()
                bucket.write_bytecode(buffer)
            except Exception:  # anything unusual: just do not cache
                return
            _store(self._path(bucket), buffer.getvalue())

    return TemplateCodeCache()

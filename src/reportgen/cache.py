"""A small on-disk cache for work that depends only on file contents (e.g. patched Word XML).

It lets a cold ``reportgen build`` skip importing docxtpl when the pack's Word template
was prepared before.  The cache is an optimisation only: any failure falls back to computing.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["cache_dir", "cached_text"]

CACHE_VERSION = "1"


def cache_dir() -> Path:
    configured = os.environ.get("REPORTGEN_CACHE")
    if configured:
        return Path(configured)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("reportgen", appauthor=False))


def cached_text(namespace: str, key_text: str, compute: Callable[[], str]) -> str:
    digest = hashlib.sha256(f"{CACHE_VERSION}\0{namespace}\0{key_text}".encode()).hexdigest()
    path = cache_dir() / namespace / f"{digest}.txt"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    value = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value)
        os.replace(tmp, path)
    except OSError:
        pass
    return value

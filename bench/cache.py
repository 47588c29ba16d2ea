"""Where the benchmark keeps what costs minutes to make (references, people boxes, test
recordings), and what names a source file in their keys."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

CACHE = Path(__file__).resolve().parent / "results" / "cache"


def cache_key(*parts: Any) -> str:
    """A short name for everything a cached result depends on."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def identity(path: str | Path) -> tuple[str, int, str]:
    """What identifies a source file: its name, size and content, not where or when it was
    copied (the shared data is laid down afresh for each session). ("name", 0, "") for a
    source that is not a file."""
    p = Path(path)
    if not p.is_file():
        return p.name, 0, ""
    st = p.stat()
    return p.name, st.st_size, _digest(str(p.resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=64)
def _digest(path: str, _size: int, _mtime_ns: int) -> str:
    """The file's sha256, remembered while its size and mtime stay as they were."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

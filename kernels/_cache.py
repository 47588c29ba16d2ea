"""Keeps Numba's on-disk cache honest across the kernel modules.

Numba keys a cached function on its own source file only: when shapes.py
changes, the cached fill/pixelate/blur code that inlined the old shapes stays
valid in its eyes. So the cache carries a stamp, the digest of every kernel
source; where it differs, the kernels' cache files are removed before anything
loads them. Runs once per process, at warmup or at the first masking call.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

_STAMP = "redactor-kernels.stamp"
_lock = threading.Lock()
_checked = False


def ensure_fresh() -> None:
    """Removes cached kernels compiled from other sources than these (once per process)."""
    global _checked
    if _checked:
        return
    with _lock:
        if _checked:
            return
        _checked = True
        from redactor.kernels import plane

        cache = getattr(plane.plan, "_cache", None)  # absent under NUMBA_DISABLE_JIT
        path = getattr(cache, "cache_path", None)
        if path is None:
            return
        sources = sorted(Path(__file__).parent.glob("*.py"))
        digest = hashlib.sha256()
        for src in sources:
            digest.update(src.name.encode() + b"\0" + src.read_bytes())
        cache_dir = Path(path)
        stamp = cache_dir / _STAMP
        try:
            if stamp.exists() and stamp.read_text() == digest.hexdigest():
                return
            cache_dir.mkdir(parents=True, exist_ok=True)
            for src in sources:
                for pattern in (f"{src.stem}.*.nbi", f"{src.stem}.*.nbc"):
                    for old in cache_dir.glob(pattern):
                        old.unlink(missing_ok=True)
            stamp.write_text(digest.hexdigest())
        except OSError:
            pass  # a read-only cache: Numba compiles in memory instead, still correct

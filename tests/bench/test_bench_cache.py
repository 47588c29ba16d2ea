"""The benchmark's cache keys name a source by its content: the shared data is laid down
afresh for each session, so a key on its path or time would throw away references that
cost minutes (a 1080p one, half an hour)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bench.cache import cache_key, identity


def test_a_copy_elsewhere_and_later_keeps_its_key(tmp_path: Path) -> None:
    first = tmp_path / "a" / "clip.mp4"
    first.parent.mkdir()
    first.write_bytes(b"\x00\x01" * 1000)
    copy = tmp_path / "b" / "clip.mp4"
    copy.parent.mkdir()
    shutil.copyfile(first, copy)
    os.utime(copy, ns=(1, 1))
    assert identity(first) == identity(copy)
    assert cache_key(identity(first), (1920, 1080), 25.0) == cache_key(
        identity(copy), (1920, 1080), 25.0
    )


def test_other_content_or_name_gets_another_key(tmp_path: Path) -> None:
    a = tmp_path / "clip.mp4"
    a.write_bytes(b"\x00" * 2000)
    before = identity(a)
    a.write_bytes(b"\x01" * 2000)  # same size, other content
    os.utime(a, ns=(2, 2))  # hashes are remembered per (path, size, mtime) within a process
    assert identity(a) != before
    b = tmp_path / "other.mp4"
    b.write_bytes(b"\x01" * 2000)
    assert identity(b) != identity(a)


def test_a_source_that_is_not_a_file_is_named_only(tmp_path: Path) -> None:
    assert identity(tmp_path / "missing.mp4") == ("missing.mp4", 0, "")

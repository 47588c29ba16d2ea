"""Shared clips for tests: find one in the shared data, cut its first seconds."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from redactor.data import data_dir


def source_video(name: str = "opencv_vtest.avi") -> Path:
    root = data_dir()
    if root is None or not (root / "videos" / name).is_file():
        pytest.skip(f"shared data (videos/{name}) is absent; set REDACTOR_DATA")
    return root / "videos" / name


def cut_clip(src: Path, dst: Path, seconds: float) -> None:
    """Copies the packets of the first `seconds` into a new file (no re-encoding:
    frames and timestamps are the source's own)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        s = inp.streams.video[0]
        o = out.add_stream_from_template(s)
        assert s.time_base is not None
        limit = seconds / float(s.time_base)
        for packet in inp.demux(s):
            if packet.pts is None or packet.pts >= limit:
                break
            packet.stream = o
            out.mux(packet)

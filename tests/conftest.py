"""Shared fixtures: the shared data folder, real servers on free ports, short clips."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from redactor.config import Config
from redactor.data import data_dir
from redactor.server.app import RunningServer, create_server


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = data_dir()
    if path is None:
        pytest.skip("shared data not found: set REDACTOR_DATA or place it at ../shared/data")
    return path


@pytest.fixture(scope="session")
def server() -> Iterator[RunningServer]:
    """One real server with the embedded defaults, on a free loopback port."""
    running = create_server(Config(), "127.0.0.1:0")
    yield running
    running.stop(0)


def cut_clip(src: Path, dst: Path, frames: int) -> Path:
    """Copies the first `frames` video frames of `src` into an H.264 MP4 at the same rate."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        s = inp.streams.video[0]
        o = out.add_stream("libx264", rate=s.average_rate)
        o.width, o.height, o.pix_fmt = s.codec_context.width, s.codec_context.height, "yuv420p"
        o.time_base = s.time_base
        o.codec_context.time_base = s.time_base
        for i, f in enumerate(inp.decode(s)):
            if i >= frames:
                break
            f.pict_type = 0
            for p in o.encode(f.reformat(format="yuv420p")):
                out.mux(p)
        for p in o.encode(None):
            out.mux(p)
    return dst


@pytest.fixture(scope="session")
def short_clip(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s (30 frames at 10 fps) of opencv_vtest.avi as H.264 MP4."""
    return cut_clip(
        shared_data / "videos" / "opencv_vtest.avi",
        tmp_path_factory.mktemp("clips") / "vtest_3s.mp4",
        30,
    )

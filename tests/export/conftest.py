"""Fixtures for export tests: a short real clip in a temporary archive, a config around it."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from redactor.config import AuthConfig, Config, ExportConfig
from redactor.data import data_dir

CLIP_SECONDS = 3  # the first 3 s of opencv_vtest.avi (10 fps): 30 frames, fast on 2 cores
CAMERA = "cam-1"
RECORDING_NAME = "20240501T080000.avi"  # the recording's start time, UTC, in its name


def source_video() -> Path:
    root = data_dir()
    if root is None or not (root / "videos" / "opencv_vtest.avi").is_file():
        pytest.skip("shared data (videos/opencv_vtest.avi) is absent; set REDACTOR_DATA")
    return root / "videos" / "opencv_vtest.avi"


def cut_clip(src: Path, dst: Path, seconds: float) -> None:
    """Copies the packets of the first `seconds` into a new file (no re-encoding)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        s = inp.streams.video[0]
        o = out.add_stream_from_template(s)
        limit = seconds / float(s.time_base)
        for packet in inp.demux(s):
            if packet.pts is None or packet.pts >= limit:
                break
            packet.stream = o
            out.mux(packet)


@pytest.fixture(scope="session")
def clip_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clip") / RECORDING_NAME
    cut_clip(source_video(), path, CLIP_SECONDS)
    return path


@pytest.fixture()
def archive(tmp_path: Path, clip_file: Path) -> Path:
    root = tmp_path / "archive"
    (root / CAMERA).mkdir(parents=True)
    (root / CAMERA / RECORDING_NAME).write_bytes(clip_file.read_bytes())
    return root


def make_config(tmp_path: Path, archive: Path, **export: object) -> Config:
    return Config(
        auth=AuthConfig(required=True),
        export=ExportConfig(
            archive_root=archive,
            output_dir=tmp_path / "exports",
            ledger_path=tmp_path / "ledger.sqlite",
            key_path=tmp_path / "keys" / "signing_key.pem",
            **export,  # type: ignore[arg-type]
        ),
    )


@pytest.fixture()
def config(tmp_path: Path, archive: Path) -> Config:
    return make_config(tmp_path, archive)

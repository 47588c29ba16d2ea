"""Helpers for retention tests: tiny real recordings, a clock the test moves, an archive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from support.configs import export_config

from redactor.config import Config, RetentionConfig, RetentionGroup
from redactor.export import keys
from redactor.export.archive import NAME_TIME_FORMAT
from redactor.retention import RetentionService

# Recordings start here; each clip lasts CLIP_S seconds.
T0 = datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)
CLIP_S = 1


class Clock:
    """A clock the test moves (no sleeping past retention)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_clip(path: Path, seconds: int = CLIP_S, fps: int = 10) -> Path:
    """A real H.264 MP4 of `seconds` (64x48 frames of changing grey)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="mp4") as out:
        s = out.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.time_base = Fraction(1, fps)
        for i in range(seconds * fps):
            img = np.full((48, 64, 3), (i * 20) % 256, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            for p in s.encode(frame):
                out.mux(p)
        for p in s.encode(None):
            out.mux(p)
    return path


class Env:
    """An archive under tmp_path, a config around it, and a way to add recordings."""

    def __init__(self, root: Path, clip: bytes) -> None:
        self.root = root
        self.clip = clip
        self.archive = root / "archive"
        self.archive.mkdir(parents=True)

    def config(self, **retention: object) -> Config:
        settings: dict[str, object] = {
            "default_days": 30,
            "groups": (
                RetentionGroup(name="gates", cameras=("gate-*",), days=7),
                RetentionGroup(name="lobby", cameras=("lobby", "hall-?"), days=14),
            ),
            **retention,
        }
        return Config(
            export=export_config(self.root),
            retention=RetentionConfig.model_validate(settings),
        )

    def put(self, camera: str, start: datetime = T0) -> str:
        """Adds a recording of `camera` starting at `start`; returns its relative name."""
        rel = f"{camera}/{start.strftime(NAME_TIME_FORMAT)}.mp4"
        (self.archive / rel).parent.mkdir(parents=True, exist_ok=True)
        (self.archive / rel).write_bytes(self.clip)
        return rel

    def exists(self, rel: str) -> bool:
        return (self.archive / rel).exists()

    def verify_ledger(self, svc: RetentionService) -> None:
        public = keys.load_or_create(svc.config.export.key_path).public_key()
        result = svc.ledger.verify(public)
        assert result.ok, result.reason

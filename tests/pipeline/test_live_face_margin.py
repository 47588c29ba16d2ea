"""A live stream's tracker holds faces with its policy's `face_track_margin`; the
tracker's own behaviour is in tests/track/test_track_live.py."""

from __future__ import annotations

import pytest
from support.fakes import EmptyDetector

from redactor.config import Config, DetectConfig
from redactor.pipeline.engine import Engine
from redactor.pipeline.live import LiveSession
from redactor.pipeline.stream import StreamSpec
from redactor.types import PixelFormat


@pytest.mark.parametrize("margin", [0.25, 1.0])
def test_the_policys_face_track_margin_reaches_the_streams_tracker(margin: float) -> None:
    data = Config(detect=DetectConfig(warmup_size=(0, 0))).model_dump()
    data["policy"]["policies"]["default"]["face_track_margin"] = margin
    cfg = Config.model_validate(data)
    engine = Engine(cfg, lambda name, pc: EmptyDetector(name))  # type: ignore[arg-type,return-value]
    spec = StreamSpec("cam-1", "police-112", "", PixelFormat.BGR24, 160, 120, 10.0)
    session = LiveSession(engine, spec, cfg.limits)
    try:
        assert session._det.tracker.params.face_sigma_cap == margin
    finally:
        session.close()
        engine.close()

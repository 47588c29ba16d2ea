"""The engine warms its real detectors once at start, so no stream pays their first run."""

from __future__ import annotations

import numpy as np

from redactor.config import Config, DetectConfig
from redactor.detect.base import Detector
from redactor.pipeline.engine import Engine
from redactor.types import Detections


def _config(size: tuple[int, int]) -> Config:
    return Config(detect=DetectConfig(warmup_size=size))


def test_every_profile_in_use_and_the_sweep_detect_once_at_start() -> None:
    engine = Engine(_config((64, 48)))
    try:
        cfg = engine.config
        used = {cfg.live.motion.profile, cfg.live.look.profile, cfg.live.sweep.profile}
        for p in cfg.policy.policies.values():
            used |= {p.profile, p.stream_profile}
        assert set(engine.warmed) == used
        assert list(engine.warmed)[0] == cfg.live.sweep.profile  # the largest runs first
        assert all(s > 0 for s in engine.warmed.values())
    finally:
        engine.close()


def test_no_warm_up_when_switched_off_or_with_a_test_factory() -> None:
    engine = Engine(_config((0, 0)))
    try:
        assert engine.warmed == {}
    finally:
        engine.close()

    calls: list[tuple[int, ...]] = []

    class Recording:
        name = "recording"
        model_sha256 = ""

        def detect(self, bgr: np.ndarray) -> Detections:
            calls.append(bgr.shape)
            return Detections.empty()

        def close(self) -> None:
            pass

    def factory(name: str, cfg: object) -> Detector:
        return Recording()

    engine = Engine(_config((64, 48)), factory)
    try:
        assert engine.warmed == {} and calls == []  # a factory's detectors may be made to hang
    finally:
        engine.close()

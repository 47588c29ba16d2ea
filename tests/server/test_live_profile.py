"""A live stream's whole frames are detected with its policy's `live_profile`; single
images and other frames with the policy's `profile` (real server, real port). Its
configuration checks are in tests/test_config.py."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import cv2
import numpy as np

from redactor.clients.client import OutFrame, RedactorClient
from redactor.config import Config, PlateClassicConfig
from redactor.server.app import create_server
from redactor.types import Detections
from redactor.v1 import redactor_pb2 as pb

W, H = 160, 120


class _Counting:
    """Finds nothing; counts the calls of each profile."""

    model_sha256 = ""

    def __init__(self, name: str, calls: Counter[str]) -> None:
        self.name = name
        self._calls = calls

    def detect(self, bgr: np.ndarray) -> Detections:
        self._calls[self.name] += 1
        return Detections.empty()

    def close(self) -> None:
        pass


def test_streams_detect_with_the_live_profile_and_images_with_the_profile() -> None:
    calls: Counter[str] = Counter()
    running = create_server(
        Config(),
        "127.0.0.1:0",
        detector_factory=lambda name, pc: _Counting(name, calls),  # type: ignore[arg-type]
    )
    try:
        header = pb.StreamHeader(
            camera_id="cam-1",
            recipient="police-112",
            format=pb.PIXEL_FORMAT_BGR24,
            width=W,
            height=H,
            fps=10.0,
        )

        def frames() -> Iterator[OutFrame]:
            for i in range(10):
                time.sleep(0.05)
                yield OutFrame(i, i * 100_000, np.full((H, W, 3), 80 + i, np.uint8).tobytes())

        with RedactorClient(running.address) as client:
            outs = list(client.stream(header, frames()))
            streamed = dict(calls)
            png = bytes(cv2.imencode(".png", np.zeros((H, W, 3), np.uint8))[1])
            client.redact_image(pb.Image(format=pb.PIXEL_FORMAT_PNG, data=png), policy="default")
    finally:
        running.stop(0)
    assert len(outs) == 10
    assert streamed.get("live", 0) >= 1, streamed
    assert streamed.get("realtime", 0) == 0, streamed
    assert calls["realtime"] == 1, calls


def test_the_default_live_profile_runs_no_classical_localiser() -> None:
    cfg = Config()
    for name in ("default", "strict", "police-wanted-vehicle"):
        profile = cfg.detect.profiles[cfg.policy.policies[name].stream_profile]
        assert not any(isinstance(d, PlateClassicConfig) for d in profile.detectors), name
    # the single-image profile keeps it: it finds small plates in photos
    assert any(isinstance(d, PlateClassicConfig) for d in cfg.detect.profiles["realtime"].detectors)

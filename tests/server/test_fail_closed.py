"""A detector that raises or returns garbage makes every affected frame fully
masked: no original pixel leaves, on the unary call and on the stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from support.fakes import GarbageDetector, RaisingDetector

from redactor.clients.client import OutFrame, RedactorClient
from redactor.clients.video import read_i420
from redactor.config import Config
from redactor.server.app import RunningServer, create_server
from redactor.v1 import redactor_pb2 as pb


@pytest.fixture(params=[RaisingDetector, GarbageDetector], ids=["raises", "garbage"])
def failing_server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    cls = request.param
    running = create_server(Config(), "127.0.0.1:0", detector_factory=lambda name, cfg: cls())
    yield running
    running.stop(0)


def test_unary_fully_masked(failing_server: RunningServer, shared_data: Path) -> None:
    img = cv2.imread(str(next((shared_data / "faces_smoke" / "images").glob("*.jpg"))))
    h, w = img.shape[:2]
    with RedactorClient(failing_server.address) as client:
        resp = client.redact_image(
            pb.Image(format=pb.PIXEL_FORMAT_BGR24, width=w, height=h, data=img.tobytes())
        )
    assert resp.status == pb.FRAME_STATUS_FULLY_MASKED
    assert resp.status_reason
    out = np.frombuffer(resp.image.data, np.uint8)
    assert out.size == img.size
    assert np.all(out == 0), "a fully masked frame must contain no original pixel"
    m = failing_server.engine.metrics.registry
    counted = sum(
        s.value
        for metric in m.collect()
        for s in metric.samples
        if s.name == "redactor_frames_fully_masked_for_safety_total"
    )
    assert counted == 1, "the fully masked image is counted once"


def test_stream_every_frame_fully_masked(failing_server: RunningServer, short_clip: Path) -> None:
    frames = [OutFrame(f.index, f.index * 100_000, f.i420) for f in read_i420(short_clip)][:10]
    header = pb.StreamHeader(
        format=pb.PIXEL_FORMAT_I420, width=768, height=576, recipient="police-112"
    )
    with RedactorClient(failing_server.address) as client:
        outs = list(client.stream(header, frames))
    assert [o.seq for o in outs] == [f.seq for f in frames]
    for o, f in zip(outs, frames, strict=True):
        assert o.status == pb.FRAME_STATUS_FULLY_MASKED
        y = np.frombuffer(o.data, np.uint8)[: 768 * 576]
        assert len(np.unique(y)) == 1, "fully masked luma must be one flat value"
        assert o.data != f.data
    m = failing_server.engine.metrics.registry
    total = sum(
        s.value
        for metric in m.collect()
        for s in metric.samples
        if s.name == "redactor_frames_fully_masked_for_safety_total"
    )
    assert total >= len(frames)

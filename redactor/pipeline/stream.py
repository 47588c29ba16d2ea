"""One live stream: decode → detect → mask → encode, in input order.

A session holds what a stream needs between frames (policy, H.264 codec
state). It knows frames as bytes and arrays, never protobuf or gRPC.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from redactor.config import Limits
from redactor.pipeline.engine import Engine
from redactor.pipeline.frame import Redacted
from redactor.types import Detections, Frame, FrameStatus, Masks, PixelFormat
from redactor.video.h264 import H264Decoder, H264Encoder
from redactor.video.images import check_dimensions, decode_any, encode_like


@dataclass(frozen=True, slots=True)
class StreamSpec:
    camera_id: str
    recipient: str
    service: str
    format: PixelFormat
    width: int = 0
    height: int = 0
    fps: float = 0.0
    latency_budget_ms: int = 0


@dataclass(slots=True)
class StreamOutput:
    seq: int
    timestamp_us: int
    status: FrameStatus
    reason: str = ""
    data: bytes = b""
    width: int = 0
    height: int = 0
    detections: Detections = field(default_factory=Detections.empty)
    masks: Masks = field(default_factory=Masks.none)
    service_ms: float = 0.0


class StreamSession:
    def __init__(self, engine: Engine, spec: StreamSpec, limits: Limits) -> None:
        self.spec = spec
        self.limits = limits
        self.policy = engine.router.for_recipient(spec.recipient, spec.service, spec.camera_id)
        self.redactor = engine.redactor(self.policy)
        self._live = engine.config.live
        self._decoder = H264Decoder() if spec.format == PixelFormat.H264 else None
        self._encoder: H264Encoder | None = None

    def decode(self, seq: int, timestamp_us: int, data: bytes) -> list[Frame]:
        if self._decoder is not None:
            frames = self._decoder.decode(data, seq, timestamp_us)
            for f in frames:
                check_dimensions(f.width, f.height, self.limits.max_width, self.limits.max_height)
            return frames
        s = self.spec
        return [decode_any(s.format, s.width, s.height, data, self.limits.max_width,
                           self.limits.max_height, seq, timestamp_us)]

    def encode(self, frame: Frame) -> bytes:
        if self.spec.format != PixelFormat.H264:
            return encode_like(frame, self.spec.format)
        if self._encoder is None:
            live = self._live
            self._encoder = H264Encoder(frame.width, frame.height, self.spec.fps or 25.0, live.encoder_crf,
                                        live.encoder_preset, live.encoder_threads)
        return self._encoder.encode(frame)

    def _finish(self, r: Redacted, received_at: float) -> StreamOutput:
        f = r.frame
        data = self.encode(f)
        return StreamOutput(
            f.seq, f.timestamp_us, r.status, r.reason, data, f.width, f.height,
            r.detections, r.masks, (time.perf_counter() - received_at) * 1000,
        )

    def close(self) -> None:
        self._encoder = None
        self._decoder = None

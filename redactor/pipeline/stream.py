"""One live stream: decode → detect → mask → encode, in input order.

A session holds what a stream needs between frames (policy, H.264 codec
state). It knows frames as bytes and arrays, never protobuf or gRPC.

A masked frame is encoded on the stream's own encode thread while the next
frames are decoded and masked: at 1080p the encoder is the frame path's largest
cost (~18 ms of ~30 ms per frame on this project's 2-core machines), and one
thread doing both left a 25 fps stream no slack once detection shared its core
(frames queued up to the latency budget and went out fully masked). libx264
releases the GIL while it works. Each output carries its encode (`encoding`)
until `settle()`; the caller sends outputs in order as they settle.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import ClassVar

from redactor.config import Limits
from redactor.errors import InvalidInput
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


@dataclass(frozen=True, slots=True)
class StreamFrame:
    """One input frame: `data` in the header's format (one access unit for H.264)."""

    seq: int
    timestamp_us: int
    data: bytes


@dataclass(frozen=True, slots=True)
class BadMessage:
    """A message a stream cannot take as it is. `kind` is what it says it is ("header",
    "frame"; "" for an empty message); `error` what is wrong with its content. A stream
    judges a message's kind before its content (the header comes first, then frames)."""

    kind: str
    error: InvalidInput


# What a stream reads: its header, then frames.
StreamMessage = StreamSpec | StreamFrame | BadMessage


@dataclass(frozen=True, slots=True)
class StreamAccepted:
    """Sent once, first, when the header is accepted."""

    stream_id: str
    policy: str  # the policy chosen for the header's recipient and service
    server: str = ""  # which replica took it (host:port)


@dataclass(frozen=True, slots=True)
class StreamDraining:
    """Sent when the server starts draining: move the stream to another server within
    `grace_s`; frames keep being answered until then."""

    grace_s: float
    reason: str


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
    encoding: Future[bytes] | None = None  # the masked frame's encode, until settled
    received_at: float = 0.0  # perf_counter when its request arrived

    @classmethod
    def dropped(
        cls,
        seq: int,
        timestamp_us: int,
        reason: str,
        frame: Frame | None = None,
        since: float = 0.0,
    ) -> StreamOutput:
        """A frame that does not go out (no pixels), with why; `since`: when it arrived."""
        w, h = (frame.width, frame.height) if frame is not None else (0, 0)
        ms = (time.perf_counter() - since) * 1000 if since else 0.0
        return cls(seq, timestamp_us, FrameStatus.DROPPED, reason, width=w, height=h, service_ms=ms)

    def encoded(self) -> bool:
        """Its data is ready (or it carries none)."""
        return self.encoding is None or self.encoding.done()

    def settle(self) -> StreamOutput:
        """Waits for the encode: `data` and the time in the service are then final. An
        encoder failure is raised here (the stream ends; the frame's pixels never leave)."""
        if self.encoding is not None:
            self.data = self.encoding.result()
            self.encoding = None
            self.service_ms = (time.perf_counter() - self.received_at) * 1000
        return self


class StreamSession:
    LIVE: ClassVar[bool] = False  # live sessions detect with the policy's live_profile

    def __init__(self, engine: Engine, spec: StreamSpec, limits: Limits) -> None:
        self.spec = spec
        self.limits = limits
        self.policy = engine.router.for_recipient(spec.recipient, spec.service, spec.camera_id)
        self.redactor = engine.redactor(self.policy, live=self.LIVE)
        self._live = engine.config.live
        self._decoder = H264Decoder() if spec.format == PixelFormat.H264 else None
        self._encoder: H264Encoder | None = None  # used on the encode thread only
        self._encode_pool = ThreadPoolExecutor(1, thread_name_prefix="encode")

    def decode(self, seq: int, timestamp_us: int, data: bytes) -> list[Frame]:
        if self._decoder is not None:
            frames = self._decoder.decode(data, seq, timestamp_us)
            for f in frames:
                check_dimensions(f.width, f.height, self.limits.max_width, self.limits.max_height)
            return frames
        s = self.spec
        return [
            decode_any(
                s.format,
                s.width,
                s.height,
                data,
                self.limits.max_width,
                self.limits.max_height,
                seq,
                timestamp_us,
            )
        ]

    def encode(self, frame: Frame) -> bytes:
        if self.spec.format != PixelFormat.H264:
            return encode_like(frame, self.spec.format)
        if self._encoder is None:
            live = self._live
            self._encoder = H264Encoder(
                frame.width,
                frame.height,
                self.spec.fps or 25.0,
                live.encoder_crf,
                live.encoder_preset,
                live.encoder_threads,
            )
        return self._encoder.encode(frame)

    def _finish(self, r: Redacted, received_at: float) -> StreamOutput:
        """The output of a masked frame, its encode started (in order, on the encode
        thread). `r.frame` is no longer touched here: the encoder reads it."""
        f = r.frame
        return StreamOutput(
            f.seq,
            f.timestamp_us,
            r.status,
            r.reason,
            b"",
            f.width,
            f.height,
            r.detections,
            r.masks,
            (time.perf_counter() - received_at) * 1000,
            encoding=self._encode_pool.submit(self.encode, f),
            received_at=received_at,
        )

    def close(self) -> None:
        self._encode_pool.shutdown(wait=False, cancel_futures=True)
        self._encoder = None
        self._decoder = None

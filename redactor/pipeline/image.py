"""One image: decode → redact → encode, in the format it came in."""

from __future__ import annotations

import time
from dataclasses import dataclass

from redactor.config import Limits
from redactor.pipeline.engine import Engine
from redactor.types import Detections, FrameStatus, Masks, PixelFormat
from redactor.video.images import decode_any, encode_like


@dataclass(frozen=True, slots=True)
class ImageRequest:
    format: PixelFormat
    width: int  # raw formats only; encoded images carry their own size
    height: int
    data: bytes
    policy: str  # a policy's name; empty for the default


@dataclass(frozen=True, slots=True)
class ImageResult:
    format: PixelFormat
    width: int
    height: int
    data: bytes  # the masked image, in `format`
    detections: Detections
    masks: Masks
    status: FrameStatus
    reason: str
    service_ms: float


def redact_image(
    engine: Engine, image: ImageRequest, limits: Limits, started: float | None = None
) -> ImageResult:
    """Masks one image, giving detection at most `limits.detect_timeout_ms` (then the
    image is fully masked), and counts it in the engine's metrics. `started`: when the
    call arrived (perf_counter), so the time in the service counts from there."""
    t0 = time.perf_counter() if started is None else started
    frame = decode_any(
        image.format, image.width, image.height, image.data, limits.max_width, limits.max_height
    )
    metrics = engine.metrics
    metrics.frames_in.labels("image").inc()
    policy = engine.router.by_name(image.policy)
    result = engine.redact_within(engine.redactor(policy), frame, limits.detect_timeout_ms / 1000)
    data = encode_like(result.frame, image.format)
    ms = (time.perf_counter() - t0) * 1000
    metrics.frames_out.labels("image", result.status.name).inc()
    metrics.latency.labels("image").observe(ms / 1000)
    return ImageResult(
        image.format,
        frame.width,
        frame.height,
        data,
        result.detections,
        result.masks,
        result.status,
        result.reason,
        ms,
    )

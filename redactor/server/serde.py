"""Protobuf ⇄ domain. The only module that knows both; servicers call it, the
pipeline never sees protobuf."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from redactor.errors import InvalidInput, MissingField
from redactor.pipeline.image import ImageRequest, ImageResult
from redactor.pipeline.stream import (
    BadMessage,
    StreamAccepted,
    StreamDraining,
    StreamFrame,
    StreamMessage,
    StreamOutput,
    StreamSpec,
)
from redactor.types import Detections, FrameStatus, Masks, PixelFormat
from redactor.v1 import redactor_pb2 as pb

_FORMAT_NAMES = ", ".join(f.name for f in PixelFormat)
# Presentation times up to 2**53 us (285 years) either way stay exact as float64, and
# the difference of two stays within int64 (tracking subtracts them); beyond, refused.
MAX_TIMESTAMP_US = 2**53


def pixel_format(value: int, where: str) -> PixelFormat:
    try:
        return PixelFormat(value)
    except ValueError:
        raise InvalidInput(
            f"{where} must be one of {_FORMAT_NAMES}, got {pb.PixelFormat.Name(value) if value in pb.PixelFormat.values() else value}"
        ) from None


# The domain enums are IntEnums numbered as the proto's (a test compares them).
def format_to_proto(f: PixelFormat) -> pb.PixelFormat:
    return cast("pb.PixelFormat", int(f))


def status_to_proto(s: FrameStatus) -> pb.FrameStatus:
    return cast("pb.FrameStatus", int(s))


def box_to_proto(b: Sequence[float]) -> pb.Box:
    return pb.Box(x0=float(b[0]), y0=float(b[1]), x1=float(b[2]), y1=float(b[3]))


def detections_to_proto(d: Detections) -> list[pb.Detection]:
    tracks = d.track_ids if len(d.track_ids) == len(d) else [0] * len(d)
    return [
        pb.Detection(
            box=box_to_proto(b), score=float(s), label=cast("pb.Label", int(lab)), track_id=int(t)
        )
        for b, s, lab, t in zip(d.boxes, d.scores, d.labels, tracks, strict=True)
    ]


def masks_to_proto(m: Masks) -> list[pb.Mask]:
    if m.full_frame:
        return [
            pb.Mask(
                box=box_to_proto(m.boxes[0]),
                label=pb.LABEL_UNSPECIFIED,
                reason=pb.MASK_REASON_UNSPECIFIED,
            )
        ]
    out = [
        pb.Mask(
            box=box_to_proto(b),
            label=cast("pb.Label", int(lab)),
            reason=cast("pb.MaskReason", int(r)),
            ellipse=m.ellipse,
        )
        for b, lab, r in zip(m.boxes, m.labels, m.reasons, strict=True)
    ]
    for poly in m.zones:
        x0, y0 = poly.min(axis=0)
        x1, y1 = poly.max(axis=0)
        out.append(pb.Mask(box=box_to_proto((x0, y0, x1, y1)), reason=pb.MASK_REASON_ZONE))
    return out


def stream_spec_from_proto(h: pb.StreamHeader) -> StreamSpec:
    fmt = pixel_format(h.format, "header.format")
    if fmt in (PixelFormat.BGR24, PixelFormat.I420, PixelFormat.NV12) and (
        not h.width or not h.height
    ):
        raise InvalidInput(
            f"header.width and header.height are required for raw format {fmt.name}, got {h.width}x{h.height}"
        )
    if h.fps < 0 or h.fps > 1000:
        raise InvalidInput(f"header.fps must be in [0, 1000], got {h.fps}")
    return StreamSpec(
        camera_id=h.camera_id,
        recipient=h.recipient,
        service=h.service,
        format=fmt,
        width=h.width,
        height=h.height,
        fps=h.fps,
        latency_budget_ms=h.latency_budget_ms,
    )


def timestamp_us(value: int, where: str) -> int:
    if not -MAX_TIMESTAMP_US <= value <= MAX_TIMESTAMP_US:
        raise InvalidInput(f"{where} must be within +-2**53 us (285 years), got {value}")
    return value


def stream_message_from_proto(req: pb.StreamRequest) -> StreamMessage:
    """A stream's message as the stream takes it. A header or frame whose content is
    invalid becomes a BadMessage carrying the error: the stream refuses a message out
    of its place for its kind, whatever its content."""
    kind = req.WhichOneof("kind") or ""
    try:
        if kind == "header":
            return stream_spec_from_proto(req.header)
        if kind == "frame":
            f = req.frame
            return StreamFrame(
                f.seq, timestamp_us(f.timestamp_us, f"frame {f.seq}: timestamp_us"), f.data
            )
    except InvalidInput as e:
        return BadMessage(kind, e)
    return BadMessage(
        kind,
        InvalidInput(f"a stream message is a header or a frame, got {kind or 'an empty message'}"),
    )


def redacted_frame_to_proto(out: StreamOutput) -> pb.RedactedFrame:
    return pb.RedactedFrame(
        seq=out.seq,
        timestamp_us=out.timestamp_us,
        status=status_to_proto(out.status),
        status_reason=out.reason,
        data=out.data if out.status != FrameStatus.DROPPED else b"",
        width=out.width,
        height=out.height,
        detections=detections_to_proto(out.detections),
        masks=masks_to_proto(out.masks),
        service_ms=out.service_ms,
    )


def stream_response_to_proto(
    event: StreamAccepted | StreamOutput | StreamDraining,
) -> pb.StreamResponse:
    if isinstance(event, StreamAccepted):
        return pb.StreamResponse(
            accepted=pb.StreamAccepted(
                stream_id=event.stream_id, policy=event.policy, server=event.server
            )
        )
    if isinstance(event, StreamDraining):
        return pb.StreamResponse(
            draining=pb.StreamDraining(grace_ms=round(event.grace_s * 1000), reason=event.reason)
        )
    return pb.StreamResponse(frame=redacted_frame_to_proto(event))


def image_request_from_proto(req: pb.RedactImageRequest) -> ImageRequest:
    if not req.HasField("image"):
        raise MissingField("image")
    img = req.image
    return ImageRequest(
        pixel_format(img.format, "image.format"), img.width, img.height, img.data, req.policy
    )


def image_result_to_proto(r: ImageResult) -> pb.RedactImageResponse:
    return pb.RedactImageResponse(
        image=pb.Image(
            format=format_to_proto(r.format), width=r.width, height=r.height, data=r.data
        ),
        detections=detections_to_proto(r.detections),
        masks=masks_to_proto(r.masks),
        status=status_to_proto(r.status),
        status_reason=r.reason,
        service_ms=r.service_ms,
    )

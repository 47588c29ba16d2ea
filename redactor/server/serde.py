"""Protobuf ⇄ domain. The only module that knows both; servicers call it, the
pipeline never sees protobuf."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from redactor.errors import InvalidInput
from redactor.pipeline.stream import StreamSpec
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
        pb.Detection(box=box_to_proto(b), score=float(s), label=cast("pb.Label", int(lab)),
                     track_id=int(t))
        for b, s, lab, t in zip(d.boxes, d.scores, d.labels, tracks, strict=True)
    ]


def masks_to_proto(m: Masks) -> list[pb.Mask]:
    if m.full_frame:
        return [pb.Mask(box=box_to_proto(m.boxes[0]), label=pb.LABEL_UNSPECIFIED,
                        reason=pb.MASK_REASON_UNSPECIFIED)]
    out = [
        pb.Mask(box=box_to_proto(b), label=cast("pb.Label", int(lab)),
                reason=cast("pb.MaskReason", int(r)), ellipse=m.ellipse)
        for b, lab, r in zip(m.boxes, m.labels, m.reasons, strict=True)
    ]
    for poly in m.zones:
        x0, y0 = poly.min(axis=0)
        x1, y1 = poly.max(axis=0)
        out.append(pb.Mask(box=box_to_proto((x0, y0, x1, y1)), reason=pb.MASK_REASON_ZONE))
    return out


def stream_spec_from_proto(h: pb.StreamHeader) -> StreamSpec:
    fmt = pixel_format(h.format, "header.format")
    if fmt in (PixelFormat.BGR24, PixelFormat.I420, PixelFormat.NV12) and (not h.width or not h.height):
        raise InvalidInput(
            f"header.width and header.height are required for raw format {fmt.name}, got {h.width}x{h.height}"
        )
    if h.fps < 0 or h.fps > 1000:
        raise InvalidInput(f"header.fps must be in [0, 1000], got {h.fps}")
    return StreamSpec(
        camera_id=h.camera_id, recipient=h.recipient, service=h.service, format=fmt,
        width=h.width, height=h.height, fps=h.fps, latency_budget_ms=h.latency_budget_ms,
    )


def timestamp_us(value: int, where: str) -> int:
    if not -MAX_TIMESTAMP_US <= value <= MAX_TIMESTAMP_US:
        raise InvalidInput(f"{where} must be within +-2**53 us (285 years), got {value}")
    return value

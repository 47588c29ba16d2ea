"""The Redactor service: thin. Each RPC translates protobuf to domain types,
calls the pipeline and translates back; errors map to status codes in status.py."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

import grpc

from redactor.config import Config
from redactor.errors import InvalidInput, MissingField
from redactor.pipeline.engine import Engine
from redactor.pipeline.stream import StreamOutput, StreamSession
from redactor.server import serde
from redactor.server.auth import require_role
from redactor.server.status import streaming, unary
from redactor.types import FrameStatus
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc
from redactor.video.images import decode_any, encode_like

log = logging.getLogger(__name__)


class RedactorServicer(pb_grpc.RedactorServicer):
    def __init__(self, config: Config, engine: Engine) -> None:
        self.config = config
        self.engine = engine

    @unary
    def RedactImage(self, request: pb.RedactImageRequest, context: grpc.ServicerContext) -> pb.RedactImageResponse:
        t0 = time.perf_counter()
        require_role(context, self.config.auth)  # any valid role; anonymous where auth is off
        if not request.HasField("image"):
            raise MissingField("image")
        img = request.image
        fmt = serde.pixel_format(img.format, "image.format")
        lim = self.config.limits
        frame = decode_any(fmt, img.width, img.height, img.data, lim.max_width, lim.max_height)
        self.engine.metrics.frames_in.labels("image").inc()
        policy = self.engine.router.by_name(request.policy)
        result = self.engine.redactor(policy).redact(frame)
        data = encode_like(result.frame, fmt)
        ms = (time.perf_counter() - t0) * 1000
        self.engine.metrics.frames_out.labels("image", result.status.name).inc()
        self.engine.metrics.latency.labels("image").observe(ms / 1000)
        return pb.RedactImageResponse(
            image=pb.Image(format=fmt, width=frame.width, height=frame.height, data=data),
            detections=serde.detections_to_proto(result.detections),
            masks=serde.masks_to_proto(result.masks),
            status=int(result.status),
            status_reason=result.reason,
            service_ms=ms,
        )

    @streaming
    def RedactStream(self, request_iterator: Iterator[pb.StreamRequest],
                     context: grpc.ServicerContext) -> Iterator[pb.StreamResponse]:
        require_role(context, self.config.auth)
        first = next(request_iterator, None)
        if first is None:
            return
        if first.WhichOneof("kind") != "header":
            raise InvalidInput(
                f"the first message of a stream must be a header, got {first.WhichOneof('kind') or 'an empty message'}"
            )
        spec = serde.stream_spec_from_proto(first.header)
        session = StreamSession(self.engine, spec, self.config.limits)
        stream_id = uuid.uuid4().hex[:12]
        metrics = self.engine.metrics
        metrics.streams.inc()
        try:
            yield pb.StreamResponse(accepted=pb.StreamAccepted(stream_id=stream_id, policy=session.policy.name))
            for req in request_iterator:
                received = time.perf_counter()
                if req.WhichOneof("kind") != "frame":
                    raise InvalidInput(
                        f"after the header a stream takes frames, got {req.WhichOneof('kind') or 'an empty message'}"
                    )
                metrics.frames_in.labels("stream").inc()
                f = req.frame
                for out in session.process(f.seq, f.timestamp_us, f.data, received):
                    metrics.frames_out.labels("stream", out.status.name).inc()
                    metrics.stream_latency.labels(stream_id).observe(out.service_ms / 1000)
                    yield pb.StreamResponse(frame=_frame_to_proto(out))
        finally:
            metrics.streams.dec()
            session.close()


def _frame_to_proto(out: StreamOutput) -> pb.RedactedFrame:
    return pb.RedactedFrame(
        seq=out.seq, timestamp_us=out.timestamp_us, status=int(out.status),
        status_reason=out.reason, data=out.data if out.status != FrameStatus.DROPPED else b"",
        width=out.width, height=out.height,
        detections=serde.detections_to_proto(out.detections),
        masks=serde.masks_to_proto(out.masks), service_ms=out.service_ms,
    )

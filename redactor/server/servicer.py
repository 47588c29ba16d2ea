"""The Redactor service: thin. Each RPC translates protobuf to domain types,
calls the pipeline and translates back; errors map to status codes in status.py."""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator

import grpc

from redactor.config import Config
from redactor.errors import InvalidInput, LimitExceeded, MissingField
from redactor.pipeline.engine import Engine
from redactor.pipeline.live import LiveSession
from redactor.pipeline.stream import StreamOutput
from redactor.server import serde
from redactor.server.auth import REDACT_ROLES, caller_key, require_role
from redactor.server.status import streaming, unary
from redactor.types import FrameStatus, Label
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc
from redactor.video.images import decode_any, encode_like

log = logging.getLogger(__name__)


class _Wake:
    """Put in a stream's inbox when one of its encodes is done."""


_WAKE = _Wake()
_Inbox = queue.Queue[tuple[pb.StreamRequest, float] | BaseException | _Wake | None]


class RedactorServicer(pb_grpc.RedactorServicer):
    def __init__(self, config: Config, engine: Engine) -> None:
        self.config = config
        self.engine = engine
        self._lock = threading.Lock()
        self._streams: dict[str, int] = {}  # open streams per caller

    @unary
    def RedactImage(self, request: pb.RedactImageRequest, context: grpc.ServicerContext) -> pb.RedactImageResponse:
        t0 = time.perf_counter()
        require_role(context, self.config.auth, *REDACT_ROLES, anonymous=True)
        if not request.HasField("image"):
            raise MissingField("image")
        img = request.image
        fmt = serde.pixel_format(img.format, "image.format")
        lim = self.config.limits
        frame = decode_any(fmt, img.width, img.height, img.data, lim.max_width, lim.max_height)
        self.engine.metrics.frames_in.labels("image").inc()
        policy = self.engine.router.by_name(request.policy)
        result = self.engine.redact_within(self.engine.redactor(policy), frame,
                                           lim.detect_timeout_ms / 1000)
        data = encode_like(result.frame, fmt)
        ms = (time.perf_counter() - t0) * 1000
        self.engine.metrics.frames_out.labels("image", result.status.name).inc()
        self.engine.metrics.latency.labels("image").observe(ms / 1000)
        return pb.RedactImageResponse(
            image=pb.Image(format=serde.format_to_proto(fmt), width=frame.width, height=frame.height,
                           data=data),
            detections=serde.detections_to_proto(result.detections),
            masks=serde.masks_to_proto(result.masks),
            status=serde.status_to_proto(result.status),
            status_reason=result.reason,
            service_ms=ms,
        )

    @streaming
    def RedactStream(self, request_iterator: Iterator[pb.StreamRequest],
                     context: grpc.ServicerContext) -> Iterator[pb.StreamResponse]:
        require_role(context, self.config.auth, *REDACT_ROLES, anonymous=True)
        caller = caller_key(context, self.config.auth)
        lim = self.config.limits
        # Counted before the header arrives: a stream that never sends one still holds
        # a handler thread, and must not be able to take them all.
        with self._lock:
            if sum(self._streams.values()) >= lim.max_streams:
                raise LimitExceeded(f"limits.max_streams = {lim.max_streams} streams are already open")
            if self._streams.get(caller, 0) >= lim.max_streams_per_caller:
                raise LimitExceeded(
                    f"limits.max_streams_per_caller = {lim.max_streams_per_caller} "
                    f"streams are already open for {caller}"
                )
            self._streams[caller] = self._streams.get(caller, 0) + 1
        stream_id = uuid.uuid4().hex[:12]
        metrics = self.engine.metrics
        metrics.streams.inc()
        # The reader thread takes requests off the wire into a bounded inbox, so
        # reading never waits on processing; when the inbox is full it blocks and
        # gRPC flow control pushes back on the sender.
        inbox: _Inbox = queue.Queue(maxsize=lim.stream_queue_frames)
        reader = threading.Thread(target=_read, args=(request_iterator, inbox, context),
                                  name=f"read-{stream_id}", daemon=True)
        session: LiveSession | None = None
        sent = 0
        t_start = last_message = time.perf_counter()
        try:
            reader.start()
            try:
                item = inbox.get(timeout=lim.stream_idle_s)
            except queue.Empty:
                raise LimitExceeded(f"no header within limits.stream_idle_s = {lim.stream_idle_s:g} s") from None
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            assert not isinstance(item, _Wake)  # no encode before the header
            first = item[0]
            if first.WhichOneof("kind") != "header":
                raise InvalidInput(
                    f"the first message of a stream must be a header, got {first.WhichOneof('kind') or 'an empty message'}"
                )
            spec = serde.stream_spec_from_proto(first.header)
            session = LiveSession(self.engine, spec, lim)

            # Outputs in input order, each sent once its encode (on the session's encode
            # thread) is done; at most stream_queue_frames of them, so an encoder slower
            # than the camera pushes back on the sender like the other queues.
            outgoing: deque[StreamOutput] = deque()

            def wake(_: object) -> None:  # an encode finished: the loop below may send it
                try:
                    inbox.put_nowait(_WAKE)
                except queue.Full:  # input is waiting: the loop runs anyway
                    pass

            def respond(outs: Iterable[StreamOutput], wait: bool = False) -> Iterator[pb.StreamResponse]:
                """Queues `outs`, then sends what is encoded from the head (with `wait`, all)."""
                nonlocal sent
                for out in outs:
                    outgoing.append(out)
                    if out.encoding is not None:
                        out.encoding.add_done_callback(wake)
                while outgoing and (wait or outgoing[0].encoded()):
                    out = outgoing.popleft().settle()
                    sent += 1
                    self._count(out, stream_id, sent, t_start)
                    yield pb.StreamResponse(frame=_frame_to_proto(out))

            yield pb.StreamResponse(accepted=pb.StreamAccepted(stream_id=stream_id, policy=session.policy.name))
            while True:
                if len(outgoing) >= lim.stream_queue_frames:
                    outgoing[0].settle()
                    yield from respond([])
                    continue
                if session.pending >= lim.stream_queue_frames:
                    yield from respond(session.drain_head())
                    continue
                idle = time.perf_counter() - last_message
                busy = session.has_pending or bool(outgoing)
                try:
                    item = inbox.get(timeout=0.01 if session.has_pending else max(lim.stream_idle_s - idle, 0))
                except queue.Empty:
                    if not busy and time.perf_counter() - last_message >= lim.stream_idle_s:
                        raise LimitExceeded(
                            f"no message for limits.stream_idle_s = {lim.stream_idle_s:g} s") from None
                    outs = list(session.ready(block=False))
                else:
                    if isinstance(item, _Wake):
                        yield from respond(session.ready(block=False))
                        continue
                    last_message = time.perf_counter()
                    if item is None:
                        break
                    if isinstance(item, BaseException):
                        raise item
                    req, received = item
                    if req.WhichOneof("kind") != "frame":
                        raise InvalidInput(
                            f"after the header a stream takes frames, got {req.WhichOneof('kind') or 'an empty message'}"
                        )
                    metrics.frames_in.labels("stream").inc()
                    f = req.frame
                    ts = serde.timestamp_us(f.timestamp_us, f"frame {f.seq}: timestamp_us")
                    outs = session.push(f.seq, ts, f.data, received)
                yield from respond(outs)
            yield from respond(session.ready(block=True), wait=True)
        finally:
            metrics.streams.dec()
            metrics.forget_stream(stream_id)
            with self._lock:
                self._streams[caller] -= 1
                if not self._streams[caller]:
                    del self._streams[caller]
            if session is not None:
                session.close()
                log.info("stream %s (%s → %s) closed: %d frames out, %s", stream_id, session.spec.camera_id,
                         session.spec.recipient, sent, session.stats)

    def _count(self, out: StreamOutput, stream_id: str, sent: int, t_start: float) -> None:
        m = self.engine.metrics
        m.frames_out.labels("stream", out.status.name).inc()
        if out.status == FrameStatus.DROPPED:
            m.dropped.labels(stream_id).inc()
        m.stream_latency.labels(stream_id).observe(out.service_ms / 1000)
        m.latency.labels("stream").observe(out.service_ms / 1000)
        for label in out.detections.labels:
            m.detections.labels(Label(int(label)).name.lower()).inc()
        elapsed = time.perf_counter() - t_start
        if elapsed > 0:
            m.stream_fps.labels(stream_id).set(sent / elapsed)


def _read(requests: Iterator[pb.StreamRequest],
          inbox: _Inbox,
          context: grpc.ServicerContext) -> None:
    """Moves requests into the inbox with their arrival time; None marks the end."""
    try:
        for req in requests:
            while context.is_active():
                try:
                    inbox.put((req, time.perf_counter()), timeout=0.5)
                    break
                except queue.Full:
                    continue
            else:
                return
        inbox.put(None)
    except grpc.RpcError:
        inbox.put(None)  # the client went away: nothing more will come
    except BaseException as e:  # noqa: BLE001 - handed to the handler thread
        inbox.put(e)


def _frame_to_proto(out: StreamOutput) -> pb.RedactedFrame:
    return pb.RedactedFrame(
        seq=out.seq, timestamp_us=out.timestamp_us, status=serde.status_to_proto(out.status),
        status_reason=out.reason, data=out.data if out.status != FrameStatus.DROPPED else b"",
        width=out.width, height=out.height,
        detections=serde.detections_to_proto(out.detections),
        masks=serde.masks_to_proto(out.masks), service_ms=out.service_ms,
    )

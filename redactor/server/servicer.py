"""The Redactor service: thin. Each RPC checks the caller, translates protobuf to
domain types (serde.py), calls one transport-free object and translates back;
errors map to status codes in status.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, closing

import grpc

from redactor.config import Config
from redactor.pipeline.admission import Admission
from redactor.pipeline.engine import Engine
from redactor.pipeline.image import redact_image
from redactor.pipeline.live import LiveSession
from redactor.pipeline.stream import StreamMessage, StreamSpec
from redactor.pipeline.stream_loop import StreamLoop, StreamSlots
from redactor.server import serde
from redactor.server.auth import REDACT_ROLES, caller_key, require_role
from redactor.server.status import streaming, unary
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc


class RedactorServicer(pb_grpc.RedactorServicer):
    def __init__(self, config: Config, engine: Engine, admission: Admission | None = None) -> None:
        self.config = config
        self.engine = engine
        self.streams = StreamSlots(config.limits)
        self.admission = admission or Admission(config.limits)
        self.server_id = ""  # host:port, once bound (StreamAccepted.server)

    @unary
    def RedactImage(
        self, request: pb.RedactImageRequest, context: grpc.ServicerContext
    ) -> pb.RedactImageResponse:
        started = time.perf_counter()  # the time in the service counts the whole call
        require_role(context, self.config.auth, *REDACT_ROLES, anonymous=True)
        image = serde.image_request_from_proto(request)
        return serde.image_result_to_proto(
            redact_image(self.engine, image, self.config.limits, started)
        )

    @streaming
    def RedactStream(
        self, request_iterator: Iterator[pb.StreamRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.StreamResponse]:
        require_role(context, self.config.auth, *REDACT_ROLES, anonymous=True)
        with self.streams.hold(caller_key(context, self.config.auth)), ExitStack() as admitted:

            def open_session(spec: StreamSpec) -> LiveSession:
                # at the header: refused (full, draining) before any model work is done
                admitted.enter_context(self.admission.stream(spec, on_drain=loop.drain))
                return LiveSession(self.engine, spec, self.config.limits)

            loop = StreamLoop(
                _messages(request_iterator),
                open_session,
                self.config.limits,
                self.engine.metrics,
                active=context.is_active,
                server=self.server_id,
            )
            # closed with this call, however it ends, so the session is closed at once
            with closing(loop.run()) as events:
                for event in events:
                    yield serde.stream_response_to_proto(event)


def _messages(requests: Iterator[pb.StreamRequest]) -> Iterator[StreamMessage]:
    """The caller's requests as domain messages; a caller gone away ends them."""
    try:
        for req in requests:
            yield serde.stream_message_from_proto(req)
    except grpc.RpcError:
        return  # the client went away: nothing more will come

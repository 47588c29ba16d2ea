"""A small Python client for the redactor service (generated stubs + gRPC only)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc

MAX_MESSAGE = 64 << 20


@dataclass(frozen=True, slots=True)
class OutFrame:
    """One input frame for a stream: sequence number, timestamp, bytes in the header's format."""

    seq: int
    timestamp_us: int
    data: bytes


class RedactorClient:
    def __init__(self, address: str = "127.0.0.1:50051", token: str | None = None,
                 timeout_s: float | None = None) -> None:
        self.address = address
        self.channel = grpc.insecure_channel(
            address,
            options=[("grpc.max_receive_message_length", MAX_MESSAGE),
                     ("grpc.max_send_message_length", MAX_MESSAGE)],
        )
        self.stub = pb_grpc.RedactorStub(self.channel)
        self.exports = pb_grpc.ExportsStub(self.channel)
        self.metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self.timeout_s = timeout_s

    def health(self, service: str = "") -> str:
        resp = health_pb2_grpc.HealthStub(self.channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=self.timeout_s or 5.0
        )
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status))

    def redact_image(self, image: pb.Image, policy: str = "") -> pb.RedactImageResponse:
        return self.stub.RedactImage(  # type: ignore[no-any-return]
            pb.RedactImageRequest(image=image, policy=policy),
            timeout=self.timeout_s, metadata=self.metadata,
        )

    def stream(self, header: pb.StreamHeader, frames: Iterable[OutFrame],
               accepted: list[pb.StreamAccepted] | None = None) -> Iterator[pb.RedactedFrame]:
        """Sends the header then `frames` (in a gRPC thread, overlapping with receiving)
        and yields redacted frames in order. `accepted`, if given, receives the
        server's StreamAccepted."""
        stop = threading.Event()

        def requests() -> Iterator[pb.StreamRequest]:
            yield pb.StreamRequest(header=header)
            for f in frames:
                if stop.is_set():
                    return
                yield pb.StreamRequest(frame=pb.StreamFrame(seq=f.seq, timestamp_us=f.timestamp_us, data=f.data))

        call = self.stub.RedactStream(requests(), timeout=self.timeout_s, metadata=self.metadata)
        try:
            for resp in call:
                kind = resp.WhichOneof("kind")
                if kind == "accepted":
                    if accepted is not None:
                        accepted.append(resp.accepted)
                elif kind == "frame":
                    yield resp.frame
        finally:
            stop.set()
            call.cancel()

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> RedactorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

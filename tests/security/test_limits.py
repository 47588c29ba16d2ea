"""Limits in one place (redactor.config.Limits), each enforced with RESOURCE_EXHAUSTED
and a message naming it: message size, frame dimensions, streams per caller and in
all, idle streams (headerless ones included), and the inbox that pushes back on a
fast sender. One server with tight limits serves the module."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from support.configs import export_config
from support.fakes import EmptyDetector

from redactor.config import Config, Limits, ServerConfig
from redactor.errors import ConfigError
from redactor.server.app import RunningServer, create_server
from redactor.types import Frame
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc
from redactor.video.h264 import H264Encoder

EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED
LIMITS = Limits(
    max_message_bytes=1 << 20,
    max_width=640,
    max_height=480,
    max_streams=3,
    max_streams_per_caller=2,
    stream_idle_s=2.0,
    stream_queue_frames=4,
)
PNG = bytes(cv2.imencode(".png", np.full((24, 32, 3), 90, np.uint8))[1])
RELAY = (("authorization", "Bearer relay-dev-token"),)
OPERATOR = (("authorization", "Bearer operator-dev-token"),)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = create_server(
        Config(limits=LIMITS, export=export_config(tmp_path_factory.mktemp("limits"))),
        "127.0.0.1:0",
    )
    yield running
    running.stop(0)


def active_streams(server: RunningServer) -> float:
    value = server.engine.metrics.registry.get_sample_value("redactor_streams_active")
    return 0.0 if value is None else value


def wait_streams(server: RunningServer, n: int, timeout: float = 10.0) -> None:
    t0 = time.monotonic()
    while active_streams(server) != n:
        assert time.monotonic() - t0 < timeout, (
            f"{active_streams(server)} streams open, expected {n}"
        )
        time.sleep(0.02)


class HeldStream:
    """A stream kept open by its caller: `first` requests, then nothing until `release()`."""

    def __init__(
        self,
        address: str,
        first: list[pb.StreamRequest],
        metadata: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.channel = grpc.insecure_channel(address)  # its own connection: another peer port
        self.release_event = threading.Event()
        self.responses: list[pb.StreamResponse] = []
        self.code: grpc.StatusCode | None = None
        self.details = ""
        self.accepted = threading.Event()
        stub = pb_grpc.RedactorStub(self.channel)  # type: ignore[no-untyped-call]
        self.call = stub.RedactStream(self._requests(first), metadata=metadata, timeout=60)
        self.thread = threading.Thread(target=self._consume, daemon=True)
        self.thread.start()

    def _requests(self, first: list[pb.StreamRequest]) -> Iterator[pb.StreamRequest]:
        yield from first
        self.release_event.wait(60)

    def _consume(self) -> None:
        try:
            for r in self.call:
                self.responses.append(r)
                if r.WhichOneof("kind") == "accepted":
                    self.accepted.set()
            self.code = grpc.StatusCode.OK
        except grpc.RpcError as e:
            self.code, self.details = e.code(), e.details() or ""
        self.accepted.set()

    def release(self) -> None:
        self.release_event.set()
        self.thread.join(30)
        self.channel.close()


HEADER = pb.StreamRequest(
    header=pb.StreamHeader(format=pb.PIXEL_FORMAT_PNG, recipient="police-112")
)


def stream_once(address: str, metadata: tuple[tuple[str, str], ...] = ()) -> list[int]:
    """A short well-formed stream; returns its frames' statuses."""
    reqs = [HEADER, pb.StreamRequest(frame=pb.StreamFrame(seq=1, data=PNG))]
    with grpc.insecure_channel(address) as ch:
        stub = pb_grpc.RedactorStub(ch)  # type: ignore[no-untyped-call]
        return [
            r.frame.status
            for r in stub.RedactStream(iter(reqs), metadata=metadata, timeout=30)
            if r.WhichOneof("kind") == "frame"
        ]


def test_max_message_bytes_on_a_stream(server: RunningServer) -> None:
    big = b"\0" * (LIMITS.max_message_bytes + 1)
    reqs = [
        pb.StreamRequest(
            header=pb.StreamHeader(format=pb.PIXEL_FORMAT_BGR24, width=640, height=480)
        ),
        pb.StreamRequest(frame=pb.StreamFrame(seq=1, data=big)),
    ]
    with grpc.insecure_channel(server.address) as ch:
        stub = pb_grpc.RedactorStub(ch)  # type: ignore[no-untyped-call]
        with pytest.raises(grpc.RpcError) as e:
            list(stub.RedactStream(iter(reqs), timeout=30))
    assert e.value.code() == EXHAUSTED
    assert str(LIMITS.max_message_bytes) in (e.value.details() or "")
    wait_streams(server, 0)
    assert stream_once(server.address) == [pb.FRAME_STATUS_REDACTED]


def _png_claiming(width: int, height: int) -> bytes:
    """A real PNG whose IHDR then says another size (decoders must not trust it blindly)."""
    data = bytearray(PNG)
    data[16:20] = width.to_bytes(4, "big")
    data[20:24] = height.to_bytes(4, "big")
    return bytes(data)


@pytest.mark.parametrize(
    "image",
    [
        pb.Image(format=pb.PIXEL_FORMAT_BGR24, width=641, height=480, data=b"\0" * (641 * 480 * 3)),
        pb.Image(format=pb.PIXEL_FORMAT_I420, width=640, height=481, data=b"\0"),
        pb.Image(format=pb.PIXEL_FORMAT_PNG, data=_png_claiming(100_000, 100_000)),
        pb.Image(
            format=pb.PIXEL_FORMAT_PNG,
            data=bytes(cv2.imencode(".png", np.zeros((482, 8, 3), np.uint8))[1]),
        ),
        pb.Image(
            format=pb.PIXEL_FORMAT_JPEG,
            data=bytes(cv2.imencode(".jpg", np.zeros((8, 700, 3), np.uint8))[1]),
        ),
    ],
    ids=["bgr-wide", "i420-tall", "png-header-absurd", "png-tall", "jpeg-wide"],
)
def test_frame_dimensions_single_image(server: RunningServer, image: pb.Image) -> None:
    with grpc.insecure_channel(server.address) as ch:
        stub = pb_grpc.RedactorStub(ch)  # type: ignore[no-untyped-call]
        with pytest.raises(grpc.RpcError) as e:
            stub.RedactImage(pb.RedactImageRequest(image=image), timeout=30)
    assert e.value.code() == EXHAUSTED
    assert "limits.max_width x limits.max_height = 640x480" in (e.value.details() or "")


def test_frame_dimensions_stream_raw_and_h264(server: RunningServer) -> None:
    raw = [
        pb.StreamRequest(
            header=pb.StreamHeader(format=pb.PIXEL_FORMAT_NV12, width=100_000, height=2)
        ),
        pb.StreamRequest(frame=pb.StreamFrame(seq=1, data=b"\0" * 16)),
    ]
    enc = H264Encoder(800, 128, 10)
    planes = (
        np.zeros((128, 800), np.uint8),
        np.full((64, 400), 128, np.uint8),
        np.full((64, 400), 128, np.uint8),
    )
    au = enc.encode(Frame("i420", planes, 0, 0))
    h264 = [
        pb.StreamRequest(header=pb.StreamHeader(format=pb.PIXEL_FORMAT_H264)),
        pb.StreamRequest(frame=pb.StreamFrame(seq=1, data=au)),
    ]
    with grpc.insecure_channel(server.address) as ch:
        stub = pb_grpc.RedactorStub(ch)  # type: ignore[no-untyped-call]
        for reqs, size in ((raw, "100000x2"), (h264, "800x128")):
            with pytest.raises(grpc.RpcError) as e:
                list(stub.RedactStream(iter(reqs), timeout=30))
            assert e.value.code() == EXHAUSTED
            assert size in (e.value.details() or "") and "limits.max_width" in (
                e.value.details() or ""
            )


def test_max_streams_per_caller_counts_the_caller_not_the_connection(server: RunningServer) -> None:
    """Each HeldStream has its own channel (its own peer port): still one caller."""
    held = [HeldStream(server.address, [HEADER]) for _ in range(LIMITS.max_streams_per_caller)]
    try:
        for h in held:
            assert h.accepted.wait(30) and h.code is None, (h.code, h.details)
        extra = HeldStream(server.address, [HEADER])
        extra.thread.join(30)
        assert extra.code == EXHAUSTED
        assert f"limits.max_streams_per_caller = {LIMITS.max_streams_per_caller}" in extra.details
        extra.release()
        # another caller (a role's token) is counted on its own
        assert stream_once(server.address, RELAY) == [pb.FRAME_STATUS_REDACTED]
    finally:
        for h in held:
            h.release()
    wait_streams(server, 0)
    assert stream_once(server.address) == [pb.FRAME_STATUS_REDACTED]  # the count was released


def test_max_streams_in_all_counts_streams_without_header(server: RunningServer) -> None:
    """Streams that never send a header hold handler threads too: they are counted from
    the start, refused beyond limits.max_streams, and ended after limits.stream_idle_s;
    health checks keep being answered meanwhile."""
    held = [HeldStream(server.address, [], md) for md in ((), RELAY, OPERATOR)]
    try:
        wait_streams(server, LIMITS.max_streams)
        t0 = time.perf_counter()
        with grpc.insecure_channel(server.address) as ch:
            assert (
                health_pb2_grpc.HealthStub(ch)
                .Check(health_pb2.HealthCheckRequest(), timeout=2)
                .status
                == health_pb2.HealthCheckResponse.SERVING
            )
        assert time.perf_counter() - t0 < 2
        extra = HeldStream(server.address, [HEADER], RELAY)
        extra.thread.join(30)
        assert (
            extra.code == EXHAUSTED
            and f"limits.max_streams = {LIMITS.max_streams}" in extra.details
        )
        extra.release()
        for h in held:
            h.thread.join(LIMITS.stream_idle_s + 10)
            assert h.code == EXHAUSTED, (h.code, h.details)
            assert (
                f"no header within limits.stream_idle_s = {LIMITS.stream_idle_s:g} s" in h.details
            )
        assert time.perf_counter() - t0 < LIMITS.stream_idle_s + 10
    finally:
        for h in held:
            h.release()
    wait_streams(server, 0)


def test_stream_idle_after_frames(server: RunningServer) -> None:
    h = HeldStream(
        server.address, [HEADER, pb.StreamRequest(frame=pb.StreamFrame(seq=5, data=PNG))]
    )
    try:
        h.thread.join(LIMITS.stream_idle_s + 15)
        assert (
            h.code == EXHAUSTED and f"limits.stream_idle_s = {LIMITS.stream_idle_s:g}" in h.details
        )
        frames = [r.frame for r in h.responses if r.WhichOneof("kind") == "frame"]
        assert [f.seq for f in frames] == [5]  # what came before the silence went out
    finally:
        h.release()
    wait_streams(server, 0)


def test_workers_must_outnumber_streams() -> None:
    cfg = Config(server=ServerConfig(workers=8), limits=Limits(max_streams=6))
    with pytest.raises(
        ConfigError, match="server.workers = 8 must be at least limits.max_streams = 6"
    ):
        create_server(cfg, "127.0.0.1:0")


def test_inbox_pushes_back_on_a_fast_sender(tmp_path: Path) -> None:
    """limits.stream_queue_frames bounds what a stream holds: a sender far faster than
    the service is held back by flow control instead of filling the server's memory."""
    w, h = 640, 480
    frame = (
        np.random.default_rng(0).integers(0, 255, (h, w, 3), np.uint8).tobytes()
    )  # 900 KB, incompressible
    limits = Limits(stream_queue_frames=4, latency_budget_ms=60_000)
    n_frames = 80
    running = create_server(
        Config(limits=limits, export=export_config(tmp_path)),
        "127.0.0.1:0",
        # finds nothing, 0.25 s a frame: the stream falls behind a fast sender
        detector_factory=lambda name, cfg: EmptyDetector("slow", delay_s=0.25),
    )
    sent = 0
    ahead: list[int] = []
    got = 0
    lock = threading.Lock()

    def requests() -> Iterator[pb.StreamRequest]:
        nonlocal sent
        yield pb.StreamRequest(
            header=pb.StreamHeader(
                format=pb.PIXEL_FORMAT_BGR24, width=w, height=h, latency_budget_ms=60_000
            )
        )
        for i in range(n_frames):
            with lock:
                sent += 1
                ahead.append(sent - got)
            yield pb.StreamRequest(frame=pb.StreamFrame(seq=i, timestamp_us=i * 1000, data=frame))

    try:
        with grpc.insecure_channel(
            running.address, options=[("grpc.max_receive_message_length", 8 << 20)]
        ) as ch:
            stub = pb_grpc.RedactorStub(ch)  # type: ignore[no-untyped-call]
            for r in stub.RedactStream(requests(), timeout=120):
                if r.WhichOneof("kind") == "frame":
                    with lock:
                        got += 1
    finally:
        running.stop(0)
    assert got == n_frames
    # inbox + pending frames + what gRPC's flow-control windows hold; without the
    # bound a sender this much faster than the service would be nearly all of them ahead
    assert max(ahead) <= 2 * limits.stream_queue_frames + 24, max(ahead)  # measured: 17

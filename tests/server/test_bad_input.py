"""Bad requests get the right status code and a message saying what was expected
and what arrived; the server keeps serving afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import grpc
import numpy as np
import pytest

from redactor.clients.client import OutFrame, RedactorClient
from redactor.config import Config, Limits
from redactor.server.app import RunningServer, create_server
from redactor.v1 import redactor_pb2 as pb

GOOD = pb.Image(
    format=pb.PIXEL_FORMAT_PNG, data=bytes(cv2.imencode(".png", np.zeros((24, 32, 3), np.uint8))[1])
)
JPEG = bytes(cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8))[1])

CASES = [
    # (name, image, expected code, words the message must contain)
    (
        "zero size",
        pb.Image(format=pb.PIXEL_FORMAT_BGR24, width=0, height=0, data=b""),
        grpc.StatusCode.INVALID_ARGUMENT,
        ["width and height > 0", "0x0"],
    ),
    (
        "size mismatch",
        pb.Image(format=pb.PIXEL_FORMAT_BGR24, width=4, height=4, data=b"\0" * 47),
        grpc.StatusCode.INVALID_ARGUMENT,
        ["needs 48 bytes", "got 47"],
    ),
    (
        "i420 mismatch",
        pb.Image(format=pb.PIXEL_FORMAT_I420, width=5, height=5, data=b"\0" * 25),
        grpc.StatusCode.INVALID_ARGUMENT,
        ["needs 43 bytes", "got 25"],
    ),
    (
        "unknown format",
        pb.Image(format=99, width=4, height=4, data=b"\0" * 48),  # type: ignore[arg-type]
        grpc.StatusCode.INVALID_ARGUMENT,
        ["must be one of", "got 99"],
    ),
    (
        "unspecified format",
        pb.Image(width=4, height=4, data=b"\0" * 48),
        grpc.StatusCode.INVALID_ARGUMENT,
        ["must be one of", "PIXEL_FORMAT_UNSPECIFIED"],
    ),
    (
        "corrupt jpeg",
        pb.Image(format=pb.PIXEL_FORMAT_JPEG, data=JPEG[:20] + b"\x00garbage" * 10),
        grpc.StatusCode.INVALID_ARGUMENT,
        ["JPEG"],
    ),
    (
        "png bytes called jpeg",
        pb.Image(format=pb.PIXEL_FORMAT_JPEG, data=GOOD.data),
        grpc.StatusCode.INVALID_ARGUMENT,
        ["expected JPEG", "got"],
    ),
    (
        "empty jpeg",
        pb.Image(format=pb.PIXEL_FORMAT_JPEG, data=b""),
        grpc.StatusCode.INVALID_ARGUMENT,
        ["empty"],
    ),
    (
        "h264 as image",
        pb.Image(format=pb.PIXEL_FORMAT_H264, data=b"\0\0\0\1"),
        grpc.StatusCode.INVALID_ARGUMENT,
        ["expected a picture format", "H264"],
    ),
    (
        "absurd dimensions",
        pb.Image(format=pb.PIXEL_FORMAT_BGR24, width=100000, height=100000, data=b"\0"),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        ["max_width", "100000x100000"],
    ),
]


@pytest.mark.parametrize(("name", "image", "code", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_image(
    server: RunningServer, name: str, image: pb.Image, code: grpc.StatusCode, words: list[str]
) -> None:
    with RedactorClient(server.address) as client:
        with pytest.raises(grpc.RpcError) as e:
            client.redact_image(image)
        assert e.value.code() == code, e.value.details()
        for w in words:
            assert w in e.value.details(), f"{w!r} not in {e.value.details()!r}"
        # the server keeps serving
        assert client.redact_image(GOOD).status == pb.FRAME_STATUS_REDACTED
        assert client.health() == "SERVING"


def test_oversized_message_is_resource_exhausted() -> None:
    cfg = Config(limits=Limits(max_message_bytes=1 << 20))
    running = create_server(cfg, "127.0.0.1:0")
    try:
        with RedactorClient(running.address) as client:
            big = pb.Image(
                format=pb.PIXEL_FORMAT_BGR24, width=1024, height=1024, data=b"\0" * (3 << 20)
            )
            with pytest.raises(grpc.RpcError) as e:
                client.redact_image(big)
            assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert str(1 << 20) in e.value.details()  # names the limit
            assert client.redact_image(GOOD).status == pb.FRAME_STATUS_REDACTED
    finally:
        running.stop(0)


def _stream(client: RedactorClient, requests: list[pb.StreamRequest]) -> list[pb.StreamResponse]:
    def gen() -> Iterator[pb.StreamRequest]:
        yield from requests

    return list(client.stub.RedactStream(gen(), timeout=30))


STREAM_CASES = [
    (
        "frame before header",
        [pb.StreamRequest(frame=pb.StreamFrame(seq=1, data=b"x"))],
        ["first message of a stream must be a header", "got frame"],
    ),
    (
        "raw header without size",
        [pb.StreamRequest(header=pb.StreamHeader(format=pb.PIXEL_FORMAT_BGR24))],
        ["header.height are required", "0x0"],
    ),
    (
        "unknown format",
        [pb.StreamRequest(header=pb.StreamHeader(format=42))],  # type: ignore[arg-type]
        ["must be one of", "got 42"],
    ),
    (
        "second header",
        [
            pb.StreamRequest(header=pb.StreamHeader(format=pb.PIXEL_FORMAT_JPEG)),
            pb.StreamRequest(header=pb.StreamHeader(format=pb.PIXEL_FORMAT_JPEG)),
        ],
        ["takes frames", "got header"],
    ),
    (
        "wrong frame size",
        [
            pb.StreamRequest(
                header=pb.StreamHeader(format=pb.PIXEL_FORMAT_BGR24, width=8, height=8)
            ),
            pb.StreamRequest(frame=pb.StreamFrame(seq=7, data=b"\0" * 10)),
        ],
        ["needs 192 bytes", "got 10"],
    ),
]


@pytest.mark.parametrize(
    ("name", "requests", "words"), STREAM_CASES, ids=[c[0] for c in STREAM_CASES]
)
def test_bad_stream(
    server: RunningServer, name: str, requests: list[pb.StreamRequest], words: list[str]
) -> None:
    with RedactorClient(server.address) as client:
        with pytest.raises(grpc.RpcError) as e:
            _stream(client, requests)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        for w in words:
            assert w in e.value.details(), f"{w!r} not in {e.value.details()!r}"
        header = pb.StreamHeader(format=pb.PIXEL_FORMAT_PNG)
        outs = list(client.stream(header, [OutFrame(1, 0, GOOD.data)]))
        assert [o.status for o in outs] == [pb.FRAME_STATUS_REDACTED]

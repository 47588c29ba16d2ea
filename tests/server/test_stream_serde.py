"""RedactStream's requests as domain messages (serde.py), and a caller that goes
away ending the input, not the server's handler with an error."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from redactor.errors import InvalidInput
from redactor.pipeline.stream import BadMessage, StreamFrame, StreamOutput, StreamSpec
from redactor.server import serde
from redactor.server.servicer import _messages
from redactor.types import FrameStatus, PixelFormat
from redactor.v1 import redactor_pb2 as pb

HEADER = pb.StreamRequest(
    header=pb.StreamHeader(
        camera_id="cam-1",
        recipient="r",
        format=pb.PIXEL_FORMAT_BGR24,
        width=8,
        height=4,
        fps=25,
        latency_budget_ms=200,
    )
)


def test_a_header_becomes_its_spec() -> None:
    assert serde.stream_message_from_proto(HEADER) == StreamSpec(
        camera_id="cam-1",
        recipient="r",
        service="",
        format=PixelFormat.BGR24,
        width=8,
        height=4,
        fps=25.0,
        latency_budget_ms=200,
    )


def test_a_frame_becomes_a_stream_frame() -> None:
    req = pb.StreamRequest(frame=pb.StreamFrame(seq=7, timestamp_us=-40, data=b"abc"))
    assert serde.stream_message_from_proto(req) == StreamFrame(7, -40, b"abc")


CASES = [
    ("empty", pb.StreamRequest(), "", "got an empty message"),
    (
        "invalid header",
        pb.StreamRequest(header=pb.StreamHeader(format=pb.PIXEL_FORMAT_PNG, fps=-1)),
        "header",
        "header.fps must be in [0, 1000], got -1.0",
    ),
    (
        "raw header without size",
        pb.StreamRequest(header=pb.StreamHeader(format=pb.PIXEL_FORMAT_I420)),
        "header",
        "header.width and header.height are required for raw format I420, got 0x0",
    ),
    (
        "timestamp out of range",
        pb.StreamRequest(frame=pb.StreamFrame(seq=3, timestamp_us=2**53 + 1)),
        "frame",
        "frame 3: timestamp_us must be within +-2**53 us (285 years), got 9007199254740993",
    ),
]


@pytest.mark.parametrize(("name", "req", "kind", "error"), CASES, ids=[c[0] for c in CASES])
def test_what_the_stream_cannot_take_carries_its_kind_and_error(
    name: str, req: pb.StreamRequest, kind: str, error: str
) -> None:
    msg = serde.stream_message_from_proto(req)
    assert isinstance(msg, BadMessage) and msg.kind == kind
    assert isinstance(msg.error, InvalidInput) and error in str(msg.error)


def test_a_dropped_frame_goes_back_without_data() -> None:
    out = StreamOutput(
        4, 10, FrameStatus.DROPPED, "overload: late", data=b"pixels", width=8, height=4
    )
    frame = serde.stream_response_to_proto(out).frame
    assert (frame.seq, frame.status, frame.status_reason, frame.data) == (
        4,
        pb.FRAME_STATUS_DROPPED,
        "overload: late",
        b"",
    )


class _Gone(grpc.RpcError):  # type: ignore[misc]  # grpc is untyped
    pass


def test_a_caller_gone_away_ends_the_input() -> None:
    def requests() -> Iterator[pb.StreamRequest]:
        yield HEADER
        raise _Gone()

    assert [type(m) for m in _messages(requests())] == [StreamSpec]


def test_other_failures_of_the_input_are_raised() -> None:
    def requests() -> Iterator[pb.StreamRequest]:
        yield HEADER
        raise RuntimeError("not the caller")

    with pytest.raises(RuntimeError, match="not the caller"):
        list(_messages(requests()))

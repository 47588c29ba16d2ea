"""RedactStream with a real clip: in order, nothing dropped, timestamps echoed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from redactor.clients.client import OutFrame, RedactorClient
from redactor.clients.video import probe, read_i420
from redactor.server.app import RunningServer
from redactor.v1 import redactor_pb2 as pb


def test_clip_in_order_nothing_dropped(server: RunningServer, short_clip: Path) -> None:
    info = probe(short_clip)
    frames = [OutFrame(f.index, 1_000 + f.index * 100_000, f.i420) for f in read_i420(short_clip)]
    assert len(frames) == 30
    header = pb.StreamHeader(
        camera_id="cam-1",
        recipient="police-112",
        format=pb.PIXEL_FORMAT_I420,
        width=info.width,
        height=info.height,
        fps=float(info.rate),
        latency_budget_ms=60_000,
    )  # pushed faster than real time: not live
    accepted: list[pb.StreamAccepted] = []
    with RedactorClient(server.address) as client:
        outs = list(client.stream(header, frames, accepted))
    assert accepted and accepted[0].policy == "default" and accepted[0].stream_id
    assert [o.seq for o in outs] == [f.seq for f in frames]
    assert [o.timestamp_us for o in outs] == [f.timestamp_us for f in frames]
    assert all(o.status == pb.FRAME_STATUS_REDACTED for o in outs)
    assert all(len(o.data) == len(f.data) for o, f in zip(outs, frames, strict=True))
    assert all(o.service_ms > 0 for o in outs)
    # frames with no mask come back unchanged (raw I420 is lossless)
    for o, f in zip(outs, frames, strict=True):
        if not o.masks:
            assert o.data == f.data
        else:
            assert o.data != f.data


def test_unknown_recipient_gets_strictest_policy(server: RunningServer) -> None:
    header = pb.StreamHeader(
        recipient="somebody-else", format=pb.PIXEL_FORMAT_BGR24, width=16, height=16
    )
    accepted: list[pb.StreamAccepted] = []
    with RedactorClient(server.address) as client:
        outs = list(
            client.stream(
                header, [OutFrame(0, 0, np.zeros(16 * 16 * 3, np.uint8).tobytes())], accepted
            )
        )
    assert accepted[0].policy == "strict"
    assert len(outs) == 1

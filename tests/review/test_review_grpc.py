"""The Review gRPC service on a real server (127.0.0.1): sessions, the review calls and their
status codes; the rules themselves are the service layer's (test_review_service.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import grpc
import pytest
from support.clips import cut_clip, source_video
from support.review import (
    FAST_HASHER,
    PASSWORD,
    RECORDING,
    USERS,
    review_config,
)

from redactor.review.users import UserStore
from redactor.server.app import RunningServer, create_server
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc

AUDITOR = (("authorization", "Bearer auditor-dev-token"),)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("grpc-review")
    config = review_config(folder)
    cut_clip(source_video(), folder / "clip.avi", 2.0)
    dst = config.export.archive_root / RECORDING
    dst.parent.mkdir(parents=True)
    shutil.copy(folder / "clip.avi", dst)
    users = UserStore(config.users_path, hasher=FAST_HASHER)
    for name, roles in USERS.items():
        users.add(name, PASSWORD, roles)
    users.close()
    running = create_server(config, "127.0.0.1:0")
    try:
        yield running
    finally:
        running.stop(0)


def _login(stub: pb_grpc.ReviewStub, name: str) -> tuple[tuple[str, str], ...]:
    token = stub.Login(pb.LoginRequest(user=name, password=PASSWORD)).token
    return (("authorization", f"Bearer {token}"),)


def test_review_over_grpc(server: RunningServer) -> None:
    channel = grpc.insecure_channel(server.address)
    review = pb_grpc.ReviewStub(channel)  # type: ignore[no-untyped-call]
    exports = pb_grpc.ExportsStub(channel)  # type: ignore[no-untyped-call]
    job = exports.CreateExport(
        pb.CreateExportRequest(
            recording=RECORDING,
            recipient="police-112",
            officer="Insp. Kim",
            purpose="investigation",
            legal_basis="PIPA art. 18(2)7",
        ),
        metadata=AUDITOR,
    )
    assert job.review_required
    watch = exports.WatchExport(pb.WatchExportRequest(id=job.id), metadata=AUDITOR, timeout=120)
    for update in watch:
        if update.state == pb.EXPORT_STATE_IN_REVIEW:
            break
    watch.cancel()
    assert update.state == pb.EXPORT_STATE_IN_REVIEW

    with pytest.raises(grpc.RpcError) as e:
        review.Login(pb.LoginRequest(user="rob", password="wrong password!"))
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as e:
        review.ListTracks(pb.ListTracksRequest(export_id=job.id))
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED

    rob = _login(review, "rob")
    listed = review.ListTracks(
        pb.ListTracksRequest(export_id=job.id, thumbnails=True), metadata=rob
    )
    assert listed.frames == 20 and listed.tracks and listed.tracks[0].thumbnail[:2] == b"\xff\xd8"
    frame = review.GetFrame(pb.GetReviewFrameRequest(export_id=job.id, frame=3), metadata=rob)
    assert frame.jpeg[:2] == b"\xff\xd8" and frame.boxes

    t = listed.tracks[0]
    changed = review.UpdateTrack(
        pb.UpdateTrackRequest(
            export_id=job.id,
            track_id=t.id,
            decision=pb.TRACK_DECISION_VISIBLE,
            reason="the subject",
            version=t.version,
        ),
        metadata=rob,
    )
    assert changed.decision == pb.TRACK_DECISION_VISIBLE and changed.version == t.version + 1
    with pytest.raises(grpc.RpcError) as e:  # the same page again: stale
        review.UpdateTrack(
            pb.UpdateTrackRequest(
                export_id=job.id,
                track_id=t.id,
                decision=pb.TRACK_DECISION_MASK,
                reason="stale",
                version=t.version,
            ),
            metadata=rob,
        )
    assert e.value.code() == grpc.StatusCode.ABORTED and "version" in (e.value.details() or "")
    with pytest.raises(grpc.RpcError) as e:
        review.AddObject(
            pb.AddObjectRequest(
                export_id=job.id,
                frame=5,
                box=pb.Box(x0=-50, y0=0, x1=20, y1=40),
                label=pb.LABEL_FACE,
                reason="missed",
            ),
            metadata=rob,
        )
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "outside the 768x576 frame" in (e.value.details() or "")
    added = review.AddObject(
        pb.AddObjectRequest(
            export_id=job.id,
            frame=5,
            box=pb.Box(x0=100, y0=100, x1=160, y1=170),
            label=pb.LABEL_FACE,
            reason="missed",
        ),
        metadata=rob,
    )
    assert added.added and added.first_frame < 5 < added.last_frame

    version = review.ListTracks(pb.ListTracksRequest(export_id=job.id), metadata=rob).review_version
    with pytest.raises(grpc.RpcError) as e:
        review.Approve(
            pb.ConcludeReviewRequest(export_id=job.id, review_version=version), metadata=rob
        )
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    ann = _login(review, "ann")
    approved = review.Approve(
        pb.ConcludeReviewRequest(export_id=job.id, review_version=version), metadata=ann
    )
    assert approved.state == pb.EXPORT_STATE_APPROVED and approved.approved_by == "ann"
    last = list(
        exports.WatchExport(pb.WatchExportRequest(id=job.id), metadata=AUDITOR, timeout=120)
    )
    assert last[-1].state == pb.EXPORT_STATE_DONE
    channel.close()

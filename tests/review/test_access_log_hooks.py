"""Every hand-out of footage is in the access log: the real review service over a planned
export of a shared clip, the real gRPC Review service and the real console on 127.0.0.1,
and the real signed SQLite ledger. The coalescing itself: tests/ledger/test_access_log.py."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from concurrent import futures
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from support.clips import cut_clip, source_video
from support.review import CAMERA, PASSWORD, RECORDING, World, make_world, planned, wait_state

from redactor.config import AccessLogConfig
from redactor.console.server import ConsoleServer
from redactor.errors import PolicyDenied
from redactor.export import keys
from redactor.export.jobs import ExportJob, ExportState
from redactor.ledger import Entry, Event
from redactor.ledger.access_log import AccessLog
from redactor.ledger.calendar import CENTER_TZ
from redactor.review.service import ReviewService
from redactor.server.review import ReviewServicer
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc

pytestmark = pytest.mark.data


class Clock:
    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    clip = tmp_path_factory.mktemp("clip") / "clip.avi"
    cut_clip(source_video(), clip, 2.0)
    w = make_world(tmp_path_factory.mktemp("world"), clip)
    try:
        yield w
    finally:
        w.close()


@pytest.fixture(scope="module")
def job(world: World) -> ExportJob:
    return planned(world)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def review(world: World, clock: Clock) -> ReviewService:
    """The world's services with an access log whose windows the test moves."""
    log = AccessLog(world.exports.ledger, AccessLogConfig(window_s=60), clock)
    return ReviewService(world.exports, world.users, log)


def new_rows(world: World, after: int, event: Event = Event.VIEWED) -> list[Entry]:
    return [e for e in world.exports.ledger.entries(event=event) if e.seq > after]


def head(world: World) -> int:
    return world.exports.ledger.head()[0]


def test_views_of_original_and_released_frames_and_thumbnails_are_logged(
    world: World, job: ExportJob, review: ReviewService, clock: Clock
) -> None:
    rob, aud = world.people["rob"], world.people["aud"]
    before = head(world)
    assert review.frame_jpeg(rob, job.id, 0, "original", client="10.1.2.3")[:2] == b"\xff\xd8"
    review.frame_jpeg(rob, job.id, 1, "original", client="10.1.2.3")  # same window: counted
    review.frame_jpeg(rob, job.id, 1, "released", client="10.1.2.3")
    track = review.open(rob, job.id).tracks[0].info.id
    review.thumbnail(rob, job.id, track, client="10.1.2.3")
    review.frame_jpeg(aud, job.id, 2, "released", client="10.9.9.9")
    with pytest.raises(PolicyDenied):  # refused: nothing handed out, nothing logged
        review.frame_jpeg(aud, job.id, 2, "original", client="10.9.9.9")
    review.frame(rob, job.id, 3)  # boxes only, no pixels: not a view

    rows = new_rows(world, before)
    assert [(e.actor, e.detail["action"]) for e in rows] == [
        ("rob", "frame_original"),
        ("rob", "frame_released"),
        ("rob", "thumbnail"),
        ("aud", "frame_released"),
    ]
    for e in rows:
        assert (e.export_id, e.camera_id, e.recipient) == (job.id, CAMERA, "police-112")
        assert e.detail["source"] == RECORDING
        assert e.detail["window_s"] == 60.0
    assert rows[0].detail["client"] == "10.1.2.3" and rows[0].detail["frame"] == 0
    assert rows[2].detail["track_id"] == track and isinstance(rows[2].detail["frame"], int)
    assert rows[3].detail["client"] == "10.9.9.9"

    clock.advance(60)
    review.frame_jpeg(rob, job.id, 5, "original", client="10.1.2.3")
    [again] = new_rows(world, rows[-1].seq)
    assert again.detail["frame"] == 5 and again.detail["previous_window_views"] == 2


def test_views_over_grpc_log_the_peer(world: World, job: ExportJob, review: ReviewService) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    pb_grpc.add_ReviewServicer_to_server(ReviewServicer(review), server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    before = head(world)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.ReviewStub(channel)  # type: ignore[no-untyped-call]
            token = stub.Login(pb.LoginRequest(user="ann", password=PASSWORD)).token
            auth = (("authorization", f"Bearer {token}"),)
            frame = stub.GetFrame(
                pb.GetReviewFrameRequest(export_id=job.id, frame=4, released=False), metadata=auth
            )
            assert frame.jpeg[:2] == b"\xff\xd8"
            stub.ListTracks(pb.ListTracksRequest(export_id=job.id, thumbnails=True), metadata=auth)
    finally:
        server.stop(0)
    rows = new_rows(world, before)
    assert [(e.actor, e.detail["action"]) for e in rows] == [
        ("ann", "frame_original"),
        ("ann", "thumbnail"),  # one row for every thumbnail of the list: one window
    ]
    assert all(str(e.detail["client"]).startswith("ipv4:127.0.0.1:") for e in rows)
    assert rows[0].detail["frame"] == 4 and rows[0].export_id == job.id


def _get(url: str, token: str) -> bytes:
    req = urllib.request.Request(url, headers={"Cookie": f"redactor_session={token}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        data: bytes = resp.read()
    return data


def test_views_in_the_console_log_the_client_host(
    world: World, job: ExportJob, review: ReviewService
) -> None:
    console = ConsoleServer(review)
    before = head(world)
    try:
        token = review.login("rob", PASSWORD).token
        api = f"{console.url}/api/exports/{job.id}"
        assert _get(f"{api}/frames/6.jpg?view=original", token)[:2] == b"\xff\xd8"
        track = review.open(world.people["rob"], job.id).tracks[0].info.id
        _get(f"{api}/tracks/{track}/thumb.jpg", token)
    finally:
        console.close()
    rows = new_rows(world, before)
    assert [(e.actor, e.detail["action"], e.detail["client"]) for e in rows] == [
        ("rob", "frame_original", "127.0.0.1"),
        ("rob", "thumbnail", "127.0.0.1"),
    ]


def test_a_download_is_its_own_row_with_the_client_and_the_ledger_verifies(
    world: World, job: ExportJob, review: ReviewService
) -> None:
    rob, ann, rex = world.people["rob"], world.people["ann"], world.people["rex"]
    version = review.open(rob, job.id).version
    version = review.sign_off(rob, job.id, version, "checked every track")
    review.approve(ann, job.id, version)
    done = wait_state(world, job.id, ExportState.DONE)
    assert done.state is ExportState.DONE
    before = head(world)

    for _ in range(2):  # never coalesced: two downloads, two rows
        dl = review.download(ann, job.id, "video", client="10.4.4.4")
        dl.file.close()
    with pytest.raises(PolicyDenied):
        review.download(rex, job.id, "video", client="10.6.6.6")  # another requester's export

    got = new_rows(world, before, Event.DOWNLOADED)
    assert len(got) == 2
    for e in got:
        assert e.actor == "ann" and (e.export_id, e.camera_id) == (job.id, CAMERA)
        assert e.detail["client"] == "10.4.4.4" and e.detail["source"] == RECORDING
    [refused] = new_rows(world, before, Event.DOWNLOAD_REFUSED)
    assert refused.actor == "rex" and refused.detail["client"] == "10.6.6.6"

    report = review.access_report(world.people["aud"], *_year_month(got[0].at))
    ann_row = next(a for a in report.accounts if a.account == "ann")
    assert ann_row.downloads == 2 and "10.4.4.4" in ann_row.clients
    with pytest.raises(PolicyDenied, match="review_access"):
        review.access_report(rob, 2026, 1)

    public = keys.load_public(keys.public_path(world.config.export.key_path))
    assert world.exports.ledger.verify(public).ok


def _year_month(at: datetime) -> tuple[int, int]:
    local = at.astimezone(CENTER_TZ)
    return local.year, local.month

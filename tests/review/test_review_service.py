"""The review service over a real export of a shared clip: states, edits, who may do what,
stale pages, bad boxes, the released view, restarts and expiry; every change on the ledger
and in the signed manifest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from support.clips import cut_clip, source_video
from support.review import (
    REQUEST,
    World,
    make_world,
    planned,
    review_config,
    wait_state,
)

from redactor.boxes import enlarge
from redactor.detect.base import Detector
from redactor.detect.registry import ProfileDetector
from redactor.errors import (
    Conflict,
    FailedPrecondition,
    InvalidInput,
    MissingField,
    NotFound,
    PolicyDenied,
)
from redactor.export import manifest
from redactor.export.jobs import ExportState
from redactor.export.service import ExportService
from redactor.ledger import Event
from redactor.review.model import ADDED_BASE, Decision, TrackInfo
from redactor.review.service import ReviewService
from redactor.types import Detections, Label, MaskReason

REQUEST_TIME = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "clip.avi"
    cut_clip(source_video(), path, 2.0)
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, clip: Path) -> Iterator[World]:
    w = make_world(tmp_path_factory.mktemp("world"), clip)
    try:
        yield w
    finally:
        w.close()


def _two_tracks(world: World, export_id: str) -> tuple[int, int]:
    tracks = world.review.open(world.people["rob"], export_id).tracks
    faces = sorted(
        (t for t in tracks if t.info.label == int(Label.FACE)),
        key=lambda t: -t.info.detected_frames,
    )
    assert len(faces) >= 2, f"expected two face tracks on the clip, got {len(faces)}"
    return faces[0].info.id, faces[1].info.id


def test_an_export_waits_in_review_with_its_tracks_and_proxy(world: World) -> None:
    job = planned(world)
    assert job.review_required and job.state is ExportState.IN_REVIEW
    opened = world.review.open(world.people["rob"], job.id)
    assert opened.frames == 20 and (opened.width, opened.height) == (768, 576)
    assert opened.proxy_width == 640 and opened.tracks and opened.version == 0
    assert all(t.decision is Decision.MASK for t in opened.tracks)
    jpg = world.review.frame_jpeg(world.people["rob"], job.id, 0, "original")
    img = cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (480, 640, 3)
    events = [e.event for e in world.exports.ledger.entries(export_id=job.id)]
    # nothing rendered, nothing released; the view is in the access log
    assert events == [Event.APPROVED, Event.PLANNED, Event.VIEWED]
    assert not (world.config.export.output_dir / f"{job.id}.mp4").exists()


def test_review_edits_are_applied_recorded_signed_and_verified(world: World) -> None:
    job = planned(world)
    rob, ann = world.people["rob"], world.people["ann"]
    shown, dropped = _two_tracks(world, job.id)
    world.review.decide(rob, job.id, shown, Decision.VISIBLE, "the data subject", 0)
    world.review.decide(rob, job.id, dropped, Decision.FALSE_POSITIVE, "a poster, not a face", 0)
    added = world.review.add_object(
        rob, job.id, 10, (40.0, 40.0, 100.0, 110.0), Label.FACE, "a face the detector missed"
    )
    assert added.info.id == ADDED_BASE + 1 and added.added
    assert added.info.first < 10 < added.info.last  # followed both ways
    before = world.review.frame(rob, job.id, added.info.first)
    assert any(m.track_id == added.info.id and m.masked for m in before.masks)
    version = world.review.open(ann, job.id).version
    assert version == 3
    done = world.review.approve(ann, job.id, version, "checked")
    assert done.state is ExportState.APPROVED and done.approved_by == "ann"
    final = wait_state(world, job.id, ExportState.DONE)
    assert final.state is ExportState.DONE
    assert not world.exports.review_dir(job.id).exists()  # the unmasked proxy is gone

    checked = manifest.verify(
        Path(final.video_path), Path(final.manifest_path), world.exports.key.public_key()
    )
    assert checked.ok, checked.failed
    doc = json.loads(Path(final.manifest_path).read_text())["manifest"]
    review = doc["review"]
    assert review["reviewed"] and review["approved_by"] == "ann" and review["reviewers"] == ["rob"]
    assert [e["action"] for e in review["edits"]] == [
        "decide",
        "decide",
        "add_object",
        "approve",
    ]
    assert review["decisions"][str(shown)]["decision"] == "VISIBLE"
    assert review["decisions"][str(dropped)]["decision"] == "FALSE_POSITIVE"
    reasons = {int(m[5]) for frame in doc["masks"] for m in frame}
    assert int(MaskReason.REVIEWER) in reasons
    events = [e.event for e in world.exports.ledger.entries(export_id=job.id)]
    assert events.count(Event.REVIEW_CHANGED) == 3
    assert Event.REVIEW_APPROVED in events and events[-1] == Event.COMPLETED


def test_who_may_do_what(world: World) -> None:
    job = planned(world)
    p = world.people
    t, _ = _two_tracks(world, job.id)
    with pytest.raises(PolicyDenied, match="rex"):
        world.review.open(p["rex"], job.id)  # another requester's export
    assert job.id not in [j.id for j in world.review.list_exports(p["rex"])]
    assert job.id in [j.id for j in world.review.list_exports(p["rita"])]
    with pytest.raises(PolicyDenied):
        world.review.decide(p["ann"], job.id, t, Decision.VISIBLE, "approvers do not edit", 0)
    with pytest.raises(PolicyDenied):
        world.review.frame_jpeg(p["aud"], job.id, 0, "original")
    world.review.frame_jpeg(p["aud"], job.id, 0, "released")  # auditors see what leaves
    world.review.decide(p["both"], job.id, t, Decision.VISIBLE, "the subject", 0)
    version = world.review.open(p["both"], job.id).version
    with pytest.raises(PolicyDenied, match="different person"):
        world.review.approve(p["both"], job.id, version)  # their own review
    with pytest.raises(PolicyDenied):
        world.review.approve(p["rita"], job.id, version)  # the requester
    assert world.exports.get(job.id).state is ExportState.IN_REVIEW
    world.review.reject(p["ann"], job.id, version, "wrong camera")
    assert world.exports.get(job.id).state is ExportState.REJECTED
    assert not world.exports.review_dir(job.id).exists()


def test_stale_pages_bad_boxes_and_late_edits_change_nothing(world: World) -> None:
    job = planned(world)
    rob, ann = world.people["rob"], world.people["ann"]
    t, _ = _two_tracks(world, job.id)
    world.review.decide(rob, job.id, t, Decision.VISIBLE, "the subject", 0)
    rows = len(world.exports.ledger.entries(export_id=job.id))
    with pytest.raises(Conflict, match="version 1.*rob.*version 0"):
        world.review.decide(rob, job.id, t, Decision.MASK, "a stale page", 0)
    with pytest.raises(InvalidInput, match="outside the 768x576 frame"):
        world.review.add_object(rob, job.id, 5, (700.0, 10.0, 800.0, 90.0), Label.FACE, "x")
    with pytest.raises(InvalidInput, match=r"frame must be in \[0, 19\]"):
        world.review.add_object(rob, job.id, 20, (10.0, 10.0, 50.0, 50.0), Label.FACE, "x")
    with pytest.raises(MissingField, match="reason"):
        world.review.decide(rob, job.id, t, Decision.MASK, "  ", 1)
    with pytest.raises(NotFound):
        world.review.decide(rob, job.id, 999, Decision.MASK, "no such track", 0)
    assert len(world.exports.ledger.entries(export_id=job.id)) == rows  # only what happened
    with pytest.raises(Conflict, match="version 1"):
        world.review.approve(ann, job.id, 0)  # approves only what the approver saw
    world.review.approve(ann, job.id, 1)
    with pytest.raises(Conflict, match="APPROVED by ann"):
        world.review.approve(ann, job.id, 1)  # a second approval
    with pytest.raises(FailedPrecondition, match="only an export IN_REVIEW"):
        world.review.decide(rob, job.id, t, Decision.MASK, "too late", 1)
    wait_state(world, job.id, ExportState.DONE)


def test_approval_needs_a_review_first(world: World) -> None:
    job = planned(world)
    with pytest.raises(FailedPrecondition, match="nobody has reviewed"):
        world.review.approve(world.people["ann"], job.id, 0)
    v = world.review.sign_off(world.people["rob"], job.id, 0, "looked at every track")
    world.review.approve(world.people["ann"], job.id, v)
    assert wait_state(world, job.id, ExportState.DONE).state is ExportState.DONE


def test_released_view_masks_as_the_export_will(world: World) -> None:
    job = planned(world)
    rob = world.people["rob"]
    s = 640 / 768
    factor = world.config.policy.policies["export"].enlarge + 0.1  # the mask's own growth
    faces = [
        x.info for x in world.review.open(rob, job.id).tracks if x.info.label == int(Label.FACE)
    ]

    def pixels(view: str) -> np.ndarray:
        jpg = world.review.frame_jpeg(rob, job.id, i, view)  # type: ignore[arg-type]
        return cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_COLOR).astype(np.int16)

    def own_area(info: TrackInfo) -> np.ndarray:
        """The track's box on the proxy, less what other masked boxes cover (a crowd's
        neighbours, and the detector's big false positives, rightly stay masked over it)."""
        area = np.zeros((480, 640), bool)
        x0, y0, x1, y1 = (round(v * s) for v in info.thumb_box)
        area[y0:y1, x0:x1] = True
        for m in world.review.frame(rob, job.id, info.thumb_frame).masks:
            if m.track_id != info.id and m.masked:
                grown = enlarge(np.asarray([m.box], np.float32), factor)[0]
                bx0, by0, bx1, by1 = (round(v * s) for v in grown)
                area[max(by0, 0) : by1, max(bx0, 0) : bx1] = False
        return area

    info = max(faces, key=lambda f: own_area(f).sum())
    t, i, area = info.id, info.thumb_frame, own_area(info)
    assert area.sum() >= 20, "every face is covered by its neighbours' masks"
    original = pixels("original")

    def changed() -> float:  # share of the face's own pixels that differ from the original
        return float((np.abs(original - pixels("released")).max(axis=2) > 12)[area].mean())

    masked = changed()
    assert masked > 0.5  # the face is masked
    world.review.decide(rob, job.id, t, Decision.VISIBLE, "the subject", 0)
    # left visible now: what still differs is the edges of the neighbours' masks
    assert changed() < min(0.3, masked / 3)


def test_a_review_survives_a_restart(tmp_path: Path, clip: Path) -> None:
    w = make_world(tmp_path, clip)
    try:
        job = planned(w)
        t, _ = _two_tracks(w, job.id)
        w.review.decide(w.people["rob"], job.id, t, Decision.VISIBLE, "the subject", 0)
    finally:
        w.close()
    again = make_world(tmp_path, clip)
    try:
        assert again.exports.get(job.id).state is ExportState.IN_REVIEW
        opened = again.review.open(again.people["ann"], job.id)
        assert next(x for x in opened.tracks if x.info.id == t).decision is Decision.VISIBLE
        again.review.approve(again.people["ann"], job.id, opened.version)
        assert wait_state(again, job.id, ExportState.DONE).state is ExportState.DONE
    finally:
        again.close()


def test_an_export_left_in_review_expires_with_its_proxy(tmp_path: Path, clip: Path) -> None:
    now = [REQUEST_TIME]
    config = review_config(tmp_path)
    w = make_world(tmp_path, clip, config)
    w.exports.clock = lambda: now[0]
    try:
        job = planned(w)
        assert w.exports.review_dir(job.id).exists()
        now[0] = job.expires_at + timedelta(seconds=1)
        assert w.exports.expire_due() == [job.id]
        assert w.exports.get(job.id).state is ExportState.EXPIRED
        assert not w.exports.review_dir(job.id).exists()
        with pytest.raises(FailedPrecondition, match="EXPIRED"):
            w.review.frame_jpeg(w.people["rob"], job.id, 0, "original")
    finally:
        w.close()


def test_unreviewed_release_says_so_in_the_manifest(tmp_path: Path, clip: Path) -> None:
    w = make_world(tmp_path, clip, review_config(tmp_path, required="never"))
    try:
        job = w.review.create_export(w.people["rita"], REQUEST)
        assert not job.review_required
        done = wait_state(w, job.id, ExportState.DONE)
        doc = json.loads(Path(done.manifest_path).read_text())["manifest"]
        assert doc["review"] == {"required": False, "reviewed": False, "released_unreviewed": True}
    finally:
        w.close()


def test_default_rule_reviews_external_and_subject_exports(tmp_path: Path) -> None:
    from redactor.export.jobs import Subject
    from redactor.export.service import ExportService

    config = review_config(
        tmp_path, required="external_or_subject", internal_recipients=("cctv-ops",)
    )
    svc = ExportService.__new__(ExportService)
    svc.cfg = config.export
    from dataclasses import replace

    assert svc.review_required(REQUEST)  # police-112 is outside the center
    assert not svc.review_required(replace(REQUEST, recipient="cctv-ops"))
    subject = replace(REQUEST, recipient="cctv-ops", subject=Subject(0, (1.0, 1.0, 9.0, 9.0)))
    assert svc.review_required(subject)
    assert not svc.review_required(REQUEST, release_unreviewed=True)  # the policy opts out
    assert svc.review_required(subject, release_unreviewed=True)  # but never subject access


class _FailsOn:
    """The real profile, except that it raises on chosen calls (one detector per segment)."""

    def __init__(self, inner: ProfileDetector, calls: set[int]) -> None:
        self.inner, self.fail, self.calls = inner, calls, 0
        self.name, self.model_sha256 = inner.name, inner.model_sha256
        self.detectors = inner.detectors

    def detect(self, bgr: np.ndarray) -> Detections:
        i, self.calls = self.calls, self.calls + 1
        if i in self.fail:
            raise RuntimeError(f"injected failure on call {i}")
        return self.inner.detect(bgr)

    def close(self) -> None:
        self.inner.close()


def test_preview_fails_closed(tmp_path: Path, clip: Path) -> None:
    """A frame whose detector failed is fully masked in the released view, whatever the
    review says; a proxy that cannot be read gives an error, never a picture."""
    config = review_config(tmp_path)

    def factory(profile: str) -> Detector:
        inner = ProfileDetector(profile, config.detect.profiles[profile], config.models.dir)
        return _FailsOn(inner, {4})

    w = make_world(tmp_path, clip, config)
    w.exports.close()
    w.exports = ExportService(config, detector_factory=factory)
    w.review = ReviewService(w.exports, w.users)
    try:
        job = planned(w)
        rob = w.people["rob"]
        opened = w.review.open(rob, job.id)
        assert opened.fully_masked_frames == (4,)
        assert w.review.frame(rob, job.id, 4).fully_masked
        for t in opened.tracks:  # even with every track left visible
            w.review.decide(rob, job.id, t.info.id, Decision.VISIBLE, "subject", t.version)
        jpg = w.review.frame_jpeg(rob, job.id, 4, "released")
        img = cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_COLOR).astype(np.int16)
        assert np.abs(img).max() <= 8  # the policy's fill colour (black) over the whole frame
        other = cv2.imdecode(
            np.frombuffer(w.review.frame_jpeg(rob, job.id, 3, "released"), np.uint8),
            cv2.IMREAD_COLOR,
        )
        assert other.std() > 20  # a frame whose detector ran shows the scene

        w.review.forget(job.id)
        data = w.exports.review_dir(job.id) / "proxy.bin"
        data.write_bytes(b"\0" * data.stat().st_size)  # every JPEG broken
        with pytest.raises(FailedPrecondition, match="cannot be decoded"):
            w.review.frame_jpeg(rob, job.id, 3, "released")
    finally:
        w.close()

"""The export service without gRPC: fail-closed frames, failed jobs, restarts, look-ahead."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from export_helpers import CAMERA, MakeConfig

from bench.eval_score import box_mask, coverage
from redactor.config import Config, ExhaustivePlanConfig
from redactor.detect.base import Detector
from redactor.detect.registry import ProfileDetector
from redactor.errors import DetectorUnavailable
from redactor.export.archive import Archive
from redactor.export.jobs import ExportJob, ExportRequest, ExportState
from redactor.export.objects import plan_objects
from redactor.export.redact import DetectPass, detect_clip, plan_masks, track
from redactor.export.service import ExportService
from redactor.ledger import Event
from redactor.track import TrackerParams
from redactor.types import Detections, Label, MaskReason

START = datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)  # the test recording's start
# the first second (10 frames): enough for these tests, quick with the thorough profile
REQUEST = ExportRequest(
    camera_id=CAMERA,
    start=START,
    end=START + timedelta(seconds=1),
    recipient="police-112",
    officer="Insp. Kim",
    purpose="investigation",
    legal_basis="PIPA art. 18(2)7",
)
FAILING_FRAMES = {5, 6}


class FailsOnSomeFrames:
    """The real thorough profile, except that it raises on chosen frames."""

    def __init__(self, inner: ProfileDetector, frames: set[int]) -> None:
        self.inner, self.frames, self.calls = inner, frames, 0
        self.name, self.model_sha256 = inner.name, inner.model_sha256
        self.detectors = inner.detectors

    def detect(self, bgr: npt.NDArray[np.uint8]) -> Detections:
        i, self.calls = self.calls, self.calls + 1
        if i in self.frames:
            raise RuntimeError(f"injected failure on frame {i}")
        return self.inner.detect(bgr)

    def close(self) -> None:
        self.inner.close()


def finish(service: ExportService, job: ExportJob) -> ExportJob:
    return list(service.watch(job.id))[-1]


def test_detector_failure_masks_that_frame_entirely(make_config: MakeConfig) -> None:
    config = make_config()

    def factory(profile: str) -> Detector:
        inner = ProfileDetector(profile, config.detect.profiles[profile], config.models.dir)
        return FailsOnSomeFrames(inner, FAILING_FRAMES)

    service = ExportService(config, detector_factory=factory)
    try:
        job = finish(service, service.create(REQUEST, "auditor@test"))
        assert job.state is ExportState.DONE, job.error
        doc = json.loads(Path(job.manifest_path).read_text())["manifest"]
        assert [f["frame"] for f in doc["frames"]["fully_masked"]] == sorted(FAILING_FRAMES)
        assert "injected failure" in doc["frames"]["fully_masked"][0]["reason"]
        completed = service.ledger.entries(export_id=job.id, event=Event.COMPLETED)[0]
        assert completed.detail["fully_masked_frames"] == len(FAILING_FRAMES)
        with av.open(job.video_path) as c:
            frames = [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]
        assert len(frames) == 10
        for i, f in enumerate(frames):
            body = f[40:-40]  # between the two mark bands
            black = float((body.max(axis=2) < 24).mean())
            if i in FAILING_FRAMES:
                assert black > 0.999, f"frame {i} should be fully masked"
            else:
                assert black < 0.5, f"frame {i} should show the scene"
    finally:
        service.close()


def test_unavailable_detector_fails_the_job_and_leaves_nothing(make_config: MakeConfig) -> None:
    config = make_config()

    def factory(profile: str) -> Detector:
        raise DetectorUnavailable(f"profile {profile}: model missing (test)")

    service = ExportService(config, detector_factory=factory)
    try:
        job = finish(service, service.create(REQUEST, "auditor@test"))
        assert job.state is ExportState.FAILED and "model missing" in job.error
        assert list(config.export.output_dir.iterdir()) == []
        events = [str(e.event) for e in service.ledger.entries(export_id=job.id)]
        assert events == ["approved", "failed"]
    finally:
        service.close()


def test_jobs_survive_a_restart_and_interrupted_ones_fail(make_config: MakeConfig) -> None:
    config = make_config()
    service = ExportService(config)
    done = finish(service, service.create(REQUEST, "auditor@test"))
    assert done.state is ExportState.DONE
    cut = service.create(REQUEST, "auditor@test")
    service.close()  # stops `cut` queued or mid-way

    again = ExportService(config)
    try:
        assert again.get(done.id).state is ExportState.DONE
        assert Path(again.get(done.id).video_path).is_file()
        interrupted = again.get(cut.id)
        assert interrupted.state is ExportState.FAILED and "stopped" in interrupted.error
        assert not any(p.name.startswith(cut.id) for p in config.export.output_dir.iterdir())
        assert str(again.ledger.entries(export_id=cut.id)[-1].event) == "failed"
        assert again.ledger.verify(again.key.public_key()).ok
    finally:
        again.close()


@pytest.fixture(scope="module")
def detected(clip_file: Path) -> DetectPass:
    config = Config()
    archive = Archive(clip_file.parent.parent)
    selection = archive.select_file(f"{clip_file.parent.name}/{clip_file.name}")
    detector = ProfileDetector("thorough", config.detect.profiles["thorough"], config.models.dir)
    try:
        return detect_clip(selection, detector)
    finally:
        detector.close()


def test_lookahead_masks_more_and_never_less(detected: DetectPass) -> None:
    params = TrackerParams(hold_s=2.0)
    ahead = track(detected, params, lookahead=True)
    live = track(detected, params, lookahead=False)
    reasons = np.concatenate([t.reasons for t in ahead])
    assert (reasons == int(MaskReason.LOOKAHEAD)).sum() > 0
    for i, (a, b) in enumerate(zip(ahead, live, strict=True)):
        for box in b.detections.boxes:  # every box the live tracker masks is masked here too
            inside = (a.detections.boxes[:, :2] <= box[:2] + 0.5).all(axis=1) & (
                a.detections.boxes[:, 2:] >= box[2:] - 0.5
            ).all(axis=1)
            assert inside.any(), f"frame {i}: look-ahead lost a box the live tracker has"
    # before its first detection, a face is covered only with look-ahead
    first_seen: dict[int, int] = {}
    for i, t in enumerate(ahead):
        for tid, why in zip(t.detections.track_ids, t.reasons, strict=True):
            if why == int(MaskReason.DETECTED):
                first_seen.setdefault(int(tid), i)
    early = [
        (tid, f)
        for tid, f in first_seen.items()
        if f > 0 and any(tid in ahead[j].detections.track_ids for j in range(f))
    ]
    assert early, "no face was covered before its first detection"


def test_per_object_masks_cover_every_detection_with_less_area_than_held(
    detected: DetectPass,
) -> None:
    """The exhaustive plan's default masks (export.exhaustive.masks = objects) on a real
    clip's thorough detections: every detected face and plate under its mask, with less of
    the frame masked than the held masks of the same detections."""
    policy = Config().policy.policies["export"]
    cfg = ExhaustivePlanConfig()
    objects = plan_objects(
        detected.detections,
        detected.looks,
        detected.t_us,
        cfg,
        TrackerParams(hold_s=cfg.max_gap_s, centre_gate=cfg.link_gate),
    )
    held = track(detected, TrackerParams(hold_s=2.0), lookahead=True)
    area = {"objects": 0.0, "held": 0.0}
    for name, tracked in (("objects", objects), ("held", held)):
        for i, masks in enumerate(plan_masks(detected, tracked, policy).masks):
            area[name] += float(box_mask(masks.boxes, detected.width, detected.height).mean())
            wanted = detected.detections[i].select(
                np.isin(detected.detections[i].labels, [int(Label.FACE), int(Label.PLATE)])
            )
            cover = coverage(box_mask(masks.boxes, detected.width, detected.height), wanted.boxes)
            assert (cover >= 0.99).all(), f"{name}, frame {i}: a detection is not masked"
    assert sum(len(d) for d in detected.detections) > 10, "the clip should have faces"
    assert area["objects"] < 0.8 * area["held"], area

"""bench.review: its synthetic scene, and one tiny run end to end (3 s at 640x360) in
headless Chromium, which writes every figure the full run reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench import review as bench_review
from bench.browser import CHROMIUM, MISSING
from bench.review import Scene, WalkingObjects, frame_size, stats
from redactor.data import data_dir
from redactor.detect.base import Detector
from redactor.track import TrackerParams
from redactor.track.clip import track_clip
from redactor.types import Label

KEYS = {
    "cpu_model",
    "cores",
    "load_average_before",
    "clip",
    "minutes",
    "frames",
    "width",
    "height",
    "proxy_width",
    "tracks",
    "plan_s",
    "open_ms",
    "seek_ms",
    "http_ms",
    "pass",
    "synthetic",
}


def test_the_scene_has_its_objects_in_every_frame_and_one_track_each() -> None:
    scene = Scene(objects=6, crossing=50, seed=3)
    frames = 200
    found = [scene.detections(i, 640, 360) for i in range(frames)]
    assert all(len(d) == 6 for d in found)
    for d in found:
        assert (d.boxes[:, :2] >= 0).all() and (d.boxes[:, 2] <= 640).all()
        assert (d.boxes[:, 3] <= 360).all()
        assert set(d.labels.tolist()) <= {int(Label.FACE), int(Label.PLATE)}
    again = scene.detections(123, 640, 360)
    assert np.array_equal(again.boxes, found[123].boxes)  # from the frame's index alone
    tracked = track_clip(found, [i * 40_000 for i in range(frames)], TrackerParams(hold_s=2.0))
    ids = {int(t) for f in tracked for t in f.detections.track_ids}
    assert len(ids) == scene.tracks_in(frames)


def test_the_detector_counts_frames_and_is_a_detector() -> None:
    det = WalkingObjects(Scene(3, 25), "thorough")
    assert isinstance(det, Detector)
    bgr = np.zeros((360, 640, 3), np.uint8)
    first, second = det.detect(bgr), det.detect(bgr)
    assert not np.array_equal(first.boxes, second.boxes)  # the objects walked on
    assert frame_size(1080) == (1920, 1080) and frame_size(360) == (640, 360)
    s = stats([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (s["n"], s["median"], s["p90"], s["max"]) == (5, 3.0, 5.0, 5.0)


@pytest.mark.data
def test_a_tiny_run_writes_every_figure(tmp_path: Path) -> None:
    root = data_dir()
    if root is None or not (root / "videos" / bench_review.DEFAULT_CLIP).is_file():
        pytest.skip(
            f"shared data (videos/{bench_review.DEFAULT_CLIP}) is absent; set REDACTOR_DATA"
        )
    if not CHROMIUM.is_file():
        pytest.skip(f"no browser: {MISSING}")
    pytest.importorskip("playwright.sync_api")
    out = tmp_path / "review_timings.json"
    argv = ["--minutes", "0.05", "--height", "360", "--objects", "4", "--opens", "2"]
    argv += ["--seeks", "3", "--key-seeks", "1", "--http", "3"]
    argv += ["--cache", str(tmp_path / "cache"), "--out", str(out)]
    assert bench_review.main(argv) == 0
    doc = json.loads(out.read_text())
    assert KEYS <= set(doc)
    assert (doc["frames"], doc["width"], doc["height"]) == (75, 640, 360)
    assert doc["tracks"] == doc["objects_in_recording"] >= 4
    assert doc["open_ms"]["cold"]["wall"] > 0 and doc["open_ms"]["warm_wall"]["n"] == 1
    for view in ("original", "released"):
        assert doc["seek_ms"][view]["slider"]["n"] == 3
        assert doc["seek_ms"][view]["key"]["n"] == 1
    for name in ("open_data", "frame_json", "jpeg_original", "jpeg_released"):
        assert doc["http_ms"][name]["n"] == 3 and doc["http_ms"][name]["max"] > 0
    assert set(doc["pass"]) == {"open", "seek", "seek_p90"}

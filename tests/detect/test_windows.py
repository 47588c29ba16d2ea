"""Detectors on parts of a frame (`detect_in`) find what they find there on the whole frame."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import pytest
from detect_helpers import read

from redactor.boxes import Region, centres_in
from redactor.config import CenterFaceConfig, PlateTextConfig, ProfileConfig
from redactor.data import LabelledImage
from redactor.detect.base import RegionDetector
from redactor.detect.centerface import CenterFaceDetector
from redactor.detect.registry import ProfileDetector
from redactor.types import Detections

pytestmark = pytest.mark.data


def _regions(item: LabelledImage, k: float, w: int, h: int) -> list[Region]:
    """A region around each of the first labelled boxes (scaled by k), as motion would give."""
    out = []
    for x0, y0, x1, y1 in (item.boxes[:4] * k).tolist():
        m = max(x1 - x0, y1 - y0)
        out.append(
            (max(0, int(x0 - m)), max(0, int(y0 - m)), min(w, int(x1 + m)), min(h, int(y1 + m)))
        )
    return out


def _within(a: Detections, b: Detections) -> bool:
    """Every box of `a` is one of `b`'s (to half a pixel)."""
    if not len(a):
        return True
    if not len(b):
        return False
    d = np.abs(a.boxes[:, None] - b.boxes[None]).max(axis=2)
    return bool((d.min(axis=1) <= 0.5).all())


def _same(a: Detections, b: Detections) -> bool:
    return _within(a, b) and _within(b, a)


@pytest.fixture(scope="module")
def centerfaces() -> Iterator[list[CenterFaceDetector]]:
    dets = [
        CenterFaceDetector(CenterFaceConfig(min_score=0.15)),
        CenterFaceDetector(CenterFaceConfig(scale=2.0, max_side=3840, min_score=0.1)),
    ]
    yield dets
    for d in dets:
        d.close()


def test_centerface_windows_find_the_whole_frames_faces_box_for_box(
    smoke_faces: list[LabelledImage], centerfaces: list[CenterFaceDetector]
) -> None:
    """Small faces (group photos at 0.5x) at 1x and 2x: every face the whole frame finds in
    the regions, box for box, and no box the whole frame does not find."""
    compared = 0
    for item in smoke_faces[:4]:
        img = cv2.resize(read(item), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        h, w = img.shape[:2]
        regions = _regions(item, 0.5, w, h)
        for det in centerfaces:
            assert isinstance(det, RegionDetector)
            whole = det.detect(img)
            want = whole.select(centres_in(whole.boxes, regions))
            got = det.detect_in(img, regions)
            # The windows' cores are the regions on the network's grid: a face just outside
            # a region may come too, but only one the whole frame finds.
            assert _within(want, got), (item.path.name, det.name, got.boxes, want.boxes)
            assert _within(got, whole), (item.path.name, det.name, got.boxes, whole.boxes)
            compared += len(want)
    assert compared >= 8, "the regions held faces to compare"


def test_no_regions_no_work(centerfaces: list[CenterFaceDetector]) -> None:
    img = np.full((1080, 1920, 3), 127, np.uint8)
    assert len(centerfaces[0].detect_in(img, [])) == 0


def test_a_profile_keeps_the_whole_frame_of_detectors_without_windows(
    plate_sample: list[LabelledImage],
) -> None:
    """DBNet pools over its whole input, so windows would find other plates than the whole
    frame: text runs on the whole frame, and what it finds anywhere is kept."""
    profile = ProfileDetector(
        "t", ProfileConfig(detectors=(PlateTextConfig(max_side=1280),), parallel=False)
    )
    try:
        assert not isinstance(profile.detectors[0], RegionDetector)
        found = 0
        for item in plate_sample[:5]:
            img = read(item)
            whole = profile.detect(img)
            assert _same(profile.detect_in(img, [(0, 0, 8, 8)]), whole)
            found += len(whole)
        assert found >= 3, "the photos' plates were found"
    finally:
        profile.close()


def test_centerface_windows_find_large_faces_centred_at_a_regions_edge(
    smoke_faces: list[LabelledImage], centerfaces: list[CenterFaceDetector]
) -> None:
    """A face reaches half its size past a region that holds only its centre: the window's
    context must hold it, or the network sees a cut face and finds none. Faces 170 px wide
    (340 px in the 2x pass's input), each region starting at the face's centre."""
    det = centerfaces[1]
    compared = 0
    for item in smoke_faces[:8]:
        img = read(item)
        b = item.boxes[np.argmax(item.boxes[:, 2] - item.boxes[:, 0])]
        k = 170.0 / float(b[2] - b[0])
        if max(img.shape[:2]) * k > 1920:
            continue
        img = cv2.resize(img, None, fx=k, fy=k, interpolation=cv2.INTER_LINEAR)
        cx, cy = float(b[0] + b[2]) * k / 2, float(b[1] + b[3]) * k / 2
        regions: list[Region] = [(int(cx) - 2, int(cy) - 40, int(cx) + 60, int(cy) + 40)]
        whole = det.detect(img)
        want = whole.select(centres_in(whole.boxes, regions))
        got = det.detect_in(img, regions)
        assert _within(want, got), (item.path.name, got.boxes, want.boxes)
        compared += len(want)
    assert compared >= 5, "the regions held large faces to compare"

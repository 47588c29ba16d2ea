"""Motion regions of a fixed camera: found where something moves, not elsewhere."""

from __future__ import annotations

import numpy as np

from redactor.config import MotionConfig
from redactor.pipeline.motion import MotionRegions, merge_boxes


def _frame(i: int, noise: np.random.Generator) -> np.ndarray:
    img = np.full((360, 640, 3), 90, np.uint8)
    img += noise.integers(0, 4, img.shape, dtype=np.uint8)  # sensor noise, not motion
    x = 40 + 6 * i
    img[150:210, x:x + 30] = (30, 200, 220)  # a walker
    return img


def test_regions_cover_the_moving_object_only() -> None:
    rng = np.random.default_rng(0)
    m = MotionRegions(MotionConfig(warmup_frames=3))
    found = []
    for i in range(30):
        found = m.regions(_frame(i, rng))
    assert found, "no region around a moving object"
    x = 40 + 6 * 29
    obj = (x, 150, x + 30, 210)
    assert any(b[0] <= obj[0] and b[1] <= obj[1] and b[2] >= obj[2] and b[3] >= obj[3] for b in found), found
    area = sum((b[2] - b[0]) * (b[3] - b[1]) for b in found)
    assert area < 0.1 * 640 * 360, "regions should be small where little moves"


def test_no_regions_while_learning_or_when_everything_moves() -> None:
    rng = np.random.default_rng(1)
    m = MotionRegions(MotionConfig(warmup_frames=5))
    assert m.regions(_frame(0, rng)) == []
    for i in range(10):
        m.regions(_frame(i, rng))
    flash = rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)  # the whole picture changes
    assert m.regions(flash) == []


def test_merge_boxes_unions_overlaps() -> None:
    assert merge_boxes([(0, 0, 10, 10), (5, 5, 20, 20), (30, 30, 40, 40)]) == [(0, 0, 20, 20), (30, 30, 40, 40)]
    assert merge_boxes([(0, 0, 10, 10), (8, 0, 30, 10), (25, 0, 50, 10)]) == [(0, 0, 50, 10)]

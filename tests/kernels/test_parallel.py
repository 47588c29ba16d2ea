"""The parallel path gives the serial path's bits: waves of disjoint boxes, no races."""

from __future__ import annotations

import numpy as np
import pytest

from redactor.kernels import Style, mask_bgr, plane
from redactor.kernels.reference import mask_bgr_ref

ONE = np.ones(3, np.int64)
BGR = np.full(3, 3, np.int64)


def serial(
    img: np.ndarray,
    boxes: np.ndarray,
    style: Style,
    strength: float,
    ellipse: bool,
    feather: int,
    color: tuple[int, int, int],
) -> None:
    h, w = img.shape[:2]
    p = img.reshape(h, w * 3)
    values = np.array([color] * 3, np.uint8)
    passes = 3 if style == Style.STRONG_BLUR else 1
    plane.mask_serial(
        p, p, p, 1, BGR, ONE, values, boxes, w, h, 1, int(style), strength, passes, ellipse, feather
    )


def parallel(
    img: np.ndarray,
    boxes: np.ndarray,
    style: Style,
    strength: float,
    ellipse: bool,
    feather: int,
    color: tuple[int, int, int],
) -> None:
    h, w = img.shape[:2]
    passes = 3 if style == Style.STRONG_BLUR else 1
    lb, wb, par, tasks, phases = plane.plan(boxes, w, h, 1, 1, 3, int(style), strength, passes)
    plane._execute_parallel(
        tasks,
        phases,
        img.reshape(h, w * 3),
        3,
        lb,
        wb,
        par,
        1,
        ellipse,
        feather,
        np.array(color, np.uint8),
    )


@pytest.mark.parametrize("style", list(Style))
@pytest.mark.parametrize(("ellipse", "feather"), [(False, 0), (True, 3)])
def test_parallel_equals_serial_with_many_overlapping_boxes(
    style: Style, ellipse: bool, feather: int
) -> None:
    rng = np.random.default_rng(int(style))
    h, w = 203, 311
    c = rng.uniform(0, [w, h], (40, 2))
    s = rng.uniform(2, 40, (40, 2))
    boxes = np.concatenate([c - s, c + s], axis=1)
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    a, b = img.copy(), img.copy()
    for _ in range(3):  # races would show as differences between runs
        a[:], b[:] = img, img
        serial(a, boxes, style, 6.0, ellipse, feather, (1, 2, 3))
        parallel(b, boxes, style, 6.0, ellipse, feather, (1, 2, 3))
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        a, mask_bgr_ref(img, boxes, style, 6.0, ellipse, feather, (1, 2, 3))
    )


def test_large_masks_take_the_parallel_path_with_the_same_result() -> None:
    rng = np.random.default_rng(5)
    side = 3400  # 35 MB: above PARALLEL_MIN_WORK for pixelate and fill
    img = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    boxes = np.array([[0, 0, side, side], [100.5, 200, 900, 1300], [800, 800, 2000, 2100]])
    for style in (Style.PIXELATE, Style.FILL):
        assert plane._worth_parallel([img.reshape(side, -1)], boxes, side, side, int(style), 1)
    for style in (Style.PIXELATE, Style.FILL):
        a, b = img.copy(), img.copy()
        mask_bgr(a, boxes, style)
        serial(b, boxes, style, 8.0, False, 0, (0, 0, 0))
        np.testing.assert_array_equal(a, b)


def test_blur_goes_parallel_at_a_smaller_masked_area_than_pixelate() -> None:
    """A blur costs ~10x a pixelate per byte: 50 face-sized blurs on 1080p are worth both cores."""
    h, w = 1080, 1920
    planes = [np.zeros((h, w * 3), np.uint8)]
    rng = np.random.default_rng(3)
    side = rng.uniform(54, 216, 50)
    x0, y0 = rng.uniform(0, w - 216, 50), rng.uniform(0, h - 216, 50)
    boxes = np.stack([x0, y0, x0 + side * 0.85, y0 + side], axis=1)
    assert plane._worth_parallel(planes, boxes, w, h, int(Style.BLUR), 1)
    assert plane._worth_parallel(planes, boxes, w, h, int(Style.STRONG_BLUR), 3)
    assert not plane._worth_parallel(planes, boxes, w, h, int(Style.PIXELATE), 1)
    assert not plane._worth_parallel(planes, boxes[:5], w, h, int(Style.BLUR), 1)

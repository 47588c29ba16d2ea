"""Every kernel equals its slow NumPy reference, bit for bit.

Random frames and boxes: partly outside, fully outside, empty, overlapping,
fractional and odd coordinates, odd frame sizes. The "small" cases also run
with NUMBA_DISABLE_JIT=1 (test_nojit.py).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from redactor.kernels import Style, mask_bgr, mask_i420, mask_nv12
from redactor.kernels.reference import mask_bgr_ref, mask_yuv420_ref

SIZES = {"small": (23, 31), "odd": (57, 83), "big": (241, 331)}
SHAPES = {
    "rect": (False, 0),
    "ellipse": (True, 0),
    "feather": (False, 3),
    "ellipsefeather": (True, 4),
}


def random_boxes(rng: np.random.Generator, h: int, w: int, n: int) -> npt.NDArray[np.float64]:
    """Boxes of every kind: inside, partly outside, outside, empty, tiny, fractional."""
    c = rng.uniform([-0.2 * w, -0.2 * h], [1.2 * w, 1.2 * h], (n, 2))
    size = rng.uniform(0, 0.6, (n, 1)) * [w, h]
    b = np.concatenate([c - size / 2, c + size / 2], axis=1)
    whole = rng.random(n) < 0.3  # some on integer coordinates, odd and even
    b[whole] = np.round(b[whole])
    extra = np.array(
        [
            [-10, -10, -1, -1],  # fully outside
            [5, 5, 5, 9],  # empty (zero width)
            [w + 1, 0, w + 9, h],  # right of the frame
            [1.5, 2.5, 2.5, 3.5],  # one pixel, fractional
            [0, 0, w, h],  # the whole frame
            [3, 3, 3.2, 40],  # a sliver
        ],
        np.float64,
    )
    return np.concatenate([b, extra])


def cases() -> list[tuple[str, Style, str, int]]:
    out = []
    seed = 0
    for size in SIZES:
        for style in Style:
            for shape in SHAPES:
                out.append((size, style, shape, seed))
                seed += 1
    return out


IDS = [f"{s}-{st.name.lower()}-{sh}" for s, st, sh, _ in cases()]


@pytest.mark.parametrize(("size", "style", "shape", "seed"), cases(), ids=IDS)
def test_bgr_equals_reference(size: str, style: Style, shape: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w = SIZES[size]
    ellipse, feather = SHAPES[shape]
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    boxes = random_boxes(rng, h, w, 12)
    strength = float(rng.choice([1.5, 4.0, 8.0, 13.0]))
    color = tuple(int(c) for c in rng.integers(0, 256, 3))
    want = mask_bgr_ref(img, boxes, style, strength, ellipse, feather, color)
    mask_bgr(img, boxes, style, strength, ellipse, feather, color)
    np.testing.assert_array_equal(img, want)


@pytest.mark.parametrize(("size", "style", "shape", "seed"), cases(), ids=IDS)
def test_i420_equals_reference(size: str, style: Style, shape: str, seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    h, w = SIZES[size]
    ellipse, feather = SHAPES[shape]
    y = rng.integers(0, 256, (h, w), dtype=np.uint8)
    u = rng.integers(0, 256, ((h + 1) // 2, (w + 1) // 2), dtype=np.uint8)
    v = rng.integers(0, 256, u.shape, dtype=np.uint8)
    boxes = random_boxes(rng, h, w, 12)
    strength = float(rng.choice([1.5, 4.0, 8.0, 13.0]))
    color = tuple(int(c) for c in rng.integers(0, 256, 3))
    want_y, (want_u, want_v) = mask_yuv420_ref(
        y, [u, v], boxes, style, strength, ellipse, feather, color
    )
    mask_i420(y, u, v, boxes, style, strength, ellipse, feather, color)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(u, want_u)
    np.testing.assert_array_equal(v, want_v)


@pytest.mark.parametrize(("size", "style", "shape", "seed"), cases(), ids=IDS)
def test_nv12_equals_reference(size: str, style: Style, shape: str, seed: int) -> None:
    rng = np.random.default_rng(2000 + seed)
    h, w = SIZES[size]
    ellipse, feather = SHAPES[shape]
    y = rng.integers(0, 256, (h, w), dtype=np.uint8)
    uv = rng.integers(0, 256, ((h + 1) // 2, (w + 1) // 2, 2), dtype=np.uint8)
    boxes = random_boxes(rng, h, w, 12)
    strength = float(rng.choice([1.5, 4.0, 8.0, 13.0]))
    color = tuple(int(c) for c in rng.integers(0, 256, 3))
    want_y, (want_uv,) = mask_yuv420_ref(y, [uv], boxes, style, strength, ellipse, feather, color)
    mask_nv12(y, uv, boxes, style, strength, ellipse, feather, color)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(uv, want_uv)


@pytest.mark.parametrize("ch_layout", ["bgr", "nv12"])
def test_blocks_taller_than_the_uint16_sums_equal_reference(ch_layout: str) -> None:
    rng = np.random.default_rng(7)
    h, w = 1100, 40  # block ceil(1090 / 2) = 545 rows: summed in uint16 chunks, then int32
    boxes = np.array([[1.5, 3.0, 39.0, 1093.0]])
    if ch_layout == "bgr":  # bright pixels: a uint16 sum of more than 257 rows would wrap
        img = rng.integers(250, 256, (h, w, 3), dtype=np.uint8)
        want = mask_bgr_ref(img, boxes, Style.PIXELATE, 2.0)
        mask_bgr(img, boxes, Style.PIXELATE, 2.0)
        np.testing.assert_array_equal(img, want)
        return
    y = rng.integers(250, 256, (h, w), dtype=np.uint8)
    uv = rng.integers(250, 256, (h // 2, w // 2, 2), dtype=np.uint8)
    want_y, (want_uv,) = mask_yuv420_ref(y, [uv], boxes, Style.PIXELATE, 2.0)
    mask_nv12(y, uv, boxes, Style.PIXELATE, 2.0)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(uv, want_uv)

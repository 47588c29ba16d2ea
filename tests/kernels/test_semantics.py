"""What the rest of the code relies on, checked without the references.

Rounding outward, no-ops, nothing changed outside the boxes, block counts,
solid fill, chroma covering luma, blur sanity, determinism, threads.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from redactor.kernels import Style, bgr_to_yuv, mask_bgr, mask_i420, mask_nv12

U8 = npt.NDArray[np.uint8]
STYLES = list(Style)


def frame(h: int, w: int, seed: int = 0) -> U8:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def yuv(h: int, w: int, seed: int = 0) -> tuple[U8, U8, U8]:
    rng = np.random.default_rng(seed)
    hc, wc = (h + 1) // 2, (w + 1) // 2
    return (
        rng.integers(0, 256, (h, w), dtype=np.uint8),
        rng.integers(0, 256, (hc, wc), dtype=np.uint8),
        rng.integers(0, 256, (hc, wc), dtype=np.uint8),
    )


def test_boxes_round_outward() -> None:
    img = frame(10, 12)
    before = img.copy()
    mask_bgr(img, [[1.2, 2.7, 3.1, 4.0]], Style.FILL, color=(1, 2, 3))
    want = before.copy()
    want[2:4, 1:4] = (1, 2, 3)  # x floor 1 .. ceil 3.1 = 4 (exclusive), y 2 .. 4
    np.testing.assert_array_equal(img, want)


def test_huge_coordinates_clip_to_the_frame() -> None:
    img = frame(9, 11)
    mask_bgr(img, [[-1e30, -1e30, 1e30, 1e30]], Style.FILL, color=(5, 6, 7))
    assert (img == (5, 6, 7)).all()
    y, u, v = yuv(9, 11)
    mask_i420(y, u, v, [[-1e30, 4.5, 1e30, 1e300]], Style.FILL)
    assert (y[4:] == 16).all() and (y[:4] != 16).any() and (u[2:] == 128).all()


def test_chroma_box_covers_luma_box() -> None:
    y, u, v = yuv(9, 11)
    mask_i420(y, u, v, [[3, 3, 6, 5]], Style.FILL, color=(255, 255, 255))
    yy, uu, vv = bgr_to_yuv((255, 255, 255))
    assert (y[3:5, 3:6] == yy).all()
    # luma columns 3..5 sit on chroma columns 1..2, rows 3..4 on chroma rows 1..2
    assert (u[1:3, 1:3] == uu).all() and (v[1:3, 1:3] == vv).all()


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "boxes",
    [np.zeros((0, 4)), [[-9, -9, -1, -1]], [[5, 5, 5, 9]], [[30, 2, 40, 8]], [[4, 4, 3, 9]], []],
    ids=["none", "above-left", "zero-width", "right", "inverted", "empty-list"],
)
def test_empty_and_outside_boxes_do_nothing(style: Style, boxes: object) -> None:
    img = frame(9, 13)
    before = img.copy()
    mask_bgr(img, boxes, style)
    np.testing.assert_array_equal(img, before)
    y, u, v = yuv(9, 13)
    planes = [p.copy() for p in (y, u, v)]
    mask_i420(y, u, v, boxes, style)
    for p, q in zip((y, u, v), planes, strict=True):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("ellipse", [False, True])
def test_nothing_changes_outside_the_boxes(style: Style, ellipse: bool) -> None:
    h, w = 61, 77
    rng = np.random.default_rng(int(style) * 2 + ellipse)
    c = rng.uniform(0, [w, h], (6, 2))
    s = rng.uniform(3, 30, (6, 2))
    boxes = np.concatenate([c - s, c + s], axis=1)
    inside = np.zeros((h, w), bool)
    cinside = np.zeros(((h + 1) // 2, (w + 1) // 2), bool)
    for x0, y0, x1, y1 in boxes:
        a, b = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
        cc, d = min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))
        inside[b:d, a:cc] = True
        cinside[b // 2 : (d + 1) // 2, a // 2 : (cc + 1) // 2] = True
    img = frame(h, w, 1)
    before = img.copy()
    mask_bgr(img, boxes, style, 3.0, ellipse, color=(9, 9, 9))
    np.testing.assert_array_equal(img[~inside], before[~inside])
    assert (img[inside] != before[inside]).any()
    y, uv = frame(h, w, 2)[..., 0].copy(), frame((h + 1) // 2, (w + 1) // 2, 3)[..., :2].copy()
    y0_, uv0 = y.copy(), uv.copy()
    mask_nv12(y, uv, boxes, style, 3.0, ellipse, color=(9, 9, 9))
    np.testing.assert_array_equal(y[~inside], y0_[~inside])
    np.testing.assert_array_equal(uv[~cinside], uv0[~cinside])


@pytest.mark.parametrize("strength", [2.0, 5.0, 8.0, 12.5])
def test_pixelate_has_at_most_strength_blocks_across(strength: float) -> None:
    img = frame(300, 400, 4)
    box = (17.3, 21.0, 17.3 + 203, 21.0 + 157)  # long side 204 px after rounding out
    mask_bgr(img, [box], Style.PIXELATE, strength)
    row = img[100, 17:221, 0].astype(int)
    runs = 1 + int(np.count_nonzero(np.diff(row)))
    assert runs <= int(np.ceil(strength))
    y, u, v = yuv(300, 400, 5)
    mask_i420(y, u, v, [box], Style.PIXELATE, strength)
    runs = 1 + int(np.count_nonzero(np.diff(y[100, 17:221].astype(int))))
    assert runs <= int(np.ceil(strength)) + 1  # blocks anchored on even luma px: one more at most


@pytest.mark.parametrize("strength", [1e-300, 1e-9, 0.5])
def test_tiny_strength_gives_the_strongest_mask(strength: float) -> None:
    img = frame(60, 70, 18)
    mask_bgr(img, [[3.5, 4, 50, 41]], Style.PIXELATE, strength)
    assert len(np.unique(img[4:41, 3:50].reshape(-1, 3), axis=0)) == 1  # one block
    img = frame(60, 70, 18)
    mask_bgr(img, [[3.5, 4, 50, 41]], Style.BLUR, strength)
    region = img[4:41, 3:50].astype(int)
    assert np.abs(region - region.mean(axis=(0, 1))).max() <= 1  # radius >= the box: its mean


def test_huge_strength_still_masks() -> None:
    img = frame(60, 70, 19)
    before = img.copy()
    mask_bgr(img, [[3.5, 4, 50, 41]], Style.PIXELATE, 1e300)  # blocks of the minimum, 2 px
    block = img[4:40, 4:50, 0]
    assert (block[0::2] == block[1::2]).all() and not (img == before).all()


def test_pixelate_blocks_are_at_least_two_px() -> None:
    img = frame(20, 20, 6)
    mask_bgr(img, [[3, 3, 9, 9]], Style.PIXELATE, 64.0)  # ceil(6/64) = 1, raised to 2
    block = img[3:9, 3:9, 0]
    assert (block[0::2] == block[1::2]).all() and (block[:, 0::2] == block[:, 1::2]).all()
    assert len(np.unique(block)) > 1


def test_pixelate_4_2_0_chroma_blocks_sit_under_luma_blocks() -> None:
    y, u, v = yuv(64, 64, 7)
    mask_i420(y, u, v, [[5, 7, 53, 61]], Style.PIXELATE, 7.0)  # odd corners, block ceil(54/7) = 8
    # luma blocks on the even grid from (4, 6): rows 14..21, columns 12..19 are one block,
    # and chroma rows 7..10, columns 6..9 lie exactly under it
    assert (y[14:22, 12:20] == y[14, 12]).all()
    assert y[13, 12] != y[14, 12] or y[22, 12] != y[14, 12]
    assert (u[7:11, 6:10] == u[7, 6]).all() and (v[7:11, 6:10] == v[7, 6]).all()


@pytest.mark.parametrize("ellipse", [False, True])
@pytest.mark.parametrize("feather", [0, 5])
def test_fill_leaves_no_original_pixel_in_the_core(ellipse: bool, feather: int) -> None:
    img = frame(80, 90, 8)
    mask_bgr(img, [[10, 10, 70, 60]], Style.FILL, ellipse=ellipse, feather=feather, color=(7, 8, 9))
    assert (img[25:46, 30:51] == (7, 8, 9)).all()  # 12+ px inside the shape's edge
    y, u, v = yuv(80, 90, 9)
    mask_i420(
        y, u, v, [[10, 10, 70, 60]], Style.FILL, ellipse=ellipse, feather=feather, color=(7, 8, 9)
    )
    yy, uu, vv = bgr_to_yuv((7, 8, 9))
    assert (
        (y[30:41, 30:51] == yy).all()
        and (u[15:20, 15:25] == uu).all()
        and (v[15:20, 15:25] == vv).all()
    )


@pytest.mark.parametrize("ellipse", [False, True])
@pytest.mark.parametrize("feather", [0, 3])
def test_chroma_covers_every_fully_masked_luma_pixel(ellipse: bool, feather: int) -> None:
    h, w = 47, 53
    y, u, v = yuv(h, w, 10)
    # originals far from the fill (16, 128, 128): a luma pixel at 16 had weight >= 255/256
    y, u, v = y // 2 + 100, u // 3, v // 3
    yy, uu, vv = bgr_to_yuv((0, 0, 0))
    boxes = [[3.5, 4.2, 30.1, 41.7], [25, 1, 52.5, 20]]
    mask_i420(y, u, v, boxes, Style.FILL, ellipse=ellipse, feather=feather, color=(0, 0, 0))
    ys, xs = np.nonzero(y == yy)
    assert len(ys) > 100
    assert (u[ys // 2, xs // 2] == uu).all() and (v[ys // 2, xs // 2] == vv).all()


def test_bgr_to_yuv_matches_opencv_i420() -> None:
    rng = np.random.default_rng(11)
    colors = [(0, 0, 0), (255, 255, 255), (0, 0, 255), (255, 0, 0), (0, 255, 0)]
    colors += [tuple(int(c) for c in rng.integers(0, 256, 3)) for _ in range(30)]
    for c in colors:
        img = np.empty((4, 4, 3), np.uint8)
        img[:] = c
        ref = cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420)
        want = (int(ref[0, 0]), int(ref[4, 0]), int(ref[5, 0]))
        got = bgr_to_yuv(c)  # type: ignore[arg-type]
        assert max(abs(a - b) for a, b in zip(got, want, strict=True)) <= 1, (c, got, want)


def test_fill_colour_comes_back_through_opencv_i420_to_bgr() -> None:
    y, u, v = yuv(16, 16, 12)
    mask_i420(y, u, v, [[0, 0, 16, 16]], Style.FILL, color=(40, 200, 90))
    bgr = cv2.cvtColor(
        np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(24, 16), cv2.COLOR_YUV2BGR_I420
    )
    assert np.abs(bgr.astype(int) - (40, 200, 90)).max() <= 3


@pytest.mark.parametrize("style", [Style.BLUR, Style.STRONG_BLUR])
def test_blur_keeps_flat_regions_and_smooths(style: Style) -> None:
    img = np.full((50, 60, 3), 77, np.uint8)
    mask_bgr(img, [[5, 5, 55, 45]], style, 4.0)
    assert (img == 77).all()
    img = frame(50, 60, 13)
    before = img[5:45, 5:55].astype(float).std()
    mask_bgr(img, [[5, 5, 55, 45]], style, 4.0)
    assert img[5:45, 5:55].astype(float).std() < before / 4


def test_strong_blur_is_smoother_than_blur() -> None:
    a, b = frame(64, 64, 14), frame(64, 64, 14)
    mask_bgr(a, [[0, 0, 64, 64]], Style.BLUR, 16.0)
    mask_bgr(b, [[0, 0, 64, 64]], Style.STRONG_BLUR, 16.0)
    assert b.astype(float).std() < a.astype(float).std()


@pytest.mark.parametrize("style", STYLES)
def test_overlapping_boxes_equal_masking_one_after_another(style: Style) -> None:
    rng = np.random.default_rng(15)
    c = rng.uniform(10, 90, (12, 2))
    boxes = np.concatenate([c - 15, c + 15], axis=1)  # many overlaps
    img = frame(100, 100, 16)
    one_by_one = img.copy()
    mask_bgr(img, boxes, style, 5.0)
    for box in boxes:
        mask_bgr(one_by_one, [box], style, 5.0)
    np.testing.assert_array_equal(img, one_by_one)


def test_threads_mask_at_once_with_the_same_result() -> None:
    rng = np.random.default_rng(17)
    c = rng.uniform(0, [640, 480], (20, 2))
    boxes = np.concatenate([c - 30, c + 30], axis=1)
    frames = [frame(480, 640, i) for i in range(8)]
    want = [f.copy() for f in frames]
    for f in want:
        mask_bgr(f, boxes, Style.STRONG_BLUR, 8.0)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(3):
                g = frames[i].copy()
                mask_bgr(g, boxes, Style.STRONG_BLUR, 8.0)
                np.testing.assert_array_equal(g, want[i])
        except BaseException as e:  # noqa: BLE001 - re-raised in the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(frames))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]

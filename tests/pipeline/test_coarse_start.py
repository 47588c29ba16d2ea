"""A stream's start, before its first sweep: the whole frame under a coarse mosaic,
the detections masked on top at the policy's strength (pipeline/masking.mask_coarse)."""

from __future__ import annotations

import numpy as np
import pytest

from redactor.boxes import grid_block
from redactor.config import PolicyConfig
from redactor.pipeline.masking import apply_masks, mask_coarse, masks_for
from redactor.types import Detections, Frame, Label, MaskReason

W, H = 240, 160
FACE = [100.0, 40.0, 140.0, 80.0]


def _picture() -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (H, W, 3), dtype=np.uint8)


def _i420(bgr: np.ndarray) -> Frame:
    y = np.ascontiguousarray(bgr[..., 0])
    u = np.ascontiguousarray(bgr[::2, ::2, 1])
    v = np.ascontiguousarray(bgr[::2, ::2, 2])
    return Frame("i420", (y, u, v))


@pytest.mark.parametrize("layout", ["bgr", "i420"])
def test_every_pixel_is_under_a_block_and_the_face_under_its_own(layout: str) -> None:
    bgr = _picture()
    frame = Frame.from_bgr(bgr.copy()) if layout == "bgr" else _i420(bgr)
    policy = PolicyConfig()
    found = Detections.create([FACE], [0.9], [int(Label.FACE)])
    masks = mask_coarse(frame, masks_for(found, policy, W, H), 12)
    apply_masks(frame, masks, policy)
    assert masks.reasons[0] == int(MaskReason.START) and masks.labels[0] == 0
    np.testing.assert_allclose(masks.boxes[0], [0, 0, W, H])
    assert not masks.full_frame
    y = frame.planes[0] if layout == "i420" else frame.planes[0][..., 0]
    block = W // 12  # 12 blocks across the long side
    # away from the face's mask, each block is one value: nothing finer survives
    for by in range(0, H, block):
        for bx in range(0, 80, block):
            cell = y[by : by + block, bx : bx + block]
            assert (cell == cell[0, 0]).all(), (bx, by)
    # the face's own mosaic (2 blocks across its enlarged box) sits on top of the coarse one
    x0, y0, x1, y1 = masks.boxes[1]
    face = y[int(y0) + 1 : int(y1) - 1, int(x0) + 1 : int(x1) - 1]
    assert 1 < len(np.unique(face)) <= 9


def test_the_start_box_is_not_masked_again_at_the_policys_strength() -> None:
    """apply_masks leaves the frame-sized START box to mask_coarse: at strength 2 it would
    turn the whole picture into four flat blocks."""
    frame = Frame.from_bgr(_picture())
    masks = mask_coarse(frame, masks_for(Detections.empty(), PolicyConfig(), W, H), 12)
    before = frame.planes[0].copy()
    apply_masks(frame, masks, PolicyConfig())
    np.testing.assert_array_equal(frame.planes[0], before)
    assert len(np.unique(before.reshape(-1, 3), axis=0)) > 50


@pytest.mark.parametrize("layout", ["bgr", "i420"])
def test_cells_shown_keep_their_pixels_and_the_rest_is_the_whole_frames_mosaic(
    layout: str,
) -> None:
    """What moved at a stream's start shows (the moving ground's masks go on top); every
    other pixel is exactly what the mosaic of the whole frame makes of it: the same blocks
    on the same grid, nothing finer where a shown cell ends."""
    bgr = _picture()
    block = grid_block(W, H, 12)
    shown = np.zeros((H // block, W // block), bool)
    shown[2:5, 3] = shown[4, 4:6] = shown[7, 11] = True

    def frame() -> Frame:
        return Frame.from_bgr(bgr.copy()) if layout == "bgr" else _i420(bgr)

    whole, part = frame(), frame()
    mask_coarse(whole, masks_for(Detections.empty(), PolicyConfig(), W, H), 12)
    masks = mask_coarse(part, masks_for(Detections.empty(), PolicyConfig(), W, H), 12, shown, block)
    assert (masks.reasons == int(MaskReason.START)).all() and len(masks) > 1
    original = frame()
    for got, coarse, orig in zip(part.planes, whole.planes, original.planes, strict=True):
        s = W // got.shape[1]  # chroma planes are half size
        cells = np.repeat(np.repeat(shown, block // s, axis=0), block // s, axis=1)
        if got.ndim == 3:
            cells = cells[..., None].repeat(got.shape[2], axis=2)
        np.testing.assert_array_equal(got[cells], orig[cells])
        np.testing.assert_array_equal(got[~cells], coarse[~cells])
    assert not (part.planes[0] == whole.planes[0]).all()


@pytest.mark.parametrize("layout", ["bgr", "i420"])
def test_on_half_blocks_nothing_finer_than_half_a_block_survives(layout: str) -> None:
    """Shown cells half a block wide (the live path's): the mosaic's blocks start at each
    box's corner, so a block is cut at most to half its side where a shown cell ends."""
    bgr = _picture()
    cell = grid_block(W, H, 12) // 2
    shown = np.random.default_rng(3).random((H // cell, W // cell)) < 0.2
    frame = Frame.from_bgr(bgr.copy()) if layout == "bgr" else _i420(bgr)
    mask_coarse(frame, masks_for(Detections.empty(), PolicyConfig(), W, H), 12, shown, cell)
    y = frame.planes[0] if layout == "i420" else frame.planes[0][..., 0]
    src = bgr[..., 0]
    for r in range(H // cell):
        for c in range(W // cell):
            got = y[r * cell : (r + 1) * cell, c * cell : (c + 1) * cell]
            if shown[r, c]:
                np.testing.assert_array_equal(
                    got, src[r * cell : (r + 1) * cell, c * cell : (c + 1) * cell]
                )
            else:
                assert (got == got[0, 0]).all(), (r, c)


def test_shown_cells_of_another_grid_are_refused() -> None:
    """Cells counted on one grid and read on another would show pixels that did not move."""
    frame = Frame.from_bgr(_picture())
    with pytest.raises(ValueError, match="grid"):
        mask_coarse(
            frame,
            masks_for(Detections.empty(), PolicyConfig(), W, H),
            12,
            np.ones((8, 12), bool),
            10,
        )

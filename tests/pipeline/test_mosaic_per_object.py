"""Issue 24: two overlapping faces are masked box by box, each with blocks (or a blur
radius) from its own size, never as their union, whose bigger blocks would show more."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from redactor.config import PolicyConfig, Style
from redactor.kernels import Style as KernelStyle
from redactor.kernels import mask_bgr
from redactor.kernels.blur import box_blur_ref
from redactor.kernels.pixelate import pixelate_ref
from redactor.pipeline.masking import apply_masks, masks_for
from redactor.types import Detections, Frame, Label

U8 = npt.NDArray[np.uint8]
FACES = [[50.0, 50.0, 90.0, 90.0], [75.0, 60.0, 115.0, 100.0]]  # one size, overlapping
# the boxes as the policy enlarges them, and the block size (and blur radius) each gets:
# its long side over the policy's strength
OWN = [(44, 44, 96, 96), (69, 54, 121, 106)]
OWN_SIZE = 26
UNION = (44, 44, 121, 106)  # what a merge would mask: one longer box, bigger blocks


def _texture() -> U8:
    """Gradients (so block means differ) plus seeded noise (so blocks are visible)."""
    y, x = np.mgrid[0:200, 0:200]
    noise = np.random.default_rng(24).integers(0, 40, (200, 200, 3))
    img = np.stack([x, y, (x + 2 * y) // 3], axis=2) + noise
    return np.ascontiguousarray(img.clip(0, 255).astype(np.uint8))


def _policy_output(img: U8, style: Style) -> U8:
    policy = PolicyConfig(style=style)
    frame = Frame.from_bgr(img.copy())
    masks = masks_for(Detections.create(FACES, [0.9, 0.9], Label.FACE), policy, 200, 200)
    assert [tuple(round(float(v)) for v in b) for b in masks.boxes] == OWN
    apply_masks(frame, masks, policy)
    return frame.planes[0]


def _box_by_box(img: U8, style: Style) -> U8:
    """Each enlarged box masked on its own, in order, at its own block size."""
    out = img.copy()
    for x0, y0, x1, y1 in OWN:
        region = out[y0:y1, x0:x1]
        if style == "pixelate":
            out[y0:y1, x0:x1] = pixelate_ref(region, OWN_SIZE, 0, 0)
        else:
            out[y0:y1, x0:x1] = box_blur_ref(region, OWN_SIZE)
    return out


def _union_masked(img: U8, style: Style) -> U8:
    """What a merge-then-mask implementation would give: the union box, masked once."""
    out = img.copy()
    mask_bgr(out, np.array([UNION], np.float64), KernelStyle[style.upper()], 2.0)
    return out


def _covered() -> npt.NDArray[np.bool_]:
    inside = np.zeros((200, 200), bool)
    for x0, y0, x1, y1 in OWN:
        inside[y0:y1, x0:x1] = True
    return inside


def _colours(img: U8) -> int:
    return len(np.unique(img.reshape(-1, 3), axis=0))


@pytest.mark.parametrize("style", ["pixelate", "blur"])
def test_each_box_is_masked_at_its_own_size(style: Style) -> None:
    img = _texture()
    out = _policy_output(img, style)
    np.testing.assert_array_equal(out[~_covered()], img[~_covered()])  # outside: untouched
    np.testing.assert_array_equal(out, _box_by_box(img, style))
    ux0, uy0, ux1, uy1 = UNION
    union = _union_masked(img, style)
    assert np.count_nonzero(np.any(out != union, axis=2)) > 0.3 * (ux1 - ux0) * (uy1 - uy0)


def test_mosaic_blocks_follow_each_box_not_the_union() -> None:
    img = _texture()
    out = _policy_output(img, "pixelate")
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = OWN
    in_b = np.zeros((200, 200), bool)
    in_b[by0:by1, bx0:bx1] = True
    # the box masked last is exactly 2x2 blocks on its own grid
    for y in (by0, by0 + OWN_SIZE):
        for x in (bx0, bx0 + OWN_SIZE):
            assert _colours(out[y : y + OWN_SIZE, x : x + OWN_SIZE]) == 1
    # the first box, where the second does not cover it: one colour per cell of its own grid
    seen = 0
    for y in (ay0, ay0 + OWN_SIZE):
        for x in (ax0, ax0 + OWN_SIZE):
            cell = np.s_[y : y + OWN_SIZE, x : x + OWN_SIZE]
            visible = out[cell][~in_b[cell]]
            if len(visible):
                seen += 1
                assert len(np.unique(visible, axis=0)) == 1
    assert seen == 3
    # 4 + 3 blocks show across the union; the union's own mosaic (39 px) has only 2x2
    ux0, uy0, ux1, uy1 = UNION
    assert _colours(out[uy0:uy1, ux0:ux1][_covered()[uy0:uy1, ux0:ux1]]) == 7
    assert _colours(_union_masked(img, "pixelate")[uy0:uy1, ux0:ux1]) == 4
    assert out[50, 50].tolist() != out[50, 80].tolist()  # one 39 px union block, two of 26

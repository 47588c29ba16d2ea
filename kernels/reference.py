"""Slow, obvious NumPy versions of the public functions, for tests only.

Each box is masked on its own, one after another, in plain NumPy: clip and
round outward, take the region, make it masked with the family's reference,
blend it back through the shape's weights. Geometry is re-derived here from the
rules in the docstrings, not shared with the kernels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from redactor.kernels._flags import MAX_RADIUS, MIN_BLOCK, STRONG_PASSES
from redactor.kernels.api import Style
from redactor.kernels.blur import box_blur_ref
from redactor.kernels.fill import fill_ref
from redactor.kernels.pixelate import pixelate_ref
from redactor.kernels.shapes import alpha_ref, compose_ref
from redactor.kernels.yuv import bgr_to_yuv

U8 = npt.NDArray[np.uint8]


def rounded_box(
    box: Sequence[float] | npt.NDArray[np.float64], w: int, h: int
) -> tuple[int, int, int, int]:
    """Clipped to the frame, x0/y0 floored and x1/y1 ceiled."""
    x0, y0, x1, y1 = (float(v) for v in box)
    return (
        math.floor(min(max(x0, 0), w)),
        math.floor(min(max(y0, 0), h)),
        math.ceil(min(max(x1, 0), w)),
        math.ceil(min(max(y1, 0), h)),
    )


def _mask_plane_ref(
    plane: U8,  # (h, w, ch)
    lbox: tuple[int, int, int, int],
    s: int,
    align: int,
    style: Style,
    strength: float,
    ellipse: bool,
    feather: int,
    value: Sequence[int],
) -> None:
    lx0, ly0, lx1, ly1 = lbox
    x0, y0 = lx0 // s, ly0 // s
    x1, y1 = -(-lx1 // s), -(-ly1 // s)
    region = plane[y0:y1, x0:x1]
    long_side = max(lx1 - lx0, ly1 - ly0)
    if style == Style.PIXELATE:
        block = max(MIN_BLOCK, min(long_side, math.ceil(min(long_side / strength, 1e18))))
        block = -(-block // align) * align
        masked = pixelate_ref(region, block // s, (lx0 % align) // s, (ly0 % align) // s)
    elif style == Style.FILL:
        masked = fill_ref(region, np.asarray(value, np.uint8))
    else:
        r = min(max(1, math.floor(min(long_side / strength, 1e18) + 0.5)), long_side, MAX_RADIUS)
        if s == 2:
            r = max(1, (r + 1) // 2)
        passes = STRONG_PASSES if style == Style.STRONG_BLUR else 1
        masked = box_blur_ref(region, r, passes)
    alpha = alpha_ref(plane.shape[0], plane.shape[1], lbox, s, ellipse, feather)[y0:y1, x0:x1]
    plane[y0:y1, x0:x1] = compose_ref(region, masked, alpha)


def mask_bgr_ref(
    img: U8,
    boxes: npt.ArrayLike,
    style: Style = Style.PIXELATE,
    strength: float = 8.0,
    ellipse: bool = False,
    feather: int = 0,
    color: Sequence[int] = (0, 0, 0),
) -> U8:
    """A masked copy of a BGR image."""
    out = img.copy()
    h, w = img.shape[:2]
    for box in np.asarray(boxes, np.float64).reshape(-1, 4):
        lb = rounded_box(box, w, h)
        if lb[2] > lb[0] and lb[3] > lb[1]:
            _mask_plane_ref(out, lb, 1, 1, style, strength, ellipse, feather, color)
    return out


def mask_yuv420_ref(
    y: U8,
    chroma: Sequence[U8],
    boxes: npt.ArrayLike,
    style: Style = Style.PIXELATE,
    strength: float = 8.0,
    ellipse: bool = False,
    feather: int = 0,
    color: Sequence[int] = (0, 0, 0),
) -> tuple[U8, list[U8]]:
    """Masked copies of a 4:2:0 frame: Y (h, w) and chroma planes (I420: U, V; NV12: UV)."""
    h, w = y.shape
    yy, uu, vv = bgr_to_yuv((int(color[0]), int(color[1]), int(color[2])))
    out_y = y.copy()[..., None]
    outs = [c.copy() if c.ndim == 3 else c.copy()[..., None] for c in chroma]
    values = [[uu], [vv]] if len(chroma) == 2 else [[uu, vv]]
    for box in np.asarray(boxes, np.float64).reshape(-1, 4):
        lb = rounded_box(box, w, h)
        if lb[2] <= lb[0] or lb[3] <= lb[1]:
            continue
        _mask_plane_ref(out_y, lb, 1, 2, style, strength, ellipse, feather, [yy])
        for c, val in zip(outs, values, strict=True):
            _mask_plane_ref(c, lb, 2, 2, style, strength, ellipse, feather, val)
    chroma_out = [o[..., 0] if c.ndim == 2 else o for o, c in zip(outs, chroma, strict=True)]
    return out_y[..., 0], chroma_out

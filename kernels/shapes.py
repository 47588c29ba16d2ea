"""Where a mask lands: rectangle or inscribed ellipse, hard or feathered edge.

Every masking style first makes the masked pixels of a box row, then
`compose_rows` writes them into the plane through the shape. Geometry is always
that of the *luma* box (integer, already clipped); a plane subsampled by `s`
(chroma of 4:2:0, s=2) takes, for each of its pixels, the strongest weight of
the s x s luma pixels it carries, so chroma covers at least what luma covers.

Weights are integers 0..ALPHA_ONE and blends are integer, so the kernels and
the NumPy references below agree bit for bit.

Ellipse: a pixel is inside when its centre is, ((x+.5-cx)/ax)^2 + ((y+.5-cy)/ay)^2 <= 1.
Feather F > 0: the weight ramps from ~0 at the shape's edge to full F+1 px
inside it, so the rim of width F is blended and the core fully masked.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from redactor.kernels._flags import ALPHA_ONE, jit, jit_inline
from redactor.kernels._memops import copy_bytes, copy_to_row

# ------------------------------------------------------------------ kernels

Box = tuple[int, int, int, int]  # luma x0, y0, x1, y1 (a tuple: passed by value, no refcounting)


@jit
def _inside(x: int, cx: float, ax: float, qy: float) -> bool:
    dx = (x + 0.5 - cx) / ax
    return dx * dx + qy <= 1.0


@jit
def luma_ellipse_span(ly: int, lb: Box) -> tuple[int, int]:
    """[xs, xe) of luma row `ly` inside the ellipse inscribed in luma box `lb`."""
    lx0, ly0, lx1, ly1 = lb
    cx = (lx0 + lx1) / 2.0
    ax = (lx1 - lx0) / 2.0
    cy = (ly0 + ly1) / 2.0
    ay = (ly1 - ly0) / 2.0
    dy = (ly + 0.5 - cy) / ay
    qy = dy * dy
    if qy > 1.0:
        return 0, 0
    xm = int(math.floor(cx))  # pixel whose centre is nearest the axis
    if xm >= lx1:
        xm = lx1 - 1
    if not _inside(xm, cx, ax, qy):
        if xm - 1 >= lx0 and _inside(xm - 1, cx, ax, qy):
            xm -= 1
        else:
            return 0, 0
    # estimate from the closed form, then settle on the per-pixel test exactly
    hw = ax * math.sqrt(1.0 - qy)
    xe = min(max(int(math.floor(cx + hw - 0.5)) + 1, xm + 1), lx1)
    while xe > xm + 1 and not _inside(xe - 1, cx, ax, qy):
        xe -= 1
    while xe < lx1 and _inside(xe, cx, ax, qy):
        xe += 1
    xs = max(min(int(math.ceil(cx - hw - 0.5)), xm), lx0)
    while xs < xm and not _inside(xs, cx, ax, qy):
        xs += 1
    while xs > lx0 and _inside(xs - 1, cx, ax, qy):
        xs -= 1
    return xs, xe


@jit
def plane_ellipse_span(y: int, lb: Box, s: int) -> tuple[int, int]:
    """[xs, xe) of plane row `y` (plane subsampled by s) covering the luma ellipse."""
    xs, xe = 1 << 62, -(1 << 62)
    for ly in range(y * s, y * s + s):
        if ly < lb[1] or ly >= lb[3]:
            continue
        a, b = luma_ellipse_span(ly, lb)
        if a < b:
            xs = min(xs, a)
            xe = max(xe, b)
    if xe <= xs:
        return 0, 0
    return xs // s, (xe + s - 1) // s


@jit
def luma_alpha(lx: int, ly: int, lb: Box, ellipse: bool, feather: int) -> int:
    """Weight 0..ALPHA_ONE of luma pixel (lx, ly) for a feathered shape (feather > 0)."""
    lx0, ly0, lx1, ly1 = lb
    if lx < lx0 or lx >= lx1 or ly < ly0 or ly >= ly1:
        return 0
    if not ellipse:
        d = min(lx - lx0 + 1, lx1 - lx, ly - ly0 + 1, ly1 - ly)
        return int(min(ALPHA_ONE, (2 * ALPHA_ONE * d + feather + 1) // (2 * (feather + 1))))
    cx = (lx0 + lx1) / 2.0
    ax = (lx1 - lx0) / 2.0
    cy = (ly0 + ly1) / 2.0
    ay = (ly1 - ly0) / 2.0
    dx = (lx + 0.5 - cx) / ax
    dy = (ly + 0.5 - cy) / ay
    q = dx * dx + dy * dy
    if q > 1.0:
        return 0
    dist = (1.0 - math.sqrt(q)) * min(ax, ay) + 0.5
    return int(min(ALPHA_ONE, int(dist * ALPHA_ONE / (feather + 1) + 0.5)))


@jit
def plane_alpha(x: int, y: int, lb: Box, s: int, ellipse: bool, feather: int) -> int:
    """The strongest weight of the s x s luma pixels under plane pixel (x, y)."""
    best = 0
    for ly in range(y * s, y * s + s):
        for lx in range(x * s, x * s + s):
            best = max(best, luma_alpha(lx, ly, lb, ellipse, feather))
    return best


@jit
def _copy(dst: npt.NDArray[np.uint8], d: int, src: npt.NDArray[np.uint8], s: int, n: int) -> None:
    """dst[d:d+n] = src[s:s+n]: one memcpy (a loop spends its time in the tail)."""
    copy_bytes(dst, d, src, s, n)


@jit_inline
def compose_rows(
    plane: npt.NDArray[np.uint8],
    ch: int,
    ya: int,
    yb: int,
    x0: int,
    x1: int,
    src: npt.NDArray[np.uint8],
    step: int,
    per: int,
    g: int,
    lb: Box,
    s: int,
    ellipse: bool,
    feather: int,
) -> None:
    """Writes masked rows into plane rows ya..yb, pixels x0..x1, through the shape.

    Masked rows are stacked in `src`, `step` bytes apart, one per `per` plane
    rows counted from row `g` (pixelate: one per block row; blur: per=1;
    fill: step=0). Hard edges are one memcpy per row, and the branch on the
    shape sits outside the row loop, so the loop holds no call that takes
    arrays (each such call costs reference counting, per row). Called once per
    task: a call in a loop costs that too.
    """
    n = (x1 - x0) * ch
    first = (ya - g) // per
    if feather > 0:
        for y in range(ya, yb):
            off = ((y - g) // per - first) * step
            _blend_row(plane, ch, y, x0, x1, src, off, lb, s, ellipse, feather)
    elif ellipse:
        for y in range(ya, yb):
            off = ((y - g) // per - first) * step
            xs, xe = plane_ellipse_span(y, lb, s)
            xs = max(xs, x0)
            xe = min(xe, x1)
            if xs < xe:
                copy_to_row(plane, y, xs * ch, src, off + (xs - x0) * ch, (xe - xs) * ch)
    else:
        for y in range(ya, yb):
            copy_to_row(plane, y, x0 * ch, src, ((y - g) // per - first) * step, n)


@jit
def _blend_row(
    plane: npt.NDArray[np.uint8],
    ch: int,
    y: int,
    x0: int,
    x1: int,
    src: npt.NDArray[np.uint8],
    off: int,
    lb: Box,
    s: int,
    ellipse: bool,
    feather: int,
) -> None:
    """Feathered edge: each pixel blended with its weight (integer, exact)."""
    row = plane[y]
    for x in range(x0, x1):
        a = plane_alpha(x, y, lb, s, ellipse, feather)
        if a == 0:
            continue
        for c in range(ch):
            j = x * ch + c
            m = np.int32(src[off + (x - x0) * ch + c])
            o = np.int32(row[j])
            row[j] = np.uint8((m * a + o * (ALPHA_ONE - a) + ALPHA_ONE // 2) // ALPHA_ONE)


# ------------------------------------------------------------------ reference (tests only)


def alpha_ref(
    plane_h: int, plane_w: int, lb: tuple[int, int, int, int], s: int, ellipse: bool, feather: int
) -> npt.NDArray[np.int64]:
    """Weight of every plane pixel, 0..ALPHA_ONE, computed pixel by pixel on luma."""
    lx0, ly0, lx1, ly1 = lb
    lh, lw = plane_h * s, plane_w * s
    ly, lx = np.mgrid[0:lh, 0:lw]
    inbox = (lx >= lx0) & (lx < lx1) & (ly >= ly0) & (ly < ly1)
    if ellipse:
        cx, ax = (lx0 + lx1) / 2.0, (lx1 - lx0) / 2.0
        cy, ay = (ly0 + ly1) / 2.0, (ly1 - ly0) / 2.0
        dx = (lx + 0.5 - cx) / ax
        dy = (ly + 0.5 - cy) / ay
        q = dx * dx + dy * dy
        inside = inbox & (q <= 1.0)
        if feather == 0:
            a = np.where(inside, ALPHA_ONE, 0)
        else:
            d = (1.0 - np.sqrt(np.minimum(q, 1.0))) * min(ax, ay) + 0.5
            a = np.where(
                inside,
                np.minimum(ALPHA_ONE, (d * ALPHA_ONE / (feather + 1) + 0.5).astype(np.int64)),
                0,
            )
    else:
        if feather == 0:
            a = np.where(inbox, ALPHA_ONE, 0)
        else:
            d = np.minimum.reduce([lx - lx0 + 1, lx1 - lx, ly - ly0 + 1, ly1 - ly])
            a = np.where(
                inbox,
                np.minimum(ALPHA_ONE, (2 * ALPHA_ONE * d + feather + 1) // (2 * (feather + 1))),
                0,
            )
    # a plane pixel takes the strongest of its s x s luma pixels
    out: npt.NDArray[np.int64] = a.reshape(plane_h, s, plane_w, s).max(axis=(1, 3)).astype(np.int64)
    return out


def compose_ref(
    orig: npt.NDArray[np.uint8], masked: npt.NDArray[np.uint8], alpha: npt.NDArray[np.int64]
) -> npt.NDArray[np.uint8]:
    """orig and masked (h, w, ch) blended by alpha (h, w), integer rounding."""
    a = alpha[..., None]
    out = (
        masked.astype(np.int64) * a + orig.astype(np.int64) * (ALPHA_ONE - a) + ALPHA_ONE // 2
    ) // ALPHA_ONE
    blended: npt.NDArray[np.uint8] = out.astype(np.uint8)
    return blended

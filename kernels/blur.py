"""Box blur by running sums: the cost per pixel does not depend on the radius.

The window is (2r+1)^2 clipped to the box: the blur reads nothing outside the
box it writes (so disjoint boxes run in parallel), and edge pixels average the
box pixels their window holds, with round half up. One pass streams down the
box once: a vertical running sum per column (vectorised), then per row a
horizontal running sum over it and a normalisation (vectorised). The strong
blur repeats the pass, rounding to uint8 between passes.

The division is a multiplication by the reciprocal plus a tiny epsilon: sums
are integers below 2^53 and windows hold under 2^39 pixels, so the floor is
exactly the integer quotient and the kernel equals its integer reference.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from redactor.kernels._flags import jit
from redactor.kernels.shapes import Box, compose_rows

# Larger than the float error of (sum + half) * fl(1/count) (< 2^-43: the
# quotient is below 2^8), smaller than the gap 1/count to the next integer.
_EPS = 2.0**-40

# ------------------------------------------------------------------ kernels


@jit
def _hsum(
    acc: npt.NDArray[np.int32], out: npt.NDArray[np.int32], d: npt.NDArray[np.int32], w: int, ch: int, r: int
) -> None:
    """out[x*ch+k] = sum of acc[(x-r..x+r)*ch+k], x clipped to 0..w-1.

    Vectorised part: d = how the window sum changes from x-1 to x (acc[x+r]
    enters unless past the edge, acc[x-r-1] leaves unless before it). Scalar
    part: the running sum of d, one accumulator per channel. Indices in the
    scalar loop are unsigned, so Numba adds no wrap-around checks.
    """
    n = w * ch
    rc = r * ch
    for j in range(n):
        d[j] = 0
    lo, hi = ch, max(ch, n - rc)
    enter, src = d[lo:hi], acc[lo + rc : hi + rc]
    for j in range(hi - lo):
        enter[j] = src[j]
    lo = min(n, rc + ch)
    leave, src = d[lo:n], acc[0 : n - lo]
    for j in range(n - lo):
        leave[j] -= src[j]
    for k in range(ch):
        first = 0
        for x in range(min(r, w - 1) + 1):
            first += acc[x * ch + k]
        d[k] = first
    if ch == 3:  # BGR: three independent chains in one loop
        s0, s1, s2 = 0, 0, 0
        one, two = np.uint64(1), np.uint64(2)
        for px in range(w):
            u = np.uint64(3 * px)
            s0 += d[u]
            s1 += d[u + one]
            s2 += d[u + two]
            out[u] = s0
            out[u + one] = s1
            out[u + two] = s2
        return
    for k in range(ch):
        s = 0
        for px in range(w):
            u = np.uint64(px * ch + k)
            s += d[u]
            out[u] = s


@jit
def blur_pass(src: npt.NDArray[np.uint8], dst: npt.NDArray[np.uint8], ch: int, r: int) -> None:
    """dst (h, w*ch) = src (h, w*ch) box-blurred with radius r, window clipped to the array."""
    h, n = src.shape
    w = n // ch
    acc = np.zeros(n, np.int32)  # column sums over rows y-r..y+r: <= 255 * h
    sums = np.empty(n, np.int32)  # window sums: r <= MAX_RADIUS keeps them in int32
    d = np.empty(n, np.int32)
    cntx = np.empty(n, np.float64)
    for x in range(w):
        c = min(x + r, w - 1) - max(x - r, 0) + 1
        for k in range(ch):
            cntx[x * ch + k] = c
    half = np.empty(n, np.float64)
    inv = np.empty(n, np.float64)
    for y in range(min(r, h - 1) + 1):
        _add_row(acc, src[y])
    last_cy = -1.0
    for y in range(h):
        _hsum(acc, sums, d, w, ch, r)
        cy = float(min(y + r, h - 1) - max(y - r, 0) + 1)
        if cy != last_cy:  # only near the top and bottom edges
            _counts(cntx, cy, half, inv)
            last_cy = cy
        _normalise(sums, half, inv, dst[y])
        if y + r + 1 < h and y - r >= 0:
            _slide_row(acc, src[y + r + 1], src[y - r])
        elif y + r + 1 < h:
            _add_row(acc, src[y + r + 1])
        elif y - r >= 0:
            _sub_row(acc, src[y - r])


@jit
def _add_row(acc: npt.NDArray[np.int32], row: npt.NDArray[np.uint8]) -> None:
    for j in range(acc.shape[0]):
        acc[j] += row[j]


@jit
def _slide_row(acc: npt.NDArray[np.int32], enter: npt.NDArray[np.uint8], leave: npt.NDArray[np.uint8]) -> None:
    for j in range(acc.shape[0]):
        acc[j] += np.int32(enter[j]) - np.int32(leave[j])


@jit
def _sub_row(acc: npt.NDArray[np.int32], row: npt.NDArray[np.uint8]) -> None:
    for j in range(acc.shape[0]):
        acc[j] -= row[j]


@jit
def _counts(
    cntx: npt.NDArray[np.float64], cy: float, half: npt.NDArray[np.float64], inv: npt.NDArray[np.float64]
) -> None:
    """Per column: floor(count/2) and 1/count, count = cntx * cy (exact integers in float64)."""
    for j in range(cntx.shape[0]):
        c = cntx[j] * cy
        half[j] = math.floor(c * 0.5)
        inv[j] = 1.0 / c


@jit
def _normalise(
    sums: npt.NDArray[np.int32],
    half: npt.NDArray[np.float64],
    inv: npt.NDArray[np.float64],
    out: npt.NDArray[np.uint8],
) -> None:
    """out = floor((sum + floor(count/2)) / count), exact (see _EPS)."""
    for j in range(sums.shape[0]):
        out[j] = np.uint8(np.int32((sums[j] + half[j]) * inv[j] + _EPS))


@jit
def blur_box(
    plane: npt.NDArray[np.uint8],
    ch: int,
    wb: npt.NDArray[np.int64],
    r: int,
    passes: int,
    lb: Box,
    s: int,
    ellipse: bool,
    feather: int,
) -> None:
    """Plane box `wb` blurred `passes` times in place, through the shape."""
    x0, y0, x1, y1 = wb[0], wb[1], wb[2], wb[3]
    h, n = y1 - y0, (x1 - x0) * ch
    bufs = np.empty((2, h, n), np.uint8)
    blur_pass(plane[y0:y1, x0 * ch : x1 * ch], bufs[0], ch, r)
    for p in range(1, passes):
        blur_pass(bufs[(p - 1) % 2], bufs[p % 2], ch, r)
    out = bufs[(passes - 1) % 2].reshape(h * n)
    compose_rows(plane, ch, y0, y1, x0, x1, out, n, 1, y0, lb, s, ellipse, feather)


# ------------------------------------------------------------------ reference (tests only)


def _window_sums(
    a: npt.NDArray[np.int64], r: int, axis: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Sums over i-r..i+r along `axis`, clipped, and how many elements each holds."""
    n = a.shape[axis]
    c = np.cumsum(a, axis=axis)
    c = np.concatenate([np.zeros_like(np.take(c, [0], axis=axis)), c], axis=axis)
    i = np.arange(n)
    hi = np.minimum(i + r, n - 1) + 1
    lo = np.maximum(i - r, 0)
    sums = np.take(c, hi, axis=axis) - np.take(c, lo, axis=axis)
    return sums, hi - lo


def box_blur_ref(region: npt.NDArray[np.uint8], r: int, passes: int = 1) -> npt.NDArray[np.uint8]:
    """Region (h, w, ch) box-blurred `passes` times, window clipped to the region."""
    out = region
    for _ in range(passes):
        sx, cx = _window_sums(out.astype(np.int64), r, axis=1)
        sxy, cy = _window_sums(sx, r, axis=0)
        cnt = cy[:, None, None] * cx[None, :, None]
        out = ((sxy + cnt // 2) // cnt).astype(np.uint8)
    return out.copy()

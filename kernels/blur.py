"""Box blur by running sums: the cost per pixel does not depend on the radius.

The window is (2r+1)^2 clipped to the box: the blur reads nothing outside the
box it writes (so disjoint boxes run in parallel), and edge pixels average the
box pixels their window holds, with round half up. One pass streams down the
box once: a vertical running sum per column (vectorised), then per row a
horizontal running sum over it (one scalar chain per channel) and a
normalisation (vectorised). The strong blur repeats the pass, rounding to uint8
between passes.

The division is a multiplication by a reciprocal plus a tiny epsilon:
1/count = fl(1/cx) * fl(1/cy) is within 4 ulp, sums are integers below 2^53
and windows hold under 2^39 pixels, so the floor is exactly the integer
quotient and the kernel equals its integer reference.

Why the code looks as it does (docs/kernels.md#blur): indices that
LLVM cannot prove non-negative get a wrap-around check per access that stops
vectorisation, hence the uint64 indices and the views made once per pass;
`math.floor` returns an int in Numba (a float->int64 conversion that AVX2 cannot
vectorise), hence `np.floor`; and with face-sized radii nearly every row is an
edge row whose counts change, so no per-row division.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from redactor.kernels._flags import jit, jit_inline
from redactor.kernels.shapes import Box, compose_rows

# Larger than the float error of (sum + half) * inv (< 2^-43: the quotient is
# below 2^8, inv within 4 ulp), smaller than the gap 1/count to the next integer.
_EPS = 2.0**-40

# ------------------------------------------------------------------ kernels


@jit_inline
def _first_window(
    acc: npt.NDArray[np.int32], d: npt.NDArray[np.int32], w: int, ch: int, r: int
) -> None:
    """d[k] = window sum of pixel 0, channel k: acc over pixels 0..min(r, w-1)."""
    m = min(r, w - 1) + 1
    if ch == 3:  # BGR: three independent chains
        f0, f1, f2 = 0, 0, 0
        one, two = np.uint64(1), np.uint64(2)
        for x in range(m):
            u = np.uint64(3 * x)
            f0 += acc[u]
            f1 += acc[u + one]
            f2 += acc[u + two]
        d[0], d[1], d[2] = f0, f1, f2
        return
    for k in range(ch):
        f = 0
        for x in range(m):
            f += acc[np.uint64(x * ch + k)]
        d[k] = f


@jit_inline
def _running_sum(d: npt.NDArray[np.int32], sums: npt.NDArray[np.int32], w: int, ch: int) -> None:
    """sums[x*ch+k] = d[k] + d[ch+k] + ... + d[x*ch+k]: the window sums along the row.

    The differences d come from a separate vectorised loop: folding them into
    this chain (two loads and a subtraction more per step) was slower."""
    if ch == 3:
        s0, s1, s2 = 0, 0, 0
        one, two = np.uint64(1), np.uint64(2)
        for px in range(w):
            u = np.uint64(3 * px)
            s0 += d[u]
            s1 += d[u + one]
            s2 += d[u + two]
            sums[u] = s0
            sums[u + one] = s1
            sums[u + two] = s2
        return
    for k in range(ch):
        s = 0
        for px in range(w):
            u = np.uint64(px * ch + k)
            s += d[u]
            sums[u] = s


@jit
def blur_pass(src: npt.NDArray[np.uint8], dst: npt.NDArray[np.uint8], ch: int, r: int) -> None:
    """dst (h, w*ch) = src (h, w*ch) box-blurred with radius r, window clipped to the array."""
    h, n = src.shape
    w = n // ch
    rc = r * ch
    pad = rc + ch
    # column sums over rows y-r..y+r (<= 255 * h), with zeros either side so that
    # the pixels entering and leaving the window need no edge tests
    padded = np.zeros(n + 2 * pad, np.int32)
    acc = padded[pad : pad + n]
    enter = padded[pad + rc : pad + rc + n]  # enter[x*ch+k] = acc of pixel x+r
    leave = padded[pad - rc - ch : pad - rc - ch + n]  # leave[x*ch+k] = acc of pixel x-r-1
    d = np.empty(n, np.int32)
    sums = np.empty(n, np.int32)  # window sums: r <= MAX_RADIUS keeps them in int32
    cntx = np.empty(n, np.float64)  # pixels of a column's window along the row
    invx = np.empty(n, np.float64)
    for x in range(w):
        c = min(x + r, w - 1) - max(x - r, 0) + 1
        for k in range(ch):
            cntx[x * ch + k] = c
            invx[x * ch + k] = 1.0 / c
    half = np.empty(n, np.float64)  # floor(count / 2), count = cntx * cy
    inv = np.empty(n, np.float64)  # 1 / count
    for y in range(min(r, h - 1) + 1):
        _add_row(acc, src[y])
    last_cy = -1.0
    for y in range(h):
        for j in range(n):
            d[j] = enter[j] - leave[j]  # how the window sum changes from pixel x-1 to x
        _first_window(acc, d, w, ch, r)
        _running_sum(d, sums, w, ch)
        cy = float(min(y + r, h - 1) - max(y - r, 0) + 1)
        if cy != last_cy:  # rows within r of the top or bottom
            hy, iy = 0.5 * cy, 1.0 / cy
            for j in range(n):
                half[j] = np.floor(cntx[j] * hy)
                inv[j] = invx[j] * iy
            last_cy = cy
        out = dst[y]
        for j in range(n):  # floor((sum + floor(count/2)) / count), exact (see _EPS)
            out[j] = np.uint8(np.int32((sums[j] + half[j]) * inv[j] + _EPS))
        if y + r + 1 < h and y - r >= 0:
            _slide_row(acc, src[y + r + 1], src[y - r])
        elif y + r + 1 < h:
            _add_row(acc, src[y + r + 1])
        elif y - r >= 0:
            _sub_row(acc, src[y - r])


@jit_inline
def _add_row(acc: npt.NDArray[np.int32], row: npt.NDArray[np.uint8]) -> None:
    for j in range(acc.shape[0]):
        acc[j] += row[j]


@jit_inline
def _slide_row(
    acc: npt.NDArray[np.int32], enter: npt.NDArray[np.uint8], leave: npt.NDArray[np.uint8]
) -> None:
    for j in range(acc.shape[0]):
        acc[j] += np.int32(enter[j]) - np.int32(leave[j])


@jit_inline
def _sub_row(acc: npt.NDArray[np.int32], row: npt.NDArray[np.uint8]) -> None:
    for j in range(acc.shape[0]):
        acc[j] -= row[j]


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

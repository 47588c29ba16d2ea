"""Box blur by running sums: the cost per pixel does not depend on the radius.

The window is (2r+1)^2 clipped to the box: the blur reads nothing outside the
box it writes (so disjoint boxes run in parallel), and edge pixels average the
box pixels their window holds. One pass = a horizontal running sum per row
(into int32), then a vertical running sum per column strip, divided by the
window's pixel count with round half up. Sums stay below 2^53, so the division
in float64 then floor is exact: the kernel equals its integer reference.
The strong blur repeats the pass (rounded to uint8 between passes).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from redactor.kernels._flags import JIT

# ------------------------------------------------------------------ kernels


@njit(**JIT)
def hsum_row(src: npt.NDArray[np.uint8], dst: npt.NDArray[np.int32], w: int, ch: int, r: int) -> None:
    """dst[x*ch+c] = sum of src over x-r..x+r (clipped to 0..w-1), channel c."""
    for c in range(ch):
        acc = np.int32(0)
        for x in range(min(r, w - 1) + 1):
            acc += np.int32(src[x * ch + c])
        for x in range(w):
            dst[x * ch + c] = acc
            if x + r + 1 < w:
                acc += np.int32(src[(x + r + 1) * ch + c])
            if x - r >= 0:
                acc -= np.int32(src[(x - r) * ch + c])


@njit(**JIT)
def vsum_strip(
    hs: npt.NDArray[np.int32],
    dst: npt.NDArray[np.uint8],
    w: int,
    h: int,
    ch: int,
    r: int,
    ja: int,
    jb: int,
) -> None:
    """Columns ja..jb (bytes) of the (h, w*ch) row sums `hs`: vertical window sum, mean."""
    n = w * ch
    m = jb - ja
    acc = np.zeros(m, np.float64)
    cntx = np.empty(m, np.int64)
    for k in range(m):
        x = (ja + k) // ch
        cntx[k] = min(x + r, w - 1) - max(x - r, 0) + 1
    for y in range(min(r, h - 1) + 1):
        base = y * n + ja
        for k in range(m):
            acc[k] += hs[base + k]
    for y in range(h):
        cnty = min(y + r, h - 1) - max(y - r, 0) + 1
        out = y * n + ja
        for k in range(m):
            cnt = cntx[k] * cnty
            dst[out + k] = np.uint8(np.int64((acc[k] + (cnt // 2)) / cnt))
        if y + r + 1 < h:
            add = (y + r + 1) * n + ja
            for k in range(m):
                acc[k] += hs[add + k]
        if y - r >= 0:
            sub = (y - r) * n + ja
            for k in range(m):
                acc[k] -= hs[sub + k]


# ------------------------------------------------------------------ reference (tests only)


def _window_sums(a: npt.NDArray[np.int64], r: int, axis: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
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

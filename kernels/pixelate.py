"""Pixelate: each block of the box replaced by its mean (rounded half up).

Blocks sit on a grid anchored at (gx, gy), at or before the box's corner, so a
box's edge blocks may be partial; the mean is over the block's pixels inside
the box only. A task does a band of whole block rows. Per block row it sums the
rows into one accumulator row (contiguous, vectorised: uint16, 16 lanes per
instruction, over at most 257 rows at a time) and reduces that to one
masked row; then each plane row gets its block row's masked row through the
shape: one read and one write of each pixel, as a copy would.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from redactor.kernels._flags import jit
from redactor.kernels.shapes import Box, compose_rows

# 257 * 255 = 65535: block rows up to this tall sum in uint16.
_U16_ROWS = 257

# ------------------------------------------------------------------ kernel


@jit
def _sum_rows16(
    plane: npt.NDArray[np.uint8], ya: int, yb: int, a: int, acc: npt.NDArray[np.uint16]
) -> None:
    n = acc.shape[0]
    for j in range(n):
        acc[j] = 0
    y = ya
    while y + 1 < yb:  # two rows per pass over the accumulator
        r0 = plane[y, a : a + n]
        r1 = plane[y + 1, a : a + n]
        for j in range(n):
            acc[j] += np.uint16(r0[j]) + np.uint16(r1[j])
        y += 2
    if y < yb:
        r0 = plane[y, a : a + n]
        for j in range(n):
            acc[j] += r0[j]


@jit
def _sum_rows32(
    plane: npt.NDArray[np.uint8],
    ya: int,
    yb: int,
    a: int,
    acc16: npt.NDArray[np.uint16],
    acc: npt.NDArray[np.int32],
) -> None:
    """Tall blocks: uint16 sums of up to _U16_ROWS rows at a time, added into int32."""
    n = acc.shape[0]
    for j in range(n):
        acc[j] = 0
    for y in range(ya, yb, _U16_ROWS - 1):
        _sum_rows16(plane, y, min(yb, y + _U16_ROWS - 1), a, acc16)
        for j in range(n):
            acc[j] += acc16[j]


@jit
def _block_means(
    acc: npt.NDArray[np.uint16] | npt.NDArray[np.int32],
    masked: npt.NDArray[np.uint8],
    ch: int,
    x0: int,
    x1: int,
    gx: int,
    block: int,
    rows: int,
) -> None:
    """masked = per block of columns, the mean of the summed rows `acc` (ch is 1, 2 or 3:
    one scalar accumulator per channel, a loop a runtime channel count would slow)."""
    xs = x0
    while xs < x1:
        xe = min(x1, gx + ((xs - gx) // block + 1) * block)
        cnt = (xe - xs) * rows
        ja, jb = np.uint64((xs - x0) * ch), np.uint64((xe - x0) * ch)
        half = cnt // 2  # round half up
        if ch == 1:
            t0 = half
            for j in range(ja, jb):
                t0 += acc[j]
            m0 = np.uint8(t0 // cnt)
            for j in range(ja, jb):
                masked[j] = m0
        elif ch == 2:
            t0, t1 = half, half
            for j in range(ja, jb, np.uint64(2)):
                t0 += acc[j]
                t1 += acc[j + np.uint64(1)]
            m0, m1 = np.uint8(t0 // cnt), np.uint8(t1 // cnt)
            for j in range(ja, jb, np.uint64(2)):
                masked[j] = m0
                masked[j + np.uint64(1)] = m1
        else:
            t0, t1, t2 = half, half, half
            for j in range(ja, jb, np.uint64(3)):
                t0 += acc[j]
                t1 += acc[j + np.uint64(1)]
                t2 += acc[j + np.uint64(2)]
            m0, m1, m2 = np.uint8(t0 // cnt), np.uint8(t1 // cnt), np.uint8(t2 // cnt)
            for j in range(ja, jb, np.uint64(3)):
                masked[j] = m0
                masked[j + np.uint64(1)] = m1
                masked[j + np.uint64(2)] = m2
        xs = xe


@jit
def pixelate_band(
    plane: npt.NDArray[np.uint8],
    ch: int,
    wb: npt.NDArray[np.int64],
    ya: int,
    yb: int,
    block: int,
    gx: int,
    gy: int,
    lb: Box,
    s: int,
    ellipse: bool,
    feather: int,
) -> None:
    """Rows ya..yb (whole rows of blocks) of plane box `wb`, pixelated in place."""
    x0, x1 = wb[0], wb[2]
    n = (x1 - x0) * ch
    first = (ya - gy) // block
    masked = np.empty(((yb - 1 - gy) // block - first + 1) * n, np.uint8)  # one row per block row
    small = block <= _U16_ROWS
    acc16 = np.empty(n, np.uint16)
    acc32 = np.empty(0 if small else n, np.int32)
    y = ya
    while y < yb:
        ye = min(yb, gy + ((y - gy) // block + 1) * block)
        row = masked[((y - gy) // block - first) * n :][:n]
        if small:
            _sum_rows16(plane, y, ye, x0 * ch, acc16)
            _block_means(acc16, row, ch, x0, x1, gx, block, ye - y)
        else:
            _sum_rows32(plane, y, ye, x0 * ch, acc16, acc32)
            _block_means(acc32, row, ch, x0, x1, gx, block, ye - y)
        y = ye
    compose_rows(plane, ch, ya, yb, x0, x1, masked, n, block, gy, lb, s, ellipse, feather)


# ------------------------------------------------------------------ reference (tests only)


def pixelate_ref(
    region: npt.NDArray[np.uint8], block: int, ox: int, oy: int
) -> npt.NDArray[np.uint8]:
    """Region (h, w, ch) pixelated on a grid whose first line is ox, oy px before it."""
    out = region.copy()
    h, w = region.shape[:2]
    ys = [0] + list(range(block - oy, h, block)) + [h]
    xs = [0] + list(range(block - ox, w, block)) + [w]
    for ya, yb in zip(ys[:-1], ys[1:], strict=True):
        for xa, xb in zip(xs[:-1], xs[1:], strict=True):
            if ya >= yb or xa >= xb:
                continue
            cell = region[ya:yb, xa:xb].astype(np.int64)
            cnt = (yb - ya) * (xb - xa)
            out[ya:yb, xa:xb] = (cell.sum(axis=(0, 1)) + cnt // 2) // cnt
    return out

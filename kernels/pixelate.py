"""Pixelate: each block of the box replaced by its mean (rounded half up).

Blocks sit on a grid anchored at (gx, gy), at or before the box's corner, so a
box's edge blocks may be partial; the mean is over the block's pixels inside
the box only. A band task does one row of blocks: it sums the band's rows into
one accumulator row (contiguous, vectorised), reduces that to one masked row,
then writes it to every row of the band through the shape.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from redactor.kernels._flags import jit
from redactor.kernels.shapes import compose_row

# ------------------------------------------------------------------ kernel


@jit
def pixelate_band(
    plane: npt.NDArray[np.uint8],
    ch: int,
    wb: npt.NDArray[np.int64],
    ya: int,
    yb: int,
    block: int,
    gx: int,
    lb: npt.NDArray[np.int64],
    s: int,
    ellipse: bool,
    feather: int,
) -> None:
    """Rows ya..yb (one row of blocks) of plane box `wb`, pixelated in place."""
    x0, x1 = wb[0], wb[2]
    n = (x1 - x0) * ch
    acc = np.zeros(n, np.int32)  # 255 * block rows fits easily
    for y in range(ya, yb):
        row = plane[y, x0 * ch : x1 * ch]
        for j in range(n):
            acc[j] += row[j]
    masked = np.empty(n, np.uint8)
    rows = yb - ya
    xs = x0
    while xs < x1:
        xe = min(x1, gx + ((xs - gx) // block + 1) * block)
        cnt = (xe - xs) * rows
        for c in range(ch):
            tot = 0
            for x in range(xs, xe):
                tot += acc[(x - x0) * ch + c]
            mean = np.uint8((tot + cnt // 2) // cnt)
            for x in range(xs, xe):
                masked[(x - x0) * ch + c] = mean
        xs = xe
    for y in range(ya, yb):
        compose_row(plane, ch, y, x0, x1, masked, lb, s, ellipse, feather)


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

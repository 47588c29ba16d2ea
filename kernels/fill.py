"""Solid fill: every pixel of the shape set to one colour (nothing survives)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from redactor.kernels._flags import JIT
from redactor.kernels.shapes import compose_row

# ------------------------------------------------------------------ kernel


@njit(**JIT)
def fill_band(
    plane: npt.NDArray[np.uint8],
    ch: int,
    wb: npt.NDArray[np.int64],
    ya: int,
    yb: int,
    value: npt.NDArray[np.uint8],
    lb: npt.NDArray[np.int64],
    s: int,
    ellipse: bool,
    feather: int,
) -> None:
    """Rows ya..yb of plane box `wb` filled with `value` (ch,) through the shape."""
    x0, x1 = wb[0], wb[2]
    masked = np.empty((x1 - x0) * ch, np.uint8)
    for x in range(x1 - x0):
        for c in range(ch):
            masked[x * ch + c] = value[c]
    for y in range(ya, yb):
        compose_row(plane, ch, y, x0, x1, masked, lb, s, ellipse, feather)


# ------------------------------------------------------------------ reference (tests only)


def fill_ref(region: npt.NDArray[np.uint8], value: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Region (h, w, ch) set to value (ch,)."""
    out = np.empty_like(region)
    out[:] = value
    return out

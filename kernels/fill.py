"""Solid fill: every pixel of the shape set to one colour (nothing survives)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from redactor.kernels._flags import jit
from redactor.kernels.shapes import Box, _copy, compose_rows

# ------------------------------------------------------------------ kernel


@jit
def fill_band(
    plane: npt.NDArray[np.uint8],
    ch: int,
    wb: npt.NDArray[np.int64],
    ya: int,
    yb: int,
    value: npt.NDArray[np.uint8],
    lb: Box,
    s: int,
    ellipse: bool,
    feather: int,
) -> None:
    """Rows ya..yb of plane box `wb` filled with `value` (ch,) through the shape."""
    x0, x1 = wb[0], wb[2]
    n = (x1 - x0) * ch
    masked = np.empty(n, np.uint8)
    for c in range(ch):
        masked[c] = value[c]
    done = ch
    while done < n:  # doubling copies: vectorised, log2(width) of them
        k = min(done, n - done)
        _copy(masked, done, masked, 0, k)
        done += k
    compose_rows(plane, ch, ya, yb, x0, x1, masked, 0, 1, ya, lb, s, ellipse, feather)


# ------------------------------------------------------------------ reference (tests only)


def fill_ref(region: npt.NDArray[np.uint8], value: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Region (h, w, ch) set to value (ch,)."""
    out = np.empty_like(region)
    out[:] = value
    return out

"""Masking kernels: pure functions over NumPy arrays (no I/O, no config, no redactor imports).

TEMPORARY STUB with the agreed API; the Numba implementation replaces it.
"""

from __future__ import annotations

import enum

import numpy as np


class Style(enum.IntEnum):
    PIXELATE = 0
    BLUR = 1
    STRONG_BLUR = 2
    FILL = 3


def _clip(boxes: np.ndarray, w: int, h: int) -> np.ndarray:
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    out = np.empty(b.shape, np.int64)
    out[:, 0] = np.clip(np.floor(b[:, 0]), 0, w)
    out[:, 1] = np.clip(np.floor(b[:, 1]), 0, h)
    out[:, 2] = np.clip(np.ceil(b[:, 2]), 0, w)
    out[:, 3] = np.clip(np.ceil(b[:, 3]), 0, h)
    return out


def mask_bgr(img, boxes, style=Style.PIXELATE, strength=8.0, ellipse=False, feather=0, color=(0, 0, 0)):
    h, w = img.shape[:2]
    for x0, y0, x1, y1 in _clip(boxes, w, h):
        if x1 <= x0 or y1 <= y0:
            continue
        img[y0:y1, x0:x1] = color


def warmup() -> None:
    pass

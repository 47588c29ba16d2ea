"""The public masking functions: validate in plain Python, then run the kernels.

Every function masks in place. `boxes` are (n, 4) xyxy in (luma) pixels, float
allowed; they are clipped to the frame and rounded outward. Empty or
fully-outside boxes do nothing; overlapping boxes are masked in the order given.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from redactor.kernels._cache import ensure_fresh
from redactor.kernels._flags import STRONG_PASSES
from redactor.kernels.plane import mask_planes
from redactor.kernels.yuv import bgr_to_yuv, chroma_shape

ArrayLike = npt.ArrayLike


class Style(enum.IntEnum):
    """How a region is masked. `strength` means, per style:

    PIXELATE: blocks across the box's long side (block = ceil(long / strength),
    at least 2 px); BLUR: box blur of radius long / strength; STRONG_BLUR: three
    passes of that blur; FILL: solid `color` (strength unused).
    """

    PIXELATE = 0
    BLUR = 1
    STRONG_BLUR = 2
    FILL = 3


def mask_bgr(
    img: npt.NDArray[np.uint8],
    boxes: ArrayLike,
    style: Style | int = Style.PIXELATE,
    strength: float = 8.0,
    ellipse: bool = False,
    feather: int = 0,
    color: Sequence[int] = (0, 0, 0),
) -> None:
    """Masks `boxes` on a (h, w, 3) uint8 C-contiguous BGR image, in place."""
    _plane(img, "img", 3)
    h, w = img.shape[:2]
    b, st, strength, feather, bgr = _params(boxes, style, strength, feather, color)
    if len(b):
        values = np.array([bgr, bgr, bgr], np.uint8)
        _run(
            [img.reshape(h, w * 3)],
            _BGR_CH,
            _ONE,
            values,
            b,
            w,
            h,
            1,
            st,
            strength,
            ellipse,
            feather,
        )


def mask_i420(
    y: npt.NDArray[np.uint8],
    u: npt.NDArray[np.uint8],
    v: npt.NDArray[np.uint8],
    boxes: ArrayLike,
    style: Style | int = Style.PIXELATE,
    strength: float = 8.0,
    ellipse: bool = False,
    feather: int = 0,
    color: Sequence[int] = (0, 0, 0),
) -> None:
    """Masks `boxes` (luma px) on I420 planes Y (h, w), U and V (ceil(h/2), ceil(w/2)), in place."""
    _plane(y, "y", 0)
    h, w = y.shape
    _plane(u, "u", 0, chroma_shape(h, w))
    _plane(v, "v", 0, chroma_shape(h, w))
    b, st, strength, feather, bgr = _params(boxes, style, strength, feather, color)
    if len(b):
        yy, uu, vv = bgr_to_yuv(bgr)
        values = np.array([[yy, 0, 0], [uu, 0, 0], [vv, 0, 0]], np.uint8)
        _run([y, u, v], _I420_CH, _I420_S, values, b, w, h, 2, st, strength, ellipse, feather)


def mask_nv12(
    y: npt.NDArray[np.uint8],
    uv: npt.NDArray[np.uint8],
    boxes: ArrayLike,
    style: Style | int = Style.PIXELATE,
    strength: float = 8.0,
    ellipse: bool = False,
    feather: int = 0,
    color: Sequence[int] = (0, 0, 0),
) -> None:
    """Masks `boxes` (luma px) on NV12 planes Y (h, w) and UV (ceil(h/2), ceil(w/2), 2), in place."""
    _plane(y, "y", 0)
    h, w = y.shape
    _plane(uv, "uv", 2, chroma_shape(h, w))
    b, st, strength, feather, bgr = _params(boxes, style, strength, feather, color)
    if len(b):
        yy, uu, vv = bgr_to_yuv(bgr)
        hc, wc = chroma_shape(h, w)
        values = np.array([[yy, 0, 0], [uu, vv, 0], [0, 0, 0]], np.uint8)
        _run(
            [y, uv.reshape(hc, wc * 2)],
            _NV12_CH,
            _NV12_S,
            values,
            b,
            w,
            h,
            2,
            st,
            strength,
            ellipse,
            feather,
        )


def warmup() -> None:
    """Compiles (or loads from the on-disk cache) every kernel signature the API uses.

    Called once at server start so that the first real frame costs what the
    hundredth does. Covers each style, both shapes, feathered or not, BGR and
    4:2:0, serial and parallel paths.
    """
    ensure_fresh()
    from redactor.kernels import plane

    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (20, 22, 3), dtype=np.uint8)
    y = img[..., 0].copy()
    u = np.ascontiguousarray(img[:10, :11, 1])
    uv = np.ascontiguousarray(img[:10, :11, :2])
    boxes = np.array([[1.5, 2.0, 15.0, 17.5], [8, 8, 21, 19]], np.float64)
    for st in Style:
        for ellipse, feather in ((False, 0), (True, 0), (True, 2)):
            mask_bgr(img, boxes, st, 4.0, ellipse, feather)
            mask_i420(y, u, u.copy(), boxes, st, 4.0, ellipse, feather)
            mask_nv12(y, uv, boxes, st, 4.0, ellipse, feather)
    # the parallel path (taken only for large masks)
    for st in Style:
        lb, wb, par, tasks, phases = plane.plan(boxes, 22, 20, 1, 1, 3, int(st), 4.0, 1)
        plane._execute_parallel(
            tasks, phases, img.reshape(20, 66), 3, lb, wb, par, 1, False, 0, np.zeros(3, np.uint8)
        )


# ------------------------------------------------------------------ validation


def _plane(a: object, name: str, ch: int, hw: tuple[int, int] | None = None) -> None:
    """Raises unless `a` is a writeable C-contiguous uint8 plane: (h, w) (ch=0) or (h, w, ch)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
    if a.dtype != np.uint8:
        raise TypeError(f"{name} must be uint8, got {a.dtype}")
    want = "(h, w)" if ch == 0 else f"(h, w, {ch})"
    ndim = 2 if ch == 0 else 3
    if a.ndim != ndim or (ch and a.shape[2] != ch):
        raise ValueError(f"{name} must have shape {want}, got {a.shape}")
    if hw is not None and a.shape[:2] != hw:
        raise ValueError(
            f"{name} must have shape {hw + a.shape[2:]} (half the luma, rounded up), got {a.shape}"
        )
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"{name} must not be empty, got shape {a.shape}")
    if not a.flags.c_contiguous:
        raise ValueError(
            f"{name} must be C-contiguous, got strides {a.strides} for shape {a.shape}"
        )
    if not a.flags.writeable:
        raise ValueError(f"{name} must be writeable (masking is in place), got a read-only array")


_STYLES = {int(s): s for s in Style}


def _params(
    boxes: ArrayLike, style: Style | int, strength: float, feather: int, color: Sequence[int]
) -> tuple[npt.NDArray[np.float64], Style, float, int, tuple[int, int, int]]:
    try:
        b = np.asarray(boxes, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"boxes must be an (n, 4) array of numbers, got {type(boxes).__name__}: {e}"
        ) from e
    if b.size == 0:
        b = np.zeros((0, 4), np.float64)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"boxes must have shape (n, 4) xyxy, got {b.shape}")
    if not np.isfinite(b).all():
        raise ValueError("boxes must be finite, got NaN or inf")
    if not b.flags.c_contiguous:
        b = np.ascontiguousarray(b)
    st = _STYLES.get(style) if isinstance(style, (int, np.integer)) else None
    if st is None:
        raise ValueError(f"style must be one of {[s.name for s in Style]}, got {style!r}")
    strength = float(strength)
    if not math.isfinite(strength) or strength <= 0:
        raise ValueError(f"strength must be a finite number > 0, got {strength}")
    if isinstance(feather, bool) or not isinstance(feather, (int, np.integer)) or feather < 0:
        raise ValueError(f"feather must be an int >= 0 (px), got {feather!r}")
    if len(color) != 3:
        raise ValueError(f"color must be 3 ints 0..255 (B, G, R), got {color!r}")
    c = (int(color[0]), int(color[1]), int(color[2]))
    if not (0 <= c[0] <= 255 and 0 <= c[1] <= 255 and 0 <= c[2] <= 255):
        raise ValueError(f"color must be 3 ints 0..255 (B, G, R), got {color!r}")
    return b, st, strength, int(feather), c


# Channels and subsampling of each plane, per layout.
_ONE = np.ones(3, np.int64)
_BGR_CH = np.array([3, 3, 3], np.int64)
_I420_CH, _I420_S = np.array([1, 1, 1], np.int64), np.array([1, 2, 2], np.int64)
_NV12_CH, _NV12_S = np.array([1, 2, 1], np.int64), np.array([1, 2, 1], np.int64)


def _run(
    planes: list[npt.NDArray[np.uint8]],
    chs: npt.NDArray[np.int64],
    ss: npt.NDArray[np.int64],
    values: npt.NDArray[np.uint8],
    boxes: npt.NDArray[np.float64],
    lw: int,
    lh: int,
    align: int,
    style: Style,
    strength: float,
    ellipse: bool,
    feather: int,
) -> None:
    ensure_fresh()
    passes = STRONG_PASSES if style == Style.STRONG_BLUR else 1
    mask_planes(
        planes,
        chs,
        ss,
        values,
        boxes,
        lw,
        lh,
        align,
        int(style),
        strength,
        passes,
        bool(ellipse),
        feather,
    )

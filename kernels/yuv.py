"""Planar YUV 4:2:0 (I420, NV12): colour and geometry shared by luma and chroma.

A decoded H.264 frame is masked in its own planes, with no trip through BGR.
Chroma boxes come from the rounded luma box: floor(x0/2)..ceil(x1/2), so chroma
covers every luma pixel masked. Pixelate blocks are even and anchored on even
luma coordinates, so each chroma block sits exactly under its luma block and a
block carries one colour.
"""

from __future__ import annotations

# BT.601 "video range" (Y 16..235, Cb/Cr 16..240): what H.264 decoders give and
# what cv2.COLOR_YUV2BGR_I420 (Frame.to_bgr) reads back.
_KR, _KB = 0.299, 0.114


def bgr_to_yuv(color: tuple[int, int, int]) -> tuple[int, int, int]:
    """BGR colour 0..255 to BT.601 video-range Y, U (Cb), V (Cr), rounded."""
    b, g, r = (float(c) for c in color)
    kg = 1.0 - _KR - _KB
    y = _KR * r + kg * g + _KB * b
    cb = (b - y) / (2.0 * (1.0 - _KB))
    cr = (r - y) / (2.0 * (1.0 - _KR))
    out = (16.0 + 219.0 * y / 255.0, 128.0 + 224.0 * cb / 255.0, 128.0 + 224.0 * cr / 255.0)
    yy, uu, vv = (min(255, max(0, int(v + 0.5))) for v in out)
    return yy, uu, vv


def chroma_shape(h: int, w: int) -> tuple[int, int]:
    """(ceil(h/2), ceil(w/2)): the chroma plane of a 4:2:0 frame."""
    return (h + 1) // 2, (w + 1) // 2

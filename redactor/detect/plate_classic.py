"""A classical plate localiser: no model, a cheap second opinion.

Plate characters are dark strokes on a light plate, close together in a row.
A black-hat (closing minus image) keeps dark details smaller than its kernel;
their horizontal gradient marks character edges; a wide closing joins the
characters of one plate into one blob; blobs with a plate's aspect and fill
are plates. Top-hat does the same for light characters on a dark plate.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from redactor.config import PlateClassicConfig
from redactor.types import Detections, Label

# Kernel sizes are in px at the working size and suit plates about 60-250 px wide there.
_HAT_KERNEL = (17, 5)  # wider than a character stroke, lower than a character
_CLOSE_KERNEL = (21, 5)  # joins neighbouring characters of a row
_CLEAN_ITER = 2  # erosions then dilations that drop thin lines and specks
_MIN_WIDTH_PX = 24  # blobs narrower than this at the working size are not plates
_CHAR_HEIGHT = (0.3, 1.0)  # a character's height, share of the candidate's height
_CHAR_MAX_ASPECT = 1.2  # a character's width / height at most
_SCORE = 0.3  # a fixed confidence: the localiser has no calibrated score


def plate_candidates(
    grey: npt.NDArray[np.uint8],
    min_aspect: float,
    max_aspect: float,
    min_fill: float,
    dark_text: bool = True,
    min_chars: int = 0,
) -> npt.NDArray[np.float32]:
    """Axis-aligned (n, 4) candidate plate boxes in `grey`'s pixels."""
    hat_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, _HAT_KERNEL)
    op = cv2.MORPH_BLACKHAT if dark_text else cv2.MORPH_TOPHAT
    hat = cv2.morphologyEx(grey, op, hat_kernel)
    grad = np.abs(cv2.Sobel(hat, cv2.CV_32F, 1, 0, ksize=3))
    peak = float(grad.max())
    if peak <= 0:
        return np.zeros((0, 4), np.float32)
    grad8 = cv2.GaussianBlur((grad * (255.0 / peak)).astype(np.uint8), (5, 5), 0)
    joined = cv2.morphologyEx(
        grad8, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, _CLOSE_KERNEL)
    )
    _, binary = cv2.threshold(joined, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    square = np.ones((3, 3), np.uint8)
    binary = cv2.dilate(
        cv2.erode(binary, square, iterations=_CLEAN_ITER), square, iterations=_CLEAN_ITER
    )
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    h, w = grey.shape
    out: list[tuple[int, int, int, int]] = []
    for contour in contours:
        x, y, bw, bh = cv2.boundingRect(contour)
        if bw < _MIN_WIDTH_PX or bh == 0 or bw > w // 2 or bh > h // 3:
            continue
        aspect = bw / bh
        if not min_aspect <= aspect <= max_aspect:
            continue
        if cv2.contourArea(contour) < min_fill * bw * bh:
            continue
        if min_chars and count_characters(grey[y : y + bh, x : x + bw], dark_text) < min_chars:
            continue
        out.append((x, y, x + bw, y + bh))
    return np.asarray(out, np.float32).reshape(-1, 4)


def count_characters(patch: npt.NDArray[np.uint8], dark_text: bool = True) -> int:
    """How many character-like blobs a candidate holds: separate strokes of a
    similar, large share of the patch's height, each narrower than tall-ish.
    """
    h, w = patch.shape
    if h < 4 or w < 4:
        return 0
    flags = cv2.THRESH_BINARY_INV if dark_text else cv2.THRESH_BINARY
    _, binary = cv2.threshold(patch, 0, 255, flags | cv2.THRESH_OTSU)
    n, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    count = 0
    for i in range(1, n):
        cw, ch = stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT]
        if _CHAR_HEIGHT[0] * h <= ch <= _CHAR_HEIGHT[1] * h and cw <= _CHAR_MAX_ASPECT * ch:
            count += 1
    return count


class PlateClassicDetector:
    def __init__(self, cfg: PlateClassicConfig) -> None:
        self.cfg = cfg
        self.name = f"plate_classic_max{cfg.max_side}"
        self.model_sha256 = ""

    def detect(self, bgr: npt.NDArray[np.uint8]) -> Detections:
        h, w = bgr.shape[:2]
        s = min(1.0, self.cfg.max_side / max(w, h))
        grey: npt.NDArray[np.uint8] = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), np.uint8)
        if s < 1.0:
            size = (max(1, round(w * s)), max(1, round(h * s)))
            grey = np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA), np.uint8)
        parts = [
            plate_candidates(
                grey,
                self.cfg.min_aspect,
                self.cfg.max_aspect,
                self.cfg.min_fill,
                dark,
                self.cfg.min_chars,
            )
            for dark in ((True, False) if self.cfg.light_text else (True,))
        ]
        boxes = np.concatenate(parts) / np.float32(s)
        return Detections.create(boxes, np.full(len(boxes), _SCORE), Label.PLATE).clipped(w, h)

    def close(self) -> None:
        pass

"""Plates found as text: the PP-OCR text detector (DBNet) and plate geometry.

DBNet predicts, per pixel, the probability of lying inside a shrunk text
region. Post-processing thresholds that map, takes each connected region's
minimum-area rectangle, scores it by the mean probability inside, and grows it
back by the shrink the network was trained with (the "unclip"). A plate's
characters are one or a few such boxes; each is grown, along its own tilt, to
the plate's shape (wider and taller than its characters) before it becomes an
axis-aligned box. Only lines far longer than a plate's (captions, signs) are
dropped: a plate's region line is its own short box, so a tight plate-aspect
filter would lose plates. A region taller than DBNet reads text best is looked
at again at that height (`confirmed`): large textured non-text (torsos, grilles)
scores 0.99 at its own scale and nothing at a text's.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from redactor.boxes import nms
from redactor.config import PlateTextConfig
from redactor.detect.base import resize
from redactor.detect.onnx_session import fuse_scalar_chains, shared_session
from redactor.models import model_path, model_sha256
from redactor.types import Detections, Label

PAD_TO = 32  # the network downsamples 5 times
# PP-OCR normalises OpenCV's BGR pixels with ImageNet statistics in that order.
_MEAN = np.array([0.485, 0.456, 0.406], np.float32) * 255.0
_STD = np.array([0.229, 0.224, 0.225], np.float32) * 255.0
MIN_SIDE_PX = 3  # regions thinner than this in the map are noise
MAX_REGIONS = 1000  # a bound on work for frames full of texture
SAME_PLATE_IOU = 0.7  # grown boxes overlapping this much are one plate's lines


def text_boxes(
    prob: npt.NDArray[np.float32],
    bin_threshold: float,
    box_threshold: float,
    unclip: float,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Rotated text boxes from a DBNet probability map, in map px.

    Returns (n, 5) float32 rows (cx, cy, w, h, angle_deg) as cv2.minAreaRect
    gives them, already unclipped, and their scores (n,).
    """
    bitmap = (prob > bin_threshold).astype(np.uint8)
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    rects: list[tuple[float, float, float, float, float]] = []
    scores: list[float] = []
    h, w = prob.shape
    for contour in contours[:MAX_REGIONS]:
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        if min(rw, rh) < MIN_SIDE_PX:
            continue
        # Score: mean probability over the region's bounding rectangle, inside the contour.
        x, y, bw, bh = cv2.boundingRect(contour)
        x1, y1 = min(x + bw, w), min(y + bh, h)
        inside = np.zeros((y1 - y, x1 - x), np.uint8)
        cv2.fillPoly(inside, [contour.reshape(-1, 2) - (x, y)], 1)
        score = float(cv2.mean(prob[y:y1, x:x1], inside)[0])
        if score < box_threshold:
            continue
        # Unclip: the network learnt regions shrunk by area * (1 - r^2) / perimeter;
        # growing a rectangle by area * unclip / perimeter on every side undoes it.
        d = rw * rh * unclip / (2.0 * (rw + rh))
        rects.append((cx, cy, rw + 2 * d, rh + 2 * d, angle))
        scores.append(score)
    return np.asarray(rects, np.float32).reshape(-1, 5), np.asarray(scores, np.float32)


def tilt(rects: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Degrees (0-90) between each rotated box's long side and the horizontal."""
    long_side = np.where(rects[:, 2] >= rects[:, 3], rects[:, 4], rects[:, 4] + 90.0)
    t: npt.NDArray[np.float32] = np.abs((long_side + 90.0) % 180.0 - 90.0).astype(np.float32)
    return t


def grow_to_plate(
    rects: npt.NDArray[np.float32], grow_x: float, grow_y: float
) -> npt.NDArray[np.float32]:
    """Axis-aligned (n, 4) boxes around rotated text boxes grown to plate shape.

    The text's long side is its reading direction: it grows by grow_x, the short
    side by grow_y, about the centre and along the box's own tilt.
    """
    out = np.zeros((len(rects), 4), np.float32)
    for i, (cx, cy, w, h, angle) in enumerate(rects):
        if w >= h:
            w, h = w * grow_x, h * grow_y
        else:
            w, h = w * grow_y, h * grow_x
        pts = cv2.boxPoints(((float(cx), float(cy)), (float(w), float(h)), float(angle)))
        out[i] = (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())
    return out


class PlateTextDetector:
    def __init__(
        self, cfg: PlateTextConfig, models_dir: Path | None = None, threads: int = 1
    ) -> None:
        path = model_path(cfg.model, models_dir)
        self.cfg = cfg
        self.name = (
            "plate_text"
            + cfg.model.removeprefix("ppocr_det")  # "" or "_v5"
            + (f"_x{cfg.scale:g}" if cfg.scale != 1.0 else "")
            + (f"_max{cfg.max_side}" if cfg.max_side else "_full")
            + (f"_upto{cfg.max_plate_px:g}px" if cfg.max_plate_px else "")
            + (f"_above{cfg.min_frame_side}" if cfg.min_frame_side else "")
        )
        self.model_sha256 = model_sha256(cfg.model)
        self._sess = shared_session(path, threads, "plate_text", fuse_scalar_chains)
        self._input = self._sess.get_inputs()[0].name

    def network_input(
        self, bgr: npt.NDArray[np.uint8]
    ) -> tuple[npt.NDArray[np.uint8], float, float]:
        """The frame as DBNet sees it, and the frame px per map px in x and y."""
        h, w = bgr.shape[:2]
        sw, sh = self._input_size(w, h)
        return resize(bgr, sw, sh), w / sw, h / sh

    def _input_size(self, width: int, height: int) -> tuple[int, int]:
        s = self.cfg.scale
        if self.cfg.max_side:
            s = min(s, self.cfg.max_side / max(width, height))
        # Sides rounded to multiples of 32 (resized, not padded: PP-OCR's own practice).
        return (
            max(PAD_TO, round(width * s / PAD_TO) * PAD_TO),
            max(PAD_TO, round(height * s / PAD_TO) * PAD_TO),
        )

    def work_px(self, width: int, height: int) -> int:
        """The network input's pixels on a frame of this size (0: skipped)."""
        if max(width, height) <= self.cfg.min_frame_side:
            return 0
        sw, sh = self._input_size(width, height)
        return sw * sh

    def text_probability(self, img: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """DBNet's text probability map of an image whose sides are multiples of 32."""
        blob = ((img.astype(np.float32) - _MEAN) / _STD).transpose(2, 0, 1)[None]
        (prob,) = self._sess.run(None, {self._input: np.ascontiguousarray(blob)})
        out: npt.NDArray[np.float32] = prob[0, 0]
        return out

    def probability(
        self, bgr: npt.NDArray[np.uint8]
    ) -> tuple[npt.NDArray[np.float32], float, float]:
        """DBNet's text probability map, and the frame px per map px in x and y."""
        img, fx, fy = self.network_input(bgr)
        return self.text_probability(img), fx, fy

    def confirmed(self, img: npt.NDArray[np.uint8], rect: npt.NDArray[np.float32]) -> float:
        """Mean text probability inside `rect` (a text box in `img`'s px, as text_boxes
        gives it) when DBNet looks again at it, with one text height of context around
        it, scaled so its text is cfg.verify_text_px tall."""
        cx, cy, rw, rh, angle = (float(v) for v in rect)
        text = min(rw, rh)
        pts = cv2.boxPoints(((cx, cy), (rw, rh), angle))
        ih, iw = img.shape[:2]
        x0, y0 = max(0, int(pts[:, 0].min() - text)), max(0, int(pts[:, 1].min() - text))
        x1, y1 = min(iw, int(pts[:, 0].max() + text) + 1), min(ih, int(pts[:, 1].max() + text) + 1)
        k = self.cfg.verify_text_px / text
        cw = max(PAD_TO, round((x1 - x0) * k / PAD_TO) * PAD_TO)
        ch = max(PAD_TO, round((y1 - y0) * k / PAD_TO) * PAD_TO)
        prob = self.text_probability(resize(img[y0:y1, x0:x1], cw, ch))
        sx, sy = cw / (x1 - x0), ch / (y1 - y0)
        inside = np.zeros(prob.shape, np.uint8)
        cv2.fillPoly(inside, [np.round((pts - (x0, y0)) * (sx, sy)).astype(np.int32)], 1)
        return float(cv2.mean(prob, inside)[0]) if inside.any() else 0.0

    def detect(self, bgr: npt.NDArray[np.uint8]) -> Detections:
        h, w = bgr.shape[:2]
        if max(w, h) <= self.cfg.min_frame_side:
            return Detections.empty()
        img, fx, fy = self.network_input(bgr)
        rects, scores = text_boxes(
            self.text_probability(img), self.cfg.bin_threshold, self.cfg.min_score, self.cfg.unclip
        )
        short = np.minimum(rects[:, 2], rects[:, 3]) * (fx + fy) / 2
        long = np.maximum(rects[:, 2], rects[:, 3]) * (fx + fy) / 2
        plate_like = (
            (short >= self.cfg.min_text_px)
            & (long <= self.cfg.max_aspect * short)
            & (tilt(rects) <= self.cfg.max_tilt_deg)
        )
        if self.cfg.verify_text_px:
            tall = plate_like & (np.minimum(rects[:, 2], rects[:, 3]) > self.cfg.verify_text_px)
            for i in np.flatnonzero(tall):
                plate_like[i] = self.confirmed(img, rects[i]) >= self.cfg.verify_min_score
        rects, scores = rects[plate_like], scores[plate_like]
        boxes = grow_to_plate(rects, self.cfg.grow_x, self.cfg.grow_y)
        boxes *= np.array([fx, fy, fx, fy], np.float32)
        if self.cfg.max_plate_px:
            small = boxes[:, 2] - boxes[:, 0] <= self.cfg.max_plate_px
            boxes, scores = boxes[small], scores[small]
        keep = nms(boxes, scores, SAME_PLATE_IOU)
        return Detections.create(boxes[keep], scores[keep], Label.PLATE).clipped(w, h)

    def close(self) -> None:
        pass  # the session is freed with the object

"""A user-supplied ONNX detector with YOLO-style output, for any label.

The project ships no such model (the good plate models are AGPL); a user may
point the configuration at a file of their own. The frame is letterboxed into
a square input (RGB, 0..1) and the output is read as YOLOv8 ((1, 4 + C, N):
cx, cy, w, h, class scores) or YOLOv5 ((1, N, 5 + C): cx, cy, w, h,
objectness, class scores), in input pixels; a detection's score is its best
class score (times objectness for YOLOv5).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from redactor.boxes import nms
from redactor.config import OnnxDetectorConfig
from redactor.detect.onnx_session import shared_session
from redactor.errors import DetectorUnavailable, InvalidDetections
from redactor.types import Detections, Label

_LABELS = {"face": Label.FACE, "plate": Label.PLATE, "person": Label.PERSON}
_PAD_GREY = 114  # YOLO's letterbox fill


def letterbox(
    bgr: npt.NDArray[np.uint8], size: int
) -> tuple[npt.NDArray[np.float32], float, tuple[float, float]]:
    """The (1, 3, size, size) RGB 0..1 input, the scale applied and the (x, y) padding."""
    h, w = bgr.shape[:2]
    s = size / max(w, h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    px, py = (size - nw) // 2, (size - nh) // 2
    canvas = np.full((size, size, 3), _PAD_GREY, np.uint8)
    canvas[py : py + nh, px : px + nw] = cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_LINEAR)
    blob = canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
    return np.ascontiguousarray(blob), s, (float(px), float(py))


def decode_yolo(
    out: npt.NDArray[np.float32], layout: str, min_score: float
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Boxes (n, 4) xyxy in input px and scores (n,) from one image's raw output."""
    rows = out[0] if out.ndim == 3 else out
    if layout == "yolov8":
        rows = rows.T  # (4 + C, N) -> (N, 4 + C)
        if rows.shape[1] < 5:
            raise InvalidDetections(f"YOLOv8 output needs (1, 4 + classes, N), got {out.shape}")
        scores = rows[:, 4:].max(axis=1)
    else:
        if rows.shape[1] < 6:
            raise InvalidDetections(f"YOLOv5 output needs (1, N, 5 + classes), got {out.shape}")
        scores = rows[:, 4] * rows[:, 5:].max(axis=1)
    keep = scores >= min_score
    cx, cy, w, h = rows[keep, 0], rows[keep, 1], rows[keep, 2], rows[keep, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1).astype(np.float32)
    return boxes.reshape(-1, 4), scores[keep].astype(np.float32)


class OnnxYoloDetector:
    def __init__(self, cfg: OnnxDetectorConfig, threads: int = 1) -> None:
        path = Path(cfg.path).expanduser()
        if not path.is_file():
            raise DetectorUnavailable(f"onnx detector: model file {path} does not exist")
        self.cfg = cfg
        self.name = f"onnx_{cfg.label}_{path.stem}"
        self.model_sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        self._sess = shared_session(path, threads, self.name)
        self._input = self._sess.get_inputs()[0].name
        self._label = _LABELS[cfg.label]

    def detect(self, bgr: npt.NDArray[np.uint8]) -> Detections:
        h, w = bgr.shape[:2]
        blob, s, (px, py) = letterbox(bgr, self.cfg.input_size)
        out = self._sess.run(None, {self._input: blob})[0]
        boxes, scores = decode_yolo(
            np.asarray(out, np.float32), self.cfg.layout, self.cfg.min_score
        )
        keep = nms(boxes, scores, self.cfg.nms_iou)
        boxes = (boxes[keep] - np.array([px, py, px, py], np.float32)) / np.float32(s)
        return Detections.create(boxes, scores[keep], self._label).clipped(w, h)

    def close(self) -> None:
        pass
